"""Programs users wrote that once gave silently wrong gradients or crashed (issue 7).

Each is checked against autograd where autograd runs it, else against central
differences; gradients of containers must mirror the argument's structure.
"""

from __future__ import annotations

import logging
import math
import statistics
import warnings

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcdiff
from srcdiff.errors import NoDerivativeRule, UnsupportedSyntax

RNG = np.random.default_rng(7)


def same_structure_and_values(got, want, rtol=1e-7, atol=1e-9):
    """``got`` mirrors ``want``: the same container types, keys, lengths and leaf shapes; close values."""
    assert type(got) is type(want) or (isinstance(got, float) and np.ndim(want) == 0), (type(got), type(want))
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for k in want:
            same_structure_and_values(got[k], want[k], rtol, atol)
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            same_structure_and_values(a, b, rtol, atol)
    else:
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def central_differences(f, args, i, eps=1e-6):
    """d f / d args[i] for a float or array argument."""
    x0 = np.array(args[i], dtype=float)
    out = np.zeros(x0.shape)
    for idx in np.ndindex(*x0.shape):
        values = []
        for step in (eps, -eps):
            moved = x0.copy()
            moved[idx] += step
            new = list(args)
            new[i] = moved if isinstance(args[i], np.ndarray) else float(moved)
            values.append(f(*new))
        out[idx] = (values[0] - values[1]) / (2 * eps)
    return out if x0.shape else float(out)


# ----------------------------------------------------------- results written in place


def mix(u, v):
    return u * v + 0.5 * np.sin(u)


def call_result_slice_written(x, y):
    t2 = np.sum(x**2)
    t3 = mix(y[0], y)
    t3[:, 0] = t2  # the adjoint of t2 is a column of dt3, which is zeroed next
    return np.sum(np.sin(t3))


def copy_row_written(x, y):
    t = y.copy()
    t[1] = x * 2.0  # a row: its adjoint is a view of dt
    t[1] += x
    return np.sum(t * t)


@pytest.mark.parametrize("f", [call_result_slice_written, copy_row_written])
def test_results_written_in_place(f):
    x, y = RNG.normal(size=4), RNG.normal(size=(4, 4))
    got = srcdiff.grad(f, wrt=(0, 1))(x, y)
    for i in (0, 1):
        np.testing.assert_allclose(got[i], central_differences(f, (x, y), i), rtol=1e-6, atol=1e-7)


def repeated_index_add(y, v):
    y = y.copy()
    y[np.array([0, 0])] += v  # NumPy adds v[1] once: the last write wins
    return np.sum(y * y)


def repeated_index_set(y, v):
    y = y.copy()
    y[np.array([0, 2, 0])] = v * 2.0
    return np.sum(y * y)


@pytest.mark.parametrize("f, n", [(repeated_index_add, 2), (repeated_index_set, 3)])
def test_repeated_indices_follow_numpy(f, n):
    y, v = np.array([1.0, 2.0, 3.0]), RNG.normal(size=n)
    got = srcdiff.grad(f, wrt=(0, 1))(y, v)
    for i, a in enumerate((y, v)):
        np.testing.assert_allclose(got[i], central_differences(f, (y, v), i), rtol=1e-6, atol=1e-7)
        assert got[i].shape == a.shape


# --------------------------------------------------------------- second order through calls

SCALE = 1.7


def sq(u):
    return u * u


def two(u, v):
    return (sq(u) + v) * SCALE


def through_helpers(x, y):
    return two(x, y) + sq(sq(y))


def rpow(x, n):
    if n == 0:
        return 1.0
    return x * rpow(x, n - 1)


def through_recursion(x):
    return rpow(x, 5) + rpow(x * 0.5, 2)


def trig(u):
    return np.sin(u) * math.cos(1.0) + np.cos(u)


def through_trig_helper(x):
    return trig(x) * x


def a_through_helpers(x, y):
    return (x * x + y) * SCALE + (y * y) * (y * y)


def a_through_recursion(x):
    return x**5 + (x * 0.5) ** 2


