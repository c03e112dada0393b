"""A mixture of diagonal Gaussians: the negative log-likelihood of 2-d points, as a function of
the component means, log standard deviations and mixing logits."""

import numpy as np
from scipy.special import logsumexp


def log_normal_diag(x, mean, log_std):
    z = (x - mean) / np.exp(log_std)
    return np.sum(-0.5 * z**2 - log_std - 0.5 * np.log(2.0 * np.pi), axis=-1)


def loss(params, x):
    log_weights = params["logits"] - logsumexp(params["logits"])
    # (points, components): each point under each component
    component_logp = log_normal_diag(x[:, None, :], params["means"][None, :, :], params["log_stds"][None, :, :])
    return -np.mean(logsumexp(component_logp + log_weights, axis=1))


def make_problem(rng):
    centres = np.array([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.0]])
    labels = rng.randint(0, 3, size=40)
    x = centres[labels] + 0.5 * rng.randn(40, 2)
    params = {
        "means": rng.randn(3, 2),
        "log_stds": 0.1 * rng.randn(3, 2),
        "logits": np.zeros(3),
    }
    return params, x
