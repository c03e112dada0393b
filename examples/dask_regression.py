"""Logistic regression on data spread over a Dask cluster, with full-batch gradients from srcdiff.

The data are rows x with 10 features and labels y = 1 where x @ w_true + noise > 0. They
are made chunk by chunk inside the workers (a seeded generator per chunk: the same chunks on
every pass), so they never exist whole anywhere: with ``--big``, 10^7 rows in chunks of 10^6
(763 MiB of features) stream through workers that may hold 600 MiB each. srcdiff builds the
gradient of the loss once, for NumPy weights and Dask data; each step asks the cluster for
the loss and the gradient in one pass (``dask.compute(value, grad)``) and updates the
weights, NumPy arrays of 11 numbers, on this side.

The default run is small (2 * 10^5 rows, two workers) and checks the cluster's gradient
against NumPy's on the same rows. ``--scaling 1,2`` times the same steps on clusters of 1
and 2 worker processes (docs/scaling-out.md has the numbers measured on this machine).

Run: python examples/dask_regression.py [--big] [--rows N] [--workers N] [--steps N] [--scaling 1,2]
"""

import argparse
import os
import time

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import srcdiff

FEATURES = 10
TRUE_W = np.linspace(-2.0, 2.0, FEATURES)
TRUE_B = 0.5
LEARNING_RATE = 2.0


def loss(w, b, X, y):
    """Mean logistic loss of the labels y under weights w and bias b (log(1 + e^-t) written stably)."""
    z = X @ w + b
    margin = (2.0 * y - 1.0) * z
    return np.mean(np.logaddexp(0.0, -margin))


def make_data(rows: int, chunk_rows: int, seed: int = 0) -> tuple[da.Array, da.Array]:
    """Features and labels, made lazily chunk by chunk (nothing is computed here)."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    noise = rng.standard_normal(rows, chunks=chunk_rows)
    y = (X @ TRUE_W + TRUE_B + 0.5 * noise > 0).astype(float)
    return X, y


def train(X: da.Array, y: da.Array, steps: int, report: bool = True) -> tuple[np.ndarray, float, list[float], float]:
    """Full-batch gradient descent from zero; the loss before each step, and the seconds per step."""
    step = srcdiff.value_and_grad(loss, wrt=("w", "b"))  # built once, on the first call
    w, b = np.zeros(FEATURES), 0.0
    losses = []
    start = time.perf_counter()
    for k in range(steps):
        value, (dw, db) = step(w, b, X, y)  # lazy: a graph over the chunks, nothing computed yet
        value, dw, db = dask.compute(value, dw, db)  # one pass over the data, in the workers
        losses.append(float(value))
        if report and (k % 5 == 0 or k == steps - 1):
            print(f"step {k:3d}  loss {float(value):.6f}")
        w, b = w - LEARNING_RATE * dw, b - LEARNING_RATE * float(db)
    return w, b, losses, (time.perf_counter() - start) / steps


def cluster(workers: int, memory_limit: str) -> LocalCluster:
    """Worker processes of one thread each (BLAS held to one thread too: one core per worker)."""
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
        env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="10^7 rows in chunks of 10^6 (763 MiB of features)")
    parser.add_argument("--rows", type=int, default=None, help="rows of data (default 2 * 10^5, or 10^7 with --big)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster")
    parser.add_argument("--steps", type=int, default=None, help="gradient steps (default 20, or 10 with --big)")
    parser.add_argument("--scaling", default="", help="comma-separated worker counts to time the same steps on")
    parser.add_argument("--chunk-rows", type=int, default=None, help="rows per chunk (default 10^6 with --big, else rows / 8)")
    args = parser.parse_args()
    rows = args.rows or (10_000_000 if args.big else 200_000)
    chunk_rows = args.chunk_rows or (1_000_000 if args.big else max(rows // 8, 1))
    steps = args.steps or (10 if args.big else 20)
    memory_limit = "600MiB" if args.big else "1GiB"
    X, y = make_data(rows, chunk_rows)
    size = f"{X.nbytes / 2**20:.0f} MiB"
    print(f"data: {rows} x {FEATURES} features ({size}) in {X.numblocks[0]} chunks; machine: {os.cpu_count()} cores")

    if args.scaling:
        for workers in map(int, args.scaling.split(",")):
            with cluster(workers, memory_limit) as c, Client(c):
                train(X, y, 1, report=False)  # the build, and the workers' first imports, left out of the timing
                _, _, losses, seconds = train(X, y, steps, report=False)
            print(f"seconds per step with {workers} worker(s) -> {seconds:.3f}")
        return

    with cluster(args.workers, memory_limit) as c, Client(c):
        print(f"cluster: {args.workers} worker processes, {memory_limit} each")
        w, b, losses, seconds = train(X, y, steps)
        print(f"seconds per step -> {seconds:.3f}")
        X_here, y_here = (dask.compute(X, y) if not args.big else (None, None))
    print(f"first loss -> {losses[0]:.6f}")
    print(f"last loss -> {losses[-1]:.6f}")
    print(f"weights correlate with the true ones -> {np.corrcoef(w, TRUE_W)[0, 1]:.4f}")
    if X_here is not None:  # the same rows as NumPy arrays: the same gradient, computed here
        (dw_cluster, db_cluster) = dask.compute(*srcdiff.grad(loss, wrt=("w", "b"))(w, b, X, y), scheduler="sync")
        dw_numpy, db_numpy = srcdiff.grad(loss, wrt=("w", "b"))(w, b, X_here, y_here)
        same = np.allclose(dw_cluster, dw_numpy, rtol=1e-9, atol=1e-12) and np.isclose(db_cluster, db_numpy, rtol=1e-9)
        print(f"the Dask gradient equals NumPy's on the same rows -> {same}")
        accuracy = np.mean(((X_here @ w + b) > 0) == (y_here > 0.5))
        print(f"training accuracy -> {accuracy:.4f}")


if __name__ == "__main__":
    main()
