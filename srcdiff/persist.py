"""Persist: a build as text another process can use, and that text made functions again.

An entry read from the disk cache runs in place of a build, so it must be what the build
would give. A build is a function of:

- the key, known before building: the function's source text, file, first line and
  defaults; ``wrt``, the argument kinds and the mode; srcdiff's version and the SHA-256 of
  its source, Python's and NumPy's versions, and the optional libraries whose rules are
  loaded. A program that registers rules of its own (``rules.user_changes``) is not
  described by srcdiff's version: its builds are not cached on disk;
- what the build looked up outside the source: every name and attribute chain it resolved
  (``operations.observers``; the answers about callees it consulted included), with a
  description of what each denoted: a number by its value, a module by its name, a NumPy
  or standard-library object by its qualified name, a Python function by its source text;
- the functions it calls (``cache.Dependency``), and the callees whose derivatives it binds.

All of it is written as text (JSON) with the generated source. Reading an entry back
re-resolves each name in the live function's namespaces and compares descriptions, exactly as
the in-memory cache re-checks its dependencies; one difference and the entry is stale and is
built again. What cannot be described as text (an object, a function passed as an argument, a
rule function of the program's, a closure variable of a called function, generated code
differentiated again) keeps its build in memory only, never guessed at: the debug log says why.

The generated code's namespaces are rebuilt, not stored: its globals are the live function's,
its closure cells the live function's cells and srcdiff's helpers (found again by name in
``rules.NAMESPACE``), and its callees are built (or read from disk) as they would be anew.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import linecache
import sys
import sysconfig
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import cache, disk_cache, emit, operations, parse, rules
from .log import logger
from .parse import Origin
from .reverse import CalleeRef, Transformed

FORMAT = 1  # of entries: a change to what they hold makes every old one another key
_ARRAY_BYTES = 1 << 20  # a larger array a build looks up is not hashed at each load: not cached on disk
_MANY = 10_000  # elements of a tuple, list or dict described one by one, at most


class NotDescribable(Exception):
    """What a build depends on cannot be written as text: the build is kept in memory only."""


# ------------------------------------------------------------------ recording lookups

_recording = threading.local()  # .stack: the lookup lists of the recordings open in this thread
_observing = [0]  # recordings open in every thread (operations.observers holds _observe while any is)
_observing_lock = threading.Lock()


def _observe(env: operations.Env, text: str, value: Any) -> None:
    stack = getattr(_recording, "stack", ())
    if stack:
        cell = env.closure.get(text.partition(".")[0])  # (a closure variable and a global of one name are two)
        key = (id(env.globals), id(cell), text, id(value))  # (ids stay valid: the dict holds the objects)
        for looked in stack:
            looked.setdefault(key, (env, text, value))


@contextlib.contextmanager
def recording() -> Iterator[dict]:
    """Collect what the code inside looks up: each (env, name or chain, value) once, in a dict."""
    looked: dict = {}
    stack = _recording.__dict__.setdefault("stack", [])
    stack.append(looked)
    with _observing_lock:
        _observing[0] += 1
        if _observing[0] == 1:
            operations.observers.append(_observe)
    try:
        yield looked
    finally:
        stack.pop()
        with _observing_lock:
            _observing[0] -= 1
            if _observing[0] == 0:
                operations.observers.remove(_observe)


def replay(looked: tuple) -> None:
    """Report lookups made earlier (``tuple(recorded.items())``: an answer about a callee, cached)
    to the recordings open now."""
    for open_dict in getattr(_recording, "stack", ()):
        for key, item in looked:
            open_dict.setdefault(key, item)


# ------------------------------------------------------------------ describing values


def _source_hash() -> str:
    """A hash of srcdiff's source as it is imported (an edited checkout writes other code: the
    version alone would not tell), about 2 ms."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_SOURCE_HASH = _source_hash()


def _library(module: str) -> bool:
    """Is ``module`` one whose objects a name and versions in the key describe (NumPy, srcdiff,
    the standard library, an optional library whose rules are loaded)?"""
    top = module.partition(".")[0]
    return top in ("numpy", "srcdiff", "builtins") or top in sys.stdlib_module_names or top in rules.LOADED_OPTIONAL


def _named(value: Any) -> list | None:
    """``["object", module, qualified name, version]`` for an object found again by that name
    (a class, a builtin, a ufunc, a library function), or None."""
    module = getattr(value, "__module__", None)
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if isinstance(value, np.ufunc) and getattr(np, value.__name__, None) is value:
        module, name = "numpy", value.__name__
    if not isinstance(module, str) or not isinstance(name, str) or "<" in name:
        return None
    found: Any = sys.modules.get(module)
    for part in name.split("."):
        found = getattr(found, part, None)
    if found is not value:
        return None
    top = sys.modules.get(module.partition(".")[0])
    return ["object", module, name, str(getattr(top, "__version__", ""))]


