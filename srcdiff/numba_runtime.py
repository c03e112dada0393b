"""Numba versions of the runtime helpers generated code calls, for the "numba" backend.

Imported only by ``compiled.py`` when a derivative is compiled with Numba (``import srcdiff``
never imports Numba). Each helper of ``runtime.py`` that compiled code may call gets a
``numba.extending.overload``: Numba then compiles a call of the Python helper itself with the
implementation chosen here for the argument types, so the generated code stays as it is and
the choice the Python helper makes at run time on each call (``isinstance``, ``ndim``) is made
once, when Numba types the call: ``unbroadcast`` of a float is the float, of two arrays of one
number of dimensions a shape test. A type these implementations do not cover has no overload,
and Numba's typing error makes ``compiled.py`` fall back to the Python code.

Two overloads of builtins complete the subset the generated loops use: ``reversed`` of a
``range`` (a range again), and indexing a ``range`` (second-order code reads ``_t1[_i1]``).
Numba has neither; they extend Numba for every caller in the process, with what Python does.

The typing functions carry no annotations: Numba compares their signatures with the
implementations' and refuses any difference, annotations included.
"""

from __future__ import annotations

import operator

import numba
import numpy as np
from numba import types
from numba.core.errors import NumbaError  # noqa: F401  (compiled.py catches it)
from numba.extending import overload

from . import runtime

NUMBERS = (types.Float, types.Integer, types.Boolean)
HELPERS: set[str] = set()  # the runtime helpers compiled code may call, by name: compiled.py refuses others


def _helper(function):  # noqa: ANN001, ANN202
    """``overload(function)``, a helper of ``runtime.py``, recorded in ``HELPERS``."""
    HELPERS.add(function.__name__)
    return overload(function)


def _number(t: types.Type) -> bool:
    return isinstance(t, NUMBERS)


def _unwrapped(t: types.Type) -> types.Type:
    """The type an optional one holds (a variable assigned None before the loop that pushes it)."""
    return t.type if isinstance(t, types.Optional) else t


@overload(reversed)
def _reversed(seq):
    if isinstance(seq, types.RangeType):

        def impl(seq):
            n = len(seq)
            return range(seq.start + (n - 1) * seq.step, seq.start - seq.step, -seq.step)

        return impl
    return None


@overload(operator.getitem)
def _range_item(r, i):
    if isinstance(r, types.RangeType) and isinstance(i, types.Integer):

        def impl(r, i):
            n = len(r)
            k = i + n if i < 0 else i
            if k < 0 or k >= n:
                raise IndexError("range object index out of range")
            return r.start + k * r.step

        return impl
    if isinstance(r, types.RangeType) and isinstance(i, types.SliceType):

        def impl(r, i):  # as Python slices a range: range(a, b, s)[i:j:k] is range(a + i*s, a + j*s, k*s)
            start, stop, step = i.indices(len(r))
            return range(r.start + start * r.step, r.start + stop * r.step, step * r.step)

        return impl
    return None


@_helper(runtime.unbroadcast)
def _unbroadcast(x, like):
    if _number(x):
        if isinstance(like, types.Array) and like.ndim > 0:  # a weak zero for an array: shape it
            return lambda x, like: np.full(like.shape, x, dtype=np.float64)
        return lambda x, like: x
    if not isinstance(x, types.Array):
        return None
    if _number(like):
        return lambda x, like: x.sum()  # a scalar operand was broadcast along every axis
    if not isinstance(like, types.Array):
        return None
    if x.ndim > like.ndim:  # leading axes broadcast: summed one at a time (the overload again)

        def leading(x, like):  # (a loop: x.sum(axis=0) takes Numba seconds to compile)
            out = np.zeros(x.shape[1:])
            for i in range(x.shape[0]):
                out += x[i]
            return runtime.unbroadcast(out, like)

        return leading
    if x.ndim < like.ndim:
        return None  # (a smaller adjoint than its operand: the Python code handles it)

    def impl(x, like):
        if x.shape == like.shape:
            return np.asarray(x)  # (one array type with the summed branch's)
        out = np.zeros(like.shape)
        flat = out.reshape(-1)
        for f, value in enumerate(np.asarray(x).flat):  # x's position f -> like's k: 0 along its axes of length 1
            rest, k, stride = f, 0, 1
            for axis in range(x.ndim - 1, -1, -1):
                i = rest % x.shape[axis]
                rest //= x.shape[axis]
                if like.shape[axis] != 1:
                    k += i * stride
                    stride *= like.shape[axis]
            flat[k] += value
        return np.asarray(out)

    return impl


