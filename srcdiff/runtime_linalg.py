"""Adjoints and tangents of ``np.linalg``'s factorisations, which generated code calls. Imports NumPy only.

Unlike the helpers of ``runtime``, these have no derivative rules of their own: each is
written in the Python subset srcdiff differentiates, from primitives that have rules, so
``grad(grad(f))`` and ``jvp(grad(f))`` differentiate their source as they would a user's
function. Keep them that way (no in-place writes to arguments, no ``with``).

Every function works on stacks of matrices (the last two axes). The derivatives of
``eigh`` and ``svd`` exist where the eigenvalues (singular values) are distinct, and
singular values nonzero: there ``inverse_gaps`` is finite. An adjoint part that is a weak
zero (the float ``0.0``: a result of the tuple that nothing read) adds nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import NoDerivativeRule

__all__ = [
    "adjugate",
    "symmetric_from",
    "symmetric_from_adjoint",
    "inverse_gaps",
    "matrix_power_derivative",
    "cholesky_adjoint",
    "cholesky_tangent",
    "cho_factor_adjoint",
    "cho_factor_tangent",
    "cho_solve_factor_adjoint",
    "cho_solve_factor_tangent",
    "eigh_adjoint",
    "eigh_tangent",
    "eig_adjoint",
    "eig_tangent",
    "singular_values_adjoint",
    "singular_values_tangent",
    "svd_adjoint",
    "svd_tangent",
    "pinv_adjoint",
    "pinv_tangent",
    "qr_adjoint",
    "qr_tangent",
]


def symmetric_from(x: Any, UPLO: str = "L") -> Any:  # noqa: N803 (NumPy's name for it)
    """The symmetric matrix ``eigh`` and ``cholesky`` read from one triangle of ``x`` (they
    never look at the other): the lower triangle mirrored for ``"L"``, the upper for ``"U"``."""
    if UPLO == "L":
        return np.tril(x) + np.swapaxes(np.tril(x, -1), -1, -2)
    return np.triu(x) + np.swapaxes(np.triu(x, 1), -1, -2)


def symmetric_from_adjoint(g: Any, UPLO: str = "L") -> Any:  # noqa: N803
    """The adjoint of ``symmetric_from``: an entry of the read triangle gets its own adjoint and,
    off the diagonal, that of its mirror image; the unread triangle gets nothing."""
    if UPLO == "L":
        return np.tril(g) + np.tril(np.swapaxes(g, -1, -2), -1)
    return np.triu(g) + np.triu(np.swapaxes(g, -1, -2), 1)


def inverse_gaps(w: Any) -> Any:
    """``1 / (w[j] - w[i])`` at ``[..., i, j]`` for i != j, and 0 on the diagonal: how an
    eigenvector turns towards the others when the matrix moves."""
    off_diagonal = np.eye(np.shape(w)[-1]) == 0
    gaps = w[..., None, :] - w[..., :, None]
    return np.where(off_diagonal, 1.0 / np.where(off_diagonal, gaps, 1.0), 0.0)


def _diagonal(x: Any) -> Any:
    """The diagonals of a stack of matrices (as ``np.diagonal(x, 0, -2, -1)``)."""
    return np.sum(x * np.eye(np.shape(x)[-1]), axis=-1)


def _as_diagonal(d: Any, n: int) -> Any:
    """Diagonal matrices with the rows of ``d`` on their diagonals (a weak zero stays one)."""
    return np.expand_dims(d, -1) * np.eye(n)


def _transposed(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _is_weak_zero(g: Any) -> bool:
    return np.ndim(g) == 0


def adjugate(a: Any, det: Any) -> Any:
    """adj(a), whose transpose is the derivative of ``det`` (``det(a)``) at every ``a``:
    ``det * inv(a)`` where each matrix is invertible (LU found no zero pivot). Elsewhere, up to
    4 x 4, from the cofactors, the determinants of the minors (which this derivative reaches
    again where a minor is singular): a polynomial, so ``grad(grad(f))`` is right there too.
    Larger, from the SVD (the cofactors would cost n^2 determinants; a large det is 0.0 by
    underflow too): ``a = u s vh`` gives adj(a) = adj(vh) adj(s) adj(u) = det(vh) vh^T
    diag(the product of the other singular values) det(u) u^T, whose own derivative is the
    SVD's (finite where the singular values are distinct)."""
    if np.all(det != 0):
        return np.expand_dims(det, (-2, -1)) * np.linalg.inv(a)
    n = np.shape(a)[-1]
    if n == 1:
        return np.ones(np.shape(a)) + 0.0 * a
    if n > 4:
        u, s, vh = np.linalg.svd(a)
        others = np.prod(np.where(np.eye(n, dtype=bool), 1.0, np.expand_dims(s, -2)), axis=-1)  # row i: s_i made 1
        sign = np.linalg.det(u) * np.linalg.det(vh)
        return np.expand_dims(sign, (-2, -1)) * (_transposed(vh) * np.expand_dims(others, -2)) @ _transposed(u)
    rows = []
    for i in range(n):
        without_row = np.concatenate([a[..., :i, :], a[..., i + 1 :, :]], axis=-2)
        row = []
        for j in range(n):
            minor = np.concatenate([without_row[..., :j], without_row[..., j + 1 :]], axis=-1)
            row.append((-1.0) ** (i + j) * np.linalg.det(minor))
        rows.append(np.stack(row, axis=-1))
    return np.swapaxes(np.stack(rows, axis=-2), -1, -2)  # adj(a) is the transposed cofactor matrix


