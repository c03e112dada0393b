"""Functions that generated code calls. Imports NumPy only.

Each has a derivative rule in ``srcdiff.rules`` (or is listed there as
non-differentiable), so generated code can be differentiated again; the few that only
second-order code calls (``einsum_adjoints``, ``prod_curvature``, ``norm_curvature``,
``norm_scale_adjoint``, ``cumprod_curvature``, ``cumprod_second``, ``sinc_curvature``) have
none, so a third derivative through them is refused. An adjoint
may be a *weak zero*, the float ``0.0``, standing for zeros of any shape: these
helpers accept it wherever an adjoint is expected.
"""

from __future__ import annotations

import linecache
import math
import operator
from typing import Any

import numpy as np

from .errors import (  # the only srcdiff imports: plain exception classes
    BadArgument,
    NoDerivativeRule,
    NonScalarOutput,
    SharedInPlace,
    SrcdiffError,
)

__all__ = [
    "unshared_arguments",
    "seed",
    "indexable",
    "holds_fractions",
    "keeps_fractions",
    "triangle",
    "cotangents",
    "materialize",
    "materialize_all",
    "private_copy",
    "check_unshared",
    "check_numbers",
    "absent",
    "restore_popped",
    "sequence_adjoint",
    "sum_adjoint_adjoint",
    "check_slice_length",
    "writable",
    "real_root",
    "unbroadcast",
    "unreduce",
    "shape_holder",
    "result_holder",
    "zeros_like",
    "size",
    "stop_gradient",
    "balanced_eq",
    "matmul_adjoint_a",
    "matmul_adjoint_b",
    "dot_adjoint_a",
    "dot_adjoint_b",
    "inner_adjoint_a",
    "inner_adjoint_b",
    "unstack",
    "unconcatenate",
    "unvstack",
    "hstack_axis",
    "sum_adjoint",
    "cumsum_adjoint",
    "transpose_adjoint",
    "reduce_extremum_adjoint",
    "extremum_share",
    "restack",
    "reconcatenate",
    "revstack",
    "einsum_adjoint",
    "einsum_with",
    "einsum_adjoints",
    "trace_adjoint",
    "prod_adjoint",
    "prod_others",
    "prod_curvature",
    "clip_owner",
    "norm_adjoint",
    "norm_axes",
    "norm_direction",
    "norm_curvature",
    "norm_scale_adjoint",
    "moveaxis_adjoint",
    "linspace_weights",
    "arange_weights",
    "expand_dims_adjoint",
    "repeat_adjoint",
    "tile_adjoint",
    "add_at",
    "last_writes",
    "adjoint_matmul",
    "rebroadcast",
    "structured",
    "unstructured",
    "add_adjoints",
    "unsort",
    "resort",
    "unreverse",
    "astype",
    "cast",
    "broadcast_like",
    "einsum_adjoint_tangent",
    "einsum_with_tangent",
    "norm_scale_tangent",
    "positions",
    "scatter",
    "gather",
    "pad_sources",
    "convolve_padding",
    "pad_fill_sources",
    "permutation_sources",
    "diff_adjoint",
    "diff_along",
    "tensordot_adjoint_a",
    "tensordot_adjoint_b",
    "kron_adjoint_a",
    "kron_adjoint_b",
    "cumprod_adjoint",
    "cumprod_tangent",
    "cumprod_curvature",
    "cumprod_second",
    "sinc_slope",
    "sinc_curvature",
    "digamma",
    "trigamma",
    "spread_weights",
    "gather_weights",
    "quantile_sources",
    "quantile_fraction",
    "quantile_slope",
    "convolve_adjoint",
    "interp_segment",
    "interp_slope",
    "interp_slope_adjoint",
    "interp_fp_adjoint",
    "cross_adjoint",
    "gradient_along",
    "gradient_adjoint",
    "real_like",
    "fft_norm_swapped",
    "dft",
    "dft_adjoint",
    "rdft",
    "rdft_adjoint",
    "irdft",
    "irdft_adjoint",
]


def is_duck_array(x: Any) -> bool:
    """Is ``x`` an array of another library that implements NumPy's protocols, ``__array_function__``
    and ``__array_ufunc__`` (a Dask or CuPy array)? NumPy's functions and operators called on one
    run that library's own, so the generated code and these helpers run on it as written. Not an
    ``ndarray`` (nor a subclass: refused), a NumPy scalar, or a labelled array (pandas, xarray:
    refused, they align by labels). Called only off the paths where a value is a plain array."""
    kind = type(x)
    if kind in _NOT_DUCK:  # (the common cases, answered first: one set lookup)
        return False
    return (
        hasattr(kind, "__array_function__")
        and hasattr(kind, "__array_ufunc__")
        and not issubclass(kind, (np.ndarray, np.generic))
        and kind.__module__.partition(".")[0] not in LABELLED
    )


# types that are never another library's array (the values generated code handles most)
_NOT_DUCK = frozenset(
    {np.ndarray, float, int, complex, bool, np.float64, np.float32, np.int64, np.bool_, type(None), list, tuple, dict}
)


LABELLED = frozenset({"pandas", "xarray"})  # the root modules of labelled arrays, which broadcast by label


def _is_array(x: Any) -> bool:
    """An ``ndarray`` or another library's array (``is_duck_array``), not a number or a list."""
    return isinstance(x, np.ndarray) or is_duck_array(x)


def stop_gradient(x: Any) -> Any:
    """Return ``x`` unchanged; srcdiff treats the result as a constant (PyTorch: ``detach``)."""
    return x


def seed(out: Any, function: str = "", filename: str | None = None, line: int | None = None) -> float:
    """The adjoint 1.0 of a scalar result; anything else is an error (vjp and jacobian take arrays),
    at ``function``'s line that returned it, where the generated code says which."""
    if type(out) is float or type(out) is np.float64:  # the common case, without np.ndim
        return 1.0
    if out is None or isinstance(out, (str, bytes)):
        what = "None" if out is None else f"a {type(out).__name__}"
        raise NonScalarOutput(
            f"{function or 'the function'} returned {what}, not a number, so it has no gradient",
            filename=filename,
            line=line,
            suggestion="Return a number on every path (a path that reaches the end without a return returns None).",
        )
    if isinstance(out, (complex, np.complexfloating)) or _is_array(out) and out.dtype.kind == "c":  # (as JAX)
        raise NonScalarOutput(
            "grad needs a real output; got a complex one — differentiate np.real(...), np.imag(...) or np.abs(...) of it"
        )
    if not (isinstance(out, (float, int, np.number, np.ndarray)) or is_duck_array(out)) or np.ndim(out) != 0:
        if isinstance(out, (tuple, list)):
            raise NonScalarOutput(
                f"grad needs a scalar output; got a {type(out).__name__} of {len(out)} \u2014 for `return loss, aux` "
                "pass has_aux=True (the gradient comes with aux); for several outputs use srcdiff.vjp or srcdiff.jacobian"
            )
        got = f"shape {np.shape(out)}" if _is_array(out) else type(out).__name__
        raise NonScalarOutput(
            f"grad needs a scalar output; got {got} \u2014 reduce it first (np.sum, np.mean), or use srcdiff.vjp "
            "(a vector-Jacobian product) or srcdiff.jacobian (every output's derivative)"
        )
    return 1.0


def cotangents(values: Any, count: int) -> tuple:
    """What a custom_vjp function's ``bwd`` returned, checked: one cotangent per argument
    (``count``), ``None`` (an argument without one) read as the weak zero ``0.0``."""
    if not isinstance(values, (tuple, list)) or len(values) != count:
        raise TypeError(f"srcdiff: bwd must return a tuple of {count} cotangents, one per argument, not {values!r}")
    return tuple(0.0 if v is None else v for v in values)


def materialize(y: Any, like: Any) -> Any:
    """The final gradient of ``like``: a writable array of its shape and float dtype (or a float
    for a float); for a list, tuple or dict, the same structure with each leaf materialised (a
    weak zero becomes zeros of the leaf's shape). An adjoint that is another library's array
    (computed from a Dask array) stays one: a Dask gradient is computed when the caller asks."""
    if isinstance(like, np.ndarray):
        if type(y) is np.ndarray and y.dtype is like.dtype and y.shape == like.shape and y.dtype.kind in "fc":
            # a view may share memory with other values (a broadcast one is read-only): copy it
            return y if y.base is None and y.flags.writeable else y.copy()
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64  # float32 in, float32 out
        if is_duck_array(y):  # (np.array would compute a Dask array)
            return _duck_materialized(y, like, dtype)
        # a real input's derivative is the real part of its adjoint (complex values: runtime.real_like)
        return np.array(np.broadcast_to(real_like(unbroadcast(y, like), like), like.shape), dtype=dtype)
    if isinstance(like, (list, tuple)):
        parts = y if isinstance(y, (list, tuple)) else list(y) if np.ndim(y) > 0 else [y] * len(like)  # rows, or a weak zero
        leaves = [materialize(p, v) for p, v in zip(parts, like)]
        return type(like)(*leaves) if hasattr(like, "_fields") else type(like)(leaves)  # a NamedTuple takes fields
    if isinstance(like, dict):
        return {k: materialize(y[k] if isinstance(y, dict) else y, v) for k, v in like.items()}
    if isinstance(like, float) and np.ndim(y) == 0:
        return np.real(y) if is_duck_array(y) else float(np.real(y))  # (float() would compute a Dask array)
    if isinstance(like, np.floating) and np.ndim(y) == 0:  # np.float32 in a list: np.float32 out
        return np.real(y).astype(type(like)) if is_duck_array(y) else type(like)(np.real(y))
    if is_duck_array(like):
        return _duck_materialized(y, like, like.dtype if like.dtype.kind in "fc" else np.float64)
    return y


def _duck_materialized(y: Any, like: Any, dtype: Any) -> Any:
    """``materialize`` where the adjoint ``y`` or the argument ``like`` is another library's
    array: an array of that library (NumPy's where both are NumPy's), of ``like``'s shape and
    float ``dtype``, made by its own functions (``np.array`` would compute a Dask array)."""
    y = real_like(unbroadcast(y, like), like)
    if not _is_array(y):  # a number standing for every element (a weak zero)
        return np.full_like(like, y, dtype=dtype)
    return np.broadcast_to(y, like.shape).astype(dtype)  # (a copy: astype's default)


def materialize_all(ys: tuple, likes: tuple) -> tuple:
    """Several final gradients: each as ``materialize`` gives it, no two the same array."""
    out: list = []
    for y, like in zip(ys, likes):
        y = materialize(y, like)
        if _is_array(y) and any(y is other for other in out):
            y = y.copy()  # x + y hands both operands the same adjoint array
        out.append(y)
    return tuple(out)


def check_unshared(array: Any, index: Any, readers: tuple, described: tuple, filename: str, line: int) -> None:
    """Raise ``SharedInPlace`` if writing ``array[index]`` in place (``index`` None: all of it)
    changes the data of one of ``readers``, values the code reads later (arrays, or lists,
    tuples and dicts holding them): srcdiff would differentiate them as they were before.

    Generated code calls this only where the analysis could not prove the values apart (an
    element of a list, an index of unknown kind): the memory actually written is compared,
    with ``np.shares_memory``, so a view of other elements passes."""
    if isinstance(array, np.ndarray):  # a basic index writes a view's memory; another writes anywhere in it
        parts = index if type(index) is tuple else (index,)
        basic = all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)
        # (with an Ellipsis, even a single element is a view, not a copy)
        region = array[(*parts, Ellipsis) if Ellipsis not in parts else parts] if index is not None and basic else array
    elif index is not None and isinstance(array, (list, dict)):  # xs[i] += v changes the array xs[i] holds
        region = array[index]
        if not isinstance(region, np.ndarray):
            return
    else:  # (a Dask array's += makes a new array, which no view shares: element writes into one are refused when
        return  # the gradient is built, safety.refuse_duck_writes)
    for value, reader in zip(readers, described):
        if value is array and not isinstance(array, np.ndarray):  # the container itself: its slot gets the new
            value = _other_slots(array, index)  # value, its other slots may hold the old (an array: the same data)
        if _holds(value, region):
            raise SharedInPlace(
                f"this changes data that {reader} shares (a view, an alias, or a list or tuple holding it), "
                f"which is read later: srcdiff would differentiate it as it was before the change",
                filename=filename,
                line=line,
                construct=linecache.getline(filename, line).strip() or None,
                suggestion="Take a copy where the data is shared (.copy(), or append a copy to the list), "
                "or make a new array (y = y + v) instead of writing into it.",
            )


