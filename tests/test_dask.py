"""Arrays of other libraries through NumPy's protocols, with Dask as the tested case.

A Dask argument (the data) meets NumPy parameters: the gradient is built once, evaluated
lazily (building it computes nothing: a scheduler that refuses to run stands by), and
equals the NumPy gradient and central differences, on several shapes split into several
chunks. Every rule of the catalogue runs with its weight ``w`` a Dask array. What Dask
cannot follow NumPy in is refused: a write into an element of a Dask array, labelled
arrays (pandas), arrays of unknown shape. A ``LocalCluster`` of worker processes computes
a gradient as a user's cluster would (``docs/scaling-out.md``).
"""

from __future__ import annotations

import contextlib
import zlib

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
from catalogue import CASES, Case
from test_rules import _example_id, example_inputs, wrt_of

import srcdiff
from srcdiff import api, cache
from srcdiff.errors import ArraySubclassError, NonScalarOutput, UnsupportedSyntax

# (releases srcdiff refuses, tested by tests/test_dask_releases.py: none of these would run)
pytestmark = pytest.mark.skipif(
    bool(api._untested_library(da.ones(1))), reason=f"dask {dask.__version__} with NumPy {np.__version__}: refused"
)


@contextlib.contextmanager
def nothing_computed():
    """Raise if anything asks Dask to compute: what is built inside stays lazy."""

    def refuse(dsk, keys, **kwargs):
        raise AssertionError("a Dask array was computed while the gradient was built")

    with dask.config.set(scheduler=refuse):
        yield


def computed(value):
    return dask.compute(value, scheduler="sync")[0]


def chunked(x: np.ndarray, rows: int = 10) -> da.Array:
    return da.from_array(x, chunks=(rows,) + x.shape[1:])


def marked_line(f, text: str) -> int:
    lines, first = __import__("inspect").getsourcelines(f)
    return first + next(i for i, line in enumerate(lines) if text in line)


# ------------------------------------------------------------------ losses over chunked data


def logistic(w, X, y):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def linear(W, b, X, Y):  # b broadcasts along the rows
    r = X @ W + b - Y
    return np.mean(r**2)


