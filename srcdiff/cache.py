"""Cache: (function code, closure, globals, wrt, argument kinds, mode, rules) -> emitted functions.

A derivative is built once per key and reused; redefining a function gives it
a new code object, and registering a rule changes the table's version: either
means a new build. ``transformations`` counts builds, so
tests can check that nothing is rebuilt needlessly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from . import rules
from .emit import Emitted

_entries: dict[Hashable, Emitted] = {}
transformations = 0


def key(func: Any, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], mode: str) -> Hashable:
    # cells are unhashable; their ids stay valid because the entry's functions hold the cells
    cells = tuple(id(c) for c in func.__closure__ or ())
    return (func.__code__, id(func.__globals__), cells, wrt, kinds, mode, rules.version)


def get(k: Hashable, build: Callable[[], Emitted]) -> Emitted:
    """The entry for ``k``, built (and counted) on first use."""
    global transformations
    entry = _entries.get(k)
    if entry is None:
        entry = build()
        _entries[k] = entry
        transformations += 1
    return entry


def put(k: Hashable, entry: Emitted) -> None:
    """Record an entry before its callees are bound, so recursion finds it."""
    _entries[k] = entry


def clear() -> None:
    _entries.clear()