class _Absent:
    """The marker ``absent`` gives for a key a dict did not have yet."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def absent() -> Any:
    """What the forward sweep keeps for a key a dict did not have yet (``d.get(k, absent())``),
    and the backward sweep puts back: no earlier step reads that key."""
    return _ABSENT


def restore_popped(container: Any, value: Any, *key: Any) -> None:
    """Undo ``value = container.pop(*key)``: the value goes back where it was (a list's
    position, counted from the end when negative, or a dict's key)."""
    if isinstance(container, dict):
        container[key[0]] = value
    elif not key:
        container.append(value)
    else:
        i = key[0]
        container.insert(i if i >= 0 else len(container) + 1 + i, value)


def _other_slots(container: list | dict, index: Any) -> list:
    """The values of ``container`` but the one at ``index`` (a list's position, or a dict's key)."""
    if isinstance(container, dict):
        return [v for k, v in container.items() if k != index]
    if not isinstance(index, (int, np.integer)):
        return []  # a slice: its elements are written one by one, each its own
    position = index % len(container)
    return [v for k, v in enumerate(container) if k != position]


_TooHard = getattr(np, "exceptions", np).TooHardError  # (np.exceptions: NumPy >= 1.25)


def _holds(value: Any, region: np.ndarray) -> bool:
    """Does ``value`` (an array, or a container of them, nested) share memory with ``region``?"""
    if isinstance(value, np.ndarray):
        if not np.may_share_memory(value, region):
            return False
        try:
            return bool(np.shares_memory(value, region, max_work=10_000))
        except _TooHard:  # too costly to decide exactly: assume they share
            return True
    if isinstance(value, (list, tuple)):
        return any(_holds(v, region) for v in value)
    if isinstance(value, dict):
        return any(_holds(v, region) for v in value.values())
    return False


def check_numbers(values: tuple, names: str, filename: str, line: int) -> None:
    """Raise if a global that the code was built to read as a number (``DT = 0.01``) holds
    something else now: the code has no broadcasting bookkeeping for it."""
    for value, global_name in zip(values, names.split(", ")):
        if type(value) not in (int, float):
            raise SrcdiffError(
                f"'{global_name}' held a number when this gradient was built and holds a {type(value).__name__} now",
                filename=filename,
                line=line,
                suggestion="Build the gradient again (srcdiff.grad(f)), or pass the value as an argument.",
            )


def unshared_arguments(where: tuple, written: tuple, names: tuple, *values: Any) -> None:
    """Refuse an array passed for a parameter the function writes into in place that shares
    memory with the array passed for another parameter (``f(x, x)``): the generated code
    differentiates each parameter as a value of its own. ``where``: (file, line, function)."""
    for w, value in zip(names, values):
        if w not in written or not isinstance(value, np.ndarray):
            continue
        for other, shared in zip(names, values):
            if other != w and isinstance(shared, np.ndarray) and np.may_share_memory(value, shared):
                filename, line, function = where
                raise BadArgument(
                    f"{function} writes into its parameter {w!r} in place, and the array passed for it shares "
                    f"memory with the one passed for {other!r}",
                    filename=filename,
                    line=line,
                    suggestion=f"Pass a copy for one of them ({function}(x, x.copy())), so that each is a value of its own.",
                )


def private_copy(y: Any, like: Any = None) -> Any:
    """A copy of ``y`` that may be written in place, shaped like ``like``: an array's adjoint that
    is a number (a weak zero, or a product of one) stands for that number everywhere."""
    if isinstance(y, np.ndarray) and (like is None or not _is_array(like) or y.shape == like.shape):
        return np.array(y)
    if like is None and isinstance(y, _NUMBERS):  # (a number saved on a loop's tape: itself)
        return y
    if isinstance(like, np.ndarray) and not is_duck_array(y):
        return np.array(np.broadcast_to(y, like.shape), dtype=np.result_type(like.dtype, np.float64))
    if is_duck_array(y) or is_duck_array(like):  # another library's array: copied by its own functions
        if is_duck_array(y) and (like is None or not _is_array(like) or y.shape == like.shape):
            return y.copy()  # (np.copy would compute a Dask array)
        dtype = np.result_type(like.dtype, np.float64)
        return np.broadcast_to(y, like.shape).astype(dtype) if _is_array(y) else np.full_like(like, y, dtype=dtype)
    if isinstance(y, (list, tuple)):
        return list(y)
    if isinstance(y, dict):
        return dict(y)
    if like is not None and isinstance(like, (list, tuple, dict, range)):
        return zeros_like(like)  # a weak zero
    return y


def writable(y: Any, like: Any) -> Any:
    """``y`` itself where it can be written in place as ``like`` is (an array of its shape that
    is not read-only, a list, a dict): the tangent of a view or an alias keeps sharing its
    source's tangent, as the primal shares data. Anything else becomes a private copy."""
    if isinstance(y, np.ndarray) and isinstance(like, np.ndarray) and y.flags.writeable and y.shape == like.shape:
        return y
    if is_duck_array(y) and is_duck_array(like) and y.shape == like.shape:
        return y  # (Dask writes by replacing the array's graph: a view's tangent is not shared, nor its primal)
    if isinstance(y, (list, dict)) and type(y) is type(like):
        return y
    return private_copy(y, like)


# helper -> the position of the argument it reads only for its type, shape and dtype (a
# ``shape_holder`` does as well there as the array itself: tests/test_reverse.py checks each)
READS_ONLY_THE_SHAPE = {"unbroadcast": 1, "unreduce": 1, "size": 0}


def shape_holder(x: Any) -> Any:
    """What a gradient keeps of an array it reads only for its shape (the ``like`` of
    ``unbroadcast`` and ``unreduce``): a read-only array of that shape and dtype with no data of
    its own, one zero broadcast (made once per shape and dtype). Anything else, and an array
    under 4 KiB, is kept as it is (the holder would cost more than the memory it frees)."""
    if type(x) is not np.ndarray or x.nbytes < 4096:
        return x
    return _holder(x.shape, x.dtype)


def _holder(shape: tuple, dtype: np.dtype) -> np.ndarray:
    key = (shape, dtype)
    holder = _HOLDERS.get(key)
    if holder is None:
        if len(_HOLDERS) >= 256:
            _HOLDERS.clear()
        holder = _HOLDERS[key] = np.broadcast_to(np.zeros((), dtype=dtype), shape)
    return holder


_HOLDERS: dict[tuple, np.ndarray] = {}  # (shape, dtype) -> its holder: read-only, so shared


# the operators of an elementwise operation ``result_holder`` may stand for
_OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "neg": operator.neg, "pos": operator.pos,
}  # fmt: skip
_NUMBERS = (int, float, complex, np.generic)


def result_holder(op: Any, *operands: Any) -> Any:
    """The result of an elementwise operation (``op``: an operator's symbol, or a ufunc) that the
    gradient reads only for its shape, as ``shape_holder`` would keep it, without computing it.

    Taken only where its shape and dtype are certain: plain ndarrays and numbers, a float or
    complex result. The dtype is what ``op`` gives on empty arrays of the operands' dtypes (so
    NumPy's own promotion, and its errors, decide it), the shape what broadcasting gives (and its
    error, where the operation would fail). Anything else, and operands under ``HELD_FROM`` bytes
    (the operation costs less than its holder), is computed."""
    function = _OPERATORS[op] if type(op) is str else op
    for v in operands:  # (small operands, the usual case, in as few steps as can be)
        if type(v) is np.ndarray and v.nbytes >= HELD_FROM:
            break
    else:
        return function(*operands)
    arrays = [v for v in operands if type(v) is np.ndarray]
    if all(type(v) is np.ndarray or isinstance(v, _NUMBERS) for v in operands):
        first = arrays[0].shape
        shape = first if all(a.shape == first for a in arrays) else np.broadcast_shapes(*(a.shape for a in arrays))
        # (a 0-d array stays itself: NumPy 1 promotes it as it does a number)
        empty = function(*(np.empty(0, v.dtype) if type(v) is np.ndarray and v.ndim else v for v in operands))
        if empty.dtype.kind in "fc":
            return _holder(shape, empty.dtype)
    return function(*operands)


HELD_FROM = 1 << 17  # bytes (128 KiB): a smaller operation takes less time than making its holder (4 µs)


def unbroadcast(x: Any, like: Any) -> Any:
    """Sum ``x`` down to the shape of ``like``: the adjoint of NumPy broadcasting."""
    if not isinstance(x, np.ndarray):
        if isinstance(x, (float, int, np.generic)):
            if isinstance(like, np.ndarray) and like.ndim:
                # a weak zero (or a number standing for itself everywhere) for an array: shape it, so
                # that rules which move elements (reshape, transpose, ...) see the array's shape
                return np.full(like.shape, x, dtype=np.result_type(like.dtype, np.float64))
            if is_duck_array(like) and like.ndim:  # (an array of like's library)
                return np.full_like(like, x, dtype=np.result_type(like.dtype, np.float64))
            return x  # the adjoint of a scalar result: its operands were scalars too
        if not is_duck_array(x):
            return x
    if type(like) is np.ndarray:
        if x.shape == like.shape:
            return x
        if type(x) is np.ndarray and x.ndim == like.ndim + 1 and x.shape[1:] == like.shape:
            return x.sum(axis=0)  # (a bias added to every row: the common case, in the fewest steps)
    if isinstance(like, (float, int, np.generic)):
        return x.sum()  # a scalar operand was broadcast along every axis
    shape = np.shape(like)
    x_shape = np.shape(x)
    if x_shape == shape:
        return x
    if x_shape == () and not _is_array(x):
        return x  # a weak zero or a scalar adjoint that broadcasts wherever it goes
    extra = len(x_shape) - len(shape)
    if extra > 0:  # (an ndarray's own method: a microsecond less than np.sum)
        x = x.sum(axis=tuple(range(extra))) if type(x) is np.ndarray else np.sum(x, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(x)[i] != 1)
    if axes:
        x = x.sum(axis=axes, keepdims=True) if type(x) is np.ndarray else np.sum(x, axis=axes, keepdims=True)
    if not isinstance(like, np.ndarray) and np.ndim(x) == 0:
        return x[()] if isinstance(x, np.ndarray) else x
    if np.shape(x) != shape:  # a weak zero times a smaller operand (0.0 * x[:, 0]): zeros of like's shape
        x = np.broadcast_to(x, shape)
    return x


