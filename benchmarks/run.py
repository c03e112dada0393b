"""Time srcdiff against hand-written derivatives and the installed peers, each in its own process.

Run from a clone: ``python benchmarks/run.py`` (several minutes with every peer installed), or
``python benchmarks/run.py --quick`` (short timings, for a smoke test or a first look). Prints
the Markdown tables of the README's Benchmarks section.

Each implementation (hand-written NumPy, srcdiff, and each installed peer: srcdiff[numba], autograd,
jax.jit, torch, tangent) runs in a process of its own, ``measure.py``, because importing jax or torch
changes how fast the same NumPy code runs (see ``measure.py``). Each of those processes times
the hand-written derivative alongside its implementation, and every ratio is to the
hand-written time *in the same process* (with ``--processes N``, default 3 and 1 with
``--quick``, each column's best over N fresh processes). Every implementation's derivative is checked
against the hand-written one before it is timed; one that disagrees is not timed.

Columns: ``srcdiff`` is a call through ``srcdiff.grad(f, wrt=...)`` as a user makes it;
``generated`` calls the generated function directly (what ``srcdiff.source`` prints), so the
difference is the per-call dispatch cost. First calls (srcdiff's build, jax.jit's trace and
compile) are timed once and reported in their own table. NumPy's BLAS and torch run on one
thread (see ``measure.py``); set OMP_NUM_THREADS and friends to change that.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from peers import PEERS  # noqa: E402  (imports NumPy, not the peers themselves)
from problems import PROBLEMS  # noqa: E402

HAND = "hand-written"
SRCDIFF_COLUMNS = ("srcdiff", "generated")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short timings (5 rounds, 2 ms batches), for a smoke test")
    parser.add_argument("--peers", help=f"comma-separated peers to try, or 'none' (default: all of {', '.join(PEERS)})")
    parser.add_argument("--only", help="comma-separated problem keys to run (default: all)")
    parser.add_argument("--no-build-cost", action="store_true", help="leave out build_cost.py's tables")
    parser.add_argument("--processes", type=int, help="fresh processes per implementation; the best of each column counts")
    options = parser.parse_args(argv)
    if options.quick:
        timing = ["--target", "0.002", "--repeats", "5", "--budget", "2"]
    else:
        timing = ["--target", "0.004", "--repeats", "60", "--budget", "20"]
    if options.only:
        timing += ["--only", options.only]
    processes = options.processes or (1 if options.quick else 3)
    wanted = list(PEERS) if options.peers is None else [p for p in options.peers.split(",") if p and p != "none"]
    problems = [p for p in PROBLEMS if not options.only or p.key in options.only.split(",")]

    notes: list[str] = []
    runs: dict[str, tuple[dict[str, Any], dict[str, dict]]] = {}
    for name in [HAND, "srcdiff", *(p for p in PEERS if p in wanted)]:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        header, lines = _measure(name, timing, processes, notes)
        if header is not None:
            runs[name] = (header, lines)
    notes += [f"{name}: not requested, skipped" for name in PEERS if name not in wanted]
    notes += [f"{name}: unknown peer, ignored" for name in wanted if name not in PEERS]
    if HAND not in runs:
        print("\n".join(notes), file=sys.stderr)
        return 1

    columns = [c for c in (*SRCDIFF_COLUMNS, *PEERS) if any(c in _cells(runs, p.key, "times") for p in problems)]
    columns += [name for name in runs if name not in (HAND, "srcdiff") and name not in columns]  # peers with no time at all
    print(_machine(runs))
    print()
    rounds = "quick run: best of 5 rounds" if options.quick else "best of 60 rounds"
    print(f"**Time per derivative** ({rounds} in each of {processes} process(es) per implementation); (×) is the time")
    print("over the hand-written derivative's time measured in the same processes.")
    print()
    print(_time_table(runs, problems, columns))
    print()
    print("**Hand-written time in each implementation's process** (NumPy alone, and beside each library's imports).")
    print()
    print(_hand_table(runs, problems))
    print()
    print("**First call, ms** (srcdiff: parse, transform, compile; jax.jit: trace and compile; others: setup and one call).")
    print()
    print(_first_call_table(runs, problems))
    memory = _memory_table(runs, problems)
    if memory:
        print()
        print("**Peak memory of one call** (tracemalloc: NumPy's allocations, so jax and torch are not measured).")
        print()
        print(memory)
    notes += _problem_notes(runs, problems)

    # --- hook: build cost ---------------------------------------------------------------------
    # benchmarks/build_cost.py (written on the `speed` branch) measures what srcdiff costs before
    # the first gradient: grad's first call on straight-line functions of 50-2,000 statements,
    # hessian of a 20-line function, import time. When the module is there, its tables follow
    # ours. It times each measurement in fresh processes of its own, so it is started as a
    # script (with --quick when we have it), not imported into this one; absent, nothing happens.
    build_cost = HERE / "build_cost.py"
    if build_cost.exists() and not options.no_build_cost:
        print(file=sys.stderr)
        print("measuring build cost (build_cost.py) ...", file=sys.stderr, flush=True)
        command = [sys.executable, str(build_cost), *(["--quick"] if options.quick else [])]
        done = subprocess.run(command, capture_output=True, text=True)
        print()
        print("**Build cost** (benchmarks/build_cost.py: fresh processes, the minimum of repeats).")
        print()
        print(done.stdout.rstrip() if done.returncode == 0 else f"build_cost.py failed: {_last_line(done.stderr)}")
    # --- end of hook ---------------------------------------------------------------------------

    print()
    print("Notes:")
    for note in notes:
        print(f"- {note}")
    return 0


def _measure(name: str, timing: list[str], processes: int, notes: list[str]) -> tuple[dict[str, Any] | None, dict[str, dict]]:
    """Run measure.py for one implementation ``processes`` times: its header line, and its line per
    problem with each column's best time over the processes (hand-written's included).

    More than one process, because one process can stay slow for one column: in a process of its
    own, a column's best of 30 rounds came out 2× its time in the next process, for the
    hand-written RNN as for srcdiff's (the state of the allocator, or where arrays landed).
    """
    header, lines = None, {}
    for _ in range(processes):
        done = subprocess.run([sys.executable, str(HERE / "measure.py"), name, *timing], capture_output=True, text=True)
        objects = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not objects:
            notes.append(f"{name}: its process failed ({_last_line(done.stderr)})")
            return None, {}
        if "skipped" in objects[0]:
            notes.append(f"{name}: {objects[0]['skipped']}, skipped")
            return None, {}
        header = objects[0]
        for line in objects[1:]:
            kept = lines.setdefault(line["problem"], line)
            for field in ("times", "first_call_ms"):
                for column, value in line[field].items():
                    kept[field][column] = min(value, kept[field].get(column, value))
    return header, lines


def _cells(runs: dict, key: str, field: str) -> dict[str, Any]:
    """Every process's ``field`` for one problem, merged: {column: value}."""
    merged: dict[str, Any] = {}
    for name, (_, lines) in runs.items():
        if key in lines:
            merged.update({c: v for c, v in lines[key][field].items() if c != HAND or name == HAND})
    return merged


