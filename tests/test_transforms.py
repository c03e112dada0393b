"""The transform family: ``vjp``, ``jacobian``, ``hessian``, ``hvp`` and ``has_aux``.

Each transform is checked against autograd (``make_vjp``, ``jacobian``, ``hessian``,
``hessian_vector_product``) run on the same code, and against central differences, on
vector- and scalar-valued functions with loops, branches, helper calls, recursion,
containers and in-place writes. Shapes and structures are checked, not only values. Errors
are specifications: a bad input in, an error class and what it says out.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from catalogue import autograd_twin

import srcdiff
from srcdiff import derived
from srcdiff.errors import BadArgument, BadAux, NonScalarOutput, SourceUnavailable

# --------------------------------------------------------------------------- functions


def scaled(a, b):
    return a * b * b


def vector_loop(x, n):
    """A vector from a loop with a branch, a helper call and an in-place write."""
    y = np.zeros(x.shape)
    for i in range(n):
        if i % 2 == 0:
            y = y + scaled(x, np.sin(x[i]))
        else:
            y = y * x
        y[0] += x[i] * x[-1]
    return y


def vector_loop_reference(x, n):  # without the in-place write, which autograd cannot run
    y = anp.zeros(x.shape)
    for i in range(n):
        if i % 2 == 0:
            y = y + x * anp.sin(x[i]) ** 2
        else:
            y = y * x
        y = anp.concatenate([y[:1] + x[i] * x[-1], y[1:]])
    return y


def power_tower(x, n):
    """Recursion: a vector result."""
    if n == 0:
        return x
    return np.cos(power_tower(x, n - 1)) * x


def layer(w, x):
    """A matrix from a matrix and a vector (a broadcast add)."""
    return np.tanh(w * x + 0.5)


def curve(t):
    """Few inputs, many outputs: forward mode's case."""
    ts = np.linspace(0.0, 1.0, 6)
    return np.sin(t * ts) + t * t * ts


def rows_of(xs, c):
    """A list of arrays in, an array out."""
    total = 0.0
    for x in xs:
        total = total + np.exp(x * c)
    return total * xs[0]


def rows_of_reference(xs, c):
    total = 0.0
    for x in xs:
        total = total + anp.exp(x * c)
    return total * xs[0]


def energy(x, n):
    """A scalar from a loop with a branch, a helper call and an in-place write."""
    y = x * 1.0
    total = 0.0
    for i in range(n):
        y[i % 3] += np.sin(x[i]) * x[0]
        if total > 1.0:
            total = total + np.sum(scaled(y, x))
        else:
            total = total + np.sum(y * y) * 0.5
    return total


def energy_reference(x, n):
    y = x * 1.0
    total = 0.0
    for i in range(n):
        k = i % 3
        y = anp.concatenate([y[:k], y[k : k + 1] + anp.sin(x[i]) * x[0], y[k + 1 :]])
        if total > 1.0:
            total = total + anp.sum(y * x * x)
        else:
            total = total + anp.sum(y * y) * 0.5
    return total


def chain(x, depth):
    """Recursion: a scalar result."""
    if depth == 0:
        return np.sum(np.tanh(x) ** 2)
    return chain(x * np.cos(x), depth - 1) + np.sum(x) * 0.1


def two_arguments(w, b):
    return np.sum(np.tanh(w * b) ** 2) + np.sum(b * b * b)


def twin(f, reference=None):
    return autograd_twin(reference or f)


R = np.random.default_rng(8)
X4 = R.normal(size=4) * 0.7

# (function, arguments, the float arguments' positions, the code autograd runs)
VECTOR_FUNCTIONS = [
    (vector_loop, (X4, 4), (0,), vector_loop_reference),
    (power_tower, (X4, 3), (0,), None),
    (layer, (R.normal(size=(2, 3)), R.normal(size=3)), (0, 1), None),
    (curve, (0.7,), (0,), None),
    (rows_of, ([R.normal(size=3), R.normal(size=3)], 0.4), (0, 1), rows_of_reference),
]
VECTOR_IDS = [f"{c[0].__name__}-{i}" for i, c in enumerate(VECTOR_FUNCTIONS)]

