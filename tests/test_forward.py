"""Forward mode: ``srcdiff.jvp`` against autograd, central differences and ``srcdiff.grad``.

Every jvp is checked for its value and its shape: on the programs of test_reverse (loops,
branches, early exits, calls, recursion, lists, in-place writes), on vector- and
tuple-valued functions of this file, on every case of the rule catalogue (the dot-product
test ⟨J t, c⟩ = ⟨t, Jᵀ c⟩ with srcdiff.grad, and central differences), and on generated
gradients (``jvp(grad(f))`` is a Hessian-vector product, through the runtime helpers' tangent
rules). Refusals are specifications: source in, error class and line out.
"""

from __future__ import annotations

import itertools
import linecache
import math
import os
import warnings
import zlib
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from catalogue import Case, autograd_twin
from test_reverse import CASES as PROGRAMS
from test_reverse import IDS as PROGRAM_IDS
from test_rules import _example_id, _examples, example_inputs, shipped_rules, wrt_of

import srcdiff
from srcdiff import rules
from srcdiff.errors import BadCall, BadWrt, NoDerivativeRule, SourceUnavailable, UnsupportedSyntax, WrtTypeError
from tests import program_generator

# ------------------------------------------------------------------ references


def differences(f: Any, primals: tuple, tangents: tuple, eps: float = 1e-6) -> Any:
    """Central differences of ``f`` along ``tangents`` (a tuple output: element by element)."""

    def at(step: float) -> Any:
        moved = [p if t is None else _move(p, t, step) for p, t in zip(primals, tangents)]
        return f(*moved)

    plus, minus = at(eps), at(-eps)
    if isinstance(plus, tuple):
        return tuple((np.asarray(a) - np.asarray(b)) / (2 * eps) for a, b in zip(plus, minus))
    return (np.asarray(plus) - np.asarray(minus)) / (2 * eps)


def _move(p: Any, t: Any, step: float) -> Any:
    if isinstance(p, list):
        return [_move(a, b, step) for a, b in zip(p, t)]
    return p + step * t if isinstance(p, np.ndarray) else float(p + step * t)


def autograd_jvp(f: Any, primals: tuple, tangents: tuple) -> Any:
    """autograd's Jacobian of each input, contracted with its tangent and summed."""
    total = 0.0
    for i, t in enumerate(tangents):
        if t is not None:
            jacobian = autograd.jacobian(f, i)(*primals)
            total = total + np.tensordot(jacobian, t, axes=np.ndim(t))
    return total


def under_autograd(f: Any) -> Any:
    return autograd_twin(f)


def random_like(rng: np.random.Generator, p: Any) -> Any:
    if isinstance(p, list):
        return [random_like(rng, e) for e in p]
    return rng.standard_normal(np.shape(p)) if isinstance(p, np.ndarray) else float(rng.standard_normal())


def tangents_for(rng: np.random.Generator, primals: tuple, wrt: Any) -> tuple:
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    return tuple(random_like(rng, p) if i in positions else None for i, p in enumerate(primals))


def assert_shaped_like(tangent: Any, value: Any) -> None:
    """A tangent is shaped like its value: a float for a float, an array of its shape."""
    if isinstance(value, tuple):
        assert isinstance(tangent, tuple) and len(tangent) == len(value)
        for t, v in zip(tangent, value):
            assert_shaped_like(t, v)
        return
    assert np.shape(tangent) == np.shape(value), f"tangent of shape {np.shape(tangent)}, value {np.shape(value)}"
    if isinstance(value, np.ndarray):
        assert isinstance(tangent, np.ndarray) and tangent.dtype == np.float64


# ------------------------------------------------------ programs of test_reverse


