"""Negative-binomial regression of counts: a log link for the mean and a shared dispersion,
the negative log-likelihood as a function of the coefficients and the log dispersion."""

import numpy as np
from scipy.special import gammaln


def log_likelihood(params, X, counts):
    mu = np.exp(X @ params["coef"] + params["intercept"])
    r = np.exp(params["log_r"])
    return np.sum(
        gammaln(counts + r) - gammaln(r) - gammaln(counts + 1.0) + r * np.log(r / (r + mu)) + counts * np.log(mu / (r + mu))
    )


def loss(params, X, counts):
    return -log_likelihood(params, X, counts) / len(counts)


def make_problem(rng):
    X = rng.randn(50, 3)
    mu = np.exp(X @ np.array([0.5, -0.3, 0.2]) + 1.0)
    counts = rng.negative_binomial(3.0, 3.0 / (3.0 + mu)).astype(float)
    params = {"coef": np.zeros(3), "intercept": 0.5, "log_r": 0.0}
    return params, X, counts
