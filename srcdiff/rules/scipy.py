"""Derivative rules for SciPy: special functions and ``scipy.stats`` distributions.

Imported only when SciPy is installed (``pip install 'srcdiff[scipy]'``); srcdiff itself
needs NumPy alone. Most entries are elementwise, so they are written as partial derivatives
(``elementwise``): the adjoint of a parameter is ``g`` times its partial, its tangent ``t``
times it. Templates call SciPy through the name ``scipy``, which emitted code imports.

A distribution method is keyed by the bound method ``scipy.stats.norm.logpdf``: each access
makes a new method object, but bound methods of one instance compare and hash equal, so
``from scipy.stats import norm; norm.logpdf(...)`` finds the same rule.
"""

from __future__ import annotations

import numpy as np
import scipy
import scipy.linalg
import scipy.special
import scipy.stats

from . import ARRAY, ELEMENTWISE, NAMESPACE, PARTS, REDUCTION, SCALAR, jvp, nondifferentiable, returns_views, vjp

if tuple(int(part) for part in scipy.__version__.split(".")[:2]) < (1, 8):  # older: as if not installed
    raise ImportError(f"srcdiff's SciPy rules need SciPy 1.8 or later, not {scipy.__version__}", name="scipy")
NAMESPACE["scipy"] = scipy  # templates call scipy.special.digamma(x), scipy.stats.norm.pdf(...)


def elementwise(pattern: str, *, discrete: tuple[str, ...] = (), **partials: str) -> None:
    """Reverse and forward entries of an elementwise function, from its partial derivatives."""
    vjp(pattern, kind=ELEMENTWISE, discrete=discrete, **{p: f"g * ({d})" for p, d in partials.items()})
    jvp(pattern, **{p: f"t * ({d})" for p, d in partials.items()})


def location_scale(pattern: str, *, x: str, jacobian: str = "", discrete: tuple[str, ...] = (), **shape: str) -> None:
    """Entries for ``f((x - loc) / scale, *shape)`` (a cdf, or a density with ``jacobian``) from
    its partial in ``x``: the partial in ``loc`` is minus it, in ``scale`` ``-(x - loc) / scale``
    times it, less ``jacobian / scale`` where the density carries the factor ``1 / scale``
    (``jacobian`` is 1 for a log density, ``ans`` for a density)."""
    extra = f" + {jacobian}" if jacobian else ""
    elementwise(pattern, discrete=discrete, x=x, loc=f"-({x})", scale=f"-((x - loc) * ({x}){extra}) / scale", **shape)


def log_density(name: str, parameters: str, *, x: str, **shape: str) -> None:
    """``name.logpdf`` and ``name.pdf`` of a location-scale family, from the partials of the log density."""
    location_scale(f"{name}.logpdf({parameters})", x=x, jacobian="1.0", **shape)
    location_scale(f"{name}.pdf({parameters})", x=f"ans * ({x})", jacobian="ans", **{p: f"ans * ({d})" for p, d in shape.items()})


DIGAMMA = "scipy.special.digamma"
# special functions, elementwise
elementwise("scipy.special.expit(x)", x="ans * (1.0 - ans)")
elementwise("scipy.special.logit(x)", x="1.0 / (x * (1.0 - x))")
elementwise("scipy.special.erf(x)", x="2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)")
elementwise("scipy.special.erfc(x)", x="-2.0 / np.sqrt(np.pi) * np.exp(-x ** 2)")
elementwise("scipy.special.erfinv(x)", x="np.sqrt(np.pi) / 2.0 * np.exp(ans ** 2)")
elementwise("scipy.special.erfcinv(x)", x="-np.sqrt(np.pi) / 2.0 * np.exp(ans ** 2)")
elementwise("scipy.special.xlogy(x, y)", x="np.log(y)", y="x / y")
elementwise("scipy.special.xlog1py(x, y)", x="np.log1p(y)", y="x / (1.0 + y)")
# the gamma family: each derivative is the next polygamma, so every order has a rule
elementwise("scipy.special.gamma(x)", x=f"ans * {DIGAMMA}(x)")
elementwise("scipy.special.gammaln(x)", x=f"{DIGAMMA}(x)")
elementwise("scipy.special.loggamma(x)", x=f"{DIGAMMA}(x)")  # real x > 0: the same as gammaln
elementwise("scipy.special.rgamma(x)", x=f"-ans * {DIGAMMA}(x)")
elementwise("scipy.special.digamma(x)", x="scipy.special.polygamma(1, x)")  # scipy.special.psi is digamma
elementwise("scipy.special.polygamma(n, x)", x="scipy.special.polygamma(n + 1, x)", discrete=("n",))
# log of the multivariate gamma: a sum of gammaln(a - j / 2) over j < d
elementwise("scipy.special.multigammaln(a, d)", a=f"np.sum({DIGAMMA}(np.expand_dims(a, -1) - np.arange(d) / 2.0), axis=-1)",
            discrete=("d",))  # fmt: skip
