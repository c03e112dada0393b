"""Every derivative rule, checked on the catalogue's cases: against central differences,
against autograd, for the type and shape of what comes back; and tests derived from the
rule table that fail when a primitive has no case or a runtime helper has no rule."""

from __future__ import annotations

import builtins
import itertools
import linecache
import warnings
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import autograd
import numpy as np
import pytest
from catalogue import CASES, Case, Shape, autograd_twin

import srcdiff
from srcdiff import analysis, normalize, operations, parse, rules, runtime, runtime_linalg

# ---------------------------------------------------------------------- the checks


class _ShapeProbe:
    """Stands in for ``w`` for one primal call, to learn the shape of what a case weighs."""

    __array_ufunc__ = None  # NumPy defers ``array * probe`` to ``probe.__rmul__``

    def __init__(self) -> None:
        self.shape: Shape | None = None

    def __mul__(self, other: Any) -> float:
        self.shape = np.shape(other)
        return 0.0

    __rmul__ = __mul__


def example_inputs(case: Case, shapes: tuple[Shape, ...], options: Mapping[str, Any], seed: int) -> tuple[list[Any], Any]:
    """The inputs of one example and the weight ``w`` (a float where the case weighs a scalar)."""
    rng = np.random.default_rng(seed)
    inputs = [domain.sample(rng, shape, i) for i, (domain, shape) in enumerate(zip(case.domains(len(shapes)), shapes))]
    probe = _ShapeProbe()
    case.fn(*inputs, **options, w=probe)
    assert probe.shape is not None, f"{case.name} does not multiply its result by w"
    w = rng.uniform(0.5, 1.5, probe.shape) * rng.choice([-1.0, 1.0], probe.shape)
    return inputs, float(w) if probe.shape == () else w


def wrt_of(case: Case, inputs: Sequence[Any]) -> tuple[int, ...]:
    return case.wrt if case.wrt is not None else tuple(range(len(inputs)))


def srcdiff_gradients(case: Case, inputs: Sequence[Any], options: Mapping[str, Any], w: Any) -> tuple[Any, ...]:
    """srcdiff's gradient with respect to every input in ``wrt``, as a tuple."""
    return srcdiff.grad(case.fn, wrt=wrt_of(case, inputs))(*inputs, **options, w=w)


def check_differences(case: Case, inputs: list[Any], options: Mapping[str, Any], w: Any, seed: int) -> None:
    """srcdiff's gradient, projected on random directions, matches central differences."""
    grads = srcdiff_gradients(case, inputs, options, w)
    wrt = wrt_of(case, inputs)
    rng = np.random.default_rng(seed + 1)
    eps = 1e-6

    def at(directions: dict[int, Any], step: float) -> float:
        moved = list(inputs)
        for i, d in directions.items():
            moved[i] = inputs[i] + step * (float(d) if np.ndim(d) == 0 else d)
        return float(case.fn(*moved, **options, w=w))

    for _ in range(2):  # two directions: one could be orthogonal to an error by chance
        directions = {i: rng.standard_normal(np.shape(inputs[i])) for i in wrt}
        numeric = (at(directions, eps) - at(directions, -eps)) / (2 * eps)
        terms = [np.sum(np.asarray(g) * directions[i]) for i, g in zip(wrt, grads)]
        analytic = float(np.sum(terms))
        scale = float(sum(np.sum(np.abs(np.asarray(g) * directions[i])) for i, g in zip(wrt, grads)))
        assert abs(analytic - numeric) <= case.fd_atol + case.fd_rtol * scale, (
            f"{case.name}: directional derivative {analytic!r} from srcdiff, {numeric!r} from central differences"
        )


def check_autograd(case: Case, inputs: list[Any], options: Mapping[str, Any], w: Any) -> None:
    """srcdiff's gradient matches autograd's, input by input."""
    grads = srcdiff_gradients(case, inputs, options, w)
    twin = autograd_twin(case.reference or case.fn)
    for i, ours in zip(wrt_of(case, inputs), grads):
        with warnings.catch_warnings():  # autograd warns when max(x, y) picks the other input
            warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
            theirs = autograd.grad(twin, argnum=i)(*inputs, **options, w=w)
        np.testing.assert_allclose(ours, theirs, rtol=case.ag_rtol, atol=case.ag_atol, err_msg=f"{case.name}: input {i}")


