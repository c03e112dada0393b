"""A small convolutional network: two convolutions written with np.einsum over extracted
patches, ReLU, max pooling, a dense layer and softmax cross-entropy."""

import numpy as np
from scipy.special import logsumexp


def extract_patches(images, size):
    """(batch, height, width, channels) -> (batch, height', width', size, size, channels)."""
    _, height, width, _ = images.shape
    rows = []
    for i in range(height - size + 1):
        row = []
        for j in range(width - size + 1):
            row.append(images[:, i : i + size, j : j + size, :])
        rows.append(np.stack(row, axis=1))
    return np.stack(rows, axis=1)


def conv(images, filters, bias):
    """filters: (size, size, channels in, channels out)."""
    patches = extract_patches(images, filters.shape[0])
    return np.einsum("bhwijc,ijcd->bhwd", patches, filters) + bias


def relu(x):
    return np.maximum(x, 0.0)


def max_pool(x, size):
    batch, height, width, channels = x.shape
    x = x.reshape(batch, height // size, size, width // size, size, channels)
    return np.max(x, axis=(2, 4))


def loss(params, images, labels):
    h = relu(conv(images, params["conv1"], params["bias1"]))
    h = max_pool(h, 2)
    h = relu(conv(h, params["conv2"], params["bias2"]))
    h = h.reshape(h.shape[0], -1)
    logits = h @ params["dense"] + params["bias_out"]
    log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(np.sum(labels * log_probs, axis=1))


def make_problem(rng):
    images = rng.randn(4, 8, 8, 1)
    labels = np.eye(3)[rng.randint(0, 3, size=4)]
    params = {
        "conv1": 0.5 * rng.randn(3, 3, 1, 4),
        "bias1": 0.1 * rng.randn(4),
        "conv2": 0.3 * rng.randn(2, 2, 4, 5),
        "bias2": 0.1 * rng.randn(5),
        "dense": 0.3 * rng.randn(2 * 2 * 5, 3),
        "bias_out": np.zeros(3),
    }
    return params, images, labels
