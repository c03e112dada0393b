"""Derivative rules for ``np.linalg``, on single matrices and on stacks of them (the last two axes).

A function that returns a tuple (``slogdet``, ``eigh``, ``svd``, ``qr``) gets ``g`` as a list
with one adjoint per part of its result, a weak zero ``0.0`` for a part nothing read; its
tangent is a tuple. The factorisations' entries call ``srcdiff.runtime_linalg``, whose
functions srcdiff differentiates from their source for ``grad(grad(f))``.
"""

import numpy as np

from .. import runtime_linalg
from . import NAMESPACE, PARTS, jvp, vjp

# what the templates below call, bound in emitted code like runtime's helpers
NAMESPACE.update({n: getattr(runtime_linalg, n) for n in runtime_linalg.__all__})

# inverses and determinants: d(a^-1) = -a^-1 da a^-1, d(det a) = tr(adj(a) da) (= det(a) tr(a^-1 da) if invertible)
# (broadcast_like: an adjoint that is a weak zero, from a branch that did not read ans, becomes zeros for @)
vjp("np.linalg.inv(a)", a="-np.swapaxes(ans, -1, -2) @ broadcast_like(g, ans) @ np.swapaxes(ans, -1, -2)")
# solve(a, b) is inv(a) @ b, with matmul's reading of a vector b and of stacks: the chain rule through both
if int(np.__version__.split(".")[0]) >= 2:
    vjp("np.linalg.solve(a, b)",
        a="-np.swapaxes(np.linalg.inv(a), -1, -2) @ matmul_adjoint_a(g, np.linalg.inv(a), b) @ np.swapaxes(np.linalg.inv(a), -1, -2)",
        b="matmul_adjoint_b(g, np.linalg.inv(a), b)")  # fmt: skip
else:
    # NumPy 1 reads b as a stack of vectors when it has one dimension fewer than a (NumPy 2, since
    # 2.0, only when it is 1-D): as columns (..., M, 1), b and g follow matmul's reading of matrices.
    # (A weak zero g, the float 0.0, stays one.)
    vjp("np.linalg.solve(a, b)",
        a="-np.swapaxes(np.linalg.inv(a), -1, -2) @ matmul_adjoint_a(np.expand_dims(g, -1) if np.ndim(g) == np.ndim(b) == np.ndim(a) - 1 else g, np.linalg.inv(a), np.expand_dims(b, -1) if np.ndim(b) == np.ndim(a) - 1 else b) @ np.swapaxes(np.linalg.inv(a), -1, -2)",
        b="np.reshape(matmul_adjoint_b(np.expand_dims(g, -1) if np.ndim(g) == np.ndim(b) == np.ndim(a) - 1 else g, np.linalg.inv(a), np.expand_dims(b, -1) if np.ndim(b) == np.ndim(a) - 1 else b), np.shape(b))")  # fmt: skip
vjp("np.linalg.det(a)", a="np.expand_dims(g, (-2, -1)) * np.swapaxes(adjugate(a, ans), -1, -2)")  # singular a too
# the sign is piecewise constant: only the log of the magnitude, part 1, has an adjoint
vjp("np.linalg.slogdet(a)", a="np.expand_dims(g[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)", kind=PARTS)
vjp("np.linalg.matrix_power(a, n)", a="matrix_power_derivative(np.swapaxes(a, -1, -2), g, n)", discrete=("n",))
vjp("np.linalg.pinv(a, rcond=None)", a="pinv_adjoint(g, a, ans)", discrete=("rcond",))

# factorisations (eigh and cholesky read one triangle of a, as NumPy does)
vjp("np.linalg.cholesky(a)", a="cholesky_adjoint(g, ans)")
vjp("np.linalg.eigh(a, UPLO='L')", a="eigh_adjoint(g, ans[0], ans[1], UPLO)", kind=PARTS, discrete=("UPLO",))
vjp("np.linalg.eig(a)", a="eig_adjoint(g, ans[0], ans[1])", kind=PARTS)  # real eigenvalues: checked when it runs
vjp("np.linalg.svd(a, full_matrices=True, compute_uv=True)",
    a="svd_adjoint(g, ans[0], ans[1], ans[2], full_matrices) if compute_uv else singular_values_adjoint(g, a)",
    kind=PARTS, discrete=("full_matrices", "compute_uv"))  # fmt: skip
vjp("np.linalg.qr(a, mode='reduced')", a="qr_adjoint(g, a, ans[0], ans[1], mode)", kind=PARTS, discrete=("mode",))

# ----------------------------------------------------------------- forward mode
jvp("np.linalg.inv(a)", a="-ans @ t @ ans")
if int(np.__version__.split(".")[0]) < 2:  # (b as columns: see the vjp)
    jvp("np.linalg.solve(a, b)",
        a="np.reshape(-np.linalg.solve(a, t @ (np.expand_dims(ans, -1) if np.ndim(b) == np.ndim(a) - 1 else ans)), np.shape(ans))",
        b="np.linalg.solve(a, t)")  # fmt: skip
else:
    jvp("np.linalg.solve(a, b)", a="-np.linalg.inv(a) @ t @ np.linalg.inv(a) @ b", b="np.linalg.solve(a, t)")
jvp("np.linalg.det(a)", a="np.sum(np.swapaxes(adjugate(a, ans), -1, -2) * t, axis=(-2, -1))")
jvp("np.linalg.slogdet(a)", a="(0.0 * ans[0], np.sum(np.swapaxes(np.linalg.inv(a), -1, -2) * t, axis=(-2, -1)))")
jvp("np.linalg.matrix_power(a, n)", a="matrix_power_derivative(a, t, n)")
jvp("np.linalg.pinv(a, rcond=None)", a="pinv_tangent(t, a, ans)")
jvp("np.linalg.cholesky(a)", a="cholesky_tangent(t, ans)")
jvp("np.linalg.eigh(a, UPLO='L')", a="eigh_tangent(t, ans[0], ans[1], UPLO)")
jvp("np.linalg.eig(a)", a="eig_tangent(t, ans[0], ans[1])")
jvp("np.linalg.svd(a, full_matrices=True, compute_uv=True)",
    a="svd_tangent(t, ans[0], ans[1], ans[2], full_matrices) if compute_uv else singular_values_tangent(t, a)")  # fmt: skip
jvp("np.linalg.qr(a, mode='reduced')", a="qr_tangent(t, a, ans[0], ans[1], mode)")
