"""Object-oriented model code: methods of a user's class are user code (srcdiff/methods.py).

Each supported form is compared with central differences (value and gradient); one with
grad(grad(...)), one with jvp. Each refused form names the user's line, with advice that works
(the advice is then followed and checked).
"""

import functools

import numpy as np
import pytest

import srcdiff
from srcdiff.errors import BadWrt, NoDerivativeRule, UnsupportedSyntax
from tests.test_trust import central_differences

RNG = np.random.default_rng(7)
X = RNG.normal(size=4)
DATA = RNG.normal(size=(5, 4))
TARGET = RNG.normal(size=5)


def agrees(f, *args, wrt=0):
    """srcdiff's value and gradient of ``f`` match ``f`` itself and central differences."""
    value, gradient = srcdiff.value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args))
    np.testing.assert_allclose(gradient, central_differences(f, args, wrt), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srcdiff.grad(f, wrt=wrt)(*args), gradient)
    return gradient


class Linear:
    scale = 0.5  # a class attribute: a constant

    def __init__(self, data, target):
        self.data = data  # attributes: constants
        self.target = target

    def predict(self, w, x):
        return np.tanh(x @ w) * self.scale

    def residual(self, w):
        return self.predict(w, self.data) - self.target  # self.method inside a method

    def loss(self, w):
        return np.sum(self.residual(w) ** 2) + self.penalty(w) + self.counted(w)

    @staticmethod
    def penalty(w):
        return 0.1 * np.sum(w**2)

    @classmethod
    def counted(cls, w):
        return cls.scale * np.sum(np.sin(w))

    def __call__(self, w):
        return self.loss(w)


MODEL = Linear(DATA, TARGET)


def test_a_bound_method_calls_its_own_methods():
    """grad(model.loss): self.residual -> self.predict, a staticmethod and a classmethod through self."""
    g = srcdiff.grad(MODEL.loss)(X)
    np.testing.assert_allclose(g, central_differences(MODEL.loss, (X,), 0), rtol=1e-5, atol=1e-6)
    value, same = srcdiff.value_and_grad(MODEL.loss)(X)
    assert value == pytest.approx(MODEL.loss(X))
    np.testing.assert_allclose(same, g)


def loss_of_a_model_passed_in(w, model):
    return model.loss(w) + model.predict(w, model.data)[0]


def calls_the_model(w, model):
    return model(w) * 2.0  # Linear.__call__


def calls_a_callable_parameter(w, fn):
    return fn(w)


@pytest.mark.parametrize("f", [loss_of_a_model_passed_in, calls_the_model, calls_a_callable_parameter])
def test_an_object_passed_as_an_argument(f):
    agrees(f, X, MODEL)


class Shifted(Linear):
    def predict(self, w, x):
        return super().predict(w, x) + 1.0  # Linear.predict: the MRO after Shifted


