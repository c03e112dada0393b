"""Callables: a function passed as an argument is part of the specialisation.

``def f(x, act): return act(x) * 2`` called with ``np.tanh`` gets code built for
``np.tanh``: the argument kinds hold a key for the object (``entry``), normalize lets the
parameter be called, and the operations stage finds the object through the parameter's
name as it finds a global (``bound``), so its rule, or its transformed source, gives the
derivative. The generated code calls the parameter as the user's code does, and a call with
another function gets code of its own: each entry point checks the object's identity.

Objects get small integer keys, never given twice (the cache keys hold them). A Python
function is held weakly: a lambda made anew at each step gets code of its own each time,
but when it goes, so do its key and its hold on memory. Other objects (builtins, ufuncs)
are held. A ``functools.partial`` is keyed by what its code depends on, the function it
wraps and the number and names of the arguments it binds: the code reads their values
from the partial passed, so a new partial of the same shape (one per step of a loop) reuses
the code, and the first stands for them all. A bound method ``model.forward``, a new object
at each access, is keyed by its function and its object.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import types
import weakref
from typing import Any

import numpy as np

FUNCTION = "!"  # kinds entry ("!act", k): the parameter act holds the function whose key is k

_objects: dict[int, Any] = {}  # key -> the object (a weak reference to a Python function)
_keys: dict[Any, int] = {}  # id(object), a partial's shape or a method's (function, object) -> key
_counter = itertools.count()
_lock = threading.Lock()


def is_function(value: Any) -> bool:
    """Is ``value`` a function the code may call: a Python function, a builtin, a NumPy ufunc,
    a bound method, a ``functools.partial``, a function with rules of its own (``custom_vjp``),
    or a module whose functions it calls (``m.sin(x)``, followed as ``np.sin(x)``); not a class,
    an array or another callable object?"""
    return (
        inspect.isfunction(value)
        or inspect.isbuiltin(value)
        or inspect.ismethod(value)
        or isinstance(value, (np.ufunc, functools.partial, types.ModuleType))
        or hasattr(type(value), "srcdiff_caller")  # custom.CustomFunction
    )


def key(value: Any) -> int:
    """The key of a function: the same for the same object, or a partial of the same shape."""
    if type(value) is functools.partial:
        identity: Any = ("partial", key(value.func), len(value.args), tuple(value.keywords))
    elif inspect.ismethod(value):  # held with its object, so the object's id stays its own
        identity = ("method", key(value.__func__), id(value.__self__))
    else:
        identity = id(value)
    found = _keys.get(identity)
    if found is None:
        with _lock:
            found = _keys.get(identity)
            if found is None:
                found = _keys[identity] = next(_counter)
                _objects[found] = _held(value, identity, found)
    return found


def _held(value: Any, identity: Any, found: int) -> Any:
    if not (inspect.isfunction(value) or isinstance(value, type)):  # a class: an object's, in its key
        return value

    def forget(_: weakref.ref) -> None:  # its id may now be another function's (dict operations are atomic)
        _keys.pop(identity, None)
        _objects.pop(found, None)

    return weakref.ref(value, forget)


def entry(parameter: str, value: Any) -> tuple[str, int]:
    """The kinds entry saying that ``parameter`` holds the function ``value``."""
    return FUNCTION + parameter, key(value)


def defaults(f: Any) -> dict[str, Any]:
    """The parameters of ``f`` whose default is a function (``def f(x, act=np.tanh)``)."""
    try:
        signature = inspect.signature(f, follow_wrapped=False)
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in signature.parameters.values() if is_function(p.default)}


def held(found: int) -> Any:
    """The object whose key is ``found`` (None if it is gone)."""
    value = _objects.get(found)
    return value() if isinstance(value, weakref.ref) else value


class Method:
    """A method of a user's class, bound in generated code under the name ``methods`` gave its
    call (a plain function there would be imported by its name, which a method's is not)."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


def bound(kinds: frozenset[tuple[str, int]]) -> dict[str, Any]:
    """The parameters that hold a function in this specialisation, and the functions."""
    held = {n[len(FUNCTION) :]: _objects.get(k) for n, k in kinds if n.startswith(FUNCTION)}
    return {n: f() if isinstance(f, weakref.ref) else f for n, f in held.items()}
