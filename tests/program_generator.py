"""Random programs over the whole of docs/supported-python.md, a checker and a shrinker.

``generate(seed)`` writes a module as Python source: a few helper functions (keyword
arguments, defaults, tuple results, helpers calling helpers, a recursive helper with a
depth argument) and ``program(...)``, whose parameters mix floats, arrays of broadcasting
shapes, lists and tuples of arrays and floats, nested lists, lists of pairs and an integer
count. The body draws from statements of every row of the supported-syntax table: in-place
index and slice writes on fresh arrays, copies and call results; list append/pop/slices;
``for`` and ``while`` loops that may run zero times; ``break``/``continue``/early
``return``; data-dependent branches; discarded calls; elementwise NumPy, reductions,
matmul and indexing. Every feature is switched on per program with a probability
(``WEIGHTS``), and the program records the features it really used.

``check(program)`` compares ``srcdiff.grad`` with a reference: autograd on the very same
source (``np`` bound to ``autograd.numpy``), or central finite differences when the program
writes into arrays in place (autograd cannot). The gradient's structure must mirror the
arguments (a tuple stays a tuple, lists keep their length and nesting), arguments must not
be changed by the gradient, and for float arguments ``grad(grad(f))`` is checked as well.
A ``srcdiff.SrcdiffError`` is a refusal: acceptable, but counted by feature.

``shrink(program, outcome)`` removes statements, unwraps branches and loops and replaces
expressions with an operand while the program still fails the same way.

``python -m tests.program_generator START COUNT`` checks seeds START..START+COUNT-1 and
prints the failures, shrunk.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import itertools
import linecache
import random
import re
import sys
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace

import autograd
import autograd.numpy as anp
import numpy as np

import srcdiff

# Probability that a feature is switched on for one program; CI and deep runs may pass others.
WEIGHTS: dict[str, float] = {
    "helpers": 0.6,  # calls to generated module-level functions
    "kwargs": 0.5,  # keyword arguments and defaults in those calls
    "tuple_return": 0.4,  # a helper returning a tuple, unpacked with a, b = h(...)
    "nested_calls": 0.4,  # a helper calling another helper
    "recursion": 0.25,  # a recursive helper with a depth argument
    "inplace": 0.45,  # t[i] = v, t[:, 0] = s, t[i] += v, t[1:3] *= c
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
    "misc": 0.3,  # a if c else b, and/or/not, a, b = e1, e2, z: float = e, assert, pass, docstrings, math.*, methods
    "augassign": 0.4,  # s += v on names
    "broadcast": 0.6,  # arguments of shapes (3,), (2, 3), (1, 3) and floats together
    "elementwise": 0.9,  # sin, cos, exp, tanh, log and sqrt of positive values, ** 2
    "reduction": 0.6,  # sum, mean, with axis
    "matmul": 0.35,
    "index": 0.5,  # x[i], x[:, j], x[i, j], x[1:3]
    "second_order": 0.5,  # grad(grad(f)) for float arguments
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
    return f"1.0 * {src}" if re.fullmatch(r"[\w\[\], :\-]+", src) else src


def zeros(shape: tuple) -> str:
    return f"np.zeros({shape[0]})" if len(shape) == 1 else f"np.zeros({shape})"


@dataclass
class Var:
    """A name the generator may use: its kind, its shape (the largest it can have), and how it may be used."""

    kind: str  # "value", "list" (elems: shapes), "pairs" (elems: (shape, shape)), "nested" (elems: lists of shapes), "int"
    shape: tuple = ()
    elems: list = field(default_factory=list)
    container: type = list
    borrowed: bool = False  # an argument or a view of one: never written or augmented
    loose: bool = False  # its shape may be smaller than ``shape`` (an element of a mixed list)


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
        return tuple(i for i, a in enumerate(self.args) if not isinstance(a, int))

    def describe(self) -> str:
        return f"seed {self.seed}, args {args_repr(self.args)}\n{self.source}"


def args_repr(args: tuple) -> str:
    with np.printoptions(precision=17, floatmode="unique"):
        return repr(args).replace("array(", "np.array(")


class Generator:
    def __init__(self, seed: int, weights: dict[str, float]) -> None:
        self.rng = random.Random(seed)
        self.on = {f for f in FEATURES if self.rng.random() < weights.get(f, 0.0)}
        self.used: set[str] = set()
        self.helpers: list[Helper] = []
        self.counter = itertools.count()
        self.lines: list[str] = []

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
        src, shape = self.choice(options)
        for name, v in env.items():
            if src.startswith(name + "[") and v.kind in ("list", "pairs", "nested"):
                self.use({"list": "lists", "pairs": "pairs", "nested": "nested_lists"}[v.kind])
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
        form = self.choice(["ternary", "math", "method"])
        if form == "ternary":
            a, sa = self.expr(env, target, depth - 1, strict, helpers)
            b, sb = self.expr(env, target, depth - 1, strict, helpers)
            if sa != sb:  # both sides the same shape, whichever is taken
                a, b = f"({a}) + {zeros(broadcast(sa, sb))}", f"({b}) + {zeros(broadcast(sa, sb))}"
            test = self.expr(env, (), 1, strict, helpers)[0]
            return f"({a}) if ({test}) > 0.2 else ({b})", broadcast(sa, sb)
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

    def misc_statement(self, env, pad, ctx):
        self.use("misc")
        form = self.choice(["tuple", "annotated", "assert", "pass"])
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
        """A fresh array to write into: np.zeros, a copy of an argument, or a helper's result."""
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
            lines.append(f"{pad}{name} = {source}.copy()")
        else:
            shape = self.choice(ARG_SHAPES[1:])
            lines.append(f"{pad}{name} = {zeros(shape)}")
        env[name] = Var("value", shape)
        return lines, name

    def inplace(self, env, pad, ctx):
        writable = [n for n, v in env.items() if v.kind == "value" and not v.borrowed and v.shape in SHAPES[1:]]
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
        i, j = self.rng.randrange(shape[0]), self.rng.randrange(shape[-1])
        writes = {
            (3,): [(f"[{j}]", "=", ()), (f"[{j}]", "+=", ()), ("[1:3]", "*=", ()), ("[0:2]", "=", (2,))],
            (2,): [(f"[{i}]", "=", ()), ("[:]", "+=", (2,))],
            (2, 3): [(f"[{i}]", "=", (3,)), (f"[:, {j}]", "=", (2,)), (f"[{i}, {j}]", "+=", ()), ("[:, 1:3]", "*=", ())],
            (1, 3): [(f"[0, {j}]", "=", ()), (f"[:, {j}]", "=", ()), ("[0]", "+=", (3,))],
        }[shape]
        for _ in range(self.rng.randint(1, 2)):
            index, op, value_shape = self.choice(writes)
            src, _ = self.expr(env, value_shape, 2, strict=True)
            lines.append(f"{pad}{name}{index} {op} {src}")
        return lines

    def inner_context(self, ctx, loop: bool | None = None) -> dict:
        return {**ctx, "nest": ctx["nest"] + 1, "loop": ctx["loop"] if loop is None else loop}

    def scope(self, env) -> dict[str, Var]:
        """The names of a nested block: the outer ones (lists copied, so appends inside stay inside)."""
        return {k: copy.deepcopy(v) if v.kind == "list" else v for k, v in env.items()}

    def inner_block(self, env, pad, ctx, n=None) -> list[str]:
        """A nested block: it may reassign outer names (keeping their shapes); its new names stay inside."""
        return self.block(self.scope(env), n or self.rng.randint(1, 3), pad, ctx)

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
        inner = self.scope(env)
        inner[k] = Var("int")
        loop = f"range({self.count(env)})"
        if self.use("misc") and self.chance(0.3):
            loop = f"reversed({loop})"
        rows = [n for n, v in env.items() if v.kind == "value" and v.shape == FULL and not v.loose]
        if rows and self.chance(0.25):  # for row in an array
            name = self.choice(rows)
            inner[k] = Var("value", (3,), borrowed=True)
            lines = [f"{pad}for {k} in {name}:"]
            body_ctx = self.inner_context(ctx, loop=True)
            return lines + self.block(inner, self.rng.randint(1, 3), pad + "    ", body_ctx)
        lines = [f"{pad}for {k} in {loop}:"]
        body_ctx = self.inner_context(ctx, loop=True)
        names = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        if names:  # the loop carries a value, using the counter
            name = self.choice(names)
            step = self.exact(inner, env[name].shape, 1, ctx["helpers"])
            lines.append(f"{pad}    {name} = {name} * 0.9 + ({step}) * (0.1 * {k} + 0.2)")
        lines += self.block(inner, self.rng.randint(1, 3), pad + "    ", body_ctx)
        return lines

    def while_loop(self, env, pad, ctx):
        self.use("while")
        k = self.fresh("k")
        names = [n for n, v in env.items() if v.kind == "value" and not v.borrowed]
        test = f"{k} < {self.count(env)}"
        if names and self.chance(0.4):
            test += f" and {self.condition(env)}"
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
        return ", ".join(self.exact(env, s, 2, ctx["helpers"]) for s in shapes)

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
        body = self.block(env, self.rng.randint(0, 3), "    ", {**ctx, "nest": 0})
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
        lines = [f"def {name}(u, depth):", "    if depth <= 0:", f"        return {self.exact(env, shape, 2, [])}"]
        step = self.exact(env, shape, 1, [])
        lines.append(f"    r = {name}({step}, depth - 1)")
        env["r"] = Var("value", shape, borrowed=True)
        lines.append(f"    return {self.exact(env, shape, 2, [])}")
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
            values.append(seq if kind == "list" else tuple(seq))
            env["xs"] = Var("list", elems=list(elems), container=list if kind == "list" else tuple, borrowed=True)
        if "pairs" in self.on:
            elems = [(self.choice([(), (3,)]), ()) for _ in range(self.rng.randint(1, 3))]
            names.append("ps")
            values.append([(self.number(a), self.number(b)) for a, b in elems])
            env["ps"] = Var("pairs", elems=elems, borrowed=True)
        if "nested_lists" in self.on:
            elems = [[() for _ in range(self.rng.randint(1, 2))] for _ in range(2)]
            names.append("p")
            values.append([[self.number(s) for s in row] for row in elems])
            env["p"] = Var("nested", elems=elems, borrowed=True)
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
        terms = []
        for name, v in env.items():
            if v.kind == "value" and (self.chance(0.6) or not terms):
                terms.append(f"np.sum({name})" if v.shape or v.loose else name)
            elif v.kind in ("list", "pairs", "nested") and v.elems and self.chance(0.5):
                terms.append(f"np.sum({self.leaf(env, FULL, 0, False, [])[0]})")
        return " + ".join(terms[-5:]) if len(terms) > 5 else " + ".join(terms) or "0.0"

    def program(self) -> tuple[str, list]:
        chunks = []
        if "helpers" in self.on:
            for i in range(self.rng.randint(1, 3)):
                chunks.append(self.helper(i))
        if "recursion" in self.on:
            self.on.add("helpers")
            chunks.append(self.recursive_helper())
        names, values, env = self.arguments()
        ctx = {"nest": 0, "loop": False, "returns": "program", "helpers": self.helpers}
        body = self.block(env, self.rng.randint(2, 7), "    ", ctx)
        body.append(f"    return {self.program_result(env)}")
        chunks.append([f"def program({', '.join(names)}):"] + body)
        source = "import math\n\nimport numpy as np\n\n\n" + "\n\n\n".join("\n".join(c) for c in chunks) + "\n"
        return source, values