def matrix_power_derivative(a: Any, e: Any, n: int) -> Any:
    """The derivative of ``a ** n`` (matrix power) along ``e``: the upper-right block of
    ``[[a, e], [0, a]] ** n``, whose diagonal blocks are ``a ** n``. Its adjoint is the same
    function of ``a``'s transpose, and negative ``n`` works as it does for ``a ** n``."""
    m = np.shape(a)[-1]
    zero = np.zeros(np.broadcast_shapes(np.shape(a), np.shape(e)))  # e may be a weak zero
    top = np.concatenate([a + zero, e + zero], axis=-1)
    bottom = np.concatenate([zero, a + zero], axis=-1)
    return np.linalg.matrix_power(np.concatenate([top, bottom], axis=-2), n)[..., :m, m:]


def _lower_half_diagonal(x: Any) -> Any:
    """The strictly lower triangle of ``x`` and half its diagonal (its own adjoint)."""
    return np.tril(x, -1) + 0.5 * x * np.eye(np.shape(x)[-1])


def cholesky_adjoint(g: Any, ans: Any) -> Any:
    """The adjoint of ``a`` in ``l = np.linalg.cholesky(a)``: from ``dl = l phi(l^-1 da l^-T)``,
    where ``phi`` keeps the lower triangle and half the diagonal."""
    if _is_weak_zero(g):
        return np.zeros(np.shape(ans))
    inverse = np.linalg.inv(ans)
    return symmetric_from_adjoint(_transposed(inverse) @ _lower_half_diagonal(_transposed(ans) @ g) @ inverse)


def cholesky_tangent(t: Any, ans: Any) -> Any:
    """The tangent of ``l = np.linalg.cholesky(a)`` along ``t``: ``l phi(l^-1 t l^-T)``."""
    inverse = np.linalg.inv(ans)
    return ans @ _lower_half_diagonal(inverse @ symmetric_from(t) @ _transposed(inverse))


def _factor(c: Any, lower: bool) -> Any:
    """The triangular factor ``l`` (``a = l l^T``) that ``scipy.linalg.cho_factor``'s ``c`` holds
    in its lower triangle, or as ``u = l^T`` in its upper one; its other triangle is unspecified."""
    return np.tril(c) if lower else _transposed(np.triu(c))


_UNSPECIFIED = (
    "no derivative for the triangle of scipy.linalg.cho_factor's result that holds no factor "
    "(SciPy leaves its entries unspecified)"
)


def cho_factor_adjoint(g: Any, c: Any, lower: bool) -> Any:
    """The adjoint of ``a`` in ``c, lower = scipy.linalg.cho_factor(a, lower)``: ``np.linalg.cholesky``'s,
    of the triangle that holds the factor (the one of ``a`` that SciPy reads). Raises
    ``NoDerivativeRule`` where an adjoint reaches the other triangle, whose entries SciPy does not specify."""
    gc = g[0]
    if _is_weak_zero(gc):
        return np.zeros(np.shape(c))
    if np.any((np.triu(gc, 1) if lower else np.tril(gc, -1)) != 0):
        raise NoDerivativeRule(_UNSPECIFIED, suggestion="Read c only through scipy.linalg.cho_solve, or take np.tril(c) "
                               "(np.triu(c) for lower=False).")
    adjoint = cholesky_adjoint(np.tril(gc) if lower else _transposed(np.triu(gc)), _factor(c, lower))
    return adjoint if lower else _transposed(adjoint)


