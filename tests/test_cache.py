"""The cache: a gradient is rebuilt exactly when something it was built from changed.

Each test is a small notebook: cells of source run in one module namespace (their
text registered with ``linecache``, as IPython does), then the gradient's value
before and after a cell redefines something it calls.
"""

import gc
import importlib
import itertools
import linecache
import os
import sys
import threading
import tracemalloc
import types

import numpy as np
import pytest

import srcdiff
from srcdiff import api, cache, emit, parse, reverse
from srcdiff.errors import SourceUnavailable

_cells = itertools.count(1)


class Notebook:
    """A module namespace that runs cells of source, each under its own file name."""

    def __init__(self, **names) -> None:
        self.namespace = {"__name__": "notebook", "np": np, **names}

    def run(self, source: str) -> None:
        filename = f"<notebook cell {next(_cells)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), self.namespace)

    def __getitem__(self, name: str):
        return self.namespace[name]


def builds(call, *args):
    """The value of ``call(*args)`` and how many transformations it ran."""
    before = cache.transformations
    value = call(*args)
    return value, cache.transformations - before


def test_a_helper_redefined_after_the_first_gradient_is_seen():
    nb = Notebook()
    nb.run("def h(x):\n    return x * x\n")
    nb.run("def f(x):\n    return h(x) + x\n")
    g = srcdiff.grad(nb["f"])
    assert g(1.0) == 3.0  # 2x + 1
    nb.run("def h(x):\n    return x * x * x\n")
    assert builds(g, 1.0) == (4.0, 2)  # 3x^2 + 1: f rebuilt, and the new h's forward/backward pair
    assert builds(g, 1.0) == (4.0, 0)  # and then reused
    assert srcdiff.grad(nb["f"])(1.0) == 4.0  # a new gradient of f finds the current entry


def test_an_array_gradient_sees_the_redefinition_too():
    nb = Notebook()
    nb.run("def h(x):\n    return x * x\n")
    nb.run("def f(x):\n    return np.sum(h(x))\n")
    g = srcdiff.grad(nb["f"])
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [2.0, 4.0])
    nb.run("def h(x):\n    return 3.0 * x\n")
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [3.0, 3.0])


def test_a_helper_of_a_helper_is_a_dependency_too():
    nb = Notebook()
    nb.run("def k(x):\n    return x * x\n")
    nb.run("def h(x):\n    return k(x) * 2.0\n")
    nb.run("def f(x):\n    return h(x)\n")
    g = srcdiff.grad(nb["f"])
    assert g(3.0) == 12.0  # 4x
    nb.run("def k(x):\n    return x\n")
    assert g(3.0) == 2.0


def test_a_helper_called_with_constant_arguments_is_a_dependency():
    # h(2.0) is not differentiated, but whether it returns a scalar shaped the code
    nb = Notebook()
    nb.run("def h(c):\n    return c * c\n")
    nb.run("def f(x):\n    return np.sum(h(2.0) * x)\n")
    g = srcdiff.grad(nb["f"])
    assert g(1.0) == 4.0
    nb.run("def h(c):\n    return np.array([c, c, c])\n")
    assert g(1.0) == 6.0


def test_a_redefined_helper_reached_through_a_module_attribute():
    helpers = types.ModuleType("helpers")
    nb = Notebook(helpers=helpers)
    nb.run("def square(x):\n    return x * x\n")
    nb.run("def cube(x):\n    return x * x * x\n")
    helpers.h = nb["square"]
    nb.run("def f(x):\n    return helpers.h(x)\n")
    g = srcdiff.grad(nb["f"])
    assert g(2.0) == 4.0
    helpers.h = nb["cube"]
    assert g(2.0) == 12.0


