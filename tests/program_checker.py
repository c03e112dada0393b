"""Check a generated program's derivatives against a reference, and run many programs.

``check(program)`` compares ``srcdiff.value_and_grad`` (the value with the program's own,
the gradient with autograd on the very same source, ``np`` bound to ``autograd.numpy``, or
with central differences when the program writes into arrays in place, which autograd
cannot, or gives an array a second name that ``s += v`` writes through). One program in
five also checks ``srcdiff.jvp`` (value, and the derivative along a random tangent against
central differences) and ``srcdiff.vjp`` (value, and the pullback of 1.0). Differences are taken with two steps, and a point where
they disagree (a branch flipping, a kink) is skipped rather than judged. The gradient's
structure must mirror the arguments (a tuple stays a tuple, lists keep their length and
nesting, an array's gradient is an array), the arguments must come back unchanged, and
for float arguments ``grad(grad(f))`` is checked too. A ``srcdiff.SrcdiffError`` is a
refusal: acceptable, but counted by feature. ``run(seeds)`` gathers a ``Report``.
"""

import ast
import contextlib
import copy
import io
import random
import re
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field

import autograd
import autograd.numpy as anp
import numpy as np

import srcdiff
from tests.program_generator import Program, generate, load

# -- checking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # "pass", "refused", "skipped", "invalid", "fail"
    signature: str = ""  # for a failure: what kind (shrinking keeps it); for a refusal: the error class
    detail: str = ""


def copy_args(args):
    return copy.deepcopy(args)


def differences(got, expected, like, rtol: float, atol: float, where: str = "") -> list[tuple[str, str]]:
    """What differs between ``got`` and ``expected`` (shaped like the argument ``like``): (kind, message) pairs.

    Values are compared leaf by leaf even when the structure is off (a list for a tuple, a
    scalar zero for an array), so a wrong value is reported whatever else is wrong.
    """
    problems = []
    if isinstance(like, dict):
        if not isinstance(got, dict) or list(got) != list(like):
            return [("structure: dict", f"gradient{where} is {type(got).__name__} {got!r}, argument has keys {list(like)}")]
        for k in like:
            problems += differences(got[k], expected[k], like[k], rtol, atol, f"{where}[{k!r}]")
        return problems
    if isinstance(like, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return [("structure: not a sequence", f"gradient{where} is {type(got).__name__}, argument is {type(like).__name__}")]
        if type(got) is not type(like):
            problems.append(
                ("structure: container type", f"gradient{where} is a {type(got).__name__}, argument a {type(like).__name__}")
            )
        if len(got) != len(like):
            return problems + [("structure: length", f"gradient{where} has length {len(got)}, argument {len(like)}")]
        for i, (g, e, a) in enumerate(zip(got, expected, like)):
            problems += differences(g, e, a, rtol, atol, f"{where}[{i}]")
        return problems
    if isinstance(got, (list, tuple)):
        return [
            (
                "structure: sequence for an array",
                f"gradient{where} is a {type(got).__name__}, argument has shape {np.shape(like)}",
            )
        ]
    if np.shape(got) != np.shape(like):
        problems.append(("structure: shape", f"gradient{where} has shape {np.shape(got)}, argument {np.shape(like)}"))
    try:
        value = np.broadcast_to(np.asarray(got, dtype=float), np.shape(like))
    except ValueError:
        return problems
    if not np.allclose(value, np.asarray(expected, dtype=float), rtol=rtol, atol=atol):
        problems.insert(0, ("value", f"gradient{where} is {got!r}, expected {expected!r}"))
    return problems


def leaves(x, path=()):
    if isinstance(x, dict):
        for k, e in x.items():
            yield from leaves(e, path + (k,))
    elif isinstance(x, (list, tuple)):
        for i, e in enumerate(x):
            yield from leaves(e, path + (i,))
    else:
        yield path, x


def with_leaf(x, path, value):
    if not path:
        return value
    if isinstance(x, dict):
        return {**x, path[0]: with_leaf(x[path[0]], path[1:], value)}
    items = list(x)
    items[path[0]] = with_leaf(items[path[0]], path[1:], value)
    return type(x)(items)


def numeric_gradient(f, args, i: int, h: float):
    """Central differences of scalar ``f`` along every entry of argument ``i`` (of any structure)."""
    arg = args[i]
    result = arg
    for path, leaf in leaves(arg):
        base = np.array(leaf, dtype=float)
        out = np.zeros(base.shape)
        for idx in np.ndindex(*base.shape):
            values = []
            for step in (h, -h):
                moved = base.copy()
                moved[idx] += step
                new = moved if isinstance(leaf, np.ndarray) else float(moved)
                trial = list(copy_args(args))
                trial[i] = with_leaf(trial[i], path, new)
                values.append(float(f(*trial)))
            out[idx] = (values[0] - values[1]) / (2 * h)
        result = with_leaf(result, path, out if isinstance(leaf, np.ndarray) else float(out))
    return result


def writes_in_place(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Subscript) for t in targets):
                return True
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            return True  # on an array, s += v writes into it (and autograd cannot)
    return False