def cho_factor_tangent(t: Any, c: Any, lower: bool) -> tuple:
    """The tangent of ``(c, lower) = scipy.linalg.cho_factor(a, lower)`` along ``t``: that of the
    factor in its triangle, and NaN in the other, whose entries SciPy does not specify."""
    tangent = cholesky_tangent(t if lower else _transposed(t), _factor(c, lower))
    unspecified = np.full(np.shape(c), np.nan)
    if lower:
        return np.tril(tangent) + np.triu(unspecified, 1), 0.0
    return np.triu(_transposed(tangent)) + np.tril(unspecified, -1), 0.0


def cho_solve_factor_adjoint(y: Any, x: Any, c: Any, lower: bool) -> Any:
    """The adjoint of ``c`` in ``x = scipy.linalg.cho_solve((c, lower), b)``, given ``y``, the
    solution for the adjoint ``g`` of ``x``: ``a``'s adjoint is ``-y x^T``, and ``a = l l^T``
    (``u^T u``) gives the factor ``(da + da^T) l`` (``u (da + da^T)``) in its triangle."""
    n = np.shape(c)[-1]
    outer = -(np.reshape(y, (n, -1)) @ _transposed(np.reshape(x, (n, -1))))
    both = outer + _transposed(outer)
    return np.tril(both @ np.tril(c)) if lower else np.triu(np.triu(c) @ both)


def cho_solve_factor_tangent(t: Any, x: Any, c: Any, lower: bool) -> Any:
    """What ``x = scipy.linalg.cho_solve((c, lower), b)`` solves for along a tangent ``t`` of
    ``c``: ``-da x``, with ``da = dl l^T + l dl^T`` from the factor's triangle (``x``'s shape)."""
    factor, moved = _factor(c, lower), _factor(t, lower)
    n = np.shape(c)[-1]
    da = moved @ _transposed(factor) + factor @ _transposed(moved)
    return np.reshape(-(da @ np.reshape(x, (n, -1))), np.shape(x))


def eigh_adjoint(g: Any, w: Any, v: Any, UPLO: str = "L") -> Any:  # noqa: N803
    """The adjoint of ``a`` in ``w, v = np.linalg.eigh(a)``, for distinct eigenvalues: with
    ``p = v^T da v``, ``dw = diag(p)`` and ``dv = v (inverse_gaps(w) * p)``."""
    gw, gv = g[0], g[1]
    inner = _as_diagonal(gw, np.shape(v)[-1])
    if not _is_weak_zero(gv):
        inner = inner + inverse_gaps(w) * (_transposed(v) @ gv)
    return symmetric_from_adjoint(v @ inner @ _transposed(v), UPLO)


def eigh_tangent(t: Any, w: Any, v: Any, UPLO: str = "L") -> tuple:  # noqa: N803
    """The tangents of ``w, v = np.linalg.eigh(a)`` along ``t`` (see ``eigh_adjoint``)."""
    p = _transposed(v) @ symmetric_from(t, UPLO) @ v
    return (_diagonal(p), v @ (inverse_gaps(w) * p))


def eig_adjoint(g: Any, w: Any, v: Any) -> Any:
    """The adjoint of ``a`` in ``w, v = np.linalg.eig(a)``, for real eigenvalues, distinct: with
    ``p = v^-1 da v``, ``dw = diag(p)`` and ``dv = v (inverse_gaps(w) * p)``, less each column's
    part along itself (NumPy scales each eigenvector to length 1)."""
    w, v = _real_spectrum(w, v)
    gw, gv = np.real(g[0]), np.real(g[1])  # (a real perturbation keeps them real: only real parts count)
    inner = _as_diagonal(gw, np.shape(v)[-1])
    if not _is_weak_zero(gv):
        along = _as_diagonal(_diagonal(_transposed(v) @ gv), np.shape(v)[-1])  # (the length kept at 1)
        inner = inner + inverse_gaps(w) * (_transposed(v) @ (gv - v @ along))
    return _transposed(np.linalg.inv(v)) @ inner @ _transposed(v)  # (inv, not solve: inner may be a Dask array)


