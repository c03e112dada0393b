"""Functions that generated code calls. Imports NumPy only.

Each has a derivative rule in ``srcdiff.rules`` (or is listed there as
non-differentiable), so generated code can be differentiated again; ``prod_adjoint``
and ``einsum_adjoint`` have none yet, and ``grad(grad(f))`` refuses them. An adjoint
may be a *weak zero*, the float ``0.0``, standing for zeros of any shape: these
helpers accept it wherever an adjoint is expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import NonScalarOutput  # the only srcdiff import: a plain exception class

__all__ = [
    "seed",
    "materialize",
    "materialize_all",
    "private_copy",
    "unbroadcast",
    "unreduce",
    "zeros_like",
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
    "sum_adjoint",
    "cumsum_adjoint",
    "transpose_adjoint",
    "reduce_extremum_adjoint",
    "extremum_share",
    "restack",
    "reconcatenate",
    "revstack",
    "einsum_adjoint",
    "trace_adjoint",
    "prod_adjoint",
    "clip_owner",
    "norm_adjoint",
    "moveaxis_adjoint",
    "expand_dims_adjoint",
    "repeat_adjoint",
    "tile_adjoint",
    "add_at",
    "add_adjoints",
    "astype",
    "cast",
]


def stop_gradient(x: Any) -> Any:
    """Return ``x`` unchanged; srcdiff treats the result as a constant (PyTorch: ``detach``)."""
    return x


def seed(out: Any) -> float:
    """The adjoint 1.0 of a scalar result; anything else is an error (use vjp for arrays)."""
    if type(out) is float or type(out) is np.float64:  # the common case, without np.ndim
        return 1.0
    if np.ndim(out) != 0 or not isinstance(out, (float, int, np.number, np.ndarray)):
        shape = np.shape(out) if isinstance(out, np.ndarray) else type(out).__name__
        got = f"shape {shape}" if isinstance(out, np.ndarray) else shape
        raise NonScalarOutput(f"grad needs a scalar output; got {got} \u2014 use vjp, or reduce it first (np.sum, np.mean)")
    return 1.0


def materialize(y: Any, like: Any) -> Any:
    """The final gradient of ``like``: a writable array of its shape and float dtype (or a float for a float)."""
    if isinstance(like, np.ndarray):
        if type(y) is np.ndarray and y.dtype is like.dtype and y.shape == like.shape and y.dtype.kind in "fc":
            # a view may share memory with other values (a broadcast one is read-only): copy it
            return y if y.base is None and y.flags.writeable else y.copy()
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64  # float32 in, float32 out
        return np.array(np.broadcast_to(unbroadcast(y, like), like.shape), dtype=dtype)
    return y


def materialize_all(ys: tuple, likes: tuple) -> tuple:
    """Several final gradients: each as ``materialize`` gives it, no two the same array."""
    out: list = []
    for y, like in zip(ys, likes):
        y = materialize(y, like)
        if isinstance(y, np.ndarray) and any(y is other for other in out):
            y = y.copy()  # x + y hands both operands the same adjoint array
        out.append(y)
    return tuple(out)


def private_copy(y: Any, like: Any = None) -> Any:
    """A copy of ``y`` that may be written in place (weak zeros become zeros shaped like ``like``)."""
    if isinstance(y, np.ndarray):
        return np.array(y)
    if isinstance(y, (list, tuple)):
        return list(y)
    if like is not None and not isinstance(y, np.generic) and isinstance(like, (np.ndarray, list, tuple)):
        return zeros_like(like)
    return y


def unbroadcast(x: Any, like: Any) -> Any:
    """Sum ``x`` down to the shape of ``like``: the adjoint of NumPy broadcasting."""
    if not isinstance(x, np.ndarray):
        return x  # the adjoint of a scalar result: its operands were scalars too (or x is a weak zero)
    if type(like) is np.ndarray and x.shape == like.shape:
        return x
    if isinstance(like, (float, int, np.generic)):
        return x.sum()  # a scalar operand was broadcast along every axis
    shape = np.shape(like)
    x_shape = np.shape(x)
    if x_shape == shape:
        return x
    if x_shape == () and not isinstance(x, np.ndarray):
        return x  # a weak zero or a scalar adjoint that broadcasts wherever it goes
    extra = len(x_shape) - len(shape)
    if extra > 0:
        x = np.sum(x, axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(x)[i] != 1)
    if axes:
        x = np.sum(x, axis=axes, keepdims=True)
    if not isinstance(like, np.ndarray) and np.ndim(x) == 0:
        return x[()] if isinstance(x, np.ndarray) else x
    return x


def unreduce(y: Any, like: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Broadcast a reduction's adjoint ``y`` back to the shape of its input ``like``."""
    shape = np.shape(like)
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        y = np.expand_dims(y, tuple(a % len(shape) for a in axes))
    return np.broadcast_to(y, shape)


