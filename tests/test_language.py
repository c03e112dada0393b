"""Language coverage (issue 9): comprehensions, generators, lambdas and nested functions,
*-unpacking, loop forms and dicts, each checked against autograd running the same code,
against central differences, at second order and in forward mode.

Every program here is written as a user would write it; the normalised code it becomes
uses only constructs the transforms already differentiate.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from functools import partial
from typing import ClassVar, NamedTuple

import autograd
import numpy as np
import pytest

import srcdiff
from srcdiff.errors import NoDerivativeRule, UnsupportedSyntax, WrtTypeError
from tests.catalogue import autograd_twin
from tests.test_trust import central_differences, same_structure_and_values

RNG = np.random.default_rng(9)
X = np.array([0.3, -0.7, 1.2, 0.45])


def agrees(f, *args, wrt=0, second_order=True, forward=True):
    """srcdiff's gradient of ``f`` matches autograd's and central differences; its
    Hessian-vector product (``jvp(grad(f))``) matches differences of the gradient, and
    its forward mode matches the gradient along a random direction."""
    got = srcdiff.grad(f, wrt=wrt)(*args)
    want = autograd.grad(autograd_twin(f), wrt)(*args)
    same_structure_and_values(got, want)
    np.testing.assert_allclose(got, central_differences(f, args, wrt), rtol=1e-5, atol=1e-6)
    x = args[wrt]
    direction = RNG.normal(size=np.shape(x))
    direction = float(direction) if np.ndim(x) == 0 else direction

    def moved(step):
        return (*args[:wrt], x + step * direction, *args[wrt + 1 :])

    if forward:
        _, tangent = srcdiff.jvp(f, args, _tangents(args, wrt, direction))
        np.testing.assert_allclose(tangent, np.sum(np.asarray(got) * direction), rtol=1e-6, atol=1e-9)
    if second_order:
        _, hessian_direction = srcdiff.jvp(srcdiff.grad(f, wrt=wrt), args, _tangents(args, wrt, direction))
        eps = 1e-5
        gradient = srcdiff.grad(f, wrt=wrt)
        numeric = (np.asarray(gradient(*moved(eps))) - np.asarray(gradient(*moved(-eps)))) / (2 * eps)
        np.testing.assert_allclose(hessian_direction, numeric, rtol=1e-4, atol=1e-6)


def _tangents(args, wrt, direction):
    """Tangents for jvp: ``direction`` for the argument differentiated, zeros (or None) elsewhere."""
    return tuple(direction if i == wrt else _zero_tangent(a) for i, a in enumerate(args))


def _zero_tangent(a):
    if isinstance(a, (float, np.ndarray)):
        return np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0
    return None


# ---------------------------------------------------------------- comprehensions and generators


def sum_of_generator(x):
    return sum(v * v for v in x if v > 0)


def builtin_max_of_generator(x):
    return max(np.sin(v) * v for v in x)


def builtin_min_of_list(x):
    return min([v * v + 0.1 * v for v in x])


def max_of_arguments(x):
    return max(x[0] * 2.0, x[1], np.cos(x[2])) + min(x[0], x[1] * x[2], x[3])


def tuple_of_generator(x):
    pair = tuple(v * 2.0 for v in x[:2])
    return pair[0] * pair[1]


def list_of_generator_in_a_loop(x):
    total = 0.0
    for k in range(3):
        scaled = list(v * k + np.sin(v) for v in x)
        total = total + scaled[k] * scaled[k + 1]
    return total


def nested_comprehension(x):
    return sum([a * b for a in x for b in x if a > b])


def comprehension_into_stack(x):
    rows = np.stack([x * k + np.cos(x) for k in range(3) if k != 1])
    return np.sum(rows**2)


def comprehension_into_concatenate(x):
    return np.sum(np.concatenate([x[k : k + 2] * x[k] for k in range(len(x) - 1)]) ** 2)


def comprehension_into_array(x):
    return np.sum(np.array([v * v for v in x]) * np.arange(4.0))


def generator_into_np_sum_of_list(x):
    return np.sum([np.exp(v) for v in x if v < 1.0])


def map_over_a_sequence(x):
    return sum(map(np.sin, x)) + sum(map(np.multiply, x, x[::-1]))


def filter_then_sum(x):
    return sum(filter(None, [v * 1.5 for v in x]))


def loop_over_a_generator(x):
    total = 0.0
    for v in (np.tanh(u) for u in x):
        total = total + v * v
    return total


@pytest.mark.parametrize(
    "f",
    [
        sum_of_generator,
        builtin_max_of_generator,
        builtin_min_of_list,
        max_of_arguments,
        tuple_of_generator,
        list_of_generator_in_a_loop,
        nested_comprehension,
        comprehension_into_stack,
        comprehension_into_concatenate,
        comprehension_into_array,
        generator_into_np_sum_of_list,
        map_over_a_sequence,
        filter_then_sum,
        loop_over_a_generator,
    ],
)
def test_comprehensions_and_generators(f):
    agrees(f, X)


def max_keeps_the_first_of_ties(x):
    return max([x[0], x[1], x[0]])


def test_max_of_ties_gives_the_first_its_gradient_as_python_does():
    np.testing.assert_allclose(srcdiff.grad(max_keeps_the_first_of_ties)(np.array([2.0, 1.0])), [1.0, 0.0])


def array_of_generator(x):
    return np.sum(np.array(v for v in x))


def test_a_generator_given_to_numpy_is_refused():
    with pytest.raises(UnsupportedSyntax, match="list comprehension"):
        srcdiff.grad(array_of_generator)(X)


# ---------------------------------------------------------------- loops


def while_true_with_break(x):
    y = x
    steps = 0
    while True:
        y = y * 0.5 + np.sin(y)
        steps += 1
        if steps >= 4:
            break
    return y


def while_true_with_return(x):
    y = x
    while True:
        y = y * 0.5
        if y < 0.1:
            return y * y


def return_inside_a_loop_else_falls_through(x):
    for k in range(3):
        if k == 1:
            return x * x * k
    return -x


def for_else(x, limit):
    s = 0.0
    for v in x:
        s = s + v * v
        if s > limit:
            break
    else:
        s = s * np.sin(s)
    return s


def for_else_in_a_loop(x):
    s = 0.0
    for k in range(3):
        for v in x:
            if v > k:
                break
            s = s + v * k
        else:
            s = s + x[0] ** 2
            continue
        s = s * x[1]
    return s


def while_else(x):
    y = x
    while y > 0.2:
        y = y * 0.7
        if y < 0.3:
            break
    else:
        y = y * y
    return y


def negative_range_steps(x):
    s = 0.0
    for i in range(len(x) - 1, -1, -2):
        s = s * 0.5 + x[i] ** 2
    for i in reversed(range(0, len(x), 2)):
        s = s * x[i]
    return s


def enumerate_zip_nested(x):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, x[::-1]), 1):
        s = s + i * a * np.sin(b)
    for (j, a), b in zip(enumerate(x), reversed(x)):
        s = s + j * a * b
    return s


def reversed_list(x):
    parts = [v * v for v in x]
    s = 0.0
    for p in reversed(parts):
        s = s * 0.5 + p
    return s


@pytest.mark.parametrize(
    "f, args",
    [
        (while_true_with_break, (1.3,)),
        (while_true_with_return, (1.3,)),
        (return_inside_a_loop_else_falls_through, (0.8,)),
        (for_else, (X, 100.0)),
        (for_else, (X, 0.5)),
        (for_else_in_a_loop, (X,)),
        (while_else, (1.0,)),
        (while_else, (0.35,)),
        (negative_range_steps, (X,)),
        (enumerate_zip_nested, (X,)),
        (reversed_list, (X,)),
    ],
)
def test_loop_forms(f, args):
    agrees(f, *args)


def return_inside_a_loop_then_fall_off(x):
    for k in range(3):
        if k == 1:
            return x * x * k


def test_a_return_inside_a_loop_is_not_overwritten_by_falling_off_the_end():
    agrees(return_inside_a_loop_then_fall_off, 0.8)  # the None of falling off once overwrote it: gradient 0


# ---------------------------------------------------------------- lambdas and local functions


def lambda_called(x):
    square = lambda v: v * v  # noqa: E731
    return np.sum(square(x) + square(np.sin(x)))


def closure_over_locals(x):
    scale = 2.0 * x[0]

    def weigh(v, power=2):
        """Reads scale as it is when called."""
        return scale * v**power

    first = weigh(x)
    scale = np.cos(x[1])  # a closure reads the current value
    return np.sum(first) + np.sum(weigh(x, power=3))


def local_function_with_loops_and_returns(x):
    def clipped_sum(v, limit):
        total = 0.0
        for u in v:
            if total > limit:
                return total * 0.5
            total = total + u * u
        return total

    out = 0.0
    for k in range(3):
        out = out + clipped_sum(x * k, 1.0)
    return out


def lambda_in_map_and_comprehension(x):
    shift = np.tanh(x[0])
    return sum(map(lambda v: (v - shift) ** 2, x)) + sum([(lambda v: v * u)(u) for u in x])


def lambda_parameter_shadows_comprehension_variable(x):
    return sum([(lambda v: v * 3.0)(x[0]) * v for v in x])


def default_evaluated_at_definition(x):
    factor = x[0]
    times = lambda v, by=factor: v * by  # noqa: E731
    factor = 100.0
    return np.sum(times(x)) + factor * 0.0


def local_helpers_call_each_other(x):
    def inner(v):
        return np.sin(v) * v

    def outer(v):
        return inner(v) + inner(2.0 * v)

    return np.sum(outer(x))


def called_immediately(x):
    return (lambda a, b: np.sum(a * b))(x, np.exp(x))


@pytest.mark.parametrize(
    "f",
    [
        lambda_called,
        closure_over_locals,
        local_function_with_loops_and_returns,
        lambda_in_map_and_comprehension,
        lambda_parameter_shadows_comprehension_variable,
        default_evaluated_at_definition,
        local_helpers_call_each_other,
        called_immediately,
    ],
)
def test_local_functions(f):
    agrees(f, X)


def test_grad_of_a_lambda():
    a = 1.5
    f, g = (lambda v: a * np.sin(v)), (lambda v: np.sum(v**3))  # two on one line: told apart by column
    assert srcdiff.grad(f)(0.3) == pytest.approx(a * np.cos(0.3))
    np.testing.assert_allclose(srcdiff.grad(g)(X), 3 * X**2)
    assert srcdiff.grad(srcdiff.grad(lambda v: v**3))(2.0) == pytest.approx(12.0)
    assert srcdiff.jvp(lambda v: v**3, (2.0,), (1.0,))[1] == pytest.approx(12.0)


def passes_a_local_function_on(x):
    f = lambda v: v * 2.0  # noqa: E731
    return np.sum(np.apply_along_axis(f, 0, x))  # <- refused


def calls_before_definition(x):
    y = later(x)  # noqa: F821  # <- refused

    def later(v):
        return v

    return np.sum(y)


def defines_in_a_branch(x):
    if x[0] > 0:

        def g(v):  # <- refused
            return v

        return np.sum(g(x))
    return np.sum(x)


def rebinds_a_local_function(x):
    f = lambda v: v  # noqa: E731  # <- refused: it is bound twice
    y = f(x)
    f = lambda v: 2 * v  # noqa: E731
    return np.sum(f(y))


@pytest.mark.parametrize(
    "f, words",
    [
        (passes_a_local_function_on, "used other than by calling it"),
        (calls_before_definition, "called before it is defined"),
        (defines_in_a_branch, "at the top level"),
        (rebinds_a_local_function, "at the top level"),
    ],
)
def test_local_functions_refused(f, words):
    with pytest.raises(UnsupportedSyntax, match=words) as info:
        srcdiff.grad(f)(X)
    lines, first = inspect.getsourcelines(f)
    assert info.value.line == first + next(i for i, text in enumerate(lines) if "# <- refused" in text)


# ---------------------------------------------------------------- *-unpacking


def weighted(a, b, c=1.0):
    return a * b + np.sin(c)


def star_into_a_primitive_and_a_helper(x):
    pair = (x, np.cos(x))
    triple = [x[0], x[1], x[2]]
    return np.sum(np.multiply(*pair)) + weighted(*triple) + weighted(*[x[3], x[0]], c=x[1])


def star_into_a_list_display(x):
    rows = [x * 2.0, np.sin(x)]
    return np.sum(np.stack([*rows, x**2]) ** 2)


def star_of_a_parameter_in_a_list(x, ys):
    return np.sum(np.stack([x, *ys, x * 3.0]) * 1.5)


def star_of_a_comprehension(x):
    return sum((*[v * v for v in x], x[0]))


def starred_targets(x):
    first, *middle, last = x
    head, *tail = [np.sin(v) for v in x]
    total = first * last + sum(middle) * 2.0 + head * np.sum(np.array(tail))
    for a, *others in [x[:2], x[2:]]:
        total = total + a * others[0]
    return total


@pytest.mark.parametrize(
    "f", [star_into_a_primitive_and_a_helper, star_into_a_list_display, star_of_a_comprehension, starred_targets]
)
def test_star_unpacking(f):
    agrees(f, X)


def test_star_of_a_list_parameter():
    ys = [RNG.normal(size=4), RNG.normal(size=4)]
    agrees(star_of_a_parameter_in_a_list, X, ys)
    got = srcdiff.grad(star_of_a_parameter_in_a_list, wrt=1)(X, ys)
    same_structure_and_values(got, autograd.grad(autograd_twin(star_of_a_parameter_in_a_list), 1)(X, ys))


def too_few_to_unpack(x):
    a, *rest, b = [x[0]]
    return a * b * len(rest)


def star_call_of_unknown_length(x, ys):
    return np.sum(np.add(*ys)) * x  # <- refused


def test_star_unpacking_refusals():
    with pytest.raises(ValueError, match="not enough values to unpack"):
        srcdiff.grad(too_few_to_unpack)(X)
    with pytest.raises(UnsupportedSyntax, match="length is seen where the function is written"):
        srcdiff.grad(star_call_of_unknown_length)(1.0, [X, X])


# ---------------------------------------------------------------- dicts


def dict_display(x):
    d = {"a": x, "b": np.sin(x), "a2": x[0] ** 2}
    return np.sum(d["a"] * d["b"]) + d["a2"]


def dict_repeated_key_keeps_the_last(x):
    d = {"w": x, "v": x * x, "w": 3.0 * x}  # noqa: F601
    return sum(np.sum(v) * len(k) for k, v in d.items())


def dict_call_and_get(x):
    d = dict(a=x, b=np.cos(x))
    return np.sum(d.get("a") * d.get("b", 1.0) + d.get("c", 2.0) * x)


def dict_loops(x):
    d = {"first": x[:2], "second": x[2:] ** 2}
    total = 0.0
    for k in d:
        total = total + np.sum(d[k] * np.sin(d[k]))
    for v in d.values():
        total = total + np.sum(v) ** 2
    return total + sum(np.prod(d[k]) for k in d.keys()) + max(np.sum(v) for v in d.values())


def dict_written_then_read_in_a_loop(x):
    d = {"acc": 0.0 * x[0], "scale": x[1]}
    for v in x:
        d["acc"] = d["acc"] + v * d["scale"]
    return d["acc"]


@pytest.mark.parametrize(
    "f", [dict_display, dict_repeated_key_keeps_the_last, dict_call_and_get, dict_loops, dict_written_then_read_in_a_loop]
)
def test_dicts(f):
    agrees(f, X)


def regularised(params, x):
    total = 0.0
    for name in params:
        total = total + np.sum(params[name] * x)
    return total + sum(np.sum(params[k] ** 2) for k in params) + sum(np.sum(v) for v in params.values())


def test_loops_over_a_dict_parameter():
    params = {"w": RNG.normal(size=4), "b": RNG.normal(size=4)}
    got = srcdiff.grad(regularised)(params, X)
    same_structure_and_values(got, autograd.grad(autograd_twin(regularised))(params, X))
    assert srcdiff.check_grad(regularised, params, X)
    got = srcdiff.grad(regularised, wrt=1)(params, X)
    np.testing.assert_allclose(got, params["w"] + params["b"])


def nested_dict_layers(params, x):
    total = 0.0
    for name in params["layers"]:  # an element of a dict: a dict only when it runs
        total = total + np.sum(np.tanh(params["layers"][name] * x))
    return total


def list_of_dicts_with_integer_keys(ps, x):
    total = 0.0
    for d in ps:
        for k in d:  # keys, not positions: {1: .., 0: ..} walks 1 then 0
            total = total + d[k] * x[k] * (k + 1.0)
    return total


def elements_of_a_list_of_lists(ps, x):
    total = 0.0
    for row in ps[0]:  # the same loop over a list walks its items
        total = total + row * np.sum(x)
    return total


def test_loops_over_dicts_inside_containers():
    params = {"layers": {"w": RNG.normal(size=4), "b": RNG.normal(size=4)}, "scale": 2.0}
    for wrt in (0, 1):
        got = srcdiff.grad(nested_dict_layers, wrt=wrt)(params, X)
        same_structure_and_values(got, autograd.grad(autograd_twin(nested_dict_layers), wrt)(params, X))
    ps = [{1: 0.5, 0: -1.5}, {3: 2.0}]
    for wrt in (0, 1):
        got = srcdiff.grad(list_of_dicts_with_integer_keys, wrt=wrt)(ps, X)
        same_structure_and_values(got, autograd.grad(list_of_dicts_with_integer_keys, wrt)(ps, X))
    lists = [[0.5, -1.5, 2.0]]
    got = srcdiff.grad(elements_of_a_list_of_lists)(lists, X)
    same_structure_and_values(got, autograd.grad(elements_of_a_list_of_lists)(lists, X))
    # second order and forward mode take the same loops
    hessian = srcdiff.hessian(nested_dict_layers, wrt=1)(params, X)
    np.testing.assert_allclose(hessian, autograd.hessian(autograd_twin(nested_dict_layers), 1)(params, X), atol=1e-10)


def dict_with_a_computed_key(x):
    k = "a"
    return {k: x * x, "b": 2.0}[k]


def dict_of_a_dict_unpacked(x):
    base = {"w": x * 2.0, "b": x[0]}
    d = {**base, "b": x[1] * 3.0, "c": np.sum(x)}  # a later key replaces an earlier one
    return np.sum(d["w"] * d["b"]) + d["c"]


def dict_of_a_parameter_unpacked(x, options):
    return np.sum({**options, "v": x * options["v"]}["v"] * options["w"])  # its keys, as it holds them


def test_dicts_with_computed_keys_and_unpacking():
    agrees(dict_with_a_computed_key, 1.5)
    agrees(dict_of_a_dict_unpacked, X)
    options = {"v": 2.0, "w": X * 3.0}
    np.testing.assert_allclose(
        srcdiff.grad(dict_of_a_parameter_unpacked)(X, options), central_differences(dict_of_a_parameter_unpacked, (X, options), 0)
    )


# ---------------------------------------------------------------- list and dict methods, comprehensions


def list_extend(x):
    xs = [x[0]]
    xs.extend([x[1], x[2] * x[0]])
    xs.extend(v * v for v in x[2:])  # a generator, walked at once
    return sum(xs) * xs[2]


def list_extends_itself(x):
    xs = [x[0], x[1] * 2.0]
    xs.extend(xs)  # doubles: the items as they were
    return xs[0] * xs[3] + len(xs) * xs[2]


def list_insert(x):
    xs = [x[0], x[1]]
    xs.insert(0, x[3] * 2.0)
    xs.insert(-1, x[2] ** 2)  # before the last
    xs.insert(99, x[0] * x[1])  # past the end: appended
    xs.insert(-99, np.sin(x[2]))  # before the start: first
    return xs[0] * xs[1] + xs[2] * xs[3] - xs[4] * xs[5]


def list_of_arrays_insert(x):
    rows = [x[:2] * 1.0, x[2:] * 2.0]
    rows.insert(1, x[1:3] ** 2)
    return np.sum(np.stack(rows) ** 2 * np.arange(6.0).reshape(3, 2))


def list_augmented(x):
    xs = [x[0]]
    for v in x[1:]:
        xs += [v * xs[-1]]
    return sum(xs)


def list_concatenated(x):
    xs = [x[0], x[1]]
    ys = xs + [x[2] * x[3]] + list(x[:2] ** 2)
    return ys[2] * ys[3] + ys[4] * len(ys)


def list_built_by_concatenation_in_a_loop(x):
    acc = []
    for v in x:
        acc = acc + [np.tanh(v)]
    return np.sum(np.array(acc) * x)


def dict_update(x):
    d = {"a": x[0]}
    d.update({"b": x[1] * x[0]}, c=x[2])
    e = {"c": x[3] * 2.0}
    d.update(e)  # a local dict: each of its keys, a later one replacing
    return d["a"] * d["b"] + d["c"] ** 2


def dict_from_pairs(x):
    e = dict(zip(["p", "q"], [x[2], x[3] * x[0]]))
    f = dict([("r", x[1]), ("s", x[0] ** 2)])
    g = dict(f.items())
    return e["p"] * e["q"] + g["r"] * g["s"]


def unzipped_pairs(x):
    pairs = [(x[0], x[1]), (x[2], x[3])]
    u, v = zip(*pairs)
    return sum(u) * v[0] * v[1]


def unpack_params(params):
    return params[:2], params[2:] * 2.0, params[1:3] ** 2


def zip_of_a_calls_items(x):  # autograd's examples: for a, b, c in zip(*unpack_params(params))
    total = 0.0
    for a, b, c in zip(*unpack_params(x)):
        total = total + a * b + np.sin(c)
    return total


def unzipped_rows_of_a_length_known_when_it_runs(x):
    rows = [x[k : k + 2] for k in range(len(x) - 1)]
    u, v = zip(*rows)  # (the shortest row sets how many columns)
    return sum(u) * v[-1] + len(u)


def dict_comprehension(x):
    squares = {k: x[i] ** 2 for i, k in enumerate("abcd") if i != 2}
    scaled = {k: v * squares["a"] for k, v in squares.items()}
    return scaled["b"] + scaled["d"] * len(scaled)


@pytest.mark.parametrize(
    "f",
    [
        list_extend,
        list_extends_itself,
        list_insert,
        list_of_arrays_insert,
        list_augmented,
        list_concatenated,
        list_built_by_concatenation_in_a_loop,
        dict_update,
        dict_from_pairs,
        unzipped_pairs,
        zip_of_a_calls_items,
        unzipped_rows_of_a_length_known_when_it_runs,
        dict_comprehension,
    ],
)
def test_list_and_dict_methods(f):
    agrees(f, X)


def extend_seen_through_a_second_name(x):
    xs = [x[0]]
    alias = xs
    xs += [x[1] * 3.0]  # the same list, grown: alias sees it  <- refused, as append is
    return alias[1] * len(alias)


def test_growing_a_list_another_name_holds_is_refused_as_appending_is():
    with pytest.raises(UnsupportedSyntax, match="'alias' would share its data with 'xs'"):
        srcdiff.grad(extend_seen_through_a_second_name)(X)


def concatenation_is_a_new_list(x):
    xs = [x[0]]
    before = xs
    xs = xs + [x[1] * 3.0]  # a new list: before keeps one item
    return xs[1] * before[-1] * len(before)


def test_concatenation_leaves_the_first_list_as_it_was():
    agrees(concatenation_is_a_new_list, X)
    assert srcdiff.value_and_grad(concatenation_is_a_new_list)(X)[0] == pytest.approx(concatenation_is_a_new_list(X))


def recursive_local_function(x):
    def power(v, n):
        return 1.0 if n == 0 else v * power(v, n - 1)  # <- refused

    return power(x, 3)


def test_a_local_function_calling_itself_is_refused():
    with pytest.raises(UnsupportedSyntax, match="calls itself") as info:
        srcdiff.grad(recursive_local_function)(1.5)
    lines, first = inspect.getsourcelines(recursive_local_function)
    assert info.value.line == first + 2


def make_scaled_loss(scale):
    offset = np.ones(4)
    return lambda w: scale * np.sum((w - offset) ** 2)


def test_grad_of_a_closure_lambda():
    loss = make_scaled_loss(3.0)
    np.testing.assert_allclose(srcdiff.grad(loss)(X), 6.0 * (X - 1.0))


def local_function_appends_to_an_enclosing_list(x):
    acc = []

    def add(v):
        acc.append(v * 2.0)

    for v in x:
        add(np.sin(v))
    return sum(acc)


def lambdas_binding_a_loop_variable_by_default(x):
    return sum([(lambda v, k=k: v * k)(x[k]) for k in range(4)]) + sum(map(lambda a, b: a * b, x, x[1:]))


def while_true_inside_a_for_with_continue(x):
    s = 0.0
    for v in x:
        n = 0
        while True:
            n += 1
            if n > 3:
                break
            if v < 0:
                continue
            s = s + v * n
    return s


def dict_with_integer_keys(x):
    d = {0: x[1], 1: x[0] * 3.0}
    s = 0.0
    for k in d:
        s = s + d[k] * (k + 1)
    return s


@pytest.mark.parametrize(
    "f",
    [
        local_function_appends_to_an_enclosing_list,
        lambdas_binding_a_loop_variable_by_default,
        while_true_inside_a_for_with_continue,
        dict_with_integer_keys,
    ],
)
def test_mixed_forms(f):
    agrees(f, X)


def euler_by_tuple_assignment(p):
    x, v = p[0], p[1]
    for _ in range(20):
        x, v = x + 0.1 * v, v - 0.1 * np.sin(x)
    return x * v


def swaps_and_writes_in_order(x):
    a, b = x * 2.0, x[::-1] * 1.0
    a, b = b, a  # a swap: each value read before either name is bound again
    a, b = a * b, a  # (b is the old a, not the product)
    c = [0.0, 0.0, 0.0]
    i = 0
    i, c[i] = 1, b[0] * 3.0  # targets in order: c[1] is written, with the new i
    d = [0.0, 0.0]
    d[0], d[1] = np.sum(a), np.sum(c[1] * b)
    return d[0] * d[1] + c[1] + c[0]


@pytest.mark.parametrize("f", [euler_by_tuple_assignment, swaps_and_writes_in_order])
def test_tuple_assignment_of_a_display(f):
    agrees(f, X)


def euler_of_floats(x0, v0):
    x, v = x0, v0
    for _ in range(30):
        x, v = x + 0.01 * v, v - 0.01 * math.sin(x)
    return x


def test_tuple_assignment_keeps_floats_floats():
    # the kinds reach the targets: float code, no helpers (it was the generic path, 12x slower)
    g = srcdiff.grad(euler_of_floats, wrt=(0, 1))
    assert "srcdiff.runtime" not in srcdiff.source(g, 0.5, 0.1)
    want = autograd.grad(autograd_twin(euler_of_floats), (0, 1))(0.5, 0.1)
    np.testing.assert_allclose(g(0.5, 0.1), want, rtol=1e-12)


def deletes_names_it_is_done_with(x):
    big = np.outer(x, x)
    total = np.sum(np.tanh(big))
    del big  # freeing memory is no change of value
    for v in x:
        step = v * total
        del step
    return total * x[0]


def test_del_of_a_name_is_accepted():
    agrees(deletes_names_it_is_done_with, X)


def prints_a_joined_generator(x):
    print(", ".join(f"{v:.2f}" for v in x))
    return np.sum(x * x)


def test_str_join_walks_a_generator(capsys):
    np.testing.assert_allclose(srcdiff.grad(prints_a_joined_generator)(X), 2 * X)
    assert capsys.readouterr().out == "0.30, -0.70, 1.20, 0.45\n"


def star_and_double_star_call(x, options):
    args = (x[0], x[1])
    return weighted(*args, **options)  # <- refused: the keys of options are not seen


def test_a_refusal_inside_a_rewritten_call_names_the_users_line():
    for f, args in ((star_and_double_star_call, (X, {"c": 1.0})), (double_star_of_a_changed_dict, (X,))):
        with pytest.raises(UnsupportedSyntax, match=r"keys are seen where the function is written") as info:
            srcdiff.grad(f)(*args)
        assert "**options)" in info.value.construct


# ---------------------------------------------------------------- records


class Layer(NamedTuple):
    W: np.ndarray
    b: float


def layer_loss(layer, x):
    W, b = layer
    return np.sum(np.tanh(x @ W) * b) + layer[1] ** 2


def layer_loss_by_attribute(layer, x):
    return np.sum(np.tanh(x @ layer.W) * layer.b) + layer.b**2


def test_named_tuple_parameters():
    layer = Layer(RNG.normal(size=(4, 2)), 0.7)
    want = autograd.grad(autograd_twin(layer_loss))(tuple(layer), X)
    for f in (layer_loss, layer_loss_by_attribute):
        got = srcdiff.grad(f)(layer, X)
        assert type(got) is Layer
        np.testing.assert_allclose(got.W, want[0])
        assert got.b == pytest.approx(want[1])
        assert srcdiff.check_grad(f, layer, X)
    np.testing.assert_allclose(srcdiff.grad(layer_loss_by_attribute, wrt=1)(layer, X), autograd.grad(layer_loss, 1)(layer, X))
    # forward mode and a Hessian-vector product through the fields
    direction = Layer(RNG.normal(size=(4, 2)), 0.3)
    _, tangent = srcdiff.jvp(layer_loss_by_attribute, (layer, X), (direction, None))
    assert tangent == pytest.approx(np.sum(want[0] * direction.W) + want[1] * direction.b)
    _, hessian_direction = srcdiff.jvp(srcdiff.grad(layer_loss_by_attribute), (layer, X), (direction, None))
    eps = 1e-6
    gradient = srcdiff.grad(layer_loss_by_attribute)
    moved = [gradient(Layer(layer.W + s * direction.W, layer.b + s * direction.b), X) for s in (eps, -eps)]
    np.testing.assert_allclose(hessian_direction.W, (moved[0].W - moved[1].W) / (2 * eps), rtol=1e-5, atol=1e-7)
    assert hessian_direction.b == pytest.approx((moved[0].b - moved[1].b) / (2 * eps), rel=1e-5)


@dataclasses.dataclass
class Dense:
    W: np.ndarray
    b: np.ndarray


def stacked_layers(layers, x):  # for layer in layers: each read by field
    for layer in layers:
        x = np.tanh(x @ layer.W + layer.b)
    return np.sum(x**2)


def test_a_list_of_named_tuples_or_dataclasses_read_by_field_in_a_loop():
    shapes = [((3, 4), (4,)), ((4, 2), (2,))]
    params = [(RNG.normal(size=s), RNG.normal(size=t)) for s, t in shapes]
    x = RNG.normal(size=(5, 3))

    def reference(params, x):
        for W, b in params:
            x = autograd.numpy.tanh(x @ W + b)
        return autograd.numpy.sum(x**2)

    want = autograd.grad(reference)(params, x)
    for make in (Layer, Dense):
        layers = [make(W, b) for W, b in params]
        got = srcdiff.grad(stacked_layers)(layers, x)
        assert [type(g) for g in got] == [make, make]
        for g, (dW, db) in zip(got, want):
            np.testing.assert_allclose(g.W, dW, rtol=1e-10)
            np.testing.assert_allclose(g.b, db, rtol=1e-10)
        directions = [make(np.ones_like(W), np.ones_like(b)) for W, b in params]
        _, along = srcdiff.jvp(stacked_layers, (layers, x), (directions, None))
        assert along == pytest.approx(sum(np.sum(dW) + np.sum(db) for dW, db in want), rel=1e-10)


def rows_of_a_list_of_arrays(ws, x):  # each item an array: its attributes are an array's
    for w in ws:
        x = np.tanh(x @ w.T)
    return np.sum(x**2)


def test_a_loop_over_a_list_of_arrays_reads_the_arrays_attributes():
    ws, x = [RNG.normal(size=(3, 3)), RNG.normal(size=(2, 3))], RNG.normal(size=(4, 3))
    assert srcdiff.check_grad(rows_of_a_list_of_arrays, ws, x)


class Tally(NamedTuple):  # fields named like tuple methods: a NamedTuple's field hides the method
    index: float
    count: np.ndarray


def tally_loss(tally, x):
    return tally.index * np.sum(x) + np.sum(tally.count * x) ** 2


def test_named_tuple_fields_named_index_and_count():
    tally, x = Tally(0.7, RNG.normal(size=3)), RNG.normal(size=3)
    got = srcdiff.grad(tally_loss, wrt=(0, 1))(tally, x)
    anp = autograd.numpy
    want = autograd.grad(lambda t, c, x: t * anp.sum(x) + anp.sum(c * x) ** 2, (0, 1, 2))(0.7, tally.count, x)
    assert type(got[0]) is Tally and got[0].index == pytest.approx(want[0])
    np.testing.assert_allclose(got[0].count, want[1])
    np.testing.assert_allclose(got[1], want[2])


def reads_a_field_of_a_plain_tuple(pair):
    return pair.W * 2.0


def test_an_attribute_of_a_plain_tuple_raises_as_in_python():
    with pytest.raises(AttributeError):
        srcdiff.grad(reads_a_field_of_a_plain_tuple)((1.0, 2.0))


def double_star_of_a_dict_written_out(x):
    options = {"c": np.sin(x[2])}
    reduce = {"axis": 0}
    return weighted(x[0], x[1], **options) + np.sum(np.outer(x, x) ** 2, **reduce) @ x + weighted(**{"a": x[3], "b": x[0]})


def test_double_star_unpacking():
    agrees(double_star_of_a_dict_written_out, X)


def double_star_of_a_changed_dict(x):
    options = {"c": x[2]}
    options["b"] = x[1]
    return weighted(x[0], **options)  # <- refused


# ---------------------------------------------------------------- *args and **kwargs of helpers


def sum_of_squares(*xs):
    return sum(v * v for v in xs)


def scaled(x, **kw):
    return x * kw["s"]


def everything(a, b=2.0, *xs, k=1.0, **kw):
    total = a * b * k
    for v in xs:
        total = total + v * kw["w"]
    for key, v in kw.items():
        total = total + v * len(key)
    return total


def reads_its_options_into_locals(x, *xs, **kw):
    s = kw["s"]  # a local named like a keyword its **kw gathers
    xs_0 = xs[0] * 2.0  # and like the first extra
    t = kw.get("t", 1.0)
    return x * s * t + xs_0


def calls_packed_helpers(x):
    total = sum_of_squares(x[0], x[1]) + sum_of_squares(x[2]) + sum_of_squares() + scaled(x[3], s=3.0) + scaled(x[0], s=x[1])
    return total + reads_its_options_into_locals(x[0], x[1], s=x[2]) + reads_its_options_into_locals(x[3], x[0], s=2.0, t=x[1])


def calls_a_helper_with_every_kind_of_parameter(x):
    return everything(x[0], x[1], x[2], x[3] * x[0], w=x[1], k=0.5) + everything(x[1]) + everything(x[2], w=x[3], k=x[0])


def local_packed_functions(x):
    def gathered(a, *rest, k=2.0, **options):
        total = a * k
        for v in rest:
            total = total + v * options["w"]
        return total + sum(options.values())

    both = lambda *vs, **o: vs[0] * o["c"]  # noqa: E731
    return gathered(x[0], x[1], np.sin(x[2]), w=x[3], k=0.5) + gathered(x[1]) + both(x[2], c=x[3])


def star_into_a_packed_helper(x):
    args = (x[0], x[1] * x[2])
    options = {"s": x[3]}
    return sum_of_squares(*args, x[3]) + scaled(x[2], **options)


@pytest.mark.parametrize(
    "f", [calls_packed_helpers, calls_a_helper_with_every_kind_of_parameter, local_packed_functions, star_into_a_packed_helper]
)
def test_packed_parameters_of_helpers(f):
    agrees(f, X)


def test_packed_parameters_with_arrays():
    def loss(w, y):
        return np.sum(everything(w, y, w * y, np.sin(w), w=y, k=0.5)) + np.sum(scaled(w, s=y) ** 2)

    y = RNG.normal(size=4)
    assert srcdiff.check_grad(loss, X, y, wrt=(0, 1))
    gradient = srcdiff.grad(loss, wrt=(0, 1))(X, y)
    _, tangent = srcdiff.jvp(loss, (X, y), (np.ones(4), np.ones(4)))
    assert tangent == pytest.approx(np.sum(gradient[0]) + np.sum(gradient[1]))
    np.testing.assert_allclose(srcdiff.hessian(loss)(X, y), central_hessian(loss, X, y), rtol=1e-4, atol=1e-6)


def central_hessian(f, x, *rest, eps=1e-5):
    gradient = srcdiff.grad(f)
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = eps
        columns.append((gradient(x + step, *rest) - gradient(x - step, *rest)) / (2 * eps))
    return np.array(columns).T


def test_the_keyword_crash_is_fixed():
    """``hk(x, s=3.0)`` of a helper with ``**kw`` crashed with TypeError: unhashable type: 'dict'."""

    def f2(x):
        return scaled(x, s=3.0)

    assert srcdiff.grad(f2)(1.0) == 3.0
    assert srcdiff.grad(srcdiff.grad(f2))(1.0) == 0.0
    assert srcdiff.jvp(f2, (1.0,), (2.0,)) == (3.0, 6.0)


def reads_a_global_named_like_a_keyword(x, **kw):
    return x * kw["np"] * np.pi


def passes_a_keyword_named_like_a_global(x):
    return reads_a_global_named_like_a_keyword(x, np=2.0)  # the keyword np would hide the module np


def differentiates_packed_parameters(*xs):
    return xs[0] * xs[1]


def named_like_an_extra(xs_0, *xs):
    return xs_0 * xs[0]


def passes_an_extra_named_like_a_parameter(x):
    return named_like_an_extra(x, x)  # <- refused: the extra would be xs_0 too


def test_packed_parameters_refusals():
    with pytest.raises(UnsupportedSyntax, match="two of named_like_an_extra's parameters would be named 'xs_0'") as info:
        srcdiff.grad(passes_an_extra_named_like_a_parameter)(1.0)
    assert "<- refused" in info.value.construct
    with pytest.raises(
        UnsupportedSyntax, match="has the name of a global that reads_a_global_named_like_a_keyword reads"
    ) as info:
        srcdiff.grad(passes_a_keyword_named_like_a_global)(1.0)
    assert info.value.line == inspect.getsourcelines(reads_a_global_named_like_a_keyword)[1]
    for transform in (srcdiff.grad, srcdiff.jvp):
        with pytest.raises(UnsupportedSyntax, match="of the function being differentiated are not supported") as info:
            transform(differentiates_packed_parameters)
        assert info.value.line == inspect.getsourcelines(differentiates_packed_parameters)[1]


# ---------------------------------------------------------------- dataclasses


@dataclasses.dataclass
class DenseLayer:
    W: np.ndarray
    b: float
    name: str = "dense"


@dataclasses.dataclass(frozen=True)
class FrozenLayer:
    W: np.ndarray
    b: float


def dense_forward(layer, x):
    return np.tanh(x @ layer.W) * layer.b


def dataclass_loss(layer, x):
    return np.sum(dense_forward(layer, x) ** 2) + layer.b**2


def dataclass_loss_as_named_tuple(layer, x):  # the same loss on (W, b)
    W, b = layer
    return np.sum((np.tanh(x @ W) * b) ** 2) + b**2


def test_dataclass_parameters():
    for cls in (DenseLayer, FrozenLayer):
        layer = cls(RNG.normal(size=(4, 2)), 0.7)
        want = autograd.grad(autograd_twin(dataclass_loss_as_named_tuple))((layer.W, layer.b), X)
        got = srcdiff.grad(dataclass_loss)(layer, X)
        assert type(got) is cls
        np.testing.assert_allclose(got.W, want[0])
        assert got.b == pytest.approx(want[1])
        assert srcdiff.check_grad(dataclass_loss, layer, X)
        np.testing.assert_allclose(
            srcdiff.grad(dataclass_loss, wrt=1)(layer, X),
            autograd.grad(autograd_twin(dataclass_loss_as_named_tuple), 1)((layer.W, layer.b), X),
        )
        _, pullback = srcdiff.vjp(dataclass_loss, layer, X)
        cotangent, _ = pullback(1.0)
        assert type(cotangent) is cls
        np.testing.assert_allclose(cotangent.W, want[0])
        value, (gradient, _) = srcdiff.value_and_grad(dataclass_loss, wrt=(0, 1))(layer, X)
        assert value == pytest.approx(dataclass_loss(layer, X))
        np.testing.assert_allclose(gradient.W, want[0])
        # forward mode and a Hessian-vector product through the fields
        direction = cls(RNG.normal(size=(4, 2)), 0.3)
        _, tangent = srcdiff.jvp(dataclass_loss, (layer, X), (direction, None))
        assert tangent == pytest.approx(np.sum(want[0] * direction.W) + want[1] * direction.b)
        _, hessian_direction = srcdiff.jvp(srcdiff.grad(dataclass_loss), (layer, X), (direction, None))
        assert type(hessian_direction) is cls
        eps = 1e-6
        gradient = srcdiff.grad(dataclass_loss)
        moved = [gradient(cls(layer.W + s * direction.W, layer.b + s * direction.b), X) for s in (eps, -eps)]
        np.testing.assert_allclose(hessian_direction.W, (moved[0].W - moved[1].W) / (2 * eps), rtol=1e-5, atol=1e-7)
        assert hessian_direction.b == pytest.approx((moved[0].b - moved[1].b) / (2 * eps), rel=1e-5)


def test_a_dataclass_field_that_is_no_number_is_passed_over():
    layer = DenseLayer(RNG.normal(size=(4, 2)), 0.7, name="first")
    got = srcdiff.grad(dataclass_loss)(layer, X)
    assert got.name == 0.0  # as a NamedTuple's: the gradient has every field
    assert layer.name == "first"
    _, tangent = srcdiff.jvp(dataclass_loss, (layer, X), (DenseLayer(np.ones((4, 2)), 1.0, name="first"), None))
    assert tangent == pytest.approx(np.sum(got.W) + got.b)


class PlainLayer:
    def __init__(self, W, b):
        self.W, self.b = W, b


@dataclasses.dataclass
class HiddenField:
    _W: np.ndarray


def reads_a_hidden_field(layer):
    return np.sum(layer._W)


def test_other_objects_in_wrt_stay_refused():
    with pytest.raises(NoDerivativeRule, match=r"no derivative rule for the attribute \.b") as info:
        srcdiff.grad(dataclass_loss)(PlainLayer(np.ones((4, 2)), 1.0), X)
    assert "or a dataclass (params.W), not another object" in info.value.suggestion
    with pytest.raises(WrtTypeError, match="fields starting with an underscore"):
        srcdiff.grad(reads_a_hidden_field)(HiddenField(np.ones(2)))


# ---------------------------------------------------------------- functions as values: partial, function arguments


def cubed(v, c=1.0):
    return c * v**3


def apply_twice(fn, v):
    return fn(fn(v))


def calls_a_partial(x):
    c = x[0] * 3.0
    scaled_cube = functools.partial(cubed, c=c)
    c = 100.0  # the partial keeps the value it was given
    overridden = functools.partial(scaled_cube, c=x[1])
    first = partial(lambda a, b: a * np.sin(b), x[2])
    total = scaled_cube(x[3]) + overridden(x[0]) + sum(map(scaled_cube, [x[1], x[2] * x[3]])) + first(x[3])
    return total + scaled_cube(x[1], c=0.5)


def passes_module_functions_on(x):
    return apply_twice(np.sin, x[0]) + apply_twice(cubed, x[1]) * apply_twice(np.tanh, x[2])


@pytest.mark.parametrize("f", [calls_a_partial, passes_module_functions_on])
def test_partial_and_functions_passed_to_helpers(f):
    agrees(f, X)


def with_activation(x, act):
    return np.sum(act(x) * x) + apply_twice(act, x[0])


@pytest.mark.parametrize(
    "act",
    [np.tanh, np.sin, cubed, lambda v: v * v + 1.0, functools.partial(cubed, c=0.5), functools.partial(np.multiply, 3.0)],
    ids=["tanh", "sin", "def", "lambda", "partial-of-def", "partial-of-ufunc"],
)
def test_function_arguments(act):
    gradient = srcdiff.grad(with_activation)(X, act)
    np.testing.assert_allclose(gradient, central_differences(lambda x: with_activation(x, act), (X,), 0), rtol=1e-5, atol=1e-6)
    assert srcdiff.check_grad(with_activation, X, act)
    direction = RNG.normal(size=4)
    _, tangent = srcdiff.jvp(with_activation, (X, act), (direction, None))
    assert tangent == pytest.approx(np.sum(gradient * direction))
    _, hessian_direction = srcdiff.jvp(srcdiff.grad(with_activation), (X, act), (direction, None))
    eps = 1e-5
    d = srcdiff.grad(with_activation)
    np.testing.assert_allclose(
        hessian_direction, (d(X + eps * direction, act) - d(X - eps * direction, act)) / (2 * eps), rtol=1e-4, atol=1e-6
    )


def apply_with_a_default(v, fn=np.tanh):
    return fn(v) * 2.0


def with_a_default_activation(x, act=np.sin):
    return np.sum(act(x) + apply_with_a_default(x))


def test_function_defaults():
    agrees(with_a_default_activation, X)
    _, pullback = srcdiff.vjp(with_a_default_activation, X)
    np.testing.assert_allclose(pullback(1.0)[0], srcdiff.grad(with_a_default_activation)(X))


@srcdiff.custom_vjp
def softplus(v):
    return np.log1p(np.exp(v))


softplus.defvjp(lambda v: (np.log1p(np.exp(v)), v), lambda v, g: (g / (1.0 + np.exp(-v)),))


def test_a_function_with_rules_of_its_own_as_an_argument():
    np.testing.assert_allclose(srcdiff.grad(with_activation)(X, softplus), srcdiff.grad(with_activation)(X, _softplus))


def _softplus(v):
    return np.log1p(np.exp(v))


def test_each_function_argument_gets_its_own_code():
    gradient = srcdiff.grad(with_activation)
    for _ in range(2):  # and the second time round, the code built for it: the guard tells them apart
        for act in (np.tanh, np.sin):
            got = gradient(X, act)
            want = central_differences(lambda x, act=act: with_activation(x, act), (X,), 0)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert "np.cos" in srcdiff.source(gradient, X, np.sin) and "np.cos" not in srcdiff.source(gradient, X, np.tanh)


def test_a_new_partial_of_the_same_shape_reuses_the_code():
    from srcdiff import cache

    gradient = srcdiff.grad(with_activation)
    gradient(X, functools.partial(cubed, c=1.0))
    before = cache.transformations
    for c in (0.5, 2.0, -1.0):  # the code reads the bound values from the partial passed
        act = functools.partial(cubed, c=c)
        want = central_differences(lambda x, act=act: with_activation(x, act), (X,), 0)
        np.testing.assert_allclose(gradient(X, act), want, rtol=1e-5, atol=1e-6)
    assert cache.transformations == before


class Scaler:
    def __call__(self, v):
        return 2.0 * v


def rebinds_its_function(x, act):
    act = act if x[0] > 0 else np.sin
    return act(x[1])


def passes_a_local_partial_on(x, c):
    scaled_cube = functools.partial(cubed, c=c)
    return apply_twice(scaled_cube, x[0]) + scaled_cube(x[1])


def test_a_local_partial_passed_on():
    """The helper is built for partials of cubed binding c; the value of c is read from the partial."""
    for c in (2, -1):  # integers: jvp holds them fixed (a float would be given a tangent, and refused)
        agrees(passes_a_local_partial_on, X, c)


def passes_on_a_partial_of_a_lambda(x):
    scaled = functools.partial(lambda v, c: c * v, c=2.0)
    return apply_twice(scaled, x[0])  # <- refused


def passes_on_a_partial_binding_a_varied_value(x):
    scaled_cube = functools.partial(cubed, c=x[1])  # <- refused
    return apply_twice(scaled_cube, x[0])


def test_function_values_refused():
    with pytest.raises(UnsupportedSyntax, match="calling the parameter 'act'"):
        srcdiff.grad(rebinds_its_function)(X, np.tanh)
    with pytest.raises(UnsupportedSyntax, match="the partial 'scaled' is used other than by calling it") as info:
        srcdiff.grad(passes_on_a_partial_of_a_lambda)(X)
    assert "<- refused" in info.value.construct
    with pytest.raises(NoDerivativeRule, match="cannot bind a value being differentiated") as info:
        srcdiff.grad(passes_on_a_partial_binding_a_varied_value)(X)
    assert "<- refused" in info.value.construct
    with pytest.raises(WrtTypeError, match="is the function"):
        srcdiff.grad(with_activation, wrt=1)(X, np.tanh)


# ---------------------------------------------------------------- an object's own methods and attributes


class Weighted:
    """A plain class whose methods are named like an array's."""

    def __init__(self, w):
        self.w = w

    def sum(self, v):
        return np.sum(self.w * v * v)

    def mean(self):
        return 2.0

    def copy(self):
        return 3.0

    @property
    def T(self):
        return self.w