@_helper(runtime.unreduce)
def _unreduce(y, like, axis=None, keepdims=False):
    if not isinstance(like, types.Array):
        if _number(like) and _number(y):
            return lambda y, like, axis=None, keepdims=False: y
        return None
    if _number(y):
        return lambda y, like, axis=None, keepdims=False: np.full(like.shape, y, dtype=np.float64)
    if not isinstance(y, types.Array):
        return None
    if y.ndim == like.ndim:  # kept dimensions
        return lambda y, like, axis=None, keepdims=False: np.broadcast_to(y, like.shape)
    if y.ndim == like.ndim - 1 and isinstance(axis, types.Integer):

        def impl(y, like, axis=None, keepdims=False):
            return np.broadcast_to(np.expand_dims(y, axis % like.ndim), like.shape)

        return impl
    return None


def _matmul_adjoint(side: str):
    """The overload of ``matmul_adjoint_a`` (side "a") or ``matmul_adjoint_b``: 1-D and 2-D operands."""

    def typer(g, a, b):
        if _number(a) or _number(b):  # a weak zero (an adjoint, at second order)
            return lambda g, a, b: 0.0
        if not (isinstance(a, types.Array) and isinstance(b, types.Array)) or a.ndim > 2 or b.ndim > 2:
            return None
        if side == "a":
            if a.ndim == 2 and b.ndim == 2:
                return lambda g, a, b: g @ b.T
            if a.ndim == 2:
                return lambda g, a, b: np.outer(g, b)
            if b.ndim == 2:
                return lambda g, a, b: b @ g
            return lambda g, a, b: g * b
        if a.ndim == 2:
            return lambda g, a, b: a.T @ g
        if b.ndim == 2:
            return lambda g, a, b: np.outer(a, g)
        return lambda g, a, b: g * a

    return typer


_helper(runtime.matmul_adjoint_a)(_matmul_adjoint("a"))
_helper(runtime.matmul_adjoint_b)(_matmul_adjoint("b"))


@_helper(runtime.zeros_like)
def _zeros_like(x):
    if isinstance(x, types.Array):
        if isinstance(x.dtype, types.Float):
            return lambda x: np.zeros(x.shape, dtype=x.dtype)
        return lambda x: np.zeros(x.shape)
    if _number(x):
        return lambda x: 0.0
    if isinstance(x, types.RangeType) or isinstance(x, types.List) and _number(_unwrapped(x.dtype)):
        return lambda x: [0.0] * len(x)
    return None


@_helper(runtime.private_copy)
def _private_copy(y, like=None):
    plain = like is None or isinstance(like, (types.NoneType, types.Omitted))
    if isinstance(y, types.Array):
        if plain or not isinstance(like, types.Array):
            return lambda y, like=None: y.copy()
        if y.ndim == like.ndim:

            def impl(y, like=None):
                if y.shape == like.shape:
                    return np.asarray(y.copy())
                return np.asarray(np.broadcast_to(y, like.shape).copy())

            return impl
        return lambda y, like=None: np.broadcast_to(y, like.shape).copy()
    if _number(y):
        if not plain and isinstance(like, types.Array):
            return lambda y, like=None: np.full(like.shape, y, dtype=np.float64)
        return lambda y, like=None: y
    if isinstance(y, types.List) and plain:
        return lambda y, like=None: list(y)
    return None


@_helper(runtime.add_adjoints)
def _add_adjoints(a, b):
    if (_number(a) or isinstance(a, types.Array)) and (_number(b) or isinstance(b, types.Array)):
        return lambda a, b: a + b  # (containers' adjoints: no Numba version)
    return None


@_helper(runtime.materialize)
def _materialize(y, like):  # a gradient as it is returned: a float, or a private array of like's shape
    if _number(like):
        return (lambda y, like: float(y)) if _number(y) else None
    if isinstance(like, types.BaseTuple) and isinstance(y, types.BaseTuple) and len(y) == len(like):
        return _each(len(y), "y", "like")  # the gradients of several (the tangent of a gradient of several)
    if not isinstance(like, types.Array) or like.dtype != types.float64:
        return None  # (another dtype: the Python code, which keeps it)
    if _number(y):
        return lambda y, like: np.full(like.shape, y, dtype=np.float64)
    if isinstance(y, types.Array):

        def impl(y, like):
            if y.shape == like.shape:
                return np.asarray(y.astype(np.float64))  # (a copy: private, as Python's)
            return np.asarray(np.broadcast_to(runtime.unbroadcast(y, like), like.shape).astype(np.float64))

        return impl
    return None


@_helper(runtime.materialize_all)
def _materialize_all(ys, likes):  # each as materialize gives it: Numba's are all new arrays, never one twice
    if isinstance(ys, types.BaseTuple) and isinstance(likes, types.BaseTuple) and len(ys) == len(likes):
        return _each(len(ys), "ys", "likes")
    return None