def test_a_closure_variable_rebound_to_another_helper():
    nb = Notebook()
    nb.run(
        "def make():\n"
        "    def square(x):\n"
        "        return x * x\n"
        "    def cube(x):\n"
        "        return x * x * x\n"
        "    h = square\n"
        "    def f(x):\n"
        "        return h(x)\n"
        "    def use_cube():\n"
        "        nonlocal h\n"
        "        h = cube\n"
        "    return f, use_cube\n"
    )
    f, use_cube = nb["make"]()
    g = srcdiff.grad(f)
    assert g(2.0) == 4.0
    use_cube()
    assert g(2.0) == 12.0


def test_code_replaced_in_place_is_seen():
    # what IPython's autoreload does: the function object stays, its __code__ changes
    nb = Notebook()
    nb.run("def h(x):\n    return x * x\n")
    nb.run("def f(x):\n    return h(x)\n")
    nb.run("def cube(x):\n    return x * x * x\n")
    g = srcdiff.grad(nb["f"])
    assert g(2.0) == 4.0
    nb["h"].__code__ = nb["cube"].__code__
    assert g(2.0) == 12.0


def test_a_recursive_function_sees_its_helper_redefined():
    nb = Notebook()
    nb.run("def h(x):\n    return x * 2.0\n")
    nb.run("def a(x, n):\n    if n > 0:\n        return h(a(x, n - 1))\n    return x\n")
    g = srcdiff.grad(nb["a"])
    assert g(1.0, 3) == 8.0
    nb.run("def h(x):\n    return x * 3.0\n")
    assert g(1.0, 3) == 27.0


def test_a_redefinition_that_changes_only_a_default_is_seen():
    # the code objects of the two defs compare equal: the defaults tell them apart
    nb = Notebook()
    nb.run("def f(x, k=2.0):\n    return x * x * k\n")
    nb.run("def g(x):\n    return f(x)\n")
    assert (srcdiff.grad(nb["f"])(1.0), srcdiff.grad(nb["g"])(1.0)) == (4.0, 4.0)
    g = srcdiff.grad(nb["g"])
    nb.run("def f(x, k=3.0):\n    return x * x * k\n")
    assert (srcdiff.grad(nb["f"])(1.0), g(1.0)) == (6.0, 6.0)


def test_second_order_sees_the_redefinition():
    nb = Notebook()
    nb.run("def h(x):\n    return x * x * x\n")
    nb.run("def f(x):\n    return h(x)\n")
    gg = srcdiff.grad(srcdiff.grad(nb["f"]))
    assert gg(2.0) == 12.0  # 6x
    nb.run("def h(x):\n    return x * x * x * x\n")
    assert gg(2.0) == 48.0  # 12x^2
    assert srcdiff.grad(srcdiff.grad(nb["f"]))(2.0) == 48.0


def test_a_deleted_helper_is_refused_not_reused():
    nb = Notebook()
    nb.run("def h(x):\n    return x * x\n")
    nb.run("def f(x):\n    return h(x)\n")
    g = srcdiff.grad(nb["f"])
    assert g(2.0) == 4.0
    del nb.namespace["h"]
    with pytest.raises(srcdiff.SrcdiffError, match="cannot find the function 'h'"):
        g(2.0)


def test_a_refusal_in_a_callee_leaves_no_half_built_entry():
    nb = Notebook(OPAQUE=np.vectorize(np.sin))
    nb.run("def good(u):\n    return 2.0 * u\n")
    nb.run("def bad(u):\n    return OPAQUE(u)\n")
    nb.run("def middle(u):\n    return good(u) + bad(u)\n")
    nb.run("def outer(u):\n    return np.sum(middle(u))\n")
    g = srcdiff.grad(nb["outer"])
    for _ in range(2):  # the second try used to find middle's entry with its callees unbound: a NameError
        with pytest.raises(srcdiff.SrcdiffError, match="no derivative rule"):
            g(np.ones(3))


def test_gradients_without_dependencies_record_none():
    nb = Notebook()
    nb.run("def f(x):\n    return np.sin(x) * x\n")
    g = srcdiff.grad(nb["f"])
    g(1.0)
    (entry,) = g._compiled.values()
    assert entry[1] is False  # no guards: the call checks nothing but the argument types


