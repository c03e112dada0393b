"""custom_vjp and custom_jvp: functions that bring their own derivative rules (JAX's shape)."""

import math

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcdiff
from srcdiff import cache
from srcdiff.errors import NoDerivativeRule

RNG = np.random.default_rng(8)


def central(f, x, v, eps=1e-6):
    """The derivative of ``f`` at ``x`` along ``v``, by central differences."""
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


# --------------------------------------------------------------- a stable log-sum-exp


@srcdiff.custom_vjp
def logsumexp(x):
    return np.log(np.sum(np.exp(x)))  # overflows for large x: the rules below never run it


def logsumexp_fwd(x):
    m = np.max(x)
    e = np.exp(x - m)
    s = np.sum(e)
    return m + np.log(s), (e, s)


def logsumexp_bwd(res, g):
    e, s = res
    return (g * e / s,)


logsumexp.defvjp(logsumexp_fwd, logsumexp_bwd)


def softmax_loss(w, x):
    return logsumexp(x @ w) - np.sum(x @ w) * 0.1


def naive_loss(w, x):
    return anp.log(anp.sum(anp.exp(x @ w))) - anp.sum(x @ w) * 0.1


def test_a_custom_vjp_matches_autograd_where_both_are_finite():
    w, x = RNG.normal(size=3), RNG.normal(size=(5, 3))
    np.testing.assert_allclose(srcdiff.grad(softmax_loss)(w, x), autograd.grad(naive_loss)(w, x), rtol=1e-10)
    assert srcdiff.check_grad(softmax_loss, w, x)


def test_the_stable_gradient_is_finite_where_the_naive_one_overflows():
    w, x = np.array([400.0, 300.0, 500.0]), np.array([[2.0, 1.0, 0.5], [1.0, 2.0, 1.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(autograd.grad(naive_loss)(w, x)))
    dw = srcdiff.grad(softmax_loss)(w, x)
    z = x @ w
    p = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
    np.testing.assert_allclose(dw, x.T @ p - 0.1 * x.sum(axis=0), rtol=1e-12)


def test_generated_code_calls_fwd_and_bwd_by_name_and_never_reads_the_function():
    text = srcdiff.source(srcdiff.grad(softmax_loss), np.ones(3), np.ones((2, 3)))
    assert f"from {__name__} import logsumexp_bwd, logsumexp_fwd" in text
    assert ", _res1 = logsumexp_fwd(x @ w)" in text  # the residuals, kept like any saved value
    assert "= cotangents(logsumexp_bwd(_res1, dt2), 1)" in text  # checked: one cotangent per argument
    assert "np.exp" not in text  # logsumexp's own body is not differentiated


def test_value_and_grad_returns_fwds_value():
    w, x = RNG.normal(size=3), RNG.normal(size=(4, 3))
    value, dw = srcdiff.value_and_grad(softmax_loss)(w, x)
    assert value == pytest.approx(naive_loss(w, x))
    np.testing.assert_allclose(dw, autograd.grad(naive_loss)(w, x), rtol=1e-10)


def test_grad_of_the_custom_function_itself_uses_its_rule():
    x = np.array([1000.0, 1001.0, 999.0])
    value, dx = srcdiff.value_and_grad(logsumexp)(x)
    assert value == pytest.approx(1001.0 + math.log(np.sum(np.exp(x - 1001.0))))
    np.testing.assert_allclose(dx, np.exp(x - value), rtol=1e-12)


# ------------------------------------------------ inside loops and branches: residuals on the tape


def looped(x, n):
    total = 0.0
    for i in range(n):
        if i % 2 == 0:
            total = total + logsumexp(x * (i + 1.0))
        else:
            total = total - 0.5 * logsumexp(-x)
        x = x * 0.9
    return total


def looped_reference(x, n):
    total = 0.0
    for i in range(n):
        if i % 2 == 0:
            total = total + anp.log(anp.sum(anp.exp(x * (i + 1.0))))
        else:
            total = total - 0.5 * anp.log(anp.sum(anp.exp(-x)))
        x = x * 0.9
    return total


def test_a_custom_vjp_in_a_loop_and_a_branch_keeps_each_calls_residuals():
    x = RNG.normal(size=4)
    np.testing.assert_allclose(srcdiff.grad(looped)(x, 5), autograd.grad(looped_reference)(x, 5), rtol=1e-10)
    text = srcdiff.source(srcdiff.grad(looped), x, 5)
    assert "_stack.append(_res" in text  # one set of residuals per iteration that made one


# ------------------------------------------------------------------ gradient clipping


@srcdiff.custom_vjp
def clip_gradient(x, bound):
    return x


def clip_gradient_fwd(x, bound):
    return x, bound


def clip_gradient_bwd(bound, g):
    return (np.clip(g, -bound, bound), None)  # None: the bound has no cotangent


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)


def clipped(x):
    y = clip_gradient(x, 1.0)
    return np.sum(y * y * 3.0)


def scaled_by_bound(x, bound):
    return np.sum(clip_gradient(x, bound) * bound)


def test_a_none_cotangent_is_a_zero():
    x = np.array([0.5, 2.0])
    dx, dbound = srcdiff.grad(scaled_by_bound, wrt=(0, 1))(x, 0.5)
    np.testing.assert_allclose(dx, [0.5, 0.5])  # 0.5 per element, clipped to the bound 0.5
    assert dbound == pytest.approx(np.sum(x))  # only the direct use: bwd said None for clip_gradient's


@srcdiff.custom_vjp
def miscounted(x, y):
    return x * y


miscounted.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: g * res[1])