def _each(n: int, ys: str, likes: str):  # noqa: ANN202
    """``(materialize(ys[0], likes[0]), ...)`` for tuples of ``n``, whose items may differ in type
    (the parameters named as the typing function's: Numba compares them)."""
    items = ", ".join(f"runtime.materialize({ys}[{k}], {likes}[{k}])" for k in range(n))
    namespace = {"runtime": runtime}
    exec(f"def impl({ys}, {likes}):\n    return ({items},)\n", namespace)  # noqa: S102 (indexes written out)
    return namespace["impl"]


@_helper(runtime.broadcast_like)
def _broadcast_like(y, like):  # forward mode: a tangent with the shape of the result it belongs to
    if not isinstance(like, types.Array):
        return lambda y, like: y
    if _number(y):
        return lambda y, like: np.full(like.shape, y, dtype=np.float64)
    if isinstance(y, types.Array) and y.ndim == like.ndim:

        def impl(y, like):
            if y.shape == like.shape:
                return np.asarray(y)
            return np.asarray(np.broadcast_to(y, like.shape).copy())  # (one type: a copy, where Python gives a view)

        return impl
    if isinstance(y, types.Array) and y.ndim < like.ndim:
        return lambda y, like: np.broadcast_to(y, like.shape).copy()
    return None


@_helper(runtime.size)
def _size(x):  # np.size (runtime.size reads another library's array's own size: none are compiled)
    if isinstance(x, types.Array):
        return lambda x: x.size
    if _number(x):
        return lambda x: 1
    return None


@_helper(runtime.balanced_eq)
def _balanced_eq(x, ans, y):  # where x gave the max/min: 1, or 0.5 on ties (np.maximum's adjoint)
    if all(_number(t) or isinstance(t, types.Array) for t in (x, ans, y)):
        return lambda x, ans, y: (x == ans) / (1.0 + (x == y))
    return None


@_helper(runtime.seed)
def _seed(out, function="", filename=None, line=None):  # the adjoint 1.0 of a real scalar result
    if _number(out) or isinstance(out, types.Array) and out.ndim == 0 and isinstance(out.dtype, NUMBERS):
        return lambda out, function="", filename=None, line=None: 1.0
    return None  # (anything else is an error, which the Python code raises)


@_helper(runtime.structured)
def _structured(g, x):  # an adjoint in its value's structure: for numbers and arrays, itself
    if isinstance(x, (types.BaseTuple, types.List)):
        return None
    if isinstance(g, types.Array) and g.ndim == 0 and not isinstance(x, types.Array):
        return lambda g, x: g[()]
    return lambda g, x: g


def zeros_of(x: object) -> object:
    """The zero an adjoint accumulated into as the gradient of ``x`` starts from, in compiled
    code: zeros of ``x``'s shape for an array, where the Python code has the weak zero ``0.0``
    (Numba gives a variable one type; see ``compiled._accumulators``). Python's version."""
    return np.zeros(np.shape(x)) if np.ndim(x) else 0.0


@overload(zeros_of)
def _zeros_of(x):
    if isinstance(x, types.Array) and x.ndim > 0:
        if isinstance(x.dtype, types.Float):
            return lambda x: np.zeros(x.shape, dtype=x.dtype)
        return lambda x: np.zeros(x.shape)
    if _number(x) or isinstance(x, types.Array):
        return lambda x: 0.0
    return None


# float tapes (numba_tapes): a growing float64 array and its count


@numba.njit
def tape_new():  # noqa: ANN201
    return np.empty(16)


@numba.njit
def tape_new_int():  # noqa: ANN201  (the tags of a stack split per variable: numba_tapes._split)
    return np.empty(16, np.int64)


@numba.njit
def tape_zeros(n):  # noqa: ANN001, ANN201  (zeros_like of a tape holding n floats)
    return np.zeros(max(n, 16))


@numba.njit
def tape_grow(tape):  # noqa: ANN001, ANN201  (twice the room, the floats kept)
    grown = np.empty(2 * tape.shape[0], tape.dtype)
    for i in range(tape.shape[0]):  # (a loop: a slice assignment compiles Numba's shape-error messages, 4 s)
        grown[i] = tape[i]
    return grown


@numba.njit
def tape_reserve(tape, needed):  # noqa: ANN001, ANN201  (room for needed floats: before a loop that pushes)
    if needed <= tape.shape[0]:
        return tape
    grown = np.empty(max(needed, 2 * tape.shape[0]), tape.dtype)
    for i in range(tape.shape[0]):
        grown[i] = tape[i]
    return grown


TAPES = {
    "tape_new": tape_new,
    "tape_new_int": tape_new_int,
    "tape_zeros": tape_zeros,
    "tape_grow": tape_grow,
    "tape_reserve": tape_reserve,
    "tape_nan": float("nan"),
}