def test_eight_threads_build_a_fresh_gradient_once():
    nb = Notebook()
    nb.run("def h(x):\n    return np.sin(x) * x\n")
    nb.run("def f(x, y):\n    return h(x) * y + np.cos(x * y)\n")
    g = srcdiff.grad(nb["f"])
    x, y = 0.3, 1.7
    expected = (np.cos(x) * x + np.sin(x)) * y - np.sin(x * y) * y
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(g(x, y))
        except Exception as error:  # reported below, with the thread's answer missing
            errors.append(error)

    before = cache.transformations
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that a missing lock shows
    try:
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(results) == 8 and all(r == pytest.approx(expected, rel=1e-12) for r in results)
    assert cache.transformations - before == 2  # f's gradient and h's forward/backward pair, each once


def _hold_builds(monkeypatch, hold):
    """Run ``hold(origin, split)`` in each reverse transform (inside a build, its key taken), with
    the disk cache off: builds here are builds."""
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", "")
    transform = reverse.transform

    def held(tree, act, origin, **options):
        hold(origin, options.get("split", False))
        return transform(tree, act, origin, **options)

    monkeypatch.setattr(reverse, "transform", held)


def _in_thread(results, name, call, *args):
    def run():
        try:
            results[name] = call(*args)
        except BaseException as error:  # reported by the assertions on results
            results[name] = error

    t = threading.Thread(target=run, name=name)
    t.start()
    return t


def test_a_small_build_finishes_while_a_big_one_is_in_progress(monkeypatch):
    nb = Notebook()
    nb.run("def big(x):\n    return np.sin(x) * x\n")
    nb.run("def small(x):\n    return x * x\n")
    started, release = threading.Event(), threading.Event()

    def hold(origin, split):
        if origin.name == "big":
            started.set()
            release.wait(60)  # the big build stays in progress until the small one has finished

    _hold_builds(monkeypatch, hold)
    results: dict = {}
    big = _in_thread(results, "big", srcdiff.grad(nb["big"]), 0.5)
    try:
        assert started.wait(60)
        _in_thread(results, "small", srcdiff.grad(nb["small"]), 3.0).join(60)
        order = dict(results)  # what had finished when the small build was done
    finally:
        release.set()
        big.join(60)
    assert order == {"small": 6.0}  # (with one lock for every build, the small one waited for the big one)
    assert results["big"] == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5))
    assert gc.isenabled()  # the collector paused for the builds, and back on after them


def test_threads_asking_for_a_gradient_being_built_wait_and_build_nothing(monkeypatch):
    nb = Notebook()
    nb.run("def h(x):\n    return np.exp(x) * x\n")
    nb.run("def f(x):\n    return h(x) + x\n")
    started, release = threading.Event(), threading.Event()
    made: list = []

    def hold(origin, split):
        made.append((origin.name, split))
        if origin.name == "f":
            started.set()
            release.wait(60)

    _hold_builds(monkeypatch, hold)
    results: dict = {}
    threads = [_in_thread(results, "first", srcdiff.grad(nb["f"]), 1.0)]
    try:
        assert started.wait(60)
        threads += [_in_thread(results, f"then {i}", srcdiff.grad(nb["f"]), 1.0) for i in range(3)]
        for _ in range(6000):  # until the three wait for the first one's build
            if len(cache._waiting) == 3:
                break
            threading.Event().wait(0.01)
        waiting = len(cache._waiting)
    finally:
        release.set()
        for t in threads:
            t.join(60)
    assert waiting == 3
    assert sorted(made) == [("f", False), ("h", True)]  # f's gradient and h's pair, each built once
    assert results == {n: pytest.approx(2.0 * np.exp(1.0) + 1.0) for n in ("first", "then 0", "then 1", "then 2")}


