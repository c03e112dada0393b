"""Measure one implementation in this process: ``python benchmarks/measure.py IMPLEMENTATION``.

``run.py`` starts this script once per implementation (``hand-written``, ``srcdiff``, or a
peer from ``peers.py``), so that no implementation runs in a process another one's imports
have changed: with jax or torch loaded, the same hand-written NumPy code ran up to 2.3× faster
(their imports change how glibc's allocator serves NumPy's large temporaries, and page faults
dominated those). Each process therefore times the hand-written derivative too, in the same
rounds as the implementation, and ratios are taken against that.

For each problem: the implementation's derivative is checked against the hand-written one
(``np.allclose``, rtol 1e-6, atol 1e-9) and left untimed when it disagrees; its first call is
timed on its own (srcdiff's build, jax.jit's trace and compile); then both are timed in
interleaved rounds; and for problems that ask for it, the peak memory of one call is taken
with ``tracemalloc`` (which sees NumPy's arrays, not jax's or torch's).

Prints one JSON object per line: first the implementation's versions (or why it was skipped),
then one per problem. ``run.py`` turns them into tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread, set before NumPy or torch start their pools: these problems are small,
# and on a small shared machine pool threads spinning against other work cost more than they
# save (torch's MLP went from ~0.3 ms to ~140 ms that way). Set these variables to override.
# Only as a script: imported (by the tests), NumPy's pool has started and the environment is theirs.
if __name__ == "__main__":
    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")
    os.environ.setdefault("SRCDIFF_CACHE_DIR", "")  # srcdiff's first call is a build, not a read from the disk cache

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's srcdiff, installed or not

from peers import PEERS, Unsupported  # noqa: E402
from problems import PROBLEMS, Problem  # noqa: E402

RTOL, ATOL = 1e-6, 1e-9
HAND = "hand-written"

Thunk = Callable[[], Any]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("implementation", help=f"{HAND}, srcdiff, or one of: {', '.join(PEERS)}")
    parser.add_argument("--target", type=float, default=0.004, help="seconds per batch of calls")
    parser.add_argument("--repeats", type=int, default=60, help="rounds; the best counts")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of rounds per problem, at least 3 rounds")
    parser.add_argument("--only", help="comma-separated problem keys (default: all)")
    options = parser.parse_args(argv)
    name = options.implementation
    problems = [p for p in PROBLEMS if not options.only or p.key in options.only.split(",")]

    header: dict[str, Any] = {"implementation": name, "python": platform.python_version(), "numpy": np.__version__}
    try:
        setup = _loader(name, header)
    except ImportError as error:  # the library itself missing, or something it imports (tangent: tensorflow)
        missing = error.name == name.split(".")[0]
        _emit({**header, "skipped": "not installed" if missing else f"failed to import ({_reason(error)})"})
        return 0
    except Exception as error:  # a broken installation is a note, not a crash
        _emit({**header, "skipped": f"failed to load ({_reason(error)})"})
        return 0
    _emit(header)
    numpy_arrays = name in (HAND, "srcdiff") or PEERS[name].numpy_arrays
    for problem in problems:
        _emit(_measure(problem, name, setup, options, numpy_arrays))
    return 0


# How an implementation computes a problem's derivative: setup(problem, args) -> {column: (thunk,
# how its result reads as the derivative, or None: a different quantity, timed but not checked)}.
# The first column is the implementation's own; a failure to set up raises.
Setup = Callable[[Problem, tuple], dict[str, tuple[Thunk, Callable[[Any], Any] | None]]]


def _loader(name: str, header: dict[str, Any]) -> Setup:
    """Import the implementation (raising ImportError when it is not installed); record its version."""
    if name == HAND:
        return lambda problem, args: {}
    if name == "srcdiff":
        import srcdiff

        header["srcdiff"] = srcdiff.__version__
        return _srcdiff_ways
    if name not in PEERS:
        raise SystemExit(f"unknown implementation {name!r}")
    peer = PEERS[name]
    header[name.split(".")[0]] = peer.load()

    def setup(problem: Problem, args: tuple) -> dict[str, tuple[Thunk, Callable[[Any], Any] | None]]:
        thunk, to_numpy = peer.setup(problem.key, args)
        return {name: (thunk, to_numpy)}

    return setup


def _srcdiff_ways(problem: Problem, args: tuple) -> dict[str, tuple[Thunk, Callable[[Any], Any] | None]]:
    """srcdiff as a user calls it, the generated function called directly (the difference is the
    per-call dispatch), and for the HVP two other srcdiff ways, timed alongside for comparison."""
    import srcdiff

    if problem.derivative == "hvp":
        h = srcdiff.hvp(problem.f, wrt=problem.wrt)
        *primals, v = args
        gradient = srcdiff.grad(problem.f, wrt=problem.wrt)
        h(*args)  # the build, before reaching the generated code
        built = h.tangents.entry(h.gradient.wrt, h.tangents.argument_kinds(tuple(primals)))
        fn = built.functions[built.entry]
        return {
            "srcdiff": ((lambda: h(*args)), _same),
            "generated": ((lambda: fn(v, *primals)), lambda r: r[1]),  # (the gradient, H @ v)
            "reverse over reverse, vjp(grad(f)) along v": (
                (lambda: srcdiff.vjp(gradient, *primals)[1](v)[problem.wrt]),
                _same,
            ),
            "one gradient, grad(f)": ((lambda: gradient(*primals)), None),
        }
    g = srcdiff.grad(problem.f, wrt=problem.wrt)
    if problem.derivative == "grad2":
        g = srcdiff.grad(g, wrt=problem.wrt)
    g(*args)  # the build, before reaching the generated code
    fn = g.specialize(args, {})[0]
    if isinstance(problem.wrt, tuple) and len(problem.wrt) == 1:  # grad makes that tuple, not the generated code
        generated = lambda *a: (fn(*a),)
    else:
        generated = fn
    if problem.driver is not None:
        return {
            "srcdiff": ((lambda: problem.driver(g, *args)), _same),
            "generated": ((lambda: problem.driver(generated, *args)), _same),
        }
    return {"srcdiff": ((lambda: g(*args)), _same), "generated": ((lambda: generated(*args)), _same)}


def _same(result: Any) -> Any:
    return result


def _measure(problem: Problem, name: str, setup: Setup, options: argparse.Namespace, numpy_arrays: bool) -> dict:
    """One problem's line: times in µs, first-call time in ms, peak memory in bytes, and notes."""
    args = problem.inputs()
    hand: Thunk = (lambda: problem.driver(problem.backward, *args)) if problem.driver else (lambda: problem.backward(*args))
    expected = hand()
    line: dict[str, Any] = {"problem": problem.key, "times": {}, "status": {}, "first_call_ms": {}, "memory": {}, "notes": []}
    thunks = {HAND: hand}
    if name != HAND:
        start = time.perf_counter()
        try:
            ways = setup(problem, args)
            first = next(iter(ways))
            ways[first][0]()  # srcdiff's build is done in setup; a peer's first call (jax.jit compiles) here
        except Unsupported as reason:
            line["status"][name] = "unsupported"
            line["notes"].append(f"{name}: unsupported ({reason})")
            ways = {}
        except Exception as error:  # a failure is a result to report, not a crash
            line["status"][name] = "unsupported" if name == "srcdiff" else "failed"
            line["notes"].append(f"{name}: {line['status'][name]} ({_reason(error)})")
            ways = {}
        else:
            line["first_call_ms"][name] = (time.perf_counter() - start) * 1e3
        for column, (thunk, to_numpy) in ways.items():
            wrong = to_numpy and _disagreement(to_numpy(thunk()), expected)
            if wrong:
                line["status"][column] = "wrong derivative"
                line["notes"].append(f"{column}: wrong derivative, not timed ({wrong})")
            else:
                thunks[column] = thunk
    line["times"] = _time(thunks, options.target, options.repeats, options.budget)
    if problem.memory and numpy_arrays:
        line["memory"] = {column: _peak(thunk) for column, thunk in thunks.items()}
    return line