def second_order_probe(case: Case, inputs: Sequence[Any], options: Mapping[str, Any], w: Any) -> Any:
    """``along(t, *inputs, *directions, w)``: srcdiff's first-order gradient at ``inputs + t *
    directions``, projected on the directions. Its derivative in ``t`` at 0 is the second
    directional derivative ``d' H d``; srcdiff computes that by differentiating the generated
    gradient (adjoint helpers and all) with the helpers' own rules."""
    wrt = wrt_of(case, inputs)
    first = srcdiff.grad(case.fn, wrt=wrt)
    generated = first.compiled(first.argument_kinds(tuple(inputs), {**options, "w": w}))  # one wrt: one gradient
    moved = [f"x{i} + t * d{i}" if i in wrt else f"x{i}" for i in range(len(inputs))]
    keywords = "".join(f", {k}=option_{k}" for k in options)
    params = ", ".join(["t", *(f"x{i}" for i in range(len(inputs))), *(f"d{i}" for i in wrt), "w"])
    source = (
        f"def along({params}):\n"
        f"    {', '.join(f'g{i}' for i in wrt)} = first({', '.join(moved)}, w=w{keywords})\n"
        f"    return {' + '.join(f'np.sum(g{i} * d{i})' for i in wrt)}\n"
    )
    filename = f"<second order probe {next(_PROBES)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # srcdiff reads the source
    namespace = {"np": np, "first": generated, **{f"option_{k}": v for k, v in options.items()}}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace["along"]


_PROBES = itertools.count()


def directions_for(case: Case, inputs: Sequence[Any], seed: int) -> list[Any]:
    rng = np.random.default_rng(seed + 2)
    return [float(rng.standard_normal()) if isinstance(inputs[i], float) else rng.standard_normal(np.shape(inputs[i]))
            for i in wrt_of(case, inputs)]  # fmt: skip


def check_second_order(case: Case, inputs: list[Any], options: Mapping[str, Any], w: Any, seed: int) -> None:
    """grad(grad(f)) along a random direction matches central differences of srcdiff's own
    first-order gradient and autograd's second derivative (where the case has autograd)."""
    directions = directions_for(case, inputs, seed)
    along = second_order_probe(case, inputs, options, w)
    ours = float(srcdiff.grad(along, wrt=0)(0.0, *inputs, *directions, w))
    eps = 1e-5
    numeric = (along(eps, *inputs, *directions, w) - along(-eps, *inputs, *directions, w)) / (2 * eps)
    scale = abs(numeric) + float(sum(np.sum(np.abs(d)) for d in directions))
    assert abs(ours - numeric) <= 1e-6 * scale + case.fd_atol, (
        f"{case.name}: second directional derivative {ours!r} from srcdiff, {numeric!r} from differences of its gradient"
    )
    if not case.autograd:
        return
    twin = autograd_twin(case.reference or case.fn)
    wrt = wrt_of(case, inputs)

    def slope(t: Any) -> Any:
        moved = [x + t * directions[wrt.index(i)] if i in wrt else x for i, x in enumerate(inputs)]
        total = 0.0
        for i, d in zip(wrt, directions):
            total = total + autograd.numpy.sum(autograd.grad(twin, argnum=i)(*moved, **options, w=w) * d)
        return total

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
        theirs = autograd.grad(slope)(0.0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9, err_msg=f"{case.name}: second order")


# ------------------------------------------------------------------ the catalogue


def _example_id(case: Case, shapes: tuple, options: dict) -> str:
    shown = ",".join("float" if s == () else "x".join(map(str, s)) for s in shapes)
    extra = ",".join(f"{k}={v}" for k, v in options.items())
    return f"{case.name}[{shown}{'|' + extra if extra else ''}]"


def _examples(test: str) -> list[Any]:
    """One param per example for ``test`` ("differences", "autograd" or "shape"), with its marks."""
    params = []
    for case in CASES:
        if test == "autograd" and not case.autograd or test == "second order" and case.order < 2:
            continue
        for shapes, options in case.examples():
            marks = []
            if case.xfail and test != "shape":  # a wrong value still has the right shape
                marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
            params.append(pytest.param(case, shapes, dict(options), id=_example_id(case, shapes, options), marks=marks))
    return params


