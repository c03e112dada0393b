"""grad(grad(f)): second derivatives through loops, branches, calls and NumPy ops."""

import math
import os

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcdiff
from tests.test_reverse import under_autograd


def xxy(x, y):
    return x * x * y


def sin_exp_by_series(x):
    """sin(x) * exp(x), with exp summed as its Taylor series in a loop."""
    term = 1.0
    e = 1.0
    for k in range(1, 30):
        term = term * x / k
        e = e + term
    return math.sin(x) * e


def cube(a):
    return a * a * a


def branchy(x, y):
    if x > 0:
        z = cube(x) * y
    else:
        z = np.exp(x) * y * y
    s = 0.0
    k = 0
    while k < 3:
        s = s + z / (k + 1.0)
        k += 1
    return s


@settings(max_examples=25, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5))
def test_second_derivative_of_xxy_is_2y(x, y):
    assert srcdiff.grad(srcdiff.grad(xxy))(x, y) == pytest.approx(2 * y)


def test_seed_value():
    assert srcdiff.grad(srcdiff.grad(xxy))(2.0, 3.0) == 6.0


def test_mixed_partials():
    assert srcdiff.grad(srcdiff.grad(xxy, wrt=0), wrt=1)(2.0, 3.0) == pytest.approx(4.0)  # 2x
    assert srcdiff.grad(srcdiff.grad(xxy, wrt=1), wrt=0)(2.0, 3.0) == pytest.approx(4.0)
    assert srcdiff.grad(srcdiff.grad(xxy, wrt=1), wrt=1)(2.0, 3.0) == 0.0


@pytest.mark.parametrize("x", [-1.2, 0.0, 0.4, 2.5])
def test_loop_second_derivative(x):
    expected = 2 * math.cos(x) * math.exp(x)  # d2/dx2 sin(x) e^x
    assert srcdiff.grad(srcdiff.grad(sin_exp_by_series))(x) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("x, y", [(0.7, 1.3), (-0.6, 2.0), (1.5, -0.5)])
def test_branches_calls_and_while_second_order(x, y):
    reference = under_autograd(branchy)
    for first in (0, 1):
        for second in (0, 1):
            got = srcdiff.grad(srcdiff.grad(branchy, wrt=first), wrt=second)(x, y)
            expected = autograd.grad(autograd.grad(reference, first), second)(x, y)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


ELEMENTWISE = {
    "sin": lambda x: np.sin(x) * np.cos(x),
    "exp_tanh": lambda x: np.exp(np.tanh(x)),
    "log_sqrt": lambda x: np.log(np.sqrt(x * x + 1.0)),
    "power": lambda x: (x * x + 2.0) ** 1.5 / (1.0 + x**2),
    "arctan": lambda x: np.arctan(x) * np.sinh(x) - np.cosh(x) / 3.0,
}


def elementwise_sin(x):
    return np.sin(x) * np.cos(x)


def elementwise_exp_tanh(x):
    return np.exp(np.tanh(x))


def elementwise_log_sqrt(x):
    return np.log(np.sqrt(x * x + 1.0))


def elementwise_power(x):
    return (x * x + 2.0) ** 1.5 / (1.0 + x**2)


def elementwise_mix(x):
    return np.arctan(x) * np.sinh(x) - np.cosh(x) / 3.0 + np.abs(x) * np.square(x)


@pytest.mark.parametrize("f", [elementwise_sin, elementwise_exp_tanh, elementwise_log_sqrt, elementwise_power, elementwise_mix])
@pytest.mark.parametrize("x", [-1.3, 0.4, 2.1])
def test_numpy_elementwise_second_order_matches_autograd(f, x):
    got = srcdiff.grad(srcdiff.grad(f))(x)
    expected = autograd.grad(autograd.grad(under_autograd(f)))(x)
    assert got == pytest.approx(expected, rel=1e-9)


def array_sum(x):
    return np.sum(np.sin(x) * x)


def test_second_order_source_is_printable():
    text = srcdiff.source(srcdiff.grad(srcdiff.grad(xxy)), 2.0, 3.0)
    assert "def grad_grad_xxy(x, y):" in text
    compile(text, "<check>", "exec")


def test_third_order():
    assert srcdiff.grad(srcdiff.grad(srcdiff.grad(cube)))(1.7) == pytest.approx(6.0)


def test_value_and_grad_of_a_gradient():
    value, second = srcdiff.value_and_grad(srcdiff.grad(xxy))(2.0, 3.0)
    assert (value, second) == (12.0, 6.0)


def test_autograd_reference_runs_on_anp():
    assert anp is not np  # the reference really is an independent implementation


def writes_in_place(x):
    y = np.zeros(4)
    for i in range(4):
        y[i] = np.sin(x * (i + 1))
    y[1] += x * x
    y[y < 0] = 0.0
    return np.sum(y * y)


def list_stack(x):
    acc = []
    for i in range(3):
        acc.append(x ** (i + 1))
    v = acc.pop()
    return sum(acc) * v + acc[0]


def row_loop(x):
    m = np.outer(np.arange(1.0, 4.0), np.ones(2)) * x
    s = 0.0
    for r in m:
        s = s + np.sum(np.tanh(r) * r)
    return s


@pytest.mark.parametrize("f", [writes_in_place, list_stack, row_loop])
@pytest.mark.parametrize("x", [0.3, 0.8])
def test_second_order_through_writes_lists_and_rows(f, x):
    h = 1e-4  # second central difference of the function itself
    expected = (f(x + h) - 2 * f(x) + f(x - h)) / h**2
    assert srcdiff.grad(srcdiff.grad(f))(x) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def stand_in_helper(x):
    return [x] * 2  # list repetition: reading this source as math would be silently wrong


stand_in_helper.__module__ = "srcdiff.runtime"  # as if generated code called a helper without a rule


def calls_a_helper_without_rule(x):
    return sum(stand_in_helper(x))


def test_a_runtime_helper_without_rule_is_refused_not_transformed_from_source():
    with pytest.raises(srcdiff.SrcdiffError, match="no derivative rule for srcdiff.runtime.stand_in_helper"):
        srcdiff.grad(calls_a_helper_without_rule)(0.5)


def eigenvalues_cubed(a):
    values, vectors = np.linalg.eigh(a + a.T)
    return np.sum(values**3) + np.sum(vectors[:, 0] * vectors[:, 0] * values)


def test_second_order_through_linalg_when_srcdiff_is_installed(monkeypatch):
    """``pip install`` (not ``-e``) puts srcdiff in site-packages, among the installed libraries
    whose source srcdiff does not read; its ``runtime_linalg`` helpers, which ``np.linalg``'s
    rules call, are differentiated from their source all the same (they were refused)."""
    from srcdiff import cache, methods

    monkeypatch.setenv("SRCDIFF_CACHE_DIR", "")
    a = np.array([[2.0, 0.3, 0.1], [0.2, 1.0, -0.4], [0.0, 0.5, -1.5]])
    expected = srcdiff.hessian(eigenvalues_cubed)(a)
    cache.clear()
    installed = os.path.dirname(os.path.realpath(srcdiff.__file__)) + os.sep
    monkeypatch.setattr(methods, "LIBRARY_DIRS", methods.LIBRARY_DIRS + (installed,))
    np.testing.assert_allclose(srcdiff.hessian(eigenvalues_cubed)(a), expected, rtol=1e-12)
