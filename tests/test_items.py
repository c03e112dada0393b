"""srcdiff/items.py: a loop over a sequence's positions that only reads its items walks the items,
only where the sequence is proven a list, tuple or array that nothing changes while it is walked."""

import ast
import textwrap

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcdiff
from srcdiff.items import walk_items
from srcdiff.kinds import LEAVES, SCALARS

LOOP = """
def f(x, xs):
    _stack = []
    acc = 0.0
    _t1 = len(xs)
    _t2 = range(_t1)
    for _i1 in _t2:
        {before}v = xs[_i1]
        acc = acc * x + v{inside}
    {after}
    for _i1 in reversed(_t2):
        acc = acc - 1.0
    return acc
"""


def walked(ndims: dict, before: str = "", inside: str = "", after: str = "", bindings: dict | None = None) -> str:
    source = LOOP.format(before=before, inside=inside, after=after or "pass")
    fn = ast.parse(textwrap.dedent(source)).body[0]
    walk_items(fn, ndims, bindings or {})
    return ast.unparse(fn)


@pytest.mark.parametrize("kind", [SCALARS, LEAVES, 1, 2], ids=["floats", "arrays", "vector", "matrix"])
def test_a_list_or_an_array_is_walked_item_by_item(kind):
    after = walked({"xs": kind})
    assert "for v in xs:" in after and "xs[_i1]" not in after
    assert "for _i1 in reversed(_t2):" in after  # the backward sweep still walks the positions


def test_the_item_is_taken_where_the_position_was_when_something_comes_first():
    after = walked({"xs": SCALARS}, before="_stack.append(v)\n        ")
    assert "for _item1 in xs:" in after and "_stack.append(v)\n        v = _item1" in after


@pytest.mark.parametrize(
    ("ndims", "before", "inside", "after", "bindings", "why"),
    [
        ({"xs": -12}, "", "", "", None, "a dict: iterating it gives its keys"),
        ({}, "", "", "", None, "a sequence of unknown kind may be a dict"),
        ({"xs": SCALARS}, "", "\n        xs.append(v)", "", None, "the body changes the sequence"),
        ({"xs": SCALARS}, "", "\n        acc = acc + xs[0]", "", None, "the body names the sequence again"),
        ({"xs": SCALARS}, "", "\n        acc = acc + _i1", "", None, "the position is read for itself"),
        ({"xs": SCALARS}, "", "", "acc = acc + _i1", None, "the position is read after the loop"),
        ({"xs": SCALARS}, "", "", "", {"range": lambda n: [0]}, "range is not the builtin"),
    ],
)
def test_not_walked_where_it_is_not_proven(ndims, before, inside, after, bindings, why):
    assert "xs[_i1]" in walked(ndims, before, inside, after, bindings), why


def test_not_walked_where_the_sequence_changes_between_its_length_and_the_loop():
    source = textwrap.dedent(LOOP.format(before="", inside="", after="pass")).replace(
        "    _t2 = range(_t1)\n", "    _t2 = range(_t1)\n    xs.append(1.0)\n"
    )
    fn = ast.parse(source).body[0]
    walk_items(fn, {"xs": SCALARS}, {})
    assert "xs[_i1]" in ast.unparse(fn)


def horner(x, c):
    acc = 0.0
    for ck in c:
        acc = acc * x + ck
    return acc


def rows(w, X):
    s = 0.0
    for row in X:
        s = s + np.sum(np.tanh(row * w)) * s + 0.5
    return s


def items_of_a_dict(w, d):
    s = 0.0
    for k in d:
        s = s + d[k] * w
    return s


def positions_of_a_dict(w, d):
    s = 0.0
    for i in range(len(d)):  # d's keys are 0 and 1: d[i] is a value, as iterating d is not
        s = s * w + d[i]
    return s


def test_gradients_through_walked_loops_agree_with_autograd():
    c = [0.5, -1.0, 2.0, 0.25]
    assert "for ck in c:" in srcdiff.source(srcdiff.grad(horner), 0.7, c)
    np.testing.assert_allclose(srcdiff.grad(horner)(0.7, c), autograd.grad(horner)(0.7, c), rtol=1e-12)
    assert srcdiff.grad(srcdiff.grad(horner))(0.7, c) == pytest.approx(autograd.grad(autograd.grad(horner))(0.7, c))

    X, w = np.linspace(-1.0, 1.0, 12).reshape(4, 3), np.array([0.3, -0.2, 0.5])

    def rows_reference(w, X):
        s = 0.0
        for row in X:
            s = s + anp.sum(anp.tanh(row * w)) * s + 0.5
        return s

    assert "for _item1 in X:" in srcdiff.source(srcdiff.grad(rows), w, X)  # (the tape keeps the row before)
    np.testing.assert_allclose(srcdiff.grad(rows)(w, X), autograd.grad(rows_reference)(w, X), rtol=1e-12)


@pytest.mark.parametrize("f", [items_of_a_dict, positions_of_a_dict])
def test_a_dict_is_walked_by_its_keys_or_positions_as_written(f):
    d = {0: 1.5, 1: -2.0}
    np.testing.assert_allclose(srcdiff.grad(f)(0.7, d), autograd.grad(f)(0.7, d), rtol=1e-12)