def _hand_time(runs: dict, key: str, column: str) -> float | None:
    """The hand-written time measured in the same process as ``column``."""
    name = "srcdiff" if column in SRCDIFF_COLUMNS else column
    line = runs.get(name, ({}, {}))[1].get(key)
    return line["times"].get(HAND) if line else None


def _time_table(runs: dict, problems: list, columns: list[str]) -> str:
    rows = [["problem", HAND, *columns]]
    for problem in problems:
        hand = runs[HAND][1].get(problem.key, {}).get("times", {}).get(HAND)
        row = [problem.label, _duration(hand)]
        for column in columns:
            time, same = _cells(runs, problem.key, "times").get(column), _hand_time(runs, problem.key, column)
            if time is not None and same:
                row.append(f"{_duration(time)} ({_ratio(time / same)})")
            else:
                row.append(_cells(runs, problem.key, "status").get(column, "—"))
        rows.append(row)
    return _markdown(rows)


def _hand_table(runs: dict, problems: list) -> str:
    names = list(runs)
    rows = [["problem", *("alone" if n == HAND else f"beside {n}" for n in names)]]
    for problem in problems:
        row = [problem.label]
        for name in names:
            line = runs[name][1].get(problem.key)
            row.append(_duration(line["times"].get(HAND)) if line else "—")
        rows.append(row)
    return _markdown(rows)


