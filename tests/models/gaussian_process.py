"""Gaussian-process regression: the negative log marginal likelihood of the data under an RBF
kernel, as a function of the log hyperparameters (length scale, signal variance, noise variance)."""

import numpy as np
from scipy.linalg import solve_triangular


def squared_distances(x, y):
    return np.sum(x**2, axis=1)[:, None] + np.sum(y**2, axis=1)[None, :] - 2.0 * x @ y.T


def rbf_kernel(x, y, log_lengthscale, log_variance):
    return np.exp(log_variance) * np.exp(-0.5 * squared_distances(x, y) / np.exp(2.0 * log_lengthscale))


def loss(log_hypers, x, y):
    log_lengthscale, log_variance, log_noise = log_hypers[0], log_hypers[1], log_hypers[2]
    n = x.shape[0]
    K = rbf_kernel(x, x, log_lengthscale, log_variance) + (np.exp(log_noise) + 1e-6) * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = solve_triangular(L, y, lower=True)
    log_det = 2.0 * np.sum(np.log(np.diag(L)))
    return 0.5 * np.dot(alpha, alpha) + 0.5 * log_det + 0.5 * n * np.log(2.0 * np.pi)


def make_problem(rng):
    x = rng.uniform(-3.0, 3.0, size=(12, 2))
    y = np.sin(x[:, 0]) + 0.5 * np.cos(2.0 * x[:, 1]) + 0.1 * rng.randn(12)
    return np.array([0.1, -0.2, -2.0]), x, y
