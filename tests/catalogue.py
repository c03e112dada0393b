"""The derivative-rule catalogue: every primitive of the rule table, with its inputs stated.

A case is a small scalar-valued function ``fn(*inputs, w)``. It applies the primitive
under test and weighs the result with ``w``, a fixed random array of the result's shape
(``np.sum(np.sin(x) * w)``), so every entry of the result reaches the output with its own
weight: a transposed or mis-summed adjoint cannot hide behind a plain sum. Extra,
non-differentiated arguments (an axis, a shape) come from ``options``, passed by keyword.

``shapes`` lists the examples, one shape per input; ``()`` means a Python float. Inputs
are drawn from the case's ``domain`` (one domain, or one per input), chosen inside the
function's domain and away from its kinks and ties. Tolerances live with the case.
``order=2`` also checks ``grad(grad(f))`` along a random direction, which differentiates the
generated gradient with the runtime helpers' own rules (``test_rules.check_second_order``).

The autograd reference runs the same code with ``np`` and ``math`` bound to autograd
(``autograd_twin``). Where autograd has no derivative, or a wrong one, ``AUTOGRAD_NUMPY``
puts a stand-in built from functions it does differentiate; a case whose syntax autograd
cannot run (``x.dot(y)``: its arrays have no ``.dot``) names an equivalent ``reference``.
"""

from __future__ import annotations

import functools
import math
import operator
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import autograd
import autograd.numpy as anp
import autograd.scipy.linalg as autograd_scipy_linalg
import autograd.scipy.special as autograd_special
import autograd.scipy.stats as autograd_stats
import numpy as np
import scipy.linalg
import scipy.signal
import scipy.special
import scipy.stats

from srcdiff import rules
from srcdiff.runtime import (
    add_adjoints,
    add_at,
    adjoint_matmul,
    astype,
    broadcast_like,
    cast,
    convolve_adjoint,
    cotangents,
    cross_adjoint,
    cumprod_adjoint,
    cumprod_tangent,
    cumsum_adjoint,
    dft,
    dft_adjoint,
    diff_adjoint,
    diff_along,
    dot_adjoint_a,
    dot_adjoint_b,
    einsum_adjoint,
    einsum_with,
    expand_dims_adjoint,
    gather,
    gather_weights,
    gradient_adjoint,
    gradient_along,
    indexable,
    inner_adjoint_a,
    inner_adjoint_b,
    interp_fp_adjoint,
    interp_slope,
    interp_slope_adjoint,
    irdft,
    irdft_adjoint,
    kron_adjoint_a,
    kron_adjoint_b,
    materialize,
    materialize_all,
    matmul_adjoint_a,
    matmul_adjoint_b,
    moveaxis_adjoint,
    norm_adjoint,
    norm_direction,
    private_copy,
    prod_adjoint,
    prod_others,
    quantile_fraction,
    rdft,
    rdft_adjoint,
    real_like,
    real_root,
    rebroadcast,
    reconcatenate,
    reduce_extremum_adjoint,
    repeat_adjoint,
    resort,
    restack,
    revstack,
    scatter,
    sequence_adjoint,
    sinc_slope,
    spread_weights,
    structured,
    sum_adjoint,
    sum_adjoint_adjoint,
    tensordot_adjoint_a,
    tensordot_adjoint_b,
    tile_adjoint,
    trace_adjoint,
    transpose_adjoint,
    triangle,
    unbroadcast,
    unconcatenate,
    unreduce,
    unreverse,
    unsort,
    unstack,
    unstructured,
    unvstack,
    writable,
)
from srcdiff.runtime import digamma as runtime_digamma  # (the catalogue's digamma is SciPy's case)

rules.load_optional_rules(force=True)  # the catalogue covers every rule srcdiff ships, SciPy's too

Shape = tuple[int, ...]
SCALAR: Shape = ()


# --------------------------------------------------------------------------- domains


@dataclass(frozen=True)
class Domain:
    """Where inputs come from: ``uniform`` in ``[low, high]`` (with a random sign if ``signed``),
    or, if ``grid``, distinct points of a grid that never lands on a kink or on another input."""

    name: str
    low: float
    high: float
    signed: bool = False
    grid: bool = False
    # matrices (the last two axes): mirrored across the diagonal if ``symmetric``, then ``diagonal``
    # times 1, 2, 3, ... added along it: near a diagonal matrix with distinct, well separated entries,
    # so well conditioned, with distinct eigenvalues and singular values (and positive definite)
    symmetric: bool = False
    diagonal: float = 0.0

    def sample(self, rng: np.random.Generator, shape: Shape, position: int) -> Any:
        """Values for the input at ``position``: a float for shape ``()``, else an array."""
        size = math.prod(shape)
        if self.grid:
            # points 0.1 apart, offset by 0.0125 + 0.025 * (position % 4): no ties within an
            # input or between two of four inputs, and 0.0125 or more from a multiple of 0.05
            # (where constant bounds such as clip's sit)
            points = max(40, 2 * size)
            picks = rng.choice(points, size=size, replace=False)
            values = self.low + 0.1 * picks + 0.0125 + 0.025 * (position % 4)
        else:
            values = rng.uniform(self.low, self.high, size)
            if self.signed:
                values *= rng.choice([-1.0, 1.0], size)
        if shape == ():
            return float(values[0])
        values = values.reshape(shape)
        if self.symmetric:
            values = values + np.swapaxes(values, -1, -2)
        if self.diagonal:
            rows, columns = shape[-2:]
            values = values + self.diagonal * np.eye(rows, columns) * np.arange(1, columns + 1)
        return values


NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"  # cases where NumPy 1 and 2 read arguments differently
AVERAGE_KEEPDIMS = np.lib.NumpyVersion(np.__version__) >= "1.23.0"  # np.average's keepdims= is 1.23's


def _autograd_takes_einsum_of_lists() -> bool:
    """Can autograd differentiate np.einsum of a list of its traced values? (Not on NumPy 1.22,
    which refuses the list's data type: the reference is missing there, not srcdiff's derivative.)"""
    try:
        return autograd.grad(lambda v: anp.einsum("i,i", [v, v], [v, v]))(1.0) == 4.0
    except TypeError:
        return False


AUTOGRAD_EINSUM_OF_LISTS = _autograd_takes_einsum_of_lists()