def generate(seed: int, weights: dict[str, float] | None = None) -> Program:
    """The program of this seed: the same seed always writes the same source and arguments."""
    gen = Generator(seed, WEIGHTS if weights is None else weights)
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
    if isinstance(x, (list, tuple)):
        for i, e in enumerate(x):
            yield from leaves(e, path + (i,))
    else:
        yield path, x


def with_leaf(x, path, value):
    if not path:
        return value
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
    if not writes_in_place(program.source) or not writes_in_place(as_names(program.source)):
        try:
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


def check(program: Program) -> Outcome:
    """Compare srcdiff's first (and, for float arguments, second) derivatives with a reference."""
    with contextlib.redirect_stdout(io.StringIO()):  # the programs print
        return _check(program)


def _check(program: Program) -> Outcome:
    try:
        f = load(program.source)
        with np.errstate(all="ignore"):
            value = f(*copy_args(program.args))
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
            got = srcdiff.grad(f, wrt=program.wrt)(*args)
    except srcdiff.SrcdiffError as error:
        return Outcome("refused", type(error).__name__, str(error).splitlines()[0])
    except Exception as error:
        return Outcome("fail", f"first order: crash {type(error).__name__}", traceback.format_exc(limit=-3))
    if not close_args(args, program.args):
        return Outcome("fail", "first order: arguments changed", "the gradient changed its arguments")
    problems = []
    for i, g, e in zip(program.wrt, got, expected):
        problems += differences(g, e, program.args[i], rtol, atol, f" of {program_parameter(program, i)}")
    if problems:
        return failure("first order", problems, how)
    if "second_order" in program.features:
        return second_order(program, f, how)
    return Outcome("pass")