def test_two_threads_building_functions_that_call_each_other_do_not_deadlock(monkeypatch):
    nb = Notebook()
    nb.run("def f(x, n):\n    if n > 0:\n        return g(x * 2.0, n - 1)\n    return x\n")
    nb.run("def g(x, n):\n    if n > 0:\n        return f(x * 3.0, n - 1)\n    return x\n")
    both = threading.Barrier(2, timeout=30)
    met: set = set()

    def hold(origin, split):
        # A builds f's gradient, then g's pair; B builds g's gradient, then f's pair. Each holds
        # its pair's key here until the other holds its own: then A needs f's pair, which B
        # builds, and B needs g's, which A builds.
        me = threading.current_thread().name
        if split and (me, origin.name) in (("A", "g"), ("B", "f")) and me not in met:
            met.add(me)
            both.wait()

    _hold_builds(monkeypatch, hold)
    results: dict = {}
    threads = [_in_thread(results, "A", srcdiff.grad(nb["f"]), 1.0, 3), _in_thread(results, "B", srcdiff.grad(nb["g"]), 1.0, 3)]
    for t in threads:
        t.join(60)
    assert results == {"A": 12.0, "B": 18.0}  # f(x, 3) = 12 x, g(x, 3) = 18 x


def test_a_failed_build_wakes_the_threads_waiting_for_it(monkeypatch):
    nb = Notebook()
    nb.run("def f(x):\n    return x * 2.0\n")
    started, release = threading.Event(), threading.Event()
    calls: list = []

    def hold(origin, split):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            started.set()
            release.wait(60)
            raise RuntimeError("the first build fails")

    _hold_builds(monkeypatch, hold)
    results: dict = {}
    first = _in_thread(results, "first", srcdiff.grad(nb["f"]), 1.0)
    try:
        assert started.wait(60)
        second = _in_thread(results, "second", srcdiff.grad(nb["f"]), 1.0)
        for _ in range(6000):
            if cache._waiting:
                break
            threading.Event().wait(0.01)
    finally:
        release.set()
        first.join(60)
    second.join(60)
    assert isinstance(results["first"], RuntimeError) and results["second"] == 2.0  # it built on its own
    assert calls == ["first", "second"]


def test_the_cache_is_bounded_by_bytes(monkeypatch):
    monkeypatch.setattr(cache, "limit", 200_000)  # bytes: some 25 of these small gradients (each holds ~8 KB)
    monkeypatch.setattr(api, "_FACTS_LIMIT", 20)
    cache.clear()
    nb = Notebook()
    before = {k for k in linecache.cache if k.startswith("<srcdiff")}
    generated_before = set(parse.GENERATED_FROM)
    evictions = srcdiff.cache_info().memory.evictions
    for i in range(120):  # 120 distinct functions and helpers, each with a gradient built and called
        nb.run(f"def h{i}(x):\n    return x * x\n")
        nb.run(f"def f{i}(x):\n    return h{i}(x) * {i + 1}.0\n")
        assert srcdiff.grad(nb[f"f{i}"])(1.0) == 2.0 * (i + 1)
        info = srcdiff.cache_info().memory
        assert 0 < info.bytes <= info.limit == 200_000
        assert len(api._callee_facts) <= 20
    assert cache.size() < 100  # of 360 entries made (a gradient, its callee, a Gradient's state, per function)
    assert srcdiff.cache_info().memory.evictions - evictions > 260
    gc.collect()  # evicted entries form cycles (functions and their cells)
    generated = {k for k in linecache.cache if k.startswith("<srcdiff")} - before
    assert len(generated) <= cache.size()  # the source of evicted code left linecache with it
    assert len(set(parse.GENERATED_FROM) - generated_before) <= cache.size()  # and the map back to the user's files


def _emitted(name: str, footprint: int):
    """An entry of a given size, for the bookkeeping alone."""
    return emit.Emitted(text="", functions={}, entry=name, footprint=footprint)


