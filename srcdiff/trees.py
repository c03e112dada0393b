"""Nested lists, tuples and dicts of floats and arrays ("trees"), for the transforms that take
and give values of a structure: vjp's cotangents, jacobian's unit vectors and results, aux.

A tree's leaves are whatever is not a list, tuple or dict; they are listed depth first, dicts
in their keys' order (the order ``runtime.materialize`` walks them in). Imports NumPy and
``errors`` only.

A dataclass argument is a tree too: generated code sees it as a NamedTuple of its fields
(``as_records``), so ``params.W`` is read like a NamedTuple's field and its gradient has the
same fields; ``from_records`` turns what comes back into the dataclass again.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .errors import WrtTypeError

__all__ = [
    "flatten",
    "leaves",
    "rebuild",
    "zeros",
    "copy_arrays",
    "same_structure",
    "unit_vectors",
    "size",
    "as_records",
    "from_records",
]


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
        items = [rebuild(item, new_leaves) for item in like]
        return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)  # a NamedTuple takes fields
    if isinstance(like, dict):
        return {k: rebuild(v, new_leaves) for k, v in like.items()}
    return next(new_leaves)


def flatten(tree: Any) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """``tree``'s float leaves (arrays and numbers; dataclasses by their fields) as one float
    vector, and the function that makes a tree of the same structure from such a vector
    (autograd's ``flatten``, JAX's ``ravel_pytree``): so that a model's parameters can go to
    ``scipy.optimize.minimize`` as one vector, and its gradient come back as one."""
    records = as_records(tree)
    parts = leaves(records)
    shapes = [np.shape(leaf) for leaf in parts]
    kinds = [type(leaf) if not isinstance(leaf, np.ndarray) else None for leaf in parts]
    vector = np.concatenate([np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in parts]) if parts else np.zeros(0)
    ends = np.cumsum([int(np.prod(shape)) for shape in shapes])

    def unflatten(v: np.ndarray) -> Any:
        v = np.asarray(v, dtype=np.float64)
        if v.shape != vector.shape:
            raise ValueError(f"unflatten takes a vector of {vector.size} numbers, not an array of shape {v.shape}")
        pieces = np.split(v, ends[:-1])
        made = (p.reshape(shape) if kind is None else kind(p[0]) for p, shape, kind in zip(pieces, shapes, kinds))
        return from_records(rebuild(records, made))

    return vector, unflatten


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


# a dataclass -> the NamedTuple class that stands for it in generated code (made once per class)
_RECORD_TYPES: dict[type, type] = {}


def is_dataclass_instance(value: Any) -> bool:
    return hasattr(type(value), "__dataclass_fields__") and not isinstance(value, type)


def record_type(cls: type) -> type:
    """The NamedTuple class, named like ``cls``, whose fields are the dataclass ``cls``'s."""
    found = _RECORD_TYPES.get(cls)
    if found is None:
        names = [f.name for f in dataclasses.fields(cls)]
        hidden = [n for n in names if n.startswith("_")]
        if hidden:  # a NamedTuple's field cannot start with "_"
            raise WrtTypeError(
                f"the dataclass {cls.__name__} has fields starting with an underscore ({', '.join(hidden)}), which srcdiff "
                "cannot read as a record's fields; rename them, or pass the arrays in a dict"
            )
        found = collections.namedtuple(cls.__name__, names)
        found.srcdiff_dataclass = cls
        _RECORD_TYPES[cls] = found
    return found


def is_dataclass_record(value: Any) -> bool:
    """Is ``value`` the record ``as_records`` made of a dataclass instance?"""
    return getattr(type(value), "srcdiff_dataclass", None) is not None


def holds_dataclass(value: Any) -> bool:
    """Is ``value``, or anything in its lists, tuples and dicts, a dataclass instance?"""
    return any(map(is_dataclass_instance, leaves_and_nodes(value)))


def as_records(value: Any) -> Any:
    """``value`` with each dataclass instance in it (its fields included) a NamedTuple of its fields."""
    if is_dataclass_instance(value):
        record = record_type(type(value))
        return record(*(as_records(getattr(value, n)) for n in record._fields))
    if isinstance(value, (list, tuple)) and holds_dataclass(value):
        items = [as_records(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict) and holds_dataclass(value):
        return {k: as_records(v) for k, v in value.items()}
    return value


def leaves_and_nodes(tree: Any) -> Iterator[Any]:
    """Every value in ``tree``: the lists, tuples and dicts, and their leaves."""
    yield tree
    if isinstance(tree, (list, tuple)):
        for item in tree:
            yield from leaves_and_nodes(item)
    elif isinstance(tree, dict):
        for item in tree.values():
            yield from leaves_and_nodes(item)


def from_records(value: Any) -> Any:
    """``value`` with each record ``as_records`` made a dataclass instance again, its fields set
    as they are (``__init__`` and ``__post_init__`` do not run: a gradient need not be valid input)."""
    cls = getattr(type(value), "srcdiff_dataclass", None)
    if cls is not None:
        instance = object.__new__(cls)
        for n, v in zip(value._fields, value):
            object.__setattr__(instance, n, from_records(v))  # (a frozen dataclass refuses setattr)
        return instance
    if isinstance(value, (list, tuple)):
        items = [from_records(v) for v in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        return {k: from_records(v) for k, v in value.items()}
    return value