def failure(order: str, problems: list[tuple[str, str]], how: str) -> Outcome:
    """A wrong value outranks a wrong structure; the signature names the first problem's kind."""
    problems = sorted(problems, key=lambda p: p[0] != "value")
    kind = problems[0][0]
    return Outcome("fail", f"{order}: wrong {kind} ({how})", "\n".join(m for _, m in problems[:4]))


def program_parameter(program: Program, i: int) -> str:
    fn = next(n for n in ast.parse(program.source).body if isinstance(n, ast.FunctionDef) and n.name == program.name)
    return fn.args.args[i].arg


def close_args(a, b) -> bool:
    return all(np.array_equal(x, y) for (_, x), (_, y) in zip(leaves(a), leaves(b)))


def second_order(program: Program, f, how: str) -> Outcome:
    floats = [i for i, a in enumerate(program.args) if isinstance(a, float)]
    rng = random.Random(program.seed)
    for i, j in {(rng.choice(floats), rng.choice(floats)) for _ in range(2)}:
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
    return Outcome("pass")


# -- shrinking -------------------------------------------------------------------------------------


def _candidates(tree: ast.Module):
    """Smaller variants of ``tree``: each a fresh tree with one thing removed or simplified."""
    n = len(list(ast.walk(tree)))
    for k in range(n):
        for variant in ("drop", "unwrap_body", "unwrap_else", "operand0", "operand1", "first_arg", "drop_keyword", "smaller"):
            new = copy.deepcopy(tree)
            node = list(ast.walk(new))[k]
            if _apply(new, node, variant):
                yield new


