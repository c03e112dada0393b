"""An LSTM reading a sequence of one-hot symbols and predicting the next one at every step,
scored by softmax cross-entropy."""

import numpy as np
from scipy.special import logsumexp


def init_params(rng, n_in, n_hidden, n_out, scale=0.3):
    params = {}
    for gate in ["f", "i", "o", "c"]:
        params["W_" + gate] = scale * rng.randn(n_in + n_hidden, n_hidden)
        params["b_" + gate] = np.zeros(n_hidden)
    params["W_out"] = scale * rng.randn(n_hidden, n_out)
    params["b_out"] = np.zeros(n_out)
    return params


def loss(params, inputs, targets):
    """inputs, targets: (time, batch, symbols), one-hot."""

    def sigmoid(x):
        return 0.5 * (np.tanh(0.5 * x) + 1.0)

    def step(x, hidden, cell):
        xh = np.concatenate([x, hidden], axis=1)
        forget = sigmoid(xh @ params["W_f"] + params["b_f"])
        ingate = sigmoid(xh @ params["W_i"] + params["b_i"])
        outgate = sigmoid(xh @ params["W_o"] + params["b_o"])
        candidate = np.tanh(xh @ params["W_c"] + params["b_c"])
        cell = forget * cell + ingate * candidate
        hidden = outgate * np.tanh(cell)
        return hidden, cell

    n_hidden = params["W_out"].shape[0]
    hidden = np.zeros((inputs.shape[1], n_hidden))
    cell = np.zeros((inputs.shape[1], n_hidden))
    outputs = []
    for x in inputs:
        hidden, cell = step(x, hidden, cell)
        outputs.append(hidden @ params["W_out"] + params["b_out"])
    logits = np.array(outputs)
    log_probs = logits - logsumexp(logits, axis=2, keepdims=True)
    return -np.sum(log_probs * targets) / (targets.shape[0] * targets.shape[1])


def make_problem(rng):
    n_symbols, n_hidden, length, batch = 4, 5, 6, 3
    symbols = rng.randint(0, n_symbols, size=(length + 1, batch))
    one_hot = np.eye(n_symbols)[symbols]
    return init_params(rng, n_symbols, n_hidden, n_symbols), one_hot[:-1], one_hot[1:]