class Holder:
    def __init__(self):
        self.sub = Weighted(np.array([1.0, 2.0, 3.0]))


MODEL = Holder()


def sum_of_a_global_attribute(x):
    return MODEL.sub.sum(x)


def sum_of_an_alias(x):
    sub = MODEL.sub
    return sub.sum(x)


def sum_of_an_argument_attribute(x, m):
    s = m.sub
    return s.sum(x)


def the_sub(m):
    return m.sub


def sum_of_a_returned_object(x, m):
    s = the_sub(m)
    return s.sum(x)


def constants_from_object_methods(x, m):
    s = m.sub
    return s.mean() * np.sum(x) + s.copy() * np.sum(x * x) + np.sum(s.T * x)


@pytest.mark.parametrize(
    "f", [sum_of_a_global_attribute, sum_of_an_alias, sum_of_an_argument_attribute, sum_of_a_returned_object]
)
def test_an_objects_own_method_that_a_derivative_must_pass_is_refused(f):
    # these gave zeros: obj.sum(x) was read as ndarray.sum with x as its axis
    args = (X[:3], MODEL)[: len(inspect.signature(f).parameters)]
    with pytest.raises(NoDerivativeRule) as info:
        srcdiff.grad(f)(*args)
    assert info.value.filename == __file__
    assert "stop_gradient" in info.value.suggestion