def test_a_bwd_that_does_not_return_one_cotangent_per_argument_is_reported():
    with pytest.raises(TypeError, match="bwd must return a tuple of 2 cotangents, one per argument"):
        srcdiff.grad(uses_miscounted)(1.5, 2.0)


def uses_miscounted(x, y):
    return miscounted(x, y) * 2.0


def test_bwd_can_change_the_gradient_clip_it_here():
    x = np.array([0.1, -0.05, 2.0, -3.0])
    assert clipped(x) == pytest.approx(np.sum(3.0 * x * x))  # the value is untouched
    np.testing.assert_allclose(srcdiff.grad(clipped)(x), np.clip(6.0 * x, -1.0, 1.0))


# ------------------------------------------------- making code srcdiff cannot read differentiable

_namespace: dict = {"np": np}
exec("def softplus_kernel(x):\n    return np.logaddexp(0.0, x)\n", _namespace)  # noqa: S102  (no source file)
softplus_kernel = _namespace["softplus_kernel"]  # stands for a compiled kernel: srcdiff cannot read it


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@srcdiff.custom_vjp
def softplus(x):
    return softplus_kernel(x)


def softplus_fwd(x):
    return softplus_kernel(x), x


def softplus_bwd(x, g):
    return (g * sigmoid(x),)


softplus.defvjp(softplus_fwd, softplus_bwd)


def uses_kernel(x):
    return np.sum(softplus_kernel(x) * x)


def uses_softplus(x):
    return np.sum(softplus(x) * x)


def test_custom_vjp_makes_an_unreadable_function_differentiable():
    x = RNG.normal(size=5)
    with pytest.raises(srcdiff.SrcdiffError, match="softplus_kernel"):
        srcdiff.grad(uses_kernel)(x)
    v = RNG.normal(size=5)
    assert float(srcdiff.grad(uses_softplus)(x) @ v) == pytest.approx(central(uses_softplus, x, v), rel=1e-7)


@srcdiff.custom_vjp
def halve(x):
    return x * 0.5


halve.defvjp(lambda x: (x * 0.5, None), lambda res, g: (g * 0.5,))


def uses_halve(x):
    return np.sum(halve(x) * x)


def test_lambdas_are_called_through_their_cells():
    x = RNG.normal(size=3)
    np.testing.assert_allclose(srcdiff.grad(uses_halve)(x), x)
    text = srcdiff.source(srcdiff.grad(uses_halve), x)
    assert "= fwd(x)" in text and "(bwd(_res1, " in text  # a lambda is named for its role
    assert "import <lambda>" not in text


# ------------------------------------------------------------------ second derivatives


@srcdiff.custom_vjp
def cube(x):
    return x**3


def cube_fwd(x):
    return x**3, x


def cube_bwd(x, g):
    return (3.0 * x * x * g,)


cube.defvjp(cube_fwd, cube_bwd)


def uses_cube(x, y):
    return cube(x * y) + x


def test_grad_of_grad_differentiates_fwd_and_bwd_as_python():
    # d/dx (x*y)^3 + x = 3 x^2 y^3 + 1; again: 6 x y^3
    assert srcdiff.grad(srcdiff.grad(uses_cube))(0.7, 1.3) == pytest.approx(6 * 0.7 * 1.3**3)
    hvp = srcdiff.jvp(srcdiff.grad(uses_cube), (0.7, 1.3), (1.0, 0.0))[1]
    assert hvp == pytest.approx(6 * 0.7 * 1.3**3)


def test_hessian_vector_products_through_fwd_and_bwd_match_autograd():
    w, x, v = RNG.normal(size=3), RNG.normal(size=(4, 3)), RNG.normal(size=3)
    hvp = srcdiff.jvp(srcdiff.grad(softmax_loss), (w, x), (v, None))[1]
    np.testing.assert_allclose(hvp, autograd.hessian(naive_loss)(w, x) @ v, rtol=1e-9)
    hvp = srcdiff.jvp(srcdiff.grad(looped), (w, 3), (v, None))[1]  # residuals of a loop, on the tape
    np.testing.assert_allclose(hvp, autograd.hessian(looped_reference)(w, 3) @ v, rtol=1e-9)


def test_grad_of_grad_through_an_unreadable_fwd_is_refused_at_that_function():
    with pytest.raises(srcdiff.SrcdiffError, match="softplus_kernel"):
        srcdiff.grad(srcdiff.grad(twice_softplus))(0.3)


def twice_softplus(x):
    return softplus(x) * 2.0


# ---------------------------------------------------------------------- forward mode


@srcdiff.custom_jvp
def scaled_softplus(x, beta=1.0):
    return softplus_kernel(beta * x) / beta