def eig_tangent(t: Any, w: Any, v: Any) -> tuple:
    """The tangents of ``w, v = np.linalg.eig(a)`` along ``t`` (see ``eig_adjoint``)."""
    w, v = _real_spectrum(w, v)
    p = np.linalg.inv(v) @ t @ v
    turned = v @ (inverse_gaps(w) * p)
    return (_diagonal(p), turned - v * np.sum(v * turned, axis=-2, keepdims=True))


def _real_spectrum(w: Any, v: Any) -> tuple:
    """``w`` and ``v`` as real arrays (NumPy 2.5 returns complex ones for a real spectrum too);
    ``NoDerivativeRule`` if an eigenvalue is not real."""
    if not np.iscomplexobj(w):
        return w, v
    if np.any(np.imag(w) != 0):
        raise NoDerivativeRule(_COMPLEX_SPECTRUM, suggestion=_COMPLEX_SPECTRUM_ADVICE)
    return np.real(w), np.real(v)


_COMPLEX_SPECTRUM = "no derivative for np.linalg.eig of a matrix with complex eigenvalues (srcdiff's is for a real spectrum)"
_COMPLEX_SPECTRUM_ADVICE = "For a symmetric matrix, use np.linalg.eigh."


def _thin(u: Any, s: Any, vh: Any, full_matrices: bool, gu: Any, gvh: Any) -> tuple:
    """``u, s, vh`` of the thin SVD (k = min(m, n) singular vectors): full matrices square
    ones. The extra singular vectors of a non-square matrix are an arbitrary basis and have no
    derivative: refused where their adjoints ``gu``, ``gvh`` are read."""
    k = np.shape(s)[-1]
    extra_read = False
    if not _is_weak_zero(gu) and np.any(gu[..., :, k:] != 0):
        extra_read = True
    if not _is_weak_zero(gvh) and np.any(gvh[..., k:, :] != 0):
        extra_read = True
    if full_matrices and extra_read and np.shape(u)[-1] != np.shape(vh)[-2]:
        raise NoDerivativeRule(
            "no derivative for the extra singular vectors of np.linalg.svd(a, full_matrices=True) of a non-square a",
            suggestion="Pass full_matrices=False (or compute_uv=False for the singular values alone).",
        )
    return u[..., :, :k], s, vh[..., :k, :]


def singular_values_adjoint(g: Any, a: Any) -> Any:
    """The adjoint of ``a`` in ``np.linalg.svd(a, compute_uv=False)``: ``ds = diag(u^T da v)``."""
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(g, -2)) @ vh


def singular_values_tangent(t: Any, a: Any) -> Any:
    """The tangent of ``np.linalg.svd(a, compute_uv=False)`` along ``t``."""
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return _diagonal(_transposed(u) @ t @ _transposed(vh))


def svd_adjoint(g: Any, u: Any, s: Any, vh: Any, full_matrices: bool = True) -> Any:
    """The adjoint of ``a`` in ``u, s, vh = np.linalg.svd(a, ...)``, for distinct nonzero singular
    values. With ``p = u^T da v`` and ``f = inverse_gaps(s**2)``: ``ds = diag(p)``,
    ``du = u (f * (p s + s p^T)) + (da v - u p) / s``, and ``dv`` likewise."""
    gu, gs, gvh = g[0], g[1], g[2]
    u, s, vh = _thin(u, s, vh, full_matrices, gu, gvh)
    k = np.shape(s)[-1]
    f = inverse_gaps(s**2)
    inner = _as_diagonal(gs, k)
    outside = 0.0  # the parts of the adjoint off the column spaces of u and v
    if not _is_weak_zero(gu):
        gu = gu[..., :, :k]
        inner = inner + f * (_transposed(u) @ gu - _transposed(gu) @ u) * s[..., None, :]
        outside = outside + (gu - u @ (_transposed(u) @ gu)) / s[..., None, :] @ vh
    if not _is_weak_zero(gvh):
        gvh = gvh[..., :k, :]
        inner = inner + s[..., :, None] * f * (vh @ _transposed(gvh) - gvh @ _transposed(vh))
        outside = outside + u @ ((gvh - (gvh @ _transposed(vh)) @ vh) / s[..., :, None])
    return u @ inner @ vh + outside


