"""srcdiff/nest.py: a temporary read once goes back into the expression that reads it, only where
nothing in between can change what that expression reads."""

import ast
import math
import textwrap

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

import srcdiff
from srcdiff.nest import nest

TEMPORARIES = frozenset({"_t1", "_t2", "_t3", "_t4", "_t5"})


def effect(a):  # a call srcdiff knows nothing of: it may change anything it is given
    a[0] = 100.0
    return 0.0


BINDINGS = {"np": np, "math": math, "effect": effect}


def nested(source: str, scalars=frozenset({"x", "s"})) -> str:
    fn = ast.parse(textwrap.dedent(source)).body[0]
    nest(fn, TEMPORARIES, frozenset(scalars), BINDINGS)
    return ast.unparse(fn)


def run(source: str, *args):
    namespace = dict(BINDINGS)
    exec(source, namespace)
    return namespace["f"](*(a.copy() if isinstance(a, np.ndarray) else a for a in args))


def same_results(before: str, after: str, *args) -> None:
    np.testing.assert_array_equal(run(textwrap.dedent(before), *args), run(after, *args))


def test_a_chain_of_temporaries_nests_into_the_statement_that_reads_it():
    source = """
    def f(x, a):
        _t2 = math.sin(x)
        _t3 = _t2 * a
        _t4 = x * x
        _t5 = _t4 * 0.1
        x = _t3 + _t5
        return x
    """
    after = nested(source)
    assert "x = math.sin(x) * a + x * x * 0.1" in after and "_t" not in after
    same_results(source, after, 0.3, 1.7)


@pytest.mark.parametrize(
    ("between", "why"),
    [
        ("a = a * 2.0", "a name the expression reads is bound again"),
        ("a[0] = 5.0", "an item of the array it reads is written"),
        ("a += 1.0", "the array it reads is augmented in place"),
        ("effect(a)", "a call that may change the array"),
        ("del a", "a name it reads is deleted"),
        ("np.add(a, 1.0, a)", "a ufunc given its out by position"),
        ("if a[0] > 5.0:\n            raise ValueError", "a jump: the value would not be computed on that path"),
    ],
)
def test_a_temporary_stays_where_what_it_reads_may_change(between, why):
    source = f"""
    def f(a):
        _t1 = a * 3.0
        {between}
        return _t1 + 1.0
    """
    assert "_t1 = a * 3.0" in nested(source), why


def test_a_number_is_not_changed_by_a_write_into_memory():
    source = """
    def f(s, b):
        _t1 = s * 3.0
        b[0] = 5.0
        effect(b)
        return _t1 + b
    """
    after = nested(source)
    assert "return s * 3.0 + b" in after
    same_results(source, after, 2.0, np.ones(3))
    assert "_t1 = s * 3.0" in nested(source, scalars=frozenset())  # s not proven a number: it may be an array


@pytest.mark.parametrize(
    ("reading", "moves"),
    [
        ("y = effect(a) + _t1", False),  # effect runs before _t1 would be computed there
        ("y = effect(_t1)", True),  # the argument is computed before the call
        ("y = np.sin(a) + _t1", True),  # a ufunc changes nothing
        ("y = np.add(a, 1.0, out=a) + _t1", False),  # out= writes
        ("y = np.add(a, 1.0, a) + _t1", False),  # so does an out given by position
        ("y = (b := a) + _t1", False),  # a binding inside the statement
        ("y = a[0] if a[1] > 0 else _t1", False),  # maybe not evaluated
        ("y = a[1] > 0 and _t1", False),
        ("y = (lambda: _t1)()", False),
        ("y = [_t1 for _ in range(2)]", False),
        ("y = 0.0 < a[0] < _t1", False),
    ],
)
def test_the_reading_statement_takes_it_only_where_it_runs_once_and_after_no_effect(reading, moves):
    source = f"""
    def f(a):
        _t1 = np.sin(a) * 3.0
        {reading}
        return y
    """
    after = nested(source)
    assert ("_t1 = " not in after) == moves, after
    if moves and "effect(" not in reading and "out=" not in reading:
        same_results(source, after, np.array([0.5, 2.0]))


def test_blocks_and_headers():
    source = """
    def f(a, n):
        _t1 = a * 2.0
        _t2 = n + 1
        _t3 = a * 3.0
        _t4 = a * 4.0
        if np.sum(_t1) > 0:
            a = a * 0.5
        for i in range(_t2):
            a = a + _t3
        while np.sum(_t4) < 0:
            a = a - 1.0
        return a
    """
    after = nested(source, scalars=frozenset({"n"}))
    assert "if np.sum(a * 2.0) > 0:" in after and "range(n + 1)" in after  # read once, before the block
    assert "_t3 = a * 3.0" in after  # read in a loop's block: each round would compute it again
    assert "_t4 = a * 4.0" in after  # a while test is read each round
    same_results(source, after, np.ones(2), 3)


@pytest.mark.parametrize(
    "source",
    [
        "def f(a):\n    _t1 = a * 2.0\n    return _t1 + _t1",  # read twice
        "def f(a):\n    _t1 = a * 2.0\n    _t1 = _t1 + 1.0\n    return _t1",  # assigned twice
        "def f(a):\n    t = a * 2.0\n    return t + 1.0",  # the user's own name
        "def f(a):\n    _t1 = a * 2.0\n    y = _t1 + 1.0\n    del _t1\n    return y",  # deleted
        "def f(a):\n    _t1 = effect(a)\n    return _t1 + a",  # its own call may have effects
    ],
)
def test_what_is_not_a_temporary_read_once_stays(source):
    assert nested(source) == ast.unparse(ast.parse(source).body[0])


def scalar_loop(x, a):
    for _ in range(50):
        x = math.sin(x) * a + x * x * 0.1
    return x


def scalar_loop_autograd(x, a):
    for _ in range(50):
        x = anp.sin(x) * a + x * x * 0.1
    return x


def test_the_scalar_loop_reads_as_written_and_its_gradient_is_right():
    g = srcdiff.grad(scalar_loop, wrt=(0, 1))
    text = srcdiff.source(g, 0.3, 0.9)
    assert "* a + x * x * 0.1" in text  # the forward sweep: one statement, as the user wrote it
    expected = autograd.grad(scalar_loop_autograd, (0, 1))(0.3, 0.9)
    np.testing.assert_allclose(g(0.3, 0.9), expected, rtol=1e-12)
    gg = srcdiff.grad(srcdiff.grad(scalar_loop))
    np.testing.assert_allclose(gg(0.3, 0.9), autograd.grad(autograd.grad(scalar_loop_autograd))(0.3, 0.9), rtol=1e-10)