def softmax_xent(W, X, Y):
    z = X @ W
    m = np.max(z, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def elementwise(w, X, y):
    h = np.tanh(X * w) + np.sin(X) * np.sqrt(np.abs(w) + 1.0)
    return np.sum(np.where(y[:, None] > 0.5, h, np.exp(-h)) ** 2)


def statistics(w, X, y):  # reductions along the chunked axis and along the other
    s = X * w
    return np.sum(np.var(s, axis=0) + np.std(s, axis=0)) + np.mean(np.max(s, axis=1) * y) + np.sum(np.mean(s, axis=0) ** 2)


def shapes(w, X, y):  # slicing, transposes, reshapes that keep chunks, joins
    left = X[:, :2] * w[:2]
    both = np.concatenate([left, X[:, 2:] * w[2:]], axis=1)
    flat = np.reshape(both.T, (-1,))
    return np.sum(flat**2) + np.sum(X[::2] @ w) + np.sum(np.sum(both, axis=1) * y)


def with_scalar(w, c, X, y):  # a float parameter: its gradient is a 0-d Dask array
    return np.mean((X @ w * c - y) ** 2) + c * c


def data(n: int, d: int, k: int = 0, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (rng.random(n) > 0.5).astype(float)
    Y = rng.standard_normal((n, k)) if k else None
    return X, y, Y


ROWS = [(40, 3), (37, 5)]  # 4 chunks, and 4 chunks of which the last is short


def examples():
    """(name, f, wrt, numpy parameters, data positions) for each loss and shape."""
    found = []
    for n, d in ROWS:
        X, y, _ = data(n, d)
        rng = np.random.default_rng(n * d)
        w = 0.3 * rng.standard_normal(d)
        found.append((f"logistic-{n}x{d}", logistic, 0, (w,), (X, y)))
        _, _, Y = data(n, d, 3)
        found.append((f"linear-{n}x{d}", linear, (0, 1), (rng.standard_normal((d, 3)), rng.standard_normal(3)), (X, Y)))
        row = (rng.standard_normal((d, 3)), rng.standard_normal((1, 3)))
        found.append((f"linear-rowbias-{n}x{d}", linear, (0, 1), row, (X, Y)))
        onehot = np.eye(4)[rng.integers(0, 4, n)]
        found.append((f"softmax-{n}x{d}", softmax_xent, 0, (rng.standard_normal((d, 4)),), (X, onehot)))
        found.append((f"elementwise-{n}x{d}", elementwise, 0, (w,), (X, y)))
        found.append((f"statistics-{n}x{d}", statistics, 0, (w,), (X, y)))
        found.append((f"shapes-{n}x{d}", shapes, 0, (w,), (X, y)))
        found.append((f"scalar-{n}x{d}", with_scalar, (0, 1), (w, 0.7), (X, y)))
    return [pytest.param(*e[1:], id=e[0]) for e in found]


def as_tuple(g, wrt):
    return g if isinstance(wrt, tuple) else (g,)


@pytest.mark.parametrize(("f", "wrt", "params", "arrays"), examples())
def test_gradient_over_dask_data_is_lazy_and_equals_numpy(f, wrt, params, arrays):
    expected = as_tuple(srcdiff.grad(f, wrt=wrt)(*params, *arrays), wrt)
    lazy = tuple(chunked(a) for a in arrays)
    g = srcdiff.grad(f, wrt=wrt)
    with nothing_computed():
        got = as_tuple(g(*params, *lazy), wrt)
    for ours, theirs, p in zip(got, expected, params):
        assert isinstance(ours, da.Array)  # for the caller to compute, in one graph with others
        value = computed(ours)
        assert np.shape(value) == np.shape(p) and np.asarray(value).dtype == np.float64
        np.testing.assert_allclose(value, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("f", "wrt", "params", "arrays"), examples())
def test_gradient_over_dask_data_matches_central_differences(f, wrt, params, arrays):
    lazy = tuple(chunked(a) for a in arrays)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    grads = computed(as_tuple(srcdiff.grad(f, wrt=wrt)(*params, *lazy), wrt))
    rng = np.random.default_rng(zlib.crc32(f.__name__.encode()))
    directions = [rng.standard_normal(np.shape(params[i])) for i in positions]

    def at(step):
        moved = list(params)
        for i, d in zip(positions, directions):
            moved[i] = params[i] + step * (float(d) if np.ndim(d) == 0 else d)
        return float(f(*moved, *arrays))

    eps = 1e-6
    numeric = (at(eps) - at(-eps)) / (2 * eps)
    analytic = sum(float(np.sum(np.asarray(g) * d)) for g, d in zip(grads, directions))
    scale = sum(float(np.sum(np.abs(np.asarray(g) * d))) for g, d in zip(grads, directions))
    assert abs(analytic - numeric) <= 1e-7 + 1e-6 * scale


def test_value_and_gradient_compute_in_one_pass():
    X, y, _ = data(40, 3)
    w = np.array([0.2, -0.1, 0.4])
    with nothing_computed():
        value, grad = srcdiff.value_and_grad(logistic)(w, chunked(X), chunked(y))
    passes = []
    with dask.config.set(scheduler=lambda dsk, keys, **kw: passes.append(1) or dask.get(dsk, keys, **kw)):
        value, grad = dask.compute(value, grad)
    assert len(passes) == 1  # one graph: X @ w is computed once, for the loss and for its gradient
    np.testing.assert_allclose(value, logistic(w, X, y), rtol=1e-12)
    np.testing.assert_allclose(grad, srcdiff.grad(logistic)(w, X, y), rtol=1e-10)


def test_has_aux_keeps_aux_lazy():
    def loss(w, X, y):
        z = X @ w
        return np.mean((z - y) ** 2), np.max(z)

    X, y, _ = data(40, 3)
    w = np.array([0.2, -0.1, 0.4])
    with nothing_computed():
        grad, aux = srcdiff.grad(loss, has_aux=True)(w, chunked(X), chunked(y))
    assert isinstance(aux, da.Array)
    np.testing.assert_allclose(computed(aux), np.max(X @ w))
    np.testing.assert_allclose(computed(grad), srcdiff.grad(loss, has_aux=True)(w, X, y)[0], rtol=1e-10)


def test_gradient_with_respect_to_the_dask_array():
    X, y, _ = data(40, 3)
    w = np.array([0.2, -0.1, 0.4])
    with nothing_computed():
        gX = srcdiff.grad(logistic, wrt=1)(w, chunked(X), chunked(y))
    assert isinstance(gX, da.Array) and gX.shape == X.shape and gX.chunks == chunked(X).chunks
    np.testing.assert_allclose(computed(gX), srcdiff.grad(logistic, wrt=1)(w, X, y), rtol=1e-10)


def test_a_dask_argument_gets_code_of_its_own_and_is_built_once():
    def loss(w, X, y):  # (its own function: no other test built it)
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))

    X, y, _ = data(40, 3)
    w = np.array([0.2, -0.1, 0.4])
    g = srcdiff.grad(loss)
    plain = g(w, X, y)
    before = cache.transformations
    lazy = g(w, chunked(X), chunked(y))
    assert cache.transformations == before + 1  # its kinds differ from an ndarray's: its own entry
    for step in range(3):  # the same kinds: no build, whatever the values or the chunks
        g(w + step, chunked(X, rows=7), chunked(y, rows=7))
    assert cache.transformations == before + 1
    np.testing.assert_allclose(computed(lazy), plain, rtol=1e-10)
    assert isinstance(g(w, X, y), np.ndarray)  # and NumPy's code still runs NumPy's way
    with pytest.raises(ValueError):  # the ndim is checked as an ndarray's is: a matrix's code is not a vector's
        g(w, chunked(X)[:, :, None], chunked(y))