elementwise(
    "scipy.special.beta(a, b)", a=f"ans * ({DIGAMMA}(a) - {DIGAMMA}(a + b))", b=f"ans * ({DIGAMMA}(b) - {DIGAMMA}(a + b))"
)
elementwise("scipy.special.betaln(a, b)", a=f"{DIGAMMA}(a) - {DIGAMMA}(a + b)", b=f"{DIGAMMA}(b) - {DIGAMMA}(a + b)")
# Bessel functions: I'_v = (I_{v-1} + I_{v+1}) / 2, J'_v = (J_{v-1} - J_{v+1}) / 2, likewise Y;
# the exponentially scaled ive = iv * exp(-|x|) loses sign(x) * ive. No derivative in the order v.
elementwise("scipy.special.i0(x)", x="scipy.special.i1(x)")
elementwise("scipy.special.i1(x)", x="(scipy.special.i0(x) + scipy.special.iv(2, x)) / 2.0")
elementwise("scipy.special.iv(v, x)", x="(scipy.special.iv(v - 1, x) + scipy.special.iv(v + 1, x)) / 2.0")
elementwise("scipy.special.i0e(x)", x="scipy.special.i1e(x) - np.sign(x) * ans")
elementwise("scipy.special.i1e(x)", x="(scipy.special.i0e(x) + scipy.special.ive(2, x)) / 2.0 - np.sign(x) * ans")
elementwise("scipy.special.ive(v, x)", x="(scipy.special.ive(v - 1, x) + scipy.special.ive(v + 1, x)) / 2.0 - np.sign(x) * ans")
elementwise("scipy.special.j0(x)", x="-scipy.special.j1(x)")
elementwise("scipy.special.j1(x)", x="(scipy.special.j0(x) - scipy.special.jv(2, x)) / 2.0")
elementwise("scipy.special.jv(v, x)", x="(scipy.special.jv(v - 1, x) - scipy.special.jv(v + 1, x)) / 2.0")
elementwise("scipy.special.y0(x)", x="-scipy.special.y1(x)")
elementwise("scipy.special.y1(x)", x="(scipy.special.y0(x) - scipy.special.yv(2, x)) / 2.0")
elementwise("scipy.special.yv(v, x)", x="(scipy.special.yv(v - 1, x) - scipy.special.yv(v + 1, x)) / 2.0")
elementwise("scipy.special.yn(n, x)", x="(scipy.special.yn(n - 1, x) - scipy.special.yn(n + 1, x)) / 2.0", discrete=("n",))
# regularised incomplete gamma and beta functions, differentiated in x: the integrand at x.
# Their shape parameters have no closed-form derivative, so a varied one is refused.
X_POWER = "(a - 1.0) * np.log(x)"
elementwise("scipy.special.gammainc(a, x)", x=f"np.exp({X_POWER} - x - scipy.special.gammaln(a))")
elementwise("scipy.special.gammaincc(a, x)", x=f"-np.exp({X_POWER} - x - scipy.special.gammaln(a))")
elementwise("scipy.special.betainc(a, b, x)", x=f"np.exp({X_POWER} + (b - 1.0) * np.log1p(-x) - scipy.special.betaln(a, b))")
nondifferentiable(scipy.special.gammasgn, kind=ELEMENTWISE)