def test_the_least_recently_used_entry_goes_first(monkeypatch):
    monkeypatch.setattr(cache, "limit", 3500)
    cache.clear()
    a, b, c, d = (_emitted(n, 1000) for n in "abcd")
    for k, e in zip("abc", (a, b, c)):
        cache.put(("lru test", k), e)
    assert cache.cache_info().memory.bytes == 3000
    assert cache.recall(("lru test", "a")) is a  # a used again: b is now the least recently used
    cache.put(("lru test", "d"), d)
    assert [k for _, k in cache._entries] == ["c", "a", "d"]
    assert cache.cache_info().memory.bytes == 3000
    cache.put(("lru test", "huge"), _emitted("huge", 10_000))  # larger than the limit: kept alone
    assert [k for _, k in cache._entries] == ["huge"]
    cache.clear()


def test_code_held_by_two_entries_is_charged_once(monkeypatch):
    monkeypatch.setattr(cache, "limit", 10_000)
    cache.clear()
    callee = _emitted("callee", 1000)
    caller = _emitted("caller", 500)
    caller.callees.append(callee)
    cache.put(("shared test", "callee"), callee)
    cache.put(("shared test", "caller"), caller)  # binds the callee: holds it too
    assert cache.cache_info().memory.bytes == 1500
    monkeypatch.setattr(cache, "limit", 1600)
    cache.put(("shared test", "other"), _emitted("other", 600))
    # the callee, least recently used, goes first, but the caller holds it still: the caller goes too
    assert [k for _, k in cache._entries] == ["other"] and cache.cache_info().memory.bytes == 600
    cache.clear()


def test_the_limit_is_a_setting(monkeypatch):
    monkeypatch.setattr(cache, "limit", None)
    monkeypatch.delenv("SRCDIFF_MEMORY_CACHE_SIZE", raising=False)
    assert cache.memory_limit() == cache.DEFAULT_LIMIT == 64 * 2**20
    monkeypatch.setenv("SRCDIFF_MEMORY_CACHE_SIZE", "16M")
    assert cache.memory_limit() == srcdiff.cache_info().memory.limit == 16 * 2**20
    monkeypatch.setattr(cache, "limit", 12345)  # set in the program: wins
    assert srcdiff.cache_info().memory.limit == 12345


def test_an_entry_is_charged_about_what_it_holds(monkeypatch):
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", "")  # built here, not read from disk
    lines = ["def long(x):", "    a0 = x * 1.0", "    a1 = np.cos(x)"]
    lines += [f"    a{k} = np.sin(a{k - 1}) * a{k - 2} + np.sum(a{k - 1}) / 7.0" for k in range(2, 60)]
    nb = Notebook()
    nb.run("\n".join(lines + ["    return np.sum(a59 * a58)"]) + "\n")
    tracemalloc.start()  # (what was allocated before is not seen freed)
    try:
        g = srcdiff.grad(nb["long"])
        g(np.ones(3))
        entry = g._compiled[(np.ndarray,)][-1]
        charged = cache.footprint(entry)
        del entry
        cache.clear()  # nothing holds the code now but g
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        del g
        gc.collect()
        freed = before - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert 0.5 * freed < charged < 1.5 * freed  # (measured: 0.88 of it, the rest being g's own objects)


def test_source_stays_in_linecache_while_its_code_is_used(monkeypatch):
    monkeypatch.setattr(cache, "limit", 1)
    nb = Notebook()
    nb.run("def kept(x):\n    return x * 3.0\n")
    g = srcdiff.grad(nb["kept"])
    g(1.0)
    fn = g._compiled[(float,)][0]
    for i in range(5):  # push its entry out of the cache
        nb.run(f"def other{i}(x):\n    return x * x\n")
        srcdiff.grad(nb[f"other{i}"])(1.0)
    gc.collect()
    assert "return" in "".join(linecache.getlines(fn.__code__.co_filename))
    assert parse.GENERATED_FROM[fn.__code__.co_filename].startswith("<notebook cell")
    filename = fn.__code__.co_filename
    del g, fn
    gc.collect()
    assert filename not in parse.GENERATED_FROM and filename not in linecache.cache