def as_names(source: str) -> str:
    """For autograd: s += v as s = s + (v), which is the same on values nobody else holds."""
    return re.sub(r"^(\s*)(\w+) ([-+*])= (.*)$", r"\1\2 = \2 \3 (\4)", source, flags=re.M)


def close(a, b, rtol, atol) -> bool:
    try:
        return not differences(a, b, b, rtol, atol)
    except Exception:
        return False


def reference_gradients(program: Program, f) -> tuple[list, str] | None:
    """The gradient of every wrt argument: autograd where it can run the program, else differences."""
    args = program.args
    if "aliasing" in program.features:  # s += v through a second name: as_names would break the sharing
        pass
    elif not writes_in_place(program.source) or not writes_in_place(as_names(program.source)):
        try:
            if not close(load(as_names(program.source))(*copy_args(args)), f(*copy_args(args)), 1e-12, 1e-12):
                raise ValueError("s = s + v is not s += v here: an array shares its data")
            g = load(as_names(program.source), anp)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return [autograd.grad(g, i)(*copy_args(args)) for i in program.wrt], "autograd"
        except Exception:
            pass
    grads = []
    for i in program.wrt:
        coarse = numeric_gradient(f, args, i, 1e-4)
        fine = numeric_gradient(f, args, i, 1e-5)
        if not close(coarse, fine, 1e-4, 1e-6):
            return None  # a kink or a branch flipping near the point: differences mean nothing here
        grads.append(fine)
    return grads, "differences"


def finite(x) -> bool:
    return all(np.all(np.isfinite(leaf)) and np.all(np.abs(leaf) < 1e6) for _, leaf in leaves(x))


def overflows(f, args) -> bool:
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore", under="ignore"):
            f(*copy_args(args))
    except (FloatingPointError, OverflowError):
        return True
    except Exception:
        pass
    return False


def check(program: Program) -> Outcome:
    """Compare srcdiff's first (and, for float arguments, second) derivatives with a reference."""
    with contextlib.redirect_stdout(io.StringIO()):  # the programs print
        return _check(program)