def _seed(case: Case, shapes: tuple, options: dict) -> int:
    """A seed of the example's id: every run draws the same inputs, each example its own."""
    return zlib.crc32(_example_id(case, shapes, options).encode())


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("differences"))
def test_matches_central_differences(case: Case, shapes: tuple, options: dict) -> None:
    seed = _seed(case, shapes, options)
    inputs, w = example_inputs(case, shapes, options, seed)
    check_differences(case, inputs, options, w, seed)


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("autograd"))
def test_matches_autograd(case: Case, shapes: tuple, options: dict) -> None:
    inputs, w = example_inputs(case, shapes, options, _seed(case, shapes, options))
    check_autograd(case, inputs, options, w)


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("second order"))
def test_second_order(case: Case, shapes: tuple, options: dict) -> None:
    seed = _seed(case, shapes, options)
    inputs, w = example_inputs(case, shapes, options, seed)
    check_second_order(case, inputs, options, w, seed)


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("shape"))
def test_gradient_is_shaped_like_its_input(case: Case, shapes: tuple, options: dict) -> None:
    """A float gives a Python float; an array gives a private float64 array of its shape."""
    inputs, w = example_inputs(case, shapes, options, _seed(case, shapes, options))
    grads = srcdiff_gradients(case, inputs, options, w)
    # float code (math, builtins) gives Python floats; NumPy on floats may give its float64
    float_code = type(case.fn(*inputs, **options, w=w)) is float
    for i, g in zip(wrt_of(case, inputs), grads):
        x = inputs[i]
        if isinstance(x, float):
            ok = type(g) is float if float_code else isinstance(g, float)  # a 0-d array is not a float
            assert ok, f"input {i} is a float, its gradient a {type(g).__name__}"
        else:
            assert isinstance(g, np.ndarray) and g.shape == x.shape and g.dtype == np.float64, (
                f"input {i} has shape {x.shape}, its gradient is {type(g).__name__} of shape {np.shape(g)}"
            )
            assert g.flags.writeable and not np.shares_memory(g, x)


# --------------------------------------------------------------------- rule coverage

# Shipped rules (NumPy, math, builtins, runtime helpers) that need no case of their own.
# Only aliases belong here: a primitive spelled two ways has one entry in the table.
ALLOWED_WITHOUT_CASE: dict[str, str] = {}

# Runtime helpers without a derivative rule: grad(grad(f)) refuses them with a clear error.
HELPERS_WITHOUT_RULE: dict[str, str] = {
    "einsum_adjoints": "only second-order code calls it (a list of einsum adjoints): third order is refused",
    "prod_curvature": "only second-order code calls it (sums of all-but-two products): third order is refused",
    "norm_curvature": "only second-order code calls it (the norm's second derivative): third order is refused",
    "norm_scale_adjoint": "only second-order code calls it: third order is refused",
    "einsum_adjoint_tangent": "only jvp(grad(f)) calls it (einsum adjoints along the other operands): third order is refused",
    "einsum_with_tangent": "only jvp(grad(f)) calls it: third order is refused",
    "norm_scale_tangent": "only jvp(grad(f)) calls it (a p-norm's direction along its scale): third order is refused",
    "cumprod_curvature": "only second-order code calls it (products that leave out two factors): third order is refused",
    "cumprod_second": "only jvp of second-order code calls it: third order is refused",
    "sinc_curvature": "only second-order code calls it (sinc's second derivative): third order is refused",
    "trigamma": "only second-order code calls it (digamma's derivative, math.gamma's second): third order is refused",
}


def differentiated_primitives(fn: Any, wrt: tuple[int, ...]) -> set[str]:
    """Spellings of the rules srcdiff applies to differentiate ``fn`` (as api.stages runs it)."""
    tree, origin = parse.function_ast(fn)
    tree = normalize.normalize(tree, origin)
    params = [a.arg for a in tree.args.args]
    kinds = frozenset((p, analysis.NOT_CONTAINER) for p in params)  # arrays or scalars, as srcdiff.source assumes
    act = analysis.activity(tree, origin, analysis.environment(fn, tree), tuple(params[i] for i in wrt), kinds)
    found = set()
    for s in operations.walk_statements(tree.body):
        op = act.ops.get(getattr(s, "value", None))
        if op is not None and op.kind == operations.RULE and s.targets[0].id in act.active:
            found.add(op.rule.spelling)
    return found


def shipped_rules() -> set[str]:
    """Spellings of the differentiable entries srcdiff ships (not rules that tests register)."""
    found = set()
    for rule in rules.RULES.values():
        ours = rule.spelling.startswith(("np.", "math.", "scipy."))
        ours |= getattr(builtins, rule.spelling, None) is rule.func or getattr(runtime, rule.spelling, None) is rule.func
        if ours and rule.adjoints:
            found.add(rule.spelling)
    return found