def mutual_recursion() -> Notebook:
    nb = Notebook()
    nb.run("def a(x, n):\n    if n > 0:\n        return b(x * 2.0, n - 1)\n    return x\n")
    nb.run("def b(x, n):\n    return c(x, n)\n")
    nb.run("def c(x, n):\n    return a(x, n)\n")
    return nb


def test_recursion_still_finds_its_entries_in_a_tiny_cache(monkeypatch):
    monkeypatch.setattr(cache, "limit", 1)
    assert srcdiff.grad(mutual_recursion()["a"])(1.0, 3) == 8.0


def test_mutual_recursion_records_each_dependency_once():
    g = srcdiff.grad(mutual_recursion()["a"])
    assert g(1.0, 3) == 8.0
    (entry,) = g._compiled.values()
    assert sorted(name for _, name, _, _ in entry[4]) == ["a", "b", "c"]  # found through each other, kept once


def thirds(x):
    return x / 3.0


def uses_thirds(x):
    return thirds(x) * 6.0


def test_replacing_a_rule_rebuilds_an_existing_gradient():
    from srcdiff import rules

    rules.vjp("thirds(x)", x="g * 3.0", kind=rules.ELEMENTWISE, names={"thirds": thirds})  # wrong on purpose
    g = srcdiff.grad(uses_thirds)
    assert g(1.0) == 18.0
    rules.vjp("thirds(x)", x="g / 3.0", kind=rules.ELEMENTWISE)
    assert g(1.0) == 2.0


def test_a_jvp_sees_its_helper_redefined():
    # jvp runs the same pipeline as grad: the functions it calls are dependencies of its code
    nb = Notebook()
    nb.run("def h(x):\n    return x * 2.0\n")
    nb.run("def f(x):\n    return h(x)\n")
    j = srcdiff.jvp(nb["f"])
    assert j((1.0,), (1.0,)) == (2.0, 2.0)
    assert srcdiff.jvp(nb["f"], (1.0,), (1.0,)) == (2.0, 2.0)
    nb.run("def h(x):\n    return x * 3.0\n")
    assert j((1.0,), (1.0,)) == (3.0, 3.0)
    assert srcdiff.jvp(nb["f"], (1.0,), (1.0,)) == (3.0, 3.0)
    assert builds(j, (1.0,), (1.0,)) == ((3.0, 3.0), 0)  # and then reused


def test_the_function_itself_swapped_in_place_is_seen():
    # IPython's %autoreload assigns the new code to the old function object
    nb = Notebook()
    nb.run("def f(x):\n    return x * x\n")
    nb.run("def cube(x):\n    return x * x * x\n")
    f = nb["f"]
    g, gg, j = srcdiff.grad(f), srcdiff.grad(srcdiff.grad(f)), srcdiff.jvp(f)
    assert (g(2.0), gg(2.0), j((2.0,), (1.0,))) == (4.0, 2.0, (4.0, 4.0))
    assert g(np.array(2.0)) == 4.0
    f.__code__ = nb["cube"].__code__
    assert (g(2.0), gg(2.0), j((2.0,), (1.0,))) == (12.0, 12.0, (8.0, 12.0))
    assert g(np.array(2.0)) == 12.0
    assert builds(g, 2.0) == (12.0, 0)


def test_the_function_s_defaults_replaced_in_place_are_seen():
    nb = Notebook()
    nb.run("def f(x, k=2.0, *, m=1.0):\n    return x * x * k * m\n")
    f = nb["f"]
    g, j = srcdiff.grad(f), srcdiff.jvp(f)
    assert (g(1.0), j((1.0,), (1.0,))) == (4.0, (2.0, 4.0))
    f.__defaults__ = (3.0,)
    assert (g(1.0), j((1.0,), (1.0,))) == (6.0, (3.0, 6.0))
    f.__kwdefaults__ = {"m": 2.0}
    assert (g(1.0), j((1.0,), (1.0,))) == (12.0, (6.0, 12.0))