def _disagreement(got: Any, expected: Any) -> str:
    """Why ``got`` is not ``expected`` (a derivative or a tuple of them), or '' when they agree."""
    got = got if isinstance(expected, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(got, tuple) or len(got) != len(expected):
        return f"expected {len(expected)} values, got {type(got).__name__}"
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return f"value {i}: shape {a.shape}, expected {b.shape}"
        if not np.allclose(a, b, rtol=RTOL, atol=ATOL):
            return f"value {i}: max abs difference {np.max(np.abs(a - b)):.3g}"
    return ""


def _time(thunks: dict[str, Thunk], target: float, repeats: int, budget: float) -> dict[str, float]:
    """Best time of one call of each thunk, in µs.

    Each thunk's calls are batched until a batch takes about ``target`` seconds;
    then every round times one batch of each thunk in turn, so that load from
    other processes on a small machine hits all columns alike, and the best
    round counts. Batches are kept short (a few ms, about one scheduler time
    slice) so that many of them run without being preempted on a busy machine.
    Rounds stop after ``repeats``, or once they have taken ``budget`` seconds
    (after at least three): a slow peer's long calls do not stretch the run.
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
    start = time.perf_counter()
    for round_ in range(repeats):
        for name in order:
            best[name] = min(best[name], timers[name].timeit(numbers[name]) / numbers[name] * 1e6)
        order.reverse()  # no column always runs right after the same neighbour
        if round_ >= 2 and time.perf_counter() - start > budget:
            break
    return best


def _peak(thunk: Thunk) -> int:
    """Bytes allocated at the peak of one call, over what was allocated before it (tracemalloc)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = thunk()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def _reason(error: BaseException) -> str:
    first = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first}"


def _emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


if __name__ == "__main__":
    sys.exit(main())
