"""The benchmark script runs and prints its table; speed itself is never asserted here."""

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
ROWS = ("scalar loop", "Horner", "linear regression", "MLP", "per-call overhead", "in-place", "Hessian-vector product")


def test_quick_run_prints_a_row_per_problem_with_a_srcdiff_column():
    done = subprocess.run([sys.executable, str(RUN), "--quick"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    column = header.index("srcdiff µs")
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    for name in ROWS:
        row = next((r for r in rows if r[0].startswith(name)), None)
        assert row is not None, f"no row for {name!r} in:\n{done.stdout}"
        assert len(row) == len(header) and row[column], row
