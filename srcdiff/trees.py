"""Nested lists, tuples and dicts of floats and arrays ("trees"), for the transforms that take
and give values of a structure: vjp's cotangents, jacobian's unit vectors and results, aux.

A tree's leaves are whatever is not a list, tuple or dict; they are listed depth first, dicts
in their keys' order (the order ``runtime.materialize`` walks them in). Imports NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["leaves", "rebuild", "zeros", "copy_arrays", "same_structure", "unit_vectors", "size"]


def leaves(tree: Any) -> list[Any]:
    """The leaves of ``tree``, depth first."""
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in leaves(item)]
    return [tree]


def rebuild(like: Any, new_leaves: Iterator[Any]) -> Any:
    """``like``'s structure with its leaves taken in turn from ``new_leaves``."""
    if isinstance(like, (list, tuple)):
        return type(like)(rebuild(item, new_leaves) for item in like)
    if isinstance(like, dict):
        return {k: rebuild(v, new_leaves) for k, v in like.items()}
    return next(new_leaves)


def map_leaves(fn: Callable[[Any], Any], tree: Any) -> Any:
    return rebuild(tree, iter([fn(leaf) for leaf in leaves(tree)]))


def zeros(tree: Any) -> Any:
    """An adjoint of zero for ``tree``: its structure with the weak zero 0.0 at every leaf
    (a weak zero broadcasts, so one serves for an array, a float, or a leaf never differentiated)."""
    return map_leaves(lambda _: 0.0, tree)


def copy_arrays(tree: Any) -> Any:
    """``tree`` with each array leaf copied (other leaves as they are)."""
    return map_leaves(lambda leaf: leaf.copy() if isinstance(leaf, np.ndarray) else leaf, tree)


def same_structure(a: Any, b: Any) -> bool:
    """Are ``a`` and ``b`` containers of the same types, lengths and keys, with leaves of the same shapes?"""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_structure(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_structure(a[k], b[k]) for k in a)
    return not isinstance(b, (list, tuple, dict)) and np.shape(a) == np.shape(b)


def size(tree: Any) -> int:
    """How many numbers ``tree`` holds."""
    return sum(int(np.size(leaf)) for leaf in leaves(tree))


def unit_vectors(tree: Any) -> Iterator[Any]:
    """Values shaped like ``tree`` that are zero but for a single 1.0, one per number in ``tree``
    (leaf by leaf, each in C order): the standard basis that jacobian's rows and columns need.
    Array leaves get float64 arrays, other leaves floats."""
    flat = leaves(tree)
    for k, leaf in enumerate(flat):
        for index in np.ndindex(*np.shape(leaf)):
            parts = [_zero(other) for other in flat]
            if isinstance(leaf, np.ndarray):
                parts[k][index] = 1.0
            else:
                parts[k] = 1.0
            yield rebuild(tree, iter(parts))


def _zero(leaf: Any) -> Any:
    return np.zeros(leaf.shape) if isinstance(leaf, np.ndarray) else 0.0