# normalisations along an axis. logsumexp's weights b * exp(a - ans) are the softmax of a
# (b broadcasts to a's shape, as SciPy requires); return_sign is not in the pattern, so refused
SOFTMAX_OF_A = "np.exp(a - unreduce(ans, a, axis, keepdims)) * (1 if b is None else b)"
vjp("scipy.special.logsumexp(a, axis=None, b=None, keepdims=False)", a=f"unreduce(g, a, axis, keepdims) * {SOFTMAX_OF_A}",
    b="unbroadcast(unreduce(g, a, axis, keepdims) * np.exp(a - unreduce(ans, a, axis, keepdims)), b)",
    kind=REDUCTION, discrete=("axis", "keepdims"))  # fmt: skip
jvp("scipy.special.logsumexp(a, axis=None, b=None, keepdims=False)", a=f"np.sum(t * {SOFTMAX_OF_A}, axis=axis, keepdims=keepdims)",
    b="np.sum(t * np.exp(a - unreduce(ans, a, axis, keepdims)), axis=axis, keepdims=keepdims)")  # fmt: skip
vjp("scipy.special.softmax(x, axis=None)", x="ans * (g - np.sum(g * ans, axis=axis, keepdims=True))", kind=ARRAY,
    discrete=("axis",))  # fmt: skip
jvp("scipy.special.softmax(x, axis=None)", x="ans * (t - np.sum(t * ans, axis=axis, keepdims=True))")
vjp("scipy.special.log_softmax(x, axis=None)", x="g - np.exp(ans) * np.sum(broadcast_like(g, ans), axis=axis, keepdims=True)",
    kind=ARRAY, discrete=("axis",))  # fmt: skip
jvp("scipy.special.log_softmax(x, axis=None)", x="t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True)")

# scipy.stats: each family's log density, differentiated in x and in its shape parameters
# (location_scale derives loc and scale); the density is ans times the same partials
Z2 = "((x - loc) / scale) ** 2"
log_density("scipy.stats.norm", "x, loc=0.0, scale=1.0", x="(loc - x) / scale ** 2")
location_scale("scipy.stats.norm.cdf(x, loc=0.0, scale=1.0)", x="scipy.stats.norm.pdf(x, loc, scale)")
location_scale("scipy.stats.norm.sf(x, loc=0.0, scale=1.0)", x="-scipy.stats.norm.pdf(x, loc, scale)")
location_scale("scipy.stats.norm.logcdf(x, loc=0.0, scale=1.0)", x="np.exp(scipy.stats.norm.logpdf(x, loc, scale) - ans)")
location_scale("scipy.stats.norm.logsf(x, loc=0.0, scale=1.0)", x="-np.exp(scipy.stats.norm.logpdf(x, loc, scale) - ans)")
log_density("scipy.stats.t", "x, df, loc=0.0, scale=1.0", x="-(df + 1.0) * (x - loc) / (df * scale ** 2 + (x - loc) ** 2)",
            df=f"({DIGAMMA}((df + 1.0) / 2.0) - {DIGAMMA}(df / 2.0) - 1.0 / df - np.log1p({Z2} / df)"
               f" + (df + 1.0) * {Z2} / (df * (df + {Z2}))) / 2.0")  # fmt: skip
log_density("scipy.stats.gamma", "x, a, loc=0.0, scale=1.0", x="(a - 1.0) / (x - loc) - 1.0 / scale",
            a=f"np.log((x - loc) / scale) - {DIGAMMA}(a)")  # fmt: skip
log_density("scipy.stats.beta", "x, a, b, loc=0.0, scale=1.0", x="(a - 1.0) / (x - loc) - (b - 1.0) / (loc + scale - x)",
            a=f"np.log((x - loc) / scale) - {DIGAMMA}(a) + {DIGAMMA}(a + b)",
            b=f"np.log1p((loc - x) / scale) - {DIGAMMA}(b) + {DIGAMMA}(a + b)")  # fmt: skip
log_density("scipy.stats.chi2", "x, df, loc=0.0, scale=1.0", x="(df / 2.0 - 1.0) / (x - loc) - 0.5 / scale",
            df=f"(np.log((x - loc) / (2.0 * scale)) - {DIGAMMA}(df / 2.0)) / 2.0")  # fmt: skip