# ------------------------------------------------------------------ the catalogue


XFAILS = {  # Dask's own limits, met by an adjoint (each fails with Dask's error, never a wrong value): by case or example
    "reshape_fortran_order": "Dask's reshape takes no order: an order='F' adjoint fails there",
    "ravel_order": "Dask's reshape takes no order: an order='F' adjoint fails there",
    "method_flatten_order": "Dask's reshape takes no order: an order='F' adjoint fails there",
    "interp[6,4]": "np.interp's adjoint meets Dask's where with NumPy operands of other chunks",
    "interp[2x3,4]": "np.interp's adjoint meets Dask's where with NumPy operands of other chunks",
    "interp_bounds[6,4,float,float]": "np.interp's adjoint meets Dask's where with NumPy operands of other chunks",
    "helper_interp_slope[6,4]": "np.interp's adjoint meets Dask's where with NumPy operands of other chunks",
    "helper_repeat_adjoint": "repeat_adjoint's own adjoint is np.repeat, which Dask takes with integer repeats only",
    "helper_repeat_adjoint_flat": "repeat_adjoint's own adjoint is np.repeat, which Dask takes along an axis only",
    "helper_scatter": "scatter's own adjoint indexes with the numbering list, which a Dask array does not take",
    "helper_scatter_parts": "scatter's own adjoint indexes with the numbering list, which a Dask array does not take",
}


def _catalogue() -> list:
    params = []
    for case in CASES:
        for shapes, options in case.examples():
            example = _example_id(case, shapes, options)
            reason = case.xfail or XFAILS.get(case.name) or XFAILS.get(example)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, shapes, dict(options), id=example, marks=marks))
    return params


