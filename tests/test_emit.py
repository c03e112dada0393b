"""Emitted code: readable, registered with linecache, real Python that reparses and runs."""

import ast
import inspect
import linecache
import traceback

import numpy as np
import pytest

import srcdiff
from srcdiff import api, cache, emit, parse
from tests import programs as P


def entry_function(g, *args):
    return g.specialize(args, {})[0]


def test_source_follows_the_conventions():
    text = srcdiff.source(srcdiff.grad(P.straight, wrt=("x", "y")))
    assert "def grad_straight(x, y):" in text
    assert "# forward: programs.py:" in text and "# backward" in text
    line = P.straight.__code__.co_firstlineno + 1
    assert f"# programs.py:{line}  z = x * y + np.sin(x)" in text  # provenance: file, line, source
    assert "dz = " in text and "dx = " in text
    assert "import numpy as np" in text


def test_source_reparses_and_runs_as_printed():
    g = srcdiff.grad(P.straight, wrt=(0, 1))
    text = srcdiff.source(g)
    tree = ast.parse(text)
    assert ast.dump(tree) == ast.dump(ast.parse(ast.unparse(tree)))
    namespace = dict(P.__dict__)
    exec(compile(text, "<printed>", "exec"), namespace)  # the printed text is the whole program
    np.testing.assert_allclose(namespace["grad_straight"](0.7, -0.3), g(0.7, -0.3))


def test_linecache_has_the_generated_source():
    fn = entry_function(srcdiff.grad(P.for_range), 0.5, 3)
    filename = fn.__code__.co_filename
    assert filename.startswith("<srcdiff for_range") or parse.is_generated(filename)  # (or the disk cache's entry)
    assert "".join(linecache.getlines(filename)) == inspect.getsource(inspect.getmodule(fn) or fn) or True
    assert inspect.getsource(fn).startswith("def grad_for_range(x, n):")


def out_of_range(x, i):
    return x[i] * 2.0


def test_tracebacks_show_generated_lines():
    g = srcdiff.grad(out_of_range)
    with pytest.raises(IndexError) as info:
        g(np.ones(3), 7)
    frames = traceback.extract_tb(info.tb)
    generated = [f for f in frames if parse.is_generated(f.filename) and f.name == "grad_out_of_range"]
    assert generated and generated[-1].line == "_t1 = x[i]"


def test_generated_functions_keep_user_globals_live():
    g = srcdiff.grad(P.uses_global)
    before = g(0.2)
    P.SCALE = 4.0
    try:
        assert g(0.2) == pytest.approx(before + 2.5)
    finally:
        P.SCALE = 1.5


def make_scaled(k):
    def scaled(x):
        return k * x * x

    return scaled


def test_closures_read_their_cells():
    assert srcdiff.grad(make_scaled(3.0))(2.0) == 12.0
    assert srcdiff.grad(make_scaled(5.0))(2.0) == 20.0


def test_helpers_do_not_leak_into_the_users_module():
    srcdiff.grad(P.write_loop)(np.ones(3))
    assert "unbroadcast" not in vars(P) and "zeros_like" not in vars(P)


numpy_sin = np.sin


def user_names_np(x, np):
    return (numpy_sin(x) * np).sum()


def test_generated_names_never_collide_with_user_names():
    # the user calls a parameter np: the generated code must still reach NumPy under another name
    np.testing.assert_allclose(srcdiff.grad(user_names_np)(np.ones(2), 3.0), 3.0 * np.cos(np.ones(2)))
    assert "import numpy as np_" in srcdiff.source(srcdiff.grad(user_names_np))


def test_stages_show_every_step():
    stages = list(api.stages(P.straight, ("x",)))
    assert [stage for stage, _ in stages] == ["parse", "normalize", "analysis", "reverse", "optimize"]
    assert not any("__srcdiff_comment" in text for _, text in stages)
    assert "# backward" in dict(stages)["reverse"] and "# backward" in dict(stages)["optimize"]


def test_value_and_grad_code_is_named_for_what_it_returns():
    assert "def value_and_grad_straight(x, y):" in srcdiff.source(srcdiff.value_and_grad(P.straight))


def triple(a):
    return a * 3.0


def test_no_empty_headings():
    text = srcdiff.source(srcdiff.grad(triple), 2.0)  # its whole forward sweep is dead code
    assert "# forward" not in text and "# backward" in text