def test_a_function_in_the_closure_replaced_is_seen():
    nb = Notebook()
    nb.run(
        "def make(h):\n    def f(x):\n        return np.sum(np.array([h(x)]))\n    return f\n"
        "def square(x):\n    return x * x\n"
        "def cube(x):\n    return x * x * x\n"
    )
    f = nb["make"](nb["square"])
    g = srcdiff.grad(f)
    assert g(2.0) == 4.0
    f.__closure__[0].cell_contents = nb["cube"]
    assert g(2.0) == 12.0


def test_a_function_in_the_closure_passed_on_and_replaced_is_seen():
    nb = Notebook()
    nb.run(
        "def apply(h, x):\n    return h(x)\n"
        "def make(h):\n    def f(x):\n        return apply(h, x)\n    return f\n"
        "def square(x):\n    return x * x\n"
        "def cube(x):\n    return x * x * x\n"
    )
    f = nb["make"](nb["square"])
    g = srcdiff.grad(f)
    assert g(2.0) == 4.0
    f.__closure__[0].cell_contents = nb["cube"]
    assert g(2.0) == 12.0


def _imported(tmp_path, name: str, source: str) -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def test_a_file_edited_on_disk_but_not_reloaded_is_refused(tmp_path):
    # srcdiff would read the new text while the function runs the old code
    module = _imported(tmp_path, "edited_model", "import numpy as np\n\n\ndef f(x):\n    return x * x\n")
    (tmp_path / "edited_model.py").write_text("import numpy as np\n\n\ndef f(x):\n    return x * x * x\n")
    with pytest.raises(SourceUnavailable, match="(?s)the file changed since f was imported.*importlib.reload"):
        srcdiff.grad(module.f)(2.0)
    with pytest.raises(SourceUnavailable, match="the file changed since f was imported"):
        srcdiff.jvp(module.f, (2.0,), (1.0,))