def unreduce(y: Any, like: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Broadcast a reduction's adjoint ``y`` back to the shape of its input ``like``."""
    shape = np.shape(like)
    if isinstance(y, _NUMBERS) and (type(like) is np.ndarray or not is_duck_array(like)):
        # a number spread over like: np.broadcast_to's view, made in a third of its time
        value = np.array(y)
        spread = np.ndarray(shape, value.dtype, value, 0, (0,) * len(shape))
        spread.flags.writeable = False
        return spread
    if axis is not None and not keepdims and np.ndim(y) > 0:  # (a weak zero broadcasts as it is)
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        y = np.expand_dims(y, tuple(a % len(shape) for a in axes))
    if not isinstance(like, np.ndarray) and is_duck_array(like) and not is_duck_array(y):
        # zeros of like's library and chunks, plus y: a NumPy array broadcast to a Dask array's
        # shape would be sent whole with the graph, and in one chunk
        return np.zeros_like(like, dtype=np.result_type(y)) + y
    return np.broadcast_to(y, shape)


def real_root(s: Any) -> Any:
    """``scipy.linalg.sqrtm``'s result where its derivative is taken: a real square root (a
    matrix with negative eigenvalues has a complex one, which the analysis took for real)."""
    if np.iscomplexobj(s):
        raise NoDerivativeRule(
            "scipy.linalg.sqrtm gave a complex square root (the matrix has negative eigenvalues), whose derivative "
            "srcdiff does not take",
            suggestion="Differentiate the square root of a matrix with no negative eigenvalues (a positive definite one).",
        )
    return s


def triangle(m: Any, lower: bool, unit_diagonal: bool = False) -> Any:
    """The triangle of ``m`` that a triangular solve reads (without the diagonal, which it takes
    as ones when ``unit_diagonal``): linear, and its own adjoint."""
    offset = (-1 if lower else 1) if unit_diagonal else 0
    return np.tril(m, offset) if lower else np.triu(m, offset)


def rebroadcast(g: Any, x: Any) -> Any:
    """The adjoint of ``unbroadcast``: ``g`` spread back over the shape of ``x``, and summed down
    where ``x`` is smaller (a scalar that ``unbroadcast`` passed through); lists pass through."""
    if isinstance(x, (list, tuple, dict)) or isinstance(g, (list, tuple, dict)):
        return g
    g_shape, x_shape = np.shape(g), np.shape(x)
    if g_shape == x_shape:
        return g
    return unbroadcast(np.broadcast_to(g, np.broadcast_shapes(g_shape, x_shape)), x)


def size(x: Any) -> int:
    """``np.size(x)``, read from the ``size`` of an array, another library's too (Dask computes an
    array for np.size, a function it does not implement); faster than np.size for an ndarray."""
    found = getattr(x, "size", None)
    if type(found) is int:
        return found
    return 1 if type(x) in (float, int, complex) else np.size(x)  # (np.size of a number takes a microsecond)


def zeros_like(x: Any) -> Any:
    """A private, writable zero adjoint for ``x``: an array, a list of weak zeros, or 0.0."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))
    if isinstance(x, (list, tuple)):  # a list, even for a tuple: adjoints are written element by element
        return [zeros_like(e) if isinstance(e, _CONTAINERS) else 0.0 for e in x]
    if isinstance(x, dict):
        return {k: zeros_like(e) if isinstance(e, _CONTAINERS) else 0.0 for k, e in x.items()}
    if isinstance(x, range):  # a loop's range in generated code, differentiated again: its numbers are constants
        return [0.0] * len(x)
    if is_duck_array(x):
        return np.zeros_like(x, dtype=np.result_type(x.dtype, np.float64))  # of x's library
    return 0.0


_CONTAINERS = (list, tuple, dict)


def _weak_zero(x: Any) -> bool:
    """Is ``x`` a zero number, standing for zeros of any shape (``np.float32(0.0)`` in float32 code)?"""
    return isinstance(x, (float, int, np.floating, np.integer)) and x == 0.0


def balanced_eq(x: Any, ans: Any, y: Any) -> Any:
    """Where ``x`` gave the max/min ``ans`` of x and y: 1, or 0.5 on ties (a mask, constant)."""
    wins = x == ans
    if type(wins) is np.ndarray:
        ties = x == y
        # without ties (ReLU's usual case), the mask as floats: two passes fewer than the division
        return wins / (1.0 + ties) if ties.any() else wins.astype(np.float64)
    return wins / (1.0 + (x == y))


def _promote(g: Any, a: Any, b: Any) -> tuple[Any, Any, Any, bool, bool]:
    a1, b1 = np.ndim(a) == 1, np.ndim(b) == 1
    a2 = np.reshape(a, (1, -1)) if a1 else a
    b2 = np.reshape(b, (-1, 1)) if b1 else b
    g2 = g
    if np.ndim(g) == 0 and not (a1 and b1):  # a number standing for every element (a weak zero, any dtype)
        g2 = np.broadcast_to(g, np.broadcast_shapes(np.shape(a2)[:-2], np.shape(b2)[:-2]) + (np.shape(a2)[-2], np.shape(b2)[-1]))
    elif a1 and b1:
        g2 = np.reshape(g, (1, 1))
    elif a1:
        g2 = np.expand_dims(g, -2)
    elif b1:
        g2 = np.expand_dims(g, -1)
    return g2, a2, b2, a1, b1


def _plain(g: Any, a: Any, b: Any) -> bool:
    """Matrix @ matrix or matrix @ vector, no batch axes: the cases worth a fast path."""
    return type(g) is type(a) is type(b) is np.ndarray and a.ndim == 2 and b.ndim <= 2 and g.ndim == b.ndim


def adjoint_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` where either may be an adjoint's weak zero (the float 0.0): then 0.0."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return 0.0
    return np.matmul(a, b)


def matmul_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``a`` in ``a @ b`` (1-D operands and batch broadcasting included)."""
    if _plain(g, a, b):  # (first: the common case, in the fewest steps)
        return g @ b.T if b.ndim == 2 else np.outer(g, b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # matmul takes no scalars: a weak zero (an adjoint, at second order)
        return 0.0
    g2, _, b2, a1, _ = _promote(g, a, b)
    da = np.matmul(g2, np.swapaxes(b2, -1, -2))
    return np.reshape(unbroadcast(da, np.empty((1, np.shape(a)[0]))), np.shape(a)) if a1 else unbroadcast(da, a)


def matmul_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``b`` in ``a @ b``."""
    if _plain(g, a, b):
        return a.T @ g
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # matmul takes no scalars: a weak zero (an adjoint, at second order)
        return 0.0
    g2, a2, _, _, b1 = _promote(g, a, b)
    db = np.matmul(np.swapaxes(a2, -1, -2), g2)
    return np.reshape(unbroadcast(db, np.empty((np.shape(b)[0], 1))), np.shape(b)) if b1 else unbroadcast(db, b)


def _dot_shape(a: Any, b: Any) -> tuple:
    """The shape of ``np.dot(a, b)`` (both at least 1-D)."""
    return np.shape(a)[:-1] + (np.shape(b)[:-2] + np.shape(b)[-1:] if np.ndim(b) > 1 else ())


def dot_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``a`` in ``np.dot(a, b)``: scalars, vectors, matrices and N-D (a sum over
    the last axis of ``a`` and the second-to-last of ``b``)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    g = np.broadcast_to(g, _dot_shape(a, b))  # a weak zero becomes zeros
    free_b = [i for i in range(np.ndim(b)) if i != max(np.ndim(b) - 2, 0)]
    return np.tensordot(g, b, axes=(list(range(np.ndim(a) - 1, np.ndim(g))), free_b))


def dot_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``b`` in ``np.dot(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    g = np.broadcast_to(g, _dot_shape(a, b))
    free_a = list(range(np.ndim(a) - 1))
    db = np.tensordot(a, g, axes=(free_a, free_a))  # the summed axis first, then b's free axes
    return np.moveaxis(db, 0, -2) if np.ndim(b) > 1 else db


def inner_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``a`` in ``np.inner(a, b)``, a sum over the last axes of both."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    g = np.broadcast_to(g, np.shape(a)[:-1] + np.shape(b)[:-1])
    free_b = np.ndim(b) - 1
    return np.tensordot(g, b, axes=(list(range(np.ndim(g) - free_b, np.ndim(g))), list(range(free_b))))


def inner_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``b`` in ``np.inner(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    g = np.broadcast_to(g, np.shape(a)[:-1] + np.shape(b)[:-1])
    free_a = np.ndim(a) - 1
    return np.tensordot(g, a, axes=(list(range(free_a)), list(range(free_a))))


def unstack(y: Any, arrays: Any, axis: int = 0) -> Any:
    """Adjoint of ``np.stack(arrays, axis)``: the slices of ``y`` along ``axis``, as a list
    (an array, if ``arrays`` was one array passed whole)."""
    if np.ndim(y) == 0:
        return _as_arrays([0.0] * len(arrays), arrays)
    return _as_arrays([np.take(y, i, axis=axis) for i in range(len(arrays))], arrays)


def unconcatenate(y: Any, arrays: Any, axis: int | None = 0) -> Any:
    """Adjoint of ``np.concatenate(arrays, axis)`` (and of ``np.hstack``, whose 0-d pieces
    count as 1-D): ``y`` cut back into pieces shaped like the inputs."""
    if np.ndim(y) == 0:
        return _as_arrays([0.0] * len(arrays), arrays)
    if axis is None:
        sizes = np.cumsum([np.size(a) for a in arrays])[:-1]
        return _as_arrays([np.reshape(p, np.shape(a)) for p, a in zip(_split(y, sizes, 0), arrays)], arrays)
    sizes = np.cumsum([np.shape(np.atleast_1d(a))[axis] for a in arrays])[:-1]
    return _as_arrays([np.reshape(p, np.shape(a)) for p, a in zip(_split(y, sizes, axis), arrays)], arrays)


def unvstack(y: Any, arrays: Any) -> Any:
    """Adjoint of ``np.vstack(arrays)``: rows of ``y`` cut back into the (0-D, 1-D or N-D) inputs."""
    if np.ndim(y) == 0:
        return _as_arrays([0.0] * len(arrays), arrays)
    sizes = np.cumsum([np.shape(np.atleast_2d(a))[0] for a in arrays])[:-1]
    return _as_arrays([np.reshape(p, np.shape(a)) for p, a in zip(_split(y, sizes, 0), arrays)], arrays)


def _split(y: Any, sizes: Any, axis: int) -> list:
    """``np.split(y, sizes, axis)``; another library's array is sliced (Dask has no np.split)."""
    if not is_duck_array(y):
        return np.split(y, sizes, axis=axis)
    if axis is None or np.ndim(y) == 0 or np.ndim(y) == 1 and axis != 0:  # (np.ravel'd first by the caller)
        y, axis = np.ravel(y), 0
    bounds = [0, *(int(n) for n in sizes), y.shape[axis]]
    return [y[(slice(None),) * (axis % y.ndim) + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:])]


def hstack_axis(arrays: Any) -> int:
    """The axis ``np.hstack`` joins along: 0 for 1-D (and 0-D) pieces, else 1."""
    return 0 if np.ndim(arrays[0]) <= 1 else 1


def _as_arrays(pieces: list, arrays: Any) -> Any:
    """Adjoints of the pieces of ``arrays``: a list, or one array if ``arrays`` was an array
    (NumPy iterates over its first axis); a 0-d piece of a list becomes a scalar."""
    if _is_array(arrays):
        return np.stack([np.broadcast_to(p, arrays.shape[1:]) for p in pieces]) if pieces else np.zeros(arrays.shape)
    return [p[()] if isinstance(p, np.ndarray) and p.ndim == 0 else p for p in pieces]


def _pieces(parts: Any, arrays: Any) -> list:
    """List adjoints shaped like ``arrays`` (a weak zero becomes zeros)."""
    if not isinstance(parts, (list, tuple)) and not _is_array(parts):  # a weak zero for every piece
        parts = [parts] * len(arrays)
    return [np.broadcast_to(p, np.shape(a)) for p, a in zip(parts, arrays)]


def restack(parts: Any, arrays: Any, axis: int = 0) -> Any:
    """Adjoint of ``unstack``: the pieces stacked along ``axis`` again."""
    return np.stack(_pieces(parts, arrays), axis)


def reconcatenate(parts: Any, arrays: Any, axis: int | None = 0) -> Any:
    """Adjoint of ``unconcatenate``: the pieces joined along ``axis`` again."""
    pieces = _pieces(parts, arrays)
    return np.concatenate(pieces if axis is None else [np.atleast_1d(p) for p in pieces], axis)


def revstack(parts: Any, arrays: Any) -> Any:
    """Adjoint of ``unvstack``: the pieces stacked as rows again."""
    return np.vstack(_pieces(parts, arrays))


def sum_adjoint(y: Any, xs: Any, start: Any = 0) -> Any:
    """Adjoint of the builtin ``sum(xs, start)``: ``y`` for every element (list) or row (array);
    when ``start`` is a list, ``sum`` joined lists, and each gets its own stretch of ``y``."""
    if isinstance(start, list):
        ends = np.cumsum([len(start)] + [len(x) for x in xs])
        parts = y if isinstance(y, list) else [y] * int(ends[-1])  # (a weak zero)
        return [list(parts[a:b]) for a, b in zip(ends[:-1], ends[1:])]
    if isinstance(xs, (list, tuple)):
        return [y] * len(xs)
    return np.broadcast_to(y, np.shape(xs))


def sum_adjoint_adjoint(g: Any, y: Any, xs: Any, start: Any = 0) -> Any:
    """Adjoint of ``sum_adjoint`` with respect to ``y``: the repeated ``y`` added back, or the
    stretches of a joined list put together again."""
    if isinstance(start, list):
        return [0.0] * len(start) + [e for part in g for e in part]
    return sum(g) if isinstance(g, list) else unbroadcast(g, y)


def cumsum_adjoint(y: Any, x: Any, axis: int | None = None) -> Any:
    """Adjoint of ``np.cumsum(x, axis)``: a reversed cumulative sum."""
    if axis is None:
        flat = np.broadcast_to(y, (np.size(x),))
        return np.reshape(np.flip(np.cumsum(np.flip(flat))), np.shape(x))
    y = np.broadcast_to(y, np.shape(x))
    return np.flip(np.cumsum(np.flip(y, axis), axis), axis)


def transpose_adjoint(y: Any, axes: Any, forward: bool = False) -> Any:
    """Adjoint of ``np.transpose(x, *axes)``: transpose back with the inverse permutation
    (``forward``: with the permutation itself, which is this function's own adjoint). A weak
    zero (a float standing for an array of zeros) stays one."""
    if not _is_array(y):
        return y
    if len(axes) == 1 and (axes[0] is None or np.ndim(axes[0]) == 1):
        axes = axes[0]
    if axes is None or len(axes) == 0:
        return np.transpose(y)
    return np.transpose(y, tuple(int(a) for a in (axes if forward else np.argsort(axes))))  # (ints: Dask takes no array)


def reduce_extremum_adjoint(y: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of max/min: ``y`` shared equally among the entries that attain the extremum
    (the share is taken of the reduced ``y``, before it is spread: one pass less over ``x``)."""
    mask = x == unreduce(ans, x, axis, keepdims)
    # (another library's array takes the general path: the test would compute a Dask array)
    if not is_duck_array(mask) and np.count_nonzero(mask) == np.size(ans) and not np.isnan(ans).any():
        # each extremum is attained (no NaN), as often as there are extrema: once each, no ties to
        # share among (counting the ties of every slice is the costliest pass of this adjoint)
        return mask * unreduce(y, x, axis, keepdims)
    return mask * unreduce(y / np.sum(mask, axis=axis, keepdims=keepdims), x, axis, keepdims)


def extremum_share(x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Each entry's share of a max/min: 1/count where it attains the extremum ``ans``, else 0."""
    mask = x == unreduce(ans, x, axis, keepdims)
    return mask / unreduce(np.sum(mask, axis=axis, keepdims=keepdims), x, axis, keepdims)


def einsum_adjoint(y: Any, args: tuple, position: int) -> Any:
    """Adjoint of ``args[position]`` in ``np.einsum(*args)``, in either call form (a subscripts
    string, or operands each followed by its sublist). ``y`` is the result's adjoint.

    Indices of operand k that appear nowhere else were summed in the primal: they come back
    by broadcasting; a size-1 axis that broadcast against a longer one is summed back; a
    repeated index (a diagonal) puts the adjoint on that diagonal."""
    terms, output, positions = _einsum_spec(args)
    which = positions.index(position)
    operands = [args[p] for p in positions]
    sizes = _einsum_sizes(terms, operands)
    wanted = terms[which]
    others = [t for i, t in enumerate(terms) if i != which]
    rest = [o for i, o in enumerate(operands) if i != which]
    letters = "".join(dict.fromkeys(wanted))  # a repeated index (a diagonal) once
    present = set(output) | set("".join(others))
    spec = ",".join([output, *others]) + "->" + "".join(c for c in letters if c in present)
    part = np.einsum(spec, np.broadcast_to(y, tuple(sizes[c] for c in output)), *rest)
    index = tuple(slice(None) if c in present else None for c in letters)
    part = np.broadcast_to(part[index], tuple(sizes[c] for c in letters))
    shape = np.shape(operands[which])
    own = dict(zip(wanted, shape))  # an axis of size 1 here may have broadcast against a longer one
    summed = tuple(i for i, c in enumerate(letters) if own[c] == 1 and sizes[c] != 1)
    if summed:
        part = np.sum(part, axis=summed, keepdims=True)
    if letters != wanted:  # a repeated index: the adjoint lives on that diagonal (einsum gives a writeable view)
        full = np.zeros(shape, dtype=np.result_type(part, np.float64))
        np.einsum(f"{wanted}->{letters}", full)[...] = part
        part = full
    if np.ndim(part) == 0 and not _is_array(operands[which]):
        return part[()]  # a float operand: a scalar adjoint, not a 0-d array
    return part  # an array even for a list operand: the same list twice adds its adjoints with +


def einsum_with(args: tuple, position: int, z: Any) -> Any:
    """``np.einsum(*args)`` with operand ``args[position]`` replaced by ``z`` (a weak zero: zeros of its
    shape). Adjoint of ``einsum_adjoint`` in its ``y``: einsum is linear in every operand."""
    z = np.broadcast_to(z, np.shape(args[position]))
    return np.einsum(*[z if i == position else a for i, a in enumerate(args)])


def einsum_adjoints(z: Any, y: Any, args: tuple, position: int) -> list:
    """The adjoints of every operand of ``np.einsum(*args)`` but ``args[position]``, with it
    replaced by ``z`` and ``y`` the result's adjoint; 0.0 for the others (subscripts, sublists,
    and ``args[position]``, which the functions that call this use for its shape only)."""
    _, _, positions = _einsum_spec(args)
    replaced = tuple(np.broadcast_to(z, np.shape(a)) if i == position else a for i, a in enumerate(args))
    return [einsum_adjoint(y, replaced, i) if i in positions and i != position else 0.0 for i in range(len(args))]


def einsum_adjoint_tangent(y: Any, args: tuple, position: int, tangents: Any) -> Any:
    """The tangent of ``einsum_adjoint(y, args, position)`` along ``tangents`` of the other
    operands (forward over reverse): it is linear in each of them, so one term per operand."""
    return _einsum_terms(args, position, tangents, lambda replaced: einsum_adjoint(y, replaced, position))


def einsum_with_tangent(args: tuple, position: int, z: Any, tangents: Any) -> Any:
    """The tangent of ``einsum_with(args, position, z)`` along ``tangents`` of the other operands."""
    return _einsum_terms(args, position, tangents, lambda replaced: einsum_with(replaced, position, z))


def _einsum_terms(args: tuple, position: int, tangents: Any, term: Any) -> Any:
    _, _, positions = _einsum_spec(args)
    total = None
    for j in positions:
        if j != position:  # (operand ``position`` is read for its shape only)
            replaced = tuple(np.broadcast_to(tangents[j], np.shape(a)) if i == j else a for i, a in enumerate(args))
            total = term(replaced) if total is None else total + term(replaced)
    return 0.0 * term(args) if total is None else total


_EINSUM_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # NumPy's sublist labels 0..51, in order


def _einsum_spec(args: tuple) -> tuple[list[str], str, list[int]]:
    """``np.einsum(*args)`` as explicit terms, one letter per axis and no ``...``: (input terms,
    output term, the positions of the operands in ``args``)."""
    if isinstance(args[0], str):
        text = args[0].replace(" ", "")
        inputs, arrow, output = text.partition("->")
        terms = inputs.split(",")
        positions = list(range(1, len(args)))
        explicit = output if arrow else None
    else:  # the sublist form: operand, sublist, operand, sublist, ..., [output sublist]
        positions = list(range(0, len(args) - 1, 2))
        terms = [_einsum_labels(args[p + 1]) for p in positions]
        explicit = _einsum_labels(args[-1]) if len(args) % 2 else None
    if explicit is None:  # implicit output: broadcast axes first, then the indices seen once, sorted
        letters = "".join(terms).replace(".", "")
        explicit = ("..." if any("..." in t for t in terms) else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1)
        )
    return _einsum_expand(terms, explicit, [args[p] for p in positions]) + (positions,)


def _einsum_labels(sublist: Any) -> str:
    return "".join("..." if s is Ellipsis else _EINSUM_LETTERS[s] for s in sublist)


def _einsum_expand(terms: list[str], output: str, operands: list) -> tuple[list[str], str]:
    """Replace ``...`` by letters of its own: broadcast axes align from the right."""
    if not any("..." in t for t in terms):
        return terms, output
    used = set("".join(terms) + output)
    spare = [c for c in _EINSUM_LETTERS if c not in used]
    counts = [np.ndim(o) - len(t.replace("...", "")) if "..." in t else 0 for t, o in zip(terms, operands)]
    broadcast = "".join(spare[: max(counts)])
    expanded = [t.replace("...", broadcast[len(broadcast) - n :]) for t, n in zip(terms, counts)]
    return expanded, output.replace("...", broadcast)


def _einsum_sizes(terms: list[str], operands: list) -> dict[str, int]:
    """Each index's length; an axis of size 1 broadcasts against another length (0 included)."""
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands):
        for c, n in zip(term, np.shape(op)):
            sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    return sizes


