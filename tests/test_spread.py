"""Spread (srcdiff/spread.py): a full reduction's adjoint stays a number where the product that
reads it broadcasts it over an array proven to have the reduced value's shape, and a value read
only for its shape is read from such an array instead (so it is not computed). Where the shape is
not proven, the spread stays. Either way the gradient is checked against autograd, on fixed cases
and on random programs around a full reduction, so that a shape claimed equal wrongly shows as a
wrong gradient or a wrong shape."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcdiff
from tests.test_cancellation import define, define_in_file

RNG = np.random.default_rng(11)


def generated_body(g, *args) -> str:
    """The generated code, less its comments (which quote the user's lines)."""
    return "\n".join(line for line in srcdiff.source(g, *args).splitlines() if not line.strip().startswith("#"))


SPREAD = {  # the reduction's adjoint stays a number, and the square is not computed
    "mean square": ("def f(r, y):\n    d = r - y\n    return np.mean(d * d)\n", "d * d"),
    "mean of a power": ("def f(r, y):\n    d = r - y\n    return np.mean(d ** 2)\n", "d ** 2"),
    "sum of a scaled square": ("def f(r, y):\n    d = (r - y) * 0.5\n    return np.sum(d * d)\n", "d * d"),
    "sum of a negated square": ("def f(r, y):\n    d = r * y\n    e = -d\n    return np.sum(e * d)\n", "e * d"),
}
SHAPES = [((5,), (5,)), ((4, 3), (3,)), ((4, 3), (4, 1)), ((4, 3), ())]


@pytest.mark.parametrize("name", SPREAD)
@pytest.mark.parametrize(("r_shape", "y_shape"), SHAPES, ids=str)
def test_a_reduced_square_keeps_its_adjoint_a_number(name, r_shape, y_shape, tmp_path):
    source, square = SPREAD[name]
    f = define_in_file(source, tmp_path, "spread_case")
    r, y = RNG.standard_normal(r_shape), RNG.standard_normal(y_shape)
    g = srcdiff.grad(f)
    text = generated_body(g, r, y)
    assert "unreduce(" not in text and square not in text, text
    got = g(r, y)
    assert got.shape == r.shape and got.dtype == r.dtype
    np.testing.assert_allclose(got, autograd.grad(define(source, anp))(r, y), rtol=1e-12, atol=1e-15)


def test_float32_stays_float32_and_agrees(tmp_path):
    source, _ = SPREAD["mean square"]
    r, y = RNG.standard_normal((6, 4)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
    got = srcdiff.grad(define_in_file(source, tmp_path, "spread_float32"))(r, y)
    assert got.dtype == np.float32
    want = autograd.grad(define(source, anp))(r.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-5)


NOT_PROVEN = {  # the spread stays: its shape is not proven to be the product's
    # (y may broadcast d: d * y has d's shape here, but nothing proves it)
    "a product with another array": "def f(r, y):\n    d = r - y\n    return np.mean(d * y)\n",
    # (d is rebound after the square: the d the adjoint reads is another value)
    "a name bound twice": "def f(r, y):\n    d = r - y\n    s = d * d\n    d = d[:1]\n    return np.mean(s) + np.sum(d)\n",
    # (a reduction along an axis keeps its spread: its adjoint is an array)
    "along an axis": "def f(r, y):\n    d = r - y\n    return np.sum(np.mean(d * d, axis=0))\n",
}


@pytest.mark.parametrize("name", NOT_PROVEN)
def test_where_the_shape_is_not_proven_the_spread_stays(name, tmp_path):
    source = NOT_PROVEN[name]
    r, y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    g = srcdiff.grad(define_in_file(source, tmp_path, "not_proven"))
    assert "unreduce(" in generated_body(g, r, y)
    np.testing.assert_allclose(g(r, y), autograd.grad(define(source, anp))(r, y), rtol=1e-12, atol=1e-15)


def test_a_square_bound_in_a_loop_proves_nothing(tmp_path):  # (d holds another value each round)
    source = """
        def f(w, xs):
            total = 0.0
            for x in xs:
                d = w * x
                total = total + np.mean(d * d)
            return total
        """
    w, xs = RNG.standard_normal(3), [RNG.standard_normal(3) for _ in range(2)]
    g = srcdiff.grad(define_in_file(source, tmp_path, "in_a_loop"))
    assert "unreduce(" in generated_body(g, w, xs)
    got = g(w, xs)
    np.testing.assert_allclose(got, autograd.grad(define(source, anp))(w, list(xs)), rtol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (3, 2)])
def test_second_order_through_a_spread_adjoint(shape, tmp_path):
    source = "def f(w, x, y):\n    r = x @ w - y\n    return np.mean(r * r) + np.sum(np.sin(w) ** 2)\n"
    f = define_in_file(source, tmp_path, "second_order")
    w = RNG.standard_normal(shape[-1])
    x, y = RNG.standard_normal((7, shape[-1])), RNG.standard_normal(7)
    want = autograd.hessian(define(source, anp))(w, x, y)
    np.testing.assert_allclose(srcdiff.hessian(f)(w, x, y), want, rtol=1e-10, atol=1e-12)
    v = RNG.standard_normal(w.shape)
    np.testing.assert_allclose(srcdiff.hvp(f)(w, x, y, v), want @ v, rtol=1e-10, atol=1e-12)


# random programs around a full reduction: every shape fact the pass uses is exercised, with
# operands that broadcast and ones that do not
STEPS = [
    "{new} = {a} * {a}",
    "{new} = {a} ** 2",
    "{new} = {a} * 0.5",
    "{new} = 2.0 - {a}",
    "{new} = -{a}",
    "{new} = {a} * {b}",
    "{new} = {a} - {b}",
    "{new} = np.sin({a})",
    "{new} = {a} / 3",
]
REDUCE = ["np.sum({a} * {b})", "np.mean({a} * {a})", "np.mean({a} ** 2)", "np.sum({a} * {a} * 2.0)", "np.mean({a})"]


@st.composite
def programs(draw):
    lines = ["def f(x, y):"]
    names = ["x", "y"]
    for k in range(draw(st.integers(1, 4))):
        step = draw(st.sampled_from(STEPS))
        lines.append("    " + step.format(new=f"v{k}", a=draw(st.sampled_from(names)), b=draw(st.sampled_from(names))))
        names.append(f"v{k}")
    reduce = draw(st.sampled_from(REDUCE))
    lines.append("    return " + reduce.format(a=names[-1], b=draw(st.sampled_from(names))))
    shapes = draw(st.sampled_from([((4, 3), (3,)), ((4, 3), (4, 1)), ((3,), ()), ((2, 3), (2, 3)), ((3,), (2, 1))]))
    return "\n".join(lines) + "\n", shapes


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_programs_around_a_full_reduction_agree_with_autograd(tmp_path_factory, case):
    source, (x_shape, y_shape) = case
    f = define_in_file(source, tmp_path_factory.mktemp("random"), "random_program")
    x, y = RNG.standard_normal(x_shape), RNG.standard_normal(y_shape)
    want = autograd.grad(define(source, anp), argnum=(0, 1))(x, y)
    got = srcdiff.grad(f, wrt=("x", "y"))(x, y)
    for g, w, a in zip(got, want, (x, y)):
        assert np.shape(g) == np.shape(a), source
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=source)