def test_every_rule_has_a_case() -> None:
    covered: set[str] = set()
    for case in CASES:
        shapes, _ = case.examples()[0]
        covered |= differentiated_primitives(case.fn, case.wrt or tuple(range(len(shapes))))
    missing = shipped_rules() - covered - set(ALLOWED_WITHOUT_CASE)
    assert not missing, f"rules without a catalogue case: {sorted(missing)}"
    stale = set(ALLOWED_WITHOUT_CASE) - shipped_rules()
    assert not stale, f"allow-list entries that are not in the rule table: {sorted(stale)}"


def test_every_runtime_helper_has_a_rule() -> None:
    """Generated code calls these; a rule (or a constant result) lets grad(grad(f)) go through."""
    helpers = {name: getattr(runtime, name) for name in runtime.__all__}
    missing = {n for n, f in helpers.items() if f not in rules.RULES and f not in rules.NONDIFFERENTIABLE}
    assert missing == set(HELPERS_WITHOUT_RULE)


def test_coverage_sees_the_primitives_of_a_case() -> None:
    """The coverage test reads the rules srcdiff applies: check it on one known function."""

    def f(x, w):
        return np.sum(np.sin(x) * w)

    assert differentiated_primitives(f, (0,)) == {"np.sin", "np.multiply", "np.sum"}
    assert srcdiff.grad(f)(np.zeros(2), np.ones(2)).tolist() == [1.0, 1.0]


# ------------------------------------------------------------- results that are views


def _probe_arguments() -> list[tuple]:
    """Argument lists to try each function of the table on: arrays, axes, counts, shapes."""
    a = np.array([[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 4.0]])
    v, s = np.array([0.5, 0.25, 0.75]), np.array(0.5)
    return [
        (a,), (v,), (s,), (a, a), (v, v), (s, s), (a, 0), (a, 1), (v, 0), (v, 2), (a, (0, 1)), (a, 3), (v, 3), (a, v),
        (v, a), (a, 0, 1), (a, 1, 0), (a, 2, 0), (v, v, v), (a, a, a), ([a, a],), ([v, v],), (v, 0.2, 0.8),
        (a, [0, 1]), ((3, 3), 0.5), ("ij->ji", a), ("ii->i", a), ("i->i", v),
    ]  # fmt: skip


def _arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    return [a for v in value for a in _arrays(v)] if isinstance(value, (list, tuple)) else []


def shares_an_argument(func: Any) -> tuple | None:
    """Arguments for which ``func``'s result (or a part of it) shares memory with an argument."""
    rule = rules.RULES.get(func)
    for args in _probe_arguments():
        if isinstance(func, np.ufunc) and len(args) != func.nin:
            continue  # a ufunc's next positional argument is out=
        if rule is not None and rule.vararg is None and len(args) > len(rule.positional):
            continue  # np.dot(a, b, out): the rule refuses the call
        args = tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)  # each its own memory
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = func(*args)
        except Exception:  # noqa: BLE001  (arguments this function does not take)
            continue
        if any(np.shares_memory(r, a) for r in _arrays(result) for a in _arrays(args)):
            return args
    return None


# srcdiff's own helpers, which generated code calls: their results may be an argument itself
# (unbroadcast(g, x) is g when the shapes agree). Generated code is exempt from the alias and
# view checks (docs/supported-python.md): it accumulates by rebinding and copies before it
# writes elements (reverse.make_private), so the analysis need not know.
HELPERS_RETURNING_ARGUMENTS = {
    "sum_adjoint", "sum_adjoint_adjoint", "sequence_adjoint", "unsort", "resort", "unreverse", "unbroadcast", "rebroadcast",
    "unreduce", "broadcast_like",
    "materialize", "materialize_all", "private_copy", "writable", "cast", "indexable", "real_root", "transpose_adjoint",
    "moveaxis_adjoint", "expand_dims_adjoint", "structured", "unstructured", "add_at", "real_like", "dft", "norm_axes",
}  # fmt: skip