def _copies(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


@pytest.mark.parametrize("f, args, wrt, _", PROGRAMS, ids=PROGRAM_IDS)
def test_programs_match_grad_and_differences(f, args, wrt, _):
    """⟨∇f, t⟩ from srcdiff.grad equals srcdiff.jvp along t, and central differences agree."""
    rng = np.random.default_rng(zlib.crc32(f.__name__.encode()))
    tangents = tangents_for(rng, args, wrt)
    value, tangent = srcdiff.jvp(f, _copies(args), tangents)
    assert value == pytest.approx(f(*_copies(args)))
    assert_shaped_like(tangent, value)
    grads = srcdiff.grad(f, wrt=wrt)(*_copies(args))
    grads = grads if isinstance(wrt, tuple) else (grads,)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    expected = sum(np.sum(np.asarray(g) * tangents[i]) for i, g in zip(positions, grads))
    np.testing.assert_allclose(tangent, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tangent, differences(f, _copies(args), tangents), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("f, args, wrt, _", [c for c in PROGRAMS if c[3]], ids=[i for i, c in zip(PROGRAM_IDS, PROGRAMS) if c[3]])
def test_programs_match_autograd(f, args, wrt, _):
    rng = np.random.default_rng(zlib.crc32(f.__name__.encode()) + 1)
    tangents = tangents_for(rng, args, wrt)
    _, tangent = srcdiff.jvp(f, args, tangents)
    np.testing.assert_allclose(tangent, autograd_jvp(under_autograd(f), args, tangents), rtol=1e-9, atol=1e-12)


def test_inputs_and_their_tangents_are_never_mutated():
    from programs import write_input

    x, t = np.array([0.4, -1.2, 0.9]), np.array([1.0, 2.0, 3.0])
    srcdiff.jvp(write_input, (x,), (t,))
    np.testing.assert_array_equal(x, [0.4, -1.2, 0.9])
    np.testing.assert_array_equal(t, [1.0, 2.0, 3.0])


# ----------------------------------------------- vector- and tuple-valued functions


def scaled(a, b, power=2.0):
    return a * b**power


def layer(w, x, b):
    return np.tanh(w @ x + b)


def vector_loop(x, n):
    """A vector result from a loop with a branch, a call and an in-place write."""
    y = np.zeros(x.shape)
    for i in range(n):
        if i % 2 == 0:
            y = y + scaled(x, np.sin(x[i]))
        else:
            y = y * x
        y[0] = y[0] + x[i] * x[-1]
    return y


def vector_loop_reference(x, n):  # the same function without the in-place write (autograd cannot)
    y = anp.zeros(x.shape)
    for i in range(n):
        if i % 2 == 0:
            y = y + x * anp.sin(x[i]) ** 2.0
        else:
            y = y * x
        y = anp.concatenate([y[:1] + x[i] * x[-1], y[1:]])
    return y


def two_layers(w1, w2, x, b):
    h = layer(w1, x, b)
    return layer(w2, h, 0.5)


def pair(x, y):
    """A tuple of an array and a float."""
    z = np.sin(x) * y
    return z, np.sum(z * z) + y


def lists_of_arrays(x, k):
    rows = []
    for i in range(k):
        rows.append(x * (i + 1.0))
    last = rows.pop()
    rows.append(np.cos(last))
    total = sum(rows)
    return np.stack(rows) * total


def lists_reference(x, k):
    rows = [x * (i + 1.0) for i in range(k - 1)] + [anp.cos(x * float(k))]
    total = rows[0]
    for r in rows[1:]:
        total = total + r
    return anp.stack(rows) * total


def fib_like(x, n):
    """Recursion with two calls per level."""
    if n <= 1:
        return np.sin(x)
    return fib_like(x, n - 1) * 0.5 + fib_like(x * x, n - 2)


def list_input(xs, c):
    total = 0.0
    for x in xs:
        total = total + x * c
    return total * xs[0]


def broadcast_scalar(x, b):
    return x + b


R = np.random.default_rng(3)
V = R.normal(size=4)
FUNCTIONS = [
    (vector_loop, (V, 4), (0,), vector_loop_reference),
    (two_layers, (R.normal(size=(3, 4)), R.normal(size=(2, 3)), V, R.normal(size=3)), (0, 1, 2, 3), None),
    (two_layers, (R.normal(size=(3, 4)), R.normal(size=(2, 3)), V, 0.3), (3,), None),
    (lists_of_arrays, (V, 3), (0,), lists_reference),
    (fib_like, (0.7, 5), (0,), None),
    (fib_like, (V * 0.5, 4), (0,), None),
    (broadcast_scalar, (R.normal(size=(3, 2)), 0.5), (1,), None),  # only b's tangent: still (3, 2)
    (broadcast_scalar, (R.normal(size=(3, 2)), R.normal(size=(1, 2))), (1,), None),
]


@pytest.mark.parametrize("f, primals, wrt, reference", FUNCTIONS, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(FUNCTIONS)])
def test_vector_valued_functions(f, primals, wrt, reference):
    rng = np.random.default_rng(11)
    tangents = tangents_for(rng, primals, wrt)
    value, tangent = srcdiff.jvp(f, primals, tangents)
    np.testing.assert_allclose(value, f(*primals))
    assert_shaped_like(tangent, value)
    np.testing.assert_allclose(tangent, differences(f, primals, tangents), rtol=1e-5, atol=1e-6)
    expected = autograd_jvp(under_autograd(reference or f), primals, tangents)
    np.testing.assert_allclose(tangent, expected, rtol=1e-9, atol=1e-12)


def test_tuple_valued_function():
    x, y = R.normal(size=5), 0.8
    tx, ty = R.normal(size=5), -0.4
    (z, s), (tz, ts) = srcdiff.jvp(pair, (x, y), (tx, ty))
    assert_shaped_like((tz, ts), (z, s))
    for k in range(2):
        part = under_autograd(lambda x, y, k=k: pair(x, y)[k])
        expected = autograd_jvp(part, (x, y), (tx, ty))
        np.testing.assert_allclose((tz, ts)[k], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tz, differences(pair, (x, y), (tx, ty))[0], rtol=1e-5, atol=1e-6)


def test_list_primal_gets_a_list_tangent():
    xs, txs = [0.3, -1.2, 2.0], [1.0, 0.5, -2.0]
    value, tangent = srcdiff.jvp(list_input, (xs, 1.5), (txs, None))
    assert value == pytest.approx(list_input(xs, 1.5))
    assert tangent == pytest.approx(float(differences(list_input, (xs, 1.5), (txs, None))), rel=1e-6)


def weighted_items(d, c):
    total = 0.0
    for k, v in d.items():
        total = total + v * c * d[k]
    return total


def test_dict_primal_gets_a_dict_tangent():
    d, td = {"a": 0.5, "b": np.array([1.0, -2.0])}, {"a": 1.0, "b": np.array([0.5, 0.25])}
    value, tangent = srcdiff.jvp(weighted_items, (d, 3.0), (td, -1.0))
    expected = 3.0 * (2 * 0.5 * 1.0 + 2 * np.array([1.0, -2.0]) * [0.5, 0.25]) - (0.25 + np.array([1.0, 4.0]))
    np.testing.assert_allclose(tangent, expected)
    assert_shaped_like(tangent, value)


def test_a_float_function_stays_float():
    value, tangent = srcdiff.jvp(lambda_free_sin, (0.5,), (2.0,))
    assert type(value) is float and type(tangent) is float
    assert tangent == pytest.approx(2.0 * (math.cos(0.5) * 0.5 + math.sin(0.5)))


def lambda_free_sin(x):
    return math.sin(x) * x


def test_no_tangent_through_an_inactive_value():
    value, tangent = srcdiff.jvp(scaled, (2.0, 3.0), (None, 1.0))
    assert (value, tangent) == (18.0, 12.0)
    value, tangent = srcdiff.jvp(vector_loop, (V, 0), (np.ones(4), None))  # the loop never runs: y is zeros
    assert_shaped_like(tangent, value)
    assert not np.any(tangent)


# ------------------------------------------------------------ generated code


def f_doc(x, y):
    z = x * y
    return math.sin(z) + z


def test_generated_code_reads_like_the_conventions():
    text = srcdiff.source(srcdiff.jvp(f_doc), 2.0, 3.0)
    assert text.splitlines()[0].startswith("# srcdiff: jvp of f_doc (test_forward.py:")
    assert text.splitlines()[0].endswith("with tangents of x, y")
    assert "def jvp_f_doc(tx, ty, x, y):" in text
    assert "tz = tx * y + x * ty" in text
    assert "math.cos(z)" in text and "runtime" not in text  # float code calls no helper
    assert "# test_forward.py:" in text and "  z = x * y" in text


def clashing(x, tx):
    ttx = tx * x
    return ttx + np.sin(x)


def test_tangent_names_never_take_the_users_names():
    text = srcdiff.source(srcdiff.jvp(clashing), 0.5, 2.0)
    assert "def jvp_clashing(tx_1, ttx_1, x, tx):" in text
    assert srcdiff.jvp(clashing, (0.5, 2.0), (1.0, 0.5)) == pytest.approx((1.0 + math.sin(0.5), 2.0 + 0.25 + math.cos(0.5)))


def test_stages_show_the_forward_pipeline():
    from srcdiff.transforms import stages

    steps = dict(stages(f_doc, ("x",), frozenset({("x", 0), ("y", 0)})))
    assert list(steps) == ["parse", "normalize", "analysis", "forward", "optimize"]
    assert "tz = tx * y" in steps["optimize"] and "ty" not in steps["optimize"]  # y has no tangent


def test_inactive_values_get_no_tangent_code():
    text = srcdiff.source(srcdiff.jvp(scaled), 2.0, 3.0)
    assert "with tangents of a, b" in text
    assert "tpower" not in text and "zeros" not in text


def test_a_callee_gets_its_own_jvp_and_recursion_binds_to_itself():
    text = srcdiff.source(srcdiff.jvp(fib_like), 0.7, 5)
    entry, callee = text.split("\n\n\n")
    assert "fib_like_jvp_x(tx, x, n - 1)" in entry  # x alone has a tangent: the callee is named for it
    assert callee.count("def fib_like_jvp_x(tx, x, n):") == 1
    assert "fib_like_jvp_x(tx * x + x * tx, x * x, n - 2)" in callee  # the callee calls itself by its own name
    assert text.count("def ") == 2


def test_the_generated_source_reparses_to_the_same_tree():
    import ast

    from srcdiff.emit import strip_comments

    for f, args in ((vector_loop, (V, 3)), (f_doc, (2.0, 3.0)), (fib_like, (0.7, 3))):
        text = srcdiff.source(srcdiff.jvp(f), *args)
        for part in text.split("\n\n\n"):
            tree = ast.parse(strip_comments(part))
            assert ast.dump(ast.parse(ast.unparse(tree))) == ast.dump(tree)


# ----------------------------------------------------------------- the catalogue


def probe(fn: Any, options: dict, w: Any, n: int) -> Any:
    """``probe(x0, ..., xn)``: ``fn`` with the case's options and weight fixed (a user call, by keyword)."""
    keywords = "".join(f", {k}=option_{k}" for k in options)
    params = ", ".join(f"x{i}" for i in range(n))
    source = f"def probe({params}):\n    return case({params}, w=w{keywords})\n"
    filename = f"<forward probe {next(_PROBES)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # srcdiff reads the source
    namespace = {"case": fn, "w": w, **{f"option_{k}": v for k, v in options.items()}}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace["probe"]


_PROBES = itertools.count()


def catalogue_jvp(case: Case, shapes: tuple, options: dict) -> tuple[list, tuple, Any, Any, Any]:
    seed = zlib.crc32(_example_id(case, shapes, options).encode())
    inputs, w = example_inputs(case, shapes, options, seed)
    rng = np.random.default_rng(seed + 3)
    tangents = tangents_for(rng, tuple(inputs), wrt_of(case, inputs))
    f = probe(case.fn, options, w, len(inputs))
    value, tangent = srcdiff.jvp(f, tuple(inputs), tangents)
    return inputs, tangents, w, value, tangent


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("differences"))
def test_catalogue_dot_product_with_grad(case: Case, shapes: tuple, options: dict) -> None:
    """⟨J t, c⟩ = ⟨t, Jᵀ c⟩: srcdiff.jvp along t, and srcdiff.grad of the case weighed by c."""
    inputs, tangents, w, value, tangent = catalogue_jvp(case, shapes, options)
    c = -1.7
    assert value == pytest.approx(case.fn(*inputs, **options, w=w), rel=1e-12, abs=1e-12)
    assert np.shape(tangent) == ()
    wrt = wrt_of(case, inputs)
    grads = srcdiff.grad(case.fn, wrt=wrt)(*inputs, **options, w=w)
    adjoint = sum(float(np.sum(np.asarray(g) * c * np.asarray(tangents[i]))) for i, g in zip(wrt, grads))
    scale = sum(float(np.sum(np.abs(np.asarray(g) * tangents[i]))) for i, g in zip(wrt, grads))
    assert abs(float(tangent) * c - adjoint) <= 1e-9 * abs(c) * (1.0 + scale), f"{case.name}: {tangent * c} vs {adjoint}"


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("differences"))
def test_catalogue_matches_central_differences(case: Case, shapes: tuple, options: dict) -> None:
    inputs, tangents, w, _, tangent = catalogue_jvp(case, shapes, options)

    def f(*xs):
        return case.fn(*xs, **options, w=w)

    numeric = float(differences(f, tuple(inputs), tangents))
    scale = float(sum(np.sum(np.abs(t)) for t in tangents if t is not None))
    assert abs(float(tangent) - numeric) <= case.fd_atol + case.fd_rtol * (abs(numeric) + scale), case.name


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("autograd"))
def test_catalogue_matches_autograd(case: Case, shapes: tuple, options: dict) -> None:
    """jvp along t equals autograd's gradient of the same code (``autograd_twin``) contracted with t."""
    inputs, tangents, w, _, tangent = catalogue_jvp(case, shapes, options)
    twin = autograd_twin(case.reference or case.fn)
    expected = 0.0
    with warnings.catch_warnings():  # autograd warns when max(x, y) picks the other input
        warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
        for i in wrt_of(case, inputs):
            expected += float(np.sum(autograd.grad(twin, argnum=i)(*inputs, **options, w=w) * tangents[i]))
    np.testing.assert_allclose(tangent, expected, rtol=case.ag_rtol, atol=case.ag_atol, err_msg=case.name)


