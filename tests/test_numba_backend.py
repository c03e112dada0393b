"""backend="numba": the generated code compiled by Numba, or the Python code after a warning.

Every gradient is compared with the Python backend's and with central differences, and each
case that should compile is checked to have compiled (no ``BackendFallback``, a ``Compiled``
function behind the gradient), so a silent fallback cannot pass for the compiled code.
"""

import math
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import srcdiff
from srcdiff import compiled
from srcdiff.errors import BackendFallback, BackendUnavailable, BadCall

STEPS = 30
RATE = 0.01


def scalar_loop(x, a):
    for _ in range(STEPS):
        x = math.sin(x) * a + x * x * 0.1
    return x


def euler(theta, omega, c):
    for _ in range(STEPS):
        step = RATE * omega
        omega = omega - RATE * (math.sin(theta) + c * omega)
        theta = theta + step
    return theta


def euler_pairs(theta, omega, c):  # a pair assigned at once: each value through a name of its own
    for _ in range(STEPS):
        theta, omega = theta + RATE * omega, omega - RATE * (math.sin(theta) + c * omega)
    return theta


def scalar_loop_x(x):
    for _ in range(STEPS):
        x = math.sin(x) + x * x * 0.1
    return x


def rnn(w, u, b, xs):
    h = np.zeros((xs.shape[1], w.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ w + xs[t] @ u + b)
    return np.mean(h * h)


def broadcast(x, w, b):
    return np.sum(np.sin(x * w + b))


def nested(x, a):  # pushes in a nested loop and in the outer one: room made for each loop
    inner = range(2)
    for _ in range(3):
        for _ in inner:
            x = math.sin(x * a) + 0.1 * x
        x = x * a + 0.1
    return x


def helper(x):
    return x * x


def calls_a_helper(x):
    return helper(x) + 1.0


def layer(h, w, b):
    return np.tanh(h @ w + b)


def two_layers(w, b, x):  # a helper called twice: its forward and backward sweeps compiled too
    h = layer(x, w, b)
    h = layer(h, w, b)
    return np.sum(h * h)


def mlp(w1, b1, w2, x, y):
    h = np.maximum(x @ w1 + b1, 0.0)
    return np.mean((h @ w2 - y) ** 2)


def recurrence(x):
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = 0.5 * y[i - 1] + np.sin(x[i])
    return np.sum(y * y)


def with_branch(x, a):
    total = 0.0
    for k in range(8):
        if x > 0.5:
            total = total + a * math.exp(-x * k)
        else:
            total = total + x * x
        x = x * 0.9 + 0.05
    return total


def mean_product(r, y):
    d = r - y
    return np.mean(d * y)  # (d * y: read back only for its shape, a result_holder in Python)


def _numeric(f, args, wrt, eps=1e-6):
    """Central differences of f along each float of each argument in wrt."""
    out = []
    for i in wrt:
        x = np.array(args[i], dtype=np.float64)
        grad = np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            moved = []
            for step in (eps, -eps):
                y = x.copy()
                y[idx] += step
                a = list(args)
                a[i] = y if y.ndim else float(y)
                moved.append(f(*a))
            grad[idx] = (moved[0] - moved[1]) / (2 * eps)
        out.append(grad if x.ndim else float(grad))
    return tuple(out)


def _gradients(g, args):
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallback)  # a case here must compile
        result = g(*args)
    return result if isinstance(result, tuple) else (result,)


def _compiled_behind(g, args):
    fn = g.specialize(args, {})[0]
    return isinstance(fn, compiled.Compiled) and fn.dispatcher is not None


RNG = np.random.default_rng(0)
CASES = [
    (scalar_loop, (0.3, 1.1), (0, 1)),
    (euler, (1.0, 0.2, 0.3), (0, 1, 2)),
    (euler_pairs, (1.0, 0.2, 0.3), (0, 1, 2)),
    (with_branch, (0.7, 1.5), (0, 1)),
    (nested, (0.9, 1.2), (0, 1)),
    (calls_a_helper, (1.5,), (0,)),
    (two_layers, (RNG.normal(size=(3, 3)), RNG.normal(size=3), RNG.normal(size=(4, 3))), (0, 1)),
    (
        rnn,
        (RNG.normal(size=(4, 4)) / 2, RNG.normal(size=(3, 4)) / 2, 0.1 * RNG.normal(size=4), RNG.normal(size=(5, 2, 3))),
        (0, 1, 2),
    ),
    (broadcast, (RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4)), RNG.normal(size=4)), (1, 2)),
    (recurrence, (RNG.normal(size=6),), (0,)),
    (
        mlp,
        (RNG.normal(size=(3, 5)), RNG.normal(size=5), RNG.normal(size=(5, 2)), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2))),
        (0, 1, 2),
    ),
]


