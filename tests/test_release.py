"""The release stage: generated code lets each array go after its last use (``del``), and an
array it reads afterwards only for its shape gives way to a ``shape_holder``. Values never
change (the generated-program suites run through this stage); memory does, and these tests
measure it with tracemalloc, which counts NumPy's arrays exactly."""

from __future__ import annotations

import inspect
import tracemalloc

import numpy as np
import pytest

import srcdiff
from srcdiff import cache, optimize, runtime


def peak_bytes(g, *args) -> int:
    g(*args)  # built, and warm
    tracemalloc.start()
    try:
        g(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def chain(x):
    a = np.sin(x)
    b = np.cos(a) * x
    c = np.tanh(b) + a
    d = np.exp(c) - b
    e = np.log(1.0 + d * d)
    return np.sum(e * x)


def softmax_cross_entropy(z, onehot):
    s = z - np.max(z, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.sum(onehot * logp) / z.shape[0]


def rnn(w, xs):
    h = np.zeros((xs.shape[1], w.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ w + xs[t] + 0.1)  # (h @ w and the sum are read back only for their shapes)
    return np.mean(h**2)


def unreleased(f, monkeypatch, args=None):
    """``grad(f)`` built without the release stage (for comparison)."""
    args = args or ARGS[f]
    monkeypatch.setattr(optimize, "release", lambda fn, scalars: None)
    monkeypatch.setattr(optimize, "hold_shapes", lambda fn, bindings, stack, scalars: None)
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", "")  # (built here, not read from the disk cache)
    cache.clear()
    g = srcdiff.grad(f)
    assert "del " not in srcdiff.source(g, *args)
    g(*args)
    return g


X = np.linspace(-1.0, 1.0, 200_000)
Z = np.random.default_rng(0).standard_normal((1000, 100))
ONEHOT = np.eye(100)[np.random.default_rng(1).integers(0, 100, 1000)]
RNG = np.random.default_rng(2)
ARGS = {chain: (X,), softmax_cross_entropy: (Z, ONEHOT), rnn: (RNG.normal(size=(64, 64)) / 8, RNG.normal(size=(50, 16, 64)))}


@pytest.mark.parametrize("f", [chain, softmax_cross_entropy, rnn], ids=lambda f: f.__name__)
def test_released_code_holds_fewer_arrays_at_once(f, monkeypatch):
    args = ARGS[f]
    g = srcdiff.grad(f)
    text = srcdiff.source(g, *args)
    assert "del " in text
    if f is rnn:
        assert ".append(shape_holder(" in text
    released = peak_bytes(g, *args)
    unreleased_g = unreleased(f, monkeypatch)
    kept = peak_bytes(unreleased_g, *args)
    np.testing.assert_array_equal(g(*args), unreleased_g(*args))
    cache.clear()  # (no build without the stage stays)
    # the forward values the backward sweep reads stay (as a hand-written gradient keeps them);
    # temporaries and values read only for their shape go (in a loop: the tape keeps holders)
    assert released <= 0.75 * kept, (released, kept)


def test_softmax_keeps_only_the_shapes_of_what_it_reads_for_shapes():
    g = srcdiff.grad(softmax_cross_entropy)
    assert "shape_holder(" in srcdiff.source(g, Z, ONEHOT)
    # s, exp(s), log-probabilities and their product with onehot, each z's size: the hand-written
    # gradient needs two or three such arrays at once, and so does this one
    assert peak_bytes(g, Z, ONEHOT) <= 3.5 * Z.nbytes


SHAPES = [(), (1,), (3,), (2, 3), (1, 3), (2, 1), (4, 2, 3), (1, 1, 3)]


@pytest.mark.parametrize("like_shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_helpers_read_only_the_shape_where_declared(like_shape, dtype):
    """A holder does there what the array does: the declaration in runtime.READS_ONLY_THE_SHAPE
    is checked, not trusted."""
    rng = np.random.default_rng(1)
    like = rng.standard_normal(like_shape).astype(dtype) if like_shape else dtype(0.5)
    holder = np.broadcast_to(np.zeros((), dtype=dtype), np.shape(like))  # what shape_holder gives big arrays
    adjoints = [0.0, dtype(0.0), 1.5, rng.standard_normal(like_shape), rng.standard_normal((2,) + like_shape)]
    adjoints += [rng.standard_normal(like_shape[:i] + (1,) + like_shape[i + 1 :]) for i in range(len(like_shape))]
    if not like_shape:
        return  # (a number is kept as it is)
    for name, position in runtime.READS_ONLY_THE_SHAPE.items():
        helper = getattr(runtime, name)
        arity = min(2, len(inspect.signature(helper).parameters))
        for x in adjoints:
            args = [x, x][:arity]
            args[position] = like
            try:
                want = helper(*args)
            except ValueError:
                continue  # (an adjoint of no shape this like takes)
            args[position] = holder
            got = helper(*args)
            assert type(got) is type(want) and np.shape(got) == np.shape(want)
            assert np.result_type(got) == np.result_type(want)
            np.testing.assert_array_equal(got, want)


def test_shape_holder_keeps_small_values_and_holds_big_arrays():
    small = np.ones(100)
    assert runtime.shape_holder(small) is small
    assert runtime.shape_holder(2.5) == 2.5
    big = np.ones((300, 100), dtype=np.float32)
    held = runtime.shape_holder(big)
    assert type(held) is np.ndarray and held.shape == big.shape and held.dtype == big.dtype
    assert not np.shares_memory(held, big) and held.base.nbytes == 4


def along(t):
    return chain(X * t)


def test_released_code_differentiates_again():
    v = np.cos(np.arange(X.size))
    eps = 1e-6
    g = srcdiff.grad(chain)
    np.testing.assert_allclose(srcdiff.hvp(chain)(X, v), (g(X + eps * v) - g(X - eps * v)) / (2 * eps), rtol=1e-4, atol=1e-6)
    dg = srcdiff.grad(along)
    want = (dg(1.0 + eps) - dg(1.0 - eps)) / (2 * eps)
    np.testing.assert_allclose(srcdiff.grad(srcdiff.grad(along))(1.0), want, rtol=1e-5)


# -- values read only for their shape are not computed ----------------------------------------------


def mean_product(r, y):
    d = r - y
    return np.mean(d * y)  # (d * y: summed, so read back only for its shape, which d's is not proven to be)


def complex_mean_product(r, y):
    d = r - y
    return np.real(np.mean(d * y))


def test_a_product_read_only_for_its_shape_is_held_not_computed():
    g = srcdiff.grad(softmax_cross_entropy)
    text = srcdiff.source(g, Z, ONEHOT)
    # the log-probabilities and their product with onehot: the value is not returned, so the
    # gradient needs their shapes only
    assert "logp = result_holder('-', s, _t4)" in text and "result_holder('*', onehot, logp)" in text
    cache.clear()
    with_value = srcdiff.value_and_grad(softmax_cross_entropy)  # (the value reads them: computed)
    assert "result_holder" not in srcdiff.source(with_value, Z, ONEHOT)
    value, gradient = with_value(Z, ONEHOT)
    np.testing.assert_allclose(g(Z, ONEHOT), gradient, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("f", [mean_product, softmax_cross_entropy], ids=lambda f: f.__name__)
def test_held_results_give_the_gradient_computed_results_give(f, dtype, monkeypatch):
    args = tuple(a.astype(dtype) for a in ARGS_OF_SHAPES[f])
    if dtype is np.complex128:  # (a complex output has no gradient; np.max of complex numbers no derivative)
        if f is softmax_cross_entropy:
            return
        f, args = complex_mean_product, (ARGS_OF_SHAPES[f][0], args[1] * (1 + 0.5j))  # (d complex)
    g = srcdiff.grad(f)
    assert "result_holder(" in srcdiff.source(g, *args)
    got = g(*args)
    want = unreleased(f, monkeypatch, args)(*args)
    cache.clear()  # (no build without the stage stays)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


ARGS_OF_SHAPES = {mean_product: (RNG.normal(size=(300, 8)), RNG.normal(size=8)), softmax_cross_entropy: (Z[:50], ONEHOT[:50])}


BIG = (200, 100)  # (float32: 80 KB, under runtime.HELD_FROM; float64 and more: held)
OPERANDS = [  # (what), operands of an elementwise operation
    ("arrays", [np.ones(BIG), np.full(100, 2.0)]),
    ("broadcast both ways", [np.ones((200, 1)), np.full(100, 2.0)]),
    ("float32 and a float", [np.ones(BIG, dtype=np.float32), 2.0]),
    ("float32 and a float64 number", [np.ones(BIG, dtype=np.float32), np.float64(2.0)]),
    ("float32 and a 0-d float64 array", [np.ones(BIG, dtype=np.float32), np.array(2.0)]),
    ("float32 and float64", [np.ones(BIG, dtype=np.float32), np.ones(BIG)]),
    ("ints", [np.arange(20000).reshape(BIG), 3]),
    ("ints and a float", [np.arange(20000).reshape(BIG), 0.5]),
    ("complex", [np.ones(BIG) * 1j, 2.0]),
    ("small", [np.ones(3), 2.0]),
    ("a list", [[1.0, 2.0], np.ones((10000, 2))]),
    ("numbers", [2.0, 3.0]),
    ("a 0-d array", [np.array(2.0), 3.0]),
    ("a subclass", [np.ma.masked_array(np.ones(BIG)), 2.0]),
]


@pytest.mark.parametrize("symbol", ["+", "-", "*", "/", "//", "%", "**"])
@pytest.mark.parametrize("operands", [o for _, o in OPERANDS], ids=[what for what, _ in OPERANDS])
def test_result_holder_has_the_results_type_shape_and_dtype(symbol, operands):
    op = runtime._OPERATORS[symbol]
    with np.errstate(all="ignore"):
        try:
            want = op(*operands)
        except TypeError:  # (complex // and %): the holder fails as the operation does
            with pytest.raises(TypeError):
                runtime.result_holder(symbol, *operands)
            return
        got = runtime.result_holder(symbol, *operands)
    assert type(got) is type(want) and np.shape(got) == np.shape(want) and np.result_type(got) == np.result_type(want)
    plain = all(type(v) is np.ndarray or isinstance(v, float | int) for v in operands)
    big = plain and max((v.nbytes for v in operands if type(v) is np.ndarray), default=0) >= runtime.HELD_FROM
    if big and type(want) is np.ndarray and want.dtype.kind in "fc":
        assert got.base is not None and got.base.nbytes == got.itemsize  # held: no data of its own
    else:
        np.testing.assert_array_equal(got, want)  # computed


def test_result_holder_fails_where_the_operation_fails():
    flags = np.ones(1 << 18, dtype=bool)
    for symbol, operands in [("*", [np.ones(BIG), np.ones(99)]), ("-", [flags, flags])]:
        with pytest.raises(Exception) as expected:
            runtime._OPERATORS[symbol](*operands)
        with pytest.raises(expected.type):
            runtime.result_holder(symbol, *operands)
    assert runtime.result_holder("neg", np.ones(BIG)).shape == BIG