@scaled_softplus.defjvp
def scaled_softplus_jvp(primals, tangents):
    x, beta = primals
    tx, tbeta = tangents
    out = scaled_softplus(x, beta)
    s = sigmoid(beta * x)
    return out, s * tx + (x * s - out) / beta * tbeta


def uses_scaled(x, beta):
    return np.sum(scaled_softplus(x, beta) * x)


def test_custom_jvp_is_called_in_forward_mode():
    x, v = RNG.normal(size=4), RNG.normal(size=4)
    value, tangent = srcdiff.jvp(uses_scaled, (x, 2.0), (v, 0.5))
    assert value == pytest.approx(uses_scaled(x, 2.0))
    numeric = central(lambda x: uses_scaled(x, 2.0), x, v) + 0.5 * central(lambda b: uses_scaled(x, b), 2.0, 1.0)
    assert tangent == pytest.approx(numeric, rel=1e-7)
    text = srcdiff.source(srcdiff.jvp(uses_scaled), x, 2.0)
    assert "_t1, tt1 = scaled_softplus_jvp((x, beta), (tx, tbeta))" in text


def test_custom_jvp_gets_zero_tangents_for_held_arguments_and_defaults():
    def default_beta(x):
        return np.sum(scaled_softplus(x) * x)

    x, v = RNG.normal(size=3), RNG.normal(size=3)
    assert srcdiff.jvp(default_beta, (x,), (v,))[1] == pytest.approx(central(default_beta, x, v), rel=1e-7)
    assert "scaled_softplus_jvp((x, 1.0), (tx, 0.0))" in srcdiff.source(srcdiff.jvp(default_beta), x)


def test_a_function_may_have_both_rules():
    both = srcdiff.custom_vjp(logsumexp.function)
    both.defvjp(logsumexp_fwd, logsumexp_bwd)

    @both.defjvp
    def both_jvp(primals, tangents):
        (x,), (tx,) = primals, tangents
        out, (e, s) = logsumexp_fwd(x)
        return out, np.sum(e * tx) / s

    x, v = RNG.normal(size=3), RNG.normal(size=3)
    assert srcdiff.jvp(both, (x,), (v,))[1] == pytest.approx(float(srcdiff.grad(both)(x) @ v))


# ------------------------------------------------------------------------- refusals


def vjp_in_forward_mode(x):
    return logsumexp(x) * 2.0


def jvp_in_reverse_mode(x):
    return uses_scaled(x, 1.0)


@srcdiff.custom_vjp
def undefined(x):
    return x * 2.0


def uses_undefined(x):
    return undefined(x)


def test_a_missing_rule_is_refused_at_the_users_line_naming_the_definition_to_add():
    x = np.ones(2)
    with pytest.raises(NoDerivativeRule) as forward:
        srcdiff.jvp(vjp_in_forward_mode, (x,), (x,))
    message = str(forward.value)
    assert f"test_custom.py:{vjp_in_forward_mode.__code__.co_firstlineno + 1}:" in message
    assert "no forward-mode (tangent) rule for logsumexp" in message and "@logsumexp.defjvp" in message
    with pytest.raises(NoDerivativeRule, match=r"scaled_softplus.defvjp\(fwd, bwd\) \(srcdiff does not derive"):
        srcdiff.grad(jvp_in_reverse_mode)(x)
    with pytest.raises(NoDerivativeRule, match=r"undefined.defvjp\(fwd, bwd\)\.$"):
        srcdiff.grad(uses_undefined)(x)
    assert uses_undefined(x) == pytest.approx(2 * x)  # called directly, it just runs


def test_unsupported_signatures_are_refused_when_decorating():
    with pytest.raises(TypeError, match="plain positional"):
        srcdiff.custom_vjp(lambda *xs: xs)
    with pytest.raises(TypeError, match="must be a number"):
        srcdiff.custom_vjp(lambda x, shape=(2, 3): x)


# ---------------------------------------------------------------------- redefinition


@srcdiff.custom_vjp
def scale(x):
    return 2.0 * x


def uses_scale(x):
    return scale(x) * x


def test_defining_the_rules_again_rebuilds_gradients_that_use_them():
    scale.defvjp(lambda x: (2.0 * x, None), lambda res, g: (2.0 * g,))
    g = srcdiff.grad(uses_scale)
    assert g(3.0) == pytest.approx(12.0)
    before = cache.transformations
    assert g(3.0) == pytest.approx(12.0) and cache.transformations == before  # built once
    scale.defvjp(lambda x: (2.0 * x, None), lambda res, g: (0.0 * g,))  # a stop-gradient on scale's input
    assert g(3.0) == pytest.approx(6.0)
    assert cache.transformations > before


def writes_into_the_result(x):
    y = clip_gradient(x, 1.0)
    y[0] = 5.0
    return np.sum(y * x)


def test_a_custom_functions_result_may_share_its_arguments_data():
    with pytest.raises(srcdiff.SrcdiffError, match="'y' may share its data with 'x'"):
        srcdiff.grad(writes_into_the_result)(np.array([1.0, 2.0]))
