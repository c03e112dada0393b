"""Independent component analysis by maximum likelihood: sources s = W x with a heavy-tailed
Student-t density, plus the log |det W| of the change of variables."""

import numpy as np
from scipy.stats import t


def loss(W, X, df=3.0):
    """X: (samples, dimensions); W: the unmixing matrix."""
    sources = X @ W.T
    sign, log_abs_det = np.linalg.slogdet(W)
    return -(np.mean(np.sum(t.logpdf(sources, df), axis=1)) + log_abs_det)


def make_problem(rng):
    sources = rng.standard_t(3.0, size=(60, 3))
    mixing = np.array([[1.0, 0.5, 0.2], [0.3, 1.0, -0.4], [-0.2, 0.6, 1.0]])
    X = sources @ mixing.T
    return np.eye(3) + 0.1 * rng.randn(3, 3), X