def test_an_objects_own_methods_run_as_written_where_no_derivative_passes():
    x = X[:3]
    value, gradient = srcdiff.value_and_grad(constants_from_object_methods)(x, MODEL)
    assert value == pytest.approx(constants_from_object_methods(x, MODEL))
    np.testing.assert_allclose(gradient, central_differences(constants_from_object_methods, (x, MODEL), 0), rtol=1e-6)
    _, tangent = srcdiff.jvp(constants_from_object_methods, (x, MODEL), (np.ones(3), None))
    assert tangent == pytest.approx(np.sum(gradient))


def array_methods_of_computed_values(x):
    y = np.exp(x)
    z = y.T
    return z.sum() + x.reshape(1, 3).T.mean() * x.copy().max()


def test_array_methods_of_computed_values_keep_their_rules():
    x = X[:3]
    np.testing.assert_allclose(
        srcdiff.grad(array_methods_of_computed_values)(x),
        central_differences(array_methods_of_computed_values, (x,), 0),
        rtol=1e-6,
    )


# ---------------------------------------------------------------- a dataclass that is not differentiated stays itself


@dataclasses.dataclass
class Settings:
    a: float
    w: np.ndarray
    K: ClassVar[float] = 3.0

    def __len__(self):
        return 7

    def __bool__(self):
        return False

    @property
    def twice(self):
        return 2 * self.a

    def scale(self, v):
        return self.a * v


