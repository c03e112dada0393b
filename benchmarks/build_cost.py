"""What srcdiff costs before the first gradient: building, importing, and calling again.

Run from a clone: ``python benchmarks/build_cost.py`` (about a minute; ``--quick`` for the
small sizes only). Each measurement runs in a fresh process (nothing cached), ``--repeat``
times, and the minimum counts: the machine is shared, and load only ever adds time. Builds are
timed in CPU time (``time.process_time``), which other processes' load disturbs least.

- build: ``grad(f)(x)`` on first call for a generated straight-line NumPy function of N
  statements (elementwise operations, reductions, matrix products, indexing), in ms, and per
  statement;
- import: ``import srcdiff`` in a fresh interpreter (``-X importtime``, wall clock), less ``import
  numpy`` (which srcdiff needs); and the CPU time of ``import srcdiff`` after ``import numpy``;
- hessian and jacobian of a 20-line function, and ``grad(grad(grad(f)))`` through a helper and
  a loop, first call;
- calls: ``grad(f)(x)`` written inline (a new ``Gradient`` each time), a kept gradient called
  positionally and with a keyword argument, in µs;
- the disk cache: the first call of the gradient of the N-statement function in a process that
  builds it (and writes it to an empty cache directory), in the next process (which reads it),
  and calls that find it in memory after that.

Every measurement but the last runs with the disk cache off (``SRCDIFF_CACHE_DIR=""``): a build
is a build.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One statement per line, over the names a0..: a (n,) vector each, m an (n, n) matrix, all floats.
_TEMPLATES = (
    "{new} = np.sin({a}) * {b} + 0.5",
    "{new} = np.exp(-{a} * {a}) - np.tanh({b})",
    "{new} = {a} + np.sum({b} * {a}) / 7.0",
    "{new} = m @ {a} * 0.01 + {b}",
    "{new} = {a} * np.mean({b}) + np.max({a})",
    "{new} = np.concatenate([{a}[1:], {b}[:1]]) * 0.5",
    "{new} = {a}[::-1] * {b}",
    "{new} = np.sqrt({a} * {a} + 1.0) + np.dot({b}, {a}) * 0.001",
)


def straight_line(n: int) -> str:
    """A function of ``n`` statements (the last returns a scalar)."""
    lines = ["def f(x, m):", "    a0 = x * 1.0", "    a1 = np.cos(x)"]
    for k in range(2, n):
        template = _TEMPLATES[k % len(_TEMPLATES)]
        lines.append("    " + template.format(new=f"a{k}", a=f"a{k - 1}", b=f"a{k - 2}"))
    lines.append(f"    return np.sum(a{n - 1} * a{n - 2})")
    return "\n".join(lines) + "\n"


_BUILD = """
import time, numpy as np, srcdiff
{setup}
start = time.process_time()
{run}
print(time.process_time() - start)
"""

_TWENTY = """
def f(x):
    a = np.sin(x) * x
    b = np.exp(-a) + x ** 2
    c = np.sum(a * b)
    d = np.tanh(b) * c
    e = a[1:] * d[:-1]
    g = np.concatenate([e, d[:1]])
    h = g * x + np.cos(g)
    k = np.log1p(h * h)
    l = k / (1.0 + np.abs(a))
    p = np.sqrt(l * l + 1.0)
    q = p * np.mean(a)
    r = q + np.max(b)
    s = r * r
    t = np.cumsum(s)
    u = t * 0.01 + a
    v = u * np.sin(u)
    w = v - np.mean(v)
    y = w * w + h
    z = np.sum(y) + np.dot(x, y)
    return z
"""

_NESTED = """
def helper(x, k):
    return np.sin(x * k) * x

def f(x):
    s = 0.0
    for k in range(3):
        s = s + helper(x, k + 1.0)
    return s * s
"""

_EXTRA = {
    "hessian (20 lines)": (_TWENTY + "x = np.linspace(0.1, 1.0, 5)", "srcdiff.hessian(f)(x)"),
    "jacobian (20 lines)": (_TWENTY.replace("return z", "return y") + "x = np.linspace(0.1, 1.0, 5)", "srcdiff.jacobian(f)(x)"),
    "grad(grad(grad(f))) (helper, loop)": (_NESTED, "srcdiff.grad(srcdiff.grad(srcdiff.grad(f)))(0.7)"),
}

_CALLS = """
def f(x, y):
    return np.sum(np.sin(x) * y)
"""
_CALLS_RUN = """
import timeit, numpy as np, srcdiff
from subject import f
x, y = np.linspace(0.0, 1.0, 5), np.ones(5)
g = srcdiff.grad(f)
g(x, y); g(x, y=y); srcdiff.grad(f)(x, y)
for label, stmt in (("grad(f)(x, y) inline", "srcdiff.grad(f)(x, y)"), ("kept g(x, y)", "g(x, y)"),
                    ("kept g(x, y=y)", "g(x, y=y)")):
    number = 2000
    best = min(timeit.repeat(stmt, globals=globals(), number=number, repeat=7)) / number
    print(label, best * 1e6)
