"""Random programs over docs/supported-python.md, checked against autograd or central differences.

``tests/program_generator.py`` writes each program as Python source (helpers with keyword
arguments, defaults, tuple results and recursion; in-place writes and views of the arrays
written; lists, tuples and nested lists; dicts holding dicts and loops over them; loops that may not run,
break/continue/early return, branches on data; discarded calls; while True, for-else, local functions and
lambdas, max/min/sorted, star unpacking, map, dict displays, np.where and index arrays with repeats;
broadcasting; NumPy elementwise ops, reductions, matmul and indexing; arrays given second names
through containers, helpers, index variables, swaps and stop_gradient, then written; Python's
container semantics) and checks srcdiff's value and gradient, its structure, jvp and vjp on one
program in five, and ``grad(grad(f))`` for float arguments. A refusal
(``srcdiff.SrcdiffError``) is acceptable and counted by feature; anything else is a failure,
printed with its seed, its source and a shrunk version.

Two runs of the same test:

- CI (no environment variable): the first seeds of each of ``CI_PROFILES``,
  small programs whose weights leave out what ``KNOWN_FAILING`` lists: single features, and
  pairs of features that fail together (helpers, in-place writes and second order each
  have a profile without the other two). Each entry names the regression tests in
  tests/test_found_programs.py that show the bug; when a fix makes those pass (their strict
  xfails then fail), remove the marks and the entry, and CI generates the feature again.
- Deep: ``SRCDIFF_PROGRAMS=N`` (and optionally ``SRCDIFF_SEED=S``) checks N programs from seed
  S with every feature at its full weight; it fails listing every failure, grouped by
  signature, the shortest two of each shrunk. ``python -m tests.program_shrinker S N`` does
  the same outside pytest.
"""

import os

import pytest

from tests import program_checker as checker
from tests import program_generator as gen
from tests import program_shrinker as shrinker

# What fails today, each shown by a strict xfail in tests/test_found_programs.py. CI leaves
# these features (or, for pairs, their combination) out; the deep run generates them all.
# Empty: every program the generator found wrong is right (or refused) now.
KNOWN_FAILING: dict = {}
HELPER_FEATURES = ("helpers", "kwargs", "nested_calls", "recursion")


# most aliasing programs are refused by design (a write into data a later read shares): CI makes fewer of them,
# so that its refusal rate still shows refusals of programs srcdiff should take
CI_LIGHTER = {"aliasing": 0.12}


def without(*features: str) -> dict[str, float]:
    """WEIGHTS (lighter where CI_LIGHTER says) with these features and every single known-failing feature off."""
    off = set(features) | {f for f in KNOWN_FAILING if isinstance(f, str)}
    return {feature: 0.0 if feature in off else CI_LIGHTER.get(feature, weight) for feature, weight in gen.WEIGHTS.items()}


# CI: three profiles, so that each feature of a known-failing pair is still generated, just not with the other.
CI_PROFILES = {  # name: (programs, weights)
    "every feature": (120, without()),
    "in-place writes, no helpers, first order": (70, without(*HELPER_FEATURES, "second_order")),
    # (aliasing is in-place writes too: into data a second name shares)
    "helpers, no in-place writes, first order": (70, {**without("inplace", "aliasing", "second_order"), "helpers": 0.9}),
    "second order, no helpers, no in-place writes": (
        40,
        {**without(*HELPER_FEATURES, "inplace", "aliasing"), "second_order": 0.9},
    ),
}
CI_SIZE = 5  # statements in a program's body (at most): building gradients of big programs is what takes time
DEEP = int(os.environ.get("SRCDIFF_PROGRAMS", "0"))
FIRST_SEED = int(os.environ.get("SRCDIFF_SEED", "0"))


def failure_report(report: checker.Report, shrink_each: int = 2) -> str:
    lines = [report.summary()]
    shown: dict[str, int] = {}
    for program, outcome in sorted(report.failures, key=lambda f: len(f[0].source)):
        shown[outcome.signature] = shown.get(outcome.signature, 0) + 1
        lines.append(f"\nFAIL seed {program.seed}: {outcome.signature}\n{outcome.detail}")
        if shown[outcome.signature] <= shrink_each:
            small = shrinker.shrink(program, outcome, budget=30.0)
            lines.append(f"shrunk:\n{small.describe()}")
        else:
            lines.append(program.describe())
    for program, outcome in report.invalid:
        lines.append(
            f"\nINVALID (a generator bug) seed {program.seed}: {outcome.signature} {outcome.detail}\n{program.describe()}"
        )
    return "\n".join(lines)