def a_through_trig_helper(x):
    return (anp.sin(x) * math.cos(1.0) + anp.cos(x)) * x


@pytest.mark.parametrize(
    "f, reference, args",
    [
        (through_helpers, a_through_helpers, (0.8, 1.4)),
        (through_recursion, a_through_recursion, (0.9,)),
        (through_trig_helper, a_through_trig_helper, (0.3,)),
    ],
)
@pytest.mark.parametrize("order", [2, 3, 4])
def test_higher_order_through_user_calls(f, reference, args, order):
    g, a = f, reference
    for _ in range(order):
        g, a = srcdiff.grad(g), autograd.grad(a)
    assert g(*args) == pytest.approx(a(*args), rel=1e-9)


def test_true_values_of_the_reported_cases():
    assert srcdiff.grad(srcdiff.grad(through_helpers))(0.8, 1.4) == pytest.approx(3.4)
    assert srcdiff.grad(srcdiff.grad(through_recursion))(0.9) == pytest.approx(20 * 0.9**3 + 0.5)


# ---------------------------------------------------------------- containers as arguments


def nested_lists(p):
    return p[0][0] * p[0][1] + p[1][0]


def unpack_tuple(ps):
    p, q = ps[0]
    return p * q


def through_list_of_tuples(w, b):
    return unpack_tuple([(w, b)])


def layers(params, x):
    h = x
    for W, b in params:
        h = np.tanh(h @ W + b)
    return np.sum(h)


def list_slice(xs):
    y = xs[1:3]
    return y[0] * y[1]


def dict_params(p):
    return np.sum(p["W"] ** 2) * p["b"]


def dict_sorted_keys(p):
    total = 0.0
    for k in sorted(p):
        total = total + np.sum(p[k] * p[k])
    return total


def dict_views(p, x):
    total = 0.0
    for k, v in p.items():
        total = total + np.sum(v * x) * len(k)
    for v in p.values():
        total = total + np.sum(v * v)
    for k in p.keys():
        total = total + np.sum(p[k]) * 0.5
    return total


def a_dict_views(p, x):
    total = 0.0
    for k, v in p.items():
        total = total + anp.sum(v * x) * len(k)
    for v in p.values():
        total = total + anp.sum(v * v)
    for k in p.keys():
        total = total + anp.sum(p[k]) * 0.5
    return total


def unused_leaf(p):
    return np.sum(p[0] * 3.0)


def list_comprehension_sum(a):
    return np.sum([i * 3.0 for i in a])


def a_layers(params, x):
    h = x
    for W, b in params:
        h = anp.tanh(anp.dot(h, W) + b)
    return anp.sum(h)


def a_dict_params(p):
    return anp.sum(p["W"] ** 2) * p["b"]


def a_dict_sorted_keys(p):
    total = 0.0
    for k in sorted(p):
        total = total + anp.sum(p[k] * p[k])
    return total


def a_unused_leaf(p):
    return anp.sum(p[0] * 3.0)


def a_list_comprehension_sum(a):
    return anp.sum(anp.array([i * 3.0 for i in a]))


CONTAINER_CASES = [
    (nested_lists, nested_lists, ([[2.0, 3.0], [5.0]],)),
    (list_slice, list_slice, ([1.0, 2.0, 3.0],)),
    (
        layers,
        a_layers,
        ([(RNG.normal(size=(3, 3)), RNG.normal(size=3)), (RNG.normal(size=(3, 2)), RNG.normal(size=2))], RNG.normal(size=3)),
    ),
    (layers, a_layers, ([[RNG.normal(size=(2, 2)), RNG.normal(size=2)]], RNG.normal(size=2))),
    (dict_params, a_dict_params, ({"W": RNG.normal(size=3), "b": 1.5},)),
    (dict_sorted_keys, a_dict_sorted_keys, ({"b": RNG.normal(size=2), "a": RNG.normal(size=(2, 2))},)),
    (unused_leaf, a_unused_leaf, ((RNG.normal(size=2), RNG.normal(size=(2, 3))),)),
    (dict_views, a_dict_views, ({"w": RNG.normal(size=2), "b": RNG.normal(size=2), "c": 0.5}, RNG.normal(size=2))),
    (list_comprehension_sum, a_list_comprehension_sum, (RNG.normal(size=3),)),
]