def zeros_like(x: Any) -> Any:
    """A private, writable zero adjoint for ``x``: an array, a list of weak zeros, or 0.0."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=np.result_type(x.dtype, np.float64))
    if isinstance(x, (list, tuple)):
        return [zeros_like(e) if isinstance(e, (list, tuple)) else 0.0 for e in x]
    return 0.0


def balanced_eq(x: Any, ans: Any, y: Any) -> Any:
    """Where ``x`` gave the max/min ``ans`` of x and y: 1, or 0.5 on ties (a mask, constant)."""
    return (x == ans) / (1.0 + (x == y))


def _promote(g: Any, a: Any, b: Any) -> tuple[Any, Any, Any, bool, bool]:
    a1, b1 = np.ndim(a) == 1, np.ndim(b) == 1
    a2 = np.reshape(a, (1, -1)) if a1 else a
    b2 = np.reshape(b, (-1, 1)) if b1 else b
    g2 = g
    if np.ndim(g) == 0 and isinstance(g, float) and g == 0.0:
        g2 = np.zeros(np.shape(np.matmul(a2, b2)))
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


def matmul_adjoint_a(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``a`` in ``a @ b`` (1-D operands and batch broadcasting included)."""
    if _plain(g, a, b):
        return g @ b.T if b.ndim == 2 else np.outer(g, b)
    g2, _, b2, a1, _ = _promote(g, a, b)
    da = np.matmul(g2, np.swapaxes(b2, -1, -2))
    return np.reshape(unbroadcast(da, np.empty((1, np.shape(a)[0]))), np.shape(a)) if a1 else unbroadcast(da, a)


def matmul_adjoint_b(g: Any, a: Any, b: Any) -> Any:
    """Adjoint of ``b`` in ``a @ b``."""
    if _plain(g, a, b):
        return a.T @ g
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


def unstack(y: Any, arrays: Any, axis: int = 0) -> list:
    """Adjoint of ``np.stack(arrays, axis)``: the slices of ``y`` along ``axis``, as a list."""
    if np.ndim(y) == 0:
        return [0.0] * len(arrays)
    return [np.take(y, i, axis=axis) for i in range(len(arrays))]


def unconcatenate(y: Any, arrays: Any, axis: int | None = 0) -> list:
    """Adjoint of ``np.concatenate(arrays, axis)``: ``y`` cut back into the input pieces."""
    if np.ndim(y) == 0:
        return [0.0] * len(arrays)
    if axis is None:
        sizes = np.cumsum([np.size(a) for a in arrays])[:-1]
        return [np.reshape(p, np.shape(a)) for p, a in zip(np.split(y, sizes), arrays)]
    sizes = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
    return list(np.split(y, sizes, axis=axis))


def unvstack(y: Any, arrays: Any) -> list:
    """Adjoint of ``np.vstack(arrays)``: rows of ``y`` cut back into the (1-D or N-D) inputs."""
    pieces = unconcatenate(y, [np.atleast_2d(a) for a in arrays], 0)
    return [np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)]


def _pieces(parts: list, arrays: Any) -> list:
    """List adjoints shaped like ``arrays`` (a weak zero becomes zeros)."""
    return [np.broadcast_to(p, np.shape(a)) for p, a in zip(parts, arrays)]