def _apply(tree, node, variant: str) -> bool:
    parent_lists = [
        (p, name, body)
        for p in ast.walk(tree)
        for name in ("body", "orelse")
        for body in [getattr(p, name, None)]
        if isinstance(body, list) and node in body
    ]
    if variant == "drop" and parent_lists and isinstance(node, ast.stmt) and not isinstance(node, (ast.Import, ast.ImportFrom)):
        p, name, body = parent_lists[0]
        if isinstance(node, ast.FunctionDef) and node.name == "program":
            return False
        body.remove(node)
        if not body and not isinstance(p, ast.Module) and name == "body":
            body.append(ast.Pass())
        return True
    if variant in ("unwrap_body", "unwrap_else") and parent_lists and isinstance(node, (ast.If, ast.For, ast.While)):
        inner = node.body if variant == "unwrap_body" else node.orelse
        if not inner:
            return False
        p, name, body = parent_lists[0]
        at = body.index(node)
        body[at : at + 1] = inner
        return True
    if isinstance(node, ast.expr):
        replacement = None
        if variant == "operand0" and isinstance(node, ast.BinOp):
            replacement = node.left
        elif variant == "operand1" and isinstance(node, ast.BinOp):
            replacement = node.right
        elif variant == "operand0" and isinstance(node, ast.UnaryOp):
            replacement = node.operand
        elif variant == "operand0" and isinstance(node, ast.BoolOp):
            replacement = node.values[0]
        elif variant == "operand1" and isinstance(node, ast.BoolOp):
            replacement = node.values[-1]
        elif variant == "first_arg" and isinstance(node, ast.Call) and node.args and not _is_print(node):
            if isinstance(node.func, ast.Name) and node.func.id == "range":
                return False
            replacement = node.args[0]
        elif variant == "drop_keyword" and isinstance(node, ast.Call) and node.keywords:
            node.keywords.pop()
            return True
        elif variant == "smaller" and isinstance(node, ast.Constant) and isinstance(node.value, int) and node.value > 0:
            node.value -= 1
            return True
        if replacement is not None:
            return _replace(tree, node, replacement)
    if variant == "drop" and isinstance(node, ast.FunctionDef) and node.name == "program":
        return False
    return False