SETTINGS = Settings(2.0, np.array([1.0, 2.0, 3.0]))


def uses_isinstance(x, cfg):
    return np.sum(x) * (1.0 if isinstance(cfg, Settings) else 5.0)


def uses_equality(x, cfg):
    return np.sum(x) * (1.0 if cfg.a == Settings(2.0, cfg.w).a and cfg == cfg else 5.0)


def uses_len(x, cfg):
    return np.sum(x) * len(cfg)


def uses_bool(x, cfg):
    return np.sum(x) * (1.0 if cfg else 5.0)


def uses_property_and_classvar(x, cfg):
    return np.sum(x * cfg.w) * cfg.twice + cfg.K * np.sum(x)


def uses_a_method_on_constants(x, cfg):
    return np.sum(x) * cfg.scale(1.5)


@pytest.mark.parametrize(
    "f", [uses_isinstance, uses_equality, uses_len, uses_bool, uses_property_and_classvar, uses_a_method_on_constants]
)
def test_a_dataclass_not_in_wrt_runs_as_itself(f):
    # it was a NamedTuple stand-in: isinstance and == were False, len and bool its tuple's,
    # properties, methods and ClassVars raised AttributeError
    x = X[:3]
    value, gradient = srcdiff.value_and_grad(f)(x, SETTINGS)
    assert value == pytest.approx(f(x, SETTINGS))
    np.testing.assert_allclose(gradient, central_differences(f, (x, SETTINGS), 0), rtol=1e-6)
    value, tangent = srcdiff.jvp(f, (x, SETTINGS), (np.ones(3), None))
    assert value == pytest.approx(f(x, SETTINGS))
    assert tangent == pytest.approx(np.sum(gradient))