def svd_tangent(t: Any, u: Any, s: Any, vh: Any, full_matrices: bool = True) -> tuple:
    """Tangents of ``u, s, vh``; those of the extra singular vectors of full matrices of a
    non-square ``a`` are nan (they have none), so only what reads them turns nan."""
    m, n = np.shape(u)[-2], np.shape(vh)[-1]
    u, s, vh = _thin(u, s, vh, full_matrices, 0.0, 0.0)
    v = _transposed(vh)
    p = _transposed(u) @ t @ v
    f = inverse_gaps(s**2)
    du = u @ (f * (p * s[..., None, :] + s[..., :, None] * _transposed(p))) + (t @ v - u @ p) / s[..., None, :]
    dv = v @ (f * (s[..., :, None] * p + _transposed(p) * s[..., None, :]))
    dv = dv + (_transposed(t) @ u - v @ _transposed(p)) / s[..., None, :]
    dvh = _transposed(dv)
    if full_matrices and m != n:
        k = np.shape(s)[-1]
        du = np.concatenate([du, np.full(np.shape(du)[:-1] + (m - k,), np.nan)], axis=-1)
        dvh = np.concatenate([dvh, np.full(np.shape(dvh)[:-2] + (n - k, n), np.nan)], axis=-2)
    return (du, _diagonal(p), dvh)


def pinv_adjoint(g: Any, a: Any, ans: Any) -> Any:
    """The adjoint of ``a`` in ``p = np.linalg.pinv(a)``, where the rank does not change:
    ``dp = -p da p + p p^T da^T (1 - a p) + (1 - p a) da^T p^T p``."""
    if _is_weak_zero(g):
        return np.zeros(np.shape(a))
    p, pt, gt = ans, _transposed(ans), _transposed(g)
    left = -pt @ g @ pt
    return left + (gt - a @ (p @ gt)) @ (p @ pt) + (pt @ p) @ (gt - (gt @ p) @ a)


def pinv_tangent(t: Any, a: Any, ans: Any) -> Any:
    """The tangent of ``p = np.linalg.pinv(a)`` along ``t`` (see ``pinv_adjoint``)."""
    p, pt, tt = ans, _transposed(ans), _transposed(t)
    return -p @ t @ p + (p @ pt) @ (tt - (tt @ a) @ p) + (tt - p @ (a @ tt)) @ (pt @ p)


def _qr_factors(a: Any, q: Any, r: Any, mode: str) -> tuple:
    """``q, r`` of ``np.linalg.qr(a, mode)``, where they have a derivative: a wide matrix's
    ``r`` is not triangular in the way the formulas need, and other modes return other things."""
    m, n = np.shape(a)[-2], np.shape(a)[-1]
    if m < n or mode not in ("reduced", "complete") or mode == "complete" and m != n:
        raise NoDerivativeRule(
            f"no derivative for np.linalg.qr(a, mode={mode!r}) of a {m}x{n} matrix",
            suggestion="Differentiate mode='reduced' of a matrix with at least as many rows as columns.",
        )
    return q, r


def qr_adjoint(g: Any, a: Any, q: Any, r: Any, mode: str = "reduced") -> Any:
    """The adjoint of ``a`` in ``q, r = np.linalg.qr(a)`` (full column rank, m >= n): with
    ``m = r gr^T - gq^T q``, ``ga = (gq + q sym(m)) r^-T``, where ``sym`` copies the lower
    triangle of ``m`` onto the upper."""
    q, r = _qr_factors(a, q, r, mode)
    gq, gr = g[0], g[1]
    m = 0.0
    if not _is_weak_zero(gr):
        m = r @ _transposed(gr)
    if not _is_weak_zero(gq):
        m = m - _transposed(gq) @ q
    lower = np.tril(m, -1)
    inner = lower + _transposed(lower) + m * np.eye(np.shape(r)[-1])
    return (gq + q @ inner) @ _transposed(np.linalg.inv(r))


def qr_tangent(t: Any, a: Any, q: Any, r: Any, mode: str = "reduced") -> tuple:
    """With ``x = q^T da r^-1`` and ``omega`` the skew matrix of its strictly lower triangle:
    ``dr = (x - omega) r`` and ``dq = da r^-1 - q (x - omega)``."""
    q, r = _qr_factors(a, q, r, mode)
    r_inverse = np.linalg.inv(r)
    x = _transposed(q) @ t @ r_inverse
    lower = np.tril(x, -1)
    upper = x - lower + _transposed(lower)  # x - omega: upper triangular
    return (t @ r_inverse - q @ upper, upper @ r)