@pytest.mark.parametrize("f, reference, args", CONTAINER_CASES, ids=[c[0].__name__ for c in CONTAINER_CASES])
def test_container_arguments_match_autograd(f, reference, args):
    same_structure_and_values(srcdiff.grad(f)(*args), autograd.grad(reference)(*args))


def test_list_of_tuples_built_inside():
    assert srcdiff.grad(through_list_of_tuples, wrt=(0, 1))(2.0, 3.0) == (3.0, 2.0)


def test_tuple_argument_gives_a_tuple_with_zeros_for_unused_leaves():
    g = srcdiff.grad(unused_leaf)((np.ones(2), np.ones((2, 3))))
    assert isinstance(g, tuple)
    np.testing.assert_array_equal(g[1], np.zeros((2, 3)))


# --------------------------------------------------------------- inactive calls run as written


def prints_and_logs(x, rng):
    print("x is", x)
    noise = rng.normal(size=3)
    y = x * 2.0
    print(f"y = {y}")
    return np.sum(y * noise)


def test_print_and_random_numbers_run_in_the_forward_sweep(capsys):
    x = RNG.normal(size=3)
    got = srcdiff.grad(prints_and_logs)(x, np.random.default_rng(3))
    np.testing.assert_allclose(got, 2.0 * np.random.default_rng(3).normal(size=3))
    assert "x is" in capsys.readouterr().out


def logs_with_the_standard_library(x):
    logging.getLogger(__name__).debug("x is %s", x)  # (a method of a call's result: a local, so refused)
    return np.sum(x**2)


def logs_a_value_without_its_derivative(x):
    logging.getLogger(__name__).debug("x is %s", srcdiff.stop_gradient(x))  # the refusal's advice
    return np.sum(x**2)


def logs_and_warns(x):
    logging.debug("x is %s", x)  # library functions, whose results are dropped: output only
    warnings.warn(f"sum {np.sum(x)}", stacklevel=1)
    return np.sum(x**2)


def fills_along_an_axis(x):
    y = x * 2.0
    np.put_along_axis(y, np.array([0]), 5.0, axis=0)  # a library function that writes into y
    return np.sum(y * x)


def accumulates_with_add_at(x, idx):
    y = np.zeros(4)
    np.add.at(y, idx, x)  # lowered to a write into y (normalize.py): repeated positions add up
    return np.sum(y**2)


def scales_with_multiply_at(x, idx):
    y = np.ones(4)
    np.multiply.at(y, idx, x)  # <- refused: the advice is a loop
    return np.sum(y**2)


def accumulates_in_a_loop(x, idx):
    y = np.zeros(4)
    for k in range(len(idx)):
        y[idx[k]] += x[k]
    return np.sum(y**2)


def test_add_at_matches_the_loop_it_stands_for_and_other_ufuncs_at_are_refused():
    x, idx = RNG.normal(size=3), np.array([0, 0, 2])
    y = np.zeros(4)
    np.add.at(y, idx, x)
    np.testing.assert_allclose(srcdiff.grad(accumulates_in_a_loop)(x, idx), 2.0 * y[idx])
    np.testing.assert_allclose(srcdiff.grad(accumulates_with_add_at)(x, idx), 2.0 * y[idx])
    with pytest.raises(UnsupportedSyntax, match=r"(?s)\.at\(\) changes its first argument.*for k in range\(len\(idx\)\)"):
        srcdiff.grad(scales_with_multiply_at)(x, idx)