def _first_call_table(runs: dict, problems: list) -> str:
    names = [n for n in runs if n != HAND]
    rows = [["problem", *names]]
    for problem in problems:
        first = _cells(runs, problem.key, "first_call_ms")
        rows.append([problem.label, *(f"{first[n]:.1f}" if n in first else "—" for n in names)])
    return _markdown(rows)


def _memory_table(runs: dict, problems: list) -> str:
    measured = [p for p in problems if _cells(runs, p.key, "memory")]
    columns = [c for c in (*SRCDIFF_COLUMNS, *PEERS) if any(c in _cells(runs, p.key, "memory") for p in measured)]
    if not measured:
        return ""
    rows = [["problem", HAND, *columns]]
    for problem in measured:
        memory = _cells(runs, problem.key, "memory")
        hand = memory.get(HAND)
        row = [problem.label, _size(hand)]
        for column in columns:
            same = runs["srcdiff" if column in SRCDIFF_COLUMNS else column][1][problem.key]["memory"].get(HAND)
            row.append(f"{_size(memory[column])} ({_ratio(memory[column] / same)})" if column in memory and same else "—")
        rows.append(row)
    return _markdown(rows)


def _problem_notes(runs: dict, problems: list) -> list[str]:
    """Each process's notes on each problem, and the srcdiff ways timed beside the srcdiff column."""
    notes = []
    for problem in problems:
        for name, (_, lines) in runs.items():
            line = lines.get(problem.key)
            if not line:
                continue
            notes += [f"{problem.label}: {note}" for note in line["notes"]]
            if name == "srcdiff" and "srcdiff" in line["times"]:
                for way, time in line["times"].items():
                    if way not in (HAND, *SRCDIFF_COLUMNS):
                        ratio = line["times"]["srcdiff"] / time
                        notes.append(f"{problem.label}: {way}: {_duration(time)}; the srcdiff column is {ratio:.2f}× it")
    return notes


def _markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows[1:]])


def _duration(us: float | None) -> str:
    if us is None:
        return "—"
    for unit, scale in (("s", 1e6), ("ms", 1e3)):
        if us >= scale:
            return f"{_figures(us / scale)} {unit}"
    return f"{_figures(us)} µs"


def _figures(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _ratio(ratio: float) -> str:
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×" if ratio < 100 else f"{ratio:.0f}×"


def _size(size: int | None) -> str:
    return "—" if size is None else f"{size / 2**20:.2f} MiB"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def _machine(runs: dict) -> str:
    """Date, CPU, cores, OS, Python, and every measured library's version."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    header = runs[HAND][0]
    versions = {"numpy": header["numpy"]}
    for name, (other, _) in runs.items():
        library = name.split(".")[0]
        if library in other:
            versions[library] = other[library] + (_commit() if library == "srcdiff" else "")
    libraries = ", ".join(f"{k} {v}" for k, v in versions.items())
    return (
        f"{datetime.date.today().isoformat()}; {cpu}, {os.cpu_count()} cores; {platform.system()}; "
        f"Python {header['python']}; {libraries}; each implementation in its own process."
    )


def _commit() -> str:
    """The commit of this checkout, when it is one."""
    try:
        command = ["git", "rev-parse", "--short", "HEAD"]
        commit = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" ({commit.strip()})" if commit.strip() else ""


if __name__ == "__main__":
    sys.exit(main())
