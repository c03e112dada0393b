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


SCRIPT = """
import sys

import cloudpickle
import numpy as np

import srcdiff


def helper(w):
    return np.tanh(w) * 2.0


def loss(w):
    return np.sum(helper(w) ** 2)


g = srcdiff.grad(loss)
w = np.array([0.1, -0.4, 0.7])
with open(sys.argv[1], "wb") as out:
    cloudpickle.dump((g, w, g(w)), out)
"""


def test_a_gradient_of_a_scripts_function_rebuilds_where_the_script_is_gone(tmp_path):
    # cloudpickle sends __main__'s functions by value, without their file: the gradient carries
    # the source, so a worker (another machine, the script deleted) can build its code
    import subprocess
    import sys

    script, sent = tmp_path / "train.py", tmp_path / "gradient.pkl"
    script.write_text(SCRIPT)
    subprocess.run([sys.executable, str(script), str(sent)], check=True, cwd=tmp_path)
    script.unlink()
    check = (
        "import pickle, sys, numpy as np\n"
        "g, w, expected = pickle.load(open(sys.argv[1], 'rb'))\n"
        "np.testing.assert_allclose(g(w), expected, rtol=1e-12)\n"
        "t = np.tanh(w)\n"
        "np.testing.assert_allclose(g(w), 8.0 * t * (1.0 - t**2), rtol=1e-12)\n"
    )
    subprocess.run([sys.executable, "-c", check, str(sent)], check=True, cwd=tmp_path)


def test_a_function_made_from_text_is_differentiated_when_its_text_is_registered():
    # the documented recipe for code made by exec (or given as text): put the text in linecache
    import linecache

    text = "def scaled_square(x):\n    return 3.0 * x * x\n"
    filename = "<generated scaled_square>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict = {}
    exec(compile(text, filename, "exec"), namespace)
    assert srcdiff.grad(namespace["scaled_square"])(2.0) == 12.0