def _check(program: Program) -> Outcome:
    try:
        f = load(program.source)
        after = copy_args(program.args)  # what the program itself does to its arguments (a shrunk one may write into them)
        with np.errstate(all="ignore"):
            value = f(*after)
    except OverflowError:  # math.exp of a big value
        return Outcome("skipped", "not finite")
    except Exception as error:
        return Outcome("invalid", type(error).__name__, str(error))
    if not np.ndim(value) == 0 or not finite(value):
        return Outcome("skipped", "not finite")
    with np.errstate(all="ignore"):
        reference = reference_gradients(program, f)
    if reference is None:
        return Outcome("skipped", "ill-conditioned")
    expected, how = reference
    if not finite(expected):
        return Outcome("skipped", "not finite")
    rtol, atol = (1e-7, 1e-9) if how == "autograd" else (2e-4, 2e-5)
    args = copy_args(program.args)
    try:
        with np.errstate(all="ignore"):
            got_value, got = srcdiff.value_and_grad(f, wrt=program.wrt)(*args)
    except srcdiff.SrcdiffError as error:
        return Outcome("refused", type(error).__name__, str(error).splitlines()[0])
    except Exception as error:
        return Outcome("fail", f"first order: crash {type(error).__name__}", traceback.format_exc(limit=-3))
    if not close_args(args, after):
        return Outcome("fail", "first order: arguments changed", "the gradient changed its arguments")
    if not finite(got) and overflows(f, program.args):
        # an intermediate overflowed to inf where nothing depends on it: a backward sweep that does not
        # prune dead paths multiplies its zero adjoint by inf (as a hand-written one would); not judged
        return Outcome("skipped", "overflow in the primal")
    if not same_value(got_value, value):
        return Outcome("fail", "first order: wrong value", f"value_and_grad's value is {got_value!r}, the program's {value!r}")
    problems = []
    for i, g, e in zip(program.wrt, got, expected):
        problems += differences(g, e, program.args[i], rtol, atol, f" of {program_parameter(program, i)}")
    if problems:
        return failure("first order", problems, how)
    if program.seed % 4 == 0:  # float32 in, float32 out (values differ by rounding, and branches on data may too)
        single = single_precision(program.args)
        try:
            with np.errstate(all="ignore"):
                got32 = srcdiff.grad(f, wrt=program.wrt)(*copy_args(single))
        except Exception as error:
            return Outcome("fail", f"float32: crash {type(error).__name__}", traceback.format_exc(limit=-3))
        for i, g in zip(program.wrt, got32):
            for (path, leaf), (_, arg) in zip(leaves(g), leaves(single[i])):
                if np.result_type(leaf) != np.result_type(arg) or type(leaf) is not type(arg):
                    where = f"{program_parameter(program, i)}{list(path)}"
                    return Outcome("fail", "float32: type", f"gradient of {where} is {leaf!r}, argument is {arg!r}")
    if program.seed % 5 == 0:
        outcome = forward_and_pullback(program, f, value, expected, how)
        if outcome is not None:
            return outcome
    if "second_order" in program.features:
        return second_order(program, f, how)
    return Outcome("pass")


def same_value(got, value) -> bool:
    """The program's value, up to rounding (srcdiff may compute a sum in another order)."""
    try:
        return bool(np.isclose(float(got), float(value), rtol=1e-9, atol=1e-12))
    except (TypeError, ValueError):
        return False


