"""Random programs: statements, reassignments, branches and loops, checked against autograd.

Hypothesis writes small functions from a grammar of the language srcdiff handles, the test
saves each to a file (srcdiff reads source) and compares srcdiff's gradient with autograd's
on the very same code (``np`` bound to autograd.numpy). Combinations no one thought to write
by hand are where a transformer's bookkeeping breaks.
"""

import importlib.util
import itertools
import os
import re
import types

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import srcdiff

EXAMPLES = int(os.environ.get("SRCDIFF_PROGRAMS", "60"))  # SRCDIFF_PROGRAMS=1000 for a deeper search
NAMES = ["x", "y", "a", "b"]
UNARY = ["np.sin({})", "np.cos({})", "np.tanh({})", "({}) * ({})", "np.exp(0.1 * ({}))", "-({})"]
BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({}) * ({}))"]
_counter = itertools.count()


def expressions(names):
    leaves = st.one_of(st.sampled_from(names), st.sampled_from(["0.5", "2.0", "-1.25"]))

    def grow(children):
        unary = st.tuples(st.sampled_from(UNARY), children).map(lambda t: t[0].format(t[1], t[1]))
        binary = st.tuples(st.sampled_from(BINARY), children, children).map(lambda t: t[0].format(t[1], t[2], t[2]))
        return unary | binary

    return st.recursive(leaves, grow, max_leaves=4)


@st.composite
def programs(draw):
    """A function of x and y, a list of source lines, using only names already assigned."""
    lines, names, depth = [], ["x", "y"], 1
    for _ in range(draw(st.integers(2, 6))):
        kind = draw(st.sampled_from(["assign", "assign", "augment", "if", "for"]))
        target = draw(st.sampled_from(NAMES))
        value = draw(expressions(names))
        if value in NAMES:  # a bare copy would alias an array, and += on it would then write through
            value = f"1.0 * {value}"
        pad = "    " * depth
        if kind == "augment" and target in names and target not in ("x", "y"):  # never write into the inputs
            lines.append(f"{pad}{target} += {value}")
        elif kind == "if":
            test = draw(expressions(names))
            other = draw(expressions(names))
            other = f"1.0 * {other}" if other in NAMES else other  # (a bare copy, as above)
            lines += [
                f"{pad}if np.sum({test}) > 0.1:",
                f"{pad}    {target} = {value}",
                f"{pad}else:",
                f"{pad}    {target} = {other}",
            ]
        elif kind == "for":
            body = draw(expressions(names + ([target] if target in names else [])))
            steps = draw(st.integers(0, 3))
            lines += [f"{pad}for k in range({steps}):", f"{pad}    {target} = {body} + 0.1 * k"]
            if target not in names:  # a loop that may not run leaves the name unbound
                lines.insert(0, f"{pad}{target} = 0.0")
        else:
            lines.append(f"{pad}{target} = {value}")
        names = sorted(set(names) | {target})
    result = " + ".join(names)
    return "def program(x, y):\n" + "\n".join(lines) + f"\n    return np.sum({result})\n"


def load(source: str, tmp_path) -> types.FunctionType:
    path = tmp_path / f"generated_{next(_counter)}.py"
    path.write_text("import numpy as np\n\n\n" + source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.program


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # autograd, for constant programs
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(programs(), st.sampled_from([(0.7, -0.4), (np.array([0.3, -1.1, 0.8]), 0.25)]))
def test_random_programs_match_autograd(tmp_path, source, args):
    f = load(source, tmp_path)
    # autograd cannot add a box into a plain array in place; without aliases a += v means a = a + (v)
    valued = re.sub(r"^(\s*)(\w+) \+= (.*)$", r"\1\2 = \2 + (\3)", source, flags=re.M)
    g = load(valued, tmp_path)
    reference = types.FunctionType(g.__code__, {**g.__globals__, "np": anp}, g.__name__)
    with np.errstate(all="ignore"):
        expected = [autograd.grad(reference, i)(*args) for i in (0, 1)]
    if not all(np.all(np.isfinite(e)) for e in expected):
        return  # overflow: nothing to compare
    got = srcdiff.grad(f, wrt=(0, 1))(*args)
    for g, e, a in zip(got, expected, args):
        assert np.shape(g) == np.shape(a), source
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-11, err_msg=source)


def test_the_grammar_writes_loops_branches_and_augmented_assignments(tmp_path):
    # the generator must really reach the constructs it is meant to test (no shrinking: any hit will do)
    quick = settings(database=None, phases=[Phase.generate], max_examples=200)
    for construct in ("for k in range", "if np.sum(", " += "):
        load(find(programs(), lambda s, c=construct: c in s, settings=quick), tmp_path)  # and it is Python
