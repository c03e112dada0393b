"""Cache: (function code, defaults, closure, globals, wrt, argument kinds, mode, rules) -> emitted functions.

A derivative is built once per key and reused. Redefining the function gives
it a new code object and registering a rule changes the table's version:
either means a new key. What the key cannot see is the functions the code
calls, whose derivatives are inlined as generated callees: each entry records
them as ``Dependency`` values (where the name was found, the object it named,
that object's code), and an entry whose dependencies (its callees' included)
no longer hold is built again. ``transformations`` counts entries made, built or read
from the disk cache (``persist``: a read stands for a build, and counts as one), so tests
can check that nothing is rebuilt needlessly whatever the disk holds; ``builds`` counts
those built, and ``cache_info()`` reports both caches.

The cache holds at most ``limit`` entries, dropping the least recently used. Besides
built code, an entry may be a ``Gradient``'s state (``remember``/``recall``), shared by
every ``grad(f)`` of one function, so that ``grad(f)(x)`` written inline costs a lookup.
Builds take a lock (one at a time, so concurrent first calls build once);
reading a gradient that is already built never does.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from types import FunctionType
from typing import Any, NamedTuple

from . import disk_cache, rules
from .emit import Emitted
from .log import logger


class Dependency(NamedTuple):
    """A called function, as the built code saw it: ``namespace[name] is function``."""

    namespace: Any  # a module's globals dict, or anything read with namespace[name]
    name: str
    function: Any
    code: Any  # function.__code__ when built: redefining in place (autoreload) changes it


class Cell:
    """A closure cell read like a namespace (an empty cell holds nothing)."""

    def __init__(self, cell: Any) -> None:
        self.cell = cell
        self.key = id(cell)  # two wrappers of one cell are one namespace

    def __getitem__(self, name: str) -> Any:
        try:
            return self.cell.cell_contents
        except ValueError:
            raise KeyError(name) from None


def current(dependencies: Iterable[Dependency]) -> bool:
    """Does every name still denote the same function, with the same code?"""
    return _changed(dependencies) is None


def _changed(dependencies: Iterable[Dependency]) -> str | None:
    """The name of the first dependency that no longer holds, or None."""
    for namespace, name, function, code in dependencies:
        try:
            if namespace[name] is not function or function.__code__ is not code:
                return name
        except KeyError:  # the name is gone
            return name
    return None


def closure_functions(f: Any) -> tuple[Dependency, ...]:
    """The Python functions in ``f``'s closure cells, as dependencies: code built for ``f``
    assumes them, whether it calls them or passes them on."""
    found = []
    for name, cell in zip(f.__code__.co_freevars, getattr(f, "__closure__", None) or ()):
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, FunctionType):
            found.append(Dependency(Cell(cell), name, value, value.__code__))
    return tuple(found)


class Own(NamedTuple):
    """The differentiated function as code was built for it: redefining it in place
    (``f.__code__ = ...``, as IPython's autoreload does, or new defaults) makes that code stale.
    The defaults matter only to code built for a call that left an argument to its default
    (``uses_defaults``): other calls pass every argument, and a call that leaves one out has
    argument types of its own, so it is built (with the defaults of then) before it runs."""

    function: Any
    code: Any
    defaults: Any
    kwdefaults: Any
    uses_defaults: bool


def own(f: Any, uses_defaults: bool = False) -> Own:
    """What code built for ``f`` assumes of ``f`` itself (nothing, if it is not a Python function)."""
    if not isinstance(f, FunctionType):
        return _ANYTHING
    return Own(f, f.__code__, f.__defaults__, f.__kwdefaults__, uses_defaults)


def _anything() -> None:
    """Stands for a callable that is not a Python function: nothing to watch."""


_ANYTHING = Own(_anything, _anything.__code__, _anything.__defaults__, _anything.__kwdefaults__, False)


def unique(dependencies: Iterable[Dependency]) -> tuple[Dependency, ...]:
    """Each (namespace, name) once: recursion reaches the same ones again and again."""
    found: dict[tuple[Any, str], Dependency] = {}
    for d in dependencies:
        found.setdefault((getattr(d.namespace, "key", None) or id(d.namespace), d.name), d)
    return tuple(found.values())


def dependencies(entry: Emitted) -> tuple[Dependency, ...]:
    """The entry's dependencies and those of every callee it binds, transitively."""
    found: list[Dependency] = []
    seen: set[int] = set()
    todo = [entry]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue  # recursion: an entry may reach itself
        seen.add(id(e))
        found += e.depends
        todo += e.callees
    return unique(found)


_entries: OrderedDict[Hashable, Emitted] = OrderedDict()
lock = threading.RLock()  # reentrant: building a caller builds its callees
limit = 1000  # entries kept; the least recently used go first
_building: set[Hashable] = set()  # keys whose build is running: never evicted
transformations = 0  # entries made: built, or read from the disk cache (each is a miss here)
builds = 0  # of those, built
hits = 0  # lookups that found a current entry


def key(func: Any, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], mode: str) -> Hashable:
    # Code objects compare by value, and defaults are not part of the code: re-running
    # ``def f(x, k=2.0)`` as ``k=3.0`` gives an equal code object. Cells and defaults may be
    # unhashable; their ids stay valid because the entry's functions hold them.
    rules.load_optional_rules()  # first, so the version below is the one the build sees
    cells = tuple(id(c) for c in func.__closure__ or ())
    defaults = (id(func.__defaults__), id(func.__kwdefaults__))
    return (func.__code__, id(func.__globals__), cells, defaults, wrt, kinds, mode, rules.version)


