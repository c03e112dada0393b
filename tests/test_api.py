"""The public API on what users pass it: decorated functions, bound methods, dtypes, lists."""

import functools

import numpy as np
import pytest

import srcdiff
from srcdiff import stop_gradient
from srcdiff.errors import BadArgument, BadCall, BadWrt, GradientCheckError, WrtTypeError

# ------------------------------------------------------------------- decorators


def times_ten(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 10.0 * fn(x)

    return wrapper


@times_ten
def square_times_ten(x):
    return x * x


REGISTRY = {}


def register(fn):
    REGISTRY[fn.__name__] = fn
    return fn  # the same function: nothing to differentiate but its own code


@register
def registered_cube(x):
    return x * x * x


@register
@times_ten
def registered_and_wrapped(x):
    return x * x


def calls_decorated(x):
    return square_times_ten(x) + registered_cube(x)


def swap_arguments(fn):
    @functools.wraps(fn)
    def wrapper(y, x):
        return fn(x, y)

    return wrapper


@swap_arguments
def x_squared_y(x, y):
    return x * x * y


def calls_swapped(a, b):
    return x_squared_y(a, b)  # b * b * a


def test_wrt_names_the_wrappers_parameters():
    # x_squared_y(2.0, 3.0) runs wrapper(y=2.0, x=3.0), so it is 3 * 3 * 2
    assert srcdiff.grad(x_squared_y, wrt=(0, 1))(2.0, 3.0) == (9.0, 12.0)
    assert srcdiff.grad(x_squared_y, wrt="x")(2.0, 3.0) == 12.0


def test_a_called_wrapper_binds_its_own_parameters():
    assert srcdiff.grad(calls_swapped, wrt=(0, 1))(2.0, 3.0) == (9.0, 12.0)


def test_a_wrapper_is_differentiated_as_written():
    assert srcdiff.grad(square_times_ten)(3.0) == 60.0  # not 6.0: the wrapper's factor is kept


def test_a_decorator_that_returns_the_function_keeps_working():
    assert srcdiff.grad(registered_cube)(2.0) == 12.0


def test_stacked_decorators():
    assert srcdiff.grad(registered_and_wrapped)(3.0) == 60.0


def test_decorated_helpers_are_called_as_decorated():
    assert srcdiff.grad(calls_decorated)(2.0) == 40.0 + 12.0


def test_second_order_through_a_wrapper():
    assert srcdiff.grad(srcdiff.grad(square_times_ten))(3.0) == 20.0


# --------------------------------------------------------------- bound methods


def cube(x):
    return x * x * x


class Model:
    def __init__(self, scale):
        self.scale = scale

    def loss(self, x, y):
        return x * x * y

    def with_helper(self, x):
        return cube(x) + np.sin(x)

    def on_arrays(self, w, x):
        return np.sum(np.tanh(x @ w))

    def scaled(self, x):
        return self.scale * x * x


def test_grad_of_a_bound_method():
    m = Model(2.0)
    assert srcdiff.grad(m.loss)(2.0, 3.0) == 12.0  # 2xy: wrt=0 is x, not self
    assert srcdiff.grad(m.loss, wrt=1)(2.0, 3.0) == 4.0
    assert srcdiff.grad(m.loss, wrt="y")(2.0, 3.0) == 4.0
    assert srcdiff.grad(m.loss, wrt=(0, 1))(2.0, 3.0) == (12.0, 4.0)
    assert srcdiff.value_and_grad(m.loss)(2.0, 3.0) == (12.0, 12.0)
    assert srcdiff.grad(m.loss)(x=2.0, y=3.0) == 12.0


def test_wrt_counts_the_parameters_after_self():
    with pytest.raises(BadWrt, match="out of range.*2 parameters \\(x, y\\)"):
        srcdiff.grad(Model(1.0).loss, wrt=2)
    with pytest.raises(BadWrt, match="not a parameter"):
        srcdiff.grad(Model(1.0).loss, wrt="self")


def test_a_bound_method_calling_a_helper():
    assert srcdiff.grad(Model(1.0).with_helper)(0.5) == pytest.approx(3 * 0.25 + np.cos(0.5))


def test_a_bound_method_on_arrays():
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=3), rng.normal(size=(4, 3))
    m = Model(1.0)
    assert srcdiff.check_grad(m.on_arrays, w, x)
    expected = x.T @ (1 - np.tanh(x @ w) ** 2)
    np.testing.assert_allclose(srcdiff.grad(m.on_arrays)(w, x), expected, rtol=1e-12)


def test_second_order_of_a_bound_method():
    assert srcdiff.grad(srcdiff.grad(Model(1.0).loss))(2.0, 3.0) == 6.0  # 2y