def test_functions_whose_result_may_be_a_view_are_declared() -> None:
    """Call every function of the table: one whose result shares memory with an argument must be
    in rules.VIEWS, or the analysis takes its result for a value of its own (a write into either
    would change the other unseen: np.diag(Y) then Y[0, 0] = 10.0 gave a wrong gradient)."""
    rules.load_optional_rules(force=True)
    table = {f: r.spelling for f, r in rules.RULES.items()}
    table |= {f: getattr(f, "__name__", repr(f)) for f in rules.NONDIFFERENTIABLE}
    undeclared = {}
    for func, spelling in table.items():
        module = getattr(func, "__module__", None)  # (None for a ufunc)
        if module is not None and module.partition(".")[0] not in ("numpy", "scipy", "srcdiff", "builtins", "math"):
            continue  # registered by a test (catalogue.reseeded)
        if func in rules.VIEWS or module == "srcdiff.runtime" and func.__name__ in HELPERS_RETURNING_ARGUMENTS:
            continue
        args = shares_an_argument(func)
        if args is not None:
            undeclared[spelling] = [np.shape(a) if isinstance(a, np.ndarray) else a for a in args]
    assert not undeclared, f"results sharing an argument's memory, not declared with rules.returns_views: {undeclared}"


def test_a_view_probe_sees_views() -> None:
    """The probe above finds what it should, and no view of what is a copy."""
    assert shares_an_argument(np.diag) is not None and shares_an_argument(np.real_if_close) is not None
    assert shares_an_argument(srcdiff.stop_gradient) is not None
    assert shares_an_argument(np.exp) is None and shares_an_argument(np.copy) is None


def writes_into_stop_gradient(x):
    y = x * 1.0
    z = srcdiff.stop_gradient(y)  # z is y itself
    z[0] = 10.0
    return np.sum(y * x)


def reads_stop_gradient_after_a_write(x):
    y = x * 1.0
    z = srcdiff.stop_gradient(y)
    y[0] = 10.0
    return np.sum(z * x)


def stops(y):
    return srcdiff.stop_gradient(y)  # y itself: the helper's result is not a value of its own


def writes_into_what_a_helper_stops(x):
    y = x * 1.0
    z = stops(y)
    z[0] = 10.0
    return np.sum(y * x)


def reads_a_diagonal_after_a_write(x):
    y = np.outer(x, x)
    d = np.diag(y)  # a view of y
    y[0, 0] = 10.0
    return np.sum(d * d)


def reads_real_if_close_after_a_write(x):
    y = x * 1.0
    z = np.real_if_close(y)  # y itself
    y[0] = 10.0
    return np.sum(z * x)


def reads_nan_to_num_after_a_write(x):
    y = x * 1.0
    z = np.nan_to_num(y, copy=False)  # y itself
    y[0] = 10.0
    return np.sum(z * x)


@pytest.mark.parametrize(
    "f",
    [
        writes_into_stop_gradient,
        reads_stop_gradient_after_a_write,
        writes_into_what_a_helper_stops,
        reads_a_diagonal_after_a_write,
        reads_real_if_close_after_a_write,
        reads_nan_to_num_after_a_write,
    ],
)
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_write_through_a_result_that_is_a_view_is_refused(f: Any, mode: str) -> None:
    """Each gave a wrong gradient, the result taken for a value of its own."""
    x = np.array([0.5, -1.3, 2.2])
    with pytest.raises(srcdiff.errors.UnsupportedSyntax, match="share|view") as info:
        srcdiff.grad(f)(x) if mode == "grad" else srcdiff.jvp(f, (x,), (np.ones(3),))
    assert info.value.filename == __file__


# ------------------------------------------------------------------- second order


def through_linear_algebra(t, a, b):
    c = np.concatenate([a, t * a], axis=0)
    return np.sum(np.tanh((t * a) @ b) ** 2) + np.sum((t * a) @ c.T) + np.dot(t * a[0], a[1] * t) + np.trace(t * t * a)


def through_shapes(t, a, b):
    moved = np.moveaxis(t * t * a, 0, 1)
    stacked = np.stack([t * a, a])[0]
    return np.sum(moved**2) + np.sum(np.vstack([a, t * a]) ** 3) + np.sum(stacked**2) + np.sum(np.tile(t * b, (2, 1)) ** 3)


def through_reductions(t, a, b):
    spread = np.sum(np.cumsum(t * t * a, axis=1) ** 2) + np.sum(np.repeat(t * a, 2, axis=0) ** 2)
    return np.max(t * a) + np.linalg.norm(t * b, axis=0)[1] + spread + np.sum(np.transpose(t * b) ** 2)