def restack(parts: list, arrays: Any, axis: int = 0) -> Any:
    """Adjoint of ``unstack``: the pieces stacked along ``axis`` again."""
    return np.stack(_pieces(parts, arrays), axis)


def reconcatenate(parts: list, arrays: Any, axis: int | None = 0) -> Any:
    """Adjoint of ``unconcatenate``: the pieces joined along ``axis`` again."""
    return np.concatenate(_pieces(parts, arrays), axis)


def revstack(parts: list, arrays: Any) -> Any:
    """Adjoint of ``unvstack``: the pieces stacked as rows again."""
    return np.vstack(_pieces(parts, arrays))


def sum_adjoint(y: Any, xs: Any) -> Any:
    """Adjoint of the builtin ``sum(xs)``: ``y`` for every element (list) or row (array)."""
    if isinstance(xs, (list, tuple)):
        return [y] * len(xs)
    return np.broadcast_to(y, np.shape(xs))


def cumsum_adjoint(y: Any, x: Any, axis: int | None = None) -> Any:
    """Adjoint of ``np.cumsum(x, axis)``: a reversed cumulative sum."""
    if axis is None:
        flat = np.broadcast_to(y, (np.size(x),))
        return np.reshape(np.flip(np.cumsum(np.flip(flat))), np.shape(x))
    y = np.broadcast_to(y, np.shape(x))
    return np.flip(np.cumsum(np.flip(y, axis), axis), axis)


def transpose_adjoint(y: Any, axes: Any, forward: bool = False) -> Any:
    """Adjoint of ``np.transpose(x, *axes)``: transpose back with the inverse permutation
    (``forward``: with the permutation itself, which is this function's own adjoint)."""
    if len(axes) == 1 and (axes[0] is None or np.ndim(axes[0]) == 1):
        axes = axes[0]
    if axes is None or len(axes) == 0:
        return np.transpose(y)
    return np.transpose(y, axes if forward else np.argsort(axes))