def get(k: Hashable, build: Callable[[], Emitted]) -> Emitted:
    """The entry for ``k``, built (and counted) on first use or when a dependency changed."""
    global transformations, builds, hits
    with lock:
        entry = _entries.get(k)
        if entry is not None:
            changed = _changed(dependencies(entry))
            if changed is not None:  # a function it calls was redefined
                logger.debug("%s: %s was redefined or is gone: building again", entry.entry, changed)
                entry = None
            else:
                hits += 1
                logger.debug("%s: found in memory", entry.entry if isinstance(entry, Emitted) else "an entry")
        if entry is None:
            started = time.perf_counter()
            _building.add(k)
            # A build allocates tens of AST nodes per statement and keeps most of them until it
            # ends; each full collection would walk them all again, which made long functions'
            # builds quadratic. They form no cycles to collect, so the collector waits for the
            # build (the outermost one: callees are built inside it) to end.
            collecting = gc.isenabled()
            gc.disable()
            try:
                entry = build()
            except BaseException:
                _entries.pop(k, None)  # put before its callees were bound: half built, never to be found again
                raise
            finally:
                _building.discard(k)
                if collecting:
                    gc.enable()
            transformations += 1
            if not entry.loaded:
                builds += 1
                seconds = time.perf_counter() - started
                lines = entry.text.count("\n")
                logger.debug("built %s in %.1f ms (callees included): %d lines of code", entry.entry, 1e3 * seconds, lines)
        put(k, entry)
        return entry


def put(k: Hashable, entry: Emitted) -> None:
    """Record an entry (before its callees are bound, so recursion finds it); mark it recently used."""
    with lock:
        _entries[k] = entry
        _entries.move_to_end(k)
        while len(_entries) > limit:
            # the least recently used, unless it is still being built (recursion must find it)
            oldest = next((old for old in _entries if old not in _building), None)
            if oldest is None:
                break
            evicted = _entries.pop(oldest)
            logger.debug("evicted %s from memory (%d entries at most)", getattr(evicted, "entry", "a gradient's state"), limit)


def recall(k: Hashable) -> Any:
    """What ``remember`` kept under ``k``, or None; marks it recently used."""
    found = _entries.get(k)
    if found is not None:
        with lock:
            if k in _entries:
                _entries.move_to_end(k)
    return found


def remember(k: Hashable, value: Any) -> None:
    """Keep ``value`` (not an ``Emitted``: a ``Gradient``'s state) among the entries, under their limit."""
    put(k, value)


def size() -> int:
    return len(_entries)


def clear() -> None:
    with lock:
        _entries.clear()


class MemoryInfo(NamedTuple):
    """The in-memory cache: lookups that found a current entry (``hits``) or made one (``misses``:
    built, or read from the disk cache), builds, and the entries held with their source's size."""

    hits: int
    misses: int
    builds: int
    entries: int
    bytes: int  # of generated source text (the functions compiled from it take more)
    limit: int  # entries


class CacheInfo(NamedTuple):
    """``srcdiff.cache_info()``: the in-memory cache and the disk cache (``disk_cache.DiskInfo``)."""

    memory: MemoryInfo
    disk: disk_cache.DiskInfo


def cache_info() -> CacheInfo:
    """Counters and sizes of srcdiff's caches, as ``functools.lru_cache``'s ``cache_info`` has."""
    with lock:
        texts = [e.text for e in _entries.values() if isinstance(e, Emitted)]
        memory = MemoryInfo(hits, transformations, builds, len(texts), sum(len(t.encode()) for t in texts), limit)
    return CacheInfo(memory, disk_cache.info())