# Primitives with a reverse rule for a parameter but no forward rule for it: jvp refuses a
# tangent there (NoDerivativeRule at the user's line). None today: keep the reason here if one appears.
TANGENTS_NOT_WRITTEN: dict[tuple[str, str], str] = {}


def test_every_reverse_rule_has_a_forward_rule():
    shipped = [r for r in rules.RULES.values() if r.spelling in shipped_rules()]
    missing = {(r.spelling, p) for r in shipped for p in r.adjoints if p not in r.tangents}
    assert missing == set(TANGENTS_NOT_WRITTEN), (
        f"without a tangent rule: {sorted(missing - set(TANGENTS_NOT_WRITTEN))}; "
        f"stale allow-list entries: {sorted(set(TANGENTS_NOT_WRITTEN) - missing)}"
    )
    extra = {(r.spelling, p) for r in shipped for p in r.tangents if p not in r.adjoints}
    assert not extra, f"tangent rules for parameters reverse mode treats as discrete: {sorted(extra)}"


# ------------------------------------------------------- forward over reverse


def quartic(x):
    return np.sum(x**4) * np.sum(np.sin(x))


def rosenbrock_loop(x):
    total = 0.0
    for i in range(x.shape[0] - 1):
        total = total + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return total


def softplus(v):
    return np.log1p(np.exp(v))