SCALAR_FUNCTIONS = [
    (energy, (X4 * 0.5, 4), (0,), energy_reference),
    (energy, (X4 * 3.0, 4), (0,), energy_reference),  # the other branch
    (chain, (X4, 2), (0,), None),
    (two_arguments, (R.normal(size=(2, 2)), R.normal(size=2)), (0, 1), None),
]
SCALAR_IDS = [f"{c[0].__name__}-{i}" for i, c in enumerate(SCALAR_FUNCTIONS)]


def random_like(rng, value):
    if isinstance(value, list):
        return [random_like(rng, v) for v in value]
    return rng.normal(size=np.shape(value)) if isinstance(value, np.ndarray) else float(rng.normal())


def moved(args, i, direction, step):
    out = list(args)
    if isinstance(args[i], list):
        out[i] = [a + step * d for a, d in zip(args[i], direction)]
    else:
        out[i] = args[i] + step * direction
    return out


def inner(a, b):
    if isinstance(a, list):
        return sum(inner(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a) * np.asarray(b)))


def assert_shaped_like(value, like):
    if isinstance(like, (list, tuple)):
        assert type(value) is type(like) and len(value) == len(like)
        for v, w in zip(value, like):
            assert_shaped_like(v, w)
    elif isinstance(like, np.ndarray):
        assert isinstance(value, np.ndarray) and value.shape == like.shape and value.dtype == np.float64
    else:
        assert isinstance(value, float), f"{value!r} for the float {like!r}"


# --------------------------------------------------------------------------- vjp