@pytest.mark.parametrize("f", [through_linear_algebra, through_shapes, through_reductions])
def test_second_derivative_through_the_adjoint_helpers(f: Any) -> None:
    """grad(grad(f)) differentiates generated code, helpers and all, with the helpers' own rules."""
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-1.0, 1.0, (3, 4)), rng.uniform(-1.0, 1.0, (4, 2))
    ours = srcdiff.grad(srcdiff.grad(f))(0.7, a, b)
    twin = autograd_twin(f)
    np.testing.assert_allclose(ours, autograd.grad(autograd.grad(twin))(0.7, a, b), rtol=1e-9)


# ---------------------------------------------------------- pipeline bugs seen here


def test_an_undeclared_keyword_is_refused_or_honoured() -> None:
    def f(x):
        return np.sum(x, where=np.array([True, False]))

    try:
        g = srcdiff.grad(f)(np.array([1.0, 2.0]))
    except srcdiff.SrcdiffError:
        return  # refusing the keyword at the user's line is a fine answer too
    assert g.tolist() == [1.0, 0.0]


INTEGER = int  # a dtype named at module level: known when the code is built


def full_of_integers(x):
    return np.sum(np.full(3, 3.3 * x[0], dtype=int) * x)  # the integer part has no derivative


def sum_to_integers(x):
    return np.sum(x * 3.3, dtype=int) + np.sum(x * x, dtype=np.float32)


def cumsum_prod_to_integers(x):
    return np.sum(np.cumsum(x * 3.3, dtype="int32") * x) + np.prod(x * 3.3, None, bool) + (x * 3.3).sum(dtype=INTEGER)


def casts_to_a_dtype_given(x, dt):  # known only at run time: keeps_fractions(dt) in the generated code
    return np.sum(x * 3.3, dtype=dt) + np.sum(np.full(3, x[1], dtype=x.dtype) * x)


@pytest.mark.parametrize(
    ("f", "dtypes", "expected"),
    [
        (full_of_integers, (), lambda x: np.full(3, np.trunc(3.3 * x[0]))),
        (sum_to_integers, (), lambda x: 2.0 * x),
        (cumsum_prod_to_integers, (), lambda x: np.cumsum((x * 3.3).astype(np.int32))),
        (casts_to_a_dtype_given, (int,), lambda x: x[1] + np.array([0.0, np.sum(x), 0.0])),
        (casts_to_a_dtype_given, (float,), lambda x: 3.3 + x[1] + np.array([0.0, np.sum(x), 0.0])),
    ],
    ids=["full", "sum", "cumsum-prod", "runtime-int", "runtime-float"],
)
def test_a_cast_to_integers_passes_no_derivative(f: Any, dtypes: tuple, expected: Any) -> None:
    """``dtype=`` an integer or bool type makes a result piecewise constant, in both modes."""
    x = np.array([0.5, -1.3, 2.2])
    direction = np.array([0.3, 0.7, -0.2])
    np.testing.assert_allclose(srcdiff.grad(f)(x, *dtypes), expected(x), rtol=1e-6)
    _, tangent = srcdiff.jvp(f, (x, *dtypes), (direction, *[None for _ in dtypes]))
    np.testing.assert_allclose(tangent, expected(x) @ direction, rtol=1e-6)


# -------------------------------------------------------------------- np.linalg


def _spd(n: int = 3) -> Any:
    """A symmetric positive definite matrix with well separated eigenvalues."""
    x = np.random.default_rng(3).uniform(-0.5, 0.5, (n, n))
    return x + x.T + np.diag(2.0 * np.arange(1.0, n + 1.0))


def test_factorisation_helpers_are_differentiated_from_their_source() -> None:
    """runtime_linalg's functions have no rules: grad(grad(f)) reads their source instead."""
    helpers = [getattr(runtime_linalg, n) for n in runtime_linalg.__all__]
    assert not [f.__name__ for f in helpers if f in rules.RULES or f in rules.NONDIFFERENTIABLE]


def eigenvalue_cubes(a):
    return np.sum(np.linalg.eigh(a)[0] ** 3)


def test_third_derivative_through_eigh() -> None:
    """Each order differentiates the code of the one before, factorisation adjoints included."""
    a, d = _spd(), np.random.default_rng(4).standard_normal((3, 3))
    first = srcdiff.grad(eigenvalue_cubes)
    first_code = first.compiled(first.argument_kinds((a,), {}))

    def second_along(a, d):
        return np.sum(first_code(a) * d)

    second = srcdiff.grad(second_along)
    second_code = second.compiled(second.argument_kinds((a, d), {}))

    def third_along(a, d):
        return np.sum(second_code(a, d) * d)

    ours = np.sum(srcdiff.grad(third_along)(a, d) * d)
    eps = 1e-5
    numeric = np.sum((second(a + eps * d, d) - second(a - eps * d, d)) * d) / (2 * eps)
    assert ours == pytest.approx(numeric, rel=1e-6)