def mlp_loss(w, x):
    h = softplus(x @ w)
    return np.mean(h**2) + np.sum(w * w) * 0.1


HVP = [
    (quartic, R.normal(size=4), ()),
    (rosenbrock_loop, R.normal(size=5), ()),
    (mlp_loss, R.normal(size=(3, 2)), (R.normal(size=(6, 3)),)),
    (fib_like, 0.6, (4,)),
]


@pytest.mark.parametrize("f, x, rest", HVP, ids=[c[0].__name__ for c in HVP])
def test_jvp_of_grad_is_a_hessian_vector_product(f, x, rest):
    v = random_like(np.random.default_rng(5), x)
    g = srcdiff.grad(f)
    gradient, hv = srcdiff.jvp(g, (x, *rest), (v, *([None] * len(rest))))
    np.testing.assert_allclose(gradient, g(x, *rest), rtol=1e-12)
    assert_shaped_like(hv, gradient)
    expected = autograd.hessian_vector_product(under_autograd(f))(x, *rest, v)  # the vector comes last
    np.testing.assert_allclose(hv, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(("case", "shapes", "options"), _examples("second order"))
def test_jvp_of_catalogue_gradients(case: Case, shapes: tuple, options: dict) -> None:
    """Forward over reverse through every runtime helper the catalogue's gradients call."""
    seed = zlib.crc32(_example_id(case, shapes, options).encode())
    inputs, w = example_inputs(case, shapes, options, seed)
    wrt = wrt_of(case, inputs)
    g = srcdiff.grad(case.fn, wrt=wrt)
    rng = np.random.default_rng(seed + 4)
    tangents = tangents_for(rng, tuple(inputs), wrt)

    def gradient(*xs):
        return g(*xs, **options, w=w)

    generated = g.compiled(g.argument_kinds(tuple(inputs), {**options, "w": w}))
    f = probe(generated, options, w, len(inputs))
    _, hv = srcdiff.jvp(f, tuple(inputs), tangents)
    numeric = differences(gradient, tuple(inputs), tangents, eps=1e-5)
    hv = hv if isinstance(hv, tuple) else (hv,)
    numeric = numeric if isinstance(numeric, tuple) else (numeric,)
    for ours, theirs in zip(hv, numeric):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 + case.fd_atol, err_msg=case.name)