def describe(value: Any) -> Any:
    """A JSON value that says all a build may use of ``value``: equal descriptions, equal builds."""
    kind = type(value)
    if value is operations.ABSENT:
        return ["absent"]
    if value is None or kind in (bool, int, str):
        return [kind.__name__, value]
    if kind in (float, complex, bytes):
        return [kind.__name__, repr(value)]  # (repr round-trips: nan, inf, -0.0 included)
    if kind in (tuple, list) and len(value) <= _MANY:
        return [kind.__name__, [describe(v) for v in value]]
    if kind is dict and len(value) <= _MANY and all(type(k) is str for k in value):
        return ["dict", [[k, describe(v)] for k, v in value.items()]]
    if isinstance(value, types.ModuleType):
        if sys.modules.get(value.__name__) is not value:
            raise NotDescribable(f"the module {value.__name__} is not the one imported under that name")
        return ["module", value.__name__]
    if kind is np.ndarray and value.dtype != object and value.nbytes <= _ARRAY_BYTES:
        data = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return ["ndarray", value.dtype.str, list(value.shape), data]
    if isinstance(value, np.generic) and kind.__module__ == "numpy" and value.dtype != object:
        return ["numpy", value.dtype.str, value.tobytes().hex()]
    if kind is types.FunctionType:
        named = _named(value) if _library(getattr(value, "__module__", None) or "") else None
        return named or ["function", function(value, text=False)]
    named = _named(value)
    if named is not None and (_library(named[1]) or isinstance(value, (types.BuiltinFunctionType, np.ufunc))):
        return named  # (another library's builtin or ufunc: its version is in the description)
    raise NotDescribable(f"a {kind.__module__}.{kind.__qualname__} object")  # (a class, a custom_vjp function, ...)


def function(f: Any, text: bool = True) -> dict[str, Any]:
    """A Python function: where it is, its source (or, ``text=False``, the source's hash) and defaults."""
    code = f.__code__
    if parse.is_generated(code.co_filename):
        raise NotDescribable(f"{f.__name__} is code srcdiff generated (a derivative of a derivative)")
    lines, first = _source_lines(code)
    source = "".join(lines)
    return {
        "module": getattr(f, "__module__", None),
        "qualname": getattr(f, "__qualname__", f.__name__),
        "file": code.co_filename,
        "line": first,
        "source": source if text else hashlib.sha256(source.encode()).hexdigest(),
        "defaults": describe(f.__defaults__),
        "kwdefaults": describe(f.__kwdefaults__),
    }


def _source_lines(code: types.CodeType) -> tuple[list[str], int]:
    """``inspect.getsourcelines(code)``: as ``parse`` read it, when it has."""
    origin = parse.read_origin(code)
    if origin is not None:
        return linecache.getlines(code.co_filename)[origin.first_line - 1 : origin.last_line], origin.first_line
    try:
        return parse.source_lines(code)
    except (OSError, TypeError) as exc:
        raise NotDescribable(f"the source of {code.co_name} cannot be read ({exc})") from None


def _kinds(kinds: frozenset[tuple[str, int]]) -> list:
    """The argument kinds, unless one holds a key this process gave an object (``callables``)."""
    for name, value in kinds:
        if name[:1] in ("!", "?", "%"):  # callables.FUNCTION, methods.OBJECT, methods.ELEMENTS
            raise NotDescribable(f"argument {name[1:]!r} is a function or object (its key is this process's)")
        if type(value) is not int:
            raise NotDescribable(f"argument {name!r} has a kind that is not a number")
    return sorted([n, k] for n, k in kinds)


# ------------------------------------------------------------------ namespaces


def _module_name(namespace: dict) -> str:
    name = namespace.get("__name__")
    module = sys.modules.get(name) if isinstance(name, str) else None
    if module is None or module.__dict__ is not namespace:
        raise NotDescribable(f"globals that are not those of an imported module ({name!r})")
    return name