REAL = Domain("real", -2.0, 2.0)
POSITIVE = Domain("positive", 0.5, 2.0)
UNIT = Domain("unit", -0.8, 0.8)  # inside (-1, 1): arcsin, arccos, arctanh
ABOVE_ONE = Domain("above_one", 1.2, 3.0)  # arccosh
NONZERO = Domain("nonzero", 0.3, 2.0, signed=True)  # away from the kink of abs and the pole of 1/x
DISTINCT = Domain("distinct", -2.0, 2.0, grid=True)  # max/min/clip/sort-like: no ties, no kinks
MOD_X = Domain("mod_x", 2.2, 2.9)  # with MOD_Y, x / y stays in (1.1, 1.94): away from the jumps of mod
MOD_Y = Domain("mod_y", 1.5, 2.0)
START = Domain("start", 0.1, 0.2)  # with STEP, np.arange(start, 4.5, step) always has 5 values
STEP = Domain("step", 0.95, 1.0)
PROBABILITY = Domain("probability", 0.1, 0.9)  # logit
ERFC_RANGE = Domain("erfc_range", 0.2, 1.8)  # erfcinv: inside (0, 2)
BELOW = Domain("below", -1.0, 0.3)  # a loc below POSITIVE's x: gamma and chi2 densities are positive there
BETA_X = Domain("beta_x", 0.2, 2.0)  # with BETA_LOC and BETA_SCALE, (x - loc) / scale stays in (0.1, 0.92)
BETA_LOC = Domain("beta_loc", -0.3, -0.1)
BETA_SCALE = Domain("beta_scale", 2.5, 3.0)
GAMMA_X = Domain("gamma_x", 0.2, 0.8, signed=True)  # math.gamma on both sides of 0, away from its poles at 0 and -1
MATRIX = Domain("matrix", -0.5, 0.5, diagonal=2.0)  # well conditioned, distinct singular values
SYMMETRIC = Domain("symmetric", -0.5, 0.5, symmetric=True, diagonal=2.0)  # positive definite, distinct eigenvalues


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One function to differentiate, the examples to try, and how close the answers must be."""

    fn: Callable[..., Any]
    shapes: Sequence[tuple[Shape, ...]]
    domain: Domain | tuple[Domain, ...] = REAL
    options: Sequence[Mapping[str, Any]] = ({},)  # non-differentiated keyword arguments
    wrt: tuple[int, ...] | None = None  # input positions to differentiate; None: all of them
    fd_rtol: float = 1e-6  # central differences with step 1e-6: error ~1e-9 relative
    fd_atol: float = 1e-7
    ag_rtol: float = 1e-9  # autograd computes the same formulas, rounded differently
    ag_atol: float = 1e-12
    autograd: bool = True  # False where autograd has no derivative for the function (say why)
    reference: Callable[..., Any] | None = None  # the function autograd runs, if not ``fn`` itself
    order: int = 1  # 2: grad(grad(f)) is checked too, along a random direction (test_rules.check_second_order)
    xfail: str = ""  # a known wrong gradient: "pipeline bug: ..." (strict: a fix makes the tests say so)
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.fn.__name__)

    def domains(self, n: int) -> tuple[Domain, ...]:
        return self.domain if isinstance(self.domain, tuple) else (self.domain,) * n

    def examples(self) -> list[tuple[tuple[Shape, ...], Mapping[str, Any]]]:
        return [(shapes, options) for shapes in self.shapes for options in self.options]


# shape sets: each example lists one shape per input
UNARY = [((3, 2),), ((4,),), ((),)]
BINARY = [
    ((3, 2), (3, 2)),
    ((3, 2), (1, 2)),  # broadcasting along the first axis
    ((4,), ()),  # an array with a Python float
    ((), (4,)),
    ((2, 1, 3), (4, 1)),  # both sides broadcast
    ((), ()),
]
REDUCIBLE = [((3, 4),), ((2, 3, 4),)]
# x, loc, scale (and x, a shape parameter, loc, scale), broadcasting together
LOCATION_SCALE = [((3, 2), (1, 2), (3, 1)), ((4,), (), ()), ((), (), ())]
SHAPED_LOCATION_SCALE = [((3, 2), (1, 2), (3, 1), ()), ((4,), (), (4,), ()), ((), (), (), ())]
SQUARE = [((3, 3),), ((2, 3, 3),), ((2, 1, 4, 4),)]  # a matrix, and stacks of them
RECTANGULAR = [((4, 3),), ((3, 4),), ((2, 4, 3),), ((3, 3),)]
REDUCE_OPTIONS = [
    {"axis": None, "keepdims": False},
    {"axis": None, "keepdims": True},
    {"axis": 0, "keepdims": False},
    {"axis": -1, "keepdims": True},
    {"axis": (0, 1), "keepdims": False},
    {"axis": (0, -1), "keepdims": True},
]


# ------------------------------------------------------------ elementwise arithmetic


def add(x, y, w):
    return np.sum(np.add(x, y) * w)


def subtract(x, y, w):
    return np.sum(np.subtract(x, y) * w)


def multiply(x, y, w):
    return np.sum(np.multiply(x, y) * w)


def divide(x, y, w):
    return np.sum(np.divide(x, y) * w)


def true_divide(x, y, w):
    return np.sum(np.true_divide(x, y) * w)


def power(x, y, w):
    return np.sum(np.power(x, y) * w)


def mod(x, y, w):
    return np.sum(np.mod(x, y) * w)


def negative(x, w):
    return np.sum(np.negative(x) * w)


def positive(x, w):
    return np.sum(np.positive(x) * w)


def square(x, w):
    return np.sum(np.square(x) * w)


def sqrt(x, w):
    return np.sum(np.sqrt(x) * w)


def cbrt(x, w):
    return np.sum(np.cbrt(x) * w)


def reciprocal(x, w):
    return np.sum(np.reciprocal(x) * w)


def abs_(x, w):
    return np.sum(np.abs(x) * w)


def absolute(x, w):
    return np.sum(np.absolute(x) * w)


def fabs(x, w):
    return np.sum(np.fabs(x) * w)


def sign(x, w):  # sign is piecewise constant: only the second factor carries a derivative
    return np.sum(np.sign(x) * x * w)


def hypot(x, y, w):
    return np.sum(np.hypot(x, y) * w)


def maximum(x, y, w):
    return np.sum(np.maximum(x, y) * w)


def minimum(x, y, w):
    return np.sum(np.minimum(x, y) * w)


def fmax(x, y, w):
    return np.sum(np.fmax(x, y) * w)


def fmin(x, y, w):
    return np.sum(np.fmin(x, y) * w)


def clip(x, w):
    return np.sum(np.clip(x, -0.5, 0.5) * w)


def clip_open(x, w):  # one bound left out, as in a ReLU
    return np.sum(np.clip(x, 0.0, None) * w)


def clip_bounds(x, lo, hi, w):  # the bounds are inputs too: where x is clipped, they decide the result
    return np.sum(np.clip(x, lo, hi) * w)


def where(x, y, w):
    return np.sum(np.where(x > 0.0, np.sin(x), y) * w)


# ---------------------------------------------------------- exponentials and logarithms


def exp(x, w):
    return np.sum(np.exp(x) * w)


def exp2(x, w):
    return np.sum(np.exp2(x) * w)


def expm1(x, w):
    return np.sum(np.expm1(x) * w)


def log(x, w):
    return np.sum(np.log(x) * w)


def log2(x, w):
    return np.sum(np.log2(x) * w)


def log10(x, w):
    return np.sum(np.log10(x) * w)


def log1p(x, w):
    return np.sum(np.log1p(x) * w)


def logaddexp(x, y, w):
    return np.sum(np.logaddexp(x, y) * w)


def logaddexp2(x, y, w):
    return np.sum(np.logaddexp2(x, y) * w)


# --------------------------------------------------------- trigonometric and hyperbolic


def sin(x, w):
    return np.sum(np.sin(x) * w)


def cos(x, w):
    return np.sum(np.cos(x) * w)


def tan(x, w):
    return np.sum(np.tan(x) * w)


def arcsin(x, w):
    return np.sum(np.arcsin(x) * w)


def arccos(x, w):
    return np.sum(np.arccos(x) * w)


def arctan(x, w):
    return np.sum(np.arctan(x) * w)


def arctan2(y, x, w):
    return np.sum(np.arctan2(y, x) * w)


def sinh(x, w):
    return np.sum(np.sinh(x) * w)


def cosh(x, w):
    return np.sum(np.cosh(x) * w)


def tanh(x, w):
    return np.sum(np.tanh(x) * w)


def arcsinh(x, w):
    return np.sum(np.arcsinh(x) * w)


def arccosh(x, w):
    return np.sum(np.arccosh(x) * w)


def arctanh(x, w):
    return np.sum(np.arctanh(x) * w)


# ------------------------------------------------------------------- operator forms


def add_operator(x, y, w):
    return np.sum((x + y) * w)


def subtract_operator(x, y, w):
    return np.sum((x - y) * w)


def multiply_operator(x, y, w):
    return np.sum(x * y * w)


def divide_operator(x, y, w):
    return np.sum(x / y * w)


def power_operator(x, y, w):
    return np.sum(x**y * w)


def power_constant(x, w):
    return np.sum((x**3 + x**0.5 + 2.0**x) * w)


def negative_operator(x, w):
    return np.sum(-x * w)


def matmul_operator(a, b, w):
    return np.sum((a @ b) * w)


# ---------------------------------------------------------------------- reductions


def sum_(x, axis, keepdims, w):
    return np.sum(np.sum(x, axis=axis, keepdims=keepdims) * w)


def sum_all(x, w):  # axis left out: the scalar-result path
    return np.sum(x) * w


def mean(x, axis, keepdims, w):
    return np.sum(np.mean(x, axis=axis, keepdims=keepdims) * w)


def prod(x, axis, keepdims, w):
    return np.sum(np.prod(x, axis=axis, keepdims=keepdims) * w)


def prod_with_zero(x, axis, w):  # an entry of 0: its derivative is the product of the others, not 0/0
    z = x * np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    return np.sum(np.prod(z, axis=axis) * w)


def max_(x, axis, keepdims, w):
    return np.sum(np.max(x, axis=axis, keepdims=keepdims) * w)


def min_(x, axis, keepdims, w):
    return np.sum(np.min(x, axis=axis, keepdims=keepdims) * w)


def amax(x, w):
    return np.sum(np.amax(x, axis=0) * w)


def amin(x, w):
    return np.sum(np.amin(x, axis=-1) * w)


def nanmax(x, w):
    return np.sum(np.nanmax(x, axis=0) * w)


def nanmin(x, w):
    return np.sum(np.nanmin(x, axis=1) * w)


def max_tied(x, w):  # every maximum is attained twice, yet the function is smooth: max(x, x) = x
    z = np.concatenate([x, x])
    return np.sum(np.max(z, axis=0) * w)


def maximum_tied(x, w):  # a tie in every entry: the halves must add up to the whole adjoint
    return np.sum(np.maximum(x, x) * w)


def var(x, axis, keepdims, w):
    return np.sum(np.var(x, axis=axis, keepdims=keepdims) * w)


def var_ddof(x, w):
    return np.sum(np.var(x, axis=0, ddof=1) * w)


def std(x, axis, keepdims, w):
    return np.sum(np.std(x, axis=axis, keepdims=keepdims) * w)


def std_ddof(x, w):
    return np.std(x, ddof=1) * w


def std_no_spread(x, axis, w):  # one entry per reduction: no spread, and a derivative of 0 (not 0/0)
    return np.sum(np.std(x, axis=axis) * w)


def var_no_spread(x, axis, w):
    return np.sum(np.var(x, axis=axis) * w)


def cumsum(x, axis, w):
    return np.sum(np.cumsum(x, axis=axis) * w)


def cumprod(x, axis, w):
    return np.sum(np.cumprod(x, axis=axis) * w)


def cumprod_with_zero(x, axis, w):  # a zero factor: its derivative is the product of the others, not 0/0
    return np.sum(np.cumprod(x * np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]]), axis=axis) * w)


def method_cumprod(x, w):
    return np.sum(x.cumprod(axis=1) * w)


def method_cumprod_reference(x, w):  # autograd's arrays have no .cumprod
    return np.sum(np.cumprod(x, axis=1) * w)


def nanvar(x, axis, keepdims, w):
    return np.sum(np.nanvar(x + NANS, axis=axis, keepdims=keepdims) * w)


def nanstd(x, axis, keepdims, w):
    return np.sum(np.nanstd(x + NANS, axis=axis, keepdims=keepdims, ddof=1) * w)


def sort_list(x, y, w):  # a list of floats: its adjoint is a list
    return np.sum(np.sort([x, y * 2.0, 0.3]) * w)


def nanprod(x, axis, keepdims, w):
    return np.sum(np.nanprod(x + NANS, axis=axis, keepdims=keepdims) * w)


# ------------------------------------------------------------------ linear algebra


def matmul(a, b, w):
    return np.sum(np.matmul(a, b) * w)


def dot(a, b, w):
    return np.sum(np.dot(a, b) * w)


def inner(a, b, w):
    return np.sum(np.inner(a, b) * w)


def vdot(a, b, w):
    return np.vdot(a, b) * w


def outer(a, b, w):
    return np.sum(np.outer(a, b) * w)


def einsum(a, b, subscripts, w):
    return np.sum(np.einsum(subscripts, a, b) * w)


def einsum_one(a, subscripts, w):
    return np.sum(np.einsum(subscripts, a) * w)


def einsum_diagonal_reference(a, subscripts, w):  # autograd's einsum cannot repeat an index in one operand
    diagonal = np.sum(a * np.eye(3), axis=1)
    return np.sum((diagonal if subscripts == "ii->i" else np.sum(diagonal)) * w)


def einsum_same_operand(a, w):  # the operand appears twice: both adjoints add up
    return np.sum(np.einsum("ij,ij->j", a, a) * w)


def trace(a, w):
    return np.trace(a) * w


def trace_offset(a, w):
    return np.trace(a, 1) * w


def trace_axes(a, axis1, axis2, w):
    return np.sum(np.trace(a, 0, axis1, axis2) * w)


def trace_axes_reference(a, axis1, axis2, w):  # autograd's trace takes no axes: mask the diagonal instead
    moved = np.moveaxis(a, (axis1, axis2), (-2, -1))
    return np.sum(np.sum(moved * np.eye(moved.shape[-2], moved.shape[-1]), axis=(-2, -1)) * w)


def norm(x, w):
    return np.linalg.norm(x) * w


def norm_axis(x, axis, keepdims, w):
    return np.sum(np.linalg.norm(x, axis=axis, keepdims=keepdims) * w)


def norm_frobenius(x, w):
    return np.linalg.norm(x, "fro") * w


def norm_ord(x, ord, w):
    return np.linalg.norm(x, ord) * w


def norm_ord_axis(x, ord, axis, keepdims, w):
    return np.sum(np.linalg.norm(x, ord, axis, keepdims) * w)


def norm_of_list(x, y, ord, w):  # a Python list: its adjoint is a list too
    return np.linalg.norm([x, y, x], ord) * w


def norm_tied(x, ord, w):  # every largest magnitude is attained twice: the two share it
    return np.linalg.norm(np.concatenate([x, -x]), ord) * w


def norm_tied_matrix(x, ord, w):  # rows x and -x: tied row sums (ord inf), and tied columns in z.T (ord 1)
    z = np.stack([x, -x])
    return (np.linalg.norm(z, ord) + np.linalg.norm(z.T, ord)) * w


def norm_zero_entry(x, ord, w):  # |x|**(p - 1) at 0: the derivative is 0 (autograd's abs), not nan
    return np.linalg.norm(x * np.array([1.0, 0.0, 1.0, 1.0]), ord) * w


def einsum_sublist(a, b, w):  # operands each followed by a list of axis labels, then the output's
    return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]) * w)


def einsum_sublist_implicit(a, b, w):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2]) * w)


def einsum_sublist_implicit_reference(a, b, w):  # autograd's einsum needs the output sublist
    return np.sum(np.einsum("ij,jk->ik", a, b) * w)


def einsum_sublist_one(a, w):
    return np.sum(np.einsum(a, [0, 1], [1, 0]) * w)


def einsum_sublist_ellipsis(a, b, w):
    return np.sum(np.einsum(a, [Ellipsis, 0], b, [0], [Ellipsis]) * w)


def einsum_sublist_ellipsis_reference(a, b, w):  # autograd's einsum takes no Ellipsis in a sublist
    return np.sum(np.einsum("...i,i->...", a, b) * w)


def einsum_broadcast_reference(a, b, subscripts, w):  # autograd's einsum does not sum a broadcast axis back
    return np.sum(np.einsum(subscripts, a * np.ones((2, 1)), b) * w)


# ------------------------------------------------------------------ shape manipulation


def reshape(x, shape, w):
    return np.sum(np.reshape(x, shape) * w)


def reshape_order(x, order, w):  # Fortran order: the adjoint must reshape back in the same order
    return np.sum(np.reshape(x, (4, 3), order=order) * w)


def transpose(x, w):
    return np.sum(np.transpose(x) * w)


def transpose_axes(x, w):
    return np.sum(np.transpose(x, (1, 2, 0)) * w)


def transpose_axes_keyword(x, w):  # axes= by keyword is the one positional permutation
    return np.sum(np.transpose(x, axes=(1, 2, 0)) * w)


def transpose_axes_keyword_reference(x, w):
    return np.sum(np.transpose(x, (1, 2, 0)) * w)


def swapaxes(x, w):
    return np.sum(np.swapaxes(x, 0, -1) * w)


def moveaxis(x, source, destination, w):
    return np.sum(np.moveaxis(x, source, destination) * w)


def squeeze(x, w):
    return np.sum(np.squeeze(x) * w)


def squeeze_axis(x, w):
    return np.sum(np.squeeze(x, axis=0) * w)


def expand_dims(x, axis, w):
    return np.sum(np.expand_dims(x, axis) * w)


def concatenate(x, y, axis, w):
    return np.sum(np.concatenate([x, y, x], axis=axis) * w)


def stack(x, y, axis, w):
    return np.sum(np.stack([x, y], axis=axis) * w)


def hstack(x, y, w):
    return np.sum(np.hstack([x, y]) * w)


def vstack(x, y, w):
    return np.sum(np.vstack([x, y]) * w)


def hstack_array(x, w):  # an array passed whole: NumPy iterates over its first axis
    return np.sum(np.hstack(x) ** 2 * w)


def hstack_floats(x, y, w):  # 0-d pieces count as 1-D
    return np.sum(np.hstack([x, y, x]) ** 2 * w)


def vstack_array(x, w):
    return np.sum(np.vstack(x) ** 2 * w)


def vstack_floats(x, y, w):
    return np.sum(np.vstack([x, y, x]) ** 2 * w)


def concatenate_array(x, w):
    return np.sum(np.concatenate(x) ** 2 * w)


def stack_array(x, axis, w):
    return np.sum(np.stack(x, axis=axis) ** 2 * w)


def broadcast_to(x, w):
    return np.sum(np.broadcast_to(x, (2, 3, 4)) * w)


def tile(x, reps, w):
    return np.sum(np.tile(x, reps) * w)


def repeat(x, repeats, axis, w):
    return np.sum(np.repeat(x, repeats, axis=axis) * w)


def flip(x, axis, w):
    return np.sum(np.flip(x, axis) * w)


def ravel(x, w):
    return np.sum(np.ravel(x) * w)


def ravel_order(x, order, w):
    return np.sum(np.ravel(x, order=order) * w)


def copy(x, w):
    return np.sum(np.copy(x) * w)


def asarray(x, w):
    return np.sum(np.asarray(x) * w)


def array_of_floats(x, y, w):
    return np.sum(np.array([x, y, x]) * w)


def array_of_array(x, w):
    return np.sum(np.array(x) * w)


def array_dtype(x, y, w):  # a cast to a float type keeps the derivative (rules.for_dtype)
    return np.sum(np.array([x, y**2], dtype=float) * w)


def array_dtype_reference(x, y, w):
    return np.sum(np.array([x, y**2]) * w)


def asarray_dtype(x, w):
    return np.sum(np.asarray(x, dtype=np.float64) ** 2 * w)


def asarray_dtype_reference(x, w):
    return np.sum(x**2 * w)


def where_indices(x, w):  # np.where(condition) alone: the indices where it holds, constants
    return np.sum(x[np.where(x > 0.0)] ** 2) * w


def where_indices_reference(x, w):
    return np.sum(np.where(x > 0.0, x, 0.0) ** 2) * w


# ---------------------------------------------------------------------- selections


def roll(x, shift, axis, w):
    return np.sum(np.roll(x, shift, axis) * w)


def roll_axes_reference(x, shift, axis, w):  # autograd rolls along one axis at a time
    for s, a in zip(shift, axis):
        x = np.roll(x, s, a)
    return np.sum(x * w)


def take(x, indices, axis, w):  # a repeated index: its adjoints add up
    return np.sum(np.take(x, indices, axis) * w)


def take_mode(x, mode, w):  # out-of-range indices wrap around or are clipped
    return np.sum(np.take(x, [4, -6, 1], axis=1, mode=mode) * w)


def take_along_axis(x, axis, w):
    return np.sum(np.take_along_axis(x, np.argsort(x, axis=axis), axis) * w)


def tril(x, k, w):
    return np.sum(np.tril(x, k) * w)


def triu(x, k, w):
    return np.sum(np.triu(x, k) * w)


def diag(x, k, w):  # a vector onto a diagonal, or a matrix's diagonal out
    return np.sum(np.diag(x, k) ** 2 * w)


def diagonal(x, offset, axis1, axis2, w):
    return np.sum(np.diagonal(x, offset, axis1, axis2) * w)


def fliplr(x, w):
    return np.sum(np.fliplr(x) * w)


def flipud(x, w):
    return np.sum(np.flipud(x) * w)


def rot90(x, k, axes, w):
    return np.sum(np.rot90(x, k, axes) * w)


def rollaxis(x, axis, start, w):
    return np.sum(np.rollaxis(x, axis, start) * w)


def atleast_1d(x, w):
    return np.sum(np.atleast_1d(x) * w)


def atleast_2d(x, w):
    return np.sum(np.atleast_2d(x) * w)


def atleast_3d(x, w):
    return np.sum(np.atleast_3d(x) * w)


def split(x, sections, axis, w):  # the middle part, when there is one, is never read: a weak zero
    parts = np.split(x, sections, axis)
    return np.sum((parts[0] * 2.0 - parts[-1] ** 2) * w)


def array_split(x, w):  # uneven parts
    parts = np.array_split(x, 3, axis=1)
    return np.sum((parts[1] * 2.0 - parts[2] ** 2) * w)


def hsplit(x, w):
    a, b = np.hsplit(x, 2)
    return np.sum(a * b * w)


def vsplit(x, w):
    a, b = np.vsplit(x, 2)
    return np.sum(a * b * w)


def dsplit(x, w):
    a, b = np.dsplit(x, [1])
    return np.sum(a * b[..., 1:2] * w)


def column_stack(x, y, w):
    return np.sum(np.column_stack([x, y**2, x]) * w)


# weighted means and order statistics (autograd has no derivative for median and quantiles)
def average(x, axis, keepdims, w):
    return np.sum(np.average(x, axis=axis, keepdims=keepdims) * w)


def average_weighted(x, v, axis, w):  # v: weights shaped like x, or 1-d along axis
    return np.sum(np.average(x, axis, v**2 + 0.5) * w)


def average_reference(x, axis, keepdims, w):
    return np.sum(np.mean(x, axis=axis, keepdims=keepdims) * w)


def average_without_keepdims(x, axis, w):  # NumPy before 1.23: np.average takes no keepdims=
    return np.sum(np.average(x, axis=axis) * w)


def average_without_keepdims_reference(x, axis, w):
    return np.sum(np.mean(x, axis=axis) * w)


def average_weighted_reference(x, v, axis, w):
    weights = v**2 + 0.5
    if np.ndim(weights) == 1 and np.ndim(x) > 1:
        weights = np.reshape(weights, [-1 if i == axis % np.ndim(x) else 1 for i in range(np.ndim(x))])
    weights = weights * np.ones(np.shape(x))
    return np.sum(np.sum(x * weights, axis=axis) / np.sum(weights, axis=axis) * w)


def median(x, axis, keepdims, w):
    return np.sum(np.median(x, axis=axis, keepdims=keepdims) * w)


def quantile(x, q, axis, method, w):
    return np.sum(np.quantile(x**3, q, axis=axis, method=method) * w)


def quantile_level(x, q, w):  # the level too: the gap between the two order statistics read
    return np.sum((np.quantile(x, q, axis=-1) + np.percentile(x**2, q * 100.0, axis=-1)) * w)


def percentile(x, w):
    return np.sum(np.percentile(x, [10.0, 50.0, 95.0], axis=0, keepdims=True) ** 2 * w)


def interp(x, fp, w):  # knots at multiples of 0.05 never meet DISTINCT's grid; some x lie outside
    return np.sum(np.interp(x, [-1.5, -0.3, 0.4, 1.6], fp) * w)


def interp_bounds(x, fp, lo, hi, w):
    return np.sum(np.interp(x, [-1.5, -0.3, 0.4, 1.6], fp**2, lo, hi) * w)


def interp_reference(x, fp, w):  # the segments spelled out: knots fixed, so masks are constants
    knots = [-1.5, -0.3, 0.4, 1.6]
    y = np.where(x < knots[0], fp[0], 0.0) + np.where(x >= knots[-1], fp[-1], 0.0)
    for i in range(3):
        f = (x - knots[i]) / (knots[i + 1] - knots[i])
        y = y + np.where((x >= knots[i]) & (x < knots[i + 1]), (1 - f) * fp[i] + f * fp[i + 1], 0.0)
    return np.sum(y * w)


def convolve(a, v, mode, w):
    return np.sum(np.convolve(a, v**2, mode) * w)


def convolve_reference(a, v, mode, w):  # the full convolution as a matrix product, then the window
    n, m = np.shape(a)[0], np.shape(v)[0]
    full = np.sum(np.stack([np.concatenate([np.zeros(i), a * v[i] ** 2, np.zeros(m - 1 - i)]) for i in range(m)]), axis=0)
    start, length = {"full": (0, n + m - 1), "same": ((min(n, m) - 1) // 2, max(n, m)),
                     "valid": (min(n, m) - 1, max(n, m) - min(n, m) + 1)}[mode]  # fmt: skip
    return np.sum(full[start : start + length] * w)


def polyval(p, x, w):
    return np.sum(np.polyval(p, x) * w)


def polyval_reference(p, x, w):
    return np.sum(sum(p[i] * x ** (len(p) - 1 - i) for i in range(len(p))) * w)


# np.add.at(y, index, v) is lowered to y[...] = y + np.bincount(...) (normalize.py)
def bincount(v, w):
    return np.sum(np.bincount([3, 0, 3, 1, 3], v**2, 6) * w)


def bincount_reference(v, w):
    return np.sum(np.stack([v[1] ** 2, v[3] ** 2, 0.0, v[0] ** 2 + v[2] ** 2 + v[4] ** 2, 0.0, 0.0]) * w)


def np_add_at(x, v, w):  # repeated rows add up; what shares y sees the change, as with np.add.at
    y = x * 1.0
    np.add.at(y, [2, 0, 2, -1], v**2)
    return np.sum(np.sin(y) * w)


def np_add_at_reference(x, v, w):
    rows = [x[0] + v[1] ** 2, x[1], x[2] + v[0] ** 2 + v[2] ** 2 + v[3] ** 2]
    return np.sum(np.sin(np.stack(rows)) * w)


def np_add_at_elements(x, v, w):  # a tuple of index arrays; one value for every position
    y = x * 1.0
    np.add.at(y, ([0, 1, 0], [1, 1, 1]), v)
    return np.sum(y**3 * w)


def np_add_at_elements_reference(x, v, w):
    bump = np.stack([np.stack([0.0, 2.0 * v]), np.stack([0.0, v]), np.zeros(2)])
    return np.sum((x + bump) ** 3 * w)


def ufunc_reduce(x, axis, w):
    return np.sum((np.add.reduce(x, axis) + np.multiply.reduce(x, axis=axis)) * w)


def ufunc_reduce_reference(x, axis, w):
    return np.sum((np.sum(x, axis) + np.prod(x, axis)) * w)


def ufunc_reduce_default(x, w):  # axis 0 unless told
    return np.sum((np.add.reduce(x) * np.multiply.reduce(x, keepdims=True)) * w)


def ufunc_reduce_default_reference(x, w):
    return np.sum((np.sum(x, 0) * np.prod(x, 0, keepdims=True)) * w)


def ufunc_accumulate(x, w):
    return np.sum(np.add.accumulate(x) ** 2 * w)


def ufunc_accumulate_reference(x, w):
    return np.sum(np.cumsum(x, 0) ** 2 * w)


def ufunc_accumulate_product(x, w):
    return np.sum(np.multiply.accumulate(x, axis=-1) * w) + np.sum(np.multiply.accumulate(x) * w)


def ufunc_accumulate_product_reference(x, w):
    return np.sum(np.cumprod(x, -1) * w) + np.sum(np.cumprod(x, 0) * w)


def ufunc_outer(x, y, w):
    return np.sum((np.multiply.outer(x, y) + np.add.outer(x, y) ** 2) * w)


def ufunc_outer_reference(x, y, w):
    xs = np.reshape(x, np.shape(x) + (1,) * np.ndim(y))
    return np.sum((xs * y + (xs + y) ** 2) * w)


# np.r_ and np.c_ are lowered to np.concatenate (normalize.py); the references spell the join out
def r_(x, y, w):
    return np.sum(np.r_[x, 0.5, y**2, 0:2] * w)


def r_reference(x, y, w):
    return np.sum(np.concatenate([np.atleast_1d(x), np.array([0.5]), np.atleast_1d(y**2), np.array([0.0, 1.0])]) * w)


def r_rows(x, y, w):
    return np.sum(np.r_[x, y**2] * w)


def r_rows_reference(x, y, w):
    return np.sum(np.concatenate([x, y**2]) * w)


def c_(x, y, w):
    return np.sum(np.c_[x, y**2, 1:4] * w)


def c_reference(x, y, w):
    return np.sum(np.column_stack([x, y**2, np.array([1.0, 2.0, 3.0])]) * w)


def c_deep(x, y, w):  # c_ joins along the last axis (column_stack along the second)
    return np.sum(np.c_[x, y**2] * w)


def c_deep_reference(x, y, w):
    return np.sum(np.concatenate([x, y**2], axis=-1) * w)


def append(x, y, axis, w):
    return np.sum(np.append(x, y**2, axis) * w)


def select(x, y, w):  # the first true condition picks; y broadcasts; 0.25 where none is true
    return np.sum(np.select([x > 0.5, x < -0.5], [x**2, y], 0.25) * w)


def select_default(x, d, w):  # the default is an input too
    return np.sum(np.select([x > 0.5, x < -0.5], [x**2, -x], d) * w)


PAD_MODES = ((1, "constant"), (2, "edge"), (1, "reflect"), ((1, 2), "symmetric"), (2, "wrap"))  # the selecting modes


def pad(x, pad_width, mode, w):
    return np.sum(np.pad(x, pad_width, mode) * w)


def pad_reference(x, pad_width, mode, w):  # autograd pads in constant mode only: index by padded positions
    source = np.pad(np.arange(1, np.size(x) + 1).reshape(np.shape(x)), pad_width, mode)
    return np.sum(np.concatenate([np.zeros(1), np.ravel(x)])[source] * w)


def pad_constant_value(x, w):  # a constant fill value
    return np.sum(np.pad(x, 1, constant_values=0.5) ** 2 * w)


def pad_fill(x, v, w):  # the fill value is an input
    return np.sum(np.pad(x, ((1, 0), (2, 1)), constant_values=v) ** 2 * w)


def pad_fill_pairs(x, a, b, w):  # one (before, after) pair per axis: NumPy decides who fills the corners
    return np.sum(np.pad(x, 1, constant_values=((a, b), (b * b, 0.5))) ** 2 * w)


def pad_fill_reference(x, v, w):  # autograd pads with zeros only: add the fill where the padding is
    where = np.pad(np.zeros(np.shape(x)), ((1, 0), (2, 1)), "constant", constant_values=1.0)
    return np.sum((np.pad(x, ((1, 0), (2, 1)), "constant") + v * where) ** 2 * w)


def pad_constant_value_reference(x, w):  # autograd pads with zeros only
    return np.sum((np.pad(x - 0.5, 1, "constant") + 0.5) ** 2 * w)


def sort(x, axis, w):
    return np.sum(np.sort(x, axis) * w)


def sort_reference(x, axis, w):  # autograd sorts vectors only
    if axis is None:
        return np.sum(np.take_along_axis(np.ravel(x), np.argsort(np.ravel(x)), 0) * w)
    return np.sum(np.take_along_axis(x, np.argsort(x, axis=axis), axis) * w)


def partition(x, kth, w):
    return np.sum(np.partition(x, kth) * w)


def partition_matrix(x, axis, w):  # (no reference: where NumPy puts the other values is its own choice)
    return np.sum(np.partition(x, 1, axis) * w)


# ------------------------------------------------------- more linear and bilinear


def diff(x, n, axis, w):
    return np.sum(np.diff(x, n, axis) * w)


def diff_ends(x, w):  # constant values put before and after
    return np.sum(np.diff(x, 2, axis=-1, prepend=0.5, append=np.ones((3, 2))) ** 2 * w)


def diff_ends_values(x, p, q, w):  # the values put before and after are inputs too
    return np.sum(np.diff(x, 2, axis=-1, prepend=p, append=q) ** 2 * w)


def diff_ends_values_reference(x, p, q, w):
    return np.sum(np.diff(np.concatenate([p * np.ones((3, 1)), x, q], axis=1), 2) ** 2 * w)


def diff_ends_reference(x, w):
    return np.sum(np.diff(np.concatenate([np.full((3, 1), 0.5), x, np.ones((3, 2))], axis=1), 2) ** 2 * w)


def tensordot(a, b, axes, w):
    return np.sum(np.tensordot(a, b, axes) * w)


def kron(a, b, w):
    return np.sum(np.kron(a, b) * w)


def cross(a, b, w):
    return np.sum(np.cross(a, b) * w)


def cross_axes(a, b, w):  # a's vectors, and the result's, along the first axis
    return np.sum(np.cross(a, b, axisa=0, axisc=0) * w)


def gradient(x, axis, edge_order, w):
    return np.sum(np.gradient(x, axis=axis, edge_order=edge_order) ** 2 * w)


def gradient_all(x, w):  # every axis, each with its spacing: a tuple of arrays
    gy, gx = np.gradient(x, 0.5, 2.0)
    return np.sum((gy * 2.0 + gx**2) * w)


def gradient_coordinates(x, w):  # uneven sample coordinates
    return np.sum(np.gradient(x, np.array([0.0, 0.3, 1.0, 1.2, 2.0])) ** 2 * w)


def deg2rad(x, w):
    return np.sum(np.sin(np.deg2rad(x)) * w)


def radians(x, w):
    return np.sum(np.radians(x) ** 2 * w)


def rad2deg(x, w):
    return np.sum(np.rad2deg(x) * w)


def degrees(x, w):
    return np.sum(np.degrees(x) ** 2 * w)


def sinc(x, w):
    return np.sum(np.sinc(x) * w)


def sinc_at_zero(x, w):  # sinc's derivatives at 0 come from its Taylor series
    return np.sum(np.sinc(x * np.array([1.0, 0.0, 1e-4, 1.0])) ** 2 * w)


def real(x, w):
    return np.sum(np.real(x) ** 2 * w)


def conj(x, w):
    return np.sum(np.conj(x) ** 2 * w)


def nan_to_num_values(x, v, w):  # the replacement values are inputs too
    z = np.where(np.array([True, False, True, False, False]), x, np.array([0.0, np.nan, 0.0, np.inf, -np.inf]))
    return np.sum(np.nan_to_num(z, nan=v, posinf=2.0 * v, neginf=v * v) ** 2 * w)


def nan_to_num_values_reference(x, v, w):  # autograd's nan_to_num takes no replacement values
    z = np.where(np.array([True, False, True, False, False]), x, 0.0)
    return np.sum((z + v * np.array([0.0, 1.0, 0.0, 0.0, 0.0]) + 2.0 * v * np.array([0.0, 0.0, 0.0, 1.0, 0.0])
                   + v * v * np.array([0.0, 0.0, 0.0, 0.0, 1.0])) ** 2 * w)  # fmt: skip


NANS = np.where([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]], np.nan, 0.0)  # one NaN in each row, at most one in each column


def nan_to_num(x, w):  # NaN and inf entries become constants (minimum keeps the largest float out of the square)
    z = np.where(np.array([True, False, True, False]), x, np.array([0.0, np.nan, 0.0, np.inf]))
    return np.sum(np.minimum(np.nan_to_num(z), 3.0) ** 2 * w)


def nancumsum(x, axis, w):  # NaNs count as zeros (autograd has no derivative for it)
    return np.sum(np.nancumsum(x + NANS, axis=axis) ** 2 * w)


def row_stack(x, y, w):  # NumPy's deprecated name for vstack, gone in 2.5 (autograd has no derivative for it)
    return np.sum(np.row_stack([x, y]) ** 2 * w)


def nansum(x, axis, keepdims, w):
    return np.sum(np.nansum(x + NANS, axis=axis, keepdims=keepdims) ** 2 * w)


def nanmean(x, axis, keepdims, w):
    return np.sum(np.nanmean(x + NANS, axis=axis, keepdims=keepdims) ** 2 * w)


def method_diagonal(x, w):
    return np.sum(x.diagonal(1) * w)


def method_diagonal_reference(x, w):  # autograd's arrays have no .diagonal, .take or .real
    return np.sum(np.diagonal(x, 1) * w)


def method_take(x, w):
    return np.sum(x.take([2, 0, 2]) * w)


def method_take_reference(x, w):
    return np.sum(np.take(x, [2, 0, 2]) * w)


def method_conj(x, w):
    return np.sum(x.conj() * x.conjugate() * w)


def method_conj_reference(x, w):  # autograd's arrays have no .conj
    return np.sum(np.conj(x) * np.conj(x) * w)


def attribute_real(x, w):
    return np.sum(x.real**2 * w)


def attribute_real_reference(x, w):
    return np.sum(np.real(x) ** 2 * w)


# ------------------------------------------------------------ creation: constants


def zeros(x, w):
    return np.sum((x + np.zeros(np.shape(x))) ** 2 * w)


def ones(x, w):
    return np.sum((x + np.ones((3, 2))) ** 2 * w)


def zeros_like(x, w):
    return np.sum((x * 2.0 + np.zeros_like(x)) ** 2 * w)


def ones_like(x, w):
    return np.sum((x + np.ones_like(x)) ** 2 * w)


def full(x, w):
    return np.sum((x + np.full(np.shape(x), 2.0)) ** 2 * w)


def eye(x, w):
    return np.sum((x + np.eye(3, 2)) ** 2 * w)


def arange(x, w):
    return np.sum((x + np.arange(4.0)) ** 2 * w)


def linspace(x, w):
    return np.sum((x + np.linspace(0.0, 1.0, 4)) ** 2 * w)


def linspace_ends(a, b, num, endpoint, w):  # the samples move with their ends
    return np.sum(np.linspace(a, b, num, endpoint) ** 2 * w)


def linspace_ends_reference(a, b, num, endpoint, w):  # autograd's linspace takes no arrays nor endpoint
    t = np.reshape(np.linspace(0.0, 1.0, num, endpoint), (num,) + (1,) * max(np.ndim(a), np.ndim(b)))
    return np.sum((a + (b - a) * t) ** 2 * w)


def linspace_axis(a, b, w):
    return np.sum(np.linspace(a, b, 4, axis=-1) ** 2 * w)


def linspace_axis_reference(a, b, w):
    return np.sum((a[..., None] + (b - a)[..., None] * np.linspace(0.0, 1.0, 4)) ** 2 * w)


def full_value(v, w):
    return np.sum(np.full((3, 2), v) ** 2 * w)


def full_value_reference(v, w):  # autograd's full does not sum a broadcast value back
    return np.sum((v * np.ones((3, 2))) ** 2 * w)


def full_like_value(x, v, w):  # x gives the shape only
    return np.sum(np.full_like(x, v) ** 2 * w)


def full_like_value_reference(x, v, w):
    return np.sum((v * np.ones(np.shape(x))) ** 2 * w)


def arange_float(a, s, w):  # with START and STEP below, always 5 values: start + i * step
    return np.sum(np.arange(a, 4.5, s) ** 2 * w)


def arange_float_reference(a, s, w):  # autograd's arange has no derivative
    return np.sum((a + s * np.arange(5.0)) ** 2 * w)


def reseeded(shape):
    """``shape``, after reseeding NumPy's global generator: every call of a case draws the same."""
    np.random.seed(0)
    return shape