def reduce_extremum_adjoint(y: Any, x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of max/min: ``y`` shared equally among the entries that attain the extremum."""
    return unreduce(y, x, axis, keepdims) * extremum_share(x, ans, axis, keepdims)


def extremum_share(x: Any, ans: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Each entry's share of a max/min: 1/count where it attains the extremum ``ans``, else 0."""
    mask = x == unreduce(ans, x, axis, keepdims)
    return mask / unreduce(np.sum(mask, axis=axis, keepdims=keepdims), x, axis, keepdims)


def einsum_adjoint(y: Any, subscripts: str, operands: tuple, k: int) -> Any:
    """Adjoint of operand ``k`` of ``np.einsum(subscripts, *operands)``."""
    inputs, output = _einsum_terms(subscripts)
    terms = inputs.split(",")
    others = [t for i, t in enumerate(terms) if i != k]
    wanted = terms[k]
    letters = "".join(dict.fromkeys(wanted))  # a repeated index (a diagonal) once
    # indices of operand k that appear nowhere else are summed in the primal: broadcast them back
    present = set(output) | set("".join(others))
    spec = ",".join([output] + others) + "->" + "".join(c for c in letters if c in present)
    rest = [o for i, o in enumerate(operands) if i != k]
    sizes = _einsum_sizes(terms, operands)
    part = np.einsum(spec, np.broadcast_to(y, tuple(sizes[c] for c in output)), *rest)
    index = tuple(slice(None) if c in present else None for c in letters)
    part = np.broadcast_to(part[index], tuple(sizes[c] for c in letters))
    if letters == wanted:
        return part
    # a repeated index: the adjoint lives on that diagonal; einsum gives a writeable view of it
    full = np.zeros(np.shape(operands[k]), dtype=np.result_type(part, np.float64))
    np.einsum(f"{wanted}->{letters}", full)[...] = part
    return full


def _einsum_terms(subscripts: str) -> tuple[str, str]:
    """``(inputs, output)``; implicit mode's output is the indices seen once, sorted."""
    text = subscripts.replace(" ", "")
    if "." in text:
        raise NotImplementedError("srcdiff: np.einsum with '...' has no derivative rule; name every index")
    if "->" in text:
        inputs, output = text.split("->")
        return inputs, output
    letters = text.replace(",", "")
    return text, "".join(sorted(c for c in set(letters) if letters.count(c) == 1))


def _einsum_sizes(terms: list[str], operands: tuple) -> dict[str, int]:
    sizes = {}
    for term, op in zip(terms, operands):
        sizes.update(zip(term, np.shape(op)))
    return sizes


def trace_adjoint(y: Any, x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """Adjoint of ``np.trace``: ``y`` spread along the (offset) diagonal of axes ``axis1``, ``axis2``."""
    shape = np.shape(x)
    diagonal = np.eye(shape[axis1], shape[axis2], offset)
    spread = np.multiply.outer(y, diagonal)  # the trace's axes last, like np.diagonal's
    return np.moveaxis(spread, (-2, -1), (axis1, axis2))


def prod_adjoint(y: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.prod``: ``y`` times the product of the *other* entries of each reduction,
    from cumulative products on either side (dividing by ``x`` fails where an entry is 0)."""
    x = np.asarray(x)
    axes = range(x.ndim) if axis is None else [axis] if np.ndim(axis) == 0 else axis
    reduced = [a % x.ndim for a in axes]
    order = [a for a in range(x.ndim) if a not in reduced] + reduced
    rows = np.transpose(x, order).reshape(-1, int(np.prod([x.shape[a] for a in reduced])))
    ones = np.ones((rows.shape[0], 1))
    before = np.cumprod(np.concatenate([ones, rows[:, :-1]], axis=1), axis=1)
    after = np.cumprod(np.concatenate([ones, rows[:, :0:-1]], axis=1), axis=1)[:, ::-1]
    others = np.transpose(np.reshape(before * after, [x.shape[a] for a in order]), np.argsort(order))
    return unreduce(y, x, axis, keepdims) * others


def norm_adjoint(y: Any, x: Any, ans: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Adjoint of ``np.linalg.norm`` for the 2-norm of vectors and the Frobenius norm."""
    if ord not in (None, 2, "fro") or (ord == 2 and np.ndim(x) > 1 and axis is None):
        raise NotImplementedError(f"srcdiff: np.linalg.norm with ord={ord!r} has no derivative rule")
    scale = unreduce(y / ans, x, axis, keepdims) if axis is not None else y / ans
    return scale * x


def moveaxis_adjoint(y: Any, source: Any, destination: Any) -> Any:
    """Adjoint of ``np.moveaxis``: move the axes back."""
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
    total = np.zeros((shape[axis],) + shape[:axis] + shape[axis + 1 :], dtype=np.result_type(copies, np.float64))
    np.add.at(total, source, np.moveaxis(copies, axis, 0))
    return np.moveaxis(total, 0, axis)


def tile_adjoint(y: Any, x: Any, reps: Any) -> Any:
    """Adjoint of ``np.tile``: sum the tiles."""
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
    """``x[index] += y`` that also adds repeated indices (``np.add.at``); returns ``x``."""
    np.add.at(x, index, y)
    return x


def astype(x: Any, dtype: Any) -> Any:
    """Function form of ``ndarray.astype``, for the rule table."""
    return np.asarray(x).astype(dtype)


def cast(y: Any, x: Any) -> Any:
    """An adjoint ``y`` given the float type of ``x`` (Python float stays float)."""
    if isinstance(x, float) and np.ndim(y) == 0:
        return float(y)
    return y


def add_adjoints(a: Any, b: Any) -> Any:
    """``a + b`` for adjoints that may be lists (element by element) or weak zeros."""
    if isinstance(a, list) or isinstance(b, list):
        if not isinstance(b, list):
            return a
        if not isinstance(a, list):
            return list(b)
        return [add_adjoints(x, y) for x, y in zip(a, b)]
    return a + b
