"""The benchmarks compute what they claim: srcdiff's derivative of every problem agrees with the
hand-written one, and the script runs and prints its tables. Speed itself is never asserted here."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import measure  # noqa: E402
from problems import PROBLEMS  # noqa: E402


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.key for p in PROBLEMS])
def test_srcdiff_agrees_with_the_hand_written_derivative(problem):
    args = problem.inputs()
    expected = problem.driver(problem.backward, *args) if problem.driver else problem.backward(*args)
    for column, (thunk, to_numpy) in measure._srcdiff_ways(problem, args).items():
        if to_numpy is not None:  # None: timed beside, a different quantity (one gradient, for the HVP)
            assert measure._disagreement(to_numpy(thunk()), expected) == "", column


def test_quick_run_prints_a_row_per_problem_with_a_srcdiff_column():
    command = [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--peers", "none", "--no-build-cost"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = lines[start : next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    column = header.index("srcdiff")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    for problem in PROBLEMS:
        row = next((r for r in rows if r[0] == problem.label), None)
        assert row is not None, f"no row for {problem.label!r} in:\n{done.stdout}"
        assert len(row) == len(header) and row[column].endswith("×)"), row
    for title in ("Hand-written time in each", "First call", "Peak memory"):
        assert f"**{title}" in done.stdout