rules.nondifferentiable(reseeded)


def random_normal(loc, scale, w):  # the draw is loc + scale * z: differentiable in loc and scale
    return np.sum(np.random.normal(loc, scale, reseeded((3, 2))) ** 2 * w)


def random_normal_reference(loc, scale, w):  # autograd cannot differentiate a draw
    return np.sum((loc + scale * np.random.normal(0.0, 1.0, reseeded((3, 2)))) ** 2 * w)


def random_uniform(low, high, w):
    return np.sum(np.random.uniform(low, high, reseeded((3, 2))) ** 2 * w)


def random_uniform_reference(low, high, w):
    return np.sum((low + (high - low) * np.random.uniform(0.0, 1.0, reseeded((3, 2)))) ** 2 * w)


def copysign(x, y, w):  # |x| with the sign of y: piecewise constant in y only
    return np.sum(np.copysign(x, y) * w)


def heaviside(x1, x2, w):  # x2 is the value where x1 is 0: differentiable there, nowhere else
    return np.sum(np.heaviside(x1 * np.array([1.0, 0.0, 1.0, 0.0]), x2) * w)


def heaviside_reference(x1, x2, w):  # autograd has no derivative for heaviside
    z = x1 * np.array([1.0, 0.0, 1.0, 0.0])
    return np.sum(((z > 0) + (z == 0) * x2) * w)


# ------------------------------------------------------------------- ndarray methods


def method_sum(x, w):
    return np.sum(x.sum(axis=0) * w)


def method_mean(x, w):
    return np.sum(x.mean(axis=-1, keepdims=True) * w)


def method_max(x, w):
    return x.max() * w


def method_min(x, w):
    return np.sum(x.min(axis=1) * w)


def method_prod(x, w):
    return np.sum(x.prod(axis=0) * w)


def method_dot(a, b, w):
    return np.sum(a.dot(b) * w)


def method_dot_reference(a, b, w):  # autograd's arrays have no .dot
    return np.sum(np.dot(a, b) * w)


def method_reshape(x, w):
    return np.sum(x.reshape(4, 3) * w)


def method_reshape_tuple(x, w):
    return np.sum(x.reshape((2, -1)) * w)


def method_transpose(x, w):
    return np.sum(x.transpose() * w)


def method_transpose_axes(x, w):
    return np.sum(x.transpose(2, 0, 1) * w)


def method_transpose_axes_reference(x, w):  # autograd's .transpose takes the axes as one tuple
    return np.sum(x.transpose((2, 0, 1)) * w)


def attribute_t(x, w):
    return np.sum(x.T * w)


def method_ravel(x, w):
    return np.sum(x.ravel() * w)


def method_flatten(x, w):
    return np.sum(x.flatten() * w)


def method_flatten_order(x, w):
    return np.sum(x.flatten(order="F") * w)


def method_flatten_order_reference(x, w):  # autograd's arrays have no .flatten
    return np.sum(np.ravel(x, order="F") * w)


def method_squeeze(x, w):
    return np.sum(x.squeeze() * w)


def method_copy(x, w):
    return np.sum(x.copy() * w)


def method_copy_reference(x, w):  # autograd's arrays have no .copy
    return np.sum(np.array(x) * w)


def method_var(x, w):
    return np.sum(x.var(axis=0) * w)


def method_std(x, w):
    return x.std() * w


def method_cumsum(x, w):
    return np.sum(x.cumsum(axis=1) * w)


def method_clip(x, w):
    return np.sum(x.clip(-0.5, 0.5) * w)


def method_clip_keywords(x, w):  # ndarray.clip's own keywords: min= and max=
    return np.sum((x.clip(min=-0.5) + x.clip(max=0.5) + x.clip(min=-0.5, max=0.5)) * w)


def method_clip_keywords_reference(x, w):
    return np.sum((np.clip(x, -0.5, None) + np.clip(x, None, 0.5) + np.clip(x, -0.5, 0.5)) * w)


def method_swapaxes(x, w):
    return np.sum(x.swapaxes(0, 1) * w)


def method_repeat(x, w):
    return np.sum(x.repeat(2, axis=0) * w)


def method_trace(x, w):
    return x.trace() * w


# ---------------------------------------------------------------- math on Python floats


def math_sin(x, w):
    return math.sin(x) * w


def math_cos(x, w):
    return math.cos(x) * w


def math_tan(x, w):
    return math.tan(x) * w


def math_asin(x, w):
    return math.asin(x) * w


def math_acos(x, w):
    return math.acos(x) * w


def math_atan(x, w):
    return math.atan(x) * w


def math_atan2(y, x, w):
    return math.atan2(y, x) * w


def math_sinh(x, w):
    return math.sinh(x) * w


def math_cosh(x, w):
    return math.cosh(x) * w


def math_tanh(x, w):
    return math.tanh(x) * w


def math_asinh(x, w):
    return math.asinh(x) * w


def math_acosh(x, w):
    return math.acosh(x) * w


def math_atanh(x, w):
    return math.atanh(x) * w


def math_exp(x, w):
    return math.exp(x) * w


def math_expm1(x, w):
    return math.expm1(x) * w


def math_log(x, w):
    return math.log(x) * w


def math_log_base(x, base, w):
    return math.log(x, base) * w


def math_log2(x, w):
    return math.log2(x) * w


def math_log10(x, w):
    return math.log10(x) * w


def math_log1p(x, w):
    return math.log1p(x) * w


def math_sqrt(x, w):
    return math.sqrt(x) * w


def math_pow(x, y, w):
    return math.pow(x, y) * w


def math_hypot(x, y, w):
    return math.hypot(x, y) * w


def math_fabs(x, w):
    return math.fabs(x) * w


def math_erf(x, w):
    return math.erf(x) * w


def math_copysign(x, y, w):
    return math.copysign(x, y) * w


def math_erfc(x, w):
    return math.erfc(x) * w


def math_gamma(x, w):
    return math.gamma(x) * w


def math_lgamma(x, w):
    return math.lgamma(x) * w


def math_prod(x, y, w):  # lowered to a loop (normalize.py): start times each item in turn
    return (math.prod([x, y, x * y]) + math.prod([y, 2.0], start=x)) * w


def math_prod_array(x, w):  # over the rows of an array
    return np.sum(math.prod(x) * w)


# ------------------------------------------------------------------------- builtins


def builtin_abs(x, w):
    return abs(x) * w


def builtin_abs_array(x, w):
    return np.sum(abs(x) * w)


def builtin_max(x, y, w):
    return max(x, y) * w


def builtin_max_tied(x, w):
    return max(x, x) * w


def builtin_min(x, y, w):
    return min(x, y) * w


def builtin_sum(x, y, w):
    return np.sum(sum([x, y, x]) * w)


def builtin_sum_start(x, y, w):
    return np.sum(sum([x, x], y) * w)


def builtin_pow(x, y, w):
    return (pow(x, 2) + pow(y, x) + pow(x, -1) + pow(base=y, exp=0.5)) * w


def builtin_pow_array(x, y, w):
    return np.sum(pow(x, y) * w)


def np_float64(x, w):  # like float(x): a NumPy float, and an array stays an array
    return np.sum(np.float64(x) ** 2 * w)


def np_float64_reference(x, w):
    return np.sum(x**2 * w)


def method_item(x, w):  # one entry, as a Python float
    return (x[1].item() ** 2 + x.item(2) * x.item(0)) * w


def method_item_reference(x, w):
    return (x[1] ** 2 + x[2] * x[0]) * w


def builtin_float(x, w):
    return float(np.sum(x * x)) * w


def builtin_list(x, w):
    return np.sum(np.stack(list(x)) * w)


def builtin_tuple(x, y, w):
    return np.sum(np.stack(tuple([x, y])) * w)


def builtin_sorted(x, y, reverse, w):  # each value's adjoint goes back to where it came from
    ys = sorted([x, y * y, x * 0.5], reverse=reverse)
    return (ys[0] * 2.0 + ys[1] - ys[2] * ys[2]) * w


def builtin_sorted_array(x, w):  # sorted over a vector: a list of its elements
    ys = sorted(x)
    return (ys[0] * 2.0 + ys[1] ** 2 - ys[-1]) * w


def builtin_sorted_key(x, y, reverse, w):  # a global key is passed on; the items keep their own values
    ys = sorted([x, -2.0 * y, x * 0.5], key=abs, reverse=reverse)
    return (ys[0] * 2.0 + ys[1] - ys[2] * ys[2]) * w


def builtin_sorted_lambda(x, w):  # a lambda key is inlined (normalize.py); ties keep their order
    ys = sorted(list(x), key=lambda v: (v - 0.3) ** 2, reverse=True)
    return (ys[0] * 3.0 + ys[1] ** 2 - ys[-1]) * w


def builtin_sorted_lambda_reference(x, w):
    ys = sorted(list(x), key=lambda v: float((v - 0.3) ** 2), reverse=True)
    return (ys[0] * 3.0 + ys[1] ** 2 - ys[-1]) * w


def builtin_max_key(x, y, w):  # the first item whose key is largest (smallest), as Python picks
    pairs = [(x, y), (y, x * x), (x * y, y)]
    return (max(pairs, key=lambda p: p[1])[0] + min([x, y, x * y], key=abs) + max([x, y], key=square_of)) * w


def builtin_extremum_default(x, w):  # default= for an empty sequence
    return (max([], default=x[0]) + min([v * 2.0 for v in x if v > 0.5], default=0.25)) * w


def builtin_extremum_default_reference(x, w):
    return (x[0] + min([v * 2.0 for v in x if v > 0.5] or [0.25])) * w


def square_of(v):
    return v * v


def functools_reduce(x, y, w):  # a loop (normalize.py): with a lambda, a global function, an initial value
    product = functools.reduce(lambda a, b: a * b, [x, y, x + y])
    total = functools.reduce(operator.add, [x, y * y], 1.5)
    return np.sum((product + total + functools.reduce(np.maximum, [x, -y])) * w)


def operator_functions(x, y, w):  # the operators they are (operator.add of two lists is refused, as + is)
    items = [x, y, x]
    return np.sum(operator.mul(operator.sub(x, y), operator.truediv(y, 2.0)) + operator.neg(operator.getitem(items, 1))
                  + operator.pow(x, 2) + operator.pos(np.stack(items)[2]) + operator.add(x, 1.0)) * w  # fmt: skip


def operator_functions_reference(x, y, w):  # (autograd's arrays have no unary +)
    items = [x, y, x]
    return np.sum((x - y) * (y / 2.0) - items[1] + x**2 + np.stack(items)[2] + (x + 1.0)) * w


def builtin_reversed(x, y, w):
    zs = list(reversed([x, y * y, x * 0.5]))
    return (zs[0] * 2.0 + zs[1] - zs[2] * zs[2]) * w


def list_into_numpy(x, y, w):  # a list's adjoint from NumPy (one array) and from Python (a list) add up
    xs = [x, y, x]
    return (np.sum(xs) * np.prod(xs) + sum(xs) + np.linalg.norm(xs, 3) + np.einsum("i,i", xs, xs)) * w


# ------------------------------------------------------------------- np.linalg


def linalg_inv(a, w):
    return np.sum(np.linalg.inv(a) * w)


def linalg_solve(a, b, w):
    return np.sum(np.linalg.solve(a, b) * w)


def linalg_det(a, w):
    return np.sum(np.linalg.det(a) * w)


def linalg_slogdet(a, w):  # the sign is unread: its adjoint is a weak zero
    sign, logdet = np.linalg.slogdet(a)
    return np.sum(logdet * w)


def linalg_slogdet_indexed(a, w):  # both parts read, by index: the sign is a constant factor
    result = np.linalg.slogdet(-a)
    return np.sum(result[0] * result[1] * w)


def linalg_matrix_power(a, n, w):
    return np.sum(np.linalg.matrix_power(a, n) * w)


def linalg_pinv(a, w):
    return np.sum(np.linalg.pinv(a) * w)


def linalg_cholesky(a, w):  # a + a^T: symmetric as autograd's rule assumes
    return np.sum(np.linalg.cholesky(a + np.swapaxes(a, -1, -2)) * w)


def linalg_cholesky_lower(a, w):  # NumPy reads the lower triangle only: the upper gets no derivative
    return np.sum(np.linalg.cholesky(a) * w)


def linalg_eigh(a, w):  # v * v[..., :1, :] does not change when an eigenvector changes sign
    values, vectors = np.linalg.eigh(a + np.swapaxes(a, -1, -2))
    return np.sum((vectors * vectors[..., :1, :] + values[..., None, :]) * w)


def linalg_eigh_values(a, w):
    values, _ = np.linalg.eigh(a + np.swapaxes(a, -1, -2))
    return np.sum(values * w)


def linalg_eigh_triangle(a, uplo, w):  # one triangle read: the other gets no derivative
    values, vectors = np.linalg.eigh(a, UPLO=uplo)
    return np.sum((vectors**2 + values[..., None, :]) * w)


def linalg_eig(a, w):  # near a diagonal matrix: real, distinct eigenvalues; v * v[..., :1, :] ignores each column's sign
    values, vectors = np.linalg.eig(a)  # (complex arrays from NumPy 2.5 on, with zero imaginary parts here)
    values, vectors = np.real(values), np.real(vectors)
    return np.sum((vectors * vectors[..., :1, :] + values[..., None, :]) * w)


def linalg_eig_values(a, w):
    values, _ = np.linalg.eig(a)
    return np.sum(np.real(values) * w)


def linalg_svd(a, full_matrices, w):  # squares: a pair of singular vectors may change sign together
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return np.sum((u**2 * s[..., None, :]) @ vh**2 * w)


def linalg_svd_vectors(a, w):  # u alone, then vh alone: the other parts' adjoints are weak zeros
    result = np.linalg.svd(a, full_matrices=False)
    return np.sum(result[0] ** 2 * w) + np.sum(result[2][..., :1, :] * result[2])


def linalg_svd_values(a, w):
    return np.sum(np.linalg.svd(a, compute_uv=False) * w)


def linalg_svd_full_reference(a, full_matrices, w):  # autograd refuses full_matrices=True, the same for a square a
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum((u**2 * s[..., None, :]) @ vh**2 * w)


def linalg_svd_full_rectangular(a, w):  # full matrices of a non-square a: the extra singular vectors go unread
    u, s, vh = np.linalg.svd(a)
    k = s.shape[-1]
    return np.sum((u[..., :, :k] ** 2 * s[..., None, :]) @ vh[..., :k, :] ** 2 * w)


def linalg_svd_full_rectangular_reference(a, w):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum((u**2 * s[..., None, :]) @ vh**2 * w)


def linalg_qr(a, w):
    q, r = np.linalg.qr(a)
    return np.sum(np.concatenate([q, np.swapaxes(r, -1, -2)], axis=-2) * w)


def linalg_qr_r(a, w):
    q, r = np.linalg.qr(a)
    return np.sum(r * w)


# ------------------------------------------------- runtime helpers (for grad(grad(f)))


def helper_indexable(y, w):  # the identity on an array
    return np.sum(indexable(y, y) * w)


def helper_triangle(m, w, lower, unit_diagonal):  # the triangle a triangular solve reads
    return np.sum(triangle(m, lower, unit_diagonal) * w)


def helper_rebroadcast(y, x, w):  # spread back, or summed where x is smaller
    return np.sum(rebroadcast(y, x) * w)


def helper_adjoint_matmul(a, b, w):
    return np.sum(adjoint_matmul(a, b) * w)


def helper_unbroadcast(y, like, w):
    return np.sum(unbroadcast(y, like) * w)


def helper_broadcast_like(y, like, w):  # forward mode: an operand's tangent at the result's shape
    return np.sum(broadcast_like(y, like) * w)


def helper_unreduce(y, like, axis, keepdims, w):
    return np.sum(unreduce(y, like, axis, keepdims) * w)


def helper_materialize(y, like, w):
    return np.sum(materialize(y, like) * w)


def helper_materialize_all(y, z, w):  # the same array twice: the results must not share memory
    out = materialize_all((y, z, y), (y, z, y))
    return np.sum((out[0] * 2.0 - out[1] + out[2]) * w)


def helper_cotangents(y, z, w):  # a custom_vjp bwd's result: None is a zero
    out = cotangents((y, None, z), 3)
    return np.sum((out[0] * 2.0 - out[2]) * w) + out[1]


def helper_private_copy(y, w):
    return np.sum(private_copy(y) * w)


def helper_writable(y, like, w):  # the tangent of an alias: y itself, or a private copy of a broadcast
    return np.sum(writable(y, like) * w)


def helper_real_root(s, w):  # sqrtm's root where it is differentiated: real, passed through
    return np.sum(real_root(s) * w)


def helper_cast(y, x, w):
    return cast(y, x) * w


def helper_astype(x, w, dtype):  # to integers: rounded, so no derivative passes
    return np.sum(astype(x, dtype) * w)


def astype_method(x, w, dtype):
    return np.sum(x.astype(dtype) * w)


def astype_function(x, w, dtype):
    return np.sum(np.astype(x, dtype) * w)


def real_if_close(x, w):
    return np.sum(np.real_if_close(x) * w)


def fftshift(x, w, axes):
    return np.sum(np.fft.fftshift(x, axes) * w)


def ifftshift(x, w, axes):
    return np.sum(np.fft.ifftshift(x, axes) * w)


# The FFT family: a complex result is weighed through SPIN, so that its real and imaginary
# parts reach the loss with different weights; a complex input is x + 1j * y, two real inputs.
SPIN = 1.0 - 0.7j


def fft(x, w, n, axis, norm):
    return np.sum(np.real(np.fft.fft(x, n, axis, norm) * SPIN) * w)


def fft_of_complex(x, y, w):
    return np.sum(np.real(np.fft.fft(x + 1j * y) * SPIN) * w)


def ifft(x, w, n, axis, norm):
    return np.sum(np.real(np.fft.ifft(x, n, axis, norm) * SPIN) * w)


def fft2(x, w, s, norm):
    return np.sum(np.real(np.fft.fft2(x, s, norm=norm) * SPIN) * w)


def ifft2(x, y, w, s, norm):
    return np.sum(np.real(np.fft.ifft2(x + 1j * y, s, norm=norm) * SPIN) * w)


def fftn(x, w, s, axes, norm):
    return np.sum(np.real(np.fft.fftn(x, s, axes, norm) * SPIN) * w)


def ifftn(x, w, s, axes, norm):
    return np.sum(np.real(np.fft.ifftn(x, s, axes, norm) * SPIN) * w)


