"""What each rule parameter is (differentiated, discrete, or without a derivative), and what
srcdiff refuses instead of returning a wrong gradient: specifications, source in, error out."""

from __future__ import annotations

import math

import numpy as np
import pytest

import srcdiff
from srcdiff import rules
from srcdiff.errors import NoDerivativeRule, UnsupportedSyntax

# --------------------------------------------------------------- parameter roles

# Shipped rule parameters the result varies with, but that have no derivative yet. The
# analysis refuses a varied value flowing into one of them; anything new here needs a reason.
ALLOWED_MISSING: dict[tuple[str, str], str] = {
    ("enumerate", "iterable"): "pairs elements with indices; for-loops over it are rewritten before rules apply",
    ("zip", "iterables"): "pairs elements; for-loops over it are rewritten before rules apply",
    ("np.gradient", "varargs"): "no adjoint yet for the spacings or coordinates; constant ones are fine",
    # the derivative of a Bessel function in its order has no closed form in the functions SciPy offers
    **{
        (f"scipy.special.{name}", "v"): "smooth in the order v, with no closed-form derivative"
        for name in ("iv", "ive", "jv", "yv")
    },
    # incomplete gamma and beta functions, and distribution functions, in their shape parameters:
    # no closed form in the functions SciPy offers
    **{(f"scipy.special.{name}", p): "smooth in a shape parameter, with no closed-form derivative"
       for name, params in (("gammainc", "a"), ("gammaincc", "a"), ("betainc", "ab")) for p in params},
    **{(f"scipy.stats.{name}.cdf", p): "smooth in a shape parameter, with no closed-form derivative"
       for name, params in (("t", ("df",)), ("gamma", ("a",)), ("beta", ("a", "b")), ("chi2", ("df",))) for p in params},
    ("scipy.stats.t.logcdf", "df"): "smooth in a shape parameter, with no closed-form derivative",
    # np.interp's knots: no adjoint yet (the result moves with them); constant knots are fine
    **{(name, "xp"): "no adjoint yet for the knots; constant ones are fine"
       for name in ("np.interp", "interp_slope", "interp_slope_adjoint", "interp_fp_adjoint")},
}  # fmt: skip


def test_parameter_roles() -> None:
    assert rules.parameter_role(np.sum, "a") == rules.ADJOINT
    assert rules.parameter_role(np.sum, "axis") == rules.DISCRETE
    assert rules.parameter_role(np.linspace, "start") == rules.ADJOINT
    assert rules.parameter_role(np.linspace, "num") == rules.DISCRETE
    assert rules.parameter_role(np.full_like, "a") == rules.DISCRETE  # only its shape is read
    assert rules.parameter_role(np.full_like, "fill_value") == rules.ADJOINT
    assert rules.parameter_role(np.heaviside, "x1") == rules.DISCRETE
    assert rules.parameter_role(math.copysign, "y") == rules.DISCRETE
    assert rules.parameter_role(np.einsum, "operands") == rules.ADJOINT  # the vararg: one parameter
    assert rules.parameter_role(sorted, "iterable") == rules.ADJOINT
    assert rules.parameter_role(sorted, "key") == rules.DISCRETE
    assert rules.parameter_role(zip, "iterables") == rules.MISSING
    assert rules.parameter_role(np.floor, "x") == rules.DISCRETE  # nondifferentiable: every parameter
    assert rules.parameter_role(np.linalg.eigvals, "a") is None  # not in the table


def test_every_rule_parameter_is_differentiated_or_discrete() -> None:
    """A parameter without an adjoint must be declared discrete, or be a known gap."""
    missing = set()
    for rule in rules.RULES.values():
        for p in [*rule.params, *([rule.vararg] if rule.vararg else [])]:
            if rule.role(p) == rules.MISSING:
                missing.add((rule.spelling, p))
    assert missing == set(ALLOWED_MISSING)


def scaled_sum(a, axis=None):
    return np.sum(a, axis=axis) * 2.0