# ------------------------------------------------------------------- refusals


def user_scale(x):
    return 2.0 * x


rules.vjp("user_scale(x)", x="2.0 * g", names={"user_scale": user_scale})


def calls_user_scale(x):
    y = x * x
    return user_scale(y)  # line: the refusal points here


def test_a_primitive_without_a_tangent_rule_is_refused_at_the_users_line():
    with pytest.raises(NoDerivativeRule) as info:
        srcdiff.jvp(calls_user_scale, (1.0,), (1.0,))
    line = calls_user_scale.__code__.co_firstlineno + 2
    assert f"test_forward.py:{line}:" in str(info.value)
    assert "srcdiff.rules.jvp" in str(info.value)
    assert srcdiff.grad(calls_user_scale)(1.0) == 4.0  # reverse mode has the rule


def test_a_tangent_rule_of_ones_own():
    def cube_root_ish(x):
        return user_cube(x) + x

    rules.vjp("user_cube(x)", x="3.0 * g * x * x", names={"user_cube": user_cube})
    rules.jvp("user_cube(x)", x="3.0 * t * x * x")
    assert srcdiff.jvp(cube_root_ish, (2.0,), (1.0,)) == (10.0, 13.0)


def user_cube(x):
    return x * x * x


def test_bad_tangents_are_refused():
    with pytest.raises(WrtTypeError, match="pass floats"):
        srcdiff.jvp(scaled, (2, 3.0), (1.0, 1.0))
    with pytest.raises(BadWrt, match="shape"):
        srcdiff.jvp(broadcast_scalar, (np.ones(3), 1.0), (np.ones(2), 0.0))
    with pytest.raises(BadWrt, match="one tangent per primal"):
        srcdiff.jvp(scaled, (2.0, 3.0), (1.0,))
    with pytest.raises(BadWrt, match="keys"):
        srcdiff.jvp(weighted_items, ({"a": 1.0}, 1.0), ({"b": 1.0}, 0.0))
    with pytest.raises(SourceUnavailable, match="jvp_scaled is made by srcdiff.jvp, which cannot be transformed again"):
        srcdiff.jvp(srcdiff.jvp(scaled), ((2.0, 3.0), (1.0, 1.0)), ((0.0, 0.0), (1.0, 0.0)))
    with pytest.raises(BadCall, match="tuples"):
        srcdiff.jvp(scaled)(2.0, 1.0)
    assert srcdiff.jvp(scaled, [2.0, 3.0], [1.0, 0.0]) == (18.0, 9.0)  # lists, as JAX takes them