def rfft(x, w, n, axis, norm):
    return np.sum(np.real(np.fft.rfft(x, n, axis, norm) * SPIN) * w)


def rfft2(x, w, s, norm):
    return np.sum(np.real(np.fft.rfft2(x, s, norm=norm) * SPIN) * w)


def rfftn(x, w, s, axes, norm):
    return np.sum(np.real(np.fft.rfftn(x, s, axes, norm) * SPIN) * w)


def irfft(x, y, w, n, norm):
    return np.sum(np.fft.irfft(x + 1j * y, n, norm=norm) * w)


def irfft2(x, y, w, s, norm):
    return np.sum(np.fft.irfft2(x + 1j * y, s, norm=norm) * w)


def irfftn(x, y, w, s, axes, norm):
    return np.sum(np.fft.irfftn(x + 1j * y, s, axes, norm) * w)


def hfft(x, y, w, n, norm):
    return np.sum(np.fft.hfft(x + 1j * y, n, norm=norm) * w)


def ihfft(x, w, n, norm):
    return np.sum(np.real(np.fft.ihfft(x, n, norm=norm) * SPIN) * w)


def spectral_power(x, w):  # a nonlinear loss of a spectrum: second derivatives that are not zero
    return np.sum(np.abs(np.fft.rfft(x)) ** 2 * w)


def imag(x, y, w):
    return np.sum(np.imag((x + 1j * y) ** 2) * w)


def imag_of_real(x, w):  # 0 everywhere: no derivative
    return np.sum((np.imag(x) + x) * w)


def attribute_imag(x, y, w):
    return np.sum(((x + 1j * y) ** 2).imag * w)


def attribute_imag_reference(x, y, w):
    return np.sum(np.imag((x + 1j * y) ** 2) * w)


def angle(x, y, w, deg):
    return np.sum(np.angle(x + 1j * y, deg) * w)


def angle_reference(x, y, w, deg):  # autograd's angle takes no deg
    return np.sum(np.angle(x + 1j * y) * (180 / np.pi if deg else 1.0) * w)


def abs_of_complex(x, y, w):
    return np.sum(np.abs((x + 1j * y) * SPIN) * w)


def absolute_of_complex(x, y, w):
    return np.sum(np.absolute(x + 1j * y) ** 3 * w)


def conj_of_complex(x, y, w):
    return np.sum(np.real(np.conj(x + 1j * y) * (x + 1j * y) ** 2) * w)


def real_of_complex(x, y, w):  # the real part of a product with a complex factor, weighed by one
    return np.real(np.sum(np.real((x + 1j * y) ** 2) * SPIN * w))


def convolution(x, w):  # circular convolution by the FFT, against a fixed kernel
    return np.sum(np.real(np.fft.ifft(np.fft.fft(x) * np.fft.fft(np.cos(np.arange(8.0))))) ** 2 * w)


def helper_add_adjoints(a, b, w):
    return np.sum(add_adjoints(a, b) * w)


def helper_sum_adjoint(y, xs, w):
    return np.sum(sum_adjoint(y, xs) * w)


def helper_sum_adjoint_adjoint(parts, y, w):  # the rows of parts added back into y's shape
    return np.sum(sum_adjoint_adjoint(parts, y, parts) * w)


def helper_sequence_adjoint(y, w):  # the rows of y, as list(y) gives them, stacked back
    return np.sum(sequence_adjoint(list(y * 1.0), y) * w)


def helper_matmul_adjoint_a(y, a, b, w):
    return np.sum(matmul_adjoint_a(y, a, b) * w)


def helper_matmul_adjoint_b(y, a, b, w):
    return np.sum(matmul_adjoint_b(y, a, b) * w)


def helper_dot_adjoint_a(y, a, b, w):
    return np.sum(dot_adjoint_a(y, a, b) * w)


def helper_dot_adjoint_b(y, a, b, w):
    return np.sum(dot_adjoint_b(y, a, b) * w)


def helper_inner_adjoint_a(y, a, b, w):
    return np.sum(inner_adjoint_a(y, a, b) * w)


def helper_inner_adjoint_b(y, a, b, w):
    return np.sum(inner_adjoint_b(y, a, b) * w)


def helper_unstack(y, a, b, w):
    parts = unstack(y, [a, b], 1)
    return np.sum((parts[0] * 2.0 - parts[1]) * w)


def helper_restack(a, b, w):
    return np.sum(restack([a, b], [a, b], -1) * w)


def helper_unconcatenate(y, a, b, axis, w):
    parts = unconcatenate(y, [a, b], axis)
    return np.sum((parts[0] * 2.0 - parts[1][:2]) * w)


def helper_reconcatenate(a, b, axis, w):
    return np.sum(reconcatenate([a, b], [a, b], axis) * w)


def helper_unvstack(y, a, b, w):
    parts = unvstack(y, [a, b])
    return np.sum((parts[0] * 2.0 - parts[1][1]) * w)


def helper_revstack(a, b, w):
    return np.sum(revstack([a, b], [a, b]) * w)


def helper_structured(y, w):  # a (3, 2) adjoint as the nested list it stands for, and back
    return np.sum(np.array(structured(y, [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])) * w)


def helper_unstructured(y, w):  # the nested list of a (3, 2) adjoint, as an array again
    return np.sum(unstructured(structured(y, [[0.0, 0.0]] * 3), [[0.0, 0.0]] * 3, y) * w)


def helper_cumsum_adjoint(y, x, axis, w):
    return np.sum(cumsum_adjoint(y, x, axis) * w)


def helper_transpose_adjoint(y, forward, w):
    return np.sum(transpose_adjoint(y, (2, 0, 1), forward) * w)


def helper_moveaxis_adjoint(y, w):
    return np.sum(moveaxis_adjoint(y, 0, -1) * w)


def helper_expand_dims_adjoint(y, x, w):
    return np.sum(expand_dims_adjoint(y, x) * w)


def helper_repeat_adjoint(y, x, repeats, axis, w):
    return np.sum(repeat_adjoint(y, x, repeats, axis) * w)


def helper_tile_adjoint(y, x, w):
    return np.sum(tile_adjoint(y, x, (2, 1)) * w)


def helper_trace_adjoint(y, x, w):
    return np.sum(trace_adjoint(y, x, 1, 0, 2) * w)


def helper_reduce_extremum_adjoint(y, x, axis, keepdims, w):  # ans computed here: it must be x's max
    ans = np.max(x, axis=axis, keepdims=keepdims)
    return np.sum(reduce_extremum_adjoint(y, x, ans, axis, keepdims) * w)


def helper_norm_adjoint(y, x, axis, keepdims, w):  # ans computed here: it must be x's norm
    ans = np.linalg.norm(x, axis=axis, keepdims=keepdims)
    return np.sum(norm_adjoint(y, x, ans, None, axis, keepdims) * w)


def helper_add_at(x, y, w):  # index 0 twice: the adjoint of a repeated index adds up
    return np.sum(add_at(x * 1.0, np.array([0, 2, 0]), y) * w)


def helper_unsort(a, b, w):  # xs gives the order only
    xs = [0.3, -1.2, 0.7]
    parts = unsort([a, b, a * b], xs, None, True)
    return (parts[0] * 2.0 + parts[1] - parts[2] * 3.0) * w


def helper_resort(a, b, w):
    parts = resort([a, b, a * b], [0.3, -1.2, 0.7])
    return (parts[0] * 2.0 + parts[1] - parts[2] * 3.0) * w


def helper_unreverse(y, w):
    return np.sum(unreverse(y, y) * w)


def helper_einsum_adjoint(y, a, b, w):  # both operands' adjoints, from one y
    return np.sum((einsum_adjoint(y, ("ij,jk->ik", a, b), 1) @ b + a @ einsum_adjoint(y, ("ij,jk->ik", a, b), 2)) * w)


def helper_einsum_with(z, a, b, w):
    return np.sum(einsum_with(("ij,jk->ik", a, b), 1, z) * w)


def helper_prod_adjoint(y, x, axis, keepdims, w):
    return np.sum(prod_adjoint(y, x, axis, keepdims) * w)


def helper_prod_others(x, axis, w):
    return np.sum(prod_others(x, axis) * w)


def helper_norm_direction(x, ord, axis, w):  # the norm computed here: it must be x's
    return np.sum(norm_direction(x, np.linalg.norm(x, ord, axis), ord, axis) * w)


def helper_scatter(y, w):  # entry 3 twice, entry 5 never, and a part from no entry (0)
    return np.sum(scatter(y, np.zeros((3, 2)), np.array([[1, 0], [3, 3], [6, 2]])) * w)


def helper_scatter_parts(y, z, w):  # a list of parts into a list of arrays
    out = scatter([y, z], [np.zeros(2), np.zeros((2, 2))], [np.array([[1, 3]]), np.array([6, 2, 3])])
    return np.sum(np.concatenate([out[0], np.ravel(out[1])]) * w)


def helper_gather(x, w):
    return np.sum(gather(x, np.array([[1, 0], [3, 3], [6, 2]])) * w)


def helper_gather_parts(x, y, w):  # from a list, into a list of parts
    parts = gather([x, y], [np.array([1, 5, 0]), np.array([[2, 2], [4, 6]])], [x, y])
    return np.sum(np.concatenate([parts[0], np.ravel(parts[1])]) * w)


def helper_diff_adjoint(y, x, part, w):  # a (4, 3) between a scalar end and a (1, 3) end, differenced twice
    return np.sum(diff_adjoint(y, x, 2, 0, 0.5, np.ones((1, 3)), part) * w)


def helper_diff_along(x, part, w):
    return np.sum(diff_along(x, np.zeros((3, 4)), 1, -1, 0.5, None, part) * w)


def helper_tensordot_adjoint_a(y, a, b, w):
    return np.sum(tensordot_adjoint_a(y, a, b, ([1, 2], [1, 0])) * w)


def helper_tensordot_adjoint_b(y, a, b, w):
    return np.sum(tensordot_adjoint_b(y, a, b, ([1, 2], [1, 0])) * w)


def helper_cumprod_adjoint(y, x, axis, w):
    return np.sum(cumprod_adjoint(y, x, axis) * w)


def helper_cumprod_tangent(z, x, axis, w):
    return np.sum(cumprod_tangent(z, x, axis) * w)


def helper_sinc_slope(x, w):
    return np.sum(sinc_slope(x) * w)


def helper_quantile_fraction(x, q, w):  # linear in the level q
    return np.sum(quantile_fraction(x, q, -1) * w) + np.sum(quantile_fraction(x, q[0] * q[1], None, True)) ** 2


def helper_spread_weights(v, x, axis, w):
    return np.sum(spread_weights(v, x, axis) * w)


def helper_gather_weights(y, v, x, axis, w):
    return np.sum(gather_weights(y, v, x, axis) * w)


def helper_convolve_adjoint(y, a, v, mode, w):
    return np.sum(convolve_adjoint(y, a, v, mode) * w)


INTERP_KNOTS = np.array([-1.5, -0.3, 0.4, 1.6])  # multiples of 0.05: DISTINCT's grid never meets them


def helper_interp_slope(x, fp, w):
    return np.sum(interp_slope(x, INTERP_KNOTS, fp) * w)


def helper_interp_slope_adjoint(y, x, fp, w):
    return np.sum(interp_slope_adjoint(y, x, INTERP_KNOTS, fp) * w)


def helper_interp_fp_adjoint(y, x, fp, left, w):
    return np.sum(interp_fp_adjoint(y, x, INTERP_KNOTS, fp, left) * w)


def helper_digamma(x, w):
    return runtime_digamma(x) * w


def helper_digamma_reference(x, w):
    return scipy.special.digamma(x) * w


def helper_real_like(x, y, w):
    return np.sum(real_like((x + 1j * y) * SPIN, y) * w)


def helper_dft(x, y, w, inverse):
    return np.sum(np.real(dft(x + 1j * y, 6, 0, "ortho", inverse) * SPIN) * w)


def helper_dft_adjoint(x, y, w, inverse):
    return np.sum(np.real(dft_adjoint(x + 1j * y, np.zeros((3,) + np.shape(x)[1:]), 6, 0, None, inverse) * SPIN) * w)


def helper_rdft(x, w):
    return np.sum(np.real(rdft(x, (3, 6), None, None) * SPIN) * w)


def helper_rdft_adjoint(x, y, w):
    return np.sum(rdft_adjoint(x + 1j * y, np.zeros((3, 5)), (3, 6), None, "ortho") * w)


def helper_irdft(x, y, w):
    return np.sum(irdft(x + 1j * y, 7, -1, None) * w)


def helper_irdft_adjoint(x, w):
    return np.sum(np.real(irdft_adjoint(x, np.zeros(np.shape(x)[:-1] + (4,), complex), None, None, "forward") * SPIN) * w)


def helper_cross_adjoint(y, a, b, w):
    return np.sum(cross_adjoint(y, a, b) * w)


def helper_gradient_along(x, w):
    return np.sum(gradient_along(x, (0.5,), 1, 1) * w)


def helper_gradient_adjoint(y, x, w):
    return np.sum(gradient_adjoint(y, x, (), 0, 2) * w)


def helper_kron_adjoint_a(y, a, b, w):
    return np.sum(kron_adjoint_a(y, a, b) * w)


def helper_kron_adjoint_b(y, a, b, w):
    return np.sum(kron_adjoint_b(y, a, b) * w)


# --------------------------------------------------------- SciPy (srcdiff/rules/scipy.py)
# ``scipy`` is the module: autograd_twin binds the name to AUTOGRAD_SCIPY instead.


def expit(x, w):
    return np.sum(scipy.special.expit(x) * w)


def logit(p, w):
    return np.sum(scipy.special.logit(p) * w)


def erf(x, w):
    return np.sum(scipy.special.erf(x) * w)


def erfc(x, w):
    return np.sum(scipy.special.erfc(x) * w)


def erfinv(y, w):
    return np.sum(scipy.special.erfinv(y) * w)


def erfcinv(y, w):
    return np.sum(scipy.special.erfcinv(y) * w)


def xlogy(x, y, w):
    return np.sum(scipy.special.xlogy(x, y) * w)


def xlog1py(x, y, w):
    return np.sum(scipy.special.xlog1py(x, y) * w)


def gamma(x, w):
    return np.sum(scipy.special.gamma(x) * w)


def gammaln(x, w):
    return np.sum(scipy.special.gammaln(x) * w)


def loggamma(x, w):
    return np.sum(scipy.special.loggamma(x) * w)


def rgamma(x, w):
    return np.sum(scipy.special.rgamma(x) * w)


def digamma(x, w):
    return np.sum(scipy.special.digamma(x) * w)


def psi(x, w):  # the same function as digamma, under its other name
    return np.sum(scipy.special.psi(x) * w)


def polygamma(x, n, w):
    return np.sum(scipy.special.polygamma(n, x) * w)


def multigammaln(a, d, w):
    return np.sum(scipy.special.multigammaln(a, d) * w)


def beta_function(a, b, w):
    return np.sum(scipy.special.beta(a, b) * w)


def betaln(a, b, w):
    return np.sum(scipy.special.betaln(a, b) * w)


def i0(x, w):
    return np.sum(scipy.special.i0(x) * w)


def i1(x, w):
    return np.sum(scipy.special.i1(x) * w)


def iv(x, v, w):
    return np.sum(scipy.special.iv(v, x) * w)


def i0e(x, w):
    return np.sum(scipy.special.i0e(x) * w)


def i1e(x, w):
    return np.sum(scipy.special.i1e(x) * w)


def ive(x, v, w):
    return np.sum(scipy.special.ive(v, x) * w)


def j0(x, w):
    return np.sum(scipy.special.j0(x) * w)


def j1(x, w):
    return np.sum(scipy.special.j1(x) * w)


def jv(x, v, w):
    return np.sum(scipy.special.jv(v, x) * w)


def y0(x, w):
    return np.sum(scipy.special.y0(x) * w)


def y1(x, w):
    return np.sum(scipy.special.y1(x) * w)


def yv(x, v, w):
    return np.sum(scipy.special.yv(v, x) * w)


def logsumexp(a, axis, keepdims, w):
    return np.sum(scipy.special.logsumexp(a, axis=axis, keepdims=keepdims) * w)


def logsumexp_scaled(a, b, axis, w):  # b weighs each exp(a): differentiable too
    return np.sum(scipy.special.logsumexp(a, axis, b) * w)


def softmax(x, axis, w):
    return np.sum(scipy.special.softmax(x, axis=axis) * w)


def log_softmax(x, axis, w):
    return np.sum(scipy.special.log_softmax(x, axis=axis) * w)


def norm_logpdf(x, loc, scale, w):
    return np.sum(scipy.stats.norm.logpdf(x, loc, scale) * w)


def norm_pdf(x, loc, scale, w):
    return np.sum(scipy.stats.norm.pdf(x, loc, scale) * w)


def norm_cdf(x, loc, scale, w):  # by keyword: the rule binds loc and scale either way
    return np.sum(scipy.stats.norm.cdf(x, loc=loc, scale=scale) * w)


def norm_cdf_reference(x, loc, scale, w):  # autograd's cdf takes loc and scale by position only
    return np.sum(scipy.stats.norm.cdf(x, loc, scale) * w)


def norm_logcdf(x, loc, scale, w):
    return np.sum(scipy.stats.norm.logcdf(x, loc, scale) * w)


def norm_sf(x, loc, scale, w):
    return np.sum(scipy.stats.norm.sf(x, loc, scale) * w)


def norm_logsf(x, loc, scale, w):
    return np.sum(scipy.stats.norm.logsf(x, loc, scale) * w)


def norm_standard(x, w):  # loc and scale left out: their defaults
    return np.sum(scipy.stats.norm.logpdf(x) * w)


def t_logpdf(x, df, loc, scale, w):
    return np.sum(scipy.stats.t.logpdf(x, df, loc, scale) * w)


def t_pdf(x, df, loc, scale, w):
    return np.sum(scipy.stats.t.pdf(x, df, loc, scale) * w)


def gamma_logpdf(x, a, loc, scale, w):
    return np.sum(scipy.stats.gamma.logpdf(x, a, loc, scale) * w)


def gamma_pdf(x, a, loc, scale, w):
    return np.sum(scipy.stats.gamma.pdf(x, a, loc, scale) * w)


def beta_logpdf(x, a, b, loc, scale, w):
    return np.sum(scipy.stats.beta.logpdf(x, a, b, loc, scale) * w)


def beta_pdf(x, a, b, loc, scale, w):
    return np.sum(scipy.stats.beta.pdf(x, a, b, loc, scale) * w)


def chi2_logpdf(x, df, loc, scale, w):
    return np.sum(scipy.stats.chi2.logpdf(x, df, loc, scale) * w)


def chi2_pdf(x, df, loc, scale, w):
    return np.sum(scipy.stats.chi2.pdf(x, df, loc, scale) * w)


def poisson_logpmf(mu, k, w):  # the count k is an option: it has no derivative
    return np.sum(scipy.stats.poisson.logpmf(k, mu) * w)


def poisson_pmf(mu, k, w):
    return np.sum(scipy.stats.poisson.pmf(k, mu) * w)


def dirichlet_logpdf(v, alpha, w):  # x on the simplex, column by column: a softmax of v keeps it there
    x = np.exp(v) / np.sum(np.exp(v), axis=0)
    return np.sum(scipy.stats.dirichlet.logpdf(x, alpha) * w)


def multivariate_normal_logpdf(x, mean, root, w):  # cov = root @ root.T + I: symmetric, positive definite
    cov = root @ root.T + np.eye(3)
    return np.sum(scipy.stats.multivariate_normal.logpdf(x, mean, cov) * w)


def scipy_linalg_inv(a, w):  # a + 4 I: well away from singular for entries in [-2, 2]
    return np.sum(scipy.linalg.inv(a + 4.0 * np.eye(3)) * w)


def solve_sylvester(a, b, q, w):  # a + 2 I and b + I: no eigenvalue of a is one of -b's
    return np.sum(scipy.linalg.solve_sylvester(a + 2.0 * np.eye(3), b + np.eye(3), q) * w)


def expm(a, w):  # autograd has no derivative for it: central differences only
    return np.sum(scipy.linalg.expm(a) * w)


def sqrtm(a, w):  # positive definite: a real square root
    return np.sum(scipy.linalg.sqrtm(a) * w)


def solve_triangular(a, b, w, trans, lower, unit_diagonal):  # a + 4 I: well conditioned; one triangle is read
    return np.sum(
        scipy.linalg.solve_triangular(a + 4.0 * np.eye(3), b, trans=trans, lower=lower, unit_diagonal=unit_diagonal) * w
    )


def cho_factor_solve(a, b, w, lower):  # a + 4 I: SciPy reads one triangle, that of a positive definite matrix
    factor = scipy.linalg.cho_factor(a + 4.0 * np.eye(3), lower=lower)
    return np.sum(scipy.linalg.cho_solve(factor, b) * w) + np.sum(np.log(np.diag(factor[0])))


def cho_factor_triangle(a, w, lower):  # the factor's triangle only: the other is unspecified
    c, low = scipy.linalg.cho_factor(a + 4.0 * np.eye(3), lower=lower)
    return np.sum((np.tril(c) if low else np.triu(c)) * w)


def signal_convolve(a, b, w, mode):  # N-D; 'same' and 'valid' are centred windows of 'full'
    return np.sum(scipy.signal.convolve(a, b, mode=mode) * w)


def yn(x, w, n):
    return np.sum(scipy.special.yn(n, x) * w)


def incomplete_gamma(x, w, a):  # the shape a is an option: it has no derivative
    return np.sum(scipy.special.gammainc(a, x) * w)


def incomplete_gamma_complement(x, w, a):
    return np.sum(scipy.special.gammaincc(a, x) * w)


def incomplete_beta(x, w, a, b):
    return np.sum(scipy.special.betainc(a, b, x) * w)


def t_cdf(x, loc, scale, w, df):  # distribution functions: the shape parameter is an option
    return np.sum(scipy.stats.t.cdf(x, df, loc, scale) * w)


