"""Bayesian logistic regression: the negative log posterior of the weights, a Gaussian prior
plus a Bernoulli likelihood through the logistic function."""

import numpy as np
from scipy.special import expit


def log_prior(w, prior_std=2.0):
    return -0.5 * np.sum(w**2) / prior_std**2 - len(w) * np.log(prior_std * np.sqrt(2.0 * np.pi))


def log_likelihood(w, X, y):
    p = expit(X @ w)
    return np.sum(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def loss(w, X, y):
    return -(log_prior(w) + log_likelihood(w, X, y))


def make_problem(rng):
    X = np.hstack([rng.randn(30, 3), np.ones((30, 1))])
    true_w = np.array([1.5, -2.0, 0.5, 0.3])
    y = (rng.rand(30) < 1.0 / (1.0 + np.exp(-X @ true_w))).astype(float)
    return 0.1 * rng.randn(4), X, y