@pytest.mark.parametrize("f, args, floats, reference", VECTOR_FUNCTIONS, ids=VECTOR_IDS)
def test_vjp_matches_autograd_make_vjp(f, args, floats, reference):
    out, pullback = srcdiff.vjp(f, *args)
    np.testing.assert_allclose(out, f(*args))
    cotangent = random_like(np.random.default_rng(1), out)
    cotangents = pullback(cotangent)
    assert isinstance(cotangents, tuple) and len(cotangents) == len(args)
    for i, arg in enumerate(args):
        if i not in floats:
            assert cotangents[i] is None  # an integer count has no cotangent
            continue
        assert_shaped_like(cotangents[i], arg)
        expected = autograd.make_vjp(twin(f, reference), i)(*args)[0](cotangent)
        np.testing.assert_allclose(np.array(cotangents[i], dtype=float), np.array(expected, dtype=float), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("f, args, floats, reference", VECTOR_FUNCTIONS, ids=VECTOR_IDS)
def test_vjp_matches_central_differences(f, args, floats, reference):
    """⟨c, J t⟩ by differences along t equals ⟨pullback(c), t⟩."""
    rng = np.random.default_rng(2)
    out, pullback = srcdiff.vjp(f, *args)
    cotangent = random_like(rng, out)
    cotangents = pullback(cotangent)
    eps = 1e-6
    for i in floats:
        t = random_like(rng, args[i])
        numeric = (np.asarray(f(*moved(args, i, t, eps))) - np.asarray(f(*moved(args, i, t, -eps)))) / (2 * eps)
        assert inner(cotangents[i], t) == pytest.approx(inner(cotangent, numeric), rel=1e-5, abs=1e-6)


def test_one_forward_sweep_serves_every_cotangent():
    calls = []

    def traced(x):
        calls.append(1)  # a plain call: it runs in the forward sweep only
        return np.sin(x) * x

    x = R.normal(size=3)
    _, pullback = srcdiff.vjp(traced, x)
    first, second = pullback(np.ones(3)), pullback(np.arange(3.0))
    assert len(calls) == 1
    np.testing.assert_allclose(second[0], np.arange(3.0) * (np.cos(x) * x + np.sin(x)))
    np.testing.assert_allclose(first[0], np.cos(x) * x + np.sin(x))


def writes_then_reads(x, w):
    y = np.zeros(3)
    y[0] = x[0]
    y[0] = y[0] * x[1]
    return y * w  # w's cotangent reads y as written


def test_a_pullback_that_restores_its_tape_gives_the_same_answer_twice():
    x, w = np.array([2.0, 3.0]), np.array([1.0, 2.0, 3.0])
    out, pullback = srcdiff.vjp(writes_then_reads, x, w)
    first = pullback(np.ones(3))
    second = pullback(np.ones(3))
    for a, b, expected in zip(first, second, ([3.0, 2.0], [6.0, 0.0, 0.0])):
        np.testing.assert_array_equal(a, expected)
        np.testing.assert_array_equal(b, expected)
    np.testing.assert_array_equal(out, [6.0, 0.0, 0.0])  # the output is not restored under the caller


def test_vjp_leaves_inputs_and_cotangents_unchanged():
    x, c = X4.copy(), np.arange(4.0)
    _, pullback = srcdiff.vjp(vector_loop, x, 4)
    pullback(c)
    np.testing.assert_array_equal(x, X4)
    np.testing.assert_array_equal(c, np.arange(4.0))


def tree_valued(params, x):
    """Trees in and out: a dict holding a list, and a tuple result."""
    h = np.tanh(params["w"] * x) + params["layers"][0]
    return h * params["layers"][1], np.sum(h)


def test_vjp_cotangents_mirror_tree_arguments_and_outputs():
    params = {"w": R.normal(size=3), "layers": [R.normal(size=3), 0.5]}
    x = R.normal(size=3)
    (a, s), pullback = srcdiff.vjp(tree_valued, params, x)
    ca, cs = R.normal(size=3), 0.7
    dparams, dx = pullback((ca, cs))
    assert_shaped_like(dparams["layers"], params["layers"])
    assert set(dparams) == {"w", "layers"} and dparams["w"].shape == (3,) and dx.shape == (3,)

    def weighted(params, x):
        first, second = tree_valued(params, x)
        return anp.sum(first * ca) + second * cs

    expected = autograd.grad(autograd_twin(weighted), (0, 1))(params, x)
    np.testing.assert_allclose(dparams["w"], expected[0]["w"], rtol=1e-10)
    np.testing.assert_allclose(dparams["layers"][0], expected[0]["layers"][0], rtol=1e-10)
    assert dparams["layers"][1] == pytest.approx(expected[0]["layers"][1], rel=1e-10)
    np.testing.assert_allclose(dx, expected[1], rtol=1e-10)


def test_vjp_of_a_gradient_is_a_hessian_product():
    x = X4 * 0.5
    _, pullback = srcdiff.vjp(srcdiff.grad(energy), x, 4)
    v = np.arange(4.0)
    expected = autograd.hessian(twin(energy, energy_reference))(x, 4) @ v
    np.testing.assert_allclose(pullback(v)[0], expected, rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------------------- jacobian


@pytest.mark.parametrize("mode", derived.MODES)
@pytest.mark.parametrize("f, args, floats, reference", VECTOR_FUNCTIONS, ids=VECTOR_IDS)
def test_jacobian_matches_autograd_in_every_mode(f, args, floats, reference, mode):
    for i in floats:
        jac = srcdiff.jacobian(f, wrt=i, mode=mode)(*args)
        out = np.asarray(f(*args))
        if isinstance(args[i], list):  # a list argument: a list of blocks, one per element
            assert isinstance(jac, list) and len(jac) == len(args[i])
            for k, (block, element) in enumerate(zip(jac, args[i])):
                assert block.shape == out.shape + np.shape(element)

                def of_element(e, i=i, k=k):
                    moved_args = list(args)
                    moved_args[i] = [*args[i][:k], e, *args[i][k + 1 :]]
                    return twin(f, reference)(*moved_args)

                np.testing.assert_allclose(block, autograd.jacobian(of_element)(args[i][k]), rtol=1e-9, atol=1e-12)
            continue
        assert isinstance(jac, np.ndarray) and jac.shape == out.shape + np.shape(args[i])
        expected = autograd.jacobian(twin(f, reference), i)(*args)
        np.testing.assert_allclose(jac, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("f, args, floats, reference", [c for c in VECTOR_FUNCTIONS if c[0] is not rows_of], ids=VECTOR_IDS[:-1])
def test_jacobian_matches_central_differences_of_the_function_itself(f, args, floats, reference):
    """Column by column, on the code srcdiff differentiates (in-place writes included), not a twin."""
    eps = 1e-6
    for i in floats:
        jac = srcdiff.jacobian(f, wrt=i)(*args)
        base = np.asarray(args[i], dtype=float)
        for index in np.ndindex(*base.shape):
            step = np.zeros(base.shape)
            step[index] = 1.0
            step = step if isinstance(args[i], np.ndarray) else float(step)
            numeric = (np.asarray(f(*moved(args, i, step, eps))) - np.asarray(f(*moved(args, i, step, -eps)))) / (2 * eps)
            np.testing.assert_allclose(jac[(...,) + index], numeric, rtol=1e-5, atol=1e-6)


def test_the_three_modes_agree_on_a_tuple_wrt():
    w, x = R.normal(size=(2, 3)), R.normal(size=3)
    results = [srcdiff.jacobian(layer, wrt=(0, 1), mode=mode)(w, x) for mode in derived.MODES]
    for jw, jx in results:
        assert jw.shape == (2, 3, 2, 3) and jx.shape == (2, 3, 3)
    for jw, jx in results[1:]:
        np.testing.assert_allclose(jw, results[0][0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(jx, results[0][1], rtol=1e-12, atol=1e-14)


def test_jacobian_of_a_tuple_output_has_its_structure():
    params = {"w": R.normal(size=3), "layers": [R.normal(size=3), 0.5]}
    x = R.normal(size=3)
    for mode in derived.MODES:
        ja, js = srcdiff.jacobian(tree_valued, wrt=1, mode=mode)(params, x)
        assert ja.shape == (3, 3) and js.shape == (3,)
        np.testing.assert_allclose(ja, autograd.jacobian(autograd_twin(lambda p, x: tree_valued(p, x)[0]), 1)(params, x))
        np.testing.assert_allclose(js, autograd.grad(autograd_twin(lambda p, x: tree_valued(p, x)[1]), 1)(params, x))
        jparams = srcdiff.jacobian(tree_valued, wrt=0, mode=mode)(params, x)[1]  # d sum(h) / d params
        assert set(jparams) == {"w", "layers"} and jparams["layers"][1].shape == ()


@pytest.mark.parametrize(
    "f, args, forward",
    [(curve, (0.7,), True), (layer, (R.normal(size=(2, 3)), R.normal(size=3)), False)],
    ids=["one input, six outputs", "six inputs, six outputs"],
)
def test_auto_mode_takes_forward_mode_for_fewer_inputs_than_outputs(f, args, forward, monkeypatch):
    used = []
    columns = derived.Jacobian.columns
    monkeypatch.setattr(derived.Jacobian, "columns", lambda self, a: used.append(1) or columns(self, a))
    srcdiff.jacobian(f, mode="auto")(*args)
    assert bool(used) == forward


def test_jacobian_of_the_gradient_is_the_hessian():
    x = X4 * 0.5
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(
            srcdiff.jacobian(srcdiff.grad(energy), mode=mode)(x, 4), srcdiff.hessian(energy)(x, 4), rtol=1e-10, atol=1e-12
        )


# --------------------------------------------------------------------------- hessian and hvp


@pytest.mark.parametrize("f, args, floats, reference", SCALAR_FUNCTIONS, ids=SCALAR_IDS)
def test_hessian_matches_autograd(f, args, floats, reference):
    for i in floats:
        h = srcdiff.hessian(f, wrt=i)(*args)
        shape = np.shape(args[i])
        assert isinstance(h, np.ndarray) and h.shape == shape + shape
        expected = autograd.hessian(twin(f, reference), i)(*args)
        np.testing.assert_allclose(h, expected, rtol=1e-8, atol=1e-10)
        flat = h.reshape(int(np.prod(shape)), -1)
        np.testing.assert_allclose(flat, flat.T, rtol=1e-10, atol=1e-12)


def test_hessian_of_a_tuple_wrt_gives_blocks():
    w, b = R.normal(size=(2, 2)), R.normal(size=2)
    (hww, hwb), (hbw, hbb) = srcdiff.hessian(two_arguments, wrt=(0, 1))(w, b)
    assert hww.shape == (2, 2, 2, 2) and hwb.shape == (2, 2, 2) and hbw.shape == (2, 2, 2) and hbb.shape == (2, 2)
    np.testing.assert_allclose(hwb, autograd.jacobian(autograd.grad(twin(two_arguments), 0), 1)(w, b), rtol=1e-9)
    np.testing.assert_allclose(hbw, np.moveaxis(hwb, -1, 0), rtol=1e-9)  # the mixed blocks are transposes
    np.testing.assert_allclose(hbb, autograd.hessian(twin(two_arguments), 1)(w, b), rtol=1e-9)
    ((only,),) = srcdiff.hessian(two_arguments, wrt=(1,))(w, b)  # a tuple of one: still a tuple of tuples
    np.testing.assert_allclose(only, hbb, rtol=1e-12)


@pytest.mark.parametrize("f, args, floats, reference", SCALAR_FUNCTIONS, ids=SCALAR_IDS)
def test_hvp_matches_autograd_and_the_hessian(f, args, floats, reference):
    rng = np.random.default_rng(4)
    for i in floats:
        v = random_like(rng, args[i])
        hv = srcdiff.hvp(f, wrt=i)(*args, v)
        assert_shaped_like(hv, args[i])
        expected = autograd.hessian_vector_product(twin(f, reference), i)(*args, v)
        np.testing.assert_allclose(hv, expected, rtol=1e-8, atol=1e-10)
        h = srcdiff.hessian(f, wrt=i)(*args)
        np.testing.assert_allclose(hv, np.tensordot(h, v, axes=np.ndim(v)), rtol=1e-10, atol=1e-12)


def test_hvp_matches_differences_of_the_gradient():
    x, v, eps = X4 * 0.5, np.array([1.0, -2.0, 0.5, 0.3]), 1e-6
    g = srcdiff.grad(energy)
    numeric = (g(x + eps * v, 4) - g(x - eps * v, 4)) / (2 * eps)
    np.testing.assert_allclose(srcdiff.hvp(energy)(x, 4, v), numeric, rtol=1e-5, atol=1e-6)


def test_hvp_with_a_tuple_wrt_takes_and_gives_tuples():
    w, b = R.normal(size=(2, 2)), R.normal(size=2)
    vw, vb = R.normal(size=(2, 2)), R.normal(size=2)
    hw, hb = srcdiff.hvp(two_arguments, wrt=(0, 1))(w, b, (vw, vb))
    (hww, hwb), (hbw, hbb) = srcdiff.hessian(two_arguments, wrt=(0, 1))(w, b)
    np.testing.assert_allclose(hw, np.tensordot(hww, vw, 2) + np.tensordot(hwb, vb, 1), rtol=1e-10)
    np.testing.assert_allclose(hb, np.tensordot(hbw, vw, 2) + hbb @ vb, rtol=1e-10)


# --------------------------------------------------------------------------- has_aux


def loss_with_aux(x, n):
    """(loss, aux): aux is nested, holds ints, a string and an array written in place."""
    y = x * 1.0
    for i in range(n):
        y[i % 3] += x[i] * x[0]
    loss = np.sum(y * y)
    return loss, [y, (n, "steps"), [loss * 2.0]]


def loss_without_aux(x, n):
    return loss_with_aux(x, n)[0]


def assert_aux(aux, x, n):
    y = x * 1.0
    for i in range(n):
        y[i % 3] += x[i] * x[0]
    assert isinstance(aux, list) and len(aux) == 3 and aux[1] == (n, "steps")
    np.testing.assert_allclose(aux[0], y)  # as the function returned it, not as the backward sweep left it
    assert aux[2][0] == pytest.approx(2.0 * np.sum(y * y))


def test_grad_and_value_and_grad_with_aux():
    x = X4.copy()
    g, aux = srcdiff.grad(loss_with_aux, has_aux=True)(x, 4)
    np.testing.assert_allclose(g, srcdiff.grad(loss_without_aux)(x, 4), rtol=1e-12)
    assert g.shape == x.shape
    assert_aux(aux, x, 4)
    (value, aux), g2 = srcdiff.value_and_grad(loss_with_aux, has_aux=True)(x, 4)
    assert value == pytest.approx(loss_without_aux(x, 4))
    np.testing.assert_allclose(g2, g)
    assert_aux(aux, x, 4)


def test_grad_with_aux_and_a_tuple_wrt():
    def fit(w, b, n):
        loss = np.sum((w * b) ** 2)
        return loss, (n, w * b)

    w, b = R.normal(size=3), 0.5
    (gw, gb), aux = srcdiff.grad(fit, wrt=(0, 1), has_aux=True)(w, b, 2)
    np.testing.assert_allclose(gw, 2 * w * b * b)
    assert isinstance(gb, float) and gb == pytest.approx(np.sum(2 * w * w * b))
    assert aux[0] == 2 and np.allclose(aux[1], w * b)


def test_vjp_and_jacobian_with_aux():
    x = X4.copy()
    out, pullback, aux = srcdiff.vjp(loss_with_aux, x, 4, has_aux=True)
    assert out == pytest.approx(loss_without_aux(x, 4))
    np.testing.assert_allclose(pullback(2.0)[0], 2.0 * srcdiff.grad(loss_without_aux)(x, 4), rtol=1e-12)
    assert_aux(aux, x, 4)
    for mode in derived.MODES:
        jac, aux = srcdiff.jacobian(loss_with_aux, mode=mode, has_aux=True)(x, 4)
        assert jac.shape == (4,)
        np.testing.assert_allclose(jac, srcdiff.grad(loss_without_aux)(x, 4), rtol=1e-12)
        assert_aux(aux, x, 4)


# --------------------------------------------------------------------------- generated code


def product_sine(x, y):
    z = x * y
    return np.sin(z)


def test_a_pullback_is_the_generated_backward_sweep_seeded_with_the_cotangent():
    _, pullback = srcdiff.vjp(product_sine, np.ones(3), 2.0)
    text = srcdiff.source(pullback)
    assert "def product_sine_forward(x, y):" in text and "def product_sine_backward(_tape, dout):" in text
    assert "dout = 1.0" not in text and "seed" not in text  # the cotangent is the seed
    assert "dz = dout * np.cos(z)" in text


# --------------------------------------------------------------------------- errors


def returns_one_value(x):
    return np.sum(x * x)


def test_an_unknown_mode_is_refused():
    with pytest.raises(BadArgument, match="jacobian's mode must be one of 'auto', 'rev', 'fwd', not 'backward'"):
        srcdiff.jacobian(layer, mode="backward")


@pytest.mark.parametrize(
    "call",
    [
        lambda: srcdiff.grad(returns_one_value, has_aux=True)(np.ones(2)),
        lambda: srcdiff.value_and_grad(returns_one_value, has_aux=True)(np.ones(2)),
        lambda: srcdiff.vjp(returns_one_value, np.ones(2), has_aux=True),
        lambda: srcdiff.jacobian(returns_one_value, has_aux=True, mode="fwd")(np.ones(2)),
    ],
    ids=["grad", "value_and_grad", "vjp", "jacobian"],
)
def test_has_aux_without_a_pair_is_refused(call):
    with pytest.raises(BadAux, match=r"has_aux=True needs returns_one_value to return a pair \(output, aux\)"):
        call()


def test_a_cotangent_of_the_wrong_shape_is_refused():
    _, pullback = srcdiff.vjp(layer, np.ones((2, 3)), np.ones(3))
    with pytest.raises(BadArgument, match=r"shaped like the output, an array of shape \(2, 3\); got an array of shape \(3,\)"):
        pullback(np.ones(3))


def test_vjp_needs_a_float_primal():
    with pytest.raises(BadArgument, match="needs a float primal"):
        srcdiff.vjp(power_tower, 2, 3)


def test_grad_of_a_vector_points_at_vjp_and_jacobian():
    with pytest.raises(NonScalarOutput, match=r"got shape \(4,\) .* srcdiff\.vjp .* srcdiff\.jacobian"):
        srcdiff.grad(vector_loop)(X4, 2)


def test_grad_of_a_pair_points_at_has_aux():
    with pytest.raises(NonScalarOutput, match="pass has_aux=True"):
        srcdiff.grad(loss_with_aux)(X4, 2)


@pytest.mark.parametrize(
    "transform",
    [srcdiff.grad, srcdiff.jvp, lambda g: srcdiff.vjp(g, X4, 2), lambda g: srcdiff.jacobian(g, mode="rev")(X4, 2)],
    ids=["grad", "jvp", "vjp", "jacobian"],
)
def test_a_gradient_with_aux_is_not_differentiated_again(transform):
    with pytest.raises(SourceUnavailable, match="has_aux=True"):
        transform(srcdiff.grad(loss_with_aux, has_aux=True))


class Model:
    """Bound methods: the receiver is a constant, as for grad."""

    def __init__(self, scale):
        self.scale = scale

    def predict(self, x):
        return np.sin(x) * self.scale

    def loss(self, x):
        return np.sum(np.sin(x) * x) * self.scale


def test_bound_methods_in_every_transform():
    model, x = Model(3.0), R.normal(size=3)
    expected = np.diag(3.0 * np.cos(x))
    np.testing.assert_allclose(srcdiff.vjp(model.predict, x)[1](np.ones(3))[0], np.diag(expected))
    for mode in derived.MODES:
        np.testing.assert_allclose(srcdiff.jacobian(model.predict, mode=mode)(x), expected)
    hessian = 3.0 * np.diag(2.0 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(srcdiff.hessian(model.loss)(x), hessian, rtol=1e-12)
    np.testing.assert_allclose(srcdiff.hvp(model.loss)(x, np.ones(3)), hessian @ np.ones(3), rtol=1e-12)
    np.testing.assert_allclose(srcdiff.vjp(srcdiff.grad(model.loss), x)[1](np.ones(3))[0], hessian @ np.ones(3), rtol=1e-12)
    np.testing.assert_allclose(srcdiff.jacobian(srcdiff.grad(model.loss), mode="rev")(x), hessian, rtol=1e-12)


def sin_squared(x):
    return np.sum(np.sin(x) ** 2)


SIN_SQUARED_WITH_AUX = srcdiff.grad(lambda x: (sin_squared(x), x), has_aux=True)


def calls_jvp(x):
    return srcdiff.jvp(sin_squared, (x,), (np.ones_like(x),))[1]


def calls_a_gradient_with_aux(x):
    return np.sum(SIN_SQUARED_WITH_AUX(x)[0] * 2.0)


@pytest.mark.parametrize("f", [calls_jvp, calls_a_gradient_with_aux])
def test_a_transform_called_inside_a_differentiated_function_is_refused_with_the_composition_to_use(f):
    # (grad and value_and_grad of a plain function are differentiated through: test_transforms_inside.py)
    with pytest.raises(srcdiff.SrcdiffError, match="compose the transforms instead: grad.grad.f.."):
        srcdiff.grad(f)(np.array([0.3, 0.7]))


# ------------------------------------------------------- jacobian and hessian of record arguments


@dataclasses.dataclass
class Layer:
    W: np.ndarray
    b: float


class LayerTuple(NamedTuple):
    W: np.ndarray
    b: float


def layer_loss(p, x):
    return np.sum(np.tanh(p.W * x)) + p.b**2 * np.sum(p.W)


def layer_out(p, x):
    return np.tanh(p.W * x) * p.b


@pytest.mark.parametrize("record", [Layer, LayerTuple])
def test_jacobian_and_hessian_of_a_dataclass_or_namedtuple_argument(record):
    x, w, b = np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.3
    theta = np.concatenate([w, [b]])

    def flat(f):  # the same function of one vector (W, then b), for autograd
        return lambda t: autograd_twin(f)(record(t[:2], t[2]), x)

    h = srcdiff.hessian(layer_loss)(record(w, b), x)
    expected = autograd.hessian(flat(layer_loss))(theta)
    assert type(h) is record and type(h.W) is record and type(h.b) is record
    np.testing.assert_allclose(h.W.W, expected[:2, :2])
    np.testing.assert_allclose(h.W.b, expected[:2, 2])
    np.testing.assert_allclose(h.b.W, expected[2, :2])
    np.testing.assert_allclose(h.b.b, expected[2, 2])
    for mode in ("rev", "fwd", "auto"):
        jac = srcdiff.jacobian(layer_out, mode=mode)(record(w, b), x)
        expected = autograd.jacobian(flat(layer_out))(theta)
        assert type(jac) is record
        np.testing.assert_allclose(jac.W, expected[:, :2])
        np.testing.assert_allclose(jac.b, expected[:, 2])


# ------------------------------------------------------------------------ jacobian(jacobian(f))


def two_inputs(x, y):
    return np.sin(x) * x**2 * y[0] + np.sum(y**2) * np.tanh(x)


def scalar_of_two(x, y):
    return np.sum(two_inputs(x, y))


@pytest.mark.parametrize("inner_mode, outer_mode", [("rev", "fwd"), ("fwd", "rev"), ("auto", "auto")])
def test_jacobian_of_a_jacobian_is_the_second_derivative(inner_mode, outer_mode):
    x, y = np.array([0.3, -0.7, 1.1]), np.array([0.5, 2.0])
    twin = autograd_twin(two_inputs)
    second = srcdiff.jacobian(srcdiff.jacobian(two_inputs, mode=inner_mode), mode=outer_mode)(x, y)
    np.testing.assert_allclose(second, autograd.jacobian(autograd.jacobian(twin))(x, y), atol=1e-12)
    blocks = srcdiff.jacobian(srcdiff.jacobian(two_inputs, wrt=(0, 1)), wrt=(0, 1))(x, y)
    for i in range(2):
        for j in range(2):
            expected = autograd.jacobian(autograd.jacobian(twin, i), j)(x, y)
            assert blocks[i][j].shape == expected.shape
            np.testing.assert_allclose(blocks[i][j], expected, atol=1e-12)
    # of a scalar function: the Hessian
    np.testing.assert_allclose(
        srcdiff.jacobian(srcdiff.jacobian(scalar_of_two))(x, y), srcdiff.hessian(scalar_of_two)(x, y), atol=1e-12
    )


def returns_a_pair(x):
    return x, x * 2.0


def test_jacobian_of_a_jacobian_of_a_function_returning_a_tree_is_refused_with_advice():
    with pytest.raises(BadArgument, match="hessian"):
        srcdiff.jacobian(srcdiff.jacobian(returns_a_pair))(np.ones(2))


def _area(width, height):
    return width * height


def test_vjp_and_jacobian_called_with_the_wrong_arguments_name_the_function():
    from srcdiff.errors import BadCall

    with pytest.raises(BadCall, match=r"vjp takes the arguments of _area\(width, height\)"):
        srcdiff.vjp(_area, 1.0)
    with pytest.raises(BadCall, match=r"jacobian__area takes the arguments of _area\(width, height\)"):
        srcdiff.jacobian(_area, mode="rev")(1.0)


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _scaled_tanh(x, a):
    return a * np.tanh(x) + x * x


def test_elementwise_grad_matches_autograds():
    import autograd
    import autograd.numpy as anp

    x = np.linspace(-3.0, 3.0, 7)
    np.testing.assert_allclose(srcdiff.elementwise_grad(_logistic)(x), autograd.elementwise_grad(_logistic)(x))
    reference = autograd.elementwise_grad(lambda v, a: a * anp.tanh(v) + v * v)
    got = srcdiff.elementwise_grad(_scaled_tanh)(x.reshape(7, 1), 1.5)
    assert got.shape == (7, 1)
    np.testing.assert_allclose(got, reference(x.reshape(7, 1), 1.5))
    np.testing.assert_allclose(srcdiff.elementwise_grad(_scaled_tanh, wrt="a")(x, 1.5), np.sum(np.tanh(x)))


def _two_layer_loss(params, x):
    (w1, b1), (w2, b2) = params["layers"]
    return np.sum((np.tanh(x @ w1 + b1) @ w2 + b2 - 1.0) ** 2) + params["decay"] ** 2 * np.sum(w1 * w1)


def test_flatten_sends_a_models_parameters_to_scipy_minimize_as_one_vector():
    from scipy.optimize import minimize

    rng = np.random.default_rng(4)
    params = {"layers": [(rng.normal(size=(3, 4)), np.zeros(4)), (rng.normal(size=(4, 1)), 0.5)], "decay": 0.1}
    x = rng.normal(size=(6, 3))
    vector, unflatten = srcdiff.flatten(params)
    assert vector.shape == (12 + 4 + 4 + 1 + 1,)  # the float leaves too: b2 and decay
    back = unflatten(vector)
    assert isinstance(back["layers"][1][1], float) and back["layers"][0][0].shape == (3, 4)
    np.testing.assert_array_equal(srcdiff.flatten(back)[0], vector)
    gradient = srcdiff.grad(_two_layer_loss)

    def objective(v):
        return _two_layer_loss(unflatten(v), x)

    def jac(v):
        return srcdiff.flatten(gradient(unflatten(v), x))[0]

    eps = 1e-6
    numeric = np.array([(objective(vector + eps * e) - objective(vector - eps * e)) / (2 * eps) for e in np.eye(vector.size)])
    np.testing.assert_allclose(jac(vector), numeric, rtol=1e-5, atol=1e-7)
    result = minimize(objective, vector, jac=jac, method="L-BFGS-B")
    assert result.success and result.fun < objective(vector)