def t_logcdf(x, loc, scale, w, df):
    return np.sum(scipy.stats.t.logcdf(x, df, loc, scale) * w)


def gamma_cdf(x, loc, scale, w, a):
    return np.sum(scipy.stats.gamma.cdf(x, a, loc, scale) * w)


def beta_cdf(x, loc, scale, w, a, b):
    return np.sum(scipy.stats.beta.cdf(x, a, b, loc, scale) * w)


def chi2_cdf(x, loc, scale, w, df):
    return np.sum(scipy.stats.chi2.cdf(x, df, loc, scale) * w)


def poisson_cdf(mu, k, w):
    return np.sum(scipy.stats.poisson.cdf(k, mu) * w)


def dirichlet_pdf(v, alpha, w):
    x = np.exp(v) / np.sum(np.exp(v), axis=0)
    return np.sum(scipy.stats.dirichlet.pdf(x, alpha) * w)


def multivariate_normal_pdf(x, mean, root, w):
    cov = root @ root.T + np.eye(3)
    return np.sum(scipy.stats.multivariate_normal.pdf(x, mean, cov) * w)


def multivariate_normal_entropy(root, w):
    cov = root @ root.T + np.eye(3)
    return scipy.stats.multivariate_normal.entropy(np.zeros(3), cov) * w


# --------------------------------------------------------------------------- the table

