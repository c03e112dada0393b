"""The session's disk cache: a temporary directory, never the user's own cache.

The controller makes it and pytest-xdist's workers inherit it through the environment, so
they share it as several processes of a user would (an entry one worker writes, another may
read: every test's builds may come from disk). Tests that count builds count entries made
(``cache.transformations``), which a read from disk is too, so they hold either way.

``SRCDIFF_TEST_CACHE_DIR=DIR`` keeps the directory between runs instead: a second run then
reads from disk what the first built (a check that entries read back behave as built ones).
"""

from __future__ import annotations

import os
import shutil
import tempfile

_made: list[str] = []


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # a worker: the controller's directory, inherited
    kept = os.environ.get("SRCDIFF_TEST_CACHE_DIR")
    if kept:
        os.environ["SRCDIFF_CACHE_DIR"] = kept
        return
    _made.append(tempfile.mkdtemp(prefix="srcdiff-test-cache-"))
    os.environ["SRCDIFF_CACHE_DIR"] = _made[-1]


def pytest_unconfigure(config):
    for directory in _made:
        shutil.rmtree(directory, ignore_errors=True)