@pytest.mark.parametrize(("case", "shapes", "options"), _catalogue())
@pytest.mark.filterwarnings("ignore:The `.*` function is not implemented by Dask array:FutureWarning")  # computed there
def test_every_rule_with_a_dask_weight(case: Case, shapes: tuple, options: dict) -> None:
    """Each case weighs its primitive's result with ``w``: a Dask array ``w`` makes every
    adjoint that reaches the primitive's rule a Dask array, while the inputs stay NumPy's.
    (``w`` is one chunk: Dask's FFT and reshape need whole axes; tests above split chunks.)"""
    seed = zlib.crc32(_example_id(case, shapes, options).encode())
    inputs, w = example_inputs(case, shapes, options, seed)
    wrt = wrt_of(case, inputs)
    expected = srcdiff.grad(case.fn, wrt=wrt)(*inputs, **options, w=w)
    weight = da.from_array(np.asarray(w), chunks=np.shape(w)) if np.ndim(w) else w
    got = computed(srcdiff.grad(case.fn, wrt=wrt)(*inputs, **options, w=weight))
    for i, ours, theirs in zip(wrt, got, expected):
        assert np.shape(ours) == np.shape(theirs), f"{case.name}: input {i}"
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, err_msg=f"{case.name}: input {i}")


# ------------------------------------------------------------------ what Dask cannot do as NumPy does


def writes_an_element(w, X):
    t = X * 2.0
    t[0] = w[0] * t[1]  # the write
    return np.sum(t @ w)


def writes_into_numpy(w, X):
    t = np.zeros(3)
    t[0] = np.sum(X)  # the write
    return np.sum(t * w)


def adds_in_place(w, X):
    s = X @ w
    s += 1.0
    return np.sum(s * s)


@pytest.mark.parametrize("f", [writes_an_element, writes_into_numpy])
def test_a_write_into_what_may_hold_dask_data_is_refused(f):
    X = da.ones((4, 3), chunks=2)
    with pytest.raises(UnsupportedSyntax) as info:
        srcdiff.grad(f)(np.ones(3), X)
    assert str(info.value).startswith(f"{__file__}:{marked_line(f, '# the write')}: a write into an element of 't'")
    assert "np.where" in info.value.suggestion
    assert srcdiff.grad(f)(np.ones(3), np.ones((4, 3))).shape == (3,)  # NumPy's arrays have views: fine there


def test_an_augmented_assignment_rebinds_and_is_fine():
    X = np.arange(12.0).reshape(4, 3) / 10
    expected = srcdiff.grad(adds_in_place)(np.ones(3), X)
    np.testing.assert_allclose(computed(srcdiff.grad(adds_in_place)(np.ones(3), chunked(X, 2))), expected)


def weighs(x, m):
    return np.sum(x * m)


@pytest.mark.parametrize(
    ("value", "kind", "advice"),
    [
        (pd.Series([1.0, 2.0]), "pandas.Series", "m.to_numpy()"),
        (pd.DataFrame({"a": [1.0, 2.0]}), "pandas.DataFrame", "m.to_numpy()"),
        (np.matrix([[1.0, 2.0]]), "numpy.matrix", "np.asarray(m)"),
        (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "numpy.ma.MaskedArray", "m.filled(0.0)"),
    ],
    ids=["series", "dataframe", "matrix", "masked"],
)
@pytest.mark.parametrize("wrt", [0, 1])
def test_labelled_arrays_and_subclasses_are_refused_with_the_conversion(value, kind, advice, wrt):
    with pytest.raises(ArraySubclassError) as info:
        srcdiff.grad(weighs, wrt=wrt)(np.array([0.5, -1.3]), value)
    assert f"argument 'm' of weighs is a {kind.split('.')[0]}" in str(info.value) and kind.split(".")[-1] in str(info.value)
    assert advice in info.value.suggestion


