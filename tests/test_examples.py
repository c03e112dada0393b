"""The examples run as a user runs them (a fresh ``python examples/NAME.py``) and print the right numbers.

Optional packages (matplotlib, tqdm) are tested both ways: present if installed,
and absent by running the example with the import blocked.
"""

from __future__ import annotations

import ast
import math
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# Runs an example as __main__, with some imports made to fail as if not installed.
_RUNNER = """
import runpy, sys
path, blocked, args = sys.argv[1], sys.argv[2], sys.argv[3:]
for name in filter(None, blocked.split(",")):
    sys.modules[name] = None  # "import name" now raises ImportError
sys.argv = [path, *args]
runpy.run_path(path, run_name="__main__")
"""


def run_example(name: str, *args: str, blocked: tuple[str, ...] = (), cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), MPLBACKEND="Agg")
    command = [sys.executable, "-c", _RUNNER, str(EXAMPLES / f"{name}.py"), ",".join(blocked), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def results(stdout: str) -> dict[str, object]:
    """Lines ``description -> value`` as {description: value}."""
    found = {}
    for line in stdout.splitlines():
        if " -> " in line:
            label, value = line.rsplit(" -> ", 1)
            found[label.strip()] = ast.literal_eval(value)
    return found


def result(found: dict[str, object], key: str) -> object:
    matches = [label for label in found if key in label]
    assert len(matches) == 1, f"expected one result line containing {key!r}, found {matches}"
    return found[matches[0]]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


# --------------------------------------------------------------------------- basics.py


@pytest.fixture(scope="module")
def basics() -> subprocess.CompletedProcess:
    return run_example("basics")


def test_basics_reproduces_the_classic_results(basics):
    assert basics.returncode == 0, basics.stderr
    found = results(basics.stdout)
    assert result(found, "mean(3 * (x + 2) ** 2) at x = ones((2, 2))") == [[4.5, 4.5], [4.5, 4.5]]
    assert result(found, "dy/da, dy/db, dy/dc") == [16.0, 4.0, 1.0]
    assert result(found, "2x + 3") == 7.0
    assert result(found, "d/dx = 2xy, d/dy = x^2") == [12.0, 4.0]
    assert result(found, "d2/dx2 (x * x * y)") == 6.0
    assert result(found, "d2/dxdy (x * x * y)") == 4.0


def test_basics_shows_no_accumulation_and_stop_gradient(basics):
    found = results(basics.stdout)
    assert result(found, "the same gradient, called twice") == [[12.0, 4.0], [12.0, 4.0]]
    assert result(found, "the sum of both, added by hand") == [24.0, 8.0]
    assert result(found, "x * stop_gradient(x) at x = 3") == 3.0
    assert result(found, "w after one step") == pytest.approx(0.5)  # 1 - 0.1 * (2 * 1 + 3)


def test_basics_shows_the_non_scalar_error_and_its_fix(basics):
    error = [line for line in basics.stdout.splitlines() if "grad(doubled)(x) raised" in line]
    assert len(error) == 1 and "NonScalarOutput" in error[0] and "scalar" in error[0].split(":", 1)[1]
    assert result(results(basics.stdout), "sum(v * doubled(x))") == [2.0, 1.0, 0.0]


# --------------------------------------------------------------------------- linear_regression.py

STEP = re.compile(r"step\s+(\d+)\s+loss ([\d.]+)\s+w (-?[\d.]+)\s+b (-?[\d.]+)")
FITTED = re.compile(r"fitted: w = (-?[\d.]+), b = (-?[\d.]+)")
LEAST_SQUARES = re.compile(r"least squares: w = (-?[\d.]+), b = (-?[\d.]+)")


@pytest.fixture(scope="module")
def regression(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    output = tmp_path_factory.mktemp("regression")
    return run_example("linear_regression", "--output", str(output)), output


def test_linear_regression_fits_the_line(regression):
    done, _ = regression
    assert done.returncode == 0, done.stderr
    steps = [(int(s), float(loss)) for s, loss, _, _ in STEP.findall(done.stdout)]
    assert [s for s, _ in steps] == list(range(0, 2001, 200))  # the loss every 200 steps
    losses = [loss for _, loss in steps]
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < losses[0] / 50
    w, b = map(float, FITTED.search(done.stdout).groups())
    assert abs(w - 3.0) < 0.05 and abs(b - 0.8) < 0.05
    best_w, best_b = map(float, LEAST_SQUARES.search(done.stdout).groups())
    assert abs(w - best_w) < 1e-3 and abs(b - best_b) < 1e-3  # gradient descent reached the minimum


def test_linear_regression_saves_both_plots(regression):
    pytest.importorskip("matplotlib")
    done, output = regression
    for name in ("linear_regression_fit.png", "linear_regression_loss.png"):
        width, height = png_size(output / name)
        assert width >= 400 and height >= 300
        assert str(output / name) in done.stdout


def test_linear_regression_without_matplotlib(tmp_path):
    done = run_example("linear_regression", "--output", str(tmp_path), blocked=("matplotlib",))
    assert done.returncode == 0, done.stderr
    assert "matplotlib is not installed: skipping the plots" in done.stdout
    assert FITTED.search(done.stdout)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- mlp_digits.py

ACCURACY = re.compile(r"test accuracy: ([\d.]+)%")
EPOCH = re.compile(r"epoch\s+(\d+)\s+mean training loss ([\d.]+)")


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    pytest.importorskip("sklearn")
    output = tmp_path_factory.mktemp("digits")
    return run_example("mlp_digits", "--output", str(output)), output


def test_mlp_hand_written_backward_agrees(digits):
    done, _ = digits
    assert done.returncode == 0, done.stderr
    for loss in ("xent", "mse"):
        assert f"{loss}: hand-written backward agrees with srcdiff for w1, b1, w2, b2: True" in done.stdout


def test_mlp_learns_the_digits(digits):
    done, _ = digits
    epochs = [(int(e), float(loss)) for e, loss in EPOCH.findall(done.stdout)]
    assert [e for e, _ in epochs] == list(range(1, 21))
    assert epochs[-1][1] < epochs[0][1] / 5
    assert float(ACCURACY.search(done.stdout).group(1)) > 90.0


def test_mlp_saves_the_loss_curve_and_shows_progress(digits):
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    done, output = digits
    width, height = png_size(output / "mlp_digits_loss.png")
    assert width >= 400 and height >= 300
    assert "100%" in done.stderr and "training" in done.stderr  # tqdm's bar, on stderr


def test_mlp_with_squared_error(tmp_path):
    pytest.importorskip("sklearn")
    done = run_example("mlp_digits", "--loss", "mse", "--output", str(tmp_path), blocked=("matplotlib", "tqdm"))
    assert done.returncode == 0, done.stderr
    assert float(ACCURACY.search(done.stdout).group(1)) > 90.0


def test_mlp_without_tqdm_and_matplotlib(tmp_path):
    pytest.importorskip("sklearn")
    done = run_example("mlp_digits", "--epochs", "2", "--output", str(tmp_path), blocked=("matplotlib", "tqdm"))
    assert done.returncode == 0, done.stderr
    assert "tqdm is not installed: training without a progress bar" in done.stdout
    assert "matplotlib is not installed: skipping the plot" in done.stdout
    assert len(EPOCH.findall(done.stdout)) == 2
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- inspect_code.py


SOURCE = (EXAMPLES / "inspect_code.py").read_text()


@pytest.fixture(scope="module")
def inspected() -> subprocess.CompletedProcess:
    return run_example("inspect_code")


def test_inspect_code_prints_the_gradient_code(inspected):
    out = inspected.stdout
    assert "def grad_exp_series(x, terms):" in out
    for statement in ("term = term * x / k", "total = total + term"):  # the loop body, the branch
        line = next(i for i, text in enumerate(SOURCE.splitlines(), start=1) if text.strip() == statement)
        assert f"# inspect_code.py:{line}  {statement}" in out  # provenance comment with the user's line
    found = results(out)
    assert result(found, "exp_series(0.5, 40)") == pytest.approx(math.exp(0.5), rel=1e-14)
    assert result(found, "first derivative at 0.5") == pytest.approx(math.exp(0.5), rel=1e-12)


def test_inspect_code_prints_the_second_derivative_code(inspected):
    assert inspected.returncode == 0, inspected.stderr
    assert "def grad_grad_exp_series(x, terms):" in inspected.stdout
    assert result(results(inspected.stdout), "second derivative at 0.5") == pytest.approx(math.exp(0.5), rel=1e-12)


# --------------------------------------------------------------------------- dask_regression.py


@pytest.fixture(scope="module")
def dask_regression() -> subprocess.CompletedProcess:
    import dask.array as da

    from srcdiff import api

    if api._untested_library(da.ones(1)):  # (refused there: tests/test_dask_releases.py)
        pytest.skip("a Dask release srcdiff refuses")
    return run_example("dask_regression", "--steps", "15")


def test_dask_regression_trains_on_a_cluster_of_processes(dask_regression):
    done = dask_regression
    assert done.returncode == 0, done.stderr
    assert "cluster: 2 worker processes" in done.stdout
    found = results(done.stdout)
    assert result(found, "first loss") == pytest.approx(math.log(2.0), rel=1e-6)  # zero weights: log 2 a row
    assert result(found, "last loss") < 0.25
    assert result(found, "weights correlate with the true ones") > 0.99
    assert result(found, "training accuracy") > 0.93


def test_dask_regression_gradient_equals_numpys(dask_regression):
    assert result(results(dask_regression.stdout), "the Dask gradient equals NumPy's on the same rows") is True
