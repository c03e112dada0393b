"""The same problems written for the peers: autograd, jax (jit-compiled), torch (eager) and tangent,
and srcdiff's own code compiled by Numba (``srcdiff[numba]``: ``grad(f, backend="numba")``).

The Hessian-vector product ("hvp") is each library's own way: autograd's
``hessian_vector_product``, ``jax.jit`` of ``jax.jvp`` over ``jax.grad``, and
``torch.func.jvp`` over ``torch.func.grad``. The second derivative ("grad2") is
``grad(grad(f))`` in autograd and jax, and ``torch.autograd.grad`` twice with
``create_graph=True`` in torch. The training loop ("train") is each library's
usual loop: autograd's gradient in ``problems.train``, a ``jax.jit``-compiled
step called from Python, torch's ``autograd.grad`` with the update under
``no_grad``.

Each peer is imported only when asked for. ``PEERS`` maps a column name to a
``Peer``: ``load()`` imports the library and returns its version (raising
``ImportError`` when it is not installed), and ``setup(key, args)`` returns a
thunk that computes the derivative of problem ``key`` at ``args`` plus a function
that turns the thunk's result into NumPy values, or raises ``Unsupported``.

Each problem is written the way that library's users write it, with the inputs
already converted to the library's own types outside the timed thunk: float64
tensors for torch, float64 arrays for jax (with ``jax_enable_x64``). tangent,
a source transformer like srcdiff, is given the problems' own NumPy functions.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from problems import DT, EULER_STEPS, LEARNING_RATE, STEPS, TRAIN_STEPS, train

Thunk = Callable[[], Any]


class Unsupported(Exception):
    """The peer cannot express this problem."""


@dataclass(frozen=True)
class Peer:
    load: Callable[[], str]
    setup: Callable[[str, tuple], tuple[Thunk, Callable[[Any], Any]]]
    numpy_arrays: bool = True  # its arrays are NumPy's, so tracemalloc sees its memory


# autograd: a tape recorded by tracing calls to autograd.numpy


def _autograd_load() -> str:
    importlib.import_module("autograd")
    return importlib.metadata.version("autograd")  # autograd has no __version__


def _autograd_setup(key: str, args: tuple) -> tuple[Thunk, Callable[[Any], Any]]:
    import autograd
    import autograd.numpy as anp

    def scalar_loop(x, a):
        for _ in range(STEPS):
            x = anp.sin(x) * a + x * x * 0.1
        return x

    def horner(x, c):
        acc = 0.0
        for ck in c:
            acc = acc * x + ck
        return acc

    def linear_mse(w, b, x, y):
        r = anp.dot(x, w) + b - y
        return anp.mean(r * r)

    def mlp(w1, b1, w2, b2, x, y):
        h = anp.maximum(anp.dot(x, w1) + b1, 0.0)
        pred = anp.dot(h, w2) + b2
        return anp.mean((pred - y) ** 2)

    def square(x):
        return x * x

    def logistic(w, x, y):
        m = y * anp.dot(x, w)
        return anp.mean(anp.logaddexp(0.0, -m)) + 0.05 * anp.sum(w * w)

    def softmax_ce(z, onehot):
        s = z - anp.max(z, axis=1, keepdims=True)
        logp = s - anp.log(anp.sum(anp.exp(s), axis=1, keepdims=True))
        return -anp.sum(onehot * logp) / z.shape[0]

    def mlp_ce(w1, b1, w2, b2, x, onehot):
        h = anp.maximum(anp.dot(x, w1) + b1, 0.0)
        return softmax_ce(anp.dot(h, w2) + b2, onehot)

    def euler(theta, omega, c):
        for _ in range(EULER_STEPS):
            theta, omega = theta + DT * omega, omega - DT * (anp.sin(theta) + c * omega)
        return theta

    def rnn(w, u, b, xs, y):
        h = anp.zeros((xs.shape[1], w.shape[0]))
        for t in range(xs.shape[0]):
            h = anp.tanh(anp.dot(h, w) + anp.dot(xs[t], u) + b)
        return anp.mean((h - y) ** 2)

    def scalar_loop_x(x):
        for _ in range(STEPS):
            x = anp.sin(x) + x * x * 0.1
        return x

    table = {
        "scalar_loop": (scalar_loop, (0, 1)),
        "horner": (horner, 0),
        "linear_mse": (linear_mse, (0, 1)),
        "mlp": (mlp, (0, 1, 2, 3)),
        "square": (square, 0),
        "mlp_ce": (mlp_ce, (0, 1, 2, 3)),
        "euler": (euler, (0, 1, 2)),
        "rnn": (rnn, (0, 1, 2)),
        "softmax_ce": (softmax_ce, 0),
    }
    if key == "recurrence":
        raise Unsupported("autograd cannot differentiate assignment into an array, y[i] = ...")
    if key == "hvp":  # autograd's own: the gradient of <grad f, v> (reverse over reverse)
        hvp = autograd.hessian_vector_product(logistic)
        return (lambda: hvp(*args)), _numpy
    if key == "grad2":
        g2 = autograd.grad(autograd.grad(scalar_loop_x))
        return (lambda: g2(*args)), _numpy
    if key == "train":  # autograd's gradients are NumPy arrays: the shared loop runs as it is
        g = autograd.grad(linear_mse, argnum=(0, 1))
        return (lambda: train(g, *args)), _numpy
    f, wrt = _lookup(table, key)
    g = autograd.grad(f, argnum=wrt)
    return (lambda: g(*args)), _numpy


# jax: traced and compiled by jax.jit; the thunk waits for the result


def _jax_load() -> str:
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    return jax.__version__


def _jax_setup(key: str, args: tuple) -> tuple[Thunk, Callable[[Any], Any]]:
    import jax
    import jax.numpy as jnp

    def scalar_loop(x, a):
        for _ in range(STEPS):
            x = jnp.sin(x) * a + x * x * 0.1
        return x

    def horner(x, c):
        acc = 0.0
        for k in range(c.shape[0]):
            acc = acc * x + c[k]
        return acc

    def linear_mse(w, b, x, y):
        r = x @ w + b - y
        return jnp.mean(r * r)

    def mlp(w1, b1, w2, b2, x, y):
        h = jnp.maximum(x @ w1 + b1, 0.0)
        pred = h @ w2 + b2
        return jnp.mean((pred - y) ** 2)

    def square(x):
        return x * x

    def recurrence(x):  # jax arrays are immutable: y.at[i].set(...) is its in-place write
        n = x.shape[0]
        y = jnp.zeros(n).at[0].set(x[0])
        for i in range(1, n):
            y = y.at[i].set(0.5 * y[i - 1] + jnp.sin(x[i]))
        return jnp.sum(y * y)

    def logistic(w, x, y):
        m = y * (x @ w)
        return jnp.mean(jnp.logaddexp(0.0, -m)) + 0.05 * jnp.sum(w * w)

    def logistic_hvp(w, x, y, v):  # forward over reverse, as JAX's documentation writes it
        return jax.jvp(lambda w: jax.grad(logistic)(w, x, y), (w,), (v,))[1]

    def softmax_ce(z, onehot):
        return -jnp.sum(onehot * jax.nn.log_softmax(z, axis=1)) / z.shape[0]

    def mlp_ce(w1, b1, w2, b2, x, onehot):
        h = jnp.maximum(x @ w1 + b1, 0.0)
        return softmax_ce(h @ w2 + b2, onehot)

    def euler(theta, omega, c):  # a loop this long is a fori_loop in jax: unrolled, it compiles for minutes
        def step(_, state):
            theta, omega = state
            return theta + DT * omega, omega - DT * (jnp.sin(theta) + c * omega)

        return jax.lax.fori_loop(0, EULER_STEPS, step, (theta, omega))[0]

    def rnn(w, u, b, xs, y):
        h = jnp.zeros((xs.shape[1], w.shape[0]))
        for t in range(xs.shape[0]):
            h = jnp.tanh(h @ w + xs[t] @ u + b)
        return jnp.mean((h - y) ** 2)

    def scalar_loop_x(x):
        for _ in range(STEPS):
            x = jnp.sin(x) + x * x * 0.1
        return x

    table = {
        "scalar_loop": (scalar_loop, (0, 1)),
        "horner": (horner, 0),
        "linear_mse": (linear_mse, (0, 1)),
        "mlp": (mlp, (0, 1, 2, 3)),
        "square": (square, 0),
        "recurrence": (recurrence, 0),
        "mlp_ce": (mlp_ce, (0, 1, 2, 3)),
        "euler": (euler, (0, 1, 2)),
        "rnn": (rnn, (0, 1, 2)),
        "softmax_ce": (softmax_ce, 0),
    }
    jargs = tuple(jnp.asarray(a, dtype=jnp.float64) for a in args)
    if key == "hvp":
        hvp = jax.jit(logistic_hvp)
        return (lambda: jax.block_until_ready(hvp(*jargs))), _numpy
    if key == "grad2":
        g2 = jax.jit(jax.grad(jax.grad(scalar_loop_x)))
        return (lambda: jax.block_until_ready(g2(*jargs))), _numpy
    if key == "train":  # one compiled step, called from a Python loop
        gradient = jax.grad(linear_mse, argnums=(0, 1))

        @jax.jit
        def step(w, b, x, y):
            dw, db = gradient(w, b, x, y)
            return w - LEARNING_RATE * dw, b - LEARNING_RATE * db

        def loop() -> Any:
            w, b, x, y = jargs
            for _ in range(TRAIN_STEPS):
                w, b = step(w, b, x, y)
            return jax.block_until_ready((w, b))

        return loop, _numpy
    f, wrt = _lookup(table, key)
    g = jax.jit(jax.grad(f, argnums=wrt))
    return (lambda: jax.block_until_ready(g(*jargs))), _numpy


# torch: eager mode, a tape recorded as the forward runs


def _torch_load() -> str:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)  # like the other libraries here (run.py sets their thread counts)
    return torch.__version__


def _torch_setup(key: str, args: tuple) -> tuple[Thunk, Callable[[Any], Any]]:
    import torch

    def scalar_loop(x, a):
        for _ in range(STEPS):
            x = torch.sin(x) * a + x * x * 0.1
        return x

    def horner(x, c):
        acc = 0.0
        for ck in c:
            acc = acc * x + ck
        return acc

    def linear_mse(w, b, x, y):
        r = x @ w + b - y
        return torch.mean(r * r)

    def mlp(w1, b1, w2, b2, x, y):
        h = torch.clamp(x @ w1 + b1, min=0.0)
        pred = h @ w2 + b2
        return torch.mean((pred - y) ** 2)

    def square(x):
        return x * x

    def recurrence(x):
        n = x.shape[0]
        y = torch.zeros(n, dtype=torch.float64)
        y[0] = x[0]
        for i in range(1, n):
            y[i] = 0.5 * y[i - 1] + torch.sin(x[i])
        return torch.sum(y * y)

    def logistic(w, x, y):
        m = y * (x @ w)
        return torch.mean(torch.logaddexp(torch.zeros_like(m), -m)) + 0.05 * torch.sum(w * w)

    def softmax_ce(z, onehot):
        return -torch.sum(onehot * torch.log_softmax(z, dim=1)) / z.shape[0]

    def mlp_ce(w1, b1, w2, b2, x, onehot):
        h = torch.clamp(x @ w1 + b1, min=0.0)
        return softmax_ce(h @ w2 + b2, onehot)

    def euler(theta, omega, c):
        for _ in range(EULER_STEPS):
            theta, omega = theta + DT * omega, omega - DT * (torch.sin(theta) + c * omega)
        return theta

    def rnn(w, u, b, xs, y):
        h = torch.zeros((xs.shape[1], w.shape[0]), dtype=torch.float64)
        for t in range(xs.shape[0]):
            h = torch.tanh(h @ w + xs[t] @ u + b)
        return torch.mean((h - y) ** 2)

    def scalar_loop_x(x):
        for _ in range(STEPS):
            x = torch.sin(x) + x * x * 0.1
        return x

    table = {
        "scalar_loop": (scalar_loop, (0, 1)),
        "horner": (horner, 0),
        "linear_mse": (linear_mse, (0, 1)),
        "mlp": (mlp, (0, 1, 2, 3)),
        "square": (square, 0),
        "recurrence": (recurrence, 0),
        "mlp_ce": (mlp_ce, (0, 1, 2, 3)),
        "euler": (euler, (0, 1, 2)),
        "rnn": (rnn, (0, 1, 2)),
        "softmax_ce": (softmax_ce, 0),
    }
    if key == "hvp":  # torch.func, forward over reverse
        import torch.func

        w, x, y, v = (torch.tensor(a, dtype=torch.float64) for a in args)
        return (lambda: torch.func.jvp(lambda w: torch.func.grad(logistic)(w, x, y), (w,), (v,))[1]), _numpy
    if key == "grad2":  # the first gradient keeps its graph, to be differentiated again
        x = torch.tensor(args[0], dtype=torch.float64, requires_grad=True)

        def second() -> Any:
            (dx,) = torch.autograd.grad(scalar_loop_x(x), x, create_graph=True)
            return torch.autograd.grad(dx, x)[0]

        return second, _numpy
    if key == "train":  # the usual loop: gradients by autograd, the update under no_grad
        w0, b0, x, y = (torch.tensor(a, dtype=torch.float64) for a in args)

        def loop() -> Any:
            w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
            for _ in range(TRAIN_STEPS):
                dw, db = torch.autograd.grad(linear_mse(w, b, x, y), (w, b))
                with torch.no_grad():
                    w -= LEARNING_RATE * dw
                    b -= LEARNING_RATE * db
            return w, b

        return loop, _numpy
    f, wrt = _lookup(table, key)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    targs = [a if isinstance(a, list) else torch.tensor(a, dtype=torch.float64) for a in args]
    for i in positions:
        targs[i].requires_grad_(True)
    inputs = [targs[i] for i in positions]

    def thunk() -> Any:
        grads = torch.autograd.grad(f(*targs), inputs)
        return grads if isinstance(wrt, tuple) else grads[0]

    return thunk, _numpy


# tangent: source transformation like srcdiff, so it is given the problems' own NumPy functions


def _tangent_load() -> str:
    importlib.import_module("tangent")
    return importlib.metadata.version("tangent")


def _tangent_setup(key: str, args: tuple) -> tuple[Thunk, Callable[[Any], Any]]:
    import tangent
    from problems import PROBLEMS

    problem = next(p for p in PROBLEMS if p.key == key)
    if problem.derivative != "grad":
        raise Unsupported(f"only gradients are written for tangent here, not {problem.derivative}")
    g = tangent.grad(problem.f, wrt=problem.wrt if isinstance(problem.wrt, tuple) else (problem.wrt,))
    if problem.driver is not None:
        return (lambda: problem.driver(g, *args)), _numpy
    return (lambda: g(*args)), _numpy


# srcdiff[numba]: srcdiff's own code compiled by Numba (grad(f, backend="numba")), a column of its own


def _numba_load() -> str:
    import srcdiff

    try:
        import numba
    except ImportError as error:  # named as the column, so that measure.py reports it "not installed"
        raise ImportError(str(error), name="srcdiff[numba]") from None
    return f"srcdiff {srcdiff.__version__} with numba {numba.__version__}"


def _numba_setup(key: str, args: tuple) -> tuple[Thunk, Callable[[Any], Any]]:
    """The build and the compile happen here, inside the first call's timing; a problem Numba
    does not take (a ``BackendFallback``) is reported, not timed as Python."""
    import warnings

    from problems import PROBLEMS

    import srcdiff
    from srcdiff.errors import BackendFallback

    problem = next(p for p in PROBLEMS if p.key == key)
    if problem.derivative == "hvp":
        g = srcdiff.hvp(problem.f, wrt=problem.wrt, backend="numba")
    else:
        g = srcdiff.grad(problem.f, wrt=problem.wrt, backend="numba")
    if problem.derivative == "grad2":
        g = srcdiff.grad(g, wrt=problem.wrt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BackendFallback)
        g(*args)
    fallbacks = [w for w in caught if issubclass(w.category, BackendFallback)]
    if fallbacks:
        raise Unsupported(str(fallbacks[0].message).split(": ", 1)[-1])
    if problem.driver is not None:
        return (lambda: problem.driver(g, *args)), _numpy
    return (lambda: g(*args)), _numpy


def _lookup(table: dict[str, tuple[Callable, Any]], key: str) -> tuple[Callable, Any]:
    if key not in table:
        raise Unsupported(f"no version of problem {key!r} written for this peer")
    return table[key]


def _numpy(result: Any) -> Any:
    """A peer's gradient (a value or a tuple of values) as float64 NumPy values."""
    if isinstance(result, (tuple, list)):
        return tuple(_numpy(r) for r in result)
    if hasattr(result, "detach"):  # a torch tensor
        result = result.detach().numpy()
    return np.asarray(result, dtype=np.float64)


PEERS: dict[str, Peer] = {
    "srcdiff[numba]": Peer(_numba_load, _numba_setup),
    "autograd": Peer(_autograd_load, _autograd_setup),
    "jax.jit": Peer(_jax_load, _jax_setup, numpy_arrays=False),
    "torch": Peer(_torch_load, _torch_setup, numpy_arrays=False),
    "tangent": Peer(_tangent_load, _tangent_setup),
}
