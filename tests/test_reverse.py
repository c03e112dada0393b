"""Reverse mode over the language: every program against finite differences and autograd."""

import ast
import re
import types

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcdiff
from srcdiff.optimize import _replays_nothing
from tests import programs as P
from tests.catalogue import autograd_twin
from tests.test_spread import generated_body


def numeric_grad(f, args, i, eps=1e-6):
    """Central differences of f with respect to argument i (float or array)."""
    x0 = args[i]
    base = np.array(x0, dtype=float)
    out = np.zeros(base.shape)
    for idx in np.ndindex(*base.shape) if base.shape else [()]:
        vals = []
        for step in (eps, -eps):
            moved = base.copy()
            moved[idx] += step
            a = list(args)
            a[i] = moved if isinstance(x0, np.ndarray) else float(moved)
            vals.append(f(*a))
        out[idx] = (vals[0] - vals[1]) / (2 * eps)
    return out if base.shape else float(out)


def under_autograd(f):
    """The same code object with ``np`` bound to autograd.numpy: an independent gradient."""
    return types.FunctionType(f.__code__, {**f.__globals__, "np": anp}, f.__name__, f.__defaults__)


R = np.random.default_rng(7)
V3 = np.array([0.4, -1.2, 0.9])

# (program, args, wrt, autograd can run it)
CASES = [
    (P.straight, (0.7, -0.3), (0, 1), True),
    (P.broadcast_sum, (V3, np.array([[0.5], [1.5]])), (0, 1), True),
    (P.reassign, (0.3,), 0, True),
    (P.broadcast_sum, (V3, 0.5), (0, 1), True),
    (P.broadcast_sum, (np.ones((2, 1)), V3), (0, 1), True),
    (P.augmented, (0.6, 1.4), (0, 1), True),
    (P.unpack, (0.8,), 0, True),
    (P.branch, (1.3,), 0, True),
    (P.branch, (-0.4,), 0, True),
    (P.branch, (-2.5,), 0, True),
    (P.branch_on_array, (V3,), 0, True),
    (P.branch_on_array, (-np.abs(V3),), 0, True),
    (P.ternary, (0.5,), 0, True),
    (P.ternary, (-0.5,), 0, True),
    (P.boolean_ops, (1.5,), 0, True),
    (P.boolean_ops, (0.5,), 0, True),
    (P.boolean_ops, (-6.0,), 0, True),
    (P.for_range, (0.9, 6), 0, True),
    (P.for_range_args, (0.7,), 0, True),
    (P.nested_loops, (0.4,), 0, True),
    (P.over_rows, (R.normal(size=(3, 4)),), 0, True),
    (P.over_list, (0.6,), 0, True),
    (P.enumerate_zip, (V3, np.array([2.0, 0.5, -1.0])), (0, 1), True),
    (P.while_loop, (1.3,), 0, True),
    (P.break_continue, (1.1,), 0, True),
    (P.early_return, (0.1,), 0, True),
    (P.early_return, (1.0,), 0, True),
    (P.early_return, (1.9,), 0, True),
    (P.multiple_returns, (2.0, 1.0), (0, 1), True),
    (P.multiple_returns, (-1.0, 1.0), (0, 1), True),
    (P.multiple_returns, (0.5, 1.0), (0, 1), True),
    (P.calls, (1.3, 0.4), (0, 1), True),
    (P.power, (1.5, 4), 0, True),
    (P.uses_global, (0.2,), 0, False),
    (P.calls_in_loop, (0.3,), 0, True),
    (P.list_append, (0.7,), 0, True),
    (P.list_pop, (0.7,), 0, True),
    (P.comprehension, (V3,), 0, True),
    (P.stack_rows, (V3,), 0, True),
    (P.write_loop, (V3,), 0, False),
    (P.write_input, (V3,), 0, False),
    (P.write_mask, (V3,), 0, False),
    (P.write_slices, (np.array([0.5, 1.5, -2.0, 0.25]),), 0, False),
    (P.fancy_index, (V3,), 0, True),
    (P.integer_paths, (V3, 3), 0, True),
    (P.method_chain, (R.normal(size=6),), 0, False),  # autograd boxes have no .dot
    (
        P.rnn_loss,
        (R.normal(size=(3, 4)) * 0.5, R.normal(size=(4, 4)) * 0.5, R.normal(size=4) * 0.1, R.normal(size=(6, 3)), 2),
        (0, 1, 2),
        True,
    ),
    (P.rnn_in_place, (R.normal(size=(3, 4)) * 0.5, R.normal(size=(4, 4)) * 0.5, R.normal(size=(6, 3))), (0, 1), False),
    (P.uses_tuple_callee, (V3,), 0, True),
    (P.while_break, (V3,), 0, False),  # autograd boxes have no .copy
    (P.nested_return, (V3 * 0.5,), 0, True),
    (P.nested_return, (V3 * 3,), 0, True),
    (P.calls_closure, (V3,), 0, True),
    (P.pops_in_loop, (V3,), 0, True),
    (P.recursive_sum, (V3, 4), 0, True),
    (P.branch_with_empty_adjoint, (2.0,), 0, True),
    (P.branch_with_empty_adjoint, (-2.0,), 0, True),
]
IDS = [f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]