# ------------------------------------------------------------- random programs


def _random_like(rng: np.random.Generator, x):
    """A tangent with the structure of ``x``: a float, an array, or a list/tuple of them."""
    if isinstance(x, (list, tuple)):
        return type(x)(_random_like(rng, e) for e in x)
    if isinstance(x, np.ndarray):
        return rng.normal(size=x.shape)
    return float(rng.normal())


def _contract(gradient, tangent) -> float:
    if isinstance(tangent, (list, tuple)):
        return sum(_contract(g, t) for g, t in zip(gradient, tangent))
    return float(np.sum(np.asarray(gradient) * tangent))


JVP_PROGRAMS = int(os.environ.get("SRCDIFF_PROGRAMS", "60"))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", range(JVP_PROGRAMS))
def test_random_programs_jvp_matches_the_gradient(seed):
    """Programs of tests/program_generator.py (helpers, in-place writes, containers, loops,
    branches, exits): jvp along a random direction equals the gradient contracted with it."""
    program = program_generator.generate(seed, size=5)
    f = program_generator.load(program.source)
    wrt = program.wrt
    try:
        gradient = srcdiff.grad(f, wrt=wrt)(*program.args)
        rng = np.random.default_rng(seed)
        tangents = tuple(_random_like(rng, a) if i in wrt else None for i, a in enumerate(program.args))
        value, tangent = srcdiff.jvp(f, program.args, tangents)
    except srcdiff.SrcdiffError:
        return  # refused (counted by the generator's own test)
    expected = sum(_contract(g, tangents[i]) for g, i in zip(gradient, wrt))
    if not np.all(np.isfinite(expected)):
        return  # the program overflows at this point (inf against nan): skipped, as the generator's own test does
    np.testing.assert_allclose(tangent, expected, rtol=1e-8, atol=1e-9, err_msg=program.describe())