# distribution functions: the density is the partial in x (none in the shape parameters, refused)
location_scale("scipy.stats.t.cdf(x, df, loc=0.0, scale=1.0)", x="scipy.stats.t.pdf(x, df, loc, scale)")
location_scale("scipy.stats.t.logcdf(x, df, loc=0.0, scale=1.0)", x="np.exp(scipy.stats.t.logpdf(x, df, loc, scale) - ans)")
location_scale("scipy.stats.gamma.cdf(x, a, loc=0.0, scale=1.0)", x="scipy.stats.gamma.pdf(x, a, loc, scale)")
location_scale("scipy.stats.beta.cdf(x, a, b, loc=0.0, scale=1.0)", x="scipy.stats.beta.pdf(x, a, b, loc, scale)")
location_scale("scipy.stats.chi2.cdf(x, df, loc=0.0, scale=1.0)", x="scipy.stats.chi2.pdf(x, df, loc, scale)")
# the count (SciPy's k, a name templates reserve) and its integer shift loc are discrete
elementwise("scipy.stats.poisson.logpmf(count, mu, loc=0)", mu="(count - loc) / mu - 1.0", discrete=("count", "loc"))
elementwise("scipy.stats.poisson.pmf(count, mu, loc=0)", mu="ans * ((count - loc) / mu - 1.0)", discrete=("count", "loc"))
# P(X <= k) loses the mass of floor(k) as mu grows
elementwise("scipy.stats.poisson.cdf(count, mu, loc=0)", mu="-scipy.stats.poisson.pmf(np.floor(count - loc), mu)",
            discrete=("count", "loc"))  # fmt: skip
# x holds one point per column (shape (K,) or (K, n)) and lies on the simplex: its adjoint is
# the unconstrained one, which moves x off it (reparametrise, e.g. by a softmax, to stay on)
vjp("scipy.stats.dirichlet.logpdf(x, alpha)", x="np.reshape(np.outer(alpha - 1.0, g), np.shape(x)) / x",
    alpha=f"np.sum(g) * ({DIGAMMA}(np.sum(alpha)) - {DIGAMMA}(alpha)) + np.dot(np.log(x), g)")  # fmt: skip
jvp("scipy.stats.dirichlet.logpdf(x, alpha)", x="np.dot(alpha - 1.0, t / x)",
    alpha=f"np.dot(t, {DIGAMMA}(np.sum(alpha)) - {DIGAMMA}(alpha)) + np.dot(t, np.log(x))")  # fmt: skip
# the density: ans times the log density's partials
vjp("scipy.stats.dirichlet.pdf(x, alpha)", x="np.reshape(np.outer(alpha - 1.0, g * ans), np.shape(x)) / x",
    alpha=f"np.sum(g * ans) * ({DIGAMMA}(np.sum(alpha)) - {DIGAMMA}(alpha)) + np.dot(np.log(x), g * ans)")  # fmt: skip
jvp("scipy.stats.dirichlet.pdf(x, alpha)", x="ans * np.dot(alpha - 1.0, t / x)",
    alpha=f"ans * (np.dot(t, {DIGAMMA}(np.sum(alpha)) - {DIGAMMA}(alpha)) + np.dot(t, np.log(x)))")  # fmt: skip

# the multivariate normal: x holds one point per row ((d,) or (n, d)); cov is symmetric, and
# its adjoint is the symmetric one, right along every symmetric change (cov = L @ L.T stays so)
POINTS = "np.reshape(x - mean, (-1, np.size(mean)))"  # (n, d): the rows r = x - mean
WHITENED = f"{POINTS} @ scipy.linalg.inv(cov)"  # the rows r cov^-1
WEIGHTS = "np.reshape(g, (-1, 1))"  # g has one entry per point (a float for one point)
# allow_singular=True takes a pseudo-inverse where cov is (nearly) singular, which inv(cov) is not
NONSINGULAR = {"allow_singular": (False,)}
vjp("scipy.stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=False)", x=f"np.reshape(-{WEIGHTS} * ({WHITENED}), np.shape(x))",
    mean=f"np.sum({WEIGHTS} * ({WHITENED}), axis=0)",
    cov=f"0.5 * (np.transpose({WHITENED}) @ ({WEIGHTS} * ({WHITENED})) - np.sum(g) * scipy.linalg.inv(cov))",
    discrete=("allow_singular",), only=NONSINGULAR)  # fmt: skip