def test_a_dataclass_method_given_a_derivative_is_differentiated():
    def scaled(x, cfg):  # cfg.scale is Settings.scale called with cfg first (methods.py)
        return np.sum(cfg.scale(x))

    np.testing.assert_allclose(srcdiff.grad(scaled)(X[:3], SETTINGS), central_differences(scaled, (X[:3], SETTINGS), 0))


# ---------------------------------------------------------------- with np.errstate(...)


def masked_log_under_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(x > 0, np.log(np.abs(x)), 0.0)  # log(0) is computed, then masked
        ratio = np.where(x != 0, x / np.where(x != 0, x, 0.0), 1.0)
    return np.sum(logs * x**2) + np.sum(ratio * x)


def test_errstate_holds_in_the_forward_and_the_backward_sweep(recwarn):
    x = np.array([0.3, -1.2, 0.0, 0.7])
    before = np.geterr()
    with np.errstate(all="raise"):  # a warning anywhere outside the block would raise
        gradient = srcdiff.grad(masked_log_under_errstate)(x)
        hessian = srcdiff.hessian(masked_log_under_errstate)(x)
        _, tangent = srcdiff.jvp(masked_log_under_errstate, (x,), (np.ones(4),))
    assert np.geterr() == before  # put back
    inside = x != 0
    want = central_differences(masked_log_under_errstate, (x,), 0)
    np.testing.assert_allclose(gradient[inside], want[inside], rtol=1e-5)
    want = autograd.grad(autograd_twin(masked_log_under_errstate))(x)
    np.testing.assert_allclose(gradient, want, rtol=1e-10, equal_nan=True)  # where autograd gives nan, so do we
    want = autograd.hessian(autograd_twin(masked_log_under_errstate))(x)
    finite = np.isfinite(hessian) & np.isfinite(want)  # (at x = 0 each gives nan, row or column)
    assert finite.sum() == 9
    np.testing.assert_allclose(hessian[finite], want[finite], rtol=1e-10)
    eps = 1e-6  # forward mode takes where's branch tangent: finite at 0, as the true directional derivative is
    along = (masked_log_under_errstate(x + eps) - masked_log_under_errstate(x - eps)) / (2 * eps)
    assert tangent == pytest.approx(along, rel=1e-5)
    agrees(masked_log_under_errstate, X)  # away from zero: against autograd, differences, forward and second order