def as_tuple(g, wrt):
    return g if isinstance(wrt, tuple) else (g,)


@pytest.mark.parametrize("f, args, wrt, _", CASES, ids=IDS)
def test_matches_finite_differences(f, args, wrt, _):
    got = as_tuple(srcdiff.grad(f, wrt=wrt)(*[a.copy() if isinstance(a, np.ndarray) else a for a in args]), wrt)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
        expected = numeric_grad(f, [a.copy() if isinstance(a, np.ndarray) else a for a in args], i)
        np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)
        assert np.shape(g) == np.shape(args[i])
        assert isinstance(g, np.ndarray) == isinstance(args[i], np.ndarray)


@pytest.mark.parametrize("f, args, wrt, _", [c for c in CASES if c[3]], ids=[i for i, c in zip(IDS, CASES) if c[3]])
def test_matches_autograd(f, args, wrt, _):
    got = as_tuple(srcdiff.grad(f, wrt=wrt)(*args), wrt)
    reference = under_autograd(f)
    for i, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
        expected = autograd.grad(reference, i)(*args)
        np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-12)


def test_stop_gradient_holds_its_argument_constant():
    assert srcdiff.grad(P.stopped)(0.7) == pytest.approx(0.7 * 0.7)  # d/dx [x * c] with c = x*x held fixed


def test_inputs_are_never_mutated():
    x = V3.copy()
    srcdiff.grad(P.write_input)(x)
    np.testing.assert_array_equal(x, V3)


def test_value_and_grad_returns_the_value_from_one_sweep():
    value, (dx, dy) = srcdiff.value_and_grad(P.calls, wrt=(0, 1))(1.3, 0.4)
    assert value == P.calls(1.3, 0.4)
    np.testing.assert_allclose((dx, dy), srcdiff.grad(P.calls, wrt=(0, 1))(1.3, 0.4))


def test_wrt_by_name_and_decorator_forms():
    @srcdiff.grad(wrt="y")
    def f(x, y):
        return x * y * y

    assert f(2.0, 3.0) == 12.0
    assert srcdiff.grad(P.straight, wrt=("y",))(0.7, -0.3) == (srcdiff.grad(P.straight, wrt=1)(0.7, -0.3),)


@settings(max_examples=30, deadline=None)
@given(st.floats(-3, 3), st.integers(0, 7))
def test_loops_and_branches_for_varied_inputs(x, n):
    for f, args in ((P.for_range, (x, n)), (P.branch, (x,)), (P.break_continue, (x,)), (P.early_return, (x,))):
        if f is P.branch and min(abs(x), abs(x + 1)) < 1e-3:
            continue  # a kink: no derivative to compare
        if f is P.early_return and any(abs(x * 1.1**k - 2.0) < 1e-3 for k in range(1, 6)):
            continue
        got = srcdiff.grad(f)(*args)
        np.testing.assert_allclose(got, autograd.grad(under_autograd(f))(*args), rtol=1e-8, atol=1e-10)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_in_place_writes_for_varied_inputs(values):
    x = np.array(values)
    for f in (P.write_loop, P.write_input, P.write_slices if False else P.write_loop):
        np.testing.assert_allclose(srcdiff.grad(f)(x.copy()), numeric_grad(f, [x.copy()], 0), rtol=1e-5, atol=1e-5)


def relu_sum(x, w):
    return np.sum(np.maximum(x, 0.0) * w)


def relu_sum_autograd(x, w):
    return anp.sum(anp.maximum(x, 0.0) * w)


@pytest.mark.parametrize("ties", [False, True])
def test_a_maximum_splits_its_adjoint_on_ties_as_autograd_does(ties):
    # (runtime.balanced_eq: without ties the mask is taken as floats, with them halved there)
    x = np.linspace(-1.0, 1.2, 12).reshape(3, 4) + (0.0 if ties else 0.01)  # (0.0 among them: a tie)
    assert (x == 0.0).any() == ties
    w = np.arange(12.0).reshape(3, 4)
    got = srcdiff.grad(relu_sum)(x, w)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, autograd.grad(relu_sum_autograd)(x, w))


# -- in-place writes: old elements go on the tape only where the backward sweep reads them back --


def recurrence_summed(x):
    y = np.zeros(x.shape[0])
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y * y)


def element_rewritten(x):  # y[0] is overwritten each round, and its old value is read back
    y = np.ones(3)
    for k in range(3):
        y[0] = y[0] * x[k] + y[1]
    return np.sum(y * x[:3])


def read_after_the_loop_back(x):  # the adjoint of s reads y as it was before y[0] was written
    y = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = np.sin(x[i]) * 2.0
    s = np.sum(y * y)
    y[0] = s * x[0]
    return np.sum(y * x)


def written_argument(x, y):  # the caller's array: the gradient leaves it as it was
    for i in range(x.shape[0]):
        y[i] = y[i] * x[i]
    return np.sum(y * y)