F = SCALAR
CASES: list[Case] = [
    # elementwise arithmetic
    Case(add, BINARY),
    Case(subtract, BINARY),
    Case(multiply, BINARY),
    Case(divide, BINARY, domain=(REAL, NONZERO)),
    Case(true_divide, BINARY, domain=(REAL, NONZERO)),
    Case(power, BINARY, domain=(POSITIVE, REAL)),
    Case(mod, BINARY, domain=(MOD_X, MOD_Y)),
    Case(negative, UNARY),
    Case(positive, UNARY),
    Case(square, UNARY),
    Case(sqrt, UNARY, domain=POSITIVE),
    Case(cbrt, UNARY, domain=NONZERO),
    Case(reciprocal, UNARY, domain=NONZERO),
    Case(abs_, UNARY, domain=NONZERO, name="abs"),
    Case(absolute, UNARY, domain=NONZERO),
    Case(fabs, UNARY, domain=NONZERO),
    Case(sign, UNARY, domain=NONZERO),
    Case(hypot, BINARY, domain=NONZERO),
    Case(maximum, BINARY, domain=DISTINCT),
    Case(minimum, BINARY, domain=DISTINCT),
    Case(fmax, BINARY, domain=DISTINCT),
    Case(fmin, BINARY, domain=DISTINCT),
    Case(clip, UNARY, domain=DISTINCT),
    Case(clip_open, UNARY, domain=DISTINCT),
    Case(clip_bounds, [((3, 2), (1, 2), (3, 1)), ((4,), F, F)], domain=DISTINCT),
    Case(where, BINARY, domain=(NONZERO, REAL)),
    # exponentials and logarithms
    Case(exp, UNARY),
    Case(exp2, UNARY),
    Case(expm1, UNARY),
    Case(log, UNARY, domain=POSITIVE),
    Case(log2, UNARY, domain=POSITIVE),
    Case(log10, UNARY, domain=POSITIVE),
    Case(log1p, UNARY, domain=POSITIVE),
    Case(logaddexp, BINARY),
    Case(logaddexp2, BINARY),
    # trigonometric and hyperbolic
    Case(sin, UNARY),
    Case(cos, UNARY),
    Case(tan, UNARY, domain=UNIT),  # away from the poles at +-pi/2
    Case(arcsin, UNARY, domain=UNIT),
    Case(arccos, UNARY, domain=UNIT),
    Case(arctan, UNARY),
    Case(arctan2, BINARY, domain=NONZERO),
    Case(sinh, UNARY),
    Case(cosh, UNARY),
    Case(tanh, UNARY),
    Case(arcsinh, UNARY),
    Case(arccosh, UNARY, domain=ABOVE_ONE),
    Case(arctanh, UNARY, domain=UNIT),
    # operator forms share their function's rule
    Case(add_operator, BINARY),
    Case(subtract_operator, BINARY),
    Case(multiply_operator, BINARY),
    Case(divide_operator, BINARY, domain=(REAL, NONZERO)),
    Case(power_operator, BINARY, domain=(POSITIVE, REAL)),
    Case(power_constant, UNARY, domain=POSITIVE),
    Case(negative_operator, UNARY),
    Case(matmul_operator, [((3, 4), (4, 2)), ((4,), (4, 2)), ((2, 3, 4), (4,))]),
    # reductions
    Case(sum_, REDUCIBLE, options=REDUCE_OPTIONS, name="sum"),
    Case(sum_all, [((3, 4),), ((5,),)]),
    Case(mean, REDUCIBLE, options=REDUCE_OPTIONS),
    Case(prod, REDUCIBLE, domain=POSITIVE, options=REDUCE_OPTIONS),
    # autograd divides by x and gets nan where an entry is 0: central differences only
    Case(prod_with_zero, [((2, 3),)], domain=POSITIVE, options=[{"axis": 1}, {"axis": None}], autograd=False, order=2),
    Case(max_, REDUCIBLE, domain=DISTINCT, options=REDUCE_OPTIONS, name="max"),
    Case(min_, REDUCIBLE, domain=DISTINCT, options=REDUCE_OPTIONS, name="min"),
    Case(amax, [((3, 4),)], domain=DISTINCT),
    Case(amin, [((3, 4),)], domain=DISTINCT),
    Case(nanmax, [((3, 4),)], domain=DISTINCT),
    Case(nanmin, [((3, 4),)], domain=DISTINCT),
    Case(max_tied, [((3, 4),)], domain=DISTINCT),
    Case(maximum_tied, UNARY),
    Case(var, REDUCIBLE, options=REDUCE_OPTIONS),
    Case(var_ddof, [((3, 4),)]),
    Case(std, REDUCIBLE, options=REDUCE_OPTIONS),
    Case(std_ddof, [((3, 4),)]),
    Case(
        std,
        [((3, 4),)],
        options=[{"axis": None, "keepdims": False}, {"axis": 0, "keepdims": True}],
        order=2,
        name="std_second_order",
    ),
    Case(std_no_spread, [((1,),), ((1, 3),)], options=[{"axis": 0}, {"axis": None}]),
    Case(var_no_spread, [((1,),), ((1, 3),)], options=[{"axis": 0}, {"axis": None}], order=2),
    Case(prod, [((3, 4),), ((2, 3, 4),)], domain=POSITIVE, options=REDUCE_OPTIONS[::2], order=2, name="prod_second_order"),
    Case(cumsum, [((3, 4),), ((2, 3, 4),)], options=[{"axis": None}, {"axis": 0}, {"axis": -1}]),
    *([Case(row_stack, [((3,), (3,)), ((2, 3), (1, 3))], autograd=False, order=2)] if hasattr(np, "row_stack") else []),
    Case(cumsum, [((5,),)], options=[{"axis": None}, {"axis": 0}], name="cumsum_vector"),
    Case(cumprod, [((3, 4),), ((2, 3, 2),)], domain=NONZERO, options=[{"axis": None}, {"axis": 0}, {"axis": -1}], order=2),
    # autograd's prod divides by each factor: nan at a zero; central differences only
    Case(cumprod_with_zero, [((2, 4),)], options=[{"axis": None}, {"axis": 1}, {"axis": 0}], autograd=False, order=2),
    Case(method_cumprod, [((3, 4),)], reference=method_cumprod_reference, order=2),
    Case(nanprod, [((3, 4),)], domain=NONZERO, options=REDUCE_OPTIONS, order=2),
    Case(nanvar, [((3, 4),)], options=REDUCE_OPTIONS, order=2),
    Case(nanstd, [((3, 4),)], options=REDUCE_OPTIONS[::2], order=2),
    # linear algebra
    Case(
        matmul,
        [
            ((3, 4), (4, 2)),
            ((4,), (4,)),
            ((4,), (4, 2)),
            ((3, 4), (4,)),
            ((2, 3, 4), (4, 5)),  # batched
            ((2, 3, 4), (1, 4, 5)),  # batched, broadcasting the batch axis
            ((4,), (2, 4, 3)),
            ((2, 1, 3, 4), (5, 4, 2)),
        ],
    ),
    Case(
        dot,
        [
            ((3, 4), (4, 2)),
            ((4,), (4,)),
            ((4,), (4, 2)),
            ((3, 4), (4,)),
            ((), (3, 2)),
            ((3,), ()),
            ((2, 3, 4), (4, 5)),
            ((2, 3, 4), (3, 4, 5)),
        ],
    ),
    Case(inner, [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (2, 4)), ((2, 3, 4), (5, 4)), ((), (3,))]),
    Case(vdot, [((4,), (4,)), ((3, 2), (2, 3))]),
    Case(outer, [((3,), (4,)), ((2, 2), (3,))]),
    Case(
        einsum,
        [((3, 4), (4, 2))],
        options=[
            {"subscripts": "ij,jk->ik"},
            {"subscripts": "ij,jk->ki"},
            {"subscripts": "ij,jk->"},
            {"subscripts": "ij,kl->ijkl"},
        ],
    ),
    Case(
        einsum,
        [((2, 3, 4), (2, 4, 5))],
        options=[{"subscripts": "bij,bjk->bik"}, {"subscripts": "bij,bjk->j"}],
        name="einsum_batched",
    ),
    Case(einsum, [((3, 4), (3, 4))], options=[{"subscripts": "ij,ij->i"}], name="einsum_rows"),
    Case(einsum, [((3, 4), (4, 2))], options=[{"subscripts": "ij,jk"}], name="einsum_implicit"),
    Case(einsum, [((3, 4), (3, 4))], options=[{"subscripts": "ij,ij"}], name="einsum_implicit_total"),
    Case(einsum_one, [((3, 4),)], options=[{"subscripts": "ij->ji"}, {"subscripts": "ij->j"}, {"subscripts": "ij->"}]),
    # a repeated index inside one operand: the diagonal, and its trace
    Case(
        einsum_one,
        [((3, 3),)],
        options=[{"subscripts": "ii->i"}, {"subscripts": "ii->"}],
        name="einsum_diagonal",
        reference=einsum_diagonal_reference,
    ),
    Case(einsum_same_operand, [((3, 4),)], order=2),
    # '...' broadcast axes, and axes of length 1 that broadcast against a longer one
    Case(
        einsum,
        [((2, 3), (3,)), ((4, 1, 3), (2, 3))],
        options=[{"subscripts": "...i,...i->..."}, {"subscripts": "...i,...i"}, {"subscripts": "...i,...i->...i"}],
        order=2,
        name="einsum_ellipsis",
    ),
    Case(einsum, [((2, 3, 4), (4, 5))], options=[{"subscripts": "...ij,jk->...ik"}], order=2, name="einsum_ellipsis_batch"),
    Case(einsum, [((4,), F)], options=[{"subscripts": "i,->i"}], order=2, name="einsum_float_operand"),
    Case(einsum, [((2, 3), F), ((), ())], options=[{"subscripts": "...,..."}], order=2, name="einsum_scalars"),
    Case(
        einsum,
        [((1, 3, 2), (4, 2, 5)), ((4, 3, 2), (1, 2, 5))],
        options=[{"subscripts": "mnd,mdo->mno"}],
        order=2,
        name="einsum_broadcast_axis",
    ),
    Case(
        einsum,
        [((1, 3), (2, 3))],
        options=[{"subscripts": "ij,ij->ij"}, {"subscripts": "ij,ij->j"}],
        reference=einsum_broadcast_reference,
        name="einsum_broadcast_rows",
    ),
    Case(einsum, [((3, 4), (4, 2))], options=[{"subscripts": "ij,jk->ik"}], order=2, name="einsum_second_order"),
    Case(einsum, [((3, 3), (3, 4))], options=[{"subscripts": "ii,ij->j"}], order=2, name="einsum_diagonal_pair", autograd=False),
    Case(einsum_one, [((3, 4),)], options=[{"subscripts": "ij->j"}], order=2, name="einsum_one_second_order"),
    # the sublist form: operand, labels, operand, labels, ..., output labels
    Case(einsum_sublist, [((3, 4), (4, 2))], order=2),
    Case(einsum_sublist_implicit, [((3, 4), (4, 2))], order=2, reference=einsum_sublist_implicit_reference),
    Case(einsum_sublist_one, [((3, 4),)]),
    Case(einsum_sublist_ellipsis, [((2, 3), (3,)), ((4, 2, 3), (3,))], order=2, reference=einsum_sublist_ellipsis_reference),
    Case(trace, [((3, 3),), ((3, 4),)]),
    Case(trace_offset, [((3, 4),)]),
    Case(
        trace_axes,
        [((3, 3, 2),), ((2, 3, 4),)],
        reference=trace_axes_reference,
        options=[{"axis1": 0, "axis2": 1}, {"axis1": 1, "axis2": 2}, {"axis1": 2, "axis2": 0}],
    ),
    Case(norm, [((4,),), ((3, 4),)], domain=NONZERO),
    Case(
        norm_axis,
        [((3, 4),)],
        domain=NONZERO,
        options=[{"axis": 0, "keepdims": False}, {"axis": -1, "keepdims": True}, {"axis": (0, 1), "keepdims": False}],
    ),
    Case(norm_frobenius, [((3, 4),)], domain=NONZERO),
    # every ord: vectors (p-norms, inf, 0) and matrices (induced 1 and inf, singular values)
    Case(
        norm_ord,
        [((4,),), ((5,),)],
        domain=NONZERO,
        options=[{"ord": o} for o in (None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1, -2.5)],
        order=2,
    ),
    Case(
        norm_ord,
        [((3, 4),), ((4, 3),), ((3, 3),)],
        domain=NONZERO,
        options=[{"ord": o} for o in (None, "fro", 1, -1, np.inf, -np.inf)],
        order=2,
        name="norm_matrix",
    ),
    # the singular-value norms, through the SVD (distinct singular values: random inputs)
    Case(
        norm_ord,
        [((3, 4),), ((4, 3),), ((3, 3),)],
        domain=NONZERO,
        options=[{"ord": o} for o in ("nuc", 2, -2)],
        order=2,
        name="norm_singular_values",
    ),
    Case(
        norm_ord_axis,
        [((3, 4),)],
        domain=NONZERO,
        options=[{"ord": o, "axis": a, "keepdims": k} for o in (None, 1, np.inf, 3, -1) for a, k in ((0, False), (-1, True))],
        order=2,
    ),
    Case(
        norm_ord_axis,
        [((2, 3, 4),)],
        domain=NONZERO,
        options=[
            {"ord": o, "axis": a, "keepdims": k}
            for o in (None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf)
            for a, k in (((0, 2), False), ((2, 1), True))
        ],
        order=2,
        name="norm_matrix_axes",
    ),
    Case(norm_of_list, [(F, F)], domain=NONZERO, options=[{"ord": None}, {"ord": 1}, {"ord": np.inf}, {"ord": 3}], order=2),
    Case(norm_tied, [((3,),)], domain=DISTINCT, options=[{"ord": np.inf}, {"ord": -np.inf}]),
    Case(norm_tied_matrix, [((3,),)], domain=DISTINCT, options=[{"ord": 1}, {"ord": np.inf}]),
    Case(norm_zero_entry, [((4,),)], domain=NONZERO, options=[{"ord": o} for o in (None, 1, 3, np.inf)], order=2),
    # shape manipulation
    Case(reshape, [((3, 4),)], options=[{"shape": (4, 3)}, {"shape": (2, -1)}, {"shape": (12,)}, {"shape": (2, 1, 6)}]),
    Case(reshape_order, [((3, 4),), ((2, 6),)], options=[{"order": "C"}]),
    Case(
        reshape_order,
        [((3, 4),), ((2, 6),)],
        options=[{"order": "F"}],
        name="reshape_fortran_order",
    ),
    Case(transpose, [((3, 4),), ((2, 3, 4),)]),
    Case(transpose_axes, [((2, 3, 4),)]),
    Case(transpose_axes_keyword, [((2, 3, 4),)], reference=transpose_axes_keyword_reference, order=2),
    Case(swapaxes, [((3, 4),), ((2, 3, 4),)]),
    Case(
        moveaxis,
        [((2, 3, 4),)],
        options=[{"source": 0, "destination": -1}, {"source": -1, "destination": 0}, {"source": (0, 1), "destination": (2, 0)}],
    ),
    Case(squeeze, [((1, 3, 1, 2),), ((3, 1),)]),
    Case(squeeze_axis, [((1, 3, 1),)]),
    Case(expand_dims, [((3, 4),)], options=[{"axis": 0}, {"axis": -1}, {"axis": (0, 2)}]),
    Case(concatenate, [((2, 3), (2, 3))], options=[{"axis": 0}, {"axis": 1}, {"axis": -1}, {"axis": None}]),
    Case(concatenate, [((2, 3), (4, 3))], options=[{"axis": 0}], name="concatenate_uneven"),
    Case(stack, [((2, 3), (2, 3)), ((3,), (3,))], options=[{"axis": 0}, {"axis": -1}]),
    Case(hstack, [((3,), (2,)), ((3, 2), (3, 1))]),
    Case(vstack, [((3,), (3,)), ((2, 3), (1, 3)), ((3,), (2, 3))]),
    Case(hstack_array, [((4,),), ((3, 2),), ((2, 3, 2),)], order=2),
    Case(hstack_floats, [(F, F), (F, (2,))], order=2),
    Case(vstack_array, [((4,),), ((3, 2),)], order=2),
    Case(vstack_floats, [(F, F), ((2,), (2,))], order=2),
    Case(concatenate_array, [((3, 2),), ((2, 2, 3),)], order=2),
    Case(stack_array, [((3, 2),)], options=[{"axis": 0}, {"axis": -1}], order=2),
    Case(broadcast_to, [((3, 4),), ((3, 1),), ((4,),), ((),)]),
    Case(tile, [((3,),), ((2, 3),)], options=[{"reps": 2}, {"reps": (2, 1)}, {"reps": (2, 1, 3)}]),
    Case(
        repeat,
        [((2, 3),)],
        options=[
            {"repeats": 2, "axis": None},
            {"repeats": 3, "axis": 0},
            {"repeats": 2, "axis": -1},
            {"repeats": [1, 0, 2], "axis": 1},
            {"repeats": [1, 2, 1, 1, 3, 2], "axis": None},
        ],
    ),
    Case(flip, [((3, 4),), ((2, 3, 4),)], options=[{"axis": None}, {"axis": 0}, {"axis": -1}, {"axis": (0, 1)}]),
    Case(ravel, [((3, 4),), ((4,),)]),
    Case(ravel_order, [((3, 4),), ((2, 3, 4),)], options=[{"order": "F"}]),
    Case(copy, [((3, 4),)]),
    Case(asarray, [((3, 4),)]),
    Case(array_of_floats, [((), ()), ((3,), (3,))]),
    Case(array_of_array, [((3, 2),)]),
    Case(array_dtype, [((), ()), ((3,), (3,))], reference=array_dtype_reference, order=2),
    Case(asarray_dtype, [((3, 4),)], reference=asarray_dtype_reference, order=2),
    Case(where_indices, [((3, 4),), ((5,),)], domain=NONZERO, reference=where_indices_reference, order=2),
    # selections: the adjoint adds g back where each entry came from
    Case(
        roll,
        [((3, 4),), ((5,),)],
        options=[{"shift": 1, "axis": None}, {"shift": -2, "axis": 0}, {"shift": 5, "axis": -1}],
        order=2,
    ),
    Case(
        roll,
        [((3, 4),)],
        options=[{"shift": (1, 2), "axis": (0, 1)}, {"shift": (-1, 5), "axis": (1, -1)}],
        reference=roll_axes_reference,
        name="roll_axes",
        order=2,
    ),
    Case(
        take,
        [((3, 4),)],
        options=[{"indices": [0, 2, 2], "axis": 1}, {"indices": [[0, 5], [11, 5]], "axis": None}, {"indices": 1, "axis": 0}],
        order=2,
    ),
    Case(take_mode, [((3, 4),)], options=[{"mode": "wrap"}, {"mode": "clip"}], order=2),
    Case(take_along_axis, [((3, 4),)], domain=DISTINCT, options=[{"axis": 0}, {"axis": -1}, {"axis": None}], order=2),
    Case(tril, [((3, 4),), ((2, 3, 3),)], options=[{"k": 0}, {"k": 1}, {"k": -1}], order=2),
    Case(triu, [((3, 4),), ((4, 3),), ((2, 3, 3),)], options=[{"k": 0}, {"k": 2}, {"k": -1}], order=2),
    Case(diag, [((4,),), ((4, 4),)], options=[{"k": 0}, {"k": 1}, {"k": -2}], order=2),
    # autograd's diag of a rectangular matrix gives a square adjoint: differences only
    Case(diag, [((3, 4),), ((4, 2),)], options=[{"k": 0}, {"k": 1}, {"k": -2}], autograd=False, name="diag_rectangular", order=2),
    Case(
        diagonal,
        [((3, 4),)],
        options=[
            {"offset": 0, "axis1": 0, "axis2": 1},
            {"offset": 1, "axis1": 0, "axis2": 1},
            {"offset": -1, "axis1": 1, "axis2": 0},
        ],
        order=2,
    ),
    Case(
        diagonal,
        [((2, 3, 4),)],
        options=[{"offset": 1, "axis1": 1, "axis2": 2}, {"offset": 0, "axis1": 2, "axis2": 0}],
        name="diagonal_3d",
        order=2,
    ),
    Case(fliplr, [((3, 4),), ((3, 4, 2),)], order=2),
    Case(flipud, [((3, 4),), ((4,),)], order=2),
    Case(rot90, [((3, 4),)], options=[{"k": k, "axes": (0, 1)} for k in (1, 2, 3, -1)], order=2),
    Case(rot90, [((2, 3, 4),)], options=[{"k": 1, "axes": (1, 2)}, {"k": 3, "axes": (2, 0)}], name="rot90_3d", order=2),
    Case(rollaxis, [((2, 3, 4),)], options=[{"axis": 2, "start": 0}, {"axis": 0, "start": 3}, {"axis": -1, "start": 1}], order=2),
    Case(atleast_1d, [(F,), ((3,),), ((2, 3),)], order=2),
    Case(atleast_2d, [(F,), ((3,),), ((2, 3),)], order=2),
    Case(atleast_3d, [(F,), ((3,),), ((2, 3),), ((2, 3, 2),)], order=2),
    Case(
        split,
        [((3, 4),)],
        options=[{"sections": 2, "axis": 1}, {"sections": [1, 3], "axis": 1}, {"sections": 3, "axis": 0}],
        order=2,
    ),
    Case(array_split, [((3, 4),)], order=2),
    Case(hsplit, [((3, 4),)], order=2),
    Case(vsplit, [((4, 3),)], order=2),
    Case(dsplit, [((2, 3, 3),)], order=2),
    Case(column_stack, [((3,), (3,)), ((3,), (3, 2)), ((3, 2), (3, 1))], order=2),
    Case(r_, [((3,), (2,)), (F, F)], reference=r_reference, order=2),
    Case(bincount, [((5,),)], reference=bincount_reference, order=2),
    Case(np_add_at, [((3, 2), (4, 2)), ((3,), (4,)), ((3, 2), (4, 1))], reference=np_add_at_reference, order=2),
    Case(np_add_at_elements, [((3, 2), F)], reference=np_add_at_elements_reference, order=2),
    Case(ufunc_reduce, [((3, 4),), ((2, 3, 4),)], domain=NONZERO, options=[{"axis": 0}, {"axis": -1}, {"axis": None}],
         reference=ufunc_reduce_reference, order=2),  # fmt: skip
    Case(ufunc_reduce_default, [((3, 4),), ((5,),)], domain=NONZERO, reference=ufunc_reduce_default_reference, order=2),
    Case(ufunc_accumulate, [((3, 4),), ((5,),)], reference=ufunc_accumulate_reference, order=2),
    Case(ufunc_accumulate_product, [((3, 4),), ((5,),)], reference=ufunc_accumulate_product_reference, order=2),
    Case(ufunc_outer, [((3,), (2,)), ((2, 2), (3,)), (F, (3,)), ((2,), F), (F, F)], reference=ufunc_outer_reference, order=2),
    Case(average, REDUCIBLE, options=REDUCE_OPTIONS[:4], reference=average_reference, order=2)
    if AVERAGE_KEEPDIMS
    else Case(average_without_keepdims, REDUCIBLE, options=[{"axis": None}, {"axis": 0}],
              reference=average_without_keepdims_reference, order=2, name="average"),  # fmt: skip
    Case(average_weighted, [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 4, 4), (4,))], options=[{"axis": 1}, {"axis": -1}],
         reference=average_weighted_reference, order=2, name="average_weighted_axis"),  # fmt: skip
    Case(average_weighted, [((3, 4), (3, 4)), ((5,), (5,))], options=[{"axis": None}], reference=average_weighted_reference,
         order=2),  # fmt: skip
    Case(median, [((5,),), ((4,),), ((3, 4),), ((2, 3, 4),)], domain=DISTINCT,
         options=[{"axis": None, "keepdims": False}, {"axis": -1, "keepdims": True}], autograd=False, order=2),  # fmt: skip
    Case(median, [((4, 3),), ((2, 3, 4),)], domain=DISTINCT, options=[{"axis": 0, "keepdims": False}], autograd=False,
         name="median_axis"),  # fmt: skip
    Case(quantile, [((7,),), ((3, 5),)], domain=DISTINCT, autograd=False, order=2,
         options=[{"q": 0.3, "axis": None, "method": "linear"}, {"q": [0.1, 0.55, 1.0], "axis": -1, "method": "linear"},
                  {"q": 0.4, "axis": 0, "method": "midpoint"}, {"q": [0.3, 0.8], "axis": None, "method": "nearest"},
                  {"q": 0.3, "axis": -1, "method": "lower"}, {"q": 0.3, "axis": -1, "method": "higher"}]),  # fmt: skip
    Case(percentile, [((5, 2),)], domain=DISTINCT, autograd=False, order=2),
    Case(quantile_level, [((3, 5), (2,))], domain=(DISTINCT, Domain("level", 0.05, 0.95)), autograd=False, order=2),
    Case(interp, [((6,), (4,)), ((2, 3), (4,)), (F, (4,))], domain=(DISTINCT, REAL), reference=interp_reference, order=2),
    Case(interp_bounds, [((6,), (4,), F, F)], domain=(DISTINCT, REAL, REAL, REAL), autograd=False, order=2),
    Case(convolve, [((5,), (3,)), ((3,), (5,)), ((4,), (4,)), ((4,), (1,))],
         options=[{"mode": "full"}, {"mode": "same"}, {"mode": "valid"}], reference=convolve_reference, order=2),  # fmt: skip
    Case(polyval, [((4,), (3, 2)), ((1,), F), ((3,), F)], reference=polyval_reference, order=2),
    Case(r_rows, [((2, 3), (1, 3))], reference=r_rows_reference, order=2),
    Case(c_, [((3,), (3,)), ((3,), (3, 2))], reference=c_reference, order=2),
    Case(c_deep, [((2, 2, 2), (2, 2, 1))], reference=c_deep_reference, order=2),
    Case(append, [((3,), (2,)), ((2, 3), (4,))], options=[{"axis": None}], order=2),
    Case(append, [((2, 3), (1, 3))], options=[{"axis": 0}], name="append_axis", order=2),
    Case(select, [((3, 2), (3, 2)), ((3, 2), (1, 2)), ((4,), F)], domain=(DISTINCT, REAL), order=2),
    Case(select_default, [((3, 2), F), ((3, 2), (3, 1))], domain=(DISTINCT, REAL), order=2),
    Case(
        pad,
        [((3, 4),), ((5,),)],
        options=[{"pad_width": w, "mode": m} for w, m in PAD_MODES],
        reference=pad_reference,
        order=2,
    ),
    Case(pad, [((3, 4),)], options=[{"pad_width": ((1, 0), (2, 1)), "mode": "constant"}], name="pad_constant", order=2),
    Case(pad_fill, [((3, 4), F), ((3, 4), (1, 1))], reference=pad_fill_reference, order=2),
    Case(pad_fill_pairs, [((2, 3), F, F)], autograd=False, order=2),
    Case(pad_constant_value, [((3, 4),), ((2,),)], reference=pad_constant_value_reference, order=2),
    Case(sort, [((5,),)], domain=DISTINCT, options=[{"axis": -1}, {"axis": 0}, {"axis": None}], order=2),
    Case(
        sort,
        [((3, 4),)],
        domain=DISTINCT,
        options=[{"axis": -1}, {"axis": 0}, {"axis": None}],
        reference=sort_reference,
        name="sort_matrix",
        order=2,
    ),
    Case(sort_list, [(F, F)], domain=DISTINCT, order=2),
    Case(partition, [((6,),)], domain=DISTINCT, options=[{"kth": 2}, {"kth": (1, 4)}], order=2),
    Case(
        partition_matrix,
        [((3, 4),)],
        domain=DISTINCT,
        options=[{"axis": 0}, {"axis": -1}, {"axis": None}],
        autograd=False,
        order=2,
    ),
    # more linear and bilinear functions
    Case(diff, [((3, 5),)], options=[{"n": n, "axis": a} for n, a in ((1, -1), (2, -1), (1, 0), (3, 1))], order=2),
    Case(diff, [((5,),)], options=[{"n": 1, "axis": -1}, {"n": 0, "axis": 0}], name="diff_vector", order=2),
    Case(diff_ends, [((3, 4),)], reference=diff_ends_reference, order=2),
    Case(diff_ends_values, [((3, 4), F, (3, 2))], reference=diff_ends_values_reference, order=2),
    Case(tensordot, [((3, 4), (4, 2))], options=[{"axes": 1}], order=2),
    Case(tensordot, [((3,), (4,))], options=[{"axes": 0}], name="tensordot_outer", order=2),
    Case(tensordot, [((2, 3, 4), (3, 4, 5))], options=[{"axes": 2}], order=2, name="tensordot_two"),
    Case(
        tensordot,
        [((2, 3, 4), (4, 3, 5))],
        options=[{"axes": ([1, 2], [1, 0])}, {"axes": ([2], [0])}],
        name="tensordot_lists",
        order=2,
    ),
    Case(kron, [((2, 3), (3, 2)), ((3,), (2, 2)), ((2,), (3,)), ((2, 2, 1), (1, 3))], order=2),
    Case(cross, [((3,), (3,)), ((4, 3), (3,)), ((2, 1, 3), (4, 3))], order=2),
    Case(cross_axes, [((3, 4), (4, 3)), ((3, 1), (4, 3))], order=2),
    Case(gradient, [((6,),)], options=[{"axis": None, "edge_order": 1}, {"axis": 0, "edge_order": 2}], order=2),
    Case(
        gradient,
        [((4, 5),)],
        options=[{"axis": 1, "edge_order": 1}, {"axis": -2, "edge_order": 2}],
        name="gradient_matrix",
        order=2,
    ),
    Case(gradient_all, [((4, 5),)], order=2),
    Case(gradient_coordinates, [((5,),)], options=[{}], order=2),
    Case(deg2rad, UNARY, order=2),
    Case(radians, UNARY, order=2),
    Case(rad2deg, UNARY, order=2),
    Case(degrees, UNARY, order=2),
    Case(sinc, UNARY, order=2),
    Case(sinc_at_zero, [((4,),)], autograd=False, order=2),  # autograd's sinc has no derivative at 0
    Case(real, UNARY, order=2),
    Case(conj, UNARY, order=2),
    Case(nan_to_num, [((4,),)], order=2),
    Case(nan_to_num_values, [((5,), F)], reference=nan_to_num_values_reference, order=2),
    Case(nansum, [((3, 4),)], options=REDUCE_OPTIONS, order=2),
    Case(nancumsum, [((3, 4),)], options=[{"axis": None}, {"axis": 0}, {"axis": -1}], autograd=False, order=2),
    Case(nanmean, [((3, 4),)], options=REDUCE_OPTIONS, order=2),
    Case(method_diagonal, [((3, 4),)], reference=method_diagonal_reference, order=2),
    Case(method_take, [((3, 4),)], reference=method_take_reference, order=2),
    Case(method_conj, [((3, 4),)], reference=method_conj_reference, order=2),
    Case(attribute_real, [((3, 4),)], reference=attribute_real_reference, order=2),
    # creation inside the function: constants
    Case(zeros, [((3, 2),)]),
    Case(ones, [((3, 2),)]),
    Case(zeros_like, [((3, 2),)]),
    Case(ones_like, [((3, 2),)]),
    Case(full, [((3, 2),)]),
    Case(eye, [((3, 2),)]),
    Case(arange, [((4,),), ((2, 4),)]),
    Case(linspace, [((4,),)]),
    Case(
        linspace_ends,
        [(F, F), ((3,), F), ((2, 3), (3,))],
        options=[{"num": 5, "endpoint": True}, {"num": 4, "endpoint": False}, {"num": 1, "endpoint": True}],
        reference=linspace_ends_reference,
        order=2,
    ),
    Case(linspace_axis, [((3,), (2, 3))], reference=linspace_axis_reference, order=2),
    Case(full_value, [(F,), ((2,),), ((3, 1),)], reference=full_value_reference, order=2),
    Case(full_like_value, [((3, 2), F), ((3, 2), (2,))], wrt=(1,), reference=full_like_value_reference, order=2),
    Case(arange_float, [(F, F)], domain=(START, STEP), reference=arange_float_reference, order=2),
    Case(random_normal, [(F, F), ((2,), (3, 1))], domain=(REAL, POSITIVE), reference=random_normal_reference, order=2),
    Case(random_uniform, [(F, F), ((2,), (3, 1))], domain=(REAL, ABOVE_ONE), reference=random_uniform_reference, order=2),
    Case(copysign, BINARY, domain=NONZERO, order=2),
    Case(heaviside, [((4,), (4,)), ((4,), F), ((2, 4), (1, 4))], wrt=(1,), reference=heaviside_reference),
    # ndarray methods and attributes
    Case(method_sum, [((3, 4),)]),
    Case(method_mean, [((3, 4),)]),
    Case(method_max, [((3, 4),)], domain=DISTINCT),
    Case(method_min, [((3, 4),)], domain=DISTINCT),
    Case(method_prod, [((3, 4),)], domain=POSITIVE),
    Case(method_dot, [((3, 4), (4, 2)), ((4,), (4,))], reference=method_dot_reference),
    Case(method_reshape, [((3, 4),)]),
    Case(method_reshape_tuple, [((3, 4),)]),
    Case(method_transpose, [((3, 4),)]),
    Case(method_transpose_axes, [((2, 3, 4),)], reference=method_transpose_axes_reference),
    Case(attribute_t, [((3, 4),), ((2, 3, 4),)]),
    Case(method_ravel, [((3, 4),)]),
    Case(method_flatten, [((3, 4),)]),
    Case(method_flatten_order, [((3, 4),)], reference=method_flatten_order_reference),
    Case(method_squeeze, [((3, 1, 4),)]),
    Case(method_copy, [((3, 4),)], reference=method_copy_reference),
    Case(method_var, [((3, 4),)]),
    Case(method_std, [((3, 4),)]),
    Case(method_cumsum, [((3, 4),)]),
    Case(method_clip, [((3, 4),)], domain=DISTINCT),
    Case(method_clip_keywords, [((3, 4),)], domain=DISTINCT, reference=method_clip_keywords_reference, order=2),
    Case(method_swapaxes, [((3, 4),)]),
    Case(method_repeat, [((3, 4),)]),
    Case(method_trace, [((3, 4),)]),
    # math on Python floats: gradients come back as Python floats
    Case(math_sin, [(F,)]),
    Case(math_cos, [(F,)]),
    Case(math_tan, [(F,)], domain=UNIT),
    Case(math_asin, [(F,)], domain=UNIT),
    Case(math_acos, [(F,)], domain=UNIT),
    Case(math_atan, [(F,)]),
    Case(math_atan2, [(F, F)], domain=NONZERO),
    Case(math_sinh, [(F,)]),
    Case(math_cosh, [(F,)]),
    Case(math_tanh, [(F,)]),
    Case(math_asinh, [(F,)]),
    Case(math_acosh, [(F,)], domain=ABOVE_ONE),
    Case(math_atanh, [(F,)], domain=UNIT),
    Case(math_exp, [(F,)]),
    Case(math_expm1, [(F,)]),
    Case(math_log, [(F,)], domain=POSITIVE),
    Case(math_log_base, [(F, F)], domain=(POSITIVE, ABOVE_ONE)),
    Case(math_log2, [(F,)], domain=POSITIVE),
    Case(math_log10, [(F,)], domain=POSITIVE),
    Case(math_log1p, [(F,)], domain=POSITIVE),
    Case(math_sqrt, [(F,)], domain=POSITIVE),
    Case(math_pow, [(F, F)], domain=(POSITIVE, REAL)),
    Case(math_hypot, [(F, F)], domain=NONZERO),
    Case(math_fabs, [(F,)], domain=NONZERO),
    Case(math_erf, [(F,)]),
    Case(math_copysign, [(F, F)], domain=NONZERO, order=2),
    Case(math_erfc, [(F,)], order=2),
    Case(math_gamma, [(F,)], domain=GAMMA_X, order=2),  # negative x too (reflection)
    Case(math_lgamma, [(F,)], domain=POSITIVE, order=2),
    Case(math_prod, [(F, F)], order=2),
    Case(math_prod_array, [((3, 2),)], order=2),
    # builtins
    Case(builtin_abs, [(F,)], domain=NONZERO),
    Case(builtin_abs_array, [((3, 2),)], domain=NONZERO),
    Case(builtin_max, [(F, F)], domain=DISTINCT),
    Case(builtin_max_tied, [(F,)]),
    Case(builtin_min, [(F, F)], domain=DISTINCT),
    Case(builtin_sum, [(F, F), ((3, 2), (3, 2)), ((3, 2), (2,))]),
    Case(builtin_sum_start, [(F, F), ((3, 2), (2,))]),
    Case(builtin_float, [((3, 2),)]),
    Case(builtin_pow, [(F, F)], domain=(NONZERO, POSITIVE), order=2),  # (x < 0 only in integer powers)
    Case(builtin_pow_array, [((3, 2), (3, 2)), ((3, 2), F)], domain=(POSITIVE, REAL), order=2),
    Case(np_float64, UNARY, reference=np_float64_reference, order=2),
    Case(method_item, [((4,),)], reference=method_item_reference, order=2),
    Case(builtin_list, [((3, 2),)]),
    Case(builtin_tuple, [((3, 2), (3, 2))]),
    Case(list_into_numpy, [(F, F)], domain=NONZERO, order=2, autograd=AUTOGRAD_EINSUM_OF_LISTS),
    Case(builtin_sorted, [(F, F)], domain=DISTINCT, options=[{"reverse": False}, {"reverse": True}], order=2),
    Case(builtin_sorted_array, [((4,),)], domain=DISTINCT, order=2),
    Case(builtin_reversed, [(F, F)], order=2),
    Case(builtin_sorted_key, [(F, F)], domain=DISTINCT, options=[{"reverse": False}, {"reverse": True}], order=2),
    Case(builtin_sorted_lambda, [((5,),)], domain=DISTINCT, reference=builtin_sorted_lambda_reference, order=2),
    Case(builtin_max_key, [(F, F)], domain=DISTINCT, order=2),
    Case(builtin_extremum_default, [((4,),)], domain=DISTINCT, reference=builtin_extremum_default_reference, order=2),
    Case(functools_reduce, [(F, F), ((3,), (3,))], domain=DISTINCT, order=2),
    Case(operator_functions, [(F, F), ((3,), (3,))], reference=operator_functions_reference, order=2),
    # np.linalg: square inputs near a diagonal matrix (MATRIX, SYMMETRIC), single and stacked
    Case(linalg_inv, SQUARE, domain=MATRIX, order=2),
    Case(  # a stack of vectors b: 1-D on NumPy 2; one dimension fewer than a on NumPy 1, which reads (3, 3) as
        linalg_solve,  # three vectors here, where NumPy 2 reads one matrix (and 2x3x3 with 3 is an error)
        [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 2)), ((2, 3, 3), (2, 3) if NUMPY_1 else (3,))]
        + [((3, 3), (2, 3, 4)), ((3, 3, 3), (3, 3))],
        domain=(MATRIX, REAL),
        order=2,
    ),
    Case(linalg_det, SQUARE, domain=MATRIX, order=2),
    Case(linalg_slogdet, SQUARE, domain=MATRIX, order=2),
    Case(linalg_slogdet_indexed, SQUARE, domain=MATRIX, order=2),
    Case(linalg_matrix_power, SQUARE, domain=MATRIX, options=[{"n": 3}, {"n": 1}, {"n": 0}, {"n": -2}], order=2),
    Case(linalg_pinv, RECTANGULAR, domain=MATRIX, order=2),
    Case(linalg_cholesky, SQUARE, domain=SYMMETRIC, order=2),
    Case(linalg_cholesky_lower, SQUARE, domain=SYMMETRIC, autograd=False, order=2),
    Case(linalg_eigh, SQUARE, domain=SYMMETRIC, order=2),
    Case(linalg_eigh_values, SQUARE, domain=SYMMETRIC, order=2),
    Case(linalg_eigh_triangle, SQUARE, domain=SYMMETRIC, options=[{"uplo": "L"}, {"uplo": "U"}], autograd=False, order=2),
    # autograd has no derivative for eig: central differences only
    Case(linalg_eig, SQUARE, domain=MATRIX, autograd=False, order=2),
    Case(linalg_eig_values, SQUARE, domain=MATRIX, autograd=False, order=2),
    Case(linalg_svd, RECTANGULAR, domain=MATRIX, options=[{"full_matrices": False}], order=2),
    Case(
        linalg_svd,
        SQUARE,
        domain=MATRIX,
        options=[{"full_matrices": True}],
        order=2,
        reference=linalg_svd_full_reference,
        name="linalg_svd_full",
    ),
    Case(
        linalg_svd_full_rectangular,
        [((4, 3),), ((3, 4),), ((2, 4, 3),)],
        domain=MATRIX,
        order=2,
        reference=linalg_svd_full_rectangular_reference,
    ),
    Case(linalg_svd_vectors, RECTANGULAR, domain=MATRIX, order=2),
    Case(linalg_svd_values, RECTANGULAR, domain=MATRIX, order=2),
    # autograd has no derivative for qr: central differences only
    Case(linalg_qr, [((3, 3),), ((4, 3),), ((2, 4, 3),)], domain=MATRIX, autograd=False, order=2),
    Case(linalg_qr_r, [((4, 3),)], domain=MATRIX, autograd=False, order=2),
    # runtime helpers: generated code calls them, so grad(grad(f)) differentiates them with
    # their own rules. They call NumPy directly, out of autograd's reach: differences only
    Case(helper_unbroadcast, [((3, 2), (1, 2)), ((4,), ()), ((2, 3), (3,))], autograd=False),
    Case(helper_adjoint_matmul, [((3, 2), (2, 4)), ((2,), (2, 3))], autograd=False),
    Case(helper_indexable, [((3, 2),), ((4,),)], autograd=False, order=2),
    Case(
        helper_triangle,
        [((3, 3),), ((4, 4),)],
        options=[{"lower": True, "unit_diagonal": False}, {"lower": False, "unit_diagonal": True}],
        autograd=False,
        order=2,
    ),
    Case(helper_rebroadcast, [((1, 2), (3, 2)), ((), (4,)), ((3, 2), ()), ((2, 3), (2, 3))], autograd=False),
    Case(helper_broadcast_like, [((1, 2), (3, 2)), ((), (4,)), ((3,), (2, 3))], wrt=(0,), autograd=False),
    Case(helper_unreduce, [((4,), (3, 4))], options=[{"axis": 0, "keepdims": False}], autograd=False),
    Case(
        helper_unreduce,
        [((3, 1), (3, 4))],
        options=[{"axis": -1, "keepdims": True}],
        autograd=False,
        name="helper_unreduce_keepdims",
    ),
    Case(
        helper_unreduce, [((), (3, 4))], options=[{"axis": None, "keepdims": False}], autograd=False, name="helper_unreduce_total"
    ),
    Case(helper_materialize, [((3, 2), (3, 2)), ((1, 2), (3, 2))], autograd=False),
    Case(helper_materialize_all, [((3, 2), (3, 2))], autograd=False),
    Case(helper_cotangents, [((3, 2), (3, 2))], autograd=False),
    Case(helper_private_copy, [((3, 2),)], autograd=False),
    Case(helper_writable, [((3, 2), (3, 2)), ((1, 2), (3, 2))], autograd=False),
    Case(helper_cast, [(F, F)], autograd=False),
    Case(helper_real_root, [((3, 3),)], autograd=False),
    Case(helper_astype, [((3, 2),)], domain=NONZERO, options=[{"dtype": np.float64}, {"dtype": int}], autograd=False),
    Case(astype_method, [((3, 2),), ((4,),)], domain=NONZERO, options=[{"dtype": np.float64}, {"dtype": np.int64}],
         order=2, reference=lambda x, w, dtype: np.sum(x * w) if dtype is np.float64 else np.sum(np.floor(x) * 0.0 * w)),
    *([Case(astype_function, [((3, 2),)], domain=NONZERO, options=[{"dtype": np.float64}, {"dtype": bool}], order=2,
            reference=lambda x, w, dtype: np.sum(x * w) if dtype is np.float64 else np.sum(x * 0.0 * w))]
      if hasattr(np, "astype") else []),
    Case(real_if_close, UNARY, order=2, reference=lambda x, w: np.sum(x * w)),
    Case(fftshift, [((4,),), ((3, 4),), ((5, 4),)], options=[{"axes": None}, {"axes": -1}, {"axes": (0,)}], order=2,
         reference=lambda x, w, axes: np.sum(_shifted(x, axes, 1) * w)),
    Case(ifftshift, [((4,),), ((3, 5),)], options=[{"axes": None}, {"axes": 0}], order=2,
         reference=lambda x, w, axes: np.sum(_shifted(x, axes, -1) * w)),
    # the FFT family. autograd's derivatives of rfft and irfft take even lengths and no
    # norm="forward" (it scales as for the default): the other examples have no autograd reference
    Case(fft, [((8,),), ((3, 5),)], options=[{"n": None, "axis": -1, "norm": None}, {"n": 6, "axis": 0, "norm": "ortho"},
                                             {"n": 3, "axis": -1, "norm": "forward"}], order=2),
    Case(fft_of_complex, [((6,), (6,)), ((2, 6), (1, 6))], order=2),
    Case(ifft, [((8,),), ((3, 5),)], options=[{"n": None, "axis": -1, "norm": None}, {"n": 6, "axis": 0, "norm": "forward"}],
         order=2),
    Case(fft2, [((3, 4),), ((2, 3, 4),)], options=[{"s": None, "norm": None}, {"s": (2, 6), "norm": "ortho"}], order=2),
    Case(ifft2, [((3, 4), (3, 4)), ((2, 3, 4), (3, 4))], options=[{"s": None, "norm": None}, {"s": (5, 3), "norm": "forward"}],
         order=2),
    Case(fftn, [((3, 4),), ((2, 3, 4),)], options=[{"s": None, "axes": None, "norm": None},
                                                  {"s": (4, 2), "axes": (0, -1), "norm": "forward"}], order=2),
    Case(ifftn, [((3, 4),), ((2, 3, 4),)], options=[{"s": None, "axes": None, "norm": "ortho"},
                                                   {"s": (2, 3), "axes": (1, 0), "norm": None}], order=2),
    Case(rfft, [((8,),), ((3, 6),)], options=[{"n": None, "axis": -1, "norm": None}, {"n": 10, "axis": 0, "norm": "ortho"},
                                              {"n": 4, "axis": -1, "norm": None}], order=2),
    Case(rfft, [((7,),), ((3, 5),)], options=[{"n": None, "axis": -1, "norm": "forward"}, {"n": 5, "axis": 0, "norm": None}],
         order=2, autograd=False, name="rfft_odd"),
    Case(rfft2, [((4, 6),), ((2, 4, 6),)], options=[{"s": None, "norm": None}, {"s": (3, 8), "norm": "ortho"}], order=2),
    Case(rfftn, [((4, 6),), ((2, 4, 6),)], options=[{"s": None, "axes": None, "norm": None},
                                                   {"s": (5, 4), "axes": (0, 1), "norm": "ortho"}], order=2),
    Case(rfftn, [((3, 5),), ((2, 3, 5),)], options=[{"s": None, "axes": None, "norm": "forward"},
                                                   {"s": (3,), "axes": (0,), "norm": None}], order=2, autograd=False,
         name="rfftn_odd"),
    Case(irfft, [((5,), (5,)), ((3, 4), (1, 4))], options=[{"n": None, "norm": None}, {"n": 6, "norm": "ortho"},
                                                           {"n": 12, "norm": None}], order=2),
    Case(irfft, [((5,), (5,)), ((3, 4), (3, 4))], options=[{"n": 7, "norm": "forward"}, {"n": 3, "norm": None}], order=2,
         autograd=False, name="irfft_odd"),
    Case(irfft2, [((3, 4), (3, 4)), ((2, 3, 4), (3, 4))], options=[{"s": None, "norm": None}, {"s": (2, 8), "norm": "ortho"}],
         order=2),
    Case(irfftn, [((3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4))],
         options=[{"s": None, "axes": None, "norm": None}, {"s": (4, 2), "axes": (0, 1), "norm": "ortho"}], order=2),
    Case(irfftn, [((3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4))],
         options=[{"s": None, "axes": None, "norm": "forward"}, {"s": (3, 5), "axes": (-1, 0), "norm": None}], order=2,
         autograd=False, name="irfftn_odd"),
    Case(hfft, [((5,), (5,)), ((3, 4), (3, 4))], options=[{"n": None, "norm": None}, {"n": 7, "norm": "ortho"},
                                                          {"n": 6, "norm": "forward"}],
         order=2, autograd=False),  # autograd has no derivative for hfft
    Case(ihfft, [((8,),), ((3, 7),)], options=[{"n": None, "norm": None}, {"n": 5, "norm": "ortho"},
                                               {"n": 10, "norm": "forward"}],
         order=2, autograd=False),  # nor for ihfft
    Case(spectral_power, [((8,),), ((3, 6),)], order=2),
    Case(convolution, [((8,),)], order=2),
    # complex values: the parts of x + 1j * y
    Case(imag, BINARY, order=2),
    Case(imag_of_real, UNARY, order=2),
    Case(attribute_imag, BINARY, reference=attribute_imag_reference, order=2),
    Case(angle, [((3, 2), (3, 2)), ((4,), ()), ((), ())], domain=NONZERO, options=[{"deg": False}, {"deg": True}],
         reference=angle_reference, order=2),
    Case(abs_of_complex, BINARY, domain=NONZERO, order=2),
    Case(absolute_of_complex, BINARY, domain=NONZERO, order=2),
    Case(conj_of_complex, BINARY, order=2),
    Case(real_of_complex, BINARY, order=2),
    Case(helper_add_adjoints, [((3, 2), (3, 2)), ((3, 2), ())], autograd=False),
    Case(helper_sum_adjoint, [((2,), (3, 2))], autograd=False),
    Case(helper_sum_adjoint_adjoint, [((3, 2), (2,))], wrt=(0,), autograd=False),
    Case(helper_sequence_adjoint, [((3, 2),)], autograd=False),
    Case(helper_structured, [((3, 2),)], autograd=False),
    Case(helper_unstructured, [((3, 2),)], autograd=False),
    Case(
        helper_matmul_adjoint_a,
        [((3, 2), (3, 4), (4, 2)), ((2,), (4,), (4, 2)), ((3,), (3, 4), (4,)), (F, (4,), (4,)), ((2, 3, 5), (3, 4), (2, 4, 5))],
        autograd=False,
    ),
    Case(
        helper_matmul_adjoint_b,
        [((3, 2), (3, 4), (4, 2)), ((2,), (4,), (4, 2)), ((3,), (3, 4), (4,)), (F, (4,), (4,)), ((2, 3, 5), (2, 3, 4), (4, 5))],
        autograd=False,
    ),
    Case(
        helper_dot_adjoint_a,
        [((3, 2), (3, 4), (4, 2)), (F, (4,), (4,)), ((3, 2), F, (3, 2)), ((2, 3, 3, 5), (2, 3, 4), (3, 4, 5))],
        autograd=False,
    ),
    Case(
        helper_dot_adjoint_b,
        [((3, 2), (3, 4), (4, 2)), (F, (4,), (4,)), ((3, 2), (3, 2), F), ((2, 3, 3, 5), (2, 3, 4), (3, 4, 5))],
        autograd=False,
    ),
    Case(helper_inner_adjoint_a, [((3, 2), (3, 4), (2, 4)), (F, (4,), (4,)), ((2, 3, 5), (2, 3, 4), (5, 4))], autograd=False),
    Case(helper_inner_adjoint_b, [((3, 2), (3, 4), (2, 4)), (F, (4,), (4,)), ((2, 3, 5), (2, 3, 4), (5, 4))], autograd=False),
    Case(helper_unstack, [((2, 2, 3), (2, 3), (2, 3))], autograd=False),
    Case(helper_restack, [((2, 3), (2, 3))], autograd=False),
    Case(helper_unconcatenate, [((5, 3), (2, 3), (3, 3))], options=[{"axis": 0}], autograd=False),
    Case(
        helper_unconcatenate,
        [((15,), (2, 3), (3, 3))],
        options=[{"axis": None}],
        autograd=False,
        name="helper_unconcatenate_flat",
    ),
    Case(helper_reconcatenate, [((2, 3), (3, 3))], options=[{"axis": 0}, {"axis": None}], autograd=False),
    Case(helper_unvstack, [((3, 3), (3,), (2, 3))], autograd=False),
    Case(helper_revstack, [((3,), (3,)), ((2, 3), (1, 3))], autograd=False),
    Case(helper_cumsum_adjoint, [((3, 4), (3, 4))], options=[{"axis": 0}, {"axis": -1}], autograd=False),
    Case(helper_cumsum_adjoint, [((12,), (3, 4))], options=[{"axis": None}], autograd=False, name="helper_cumsum_adjoint_flat"),
    Case(helper_transpose_adjoint, [((2, 3, 4),)], options=[{"forward": False}, {"forward": True}], autograd=False),
    Case(helper_moveaxis_adjoint, [((2, 3, 4),)], autograd=False),
    Case(helper_expand_dims_adjoint, [((3, 1, 4), (3, 4))], autograd=False),
    Case(helper_repeat_adjoint, [((2, 3), (2, 3))], options=[{"repeats": [1, 0, 2], "axis": 1}], autograd=False),
    Case(
        helper_repeat_adjoint,
        [((12,), (2, 3))],
        options=[{"repeats": 2, "axis": None}],
        autograd=False,
        name="helper_repeat_adjoint_flat",
    ),
    Case(helper_tile_adjoint, [((4, 3), (2, 3))], autograd=False),
    Case(helper_trace_adjoint, [((2,), (3, 2, 4))], autograd=False),
    Case(
        helper_reduce_extremum_adjoint,
        [((4,), (3, 4))],
        domain=DISTINCT,
        options=[{"axis": 0, "keepdims": False}],
        autograd=False,
    ),
    Case(
        helper_reduce_extremum_adjoint,
        [(F, (3, 4))],
        domain=DISTINCT,
        options=[{"axis": None, "keepdims": False}],
        autograd=False,
        name="helper_reduce_extremum_adjoint_total",
    ),
    Case(helper_norm_adjoint, [((3, 1), (3, 4))], domain=NONZERO, options=[{"axis": -1, "keepdims": True}], autograd=False),
    Case(
        helper_norm_adjoint,
        [(F, (3, 4))],
        domain=NONZERO,
        options=[{"axis": None, "keepdims": False}],
        autograd=False,
        name="helper_norm_adjoint_total",
    ),
    Case(helper_add_at, [((4,), (3,)), ((4,), F), ((4, 2), (3, 2))], autograd=False),
    Case(helper_unsort, [(F, F)], autograd=False, order=2),
    Case(helper_resort, [(F, F)], autograd=False, order=2),
    Case(helper_unreverse, [((4,),), ((3, 2),)], autograd=False, order=2),
    Case(helper_einsum_adjoint, [((3, 2), (3, 4), (4, 2))], autograd=False),
    Case(helper_einsum_with, [((3, 4), (3, 4), (4, 2))], autograd=False),
    Case(helper_prod_adjoint, [((4,), (3, 4))], domain=POSITIVE, options=[{"axis": 0, "keepdims": False}], autograd=False),
    Case(helper_prod_others, [((3, 4),)], domain=POSITIVE, options=[{"axis": 0}, {"axis": None}], autograd=False),
    Case(
        helper_norm_direction,
        [((3, 4),)],
        domain=NONZERO,
        options=[{"ord": o, "axis": a} for o in (None, 1, 3, np.inf) for a in (0, -1)],
        autograd=False,
    ),
    Case(helper_scatter, [((3, 2),)], autograd=False, order=2),
    Case(helper_scatter_parts, [((1, 2), (3,))], autograd=False, order=2),
    Case(helper_gather, [((2, 3),)], autograd=False, order=2),
    Case(helper_gather_parts, [((2,), (2, 2)), (F, (5,))], autograd=False, order=2),
    Case(
        helper_diff_adjoint,
        [((4, 3), (4, 3))],
        options=[{"part": p} for p in ("a", "prepend", "append")],
        wrt=(0,),
        autograd=False,
        order=2,
    ),
    Case(helper_diff_along, [((3, 4),)], options=[{"part": "a"}], autograd=False, order=2),
    Case(helper_diff_along, [(F,)], options=[{"part": "prepend"}], autograd=False, order=2, name="helper_diff_along_end"),
    Case(helper_tensordot_adjoint_a, [((2, 5), (2, 3, 4), (4, 3, 5))], autograd=False, order=2),
    Case(helper_tensordot_adjoint_b, [((2, 5), (2, 3, 4), (4, 3, 5))], autograd=False, order=2),
    Case(helper_cumprod_adjoint, [((3, 4), (3, 4))], domain=NONZERO, options=[{"axis": 1}], autograd=False),
    Case(
        helper_cumprod_adjoint,
        [((12,), (3, 4))],
        domain=NONZERO,
        options=[{"axis": None}],
        autograd=False,
        name="helper_cumprod_adjoint_flat",
    ),
    Case(helper_cumprod_tangent, [((3, 4), (3, 4))], domain=NONZERO, options=[{"axis": 0}, {"axis": None}], autograd=False),
    Case(helper_sinc_slope, [((4,),)], autograd=False),
    Case(helper_digamma, [(F,)], domain=GAMMA_X, reference=helper_digamma_reference),
    Case(helper_quantile_fraction, [((3, 5), (2,))], domain=(DISTINCT, Domain("level", 0.05, 0.95)), wrt=(1,),
         autograd=False, order=2),  # fmt: skip
    Case(helper_spread_weights, [((4,), (3, 4)), ((3, 4), (3, 4))], options=[{"axis": 1}], autograd=False, order=2),
    Case(helper_gather_weights, [((3, 4), (4,), (3, 4)), ((3, 4), (3, 4), (3, 4))], options=[{"axis": -1}], wrt=(0,),
         autograd=False, order=2),  # fmt: skip
    # y is shaped like the result: n + m - 1 (full), max(n, m) (same), max - min + 1 (valid)
    Case(helper_convolve_adjoint, [((6,), (4,), (3,)), ((6,), (3,), (4,))], options=[{"mode": "full"}], wrt=(0, 2),
         autograd=False, order=2),  # fmt: skip
    Case(helper_convolve_adjoint, [((4,), (4,), (3,)), ((4,), (2,), (4,))], options=[{"mode": "same"}], wrt=(0, 2),
         autograd=False, order=2, name="helper_convolve_adjoint_same"),  # fmt: skip
    Case(helper_convolve_adjoint, [((2,), (4,), (3,))], options=[{"mode": "valid"}], wrt=(0, 2), autograd=False, order=2,
         name="helper_convolve_adjoint_valid"),  # fmt: skip
    Case(helper_interp_slope, [((6,), (4,))], domain=(DISTINCT, REAL), wrt=(1,), autograd=False, order=2),
    Case(helper_interp_slope_adjoint, [((6,), (6,), (4,))], domain=(REAL, DISTINCT, REAL), wrt=(0,), autograd=False, order=2),
    Case(helper_interp_fp_adjoint, [((6,), (6,), (4,))], domain=(REAL, DISTINCT, REAL), options=[{"left": None}, {"left": 0.5}],
         wrt=(0, 1), autograd=False, order=2),  # fmt: skip
    Case(helper_real_like, [((3, 2), (3, 2)), ((4,), ())], autograd=False),
    Case(helper_dft, [((3, 2), (3, 2)), ((4,), (4,))], options=[{"inverse": False}, {"inverse": True}], autograd=False, order=2),
    Case(helper_dft_adjoint, [((6, 2), (6, 2)), ((6,), (6,))], options=[{"inverse": False}, {"inverse": True}], autograd=False,
         order=2),
    Case(helper_rdft, [((3, 5),), ((2, 4, 7),)], autograd=False, order=2),
    Case(helper_rdft_adjoint, [((3, 4), (3, 4))], autograd=False, order=2),
    Case(helper_irdft, [((3, 4), (3, 4)), ((5,), (5,))], autograd=False, order=2),
    Case(helper_irdft_adjoint, [((3, 6),), ((2, 3, 6),)], autograd=False, order=2),
    Case(helper_cross_adjoint, [((4, 3), (4, 3), (3,))], autograd=False, order=2),
    Case(helper_gradient_along, [((3, 4),)], autograd=False, order=2),
    Case(helper_gradient_adjoint, [((5, 3), (5, 3))], autograd=False, order=2),
    Case(helper_kron_adjoint_a, [((6, 6), (2, 3), (3, 2))], autograd=False, order=2),
    Case(helper_kron_adjoint_b, [((6, 6), (2, 3), (3, 2))], autograd=False, order=2),
    # SciPy special functions (srcdiff/rules/scipy.py)
    Case(expit, UNARY, order=2),
    Case(logit, UNARY, domain=PROBABILITY, order=2),
    Case(erf, UNARY, order=2),
    Case(erfc, UNARY, order=2),
    Case(erfinv, UNARY, domain=UNIT, order=2),
    Case(erfcinv, UNARY, domain=ERFC_RANGE, order=2),
    Case(xlogy, BINARY, domain=(REAL, POSITIVE), order=2),
    Case(xlog1py, BINARY, domain=(REAL, POSITIVE), order=2),
    Case(gamma, UNARY, domain=POSITIVE, order=2),
    Case(gammaln, UNARY, domain=POSITIVE, order=2),
    Case(loggamma, UNARY, domain=POSITIVE, order=2),
    Case(rgamma, UNARY, domain=POSITIVE, order=2),
    Case(digamma, UNARY, domain=POSITIVE, order=2),
    Case(psi, UNARY, domain=POSITIVE),
    Case(polygamma, UNARY, domain=POSITIVE, options=[{"n": 0}, {"n": 1}, {"n": 2}], order=2),
    Case(multigammaln, [((3, 2),), ((),)], domain=ABOVE_ONE, options=[{"d": 1}, {"d": 3}], order=2),
    Case(beta_function, BINARY, domain=POSITIVE, order=2),
    Case(betaln, BINARY, domain=POSITIVE, order=2),
    Case(i0, UNARY, domain=NONZERO, order=2),
    Case(i1, UNARY, domain=NONZERO, order=2),
    Case(iv, UNARY, domain=POSITIVE, options=[{"v": 0}, {"v": 1.5}, {"v": 3}], order=2),
    Case(i0e, UNARY, domain=NONZERO, order=2),
    Case(i1e, UNARY, domain=NONZERO, order=2),
    Case(ive, UNARY, domain=POSITIVE, options=[{"v": 0}, {"v": 1.5}, {"v": 3}], order=2),
    Case(j0, UNARY, order=2),
    Case(j1, UNARY, order=2),
    Case(jv, UNARY, domain=POSITIVE, options=[{"v": 0}, {"v": 2}], order=2),  # integer orders: autograd's jn
    Case(y0, UNARY, domain=POSITIVE, order=2),
    Case(y1, UNARY, domain=POSITIVE, order=2),
    Case(yv, UNARY, domain=POSITIVE, options=[{"v": 0}, {"v": 2}], order=2),
    Case(logsumexp, REDUCIBLE, options=REDUCE_OPTIONS, order=2),
    Case(
        logsumexp_scaled,
        [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((4,), ())],
        domain=(REAL, POSITIVE),
        options=[{"axis": None}, {"axis": 0}, {"axis": -1}],
        order=2,
    ),
    Case(softmax, REDUCIBLE, options=[{"axis": None}, {"axis": 0}, {"axis": -1}], order=2),
    Case(log_softmax, REDUCIBLE, options=[{"axis": None}, {"axis": 0}, {"axis": -1}], order=2),
    # SciPy distributions: x, the shape parameters, loc and scale all broadcast together
    Case(norm_logpdf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), order=2),
    Case(norm_pdf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), order=2),
    Case(norm_cdf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), order=2, reference=norm_cdf_reference),
    Case(norm_logcdf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), order=2),
    Case(norm_sf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), order=2),
    Case(norm_logsf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), order=2),
    Case(norm_standard, UNARY),
    Case(t_logpdf, SHAPED_LOCATION_SCALE, domain=(REAL, POSITIVE, REAL, POSITIVE), order=2),
    Case(t_pdf, SHAPED_LOCATION_SCALE, domain=(REAL, POSITIVE, REAL, POSITIVE), order=2),
    Case(gamma_logpdf, SHAPED_LOCATION_SCALE, domain=(POSITIVE, POSITIVE, BELOW, POSITIVE), order=2),
    Case(gamma_pdf, SHAPED_LOCATION_SCALE, domain=(POSITIVE, POSITIVE, BELOW, POSITIVE), order=2),
    Case(
        beta_logpdf,
        [((3, 2), (1, 2), (3, 1), F, F), ((4,), F, F, (4,), F), (F, F, F, F, F)],
        domain=(BETA_X, POSITIVE, POSITIVE, BETA_LOC, BETA_SCALE),
        order=2,
    ),
    Case(beta_pdf, [((3, 2), (1, 2), (3, 1), F, F), (F, F, F, F, F)], domain=(BETA_X, POSITIVE, POSITIVE, BETA_LOC, BETA_SCALE)),
    Case(chi2_logpdf, SHAPED_LOCATION_SCALE, domain=(POSITIVE, POSITIVE, BELOW, POSITIVE), order=2),
    Case(chi2_pdf, SHAPED_LOCATION_SCALE, domain=(POSITIVE, POSITIVE, BELOW, POSITIVE)),
    Case(poisson_logpmf, [((4,),), ((),)], domain=POSITIVE, options=[{"k": np.array([0.0, 1.0, 3.0, 2.0])}], order=2),
    Case(poisson_pmf, [((4,),), ((),)], domain=POSITIVE, options=[{"k": np.array([0.0, 1.0, 3.0, 2.0])}], order=2),
    Case(dirichlet_logpdf, [((4,), (4,)), ((3, 5), (3,))], domain=(REAL, POSITIVE), order=2),
    # a single point (3,), points by rows (5, 3), and one row (1, 3), whose result SciPy squeezes to a float
    Case(multivariate_normal_logpdf, [((3,), (3,), (3, 3)), ((5, 3), (3,), (3, 3)), ((1, 3), (3,), (3, 3))], order=2),
    Case(scipy_linalg_inv, [((3, 3),)], order=2),
    Case(solve_sylvester, [((3, 3), (3, 3), (3, 3))], order=2),
    Case(sqrtm, [((3, 3),)], domain=SYMMETRIC, order=2),
    Case(expm, [((3, 3),), ((2, 3, 3),)], autograd=False),
    Case(
        solve_triangular,
        [((3, 3), (3,)), ((3, 3), (3, 2))],
        order=2,
        options=[{"trans": t, "lower": lower, "unit_diagonal": False} for t in (0, 1, "T") for lower in (True, False)],
    ),
    # autograd's adjoint ignores unit_diagonal: central differences only
    Case(
        solve_triangular,
        [((3, 3), (3, 2))],
        options=[{"trans": 0, "lower": True, "unit_diagonal": True}, {"trans": 1, "lower": False, "unit_diagonal": True}],
        autograd=False,
        order=2,
        name="solve_triangular_unit",
    ),
    # autograd has no cho_factor: central differences, which see that one triangle is read
    Case(cho_factor_solve, [((3, 3), (3,)), ((3, 3), (3, 2))], domain=UNIT, order=2, autograd=False,
         options=[{"lower": True}, {"lower": False}]),  # fmt: skip
    Case(cho_factor_triangle, [((3, 3),)], domain=UNIT, order=2, autograd=False, options=[{"lower": True}, {"lower": False}]),
    # autograd's convolve takes other arguments (axes, dot_axes): central differences
    Case(signal_convolve, [((5,), (3,)), ((3,), (5,)), ((4, 4), (3, 2)), ((2, 2), (3, 4))], autograd=False, order=2,
         options=[{"mode": "full"}, {"mode": "same"}, {"mode": "valid"}]),  # fmt: skip
    Case(yn, UNARY, domain=POSITIVE, options=[{"n": 0}, {"n": 2}], order=2),
    Case(incomplete_gamma, UNARY, domain=POSITIVE, options=[{"a": 0.7}, {"a": 2.5}], order=2),
    Case(incomplete_gamma_complement, UNARY, domain=POSITIVE, options=[{"a": 1.5}], order=2),
    Case(incomplete_beta, UNARY, domain=PROBABILITY, options=[{"a": 2.0, "b": 3.0}, {"a": 0.8, "b": 1.5}], order=2),
    Case(t_cdf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), options=[{"df": 2.5}], order=2),
    Case(t_logcdf, LOCATION_SCALE, domain=(REAL, REAL, POSITIVE), options=[{"df": 4.0}], order=2),
    Case(gamma_cdf, LOCATION_SCALE, domain=(POSITIVE, BELOW, POSITIVE), options=[{"a": 1.7}], order=2),
    Case(beta_cdf, LOCATION_SCALE, domain=(BETA_X, BETA_LOC, BETA_SCALE), options=[{"a": 2.0, "b": 1.5}], order=2),
    Case(chi2_cdf, LOCATION_SCALE, domain=(POSITIVE, BELOW, POSITIVE), options=[{"df": 3.0}], order=2),
    Case(poisson_cdf, [((4,),), ((),)], domain=POSITIVE, options=[{"k": np.array([0.0, 1.0, 3.0, 2.5])}], order=2),
    Case(dirichlet_pdf, [((4,), (4,)), ((3, 5), (3,))], domain=(REAL, POSITIVE), order=2),
    Case(multivariate_normal_pdf, [((3,), (3,), (3, 3)), ((5, 3), (3,), (3, 3))], order=2),
    Case(multivariate_normal_entropy, [((3, 3),)], order=2),
]