@pytest.mark.filterwarnings("ignore::UserWarning")  # autograd: "Output seems independent of input"
def test_generated_programs():
    if DEEP:
        reports = [checker.run(range(FIRST_SEED, FIRST_SEED + DEEP))]
    else:
        reports = [checker.run(range(programs), weights, CI_SIZE) for programs, weights in CI_PROFILES.values()]
    for report in reports:
        print(report.summary())  # refusals by feature: shown with pytest -s, or -rA
        assert not report.failures and not report.invalid, failure_report(report)
        if not DEEP:
            assert report.outcomes["pass"] >= 0.8 * sum(report.outcomes.values()), report.summary()  # refusals stay rare


def test_the_generator_reaches_every_feature():
    used = set()
    for seed in range(300):
        used |= gen.generate(seed).features
    assert used == set(gen.FEATURES)


def test_ci_programs_use_every_feature_not_known_to_fail():
    used = set()
    for programs, weights in CI_PROFILES.values():
        for seed in range(programs):
            used |= gen.generate(seed, weights, CI_SIZE).features
    assert used == set(gen.FEATURES) - set(KNOWN_FAILING)


@pytest.mark.parametrize(
    "pattern",
    [
        ".copy()",  # writes into a copy of an argument
        "] = ",  # index and slice writes
        "] += ",
        "] *= ",
        "np.zeros(",
        "while ",
        '    print("step", k',  # a loop variable taken again by a loop with no derivative
        "srcdiff.grad(inner_loss)(",  # a gradient called inside the program
        "= INNER_GRAD(",
        "break",
        "continue",
        "print(",
        "for a",  # for a, b in ps
        "depth - 1",  # the recursive helper
        "xs[1:3]",
        ".append(",
        ".pop()",
        "scale=",  # keyword arguments and defaults
        " @ ",
        "raise ValueError",  # in a branch never taken
        "SCALE * ",  # a module-level constant
        " for e",  # comprehensions
        "sum((",  # a generator expression
        "reversed(range(",
        ": float = ",
        "np.reshape(",  # views: a second name for an array's data
        ".T.T",
        "['sub'].items()",  # loops over a dict held in a dict
        ".values():",
        "while True:",
        "lambda p",  # a local lambda, or one given to map
        "    def lf",  # a local function
        "[np.array([1, 1, 0])] += ",  # a repeated index written
        "else:\n        ",  # for-else (or an if's else)
        "obj.sum(",  # an object argument's own method, named like an array's
        "m.sin(",  # a module passed as a parameter's default
        # aliasing: an array held in a container, or returned by a helper, then written through either name
        "= [t",
        "pair",
        "{'k': t",
        ".append(t",
        "= ident(t",
        "= with_double(t",
        "= listed(t",
        "= slice(",  # indices of every kind held in variables
        "= Ellipsis",
        "= np.argmax(",
        "= np.array([",
        "[1], t",  # a swap of rows or elements by tuple assignment
        "[::-1] = t",  # an array written with itself
        "np.linspace(0.5, 0.7",  # a constant array held in a container, read there, then written
        "srcdiff.stop_gradient(",
        # Python's containers
        ".pop(0)",
        "while q",
        " = {}\n",
        ".items():\n        out",
        " is None else",
        "sum([[",
        "list(reversed(",
        "= tuple(",
    ],
)
def test_the_generator_writes(pattern):
    assert any(pattern in gen.generate(seed).source for seed in range(400))


def test_programs_are_deterministic():
    for seed in (0, 7, 123):
        a, b = gen.generate(seed), gen.generate(seed)
        assert a.source == b.source and gen.args_repr(a.args) == gen.args_repr(b.args)


def test_shrinker_keeps_what_the_failure_needs():
    source = (
        "import numpy as np\n\n\n"
        "def h(u, scale=1.5):\n"
        "    v = u * scale\n"
        "    return np.tanh(v) + u\n\n\n"
        "def program(x, y):\n"
        "    a = x * y + 1.0\n"
        "    b = np.cos(a) * np.sin(y)\n"
        "    if np.sum(a) > 0.0:\n"
        "        b = b + h(a, scale=2.0)\n"
        "    for k in range(3):\n"
        "        b = b * 0.5\n"
        "    return np.sum(b) + x\n"
    )
    program = gen.Program(0, source, (0.5, 0.25), frozenset())

    def still_fails(candidate):  # a stand-in failure: the program runs and still calls np.tanh
        try:
            gen.load(candidate.source)(*candidate.args)
        except Exception:
            return False
        return "np.tanh" in candidate.source

    small = shrinker.shrink(program, still_fails=still_fails)
    assert "np.tanh" in small.source and "np.cos" not in small.source and "for k" not in small.source
    assert len(small.source) < len(source) / 2
