"""Aliasing, containers and Python's own semantics: each program gives the value and the
gradient Python and central differences give, or a ``SrcdiffError`` naming the user's line
(at build time, or raised by the generated code before a number is returned).

The cases are the mechanisms that once gave silently wrong gradients: arrays held in lists,
tuples and dicts and then written in place through either name, indices of unknown kind
(an ``np.argmax`` result, a slice passed in), tuple-assignment swaps of views, a value
written into itself, ``stop_gradient``'s result written into, helpers returning their
arguments in containers, ``pop(i)``, dicts filled by item, ``sum`` joining lists.
"""

from __future__ import annotations

import inspect
from functools import partial

import numpy as np
import pytest

import srcdiff
from srcdiff.errors import SharedInPlace, SrcdiffError

W = np.array([0.5, -1.0, 2.0])
X2 = np.array([[2.0, 1.0], [0.5, -1.0]])


def numeric_gradient(f, x, *rest, eps=1e-6):
    if isinstance(x, float):
        return (f(x + eps, *rest) - f(x - eps, *rest)) / (2 * eps)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up, *rest) - f(down, *rest)) / (2 * eps)
    return g


def fresh(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def right_or_refused_at_its_line(f, *args, refusal=SrcdiffError):
    """The true value and gradient, or ``refusal`` naming a line of ``f``; says which."""
    lines, first = inspect.getsourcelines(f)
    try:
        value, gradient = srcdiff.value_and_grad(f)(*map(fresh, args))
    except refusal as e:
        assert e.filename == __file__ and first <= e.line < first + len(lines), str(e)
        return "refused"
    np.testing.assert_allclose(value, f(*map(fresh, args)), rtol=1e-9)
    np.testing.assert_allclose(gradient, numeric_gradient(f, *args), rtol=1e-5, atol=1e-6)
    return "right"


# arrays held in containers, then written in place: Python's container holds the same object
def held_in_a_list(w):
    h = w * 1.0
    hs = [h]
    h += 1.0
    return np.sum(hs[0] * w)


def rnn_history(w):
    h = np.zeros(3)
    history = []
    for t in range(3):
        h += w * t
        history.append(h)
    return np.sum(np.stack(history) ** 2)


def shared_row_buffer(w):
    out = []
    row = np.zeros(3)
    for i in range(2):
        row[i] = w[i] * 2.0
        out.append(row)
    return np.sum(np.array(out) * w)


def held_in_a_tuple(w):
    h = w * 2.0
    pair = (h, 1.0)
    h[0] = 0.0
    return np.sum(pair[0] * w)


def written_through_the_list(w):
    h = w * 1.0
    hs = [h]
    hs[0] += 1.0
    return np.sum(h * w)


def twice_in_a_list_written_through_one_slot(w):  # the other slot holds the same array (seed 105524)
    v = w * 1.0
    hs = [v, v]
    hs[1] *= 2.0
    return np.sum(hs[0] * w)


def two_arrays_in_a_list_one_written_through_its_slot(w):
    hs = [w * 1.0, w * 2.0]
    hs[1] *= 3.0
    return np.sum(hs[0] * hs[1])


def twice_in_a_tuple(w):
    h = w * 1.0
    p = (h, h)
    h *= 2
    return np.sum(p[0] * p[1])


def held_in_a_dict(w):
    h = w * 1.0
    d = {"h": h}
    h += 1
    return np.sum(d["h"] * w)


def _in_a_list(a):
    return [a]


def _with_its_double(v):
    return (v, 2 * v)


def helper_returns_it_in_a_list(w):
    a = w * 1.0
    held = _in_a_list(a)
    a[0] = 10.0
    return np.sum(held[0] * w)


def helper_returns_it_in_a_tuple(w):
    a = w * 1.0
    p, q = _with_its_double(a)
    p[0] = 10.0
    return np.sum(a * w)


def loop_over_a_list_of_it(y):
    y = y * 1.0
    for z in [y]:
        z[0, 0] = 10
    return np.sum(y * y)


def rows_taken_by_a_comprehension(y):
    y = y * 1.0
    rows = [r for r in y]
    y *= 2
    return np.sum(rows[0] * rows[1])


# an index of unknown kind may make a view
def index_from_argmax(x):
    y = x * 1.0
    i = np.argmax(x[:, 0])
    r = y[i]
    y[i] = 0.0
    return np.sum(r * x[0]) + np.sum(y)


def slice_passed_in(x, s):
    y = x * 1.0
    v = y[s]
    v *= 3.0
    return np.sum(y * x)


def written_through_a_view_taken_by_a_slice_object(x):  # seed 302950
    t = np.outer(x, x)
    v = np.sum(t * np.sqrt(0.5 + x**2))  # the backward sweep reads t as it was here
    s = slice(None, None, -1)
    ys = t[s]  # a view of t: writing into it changes t, so the sweep must put t back
    ys[:, 1:3] *= 2.0
    return v


# tuple assignment of views, and a value written into itself
def swap_rows(x):
    y = x * 1.0
    y[0], y[1] = y[1], y[0]
    return np.sum(y * x)


def swap_slices(x):
    y = x * 1.0
    y[0:1], y[1:2] = y[1:2], y[0:1]
    return np.sum(y * x)


def written_into_itself(x):
    y = 2 * x
    y[:] = y
    return np.sum(y * x)


def written_reversed_into_itself(x):
    y = 2 * x
    y[::-1] = y
    return np.sum(y * x)


def ellipsis_into_itself(x):
    y = 2 * x
    y[...] = y
    return np.sum(y * x)


def stop_gradient_result_written(x):
    y = x * 1.0
    z = srcdiff.stop_gradient(y)
    z[0] = 10.0
    return np.sum(y * x)


# Python's containers
def pop_first(x):
    xs = [x, 2 * x, 3 * x]
    a = xs.pop(0)
    return a * xs[0] + xs[-1]


def pop_middle(x):
    xs = [x, 2 * x, 3 * x]
    a = xs.pop(1)
    return a * xs[0] + xs[-1]


def breadth_first_queue(x):
    q = [x, 2 * x]
    total = 0.0
    while q:
        v = q.pop(0)
        total = total * 2.0 + v
    return total


def sum_joins_lists(x):
    return sum([[x], [2 * x]], [])[1]


def joined_lists_then_sliced(x):  # sum(..., []) gives a list: its slice's adjoint is added leaf by leaf (seed 206275)
    v = x * 3.0
    parts = sum([[-v], [v, 2.0]], [])
    tail = parts[1:3]
    return tail[0] * tail[1]


def append_result_is_none(x):
    acc = []
    r = acc.append(2 * x)
    assert r is None
    return x + acc[0]


def list_sliced_by_a_slice_object(x):
    xs = [x, 2 * x, 3 * x]
    s = slice(1, None)
    y = xs[s]
    return np.sum(y[0] * 3.0)


def dict_filled_in_a_loop(x):
    params = {"a": x, "b": 2 * x}
    out = {}
    for k, v in params.items():
        out[k] = v * 3.0
    return np.sum(out["a"] * out["b"])


def dict_item_assigned(x):
    d = {}
    d["a"] = x
    return np.sum(d["a"] ** 2)


def dict_pop(x):
    d = {"a": x, "b": 2 * x}
    v = d.pop("a")
    return np.sum(v * d["b"])


def list_of_an_array(x):
    y = x * 2.0
    parts = list(y)
    return parts[0] * parts[1]


def tuple_of_an_array(x):
    y = x * 2.0
    parts = tuple(y)
    return parts[0] * parts[1]


def reversed_rows(x):
    y = x * 2.0
    parts = list(reversed(y))
    return parts[0] * 3 + parts[1]


def slice_assignment_changing_the_length(x):
    xs = [x, 2 * x, 3 * x]
    xs[0:2] = [5 * x]
    return xs[0] * xs[1] + len(xs)


def local_mutable_default_shared_by_calls(x):
    def h(v, acc=[]):  # noqa: B006 (the point: one list for every call)
        acc.append(v)
        return sum(acc)

    return h(x) + h(2 * x)


def local_default_made_inside(x):
    def h(v, acc=None):
        acc = [] if acc is None else acc
        acc.append(v)
        return sum(acc)

    return h(x) + h(2 * x)


# right programs once refused: a write before the binding, copies taken for views
def float_changed_before_the_name_takes_an_element(x):
    a = 2.0
    a *= 3.0
    y = x * 1.0
    a = y[-1]
    return a * np.sum(x)


def flatten_is_a_copy(x):
    y = np.outer(x, x)
    f = y.flatten()
    y[0, 0] = 1.0
    return np.sum(f * 2) + np.sum(y)


def unary_plus_is_a_copy(x):
    y = np.outer(x, x)
    r = +y[0]
    y[0, 0] = 1.0
    return np.sum(r * 2) + np.sum(y)


def _ones_times(a, shape):
    return a * np.ones(shape)


# y[i] of an array whose dimensions srcdiff does not know (a helper's result): a number of
# its own if y is a vector, a view if y has more dimensions; the write is checked at run time
def element_of_a_vector_of_unknown_ndim(x):
    y = _ones_times(x[0], (3,))
    r = y[1]
    y[1] += x[1]
    return np.sum(r * x) + np.sum(y)


def row_of_a_matrix_of_unknown_ndim(x):
    y = _ones_times(x[0], (2, 3))
    r = y[1]
    y[1] += x
    return np.sum(r * x) + np.sum(y)


def _exp_and_sin(a):
    return np.exp(a), np.sin(a)


def _one_array_twice(a):
    y = np.exp(a)
    return y, y


# a, b = h(x), then one of them written in place: Python's pair holds the same objects, but
# nothing reads the pair again; where h returned one array twice, the other name is stale
def pair_unpacked_then_added_into(x):
    a, b = _exp_and_sin(x)
    b += a
    return np.sum(a * b)


def pair_unpacked_then_written(x):
    a, b = _exp_and_sin(x)
    a[0] = 5.0
    return np.sum(b) + a[1] + a[2]


def pair_unpacked_in_a_loop(x):
    s = 0.0
    for k in range(3):
        a, b = _exp_and_sin(x * k)
        b += a
        s = s + np.sum(b * x)
    return s


def one_array_twice_then_added_into(x):
    a, b = _one_array_twice(x)
    b += 1.0
    return np.sum(a * b)


def one_array_twice_then_written(x):
    a, b = _one_array_twice(x)
    b[0] = 5.0
    return np.sum(a * b)


def pair_read_again_after_the_write(x):
    p = (x * 2.0, x * 3.0)
    a, b = p
    b += 1.0
    return np.sum(a * b) + np.sum(p[1])


# a write into an element of a local list or dict (hs[0][i] = v): the element changes in place
# and its slot still holds it; whatever else holds the element sees the change
def written_through_a_list(x):
    hs = [x * 1.0, x * 2.0]
    for i in range(3):
        hs[i % 2][i] += x[i] * hs[1 - i % 2][i]
    return np.sum(hs[0] * hs[1])


def written_through_a_dict(x):
    d = {"a": x * 1.0, "b": x**2}
    d["a"][0] *= 3.0
    d["b"][1:] = d["a"][:2] * x[2]
    return np.sum(d["a"] * x) + np.sum(d["b"])


def floats_written_through_lists_of_lists(x):
    m = [[1.0, 2.0], [3.0, 4.0]]
    m[0][1] = x[0] * 2.0
    m[1][0] += x[1] * m[0][1]
    return m[0][1] * m[1][0] + x[2]


def array_written_through_a_list_of_lists(x):
    m = [[x * 1.0, x * 2.0]]
    m[0][1] += x
    return np.sum(m[0][1] * x)


def written_through_a_list_then_read_under_its_name(x):
    h = x * 1.0
    hs = [h]
    hs[0][0] = 5.0
    return np.sum(h * x)


def written_through_one_slot_then_read_through_another(x):
    h = x * 1.0
    hs = [h, h]
    hs[0][0] += x[1]
    return np.sum(hs[1] * x)


def element_named_then_written_through_the_list(x):
    hs = [x * 1.0, x * 2.0]
    a = hs[0]
    hs[0][1] = 5.0
    return np.sum(a * x)


def held_by_a_list_in_a_list_then_added_into(x):
    a = x * 1.0
    m = [[a]]
    m[0][0] += 1.0
    return np.sum(a * x)


# a fact of every binding, not of one: a name bound to a mask, then to positions that repeat
def mask_name_rebound_to_repeated_positions(x):
    v = x * np.array([0.5, 0.7, 0.9])
    idx = v > 100.0
    idx = [1, 1, 0]
    v[idx] = v * np.array([2.0, 3.0, 4.0])  # NumPy keeps the last write to position 1
    return np.sum(v * v)


CASES = [
    (mask_name_rebound_to_repeated_positions, (W,), "right"),
    (held_in_a_list, (W,), "refused"),
    (rnn_history, (W,), "refused"),
    (shared_row_buffer, (W,), "refused"),
    (held_in_a_tuple, (W,), "refused"),
    (written_through_the_list, (W,), "refused"),
    (twice_in_a_tuple, (W,), "refused"),
    (twice_in_a_list_written_through_one_slot, (W,), "refused"),
    (two_arrays_in_a_list_one_written_through_its_slot, (W,), "right"),
    (held_in_a_dict, (W,), "refused"),
    (helper_returns_it_in_a_list, (W,), "refused"),
    (helper_returns_it_in_a_tuple, (W,), "refused"),
    (loop_over_a_list_of_it, (X2,), "refused"),
    (rows_taken_by_a_comprehension, (X2,), "refused"),
    (index_from_argmax, (X2,), "refused"),
    (slice_passed_in, (W, slice(0, 2)), "refused"),
    (slice_passed_in, (W, [0, 2]), "right"),  # an index array copies: nothing shared
    (written_through_a_view_taken_by_a_slice_object, (W,), "right"),
    (swap_rows, (X2,), "refused"),
    (swap_slices, (W,), "refused"),
    (written_into_itself, (W,), "right"),
    (written_reversed_into_itself, (W,), "right"),
    (ellipsis_into_itself, (X2,), "right"),
    (stop_gradient_result_written, (W,), "refused"),
    (pop_first, (1.5,), "right"),
    (pop_middle, (1.5,), "right"),
    (breadth_first_queue, (1.5,), "right"),
    (sum_joins_lists, (1.0,), "right"),
    (joined_lists_then_sliced, (1.5,), "right"),
    (append_result_is_none, (1.0,), "right"),
    (list_sliced_by_a_slice_object, (W,), "right"),
    (dict_filled_in_a_loop, (W,), "right"),
    (dict_item_assigned, (W,), "right"),
    (dict_pop, (W,), "right"),
    (list_of_an_array, (np.array([1.0, 2.0]),), "right"),
    (tuple_of_an_array, (np.array([1.0, 2.0]),), "right"),
    (reversed_rows, (np.array([1.0, 2.0]),), "right"),
    (slice_assignment_changing_the_length, (1.0,), "refused"),
    (local_mutable_default_shared_by_calls, (1.5,), "refused"),
    (local_default_made_inside, (1.5,), "right"),
    (float_changed_before_the_name_takes_an_element, (W,), "right"),
    (flatten_is_a_copy, (W,), "right"),
    (unary_plus_is_a_copy, (W,), "right"),
    (element_of_a_vector_of_unknown_ndim, (W,), "right"),
    (row_of_a_matrix_of_unknown_ndim, (W,), "refused"),
    (pair_unpacked_then_added_into, (W,), "right"),
    (pair_unpacked_then_written, (W,), "right"),
    (pair_unpacked_in_a_loop, (W,), "right"),
    (one_array_twice_then_added_into, (W,), "refused"),
    (one_array_twice_then_written, (W,), "refused"),
    (pair_read_again_after_the_write, (W,), "refused"),
    (written_through_a_list, (W,), "right"),
    (written_through_a_dict, (W,), "right"),
    (floats_written_through_lists_of_lists, (W,), "right"),
    (array_written_through_a_list_of_lists, (W,), "right"),
    (written_through_a_list_then_read_under_its_name, (W,), "refused"),
    (written_through_one_slot_then_read_through_another, (W,), "refused"),
    (element_named_then_written_through_the_list, (W,), "refused"),
    (held_by_a_list_in_a_list_then_added_into, (W,), "refused"),
]

WRITTEN_THROUGH = [written_through_a_list, written_through_a_dict, floats_written_through_lists_of_lists,
                   array_written_through_a_list_of_lists]  # fmt: skip


@pytest.mark.parametrize("f", WRITTEN_THROUGH, ids=lambda f: f.__name__)
def test_writes_through_elements_in_forward_mode_and_at_second_order(f):
    tangent = np.array([0.3, -0.2, 0.7])
    _, along = srcdiff.jvp(f, (W.copy(),), (tangent,))
    np.testing.assert_allclose(along, srcdiff.grad(f)(W.copy()) @ tangent, rtol=1e-10)
    eps, gradient = 1e-5, srcdiff.grad(f)
    expected = np.array([(gradient(W + eps * e) - gradient(W - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(srcdiff.hessian(f)(W.copy()), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, args, expected", CASES, ids=lambda c: getattr(c, "__name__", None))
def test_true_value_and_gradient_or_a_refusal_at_the_users_line(f, args, expected):
    assert right_or_refused_at_its_line(f, *args) == expected


def test_the_run_time_check_names_the_write_and_what_shares_it():
    with pytest.raises(SharedInPlace) as e:
        srcdiff.grad(rnn_history)(W.copy())
    assert e.value.line == inspect.getsourcelines(rnn_history)[1] + 4  # h += w * t
    assert "'history'" in str(e.value) and "h += w * t" in str(e.value)


def test_an_index_of_unknown_kind_that_copies_is_not_refused():
    def take_rows(x, idx):
        y = x * 1.0
        r = y[idx]  # an index array: a copy
        y[0] = 0.0
        return np.sum(r * x[0]) + np.sum(y)

    assert right_or_refused_at_its_line(take_rows, X2, np.array([1, 0])) == "right"


def test_a_list_whose_elements_are_rebound_not_written_is_right():
    def grow(w):
        h = np.zeros(3)
        history = []
        for t in range(3):
            h = h + w * t  # a new array each step: history keeps the old ones as they were
            history.append(h)
        return np.sum(np.stack(history) ** 2)

    assert right_or_refused_at_its_line(grow, W) == "right"


def test_second_order_through_a_checked_write():
    def f(x):
        ys = [x * 1.0, x * 2.0]
        k = 0 if x > 0 else 1
        ys[k] += x * x
        return ys[0] * ys[1]

    d2 = srcdiff.grad(srcdiff.grad(f))(1.5)
    eps = 1e-4
    first = srcdiff.grad(f)
    assert np.isclose(d2, (first(1.5 + eps) - first(1.5 - eps)) / (2 * eps), rtol=1e-6)


def test_second_order_through_a_dict_filled_by_item():
    def f(x):
        d = {}
        d["s"] = x * x
        return d["s"] * x

    assert srcdiff.grad(f)(1.5) == pytest.approx(3 * 1.5**2)
    assert srcdiff.grad(srcdiff.grad(f))(1.5) == pytest.approx(6 * 1.5)


# autograd's RNN example as written: a helper that builds its output with append and returns it,
# and *args joined with a tuple (args + (ones,)): both were refused
def _concat_and_multiply(weights, *args):
    cat_state = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return np.dot(cat_state, weights)


def _rnn_predict(params, inputs):
    def update_rnn(input, hiddens):
        return np.tanh(_concat_and_multiply(params["change"], input, hiddens))

    def hiddens_to_output_probs(hiddens):
        output = _concat_and_multiply(params["predict"], hiddens)
        return output - np.log(np.sum(np.exp(output), axis=1, keepdims=True))

    hiddens = np.repeat(params["init hiddens"], inputs.shape[1], axis=0)
    output = [hiddens_to_output_probs(hiddens)]
    for input in inputs:
        hiddens = update_rnn(input, hiddens)
        output.append(hiddens_to_output_probs(hiddens))
    return output


def rnn_log_likelihood(params, inputs, targets):
    logprobs = _rnn_predict(params, inputs)
    loglik = 0.0
    num_time_steps, num_examples, _ = inputs.shape
    for t in range(num_time_steps):
        loglik += np.sum(logprobs[t] * targets[t])
    return loglik / (num_time_steps * num_examples)


def test_autograds_rnn_example_as_written():
    rng = np.random.default_rng(3)
    params = {
        "init hiddens": rng.normal(size=(1, 4)),
        "change": rng.normal(size=(3 + 4 + 1, 4)),
        "predict": rng.normal(size=(4 + 1, 3)),
    }
    inputs, targets = rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, 3))
    gradient = srcdiff.grad(rnn_log_likelihood)(params, inputs, targets)
    for key, value in params.items():
        for i in np.ndindex(value.shape):
            moved = [{k: v.copy() for k, v in params.items()} for _ in range(2)]
            moved[0][key][i] += 1e-6
            moved[1][key][i] -= 1e-6
            numeric = (rnn_log_likelihood(moved[0], inputs, targets) - rnn_log_likelihood(moved[1], inputs, targets)) / 2e-6
            assert gradient[key][i] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def _log_partition(natural_params, x):
    return np.sum(natural_params * x) ** 2


def summed_over_a_map_of_a_partial(natural_params, data):  # autograd's mixture example, as written
    return sum(map(partial(_log_partition, natural_params), data))


def test_a_partial_written_where_a_function_is_expected():
    from functools import partial as make

    rng = np.random.default_rng(5)
    a, data = rng.normal(size=3), [rng.normal(size=3) for _ in range(4)]
    expected = sum(2 * np.sum(a * x) * x for x in data)
    np.testing.assert_allclose(srcdiff.grad(summed_over_a_map_of_a_partial)(a, data), expected)

    def called_at_once(a, x):
        return make(_log_partition, a)(x) + make(_log_partition, x=x)(a)

    np.testing.assert_allclose(srcdiff.grad(called_at_once)(a, data[0]), 4 * np.sum(a * data[0]) * data[0])


STEP = 0.5  # a module-level number the differentiated code reads


def scaled_by_a_global(x):
    return np.sum(np.sin(x) * STEP)


def test_a_global_number_is_a_scalar_and_checked_on_entry():
    global STEP
    g = srcdiff.grad(scaled_by_a_global)
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(g(x), np.cos(x) * 0.5)
    assert "unbroadcast" not in srcdiff.source(g, x)  # a number: no broadcasting bookkeeping
    try:
        STEP = np.array([1.0, 2.0])  # now an array: the code built for a number must not run
        with pytest.raises(SrcdiffError, match="'STEP' held a number"):
            g(x)
    finally:
        STEP = 0.5
    np.testing.assert_allclose(g(x), np.cos(x) * 0.5)


def reversed_by_a_slice_object_then_sliced(xs):
    s = slice(None, None, -1)
    ys = xs[s]  # a list, not one element
    tail = ys[1:3]
    return np.sum(tail[-1] * ys[0]) + np.sum(tail[-1])


def test_a_list_argument_taken_by_a_slice_object_is_a_list():  # seed 207378
    xs = [np.array(0.3), np.array(-0.5), np.array(0.8)]
    got = srcdiff.grad(reversed_by_a_slice_object_then_sliced)(xs)
    # tail[-1] is xs[0], ys[0] is xs[2]: d/dxs[0] = xs[2] + 1, d/dxs[2] = xs[0]
    np.testing.assert_allclose([float(g) for g in got], [0.8 + 1.0, 0.0, 0.3])


def test_second_order_through_a_dict_item_rewritten_and_an_array_of_unknown_kind_written():
    def cube(x):
        d = {"a": x * 1.0}
        d["a"] = d["a"] * x  # a key that exists: the first derivative's tape keeps its value
        return d["a"] * x

    assert srcdiff.grad(srcdiff.grad(cube))(1.5) == pytest.approx(6 * 1.5)

    def _pair(v):
        return v * 1.0, v * 2.0

    def scaled_slice(x):
        t = _pair(x)[0]  # an element of a helper's result: of unknown kind
        t[1:3] *= x[0]
        return np.sum(t * t)

    x = np.array([0.5, -1.0, 2.0])
    hess = srcdiff.hessian(scaled_slice)(x)
    eps = 1e-5
    first = srcdiff.grad(scaled_slice)
    numeric = np.array([(first(x + eps * e) - first(x - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-6)