# ------------------------------------------------------------ the autograd reference


def _cbrt(x):  # autograd has no VJP for cbrt
    return anp.sign(x) * anp.abs(x) ** (1.0 / 3.0)


def _clip(x, a_min, a_max):  # NumPy's definition; autograd's clip differentiates x only
    x = x if a_min is None else anp.maximum(x, a_min)
    return x if a_max is None else anp.minimum(x, a_max)


def _flip(m, axis=None):  # autograd has no VJP for flip: reverse by slicing instead
    axes = range(anp.ndim(m)) if axis is None else [axis] if anp.ndim(axis) == 0 else axis
    index = [slice(None)] * anp.ndim(m)
    for a in axes:
        index[a] = slice(None, None, -1)
    return m[tuple(index)]


def _vdot(a, b):  # autograd has no VJP for vdot
    return anp.dot(anp.ravel(a), anp.ravel(b))


def _where(condition, x, y):  # autograd's where does not sum broadcast adjoints back to x and y
    return condition * x + (1.0 - condition) * y


def _outer(a, b):  # autograd's outer does not reshape the adjoint of an N-D operand (outer flattens)
    return anp.outer(anp.ravel(a), anp.ravel(b))


def _norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm from functions autograd differentiates: its own norm differentiates
    only the 2-, p>1 and nuclear norms, and mis-shapes the adjoint with keepdims."""
    x = anp.array(x) if isinstance(x, (list, tuple)) else x
    ndim = anp.ndim(x)
    if axis is None:
        axes = tuple(range(ndim)) if ord is None or ndim != 1 else (0,)
    else:
        axes = (axis % ndim,) if anp.ndim(axis) == 0 else tuple(a % ndim for a in axis)
    if len(axes) == 2 and ord not in (None, "fro"):
        rows, columns = axes
        if ord in ("nuc", 2, -2):  # from the singular values
            s = anp.linalg.svd(anp.moveaxis(x, axes, (-2, -1)), compute_uv=False)
            s = anp.sum(s, axis=-1) if ord == "nuc" else anp.max(s, axis=-1) if ord == 2 else anp.min(s, axis=-1)
            result = anp.expand_dims(s, tuple(sorted(axes)))
        else:
            summed, chosen = (rows, columns) if ord in (1, -1) else (columns, rows)
            sums = anp.sum(anp.abs(x), axis=summed, keepdims=True)
            result = anp.max(sums, axis=chosen, keepdims=True) if ord > 0 else anp.min(sums, axis=chosen, keepdims=True)
    elif ord in (None, 2, "fro"):
        result = anp.sqrt(anp.sum(x * x, axis=axes, keepdims=True))
    elif ord == anp.inf:
        result = anp.max(anp.abs(x), axis=axes, keepdims=True)
    elif ord == -anp.inf:
        result = anp.min(anp.abs(x), axis=axes, keepdims=True)
    elif ord == 0:
        result = anp.sum(x != 0, axis=axes, keepdims=True) * 1.0
    else:
        result = anp.sum(anp.abs(x) ** ord, axis=axes, keepdims=True) ** (1.0 / ord)
    if keepdims:
        return result
    return anp.squeeze(result, axis=axes) if anp.ndim(result) else result


def _concatenate(arrays, axis=0):  # autograd's concatenate has no axis=None
    return anp.concatenate([anp.ravel(a) for a in arrays]) if axis is None else anp.concatenate(arrays, axis)


def _broadcast_to(x, shape):  # autograd's broadcast_to cannot add leading axes
    return x * anp.ones(shape)


def _tile(x, reps):  # autograd's tile goes wrong when reps has fewer entries than x has axes
    reps = (reps,) if anp.ndim(reps) == 0 else tuple(reps)
    return anp.tile(x, (1,) * (anp.ndim(x) - len(reps)) + reps)


def _repeat(a, repeats, axis=None):  # autograd's repeat takes no list of repeats and mishandles axis=-1
    if axis is None:
        a, axis = anp.ravel(a), 0
    source = np.repeat(np.arange(anp.shape(a)[axis]), repeats)
    return anp.moveaxis(anp.moveaxis(a, axis, 0)[source], 0, axis)


def _copysign(x, y):  # autograd has no VJP for copysign; the sign of y is piecewise constant
    while hasattr(y, "_value"):  # unbox y (twice, under a second derivative)
        y = y._value
    return anp.abs(x) * anp.where(np.signbit(y), -1.0, 1.0)


def _solve(a, b):  # autograd's solve neither reads a vector b against a stack nor sums a broadcast a back
    if NUMPY_1 and anp.ndim(b) == anp.ndim(a) - 1:  # NumPy 1 reads b as a stack of vectors
        return anp.matmul(anp.linalg.inv(a), anp.expand_dims(b, -1))[..., 0]
    return anp.matmul(anp.linalg.inv(a), b)


def _matrix_power(a, n):  # autograd has no derivative for matrix_power: repeated products
    base = anp.linalg.inv(a) if n < 0 else a
    result = np.broadcast_to(np.eye(anp.shape(a)[-1]), anp.shape(a))
    for _ in range(abs(n)):
        result = anp.matmul(result, base)
    return result


def _take(a, indices, axis=None, mode="raise"):  # autograd has no VJP for take: index instead
    if axis is None:
        a, axis = anp.ravel(a), 0
    chosen = np.take(np.arange(anp.shape(a)[axis]), indices, mode=mode)
    moved = anp.moveaxis(a, axis, 0)[chosen]
    return anp.moveaxis(moved, tuple(range(np.ndim(chosen))), tuple(range(axis, axis + np.ndim(chosen))))


def _take_along_axis(arr, indices, axis=-1):  # nor for take_along_axis
    if axis is None:
        arr, axis = anp.ravel(arr), 0
    grid = list(np.ix_(*[np.arange(n) for n in np.shape(indices)]))
    grid[axis % anp.ndim(arr)] = indices
    return arr[tuple(grid)]


def _nansum(a, axis=None, dtype=None, out=None, keepdims=False):  # nor for the NaN-skipping reductions
    return anp.sum(anp.where(anp.isnan(a), 0.0, a), axis=axis, keepdims=keepdims)


def _nanmean(a, axis=None, dtype=None, out=None, keepdims=False):
    return _nansum(a, axis, keepdims=keepdims) / anp.sum(~anp.isnan(a), axis=axis, keepdims=keepdims)


def _diagonal(a, offset=0, axis1=0, axis2=1):  # autograd's takes no offset nor axes: index instead
    moved = anp.moveaxis(a, (axis1, axis2), (-2, -1))
    n, m = anp.shape(moved)[-2:]
    rows = np.arange(max(0, -offset), min(n, m - offset))
    return moved[..., rows, rows + offset]


def _rot90(m, k=1, axes=(0, 1)):  # autograd's rot90 fails: NumPy's definition from flips and a swap
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return _flip(_flip(m, axes[0]), axes[1])
    swapped = anp.swapaxes(m, axes[0], axes[1])
    return _flip(swapped, axes[1]) if k == 3 else anp.swapaxes(_flip(m, axes[1]), axes[0], axes[1])


def _rollaxis(a, axis, start=0):  # autograd's takes no negative axis: as the moveaxis it stands for
    n = anp.ndim(a)
    axis, start = axis % n, start + n if start < 0 else start
    return anp.moveaxis(a, axis, start - 1 if axis < start else start)


def _cumprod(a, axis=None, dtype=None, out=None):  # autograd has no VJP for cumprod: products of prefixes
    if axis is None:
        a, axis = anp.ravel(a), 0
    return anp.stack([anp.prod(_take(a, np.arange(k + 1), axis), axis=axis) for k in range(anp.shape(a)[axis])], axis=axis)


def _nanprod(a, axis=None, dtype=None, out=None, keepdims=False):
    return anp.prod(anp.where(anp.isnan(a), 1.0, a), axis=axis, keepdims=keepdims)


def _gradient(f, *varargs, axis=None, edge_order=1):  # autograd has no VJP for gradient: its matrices
    axes = list(range(anp.ndim(f))) if axis is None else [a % anp.ndim(f) for a in np.atleast_1d(axis)]
    spacings = list(varargs) * len(axes) if len(varargs) == 1 else list(varargs) or [1.0] * len(axes)
    parts = []
    for a, spacing in zip(axes, spacings):
        matrix = np.gradient(np.eye(anp.shape(f)[a]), spacing, axis=0, edge_order=edge_order)
        parts.append(anp.moveaxis(anp.tensordot(matrix, anp.moveaxis(f, a, 0), 1), 0, a))
    return parts[0] if len(parts) == 1 else tuple(parts)


def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):  # autograd's cross does not sum broadcast adjoints back
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = anp.moveaxis(a, axisa, -1), anp.moveaxis(b, axisb, -1)
    ones = np.ones(np.broadcast_shapes(anp.shape(a), anp.shape(b)))
    return anp.moveaxis(anp.cross(a * ones, b * ones), -1, axisc)


def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    count = anp.sum(~anp.isnan(a), axis=axis, keepdims=True)
    spread = anp.where(anp.isnan(a), 0.0, a - _nansum(a, axis, keepdims=True) / count)
    return anp.sum(spread**2, axis=axis, keepdims=keepdims) / (anp.sum(~anp.isnan(a), axis=axis, keepdims=keepdims) - ddof)


def _nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return anp.sqrt(_nanvar(a, axis, ddof=ddof, keepdims=keepdims))


def _same(x):  # positive, copy and asarray: the identity, which autograd has no VJP for
    return x


# autograd.numpy, except where autograd cannot differentiate the function: there a
# stand-in built from functions it can differentiate (the inputs hold no NaNs: nanmax is max)
AUTOGRAD_NUMPY = SimpleNamespace(**{
    **{n: getattr(anp, n) for n in dir(anp) if not n.startswith("_")},
    "cbrt": _cbrt, "clip": _clip, "flip": _flip, "vdot": _vdot, "nanmax": anp.max, "nanmin": anp.min,
    "positive": _same, "copy": _same, "asarray": _same, "where": _where, "outer": _outer,
    "concatenate": _concatenate, "broadcast_to": _broadcast_to, "tile": _tile, "repeat": _repeat,
    "linalg": SimpleNamespace(**{**{n: getattr(anp.linalg, n) for n in dir(anp.linalg) if not n.startswith("_")},
                                  "norm": _norm, "solve": _solve, "matrix_power": _matrix_power}), "copysign": _copysign,
    "take": _take, "take_along_axis": _take_along_axis,
    "diagonal": _diagonal, "rot90": _rot90, "rollaxis": _rollaxis, "cumprod": _cumprod, "nanprod": _nanprod,
    "nansum": _nansum, "nanmean": _nanmean, "gradient": _gradient, "cross": _cross,
    "nanvar": _nanvar, "nanstd": _nanstd,
})  # fmt: skip
AUTOGRAD_MATH = SimpleNamespace(
    sin=anp.sin, cos=anp.cos, tan=anp.tan, asin=anp.arcsin, acos=anp.arccos, atan=anp.arctan,
    atan2=anp.arctan2, sinh=anp.sinh, cosh=anp.cosh, tanh=anp.tanh, asinh=anp.arcsinh,
    acosh=anp.arccosh, atanh=anp.arctanh, exp=anp.exp, expm1=anp.expm1, log2=anp.log2,
    log10=anp.log10, log1p=anp.log1p, sqrt=anp.sqrt, pow=anp.power, hypot=anp.hypot,
    fabs=anp.abs, erf=autograd_special.erf, copysign=_copysign, e=math.e, pi=math.pi,
    erfc=autograd_special.erfc, gamma=autograd_special.gamma, lgamma=autograd_special.gammaln, prod=math.prod,
    log=lambda x, base=math.e: anp.log(x) / anp.log(base),
)  # fmt: skip


# SciPy under autograd: autograd.scipy, with stand-ins (from functions autograd differentiates)
# where it has no derivative: in b, in loc and scale of the gamma, beta and chi2 densities, ...
def _logsumexp(a, axis=None, b=None, keepdims=False):  # autograd's does not differentiate b
    return anp.log(anp.sum(anp.exp(a) * (1.0 if b is None else b), axis=axis, keepdims=keepdims))


def _log_softmax(x, axis=None):
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _gamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (a - 1.0) * anp.log(z) - z - autograd_special.gammaln(a) - anp.log(scale)


def _beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (a - 1.0) * anp.log(z) + (b - 1.0) * anp.log1p(-z) - autograd_special.betaln(a, b) - anp.log(scale)


def _chi2_logpdf(x, df, loc=0.0, scale=1.0):  # a gamma density with shape df / 2 and scale 2
    return _gamma_logpdf(x, df / 2.0, loc, 2.0 * scale)


def _dirichlet_logpdf(x, alpha):  # x of shape (K,) or (K, n)
    normaliser = autograd_special.gammaln(anp.sum(alpha)) - anp.sum(autograd_special.gammaln(alpha))
    return normaliser + anp.dot(alpha - 1.0, anp.log(x))


def _density(log_density):
    return lambda *args: anp.exp(log_density(*args))


def _standardised(cdf):
    """A distribution function of x alone (autograd's), with loc and scale as arithmetic on x."""
    return lambda x, *shape_loc_scale: cdf((x - shape_loc_scale[-2]) / shape_loc_scale[-1], *shape_loc_scale[:-2])


AUTOGRAD_SCIPY = SimpleNamespace(
    special=SimpleNamespace(**{
        **{n: getattr(autograd_special, n) for n in dir(autograd_special) if not n.startswith("_")},
        "logsumexp": _logsumexp, "softmax": lambda x, axis=None: anp.exp(_log_softmax(x, axis)), "log_softmax": _log_softmax,
        "xlogy": lambda x, y: x * anp.log(y), "xlog1py": lambda x, y: x * anp.log1p(y), "loggamma": autograd_special.gammaln,
        "i0e": lambda x: autograd_special.ive(0, x), "i1e": lambda x: autograd_special.ive(1, x),
        "jv": autograd_special.jn, "yv": autograd_special.yn,  # the cases take integer orders
    }),
    stats=SimpleNamespace(
        norm=autograd_stats.norm, poisson=autograd_stats.poisson,
        t=SimpleNamespace(logpdf=autograd_stats.t.logpdf, pdf=autograd_stats.t.pdf,
                          cdf=_standardised(autograd_stats.t.cdf), logcdf=_standardised(autograd_stats.t.logcdf)),
        gamma=SimpleNamespace(logpdf=_gamma_logpdf, pdf=_density(_gamma_logpdf), cdf=_standardised(autograd_stats.gamma.cdf)),
        beta=SimpleNamespace(logpdf=_beta_logpdf, pdf=_density(_beta_logpdf), cdf=_standardised(autograd_stats.beta.cdf)),
        chi2=SimpleNamespace(logpdf=_chi2_logpdf, pdf=_density(_chi2_logpdf), cdf=_standardised(autograd_stats.chi2.cdf)),
        dirichlet=SimpleNamespace(logpdf=_dirichlet_logpdf, pdf=_density(_dirichlet_logpdf)),
        multivariate_normal=autograd_stats.multivariate_normal,
    ),
    linalg=SimpleNamespace(
        inv=anp.linalg.inv,
        solve_triangular=autograd_scipy_linalg.solve_triangular,
        solve_sylvester=autograd_scipy_linalg.solve_sylvester,
        sqrtm=autograd_scipy_linalg.sqrtm,
    ),
)  # fmt: skip


def _shifted(x, axes, direction):  # fftshift (direction 1) and ifftshift (-1) as rolls by half the length
    axes = tuple(range(anp.ndim(x))) if axes is None else np.atleast_1d(axes)
    for a in axes:
        x = anp.roll(x, direction * (anp.shape(x)[a] // 2), axis=int(a))
    return x


def autograd_twin(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with the same code, reading ``np``, ``math`` and ``scipy`` from autograd (and ``float``
    as the identity: autograd's boxes have no ``__float__``)."""
    names = {**fn.__globals__, "np": AUTOGRAD_NUMPY, "math": AUTOGRAD_MATH, "scipy": AUTOGRAD_SCIPY, "float": lambda x: x}
    return types.FunctionType(fn.__code__, names, fn.__name__, fn.__defaults__, fn.__closure__)
