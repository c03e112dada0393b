"""Black-box variational inference: a diagonal Gaussian fitted to an unnormalised 2-d target by
the reparameterised Monte-Carlo estimate of the evidence lower bound."""

import numpy as np


def log_target(z):
    """A curved ("banana") density: z[1] given z[0] is centred on a parabola."""
    return -0.5 * (z[0] / 1.5) ** 2 - 0.5 * ((z[1] - 0.5 * z[0] ** 2) / 0.7) ** 2


def gaussian_entropy(log_std):
    return np.sum(log_std) + 0.5 * len(log_std) * (1.0 + np.log(2.0 * np.pi))


def loss(params, rs, num_samples=20):
    mean, log_std = params
    total = 0.0
    for _ in range(num_samples):
        eps = rs.randn(len(mean))
        z = mean + np.exp(log_std) * eps
        total = total + log_target(z)
    return -(total / num_samples + gaussian_entropy(log_std))


def make_problem(rng):
    return (rng.randn(2), -0.5 * np.ones(2)), np.random.RandomState(1)