def test_each_object_is_its_own_constant():
    a, b = Model(1.0), Model(2.0)
    ga, gb = srcdiff.grad(a.loss), srcdiff.grad(b.loss)
    assert (ga(1.0, 2.0), gb(1.0, 5.0)) == (4.0, 10.0)


def test_a_method_reading_an_attribute_of_self():
    assert srcdiff.grad(Model(3.0).scaled)(2.0) == 12.0


# ---------------------------------------------------------------------- dtypes


def sum_of_squares(x):
    return np.sum(x * x)


def square(x):
    return x * x


def scaled_sum(x, y):
    return np.sum(x * 2.0) * y


def test_float32_arrays_get_float32_gradients():
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    g = srcdiff.grad(sum_of_squares)(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.array([2.0, 4.0, 6.0], dtype=np.float32))
    dx, dy = srcdiff.grad(scaled_sum, wrt=(0, 1))(x, 2.0)
    assert dx.dtype == np.float32 and type(dy) is float  # y's adjoint, computed in float32, is a float again
    np.testing.assert_array_equal(dx, [4.0, 4.0, 4.0])
    assert dy == 12.0
    dx, dy = srcdiff.grad(scaled_sum, wrt=(0, 1))(x, np.float64(2.0))
    assert dx.dtype == np.float32 and type(dy) is np.float64


def test_float64_stays_float64_and_floats_stay_floats():
    g = srcdiff.grad(sum_of_squares)(np.array([1.0, 2.0]))
    assert g.dtype == np.float64
    assert type(srcdiff.grad(square)(3.0)) is float
    assert isinstance(srcdiff.grad(sum_of_squares)(3.0), float)  # np.float64 is a float


def test_integer_arguments_in_wrt_are_refused():
    with pytest.raises(WrtTypeError, match="dtype int"):
        srcdiff.grad(sum_of_squares)(np.array([1, 2]))
    with pytest.raises(WrtTypeError, match="pass a float"):
        srcdiff.grad(square)(3)


def test_zero_dimensional_arguments():
    for x, kind in [(np.float64(2.0), np.float64), (np.float32(2.0), np.float32)]:
        g = srcdiff.grad(sum_of_squares)(x)
        assert type(g) is kind and g == 4.0
    for dtype in (np.float64, np.float32):
        g = srcdiff.grad(sum_of_squares)(np.array(2.0, dtype=dtype))
        assert type(g) is np.ndarray and g.shape == () and g.dtype == dtype and g == 4.0
    value, g = srcdiff.value_and_grad(square)(np.array(3.0))
    assert value == 9.0 and g.shape == () and g == 6.0
    dx, dy = srcdiff.grad(scaled_sum, wrt=(0, 1))(np.array(1.5), np.float32(2.0))
    assert (dx.shape, dx, type(dy), dy) == ((), 4.0, np.float32, 3.0)


def test_empty_arrays():
    for dtype in (np.float64, np.float32):
        g = srcdiff.grad(sum_of_squares)(np.zeros(0, dtype=dtype))
        assert g.shape == (0,) and g.dtype == dtype
    dx, dy = srcdiff.grad(scaled_sum, wrt=(0, 1))(np.zeros(0), 2.0)
    assert dx.shape == (0,) and dy == 0.0


def exponential_sum(x):
    return np.sum(np.exp(x))


def test_nan_and_inf_propagate_as_numpy_computes_them():
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    np.testing.assert_array_equal(srcdiff.grad(sum_of_squares)(x), 2 * x)  # [nan, inf, -inf, 2]
    np.testing.assert_array_equal(srcdiff.grad(exponential_sum)(x), np.exp(x))  # [nan, inf, 0, e]
    assert np.isnan(srcdiff.grad(square)(float("nan")))


# ------------------------------------------------------------- check_grad on lists


def product_of_two(xs):
    return xs[0] * xs[1]


def hides_the_second(xs):
    return xs[0] * stop_gradient(xs[1])


def array_and_float(xs):
    return np.sum(xs[0] * xs[0]) * xs[1]


def nested(xs):
    return np.sum(xs[0]) * xs[1][1] + xs[1][0]


def test_check_grad_moves_every_float_in_a_list():
    assert srcdiff.check_grad(product_of_two, [1.5, 2.0])
    assert srcdiff.check_grad(array_and_float, [np.array([1.0, -2.0]), 3.0])


def test_check_grad_catches_a_wrong_list_entry():
    with pytest.raises(GradientCheckError, match=r"at index \[1\]: srcdiff 0\.0, numeric 1\.49999"):
        srcdiff.check_grad(hides_the_second, [1.5, 2.0])


def test_check_grad_on_a_float_and_a_0d_array():
    assert srcdiff.check_grad(square, 1.5) and srcdiff.check_grad(sum_of_squares, np.array(1.5))


def test_check_grad_on_nested_lists_and_tuples():
    assert srcdiff.check_grad(nested, [np.array([1.0, 2.0]), (2.0, 3.0)])