@pytest.mark.parametrize("f, args, wrt, _", PROGRAMS, ids=PROGRAM_IDS)
def test_jvp_of_the_gradients_of_programs(f, args, wrt, _):
    """Forward over reverse on the programs of test_reverse: the generated gradients' stacks,
    reversed loops, callee pairs and in-place adjoint writes, against differences of the gradient."""
    rng = np.random.default_rng(zlib.crc32(f.__name__.encode()) + 2)
    tangents = tangents_for(rng, args, wrt)
    g = srcdiff.grad(f, wrt=wrt)
    gradient, hv = srcdiff.jvp(g, _copies(args), tangents)
    assert_shaped_like(hv, gradient)
    numeric = differences(lambda *xs: g(*_copies(xs)), _copies(args), tangents, eps=1e-5)
    for ours, theirs in zip(hv, numeric) if isinstance(wrt, tuple) else [(hv, numeric)]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def cube(x):
    return x * x * x


def test_grad_of_a_jvp_is_refused_with_advice():
    with pytest.raises(srcdiff.SrcdiffError, match=r"(?s)srcdiff.jvp, which cannot be transformed again.*jvp\(grad\(f\)"):
        srcdiff.grad(srcdiff.jvp(cube))


def vector_cube(x):
    return np.sin(x) * x**2


COMPOSITIONS = [
    (outer, inner)
    for outer in ("grad", "jvp", "jacobian", "hessian", "hvp")
    for inner in ("jacobian", "hessian", "hvp", "jvp")
    if (outer, inner) != ("jacobian", "jacobian")  # that one works: tests/test_transforms.py
]


@pytest.mark.parametrize("outer, inner", COMPOSITIONS)
def test_transforming_a_jacobian_hessian_hvp_or_jvp_again_is_refused_with_advice_that_works(outer, inner):
    made = {"jacobian": srcdiff.jacobian, "hessian": srcdiff.hessian, "hvp": srcdiff.hvp, "jvp": srcdiff.jvp}[inner](cube)
    x = np.array([0.3, -0.7, 1.1])
    with pytest.raises(srcdiff.SrcdiffError, match=rf"(?s)srcdiff.{inner}, which cannot be transformed again.*hessian"):
        if outer == "jvp":
            srcdiff.jvp(made, (x,), (x,))
        else:
            getattr(srcdiff, outer)(made)(x)
    # the advice: the Hessian of each output of a vector-valued function
    second = np.array([srcdiff.hessian(lambda a, i=i: vector_cube(a)[i])(x) for i in range(3)])
    expected = 2 * np.sin(x) + 4 * x * np.cos(x) - x**2 * np.sin(x)
    np.testing.assert_allclose(second, np.einsum("i,ij,ik->ijk", expected, np.eye(3), np.eye(3)), atol=1e-12)


