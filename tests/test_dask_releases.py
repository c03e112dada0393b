"""Dask arrays of releases srcdiff's Dask support is not tested with are refused, with what to
do instead (``api._untested_library``): dask 2024.8 with NumPy 1.22 gave wrong linalg adjoints
(its cholesky's upper triangle for NumPy's lower). tests/test_dask.py runs where the release is
tested; these run everywhere."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

import srcdiff
from srcdiff import api
from srcdiff.errors import ArraySubclassError


def loss(w, X):
    return np.sum(np.tanh(X @ w))


def test_an_untested_release_is_refused_with_what_to_do(monkeypatch):
    monkeypatch.setattr(api, "_TESTED_DASK", (9999, 1))
    with pytest.raises(ArraySubclassError, match=r"\.compute\(\)") as refused:
        srcdiff.grad(loss)(np.ones(3), da.ones((4, 3), chunks=2))
    assert "9999" not in str(refused.value) and dask.__version__ in str(refused.value)


def test_this_release_is_refused_or_gives_numpys_gradient():
    X, w = da.from_array(np.arange(12.0).reshape(4, 3) / 10, chunks=2), np.array([0.1, -0.2, 0.3])
    if api._untested_library(X):
        with pytest.raises(ArraySubclassError, match=r"dask .* with NumPy"):
            srcdiff.grad(loss)(w, X)
    else:
        (got,) = dask.compute(srcdiff.grad(loss)(w, X))
        np.testing.assert_allclose(got, srcdiff.grad(loss)(w, np.asarray(X)), rtol=1e-12)
