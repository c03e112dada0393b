"""Time srcdiff against hand-written backward passes and the installed peers, in one run.

Run from a clone: ``python benchmarks/run.py`` (about a minute), or
``python benchmarks/run.py --quick`` (a few seconds: short timings, and only the
autograd peer unless ``--peers`` says otherwise). Prints a Markdown table of
microseconds per gradient call, best of several repeats, with each ratio to the
hand-written backward pass. Every implementation's gradient is checked against
the hand-written one before it is timed; one that disagrees is not timed.

Columns: ``srcdiff`` is a call through ``srcdiff.grad(f, wrt=...)`` as a user
makes it; ``generated`` calls the generated function directly (what
``srcdiff.source`` prints), so the difference is the per-call dispatch cost;
``build`` is the first call, which transforms and compiles. NumPy's BLAS and torch
run on one thread (see below); set OMP_NUM_THREADS and friends to change that.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread, set before NumPy or torch start their pools: these problems are small,
# and on a small shared machine pool threads spinning against other work cost more than they
# save (torch's MLP went from ~0.3 ms to ~140 ms that way). Set these variables to override.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's srcdiff, installed or not

from peers import PEERS, Unsupported  # noqa: E402
from problems import PROBLEMS, Problem  # noqa: E402

import srcdiff  # noqa: E402

RTOL, ATOL = 1e-6, 1e-9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short timings, for a smoke test")
    parser.add_argument("--peers", help="comma-separated peers to try (default: all; with --quick, autograd)")
    parser.add_argument("--only", help="comma-separated problem keys to run (default: all)")
    options = parser.parse_args(argv)
    target, repeats = (0.002, 3) if options.quick else (0.004, 60)
    wanted = (options.peers if options.peers is not None else "autograd" if options.quick else ",".join(PEERS)).split(",")
    problems = [p for p in PROBLEMS if not options.only or p.key in options.only.split(",")]

    notes: list[str] = []
    versions = {"numpy": np.__version__, "srcdiff": _srcdiff_version()}
    peers = {}
    for name in PEERS:
        if name not in wanted:
            notes.append(f"{name}: not requested, skipped")
            continue
        try:
            versions[name.split(".")[0]] = PEERS[name].load()
            peers[name] = PEERS[name]
        except ImportError:
            notes.append(f"{name}: not installed, skipped")
        except Exception as error:  # a broken installation is a note, not a crash
            notes.append(f"{name}: failed to load, skipped ({_reason(error)})")

    print(_machine(versions))
    print()
    columns = ["problem", "hand-written µs", "srcdiff µs", "generated µs", *[f"{p} µs" for p in peers], "srcdiff build ms"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(columns) - 1)) + "|")
    for problem in problems:
        cells = _row(problem, peers, target, repeats, notes)
        print("| " + " | ".join([problem.label, *cells]) + " |", flush=True)
    print()
    print(f"µs per gradient call, best of {repeats} repeats; (×) = time / hand-written time.")
    for note in notes:
        print(f"- {note}")
    return 0


def _row(problem: Problem, peers: dict, target: float, repeats: int, notes: list[str]) -> list[str]:
    """The row's cells: every implementation is checked, then all are timed in interleaved rounds."""
    args = problem.inputs()
    expected = problem.backward(*args)
    thunks: dict[str, Callable[[], Any] | str] = {"hand-written": lambda: problem.backward(*args)}

    def check(column: str, thunk: Callable[[], Any], to_numpy: Callable[[Any], Any] = lambda r: r) -> Callable[[], Any] | str:
        wrong = _disagreement(to_numpy(thunk()), expected)
        if wrong:
            notes.append(f"{problem.label}: {column}: wrong gradient, not timed ({wrong})")
            return "wrong gradient"
        return thunk

    srcdiff_ways = _hvp_ways if problem.derivative == "hvp" else _grad_ways
    build, extras = "—", {}
    try:
        start = time.perf_counter()
        thunk, generated, extras = srcdiff_ways(problem, args)
        thunk()
        build = f"{(time.perf_counter() - start) * 1e3:.1f}"
        thunks["srcdiff"] = check("srcdiff", thunk)
    except Exception as error:  # a srcdiff failure is a result to report, not a crash
        notes.append(f"{problem.label}: srcdiff: unsupported ({_reason(error)})")
        thunks["srcdiff"] = thunks["generated"] = "unsupported"
    if "generated" not in thunks:
        try:
            generated_thunk, as_expected = generated()
        except Exception as error:  # Gradient.specialize is how we reach the generated function
            notes.append(f"{problem.label}: generated: not reachable ({_reason(error)})")
            thunks["generated"] = "—"
        else:
            thunks["generated"] = check("generated", generated_thunk, as_expected)
    extras = {name: check(name, thunk, to_numpy) if to_numpy else thunk for name, (thunk, to_numpy) in extras.items()}
    for name, peer in peers.items():
        try:
            thunk, to_numpy = peer.setup(problem.key, args)
            thunks[name] = check(name, thunk, to_numpy)
        except Unsupported as reason:
            notes.append(f"{problem.label}: {name}: unsupported ({reason})")
            thunks[name] = "unsupported"
        except Exception as error:  # a peer's failure is noted, never fatal
            notes.append(f"{problem.label}: {name}: failed ({_reason(error)})")
            thunks[name] = "failed"

    timed = {k: t for k, t in thunks.items() if callable(t)}
    times = _time({**timed, **{k: t for k, t in extras.items() if callable(t)}}, target, repeats)
    hand = times["hand-written"]
    if "srcdiff" in timed:  # the other srcdiff ways, timed in the same rounds: a note each
        for name in (n for n in extras if n in times):
            ratio = times["srcdiff"] / times[name]
            notes.append(f"{problem.label}: {name}: {_us(times[name])} µs; the srcdiff column is {ratio:.2f}× it")
    cells = [_us(hand)]
    for name, thunk in list(thunks.items())[1:]:
        cells.append(thunk if isinstance(thunk, str) else f"{_us(times[name])} ({times[name] / hand:.2f}×)")
    return [*cells, build]