def test_logging_and_warnings_on_differentiated_values_run_in_the_forward_sweep():
    x = RNG.normal(size=3)
    with pytest.warns(UserWarning, match="sum"):
        np.testing.assert_allclose(srcdiff.grad(logs_and_warns)(x), 2.0 * x)
    with pytest.raises(UnsupportedSyntax, match="change its arguments in place"):
        srcdiff.grad(fills_along_an_axis)(x)
    with pytest.raises(UnsupportedSyntax, match="change its arguments in place"):
        srcdiff.grad(logs_with_the_standard_library)(x)
    np.testing.assert_allclose(srcdiff.grad(logs_a_value_without_its_derivative)(x), 2.0 * x)


class Summer:
    def sum(self, v):  # named like an array's method
        return np.sum(v) * 2.0


def calls_an_objects_method(x, summer):
    return summer.sum(x * x)  # Summer.sum (methods.py), not ndarray.sum


def calls_through_a_module_argument(x, m=np):
    return m.sum(m.sin(x)) + m.mean(x**2)


def test_an_objects_method_named_like_an_arrays_is_its_own_and_a_module_argument_is_followed():
    x = RNG.normal(size=3)
    # it was taken for ndarray.sum(axis=x * x), giving zeros; then refused; now Summer.sum is followed
    np.testing.assert_allclose(srcdiff.grad(calls_an_objects_method)(x, Summer()), 4.0 * x)
    expected = np.cos(x) + 2.0 * x / 3.0
    np.testing.assert_allclose(srcdiff.grad(calls_through_a_module_argument)(x), expected)
    np.testing.assert_allclose(srcdiff.grad(calls_through_a_module_argument)(x, np), expected)


def through_a_sparse_product(x, a):
    return np.sum((a @ x) ** 2)


def through_a_sparse_dot(x, a):
    return np.sum(a.dot(x) ** 2)


def test_an_object_operand_such_as_a_sparse_matrix_is_refused_with_advice_that_works():
    import scipy.sparse

    x = RNG.normal(size=3)
    a = scipy.sparse.random(4, 3, density=0.5, random_state=0, format="csr")
    with pytest.raises(NoDerivativeRule, match=r"(?s)np.matmul is given 'a', an object.*a.toarray\(\)"):
        srcdiff.grad(through_a_sparse_product)(x, a)  # it crashed in the backward sweep (AxisError)
    with pytest.raises(NoDerivativeRule, match=r"(?s)method \.dot\(\) of 'a', an object.*toarray"):
        srcdiff.grad(through_a_sparse_dot)(x, a)
    dense = a.toarray()
    np.testing.assert_allclose(srcdiff.grad(through_a_sparse_product)(x, dense), 2 * dense.T @ (dense @ x))


class Model:
    def __init__(self, scale):
        self.scale = scale


def reads_an_attribute(x, model):
    return np.sum(x * model.scale)


def sorts_in_place(x):
    y = x * 2.0
    y.sort()
    return np.sum(y * x)


def scales_in_place(v):
    v[0] = v[0] * 2.0


def calls_for_its_effect(x):
    y = x * 1.0
    scales_in_place(y)
    return np.sum(y)


def test_a_dropped_call_to_a_user_function_on_differentiated_values_is_refused():
    with pytest.raises(UnsupportedSyntax, match="discarded"):
        srcdiff.grad(calls_for_its_effect)(np.ones(2))


def test_attribute_of_a_constant_object_is_a_constant():
    x = RNG.normal(size=3)
    np.testing.assert_allclose(srcdiff.grad(reads_an_attribute)(x, Model(2.5)), np.full(3, 2.5))


def test_a_call_that_may_change_a_differentiated_value_is_refused():
    with pytest.raises(UnsupportedSyntax, match="may change its arguments in place"):
        srcdiff.grad(sorts_in_place)(RNG.normal(size=3))


ROWS = np.r_  # an object indexed with data (np.r_ itself is lowered to np.concatenate)


def concatenates_with_r_(x):
    return np.sum(ROWS[x, x] ** 2)


def concatenates_with_np_r_(x):
    return np.sum(np.r_[x, x] ** 2)


