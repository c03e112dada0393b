"""The benchmark problems: each a primal function, its inputs, and a hand-written backward pass.

The primal functions are what a user would hand to ``srcdiff.grad``; the
backward passes are what a careful person writes instead, with the same
arithmetic and a Python list as the tape where the primal loops. Every backward
returns what ``srcdiff.grad(f, wrt=...)`` returns: a tuple for a tuple ``wrt``,
a bare gradient for a single index. A problem whose ``derivative`` is "hvp" asks
for a Hessian-vector product instead: its inputs end with the vector, and its
hand-written pass returns H @ v. Peers (autograd, jax, torch) live in ``peers.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

STEPS = 100  # iterations of the scalar loop
DEGREE = 100  # degree of the Horner polynomial
RECURRENCE = 100  # length of the in-place recurrence


# (1) a scalar loop on Python floats, with math.* functions


def scalar_loop(x, a):
    for _ in range(STEPS):
        x = math.sin(x) * a + x * x * 0.1
    return x


def scalar_loop_backward(x, a):
    # the tape keeps x only: recomputing sin(x) on the way back measured faster than
    # keeping (x, sin(x)) pairs or a second list
    tape = []
    for _ in range(STEPS):
        tape.append(x)
        x = math.sin(x) * a + x * x * 0.1
    dx, da = 1.0, 0.0
    for x in reversed(tape):
        da += dx * math.sin(x)
        dx = dx * (math.cos(x) * a + 0.2 * x)
    return dx, da


# (2) a polynomial by Horner's rule; coefficients in a Python list of floats


def horner(x, c):
    acc = 0.0
    for ck in c:
        acc = acc * x + ck
    return acc


def horner_backward(x, c):
    tape = []
    acc = 0.0
    for ck in c:
        tape.append(acc)
        acc = acc * x + ck
    dacc, dx = 1.0, 0.0
    for acc in reversed(tape):
        dx += dacc * acc
        dacc = dacc * x
    return dx


# (3) mean squared error of a linear regression


def linear_mse(w, b, x, y):
    r = x @ w + b - y
    return np.mean(r * r)


def linear_mse_backward(w, b, x, y):
    r = x @ w + b - y
    dr = (2.0 / r.size) * r
    return x.T @ dr, dr.sum()


# (4) a two-layer perceptron: Linear -> ReLU -> Linear -> mean squared error


def mlp(w1, b1, w2, b2, x, y):
    h = np.maximum(x @ w1 + b1, 0.0)
    pred = h @ w2 + b2
    return np.mean((pred - y) ** 2)


def mlp_backward(w1, b1, w2, b2, x, y):
    z = x @ w1 + b1
    h = np.maximum(z, 0.0)
    pred = h @ w2 + b2
    dpred = (2.0 / pred.size) * (pred - y)
    dz = (dpred @ w2.T) * (z > 0)
    return x.T @ dz, dz.sum(axis=0), h.T @ dpred, dpred.sum(axis=0)


# (5) per-call overhead: the gradient of x * x at a float


def square(x):
    return x * x


def square_backward(x):
    return 2.0 * x


# (6) an in-place recurrence y[i] = ... written into a preallocated array


def recurrence(x):
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y * y)


def recurrence_backward(x):
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    dy = 2.0 * y
    dx = np.zeros(n)
    for i in range(n - 1, 0, -1):
        dx[i] = dy[i] * np.cos(x[i])
        dy[i - 1] += 0.5 * dy[i]
    dx[0] = dy[0]
    return dx


# (7) a Hessian-vector product: L2-regularised logistic regression, as in Newton-CG


def logistic(w, x, y):
    m = y * (x @ w)
    return np.mean(np.logaddexp(0.0, -m)) + 0.05 * np.sum(w * w)


def logistic_hvp(w, x, y, v):
    # the loss is a mean of softplus(-m): its Hessian is x^T diag(s (1 - s) / n) x + 0.1 I
    s = 1.0 / (1.0 + np.exp(-y * (x @ w)))
    return x.T @ (s * (1.0 - s) * (x @ v)) / y.size + 0.1 * v


@dataclass(frozen=True)
class Problem:
    """One row of the table."""

    key: str  # the name peers.py uses
    label: str  # the row label
    f: Callable
    wrt: int | tuple[int, ...]  # as given to srcdiff.grad
    backward: Callable  # computes the derivative by hand: the gradient, or H @ v
    inputs: Callable[[], tuple[Any, ...]]
    derivative: str = "grad"  # or "hvp": the inputs end with v, and the derivative is H @ v


def _linear_inputs() -> tuple:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 10))
    w_true = rng.normal(size=10)
    y = x @ w_true + 0.1 * rng.normal(size=1000)
    return rng.normal(size=10), 0.5, x, y


def _mlp_inputs() -> tuple:
    rng = np.random.default_rng(1)
    w1 = rng.normal(size=(32, 64)) / np.sqrt(32)
    w2 = rng.normal(size=(64, 10)) / np.sqrt(64)
    return w1, 0.1 * rng.normal(size=64), w2, 0.1 * rng.normal(size=10), rng.normal(size=(64, 32)), rng.normal(size=(64, 10))


def _horner_inputs() -> tuple:
    rng = np.random.default_rng(2)
    return 0.97, [float(v) for v in rng.normal(size=DEGREE + 1)]


def _logistic_inputs() -> tuple:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 20))
    y = np.sign(x @ rng.normal(size=20) + 0.5 * rng.normal(size=200))
    return 0.1 * rng.normal(size=20), x, y, rng.normal(size=20)


PROBLEMS = (
    Problem("scalar_loop", f"scalar loop ({STEPS} steps, floats)", scalar_loop, (0, 1), scalar_loop_backward, lambda: (0.3, 1.0)),
    Problem("horner", f"Horner, degree {DEGREE} (floats)", horner, 0, horner_backward, _horner_inputs),
    Problem("linear_mse", "linear regression MSE (1000, 10)", linear_mse, (0, 1), linear_mse_backward, _linear_inputs),
    Problem("mlp", "MLP 32-64-10, batch 64", mlp, (0, 1, 2, 3), mlp_backward, _mlp_inputs),
    Problem("square", "per-call overhead: x * x (float)", square, 0, square_backward, lambda: (1.5,)),
    Problem(
        "recurrence",
        f"in-place y[i] = ... loop ({RECURRENCE})",
        recurrence,
        0,
        recurrence_backward,
        lambda: (np.random.default_rng(3).normal(size=RECURRENCE),),
    ),
    Problem("hvp", "Hessian-vector product, logistic (200, 20)", logistic, 0, logistic_hvp, _logistic_inputs, "hvp"),
)