CASE = {f.__name__: (f, args, wrt) for f, args, wrt in CASES}


def test_a_result_held_for_its_shape_compiles_as_the_operation():
    pytest.importorskip("numba")
    args = (RNG.normal(size=(300, 8)), RNG.normal(size=8))
    assert "result_holder(" in srcdiff.source(srcdiff.grad(mean_product), *args)
    g = srcdiff.grad(mean_product, backend="numba")
    (got,) = _gradients(g, args)
    assert _compiled_behind(g, args)
    np.testing.assert_allclose(got, np.broadcast_to(args[1] / args[0].size, args[0].shape), rtol=1e-12)


@pytest.mark.parametrize(("f", "args", "wrt"), CASES, ids=[c[0].__name__ for c in CASES])
def test_compiled_gradient_matches_python_and_finite_differences(f, args, wrt):
    pytest.importorskip("numba")
    g = srcdiff.grad(f, wrt=wrt, backend="numba")
    got = _gradients(g, args)
    assert _compiled_behind(g, args)
    python = srcdiff.grad(f, wrt=wrt)(*args)
    python = python if isinstance(python, tuple) else (python,)
    numeric = _numeric(f, args, wrt)
    for a, p, n, i in zip(got, python, numeric, wrt):
        assert type(a) is type(p)
        assert np.shape(a) == np.shape(args[i])
        np.testing.assert_allclose(a, p, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def test_value_and_grad_compiled():
    pytest.importorskip("numba")
    args = CASE["rnn"][1]
    g = srcdiff.value_and_grad(rnn, wrt=(0, 1, 2), backend="numba")
    value, grads = _gradients(g, args)
    assert _compiled_behind(g, args)
    expected_value, expected = srcdiff.value_and_grad(rnn, wrt=(0, 1, 2))(*args)
    assert value == pytest.approx(expected_value, rel=1e-12)
    for a, e in zip(grads, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10)


def test_second_order_compiled_with_float_tapes():
    pytest.importorskip("numba")
    g2 = srcdiff.grad(srcdiff.grad(scalar_loop_x), backend="numba")
    (got,) = _gradients(g2, (0.3,))
    assert _compiled_behind(g2, (0.3,))
    expected = srcdiff.grad(srcdiff.grad(scalar_loop_x))(0.3)
    assert got == pytest.approx(expected, rel=1e-12)
    g1 = srcdiff.grad(scalar_loop_x)
    numeric = (g1(0.3 + 1e-6) - g1(0.3 - 1e-6)) / 2e-6
    assert got == pytest.approx(numeric, rel=1e-5)


def _lowered_names(g, args, floats):
    entry = g.entry(g.argument_kinds(args, {}))
    return compiled.lower(entry, g.generated(entry), frozenset(floats)).function.__code__.co_names


@pytest.mark.parametrize(
    ("g", "args", "floats"),
    [
        (srcdiff.grad(scalar_loop, wrt=(0, 1)), (0.3, 1.1), {"x", "a"}),
        (srcdiff.grad(euler, wrt=(0, 1, 2)), (1.0, 0.2, 0.3), {"theta", "omega", "c"}),  # RATE: a float global
        (srcdiff.grad(srcdiff.grad(scalar_loop_x)), (0.3,), {"x"}),
    ],
    ids=["scalar_loop", "euler", "second_order"],
)
def test_stacks_proven_to_hold_floats_become_arrays(g, args, floats):
    pytest.importorskip("numba")
    names = _lowered_names(g, args, floats)
    assert "tape_new" in names
    assert "append" not in names and "pop" not in names


def test_a_stack_of_arrays_is_split_into_one_list_per_variable():
    pytest.importorskip("numba")
    g = srcdiff.grad(rnn, wrt=(0, 1, 2))
    names = _lowered_names(g, CASE["rnn"][1], set())
    assert "append" in names and "tape_new" not in names  # arrays: Numba's lists, typed one per variable
    assert "tape_new_int" in names  # the tags that check each pop takes what its push gave


def test_a_split_stack_checks_each_pop_is_its_pushs():
    """Popped into another variable than the one pushed (which srcdiff's sweeps never do), a
    stack split per variable (a range and floats: one list cannot hold both) would give a
    wrong value: the tag check raises instead."""
    numba = pytest.importorskip("numba")
    import ast
    import textwrap

    from srcdiff import numba_runtime, numba_tapes

    text = textwrap.dedent(
        """
        def swapped(a, b):
            s = []
            r = range(3)
            s.append(r)
            s.append(a)
            s.append(b)
            a = s.pop()
            b = s.pop()
            r = s.pop()
            return a + 2.0 * b + len(r)
        """
    )
    tree = numba_tapes.rewrite(ast.parse(text).body[0], {"a", "b"}, set(), lambda n: False, "tape_nan")
    namespace = dict(numba_runtime.TAPES)
    exec(compile(ast.fix_missing_locations(ast.Module(body=[tree], type_ignores=[])), "<test>", "exec"), namespace)
    assert "s_tags" in ast.unparse(tree)
    with pytest.raises(AssertionError, match="out of order"):
        numba.njit(namespace["swapped"])(1.0, 2.0)


def _jvp_compiled(transform):
    found = [fn for fn, _ in transform._compiled.values()]
    return bool(found) and all(isinstance(fn, compiled.Compiled) and fn.dispatcher is not None for fn in found)


def test_jvp_compiled():
    pytest.importorskip("numba")
    primals, tangents = (0.3, 1.1), (1.0, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallback)
        value, tangent = srcdiff.jvp(scalar_loop, primals, tangents, backend="numba")
    assert _jvp_compiled(srcdiff.transforms._transforms[scalar_loop]["numba"])
    expected = srcdiff.jvp(scalar_loop, primals, tangents)
    assert (value, tangent) == pytest.approx(expected, rel=1e-12)
    eps = 1e-6
    numeric = (scalar_loop(0.3 + eps, 1.1 + 0.5 * eps) - scalar_loop(0.3 - eps, 1.1 - 0.5 * eps)) / (2 * eps)
    assert tangent == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize(("f", "args", "wrt"), [CASE["scalar_loop"], CASE["broadcast"]], ids=["scalar_loop", "broadcast"])
def test_hessian_and_hvp_compiled(f, args, wrt):
    pytest.importorskip("numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallback)
        hess = srcdiff.hessian(f, wrt=wrt, backend="numba")
        got = hess(*args)
        assert _jvp_compiled(hess.tangents)
        h = srcdiff.hvp(f, wrt=wrt[-1], backend="numba")
        v = np.ones_like(args[wrt[-1]])
        hv = h(*args, v)
        assert _jvp_compiled(h.tangents)
    expected = srcdiff.hessian(f, wrt=wrt)(*args)
    for row, row_expected in zip(got, expected):
        for block, block_expected in zip(row, row_expected):
            np.testing.assert_allclose(block, block_expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv, srcdiff.hvp(f, wrt=wrt[-1])(*args, v), rtol=1e-10, atol=1e-12)
    g = srcdiff.grad(f, wrt=wrt[-1])  # H @ v against differences of the gradient along v
    eps = 1e-6
    plus, minus = list(args), list(args)
    plus[wrt[-1]] = args[wrt[-1]] + eps * v
    minus[wrt[-1]] = args[wrt[-1]] - eps * v
    np.testing.assert_allclose(hv, (g(*plus) - g(*minus)) / (2 * eps), rtol=1e-5, atol=1e-6)


def test_an_inner_gradients_backend_is_the_default_of_the_outer():
    pytest.importorskip("numba")
    g2 = srcdiff.grad(srcdiff.grad(scalar_loop_x, backend="numba"))
    assert g2.backend == "numba"
    assert srcdiff.grad(srcdiff.grad(scalar_loop_x, backend="numba"), backend="python").backend == "python"


def test_globals_are_read_live():
    pytest.importorskip("numba")
    global RATE
    g = srcdiff.grad(euler, wrt=(0, 1, 2), backend="numba")
    before = _gradients(g, (1.0, 0.2, 0.3))
    saved, RATE = RATE, 0.05
    try:
        after = _gradients(g, (1.0, 0.2, 0.3))
        expected = srcdiff.grad(euler, wrt=(0, 1, 2))(1.0, 0.2, 0.3)
    finally:
        RATE = saved
    assert after != before
    np.testing.assert_allclose(after, expected, rtol=1e-12)


def with_default(x, a=1.5):
    for _ in range(4):
        x = math.sin(x) * a
    return x


def test_defaults_and_keywords():
    pytest.importorskip("numba")
    g = srcdiff.grad(with_default, backend="numba")
    python = srcdiff.grad(with_default)
    assert g(0.3) == pytest.approx(python(0.3), rel=1e-12)
    assert g(x=0.3, a=2.0) == pytest.approx(python(0.3, 2.0), rel=1e-12)
    assert g(0.3, a=2.0) == pytest.approx(python(0.3, 2.0), rel=1e-12)
    assert _compiled_behind(g, (0.3,))


SCALE = 2.0


def scaled(x):
    return SCALE * math.sin(x)


def calls_scaled(x):
    return scaled(x) * scaled(0.5 * x)


def test_a_global_a_called_function_reads_is_passed_live():
    pytest.importorskip("numba")
    g = srcdiff.grad(calls_scaled, backend="numba")
    assert g(0.7) == pytest.approx(srcdiff.grad(calls_scaled)(0.7), rel=1e-12)
    assert _compiled_behind(g, (0.7,))
    saved = globals()["SCALE"]
    globals()["SCALE"] = 3.0
    try:
        assert g(0.7) == pytest.approx(srcdiff.grad(calls_scaled)(0.7), rel=1e-12)
        assert g(0.7) == pytest.approx(9.0 * (math.cos(0.7) * math.sin(0.35) + 0.5 * math.sin(0.7) * math.cos(0.35)), rel=1e-12)
    finally:
        globals()["SCALE"] = saved


def test_a_closure_number_is_read_live():
    pytest.importorskip("numba")
    scale = 2.0

    def f(x):
        return math.sin(scale * x)

    g = srcdiff.grad(f, backend="numba")
    assert g(0.4) == pytest.approx(2.0 * math.cos(0.8), rel=1e-12)
    scale = 3.0
    assert g(0.4) == pytest.approx(3.0 * math.cos(1.2), rel=1e-12)
    assert _compiled_behind(g, (0.4,))


def test_a_global_that_stops_being_a_number_takes_the_python_code():
    pytest.importorskip("numba")
    global RATE
    g = srcdiff.grad(euler, backend="numba")
    g(1.0, 0.2, 0.3)
    saved, RATE = RATE, "fast"
    try:
        with pytest.raises(srcdiff.SrcdiffError, match="RATE"):  # the Python code's own check
            g(1.0, 0.2, 0.3)
    finally:
        RATE = saved


def test_a_deleted_global_raises_as_in_python():
    pytest.importorskip("numba")
    g = srcdiff.grad(euler, backend="numba")
    g(1.0, 0.2, 0.3)
    saved = globals().pop("RATE")
    try:
        with pytest.raises(NameError, match="RATE"):
            g(1.0, 0.2, 0.3)
    finally:
        globals()["RATE"] = saved


def power(n, x):
    if n <= 0:
        return x
    return x * power(n - 1, x)


def calls_itself(x):
    return power(3, x)


def sums_over_two_axes(x):
    return np.sum(np.sum(x * x, axis=(1, 2)) ** 2)  # unreduce along a tuple of axes: no Numba version


def takes_a_list(x, c):
    acc = 0.0
    for ck in c:
        acc = acc * x + ck
    return acc


@pytest.mark.parametrize(
    ("f", "args", "reason"),
    [
        (calls_itself, (1.5,), r"recursively.* at test_numba_backend.py:\d+ \(return power\(3, x\)\)"),
        (sums_over_two_axes, (np.ones((2, 3, 4)),), "Numba: No implementation of function"),
        (takes_a_list, (0.9, [1.0, 2.0, 3.0]), "argument c is a list"),
    ],
)
def test_outside_the_subset_it_warns_once_and_runs_python(f, args, reason):
    pytest.importorskip("numba")
    g = srcdiff.grad(f, backend="numba")
    with pytest.warns(BackendFallback, match=reason) as caught:
        got = g(*args)
    assert len(caught) == 1
    assert "\n" not in str(caught[0].message)  # one line
    np.testing.assert_allclose(got, srcdiff.grad(f)(*args), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallback)
        g(*args)  # once: the next call runs Python without a word


def sums_over_other_axes(x):
    return np.sum(np.sum(x * x, axis=(0, 1)) ** 2)


def test_the_warning_names_the_users_line():
    pytest.importorskip("numba")
    g = srcdiff.grad(sums_over_other_axes, backend="numba")  # (a warning is given once per compiled code)
    with pytest.warns(BackendFallback) as caught:
        g(np.ones((2, 3, 4)))
    line = sums_over_other_axes.__code__.co_firstlineno + 1
    assert f"test_numba_backend.py:{line} (return np.sum(np.sum(x * x, axis=(0, 1)) ** 2))" in str(caught[0].message)
    assert "unreduce" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the call


def test_has_aux_is_not_compiled_and_says_so():
    pytest.importorskip("numba")

    def f(x):
        return x * x, "aux"

    g = srcdiff.grad(f, has_aux=True, backend="numba")
    with pytest.warns(BackendFallback, match="has_aux"):
        assert g(3.0) == (6.0, "aux")


def test_float32_scalars_keep_their_type_through_the_python_code():
    pytest.importorskip("numba")
    g = srcdiff.grad(scalar_loop, wrt=(0, 1), backend="numba")
    got = g(np.float32(0.3), np.float32(1.1))
    expected = srcdiff.grad(scalar_loop, wrt=(0, 1))(np.float32(0.3), np.float32(1.1))
    assert type(got[0]) is type(expected[0]) is np.float32
    assert got == expected


def test_the_backend_is_part_of_the_cache_key():
    pytest.importorskip("numba")
    python = srcdiff.grad(scalar_loop, wrt=(0, 1))
    numba_ = srcdiff.grad(scalar_loop, wrt=(0, 1), backend="numba")
    python(0.3, 1.1)
    numba_(0.3, 1.1)
    assert not isinstance(python.specialize((0.3, 1.1), {})[0], compiled.Compiled)
    assert _compiled_behind(numba_, (0.3, 1.1))
    again = srcdiff.grad(scalar_loop, wrt=(0, 1), backend="numba")
    # one compiled dispatcher, kept with the built code
    assert again.specialize((0.3, 1.1), {})[0] is numba_.specialize((0.3, 1.1), {})[0]


def test_a_gradient_pickles_with_its_backend():
    pytest.importorskip("numba")
    g = pickle.loads(pickle.dumps(srcdiff.grad(scalar_loop, wrt=(0, 1), backend="numba")))
    assert g.backend == "numba"


def test_an_unknown_backend_is_refused():
    with pytest.raises(BadCall, match="'jax' is not a srcdiff backend"):
        srcdiff.grad(scalar_loop, backend="jax")


def test_numba_missing_is_refused_with_the_extra_to_install(monkeypatch):
    monkeypatch.setattr(compiled.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendUnavailable, match=r"srcdiff\[numba\]"):
        srcdiff.grad(scalar_loop, backend="numba")


def test_import_srcdiff_does_not_import_numba(tmp_path):
    (tmp_path / "square.py").write_text("def square(x):\n    return x * x\n")
    code = "import srcdiff, square, sys; srcdiff.grad(square.square)(2.0); print('numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "False"


def test_importing_numba_does_not_make_the_compiled_code_stale(tmp_path):
    """Numba imports SciPy, whose rules srcdiff loads on the next build, which changes the rule
    table: built after that (compiled.prepare), the compiled code survives other builds."""
    pytest.importorskip("numba")
    (tmp_path / "loops.py").write_text(
        "import math\n\ndef f(x):\n    for _ in range(5):\n        x = math.sin(x)\n    return x\n\ndef h(x):\n    return x * x\n"
    )
    code = (
        "import srcdiff, loops\n"
        "g = srcdiff.grad(loops.f, backend='numba')\n"
        "g(0.3)\n"
        "srcdiff.grad(loops.h)(1.0)\n"
        "built = srcdiff.cache.transformations\n"
        "g(0.3)\n"
        "print(srcdiff.cache.transformations == built)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "True"