def _is_print(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "print"


def _replace(tree, old, new) -> bool:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return True
            if isinstance(value, list) and any(v is old for v in value):
                value[[i for i, v in enumerate(value) if v is old][0]] = new
                return True
    return False


def _unused_parameters(program: Program) -> Program | None:
    tree = ast.parse(program.source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "program")
    used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    params = [a.arg for a in fn.args.args]
    keep = [i for i, p in enumerate(params) if p in used]
    if len(keep) == len(params) or not keep:
        return None
    fn.args.args = [fn.args.args[i] for i in keep]
    return replace(program, source=ast.unparse(tree) + "\n", args=tuple(program.args[i] for i in keep))


def _drop_second_order(program: Program) -> Program | None:
    if "second_order" not in program.features:
        return None
    return replace(program, features=program.features - {"second_order"})


def fails_alike(outcome: Outcome):
    """The shrinker's test: a variant must fail with the same signature (wrong value stays wrong value)."""

    def still_fails(candidate: Program) -> bool:
        try:
            found = check(candidate)
        except Exception:
            return False
        return found.status == "fail" and found.signature == outcome.signature

    return still_fails


def shrink(program: Program, outcome: Outcome | None = None, budget: float = 60.0, still_fails=None) -> Program:
    """The smallest variant found within ``budget`` seconds that still fails with the same signature.

    Greedy: try each simplification (drop a statement, unwrap an if or a loop, replace an
    expression with an operand or a call with its first argument, drop a keyword, lower an
    integer, drop an unused parameter, drop the second-order check), keep the first that
    still fails, start again; stop when none does.
    """
    deadline = time.monotonic() + budget
    still_fails = still_fails or fails_alike(outcome)

    best = program
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for simpler in (_unused_parameters(best), _drop_second_order(best)):
            if simpler is not None and still_fails(simpler):
                best, progress = simpler, True
        tree = ast.parse(best.source)
        for new in _candidates(tree):
            if time.monotonic() > deadline:
                break
            try:
                source = ast.unparse(new) + "\n"
                compile(source, "<shrink>", "exec")
            except Exception:
                continue
            candidate = replace(best, source=source)
            if len(source) < len(best.source) and still_fails(candidate):
                best, progress = candidate, True
                break
    return best


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
    message = re.sub(r"^\S+:\d+: ", "", message)
    return re.sub(r" in '.*'", "", message)[:100]


def run(seeds, weights: dict[str, float] | None = None) -> Report:
    report = Report()
    for seed in seeds:
        program = generate(seed, weights)
        report.add(program, check(program))
    return report


def main(argv: list[str]) -> None:
    """``START COUNT [PER_SIGNATURE]``: check the seeds, then shrink a few failures of each signature."""
    start, count = int(argv[0]), int(argv[1])
    per_signature = int(argv[2]) if len(argv) > 2 else 2
    report = run(range(start, start + count))
    print(report.summary())
    for program, outcome in report.invalid:
        print(f"\nINVALID {outcome.signature}: {outcome.detail}\n{program.describe()}")
    shown: Counter = Counter()
    for program, outcome in sorted(report.failures, key=lambda f: len(f[0].source)):
        shown[outcome.signature] += 1
        if shown[outcome.signature] <= per_signature:
            small = shrink(program, outcome)
            print(f"\nFAIL {outcome.signature}\n{check(small).detail}\nshrunk from seed {program.seed}:\n{small.describe()}")
    print("\nfailures by signature:\n" + "\n".join(f"  {v} x {k}" for k, v in shown.most_common()))


if __name__ == "__main__":
    main(sys.argv[1:])
