"""The ``srcdiff`` command: ``show`` and ``check``, their output, every error, and the exit codes 0/1/2."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from srcdiff import __version__
from srcdiff.cli import highlight, main

ROOT = Path(__file__).resolve().parent.parent

MODEL = """import numpy as np

SCALE = 2.0


def loss(w, b, x, y):
    pred = x @ w + b
    return np.mean((pred - y) ** 2)


def cube(x):
    return x * x * x


def stepped(x):
    return np.floor(x) * x


def scaled_sum(x):
    return np.sum(np.ldexp(x, 2) * np.arange(3.0))


def reads_a_file(x):
    with open("scale.txt") as f:
        scale = float(f.read())
    return scale * x


def count(n, x):
    return n * x
"""


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def line_of(text: str) -> int:
    """The line of MODEL where ``text`` is."""
    return next(i for i, line in enumerate(MODEL.splitlines(), start=1) if text in line)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- show


def test_show_prints_the_gradient_code(capsys, model):
    code, out, err = run(capsys, "show", f"{model}:cube")
    assert code == 0, err
    assert "def grad_cube(x):" in out
    assert f"# model.py:{line_of('return x * x * x')}  return x * x * x" in out  # provenance comment with the user's line
    assert "\x1b[" not in out  # not a terminal: no colours


def test_show_with_wrt_names_and_indices(capsys, model):
    code, out, _ = run(capsys, "show", f"{model}:loss", "--wrt", "w,b")
    assert code == 0
    assert "with respect to w, b" in out and re.search(r"return .*\bdw\b.*\bdb\b", out)  # both gradients returned
    code, out, _ = run(capsys, "show", f"{model}:loss", "--wrt", "1")
    assert code == 0
    assert "with respect to b" in out


def test_show_second_derivative(capsys, model):
    code, out, err = run(capsys, "show", f"{model}:cube", "--order", "2", "--args", "2.0")
    assert code == 0, err
    assert "def grad_grad_cube(x):" in out


def test_show_specialises_to_the_example_arguments(capsys, model):
    _, for_arrays, _ = run(capsys, "show", f"{model}:cube")
    code, for_floats, _ = run(capsys, "show", f"{model}:cube", "--args", "2.0")
    assert code == 0
    assert "unbroadcast" in for_arrays and "unbroadcast" not in for_floats


def test_show_colours_with_pygments(capsys, model):
    pytest.importorskip("pygments")
    code, out, _ = run(capsys, "show", f"{model}:cube", "--color", "always")
    assert code == 0
    assert "\x1b[" in out
    assert "def grad_cube" in re.sub(r"\x1b\[[0-9;]*m", "", out)
    _, plain, _ = run(capsys, "show", f"{model}:cube", "--color", "never")
    assert "\x1b[" not in plain


def test_colour_is_automatic_on_a_terminal_only():
    pytest.importorskip("pygments")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert "\x1b[" in highlight("def f(x):\n    return x\n", "auto", Terminal())
    assert "\x1b[" not in highlight("def f(x):\n    return x\n", "auto", io.StringIO())
    assert "\x1b[" not in highlight("def f(x):\n    return x\n", "never", Terminal())


def test_show_refused_function_exits_1(capsys, model):
    code, out, err = run(capsys, "show", f"{model}:reads_a_file")
    assert code == 1 and out == ""
    assert f"model.py:{line_of('with open')}: a with block cannot be differentiated" in err


# --------------------------------------------------------------------------- check


def test_check_passes_on_given_inputs(capsys, model):
    code, out, err = run(capsys, "check", f"{model}:cube", "--args", "2.0")
    assert code == 0, err
    assert out.startswith("ok: the gradient of cube with respect to x matches central differences")
    assert "dcube/dx = 12.0" in out


def test_check_on_random_arrays_and_a_wrt_subset(capsys, model):
    code, out, err = run(capsys, "check", f"{model}:loss", "--args", "rand:3", "0.5", "rand:4x3", "rand:4", "--wrt", "w")
    assert code == 0, err
    assert "with respect to w matches" in out
    assert "dloss/dw = [" in out and "dloss/db" not in out


def test_check_defaults_to_random_floats_and_every_float_argument(capsys, model):
    code, out, err = run(capsys, "check", f"{model}:cube")
    assert code == 0, err
    assert "with respect to x" in out
    code, out, err = run(capsys, "check", f"{model}:count", "--args", "3", "2.5")
    assert code == 0, err
    assert "with respect to x matches" in out  # the int n is data, not differentiated


def test_check_mismatch_exits_1(capsys, model):
    # np.floor counts as a constant, but at 1.0 it jumps: finite differences disagree
    code, out, err = run(capsys, "check", f"{model}:stepped", "--args", "1.0")
    assert code == 1 and out == ""
    assert "FAILED" in err and "disagrees with finite differences" in err


def test_check_without_a_rule_exits_1(capsys, model):
    code, _, err = run(capsys, "check", f"{model}:scaled_sum", "--args", "[3.0, 1.0, 2.0]")
    assert code == 1
    assert f"model.py:{line_of('np.ldexp')}: no derivative rule for np.ldexp" in err


def test_check_inputs_the_function_rejects_exit_1(capsys, model):
    code, _, err = run(capsys, "check", f"{model}:loss")  # random floats where loss needs arrays
    assert code == 1
    assert "loss raised TypeError on these inputs" in err and "--args" in err


# --------------------------------------------------------------------------- usage errors: exit 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "missing.py:f"], "no such file: missing.py"),
        (["show", "{model}:nope"], "'nope' not found in"),
        (["show", "{model}:SCALE"], "'SCALE' is not a function"),
        (["show", "{model}"], "expected FILE.py:FUNCTION"),
        (["show", "{model}:loss", "--wrt", "z"], "--wrt 'z' is not a parameter of loss (parameters: w, b, x, y)"),
        (["show", "{model}:loss", "--wrt", "7"], "--wrt 7 is out of range"),
        (["show", "{model}:loss", "--order", "2", "--wrt", "w,b"], "--order 2 needs a single --wrt parameter"),
        (["check", "{model}:cube", "--args", "1.0", "2.0"], "cube(x) cannot take 2 arguments"),
        (["check", "{model}:loss", "--args", "1.0"], "loss(w, b, x, y) cannot take 1 arguments"),
        (["check", "{model}:cube", "--args", "one"], "cannot read 'one'"),
        (["check", "{model}:cube", "--args", "'text'"], "is not a number or a list of numbers"),
        (["check", "{model}:cube", "--args", "3"], "no float argument to differentiate"),
    ],
)
def test_usage_errors_exit_2(capsys, model, argv, message):
    code, out, err = run(capsys, *(a.format(model=model) for a in argv))
    assert code == 2 and out == ""
    assert err.startswith("srcdiff: error: ") and message in err


def test_missing_function_lists_the_file_functions(capsys, model):
    _, _, err = run(capsys, "show", f"{model}:nope")
    assert "(functions there: count, cube, loss, reads_a_file, scaled_sum, stepped)" in err


def test_a_file_that_fails_to_import_exits_2(capsys, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\nraise RuntimeError('no config')\n\ndef f(x):\n    return x\n")
    code, _, err = run(capsys, "show", f"{broken}:f")
    assert code == 2
    assert "cannot import" in err and "RuntimeError: no config" in err


@pytest.mark.parametrize(
    "argv",
    [[], ["show"], ["frobnicate", "x.py:f"], ["show", "x.py:f", "--order", "0"], ["show", "x.py:f", "--color", "pink"]],
)
def test_bad_command_lines_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage: srcdiff" in err


def test_help_and_version_exit_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "show" in out and "check" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"srcdiff {__version__}"


# --------------------------------------------------------------------------- as a program


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def test_python_dash_m_srcdiff(model):
    done = subprocess.run([sys.executable, "-m", "srcdiff", "show", f"{model}:cube"], capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr
    assert "def grad_cube(x):" in done.stdout
    done = subprocess.run([sys.executable, "-m", "srcdiff", "show", "missing.py:f"], capture_output=True, text=True, env=_env())
    assert done.returncode == 2
    assert "no such file" in done.stderr


def test_installed_console_script(model):
    script = Path(sys.executable).parent / "srcdiff"
    if not script.exists():
        pytest.skip("srcdiff is not installed as a command here (pip install -e . installs it)")
    done = subprocess.run([str(script), "check", f"{model}:cube", "--args", "2.0"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "dcube/dx = 12.0" in done.stdout


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.startswith("srcdiff ")]


@pytest.mark.parametrize("command", _readme_commands())
def test_readme_commands_work(capsys, monkeypatch, command):
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, *shlex.split(command)[1:])
    assert code == 0, err
    assert out


def package(tmp_path: Path) -> tuple[Path, str]:
    """A package (named after the test's directory: each test imports its own) whose model
    reads a helper and a constant through relative imports."""
    name = "pkg_" + re.sub(r"\W", "_", tmp_path.name)
    (tmp_path / name / "sub").mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("SCALE = 2.0\n")
    (tmp_path / name / "helpers.py").write_text("import numpy as np\n\n\ndef helper(x):\n    return np.sin(x)\n")
    (tmp_path / name / "sub" / "__init__.py").write_text("")
    model = "import numpy as np\n\nfrom .. import SCALE\nfrom ..helpers import helper\n\n\ndef loss(x):\n"
    (tmp_path / name / "sub" / "model.py").write_text(model + "    return np.sum(helper(x) * SCALE)\n")
    return tmp_path, name


def test_a_file_inside_a_package_is_imported_as_its_module(capsys, tmp_path):
    root, name = package(tmp_path)
    path = root / name / "sub" / "model.py"
    code, out, err = run(capsys, "show", f"{path}:loss")  # its relative imports work
    assert code == 0, err
    assert f"from {name}.sub.model import SCALE" in out  # named by its module's own name
    code, out, err = run(capsys, "check", f"{path}:loss", "--args", "rand:3")
    assert code == 0 and out.startswith("ok: the gradient of loss"), err
    code, out, err = run(capsys, "export", f"{path}:loss", "--args", "rand:3")
    assert code == 0 and f"from {name}.sub.model import SCALE" in out, err


def test_module_colon_function_imports_from_the_current_directory(capsys, tmp_path, monkeypatch):
    root, name = package(tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))  # (the import puts the directory on it)
    code, out, err = run(capsys, "check", f"{name}.sub.model:loss", "--args", "rand:3")
    assert code == 0 and out.startswith("ok: the gradient of loss"), err
    code, out, err = run(capsys, "show", f"{name}.sub.model:loss")
    assert code == 0 and "def grad_loss(x):" in out, err
    code, out, err = run(capsys, "show", f"{name}.sub.nothing:loss")
    assert code == 2 and f"no such file or module: {name}.sub.nothing" in err
    code, out, err = run(capsys, "show", f"{name}.sub.model:missing")
    assert code == 2 and "'missing' not found" in err and "functions there: loss" in err


def test_a_module_target_runs_from_a_shell(tmp_path):
    root, name = package(tmp_path)
    command = [sys.executable, "-m", "srcdiff", "show", f"{name}.sub.model:loss"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # srcdiff from this checkout; the package from the cwd
    shown = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env)
    assert shown.returncode == 0 and "def grad_loss(x):" in shown.stdout, shown.stderr


def test_show_into_a_pipe_closed_early_ends_quietly(tmp_path):
    # more code than a pipe holds, read by a reader that stops at the first line (| head -1)
    comment = "  # " + "z" * 600  # the user's line is printed above its adjoint: long lines, much output
    body = "\n".join(f"    x = np.sin(x) * {k + 1.5}{comment}" for k in range(200))
    path = tmp_path / "long.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x):\n{body}\n    return x\n")
    command = [sys.executable, "-m", "srcdiff", "show", f"{path}:f"]
    shown = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    first = shown.stdout.readline()
    shown.stdout.close()
    error = shown.stderr.read().decode()
    assert shown.wait() == 0 and first.startswith(b"# srcdiff"), error
    assert "Traceback" not in error and "BrokenPipe" not in error


def test_show_refuses_a_function_without_a_return(capsys, tmp_path):
    path = tmp_path / "nothing.py"
    path.write_text("def f(x):\n    y = x * 2.0\n")
    code, out, err = run(capsys, "show", f"{path}:f")
    assert code != 0 and "def grad_f" not in out
    assert "f returns None, not a number" in err