def with_another_context_manager(x):
    with open(__file__):  # <- refused
        return np.sum(x)


def errstate_as_a_name(x):
    with np.errstate(divide="ignore") as state:  # <- refused
        y = x / 2.0
    return np.sum(y) + len(str(state))


def returns_inside_errstate(x):
    with np.errstate(divide="ignore"):
        return np.sum(np.log(x))  # <- refused


@pytest.mark.parametrize(
    "f, words",
    [
        (with_another_context_manager, "a with block cannot be differentiated"),
        (errstate_as_a_name, "a with block cannot be differentiated"),
        (returns_inside_errstate, "return, break or continue inside a with block"),
    ],
)
def test_other_with_blocks_are_refused(f, words):
    with pytest.raises(UnsupportedSyntax, match=rf"test_language.py:\d+: {words}"):
        srcdiff.grad(f)(X)


# ---------------------------------------------------------------- generator functions, walked at once

LAYER_SHAPES = [(2, 3), (3, 1)]


def unpack_layers(weights):  # autograd's neural-net examples, as written
    for m, n in LAYER_SHAPES:
        yield weights[: m * n].reshape((m, n)), weights[m * n : m * n + n]
        weights = weights[(m + 1) * n :]


def predictions(weights, inputs):
    for W, b in unpack_layers(weights):
        inputs = np.tanh(inputs @ W + b)
    return inputs


