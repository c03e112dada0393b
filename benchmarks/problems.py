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

STEPS = 100  # iterations of the scalar loop (and of the loop differentiated twice)
DEGREE = 100  # degree of the Horner polynomial
RECURRENCE = 100  # length of the in-place recurrence
EULER_STEPS, DT = 1000, 0.01  # explicit Euler steps of the damped pendulum, and the step size
TRAIN_STEPS, LEARNING_RATE = 2000, 0.05  # gradient-descent steps of the linear regression
RNN_T = 50  # time steps of the tanh RNN


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


# (8) a two-layer perceptron at MNIST size with a softmax cross-entropy loss


def mlp_ce(w1, b1, w2, b2, x, onehot):
    h = np.maximum(x @ w1 + b1, 0.0)
    z = h @ w2 + b2
    s = z - np.max(z, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.sum(onehot * logp) / x.shape[0]


def mlp_ce_backward(w1, b1, w2, b2, x, onehot):
    a = x @ w1 + b1
    h = np.maximum(a, 0.0)
    z = h @ w2 + b2
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = e / np.sum(e, axis=1, keepdims=True)  # softmax, then (softmax - onehot) / n in place
    dz -= onehot
    dz /= x.shape[0]
    da = dz @ w2.T
    da *= a > 0
    return x.T @ da, da.sum(axis=0), h.T @ dz, dz.sum(axis=0)


# (9) linear regression trained by gradient descent: the whole loop is timed


def train(gradient, w, b, x, y):
    """TRAIN_STEPS steps of gradient descent on linear_mse, with ``gradient`` as its gradient."""
    for _ in range(TRAIN_STEPS):
        dw, db = gradient(w, b, x, y)
        w = w - LEARNING_RATE * dw
        b = b - LEARNING_RATE * db
    return w, b


# (10) explicit Euler on a damped pendulum, Python floats


def euler(theta, omega, c):
    for _ in range(EULER_STEPS):
        step = DT * omega
        omega = omega - DT * (math.sin(theta) + c * omega)
        theta = theta + step
    return theta


def euler_backward(theta, omega, c):
    tape = []
    for _ in range(EULER_STEPS):
        tape.append((theta, omega))
        theta, omega = theta + DT * omega, omega - DT * (math.sin(theta) + c * omega)
    dtheta, domega, dc = 1.0, 0.0, 0.0
    for theta, omega in reversed(tape):
        dc -= domega * DT * omega
        dtheta, domega = dtheta - domega * DT * math.cos(theta), dtheta * DT + domega * (1.0 - DT * c)
    return dtheta, domega, dc


# (11) a tanh recurrent network over RNN_T steps, loss on the last state


def rnn(w, u, b, xs, y):
    h = np.zeros((xs.shape[1], w.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ w + xs[t] @ u + b)
    return np.mean((h - y) ** 2)


def rnn_backward(w, u, b, xs, y):
    h = np.zeros((xs.shape[1], w.shape[0]))
    states = [h]
    for t in range(xs.shape[0]):
        h = np.tanh(h @ w + xs[t] @ u + b)
        states.append(h)
    dh = (2.0 / h.size) * (h - y)
    dw, du, db = np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    for t in range(xs.shape[0] - 1, -1, -1):
        dz = dh * (1.0 - states[t + 1] ** 2)
        dw += states[t].T @ dz
        du += xs[t].T @ dz
        db += dz.sum(axis=0)
        dh = dz @ w.T
    return dw, du, db


# (12) softmax cross-entropy of logits, stable (the row maximum subtracted)


def softmax_ce(z, onehot):
    s = z - np.max(z, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.sum(onehot * logp) / z.shape[0]


def softmax_ce_backward(z, onehot):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = e / np.sum(e, axis=1, keepdims=True)
    dz -= onehot
    dz /= z.shape[0]
    return dz


# (13) a second derivative, grad(grad(f)), of a scalar loop of STEPS steps


def scalar_loop_x(x):
    for _ in range(STEPS):
        x = math.sin(x) + x * x * 0.1
    return x


def scalar_loop_x_second(x):
    # forward: carry x, dx/dx0 and d2x/dx0^2 through the loop; no tape needed
    dx, ddx = 1.0, 0.0
    for _ in range(STEPS):
        slope = math.cos(x) + 0.2 * x  # d(step)/dx
        curve = 0.2 - math.sin(x)  # d2(step)/dx2
        ddx = slope * ddx + curve * dx * dx
        dx = slope * dx
        x = math.sin(x) + x * x * 0.1
    return ddx


@dataclass(frozen=True)
class Problem:
    """One row of the table."""

    key: str  # the name peers.py uses
    label: str  # the row label
    f: Callable
    wrt: int | tuple[int, ...]  # as given to srcdiff.grad
    backward: Callable  # computes the derivative by hand: the gradient, H @ v, or the second derivative
    inputs: Callable[[], tuple[Any, ...]]
    derivative: str = "grad"  # "hvp": the inputs end with v, the derivative is H @ v; "grad2": grad(grad(f))
    driver: Callable | None = None  # what is timed, given the derivative: driver(derivative, *inputs); None: one call
    memory: bool = False  # measure the peak memory of one call (tracemalloc)


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


def _mlp_ce_inputs() -> tuple:
    rng = np.random.default_rng(5)
    w1 = rng.normal(size=(784, 128)) / np.sqrt(784)
    w2 = rng.normal(size=(128, 10)) / np.sqrt(128)
    x = rng.random(size=(256, 784))
    return w1, 0.01 * rng.normal(size=128), w2, 0.01 * rng.normal(size=10), x, _onehot(rng, 256, 10)


def _rnn_inputs() -> tuple:
    rng = np.random.default_rng(6)
    hidden, features, batch = 64, 32, 16
    w = rng.normal(size=(hidden, hidden)) / np.sqrt(hidden)
    u = rng.normal(size=(features, hidden)) / np.sqrt(features)
    xs = rng.normal(size=(RNN_T, batch, features))
    return w, u, 0.1 * rng.normal(size=hidden), xs, rng.normal(size=(batch, hidden)) * 0.5


def _softmax_inputs() -> tuple:
    rng = np.random.default_rng(7)
    return 3.0 * rng.normal(size=(1000, 100)), _onehot(rng, 1000, 100)


def _onehot(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    return np.eye(classes)[rng.integers(classes, size=n)]


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
    Problem(
        "mlp_ce", "MLP 784-128-10, batch 256, softmax CE", mlp_ce, (0, 1, 2, 3), mlp_ce_backward, _mlp_ce_inputs, memory=True
    ),
    Problem(
        "train",
        f"linear regression, {TRAIN_STEPS} GD steps (1000, 10)",
        linear_mse,
        (0, 1),
        linear_mse_backward,
        _linear_inputs,
        driver=train,
    ),
    Problem("euler", f"Euler, {EULER_STEPS} steps (floats)", euler, (0, 1, 2), euler_backward, lambda: (1.0, 0.0, 0.3)),
    Problem("rnn", f"tanh RNN, T={RNN_T}, 16×32→64", rnn, (0, 1, 2), rnn_backward, _rnn_inputs, memory=True),
    Problem("softmax_ce", "softmax cross-entropy (1000, 100)", softmax_ce, 0, softmax_ce_backward, _softmax_inputs, memory=True),
    Problem(
        "grad2", f"grad(grad(f)), scalar loop ({STEPS} steps)", scalar_loop_x, 0, scalar_loop_x_second, lambda: (0.3,), "grad2"
    ),
)