def trace_adjoint(y: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Adjoint of ``np.trace``: ``y`` spread along the (offset) diagonal of axes ``axis1``, ``axis2``."""
    shape = np.shape(x)
    diagonal = np.eye(shape[axis1], shape[axis2], offset)
    spread = np.multiply.outer(y, diagonal)  # the trace's axes last, like np.diagonal's
    return np.moveaxis(spread, (-2, -1), (axis1, axis2))


def prod_adjoint(y: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.prod``: ``y`` times the product of the *other* entries of each reduction."""
    return unreduce(y, x, axis, keepdims) * prod_others(x, axis)


def _prod_rows(x: Any, axis: Any) -> tuple[np.ndarray, list[int], list[int]]:
    """``x`` as a matrix with one reduction per row, the axis order used, and its shape."""
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float64))
    axes = range(x.ndim) if axis is None else [axis] if np.ndim(axis) == 0 else axis
    reduced = [a % x.ndim for a in axes]
    order = [a for a in range(x.ndim) if a not in reduced] + reduced
    rows = np.transpose(x, order).reshape(-1, int(np.prod([x.shape[a] for a in reduced])))
    return rows, order, [x.shape[a] for a in order]


def _others(rows: np.ndarray) -> np.ndarray:
    """Each entry's product of the other entries of its row, from cumulative products on
    either side (dividing by the entry fails where it is 0)."""
    ones = np.ones((rows.shape[0], 1))
    before = np.cumprod(np.concatenate([ones, rows[:, :-1]], axis=1), axis=1)
    after = np.cumprod(np.concatenate([ones, rows[:, :0:-1]], axis=1), axis=1)[:, ::-1]
    return before * after


def prod_others(x: Any, axis: Any = None) -> Any:
    """The derivative of ``np.prod(x, axis)`` in ``x``: each entry's product of the others."""
    rows, order, shape = _prod_rows(x, axis)
    return np.transpose(np.reshape(_others(rows), shape), np.argsort(order))


def prod_curvature(h: Any, x: Any, axis: Any = None) -> Any:
    """The adjoint in ``x`` of ``prod_others(x, axis)`` for the adjoint ``h``: entry j gets
    the sum over i != j of ``h_i`` times the product of all entries but i and j."""
    rows, order, shape = _prod_rows(x, axis)
    h_rows = np.transpose(np.broadcast_to(h, np.shape(x)), order).reshape(rows.shape)
    out = np.zeros(rows.shape)
    for j in range(rows.shape[1]):  # with entry j set to 1, "the others" leave out j as well
        without = rows.copy()
        without[:, j] = 1.0
        pair = _others(without) * h_rows
        out[:, j] = np.sum(pair, axis=1) - pair[:, j]
    return np.transpose(np.reshape(out, shape), np.argsort(order))


