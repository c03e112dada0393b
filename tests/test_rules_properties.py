"""Rules under varied inputs: random broadcastable shapes, random axes, random permutations.

Each property draws a catalogue case, shapes and options, then runs the catalogue's two
checks (central differences and autograd) on inputs drawn from the case's domain.
"""

from __future__ import annotations

from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from catalogue import CASES, Case
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from test_rules import check_autograd, check_differences, example_inputs

BY_NAME = {case.name: case for case in CASES}
BOUNDED = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)


def check(case: Case, shapes: tuple, options: dict[str, Any], seed: int) -> None:
    inputs, w = example_inputs(case, shapes, options, seed)
    check_differences(case, inputs, options, w, seed)
    check_autograd(case, inputs, options, w)


ELEMENTWISE_BINARY = ["add", "subtract", "multiply", "divide", "power", "mod", "hypot", "maximum", "minimum",
                      "arctan2", "logaddexp", "where", "multiply_operator", "power_operator"]  # fmt: skip


@BOUNDED
@given(
    name=st.sampled_from(ELEMENTWISE_BINARY),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=3),
    seed=SEEDS,
)
def test_elementwise_binary_ops_broadcast(name: str, shapes: Any, seed: int) -> None:
    check(BY_NAME[name], shapes.input_shapes, {}, seed)


@settings(BOUNDED, phases=[Phase.generate])  # while the bug stands every example fails: no shrinking
@given(
    name=st.sampled_from(ELEMENTWISE_BINARY),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
    float_first=st.booleans(),
    seed=SEEDS,
)
def test_elementwise_binary_ops_with_a_python_float(name: str, shape: tuple, float_first: bool, seed: int) -> None:
    check(BY_NAME[name], ((), shape) if float_first else (shape, ()), {}, seed)


@st.composite
def axes(draw: st.DrawFn, ndim: int) -> Any:
    """None, one axis (maybe negative), or a tuple of distinct axes in any order."""
    one = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return draw(st.none() | one | several)


@BOUNDED
@given(
    name=st.sampled_from(["sum", "mean", "prod", "max", "min", "var", "std"]),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
    data=st.data(),
    seed=SEEDS,
)
def test_reductions_over_any_axes(name: str, shape: tuple, data: st.DataObject, seed: int) -> None:
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")  # one number per reduction too: std is 0, so is its gradient
    check(BY_NAME[name], (shape,), {"axis": axis, "keepdims": keepdims}, seed)


@BOUNDED
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), seed=SEEDS)
def test_cumsum_along_any_axis(shape: tuple, data: st.DataObject, seed: int) -> None:
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    check(BY_NAME["cumsum"], (shape,), {"axis": axis}, seed)


@BOUNDED
@given(shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3), seed=SEEDS)
def test_matmul_of_any_batch_shapes(shapes: Any, seed: int) -> None:
    check(BY_NAME["matmul"], shapes.input_shapes, {}, seed)


@BOUNDED
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), data=st.data(), seed=SEEDS)
def test_moveaxis_any_permutation(shape: tuple, data: st.DataObject, seed: int) -> None:
    ndim = len(shape)
    source = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True), label="source")
    destination = data.draw(st.permutations(range(ndim)), label="destination")[: len(source)]
    check(BY_NAME["moveaxis"], (shape,), {"source": tuple(source), "destination": tuple(destination)}, seed)


@BOUNDED
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(), seed=SEEDS)
def test_concatenate_along_any_axis(shape: tuple, data: st.DataObject, seed: int) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3), label="other side")  # the joined axis may differ
    check(BY_NAME["concatenate"], (shape, tuple(other)), {"axis": axis}, seed)


@BOUNDED
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), data=st.data(), seed=SEEDS)
def test_repeat_any_counts(shape: tuple, data: st.DataObject, seed: int) -> None:
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    n = int(np.prod(shape)) if axis is None else shape[axis]
    repeats = data.draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n), label="repeats")
    check(BY_NAME["repeat"], (shape,), {"repeats": repeats, "axis": axis}, seed)


VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


@BOUNDED
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data(), seed=SEEDS)
def test_norm_of_any_order_along_any_axes(shape: tuple, data: st.DataObject, seed: int) -> None:
    ndim = len(shape)
    pair = st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2).filter(lambda p: p[0] % ndim != p[1] % ndim)
    choices = st.integers(-ndim, ndim - 1) | (pair.map(tuple) if ndim >= 2 else st.nothing())
    axis = data.draw((st.none() | choices) if ndim <= 2 else choices, label="axis")
    matrix = isinstance(axis, tuple) or axis is None and ndim == 2
    ord = data.draw(st.sampled_from(MATRIX_ORDS if matrix else VECTOR_ORDS), label="ord")
    keepdims = data.draw(st.booleans(), label="keepdims")
    check(BY_NAME["norm_ord_axis"], (shape,), {"ord": ord, "axis": axis, "keepdims": keepdims}, seed)


@BOUNDED
@given(sizes=st.tuples(*[st.integers(1, 3)] * 4), ones=st.lists(st.booleans(), min_size=6, max_size=6), seed=SEEDS)
def test_einsum_broadcasts_axes_of_length_one(sizes: tuple, ones: list, seed: int) -> None:
    """Each axis of each operand is its index's length or 1 (broadcast): the adjoint sums it back.
    Differences only: autograd's einsum does not sum a broadcast axis back."""
    b, i, j, k = sizes
    first = tuple(1 if one else n for n, one in zip((b, i, j), ones[:3]))
    second = tuple(1 if one else n for n, one in zip((b, j, k), ones[3:]))
    case, options = BY_NAME["einsum_broadcast_axis"], {"subscripts": "mnd,mdo->mno"}
    inputs, w = example_inputs(case, (first, second), options, seed)
    check_differences(case, inputs, options, w, seed)