def reads_extra_singular_vectors(a):
    u, s, vh = np.linalg.svd(a)  # full matrices: u is 4x4 for a 4x3 a
    return np.sum(u[:, 3] ** 3)


def qr_of_a_wide_matrix(a):
    q, r = np.linalg.qr(a)
    return np.sum(r)


def hermitian_svd(a):
    return np.sum(np.linalg.svd(a, hermitian=True)[1])  # line: refused here


def test_what_has_no_derivative_is_refused() -> None:
    x = np.random.default_rng(5).standard_normal((4, 3))
    with pytest.raises(srcdiff.errors.NoDerivativeRule, match="extra singular vectors"):
        srcdiff.grad(reads_extra_singular_vectors)(x)
    with pytest.raises(srcdiff.errors.NoDerivativeRule, match="qr"):
        srcdiff.grad(qr_of_a_wide_matrix)(x.T)
    with pytest.raises(srcdiff.errors.UnsupportedSyntax, match="hermitian=") as refusal:
        srcdiff.grad(hermitian_svd)(_spd())
    assert refusal.value.line == hermitian_svd.__code__.co_firstlineno + 1


def quantile_weibull(x):
    return np.quantile(x, 0.3, method="weibull")


def average_returned(x):
    mean, total = np.average(x, weights=x * x, returned=True)
    return mean * total


def interp_moving_knots(x):
    return np.sum(np.interp(0.5, x, [1.0, 2.0, 4.0]))


def test_order_statistics_and_interpolation_refuse_what_they_do_not_differentiate() -> None:
    x = np.array([0.1, 0.7, 1.3])
    with pytest.raises(srcdiff.errors.NoDerivativeRule, match="method='weibull'"):
        srcdiff.grad(quantile_weibull)(x)
    with pytest.raises(srcdiff.errors.NoDerivativeRule, match="returned=True"):
        srcdiff.grad(average_returned)(x)
    with pytest.raises(srcdiff.errors.NoDerivativeRule, match="np.interp with respect to its argument"):  # knots (xp)
        srcdiff.grad(interp_moving_knots)(x)


def test_tangents_of_extra_singular_vectors_are_nan() -> None:
    """Forward mode cannot see what reads them: they get nan, the thin part its tangent."""
    x = np.random.default_rng(6).standard_normal((4, 3))
    (u, s, vh), (du, ds, dvh) = srcdiff.jvp(_svd_parts, (x,), (np.ones((4, 3)),))
    assert np.isnan(du[:, 3]).all() and not np.isnan(du[:, :3]).any() and not np.isnan(ds).any()


def _svd_parts(a):
    u, s, vh = np.linalg.svd(a)
    return u * 1.0, s * 1.0, vh * 1.0


def eigenvectors_of(result):
    return result[1]


def eigenvector_cubes_through_a_helper(a, w):
    return np.sum(eigenvectors_of(np.linalg.eigh(a)) ** 3 * w)


def test_a_factorisation_passed_whole_to_a_function() -> None:
    """The adjoint of ``eigh(a)`` is a list: its contributions add part by part (``+`` would
    concatenate the lists and lose the helper's part), at first and at second order."""
    case = Case(eigenvector_cubes_through_a_helper, [((3, 3),)])
    inputs, w = [_spd()], np.random.default_rng(8).uniform(0.5, 1.5, (3, 3))
    check_differences(case, inputs, {}, w, seed=8)
    check_second_order(case, inputs, {}, w, seed=8)


def linalg_results_read_on_one_branch(a, b, flag):
    x = np.linalg.inv(a)
    y = np.linalg.solve(a, b)
    d = np.linalg.det(a)
    sign, logdet = np.linalg.slogdet(a)
    m = np.linalg.matrix_power(a, 2)
    p = np.linalg.pinv(a)
    c = np.linalg.cholesky(a)
    w, v = np.linalg.eigh(a)
    u, s, vh = np.linalg.svd(a)
    q, r = np.linalg.qr(a)
    if flag > 0:
        total = np.sum(x) + np.sum(y) + d + logdet + np.sum(m) + np.sum(p) + np.sum(c) + np.sum(w) + np.sum(v**2)
        return total + np.sum(u**2 * s) + np.sum(vh**2) + np.sum(q) + np.sum(r)
    return np.sum(a) * np.sum(b)


