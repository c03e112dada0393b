"""Derivative rules for Python builtins used on numbers, arrays and lists."""

from . import ARRAY, ELEMENTWISE, SCALAR, jvp, nondifferentiable, vjp

vjp("abs(x)", x="cast(g * np.sign(x), x)", kind=ELEMENTWISE)  # a float's gradient stays a float
vjp("float(x)", x="g", kind=SCALAR)
# pow(base, exp) is base ** exp (np.power's rule); with mod, integers only: no derivative
vjp("pow(base, exp, mod=None)", base="g * exp * base ** (exp - 1 + (exp == 0))",
    exp="cast(g * ans * np.log(np.where(base > 0, base, 1.0)), exp)", kind=ELEMENTWISE, discrete=("mod",))  # fmt: skip
vjp("max(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=ELEMENTWISE)
vjp("min(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=ELEMENTWISE)
# (a list start joins lists: each part's adjoint is its own stretch of g)
vjp("sum(iterable, start=0)", iterable="sum_adjoint(g, iterable, start)", start="g[: len(start)] if isinstance(start, list) else g")
vjp("sum_adjoint(y, xs, start=0)", y="sum_adjoint_adjoint(g, y, xs, start)", discrete=("xs", "start"))
vjp("sum_adjoint_adjoint(parts, y, xs, start=0)", parts="sum_adjoint(g, xs, start)", discrete=("y", "xs", "start"))  # linear
vjp("list(iterable)", iterable="sequence_adjoint(g, iterable)")  # an array's rows become the elements
vjp("tuple(iterable)", iterable="sequence_adjoint(g, iterable)")
vjp("sequence_adjoint(y, xs)", y="list(g) if isinstance(xs, np.ndarray) else g", discrete=("xs",))

nondifferentiable(len, int, bool, round, isinstance, print, str, kind=SCALAR)
nondifferentiable(range, kind=ARRAY)  # a sequence of numbers (indexed, sliced, walked), not a number
nondifferentiable(type, kind=ELEMENTWISE)
# reordering: the adjoint puts each element back where its value came from
vjp("sorted(iterable, key=None, reverse=False)", iterable="unsort(g, iterable, key, reverse)", discrete=("key", "reverse"))
vjp("reversed(seq)", seq="unreverse(g, seq)")
vjp("unsort(y, xs, key=None, reverse=False)", y="resort(g, xs, key, reverse)", discrete=("xs", "key", "reverse"))
vjp("resort(parts, xs, key=None, reverse=False)", parts="unsort(g, xs, key, reverse)", discrete=("xs", "key", "reverse"))
vjp("unreverse(y, seq)", y="unreverse(g, seq)", discrete=("seq",))
# These pass their elements' values through, paired: not constant, and without a derivative
# yet. ``for`` loops over enumerate/zip never reach them (normalize.py rewrites those loops);
# a value that flows into them elsewhere has no derivative: MISSING (see parameter_role).
vjp("enumerate(iterable, start=0)", kind=ELEMENTWISE, discrete=("start",))
vjp("zip(*iterables)", kind=ELEMENTWISE)
nondifferentiable(dict.keys, kind=ARRAY)  # d.keys(): names, never numbers

# forward mode: ``t`` is the tangent of the parameter
jvp("abs(x)", x="cast(t * np.sign(x), x)")
jvp("float(x)", x="float(t)")
jvp("pow(base, exp, mod=None)", base="t * exp * base ** (exp - 1 + (exp == 0))",
    exp="cast(t * ans * np.log(np.where(base > 0, base, 1.0)), exp)")  # fmt: skip
jvp("max(x, y)", x="t * balanced_eq(x, ans, y)", y="t * balanced_eq(y, ans, x)")
jvp("min(x, y)", x="t * balanced_eq(x, ans, y)", y="t * balanced_eq(y, ans, x)")
# (a list start joins lists: the tangent joins the parts' tangents after start's, zeros if start is constant)
jvp(
    "sum(iterable, start=0)",
    iterable="sum(t, [0.0] * len(start) if isinstance(start, list) else 0)",
    start="t + [0.0] * (len(ans) - len(t)) if isinstance(t, list) else t",
)
jvp("sum_adjoint(y, xs, start=0)", y="sum_adjoint(t, xs, start)")
jvp("sum_adjoint_adjoint(parts, y, xs, start=0)", parts="sum_adjoint_adjoint(t, y, xs, start)")
# (a weak zero for the iterable: a weak zero per element)
jvp("list(iterable)", iterable="list(t) if hasattr(t, '__len__') else zeros_like(ans)")
jvp("tuple(iterable)", iterable="tuple(t) if hasattr(t, '__len__') else tuple(zeros_like(ans))")
jvp("sequence_adjoint(y, xs)", y="sequence_adjoint(t, xs)")
jvp("sorted(iterable, key=None, reverse=False)", iterable="resort(t, iterable, key, reverse)")
jvp("reversed(seq)", seq="unreverse(t, seq)")
jvp("unsort(y, xs, key=None, reverse=False)", y="unsort(t, xs, key, reverse)")
jvp("resort(parts, xs, key=None, reverse=False)", parts="resort(t, xs, key, reverse)")
jvp("unreverse(y, seq)", y="unreverse(t, seq)")
