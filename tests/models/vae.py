"""A variational autoencoder with a Gaussian encoder and a Gaussian decoder: the negative
evidence lower bound on a minibatch, one reparameterised sample per data point."""

import numpy as np
from scipy.stats import norm


def init_mlp(rng, sizes, scale=0.3):
    return [(scale * rng.randn(m, n), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def mlp(layers, x):
    for W, b in layers[:-1]:
        x = np.tanh(x @ W + b)
    W, b = layers[-1]
    return x @ W + b


def loss(params, x, rs):
    encoded = mlp(params["encoder"], x)
    latent = encoded.shape[1] // 2
    mean, log_std = encoded[:, :latent], encoded[:, latent:]
    eps = rs.randn(*mean.shape)
    z = mean + np.exp(log_std) * eps
    decoded = mlp(params["decoder"], z)
    log_likelihood = np.sum(norm.logpdf(x, decoded, np.exp(params["log_noise"])))
    kl = 0.5 * np.sum(np.exp(2.0 * log_std) + mean**2 - 1.0 - 2.0 * log_std)
    return -(log_likelihood - kl) / x.shape[0]


def make_problem(rng):
    n_data, n_x, n_hidden, n_z = 10, 6, 8, 2
    x = rng.randn(n_data, n_x)
    params = {
        "encoder": init_mlp(rng, [n_x, n_hidden, 2 * n_z]),
        "decoder": init_mlp(rng, [n_z, n_hidden, n_x]),
        "log_noise": np.zeros(n_x),
    }
    return params, x, np.random.RandomState(0)
