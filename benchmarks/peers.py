"""The same problems written for the peers: autograd, jax (jit-compiled) and torch (eager).

The Hessian-vector product ("hvp") is each library's own way: autograd's
``hessian_vector_product``, ``jax.jit`` of ``jax.jvp`` over ``jax.grad``, and
``torch.func.jvp`` over ``torch.func.grad``.

Each peer is imported only when asked for. ``PEERS`` maps a column name to a
``Peer``: ``load()`` imports the library and returns its version (raising
``ImportError`` when it is not installed), and ``setup(key, args)`` returns a
thunk that computes the gradient of problem ``key`` at ``args`` plus a function
that turns the thunk's result into NumPy values, or raises ``Unsupported``.

Each problem is written the way that library's users write it, with the inputs
already converted to the library's own types outside the timed thunk: float64
tensors for torch, float64 arrays for jax (with ``jax_enable_x64``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from problems import STEPS

Thunk = Callable[[], Any]


class Unsupported(Exception):
    """The peer cannot express this problem."""


@dataclass(frozen=True)
class Peer:
    load: Callable[[], str]
    setup: Callable[[str, tuple], tuple[Thunk, Callable[[Any], Any]]]


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

    table = {
        "scalar_loop": (scalar_loop, (0, 1)),
        "horner": (horner, 0),
        "linear_mse": (linear_mse, (0, 1)),
        "mlp": (mlp, (0, 1, 2, 3)),
        "square": (square, 0),
    }
    if key == "recurrence":
        raise Unsupported("autograd cannot differentiate assignment into an array, y[i] = ...")
    if key == "hvp":  # autograd's own: the gradient of <grad f, v> (reverse over reverse)
        hvp = autograd.hessian_vector_product(logistic)
        return (lambda: hvp(*args)), _numpy
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

    table = {
        "scalar_loop": (scalar_loop, (0, 1)),
        "horner": (horner, 0),
        "linear_mse": (linear_mse, (0, 1)),
        "mlp": (mlp, (0, 1, 2, 3)),
        "square": (square, 0),
        "recurrence": (recurrence, 0),
    }
    jargs = tuple(jnp.asarray(a, dtype=jnp.float64) for a in args)
    if key == "hvp":
        hvp = jax.jit(logistic_hvp)
        return (lambda: jax.block_until_ready(hvp(*jargs))), _numpy
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

    table = {
        "scalar_loop": (scalar_loop, (0, 1)),
        "horner": (horner, 0),
        "linear_mse": (linear_mse, (0, 1)),
        "mlp": (mlp, (0, 1, 2, 3)),
        "square": (square, 0),
        "recurrence": (recurrence, 0),
    }
    if key == "hvp":  # torch.func, forward over reverse
        import torch.func

        w, x, y, v = (torch.tensor(a, dtype=torch.float64) for a in args)
        return (lambda: torch.func.jvp(lambda w: torch.func.grad(logistic)(w, x, y), (w,), (v,))[1]), _numpy
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
    "autograd": Peer(_autograd_load, _autograd_setup),
    "jax.jit": Peer(_jax_load, _jax_setup),
    "torch": Peer(_torch_load, _torch_setup),
}
