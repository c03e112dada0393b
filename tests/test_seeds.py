"""The classic results our users know from PyTorch tutorials, as tests."""

import numpy as np
import pytest

import srcdiff


def test_mean_of_squares_at_ones():
    def f(x):
        y = x + 2
        z = y * y * 3
        return z.mean()

    g = srcdiff.grad(f)(np.ones((2, 2)))
    np.testing.assert_allclose(g, np.full((2, 2), 4.5))


def test_quadratic_coefficients():
    def y(a, b, c, x):
        return a * x**2 + b * x + c

    da, db, dc = srcdiff.grad(y, wrt=(0, 1, 2))(1.0, 2.0, 3.0, 4.0)
    assert (da, db, dc) == (16.0, 4.0, 1.0)


def test_product_of_shifts():
    assert srcdiff.grad(lambda_free_product)(2.0) == 7.0


def lambda_free_product(x):
    return (x + 1) * (x + 2)


def xxy(x, y):
    return x * x * y


def test_xxy_partials_and_second_derivative():
    dx, dy = srcdiff.grad(xxy, wrt=(0, 1))(2.0, 3.0)
    assert (dx, dy) == (12.0, 4.0)
    assert srcdiff.grad(srcdiff.grad(xxy))(2.0, 3.0) == 6.0  # d2/dx2 = 2y


def test_sum_of_squares():
    def f(x):
        return np.sum(x * x)

    np.testing.assert_allclose(srcdiff.grad(f)(np.array([1.0, 2.0])), [2.0, 4.0])


@pytest.mark.parametrize("x", [0.3, 1.7, -2.0])
def test_float_in_float_out(x):
    g = srcdiff.grad(lambda_free_product)(x)
    assert isinstance(g, float)
    assert g == pytest.approx(2 * x + 3)


def mlp_loss(w1, b1, w2, b2, x, y):
    h = np.maximum(x @ w1 + b1, 0.0)
    pred = h @ w2 + b2
    return np.mean((pred - y) ** 2)


def mlp_backward_by_hand(w1, b1, w2, b2, x, y):
    z = x @ w1 + b1
    h = np.maximum(z, 0.0)
    pred = h @ w2 + b2
    dpred = 2.0 * (pred - y) / pred.size
    dz = (dpred @ w2.T) * (z > 0)
    return x.T @ dz, dz.sum(axis=0), h.T @ dpred, dpred.sum(axis=0)


@pytest.mark.parametrize("batch, hidden", [(16, 8), (1, 3), (64, 32)])
def test_mlp_generated_gradient_equals_hand_written_backward(batch, hidden):
    rng = np.random.default_rng(batch)
    x, y = rng.normal(size=(batch, 5)), rng.normal(size=(batch, 2))
    params = [rng.normal(size=(5, hidden)), rng.normal(size=hidden), rng.normal(size=(hidden, 2)), rng.normal(size=2)]
    generated = srcdiff.grad(mlp_loss, wrt=(0, 1, 2, 3))(*params, x, y)
    for got, expected, p in zip(generated, mlp_backward_by_hand(*params, x, y), params, strict=True):
        assert got.shape == p.shape
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_check_grad_accepts_a_correct_gradient():
    params = [np.full((3, 2), 0.3), np.zeros(2), np.ones((2, 1)), np.zeros(1)]
    assert srcdiff.check_grad(mlp_loss, *params, np.eye(3, 3), np.ones((3, 1)), wrt=(0, 2))


def hides_a_dependence(x):
    return np.sum(x * srcdiff.stop_gradient(x))


def test_check_grad_names_the_worst_entry():
    x = np.array([0.5, -3.0, 1.0])
    with pytest.raises(srcdiff.SrcdiffError, match=r"at index \(1,\): srcdiff .*-3\.0.*numeric .*-6\.0"):
        srcdiff.check_grad(hides_a_dependence, x)
    with pytest.raises(AssertionError):  # GradientCheckError is an AssertionError too
        srcdiff.check_grad(hides_a_dependence, x)