def test_super_and_another_class_get_code_of_their_own():
    gradient = srcdiff.grad(loss_of_a_model_passed_in)
    first = gradient(X, MODEL)
    shifted = Shifted(DATA, TARGET)
    second = gradient(X, shifted)  # same argument types but another class: built again, not reused
    np.testing.assert_allclose(second, central_differences(loss_of_a_model_passed_in, (X, shifted), 0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(gradient(X, MODEL), first)


class Energy:
    k = 2.0

    def energy(self, q):
        return self.k * q**3 + np.sin(q)


class Damped(Energy):
    def energy(self, q):
        return super().energy(q) * 0.5


def energy_of(q, system):
    return system.energy(q)


def test_second_order_through_methods():
    for system, want in ((Energy(), 12.0 * 1.5 - np.sin(1.5)), (Damped(), 0.5 * (12.0 * 1.5 - np.sin(1.5)))):
        assert srcdiff.grad(srcdiff.grad(energy_of))(1.5, system) == pytest.approx(want)


def test_jvp_through_methods():
    gradient = agrees(loss_of_a_model_passed_in, X, MODEL)
    direction = RNG.normal(size=4)
    value, tangent = srcdiff.jvp(loss_of_a_model_passed_in, (X, MODEL), (direction, None))
    assert value == pytest.approx(loss_of_a_model_passed_in(X, MODEL))
    assert tangent == pytest.approx(np.dot(gradient, direction))


def squared_error(w, x, y):
    return np.sum((x @ w - y) ** 2)


def test_grad_of_a_partial():
    loss = functools.partial(squared_error, x=DATA, y=TARGET)
    want = 2.0 * DATA.T @ (DATA @ X - TARGET)
    np.testing.assert_allclose(srcdiff.grad(loss)(X), want)
    value, gradient = srcdiff.value_and_grad(functools.partial(squared_error, X))(DATA, TARGET)  # wrt x
    assert value == pytest.approx(squared_error(X, DATA, TARGET))
    np.testing.assert_allclose(gradient, central_differences(lambda x: squared_error(X, x, TARGET), (DATA,), 0), atol=1e-6)
    with pytest.raises(BadWrt, match="the functools.partial binds"):
        srcdiff.grad(loss, wrt="x")


# --------------------------------------------------------------------------------- refused


class Stack:
    def __init__(self):
        self.inner = Linear(DATA, TARGET)

    def loss(self, w):
        return self.inner(w)  # <- refused: an attribute holding another object


def test_an_attribute_holding_an_object_is_refused_with_advice_that_works():
    with pytest.raises(NoDerivativeRule, match=r"(?s)test_objects.py:\d+: .*\.inner\(\) of 'self'.*as an argument of its own"):
        srcdiff.grad(Stack().loss)(X)
    agrees(calls_the_model, X, Stack().inner)  # the advice: pass it as an argument


def calls_a_rebound_object(w, model):
    model = model if w[0] > 100.0 else MODEL
    return model.loss(w)  # <- refused: model is rebound, its class is not known where it is called


def test_a_rebound_object_is_refused():
    with pytest.raises((NoDerivativeRule, UnsupportedSyntax), match=r"test_objects.py:\d+"):
        srcdiff.grad(calls_a_rebound_object)(X, MODEL)


class Tanh:
    def __init__(self, a):
        self.a = a

    def __call__(self, x):
        return np.tanh(self.a * x)


class Sine:
    def __init__(self, a):
        self.a = a

    def __call__(self, x):
        return np.sin(self.a * x)


def through_layers(x, layers):
    for m in layers:
        x = m(x)  # <- refused for layers of several classes
    return np.sum(x)


def through_two(x, first, second):
    x = first(x)
    x = second(x)
    return np.sum(x)


def test_a_list_of_objects_of_one_class_called_in_a_loop():
    gradient = srcdiff.grad(through_layers)
    for layers in ([Tanh(1.0), Tanh(-2.0)], [Sine(0.5), Sine(2.0), Sine(1.5)], [Tanh(0.3)]):  # another class: built again
        want = central_differences(through_layers, (X, layers), 0)
        np.testing.assert_allclose(gradient(X, layers), want, rtol=1e-5, atol=1e-6)
    agrees(through_layers, X, (Sine(0.5), Sine(2.0)))


def test_a_list_of_objects_of_several_classes_is_refused_with_advice_that_works():
    with pytest.raises(UnsupportedSyntax, match=r"(?s)test_objects.py:\d+: 'layers' holds objects of several classes.*first"):
        srcdiff.grad(through_layers)(X, [Tanh(1.0), Sine(2.0)])
    agrees(through_two, X, Tanh(1.0), Sine(2.0))  # the advice


class _Scaled:
    def __init__(self, s):
        self.s = s

    def predict(self, w, x):
        return x @ w * self.s

    def loss(self, w, x):
        return np.sum(self.predict(w, x) ** 2)


def test_a_method_replaced_on_its_class_builds_the_code_again():
    model, w, x = _Scaled(2.0), np.array([1.0, 2.0]), np.ones((3, 2))
    g = srcdiff.grad(model.loss)
    np.testing.assert_allclose(g(w, x), 2 * 4.0 * x.T @ (x @ w))
    original = _Scaled.predict
    try:
        _Scaled.predict = lambda self, w, x: x @ w * self.s * 10.0
        np.testing.assert_allclose(g(w, x), 2 * 400.0 * x.T @ (x @ w))  # not the code built for the old method
    finally:
        _Scaled.predict = original


# ------------------------------------------------------------- objects held by globals and closures

NET = Tanh(0.7)  # rebound by the tests below, which put it back
STACK = [Tanh(1.0), Tanh(-0.5)]


def calls_a_global_object(x):
    return np.sum(NET(x) * x)


def calls_through_a_global_list(x):
    for layer in STACK:
        x = layer(x)
    return np.sum(x)


class _WithClassMethod(Tanh):
    @classmethod
    def weight(cls, x):
        return np.sum(x**2) * len(cls.__name__)


GLOBAL_MODEL = _WithClassMethod(0.3)


def calls_a_classmethod_of_a_global(x):
    return GLOBAL_MODEL.weight(x) + np.sum(GLOBAL_MODEL(x))


def closure_over_an_object(a):
    layer = Sine(a)

    def loss(x):
        return np.sum(layer(x) ** 2)

    return loss


@pytest.mark.parametrize(
    "f", [calls_a_global_object, calls_through_a_global_list, calls_a_classmethod_of_a_global, closure_over_an_object(1.3)]
)
def test_an_object_held_by_a_global_or_a_closure(f):
    agrees(f, X)
    np.testing.assert_allclose(srcdiff.hessian(f)(X), _central_hessian(f, X), rtol=1e-4, atol=1e-5)


def _central_hessian(f, x, eps=1e-4):
    gradient = srcdiff.grad(f)
    return np.array([(gradient(x + eps * e) - gradient(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])


def test_a_global_rebound_to_an_object_of_another_class_builds_the_code_again():
    global NET, STACK
    gradient = srcdiff.grad(calls_a_global_object)
    saved = NET, STACK
    try:
        for NET in (Tanh(0.7), Tanh(-1.5), Sine(2.0), Tanh(0.2)):  # noqa: B007 (the same class reuses the code, reading NET anew)
            np.testing.assert_allclose(gradient(X), central_differences(calls_a_global_object, (X,), 0), rtol=1e-5, atol=1e-6)
        NET.a = 3.0  # an attribute changed: read when the gradient runs
        np.testing.assert_allclose(gradient(X), central_differences(calls_a_global_object, (X,), 0), rtol=1e-5, atol=1e-6)
        through = srcdiff.grad(calls_through_a_global_list)
        for STACK in ([Tanh(1.0), Tanh(-0.5)], [Sine(0.5), Sine(1.5), Sine(-1.0)]):  # noqa: B007
            want = central_differences(calls_through_a_global_list, (X,), 0)
            np.testing.assert_allclose(through(X), want, rtol=1e-5, atol=1e-6)
        STACK = [Tanh(1.0), Sine(2.0)]  # several classes: built again, and refused as for a parameter
        with pytest.raises(UnsupportedSyntax, match="'STACK' holds objects of several classes"):
            through(X)
    finally:
        NET, STACK = saved