def tangents_for(program: Program) -> tuple:
    """A random tangent for every argument that has one (None for an integer count or an object)."""
    rng = np.random.default_rng(program.seed)

    def tangent(x):
        if isinstance(x, dict):
            return {k: tangent(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(tangent(v) for v in x)
        if isinstance(x, np.ndarray):
            return rng.standard_normal(x.shape)
        return float(rng.standard_normal())

    return tuple(tangent(a) if i in program.wrt else None for i, a in enumerate(program.args))


def moved(args: tuple, tangents: tuple, h: float) -> tuple:
    """``args + h * tangents``, leaf by leaf (arguments without a tangent as they are)."""
    out = []
    for a, t in zip(copy_args(args), tangents):
        if t is not None:
            for path, leaf in leaves(t):
                base = dict(leaves(a))[path]
                a = with_leaf(a, path, base + h * leaf if isinstance(base, np.ndarray) else float(base + h * leaf))
        out.append(a)
    return tuple(out)


def forward_and_pullback(program: Program, f, value, expected: list, how: str) -> Outcome | None:
    """jvp (value, and the derivative along a random tangent against central differences) and vjp
    (value, and the pullback of 1.0 against the reference gradient); None when both agree."""
    tangents = tangents_for(program)
    args = copy_args(program.args)
    try:
        with np.errstate(all="ignore"):
            jvp_value, along = srcdiff.jvp(f, args, tangents)
    except srcdiff.SrcdiffError as error:
        return Outcome("refused", type(error).__name__, "jvp: " + str(error).splitlines()[0])
    except Exception as error:
        return Outcome("fail", f"jvp: crash {type(error).__name__}", traceback.format_exc(limit=-3))
    if not close_args(args, program.args):
        return Outcome("fail", "jvp: arguments changed", "jvp changed its arguments")
    if not same_value(jvp_value, value):
        return Outcome("fail", "jvp: wrong value", f"jvp's value is {jvp_value!r}, the program's {value!r}")
    with np.errstate(all="ignore"):
        steps = [(float(f(*moved(program.args, tangents, h))) - float(f(*moved(program.args, tangents, -h)))) / (2 * h)
                 for h in (1e-4, 1e-5)]  # fmt: skip
    if np.isclose(steps[0], steps[1], rtol=1e-4, atol=1e-6) and not np.isclose(along, steps[1], rtol=2e-4, atol=2e-5):
        return Outcome("fail", "jvp: wrong tangent", f"jvp's tangent is {along!r}, central differences give {steps[1]!r}")
    args = copy_args(program.args)
    try:
        with np.errstate(all="ignore"):
            vjp_value, pullback = srcdiff.vjp(f, *args)
            cotangents = pullback(1.0)
    except srcdiff.SrcdiffError as error:
        return Outcome("refused", type(error).__name__, "vjp: " + str(error).splitlines()[0])
    except Exception as error:
        return Outcome("fail", f"vjp: crash {type(error).__name__}", traceback.format_exc(limit=-3))
    if not close_args(args, program.args):
        return Outcome("fail", "vjp: arguments changed", "vjp changed its arguments")
    if not same_value(vjp_value, value):
        return Outcome("fail", "vjp: wrong value", f"vjp's value is {vjp_value!r}, the program's {value!r}")
    rtol, atol = (1e-7, 1e-9) if how == "autograd" else (2e-4, 2e-5)
    problems = []
    for i, e in zip(program.wrt, expected):
        problems += differences(cotangents[i], e, program.args[i], rtol, atol, f" of {program_parameter(program, i)}")
    return failure("vjp", problems, how) if problems else None


def single_precision(x):
    """The arguments in float32: arrays and floats (np.float32 scalars); integers stay."""
    if isinstance(x, dict):
        return {k: single_precision(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(single_precision(v) for v in x)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float32)
    return np.float32(x) if isinstance(x, float) else x


def failure(order: str, problems: list[tuple[str, str]], how: str) -> Outcome:
    """The signature names the gravest problem: a wrong value, then a wrong length, then the rest."""
    rank = ["value", "structure: length", "structure: not a sequence", "structure: sequence for an array", "structure: shape"]
    problems = sorted(problems, key=lambda p: rank.index(p[0]) if p[0] in rank else len(rank))
    kind = problems[0][0]
    details = "\n".join(m for _, m in problems[:4])
    return Outcome(
        "fail", f"{order}: wrong {kind}", f"{details}\n(reference: {'autograd' if how == 'autograd' else 'central differences'})"
    )


def program_parameter(program: Program, i: int) -> str:
    fn = next(n for n in ast.parse(program.source).body if isinstance(n, ast.FunctionDef) and n.name == program.name)
    return fn.args.args[i].arg


def close_args(a, b) -> bool:
    """Do the arguments hold the same values (an object argument: the same attributes)?"""

    def value(leaf):
        return vars(leaf) if hasattr(leaf, "__dict__") else leaf

    return all(
        value(x) == value(y) if hasattr(x, "__dict__") else np.array_equal(x, y)
        for (_, x), (_, y) in zip(leaves(a), leaves(b))
    )


def second_order(program: Program, f, how: str) -> Outcome:
    floats = [i for i, a in enumerate(program.args) if isinstance(a, float)]
    rng = random.Random(program.seed)
    pairs = [(i, j) for i in floats for j in floats]  # every pair when there are few, else three of them
    for i, j in pairs if len(pairs) <= 4 else rng.sample(pairs, 3):
        try:
            with np.errstate(all="ignore"):
                got = srcdiff.grad(srcdiff.grad(f, wrt=i), wrt=j)(*copy_args(program.args))
        except srcdiff.SrcdiffError as error:
            return Outcome("refused", type(error).__name__, "second order: " + str(error).splitlines()[0])
        except Exception as error:
            return Outcome("fail", f"second order: crash {type(error).__name__}", traceback.format_exc(limit=-3))
        with np.errstate(all="ignore"):
            if how == "autograd":
                g = load(as_names(program.source), anp)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    expected = autograd.grad(autograd.grad(g, i), j)(*copy_args(program.args))
                rtol, atol = 1e-7, 1e-9
            else:  # differences of the first derivative, which was just checked
                expected = numeric_gradient(srcdiff.grad(f, wrt=i), program.args, j, 1e-5)
                rtol, atol = 2e-4, 2e-5
        if not finite(expected):
            continue
        problems = differences(got, expected, program.args[j], rtol, atol, f" d2/d{i}d{j}")
        if problems:
            return failure("second order", problems, how)
        # forward over reverse, the way hvp and hessian take it: the jvp of the gradient along e_j
        tangents = tuple(1.0 if k == j else None for k in range(len(program.args)))
        try:
            with np.errstate(all="ignore"):
                _, along = srcdiff.jvp(srcdiff.grad(f, wrt=i), copy_args(program.args), tangents)
        except srcdiff.SrcdiffError as error:
            return Outcome("refused", type(error).__name__, "forward over reverse: " + str(error).splitlines()[0])
        except Exception as error:
            return Outcome("fail", f"forward over reverse: crash {type(error).__name__}", traceback.format_exc(limit=-3))
        problems = differences(along, expected, program.args[j], rtol, atol, f" d2/d{i}d{j}")
        if problems:
            return failure("forward over reverse", problems, how)
    return Outcome("pass")


# -- running ---------------------------------------------------------------------------------------


@dataclass
class Report:
    outcomes: Counter = field(default_factory=Counter)
    refused_by_feature: Counter = field(default_factory=Counter)
    refused_by_error: Counter = field(default_factory=Counter)
    failures: list[tuple[Program, Outcome]] = field(default_factory=list)
    invalid: list[tuple[Program, Outcome]] = field(default_factory=list)

    def add(self, program: Program, outcome: Outcome) -> None:
        self.outcomes[outcome.status] += 1
        if outcome.status == "refused":
            self.refused_by_error[f"{outcome.signature}: {_generic(outcome.detail)}"] += 1
            for feature in program.features:
                self.refused_by_feature[feature] += 1
        elif outcome.status == "fail":
            self.failures.append((program, outcome))
        elif outcome.status == "invalid":
            self.invalid.append((program, outcome))

    def summary(self) -> str:
        lines = [", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))]
        if self.refused_by_feature:
            lines.append("refusals by feature: " + ", ".join(f"{k} {v}" for k, v in self.refused_by_feature.most_common()))
            lines += [f"  {v} x {k}" for k, v in self.refused_by_error.most_common()]
        return "\n".join(lines)


def _generic(message: str) -> str:
    """A refusal message without its file, line and construct, to count alike refusals together."""
    message = re.sub(r"(^|: )\S+\.py:\d+: ", r"\1", message)  # "second order: file:line: ..." too
    message = re.sub(r" in '.*'", "", message)
    message = re.sub(r"'[^']*'", "_", message)  # the names: 't3' shares data with 'hs4' is one kind of refusal
    return re.sub(r"line \d+", "line N", message)[:100]


def run(seeds, weights: dict[str, float] | None = None, size: int = 7) -> Report:
    report = Report()
    for seed in seeds:
        program = generate(seed, weights, size)
        report.add(program, check(program))
    return report