@pytest.mark.parametrize(
    ("f", "tape"),
    [(recurrence_summed, False), (element_rewritten, True), (read_after_the_loop_back, True)],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_old_elements_are_taped_only_where_read_back(f, tape):
    x = np.linspace(0.2, 1.1, 5)
    g = srcdiff.grad(f)
    assert ("_stack" in srcdiff.source(g, x)) == tape
    np.testing.assert_allclose(g(x), numeric_grad(f, (x,), 0), rtol=1e-6, atol=1e-8)


def test_an_argument_written_in_place_gets_its_elements_back():
    x, y = np.linspace(0.2, 1.1, 5), np.linspace(1.0, 2.0, 5)
    before = y.copy()
    g = srcdiff.grad(written_argument, wrt=("x", "y"))
    assert "_stack" in srcdiff.source(g, x, y)
    dx, dy = g(x, y)
    np.testing.assert_array_equal(y, before)
    np.testing.assert_allclose(dx, 2 * before**2 * x, rtol=1e-12)
    np.testing.assert_allclose(dy, 2 * before * x * x, rtol=1e-12)


# -- lists: values popped off are put back only for code that reads the list later --


def popped_pair(x):
    xs = []
    xs.append(x * 2.0)
    xs.append(np.sin(x))
    a = xs.pop()
    b = xs.pop()
    return a * b


def popped_pair_autograd(x):
    xs = []
    xs.append(x * 2.0)
    xs.append(anp.sin(x))
    a = xs.pop()
    b = xs.pop()
    return a * b


def test_a_list_nothing_reads_after_its_pops_gets_nothing_put_back():
    text = generated_body(srcdiff.grad(popped_pair), 0.7)
    # the forward sweep's own, and none put back
    assert len(re.findall(r"\bxs\.append\(", text)) == 2 and len(re.findall(r"\bxs\.pop\(\)", text)) == 2, text
    assert srcdiff.grad(popped_pair)(0.7) == pytest.approx(autograd.grad(popped_pair_autograd)(0.7), rel=1e-12)


def loop_of_floats(x):
    for _ in range(5):
        x = np.sin(x) + x * x * 0.1
    return x


def test_second_order_through_a_loop_pops_its_inner_tape_once():
    # the first-order code's stack, differentiated: its values are not put back for a third pass
    gg = srcdiff.grad(srcdiff.grad(loop_of_floats))
    text = generated_body(gg, 0.3)
    assert len(re.findall(r"\b_stack\.append\(", text)) == 1 and len(re.findall(r"\b_stack\.pop\(\)", text)) == 1, text
    want = autograd.grad(autograd.grad(lambda x: _loop_autograd(x)))(0.3)
    assert gg(0.3) == pytest.approx(want, rel=1e-10)
    ggg = srcdiff.grad(gg)  # and once more
    assert ggg(0.3) == pytest.approx(autograd.grad(autograd.grad(autograd.grad(_loop_autograd)))(0.3), rel=1e-8)


def _loop_autograd(x):
    for _ in range(5):
        x = anp.sin(x) + x * x * 0.1
    return x


def read_before_its_pop(x):
    xs = [x * 0.5, x * 2.0, x * 3.0]
    s = np.sum(np.stack(xs) ** 2)
    a = xs.pop()
    return np.sum(a * s)


def read_before_its_pop_autograd(x):
    xs = [x * 0.5, x * 2.0, x * 3.0]
    s = anp.sum(anp.stack(xs) ** 2)
    a = xs.pop()
    return anp.sum(a * s)


def test_a_list_read_back_before_its_pop_gets_its_value_put_back():
    x = np.linspace(0.1, 0.5, 3)
    g = srcdiff.grad(read_before_its_pop)
    assert len(re.findall(r"\bxs\.append\(", generated_body(g, x))) == 1  # the put-back
    np.testing.assert_allclose(g(x), autograd.grad(read_before_its_pop_autograd)(x), rtol=1e-12)


def rows_then_range(x):
    v1 = x * np.array([[1.0, 2.0], [3.0, 4.0]])
    for k in v1:  # nothing of this loop reaches the result: its backward sweep replays nothing
        v4 = 1.0 * k  # noqa: F841 (read by nothing: the point)
    v7 = 0.5
    for k in range(2):
        v7 = v7 * 0.9 + np.tanh(x) * (0.1 * k + 0.2)
    return np.sum(v7) + np.sum(v1)


def test_a_backward_loop_that_replays_nothing_is_dropped():
    text = srcdiff.source(srcdiff.grad(rows_then_range), -1.0)
    assert "pass" not in text  # (was: for _i1 in reversed(_t6): pass)
    assert srcdiff.grad(rows_then_range)(-1.0) == pytest.approx(autograd.grad(autograd_twin(rows_then_range))(-1.0))

    def replays(code: str) -> bool:
        body = ast.parse(code).body
        return _replays_nothing(body[0], body[1:])

    assert replays("for k in reversed(t):\n    pass\nk = s.pop()\ny = 2")  # k stored again, never read
    assert not replays("for k in reversed(t):\n    pass\ny = k")  # k read after: the loop bound it
    assert not replays("for k in walk(t):\n    pass")  # a call that may do something
    assert not replays("for k in reversed(t):\n    y = 1")