def written_into_integers(y, z):
    v = z.astype(int)
    v[2] = y * 3.0  # NumPy rounds it: no derivative passes
    t = np.zeros(3)
    t[1] = y * 3.0
    return np.sum(v) + np.sum(t)


def test_a_tangent_written_into_an_integer_array_is_rounded_away():
    z = np.array([0.45, 1.4, -0.9])
    _, tangent = srcdiff.jvp(written_into_integers, (0.58, z), (1.0, None))
    assert tangent == 3.0  # only the float array's write
    assert srcdiff.grad(written_into_integers)(0.58, z) == 3.0


def swaps_rows_through_a_copy(Y):
    Y = Y * 1.0
    tmp = Y[0].copy()
    Y[0] = Y[1]
    Y[1] = tmp
    return np.sum(Y * Y) + Y[1, 0] * 3.0


def test_the_tangent_of_a_copy_of_a_view_is_its_own():
    # tmp's tangent was the view tY[0], changed by tY[0] = ...: jvp along e00 gave 0.0, not 5.0
    Y = np.array([[1.0, 2.0], [3.0, 4.0]])
    for index in np.ndindex(2, 2):
        direction = np.zeros((2, 2))
        direction[index] = 1.0
        value, tangent = srcdiff.jvp(swaps_rows_through_a_copy, (Y,), (direction,))
        eps = 1e-6
        moved = [swaps_rows_through_a_copy(Y + s * direction) for s in (eps, -eps)]
        assert value == pytest.approx(swaps_rows_through_a_copy(Y))
        assert tangent == pytest.approx((moved[0] - moved[1]) / (2 * eps), rel=1e-6)


def _doubles_first(a):
    a[0] = a[0] * 2.0
    return np.sum(a)


def _calls_a_writer(x):
    y = x * 1.0
    s = _doubles_first(y)
    return s + np.sum(y)


def test_a_callee_that_writes_into_its_parameter_is_refused_as_grad_refuses_it():
    # in Python the caller's y changes too (value 16.0 here); jvp returned 15.0 with a wrong tangent
    x = np.array([1.0, 2.0, 4.0])
    with pytest.raises(UnsupportedSyntax, match="changes its parameter 'a' in place"):
        srcdiff.jvp(_calls_a_writer, (x,), (np.ones(3),))
    with pytest.raises(UnsupportedSyntax, match="changes its parameter 'a' in place"):
        srcdiff.grad(_calls_a_writer)(x)


def test_which_rules_read_arrays_is_told_by_identity_not_module_name():
    # NumPy 1.x ufuncs, and scipy.special's on NumPy 2, have __module__ None
    import scipy.special

    from srcdiff import forward

    rules.load_optional_rules(force=True)
    erf = rules.lookup(scipy.special.erf)
    assert getattr(erf.func, "__module__", None) is None
    reads = forward._Forward.reads_arrays
    assert reads(erf) and reads(rules.lookup(np.sin)) and reads(rules.lookup(np.linalg.det))
    assert reads(rules.lookup(np.random.normal))  # a method of NumPy's RandomState
    assert not reads(rules.lookup(sum)) and not reads(rules.lookup(math.sqrt)) and not reads(rules.lookup(float))


def _returns_nothing(x):
    y = x * 2.0  # noqa: F841


def test_a_jvp_of_a_function_that_returns_no_number_is_refused():
    with pytest.raises(srcdiff.SrcdiffError, match="_returns_nothing returns None, not a number"):
        srcdiff.jvp(_returns_nothing, (1.0,), (1.0,))