def test_results_that_one_branch_does_not_read() -> None:
    """On the branch that reads none of them, every adjoint is a weak zero: no rule may fail on one."""
    a, b = _spd(), np.array([0.5, -1.0, 2.0])
    da, db = srcdiff.grad(linalg_results_read_on_one_branch, wrt=(0, 1))(a, b, -1.0)
    np.testing.assert_allclose(da, np.full((3, 3), np.sum(b)))
    np.testing.assert_allclose(db, np.full(3, np.sum(a)))
    direction = np.random.default_rng(9).standard_normal((3, 3))
    da, _ = srcdiff.grad(linalg_results_read_on_one_branch, wrt=(0, 1))(a, b, 1.0)
    eps = 1e-6
    moved = [linalg_results_read_on_one_branch(a + step * direction, b, 1.0) for step in (eps, -eps)]
    assert np.sum(da * direction) == pytest.approx((moved[0] - moved[1]) / (2 * eps), rel=1e-6)


# --------------------------------------------------------------------------- at the edges of the domain


def determinant(a):
    return np.linalg.det(a)


def total_determinant(a):
    return np.sum(np.linalg.det(a))


def test_det_is_differentiated_at_a_singular_matrix():
    # det is a polynomial: its gradient is the adjugate's transpose, which inv cannot give here
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    expected = np.array([[4.0, -2.0], [-2.0, 1.0]])
    np.testing.assert_allclose(srcdiff.grad(determinant)(a), expected, atol=1e-12)
    np.testing.assert_allclose(srcdiff.jvp(determinant, (a,), (np.eye(2),))[1], 5.0, atol=1e-12)  # tr(adj a)
    stack = np.stack([a, np.eye(2), np.zeros((2, 2))])  # one singular, one not, one of rank 0
    np.testing.assert_allclose(srcdiff.grad(total_determinant)(stack), [expected, np.eye(2), np.zeros((2, 2))], atol=1e-12)
    b = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])  # rank 2
    cofactors = np.array([[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]])
    np.testing.assert_allclose(srcdiff.grad(determinant)(b), cofactors, atol=1e-9)
    c = np.diag([1.0, 2.0, 3.0, 4.0, 0.0]) + np.triu(np.ones((5, 5)), 1)  # 5 x 5 of rank 4: from the SVD
    minors = [[np.linalg.det(np.delete(np.delete(c, i, 0), j, 1)) for j in range(5)] for i in range(5)]
    np.testing.assert_allclose(srcdiff.grad(determinant)(c), (-1.0) ** np.add.outer(range(5), range(5)) * minors, atol=1e-9)
    # second order: det of a 2x2 is a quadratic, d2/da2 along the identity is 2
    np.testing.assert_allclose(srcdiff.jvp(srcdiff.grad(determinant), (a,), (np.eye(2),))[1], np.eye(2), atol=1e-9)


def appends_to_a_list(x):
    return np.sum(np.append([1.0, 2.0], x) ** 2)


def test_append_to_a_list():
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(srcdiff.grad(appends_to_a_list)(x), 2 * x)
    np.testing.assert_allclose(srcdiff.jvp(appends_to_a_list, (x,), (np.ones(2),))[1], 14.0)


def batched_matmul(a, b):
    return np.sum(np.einsum("...ij,...jk->...ik", a, b))


def test_einsum_with_an_empty_leading_axis():
    a, b = np.zeros((0, 2, 3)), np.zeros((0, 3, 2))
    ga, gb = srcdiff.grad(batched_matmul, wrt=(0, 1))(a, b)
    assert ga.shape == a.shape and gb.shape == b.shape
    assert srcdiff.jvp(batched_matmul, (a, b), (a, b)) == (0.0, 0.0)


def eigenvalue_sum(a):
    return np.sum(np.real(np.linalg.eig(a)[0]))


def test_eig_of_a_matrix_with_complex_eigenvalues_is_refused_when_it_runs():
    rotation = np.array([[0.1, -1.0], [1.0, 0.2]])  # eigenvalues 0.15 +- 1.0i
    with pytest.raises(srcdiff.SrcdiffError, match="np.linalg.eig of a matrix with complex eigenvalues"):
        srcdiff.grad(eigenvalue_sum)(rotation)
    real = np.array([[2.0, 0.3], [0.1, 4.0]])
    np.testing.assert_allclose(srcdiff.grad(eigenvalue_sum)(real), np.eye(2), atol=1e-12)  # the trace's derivative
