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