def norm_adjoint(y: Any, x: Any, norm: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.linalg.norm(x, ord, axis, keepdims)`` (``norm`` is its result), every
    ``ord`` of vectors and matrices: ``y`` spread over the reduced axes times the norm's
    (sub)gradient, ``norm_direction``. A list ``x`` gets a list back."""
    scaled = unreduce(y, x, norm_axes(x, ord, axis), keepdims) * norm_direction(x, norm, ord, axis, keepdims)
    return _shaped_like(scaled, x)


def _shaped_like(adjoint: Any, x: Any) -> Any:
    """An adjoint computed as an array, given as a list where ``x`` is a list (element by element)."""
    return list(adjoint) if isinstance(x, (list, tuple)) else adjoint


def norm_axes(x: Any, ord: Any = None, axis: Any = None) -> tuple[int, ...]:
    """The axes ``np.linalg.norm`` reduces (two, in (row, column) order, for a matrix norm)."""
    ndim = np.ndim(x)
    if axis is None:
        return tuple(range(ndim)) if ord is None or ndim != 1 else (0,)
    if np.ndim(axis) == 0:
        return (int(axis) % ndim,)
    return tuple(int(a) % ndim for a in axis)


def norm_direction(x: Any, norm: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """The derivative of ``np.linalg.norm`` in ``x``, shaped like ``x``, given its result ``norm``.

    Where it has none it takes autograd's subgradient: 0 at a zero entry (``abs``), an equal
    share among tied maxima (``inf`` norms); 0 where the norm is 0 or ``ord`` is 0."""
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float64))
    axes = norm_axes(x, ord, axis)
    if len(axes) == 2 and ord not in (None, "fro"):
        return _matrix_norm_direction(x, ord, axes)
    if ord == 0:
        return np.zeros(x.shape)
    if ord in (np.inf, -np.inf):
        magnitude = np.abs(x)
        extremum = np.max(magnitude, axis=axes, keepdims=True) if ord > 0 else np.min(magnitude, axis=axes, keepdims=True)
        mask = magnitude == extremum
        return np.sign(x) * mask / np.sum(mask, axis=axes, keepdims=True)
    p = 2.0 if ord in (None, "fro") else float(ord)
    scale = unreduce(norm, x, axes, keepdims)
    with np.errstate(divide="ignore", invalid="ignore"):
        direction = np.sign(x) * np.abs(x) ** (p - 1.0) * scale ** (1.0 - p)
    return np.where((x == 0) | (scale == 0), 0.0, direction)


def _matrix_norm_direction(x: np.ndarray, ord: Any, axes: tuple[int, ...]) -> Any:
    """``norm_direction`` of the matrix norms: induced 1/inf norms (a column or row sum of
    magnitudes, tied ones sharing) and the singular-value norms (from the SVD)."""
    rows, columns = axes
    if ord in ("nuc", 2, -2):
        u, _, vt = np.linalg.svd(np.moveaxis(x, axes, (-2, -1)), full_matrices=False)
        if ord == 2:  # the largest singular value's pair; -2: the smallest's
            u, vt = u[..., :, :1], vt[..., :1, :]
        elif ord == -2:
            u, vt = u[..., :, -1:], vt[..., -1:, :]
        return np.moveaxis(u @ vt, (-2, -1), axes)
    if ord not in (1, -1, np.inf, -np.inf):
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    summed, chosen = (rows, columns) if ord in (1, -1) else (columns, rows)  # ord 1: column sums
    sums = np.sum(np.abs(x), axis=summed, keepdims=True)
    extremum = np.max(sums, axis=chosen, keepdims=True) if ord > 0 else np.min(sums, axis=chosen, keepdims=True)
    mask = sums == extremum
    return np.sign(x) * (mask / np.sum(mask, axis=chosen, keepdims=True))


def norm_curvature(h: Any, x: Any, norm: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint in ``x`` of ``norm_direction(x, norm, ...)`` for the adjoint ``h``: the
    norm's second derivative with ``norm`` held fixed. 0 where the direction is piecewise
    constant; through the SVD for the nuclear and spectral norms."""
    axes = norm_axes(x, ord, axis)
    if len(axes) == 2 and ord not in (None, "fro"):
        if ord in ("nuc", 2, -2):
            h, matrices = (np.moveaxis(np.asarray(a, dtype=float), axes, (-2, -1)) for a in (h, x))
            h = np.broadcast_to(h, matrices.shape)
            curvature = _polar_adjoint(h, matrices) if ord == "nuc" else _singular_pair_adjoint(h, matrices, ord == 2)
            return _shaped_like(np.moveaxis(curvature, (-2, -1), axes), x)
        return _shaped_like(np.zeros(np.shape(x)), x)
    if ord in (0, np.inf, -np.inf):
        return _shaped_like(np.zeros(np.shape(x)), x)
    p = 2.0 if ord in (None, "fro") else float(ord)
    scale = unreduce(norm, x, axes, keepdims)
    with np.errstate(divide="ignore", invalid="ignore"):
        curvature = h * (p - 1.0) * np.abs(x) ** (p - 2.0) * scale ** (1.0 - p)
    return _shaped_like(np.where((x == 0) | (scale == 0), 0.0, curvature), x)


def _polar_adjoint(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The adjoint in ``x`` of ``U @ Vt`` (the nuclear norm's direction, from the thin SVD of
    each matrix in the last two axes) for the adjoint ``h``; full rank assumed."""
    if x.shape[-2] < x.shape[-1]:  # U Vt of the transpose is the transpose
        return np.swapaxes(_polar_adjoint(np.swapaxes(h, -1, -2), np.swapaxes(x, -1, -2)), -1, -2)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    ut, v = np.swapaxes(u, -1, -2), np.swapaxes(vt, -1, -2)
    a = ut @ h @ v
    within = u @ ((a - np.swapaxes(a, -1, -2)) / (s[..., :, None] + s[..., None, :])) @ vt
    outside = (h - u @ (ut @ h)) @ (v / s[..., None, :]) @ vt  # the part of h off the column space
    return within + outside


def _singular_pair_adjoint(h: np.ndarray, x: np.ndarray, largest: bool) -> np.ndarray:
    """The adjoint in ``x`` of ``u_k v_k^T`` (the 2-norm's direction: the singular vectors of the
    largest singular value, or of the smallest for ord -2) for the adjoint ``h``; the singular
    value must be simple (a tie has no derivative: the result is inf or nan)."""
    if x.shape[-2] < x.shape[-1]:
        return np.swapaxes(_singular_pair_adjoint(np.swapaxes(h, -1, -2), np.swapaxes(x, -1, -2), largest), -1, -2)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    v = np.swapaxes(vt, -1, -2)
    k = 0 if largest else s.shape[-1] - 1
    uk, vk, sk = u[..., :, k], v[..., :, k], s[..., k : k + 1]
    a = np.einsum("...ij,...j->...i", h, vk)  # h v_k
    b = np.einsum("...ij,...i->...j", h, uk)  # h^T u_k
    alpha = np.einsum("...ij,...i->...j", u, a)  # u_j . a, for every j
    beta = np.einsum("...ij,...i->...j", v, b)  # v_j . b
    with np.errstate(divide="ignore"):
        gap = np.where(np.arange(s.shape[-1]) == k, 0.0, 1.0 / (sk**2 - s**2))  # j = k: no term
    left = gap * (alpha * sk + beta * s)  # the coefficient of u_j v_k^T
    right = gap * (alpha * s + beta * sk)  # the coefficient of u_k v_j^T
    pairs = np.einsum("...ij,...j,...l->...il", u, left, vk) + np.einsum("...i,...lj,...j->...il", uk, v, right)
    rest = a - np.einsum("...ij,...j->...i", u, alpha)  # the part of h v_k off the column space
    return pairs + rest[..., :, None] * vk[..., None, :] / sk[..., None]


def norm_scale_adjoint(h: Any, x: Any, norm: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """The adjoint in ``norm`` of ``norm_direction(x, norm, ...)`` for the adjoint ``h`` (only
    the p-norms read ``norm``: their direction is ``sign(x) |x|**(p-1) / norm**(p-1)``)."""
    axes = norm_axes(x, ord, axis)
    if ord in (0, np.inf, -np.inf, "nuc") or (len(axes) == 2 and ord not in (None, "fro")):
        return 0.0 * norm
    p = 2.0 if ord in (None, "fro") else float(ord)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.sum(h * np.sign(x) * np.abs(x) ** (p - 1.0), axis=axes, keepdims=keepdims) * (1.0 - p) * norm**-p
    return np.where(norm == 0, 0.0, part)


def norm_scale_tangent(t: Any, x: Any, norm: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """The tangent of ``norm_direction(x, norm, ...)`` along a tangent ``t`` of ``norm`` (forward
    over reverse; only the p-norms read ``norm``: ``sign(x) |x|**(p-1) / norm**(p-1)``)."""
    axes = norm_axes(x, ord, axis)
    if ord in (0, np.inf, -np.inf, "nuc") or (len(axes) == 2 and ord not in (None, "fro")):
        return _shaped_like(np.zeros(np.shape(x)), x)
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float64))
    p = 2.0 if ord in (None, "fro") else float(ord)
    scale = unreduce(norm, x, axes, keepdims)
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.sign(x) * np.abs(x) ** (p - 1.0) * (1.0 - p) * scale**-p * unreduce(t, x, axes, keepdims)
    return np.where((x == 0) | (scale == 0), 0.0, part)


def linspace_weights(samples: Any, num: int, endpoint: bool = True, axis: int = 0) -> Any:
    """How much of ``stop`` each sample of ``np.linspace(start, stop, num, endpoint, axis=axis)``
    holds (sample i is ``start + (stop - start) * i / div``), shaped to broadcast against the
    ``samples``: the axis of the samples is ``axis``, every other axis has length 1."""
    div = num - 1 if endpoint else num
    weights = np.arange(num) / div if div > 0 else np.zeros(num)
    shape = [1] * np.ndim(samples)
    shape[axis] = num
    return np.reshape(weights, shape)


def arange_weights(samples: Any, stop: Any, step: Any, which: str) -> Any:
    """How much of ``start`` (``which="start"``) or of ``step`` each value of ``np.arange`` holds
    (value i is ``start + i * step``); ``np.arange(stop)`` alone reads its one argument as
    ``stop``, whose value only sets the length."""
    n = np.size(samples)
    if which == "step":
        return np.zeros(n) if step is None else np.arange(n, dtype=float)
    return np.zeros(n) if stop is None else np.ones(n)


def moveaxis_adjoint(y: Any, source: Any, destination: Any) -> Any:
    """Adjoint of ``np.moveaxis``: move the axes back (a weak zero stays one)."""
    if not _is_array(y):
        return y
    return np.moveaxis(y, destination, source)


def expand_dims_adjoint(y: Any, x: Any) -> Any:
    """Adjoint of ``np.expand_dims`` and ``np.squeeze``: reshape back to ``x``'s shape."""
    return np.reshape(y, np.shape(x))


def repeat_adjoint(y: Any, x: Any, repeats: Any, axis: Any = None) -> Any:
    """Adjoint of ``np.repeat``: each entry of ``x`` gets the sum of its copies (none for 0 repeats)."""
    if axis is None:  # np.repeat flattens first
        return np.reshape(repeat_adjoint(y, np.ravel(x), repeats, 0), np.shape(x))
    shape = np.shape(x)
    axis = axis % len(shape)
    source = np.repeat(np.arange(shape[axis]), repeats)  # the entry of x each copy came from
    copies = np.broadcast_to(y, shape[:axis] + source.shape + shape[axis + 1 :])
    if is_duck_array(copies):  # (no ufunc.at there): the sum of the copies as a product with their 0/1 sources
        ones = (np.arange(shape[axis])[:, None] == source[None, :]).astype(np.result_type(copies.dtype, np.float64))
        return np.moveaxis(np.tensordot(ones, np.moveaxis(copies, axis, 0), 1), 0, axis)
    total = np.zeros((shape[axis],) + shape[:axis] + shape[axis + 1 :], dtype=np.result_type(copies, np.float64))
    np.add.at(total, source, np.moveaxis(copies, axis, 0))
    return np.moveaxis(total, 0, axis)


def tile_adjoint(y: Any, x: Any, reps: Any) -> Any:
    """Adjoint of ``np.tile``: sum the tiles (a weak zero stays one)."""
    if not _is_array(y):
        return y
    shape = np.shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(shape), len(reps))
    shape_full = (1,) * (ndim - len(shape)) + tuple(shape)
    reps_full = (1,) * (ndim - len(reps)) + reps
    split = []
    for r, n in zip(reps_full, shape_full):
        split += [r, n]
    y = np.reshape(y, split)
    return np.reshape(np.sum(y, axis=tuple(range(0, 2 * ndim, 2))), shape)


def clip_owner(x: Any, a_min: Any, a_max: Any) -> Any:
    """Which argument ``np.clip`` took each entry from: 0 for ``x``, 1 for ``a_min``, 2 for
    ``a_max`` (NumPy's definition: ``minimum(maximum(x, a_min), a_max)``; None is no bound)."""
    low = np.zeros(np.shape(x), dtype=bool) if a_min is None else np.less(x, a_min)
    raised = x if a_min is None else np.maximum(x, a_min)
    high = np.zeros(np.shape(raised), dtype=bool) if a_max is None else np.greater(raised, a_max)
    return np.where(high, 2, np.where(low, 1, 0))


def add_at(x: Any, index: Any, y: Any) -> Any:
    """``x[index] += y`` that also adds repeated indices (``np.add.at``); returns ``x``. The
    adjoint of a list or dict (a value of unknown kind) takes one key, leaf by leaf."""
    if isinstance(x, (list, dict)):
        x[index] = add_adjoints(x[index], y)
        return x
    np.add.at(x, index, y)
    return x


def last_writes(x: Any, index: Any) -> Any:
    """Where ``x[index] = v`` keeps ``v``: False at an element of ``v`` whose position a later
    element of ``v`` overwrites (an index array that repeats a position). NumPy decides which
    write wins; this asks NumPy the same way rather than assuming an order. A list's index
    is an integer or a slice, a dict's a key: every write is kept."""
    if isinstance(x, (list, tuple, dict)):
        return True
    tags = np.full(np.shape(x), -1, dtype=np.intp)
    shape = np.shape(tags[index])
    order = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)
    tags[index] = order
    return tags[index] == order


def structured(g: Any, x: Any) -> Any:
    """The adjoint ``g`` of a value ``x`` that NumPy read as an array, in ``x``'s structure:
    a list (row by row, nested as ``x`` is) when ``x`` is a list or tuple."""
    if isinstance(x, (list, tuple)) and _is_array(g):
        g = np.broadcast_to(g, np.shape(x))
        return [structured(part, element) for part, element in zip(g, x)]
    if isinstance(g, np.ndarray) and g.ndim == 0 and not _is_array(x):
        return g[()]
    return g


def unstructured(g: Any, x: Any, like: Any) -> Any:
    """The adjoint of ``structured``: a list adjoint ``g`` of ``x`` as an array shaped like ``like``
    (``like`` is what ``structured`` was given: if that was a list already, it passed through)."""
    if isinstance(like, (list, tuple)) or not isinstance(g, (list, tuple)):
        return g
    return np.broadcast_to(np.array(materialize(g, x)), np.shape(like))


def indexable(y: Any, like: Any) -> Any:
    """A tangent or adjoint ``y`` of ``like`` that can be indexed as ``like`` is: a weak zero
    (a float standing for zeros) of an array or a list becomes zeros of its shape."""
    if isinstance(y, (float, int, np.generic)) and not isinstance(like, (float, int, np.generic)):
        return zeros_like(like)  # (a number: a weak zero, or an integer's tangent)
    return y


def holds_fractions(x: Any) -> bool:
    """Does ``x`` keep the fractions of what is written into it? An integer or bool array rounds
    them (so a write into it passes no derivative); a float array and a list keep them."""
    return not _is_array(x) or x.dtype.kind in "fc"


def keeps_fractions(dtype: Any) -> bool:
    """Does casting to ``dtype`` keep a value's fractions (floats do; integers and bools round,
    so the cast is piecewise constant and passes no derivative)?"""
    return bool(np.issubdtype(np.dtype(dtype), np.inexact))


def astype(x: Any, dtype: Any) -> Any:
    """Function form of ``ndarray.astype``, for the rule table."""
    return np.asarray(x).astype(dtype)


def cast(y: Any, x: Any) -> Any:
    """An adjoint ``y`` given the float type of ``x`` (Python float stays float; the real part
    of a complex adjoint, as ``real_like``)."""
    if isinstance(x, float) and np.ndim(y) == 0:
        return float(y.real)
    return y


def broadcast_like(y: Any, like: Any) -> Any:
    """A tangent ``y`` with the shape of the result ``like`` it belongs to: an operand that NumPy
    broadcast against a larger one has a tangent of its own smaller shape (forward mode)."""
    if type(y) is np.ndarray and type(like) is np.ndarray and y.shape == like.shape:
        return y
    shape = np.shape(like)
    return y if np.shape(y) == shape else np.broadcast_to(y, shape)


def _sorted_order(xs: Any, key: Any, reverse: bool) -> list:
    """Where each item of ``sorted(xs, key=key, reverse=reverse)`` came from: the positions sorted
    as Python sorts the items (stable; ``key`` only orders, the items themselves are kept)."""
    items = list(xs)
    by = items.__getitem__ if key is None else (lambda i: key(items[i]))
    return sorted(range(len(items)), key=by, reverse=reverse)