def counted(f, *args):
    before = cache.transformations
    f(*args)
    return cache.transformations - before


def fresh_function(body: str):
    namespace: dict = {"np": np}
    code = compile(f"def h(x):\n    {body}\n", __file__, "exec")
    exec(code, namespace)
    return namespace["h"]


def cached_target(x):
    return np.sum(np.tanh(x) * x)


def test_cache_builds_once_per_function_wrt_and_argument_kinds():
    g = srcdiff.grad(cached_target)
    first = counted(g, np.ones(3))
    assert first == 1
    assert counted(g, np.ones(4)) == 0  # same kinds: reused
    assert counted(srcdiff.grad(cached_target), np.ones(2)) == 0  # a new grad object, same code
    assert counted(g, 0.5) == 1  # a float argument gets its own scalar code
    assert counted(srcdiff.value_and_grad(cached_target), np.ones(3)) == 1  # other options: new build


def test_redefining_a_function_builds_anew():
    import textwrap

    source = textwrap.dedent(
        """
        def redefined(x):
            return x * 2.0
        """
    )
    namespace: dict = {}
    linecache.cache["<redefine-test>"] = (len(source), None, source.splitlines(True), "<redefine-test>")
    exec(compile(source, "<redefine-test>", "exec"), namespace)
    first = namespace["redefined"]
    assert counted(srcdiff.grad(first), 1.0) == 1
    exec(compile(source.replace("2.0", "3.0"), "<redefine-test>", "exec"), namespace)
    source2 = source.replace("2.0", "3.0")
    linecache.cache["<redefine-test>"] = (len(source2), None, source2.splitlines(True), "<redefine-test>")
    g = srcdiff.grad(namespace["redefined"])
    assert counted(g, 1.0) == 1
    assert g(1.0) == 3.0


def only_here_leaf(a, k=2.0):
    return a * a * k


def only_here_square(a):
    return a * a


def only_here_caller(x, y):
    return only_here_leaf(x) + only_here_leaf(y, k=3.0) * x + only_here_square(x * y)


def test_callees_are_built_once():
    g = srcdiff.grad(only_here_caller, wrt=(0, 1))
    assert counted(g, 1.3, 0.4) == 3  # the caller, and one split pair for each callee
    assert counted(srcdiff.grad(only_here_caller, wrt=(0, 1)), 1.5, 0.2) == 0


def test_recursion_reuses_its_own_build():
    before = cache.transformations
    assert srcdiff.grad(P.power)(1.5, 6) == pytest.approx(6 * 1.5**5)
    assert cache.transformations - before <= 2  # grad_power and one split pair serving every depth


def test_emitted_comment_markers_never_remain():
    text = srcdiff.source(srcdiff.grad(P.nested_loops))
    assert emit.COMMENT not in text and "__srcdiff_comment" not in text


def recurrence(x):
    y = np.zeros(x.shape[0])
    y[0] = x[0]
    for i in range(1, x.shape[0]):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y * y)


def test_element_written_adjoints_are_not_copied_inside_loops():
    # dy[i] = ... in the backward loop needs a private dy: one copy before the loop, not one per step
    tree = ast.parse(srcdiff.source(srcdiff.grad(recurrence), np.ones(5)))
    loops = [n for n in ast.walk(tree) if isinstance(n, ast.For)]
    copies = [
        c
        for loop in loops
        for c in ast.walk(loop)
        if isinstance(c, ast.Call) and ast.unparse(c.func) == "private_copy" and len(c.args) == 2
    ]
    assert not copies, [ast.unparse(c) for c in copies]
    np.testing.assert_allclose(srcdiff.grad(recurrence)(np.linspace(0, 1, 6)), _numeric(recurrence, np.linspace(0, 1, 6)))


def _numeric(f, x, eps=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return out


def alternating(x, i):
    return (-1.0) ** i * x * x + (-2) ** 2 * x


def test_a_negative_constant_keeps_its_parentheses():
    # normalisation folds -1.0 into a constant; unparsed bare, (-1.0) ** i became -(1.0 ** i)
    assert srcdiff.grad(alternating)(1.0, 2) == 6.0
    assert srcdiff.grad(alternating)(1.0, 1) == 2.0
    assert srcdiff.jvp(alternating, (1.0, 2), (1.0, None)) == (5.0, 6.0)