def network_loss(weights):
    return np.sum(predictions(weights, np.array([[0.5, -0.3], [0.1, 0.9], [-0.7, 0.2]])) ** 2)


def squares_then_ends(xs):
    """Items of a loop, ``yield from`` another sequence, and a return that ends it early."""
    for v in xs:
        if np.abs(v) > 5.0:
            return
        yield v * v
    yield from (xs[0] * 2.0, xs[-1])


def walks_generators(x):
    total = sum(squares_then_ends(x))
    listed = np.array(list(squares_then_ends(x[:3])))
    for k, (a, b) in enumerate(zip(squares_then_ends(x), x)):
        total = total + a * b * k
    return total + np.sum(listed**2)


@pytest.mark.parametrize("f, x", [(network_loss, np.linspace(-0.6, 0.7, 13)), (walks_generators, X)])
def test_generator_functions_walked_at_once(f, x):
    agrees(f, x)


def holds_a_generator(x):
    items = squares_then_ends(x)  # <- refused: walked later, perhaps in part
    return sum(items)


def writes_while_walking(x):
    y = x * 1.0
    total = 0.0
    for v in squares_then_ends(y):
        y[0] = v  # <- refused: the generator would read y after this
        total = total + v
    return total


def leaves_a_generator_early(x):
    total = 0.0
    for v in squares_then_ends(x):
        if v > 0.5:
            break  # <- refused: srcdiff takes every item first
        total = total + v
    return total


@pytest.mark.parametrize(
    "f, words",
    [
        (holds_a_generator, "supported only where it is walked to its end at once"),
        (writes_while_walking, "changes data in place, or leaves early"),
        (leaves_a_generator_early, "changes data in place, or leaves early"),
    ],
)
def test_generators_walked_in_part_or_alongside_writes_are_refused(f, words):
    with pytest.raises(UnsupportedSyntax, match=rf"test_language.py:\d+: a.*{words}"):
        srcdiff.grad(f)(X)