def test_indexing_an_object_with_differentiated_values_is_refused():
    with pytest.raises(NoDerivativeRule, match=r"(?s)ROWS\[\.\.\.\].*Use np\.concatenate"):
        srcdiff.grad(concatenates_with_r_)(np.ones(2))
    np.testing.assert_allclose(srcdiff.grad(concatenates_with_np_r_)(np.ones(2)), np.full(2, 4.0))


def returns_loss_and_aux(x):
    loss = np.sum(x * x)
    return loss, x * 2.0


def test_a_tuple_output_says_what_to_do():
    with pytest.raises(srcdiff.SrcdiffError, match="pass has_aux=True"):
        srcdiff.grad(returns_loss_and_aux)(np.ones(2))


def library_function_on_values(x):
    return statistics.fmean([x, 2.0 * x])


def library_function_on_data(x, data):
    return x * statistics.fmean(data)


def library_function_stopped(x):
    return x * srcdiff.stop_gradient(statistics.fmean([x, 2.0 * x]))


def test_installed_library_source_is_never_read():
    with pytest.raises(NoDerivativeRule, match=r"no derivative rule for statistics\.fmean .*does not read installed") as info:
        srcdiff.grad(library_function_on_values)(1.5)
    assert info.value.filename == __file__
    assert "return statistics.fmean" in info.value.construct
    assert srcdiff.grad(library_function_on_data)(1.5, [1.0, 2.0, 4.0]) == pytest.approx(7.0 / 3.0)
    assert srcdiff.grad(library_function_stopped)(2.0) == pytest.approx(3.0)  # the advice works


def writes_into_a_list_element(L):
    v = L[0]
    v[1] = 3.0  # changes L[0]
    return np.sum(L[0] * L[0])


def writes_into_a_row_view(x):
    y = x * 1.0
    r = y[0]
    r[1] = 3.0  # changes y
    return np.sum(y * y)


@pytest.mark.parametrize(
    "f, arg", [(writes_into_a_list_element, [np.ones(2), np.ones(1)]), (writes_into_a_row_view, np.ones((2, 2)))]
)
def test_writing_into_part_of_another_value_is_refused(f, arg):
    before = [np.copy(a) for a in arg] if isinstance(arg, list) else np.copy(arg)
    with pytest.raises(UnsupportedSyntax, match=r"may share its data with.*\n.*\[0\]\.copy\(\)"):
        srcdiff.grad(f)(arg)
    np.testing.assert_equal(arg, before)  # the caller's values are untouched


def weighted_total(xs):
    total = 0.0
    for i in range(len(xs)):
        total = total + np.sum(xs[i]) * (i + 1.0)
    return total


def test_one_gradient_for_lists_of_floats_of_arrays_and_of_lists():
    g = srcdiff.grad(weighted_total)
    reference = autograd.grad(weighted_total)
    for xs in ([1.0, 2.0, 3.0], [np.ones(2), 2.0, np.ones((2, 2))], [[1.0, 2.0], [3.0]], [1.0, 2.0], (4.0, np.ones(3))):
        same_structure_and_values(g(xs), reference(xs))


def product_of_scaled(t, a):
    y = np.sin(t) * a
    return np.prod(y * t)  # <- the line a third-order refusal names


def test_a_refusal_in_generated_code_names_the_users_line():
    import inspect

    lines, first = inspect.getsourcelines(product_of_scaled)
    line = first + next(i for i, text in enumerate(lines) if "<- the line" in text)
    third = srcdiff.grad(srcdiff.grad(srcdiff.grad(product_of_scaled)))
    with pytest.raises(srcdiff.SrcdiffError, match="differentiated to order 3") as info:  # no third-order rule for prod
        third(0.7, np.array([0.5, 1.5, 2.0]))
    assert (info.value.filename, info.value.line) == (__file__, line)
    assert "return np.prod(y * t)" in info.value.construct


def overwrites_its_argument(v):
    v[0] = 2.0 * v[1]  # the caller's array changes too
    return np.sum(v)


def adds_into_its_argument(v, w):
    v += w  # in place, on an array
    return np.sum(v)


def calls_a_helper_that_changes_its_argument(x):
    y = x * 1.0
    s = overwrites_its_argument(y)
    return s + np.sum(y * y)