def test_discrete_names_a_parameter_without_adjoint() -> None:
    names = {"scaled_sum": scaled_sum}
    with pytest.raises(NameError, match="discrete 'n' is not a parameter without an adjoint"):
        rules.vjp("scaled_sum(a, axis=None)", a="2.0 * unreduce(g, a, axis)", discrete=("n",), names=names)
    with pytest.raises(NameError, match="discrete 'a' is not a parameter without an adjoint"):
        rules.vjp("scaled_sum(a, axis=None)", a="2.0 * unreduce(g, a, axis)", discrete=("a",), names=names)
    assert rules.lookup(scaled_sum) is None  # a refused entry is not registered


# --------------------------------------------------------------------- refusals


def sorted_by_key(x, y):
    return sorted([x, y], key=abs)[0]


def test_sorted_with_a_key_orders_by_it() -> None:  # (the key orders; the items keep their values)
    assert srcdiff.grad(sorted_by_key)(0.5, -0.25) == 0.0
    assert srcdiff.grad(sorted_by_key, wrt=1)(0.5, -0.25) == 1.0


def linspace_with_step(a):
    samples, step = np.linspace(a, 2.0, 5, retstep=True)
    return np.sum(samples) + step


def test_linspace_retstep_is_refused() -> None:
    with pytest.raises(UnsupportedSyntax, match="does not handle the argument retstep="):
        srcdiff.grad(linspace_with_step)(0.5)


def einsum_product(t, a, b):
    return np.sum(np.einsum("ij,jk->ik", t * a, t * b) ** 2)


def prod_of_scaled(t, a):
    return np.prod(t * a)


def nuclear_norm(t, a):
    return np.linalg.norm(t * a, "nuc")


@pytest.mark.parametrize(
    ("f", "helper"),
    [(einsum_product, "einsum_adjoints"), (prod_of_scaled, "prod_curvature"), (nuclear_norm, "norm_curvature")],
)
def test_third_derivative_through_second_order_helpers_is_refused(f, helper) -> None:
    args = (0.7, np.arange(1.0, 7.0).reshape(2, 3), np.arange(1.0, 7.0).reshape(3, 2))[: f.__code__.co_argcount]
    srcdiff.grad(srcdiff.grad(f))(*args)
    with pytest.raises(NoDerivativeRule, match=f"no derivative rule for srcdiff.runtime.{helper}"):
        srcdiff.grad(srcdiff.grad(srcdiff.grad(f)))(*args)


# ------------------------------------------------------- the reports that led here


def einsum_sublists(x):
    return np.sum(np.einsum(x, [0, 1], [1, 0]) * np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))


def norm_one(x):
    return np.linalg.norm(x, 1)


def hstack_whole(x):
    return np.sum(np.hstack(x) ** 2)


def std_of_one(x):
    return np.std(x)


def linspace_ends(a, b):
    return np.sum(np.linspace(a, b, 5) ** 2)


def test_reported_cases() -> None:
    x = np.array([[1.0, -2.0, 3.0], [0.5, 1.5, -1.0]])
    np.testing.assert_allclose(srcdiff.grad(einsum_sublists)(x), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])  # was zero
    np.testing.assert_allclose(srcdiff.grad(norm_one)(np.array([1.0, -2.0, 0.0])), [1.0, -1.0, 0.0])
    np.testing.assert_allclose(srcdiff.grad(hstack_whole)(np.array([1.0, 2.0])), [2.0, 4.0])  # was IndexError
    np.testing.assert_allclose(srcdiff.grad(std_of_one)(np.array([1.5])), [0.0])  # was nan
    t = np.linspace(0.0, 1.0, 5)
    samples = 0.5 + (2.0 - 0.5) * t
    da, db = srcdiff.grad(linspace_ends, wrt=(0, 1))(0.5, 2.0)  # was zero
    assert da == pytest.approx(np.sum(2 * samples * (1 - t))) and db == pytest.approx(np.sum(2 * samples * t))
