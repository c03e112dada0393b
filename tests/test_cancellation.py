"""Cancellation (srcdiff/cancellation.py): a value whose every variation provably cancels
before the result gets no adjoint. Where it is proven, the gradient leaves out the value's
adjoint (a softmax's row maximum: two passes); where it is not, the adjoint stays. Either way
the gradient is checked against autograd, on fixed cases and on random programs built around a
reduction kept with keepdims, so that a cancellation claimed wrongly shows as a wrong gradient."""

from __future__ import annotations

import textwrap

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcdiff
from srcdiff import api


def define(source: str, numpy=np):
    namespace = {"np": numpy}
    exec(compile(textwrap.dedent(source), "<cancellation test>", "exec"), namespace)
    return namespace["f"]


def define_in_file(source: str, tmp_path, name: str):
    """``f`` of ``source`` in a module file (srcdiff reads a function's source from its file)."""
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n" + textwrap.dedent(source))
    namespace = {"__name__": name, "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace["f"]


def autograd_gradient(source: str, z, *rest):
    return autograd.grad(define(source, anp))(z, *rest)


SHIFTED = {  # (the row maximum cancels in each)
    "log-softmax cross-entropy": """
        def f(z, onehot):
            s = z - np.max(z, axis=1, keepdims=True)
            logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
            return -np.sum(onehot * logp) / z.shape[0]
        """,
    "log-sum-exp": """
        def f(z, onehot):
            m = np.max(z, axis=-1, keepdims=True)
            return np.sum((m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))) * onehot[:, :1])
        """,
    "softmax probabilities": """
        def f(z, onehot):
            e = np.exp(z - np.max(z, axis=1, keepdims=True))
            p = e / np.sum(e, axis=1, keepdims=True)
            return np.sum(p * onehot * z)
        """,
    "over columns, a mean": """
        def f(z, onehot):
            m = np.min(z, axis=0, keepdims=True)
            s = 2.0 * (z - m)
            return np.sum((s - np.log(np.mean(np.exp(s), axis=0, keepdims=True))) ** 2)
        """,
}

NOT_SHIFTED = {  # (the row maximum's variation reaches the result)
    "squared distance from the maximum": """
        def f(z, onehot):
            s = z - np.max(z, axis=1, keepdims=True)
            return np.sum(s * s)
        """,
    "summed along the other axis": """
        def f(z, onehot):
            s = z - np.max(z, axis=1, keepdims=True)
            return np.sum(np.log(np.sum(np.exp(s), axis=0, keepdims=True)))
        """,
    "a shift twice over": """
        def f(z, onehot):
            m = np.max(z, axis=1, keepdims=True)
            s = z - 2.0 * m
            return np.sum(s - np.log(np.sum(np.exp(s), axis=1, keepdims=True)) + m)
        """,
    "the maximum also returned": """
        def f(z, onehot):
            m = np.max(z, axis=1, keepdims=True)
            s = z - m
            logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
            return np.sum(logp * onehot) + np.sum(m)
        """,
    "a log-mean-exp, squared": """
        def f(z, onehot):
            m = np.min(z, axis=0, keepdims=True)
            e = np.exp(2.0 * (z - m))
            return np.sum(np.log(np.mean(e, axis=0, keepdims=True)) ** 2)
        """,
    "not kept with keepdims": """
        def f(z, onehot):
            m = np.max(z, axis=1)
            s = z - m[:, None]
            return np.sum(s - np.log(np.sum(np.exp(s), axis=1, keepdims=True)))
        """,
}

RNG = np.random.default_rng(0)


def arguments(shape=(6, 5)):
    z = RNG.standard_normal(shape)
    onehot = np.eye(shape[1])[RNG.integers(0, shape[1], shape[0])]
    return z, onehot


@pytest.mark.parametrize("name", list(SHIFTED) + list(NOT_SHIFTED))
@pytest.mark.parametrize("shape", [(6, 5), (1, 4), (3, 1)])
def test_gradients_agree_with_autograd(name, shape, tmp_path):
    source = {**SHIFTED, **NOT_SHIFTED}[name]
    f = define_in_file(source, tmp_path, "case_" + str(abs(hash(name)))[:8])
    z, onehot = arguments(shape)
    np.testing.assert_allclose(srcdiff.grad(f)(z, onehot), autograd_gradient(source, z, onehot), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", list(SHIFTED))
def test_a_value_whose_variation_cancels_gets_no_adjoint(name, tmp_path):
    f = define_in_file(SHIFTED[name], tmp_path, "shifted_" + str(abs(hash(name)))[:8])
    z, onehot = arguments()
    reduction = first_bound(f, z, onehot)
    assert reduction not in active(f, z, onehot)
    assert "extremum" not in srcdiff.source(srcdiff.grad(f), z, onehot)
    # forward mode: no tangent for it either, and the same derivative
    tangent = RNG.standard_normal(z.shape)
    _, along = srcdiff.jvp(f, (z, onehot), (tangent, np.zeros_like(onehot)))
    np.testing.assert_allclose(along, np.sum(srcdiff.grad(f)(z, onehot) * tangent), rtol=1e-9)


@pytest.mark.parametrize("name", list(NOT_SHIFTED))
def test_a_value_whose_variation_reaches_the_result_keeps_its_adjoint(name, tmp_path):
    f = define_in_file(NOT_SHIFTED[name], tmp_path, "kept_" + str(abs(hash(name)))[:8])
    z, onehot = arguments()
    assert first_bound(f, z, onehot) in active(f, z, onehot)
    assert "reduce_extremum_adjoint" in srcdiff.source(srcdiff.grad(f), z, onehot)


def lowered(f, z, onehot):
    return api.lower(f, frozenset({("z", z.ndim), ("onehot", onehot.ndim)}), ("z",))


def first_bound(f, z, onehot) -> str:
    """The name the first statement binds (the reduction, in every case here)."""
    tree = lowered(f, z, onehot)[0]
    return tree.body[0].targets[0].id


def active(f, z, onehot) -> frozenset[str]:
    return lowered(f, z, onehot)[2].active


def test_second_order_through_a_cancelled_maximum(tmp_path):
    source = SHIFTED["log-softmax cross-entropy"]
    z, onehot = arguments((4, 3))
    v = RNG.standard_normal(z.shape)
    f = define_in_file(source, tmp_path, "second")
    got = srcdiff.hvp(f)(z, onehot, v)
    want = autograd.hessian_vector_product(define(source, anp))(z, onehot, v)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)


# random programs around a keepdims reduction: the algebra must never claim a cancellation
# that is not there (a wrong claim drops a needed adjoint: the gradient would differ)
REDUCTIONS = ["np.max", "np.min", "np.sum", "np.mean"]
STEPS = [
    "{new} = {a} - {m}",
    "{new} = {a} + {m}",
    "{new} = {a} * {m}",
    "{new} = {a} - {b}",
    "{new} = {a} * {b}",
    "{new} = {a} / (1.5 + {b} * {b})",
    "{new} = np.exp({a} * 0.3)",
    "{new} = np.log(np.sum(np.exp({a}), axis={axis}, keepdims=True))",
    "{new} = np.log(np.mean(np.exp({a}), axis={axis}, keepdims=True))",
    "{new} = {a} - np.log(np.sum(np.exp({a}), axis={axis}, keepdims=True))",
    "{new} = np.exp({a}) / np.sum(np.exp({a}), axis={axis}, keepdims=True)",
    "{new} = {a} ** 2",
    "{new} = -{a}",
]


@st.composite
def programs(draw):
    reduction = draw(st.sampled_from(REDUCTIONS))
    axis = draw(st.sampled_from([0, 1, -1]))
    lines = ["def f(z):", f"    m = {reduction}(z, axis={axis}, keepdims=True)", "    v0 = z - m"]
    names = ["z", "v0"]
    for k in range(1, draw(st.integers(1, 5)) + 1):
        step = draw(st.sampled_from(STEPS))
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        lines.append("    " + step.format(new=f"v{k}", a=a, b=b, m="m", axis=draw(st.sampled_from([0, 1, -1]))))
        names.append(f"v{k}")
    lines.append(f"    return np.sum({names[-1]} * np.cos(z))")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_programs_around_a_reduction_agree_with_autograd(tmp_path_factory, source):
    f = define_in_file(source, tmp_path_factory.mktemp("random"), "random_program")
    z = RNG.standard_normal((4, 3))
    want = autograd_gradient(source, z)
    if not np.all(np.isfinite(want)):
        return
    np.testing.assert_allclose(srcdiff.grad(f)(z), want, rtol=1e-7, atol=1e-9, err_msg=source)


def test_a_closure_reading_the_perturbed_value_keeps_the_adjoint(tmp_path):
    source = """
        def f(z, onehot):
            m = np.max(z, axis=1, keepdims=True)
            s = z - m
            shifted = lambda: s
            logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
            return np.sum(logp * onehot) + np.sum(shifted() ** 2)
        """
    f = define_in_file(source, tmp_path, "closure")
    z, onehot = arguments()
    np.testing.assert_allclose(srcdiff.grad(f)(z, onehot), autograd_gradient(source, z, onehot), rtol=1e-9, atol=1e-12)
