"""Gradients that travel: a gradient pickles as its function and options, and the process that
loads it builds its own code (multiprocessing, concurrent.futures, joblib and Dask send it so)."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import srcdiff


def loss(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def loss_with_aux(w, x):
    y = x @ w
    return np.sum(y**2), {"mean": np.mean(y)}


def cube(x):
    return x**3


def _gradient_at(args):
    g, w, x = args
    return g(w, x)


def test_a_gradient_that_has_run_pickles_and_gives_the_same_numbers():
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=3), rng.normal(size=(4, 3))
    for g in (srcdiff.grad(loss), srcdiff.value_and_grad(loss, wrt=(0, 1)), srcdiff.grad(loss_with_aux, has_aux=True)):
        before = g(w, x)
        again = pickle.loads(pickle.dumps(g))
        assert type(again) is type(g) and again.wrt == g.wrt
        np.testing.assert_equal(again(w, x), before)
    second = srcdiff.grad(srcdiff.grad(cube))
    assert pickle.loads(pickle.dumps(second))(2.0) == second(2.0) == 12.0


def test_gradients_run_in_worker_processes():
    rng = np.random.default_rng(1)
    w, xs = rng.normal(size=3), [rng.normal(size=(4, 3)) for _ in range(3)]
    g = srcdiff.grad(loss)
    g(w, xs[0])  # built here first: what travels is the function, not the code
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_gradient_at, [(g, w, x) for x in xs]))
    for x, got in zip(xs, results):
        np.testing.assert_allclose(got, g(w, x))
