"""Random programs over the whole of docs/supported-python.md, written as Python source.

``generate(seed)`` writes a module: a few helper functions (keyword arguments, defaults,
tuple results, helpers calling helpers, a recursive helper with a depth argument) and
``program(...)``, whose parameters mix floats, arrays of broadcasting shapes, lists and
tuples of arrays and floats, nested lists, lists of pairs and an integer count. The body
draws from every row of the supported-syntax table: in-place index and slice writes on
fresh arrays, copies and call results; list append/pop/slices/comprehensions (and a
generator expression summed at once); ``for`` and
``while`` loops that may run zero times (a later ``for`` may take an earlier one's variable again,
sometimes with a body of no derivative: ``pass``, a print); ``break``/``continue``/early ``return``;
a gradient called inside the program (``srcdiff.grad(inner_loss)(v)``, kept in a global, or
``value_and_grad``);
data-dependent branches; discarded calls; elementwise NumPy, reductions, matmul, indexing.
Every feature is switched on per program with a probability (``WEIGHTS``), and the program
records the features it really used. The same seed always gives the same program.

The generator tracks each name's shape so every program runs. Second names for an array's
data come only from the ``views`` feature (a slice, an element, a reshape, the array
itself) and the ``aliasing`` feature (the array held in a list, tuple or dict, appended in
a loop, returned by a helper alone or in a container, taken by an index held in a variable,
given to ``stop_gradient``, a constant array held in a container and read there before it is
written; swaps by tuple assignment and an array written with itself),
read after the array changes and sometimes written through either name: srcdiff must give
the true value and gradient or refuse. Other assigned values are never bare names
(``1.0 * x``), and nothing writes into an argument (argument aliasing is tested elsewhere).
``containers`` writes Python's own container semantics (``pop(i)``, dicts filled by item,
``r = acc.append(v)``, ``sum(lists, [])``, ``list(t)``, a slice object).
tests/program_checker.py checks the programs, tests/program_shrinker.py shrinks the failures.
"""

from __future__ import annotations

import copy
import itertools
import linecache
import random
import re
from dataclasses import dataclass, field, replace

import numpy as np

# Probability that a feature is switched on for one program; CI and deep runs may pass others.
WEIGHTS: dict[str, float] = {
    "helpers": 0.6,  # calls to generated module-level functions
    "kwargs": 0.5,  # keyword arguments and defaults in those calls
    "tuple_return": 0.4,  # a helper returning a tuple, unpacked with a, b = h(...)
    "nested_calls": 0.4,  # a helper calling another helper
    "recursion": 0.25,  # a recursive helper with a depth argument
    "inplace": 0.45,  # t[i] = v, t[:, 0] = s, t[i] += v, t[1:3] *= c
    "views": 0.3,  # w = t[1:3], w = t[0], w = t.T, w = np.reshape(t, s), w = t: second names, later written
    "lists": 0.4,  # list/tuple arguments of arrays and floats; for v in xs; xs[i], xs[1:3]
    "nested_lists": 0.25,  # p[0][1] of a list of lists
    "pairs": 0.3,  # for a, b in ps; a, b = ps[0]
    "list_ops": 0.35,  # local lists: append, pop, indexing
    "branch": 0.5,  # if/else on data
    "for": 0.5,  # for k in range(n), n possibly 0
    "while": 0.35,  # while loops that may run zero times, temporaries first assigned inside
    "jumps": 0.35,  # break / continue
    "early_return": 0.3,  # return inside a loop or branch
    "print": 0.2,  # calls whose result is discarded: print(...), f-strings, a helper called for nothing
    "misc": 0.3,  # a if c else b, and/or/not, a, b = e1, e2, z: float = e, assert, pass, math.*, methods, no-rule calls, casts
    "augassign": 0.4,  # s += v on names
    "broadcast": 0.6,  # arguments of shapes (3,), (2, 3), (1, 3) and floats together
    "elementwise": 0.9,  # sin, cos, exp, tanh, log and sqrt of positive values, ** 2
    "reduction": 0.6,  # sum, mean, with axis
    "matmul": 0.35,
    "index": 0.5,  # x[i], x[:, j], x[i, j], x[1:3]
    "second_order": 0.5,  # grad(grad(f)) for float arguments
    "dicts": 0.3,  # a dict argument, maybe holding a dict: d["w"], d["sub"]["u"]; for k in d, d.items(), d.values()
    # the rest of the language: while True, for-else, local def and lambda, max/min/sorted, a, *rest = xs,
    # map, dict displays and .get, np.where/maximum/abs, index arrays with repeats (read, and t[idx] += v)
    "python": 0.35,
    # second names for an array's data beyond views: an array held in a list, tuple or dict (or appended in a loop),
    # a helper returning its argument (alone, in a tuple, in a list), an index held in a variable (int, slice, tuple,
    # Ellipsis, index array, np.argmax) read before a write, swaps by tuple assignment, t[::-1] = t, stop_gradient's
    # result: each then written in place through either name, and read after
    "aliasing": 0.35,
    # Python's container semantics: pop(i), a dict filled by item in a loop, r = acc.append(v), sum(lists, []),
    # list(t) / tuple(t) / list(reversed(t)) of a computed array, a list sliced by a slice object
    "containers": 0.3,
}
FEATURES = tuple(WEIGHTS)

FULL = (2, 3)
SHAPES = [(), (3,), (1, 3), (2, 3), (2,)]
ARG_SHAPES = [(), (3,), (2, 3), (1, 3)]


def broadcast(*shapes: tuple) -> tuple:
    return tuple(np.broadcast_shapes(*shapes))


def fits(small: tuple, target: tuple) -> bool:
    """Does ``small`` broadcast into ``target`` without changing it?"""
    try:
        return broadcast(small, target) == target
    except ValueError:
        return False


def unaliased(src: str) -> str:
    """A bare name or element as ``1.0 * src``: assigning it as it is would give an array a second name."""
    return f"1.0 * {src}" if re.fullmatch(r"[\w\[\], :\-']+", src) else src


def zeros(shape: tuple) -> str:
    return f"np.zeros({shape[0]})" if len(shape) == 1 else f"np.zeros({shape})"


@dataclass
class Var:
    """A name the generator may use: its kind, its shape (the largest it can have), and how it may be used."""

    kind: str  # "value", "list" (elems: shapes), "pairs" (elems: (shape, shape)), "nested" (elems: lists of shapes), "int",
    # "dict" (elems: [{key: shape, or "sub": {key: shape}}]),
    # or "integers" (an integer array: written with t[i] = v, read through a float copy)
    shape: tuple = ()
    elems: list = field(default_factory=list)
    container: type = list
    borrowed: bool = False  # an argument or a view of one: never written or augmented
    loose: bool = False  # its shape may be smaller than ``shape`` (an element of a mixed list)
    integer: bool = False  # an integer array: NumPy rounds what is written into it (only ``t[i] = v``)
    checked: bool = False  # read after a write in place: the result always holds it, so its gradient is compared