def unsort(y: Any, xs: Any, key: Any = None, reverse: bool = False) -> Any:
    """Adjoint of ``sorted(xs, key=key, reverse=reverse)``: each element of ``y`` back to the place
    its value came from (Python's sort is stable, ties keep their order)."""
    order = _sorted_order(xs, key, reverse)
    parts = y if isinstance(y, (list, tuple)) or _is_array(y) else [y] * len(order)  # a weak zero
    out: list = [0.0] * len(order)
    for position, source in enumerate(order):
        out[source] = parts[position]
    if is_duck_array(xs):
        return np.stack([np.broadcast_to(e, xs.shape[1:]) for e in out])
    return np.array(out) if isinstance(xs, np.ndarray) else out


def resort(parts: Any, xs: Any, key: Any = None, reverse: bool = False) -> list:
    """Adjoint of ``unsort``, and the tangent of ``sorted``: the parts in sorted order again."""
    order = _sorted_order(xs, key, reverse)
    parts = parts if isinstance(parts, (list, tuple)) or _is_array(parts) else [parts] * len(order)
    return [parts[source] for source in order]


def unreverse(y: Any, seq: Any) -> Any:
    """Adjoint of ``reversed(seq)`` (and its own adjoint): ``y`` in the opposite order."""
    if not isinstance(y, (list, tuple)) and not _is_array(y):
        return y  # a weak zero
    return y[::-1] if _is_array(y) else sequence_adjoint(list(reversed(y)), seq)


def sequence_adjoint(y: Any, xs: Any) -> Any:
    """Adjoint of ``list(xs)`` and ``tuple(xs)``: the list of the elements' adjoints, stacked
    into an array when ``xs`` was an array (its rows became the elements)."""
    if not _is_array(xs):
        return y
    dtype = np.result_type(xs.dtype, np.float64)
    if not isinstance(y, (list, tuple)):
        if is_duck_array(xs):  # a weak zero, as an array of xs's library
            return np.full_like(xs, y, dtype=dtype)
        return np.broadcast_to(np.asarray(y, dtype=dtype), xs.shape)  # a weak zero
    if is_duck_array(xs) or any(map(is_duck_array, y)):  # (np.array would compute a Dask array)
        return np.reshape(np.stack([np.broadcast_to(e, xs.shape[1:]) for e in y]).astype(dtype), xs.shape)
    return np.array([np.broadcast_to(e, xs.shape[1:]) for e in y], dtype=dtype).reshape(xs.shape)


def check_slice_length(container: Any, index: slice, value: Any, filename: str, line: int) -> None:
    """Raise before ``xs[a:b] = value`` changes a list's length: the adjoint keeps positions."""
    if isinstance(container, list) and len(container[index]) != len(value):
        raise SrcdiffError(
            "a slice assignment that changes the list's length cannot be differentiated",
            filename=filename,
            line=line,
            construct=linecache.getline(filename, line).strip() or None,
            suggestion="Assign as many elements as the slice holds, or build the new list with a loop that appends.",
        )


def add_adjoints(a: Any, b: Any) -> Any:
    """``a + b`` for adjoints that may be containers (leaf by leaf) or weak zeros; an array
    added to a list adjoint is added row by row (NumPy read the list as that array)."""
    if isinstance(a, _CONTAINERS) or isinstance(b, _CONTAINERS):
        if not isinstance(a, _CONTAINERS):
            a, b = b, a  # the container first
        if not isinstance(b, _CONTAINERS) and np.ndim(b) == 0:
            if np.any(b):
                raise TypeError(f"srcdiff: cannot add the scalar adjoint {b!r} to a container's adjoint")
            return list(a) if isinstance(a, tuple) else a  # b is a weak zero
        if isinstance(a, dict):
            return {k: add_adjoints(a[k], b[k]) if k in b else a[k] for k in a} | {k: v for k, v in b.items() if k not in a}
        return [add_adjoints(x, y) for x, y in zip(a, b)]
    return a + b


# Selections: functions whose every result entry is one input entry (or a constant). The same
# call on ``positions(x)`` says where each entry came from; the adjoint adds ``g`` back there.


def positions(x: Any) -> Any:
    """Where each entry of ``x`` sits, as 1 + its flat index, in an int array shaped like ``x``
    (0 is kept for "no entry": padding, an off-diagonal zero). For a list or tuple, one array
    per element, numbered on from one element to the next."""
    if isinstance(x, (list, tuple)):
        out, start = [], 1
        for element in x:
            out.append(np.arange(start, start + np.size(element)).reshape(np.shape(element)))
            start += np.size(element)
        return out
    return np.arange(1, np.size(x) + 1).reshape(np.shape(x))


def scatter(y: Any, like: Any, source: Any) -> Any:
    """Adjoint of a selection whose entries came from ``source`` (``positions`` numbering): each
    entry of ``y`` added back where it came from, shaped like ``like`` (a list for a list).
    ``y`` and ``source`` may be lists of parts (a function that returns several arrays); a part
    of ``y`` that is a weak zero adds nothing."""
    ys, sources = (y, source) if isinstance(source, (list, tuple)) else ([y], [source])
    total = np.zeros(1 + (sum(np.size(e) for e in like) if isinstance(like, (list, tuple)) else np.size(like)))
    for part, where in zip(ys, sources):
        if _weak_zero(part):
            continue
        where = np.asarray(where)
        if is_duck_array(part):  # another library's bincount takes no NumPy operand: computed here (docs/scaling-out.md)
            part = np.asarray(part)
        total += np.bincount(where.ravel(), np.broadcast_to(part, where.shape).ravel(), minlength=total.size)
    if isinstance(like, (list, tuple)):
        bounds = np.cumsum([1] + [np.size(e) for e in like])
        return [_like(total[lo:hi], e) for lo, hi, e in zip(bounds[:-1], bounds[1:], like)]
    return _like(total[1:], like)


def _like(flat: np.ndarray, x: Any) -> Any:
    """Entries for ``x`` in a flat array, as ``x``'s adjoint: its shape, a float for a float."""
    return float(flat[0]) if isinstance(x, (float, int)) else np.reshape(flat, np.shape(x))


def gather(x: Any, source: Any, like: Any = None) -> Any:
    """The selection itself: the entries of ``x`` at ``source`` (``positions`` numbering, 0 gives
    0.0), for the tangent of a selection and the adjoint of ``scatter``. ``x`` may be a list
    (numbered on, element by element, shaped like the elements of ``like``: an element may be a
    weak zero); ``source`` may be a list of parts, and then so is the result."""
    if _weak_zero(x):  # (or a zero float: the same zeros)
        return [np.zeros(np.shape(s)) for s in source] if isinstance(source, (list, tuple)) else np.zeros(np.shape(source))
    parts = x if isinstance(x, (list, tuple)) else [x]
    if isinstance(like, (list, tuple)):
        parts = [np.broadcast_to(p, np.shape(e)) for p, e in zip(parts, like)]
    flat = np.concatenate([[0.0]] + [np.ravel(p) for p in parts])
    if isinstance(source, (list, tuple)):
        return [flat[np.asarray(s)] for s in source]
    return flat[np.asarray(source)]


_SELECTING_PADS = ("constant", "edge", "reflect", "symmetric", "wrap", "empty")


def convolve_padding(shape1: tuple, shape2: tuple, mode: str) -> tuple:
    """The zeros around ``scipy.signal.convolve(in1, in2, mode)``'s result in the full convolution,
    per axis (SciPy centres the 'same' and 'valid' windows in it)."""
    windows = [(_convolve_window(n, m, mode, n), n + m - 1) for n, m in zip(shape1, shape2)]
    return tuple((offset, full - offset - kept) for (offset, kept), full in windows)


def pad_sources(array: Any, pad_width: Any, mode: Any = "constant") -> Any:
    """Where each entry of ``np.pad(array, pad_width, mode)`` came from (0: a constant). Only the
    modes that copy entries are selections; the others (a mean, a ramp) are refused."""
    if not isinstance(mode, str) or mode not in _SELECTING_PADS:
        raise NoDerivativeRule(
            f"no derivative for np.pad(..., mode={mode!r})",
            suggestion=f"Use one of the modes {', '.join(_SELECTING_PADS)}, or wrap the call in stop_gradient(...).",
        )
    return np.pad(positions(array), pad_width, "constant" if mode == "empty" else mode)


def pad_fill_sources(array: Any, pad_width: Any, constant_values: Any) -> Any:
    """Which entry of ``constant_values`` (``positions`` numbering; 0: an entry of ``array``) fills
    each entry of ``np.pad(array, pad_width, constant_values=constant_values)``: NumPy pads
    numbered fill values itself, so corners go wherever NumPy puts them."""
    numbered = np.broadcast_to(np.array(positions(constant_values)), (np.ndim(array), 2))  # NumPy's (before, after) per axis
    return np.pad(np.zeros(np.shape(array), dtype=int), pad_width, constant_values=numbered)


def permutation_sources(a: Any, ans: Any, axis: Any = -1) -> Any:
    """Where each entry of ``ans``, a reordering of ``a`` along ``axis`` (``np.sort``,
    ``np.partition``; ``axis=None``: of the flattened ``a``), came from. Read from the values
    themselves, so it agrees with whatever order NumPy chose; tied values are interchangeable."""
    a = np.asarray(a)  # a list: its elements are numbered on, as np.asarray(a)'s entries
    source = positions(a)
    if axis is None:
        a, source, axis = np.ravel(a), np.ravel(source), 0
    from_a = np.argsort(a, axis=axis, kind="stable")  # the k-th smallest of a ...
    in_ans = np.argsort(ans, axis=axis, kind="stable")  # ... sits here in ans
    out = np.empty_like(source)
    np.put_along_axis(out, in_ans, np.take_along_axis(source, from_a, axis), axis)
    return out


def _diff_pieces(a: Any, axis: int, prepend: Any, append: Any) -> list[tuple[str, Any, tuple]]:
    """What ``np.diff`` joins along ``axis`` before differencing: (name, value, shape) for
    prepend, a and append (a scalar end counts as one slab, as NumPy broadcasts it)."""
    shape = np.shape(a)
    slab = shape[:axis] + (1,) + shape[axis + 1 :]
    pieces = [("prepend", prepend), ("a", a), ("append", append)]
    return [(name, v, shape if name == "a" else slab if np.ndim(v) == 0 else np.shape(v)) for name, v in pieces if v is not None]


def diff_along(x: Any, a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None, part: str = "a") -> Any:
    """``np.diff(a, n, axis, prepend, append)`` along a tangent (or an adjoint) ``x`` of one
    ``part`` of it ("a", "prepend" or "append"): the other parts are zeros."""
    axis = axis % max(np.ndim(a), 1)
    pieces = [
        np.broadcast_to(x, shape) if name == part else np.zeros(shape)
        for name, _, shape in _diff_pieces(a, axis, prepend, append)
    ]
    return np.diff(np.concatenate(pieces, axis), n, axis)


def diff_adjoint(y: Any, a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None, part: str = "a") -> Any:
    """Adjoint of one ``part`` of ``np.diff(a, n, axis, prepend, append)``: each difference gives
    back ``-np.diff`` of the adjoint with a zero at each end; then that part's slab is cut out."""
    axis = axis % max(np.ndim(a), 1)
    pieces = _diff_pieces(a, axis, prepend, append)
    bounds = np.cumsum([0] + [shape[axis] for _, _, shape in pieces])
    joined = np.shape(a)[:axis] + (bounds[-1] - n,) + np.shape(a)[axis + 1 :]
    y = np.broadcast_to(y, joined)
    for _ in range(n):
        y = -np.diff(y, axis=axis, prepend=0.0, append=0.0)
    ((start, stop, value),) = [(lo, hi, v) for (name, v, _), lo, hi in zip(pieces, bounds[:-1], bounds[1:]) if name == part]
    return unbroadcast(np.take(y, np.arange(start, stop), axis=axis), value)  # a scalar end was one slab: summed


def _tensordot_labels(a: Any, b: Any, axes: Any) -> tuple[list[int], list[int], list[int]]:
    """``np.tensordot(a, b, axes)`` as einsum sublists: a's labels, b's, the result's."""
    na, nb = np.ndim(a), np.ndim(b)
    if np.ndim(axes) == 0:
        summed_a, summed_b = list(range(na - axes, na)), list(range(axes))
    else:
        summed_a, summed_b = ([x] if np.ndim(x) == 0 else list(x) for x in axes)
    summed_a, summed_b = [x % na for x in summed_a], [x % nb for x in summed_b]
    labels_a = list(range(na))
    labels_b = [labels_a[summed_a[summed_b.index(j)]] if j in summed_b else na + j for j in range(nb)]
    out = [i for i in labels_a if i not in summed_a] + [na + j for j in range(nb) if j not in summed_b]
    return labels_a, labels_b, out