"""


def _python(code: str, directory: str, cache: str = "") -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", SRCDIFF_CACHE_DIR=cache)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=directory, check=True)
    return done.stdout


def _run_file(source: str, run: str, directory: str, repeat: int) -> float:
    """Minimum over fresh processes of the time ``run`` takes, after ``source`` is imported from a file
    (srcdiff reads the source of what it differentiates)."""
    path = Path(directory) / "subject.py"
    path.write_text("import numpy as np\n" + source + "\n")
    code = _BUILD.format(setup="from subject import *", run=run)
    return min(float(_python(code, directory)) for _ in range(repeat))


def _import_time(directory: str, repeat: int) -> tuple[float, float]:
    """``import srcdiff`` and ``import numpy`` alone, in ms: the minimum of ``-X importtime``'s totals."""

    def total(module: str) -> float:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as users import it: from cached bytecode
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, env=env, cwd=directory
        )
        line = [x for x in done.stderr.splitlines() if x.rstrip().endswith(f"| {module}")][-1]
        return int(line.split("|")[1]) / 1000

    return min(total("srcdiff") for _ in range(repeat)), min(total("numpy") for _ in range(repeat))


_IMPORT_CPU = """
import time
start = time.process_time()
import numpy
middle = time.process_time()
import srcdiff
print(middle - start, time.process_time() - middle)
"""


def _import_cpu(directory: str, repeat: int) -> tuple[float, float]:
    """CPU time of ``import numpy`` and then of ``import srcdiff``, in ms: the minimum of each."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", _IMPORT_CPU], capture_output=True, text=True, env=env, cwd=directory)
        runs.append([float(v) * 1e3 for v in done.stdout.split()])
    return min(r[0] for r in runs), min(r[1] for r in runs)


_DISK = """
import time, timeit, numpy as np, srcdiff
from subject import f
x = np.linspace(0.1, 1.0, 6); m = np.eye(6) * 0.5
start = time.process_time()
g = srcdiff.grad(f)
g(x, m)
first = time.process_time() - start
assert srcdiff.cache_info().disk.state == "on"
kept = min(timeit.repeat("g(x, m)", globals=globals(), number=20, repeat=5)) / 20
inline = min(timeit.repeat("srcdiff.grad(f)(x, m)", globals=globals(), number=20, repeat=5)) / 20
info = srcdiff.cache_info()
print(first, kept, inline, info.memory.builds, info.disk.hits)
"""


def _disk_cache(n: int, directory: str, repeat: int) -> tuple[float, float, float, float]:
    """The first call in a process that builds (ms), in the next one, which reads the disk cache
    (ms), and a kept gradient's and an inline ``grad(f)(x)``'s calls after that (µs): minima over
    ``repeat`` pairs of fresh processes, each pair with an empty cache directory."""
    (Path(directory) / "subject.py").write_text("import numpy as np\n" + straight_line(n))
    built, read, kept, inline = [], [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            first = _python(_DISK, directory, cache).split()
            second = _python(_DISK, directory, cache).split()
        assert int(first[3]) >= 1 and int(first[4]) == 0, first  # built
        assert int(second[3]) == 0 and int(second[4]) >= 1, second  # read, nothing built
        built.append(float(first[0]) * 1e3)
        read.append(float(second[0]) * 1e3)
        kept.append(float(second[1]) * 1e6)
        inline.append(float(second[2]) * 1e6)
    return min(built), min(read), min(kept), min(inline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 50 and 200 only")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement (the minimum counts)")
    parser.add_argument("--sizes", help="comma-separated statement counts (default 50,200,1000,2000)")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")] if options.sizes else [50, 200] if options.quick else [50, 200, 1000, 2000]
    with tempfile.TemporaryDirectory() as directory:
        print("| measurement | ms | per statement, ms |")
        print("|---|---:|---:|")
        for n in sizes:
            setup = straight_line(n) + "x = np.linspace(0.1, 1.0, 6); m = np.eye(6) * 0.5"
            seconds = _run_file(setup, "srcdiff.grad(f)(x, m)", directory, options.repeat)
            print(f"| build grad, {n} statements | {seconds * 1e3:.1f} | {seconds * 1e3 / n:.3f} |", flush=True)
        srcdiff_ms, numpy_ms = _import_time(directory, max(options.repeat, 5))
        print(f"| import srcdiff (numpy alone: {numpy_ms:.1f}) | {srcdiff_ms:.1f} | |")
        print(f"| import srcdiff less numpy | {srcdiff_ms - numpy_ms:.1f} | |")
        numpy_cpu, srcdiff_cpu = _import_cpu(directory, max(options.repeat, 5))
        print(f"| import srcdiff after numpy, CPU time (numpy's: {numpy_cpu:.1f}) | {srcdiff_cpu:.1f} | |")
        for label, (source, run) in _EXTRA.items():
            seconds = _run_file(textwrap.dedent(source), run, directory, options.repeat)
            print(f"| {label}, first call | {seconds * 1e3:.1f} | |", flush=True)
        print()
        print("| call | µs |")
        print("|---|---:|")
        (Path(directory) / "subject.py").write_text("import numpy as np\n" + _CALLS)
        for line in _python(_CALLS_RUN, directory).splitlines():
            label, value = line.rsplit(" ", 1)
            print(f"| {label} | {float(value):.1f} |")
        print()
        print("| disk cache, grad of a straight-line function | first process: build, ms | next process: read, ms | ratio "
              "| then a kept gradient, µs | then grad(f)(x) inline, µs |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|")
        for n in [s for s in sizes if s <= 1000]:
            built, read, kept, inline = _disk_cache(n, directory, options.repeat)
            print(f"| {n} statements | {built:.1f} | {read:.1f} | {read / built:.1%} | {kept:.1f} | {inline:.1f} |", flush=True)


if __name__ == "__main__":
    main()
