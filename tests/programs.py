"""User programs exercising the language the transformer handles (used by test_reverse.py).

Each is plain Python/NumPy as a user writes it. They use ``np`` as a global so
tests can re-run the same code under autograd.numpy for an independent answer.
"""

import math

import numpy as np

from srcdiff import stop_gradient

SCALE = 1.5


def straight(x, y):
    z = x * y + np.sin(x)
    w = z / (1.0 + y * y)
    return w * z - y


def reassign(x):
    x = x * 2.0
    x = np.sin(x) + x
    x = x * x
    return x


def augmented(x, y):
    s = x
    s += y
    s *= x
    s -= 1.0
    s /= y
    s **= 2
    return s


def unpack(x):
    a, b = x * 2.0, x * 3.0
    (c, d), e = (a, b), a * b
    return c * d + e


def branch(x):
    if x > 0:
        y = x * x
    elif x > -1:
        y = -x
    else:
        y = 3.0 * x
    return y * x


def branch_on_array(x):
    if np.sum(x) > 0:
        return np.sum(x * x)
    return np.sum(np.exp(x))


def ternary(x):
    return x * 2.0 if x > 0 else -x * 3.0


def boolean_ops(x):
    y = x
    if x > 0 and x < 2 or x < -5:
        y = x * x
    if not x > 1:
        y = y * 3.0
    return y


def for_range(x, n):
    s = 0.0
    for i in range(n):
        s = s + x**i / (i + 1)
    return s


def for_range_args(x):
    s = x
    for i in range(2, 9, 3):
        s = s * x + i
    for j in range(5, 0, -2):
        s = s - x * j
    return s


def nested_loops(x):
    s = 0.0
    for i in range(3):
        for j in range(i + 1):
            s = s + np.sin(x * (i + 1)) * (j + 1)
    return s


def over_rows(w):
    s = 0.0
    for row in w:
        s = s + np.sum(row * row) * np.max(row)
    return s


def over_list(x):
    items = [x, x * 2.0, np.cos(x)]
    s = 1.0
    for v in items:
        s = s * v + 1.0
    return s


def enumerate_zip(x, y):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * i
    for a, b in zip(x, y):
        s = s + a * b
    return s


def while_loop(x):
    k = 0
    while x < 10.0:
        x = x * 1.5 + 0.1
        k += 1
    return x * k


def break_continue(x):
    s = 0.0
    for i in range(10):
        if i == 6:
            break
        if i % 2 == 1:
            continue
        s = s + x**i
    return s


def early_return(x):
    for _ in range(5):
        x = x * 1.1
        if x > 2.0:
            return x * x
    return -x


def multiple_returns(x, y):
    if x > y:
        return x * y
    if x < 0:
        return np.exp(x)
    return y * y


def square(a):
    return a * a


def scaled(a, scale=2.0):
    return square(a) * scale


def calls(x, y):
    u = scaled(x)
    v = scaled(y, scale=3.0)
    return u + v * x + square(x * y)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def uses_global(x):
    return x * SCALE + math.sin(x)


def calls_in_loop(x):
    s = 0.0
    for i in range(4):
        s = s + scaled(x * s + 1.0, scale=float(i))
    return s


def list_append(x):
    acc = []
    for i in range(4):
        acc.append(x * i + np.sin(x))
    s = 0.0
    for v in acc:
        s = s + v * v
    return s + acc[1] * acc[-1]


def list_pop(x):
    acc = [x, x * 2.0, x * 3.0]
    last = acc.pop()
    return last * acc[0] + acc[1]


def comprehension(x):
    parts = [x * k for k in range(3) if k != 1]
    return np.sum(np.stack(parts) ** 2)


def stack_rows(x):
    rows = []
    for i in range(3):
        rows.append(x * (i + 1.0))
    return np.sum(np.array(rows) * np.arange(3.0)[:, None])


def write_loop(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] ** 2
    y[0] += x[1]
    return np.sum(y) * y[2]


def write_input(x):
    x[0] = x[1] * 3.0
    x[2] *= x[0]
    return np.sum(x * x)


def write_mask(x):
    y = x.copy()
    y[y < 0] = 0.0
    return np.sum(y * x)


def write_slices(x):
    y = np.ones((3, 4))
    y[1, :] = x
    y[:, 0] *= 2.0
    y[0] = y[1] * y[2]
    return np.sum(y**2)


def fancy_index(x):
    idx = np.array([0, 0, 2])
    return np.sum(x[idx] * x) + x[::-1][0] + x[None, 1:].sum()


def stopped(x):
    return x * stop_gradient(x * x)


def integer_paths(x, n):
    m = n * 2
    k = len(x)
    s = np.sum(x) * k
    idx = np.argmax(x)
    return s * x[idx] + m


def method_chain(x):
    return x.reshape(2, 3).T.sum(axis=1).mean() * x.max() + x.ravel().dot(x.flatten())


def broadcast_sum(x, y):
    return np.sum(straight(x, y) * np.cos(y))


def branch_with_empty_adjoint(x):
    s = 0.0
    for _ in range(2):
        if x < 0.0:
            s = s - 1.0
        else:
            s = s + x
    return s


def rnn_loss(wx, wh, b, xs, target):
    """A small recurrent network: a loop over time, matrix products, a list of states, softmax."""
    h = np.zeros(wh.shape[0])
    states = []
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ wx + h @ wh + b)
        states.append(h)
    hs = np.stack(states)
    logits = hs[-1]
    p = np.exp(logits - np.max(logits))
    p = p / np.sum(p)
    return -np.log(p[target]) + 0.01 * np.sum(hs**2)


def rnn_in_place(wx, wh, xs):
    """States written into one array; the loop variable t is reused by a second loop."""
    steps = xs.shape[0]
    states = np.zeros((steps + 1, wh.shape[0]))
    for t in range(steps):
        states[t + 1] = np.tanh(xs[t] @ wx + states[t] @ wh)
    total = 0.0
    for t in range(1, steps + 1):
        if np.sum(states[t]) > 0:
            total = total + np.sum(states[t] ** 2)
        else:
            total = total - np.sum(states[t])
    return total


def split_stats(v):
    m = np.mean(v)
    return m, np.sum((v - m) ** 2)


def uses_tuple_callee(x):
    s = 0.0
    for k in range(3):
        m, q = split_stats(x * (k + 1))
        s = s + m * q
    return s


def while_break(x):
    y = x.copy()
    k = 0
    while np.sum(y * y) < 50.0:
        y = y * 1.3 + 0.1
        k += 1
        if k > 20:
            break
    return np.sum(np.sin(y))


def nested_return(x):
    for _ in range(3):
        for j in range(3):
            x = x * 1.2 + 0.05 * j
            if np.sum(x) > 4.0:
                return np.sum(x**3)
    return np.sum(x)


def make_pair(a):
    def inner(z):
        return z * a

    def outer(z):
        return inner(z) + np.sin(z) * a

    return outer


closure = make_pair(1.7)


def calls_closure(x):
    return np.sum(closure(x) ** 2)


def pops_in_loop(x):
    stack = [x, x * 2.0, x * 3.0, np.cos(x)]
    while len(stack) > 1:
        a = stack.pop()
        b = stack.pop()
        stack.append(a * b + 1.0)
    return np.sum(stack[0])


def recursive_sum(x, n):
    if n == 0:
        return np.sum(x)
    return np.sum(np.tanh(x)) + recursive_sum(x * 0.9, n - 1)