def tensordot_adjoint_a(y: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """Adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    labels_a, labels_b, out = _tensordot_labels(a, b, axes)
    y = np.broadcast_to(y, np.shape(np.tensordot(np.zeros(np.shape(a)), np.zeros(np.shape(b)), axes)))  # a weak zero too
    return np.einsum(y, out, b, labels_b, labels_a)


def tensordot_adjoint_b(y: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """Adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    labels_a, labels_b, out = _tensordot_labels(a, b, axes)
    y = np.broadcast_to(y, np.shape(np.tensordot(np.zeros(np.shape(a)), np.zeros(np.shape(b)), axes)))
    return np.einsum(a, labels_a, y, out, labels_b)


def _kron_blocks(y: Any, a: Any, b: Any) -> tuple[Any, tuple, tuple]:
    """The result of ``np.kron(a, b)`` (or its adjoint ``y``) with each axis split into an
    (a, b) pair, and the shapes of a and b padded to the same number of axes."""
    ndim = max(np.ndim(a), np.ndim(b))
    shape_a = (1,) * (ndim - np.ndim(a)) + np.shape(a)
    shape_b = (1,) * (ndim - np.ndim(b)) + np.shape(b)
    split = [n for pair in zip(shape_a, shape_b) for n in pair]
    return np.reshape(np.broadcast_to(y, tuple(p * q for p, q in zip(shape_a, shape_b))), split), shape_a, shape_b


def kron_adjoint_a(y: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``a`` in ``np.kron(a, b)``: each block of ``y`` weighed by ``b`` and summed."""
    blocks, shape_a, shape_b = _kron_blocks(y, a, b)
    ndim = len(shape_a)
    weighed = blocks * np.reshape(b, [n for m in shape_b for n in (1, m)])
    return np.reshape(np.sum(weighed, axis=tuple(range(1, 2 * ndim, 2))), np.shape(a))


def kron_adjoint_b(y: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``y``, each weighed by its entry of ``a``."""
    blocks, shape_a, shape_b = _kron_blocks(y, a, b)
    ndim = len(shape_a)
    weighed = blocks * np.reshape(a, [n for m in shape_a for n in (m, 1)])
    return np.reshape(np.sum(weighed, axis=tuple(range(0, 2 * ndim, 2))), np.shape(b))


# np.cumprod: result j is the product of x_0..x_j. Its derivatives are products that leave
# out one or two factors, built here by multiplying with 1 in their place (never dividing, so
# zeros are exact); lanes of length n cost n**2 (first order) and n**3 (second order).


def _lanes(x: Any, axis: Any) -> tuple[np.ndarray, int]:
    """``x`` as float lanes along the last axis (flattened first for ``axis=None``), and that axis."""
    x = np.asarray(x, dtype=np.result_type(np.asarray(x).dtype, np.float64))
    if axis is None:
        return np.ravel(x), 0
    return np.moveaxis(x, axis, -1), axis % x.ndim


def _cumprod_jacobian(lanes: np.ndarray) -> np.ndarray:
    """``J[..., i, j]``: the derivative of cumprod's result j in entry i of each lane."""
    n = lanes.shape[-1]
    factors = np.array(np.broadcast_to(lanes[..., None, :], lanes.shape[:-1] + (n, n)))
    factors[..., np.arange(n), np.arange(n)] = 1.0
    return np.cumprod(factors, axis=-1) * np.triu(np.ones((n, n)))


def _cumprod_hessian(lanes: np.ndarray) -> np.ndarray:
    """``H[..., i, m, j]``: the second derivative of cumprod's result j in entries i and m."""
    n = lanes.shape[-1]
    factors = np.array(np.broadcast_to(lanes[..., None, None, :], lanes.shape[:-1] + (n, n, n)))
    i, m, k = np.ogrid[:n, :n, :n]
    factors[..., (k == i) | (k == m)] = 1.0
    reached = (i != m) & (k >= i) & (k >= m)  # k is the result index j here
    return np.cumprod(factors, axis=-1) * reached


def _from_lanes(lanes: np.ndarray, x: Any, axis: Any, flat: bool) -> np.ndarray:
    """Lanes back to ``x``'s axes: ``x``'s shape, or a flat vector for ``axis=None`` if ``flat``."""
    if axis is None:
        return lanes if flat else np.reshape(lanes, np.shape(x))
    return np.moveaxis(lanes, -1, axis)


def cumprod_adjoint(y: Any, x: Any, axis: Any = None) -> Any:
    """Adjoint of ``x`` in ``np.cumprod(x, axis)`` for the result's adjoint ``y``."""
    lanes, _ = _lanes(x, axis)
    y_lanes = np.broadcast_to(_lanes(y, axis)[0] if np.ndim(y) else y, lanes.shape)  # a weak zero too
    return _from_lanes(np.einsum("...ij,...j->...i", _cumprod_jacobian(lanes), y_lanes), x, axis, False)


def cumprod_tangent(z: Any, x: Any, axis: Any = None) -> Any:
    """The tangent of ``np.cumprod(x, axis)`` along ``z``; the adjoint of ``cumprod_adjoint`` in ``y``."""
    lanes, _ = _lanes(x, axis)
    z_lanes = np.broadcast_to(_lanes(z, axis)[0] if np.ndim(z) else z, lanes.shape)
    return _from_lanes(np.einsum("...ij,...i->...j", _cumprod_jacobian(lanes), z_lanes), x, axis, True)


def cumprod_curvature(h: Any, y: Any, x: Any, axis: Any = None) -> Any:
    """``sum over i, j of h_i y_j H[i, m, j]`` for each entry m of ``x`` (shaped like ``x``): the
    adjoint in ``x`` of ``cumprod_adjoint(y, x)`` for the adjoint ``h``, and its tangent along
    ``h`` (H is symmetric in i and m)."""
    lanes, _ = _lanes(x, axis)
    h_lanes = np.broadcast_to(_lanes(h, axis)[0] if np.ndim(h) else h, lanes.shape)
    y_lanes = np.broadcast_to(_lanes(y, axis)[0] if np.ndim(y) else y, lanes.shape)
    return _from_lanes(np.einsum("...i,...j,...imj->...m", h_lanes, y_lanes, _cumprod_hessian(lanes)), x, axis, False)


def cumprod_second(z: Any, t: Any, x: Any, axis: Any = None) -> Any:
    """``sum over i, m of z_i t_m H[i, m, j]`` for each result j: the tangent of
    ``cumprod_tangent(z, x)`` along a tangent ``t`` of ``x``."""
    lanes, _ = _lanes(x, axis)
    z_lanes = np.broadcast_to(_lanes(z, axis)[0] if np.ndim(z) else z, lanes.shape)
    t_lanes = np.broadcast_to(_lanes(t, axis)[0] if np.ndim(t) else t, lanes.shape)
    return _from_lanes(np.einsum("...i,...m,...imj->...j", z_lanes, t_lanes, _cumprod_hessian(lanes)), x, axis, True)


# np.sinc(x) = sin(pi x) / (pi x): near 0 its derivatives are quotients of small numbers, so
# there they come from the Taylor series instead (the error is below 1e-12 at |x| < 1e-3).


def sinc_slope(x: Any) -> Any:
    """The derivative of ``np.sinc`` at ``x``: ``(cos(pi x) - sinc(x)) / x``, and -pi**2 x / 3 near 0."""
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    return np.where(small, -(np.pi**2) * x / 3 + np.pi**4 * x**3 / 30, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


def sinc_curvature(x: Any) -> Any:
    """The second derivative of ``np.sinc``: ``-pi**2 sinc(x) - 2 sinc'(x) / x``, -pi**2 / 3 at 0."""
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    return np.where(small, -(np.pi**2) / 3 + np.pi**4 * x**2 / 10, -(np.pi**2) * np.sinc(safe) - 2 * sinc_slope(safe) / safe)


def digamma(x: float) -> float:
    """The derivative of ``math.lgamma`` (``math.gamma'(x) / math.gamma(x)``) at a float ``x``:
    the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series (error
    below 1e-13 there); reflection for x < 0.5. SciPy's ``digamma`` without needing SciPy."""
    x = float(x)
    if x < 0.5:  # psi(1 - x) - psi(x) = pi / tan(pi x)
        return digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    z = 1.0 / (x * x)
    series = z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z * (1 / 132 - z * 691 / 32760)))))
    return shift + math.log(x) - 0.5 / x - series


def trigamma(x: float) -> float:
    """The derivative of ``digamma``: psi1(x) = psi1(x + 1) + 1/x**2 up to x >= 10, then the
    asymptotic series (error below 1e-13); reflection for x < 0.5."""
    x = float(x)
    if x < 0.5:  # psi1(1 - x) + psi1(x) = pi**2 / sin(pi x)**2
        return (math.pi / math.sin(math.pi * x)) ** 2 - trigamma(1.0 - x)
    shift = 0.0
    while x < 10.0:
        shift += 1.0 / (x * x)
        x += 1.0
    z = 1.0 / (x * x)
    series = 1.0 / x + z / 2 + z / x * (1 / 6 - z * (1 / 30 - z * (1 / 42 - z * (1 / 30 - z * 5 / 66))))
    return shift + series


def spread_weights(weights: Any, a: Any, axis: Any = None, returned: bool = False) -> Any:
    """``np.average``'s weights spread to the shape of ``a``: ones for none, a 1-d array laid
    along ``axis`` (NumPy's rule for weights shorter than ``a``), else broadcast as they are.
    ``returned=True`` (a pair, the average and the weights' sum) is refused."""
    if returned is not False:
        raise NoDerivativeRule(
            "no derivative for np.average(..., returned=True)",
            suggestion="Take the average, and the sum of the weights with np.sum(weights), in two calls.",
        )
    shape = np.shape(a)
    if weights is None:
        return np.ones(shape)
    weights = np.asarray(weights)
    if weights.shape != shape and weights.ndim == 1 and axis is not None and np.ndim(axis) == 0:
        weights = np.reshape(weights, [-1 if i == axis % len(shape) else 1 for i in range(len(shape))])
    return np.broadcast_to(weights, shape)


def gather_weights(y: Any, weights: Any, a: Any, axis: Any = None) -> Any:
    """Adjoint of ``spread_weights``: ``y`` (shaped like ``a``) summed back to the weights' shape."""
    shape = np.shape(weights)
    y = np.broadcast_to(y, np.shape(a))
    if shape != np.shape(a) and len(shape) == 1 and axis is not None and np.ndim(axis) == 0:
        others = tuple(i for i in range(np.ndim(a)) if i != axis % np.ndim(a))
        return np.sum(y, axis=others)
    return unbroadcast(y, weights)


_QUANTILE_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _order_statistics(a: Any, q: Any, axis: Any, method: str) -> tuple:
    """The ``positions`` of ``a`` in sorted order along ``axis``, that axis, and for quantile ``q``
    the ranks of the two order statistics read and the weight of the upper one."""
    if method not in _QUANTILE_METHODS:
        raise NoDerivativeRule(
            f"no derivative for a quantile with method={method!r}",
            suggestion=f"Use one of the methods {', '.join(_QUANTILE_METHODS)}, or wrap the call in stop_gradient(...).",
        )
    if axis is not None and np.ndim(axis) != 0:
        raise NoDerivativeRule(
            "no derivative for a quantile over several axes", suggestion="Move the axes together and reshape them into one."
        )
    a = np.asarray(a)
    source = positions(a)
    if axis is None:
        a, source, axis = np.ravel(a), np.ravel(source), 0
    ranked = np.take_along_axis(source, np.argsort(a, axis=axis, kind="stable"), axis)
    last = a.shape[axis] - 1
    v = np.asarray(q, dtype=float) * last
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, last)
    frac = v - lo
    if method != "linear":
        pick = {"lower": lo, "higher": np.ceil(v).astype(int), "nearest": np.around(v).astype(int)}.get(method)
        lo, hi = (lo, hi) if pick is None else (pick, pick)
        frac = np.where(frac > 0, 0.5, 0.0) if method == "midpoint" else np.zeros_like(frac)
    return ranked, axis % a.ndim, lo, hi, frac


def quantile_sources(
    a: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear", upper: bool = False
) -> Any:
    """Where each entry of ``np.quantile(a, q, axis, keepdims=keepdims, method=method)`` reads
    its lower order statistic (``upper``: its upper one), in ``positions`` numbering: the
    quantile is ``gather(a, lower) * (1 - f) + gather(a, upper) * f``, f = ``quantile_fraction``."""
    ranked, axis_, lo, hi, _ = _order_statistics(a, q, axis, method)
    picked = np.take(ranked, hi if upper else lo, axis=axis_)
    rank_axes = np.ndim(lo)
    picked = np.moveaxis(picked, list(range(axis_, axis_ + rank_axes)), list(range(rank_axes)))
    if keepdims:
        reduced = [1] * np.ndim(a) if axis is None else list(np.shape(a))
        if axis is not None:
            reduced[axis_] = 1
        picked = np.reshape(picked, np.shape(lo) + tuple(reduced))
    return picked


def quantile_fraction(a: Any, q: Any, axis: Any = None, keepdims: bool = False, method: str = "linear") -> Any:
    """The weight of the upper order statistic in each entry of the quantile (see ``quantile_sources``),
    shaped to broadcast against it."""
    _, _, lo, _, frac = _order_statistics(a, q, axis, method)
    rest = np.ndim(quantile_sources(a, q, axis, keepdims, method)) - np.ndim(lo)
    return np.reshape(frac, np.shape(frac) + (1,) * rest)