class Scaler:
    """An object argument whose method is named like an array's: srcdiff must not take
    ``obj.sum(v)`` for ``ndarray.sum`` (it refuses it); ``obj.scale`` is a constant."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __repr__(self) -> str:  # as args_repr shows it: to rebuild, and the same for the same seed
        return f"Scaler({self.scale!r})"

    def sum(self, v):
        return np.sum(v) * self.scale


@dataclass
class Helper:
    name: str
    params: list[tuple[str, tuple]]  # positional parameters and their shapes
    defaults: list[tuple[str, str]]  # float parameters with default values
    returns: list[tuple]  # one shape, or two for a tuple
    recursive: bool = False


@dataclass
class Program:
    seed: int
    source: str
    args: tuple
    features: frozenset
    name: str = "program"

    @property
    def wrt(self) -> tuple[int, ...]:
        return tuple(i for i, a in enumerate(self.args) if not isinstance(a, (int, Scaler)))

    def describe(self) -> str:
        return f"seed {self.seed}, args {args_repr(self.args)}\n{self.source}"


def args_repr(args: tuple) -> str:
    with np.printoptions(precision=17, floatmode="unique"):
        return repr(args).replace("array(", "np.array(")


class Generator:
    def __init__(self, seed: int, weights: dict[str, float], size: int = 7) -> None:
        self.size = size  # at most this many statements in the program's body, and size // 2 helpers
        self.rng = random.Random(seed)
        self.on = {f for f in FEATURES if self.rng.random() < weights.get(f, 0.0)}
        self.used: set[str] = set()
        self.helpers: list[Helper] = []
        self.counter = itertools.count()
        self.lines: list[str] = []
        self.imports: set[str] = set()  # modules the program's body uses beyond math and numpy (srcdiff)
        self.alias_helpers = False  # does the body call ident, with_double or listed
        self.grad_helpers = False  # does the body call inner_loss's gradient
        self.global_objects = False  # does the body call GAIN or the objects of LAYERS (module-level objects)
        self.generators = False  # does the body walk pieces(...), a generator function

    # -- small draws -------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def choice(self, seq):
        return self.rng.choice(list(seq))

    def weighted(self, options: list[tuple[float, object]]):
        return self.rng.choices([o for _, o in options], weights=[w for w, _ in options])[0]

    def fresh(self, stem: str) -> str:
        return f"{stem}{next(self.counter)}"

    def use(self, feature: str) -> bool:
        """Is ``feature`` on? If so, record that the program uses it."""
        if feature in self.on:
            self.used.add(feature)
            return True
        return False

    def const(self) -> str:
        return self.choice(["0.5", "1.5", "-0.75", "2.0", "0.3"])

    # -- expressions: (source, shape), the shape broadcasting into the target --------------------

    def expr(self, env: dict[str, Var], target: tuple, depth: int, strict: bool = False, helpers=None) -> tuple[str, tuple]:
        helpers = self.helpers if helpers is None else helpers
        options = [(2.0, self.leaf)]
        if depth > 0:
            options += [(3.0, self.binary)]
            if "elementwise" in self.on:
                options.append((2.0, self.unary))
            if "reduction" in self.on:
                options.append((1.0, self.reduction))
            if "matmul" in self.on and any(fits(s, target) for s in [(), (2,), (3,)]):
                options.append((0.7, self.matmul))
            if "helpers" in self.on and helpers:
                options.append((1.5, self.call))
            if "misc" in self.on:
                options.append((0.7, self.misc_expr))
        make = self.weighted(options)
        made = make(env, target, depth, strict, helpers)
        return made if made is not None else self.leaf(env, target, depth, strict, helpers)

    def exact(self, env, target: tuple, depth: int, helpers=None) -> str:
        """An expression of exactly this shape (padded with zeros if it came out smaller)."""
        src, shape = self.expr(env, target, depth, strict=True, helpers=helpers)
        if shape != target:
            self.use("broadcast")
            return f"{src} + {zeros(target)}"
        return src

    def leaf(self, env, target, depth, strict, helpers):
        options = [(self.const(), ())]
        for name, v in env.items():
            if v.kind == "value" and fits(v.shape, target) and not (strict and v.loose):
                options += [(name, v.shape)] * 3
            if v.kind == "value" and not v.loose and "index" in self.on:
                options += [(f"{name}{ix}", s) for ix, s in self.indices(v.shape) if fits(s, target)]
            if v.kind == "list" and v.elems:
                for i, s in enumerate(v.elems):
                    if fits(s, target):
                        options.append((f"{name}[{i}]", s))
                if fits(v.elems[-1], target):
                    options.append((f"{name}[-1]", v.elems[-1]))
            if v.kind == "pairs" and v.elems:
                i = self.rng.randrange(len(v.elems))
                j = self.rng.randrange(2)
                if fits(v.elems[i][j], target):
                    options.append((f"{name}[{i}][{j}]", v.elems[i][j]))
            if v.kind == "nested":
                i = self.rng.randrange(len(v.elems))
                j = self.rng.randrange(len(v.elems[i]))
                if fits(v.elems[i][j], target):
                    options.append((f"{name}[{i}][{j}]", v.elems[i][j]))
            if v.kind == "dict":
                for key, s in v.elems[0].items():
                    inner = s.items() if key == "sub" else []
                    options += [(f"{name}['sub']['{k}']", t) for k, t in inner if fits(t, target)]
                    if key != "sub" and fits(s, target):
                        options.append((f"{name}['{key}']", s))
        src, shape = self.choice(options)
        for name, v in env.items():
            if src.startswith(name + "[") and v.kind in ("list", "pairs", "nested", "dict"):
                self.use({"list": "lists", "pairs": "pairs", "nested": "nested_lists", "dict": "dicts"}[v.kind])
            elif src.startswith(name + "[") and v.kind == "value":
                self.use("index")
        return src, shape

    def indices(self, shape: tuple) -> list[tuple[str, tuple]]:
        i = self.rng.randrange(2)
        j = self.rng.randrange(3)
        return {
            (3,): [(f"[{j}]", ()), ("[-1]", ()), ("[1:3]", (2,))],
            (2,): [(f"[{i}]", ())],
            (2, 3): [(f"[{i}]", (3,)), (f"[:, {j}]", (2,)), (f"[{i}, {j}]", ())],
            (1, 3): [("[0]", (3,)), (f"[0, {j}]", ()), (f"[:, {j}]", (1,))],
        }.get(shape, [])

    def unary(self, env, target, depth, strict, helpers):
        self.use("elementwise")
        src, shape = self.expr(env, target, depth - 1, strict, helpers)
        form = self.choice(
            [
                "np.sin({})",
                "np.cos({})",
                "np.tanh({})",
                "np.exp(0.3 * {})",
                "np.log(1.0 + {} ** 2)",
                "np.sqrt(0.5 + {} ** 2)",
                "{} ** 2",
                "-{}",
            ]
        )
        return form.format(f"({src})" if not src.isidentifier() else src), shape

    def misc_expr(self, env, target, depth, strict, helpers):
        self.use("misc")
        form = self.choice(["ternary", "math", "method", "global", "opaque", "cast"])
        if form == "cast":  # a cast that rounds passes no derivative; one to floats passes it whole
            src, shape = self.expr(env, target, depth - 1, strict, helpers)
            return f"(np.asarray({src}).astype({self.choice(['int', 'float', 'np.float64', 'bool'])}) * 1.0)", shape
        if form == "global":  # a module-level constant
            src, shape = self.expr(env, target, depth - 1, strict, helpers)
            return f"SCALE * ({src})", shape
        if form == "opaque":  # a function without a rule (alone or in a chain): refused where it matters
            src, shape = self.expr(env, target, depth - 1, strict, helpers)
            return (f"OPAQUE(OPAQUE({src}))" if self.chance(0.5) else f"OPAQUE({src})"), shape
        if form == "ternary":
            a, sa = self.expr(env, target, depth - 1, strict, helpers)
            b, sb = self.expr(env, target, depth - 1, strict, helpers)
            if sa != sb:  # both sides the same shape, whichever is taken
                a, b = f"({a}) + {zeros(broadcast(sa, sb))}", f"({b}) + {zeros(broadcast(sa, sb))}"
            test = self.expr(env, (), 1, strict, helpers)[0]
            return f"(({a}) if ({test}) > 0.2 else ({b}))", broadcast(sa, sb)  # parenthesised: padding may follow
        if form == "math":
            inner = self.expr(env, (), depth - 1, strict, helpers)[0]
            return self.choice(["math.sin({})", "math.tanh({})", "math.exp(0.2 * {})"]).format(f"({inner})"), ()
        if fits((3,), target):
            return f"({self.exact(env, FULL, depth - 1, helpers)}).T.sum(axis=1)", (3,)
        if fits((2,), target):
            return f"({self.exact(env, FULL, depth - 1, helpers)}).mean(axis=1)", (2,)
        return None

    def binary(self, env, target, depth, strict, helpers):
        a, sa = self.expr(env, target, depth - 1, strict, helpers)
        b, sb = self.expr(env, target, depth - 1, strict, helpers)
        if sa != sb:
            self.use("broadcast")
        op = self.choice(["+", "-", "*", "*", "/"])
        if op == "/":
            return f"({a}) / (1.5 + ({b}) ** 2)", broadcast(sa, sb)
        return f"({a}) {op} ({b})", broadcast(sa, sb)

    def reduction(self, env, target, depth, strict, helpers):
        self.use("reduction")
        forms = []
        if target == () or fits((), target):
            shape = self.choice(ARG_SHAPES)
            inner = self.exact(env, shape, depth - 1, helpers) if shape else None
            if inner:
                forms += [(f"np.sum({inner})", ()), (f"np.mean({inner})", ()), (f"({inner}).sum()", ())]
        if fits((3,), target):
            forms += [(f"np.sum({self.exact(env, FULL, depth - 1, helpers)}, axis=0)", (3,))]
        if fits((2,), target):
            forms += [(f"np.mean({self.exact(env, FULL, depth - 1, helpers)}, axis=1)", (2,))]
        if fits((1, 3), target):
            forms += [(f"np.sum({self.exact(env, FULL, depth - 1, helpers)}, axis=0, keepdims=True)", (1, 3))]
        return self.choice(forms) if forms else None

    def matmul(self, env, target, depth, strict, helpers):
        self.use("matmul")
        forms = []
        if fits((), target):
            forms.append(("({}) @ ({})", (3,), (3,), ()))
        if fits((2,), target):
            forms.append(("({}) @ ({})", FULL, (3,), (2,)))
        if fits((3,), target):
            forms.append(("({}) @ ({})", (2,), FULL, (3,)))
        form, sa, sb, shape = self.choice(forms)
        return form.format(self.exact(env, sa, depth - 1, helpers), self.exact(env, sb, depth - 1, helpers)), shape

    def call(self, env, target, depth, strict, helpers):
        options = []
        for h in helpers:
            for k, r in enumerate(h.returns):
                if fits(r, target):
                    options.append((h, k))
        if not options:
            return None
        h, k = self.choice(options)
        src = self.call_source(h, env, depth, helpers)
        if len(h.returns) > 1:
            src = f"{src}[{k}]"
        return src, h.returns[k]

    def call_source(self, h: Helper, env, depth: int, helpers) -> str:
        self.use("helpers")
        below = [g for g in helpers if g is not h] if h.recursive else helpers
        parts = []
        keyword = "kwargs" in self.on and self.chance(0.4)
        for name, shape in h.params:
            value = self.exact(env, shape, max(depth - 2, 0), below)
            if keyword and parts:
                self.use("kwargs")
                parts.append(f"{name}={value}")
            else:
                parts.append(value)
        if h.recursive:
            depth_arg = "n" if "n" in env and self.chance(0.5) else str(self.rng.randrange(4))
            parts.append(f"depth={depth_arg}" if self.chance(0.3) else depth_arg)
        for name, _ in h.defaults:
            if self.chance(0.5):
                self.use("kwargs")
                parts.append(f"{name}={self.expr(env, (), max(depth - 2, 0), True, below)[0]}")
        if h.defaults:
            self.use("kwargs")
        return f"{h.name}({', '.join(parts)})"

    def value(self, env, target, depth: int = 2) -> tuple[str, tuple]:
        """An expression to assign: never a bare name or element, which would alias an array."""
        src, shape = self.expr(env, target, depth)
        return unaliased(src), shape

    def condition(self, env) -> str:
        src, shape = self.expr(env, FULL, 1)
        total = f"np.sum({src})" if shape else src
        test = f"{total} > {self.choice(['0.1', '-0.2', '0.5', '0.0'])}"
        if self.use("misc") and self.chance(0.3):
            other = self.expr(env, (), 1)[0]
            test = self.choice([f"not {test}", f"{test} and {other} < 0.7", f"{test} or {other} > 0.9"])
        return test

    # -- statements ---------------------------------------------------------------------------

    def block(self, env: dict[str, Var], n: int, pad: str, ctx: dict) -> list[str]:
        """``n`` statements; ``env`` gains the names assigned at this level."""
        lines: list[str] = []
        for _ in range(n):
            lines += self.statement(env, pad, ctx)
        return lines

    def statement(self, env, pad: str, ctx: dict) -> list[str]:
        nested = ctx["nest"] < 2
        kinds = [(3.0, self.assign)]
        checks = [
            ("augassign", 1.0, self.augassign, True),
            ("inplace", 2.0, self.inplace, True),
            ("views", 1.0, self.view, True),
            ("branch", 1.0, self.branch, nested),
            ("for", 1.0, self.for_loop, nested),
            ("while", 1.0, self.while_loop, nested),
            ("jumps", 1.0, self.jump, ctx["loop"]),
            ("early_return", 0.7, self.early_return, ctx["returns"] is not None and ctx["nest"] > 0),
            ("print", 0.5, self.discard, True),
            ("misc", 0.7, self.misc_statement, True),
            ("list_ops", 1.0, self.list_op, True),
            ("lists", 1.0, self.list_loop, nested),
            ("pairs", 1.0, self.pairs, nested),
            ("dicts", 1.0, self.dict_loop, nested),
            ("python", 1.5, self.python_statement, True),
            ("aliasing", 1.5, self.aliasing_statement, True),
            ("containers", 1.0, self.container_statement, True),
            ("reduction", 0.5, self.shifted_statement, True),
            ("tuple_return", 1.0, self.unpack_call, any(len(h.returns) > 1 for h in ctx["helpers"])),
        ]
        kinds += [(w, make) for feature, w, make, ok in checks if ok and feature in self.on]
        make = self.weighted(kinds)
        made = make(env, pad, ctx)
        return made if made is not None else self.assign(env, pad, ctx)

    def target_shape(self) -> tuple:
        if "broadcast" in self.on:
            return self.choice(SHAPES)
        return self.choice([(), (3,)])

    def assign(self, env, pad, ctx):
        existing = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if existing and (ctx["nest"] > 0 or self.chance(0.3)):
            name = self.choice(existing)
            shape = env[name].shape
            return [f"{pad}{name} = {unaliased(self.exact(env, shape, 2, ctx['helpers']))}"]
        name = self.fresh("v")
        src, shape = self.value(env, self.target_shape())
        env[name] = Var("value", shape)
        return [f"{pad}{name} = {src}"]

    def shifted_statement(self, env, pad, ctx):
        """A value shifted by its own reduction along an axis, kept with keepdims (a stable softmax's
        row maximum), then a form where the shift cancels (log-softmax, softmax, log-sum-exp) or,
        along another axis or scaled, one where it does not: srcdiff drops the shift's adjoint only
        where the algebra of srcdiff/cancellation.py proves it cancels."""
        self.use("reduction")
        u, s, out = self.fresh("v"), self.fresh("v"), self.fresh("v")
        axis, other = self.choice([(1, 1), (0, 0), (-1, 1), (1, 0)])  # (the last: the sum is along the other axis)
        reduce = self.choice(["np.max", "np.min", "np.mean", "np.sum"])
        scale = self.choice(["", "", "0.5 * "])  # (a scaled shift in the log-sum-exp does not cancel)
        lse = f"np.log(np.sum(np.exp({s}), axis={other}, keepdims=True))"
        form = self.choice([
            f"{s} - {lse}",
            f"np.exp({s}) / np.sum(np.exp({s}), axis={other}, keepdims=True)",
            f"{scale}{s} - np.log(np.mean(np.exp({s}), axis={other}, keepdims=True))",
            f"{lse} * {s}",
        ])  # fmt: skip
        arrays = [n for n, v in env.items() if v.kind == "value" and v.shape == FULL and not v.borrowed]
        if arrays and self.chance(0.5):  # (a name of known dimensions: the analysis can follow it)
            value = unaliased(self.choice(arrays))
        else:
            value = unaliased(self.exact(env, FULL, 2, ctx["helpers"]))  # (before the new names are known)
        env[u], env[s], env[out] = Var("value", FULL), Var("value", FULL), Var("value", FULL)
        return [f"{pad}{u} = {value}", f"{pad}{s} = {u} - {reduce}({u}, axis={axis}, keepdims=True)", f"{pad}{out} = {form}"]

    def misc_statement(self, env, pad, ctx):
        self.use("misc")
        form = self.choice(["tuple", "annotated", "assert", "pass", "raise", "gradient"])
        if form == "gradient":  # a gradient called inside the differentiated program (MAML's inner step)
            self.imports.add("srcdiff")
            self.grad_helpers = True
            shape = self.target_shape()
            src, name = self.exact(env, shape, 1), self.fresh("gi")
            env[name] = Var("value", shape)
            how = self.choice(["srcdiff.grad(inner_loss)", "INNER_GRAD", "srcdiff.value_and_grad(inner_loss)"])
            if how.startswith("srcdiff.value_and_grad"):
                value = self.fresh("vi")
                env[value] = Var("value", ())
                return [f"{pad}{value}, {name} = {how}({src})"]
            return [f"{pad}{name} = {how}({src})"]
        if form == "raise":  # never taken: the forward sweep keeps it, with no derivative
            return [f"{pad}if ({self.condition(env)}) and SCALE > 10.0:", f'{pad}    raise ValueError("never")']
        if form == "assert":
            src = self.expr(env, self.target_shape(), 1)[0]
            return [f"{pad}assert np.all(np.isfinite({src})), 'finite'"]
        if form == "pass":
            return [f"{pad}pass"]
        if ctx["nest"] > 0:
            return None
        if form == "annotated":
            name = self.fresh("v")
            src, shape = self.value(env, ())
            env[name] = Var("value", shape)
            return [f"{pad}{name}: float = {src}"]
        a, b = self.fresh("v"), self.fresh("v")
        (sa, ta), (sb, tb) = self.value(env, self.target_shape()), self.value(env, self.target_shape())
        env[a], env[b] = Var("value", ta), Var("value", tb)
        return [f"{pad}{a}, {b} = {sa}, {sb}"]

    def augassign(self, env, pad, ctx):
        names = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if not names:
            return None
        self.use("augassign")
        name = self.choice(names)
        src, _ = self.expr(env, env[name].shape, 2, strict=True)
        return [f"{pad}{name} {self.choice(['+=', '-=', '*='])} {src}"]

    def owned(self, env, pad, ctx) -> tuple[list[str], str] | None:
        """A fresh array to write into: np.zeros, a copy of an argument (sometimes cast to integers,
        which round what is written into them), or a helper's result."""
        lines = []
        sources = ["zeros", "copy"]
        array_helpers = [h for h in ctx["helpers"] if len(h.returns) == 1 and h.returns[0] in ARG_SHAPES[1:]]
        if array_helpers and "helpers" in self.on:
            sources += ["call", "call"]
        how = self.choice(sources)
        name = self.fresh("t")
        if how == "call":
            h = self.choice(array_helpers)
            shape = h.returns[0]
            lines.append(f"{pad}{name} = {self.call_source(h, env, 2, ctx['helpers'])}")
        elif how == "copy":
            candidates = [n for n, v in env.items() if v.kind == "value" and v.shape in ARG_SHAPES[1:] and not v.loose]
            if not candidates:
                return None
            source = self.choice(candidates)
            shape = env[source].shape
            integer = self.chance(0.15)
            lines.append(f"{pad}{name} = {source}.astype(int)" if integer else f"{pad}{name} = {source}.copy()")
            env[name] = Var("integers" if integer else "value", shape, integer=integer)  # read only as a float copy
            return lines, name
        else:
            shape = self.choice(ARG_SHAPES[1:])
            lines.append(f"{pad}{name} = {zeros(shape)}")
        env[name] = Var("value", shape)
        return lines, name

    def inplace(self, env, pad, ctx):
        writable = [n for n, v in env.items() if v.kind in ("value", "integers") and not v.borrowed and v.shape in SHAPES[1:]]
        lines = []
        if not writable or self.chance(0.5):
            made = self.owned(env, pad, ctx)
            if made is None:
                return None
            lines, name = made
        else:
            name = self.choice(writable)
        self.use("inplace")
        shape = env[name].shape
        writes = self.writes(shape)
        if env[name].integer:  # augmented writes of floats into integers raise in NumPy
            writes = [w for w in writes if w[1] == "="]
        for _ in range(self.rng.randint(1, 2)):
            index, op, value_shape = self.choice(writes)
            src, _ = self.expr(env, value_shape, 2, strict=True)
            lines.append(f"{pad}{name}{index} {op} {src}")
        if env[name].integer:  # what the program reads of it: a float copy
            copy_name = self.fresh("v")
            lines.append(f"{pad}{copy_name} = 1.0 * {name}")
            env[copy_name] = Var("value", shape)
        return lines

    def writes(self, shape: tuple) -> list[tuple[str, str, tuple]]:
        """Index writes into an array of this shape: (index, operator, shape of the value written)."""
        i, j = self.rng.randrange(shape[0]), self.rng.randrange(shape[-1])
        return {
            (3,): [(f"[{j}]", "=", ()), (f"[{j}]", "+=", ()), ("[1:3]", "*=", ()), ("[0:2]", "=", (2,))],
            (2,): [(f"[{i}]", "=", ()), ("[:]", "+=", (2,))],
            (2, 3): [(f"[{i}]", "=", (3,)), (f"[:, {j}]", "=", (2,)), (f"[{i}, {j}]", "+=", ()), ("[:, 1:3]", "*=", ())],
            (1, 3): [(f"[0, {j}]", "=", ()), (f"[:, {j}]", "=", ()), ("[0]", "+=", (3,))],
        }[shape]

    def view(self, env, pad, ctx):
        """A second name for an array's data (a view, an element, the array itself): reading it after
        the array is written, or writing into it, must give the true gradient or be refused."""
        arrays = [n for n, v in env.items() if v.kind == "value" and v.shape in SHAPES[1:] and not v.loose]
        if not arrays:
            return None
        self.use("views")
        base = self.choice(arrays)
        forms = {
            (3,): [("{}[0:2]", (2,)), ("{}[1:]", (2,)), ("{}", (3,)), ("np.reshape({}, (1, 3))", (1, 3))],
            (2,): [("{}[0:2]", (2,)), ("{}", (2,))],
            (2, 3): [("{}[1]", (3,)), ("{}[:, 1]", (2,)), ("{}[0:1]", (1, 3)), ("{}.T.T", (2, 3))],
            (1, 3): [("{}[0]", (3,)), ("np.reshape({}, (3,))", (3,)), ("{}", (1, 3))],
        }[env[base].shape]
        form, shape = self.choice(forms)
        name = self.fresh("w")
        # mostly read only, as in real code; sometimes written too, which changes the array as well
        env[name] = Var("value", shape, borrowed=env[base].borrowed or self.chance(0.7))
        return [f"{pad}{name} = {form.format(base)}"]

    def inner_context(self, ctx, loop: bool | None = None) -> dict:
        return {**ctx, "nest": ctx["nest"] + 1, "loop": ctx["loop"] if loop is None else loop}

    def scope(self, env) -> dict[str, Var]:
        """The names of a nested block: the outer ones (lists copied, so appends inside stay inside)."""
        return {k: copy.deepcopy(v) if v.kind == "list" else v for k, v in env.items()}

    def inner_block(self, env, pad, ctx, n=None) -> list[str]:
        """A nested block: it may reassign outer names (keeping their shapes); its new names stay inside."""
        return self.block(self.scope(env), n or self.rng.randint(1, min(3, self.size)), pad, ctx)

    def branch(self, env, pad, ctx):
        self.use("branch")
        lines = [f"{pad}if {self.condition(env)}:"]
        lines += self.inner_block(env, pad + "    ", self.inner_context(ctx))
        if self.chance(0.3):
            lines += [f"{pad}elif {self.condition(env)}:"]
            lines += self.inner_block(env, pad + "    ", self.inner_context(ctx))
        if self.chance(0.7):
            lines += [f"{pad}else:"]
            lines += self.inner_block(env, pad + "    ", self.inner_context(ctx))
        return lines

    def count(self, env) -> str:
        return "n" if "n" in env and self.chance(0.4) else str(self.rng.randrange(4))

    def for_loop(self, env, pad, ctx):
        self.use("for")
        k = self.fresh("k")
        rows = ctx.get("rows", [])  # loops that walked an array's rows: a range taking the name must stop its adjoint
        if ctx["nest"] == 0 and ctx["loops"] and self.chance(0.8 if rows else 0.5):  # an earlier loop's variable, again
            k = self.choice(rows) if rows and self.chance(0.7) else self.choice(ctx["loops"])
            if self.chance(0.2 if k in rows else 0.5):  # a loop with no derivative of its own: its variable still goes back
                body = self.choice(["pass", f'print("step", {k})', f"{self.const()} * {k}"])
                return [f"{pad}for {k} in range({self.count(env)}):", f"{pad}    {body}"]
        if ctx["nest"] == 0:
            ctx["loops"].append(k)
        carried = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        arrays = [n for n, v in env.items() if v.kind == "value" and v.shape == FULL and not v.loose]
        if ctx["nest"] == 0 and carried and arrays and self.chance(0.15):  # one name: an array's rows, then a range's ints
            target, walked = self.choice(carried), self.choice(arrays)
            rows_scope, ints_scope = self.scope(env), self.scope(env)
            rows_scope[k], ints_scope[k] = Var("value", (3,), borrowed=True), Var("int")
            ctx.setdefault("rows", []).append(k)
            shape = env[target].shape
            row_step = self.exact(rows_scope, shape, 1, ctx["helpers"])
            int_step = self.exact(ints_scope, shape, 1, ctx["helpers"])
            reads = self.choice([f"np.sum({k})", "0.5"])  # (a body that does not read the row: its adjoint is not set there)
            env[target] = replace(env[target], checked=True)  # (in the result: the loops' derivatives are compared)
            return [f"{pad}for {k} in {walked}:", f"{pad}    {target} = {target} + ({row_step}) * {reads}",
                    f"{pad}for {k} in range({self.count(env)}):",
                    f"{pad}    {target} = {target} * 0.9 + ({int_step}) * (0.1 * {k} + 0.2)"]  # fmt: skip
        inner = self.scope(env)
        inner[k] = Var("int")
        loop = f"range({self.count(env)})"
        if self.use("misc") and self.chance(0.3):
            loop = f"reversed({loop})"
        rows = [n for n, v in env.items() if v.kind == "value" and v.shape == FULL and not v.loose]
        if rows and self.chance(0.25):  # for row in an array
            name = self.choice(rows)
            inner[k] = Var("value", (3,), borrowed=True)
            if ctx["nest"] == 0:
                ctx.setdefault("rows", []).append(k)
            lines = [f"{pad}for {k} in {name}:"]
            body_ctx = self.inner_context(ctx, loop=True)
            return lines + self.block(inner, self.rng.randint(1, min(3, self.size)), pad + "    ", body_ctx)
        lines = [f"{pad}for {k} in {loop}:"]
        body_ctx = self.inner_context(ctx, loop=True)
        names = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if names:  # the loop carries a value, using the counter
            name = self.choice(names)
            step = self.exact(inner, env[name].shape, 1, ctx["helpers"])
            lines.append(f"{pad}    {name} = {name} * 0.9 + ({step}) * (0.1 * {k} + 0.2)")
        lines += self.block(inner, self.rng.randint(1, min(3, self.size)), pad + "    ", body_ctx)
        return lines

    def while_loop(self, env, pad, ctx):
        self.use("while")
        k = self.fresh("k")
        names = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        test = f"{k} < {self.count(env)}"
        if names and self.chance(0.4):
            test += f" and ({self.condition(env)})"  # the count bounds the loop, whatever the data say
        lines = [f"{pad}{k} = 0", f"{pad}while {test}:", f"{pad}    {k} += 1"]
        inner = self.scope(env)
        inner[k] = Var("int")
        body_ctx = self.inner_context(ctx, loop=True)
        temp = self.fresh("u")  # first assigned inside the loop, which may not run
        src, shape = self.value(inner, self.target_shape())
        lines.append(f"{pad}    {temp} = {src}")
        inner[temp] = Var("value", shape)
        if names:
            name = self.choice(names)
            s = env[name].shape
            tail = f"np.sum({temp})" if not fits(shape, s) else temp
            lines.append(f"{pad}    {name} = {name} * 0.8 + np.tanh({tail})")
        lines += self.block(inner, self.rng.randint(0, 2), pad + "    ", body_ctx)
        return lines

    def jump(self, env, pad, ctx):
        self.use("jumps")
        return [f"{pad}if {self.condition(env)}:", f"{pad}    {self.choice(['break', 'continue'])}"]

    def early_return(self, env, pad, ctx):
        self.use("early_return")
        return [f"{pad}if {self.condition(env)}:", f"{pad}    return {self.returned(env, ctx)}"]

    def returned(self, env, ctx) -> str:
        shapes = ctx["returns"]
        if shapes == "program":
            return self.program_result(env)
        return ", ".join(unaliased(self.exact(env, s, 2, ctx["helpers"])) for s in shapes)

    def discard(self, env, pad, ctx):
        self.use("print")
        src, shape = self.expr(env, self.target_shape(), 1)
        forms = [f'print("value", {src})', f"print(np.sum({src}))", f'print(f"total {{np.sum({src}):.3f}}")']
        calls = [h for h in ctx["helpers"]]
        if calls:
            forms.append(self.call_source(self.choice(calls), env, 1, ctx["helpers"]))
        return [f"{pad}{self.choice(forms)}"]

    def list_op(self, env, pad, ctx):
        self.use("list_ops")
        lists = [n for n, v in env.items() if v.kind == "list" and not v.borrowed]
        if lists and self.chance(0.6):
            name = self.choice(lists)
            v = env[name]
            if v.elems and ctx["nest"] == 0 and self.chance(0.4):
                popped = self.fresh("w")
                shape = v.elems.pop()
                env[popped] = Var("value", shape, borrowed=True)
                return [f"{pad}{popped} = {name}.pop()"]
            src, shape = self.expr(env, v.elems[0] if v.elems else (3,), 2, strict=True)
            if v.elems and shape != v.elems[0]:
                src = f"{src} + {zeros(v.elems[0])}" if v.elems[0] else src
                shape = v.elems[0]
            grow = self.choice(["append", "append", "extend", "augmented", "insert", "joined"])
            if grow == "extend":  # list methods that normalize writes with appends and item writes
                other = self.exact(env, shape, 1, ctx["helpers"])
                v.elems += [shape, shape]
                return [f"{pad}{name}.extend([{src}, {other}])"]
            if grow == "augmented":
                v.elems.append(shape)
                return [f"{pad}{name} += [{src}]"]
            if grow == "insert" and all(e == shape for e in v.elems):  # every position keeps its shape
                v.elems.append(shape)
                return [f"{pad}{name}.insert({self.rng.randint(-3, len(v.elems) + 1)}, {src})"]
            if grow == "joined" and ctx["nest"] == 0:  # a new list: the old one keeps its items
                joined = self.fresh("acc")
                env[joined] = Var("list", elems=[*v.elems, shape])
                return [f"{pad}{joined} = {name} + [{src}]"]
            v.elems.append(shape)
            return [f"{pad}{name}.append({src})"]
        if ctx["nest"] > 0:
            return None
        sources = [n for n, v in env.items() if v.kind == "list" and len(v.elems) >= 3]
        if sources and self.chance(0.3):  # a slice of a list is a list
            source = self.choice(sources)
            name = self.fresh("sl")
            env[name] = Var("list", elems=env[source].elems[1:3], borrowed=True)
            return [f"{pad}{name} = {source}[1:3]"]
        owned = [n for n, v in env.items() if v.kind == "list" and v.elems and not v.borrowed]
        if owned and self.chance(0.3):  # writing an element of a local list
            name = self.choice(owned)
            i = self.rng.randrange(len(env[name].elems))
            return [f"{pad}{name}[{i}] = {self.exact(env, env[name].elems[i], 2, ctx['helpers'])}"]
        walked = [n for n, v in env.items() if v.kind == "list" and v.elems]
        if walked and self.chance(0.3):  # a comprehension
            source = self.choice(walked)
            name, item = self.fresh("cmp"), self.fresh("e")
            inner = self.scope(env)
            inner[item] = Var("value", broadcast(*env[source].elems), borrowed=True, loose=len(set(env[source].elems)) > 1)
            src, shape = self.expr(inner, broadcast(*env[source].elems), 2)
            src = f"({src}) + {zeros(shape)}" if shape else src
            if self.chance(0.4):  # filtered: its length is unknown, so it is summed at once
                self.used.add("misc")
                env[name] = Var("value", shape)
                test = self.expr(inner, (), 1)[0]
                start = zeros(shape) if shape else "0.0"
                if self.chance(0.5):  # a generator expression, walked by sum at once
                    return [f"{pad}{name} = sum(({src} for {item} in {source} if {test} > 0.0), {start})"]
                return [f"{pad}{name} = sum([{src} for {item} in {source} if {test} > 0.0], {start})"]
            env[name] = Var("list", elems=[shape] * len(env[source].elems))
            return [f"{pad}{name} = [{src} for {item} in {source}]"]
        name = self.fresh("acc")
        shape = self.choice([(), (3,)])
        items = [self.exact(env, shape, 1, ctx["helpers"]) for _ in range(self.rng.randint(0, 2))]
        env[name] = Var("list", elems=[shape] * len(items))
        return [f"{pad}{name} = [{', '.join(items)}]"]

    def list_loop(self, env, pad, ctx):
        lists = [n for n, v in env.items() if v.kind == "list" and v.elems]
        targets = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if not lists or not targets:
            return None
        self.use("lists")
        name = self.choice(lists)
        v = env[name]
        item = self.fresh("e")
        if ctx["nest"] == 0:  # a later range loop may take the name again (its adjoint must stop at each binding)
            ctx["loops"].append(item)
            ctx.setdefault("rows", []).append(item)
        whole = broadcast(*v.elems)
        inner = self.scope(env)
        inner[name] = replace(v, borrowed=True)  # appending to the list being walked would never end
        inner[item] = Var("value", whole, borrowed=True, loose=len(set(v.elems)) > 1)
        target = self.choice(targets)
        form = self.choice(["plain", "enumerate", "slice", "zip"])
        if form == "enumerate":
            head = f"for i_{item}, {item} in enumerate({name}):"
            inner[f"i_{item}"] = Var("int")
        elif form == "zip":
            head = f"for {item}, d_{item} in zip({name}, {name}[1:]):"
            inner[f"d_{item}"] = inner[item]
        elif form == "slice":
            head = f"for {item} in {name}[1:3]:"
        else:
            head = f"for {item} in {name}:"
        step, _ = self.expr(inner, env[target].shape, 2)
        if all(len(shape) > 0 for shape in v.elems) and self.chance(0.3):  # an array item's own attribute
            step = f"({step}) * np.mean({item}.T)"
        lines = [f"{pad}{head}", f"{pad}    {target} = {target} + {step}"]
        if self.chance(0.3):
            lines += self.block(inner, 1, pad + "    ", self.inner_context(ctx, loop=True))
        return lines

    def pairs(self, env, pad, ctx):
        pairs = [n for n, v in env.items() if v.kind == "pairs"]
        targets = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if not pairs:
            return None
        self.use("pairs")
        name = self.choice(pairs)
        v = env[name]
        a, b = self.fresh("a"), self.fresh("b")
        sa, sb = broadcast(*[e[0] for e in v.elems]), broadcast(*[e[1] for e in v.elems])
        if self.chance(0.4) or not targets:
            i = self.rng.randrange(len(v.elems))
            env[a] = Var("value", v.elems[i][0], borrowed=True)
            env[b] = Var("value", v.elems[i][1], borrowed=True)
            return [f"{pad}{a}, {b} = {name}[{i}]"]
        inner = self.scope(env)
        inner[a] = Var("value", sa, borrowed=True, loose=len({e[0] for e in v.elems}) > 1)
        inner[b] = Var("value", sb, borrowed=True, loose=len({e[1] for e in v.elems}) > 1)
        target = self.choice(targets)
        step, _ = self.expr(inner, env[target].shape, 2)
        return [f"{pad}for {a}, {b} in {name}:", f"{pad}    {target} = {target} + {step}"]

    def python_statement(self, env, pad, ctx):
        """One of the constructs of docs/supported-python.md that the other features leave out."""
        targets = [n for n, v in env.items() if v.kind == "value" and not v.borrowed and not v.loose]
        lists = [n for n, v in env.items() if v.kind == "list" and len(v.elems) >= 2]
        forms = ["minmax", "sorted", "dict", "piecewise", "gather"]
        forms += ["while_true", "for_else", "scatter"] if targets and ctx["nest"] < 2 else []
        forms += ["local_def", "lambda"] if ctx["nest"] == 0 else []
        forms += ["star", "map"] if lists and ctx["nest"] == 0 else []
        forms += ["object"] if "obj" in env else []
        forms += ["global_object", "errstate", "generator"]
        forms += ["module"] if "m" in env else []
        form = self.choice(forms)
        self.use("python")
        name = self.fresh("v")
        if form == "minmax":  # scalars: ties have probability zero
            parts = [f"np.sum({self.expr(env, FULL, 1)[0]})" for _ in range(self.rng.randint(2, 3))]
            env[name] = Var("value", ())
            return [f"{pad}{name} = {self.choice(['max', 'min'])}({', '.join(parts)})"]
        if form == "sorted":
            parts = [f"np.sum({self.expr(env, FULL, 1)[0]})" for _ in range(3)]
            env[name] = Var("value", ())
            return [f"{pad}{name} = sorted([{', '.join(parts)}])[{self.rng.randrange(3)}] * 1.0"]
        if form == "dict":
            shape = self.target_shape()
            a, b = self.exact(env, shape, 1), self.exact(env, shape, 1)
            d = self.fresh("d")
            env[name] = Var("value", shape)
            read = self.choice([f"{d}['a'] * {d}.get('b', 1.0)", f"{d}.get('c', 0.5) + {d}['b']", f"sum({d}.values())"])
            made = self.choice(  # a display, a comprehension, pairs, an update: the same dict
                [
                    f"{d} = {{'a': {a}, 'b': {b}}}",
                    f"{d} = {{k: v for k, v in zip(['a', 'b'], [{a}, {b}])}}",
                    f"{d} = dict(zip(['a', 'b'], [{a}, {b}]))",
                    f"{d} = {{'a': {a}}}\n{pad}{d}.update(b={b})",
                    f"{d} = {{'b': {a}}}\n{pad}{d}.update({{'a': {a}, 'b': {b}}})",
                ]
            )
            return [f"{pad}{made}", f"{pad}{name} = {read}"]
        if form == "piecewise":  # kinks at measure-zero points
            shape = self.target_shape()
            a, b = self.exact(env, shape, 1), self.exact(env, shape, 1)
            made = self.choice([f"np.where({a} > 0.1, {a}, {b} * 0.5)", f"np.maximum({a}, {b})", f"np.abs({a}) + {b}"])
            env[name] = Var("value", shape)
            return [f"{pad}{name} = {made}"]
        if form == "gather":  # an index array with a repeat: each position's adjoint is added up
            vectors = [n for n, v in env.items() if v.kind == "value" and v.shape == (3,) and not v.loose]
            if not vectors:
                return None
            env[name] = Var("value", (3,))
            return [f"{pad}{name} = {self.choice(vectors)}[np.array([0, 2, 0])] * 1.0"]
        if form == "scatter":  # NumPy: t[idx] += v with a repeated index adds once (the last write wins)
            vectors = [n for n in targets if env[n].shape == (3,)]
            if not vectors:
                return None
            t = self.choice(vectors)
            return [f"{pad}{t}[np.array([1, 1, 0])] += {self.exact(env, (3,), 1)}"]
        if form == "while_true":
            t, k = self.choice(targets), self.fresh("k")
            step = self.exact(env, env[t].shape, 1)
            limit = self.rng.randint(1, 3)
            return [f"{pad}{k} = 0", f"{pad}while True:", f"{pad}    {k} += 1", f"{pad}    {t} = {t} * 0.9 + {step}",
                    f"{pad}    if {k} >= {limit}:", f"{pad}        break"]  # fmt: skip
        if form == "for_else":
            t, k = self.choice(targets), self.fresh("k")
            inner = self.scope(env)
            inner[k] = Var("int")
            step = self.exact(inner, env[t].shape, 1)
            return [f"{pad}for {k} in range({self.count(env)}):", f"{pad}    {t} = {t} + {step}",
                    f"{pad}    if {self.condition(inner)}:", f"{pad}        break", f"{pad}else:",
                    f"{pad}    {t} = {t} * 0.5"]  # fmt: skip
        if form in ("local_def", "lambda"):  # its body may read the caller's names (a closure)
            fn, v = self.fresh("lf"), self.fresh("p")
            shape = self.target_shape()
            inner = self.scope(env)
            inner[v] = Var("value", shape, borrowed=True)
            body, out = self.expr(inner, shape, 2, strict=True)
            body = unaliased(body)  # a function returning its argument (or a closure's array) as it is: an alias
            argument = self.exact(env, shape, 1)
            env[name] = Var("value", out if form == "lambda" else broadcast(out, shape))  # def adds c * v
            if form == "lambda":
                return [f"{pad}{fn} = lambda {v}: {body}", f"{pad}{name} = {unaliased(f'{fn}({argument})')}"]
            return [f"{pad}def {fn}({v}, c=0.5):", f"{pad}    return ({body}) + c * {v}",
                    f"{pad}{name} = {unaliased(f'{fn}({argument})')}"]  # fmt: skip
        if form == "errstate":  # NumPy's error handling for a block: its derivative code runs under it too
            shape = self.target_shape()
            a, b = self.exact(env, shape, 1), self.exact(env, shape, 1)
            env[name] = Var("value", shape)
            return [f"{pad}with np.errstate({self.choice(['divide', 'invalid', 'all'])}='ignore'):",
                    f"{pad}    {name} = np.log(1.0 + ({a}) ** 2)", f"{pad}    {name} = {name} * ({b})"]  # fmt: skip
        if form == "generator":  # a generator function of the user's, walked at once: by a loop or a consumer
            self.generators = True
            shape = self.target_shape()
            a = self.exact(env, shape, 1)
            env[name] = Var("value", shape)
            if self.chance(0.5):
                piece = self.fresh("piece")
                start = zeros(shape) if shape else "0.0"
                walk = [f"{pad}for {piece} in pieces({a}):", f"{pad}    {name} = {name} * 0.5 + {piece}"]
                return [f"{pad}{name} = {start}", *walk]
            return [f"{pad}{name} = {self.choice([f'sum(pieces({a}))', f'np.sum(np.array(list(pieces({a}))), axis=0)'])}"]
        if form == "global_object":  # objects a global holds: their methods are followed, their class checked
            self.global_objects = True
            shape = self.target_shape()
            a = self.exact(env, shape, 1)
            if self.chance(0.4):
                layer = self.fresh("layer")
                env[name] = Var("value", shape)
                start = zeros(shape) if shape else "0.0"
                return [f"{pad}{name} = {start}", f"{pad}for {layer} in LAYERS:", f"{pad}    {name} = {name} + {layer}({a})"]
            env[name] = Var("value", shape)
            return [f"{pad}{name} = {self.choice([f'GAIN({a})', f'GAIN.twice({a})'])}"]
        if form in ("object", "module"):  # an object's own method and attribute; a module passed in, followed
            shape = self.target_shape()
            a = self.exact(env, shape, 1)
            if form == "module":
                made, out = self.choice([(f"m.sin({a})", shape), (f"m.sum({a}) + m.tanh({a})", shape)])
            else:
                made, out = self.choice([(f"obj.scale * ({a})", shape), (f"obj.sum({a})", ())])
            env[name] = Var("value", out)
            return [f"{pad}{name} = {made}"]
        xs = self.choice(lists)
        elems = env[xs].elems
        if form == "star":
            first, rest = self.fresh("h"), self.fresh("rest")
            env[first] = Var("value", elems[0], borrowed=True)
            env[rest] = Var("list", elems=list(elems[1:]), borrowed=True)
            return [f"{pad}{first}, *{rest} = {xs}"]
        v = self.fresh("p")
        scale, _ = self.expr(env, (), 1)
        env[name] = Var("value", ())
        return [f"{pad}{name} = sum(map(lambda {v}: np.sum({v}) * {scale}, {xs}))"]

    def dict_loop(self, env, pad, ctx):
        dicts = [n for n, v in env.items() if v.kind == "dict"]
        targets = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if not dicts or not targets:
            return None
        self.use("dicts")
        name = self.choice(dicts)
        structure = env[name].elems[0]
        walked, leaves = name, {k: s for k, s in structure.items() if k != "sub"}
        if "sub" in structure and (self.chance(0.6) or not leaves):
            walked, leaves = f"{name}['sub']", structure["sub"]
        skip_sub = walked == name and "sub" in structure  # the loop meets a dict among the leaves
        item, key = self.fresh("e"), self.fresh("k")
        inner = self.scope(env)
        inner[item] = Var("value", broadcast(*leaves.values()), borrowed=True, loose=len(set(leaves.values())) > 1)
        form = "keys" if skip_sub else self.choice(["keys", "items", "values"])
        if form == "keys":
            lines = [f"{pad}for {key} in {walked}:"]
            if skip_sub:
                lines.append(f"{pad}    if {key} == 'sub':")
                lines.append(f"{pad}        continue")
            lines.append(f"{pad}    {item} = {walked}[{key}]")
        elif form == "items":
            lines = [f"{pad}for {key}, {item} in {walked}.items():"]
        else:
            lines = [f"{pad}for {item} in {walked}.values():"]
        target = self.choice(targets)
        step, _ = self.expr(inner, env[target].shape, 2)
        return lines + [f"{pad}    {target} = {target} + {step}"]

    def unpack_call(self, env, pad, ctx):
        pairs = [h for h in ctx["helpers"] if len(h.returns) > 1]
        h = self.choice(pairs)
        self.use("tuple_return")
        a, b = self.fresh("p"), self.fresh("q")
        src = self.call_source(h, env, 2, ctx["helpers"])
        if ctx["nest"] == 0:
            env[a] = Var("value", h.returns[0])
            env[b] = Var("value", h.returns[1])
            return [f"{pad}{a}, {b} = {src}"]
        return None

    # -- second names for an array's data, and Python's containers ------------------------------

    def shared(self, env, pad, ctx, shapes=None) -> tuple[list[str], str]:
        """An array to give a second name: one the program owns, or a new one (never an argument)."""
        shapes = shapes or SHAPES[1:]
        owned = [n for n, v in env.items() if v.kind == "value" and not v.borrowed and not v.loose and v.shape in shapes]
        if owned and self.chance(0.5):
            return [], self.choice(owned)
        name, shape = self.fresh("t"), self.choice(shapes)
        src = unaliased(self.exact(env, shape, 2, ctx["helpers"]))
        env[name] = Var("value", shape)
        return [f"{pad}{name} = {src}"], name

    def write_into(self, env, target: str, shape: tuple, whole: bool = True) -> str:
        """A write in place into ``target`` (an array of ``shape``): augmented as a whole, or through an index."""
        options = [(index, op, s) for index, op, s in self.writes(shape)]
        if whole:
            options += [("", "+=", shape), ("", "*=", ())]
        index, op, value_shape = self.choice(options)
        return f"{target}{index} {op} {self.expr(env, value_shape, 2, strict=True)[0]}"

    def read_both(self, env, pad, names: list[str], shape: tuple) -> list[str]:
        """A scalar reading each name (of ``shape``, or its own if a name) after the write, which the result may use."""
        v = self.fresh("v")
        shapes = [env[n].shape if n in env else shape for n in names]
        terms = [f"np.sum({n} * ({self.exact(env, s, 1)}))" for n, s in zip(names, shapes)]
        env[v] = Var("value", (), checked=True)
        return [f"{pad}{v} = {' + '.join(terms)}"]

    def aliasing_statement(self, env, pad, ctx):
        """A second name for an array's data, then a write in place through one of its names, then reads."""
        forms = [self.alias_held, self.alias_history, self.alias_returned, self.alias_index, self.alias_swap]
        forms += [self.alias_itself, self.alias_stop_gradient, self.alias_constant_held]
        made = self.choice(forms)(env, pad, ctx)
        if made is not None:
            self.use("aliasing")
        return made

    def alias_held(self, env, pad, ctx):
        """hs = [t], pair = (t, c), d = {'k': t}, then t or hs[0] written."""
        lines, t = self.shared(env, pad, ctx)
        shape = env[t].shape
        how = self.choice(["list", "twice", "tuple", "dict"])
        box = self.fresh({"list": "hs", "twice": "hs", "tuple": "pair", "dict": "dd"}[how])
        if how == "list":
            lines.append(f"{pad}{box} = [{t}]")
            through, var = f"{box}[0]", Var("list", elems=[shape], borrowed=True)
        elif how == "twice":
            lines.append(f"{pad}{box} = [{t}, {t}]")
            through, var = f"{box}[1]", Var("list", elems=[shape, shape], borrowed=True)
        elif how == "tuple":
            lines.append(f"{pad}{box} = ({t}, {self.const()})")
            through, var = f"{box}[0]", Var("list", elems=[shape, ()], container=tuple, borrowed=True)
        else:
            lines.append(f"{pad}{box} = {{'k': {t}}}")
            through, var = f"{box}['k']", Var("dict", elems=[{"k": shape}], borrowed=True)
        written = self.choice([t, through])
        # pair[0] += v writes into the array, then raises: a tuple takes no item assignment
        lines.append(f"{pad}{self.write_into(env, written, shape, whole=not (how == 'tuple' and written != t))}")
        env[box] = var
        return lines + self.read_both(env, pad, [through, t] if self.chance(0.5) else [through], shape)

    def alias_constant_held(self, env, pad, ctx):
        """A constant array (no derivative of its own) held in a container, read there by a product whose
        other factor is differentiated, then written in place: that factor's adjoint must read the old
        elements, so they are kept though the array itself needs no adjoint."""
        t, shape = self.fresh("t"), self.choice(SHAPES[1:])
        size = int(np.prod(shape))
        made = self.choice([f"np.linspace(0.5, 0.7, {size})", f"(np.arange({size}) * 0.25 + 0.5)", f"np.full({size}, 0.75)"])
        lines = [f"{pad}{t} = {made}" + (f".reshape({shape})" if len(shape) == 2 else "")]
        how = self.choice(["append", "list", "tuple", "dict"])
        box = self.fresh("dd" if how == "dict" else "hs")
        if how == "append":
            lines += [f"{pad}{box} = []", f"{pad}{box}.append({t})"]
        else:
            lines.append(f"{pad}{box} = " + {"list": f"[{t}]", "tuple": f"({t}, {self.const()})", "dict": f"{{'k': {t}}}"}[how])
        through = f"{box}['k']" if how == "dict" else f"{box}[0]"
        v, factor = self.fresh("v"), f"({self.exact(env, shape, 2)})"
        names = [n for n, var in env.items() if var.kind == "value" and not var.loose and fits(var.shape, shape)]
        if names:  # a name, not only constants: its adjoint reads the container's array
            factor = f"{self.choice(names)} * {factor}"
        lines.append(f"{pad}{v} = np.sum({through} * {factor})")
        index, op, _ = self.choice(self.writes(shape))  # a constant written: the array stays constant
        written = t if how == "tuple" or self.chance(0.5) else through
        lines.append(f"{pad}{written}{index} {op} {self.const()}")
        env[t], env[v] = Var("value", shape), Var("value", (), checked=True)
        env[box] = Var("dict", elems=[{"k": shape}], borrowed=True) if how == "dict" else Var(
            "list", elems=[shape] if how != "tuple" else [shape, ()], container=tuple if how == "tuple" else list, borrowed=True
        )
        return lines

    def alias_history(self, env, pad, ctx):
        """The RNN history: an array written in a loop and appended each step (or rebound, which is right)."""
        lines, t = self.shared(env, pad, ctx)
        shape = env[t].shape
        hs, k, steps = self.fresh("hs"), self.fresh("k"), self.rng.randint(1, 3)
        inner = self.scope(env)
        inner[k] = Var("int")
        step = self.expr(inner, shape, 1, strict=True)[0]
        write = self.choice(
            [f"{t} += ({step}) * (0.5 * {k} + 0.5)", self.write_into(inner, t, shape, whole=False), f"{t} = {t} * 0.5 + {step}"]
        )
        lines += [f"{pad}{hs} = []", f"{pad}for {k} in range({steps}):", f"{pad}    {write}", f"{pad}    {hs}.append({t})"]
        env[hs] = Var("list", elems=[shape] * steps, borrowed=True)
        v = self.fresh("v")
        env[v] = Var("value", (), checked=True)
        read = self.choice([f"np.sum(np.stack({hs}) ** 2)", f"np.sum({hs}[0] * {hs}[-1])", f"np.sum({hs}[0]) * np.sum({t})"])
        return lines + [f"{pad}{v} = {read}"]

    def alias_returned(self, env, pad, ctx):
        """A helper returning its argument alone, in a tuple with another value, or in a list."""
        lines, t = self.shared(env, pad, ctx)
        shape = env[t].shape
        self.alias_helpers = True
        how = self.choice(["ident", "with_double", "listed", "fresh_pair", "same_twice"])
        if how in ("fresh_pair", "same_twice"):  # a, b = h(t): a pair of new arrays, or one array twice
            p, q = self.fresh("p"), self.fresh("q")
            lines.append(f"{pad}{p}, {q} = {how}({t})")
            env[p], env[q] = Var("value", shape), Var("value", shape)
            written, others = self.choice([(p, [q]), (q, [p])])
            lines.append(f"{pad}{self.write_into(env, written, shape)}")
            return lines + self.read_both(env, pad, [written] + others[: self.rng.randint(0, 1)], shape)
        if how == "ident":
            r = self.fresh("r")
            lines.append(f"{pad}{r} = ident({t})")
            env[r] = Var("value", shape)
            through, others = r, [t]
        elif how == "with_double":
            p, q = self.fresh("p"), self.fresh("q")
            lines.append(f"{pad}{p}, {q} = with_double({t})")
            env[p], env[q] = Var("value", shape), Var("value", shape)
            through, others = p, [t, q]
        else:
            rs = self.fresh("rs")
            lines.append(f"{pad}{rs} = listed({t})")
            env[rs] = Var("list", elems=[shape], borrowed=True)
            through, others = f"{rs}[0]", [t]
        written = self.choice([t, through])
        lines.append(f"{pad}{self.write_into(env, written, shape)}")
        return lines + self.read_both(env, pad, [through] + others[: self.rng.randint(0, len(others))], shape)

    def index_value(self, env, shape: tuple) -> tuple[str, object]:
        """An index of any kind for an array of ``shape``, as source and as a value of the same kind (for shapes)."""
        i, j = self.rng.randrange(shape[0]), self.rng.randrange(shape[-1])
        vector = (2,) if len(shape) == 2 else shape
        options = [
            ("Ellipsis", Ellipsis),
            ("slice(0, 1)", slice(0, 1)),
            ("slice(None, None, -1)", slice(None, None, -1)),
        ]
        if vector[0] <= shape[0]:  # (a position among two rows is no row of a one-row array)
            options.insert(0, (f"np.argmax({self.exact(env, vector, 1)})", 0))
        options += {
            (3,): [(f"{j}", j), ("-1", -1), ("slice(1, None)", slice(1, None)), (f"({j},)", (j,)),
                   ("np.array([0, 2])", np.array([0, 2])), ("np.array([2, 2, 0])", np.array([2, 2, 0])),
                   ("[1, 1, 0]", [1, 1, 0])],
            (2,): [(f"{i}", i), ("np.array([1, 0])", np.array([1, 0]))],
            (2, 3): [(f"{i}", i), (f"({i}, {j})", (i, j)), (f"(slice(None), {j})", (slice(None), j)),
                     ("np.array([1, 0])", np.array([1, 0])), (f"(np.array([0, 1]), {j})", (np.array([0, 1]), j))],
            (1, 3): [("0", 0), (f"(0, {j})", (0, j)), (f"(slice(None), {j})", (slice(None), j)),
                     ("np.array([0, 0])", np.array([0, 0]))],
        }[shape]  # fmt: skip
        return self.choice(options)

    def alias_index(self, env, pad, ctx):
        """r = t[ix] with ix held in a variable (a view or a copy, by its kind), read after t[ix2] = v."""
        lines, t = self.shared(env, pad, ctx)
        shape = env[t].shape
        ix, r = self.fresh("ix"), self.fresh("r")
        src, sample = self.index_value(env, shape)
        lines += [f"{pad}{ix} = {src}", f"{pad}{r} = {t}[{ix}]"]
        r_shape = np.zeros(shape)[sample].shape
        if r_shape and self.chance(0.3):  # written through the new name instead
            lines.append(f"{pad}{r} += {self.expr(env, r_shape, 2, strict=True)[0]}")
        else:
            written = ix
            if self.chance(0.6):
                written, (src2, sample) = self.fresh("ix"), self.index_value(env, shape)
                if self.chance(0.3):  # bound to a mask first: what the name holds where it is read decides
                    lines.append(f"{pad}{written} = {t} > 100.0")
                lines.append(f"{pad}{written} = {src2}")
            value_shape = np.zeros(shape)[sample].shape
            op = self.choice(["=", "+="])
            lines.append(f"{pad}{t}[{written}] {op} {self.expr(env, value_shape, 2, strict=True)[0]}")
        env[r] = Var("value", r_shape, borrowed=True)
        return lines + self.read_both(env, pad, [r, t] if self.chance(0.5) else [r], r_shape)

    def alias_swap(self, env, pad, ctx):
        """t[0], t[1] = t[1], t[0] on elements, rows and slices (views: the second sees the first), or on names."""
        names = [n for n, v in env.items() if v.kind == "value" and not v.borrowed and not v.loose]
        pairs = [(a, b) for a in names for b in names if a < b and env[a].shape == env[b].shape]
        if pairs and self.chance(0.25):
            a, b = self.choice(pairs)
            return [f"{pad}{a}, {b} = {b}, {a}"]
        lines, t = self.shared(env, pad, ctx)
        shape = env[t].shape
        swap = self.choice(
            {
                (3,): ["{t}[0], {t}[2] = {t}[2], {t}[0]", "{t}[0:1], {t}[1:2] = {t}[1:2], {t}[0:1]",
                       "{t}[0:2], {t}[1:3] = {t}[1:3], {t}[0:2]", "{t}[0:1], {t}[2:3] = {t}[2:3].copy(), {t}[0:1].copy()"],
                (2,): ["{t}[0], {t}[1] = {t}[1], {t}[0]", "{t}[0:1], {t}[1:2] = {t}[1:2], {t}[0:1]"],
                (2, 3): ["{t}[0], {t}[1] = {t}[1], {t}[0]", "{t}[:, 0], {t}[:, 2] = {t}[:, 2], {t}[:, 0]",
                         "{t}[0, 1], {t}[1, 2] = {t}[1, 2], {t}[0, 1]", "{t}[0], {t}[1] = {t}[1].copy(), {t}[0].copy()"],
                (1, 3): ["{t}[0, 0], {t}[0, 2] = {t}[0, 2], {t}[0, 0]", "{t}[:, 0:1], {t}[:, 1:2] = {t}[:, 1:2], {t}[:, 0:1]"],
            }[shape]
        )  # fmt: skip
        return lines + [pad + swap.format(t=t)] + self.read_both(env, pad, [t], shape)

    def alias_itself(self, env, pad, ctx):
        """An array written with itself: t[:] = t, t[::-1] = t, t[...] = t, overlapping slices."""
        lines, t = self.shared(env, pad, ctx)
        shape = env[t].shape
        forms = ["{t}[:] = {t}", "{t}[::-1] = {t}", "{t}[...] = {t}", "{t}[:] = {t}[::-1]", "{t}[1:] = {t}[:-1]"]
        forms += ["{t} += {t}[::-1]", "{t}[1:] += {t}[:-1]", "{t}[:-1] = {t}[1:]"]
        if len(shape) == 2:
            forms += ["{t}[:, ::-1] = {t}", "{t} += {t}.T.T", "{t}[:, 1:] = {t}[:, :-1]"]
        return lines + [pad + self.choice(forms).format(t=t)] + self.read_both(env, pad, [t], shape)

    def alias_stop_gradient(self, env, pad, ctx):
        """z = srcdiff.stop_gradient(t), then z written: constants into an active t (its derivative is then zero
        there, whatever stop_gradient means), or active values into a constant t (they count through either name)."""
        z = self.fresh("z")
        self.imports.add("srcdiff")
        if self.chance(0.5):
            lines, t = self.shared(env, pad, ctx)
            shape = env[t].shape
            index, _, _ = self.choice([w for w in self.writes(shape) if w[1] == "="])
            lines += [f"{pad}{z} = srcdiff.stop_gradient({t})", f"{pad}{z}{index} = {self.const()}"]
            return lines + self.read_both(env, pad, [t], shape)
        t, shape = self.fresh("t"), self.choice(SHAPES[1:])
        lines = [f"{pad}{t} = {zeros(shape)}", f"{pad}{z} = srcdiff.stop_gradient({t})"]
        lines.append(f"{pad}{self.write_into(env, z, shape)}")
        env[t] = Var("value", shape)
        return lines + self.read_both(env, pad, [t, z] if self.chance(0.5) else [t], shape)

    def container_statement(self, env, pad, ctx):
        """Python's own container semantics, each then read."""
        forms = [self.pop_at, self.queue, self.dict_filled, self.append_result, self.joined_lists]
        forms += [self.unstacked, self.sliced_by_object]
        made = self.choice(forms)(env, pad, ctx)
        if made is not None:
            self.use("containers")
        return made

    def items(self, env, shape: tuple, n: int) -> list[str]:
        return [unaliased(self.exact(env, shape, 1)) for _ in range(n)]

    def pop_at(self, env, pad, ctx):
        shape, xs, a = self.target_shape(), self.fresh("ls"), self.fresh("a")
        at = self.choice(["0", "1", "-2", ""])
        lines = [f"{pad}{xs} = [{', '.join(self.items(env, shape, 3))}]", f"{pad}{a} = {xs}.pop({at})"]
        env[xs], env[a] = Var("list", elems=[shape] * 2), Var("value", shape)
        return lines + self.read_both(env, pad, [a, f"{xs}[0]", f"{xs}[-1]"][: self.rng.randint(1, 3)], shape)

    def queue(self, env, pad, ctx):
        """A list used as a queue: while q: e = q.pop(0)."""
        shape, q, e, total = self.target_shape(), self.fresh("q"), self.fresh("e"), self.fresh("tot")
        items = self.items(env, shape, self.rng.randint(1, 3))
        env[total] = Var("value", shape)
        return [f"{pad}{q} = [{', '.join(items)}]", f"{pad}{total} = {zeros(shape) if shape else '0.0'}",
                f"{pad}while {q}:", f"{pad}    {e} = {q}.pop(0)", f"{pad}    {total} = {total} * 0.5 + {e}"]  # fmt: skip

    def dict_filled(self, env, pad, ctx):
        """A new dict filled by item: in a loop over another dict's items, or key by key."""
        shape, d, out, k, e = self.target_shape(), self.fresh("dd"), self.fresh("out"), self.fresh("k"), self.fresh("e")
        a, b = self.items(env, shape, 2)
        if self.chance(0.6):
            scale = self.expr(env, (), 1)[0]
            lines = [f"{pad}{d} = {{'a': {a}, 'b': {b}}}", f"{pad}{out} = {{}}", f"{pad}for {k}, {e} in {d}.items():",
                     f"{pad}    {out}[{k}] = {e} * ({scale})"]  # fmt: skip
        else:
            lines = [f"{pad}{out} = {{}}", f"{pad}{out}['a'] = {a}", f"{pad}{out}['b'] = {b} * {out}['a']"]
        env[out] = Var("dict", elems=[{"a": shape, "b": shape}], borrowed=True)
        return lines + self.read_both(env, pad, [f"{out}['a']", f"{out}['b']"][: self.rng.randint(1, 2)], shape)

    def append_result(self, env, pad, ctx):
        shape, acc, r, v = self.target_shape(), self.fresh("acc"), self.fresh("r"), self.fresh("v")
        lines = [f"{pad}{acc} = []", f"{pad}{r} = {acc}.append({self.items(env, shape, 1)[0]})",
                 f"{pad}{v} = np.sum({acc}[0]) * (2.0 if {r} is None else 1.0)"]  # fmt: skip
        env[v] = Var("value", ())
        return lines

    def joined_lists(self, env, pad, ctx):
        shape, joined = self.target_shape(), self.fresh("ll")
        a, b, c = self.items(env, shape, 3)
        env[joined] = Var("list", elems=[shape] * 3)
        return [f"{pad}{joined} = sum([[{a}], [{b}, {c}]], [])"] + self.read_both(
            env, pad, [f"{joined}[{self.rng.randrange(3)}]"], shape
        )

    def unstacked(self, env, pad, ctx):
        """list(t), tuple(t), list(reversed(t)) of a computed array: its rows (views of t, if t is a name)."""
        shapes = [(3,), (2, 3), (2,), (1, 3)]
        if self.chance(0.5):
            lines, t = self.shared(env, pad, ctx, shapes)
            shape = env[t].shape
        else:
            shape = self.choice(shapes)
            lines, t = [], f"({unaliased(self.exact(env, shape, 1))})"
        call, container = self.choice([("list({})", list), ("tuple({})", tuple), ("list(reversed({}))", list)])
        parts = self.fresh("parts")
        row = shape[1:]
        lines.append(f"{pad}{parts} = {call.format(t)}")
        env[parts] = Var("list", elems=[row] * shape[0], container=container, borrowed=True)
        return lines + self.read_both(env, pad, [f"{parts}[0]", f"{parts}[-1]"][: self.rng.randint(1, 2)], row)

    def sliced_by_object(self, env, pad, ctx):
        """xs[s] with s = slice(...): of a list (a list), or of an array (a view)."""
        lists = [n for n, v in env.items() if v.kind == "list" and len(v.elems) >= 2]
        s, ys = self.fresh("s"), self.fresh("ys")
        src, sample = self.choice(
            [("slice(1, None)", slice(1, None)), ("slice(0, 2)", slice(0, 2)), ("slice(None, None, -1)", slice(None, None, -1))]
        )
        if lists and self.chance(0.6):
            xs = self.choice(lists)
            elems = env[xs].elems[sample]
            env[ys] = Var("list", elems=elems, container=env[xs].container, borrowed=True)
            return [f"{pad}{s} = {src}", f"{pad}{ys} = {xs}[{s}]"] + self.read_both(env, pad, [f"{ys}[0]"], elems[0])
        lines, t = self.shared(env, pad, ctx)
        shape = np.zeros(env[t].shape)[sample].shape
        if shape not in SHAPES[1:]:  # (1,) or (0, 3): reversed instead, which keeps the shape
            src, shape = "slice(None, None, -1)", env[t].shape
        env[ys] = Var("value", shape, borrowed=True)
        lines += [f"{pad}{s} = {src}", f"{pad}{ys} = {t}[{s}]"]
        if self.chance(0.4):  # the view written, or the array it shows
            written = self.choice([ys, t])
            lines.append(f"{pad}{self.write_into(env, written, env[written].shape)}")
        return lines + self.read_both(env, pad, [ys], shape)

    # -- functions ------------------------------------------------------------------------------

    def helper(self, index: int) -> list[str]:
        name = self.fresh("h")
        below = list(self.helpers) if "nested_calls" in self.on else []
        params = [
            (self.fresh("a"), self.target_shape() if "broadcast" in self.on else (3,)) for _ in range(self.rng.randint(1, 2))
        ]
        params = [(p, s if s != (2,) else (3,)) for p, s in params]
        defaults = [("scale", self.choice(["1.5", "0.5", "2.0"]))] if "kwargs" in self.on and self.chance(0.6) else []
        tuple_result = "tuple_return" in self.on and self.chance(0.5)
        env = {p: Var("value", s, borrowed=True) for p, s in params}
        env.update({d: Var("value", (), borrowed=True) for d, _ in defaults})
        returns = [self.choice(ARG_SHAPES)] * (2 if tuple_result else 1)
        if tuple_result:
            returns = [self.choice(ARG_SHAPES), self.choice(ARG_SHAPES)]
        h = Helper(name, params, defaults, returns)
        signature = ", ".join([p for p, _ in params] + [f"{d}={v}" for d, v in defaults])
        lines = [f"def {name}({signature}):"]
        if self.use("misc") and self.chance(0.3):
            lines.append('    """A helper."""')
        if below:
            self.used.add("nested_calls")
        saved, self.helpers = self.helpers, below
        ctx = {"nest": 1, "loop": False, "returns": returns, "helpers": below}
        body = self.block(env, self.rng.randint(0, min(3, self.size)), "    ", {**ctx, "nest": 0, "loops": []})
        lines += body
        lines.append(f"    return {self.returned(env, ctx)}")
        self.helpers = saved
        self.helpers.append(h)
        return lines

    def recursive_helper(self) -> list[str]:
        self.use("recursion")
        name = self.fresh("rec")
        shape = self.choice(ARG_SHAPES)
        env = {"u": Var("value", shape, borrowed=True)}
        h = Helper(name, [("u", shape)], [], [shape], recursive=True)
        lines = [f"def {name}(u, depth):", "    if depth <= 0:", f"        return {unaliased(self.exact(env, shape, 2, []))}"]
        step = self.exact(env, shape, 1, [])
        lines.append(f"    r = {name}({step}, depth - 1)")
        env["r"] = Var("value", shape, borrowed=True)
        lines.append(f"    return {unaliased(self.exact(env, shape, 2, []))}")
        self.helpers.append(h)
        return lines

    def arguments(self) -> tuple[list[str], list, dict[str, Var]]:
        names, values, env = [], [], {}
        shapes = ARG_SHAPES if "broadcast" in self.on else [(), (3,)]
        for name in ["x", "y", "z", "w"][: self.rng.randint(1, 4)]:
            shape = self.choice(shapes)
            names.append(name)
            values.append(self.number(shape))
            env[name] = Var("value", shape, borrowed=True)
        if "lists" in self.on:
            kind = self.choice(["list", "tuple"])
            elems = [self.choice([(), (3,)]) for _ in range(self.rng.randint(2, 4))]
            seq = [self.number(s) for s in elems]
            names.append("xs")
            self.use("lists")  # an argument the program may not read still has a gradient to shape
            values.append(seq if kind == "list" else tuple(seq))
            env["xs"] = Var("list", elems=list(elems), container=list if kind == "list" else tuple, borrowed=True)
        if "pairs" in self.on:
            elems = [(self.choice([(), (3,)]), ()) for _ in range(self.rng.randint(1, 3))]
            names.append("ps")
            self.use("pairs")
            values.append([(self.number(a), self.number(b)) for a, b in elems])
            env["ps"] = Var("pairs", elems=elems, borrowed=True)
        if "nested_lists" in self.on:
            elems = [[() for _ in range(self.rng.randint(1, 2))] for _ in range(2)]
            names.append("p")
            self.use("nested_lists")
            values.append([[self.number(s) for s in row] for row in elems])
            env["p"] = Var("nested", elems=elems, borrowed=True)
        if "dicts" in self.on:
            keys = self.rng.sample(["w", "b", "s"], self.rng.randint(0, 3))
            structure: dict = {k: self.choice([(), (3,)]) for k in keys}
            if self.chance(0.5) or not structure:
                structure["sub"] = {k: self.choice([(), (3,)]) for k in ["u", "v"][: self.rng.randint(1, 2)]}
            names.append("ds")
            self.use("dicts")
            number = self.number
            values.append({k: {u: number(t) for u, t in s.items()} if k == "sub" else number(s) for k, s in structure.items()})
            env["ds"] = Var("dict", elems=[structure], borrowed=True)
        if "python" in self.on and self.chance(0.4):
            names.append("obj")
            values.append(Scaler(self.number(())))
            env["obj"] = Var("object")
        if {"for", "while", "recursion"} & self.on and self.chance(0.5):
            names.append("n")
            values.append(self.rng.randrange(3))
            env["n"] = Var("int")
        return names, values, env

    def number(self, shape: tuple):
        if shape == ():
            return round(self.rng.choice([-1, 1]) * self.rng.uniform(0.3, 1.2), 3)
        return np.round(np.array([self.rng.uniform(-1.2, 1.2) for _ in range(int(np.prod(shape)))]).reshape(shape), 3)

    def program_result(self, env) -> str:
        terms, checked = [], []
        for name, v in env.items():
            if v.kind == "value" and v.checked:
                checked.append(f"np.sum({name})" if v.shape or v.loose else name)
            elif v.kind == "value" and (self.chance(0.6) or not terms):
                terms.append(f"np.sum({name})" if v.shape or v.loose else name)
            elif v.kind in ("list", "pairs", "nested", "dict") and v.elems and self.chance(0.5):
                terms.append(f"np.sum({self.leaf(env, FULL, 0, False, [])[0]})")
        return " + ".join(checked + terms[-5:]) or "0.0"

    def program(self) -> tuple[str, list]:
        chunks = []
        if "helpers" in self.on:
            for i in range(self.rng.randint(1, max(1, min(3, self.size // 2)))):
                chunks.append(self.helper(i))
        if "recursion" in self.on:
            self.on.add("helpers")
            chunks.append(self.recursive_helper())
        names, values, env = self.arguments()
        if "python" in self.on and self.chance(0.4):
            names.append("m=np")  # a module as a parameter's default
            env["m"] = Var("module")
        ctx = {"nest": 0, "loop": False, "returns": "program", "helpers": self.helpers, "loops": []}
        body = self.block(env, self.rng.randint(2, self.size), "    ", ctx)
        body.append(f"    return {self.program_result(env)}")
        if self.alias_helpers:  # helpers returning their argument: alone, in a tuple, in a list
            chunks += [["def ident(a):", "    return a"], ["def with_double(v):", "    return (v, 2 * v)"],
                       ["def listed(a):", "    return [a]"],
                       ["def fresh_pair(a):", "    return a * 1.5, np.sin(a)"],
                       ["def same_twice(a):", "    y = a * 1.5", "    return y, y"]]  # fmt: skip
        if self.grad_helpers:  # a loss whose gradient the program calls: made where it is called, or kept
            chunks += [["def inner_loss(a):", "    return np.sum(np.sin(a) * a) + 0.5 * np.sum(a * a)"],
                       ["INNER_GRAD = srcdiff.grad(inner_loss)"]]  # fmt: skip
        if self.generators:  # a generator, or the list it stands for, built by appends and returned (alone, in a tuple)
            form = self.rng.random()
            if form < 0.4:
                chunks.append(["def pieces(a):", "    yield a * 0.5", "    for k in range(2):", "        yield np.sin(k + a)"])
            else:
                made = "pieces" if form < 0.7 else "made_pieces"
                chunks.append([f"def {made}(a):", "    out = [a * 0.5]", "    for k in range(2):",
                               "        out.append(np.sin(k + a))", "    return out" if form < 0.7 else "    return out, 3"])
                if made != "pieces":
                    chunks.append(["def pieces(a):", "    got, count = made_pieces(a)", "    return got"])  # fmt: skip
        if self.global_objects:
            chunks += [["class Gain:", "    def __init__(self, k):", "        self.k = k", "",
                        "    def __call__(self, v):", "        return np.tanh(v) * self.k", "",
                        "    def twice(self, v):", "        return self(v) * 2.0"],
                       ["GAIN = Gain(0.8)", "LAYERS = [Gain(0.5), Gain(-1.2)]"]]  # fmt: skip
        chunks.append([f"def program({', '.join(names)}):"] + body)
        imports = "".join(f"\nimport {m}" for m in sorted(self.imports))
        header = f"import math\n\nimport numpy as np{imports}\n\nSCALE = 1.5\nOPAQUE = np.vectorize(math.sin)  # no rule\n\n\n"
        source = header + "\n\n\n".join("\n".join(c) for c in chunks) + "\n"
        return source, values


def generate(seed: int, weights: dict[str, float] | None = None, size: int = 7) -> Program:
    """The program of this seed: the same seed always writes the same source and arguments."""
    gen = Generator(seed, WEIGHTS if weights is None else weights, size)
    source, values = gen.program()
    used = set(gen.used)
    if any(isinstance(v, float) for v in values) and "second_order" in gen.on:
        used.add("second_order")
    if len({np.shape(v) for v in values if isinstance(v, (float, np.ndarray))}) > 1:
        used.add("broadcast")
    return Program(seed, source, tuple(values), frozenset(used))


# -- loading ---------------------------------------------------------------------------------------

_loaded = itertools.count()


def load(source: str, numpy_module=np, name: str = "program"):
    """Compile ``source`` as a module registered with linecache (so inspect.getsource works)."""
    filename = f"/generated/program_{next(_loaded)}.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": f"generated_{next(_loaded)}", "__file__": filename}
    exec(compile(source, filename, "exec"), namespace)
    namespace["np"] = numpy_module
    return namespace[name]