# ------------------------------------------------- found while testing this branch


def reassigns_its_parameters(x, y):
    a = 1.0 * x
    x = 1.0 * y
    y = 1.0 * a
    x = x + y
    return np.sum(a + x + y)  # = sum(3 * x_in) + 3 * y_in for a 3-vector x_in


def test_a_float_parameter_reassigned_to_an_array():
    dx, dy = srcdiff.grad(reassigns_its_parameters, wrt=(0, 1))(np.array([0.3, -1.1, 0.8]), 0.25)
    np.testing.assert_array_equal(dx, [3.0, 3.0, 3.0])
    assert np.shape(dy) == () and dy == 3.0


def writes_its_first_parameter(a, b):
    a[0] = 5.0
    return np.sum(a * b)


def test_one_array_for_two_parameters_one_written_in_place_is_refused():
    # the generated code copied a before writing it: f(x, x) gave 7.5, where Python gives 30.0
    x = np.array([0.5, -1.0, 2.0])
    line = writes_its_first_parameter.__code__.co_firstlineno + 1
    for call in (
        lambda: srcdiff.value_and_grad(writes_its_first_parameter, wrt=(0, 1))(x, x),
        lambda: srcdiff.grad(writes_its_first_parameter, wrt=1)(x, x),
        lambda: srcdiff.jvp(writes_its_first_parameter, (x, x), (np.ones(3), np.ones(3))),
        lambda: srcdiff.vjp(writes_its_first_parameter, x, x),
        lambda: srcdiff.grad(writes_its_first_parameter, wrt=0)(x, x[::-1]),
    ):
        with pytest.raises(BadArgument, match="shares memory") as info:
            call()
        assert info.value.line == line and "copy" in info.value.suggestion
    value, (da, db) = srcdiff.value_and_grad(writes_its_first_parameter, wrt=(0, 1))(x.copy(), x.copy())
    assert value == pytest.approx(writes_its_first_parameter(x.copy(), x.copy()))
    np.testing.assert_allclose(da, [0.0, -1.0, 2.0])
    np.testing.assert_allclose(db, [5.0, -1.0, 2.0])


# --------------------------------------------------------------------------- calls that do not fit


def area(width, height):
    return width * height


@pytest.mark.parametrize("args", [(1.0,), (1.0, 2.0, 3.0)])
def test_a_gradient_called_with_the_wrong_arguments_names_the_function(args):
    with pytest.raises(BadCall, match=r"grad_area takes the arguments of area\(width, height\)") as info:
        srcdiff.grad(area)(*args)
    assert "__srcdiff" not in str(info.value)
    assert isinstance(info.value, TypeError)
    with pytest.raises(BadCall, match=r"area\(width, height\)"):
        srcdiff.value_and_grad(area)(*args)
    with pytest.raises(BadCall, match=r"area\(width, height\)"):
        srcdiff.grad(area)(1.0, depth=2.0)


def test_a_jvp_called_with_too_few_primals_names_the_function():
    with pytest.raises(BadCall, match=r"area\(width, height\)") as info:
        srcdiff.jvp(area, (1.0,), (1.0,))
    assert "__srcdiff" not in str(info.value)


def test_jvp_says_primals_and_tangents_are_tuples():
    with pytest.raises(BadCall, match=r"(?s)primals and tangents as tuples.*\(x,\), \(v,\)"):
        srcdiff.jvp(area, 1.0, 1.0)
    assert srcdiff.jvp(area, [1.0, 2.0], [1.0, 0.0]) == (2.0, 2.0)  # lists are taken as tuples


def test_grad_of_none_is_refused_at_once():
    with pytest.raises(TypeError, match=r"(?s)grad\(None\).*@grad\(\) or @grad\(wrt=\.\.\.\)"):
        srcdiff.grad(None)
    with pytest.raises(TypeError, match="value_and_grad"):
        srcdiff.value_and_grad(None)
    with pytest.raises(TypeError, match="not callable"):
        srcdiff.grad(3.0)

    @srcdiff.grad(wrt=1)
    def by_height(width, height):
        return width * height

    @srcdiff.grad()
    def by_width(width, height):
        return width * height

    assert (by_height(2.0, 3.0), by_width(2.0, 3.0)) == (2.0, 3.0)


def test_hessian_and_jacobian_take_keyword_arguments():
    def cube(x, k=1.0):
        return k * x * x * x

    assert srcdiff.hessian(cube)(x=2.0) == 12.0
    assert srcdiff.hessian(cube)(2.0, k=2.0) == 24.0
    assert srcdiff.jacobian(srcdiff.grad(cube))(x=2.0) == 12.0
    with pytest.raises(BadCall, match=r"takes the arguments of cube\(x, k=1.0\)"):
        srcdiff.hessian(cube)(y=2.0)