def calls_a_helper_that_adds_in_place(x):
    y = x * 1.0
    s = adds_into_its_argument(y, x)
    return s + np.sum(y * y)


@pytest.mark.parametrize(
    "f, helper", [(calls_a_helper_that_changes_its_argument, "v[0] = "), (calls_a_helper_that_adds_in_place, "v += w")]
)
def test_a_helper_that_changes_its_argument_is_refused(f, helper):
    with pytest.raises(UnsupportedSyntax, match="changes its parameter 'v' in place") as info:
        srcdiff.grad(f)(np.array([1.0, 3.0]))
    assert helper in info.value.construct


def test_the_function_differentiated_may_change_its_own_argument():
    x = np.array([1.0, 3.0])
    np.testing.assert_allclose(srcdiff.grad(overwrites_its_argument)(x), [0.0, 3.0])
    np.testing.assert_array_equal(x, [1.0, 3.0])  # and the caller's array is left alone


def through_reshape(x):
    z = x * 1.0
    y = np.reshape(z, (2, 2))
    y[0, 0] = 5.0  # writes into z in NumPy
    return np.sum(z * z)


def through_asarray(x):
    z = x * 1.0
    y = np.asarray(z)
    y[0, 0] = 5.0
    return np.sum(z * z)


def through_swapaxes(x):
    z = x * 1.0
    y = np.swapaxes(z, 0, 1)
    y[0, 1] = 5.0
    return np.sum(z * z)


def through_transpose_attribute(x):
    z = x * 1.0
    y = z.T
    y += 1.0  # in place, on a view
    return np.sum(z * z)


def stale_after_squeeze(x):
    z = x * 1.0
    y = np.squeeze(z[None])
    z[0, 0] = 5.0
    return np.sum(y * y)  # y shows the change


def read_view_across_iterations(x):
    z = x * 1.0
    r = z[0]
    total = 0.0
    for i in range(2):
        total = total + np.sum(r * r)  # the second time round, r shows the write below
        z[0, i] = 5.0
    return total


def helper_returning_its_argument(v):
    return v


def writes_into_a_helpers_result(x):
    z = x * 1.0
    y = helper_returning_its_argument(z)
    y[0, 0] = 5.0
    return np.sum(z * z)


def helper_returning_a_new_array(v):
    return v * 2.0


def writes_into_a_fresh_helper_result(x):
    z = x * 1.0
    y = helper_returning_a_new_array(z)
    y[0, 0] = 5.0
    return np.sum(z * y)


@pytest.mark.parametrize(
    "f",
    [
        through_reshape,
        through_asarray,
        through_swapaxes,
        through_transpose_attribute,
        stale_after_squeeze,
        read_view_across_iterations,
        writes_into_a_helpers_result,
    ],
)
def test_data_shared_through_views_and_helpers_is_refused(f):
    with pytest.raises(UnsupportedSyntax, match="share"):
        srcdiff.grad(f)(np.arange(1.0, 5.0).reshape(2, 2))


def test_writing_into_a_helpers_new_array_is_differentiated():
    x = np.arange(1.0, 5.0).reshape(2, 2)
    got = srcdiff.grad(writes_into_a_fresh_helper_result)(x)
    np.testing.assert_allclose(got, central_differences(writes_into_a_fresh_helper_result, (x,), 0), rtol=1e-6)


def weight_decay_over_the_dict(p):
    total = 0.0
    for k in p:  # a dict parameter: the loop walks its keys
        total = total + np.sum(p[k] ** 2)
    return total


def test_a_loop_over_a_dict_itself():
    p = {"a": np.ones(2), "b": 2.0}
    same_structure_and_values(srcdiff.grad(weight_decay_over_the_dict)(p), {"a": 2.0 * np.ones(2), "b": 4.0})
    same_structure_and_values(srcdiff.grad(dict_sorted_keys)(p), {"a": 2.0 * np.ones(2), "b": 4.0})