def quantile_slope(a: Any, axis: Any = None, method: str = "linear") -> float:
    """How fast the interpolation weight of a quantile moves with its level: ``n - 1`` for the
    linear method (``n`` the length reduced over), 0 for the others (piecewise constant in it)."""
    return float(np.size(a) if axis is None else np.shape(a)[axis]) - 1.0 if method == "linear" else 0.0


def _convolve_window(n: int, m: int, mode: str, same: int) -> tuple[int, int]:
    """Where a convolution's result for ``mode`` sits, centred, in the full convolution of ``n``
    and ``m`` entries: offset, length. ``same``: the length 'same' keeps (``np.convolve``: the
    longer input's, ``scipy.signal.convolve``: the first's)."""
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode must be 'full', 'same' or 'valid', not {mode!r}")
    full = n + m - 1
    kept = {"full": full, "same": same, "valid": abs(n - m) + 1}[mode]
    return (full - kept) // 2, kept


def convolve_adjoint(y: Any, a: Any, v: Any, mode: str = "full") -> Any:
    """Adjoint of ``a`` in ``np.convolve(a, v, mode)`` for the result's adjoint ``y``: ``y`` placed
    in the full convolution's length, correlated with ``v``."""
    n, m = np.size(a), np.size(v)
    offset, length = _convolve_window(n, m, mode, max(n, m))
    full = np.zeros(n + m - 1, dtype=np.result_type(np.asarray(y).dtype, np.asarray(v).dtype, float))
    full[offset : offset + length] = y
    return np.correlate(full, v, mode="valid")


def interp_segment(x: Any, xp: Any) -> Any:
    """For each ``x``, the index ``i`` of the segment ``xp[i] <= x < xp[i + 1]`` that ``np.interp``
    reads, and -1 outside ``[xp[0], xp[-1]]`` (where the result is a constant)."""
    xp = np.asarray(xp)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    return np.where((np.asarray(x) >= xp[0]) & (np.asarray(x) <= xp[-1]), i, -1)


def interp_slope(x: Any, xp: Any, fp: Any) -> Any:
    """The derivative of ``np.interp(x, xp, fp)`` in ``x``: the slope of the segment, 0 outside."""
    i = interp_segment(x, xp)
    j = np.maximum(i, 0)
    xp, fp = np.asarray(xp), np.asarray(fp)
    return np.where(i >= 0, (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]), 0.0)


def interp_slope_adjoint(y: Any, x: Any, xp: Any, fp: Any) -> Any:
    """Adjoint of ``fp`` in ``interp_slope(x, xp, fp)`` (linear in ``fp``)."""
    i = np.ravel(interp_segment(x, xp))
    xp = np.asarray(xp)
    j = np.maximum(i, 0)
    share = np.where(i >= 0, np.ravel(np.broadcast_to(y, np.shape(x))) / (xp[j + 1] - xp[j]), 0.0)
    out = np.bincount(j + 1, share, minlength=len(xp)) - np.bincount(j, share, minlength=len(xp))
    return np.reshape(out, np.shape(fp))


def interp_fp_adjoint(y: Any, x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None) -> Any:
    """Adjoint of ``fp`` in ``np.interp(x, xp, fp, left, right)``: each result is
    ``(1 - f) fp[i] + f fp[i + 1]``; outside ``xp`` it is ``fp[0]`` (``fp[-1]``) unless ``left``
    (``right``) is given."""
    xp = np.asarray(xp)
    y = np.ravel(np.broadcast_to(y, np.shape(x)))
    x = np.ravel(np.asarray(x, dtype=float))
    i = interp_segment(x, xp)
    j = np.maximum(i, 0)
    f = np.where(i >= 0, (x - xp[j]) / (xp[j + 1] - xp[j]), 0.0)
    inside = np.where(i >= 0, y, 0.0)
    out = np.bincount(j, inside * (1 - f), minlength=len(xp)) + np.bincount(j + 1, inside * f, minlength=len(xp))
    if left is None:
        out[0] += np.sum(y[x < xp[0]])
    if right is None:
        out[-1] += np.sum(y[x > xp[-1]])
    return np.reshape(out, np.shape(fp))


def cross_adjoint(y: Any, a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Any:
    """Adjoint of ``a`` in ``np.cross(a, b, axisa, axisb, axisc, axis)`` for the result's adjoint
    ``y``: ``b x y`` (the triple product is cyclic), summed back where ``a`` was broadcast.
    Only 3-vectors: NumPy deprecates the 2-vector forms."""
    if axis is not None:
        axisa = axisb = axisc = axis
    vectors_a, vectors_b = np.moveaxis(np.asarray(a), axisa, -1), np.moveaxis(np.asarray(b), axisb, -1)
    if vectors_a.shape[-1] != 3 or vectors_b.shape[-1] != 3:
        raise NoDerivativeRule("no derivative for np.cross of 2-vectors", suggestion="Give both vectors 3 components.")
    if _weak_zero(y):
        return np.zeros(np.shape(a))
    part = np.cross(vectors_b, np.moveaxis(y, axisc, -1))
    return np.moveaxis(unbroadcast(part, vectors_a), -1, axisa)


def _gradient_axes(x: Any, axis: Any) -> list[int]:
    ndim = np.ndim(x)
    if axis is None:
        return list(range(ndim))
    return [a % ndim for a in ((axis,) if np.ndim(axis) == 0 else axis)]


def _gradient_matrix(n: int, spacing: Any, edge_order: int) -> np.ndarray:
    """``np.gradient`` along an axis of length n is a matrix: column j is the gradient of e_j."""
    return np.gradient(np.eye(n), spacing, axis=0, edge_order=edge_order)


def gradient_along(x: Any, varargs: tuple = (), axis: Any = None, edge_order: int = 1) -> Any:
    """``np.gradient(x, *varargs, axis=axis, edge_order=edge_order)``: a function of one argument
    for the spacings, so generated code can call it without unpacking."""
    return np.gradient(x, *varargs, axis=axis, edge_order=edge_order)


def gradient_adjoint(y: Any, x: Any, varargs: tuple = (), axis: Any = None, edge_order: int = 1) -> Any:
    """Adjoint of ``x`` in ``np.gradient(x, *varargs, axis=axis, edge_order=edge_order)``: each
    axis's part of ``y`` (one array, or one per axis) through the transpose of its matrix."""
    axes = _gradient_axes(x, axis)
    spacings = list(varargs) * len(axes) if len(varargs) == 1 else list(varargs) or [1.0] * len(axes)
    parts = [y] if len(axes) == 1 else (y if isinstance(y, (list, tuple)) else [y] * len(axes))
    total = np.zeros(np.shape(x))
    for part, a, spacing in zip(parts, axes, spacings):
        if _weak_zero(part):
            continue
        matrix = _gradient_matrix(np.shape(x)[a], spacing, edge_order)
        moved = np.moveaxis(np.broadcast_to(part, np.shape(x)), a, 0)
        total = total + np.moveaxis(np.tensordot(matrix.T, moved, 1), 0, a)  # (not +=: moved may be a Dask array)
    return total


# ------------------------------------------------------------------ the FFT family
# Complex values follow autograd's and JAX's convention: the adjoint of a complex z is
# dL/dRe z - i dL/dIm z. So a holomorphic function's rule ``g * f'(x)`` holds for complex x
# as written, a linear map's adjoint is its plain transpose (the DFT matrix is symmetric),
# and a real value's derivative is the real part of its adjoint (docs/supported-python.md).


def real_like(y: Any, like: Any) -> Any:
    """``y``, or its real part where ``like`` is real: the adjoint of a real value drops the
    imaginary part a complex neighbour left in it. Its own adjoint and tangent."""
    return np.real(y) if not _complex_valued(like) and _complex_valued(y) else y


def _complex_valued(v: Any) -> bool:
    """``np.iscomplexobj(v)``, read from the dtype of an array (Dask computes an array for np.iscomplexobj)."""
    if type(v) is np.ndarray:
        return v.dtype.kind == "c"
    return v.dtype.kind == "c" if is_duck_array(v) else np.iscomplexobj(v)


def fft_norm_swapped(norm: Any) -> Any:
    """The norm of the opposite direction: ``np.fft.hfft`` is ``irfft`` of the conjugate with it."""
    return {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}[norm]


def _fft_plan(a: Any, s: Any, axes: Any, inverse_real: bool = False) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes an n-dimensional FFT of ``a`` transforms and their lengths, as NumPy reads ``s``
    (an int for the one-axis functions' ``n``) and ``axes`` (an int for their ``axis``)."""
    shape = np.shape(a)
    s = None if s is None else (int(s),) if np.ndim(s) == 0 else tuple(s)
    if axes is None:
        axes = tuple(range(len(shape))) if s is None else tuple(range(-len(s), 0))
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    axes = tuple(int(ax) % len(shape) for ax in axes)
    if s is None:
        s = tuple(shape[ax] for ax in axes)
        if inverse_real:  # irfft's default: the full length of a half spectrum
            s = s[:-1] + (2 * (s[-1] - 1),)
    return axes, s


def _with_lengths(shape: tuple, axes: tuple[int, ...], lengths: tuple[int, ...]) -> tuple[int, ...]:
    out = list(shape)
    for ax, n in zip(axes, lengths):
        out[ax] = n
    return tuple(out)


def _fit(y: Any, shape: tuple, axes: tuple[int, ...]) -> Any:
    """``y`` cut or padded with zeros at the end of each of ``axes`` to the lengths of ``shape``."""
    cut = tuple(slice(0, shape[ax]) if ax in axes else slice(None) for ax in range(np.ndim(y)))
    y = y[cut]
    widths = [(0, max(0, shape[ax] - y.shape[ax]) if ax in axes else 0) for ax in range(y.ndim)]
    return np.pad(y, widths) if any(w for _, w in widths) else y


def dft(y: Any, s: Any = None, axes: Any = None, norm: Any = None, inverse: bool = False) -> Any:
    """``np.fft.fftn(y, s, axes, norm)`` (``ifftn`` if ``inverse``), taking ``fft``'s int ``n`` and ``axis`` too."""
    axes, s = _fft_plan(y, s, axes)
    return (np.fft.ifftn if inverse else np.fft.fftn)(y, s, axes, norm)


def dft_adjoint(y: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None, inverse: bool = False) -> Any:
    """Adjoint of ``a`` in ``dft(a, s, axes, norm, inverse)``: the same transform of ``y`` (the
    DFT matrix is symmetric), cut or padded back to ``a``'s lengths; real if ``a`` is."""
    axes, s = _fft_plan(a, s, axes)
    y = np.broadcast_to(y, _with_lengths(np.shape(a), axes, s))  # (a weak zero)
    return real_like(_fit((np.fft.ifftn if inverse else np.fft.fftn)(y, axes=axes, norm=norm), np.shape(a), axes), a)


def rdft(y: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """``np.fft.rfftn`` of the real part of ``y`` (taking ``rfft``'s int ``n`` and ``axis`` too)."""
    axes, s = _fft_plan(y, s, axes)
    return np.fft.rfftn(np.real(y), s, axes, norm)


def rdft_adjoint(y: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """Adjoint of real ``a`` in ``rdft(a, s, axes, norm)``: the half spectrum ``y`` padded with
    zeros to the full one, through ``fftn`` (the transpose), cut back to ``a``'s lengths, real part."""
    axes, s = _fft_plan(a, s, axes)
    y = np.broadcast_to(y, _with_lengths(np.shape(a), axes, s[:-1] + (s[-1] // 2 + 1,)))
    return np.real(_fit(np.fft.fftn(y, s, axes, norm), np.shape(a), axes))


def irdft(y: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """``np.fft.irfftn(y, s, axes, norm)``, taking ``irfft``'s int ``n`` and ``axis`` too."""
    axes, s = _fft_plan(y, s, axes, inverse_real=True)
    return np.fft.irfftn(y, s, axes, norm)


def irdft_adjoint(y: Any, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Any:
    """Adjoint of ``a`` in ``irdft(a, s, axes, norm)``. The real result reads the half spectrum's
    entries k (0 < k < n/2) twice, as themselves and as their conjugates at n - k, and the
    constant and Nyquist entries once (their imaginary parts not at all): so the transpose is
    ``ifftn`` of (the real part of) ``y``, its first n // 2 + 1 entries, the doubly read doubled."""
    axes, s = _fft_plan(a, s, axes, inverse_real=True)
    y = np.real(np.broadcast_to(y, _with_lengths(np.shape(a), axes, s)))
    n, last = s[-1], axes[-1]
    half = np.take(np.fft.ifftn(y, axes=axes, norm=norm), np.arange(n // 2 + 1), axis=last)  # (Dask arrays have no .take)
    twice = np.full(n // 2 + 1, 2.0)
    twice[0] = 1.0
    if n % 2 == 0:
        twice[-1] = 1.0
    half = half * np.reshape(twice, (-1,) + (1,) * (np.ndim(a) - 1 - last))
    return real_like(_fit(half, np.shape(a), axes), a)


# helpers that only make a value (they never raise, write or keep anything): the optimiser drops
# an unread call of one (a zero tangent forward mode gives a value nothing reads)
PURE = (zeros_like, shape_holder)  # (result_holder may raise: as the operation would)