# How srcdiff computes a problem's derivative: (the thunk a user writes, a function giving the
# generated code's thunk and how its result reads as the derivative, and other srcdiff ways
# to time alongside as name -> (thunk, how to read its result as the derivative, or None: not
# the same derivative, not checked)).
Ways = tuple[Callable[[], Any], Callable[[], tuple[Callable[[], Any], Callable[[Any], Any]]], dict]


def _grad_ways(problem: Problem, args: tuple) -> Ways:
    g = srcdiff.grad(problem.f, wrt=problem.wrt)

    def generated() -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        fn = g.specialize(args, {})[0]
        wrap = isinstance(problem.wrt, tuple)  # for a tuple of one wrt, grad makes the tuple, not the generated code
        return (lambda: fn(*args)), (lambda r: (r,) if wrap and type(r) is not tuple else r)

    return (lambda: g(*args)), generated, {}


def _hvp_ways(problem: Problem, args: tuple) -> Ways:
    """srcdiff.hvp (forward over reverse); alongside, reverse over reverse (the pullback of the
    generated gradient, along v) and one gradient, the cost the hvp is measured against."""
    h = srcdiff.hvp(problem.f, wrt=problem.wrt)
    *primals, v = args
    gradient = srcdiff.grad(problem.f, wrt=problem.wrt)

    def generated() -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        fn = h.tangents.compiled(h.gradient.wrt, h.tangents.argument_kinds(tuple(primals)))
        return (lambda: fn(v, *primals)), (lambda r: r[1])  # (the gradient, H @ v)

    def reverse_over_reverse() -> Any:
        return srcdiff.vjp(gradient, *primals)[1](v)[problem.wrt]

    extras = {
        "reverse over reverse, vjp(grad(f)) along v": (reverse_over_reverse, lambda r: r),
        "one gradient, grad(f)": ((lambda: gradient(*primals)), None),
    }
    return (lambda: h(*args)), generated, extras


def _us(t: float) -> str:
    return f"{t:.2f}" if t < 10 else f"{t:.1f}" if t < 1000 else f"{t:.0f}"


def _reason(error: Exception) -> str:
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first}"


def _disagreement(got: Any, expected: Any) -> str:
    """Why ``got`` is not ``expected`` (a gradient or a tuple of them), or '' when they agree."""
    got = got if isinstance(expected, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(got, tuple) or len(got) != len(expected):
        return f"expected {len(expected)} gradients, got {type(got).__name__}"
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return f"gradient {i}: shape {a.shape}, expected {b.shape}"
        if not np.allclose(a, b, rtol=RTOL, atol=ATOL):
            return f"gradient {i}: max abs difference {np.max(np.abs(a - b)):.3g}"
    return ""


def _time(thunks: dict[str, Callable[[], Any]], target: float, repeats: int) -> dict[str, float]:
    """Best time of one call of each thunk, in µs.

    Each thunk's calls are batched until a batch takes about ``target`` seconds;
    then every round times one batch of each thunk in turn, so that load from
    other processes on a small machine hits all columns alike, and the best
    round counts. Batches are kept short (a few ms, about one scheduler time
    slice) so that many of them run without being preempted on a busy machine.
    """
    timers, numbers = {}, {}
    for name, thunk in thunks.items():
        timers[name] = timer = timeit.Timer(thunk)
        number = 1
        while (elapsed := timer.timeit(number)) < target:
            number = max(number * 2, int(number * target / max(elapsed, 1e-9) * 1.2))
        numbers[name] = number
    best = {name: float("inf") for name in thunks}
    order = list(timers)
    for _ in range(repeats):
        for name in order:
            best[name] = min(best[name], timers[name].timeit(numbers[name]) / numbers[name] * 1e6)
        order.reverse()  # no column always runs right after the same neighbour
    return best


def _srcdiff_version() -> str:
    """The package version, and the commit of the checkout it comes from, when there is one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(srcdiff.__file__).parent, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{srcdiff.__version__} ({commit})" if commit else srcdiff.__version__


def _machine(versions: dict[str, str]) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    libraries = ", ".join(f"{k} {v}" for k, v in versions.items())
    return (
        f"{datetime.date.today().isoformat()}; {cpu}, {os.cpu_count()} cores; {platform.system()}; "
        f"Python {platform.python_version()}; {libraries}"
    )


if __name__ == "__main__":
    sys.exit(main())
