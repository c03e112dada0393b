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

The cache is bounded by bytes (``memory_limit()``: ``SRCDIFF_MEMORY_CACHE_SIZE``, default
64 MB), dropping the least recently used entries: each entry is charged the memory its code
holds (``footprint``: the text, its lines in ``linecache``, the code objects), a callee bound
into several entries once. Besides built code, an entry may be a ``Gradient``'s state
(``remember``/``recall``), shared by every ``grad(f)`` of one function, so that ``grad(f)(x)``
written inline costs a lookup; it is charged for the code of its specialisations.

Builds lock per key: concurrent first calls of one gradient build it once, while builds of
other functions go on in other threads (see ``get``: recursion, and two threads building
functions that call each other). Reading a gradient that is already built takes no lock but
a short one around the table.
"""

from __future__ import annotations

import gc
import linecache
import sys
import threading
import time
import types
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
    code: Any  # function.__code__ when built: redefining in place (autoreload) changes it (a Gradient's: None)


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


_mutex = threading.Lock()  # the tables and counters below: held for a lookup or an update, never during a build
_entries: OrderedDict[Hashable, Any] = OrderedDict()  # whole entries (built code, or a Gradient's state), oldest use first
_holds: dict[Hashable, dict[int, Emitted]] = {}  # key -> the built code its entry keeps alive, by id (``_insert``)
_holders: dict[int, int] = {}  # id of built code -> how many entries hold it (charged once, while one does)
_running: dict[Hashable, _Build] = {}  # key -> its build in progress, which another thread asking for it waits for
_waiting: dict[int, _Build] = {}  # thread -> the build it waits for (a wait that would close a cycle is never made)
_here = threading.local()  # .builds: this thread's builds not yet in _entries, in the order they began
_collecting = [0, False]  # builds running in every thread; was the collector on when the first of them began

DEFAULT_LIMIT = 64 * 2**20  # bytes: a thousand small gradients, or a dozen of 1,000-statement functions
limit: int | None = None  # bytes; None: SRCDIFF_MEMORY_CACHE_SIZE (512M, 2G, ...) or DEFAULT_LIMIT
STATE_BYTES = 2048  # charged for a Gradient's state besides the code it holds: its dicts and tuples
held = 0  # bytes charged for the entries held now
transformations = 0  # entries made: built, or read from the disk cache (each is a miss here)
builds = 0  # of those, built
hits = 0  # lookups that found a current entry
evictions = 0  # entries dropped to stay under the limit


class _Build:
    """A build in progress in the thread ``owner``: its entry once ``put`` (where a recursive call
    finds it), ``finished`` when ``build()`` returned; ``done`` is set once the entry is in the
    cache (or the build failed), and wakes the threads that wait for it."""

    __slots__ = ("key", "owner", "entry", "finished", "done")

    def __init__(self, key: Hashable, owner: int) -> None:
        self.key, self.owner = key, owner
        self.entry: Emitted | None = None
        self.finished = False
        self.done = threading.Event()


def memory_limit() -> int:
    """The bound on the in-memory cache, in bytes: ``limit`` if set, else ``SRCDIFF_MEMORY_CACHE_SIZE``."""
    return limit if limit is not None else disk_cache.size_setting("SRCDIFF_MEMORY_CACHE_SIZE", DEFAULT_LIMIT)


def key(func: Any, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], mode: str) -> Hashable:
    # Code objects compare by value, and defaults are not part of the code: re-running
    # ``def f(x, k=2.0)`` as ``k=3.0`` gives an equal code object. Cells and defaults may be
    # unhashable; their ids stay valid because the entry's functions hold them.
    rules.load_optional_rules()  # first, so the version below is the one the build sees
    cells = tuple(id(c) for c in func.__closure__ or ())
    defaults = (id(func.__defaults__), id(func.__kwdefaults__))
    return (func.__code__, id(func.__globals__), cells, defaults, wrt, kinds, mode, rules.version)


def _builds_here() -> list[_Build]:
    return _here.__dict__.setdefault("builds", [])


def get(k: Hashable, build: Callable[[], Emitted]) -> Emitted:
    """The entry for ``k``, built (and counted) on first use or when a dependency changed.

    Builds lock per key, not globally: a thread asking for an entry that another thread is
    building waits for that build alone, and builds of other keys go on meanwhile. A build
    that asks for its own key again (recursion) finds its entry as ``put`` left it. A wait
    that would close a cycle (this thread builds what the other waits for, as two threads
    building functions that call each other may) is not made: this thread builds the entry
    too, and the first of the two to finish is kept."""
    global hits
    me = threading.get_ident()
    mine = _builds_here()
    while True:
        for job in reversed(mine):  # recursion: the entry of a build of k running in this thread
            if job.key == k and job.entry is not None:
                return job.entry
        with _mutex:
            entry = _entries.get(k)
        if entry is not None:  # (checked without the lock: reading a namespace may run the user's code)
            changed = _changed(dependencies(entry))
            if changed is None:
                with _mutex:
                    hits += 1
                    if k in _entries:
                        _entries.move_to_end(k)
                logger.debug("%s: found in memory", entry.entry if isinstance(entry, Emitted) else "an entry")
                return entry
            logger.debug("%s: %s was redefined or is gone: building again", entry.entry, changed)
        with _mutex:
            running = _running.get(k)
            if running is None or running.owner == me or _waits_for(running.owner, me):
                job = _Build(k, me)
                if running is None:  # (else this build is the thread's own: others wait for the first)
                    _running[k] = job
                break
            _waiting[me] = running
        try:
            running.done.wait()
        finally:
            with _mutex:
                del _waiting[me]
    return _run(job, build, mine)


def _waits_for(owner: int, me: int) -> bool:
    """Does the thread ``owner`` wait, through others perhaps, for a build of the thread ``me``?"""
    while owner != me:
        job = _waiting.get(owner)
        if job is None:
            return False
        owner = job.owner
    return True


def _run(job: _Build, build: Callable[[], Emitted], mine: list[_Build]) -> Emitted:
    global transformations, builds
    mine.append(job)
    started = time.perf_counter()
    _pause_collector()
    try:
        entry = build()
    except BaseException:
        _abandon(job, mine)
        raise
    finally:
        _resume_collector()
    job.entry, job.finished = entry, True
    with _mutex:
        transformations += 1
        builds += not entry.loaded
    if not entry.loaded:
        seconds = time.perf_counter() - started
        lines = entry.text.count("\n")
        logger.debug("built %s in %.1f ms (callees included): %d lines of code", entry.entry, 1e3 * seconds, lines)
    _settle(mine, keep=job.key)
    return entry


# A build allocates tens of AST nodes per statement and keeps most of them until it ends; each
# full collection would walk them all again, which made long functions' builds quadratic. They
# form no cycles to collect, so the collector waits for the builds (of every thread) to end.
def _pause_collector() -> None:
    with _mutex:
        if _collecting[0] == 0:
            _collecting[1] = gc.isenabled()
            gc.disable()
        _collecting[0] += 1


def _resume_collector() -> None:
    with _mutex:
        _collecting[0] -= 1
        if _collecting[0] == 0 and _collecting[1]:
            gc.enable()


def _reaches(entry: Emitted, ids: set[int]) -> bool:
    """Does ``entry`` bind, through its callees, one of the entries whose ids are given?"""
    return any(id(e) in ids for e in _closure(entry)[1:])


def _closure(entry: Emitted) -> list[Emitted]:
    """``entry`` and its callees, transitively, each once."""
    found, seen, todo = [], set(), [entry]
    while todo:
        e = todo.pop()
        if id(e) not in seen:
            seen.add(id(e))
            found.append(e)
            todo += e.callees
    return found


def _settle(mine: list[_Build], keep: Hashable) -> None:
    """Put the finished builds of this thread in the cache, but not one that binds an entry whose
    build runs still (recursion: that entry's callees are not all bound yet): it waits for it.
    ``keep``, the build that just finished, stays in the cache whatever its size."""
    unfinished = {id(j.entry) for j in mine if not j.finished and j.entry is not None}
    ready = [j for j in mine if j.finished and not (unfinished and _reaches(j.entry, unfinished))]
    if not ready:
        return
    mine[:] = [j for j in mine if j not in ready]
    with _mutex:
        for j in ready:
            if _running.get(j.key) is j:
                del _running[j.key]
                _insert(j.key, j.entry)
            elif j.key not in _entries:  # a second build made to avoid a cycle of waits: the first to finish stays
                _insert(j.key, j.entry)
        _shrink(keep=keep)
    for j in ready:
        j.done.set()


def _abandon(job: _Build, mine: list[_Build]) -> None:
    """A build failed: drop it, and the finished builds of this thread that bind its entry (half
    built, never to be found again); wake the threads that wait for them (they build on their own)."""
    dropped = [job]
    if job.entry is not None:
        dropped += [j for j in mine if j.finished and _reaches(j.entry, {id(job.entry)})]
    mine[:] = [j for j in mine if j not in dropped]
    with _mutex:
        for j in dropped:
            if _running.get(j.key) is j:
                del _running[j.key]
    for j in dropped:
        j.done.set()


def put(k: Hashable, entry: Emitted) -> None:
    """Record the entry of a build before its callees are bound, so that recursion finds it
    (only in the building thread: other threads wait until the build is done)."""
    for job in reversed(_builds_here()):
        if job.key == k and not job.finished:
            job.entry = entry
            return
    with _mutex:  # (not within a build of k)
        _insert(k, entry)
        _shrink(keep=k)


def _insert(k: Hashable, value: Any) -> None:
    """Hold ``value`` under ``k`` as the most recently used entry, charged for the code it keeps
    alive: an Emitted and its callees; for a Gradient's state, the code of its specialisations
    (the last item of each: ``api.Gradient.specialize``), and of those made later (``holds``).
    With ``_mutex`` held."""
    global held
    if k in _entries:
        _release(k)
    _entries[k] = value
    if isinstance(value, Emitted):
        code = _closure(value)
    else:
        held += STATE_BYTES
        compiled = value[1].get("_compiled", {}) if isinstance(value, tuple) and isinstance(value[1], dict) else {}
        code = [e for specialisation in list(compiled.values()) for e in _closure(specialisation[-1])]
    _holds[k] = {}
    _hold(k, code)


def _hold(k: Hashable, code: Iterable[Emitted]) -> None:
    global held
    holding = _holds[k]
    for e in code:
        if id(e) not in holding:
            holding[id(e)] = e
            _holders[id(e)] = _holders.get(id(e), 0) + 1
            if _holders[id(e)] == 1:
                held += footprint(e)


def _release(k: Hashable) -> int:
    """Drop the entry under ``k``; the bytes that frees (code no other entry holds). With ``_mutex`` held."""
    global held
    value = _entries.pop(k)
    freed = 0 if isinstance(value, Emitted) else STATE_BYTES
    for i, e in _holds.pop(k).items():
        _holders[i] -= 1
        if _holders[i] == 0:
            del _holders[i]
            freed += footprint(e)
    held -= freed
    return freed


def holds(k: Hashable, entry: Emitted) -> None:
    """The Gradient's state under ``k`` holds ``entry`` now too (a specialisation made after it was
    remembered). After ``f`` was redefined in place a Gradient's new code is charged to the state,
    which holds the old: a bound too strict, never too loose, until the state goes."""
    with _mutex:
        if k in _holds and not isinstance(_entries[k], Emitted):
            _hold(k, _closure(entry))
            _shrink(keep=k)


def footprint(entry: Emitted) -> int:
    """The memory an entry holds, in bytes, estimated once: its text, the lines ``linecache``
    keeps of it, and its functions' code objects. (Within 20% of what ``tracemalloc`` sees freed
    when a gradient goes; machine code compiled by a backend is not counted.)"""
    if not entry.footprint:
        text = entry.text
        lines = linecache.cache.get(next(iter(entry.functions.values())).__code__.co_filename) if entry.functions else None
        size = sys.getsizeof(text)
        if lines is not None and len(lines) > 2 and isinstance(lines[2], list):
            size += sys.getsizeof(lines[2]) + sum(map(sys.getsizeof, lines[2]))
        codes = [f.__code__ for f in entry.functions.values()]
        while codes:
            c = codes.pop()
            size += sys.getsizeof(c) + sum(sys.getsizeof(getattr(c, a, b"")) for a in _CODE_PARTS)
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        entry.footprint = size + sum(map(sys.getsizeof, entry.functions.values())) + 64 * len(entry.cells)
    return entry.footprint


# (not co_lnotab, which Python 3.12 deprecates: reading it warns)
_CODE_PARTS = ("co_code", "co_consts", "co_names", "co_varnames", "co_linetable", "co_exceptiontable")


def _shrink(keep: Hashable) -> None:
    """Drop the least recently used entries until the code held fits the limit (code that several
    entries hold goes with the last of them); ``keep`` stays, whatever its size. With ``_mutex`` held."""
    global evictions
    bound = memory_limit()
    while held > bound:
        old = next((k for k in _entries if k != keep), None)
        if old is None:
            break
        what = _entries[old].entry if isinstance(_entries[old], Emitted) else "a gradient's state"
        freed = _release(old)
        evictions += 1
        logger.debug("evicted %s from memory (%d bytes freed; %d of %d held)", what, freed, held, bound)


def recall(k: Hashable) -> Any:
    """What ``remember`` kept under ``k``, or None; marks it recently used."""
    found = _entries.get(k)
    if found is not None:
        with _mutex:
            if k in _entries:
                _entries.move_to_end(k)
    return found


def remember(k: Hashable, value: Any) -> None:
    """Keep ``value`` (not an ``Emitted``: a ``Gradient``'s state) among the entries, under their limit."""
    with _mutex:
        _insert(k, value)
        _shrink(keep=k)


def size() -> int:
    return len(_entries)


def clear() -> None:
    global held
    with _mutex:
        _entries.clear()
        _holds.clear()
        _holders.clear()
        held = 0


class MemoryInfo(NamedTuple):
    """The in-memory cache: lookups that found a current entry (``hits``) or made one (``misses``:
    built, or read from the disk cache), builds, entries dropped to stay under the limit, and the
    entries held with the memory they hold (``footprint``, an estimate)."""

    hits: int
    misses: int
    builds: int
    evictions: int
    entries: int
    bytes: int  # held by the entries' code: their text, its lines in linecache, the code objects
    limit: int  # bytes


class CacheInfo(NamedTuple):
    """``srcdiff.cache_info()``: the in-memory cache and the disk cache (``disk_cache.DiskInfo``)."""

    memory: MemoryInfo
    disk: disk_cache.DiskInfo


def cache_info() -> CacheInfo:
    """Counters and sizes of srcdiff's caches, as ``functools.lru_cache``'s ``cache_info`` has."""
    with _mutex:
        memory = MemoryInfo(hits, transformations, builds, evictions, len(_entries), held, memory_limit())
    return CacheInfo(memory, disk_cache.info())
