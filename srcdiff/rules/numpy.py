"""Derivative rules for NumPy. ``g``: incoming adjoint; ``t``: incoming tangent; ``ans``: the primal result."""

import numpy as np

from .. import runtime
from . import ARRAY, ELEMENTWISE, PARTS, REDUCTION, SCALAR, jvp, nondifferentiable, returns_views, undone_by, vjp

E = ELEMENTWISE
REDUCED = ("axis", "dtype", "out", "keepdims")  # a reduction's discrete parameters
ANGLE_UNITS = (("deg2rad", "np.pi / 180"), ("radians", "np.pi / 180"), ("rad2deg", "180 / np.pi"), ("degrees", "180 / np.pi"))

# elementwise arithmetic (operators share these: a * b is np.multiply(a, b))
vjp("np.add(x, y)", x="g", y="g", kind=E)
vjp("np.subtract(x, y)", x="g", y="-g", kind=E)
vjp("np.multiply(x, y)", x="g * y", y="g * x", kind=E)
vjp("np.true_divide(x, y)", x="g / y", y="-g * ans / y", kind=E)
vjp("np.divide(x, y)", x="g / y", y="-g * ans / y", kind=E)
# (y == 0) keeps 0 ** -1 out of the x adjoint, whose true value there is 0
vjp("np.power(x, y)", x="g * y * x ** (y - 1 + (y == 0))", y="g * ans * np.log(np.where(x > 0, x, 1.0))", kind=E)
vjp("np.mod(x, y)", x="g", y="-g * np.floor_divide(x, y)", kind=E)
vjp("np.negative(x)", x="-g", kind=E)
vjp("np.positive(x)", x="g", kind=E)
vjp("np.square(x)", x="g * 2 * x", kind=E)
vjp("np.sqrt(x)", x="g * 0.5 / ans", kind=E)
vjp("np.cbrt(x)", x="g / (3 * ans ** 2)", kind=E)
vjp("np.reciprocal(x)", x="-g * ans ** 2", kind=E)
# a complex x: the real part of g along conj(x) / |x|
vjp("np.abs(x)", x="g * np.sign(x)", kind=E, for_complex={"x": "np.real(g) * np.conj(x) / np.where(ans == 0, 1.0, ans)"})
vjp("np.absolute(x)", x="g * np.sign(x)", kind=E, for_complex={"x": "np.real(g) * np.conj(x) / np.where(ans == 0, 1.0, ans)"})
vjp("np.fabs(x)", x="g * np.sign(x)", kind=E)
vjp("np.hypot(x, y)", x="g * x / ans", y="g * y / ans", kind=E)
vjp("np.maximum(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=E)
vjp("np.minimum(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=E)
vjp("np.fmax(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=E)
vjp("np.fmin(x, y)", x="g * balanced_eq(x, ans, y)", y="g * balanced_eq(y, ans, x)", kind=E)
# (x.clip(min=..., max=...), and np.clip's own keywords since NumPy 2.1)
vjp("np.clip(x, a_min=None, a_max=None)", x="g * (clip_owner(x, a_min, a_max) == 0)",
    a_min="g * (clip_owner(x, a_min, a_max) == 1)", a_max="g * (clip_owner(x, a_min, a_max) == 2)", kind=E,
    aliases={"min": "a_min", "max": "a_max"})  # fmt: skip
# np.where(condition) alone gives the indices where it holds (x and y None, constants): no derivative
vjp("np.where(condition, x=None, y=None)", x="cast(np.where(condition, g, 0.0), x)", y="cast(np.where(condition, 0.0, g), y)",
    kind=E, discrete=("condition",))  # fmt: skip

# exponentials and logarithms
vjp("np.exp(x)", x="g * ans", kind=E)
vjp("np.exp2(x)", x="g * ans * np.log(2.0)", kind=E)
vjp("np.expm1(x)", x="g * (ans + 1.0)", kind=E)
vjp("np.log(x)", x="g / x", kind=E)
vjp("np.log2(x)", x="g / (x * np.log(2.0))", kind=E)
vjp("np.log10(x)", x="g / (x * np.log(10.0))", kind=E)
vjp("np.log1p(x)", x="g / (1.0 + x)", kind=E)
vjp("np.logaddexp(x, y)", x="g * np.exp(x - ans)", y="g * np.exp(y - ans)", kind=E)
vjp("np.logaddexp2(x, y)", x="g * 2.0 ** (x - ans)", y="g * 2.0 ** (y - ans)", kind=E)

# trigonometric and hyperbolic
vjp("np.sin(x)", x="g * np.cos(x)", kind=E)
vjp("np.cos(x)", x="-g * np.sin(x)", kind=E)
vjp("np.tan(x)", x="g * (1.0 + ans ** 2)", kind=E)
vjp("np.arcsin(x)", x="g / np.sqrt(1.0 - x ** 2)", kind=E)
vjp("np.arccos(x)", x="-g / np.sqrt(1.0 - x ** 2)", kind=E)
vjp("np.arctan(x)", x="g / (1.0 + x ** 2)", kind=E)
vjp("np.arctan2(y, x)", y="g * x / (x ** 2 + y ** 2)", x="-g * y / (x ** 2 + y ** 2)", kind=E)
vjp("np.sinh(x)", x="g * np.cosh(x)", kind=E)
vjp("np.cosh(x)", x="g * np.sinh(x)", kind=E)
vjp("np.tanh(x)", x="g * (1.0 - ans ** 2)", kind=E)
vjp("np.arcsinh(x)", x="g / np.sqrt(x ** 2 + 1.0)", kind=E)
vjp("np.arccosh(x)", x="g / np.sqrt(x ** 2 - 1.0)", kind=E)
vjp("np.arctanh(x)", x="g / (1.0 - x ** 2)", kind=E)

# Dask's reshape takes no order: C's is left out (the optimiser folds the test for a constant order)
RESHAPED_BACK = "np.reshape(broadcast_like(g, ans), np.shape(a)) if order == 'C' else np.reshape(broadcast_like(g, ans), np.shape(a), order=order)"

# reductions
vjp("np.sum(a, axis=None, dtype=None, out=None, keepdims=False)", a="unreduce(g, a, axis, keepdims)", kind=REDUCTION,
    discrete=REDUCED)  # fmt: skip
# size(g) = size(ans); a weak zero gives 0 anyway. The factor scales g before it is spread (a view),
# so the whole adjoint costs no pass over a's elements. (runtime.size: np.size, which Dask computes an array for)
vjp("np.mean(a, axis=None, dtype=None, out=None, keepdims=False)",
    a="unreduce(g * (size(g) / size(a)), a, axis, keepdims)", kind=REDUCTION, discrete=REDUCED)  # fmt: skip
vjp("np.prod(a, axis=None, dtype=None, out=None, keepdims=False)", a="prod_adjoint(g, a, axis, keepdims)", kind=REDUCTION,
    discrete=REDUCED)  # fmt: skip
for _extremum in (np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin):
    vjp(f"np.{_extremum.__name__}(a, axis=None, out=None, keepdims=False)",
        a="reduce_extremum_adjoint(g, a, ans, axis, keepdims)", kind=REDUCTION, discrete=("axis", "out", "keepdims"))  # fmt: skip
vjp("np.var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    a="unreduce(g, a, axis, keepdims) * 2.0 * (a - np.mean(a, axis=axis, keepdims=True))"
      " / (size(a) / size(ans) - ddof)", kind=REDUCTION, discrete=(*REDUCED, "ddof"))  # fmt: skip
# no spread (one entry, equal entries): a - mean is 0 and so is the derivative; dividing by ans = 0 made nan
vjp("np.std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    a="unreduce(g / np.where(ans == 0.0, 1.0, ans), a, axis, keepdims) * (a - np.mean(a, axis=axis, keepdims=True))"
      " / (size(a) / size(ans) - ddof)", kind=REDUCTION, discrete=(*REDUCED, "ddof"))  # fmt: skip
vjp("np.cumsum(a, axis=None, dtype=None, out=None)", a="cumsum_adjoint(g, a, axis)", discrete=("axis", "dtype", "out"))
vjp("np.trace(a, offset=0, axis1=0, axis2=1)", a="trace_adjoint(g, a, offset, axis1, axis2)",
    discrete=("offset", "axis1", "axis2"))  # fmt: skip
vjp("np.cumprod(a, axis=None, dtype=None, out=None)", a="cumprod_adjoint(g, a, axis)", discrete=("axis", "dtype", "out"))
vjp("np.nanprod(a, axis=None, dtype=None, out=None, keepdims=False)",  # NaNs count as 1
    a="prod_adjoint(g, np.where(np.isnan(a), 1.0, a), axis, keepdims) * ~np.isnan(a)", kind=REDUCTION, discrete=REDUCED)  # fmt: skip

# weighted means and order statistics. A quantile is (1 - f) times one order statistic plus f times
# the next, f fixed by the ranks (runtime.quantile_sources, quantile_fraction). spread_weights comes
# first in average's templates: it refuses returned=True before g, then a pair, is read
vjp("np.average(a, axis=None, weights=None, returned=False, keepdims=False)",
    a="spread_weights(weights, a, axis, returned) / np.sum(spread_weights(weights, a, axis), axis=axis, keepdims=True)"
      " * unreduce(g, a, axis, keepdims)",
    weights="gather_weights(1.0 / np.sum(spread_weights(weights, a, axis, returned), axis=axis, keepdims=True)"
            " * unreduce(g, a, axis, keepdims) * (a - unreduce(ans, a, axis, keepdims)), weights, a, axis)",
    kind=REDUCTION, discrete=("axis", "returned", "keepdims"))  # fmt: skip
vjp("np.median(a, axis=None, out=None, overwrite_input=False, keepdims=False)",
    a="scatter(g * (1.0 - quantile_fraction(a, 0.5, axis, keepdims)), a, quantile_sources(a, 0.5, axis, keepdims))"
      " + scatter(g * quantile_fraction(a, 0.5, axis, keepdims), a, quantile_sources(a, 0.5, axis, keepdims, 'linear', True))",
    kind=REDUCTION, discrete=("axis", "out", "overwrite_input", "keepdims"))  # fmt: skip
# the level q moves the weight f: by the gap between the two order statistics, times quantile_slope
for _name, _q, _per in (("quantile", "q", ""), ("percentile", "np.asarray(q) / 100", " / 100")):
    vjp(f"np.{_name}(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False)",
        a=f"scatter(g * (1.0 - quantile_fraction(a, {_q}, axis, keepdims, method)), a, quantile_sources(a, {_q}, axis, keepdims,"
          f" method)) + scatter(g * quantile_fraction(a, {_q}, axis, keepdims, method), a, quantile_sources(a, {_q}, axis,"
          " keepdims, method, True))",
        q=f"cast(np.sum(np.reshape(broadcast_like(g, ans) * (gather(a, quantile_sources(a, {_q}, axis, keepdims, method, True))"
          f" - gather(a, quantile_sources(a, {_q}, axis, keepdims, method))), np.shape(q) + (-1,)), axis=-1)"
          f" * quantile_slope(a, axis, method){_per}, q)",
        discrete=("axis", "out", "overwrite_input", "method", "keepdims"))  # fmt: skip
# piecewise linear interpolation: the slope of the segment in x; linear in fp (xp is not differentiated)
vjp("np.interp(x, xp, fp, left=None, right=None)", x="g * interp_slope(x, xp, fp)", fp="interp_fp_adjoint(g, x, xp, fp, left, right)",
    left="np.sum(g * (np.asarray(x) < xp[0]))", right="np.sum(g * (np.asarray(x) > xp[-1]))", kind=E)  # fmt: skip
# counts are constants; weighted counts are sums of the weights at each value (np.add.at lowers to this)
vjp("np.bincount(x, weights=None, minlength=0)", weights="np.take(broadcast_like(g, ans), x)", discrete=("x", "minlength"))
vjp("np.convolve(a, v, mode='full')", a="convolve_adjoint(g, a, v, mode)", v="convolve_adjoint(g, v, a, mode)", discrete=("mode",))
vjp("np.polyval(p, x)", p="np.ravel(broadcast_like(g, ans)) @ (np.ravel(x)[:, None] ** np.arange(len(p) - 1, -1, -1))",
    x="g * np.polyval(np.asarray(p)[:-1] * np.arange(len(p) - 1, 0, -1), x)", kind=E)  # fmt: skip

# ufunc methods: reduce and accumulate as their functions (along axis 0 unless told), outer over all axes
vjp("np.add.reduce(array, axis=0, dtype=None, out=None, keepdims=False)", array="unreduce(g, array, axis, keepdims)",
    kind=REDUCTION, discrete=("axis", "dtype", "out", "keepdims"))  # fmt: skip
vjp("np.multiply.reduce(array, axis=0, dtype=None, out=None, keepdims=False)", array="prod_adjoint(g, array, axis, keepdims)",
    kind=REDUCTION, discrete=("axis", "dtype", "out", "keepdims"))  # fmt: skip
vjp("np.add.accumulate(array, axis=0, dtype=None, out=None)", array="cumsum_adjoint(g, array, axis)", discrete=("axis", "dtype", "out"))
vjp("np.multiply.accumulate(array, axis=0, dtype=None, out=None)", array="cumprod_adjoint(g, array, axis)",
    discrete=("axis", "dtype", "out"))  # fmt: skip
vjp("np.multiply.outer(A, B)", A="cast(np.tensordot(broadcast_like(g, ans), B, np.ndim(B)), A)",
    B="cast(np.tensordot(A, broadcast_like(g, ans), np.ndim(A)), B)")  # fmt: skip
vjp("np.add.outer(A, B)", A="cast(np.sum(broadcast_like(g, ans), axis=tuple(range(np.ndim(A), np.ndim(ans)))), A)",
    B="cast(np.sum(broadcast_like(g, ans), axis=tuple(range(np.ndim(A)))), B)")  # fmt: skip

# linear algebra
vjp("np.matmul(a, b)", a="matmul_adjoint_a(g, a, b)", b="matmul_adjoint_b(g, a, b)")
vjp("np.dot(a, b)", a="dot_adjoint_a(g, a, b)", b="dot_adjoint_b(g, a, b)")
vjp("np.inner(a, b)", a="inner_adjoint_a(g, a, b)", b="inner_adjoint_b(g, a, b)")
vjp("np.vdot(a, b)", a="np.reshape(g * b, np.shape(a))", b="np.reshape(g * a, np.shape(b))", kind=SCALAR)
vjp("np.outer(a, b)", a="np.reshape(broadcast_like(g, ans) @ np.ravel(b), np.shape(a))",
    b="np.reshape(np.ravel(a) @ broadcast_like(g, ans), np.shape(b))")  # fmt: skip
# either call form: a subscripts string, or each operand followed by its list of axis labels
vjp("np.einsum(*operands, optimize=False)", operands="einsum_adjoint(g, operands, k)", discrete=("optimize",))
vjp("np.linalg.norm(x, ord=None, axis=None, keepdims=False)", x="norm_adjoint(g, x, ans, ord, axis, keepdims)",
    kind=REDUCTION, discrete=("ord", "axis", "keepdims"))  # fmt: skip

# shape manipulation
# a weak zero g (0.0 from a branch that did not read the result) takes the result's shape first
vjp("np.reshape(a, *shape, order='C')", a=RESHAPED_BACK, discrete=("order", "shape"))
vjp("np.ravel(a, order='C')", a=RESHAPED_BACK, discrete=("order",))
vjp("np.ndarray.flatten(a, order='C')", a=RESHAPED_BACK, discrete=("order",))  # a copy
vjp("np.transpose(a, *axes)", a="transpose_adjoint(g, axes)", discrete=("axes",))
vjp("np.swapaxes(a, axis1, axis2)", a="np.swapaxes(broadcast_like(g, ans), axis1, axis2)", discrete=("axis1", "axis2"))
vjp("np.moveaxis(a, source, destination)", a="moveaxis_adjoint(g, source, destination)", discrete=("source", "destination"))
vjp("np.squeeze(a, axis=None)", a="np.reshape(broadcast_like(g, ans), np.shape(a))", discrete=("axis",))
vjp("np.expand_dims(a, axis)", a="np.reshape(broadcast_like(g, ans), np.shape(a))", discrete=("axis",))
vjp("np.broadcast_to(array, shape)", array="unbroadcast(g, array)", discrete=("shape",))
vjp("np.flip(m, axis=None)", m="np.flip(broadcast_like(g, ans), axis)", discrete=("axis",))
vjp("np.tile(A, reps)", A="tile_adjoint(g, A, reps)", discrete=("reps",))
vjp("np.repeat(a, repeats, axis=None)", a="repeat_adjoint(g, a, repeats, axis)", discrete=("repeats", "axis"))
vjp("np.copy(a)", a="g", kind=E)
vjp("np.float64(x=0.0)", x="g", kind=E)  # float(x) for a NumPy float (an array stays an array)
# x.item(*index): the one entry read, as a Python scalar
vjp("np.ndarray.item(a, *args)", a="scatter(g, a, positions(a).item(*args))", kind=SCALAR, discrete=("args",))
vjp("np.asarray(a, dtype=None)", a="g", kind=E, discrete=("dtype",))
vjp("np.stack(arrays, axis=0)", arrays="unstack(g, arrays, axis)", discrete=("axis",))
vjp("np.array(object, dtype=None)", object="unstack(g, object, 0) if isinstance(object, (list, tuple)) else g", discrete=("dtype",))
vjp("np.concatenate(arrays, axis=0)", arrays="unconcatenate(g, arrays, axis)", discrete=("axis",))
vjp("np.hstack(tup)", tup="unconcatenate(g, tup, hstack_axis(tup))")
vjp("np.vstack(tup)", tup="unvstack(g, tup)")
if getattr(np, "row_stack", np.vstack) is not np.vstack:  # NumPy 2.0-2.4's deprecated name (1.x: vstack itself; 2.5: gone)
    vjp("np.row_stack(tup)", tup="unvstack(g, tup)")

# selections: each result entry is one input entry (or a constant). The same call on
# positions(x) says which; the adjoint adds g back there (runtime.scatter)
vjp("np.roll(a, shift, axis=None)", a="scatter(g, a, np.roll(positions(a), shift, axis))", discrete=("shift", "axis"))
vjp("np.take(a, indices, axis=None, out=None, mode='raise')", a="scatter(g, a, np.take(positions(a), indices, axis, mode=mode))",
    discrete=("indices", "axis", "out", "mode"))  # fmt: skip
vjp("np.take_along_axis(arr, indices, axis=-1)", arr="scatter(g, arr, np.take_along_axis(positions(arr), indices, axis))",
    discrete=("indices", "axis"))  # fmt: skip
# triangles keep entries in place: their own adjoints (a weak zero g becomes zeros first)
vjp("np.tril(m, k=0)", m="np.tril(broadcast_like(g, m), k)", discrete=("k",))
vjp("np.triu(m, k=0)", m="np.triu(broadcast_like(g, m), k)", discrete=("k",))
vjp("np.diag(v, k=0)", v="scatter(g, v, np.diag(positions(v), k))", discrete=("k",))
vjp("np.diagonal(a, offset=0, axis1=0, axis2=1)", a="scatter(g, a, np.diagonal(positions(a), offset, axis1, axis2))",
    discrete=("offset", "axis1", "axis2"))  # fmt: skip
vjp("np.fliplr(m)", m="scatter(g, m, np.fliplr(positions(m)))")
vjp("np.flipud(m)", m="scatter(g, m, np.flipud(positions(m)))")
vjp("np.rot90(m, k=1, axes=(0, 1))", m="scatter(g, m, np.rot90(positions(m), k, axes))", discrete=("k", "axes"))
vjp("np.rollaxis(a, axis, start=0)", a="scatter(g, a, np.rollaxis(positions(a), axis, start))", discrete=("axis", "start"))
for _atleast in ("atleast_1d", "atleast_2d", "atleast_3d"):  # one array at a time (several give a tuple: refused)
    vjp(f"np.{_atleast}(ary)", ary=f"scatter(g, ary, np.{_atleast}(positions(ary)))")
for _split in ("split", "array_split"):  # one array in, a list out: g is a list of the parts' adjoints
    vjp(f"np.{_split}(ary, indices_or_sections, axis=0)",
        ary=f"scatter(g, ary, np.{_split}(positions(ary), indices_or_sections, axis))", discrete=("indices_or_sections", "axis"))  # fmt: skip
for _split in ("hsplit", "vsplit", "dsplit"):
    vjp(f"np.{_split}(ary, indices_or_sections)", ary=f"scatter(g, ary, np.{_split}(positions(ary), indices_or_sections))",
        discrete=("indices_or_sections",))  # fmt: skip
vjp("np.column_stack(tup)", tup="scatter(g, tup, np.column_stack(positions(tup)))")
# (zeros_like, not 0 * positions(...): a list's positions are a list, and 0 * a list is [])
vjp("np.append(arr, values, axis=None)", arr="scatter(g, arr, np.append(positions(arr), np.zeros_like(positions(values)), axis))",
    values="scatter(g, values, np.append(np.zeros_like(positions(arr)), positions(values), axis))", discrete=("axis",))  # fmt: skip
vjp("np.select(condlist, choicelist, default=0)", choicelist="scatter(g, choicelist, np.select(condlist, positions(choicelist), 0))",
    default="scatter(g, default, np.select(condlist, [0] * len(choicelist), positions(default)))", discrete=("condlist",))  # fmt: skip
vjp("np.pad(array, pad_width, mode='constant', constant_values=0)", array="scatter(g, array, pad_sources(array, pad_width, mode))",
    constant_values="scatter(g, constant_values, pad_fill_sources(array, pad_width, constant_values))",
    discrete=("pad_width", "mode"))  # fmt: skip
# reorderings: where each value went is read from the values (ties are interchangeable)
vjp("np.sort(a, axis=-1, kind=None, order=None)", a="scatter(g, a, permutation_sources(a, ans, axis))",
    discrete=("axis", "kind", "order"))  # fmt: skip
vjp("np.partition(a, kth, axis=-1, kind='introselect', order=None)", a="scatter(g, a, permutation_sources(a, ans, axis))",
    discrete=("kth", "axis", "kind", "order"))  # fmt: skip

# more linear and bilinear functions
vjp("np.diff(a, n=1, axis=-1, prepend=None, append=None)", a="diff_adjoint(g, a, n, axis, prepend, append)",
    prepend="diff_adjoint(g, a, n, axis, prepend, append, 'prepend')",
    append="diff_adjoint(g, a, n, axis, prepend, append, 'append')", discrete=("n", "axis"))  # fmt: skip
vjp("np.tensordot(a, b, axes=2)", a="tensordot_adjoint_a(g, a, b, axes)", b="tensordot_adjoint_b(g, a, b, axes)",
    discrete=("axes",))  # fmt: skip
vjp("np.kron(a, b)", a="kron_adjoint_a(g, a, b)", b="kron_adjoint_b(g, a, b)")
vjp("np.cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)", a="cross_adjoint(g, a, b, axisa, axisb, axisc, axis)",
    b="cross_adjoint(-g, b, a, axisb, axisa, axisc, axis)", discrete=("axisa", "axisb", "axisc", "axis"))  # fmt: skip
# varied spacings are refused (no adjoint yet); constant ones, and coordinates, are fine
vjp("np.gradient(f, *varargs, axis=None, edge_order=1)", f="gradient_adjoint(g, f, varargs, axis, edge_order)",
    discrete=("axis", "edge_order"))  # fmt: skip
for _name, _scale in ANGLE_UNITS:
    vjp(f"np.{_name}(x)", x=f"g * ({_scale})", kind=E)
# complex values (adjoint dL/dRe z - i dL/dIm z, see runtime.real_like): the real part of g is
# the derivative of a real result; a real input's adjoint may keep an imaginary part, never read
vjp("np.real(val)", val="g", kind=E, for_complex={"val": "np.real(g)"})
vjp("np.imag(val)", val="real_like(-1j * np.real(g), val)", kind=E)  # (a real val: 0)
vjp("np.conj(x)", x="np.conj(g)", kind=E)
vjp("np.angle(z, deg=False)", z="real_like(-1j * np.real(g) * (180 / np.pi if deg else 1.0) / np.where(z == 0, 1.0, z), z)", kind=E,
    discrete=("deg",))  # fmt: skip
vjp("np.sinc(x)", x="g * sinc_slope(x)", kind=E)
# NaN and infinite entries are replaced by the values nan, posinf and neginf (None: NumPy's own)
vjp("np.nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None)", x="g * np.isfinite(x)", nan="np.sum(g * np.isnan(x))",
    posinf="np.sum(g * (x == np.inf))", neginf="np.sum(g * (x == -np.inf))", kind=E, discrete=("copy",))  # fmt: skip
vjp("np.nansum(a, axis=None, dtype=None, out=None, keepdims=False)", a="unreduce(g, a, axis, keepdims) * ~np.isnan(a)",
    kind=REDUCTION, discrete=REDUCED)  # fmt: skip
vjp("np.nancumsum(a, axis=None, dtype=None, out=None)", a="cumsum_adjoint(g, a, axis) * ~np.isnan(a)",
    discrete=("axis", "dtype", "out"))  # fmt: skip
vjp("np.nanmean(a, axis=None, dtype=None, out=None, keepdims=False)",
    a="unreduce(g / np.sum(~np.isnan(a), axis=axis, keepdims=keepdims), a, axis, keepdims) * ~np.isnan(a)",
    kind=REDUCTION, discrete=REDUCED)  # fmt: skip
vjp("np.nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    a="unreduce(g, a, axis, keepdims) * 2.0 * np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True))"
      " / (np.sum(~np.isnan(a), axis=axis, keepdims=True) - ddof)", kind=REDUCTION, discrete=(*REDUCED, "ddof"))  # fmt: skip
vjp("np.nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",  # 0 where there is no spread (as np.std)
    a="unreduce(g / np.where(ans == 0.0, 1.0, ans), a, axis, keepdims) * np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis,"
      " keepdims=True)) / (np.sum(~np.isnan(a), axis=axis, keepdims=True) - ddof)", kind=REDUCTION, discrete=(*REDUCED, "ddof"))  # fmt: skip

# functions generated code calls (rules keep grad(grad(f)) working)
vjp("unbroadcast(x, like)", x="rebroadcast(g, x)", discrete=("like",))
vjp("rebroadcast(y, x)", y="rebroadcast(g, y)", discrete=("x",))  # its own transpose
vjp("unreduce(y, like, axis=None, keepdims=False)", y="np.sum(g, axis=axis, keepdims=keepdims)",
    discrete=("like", "axis", "keepdims"))  # fmt: skip
vjp("broadcast_like(y, like)", y="unbroadcast(g, y)", discrete=("like",))
# casts: one to integers or bools (x.astype(int), piecewise constant) passes no derivative, which
# the rule mechanics see to for every rule with a dtype parameter (rules.for_dtype)
vjp("astype(x, dtype)", x="g", discrete=("dtype",), for_complex={"x": "real_like(g, ans)"})
if hasattr(np, "astype"):  # NumPy 2.1 and later
    vjp("np.astype(x, dtype, copy=True)", x="g", discrete=("dtype", "copy"), for_complex={"x": "real_like(g, ans)"})
    jvp("np.astype(x, dtype, copy=True)", x="astype(t, dtype)")
# a complex a gives a real result: the real part of g
vjp("np.real_if_close(a, tol=100)", a="g", kind=E, discrete=("tol",), for_complex={"a": "real_like(g, ans)"})
jvp("np.real_if_close(a, tol=100)", a="t")
# the half-turn rolls of the FFT's frequency order: each undoes the other
vjp("np.fft.fftshift(x, axes=None)", x="np.fft.ifftshift(g, axes)", discrete=("axes",))
vjp("np.fft.ifftshift(x, axes=None)", x="np.fft.fftshift(g, axes)", discrete=("axes",))
jvp("np.fft.fftshift(x, axes=None)", x="np.fft.fftshift(t, axes)")
jvp("np.fft.ifftshift(x, axes=None)", x="np.fft.ifftshift(t, axes)")
# the discrete Fourier transforms are linear: each adjoint is the transpose (runtime.dft_adjoint
# and kin), each tangent the same transform of the tangent. n, s, axis, axes and norm are fixed.
FFT = ("n", "axis", "norm")
FFTN = ("s", "axes", "norm")
vjp("np.fft.fft(a, n=None, axis=-1, norm=None)", a="dft_adjoint(g, a, n, axis, norm)", discrete=FFT)
vjp("np.fft.ifft(a, n=None, axis=-1, norm=None)", a="dft_adjoint(g, a, n, axis, norm, True)", discrete=FFT)
vjp("np.fft.fft2(a, s=None, axes=(-2, -1), norm=None)", a="dft_adjoint(g, a, s, axes, norm)", discrete=FFTN)
vjp("np.fft.ifft2(a, s=None, axes=(-2, -1), norm=None)", a="dft_adjoint(g, a, s, axes, norm, True)", discrete=FFTN)
vjp("np.fft.fftn(a, s=None, axes=None, norm=None)", a="dft_adjoint(g, a, s, axes, norm)", discrete=FFTN)
vjp("np.fft.ifftn(a, s=None, axes=None, norm=None)", a="dft_adjoint(g, a, s, axes, norm, True)", discrete=FFTN)
vjp("np.fft.rfft(a, n=None, axis=-1, norm=None)", a="rdft_adjoint(g, a, n, axis, norm)", discrete=FFT)
vjp("np.fft.rfft2(a, s=None, axes=(-2, -1), norm=None)", a="rdft_adjoint(g, a, s, axes, norm)", discrete=FFTN)
vjp("np.fft.rfftn(a, s=None, axes=None, norm=None)", a="rdft_adjoint(g, a, s, axes, norm)", discrete=FFTN)
vjp("np.fft.irfft(a, n=None, axis=-1, norm=None)", a="irdft_adjoint(g, a, n, axis, norm)", discrete=FFT)
vjp("np.fft.irfft2(a, s=None, axes=(-2, -1), norm=None)", a="irdft_adjoint(g, a, s, axes, norm)", discrete=FFTN)
vjp("np.fft.irfftn(a, s=None, axes=None, norm=None)", a="irdft_adjoint(g, a, s, axes, norm)", discrete=FFTN)
# hfft(a) is irfft(conj(a)) and ihfft(a) is conj(rfft(a)), each with the norm of the other direction
vjp("np.fft.hfft(a, n=None, axis=-1, norm=None)", a="np.conj(irdft_adjoint(g, a, n, axis, fft_norm_swapped(norm)))",
    discrete=FFT)  # fmt: skip
vjp("np.fft.ihfft(a, n=None, axis=-1, norm=None)", a="rdft_adjoint(np.conj(g), a, n, axis, fft_norm_swapped(norm))",
    discrete=FFT)  # fmt: skip
for _name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
    jvp(f"np.fft.{_name}(a, n=None, axis=-1, norm=None)", a=f"np.fft.{_name}(broadcast_like(t, a), n, axis, norm)")
for _name in ("fft2", "ifft2", "rfft2", "irfft2"):
    jvp(f"np.fft.{_name}(a, s=None, axes=(-2, -1), norm=None)", a=f"np.fft.{_name}(broadcast_like(t, a), s, axes, norm)")
for _name in ("fftn", "ifftn", "rfftn", "irfftn"):
    jvp(f"np.fft.{_name}(a, s=None, axes=None, norm=None)", a=f"np.fft.{_name}(broadcast_like(t, a), s, axes, norm)")
vjp("materialize(y, like)", y="g", discrete=("like",))
vjp("materialize_all(ys, likes)", ys="g", discrete=("likes",))
vjp("cotangents(values, count)", values="g", discrete=("count",))
vjp("add_adjoints(a, b)", a="g if isinstance(g, list) else unbroadcast(g, a)",
    b="g if isinstance(g, list) else unbroadcast(g, b)")  # fmt: skip
vjp("private_copy(y, like=None)", y="g", discrete=("like",))
vjp("writable(y, like)", y="g", discrete=("like",))
vjp("cast(y, x)", y="g", discrete=("x",))
vjp("indexable(y, like)", y="g", discrete=("like",))
vjp("real_root(s)", s="g")
vjp("triangle(m, lower, unit_diagonal=False)", m="triangle(g, lower, unit_diagonal)", discrete=("lower", "unit_diagonal"))
# adjoint helpers: most are linear in the adjoint ``y``, so their own adjoint is the forward
# operation again; einsum_adjoints, prod_curvature, norm_curvature and norm_scale_adjoint, which
# only second-order code calls, have none (a third derivative through them is refused)
vjp("matmul_adjoint_a(y, a, b)", y="adjoint_matmul(g, b)", b="matmul_adjoint_b(y, g, b)", discrete=("a",))
vjp("matmul_adjoint_b(y, a, b)", y="adjoint_matmul(a, g)", a="matmul_adjoint_a(y, a, g)", discrete=("b",))
vjp("adjoint_matmul(a, b)", a="matmul_adjoint_a(g, a, b)", b="matmul_adjoint_b(g, a, b)")
vjp("dot_adjoint_a(y, a, b)", y="np.dot(g, b)", b="dot_adjoint_b(y, g, b)", discrete=("a",))
vjp("dot_adjoint_b(y, a, b)", y="np.dot(a, g)", a="dot_adjoint_a(y, a, g)", discrete=("b",))
vjp("inner_adjoint_a(y, a, b)", y="np.inner(g, b)", b="inner_adjoint_b(y, g, b)", discrete=("a",))
vjp("inner_adjoint_b(y, a, b)", y="np.inner(a, g)", a="inner_adjoint_a(y, a, g)", discrete=("b",))
vjp("unstack(y, arrays, axis=0)", y="restack(g, arrays, axis)", kind=PARTS, discrete=("arrays", "axis"))
vjp("restack(parts, arrays, axis=0)", parts="unstack(g, arrays, axis)", discrete=("arrays", "axis"))
vjp("unconcatenate(y, arrays, axis=0)", y="reconcatenate(g, arrays, axis)", kind=PARTS, discrete=("arrays", "axis"))
vjp("reconcatenate(parts, arrays, axis=0)", parts="unconcatenate(g, arrays, axis)", discrete=("arrays", "axis"))
vjp("unvstack(y, arrays)", y="revstack(g, arrays)", kind=PARTS, discrete=("arrays",))
vjp("revstack(parts, arrays)", parts="unvstack(g, arrays)", discrete=("arrays",))
vjp("cumsum_adjoint(y, x, axis=None)", y="np.cumsum(g, axis)", discrete=("x", "axis"))
vjp("transpose_adjoint(y, axes, forward=False)", y="transpose_adjoint(g, axes, not forward)", discrete=("axes", "forward"))
vjp("moveaxis_adjoint(y, source, destination)", y="np.moveaxis(g, source, destination)", discrete=("source", "destination"))
vjp("expand_dims_adjoint(y, x)", y="np.reshape(g, np.shape(y))", discrete=("x",))
vjp("repeat_adjoint(y, x, repeats, axis=None)", y="np.repeat(g, repeats, axis)", discrete=("x", "repeats", "axis"))
vjp("tile_adjoint(y, x, reps)", y="np.tile(g, reps)", discrete=("x", "reps"))
# einsum is linear in each operand: <g, einsum_adjoint(y, args, k)> = <y, einsum with operand k replaced by g>
vjp("einsum_adjoint(y, args, position)", y="einsum_with(args, position, g)",
    args="einsum_adjoints(g, y, args, position)", discrete=("position",))  # fmt: skip
vjp("einsum_with(args, position, z)", z="einsum_adjoint(g, args, position)",
    args="einsum_adjoints(z, g, args, position)", discrete=("position",))  # fmt: skip
vjp("prod_adjoint(y, x, axis=None, keepdims=False)", y="np.sum(g * prod_others(x, axis), axis=axis, keepdims=keepdims)",
    x="prod_curvature(g * unreduce(y, x, axis, keepdims), x, axis)", discrete=("axis", "keepdims"))  # fmt: skip
vjp("prod_others(x, axis=None)", x="prod_curvature(g, x, axis)", discrete=("axis",))
vjp("trace_adjoint(y, x, offset=0, axis1=0, axis2=1)", y="np.trace(g, offset, axis1, axis2)",
    discrete=("x", "offset", "axis1", "axis2"))  # fmt: skip
vjp("reduce_extremum_adjoint(y, x, extremum, axis=None, keepdims=False)",  # the share is piecewise constant
    y="np.sum(g * extremum_share(x, extremum, axis, keepdims), axis=axis, keepdims=keepdims)",
    discrete=("x", "extremum", "axis", "keepdims"))  # fmt: skip
vjp("norm_adjoint(y, x, norm, ord=None, axis=None, keepdims=False)",
    y="np.sum(g * norm_direction(x, norm, ord, axis, keepdims), axis=norm_axes(x, ord, axis), keepdims=keepdims)",
    x="norm_curvature(g * unreduce(y, x, norm_axes(x, ord, axis), keepdims), x, norm, ord, axis, keepdims)",
    norm="norm_scale_adjoint(g * unreduce(y, x, norm_axes(x, ord, axis), keepdims), x, norm, ord, axis, keepdims)",
    discrete=("ord", "axis", "keepdims"))  # fmt: skip
vjp("norm_direction(x, norm, ord=None, axis=None, keepdims=False)", x="norm_curvature(g, x, norm, ord, axis, keepdims)",
    norm="norm_scale_adjoint(g, x, norm, ord, axis, keepdims)", discrete=("ord", "axis", "keepdims"))  # fmt: skip
vjp("structured(y, x)", y="unstructured(g, x, y)", discrete=("x",))
vjp("unstructured(y, x, like)", y="structured(g, x)", discrete=("x", "like"))
vjp("add_at(x, index, y)", x="g", y="unbroadcast(g[index], y)", discrete=("index",))
vjp("scatter(y, like, source)", y="gather(g, source, like)", discrete=("like", "source"))
vjp("gather(x, source, like=None)", x="scatter(g, x, source)", discrete=("source", "like"))
vjp("diff_adjoint(y, a, n=1, axis=-1, prepend=None, append=None, part='a')",
    y="diff_along(g, a, n, axis, prepend, append, part)", discrete=("a", "n", "axis", "prepend", "append", "part"))  # fmt: skip
vjp("diff_along(x, a, n=1, axis=-1, prepend=None, append=None, part='a')",
    x="diff_adjoint(g, a, n, axis, prepend, append, part)", discrete=("a", "n", "axis", "prepend", "append", "part"))  # fmt: skip
vjp("tensordot_adjoint_a(y, a, b, axes=2)", y="np.tensordot(g, b, axes)", b="tensordot_adjoint_b(y, g, b, axes)",
    discrete=("a", "axes"))  # fmt: skip
vjp("tensordot_adjoint_b(y, a, b, axes=2)", y="np.tensordot(a, g, axes)", a="tensordot_adjoint_a(y, a, g, axes)",
    discrete=("b", "axes"))  # fmt: skip
vjp("kron_adjoint_a(y, a, b)", y="np.kron(g, b)", b="kron_adjoint_b(y, g, b)", discrete=("a",))
vjp("kron_adjoint_b(y, a, b)", y="np.kron(a, g)", a="kron_adjoint_a(y, a, g)", discrete=("b",))
# <z, b x y> = <y, z x b> = <b, y x z>: the adjoint in b is the same helper with the roles turned
vjp("cross_adjoint(y, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)", y="np.cross(g, b, axisa, axisb, axisc, axis)",
    b="cross_adjoint(g, b, y, axisb, axisc, axisa, axis)", discrete=("a", "axisa", "axisb", "axisc", "axis"))  # fmt: skip
vjp("gradient_along(x, varargs=(), axis=None, edge_order=1)", x="gradient_adjoint(g, x, varargs, axis, edge_order)",
    discrete=("varargs", "axis", "edge_order"))  # fmt: skip
vjp("gradient_adjoint(y, x, varargs=(), axis=None, edge_order=1)", y="gradient_along(g, varargs, axis, edge_order)",
    discrete=("x", "varargs", "axis", "edge_order"))  # fmt: skip
# cumprod_curvature and cumprod_second, which only second-order code calls, have no rule
vjp("cumprod_adjoint(y, x, axis=None)", y="cumprod_tangent(g, x, axis)", x="cumprod_curvature(g, y, x, axis)", discrete=("axis",))
vjp("cumprod_tangent(z, x, axis=None)", z="cumprod_adjoint(g, x, axis)", x="cumprod_curvature(z, g, x, axis)", discrete=("axis",))
vjp("sinc_slope(x)", x="g * sinc_curvature(x)", kind=E)
# a quantile's weight is linear in its level (piecewise constant in the data): second derivatives in q
vjp("quantile_fraction(a, q, axis=None, keepdims=False, method='linear')",
    q="cast(np.sum(np.reshape(broadcast_like(g, ans), np.shape(q) + (-1,)), axis=-1) * quantile_slope(a, axis, method), q)",
    discrete=("a", "axis", "keepdims", "method"))  # fmt: skip
vjp("spread_weights(weights, a, axis=None, returned=False)", weights="gather_weights(g, weights, a, axis)",
    discrete=("a", "axis", "returned"))  # fmt: skip
vjp("gather_weights(y, weights, a, axis=None)", y="spread_weights(g, a, axis)", discrete=("weights", "a", "axis"))
# <z, convolve_adjoint(y, a, v)> = <np.convolve(z, v), y>, and np.convolve is symmetric in its operands
vjp("convolve_adjoint(y, a, v, mode='full')", y="np.convolve(g, v, mode)", v="convolve_adjoint(y, v, g, mode)",
    discrete=("a", "mode"))  # fmt: skip
# interp's helpers are linear in fp (and in y) and piecewise linear in x; xp is not differentiated
vjp("interp_slope(x, xp, fp)", fp="interp_slope_adjoint(g, x, xp, fp)", discrete=("x",))
vjp("interp_slope_adjoint(y, x, xp, fp)", y="interp_slope(x, xp, g)", discrete=("x", "fp"))
vjp("interp_fp_adjoint(y, x, xp, fp, left=None, right=None)",
    y="np.interp(x, xp, g, None if left is None else 0.0, None if right is None else 0.0)", x="y * interp_slope(x, xp, g)",
    discrete=("fp", "left", "right"))  # fmt: skip
# the FFT helpers: linear in their first argument, each pair the other's transpose
vjp("real_like(y, like)", y="real_like(g, like)", kind=E, discrete=("like",))
vjp("dft(y, s=None, axes=None, norm=None, inverse=False)", y="dft_adjoint(g, y, s, axes, norm, inverse)",
    discrete=("s", "axes", "norm", "inverse"))  # fmt: skip
vjp("dft_adjoint(y, a, s=None, axes=None, norm=None, inverse=False)", y="dft(real_like(g, a), s, axes, norm, inverse)",
    discrete=("a", "s", "axes", "norm", "inverse"))  # fmt: skip
vjp("rdft(y, s=None, axes=None, norm=None)", y="rdft_adjoint(g, y, s, axes, norm)", discrete=FFTN)
vjp("rdft_adjoint(y, a, s=None, axes=None, norm=None)", y="rdft(g, s, axes, norm)", discrete=("a", *FFTN))
vjp("irdft(y, s=None, axes=None, norm=None)", y="irdft_adjoint(g, y, s, axes, norm)", discrete=FFTN)
vjp("irdft_adjoint(y, a, s=None, axes=None, norm=None)", y="irdft(real_like(g, a), s, axes, norm)", discrete=("a", *FFTN))

# creation with a value: the value is differentiated, the shape and the count are not
vjp("np.full(shape, fill_value, dtype=None, order='C')", fill_value="unbroadcast(g, fill_value)",
    discrete=("shape", "dtype", "order"))  # fmt: skip
vjp("np.full_like(a, fill_value, dtype=None, order='K', subok=True, shape=None)", fill_value="unbroadcast(g, fill_value)",
    discrete=("a", "dtype", "order", "subok", "shape"))  # fmt: skip
vjp("np.linspace(start, stop, num=50, endpoint=True, axis=0)",
    start="unbroadcast(np.sum(g * (1.0 - linspace_weights(ans, num, endpoint, axis)), axis=axis), start)",
    stop="unbroadcast(np.sum(g * linspace_weights(ans, num, endpoint, axis), axis=axis), stop)",
    discrete=("num", "endpoint", "axis"))  # fmt: skip
vjp("np.arange(start, stop=None, step=None, dtype=None)", start="np.sum(g * arange_weights(ans, stop, step, 'start'))",
    step="np.sum(g * arange_weights(ans, stop, step, 'step'))", discrete=("stop", "dtype"))  # fmt: skip
# random draws: loc + scale * z and low + (high - low) * u, with z and u read back from the draw
vjp("np.random.normal(loc=0.0, scale=1.0, size=None)", loc="unbroadcast(g, loc)",
    scale="unbroadcast(g * (ans - loc) / scale, scale)", discrete=("size",))  # fmt: skip
vjp("np.random.uniform(low=0.0, high=1.0, size=None)", low="unbroadcast(g * (high - ans) / (high - low), low)",
    high="unbroadcast(g * (ans - low) / (high - low), high)", discrete=("size",))  # fmt: skip
vjp("np.copysign(x1, x2)", x1="g * np.sign(x1) * np.copysign(1.0, x2)", kind=E, discrete=("x2",))
vjp("np.heaviside(x1, x2)", x2="g * (x1 == 0)", kind=E, discrete=("x1",))  # x2 is the value where x1 is 0

# results that may be a view of an argument or the argument itself (np.diag of a matrix,
# np.real_if_close of a real array, np.nan_to_num(x, copy=False), np.diff(x, 0), a matrix's
# first power, an FFT over no axes, the rows of list(a), the larger of two arrays, a small array
# shape_holder keeps)
returns_views(
    np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.rollaxis, np.squeeze, np.expand_dims,
    np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray, np.require,
    np.atleast_1d, np.atleast_2d, np.atleast_3d, np.diagonal, np.diag, np.broadcast_to, np.real, np.imag,
    np.flip, np.fliplr, np.flipud, np.rot90, np.einsum, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit,
    np.real_if_close, np.nan_to_num, np.diff, np.linalg.matrix_power, np.fft.fftn, np.fft.ifftn,
    *([np.astype] if hasattr(np, "astype") else []),  # (copy=False)
    list, tuple, max, min, runtime.stop_gradient, runtime.shape_holder, np.float64, runtime.spread_weights, runtime.gather_weights,  # (np.float64 of a float64 array: the array)
)  # fmt: skip

# creation, comparison and integer-valued functions: their results are constants
nondifferentiable(
    np.zeros, np.ones, np.empty, np.eye, np.identity,
    np.zeros_like, np.ones_like, np.empty_like, np.shape, np.ndim, np.size, runtime.size,
    np.random.rand, np.random.randn, np.tri,
    runtime.zeros_like, runtime.stop_gradient, runtime.shape_holder, runtime.result_holder, runtime.balanced_eq, runtime.seed, runtime.clip_owner,
    runtime.extremum_share, runtime.norm_axes, runtime.hstack_axis, runtime.linspace_weights, runtime.arange_weights,
    runtime.last_writes, runtime.keeps_fractions, runtime.holds_fractions, runtime.positions, runtime.pad_sources, runtime.pad_fill_sources,
    runtime.permutation_sources, runtime.fft_norm_swapped, runtime.check_unshared, runtime.check_numbers, runtime.absent, runtime.check_slice_length, runtime.restore_popped,
    runtime.unshared_arguments, np.isrealobj, np.iscomplexobj,
    runtime.quantile_sources, runtime.quantile_slope, runtime.interp_segment,
    np.argsort, np.argmax, np.argmin, np.nonzero, np.flatnonzero, np.searchsorted,
    np.isfinite, np.isnan, np.isinf, np.allclose, np.isclose, np.array_equal, np.result_type,
    kind=ARRAY,
)  # fmt: skip
nondifferentiable(
    np.floor, np.ceil, np.round, np.rint, np.trunc, np.sign, np.floor_divide,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.invert,
    np.any, np.all, np.count_nonzero,
    kind=ELEMENTWISE,
)  # fmt: skip


# state that changes only what warns or raises (``with np.errstate(...)``, normalize.py)
nondifferentiable(np.seterr, kind=ARRAY)
undone_by(np.seterr, "np.seterr(divide=ans['divide'], over=ans['over'], under=ans['under'], invalid=ans['invalid'])")


# ----------------------------------------------------------------- forward mode
# ``t`` is the tangent of the parameter; the result's tangent is the sum over the active
# parameters. Elementwise entries need no broadcasting of their own: forward.py wraps the
# sum in ``broadcast_like`` where an operand may be smaller than the result.

# elementwise arithmetic
jvp("np.add(x, y)", x="t", y="t")
jvp("np.subtract(x, y)", x="t", y="-t")
jvp("np.multiply(x, y)", x="t * y", y="x * t")
jvp("np.true_divide(x, y)", x="t / y", y="-t * ans / y")
jvp("np.divide(x, y)", x="t / y", y="-t * ans / y")
jvp("np.power(x, y)", x="t * y * x ** (y - 1 + (y == 0))", y="t * ans * np.log(np.where(x > 0, x, 1.0))")
jvp("np.mod(x, y)", x="t", y="-t * np.floor_divide(x, y)")
jvp("np.negative(x)", x="-t")
jvp("np.positive(x)", x="t")
jvp("np.square(x)", x="2 * x * t")
jvp("np.sqrt(x)", x="t * 0.5 / ans")
jvp("np.cbrt(x)", x="t / (3 * ans ** 2)")
jvp("np.reciprocal(x)", x="-t * ans ** 2")
jvp("np.abs(x)", x="t * np.sign(x)", for_complex={"x": "np.real(np.conj(x) * t) / np.where(ans == 0, 1.0, ans)"})
jvp("np.absolute(x)", x="t * np.sign(x)", for_complex={"x": "np.real(np.conj(x) * t) / np.where(ans == 0, 1.0, ans)"})
jvp("np.fabs(x)", x="t * np.sign(x)")
jvp("np.hypot(x, y)", x="t * x / ans", y="t * y / ans")
for _pick in ("maximum", "minimum", "fmax", "fmin"):
    jvp(f"np.{_pick}(x, y)", x="t * balanced_eq(x, ans, y)", y="t * balanced_eq(y, ans, x)")
jvp("np.clip(x, a_min=None, a_max=None)", x="t * (clip_owner(x, a_min, a_max) == 0)",
    a_min="t * (clip_owner(x, a_min, a_max) == 1)", a_max="t * (clip_owner(x, a_min, a_max) == 2)")  # fmt: skip
jvp("np.where(condition, x=None, y=None)", x="np.where(condition, t, 0.0)", y="np.where(condition, 0.0, t)")

# exponentials and logarithms
jvp("np.exp(x)", x="t * ans")
jvp("np.exp2(x)", x="t * ans * np.log(2.0)")
jvp("np.expm1(x)", x="t * (ans + 1.0)")
jvp("np.log(x)", x="t / x")
jvp("np.log2(x)", x="t / (x * np.log(2.0))")
jvp("np.log10(x)", x="t / (x * np.log(10.0))")
jvp("np.log1p(x)", x="t / (1.0 + x)")
jvp("np.logaddexp(x, y)", x="t * np.exp(x - ans)", y="t * np.exp(y - ans)")
jvp("np.logaddexp2(x, y)", x="t * 2.0 ** (x - ans)", y="t * 2.0 ** (y - ans)")

# trigonometric and hyperbolic
jvp("np.sin(x)", x="t * np.cos(x)")
jvp("np.cos(x)", x="-t * np.sin(x)")
jvp("np.tan(x)", x="t * (1.0 + ans ** 2)")
jvp("np.arcsin(x)", x="t / np.sqrt(1.0 - x ** 2)")
jvp("np.arccos(x)", x="-t / np.sqrt(1.0 - x ** 2)")
jvp("np.arctan(x)", x="t / (1.0 + x ** 2)")
jvp("np.arctan2(y, x)", y="t * x / (x ** 2 + y ** 2)", x="-t * y / (x ** 2 + y ** 2)")
jvp("np.sinh(x)", x="t * np.cosh(x)")
jvp("np.cosh(x)", x="t * np.sinh(x)")
jvp("np.tanh(x)", x="t * (1.0 - ans ** 2)")
jvp("np.arcsinh(x)", x="t / np.sqrt(x ** 2 + 1.0)")
jvp("np.arccosh(x)", x="t / np.sqrt(x ** 2 - 1.0)")
jvp("np.arctanh(x)", x="t / (1.0 - x ** 2)")

# reductions: the same reduction of the tangent, weighted where the result depends on a
jvp("np.sum(a, axis=None, dtype=None, out=None, keepdims=False)", a="np.sum(t, axis=axis, keepdims=keepdims)")
jvp("np.mean(a, axis=None, dtype=None, out=None, keepdims=False)", a="np.mean(t, axis=axis, keepdims=keepdims)")
jvp("np.prod(a, axis=None, dtype=None, out=None, keepdims=False)",
    a="np.sum(t * prod_others(a, axis), axis=axis, keepdims=keepdims)")  # fmt: skip
for _extremum in (np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin):
    jvp(f"np.{_extremum.__name__}(a, axis=None, out=None, keepdims=False)",
        a="np.sum(t * extremum_share(a, ans, axis, keepdims), axis=axis, keepdims=keepdims)")  # fmt: skip
jvp("np.var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    a="np.sum(t * (a - np.mean(a, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims) * 2.0"
      " / (size(a) / size(ans) - ddof)")  # fmt: skip
jvp("np.std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",  # 0 where there is no spread (as vjp)
    a="np.sum(t * (a - np.mean(a, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)"
      " / (np.where(ans == 0.0, 1.0, ans) * (size(a) / size(ans) - ddof))")  # fmt: skip
jvp("np.cumsum(a, axis=None, dtype=None, out=None)", a="np.cumsum(t, axis)")
jvp("np.trace(a, offset=0, axis1=0, axis2=1)", a="np.trace(t, offset, axis1, axis2)")
jvp("np.cumprod(a, axis=None, dtype=None, out=None)", a="cumprod_tangent(t, a, axis)")
jvp("np.nanprod(a, axis=None, dtype=None, out=None, keepdims=False)",
    a="np.sum(np.where(np.isnan(a), 0.0, t) * prod_others(np.where(np.isnan(a), 1.0, a), axis), axis=axis, keepdims=keepdims)")  # fmt: skip

# weighted means and order statistics
jvp("np.average(a, axis=None, weights=None, returned=False, keepdims=False)",
    a="np.sum(t * spread_weights(weights, a, axis, returned), axis=axis, keepdims=keepdims)"
      " / np.sum(spread_weights(weights, a, axis), axis=axis, keepdims=keepdims)",
    weights="np.sum(spread_weights(t, a, axis, returned) * (a - unreduce(ans, a, axis, keepdims)), axis=axis, keepdims=keepdims)"
            " / np.sum(spread_weights(weights, a, axis), axis=axis, keepdims=keepdims)")  # fmt: skip
jvp("np.median(a, axis=None, out=None, overwrite_input=False, keepdims=False)",
    a="gather(t, quantile_sources(a, 0.5, axis, keepdims)) * (1.0 - quantile_fraction(a, 0.5, axis, keepdims))"
      " + gather(t, quantile_sources(a, 0.5, axis, keepdims, 'linear', True)) * quantile_fraction(a, 0.5, axis, keepdims)")  # fmt: skip
for _name, _q, _per in (("quantile", "q", ""), ("percentile", "np.asarray(q) / 100", " / 100")):
    jvp(f"np.{_name}(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False)",
        a=f"gather(t, quantile_sources(a, {_q}, axis, keepdims, method)) * (1.0 - quantile_fraction(a, {_q}, axis, keepdims, method))"
          f" + gather(t, quantile_sources(a, {_q}, axis, keepdims, method, True)) * quantile_fraction(a, {_q}, axis, keepdims, method)",
        q=f"(gather(a, quantile_sources(a, {_q}, axis, keepdims, method, True)) - gather(a, quantile_sources(a, {_q}, axis, keepdims,"
          f" method))) * np.reshape(t, np.shape(t) + (1,) * (np.ndim(ans) - np.ndim(q))) * quantile_slope(a, axis, method){_per}")  # fmt: skip
jvp("np.interp(x, xp, fp, left=None, right=None)", x="t * interp_slope(x, xp, fp)",
    fp="np.interp(x, xp, broadcast_like(t, fp), None if left is None else 0.0, None if right is None else 0.0)",
    left="t * (np.asarray(x) < xp[0])", right="t * (np.asarray(x) > xp[-1])")  # fmt: skip
jvp("np.bincount(x, weights=None, minlength=0)", weights="np.bincount(x, broadcast_like(t, weights), minlength)")
jvp("np.convolve(a, v, mode='full')", a="np.convolve(broadcast_like(t, a), v, mode)", v="np.convolve(a, broadcast_like(t, v), mode)")
jvp("np.polyval(p, x)", p="np.polyval(broadcast_like(t, p), x)", x="t * np.polyval(np.asarray(p)[:-1] * np.arange(len(p) - 1, 0, -1), x)")

# ufunc methods (axis by position: forward.py leaves out a keyword at its pattern's default, here 0,
# which is not np.sum's)
jvp("np.add.reduce(array, axis=0, dtype=None, out=None, keepdims=False)",
    array="np.add.reduce(broadcast_like(t, array), axis, keepdims=keepdims)")  # fmt: skip
jvp("np.multiply.reduce(array, axis=0, dtype=None, out=None, keepdims=False)",
    array="np.add.reduce(t * prod_others(array, axis), axis, keepdims=keepdims)")  # fmt: skip
jvp("np.add.accumulate(array, axis=0, dtype=None, out=None)", array="np.cumsum(broadcast_like(t, array), axis)")
jvp("np.multiply.accumulate(array, axis=0, dtype=None, out=None)", array="cumprod_tangent(t, array, axis)")
jvp("np.multiply.outer(A, B)", A="np.multiply.outer(broadcast_like(t, A), B)", B="np.multiply.outer(A, broadcast_like(t, B))")
jvp("np.add.outer(A, B)", A="np.add.outer(broadcast_like(t, A), np.zeros(np.shape(B)))",
    B="np.add.outer(np.zeros(np.shape(A)), broadcast_like(t, B))")  # fmt: skip

# linear algebra: bilinear products take one tangent at a time
jvp("np.matmul(a, b)", a="t @ b", b="a @ t")
jvp("adjoint_matmul(a, b)", a="adjoint_matmul(t, b)", b="adjoint_matmul(a, t)")
jvp("np.dot(a, b)", a="np.dot(t, b)", b="np.dot(a, t)")
jvp("np.inner(a, b)", a="np.inner(t, b)", b="np.inner(a, t)")
jvp("np.vdot(a, b)", a="np.vdot(t, b)", b="np.vdot(a, t)")
jvp("np.outer(a, b)", a="np.outer(broadcast_like(t, a), b)", b="np.outer(a, broadcast_like(t, b))")
jvp("np.einsum(*operands, optimize=False)", operands="einsum_with(operands, k, t)")
jvp("np.linalg.norm(x, ord=None, axis=None, keepdims=False)",
    x="np.sum(t * norm_direction(x, ans, ord, axis, keepdims), axis=norm_axes(x, ord, axis), keepdims=keepdims)")  # fmt: skip

# shape manipulation: the same operation on the tangent
# a weak-zero tangent (0.0 for an array) takes its operand's shape before it moves
jvp("np.reshape(a, *shape, order='C')", a="np.reshape(broadcast_like(t, a), np.shape(ans), order=order)")
jvp("np.ravel(a, order='C')", a="np.ravel(broadcast_like(t, a), order=order)")
jvp("np.ndarray.flatten(a, order='C')", a="np.ndarray.flatten(broadcast_like(t, a), order=order)")
jvp("np.transpose(a, *axes)", a="transpose_adjoint(t, axes, True)")
jvp("np.swapaxes(a, axis1, axis2)", a="np.swapaxes(broadcast_like(t, a), axis1, axis2)")
jvp("np.moveaxis(a, source, destination)", a="np.moveaxis(broadcast_like(t, a), source, destination)")
jvp("np.squeeze(a, axis=None)", a="np.reshape(broadcast_like(t, a), np.shape(ans))")
jvp("np.expand_dims(a, axis)", a="np.expand_dims(t, axis)")  # (a weak-zero t gives zeros that broadcast)
jvp("np.broadcast_to(array, shape)", array="np.broadcast_to(t, np.shape(ans))")
jvp("np.flip(m, axis=None)", m="np.flip(broadcast_like(t, m), axis)")
jvp("np.tile(A, reps)", A="np.tile(broadcast_like(t, A), reps)")
jvp("np.repeat(a, repeats, axis=None)", a="np.repeat(broadcast_like(t, a), repeats, axis)")
jvp("np.copy(a)", a="private_copy(t)")  # a copy's tangent is a copy too: t may be a view of a tangent written later
jvp("np.float64(x=0.0)", x="np.float64(t)")
jvp("np.ndarray.item(a, *args)", a="gather(t, positions(a).item(*args))")
jvp("np.asarray(a, dtype=None)", a="np.asarray(t, dtype)")
jvp("np.stack(arrays, axis=0)", arrays="np.stack(t, axis)")
jvp("np.array(object, dtype=None)", object="np.array(t, dtype)")
jvp("np.concatenate(arrays, axis=0)", arrays="np.concatenate(t, axis)")
jvp("np.hstack(tup)", tup="np.hstack(t)")
jvp("np.vstack(tup)", tup="np.vstack(t)")
if getattr(np, "row_stack", np.vstack) is not np.vstack:
    jvp("np.row_stack(tup)", tup="np.vstack(t)")

# selections: the same selection of the tangent
jvp("np.roll(a, shift, axis=None)", a="np.roll(t, shift, axis)")
jvp("np.take(a, indices, axis=None, out=None, mode='raise')", a="np.take(t, indices, axis, mode=mode)")
jvp("np.take_along_axis(arr, indices, axis=-1)", arr="np.take_along_axis(t, indices, axis)")
jvp("np.tril(m, k=0)", m="np.tril(t, k)")
jvp("np.triu(m, k=0)", m="np.triu(t, k)")
jvp("np.diag(v, k=0)", v="np.diag(t, k)")
jvp("np.diagonal(a, offset=0, axis1=0, axis2=1)", a="np.diagonal(t, offset, axis1, axis2)")
jvp("np.fliplr(m)", m="np.fliplr(t)")
jvp("np.flipud(m)", m="np.flipud(t)")
jvp("np.rot90(m, k=1, axes=(0, 1))", m="np.rot90(t, k, axes)")
jvp("np.rollaxis(a, axis, start=0)", a="np.rollaxis(t, axis, start)")
for _atleast in ("atleast_1d", "atleast_2d", "atleast_3d"):
    jvp(f"np.{_atleast}(ary)", ary=f"np.{_atleast}(t)")
for _split in ("split", "array_split"):
    jvp(f"np.{_split}(ary, indices_or_sections, axis=0)", ary=f"np.{_split}(t, indices_or_sections, axis)")
for _split in ("hsplit", "vsplit", "dsplit"):
    jvp(f"np.{_split}(ary, indices_or_sections)", ary=f"np.{_split}(t, indices_or_sections)")
jvp("np.column_stack(tup)", tup="np.column_stack(t)")
jvp("np.append(arr, values, axis=None)", arr="gather(t, np.append(positions(arr), np.zeros_like(positions(values)), axis))",
    values="gather(t, np.append(np.zeros_like(positions(arr)), positions(values), axis))")  # fmt: skip
jvp("np.select(condlist, choicelist, default=0)", choicelist="gather(t, np.select(condlist, positions(choicelist), 0), choicelist)",
    default="gather(t, np.select(condlist, [0] * len(choicelist), positions(default)))")  # fmt: skip
jvp("np.pad(array, pad_width, mode='constant', constant_values=0)", array="gather(t, pad_sources(array, pad_width, mode))",
    constant_values="gather(t, pad_fill_sources(array, pad_width, constant_values))")  # fmt: skip
jvp("np.sort(a, axis=-1, kind=None, order=None)", a="gather(t, permutation_sources(a, ans, axis))")
jvp("np.partition(a, kth, axis=-1, kind='introselect', order=None)", a="gather(t, permutation_sources(a, ans, axis))")

# more linear and bilinear functions
jvp("np.diff(a, n=1, axis=-1, prepend=None, append=None)", a="diff_along(t, a, n, axis, prepend, append)",
    prepend="diff_along(t, a, n, axis, prepend, append, 'prepend')",
    append="diff_along(t, a, n, axis, prepend, append, 'append')")  # fmt: skip
jvp("np.tensordot(a, b, axes=2)", a="np.tensordot(t, b, axes)", b="np.tensordot(a, t, axes)")
jvp("np.kron(a, b)", a="np.kron(t, b)", b="np.kron(a, t)")
jvp("np.cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)", a="np.cross(t, b, axisa, axisb, axisc, axis)",
    b="np.cross(a, t, axisa, axisb, axisc, axis)")  # fmt: skip
jvp("np.gradient(f, *varargs, axis=None, edge_order=1)", f="gradient_along(t, varargs, axis, edge_order)")
for _name, _scale in ANGLE_UNITS:
    jvp(f"np.{_name}(x)", x=f"t * ({_scale})")
jvp("np.real(val)", val="np.real(t)")
jvp("np.imag(val)", val="np.imag(t)")
jvp("np.conj(x)", x="np.conj(t)")
jvp("np.angle(z, deg=False)", z="np.imag(t / np.where(z == 0, 1.0, z)) * (180 / np.pi if deg else 1.0)")
jvp("np.sinc(x)", x="t * sinc_slope(x)")
jvp("np.nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None)", x="t * np.isfinite(x)", nan="t * np.isnan(x)",
    posinf="t * (x == np.inf)", neginf="t * (x == -np.inf)")  # fmt: skip
jvp("np.nancumsum(a, axis=None, dtype=None, out=None)", a="np.cumsum(np.where(np.isnan(a), 0.0, t), axis)")
jvp("np.nansum(a, axis=None, dtype=None, out=None, keepdims=False)",
    a="np.sum(np.where(np.isnan(a), 0.0, t), axis=axis, keepdims=keepdims)")  # fmt: skip
jvp("np.nanmean(a, axis=None, dtype=None, out=None, keepdims=False)",
    a="np.sum(np.where(np.isnan(a), 0.0, t), axis=axis, keepdims=keepdims) / np.sum(~np.isnan(a), axis=axis, keepdims=keepdims)")  # fmt: skip
jvp("np.nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    a="np.sum(t * np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims) * 2.0"
      " / (np.sum(~np.isnan(a), axis=axis, keepdims=keepdims) - ddof)")  # fmt: skip
jvp("np.nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    a="np.sum(t * np.where(np.isnan(a), 0.0, a - np.nanmean(a, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)"
      " / (np.where(ans == 0.0, 1.0, ans) * (np.sum(~np.isnan(a), axis=axis, keepdims=keepdims) - ddof))")  # fmt: skip

# creation with a value
jvp("np.full(shape, fill_value, dtype=None, order='C')", fill_value="np.broadcast_to(t, np.shape(ans))")
jvp("np.full_like(a, fill_value, dtype=None, order='K', subok=True, shape=None)", fill_value="np.broadcast_to(t, np.shape(ans))")
jvp("np.linspace(start, stop, num=50, endpoint=True, axis=0)",  # sample i is start + (stop - start) * weight i
    start="np.expand_dims(t, axis) * (1.0 - linspace_weights(ans, num, endpoint, axis))",
    stop="np.expand_dims(t, axis) * linspace_weights(ans, num, endpoint, axis)")  # fmt: skip
jvp("np.arange(start, stop=None, step=None, dtype=None)", start="t * arange_weights(ans, stop, step, 'start')",
    step="t * arange_weights(ans, stop, step, 'step')")  # fmt: skip
jvp("np.random.normal(loc=0.0, scale=1.0, size=None)", loc="broadcast_like(t, ans)", scale="t * (ans - loc) / scale")
jvp("np.random.uniform(low=0.0, high=1.0, size=None)", low="t * (high - ans) / (high - low)",
    high="t * (ans - low) / (high - low)")  # fmt: skip
jvp("np.copysign(x1, x2)", x1="t * np.sign(x1) * np.copysign(1.0, x2)")
jvp("np.heaviside(x1, x2)", x2="t * (x1 == 0)")

# functions generated code calls: jvp(grad(f)) is a Hessian-vector product. Most are linear in
# their first argument, so their tangent is the same call on the tangent.
jvp("unbroadcast(x, like)", x="unbroadcast(t, like)")
jvp("rebroadcast(y, x)", y="rebroadcast(t, x)")
jvp("broadcast_like(y, like)", y="broadcast_like(t, like)")
jvp("unreduce(y, like, axis=None, keepdims=False)", y="unreduce(t, like, axis, keepdims)")
jvp("astype(x, dtype)", x="astype(t, dtype)")
jvp("materialize(y, like)", y="materialize(t, like)")
jvp("materialize_all(ys, likes)", ys="materialize_all(t, likes)")
jvp("cotangents(values, count)", values="cotangents(t, count)")
jvp("add_adjoints(a, b)", a="t", b="t")  # forward.py adds list tangents with add_adjoints
jvp("private_copy(y, like=None)", y="private_copy(t, like)")
jvp("writable(y, like)", y="writable(t, like)")
jvp("cast(y, x)", y="cast(t, x)")
jvp("indexable(y, like)", y="indexable(t, like)")
jvp("real_root(s)", s="t")
jvp("triangle(m, lower, unit_diagonal=False)", m="triangle(t, lower, unit_diagonal)")
jvp("matmul_adjoint_a(y, a, b)", y="matmul_adjoint_a(t, a, b)", b="matmul_adjoint_a(y, a, t)")
jvp("matmul_adjoint_b(y, a, b)", y="matmul_adjoint_b(t, a, b)", a="matmul_adjoint_b(y, t, b)")
jvp("dot_adjoint_a(y, a, b)", y="dot_adjoint_a(t, a, b)", b="dot_adjoint_a(y, a, t)")
jvp("dot_adjoint_b(y, a, b)", y="dot_adjoint_b(t, a, b)", a="dot_adjoint_b(y, t, b)")
jvp("inner_adjoint_a(y, a, b)", y="inner_adjoint_a(t, a, b)", b="inner_adjoint_a(y, a, t)")
jvp("inner_adjoint_b(y, a, b)", y="inner_adjoint_b(t, a, b)", a="inner_adjoint_b(y, t, b)")
jvp("unstack(y, arrays, axis=0)", y="unstack(t, arrays, axis)")
jvp("restack(parts, arrays, axis=0)", parts="restack(t, arrays, axis)")
jvp("unconcatenate(y, arrays, axis=0)", y="unconcatenate(t, arrays, axis)")
jvp("reconcatenate(parts, arrays, axis=0)", parts="reconcatenate(t, arrays, axis)")
jvp("unvstack(y, arrays)", y="unvstack(t, arrays)")
jvp("revstack(parts, arrays)", parts="revstack(t, arrays)")
jvp("cumsum_adjoint(y, x, axis=None)", y="cumsum_adjoint(t, x, axis)")
jvp("transpose_adjoint(y, axes, forward=False)", y="transpose_adjoint(t, axes, forward)")
jvp("moveaxis_adjoint(y, source, destination)", y="moveaxis_adjoint(t, source, destination)")
jvp("expand_dims_adjoint(y, x)", y="expand_dims_adjoint(t, x)")
jvp("repeat_adjoint(y, x, repeats, axis=None)", y="repeat_adjoint(t, x, repeats, axis)")
jvp("tile_adjoint(y, x, reps)", y="tile_adjoint(t, x, reps)")
jvp("einsum_adjoint(y, args, position)", y="einsum_adjoint(t, args, position)",
    args="einsum_adjoint_tangent(y, args, position, t)")  # fmt: skip
jvp("einsum_with(args, position, z)", z="einsum_with(args, position, t)", args="einsum_with_tangent(args, position, z, t)")
# the Hessians of prod and of the norms are symmetric: the curvature helpers are their own tangents
jvp("prod_adjoint(y, x, axis=None, keepdims=False)", y="prod_adjoint(t, x, axis, keepdims)",
    x="unreduce(y, x, axis, keepdims) * prod_curvature(t, x, axis)")  # fmt: skip
jvp("prod_others(x, axis=None)", x="prod_curvature(t, x, axis)")
jvp("trace_adjoint(y, x, offset=0, axis1=0, axis2=1)", y="trace_adjoint(t, x, offset, axis1, axis2)")
jvp("reduce_extremum_adjoint(y, x, extremum, axis=None, keepdims=False)",
    y="reduce_extremum_adjoint(t, x, extremum, axis, keepdims)")  # fmt: skip
jvp("norm_adjoint(y, x, norm, ord=None, axis=None, keepdims=False)", y="norm_adjoint(t, x, norm, ord, axis, keepdims)",
    x="structured(unreduce(y, x, norm_axes(x, ord, axis), keepdims) * norm_curvature(np.asarray(t), x, norm, ord, axis, keepdims), x)",
    norm="structured(unreduce(y, x, norm_axes(x, ord, axis), keepdims) * norm_scale_tangent(t, x, norm, ord, axis, keepdims),"
         " x)")  # fmt: skip
jvp("norm_direction(x, norm, ord=None, axis=None, keepdims=False)", x="norm_curvature(np.asarray(t), x, norm, ord, axis, keepdims)",
    norm="norm_scale_tangent(t, x, norm, ord, axis, keepdims)")  # fmt: skip
jvp("structured(y, x)", y="structured(t, x)")
jvp("unstructured(y, x, like)", y="unstructured(t, x, like)")
jvp("add_at(x, index, y)", x="t", y="add_at(zeros_like(ans), index, t)")
jvp("scatter(y, like, source)", y="scatter(t, like, source)")
jvp("gather(x, source, like=None)", x="gather(t, source, like)")
jvp("diff_adjoint(y, a, n=1, axis=-1, prepend=None, append=None, part='a')",
    y="diff_adjoint(t, a, n, axis, prepend, append, part)")  # fmt: skip
jvp("diff_along(x, a, n=1, axis=-1, prepend=None, append=None, part='a')",
    x="diff_along(t, a, n, axis, prepend, append, part)")  # fmt: skip
jvp("tensordot_adjoint_a(y, a, b, axes=2)", y="tensordot_adjoint_a(t, a, b, axes)", b="tensordot_adjoint_a(y, a, t, axes)")
jvp("tensordot_adjoint_b(y, a, b, axes=2)", y="tensordot_adjoint_b(t, a, b, axes)", a="tensordot_adjoint_b(y, t, b, axes)")
jvp("kron_adjoint_a(y, a, b)", y="kron_adjoint_a(t, a, b)", b="kron_adjoint_a(y, a, t)")
jvp("kron_adjoint_b(y, a, b)", y="kron_adjoint_b(t, a, b)", a="kron_adjoint_b(y, t, b)")
jvp("cumprod_adjoint(y, x, axis=None)", y="cumprod_adjoint(t, x, axis)", x="cumprod_curvature(t, y, x, axis)")
jvp("cumprod_tangent(z, x, axis=None)", z="cumprod_tangent(t, x, axis)", x="cumprod_second(z, t, x, axis)")
jvp("sinc_slope(x)", x="t * sinc_curvature(x)")
jvp("quantile_fraction(a, q, axis=None, keepdims=False, method='linear')",
    q="np.reshape(t, np.shape(t) + (1,) * (np.ndim(ans) - np.ndim(t))) * quantile_slope(a, axis, method)")  # fmt: skip
jvp("spread_weights(weights, a, axis=None, returned=False)", weights="spread_weights(t, a, axis)")
jvp("gather_weights(y, weights, a, axis=None)", y="gather_weights(t, weights, a, axis)")
jvp("convolve_adjoint(y, a, v, mode='full')", y="convolve_adjoint(broadcast_like(t, y), a, v, mode)",
    v="convolve_adjoint(y, a, broadcast_like(t, v), mode)")  # fmt: skip
jvp("interp_slope(x, xp, fp)", fp="interp_slope(x, xp, broadcast_like(t, fp))")
jvp("interp_slope_adjoint(y, x, xp, fp)", y="interp_slope_adjoint(t, x, xp, fp)")
jvp("interp_fp_adjoint(y, x, xp, fp, left=None, right=None)", y="interp_fp_adjoint(t, x, xp, fp, left, right)",
    x="interp_slope_adjoint(y * t, x, xp, fp)")  # fmt: skip
jvp("real_like(y, like)", y="real_like(t, like)")
jvp("dft(y, s=None, axes=None, norm=None, inverse=False)", y="dft(broadcast_like(t, y), s, axes, norm, inverse)")
jvp("dft_adjoint(y, a, s=None, axes=None, norm=None, inverse=False)", y="dft_adjoint(t, a, s, axes, norm, inverse)")
jvp("rdft(y, s=None, axes=None, norm=None)", y="rdft(broadcast_like(t, y), s, axes, norm)")
jvp("rdft_adjoint(y, a, s=None, axes=None, norm=None)", y="rdft_adjoint(t, a, s, axes, norm)")
jvp("irdft(y, s=None, axes=None, norm=None)", y="irdft(broadcast_like(t, y), s, axes, norm)")
jvp("irdft_adjoint(y, a, s=None, axes=None, norm=None)", y="irdft_adjoint(t, a, s, axes, norm)")
jvp("cross_adjoint(y, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None)", y="cross_adjoint(t, a, b, axisa, axisb, axisc, axis)",
    b="cross_adjoint(y, a, t, axisa, axisb, axisc, axis)")  # fmt: skip
jvp("gradient_along(x, varargs=(), axis=None, edge_order=1)", x="gradient_along(t, varargs, axis, edge_order)")
jvp("gradient_adjoint(y, x, varargs=(), axis=None, edge_order=1)", y="gradient_adjoint(t, x, varargs, axis, edge_order)")