def _where(env: operations.Env, text: str, cells: dict[int, str]) -> list:
    """Where a lookup in ``env`` starts: ``["closure", name]`` of the differentiated function's
    own cells, or ``["module", name]`` (its globals, then builtins, as ``Env.lookup`` reads them)."""
    root = text.partition(".")[0]
    if not all(part.isidentifier() for part in text.split(".")):
        raise NotDescribable(f"a lookup of {text!r}")
    if root in env.arguments:
        raise NotDescribable(f"{root!r} holds a function passed as an argument or a method of an object")
    if root in env.closure:
        if id(env.closure[root]) not in cells:
            raise NotDescribable(f"{root!r} is a closure variable of a function it calls")
        return ["closure", cells[id(env.closure[root])]]
    return ["module", _module_name(env.globals)]


def _cells(f: Any) -> dict[str, Any]:
    return dict(zip(f.__code__.co_freevars, f.__closure__ or ()))


def _resolve(where: list, text: str, f: Any) -> Any:
    """What ``text`` denotes now, looked up from ``where`` (see ``_where``), or ABSENT."""
    root, *attributes = text.split(".")
    if where[0] == "closure":
        cell = _cells(f).get(where[1])
        try:
            value = cell.cell_contents if cell is not None else operations.ABSENT
        except ValueError:  # an empty cell
            value = operations.ABSENT
    else:
        module = sys.modules.get(where[1])
        if module is None:
            return operations.ABSENT
        value = module.__dict__[root] if root in module.__dict__ else getattr(builtins, root, operations.ABSENT)
    for attribute in attributes:
        if value is operations.ABSENT:
            break
        try:
            value = getattr(value, attribute)
        except (AttributeError, TypeError):
            value = operations.ABSENT
    return value


class _Chain:
    """An attribute chain (``helpers.h``) as a namespace, for a dependency read from disk (as
    ``api._Chain`` is for one found by a build)."""

    def __init__(self, where: list, f: Any) -> None:
        self.where, self.f = where, f
        self.key = ("chain", *where)

    def __getitem__(self, name: str) -> Any:
        found = _resolve(self.where, name, self.f)
        return None if found is operations.ABSENT else found


def _namespace(namespace: Any, cells: dict[int, str]) -> list:
    """A dependency's namespace as text."""
    if namespace is builtins.__dict__:
        return ["builtins"]
    if isinstance(namespace, dict):
        return ["module", _module_name(namespace)]
    if isinstance(namespace, cache.Cell):
        if id(namespace.cell) not in cells:
            raise NotDescribable("a function it calls is a closure variable of another function")
        return ["closure", cells[id(namespace.cell)]]
    env, expr = getattr(namespace, "env", None), getattr(namespace, "expr", None)
    if isinstance(env, operations.Env) and expr is not None:  # api._Chain
        text = operations._spelled(expr)
        return ["chain", _where(env, text, cells)]
    raise NotDescribable("it calls a method of an object")


def _live_namespace(described: list, f: Any) -> Any:
    if described[0] == "builtins":
        return builtins.__dict__
    if described[0] == "module":
        module = sys.modules.get(described[1])
        if module is None:
            raise _Stale(f"the module {described[1]} is not imported")
        return module.__dict__
    if described[0] == "closure":
        cell = _cells(f).get(described[1])
        if cell is None:
            raise _Stale(f"{described[1]} is no longer a closure variable")
        return cache.Cell(cell)
    return _Chain(described[1], f)


class _Stale(Exception):
    """An entry whose conditions do not hold in this process (the reason)."""


# ------------------------------------------------------------------ entries