# A result read on one branch only: on the other, its adjoint is a weak zero (the float 0.0
# standing for zeros), which every rule's adjoint and tangent must accept.
ONE_BRANCH_READS = {
    "reshape": "np.reshape(x, (3, 2))", "ravel": "np.ravel(x)", "T": "x.T", "transpose": "np.transpose(x, (1, 0))",
    "swapaxes": "np.swapaxes(x, 0, 1)", "moveaxis": "np.moveaxis(x, 0, 1)", "squeeze": "np.squeeze(np.reshape(x, (1, 2, 3)))",
    "expand_dims": "np.expand_dims(x, 0)", "flip": "np.flip(x, 0)", "tile": "np.tile(x, (2, 1))",
    "repeat": "np.repeat(x, 2, axis=0)", "stack": "np.stack([x, x])", "concatenate": "np.concatenate([x, x])",
    "hstack": "np.hstack([x, x])", "vstack": "np.vstack([x, x])", "broadcast_to": "np.broadcast_to(x, (2, 2, 3))",
    "roll": "np.roll(x, 1, axis=0)", "cumsum": "np.cumsum(x, axis=0)", "matmul": "x @ np.ones((3, 2))",
    "outer": "np.outer(x[0], x[1])", "einsum": "np.einsum('ij->ji', x)", "diff": "np.diff(x, axis=0)", "pad": "np.pad(x, 1)",
    "sort": "np.sort(x, axis=0)", "tensordot": "np.tensordot(x, np.ones((3, 2)), 1)", "kron": "np.kron(x, np.ones((2, 2)))",
    "inv": "np.linalg.inv(x[:, :2])", "trace": "np.trace(x)", "dot": "np.dot(x, np.ones(3))",
    "take": "np.take(x, [0, 2], axis=1)", "diag": "np.diag(x[0])", "tril": "np.tril(x)", "cumprod": "np.cumprod(x, axis=0)",
    "split": "np.split(x, 3, axis=1)[0]", "solve": "np.linalg.solve(x[:, :2] + 3 * np.eye(2), x[:, 2])",
    "det": "np.linalg.det(x[:, :2])", "norm": "np.linalg.norm(x, axis=0)", "prod": "np.prod(x, axis=0)",
    "max": "np.max(x, axis=0)", "var": "np.var(x, axis=0)", "linspace": "np.linspace(x[0], x[1], 4)",
    "full": "np.full((2, 3), x[0, 0])", "where": "np.where(x > 0, x, 0.0)", "clip": "np.clip(x, -0.5, 0.5)",
}  # fmt: skip


@pytest.fixture(scope="module")
def one_branch_module(tmp_path_factory):
    import importlib.util

    path = tmp_path_factory.mktemp("weak_zero") / "one_branch.py"
    functions = [
        f"def f_{name}(x, y):\n    w = {e}\n    v = 1.0\n    if y > 0.5:\n        v = np.sum(w * w)\n    return v + np.sum(x)\n"
        for name, e in ONE_BRANCH_READS.items()
    ]
    path.write_text("import numpy as np\n\n\n" + "\n\n".join(functions))
    spec = importlib.util.spec_from_file_location("one_branch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(ONE_BRANCH_READS))
def test_a_result_read_on_one_branch_only(one_branch_module, name):
    f = getattr(one_branch_module, f"f_{name}")
    x = np.arange(6.0).reshape(2, 3) / 7 + 0.1
    np.testing.assert_allclose(srcdiff.grad(f)(x, 0.0), np.ones_like(x))  # the branch not taken: only np.sum(x)
    _, tangent = srcdiff.jvp(f, (x, 0.0), (np.ones_like(x), None))
    np.testing.assert_allclose(tangent, 6.0)
    x2 = x + 0.01
    np.testing.assert_allclose(srcdiff.grad(f)(x2, 1.0), differences_of(f, x2), rtol=1e-6, atol=1e-8)


def differences_of(f, x, eps=1e-6):
    """Central differences (the branch taken: y = 1.0)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        g[i] = (f(x + step, 1.0) - f(x - step, 1.0)) / (2 * eps)
    return g
