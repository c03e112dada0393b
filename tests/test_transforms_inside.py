"""grad and value_and_grad called inside a function being differentiated (MAML, gradient penalties):
the gradient's generated code is differentiated like any helper. Checked against autograd doing the
same, on several shapes (broadcasting included), through a global and written where it is called."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcdiff
from srcdiff import cache

RNG = np.random.default_rng(7)


def loss(w, x):
    return np.sum((w * x) ** 2) + np.sum(np.sin(w))


def aloss(w, x):
    return anp.sum((w * x) ** 2) + anp.sum(anp.sin(w))


DLOSS = srcdiff.grad(loss)


def maml_through_a_global(w, x, x2):
    w2 = w - 0.1 * DLOSS(w, x)
    return loss(w2, x2)


def maml_written_inline(w, x, x2):
    w2 = w - 0.1 * srcdiff.grad(loss)(w, x)
    return loss(w2, x2)


def amaml(w, x, x2):
    w2 = w - 0.1 * autograd.grad(aloss)(w, x)
    return aloss(w2, x2)


SHAPES = [((3,), (3,)), ((3,), (2, 3)), ((2, 3), (2, 3)), ((), (4,))]  # (w, x): x broadcasts over w in the second


@pytest.mark.parametrize("maml", [maml_through_a_global, maml_written_inline])
@pytest.mark.parametrize(("w_shape", "x_shape"), SHAPES)
def test_maml_one_inner_step(maml, w_shape, x_shape):
    w, x, x2 = RNG.normal(size=w_shape), RNG.normal(size=x_shape), RNG.normal(size=x_shape)
    if w_shape == ():
        w = float(w)
    np.testing.assert_allclose(srcdiff.grad(maml)(w, x, x2), autograd.grad(amaml)(w, x, x2), rtol=1e-10)


def critic(x):
    return np.sum(np.tanh(x) * x)


def acritic(x):
    return anp.sum(anp.tanh(x) * x)


def penalty(x):
    return np.sum(srcdiff.grad(critic)(x) ** 2)


def apenalty(x):
    return anp.sum(autograd.grad(acritic)(x) ** 2)


@pytest.mark.parametrize("shape", [(3,), (2, 3), ()])
def test_a_gradient_penalty_and_its_hessian_vector_product(shape):
    x, v = RNG.normal(size=shape), RNG.normal(size=shape)
    np.testing.assert_allclose(srcdiff.grad(penalty)(x), autograd.grad(apenalty)(x), rtol=1e-10)
    expected = autograd.grad(lambda y: anp.sum(autograd.grad(apenalty)(y) * v))(x)
    np.testing.assert_allclose(srcdiff.hvp(penalty)(x, v), expected, rtol=1e-9)


def cubic(x):
    return np.sin(x) * x**3


def second_derivative_scaled(x):
    return srcdiff.grad(srcdiff.grad(cubic))(x) * x


def asecond_derivative_scaled(x):
    return autograd.grad(autograd.grad(lambda y: anp.sin(y) * y**3))(x) * x


def test_a_second_derivative_called_inside():
    assert srcdiff.grad(second_derivative_scaled)(0.7) == pytest.approx(autograd.grad(asecond_derivative_scaled)(0.7), rel=1e-12)


def value_plus_slope(w, x):
    value, slope = srcdiff.value_and_grad(critic)(w * x)
    return value + np.sum(slope * w)


def avalue_plus_slope(w, x):
    return acritic(w * x) + anp.sum(autograd.grad(acritic)(w * x) * w)


def linear(w, b, x):
    return np.sum((x @ w + b) ** 2)


def alinear(w, b, x):
    return anp.sum((anp.dot(x, w) + b) ** 2)


def one_step(w, b, x):
    dw, db = srcdiff.grad(linear, wrt=(0, 1))(w, b, x)
    return linear(w - 0.1 * dw, b - 0.1 * db, x)


def aone_step(w, b, x):
    dw, db = autograd.grad(alinear, (0, 1))(w, b, x)
    return alinear(w - 0.1 * dw, b - 0.1 * db, x)


def test_value_and_grad_and_two_gradients_inside():
    w, x = RNG.normal(size=3), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(srcdiff.grad(value_plus_slope)(w, x), autograd.grad(avalue_plus_slope)(w, x), rtol=1e-10)
    got = srcdiff.grad(one_step, wrt=(0, 1))(w, 0.3, x)
    expected = autograd.grad(aone_step, (0, 1))(w, 0.3, x)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-10)
    assert got[1] == pytest.approx(expected[1], rel=1e-10)


def test_built_once_and_again_when_what_it_calls_changes():
    w, x, x2 = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    for maml in (maml_through_a_global, maml_written_inline):
        g = srcdiff.grad(maml)
        first = g(w, x, x2)
        before = cache.transformations
        np.testing.assert_array_equal(g(w, x, x2), first)
        assert cache.transformations == before  # called again: nothing built

    def replaced(w, x):
        return np.sum(w * x)

    original = loss.__code__
    loss.__code__ = replaced.__code__  # loss redefined in place, as autoreload does
    try:
        for maml in (maml_through_a_global, maml_written_inline):
            # w2 = w - 0.1 * x (the gradient of sum(w * x)), so the gradient of sum(w2 * x2) is x2
            np.testing.assert_allclose(srcdiff.grad(maml)(w, x, x2), x2, rtol=1e-12)
    finally:
        loss.__code__ = original


def test_the_global_bound_to_another_gradient_is_seen():
    global DLOSS
    w, x, x2 = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    g = srcdiff.grad(maml_through_a_global)
    g(w, x, x2)
    kept = DLOSS
    DLOSS = srcdiff.grad(other_loss)
    try:
        np.testing.assert_allclose(g(w, x, x2), autograd.grad(other_step)(w, x, x2), rtol=1e-10)
    finally:
        DLOSS = kept


def other_loss(w, x):
    return np.sum(np.cos(w) * x)


def other_step(w, x, x2):
    return aloss(w - 0.1 * autograd.grad(lambda v, y: anp.sum(anp.cos(v) * y))(w, x), x2)


CRITIC_GRADIENT = srcdiff.grad(critic)


def penalty_through_a_global(x):
    return np.sum(CRITIC_GRADIENT(x) ** 2)


@pytest.mark.parametrize("f", [penalty, penalty_through_a_global])
def test_code_calling_only_the_gradient_is_rebuilt_when_its_function_is_redefined(f):
    x = RNG.normal(size=3)
    g = srcdiff.grad(f)  # calls the gradient of critic, never critic itself
    g(x)

    def cube(x):
        return np.sum(x**3)

    original = critic.__code__
    critic.__code__ = cube.__code__
    try:
        np.testing.assert_allclose(g(x), 36 * x**3, rtol=1e-12)  # d/dx sum((3 x**2) ** 2)
    finally:
        critic.__code__ = original


def steps_in_a_loop(w, x):
    for _ in range(3):
        w = w - 0.1 * DLOSS(w, x)
    return loss(w, x)


def asteps_in_a_loop(w, x):
    for _ in range(3):
        w = w - 0.1 * autograd.grad(aloss)(w, x)
    return aloss(w, x)


def by_keyword(w, x):
    return np.sum(DLOSS(w, x=x) * w)


def aby_keyword(w, x):
    return anp.sum(autograd.grad(aloss)(w, x) * w)


def adapted(w, x):
    return w - 0.1 * srcdiff.grad(loss)(w, x)


def through_a_helper(w, x):
    return loss(adapted(w, x), x)


def athrough_a_helper(w, x):
    return aloss(w - 0.1 * autograd.grad(aloss)(w, x), x)


def second_argument(w, x):
    return np.sum(srcdiff.grad(loss, wrt=1)(w, x) * x)


def asecond_argument(w, x):
    return anp.sum(autograd.grad(aloss, 1)(w, x) * x)


@pytest.mark.parametrize(
    ("f", "twin"),
    [(steps_in_a_loop, asteps_in_a_loop), (by_keyword, aby_keyword), (through_a_helper, athrough_a_helper),
     (second_argument, asecond_argument)],
    ids=lambda f: getattr(f, "__name__", ""),
)  # fmt: skip
def test_in_a_loop_by_keyword_in_a_helper_and_for_another_argument_in_both_modes(f, twin):
    w, x, t = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    expected = autograd.grad(twin)(w, x)
    np.testing.assert_allclose(srcdiff.grad(f)(w, x), expected, rtol=1e-10)
    value, along = srcdiff.jvp(f, (w, x), (t, np.zeros(3)))  # forward mode through the gradient's code
    assert value == pytest.approx(twin(w, x), rel=1e-12)
    assert along == pytest.approx(float(np.dot(expected, t)), rel=1e-9, abs=1e-12)
