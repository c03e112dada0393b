"""Derivative rules for Python builtins used on numbers, arrays and lists."""

from . import ELEMENTWISE, SCALAR, nondifferentiable, vjp

vjp("abs(x)", x="cast(g * np.sign(x), x)", kind=ELEMENTWISE)  # a float's gradient stays a float
vjp("float(x)", x="g", kind=SCALAR)
vjp("max(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=ELEMENTWISE)
vjp("min(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=ELEMENTWISE)
vjp("sum(iterable, start=0)", iterable="sum_adjoint(g, iterable)", start="g")
vjp("sum_adjoint(y, xs)", y="sum(g) if isinstance(g, list) else unbroadcast(g, y)", discrete=("xs",))  # y was repeated: add back
vjp("list(iterable)", iterable="g")
vjp("tuple(iterable)", iterable="g")

nondifferentiable(len, range, int, bool, round, isinstance, print, str, kind=SCALAR)
nondifferentiable(type, kind=ELEMENTWISE)
# These pass their elements' values through (reordered, paired): not constant, and without a
# derivative yet. ``for`` loops over enumerate/zip/reversed never reach them (normalize.py
# rewrites those loops); a value that flows into them elsewhere has no derivative: MISSING.
vjp("reversed(seq)", kind=ELEMENTWISE)
vjp("enumerate(iterable, start=0)", kind=ELEMENTWISE, discrete=("start",))
vjp("zip(*iterables)", kind=ELEMENTWISE)
vjp("sorted(iterable, key=None, reverse=False)", kind=ELEMENTWISE, discrete=("key", "reverse"))