def test_a_series_in_a_list_is_refused():
    def weighs_a_list(x, ms):
        return np.sum(x * ms[0])

    with pytest.raises(ArraySubclassError, match="argument 'ms' of weighs_a_list is a pandas"):
        srcdiff.grad(weighs_a_list)(np.array([0.5, -1.3]), [pd.Series([1.0, 2.0])])


def test_a_dask_array_of_unknown_shape_is_refused():
    X = chunked(np.arange(12.0))
    with pytest.raises(ArraySubclassError, match="unknown shape") as info:
        srcdiff.grad(weighs)(np.ones(1), X[X > 3.0])
    assert "compute_chunk_sizes()" in info.value.suggestion
    known = X[X > 3.0].compute_chunk_sizes()
    assert float(computed(srcdiff.grad(weighs)(1.0, known))) == float(np.sum(np.arange(4.0, 12.0)))


def test_a_dask_output_that_is_not_a_real_scalar_is_refused():
    X = chunked(np.ones((8, 2)))
    with pytest.raises(NonScalarOutput, match=r"shape \(8,\)"):
        srcdiff.grad(lambda w, X: X @ w)(np.ones(2), X)
    with pytest.raises(NonScalarOutput, match="complex"):
        srcdiff.grad(lambda w, X: np.sum(X @ w * 1j))(np.ones(2), X)


# ------------------------------------------------------------------ other libraries through the same protocols


def test_cupy_arrays_go_through_the_same_protocols():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed: nothing is verified with a GPU here")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:
        pytest.skip("CuPy is installed but finds no GPU")
    X, y, _ = data(40, 3)
    w = np.array([0.2, -0.1, 0.4])
    got = srcdiff.grad(logistic)(cupy.asarray(w), cupy.asarray(X), cupy.asarray(y))
    assert isinstance(got, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(got), srcdiff.grad(logistic)(w, X, y), rtol=1e-10)


# ------------------------------------------------------------------ a cluster of worker processes


@pytest.fixture(scope="module")
def cluster_client():
    """A real ``LocalCluster`` of two worker processes (not threads of this one), closed after.
    Under pytest-xdist each worker that runs these tests starts its own, on free ports."""
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, scheduler_port=0, memory_limit="1GiB"
    ) as cluster, Client(cluster) as client:
        yield client


def test_gradient_computed_on_a_cluster_of_processes(cluster_client):
    X, y, _ = data(4000, 5, seed=3)
    w = np.array([0.3, -0.2, 0.1, 0.0, 0.5])
    lazy_X, lazy_y = chunked(X, 500), chunked(y, 500)  # eight chunks over two workers
    g = srcdiff.value_and_grad(logistic)
    with nothing_computed():
        value, grad = g(w, lazy_X, lazy_y)
    value, grad = dask.compute(value, grad)  # the Client is the default scheduler: computed in the workers
    np.testing.assert_allclose(value, logistic(w, X, y), rtol=1e-12)
    np.testing.assert_allclose(grad, srcdiff.grad(logistic)(w, X, y), rtol=1e-10)
    workers = cluster_client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2 and __import__("os").getpid() not in workers.values()


def test_data_persisted_on_the_cluster_trains(cluster_client):
    """Full-batch gradient descent with the data held by the workers, as examples/dask_regression.py does."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2000, 3))
    truth = np.array([1.5, -2.0, 0.5])
    y = (X @ truth + 0.3 * rng.standard_normal(2000) > 0).astype(float)
    lazy_X, lazy_y = dask.persist(chunked(X, 250), chunked(y, 250))
    g = srcdiff.value_and_grad(logistic)
    w = np.zeros(3)
    losses = []
    for _ in range(30):
        value, grad = dask.compute(*g(w, lazy_X, lazy_y))
        losses.append(float(value))
        w = w - 1.0 * grad
    assert losses[-1] < 0.5 * losses[0] and all(b <= a for a, b in zip(losses, losses[1:]))
    assert np.corrcoef(w, truth)[0, 1] > 0.99