def test_a_module_edited_and_reloaded_is_differentiated_as_reloaded(tmp_path, monkeypatch):
    # importlib.reload (and %autoreload) leave linecache holding the text from before the edit:
    # it must be read again, neither refused against the new code nor described to the disk cache
    path = tmp_path / "reloaded_model.py"
    path.write_text("def power(x):\n    return x * x * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("reloaded_model")
    try:
        nb = Notebook(reloaded_model=module)
        nb.run("def k(t):\n    return reloaded_model.power(t)\n")
        g = srcdiff.grad(nb["k"])
        assert g(2.0) == 12.0
        assert srcdiff.grad(module.power)(2.0) == 12.0
        path.write_text("def power(x):\n    return x * x\n")
        stat = path.stat()  # a later time than the import's, however coarse the file system's clock
        os.utime(path, (stat.st_atime + 5, stat.st_mtime + 5))
        importlib.reload(module)
        assert g(2.0) == 4.0
        assert srcdiff.grad(module.power)(2.0) == 4.0
    finally:
        sys.modules.pop("reloaded_model", None)


def test_a_file_written_again_as_it_was_is_read(tmp_path):
    # the source compiled as the code it runs, in its context: a decorator's wrapper, a method
    # (a private name would be mangled), a closure, a method of a class inside a function, a docstring
    source = (
        "from __future__ import annotations\n\nimport functools\n\nimport srcdiff\n\n\n"
        "@srcdiff.grad(wrt=1)\ndef by_k(x, k):\n    def scaled(v: float) -> float:\n        return k * v\n"
        "    return scaled(x) * x\n\n\n"
        "def twice(g):\n    @functools.wraps(g)\n    def wrapper(x):\n        return 2.0 * g(x)\n    return wrapper\n\n\n"
        "@twice\ndef f(x):\n    return x * x\n\n\n"
        "class Model:\n    def __init__(self):\n        self.k = 3.0\n\n"
        "    def loss(self, x):\n        return self.k * x * x\n\n\n"
        "def make(k):\n    def g(x):\n        return k * x\n    return g\n\n\n"
        "def local_class(k):\n    class Base:\n        def scale(self, x):\n            return x\n\n"
        "    class Inner(Base):\n        def loss(self, x):\n            \"\"\"Text\n\n            more text.\"\"\"\n"
        "            return k * super().scale(x) * x\n    return Inner()\n"
    )
    module = _imported(tmp_path, "moved_model", source)
    (tmp_path / "moved_model.py").write_text(source)
    assert srcdiff.grad(module.f)(1.0) == 4.0
    assert srcdiff.grad(module.Model().loss)(1.0) == 6.0
    assert srcdiff.grad(module.make(5.0))(1.0) == 5.0
    assert module.by_k(3.0, 1.0) == 9.0  # srcdiff's own decorator, stripped from what is compared
    parse.function_ast(module.local_class(2.0).loss.__func__)  # a closure and super(): read (srcdiff refuses super())


def test_a_lambda_in_a_file_edited_on_disk_is_refused(tmp_path):
    module = _imported(tmp_path, "edited_lambdas", "square = lambda x: x * x  # noqa: E731\n")
    assert srcdiff.grad(module.square)(2.0) == 4.0
    (tmp_path / "edited_lambdas.py").write_text("square = lambda x: x * x * x  # noqa: E731\n")
    linecache.checkcache(str(tmp_path / "edited_lambdas.py"))
    assert srcdiff.grad(module.square)(3.0) == 6.0  # what was built is the derivative of the code that runs
    cache.clear()  # built anew, from the file as it is now: refused
    with pytest.raises(SourceUnavailable, match="the file changed since the lambda was imported"):
        srcdiff.grad(module.square)(3.0)


def test_the_lambdas_of_a_file_are_read_from_one_parse_of_each_version(tmp_path, monkeypatch):
    source = "".join(f"def h{k}(x):\n    return x * {k}\n\n" for k in range(50))  # (a long file)
    source += "square = lambda x: x * x  # noqa: E731\ncube = lambda x: x * x * x  # noqa: E731\n"
    module = _imported(tmp_path, "many_lambdas", source)
    parses = []
    real_parse = parse.ast.parse
    monkeypatch.setattr(parse.ast, "parse", lambda text, *a, **k: parses.append(len(text)) or real_parse(text, *a, **k))
    assert srcdiff.grad(module.square)(2.0) == 4.0 and srcdiff.grad(module.cube)(2.0) == 12.0
    whole_file = [n for n in parses if n == len(source)]
    assert len(whole_file) == 1, parses  # the file once, not once per lambda
    edited = source.replace("x * x * x", "x * x * x * x")  # a new version: read again (and refused: not reloaded)
    (tmp_path / "many_lambdas.py").write_text(edited)
    linecache.checkcache(str(tmp_path / "many_lambdas.py"))
    cache.clear()
    with pytest.raises(SourceUnavailable, match="the file changed since the lambda was imported"):
        srcdiff.grad(module.cube)(2.0)
    assert len([n for n in parses if n == len(edited)]) == 1


def test_a_jvp_of_a_gradient_and_an_hvp_see_the_helper_redefined():
    nb = Notebook()
    nb.run("def h(x):\n    return x * x * x\n")
    nb.run("def f(x):\n    return h(x)\n")
    j, hv = srcdiff.jvp(srcdiff.grad(nb["f"])), srcdiff.hvp(nb["f"])
    assert (j((2.0,), (1.0,)), hv(2.0, 1.0)) == ((12.0, 12.0), 12.0)  # 3x^2, 6x
    nb.run("def h(x):\n    return x * x * x * x\n")
    assert (j((2.0,), (1.0,)), hv(2.0, 1.0)) == ((32.0, 48.0), 48.0)  # 4x^3, 12x^2
