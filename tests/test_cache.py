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
import types

import numpy as np
import pytest

import srcdiff
from srcdiff import api, cache, parse
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


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(cache, "limit", 20)
    cache.clear()
    nb = Notebook()
    before = {k for k in linecache.cache if k.startswith("<srcdiff")}
    for i in range(120):  # 120 distinct functions and helpers, each with a gradient built and called
        nb.run(f"def h{i}(x):\n    return x * x\n")
        nb.run(f"def f{i}(x):\n    return h{i}(x) * {i + 1}.0\n")
        assert srcdiff.grad(nb[f"f{i}"])(1.0) == 2.0 * (i + 1)
        assert cache.size() <= 20
        assert len(api._callee_facts) <= 20
    gc.collect()  # evicted entries form cycles (functions and their cells)
    generated = {k for k in linecache.cache if k.startswith("<srcdiff")} - before
    assert len(generated) <= 20  # the source of evicted code left linecache with it


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


def test_a_jvp_of_a_gradient_and_an_hvp_see_the_helper_redefined():
    nb = Notebook()
    nb.run("def h(x):\n    return x * x * x\n")
    nb.run("def f(x):\n    return h(x)\n")
    j, hv = srcdiff.jvp(srcdiff.grad(nb["f"])), srcdiff.hvp(nb["f"])
    assert (j((2.0,), (1.0,)), hv(2.0, 1.0)) == ((12.0, 12.0), 12.0)  # 3x^2, 6x
    nb.run("def h(x):\n    return x * x * x * x\n")
    assert (j((2.0,), (1.0,)), hv(2.0, 1.0)) == ((32.0, 48.0), 48.0)  # 4x^3, 12x^2