jvp("scipy.stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=False)",
    x=f"np.reshape(-np.sum(np.reshape(t, (-1, np.size(mean))) * ({WHITENED}), axis=-1), np.shape(ans))",
    mean=f"np.reshape(np.sum(t * ({WHITENED}), axis=-1), np.shape(ans))",
    cov=f"np.reshape(0.5 * (np.sum(({WHITENED}) @ t * ({WHITENED}), axis=-1) - np.sum(scipy.linalg.inv(cov) * t)), np.shape(ans))")  # fmt: skip
# the density: the same with g * ans for g, and ans times the tangent
DENSITY_WEIGHTS = "np.reshape(g * ans, (-1, 1))"
vjp("scipy.stats.multivariate_normal.pdf(x, mean, cov, allow_singular=False)", x=f"np.reshape(-{DENSITY_WEIGHTS} * ({WHITENED}), np.shape(x))",
    mean=f"np.sum({DENSITY_WEIGHTS} * ({WHITENED}), axis=0)",
    cov=f"0.5 * (np.transpose({WHITENED}) @ ({DENSITY_WEIGHTS} * ({WHITENED})) - np.sum(g * ans) * scipy.linalg.inv(cov))",
    discrete=("allow_singular",), only=NONSINGULAR)  # fmt: skip
jvp("scipy.stats.multivariate_normal.pdf(x, mean, cov, allow_singular=False)",
    x=f"ans * np.reshape(-np.sum(np.reshape(t, (-1, np.size(mean))) * ({WHITENED}), axis=-1), np.shape(ans))",
    mean=f"ans * np.reshape(np.sum(t * ({WHITENED}), axis=-1), np.shape(ans))",
    cov=f"ans * np.reshape(0.5 * (np.sum(({WHITENED}) @ t * ({WHITENED}), axis=-1) - np.sum(scipy.linalg.inv(cov) * t)),"
        " np.shape(ans))")  # fmt: skip
# the entropy, half the log determinant of 2 pi e cov: its symmetric adjoint is cov^-1 / 2 (a matrix cov)
vjp("scipy.stats.multivariate_normal.entropy(mean=None, cov=1)", cov="0.5 * g * scipy.linalg.inv(cov)", kind=SCALAR,
    discrete=("mean",))  # fmt: skip
jvp("scipy.stats.multivariate_normal.entropy(mean=None, cov=1)", cov="0.5 * np.sum(scipy.linalg.inv(cov) * t)")
# x = op(a)^-1 b, op(a) = a or its transpose (trans 1 or 2: real matrices), reading one triangle of a:
# b's adjoint solves with the other op, a's is minus its outer product with x, on that triangle
SOLVE = "scipy.linalg.solve_triangular"
PLAIN = "trans in (0, 'N')"
B_ADJOINT = f"{SOLVE}(a, g, trans=1 if {PLAIN} else 0, lower=lower, unit_diagonal=unit_diagonal)"
COLUMNS = "np.reshape({}, (np.shape(a)[0], -1))"  # a vector b as one column
B_COLUMNS, X_COLUMNS = COLUMNS.format(B_ADJOINT), COLUMNS.format("ans")
vjp(f"{SOLVE}(a, b, trans=0, lower=False, unit_diagonal=False, check_finite=True)", b=B_ADJOINT,
    a=f"triangle(-({B_COLUMNS} @ np.transpose({X_COLUMNS})) if {PLAIN} else -({X_COLUMNS} @ np.transpose({B_COLUMNS})),"
      " lower, unit_diagonal)",
    discrete=("trans", "lower", "unit_diagonal", "check_finite"))  # fmt: skip
jvp(f"{SOLVE}(a, b, trans=0, lower=False, unit_diagonal=False, check_finite=True)",
    b=f"{SOLVE}(a, t, trans=trans, lower=lower, unit_diagonal=unit_diagonal)",
    a=f"-{SOLVE}(a, (triangle(t, lower, unit_diagonal) if {PLAIN} else np.transpose(triangle(t, lower, unit_diagonal)))"
      " @ ans, trans=trans, lower=lower, unit_diagonal=unit_diagonal)")  # fmt: skip
# Cholesky through SciPy: c holds the factor in one triangle (its other is unspecified, and an
# adjoint reaching it is refused when it runs); x = cho_solve((c, lower), b) solves a x = b with
# a = l l^T from that triangle. overwrite_a and overwrite_b are left out, so refused
vjp("scipy.linalg.cho_factor(a, lower=False, check_finite=True)", a="cho_factor_adjoint(g, ans[0], lower)", kind=PARTS,
    discrete=("lower", "check_finite"))  # fmt: skip