class Stored:
    """A build's place in the disk cache: its key, and reading and writing its entry."""

    def __init__(self, f: Any, key: str, name: str) -> None:
        self.f, self.key, self.name = f, key, name

    @staticmethod
    def of(f: Any, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], mode: str) -> Stored | None:
        """The entry for this build, or None: no disk cache, or a build that cannot be described."""
        if disk_cache.configured() is None:
            return None
        name = getattr(f, "__qualname__", repr(f))
        if disk_cache.directory() is None:  # refused (warned about once)
            return None
        from . import __version__  # (set after srcdiff imports this module)

        try:
            if rules.user_changes:
                raise NotDescribable("the program registered derivative rules of its own")
            if type(f) is not types.FunctionType:
                raise NotDescribable("it is not a Python function")
            python = f"{sys.version} {sys.implementation.cache_tag} {sysconfig.get_platform()} O{sys.flags.optimize}"
            optional = {p: str(getattr(sys.modules.get(p), "__version__", "")) for p in rules.LOADED_OPTIONAL}
            key = {
                "format": FORMAT,
                "srcdiff": f"{__version__}+{_SOURCE_HASH}",
                "python": python,
                "numpy": np.__version__,
                "optional rules": optional,
                "function": function(f),
                "wrt": list(wrt),
                "kinds": _kinds(kinds),
                "mode": mode,
            }
        except NotDescribable as exc:
            logger.debug("%s: not cached on disk: %s", name, exc)
            return None
        return Stored(f, json.dumps(key, sort_keys=True, separators=(",", ":")), name)

    def load(self) -> emit.Emitted | None:
        """The entry, compiled, if the disk holds one whose conditions hold now; else None."""
        started = time.perf_counter()
        found = disk_cache.read(self.key, self.name)
        if found is None:
            logger.debug("%s: not in the disk cache", self.name)
            return None
        text, meta, path = found
        try:
            emitted = self._compiled(text, meta, path)
        except _Stale as exc:
            logger.debug("%s: the disk cache's entry is stale (%s): building again", self.name, exc)
            disk_cache.count("misses")
            return None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, SyntaxError) as exc:  # not as written
            logger.debug("%s: the disk cache's entry %s is malformed (%r): building again", self.name, path, exc)
            disk_cache.count("misses")
            return None
        disk_cache.count("hits")
        logger.debug("%s: read from the disk cache in %.1f ms (%s)", self.name, 1e3 * (time.perf_counter() - started), path)
        return emitted

    def _compiled(self, text: str, meta: dict[str, Any], path: str) -> emit.Emitted:
        f = self.f
        for where, looked_up, described in meta["lookups"]:
            if describe(_resolve(where, looked_up, f)) != described:
                raise _Stale(f"{looked_up} denotes something else now")
        depends = []
        for described_namespace, name, described in meta["depends"]:
            namespace = _live_namespace(described_namespace, f)
            try:
                value = namespace[name]
            except KeyError:
                raise _Stale(f"{name} is gone") from None
            if value is None or describe(value) != described:
                raise _Stale(f"{name} was redefined")
            depends.append(cache.Dependency(namespace, name, value, value.__code__))
        bindings: dict[str, Any] = {}
        for emitted_name, binding in meta["bindings"].items():
            if binding[0] == "callee":
                _, index, wrt, kinds, part = binding
                bindings[emitted_name] = CalleeRef(depends[index].function, tuple(wrt), frozenset(map(tuple, kinds)), part)
            elif binding[0] == "module":
                bindings[emitted_name] = sys.modules[binding[1]]
            else:
                bindings[emitted_name] = rules.NAMESPACE[binding[1]]
        origin = Origin(*meta["origin"])
        emitted = emit.compile_text(text, bindings, meta["entry"], origin, f, meta["backward_changes_tape"], path)
        emitted.depends = tuple(depends)
        emitted.loaded = True
        return emitted

    def save(self, text: str, transformed: Transformed, depends: tuple, looked: dict, origin: Origin) -> str | None:
        """Write the entry for what was just built; its path, or None if it was not written (what
        it depends on cannot be described, or the write failed)."""
        try:
            meta = self._meta(transformed, depends, looked, origin)
        except NotDescribable as exc:
            logger.debug("%s: not cached on disk: %s", self.name, exc)
            return None
        return disk_cache.write(self.key, text, meta, self.name)

    def _meta(self, transformed: Transformed, depends: tuple, looked: dict, origin: Origin) -> dict[str, Any]:
        cells = {id(c): n for n, c in _cells(self.f).items()}
        lookups: dict[tuple, Any] = {}
        for env, text, value in looked.values():
            where = _where(env, text, cells)
            lookups.setdefault((json.dumps(where), text), [where, text, describe(value)])
        described_depends = [[_namespace(d.namespace, cells), d.name, describe(d.function)] for d in depends]
        described_bindings: dict[str, list] = {}
        helpers = {id(v): n for n, v in rules.NAMESPACE.items()}
        for name, value in transformed.bindings.items():
            if isinstance(value, CalleeRef):
                index = next((i for i, d in enumerate(depends) if d.function is value.func), None)
                if index is None:
                    raise NotDescribable(f"the function {name} calls is not among those it depends on")
                described_bindings[name] = ["callee", index, list(value.wrt), _kinds(value.kinds), value.part]
            elif isinstance(value, types.ModuleType):
                described_bindings[name] = describe(value)
            elif id(value) in helpers:
                described_bindings[name] = ["helper", helpers[id(value)]]
            else:
                raise NotDescribable(f"its code calls {value!r}, which is not one of srcdiff's helpers")
        return {
            "entry": transformed.entry,
            "origin": [origin.filename, origin.name, origin.first_line, origin.last_line],
            "backward_changes_tape": transformed.backward_changes_tape,
            "lookups": sorted(lookups.values(), key=lambda item: (item[0], item[1])),
            "depends": described_depends,
            "bindings": described_bindings,
        }