jvp("scipy.linalg.cho_factor(a, lower=False, check_finite=True)", a="cho_factor_tangent(t, ans[0], lower)")
returns_views(scipy.linalg.cho_factor)  # (its second part is the lower it was given, itself)
CHO_Y = "scipy.linalg.cho_solve(c_and_lower, np.broadcast_to(g, np.shape(ans)))"  # the solution for the adjoint
vjp("scipy.linalg.cho_solve(c_and_lower, b, check_finite=True)", b=CHO_Y,
    c_and_lower=f"(cho_solve_factor_adjoint({CHO_Y}, ans, c_and_lower[0], c_and_lower[1]), 0.0)",
    discrete=("check_finite",))  # fmt: skip
jvp("scipy.linalg.cho_solve(c_and_lower, b, check_finite=True)", b="scipy.linalg.cho_solve(c_and_lower, t)",
    c_and_lower="scipy.linalg.cho_solve(c_and_lower, cho_solve_factor_tangent(t[0], ans, c_and_lower[0], c_and_lower[1]))")
# x solves a x + x b = q: a change of q, a or b moves x by the solution of the same equation with q
# replaced by dq - da x - x db; the adjoint y of q solves the transposed equation (a^T y + y b^T = g)
SYLVESTER = "scipy.linalg.solve_sylvester"
Y = f"{SYLVESTER}(np.transpose(a), np.transpose(b), g)"
vjp(f"{SYLVESTER}(a, b, q)", q=Y, a=f"-{Y} @ np.transpose(ans)", b=f"-np.transpose(ans) @ {Y}")
jvp(f"{SYLVESTER}(a, b, q)", q=f"{SYLVESTER}(a, b, t)", a=f"{SYLVESTER}(a, b, -(t @ ans))", b=f"{SYLVESTER}(a, b, -(ans @ t))")
# s = sqrtm(a), s s = a: ds solves s ds + ds s = da; a complex root (negative eigenvalues) is refused when differentiated
ROOT = "real_root(ans)"
vjp("scipy.linalg.sqrtm(A, disp=True, blocksize=64)", A=f"{SYLVESTER}(np.transpose({ROOT}), np.transpose({ROOT}), g)",
    discrete=("disp", "blocksize"))  # fmt: skip
jvp("scipy.linalg.sqrtm(A, disp=True, blocksize=64)", A=f"{SYLVESTER}({ROOT}, {ROOT}, t)")
# exp(A)'s derivative along E is its Frechet derivative L(A, E); the adjoint of L(A, .) is L(A^T, .)
# (scipy's expm_frechet has no rule of its own: a second derivative through expm is refused)
def expm_frechet(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The Frechet derivative of the matrix exponential at ``a`` along ``e``, for stacks of
    matrices too (``scipy.linalg.expm_frechet`` takes one; a weak zero ``e`` gives zeros)."""
    e = np.broadcast_to(e, np.shape(a))
    if np.ndim(a) == 2:
        return scipy.linalg.expm_frechet(a, e, compute_expm=False)
    flat_a, flat_e = np.reshape(a, (-1, *np.shape(a)[-2:])), np.reshape(e, (-1, *np.shape(a)[-2:]))
    parts = [scipy.linalg.expm_frechet(x, y, compute_expm=False) for x, y in zip(flat_a, flat_e)]
    return np.reshape(np.array(parts), np.shape(a))


expm_frechet.srcdiff_opaque = True  # type: ignore[attr-defined]  # not read as source: its derivative is refused
NAMESPACE["expm_frechet"] = expm_frechet
vjp("scipy.linalg.expm(A)", A="expm_frechet(np.swapaxes(A, -1, -2), g)")
jvp("scipy.linalg.expm(A)", A="expm_frechet(A, t)")
# which these rules call: d(A^-1) = -A^-1 dA A^-1 (overwrite_a is left out, so refused)
vjp("scipy.linalg.inv(a, check_finite=True)", a="-np.transpose(ans) @ g @ np.transpose(ans)", discrete=("check_finite",))
jvp("scipy.linalg.inv(a, check_finite=True)", a="-ans @ t @ ans")
