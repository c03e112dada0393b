"""Export: ``srcdiff.source`` prints a module that runs as printed, and ``srcdiff.export`` (and
``srcdiff export`` on the command line) writes one that runs where srcdiff is not installed.

Runs as printed: the text, executed in a fresh namespace (the user's module importable by its
name, as it is where the text would be pasted), defines the derivative and gives the numbers
srcdiff's own call gives, for random programs (tests/program_generator.py), every case of the
rule catalogue, and each transform. Runs without srcdiff: the exported module is imported in a
subprocess where ``import srcdiff`` fails (``sys.modules["srcdiff"] = None``, ``python -I``).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import importlib
import inspect
import io
import itertools
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from catalogue import CASES
from test_rules import example_inputs, wrt_of

import srcdiff
from srcdiff import cli, runtime, runtime_linalg
from srcdiff.assembly import runtime_closure
from srcdiff.errors import ExportError
from tests import program_generator as gen
from tests.program_checker import copy_args, leaves

_names = itertools.count()


def same_numbers(got, expected) -> None:
    """The same leaves (the same code ran: equal up to the last bits)."""
    got_leaves, expected_leaves = list(leaves(got)), list(leaves(expected))
    assert [p for p, _ in got_leaves] == [p for p, _ in expected_leaves], (got, expected)
    for (path, a), (_, b) in zip(got_leaves, expected_leaves):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, f"{path}: shape {a.shape}, expected {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300, err_msg=str(path))


def run_printed(text: str, name: str | None = None):
    """The function ``name`` (default: the first the text defines), the text executed as printed in a fresh namespace."""
    namespace = {"__name__": "printed"}
    exec(compile(text, "<printed>", "exec"), namespace)  # noqa: S102 (the text srcdiff printed)
    return namespace[name or next(d.name for d in ast.parse(text).body if isinstance(d, ast.FunctionDef))]


@pytest.fixture
def user_modules(tmp_path, monkeypatch):
    """``write(source) -> module``: a module of the user's, importable by its name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    def write(source: str, name: str | None = None):
        name = name or f"user_module_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        written.append(name)
        return importlib.import_module(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)


# --------------------------------------------------------------------------- source() runs as printed

SEED_CHUNKS = [range(start, start + 30) for start in range(0, 240, 30)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seeds", SEED_CHUNKS, ids=lambda r: f"seeds {r.start}-{r.stop - 1}")
def test_printed_source_of_random_programs_runs(seeds, user_modules):
    ran = 0
    for seed in seeds:
        program = gen.generate(seed, size=5)
        f = user_modules(program.source, f"export_program_{seed}_{next(_names)}").program
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            ran += check_printed(program, f)
    assert ran >= len(seeds) // 2, f"only {ran} of {len(seeds)} programs were differentiated"


def check_printed(program: gen.Program, f) -> bool:
    """value_and_grad, grad(grad(f)) and hvp for a float, jvp and vjp, printed and run; False if refused."""
    args = program.args
    g = srcdiff.value_and_grad(f, wrt=program.wrt)
    try:
        expected = g(*copy_args(args))
    except srcdiff.SrcdiffError:
        return False
    if g.many and len(g.wrt) == 1:  # (the generated code returns one gradient bare; the call, as a 1-tuple)
        expected = (expected[0], expected[1][0])
    text = srcdiff.source(g, *copy_args(args))
    same_numbers(run_printed(text)(*copy_args(args)), expected)
    if program.seed % 2 == 0 and not any(map(callable, args)):  # standalone: the runtime copied in
        try:
            text = srcdiff.export(g, *copy_args(args))
        except ExportError as error:  # a gradient made at run time, where nothing is differentiated
            assert "srcdiff.grad(inner_loss)(" in text or "srcdiff.value_and_grad(inner_loss)(" in text, error
            assert "it reads srcdiff, which is srcdiff's" in str(error)
        else:
            assert not [line for line in text.splitlines() if line.startswith(("import srcdiff", "from srcdiff"))]
            same_numbers(run_printed(text, f"value_and_grad_{f.__name__}")(*copy_args(args)), expected)
    floats = [i for i, a in enumerate(args) if type(a) is float]
    if floats:
        second = srcdiff.grad(srcdiff.grad(f, wrt=floats[0]), wrt=floats[0])
        with contextlib.suppress(srcdiff.SrcdiffError):
            expected = second(*copy_args(args))
            same_numbers(run_printed(srcdiff.source(second, *copy_args(args)))(*copy_args(args)), expected)
        if program.seed % 2 == 0:
            h = srcdiff.hvp(f, wrt=floats[0])
            with contextlib.suppress(srcdiff.SrcdiffError):
                expected = h(*copy_args(args), 0.5)
                jvp_of_gradient = run_printed(srcdiff.source(h, *copy_args(args)))
                same_numbers(jvp_of_gradient(0.5, *copy_args(args))[1], expected)
    plain = all(type(a) in (float, int, np.ndarray) for a in args)
    if program.seed % 3 == 0 and plain:  # jvp's code takes the tangents of the float arguments first
        tangents = tuple(np.ones_like(a) if type(a) is np.ndarray else 1.0 if type(a) is float else None for a in args)
        with contextlib.suppress(srcdiff.SrcdiffError):
            expected = srcdiff.jvp(f, copy_args(args), tangents)
            jvp = run_printed(srcdiff.source(srcdiff.jvp(f), *copy_args(args)))
            same_numbers(jvp(*(t for t in tangents if t is not None), *copy_args(args)), expected)
    if program.seed % 3 == 1:
        with contextlib.suppress(srcdiff.SrcdiffError):
            out, pullback = srcdiff.vjp(f, *copy_args(args))
            expected = pullback(1.0)
            text = srcdiff.source(pullback)
            forward, backward = [d.name for d in ast.parse(text).body if isinstance(d, ast.FunctionDef)][:2]  # (then callees)
            primals = copy_args(args)
            value, tape = run_printed(text, forward)(*primals)
            adjoints = run_printed(text, backward)(tape, 1.0)
            got = runtime.materialize_all(adjoints, tuple(primals[i] for i in pullback.positions))
            same_numbers(got, tuple(e for e in expected if e is not None))
    return True


def catalogue_examples():
    for case in CASES:
        if not case.xfail:
            shapes, options = case.examples()[0]
            yield pytest.param(case, shapes, dict(options), id=case.name)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # (np.row_stack: the case says so itself)
@pytest.mark.parametrize(("case", "shapes", "options"), list(catalogue_examples()))
def test_printed_source_of_every_catalogue_case_runs(case, shapes, options):
    inputs, w = example_inputs(case, shapes, options, seed=7)
    g = srcdiff.grad(case.fn, wrt=wrt_of(case, inputs))
    expected = g(*inputs, **options, w=w)
    if len(g.wrt) == 1:  # (the generated code returns one gradient bare; the call, as a 1-tuple)
        expected = expected[0]
    printed = run_printed(srcdiff.source(g, *inputs, **options, w=w))
    same_numbers(printed(*inputs, **options, w=w), expected)


MODEL = """
    import numpy as np

    SCALE = 0.5  # a global the derivatives read


    def loss(w, b, x, y):  # the README's example
        pred = x @ w + b
        return np.mean((pred - y) ** 2)


    def relu(z):
        return np.maximum(z, 0.0)


    def linear(W, b, x):
        return x @ W + b


    def mlp_loss(W1, b1, W2, b2, x, y):  # Linear -> ReLU -> Linear -> MSE
        h = relu(linear(W1, b1, x))
        out = linear(W2, b2, h)
        return np.mean((out - y) ** 2) * SCALE


    def series(x, n):  # a loop, for second derivatives
        s = 0.0
        term = 1.0
        for k in range(1, n):
            term = term * x / k
            s = s + term * SCALE
        return s


    def h(v):
        return v * SCALE + np.sin(v)


    def two_kinds(x, y):  # h for a float and for an array: two specialisations, each defining h_forward
        return h(x) * np.sum(h(y))
"""


def model_arguments():
    rng = np.random.default_rng(3)
    return {
        "loss": (rng.normal(size=3), 0.5, rng.normal(size=(8, 3)), rng.normal(size=8)),
        "mlp_loss": (
            rng.normal(size=(4, 6)),
            rng.normal(size=6),
            rng.normal(size=(6, 2)),
            rng.normal(size=2),
            rng.normal(size=(5, 4)),
            rng.normal(size=(5, 2)),
        ),
        "series": (0.7, 8),
        "two_kinds": (0.3, rng.normal(size=4)),
    }


def test_printed_source_of_every_transform_runs(user_modules):
    m = user_modules(MODEL)
    w, b, x, y = model_arguments()["loss"]
    grad = srcdiff.grad(m.loss, wrt=("w", "b"))
    same_numbers(run_printed(srcdiff.source(grad, w, b, x, y))(w, b, x, y), grad(w, b, x, y))
    value_and_grad = srcdiff.value_and_grad(m.mlp_loss, wrt=(0, 2))
    args = model_arguments()["mlp_loss"]
    same_numbers(run_printed(srcdiff.source(value_and_grad, *args))(*args), value_and_grad(*args))
    second = srcdiff.grad(srcdiff.grad(m.series))
    same_numbers(run_printed(srcdiff.source(second, 0.7, 8))(0.7, 8), second(0.7, 8))
    v = np.ones(3)
    jvp = run_printed(srcdiff.source(srcdiff.jvp(m.loss), w, b, x, y))
    same_numbers(jvp(v, 1.0, x, y, w, b, x, y), srcdiff.jvp(m.loss, (w, b, x, y), (v, 1.0, x, y)))
    hvp = srcdiff.hvp(m.loss)
    same_numbers(run_printed(srcdiff.source(hvp, w, b, x, y))(v, w, b, x, y)[1], hvp(w, b, x, y, v))
    hessian = srcdiff.hessian(m.loss)
    same_numbers(run_printed(srcdiff.source(hessian, w, b, x, y), "hessian_loss")(w, b, x, y), hessian(w, b, x, y))
    _, pullback = srcdiff.vjp(m.loss, w, b, x, y)
    text = srcdiff.source(pullback)
    value, tape = run_printed(text, "loss_forward")(w, b, x, y)
    same_numbers(run_printed(text, "loss_backward")(tape, 1.0), pullback(1.0))
    assert "from " + m.__name__ + " import SCALE" in srcdiff.source(srcdiff.grad(m.series), 0.7, 8)


def test_two_specialisations_of_one_helper_get_a_name_each(user_modules):
    m = user_modules(MODEL)
    args = model_arguments()["two_kinds"]
    g = srcdiff.grad(m.two_kinds, wrt=(0, 1))
    text = srcdiff.source(g, *args)
    defined = [d.name for d in ast.parse(text).body if isinstance(d, ast.FunctionDef)]
    assert len(defined) == len(set(defined)) and sum(n.startswith("h_forward") for n in defined) == 2
    same_numbers(run_printed(text)(*args), g(*args))


# --------------------------------------------------------------------------- export runs without srcdiff

RUN_WITHOUT_SRCDIFF = """
import sys
sys.modules["srcdiff"] = None  # importing srcdiff fails from here on
try:
    import srcdiff
except ImportError:
    pass
else:
    raise SystemExit("srcdiff is importable")
import importlib, os, pickle
paths, arguments, module_name, result = sys.argv[1:]
sys.path[:0] = paths.split(os.pathsep)
module = importlib.import_module(module_name)
assert sys.modules["srcdiff"] is None
entry = getattr(module, module.__all__[0])
pickle.dump(entry(*pickle.load(open(arguments, "rb"))), open(result, "wb"))
"""


def run_without_srcdiff(tmp_path: Path, module_name: str, args: tuple, user_dir: Path):
    """The exported module's entry function, called in ``python -I`` where ``import srcdiff`` fails;
    its path: the exported module's directory, the user's module's, NumPy's."""
    numpy_site = str(Path(np.__file__).parent.parent)
    arguments, result = tmp_path / f"{module_name}.args", tmp_path / f"{module_name}.result"
    arguments.write_bytes(pickle.dumps(args))
    paths = os.pathsep.join([str(tmp_path / "exported"), str(user_dir), numpy_site])
    done = subprocess.run(
        [sys.executable, "-I", "-c", RUN_WITHOUT_SRCDIFF, paths, str(arguments), module_name, str(result)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return pickle.loads(result.read_bytes())


def exported(tmp_path: Path, g, *args, name: str, **options) -> Path:
    (tmp_path / "exported").mkdir(exist_ok=True)
    path = tmp_path / "exported" / f"{name}.py"
    text = srcdiff.export(g, *args, path=path, **options)
    assert path.read_text() == text
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert not any("srcdiff" in line for line in imports), imports
    return path


@pytest.mark.parametrize(
    ("function", "make"),
    [
        ("loss", lambda f: srcdiff.grad(f, wrt=("w", "b"))),
        ("mlp_loss", lambda f: srcdiff.value_and_grad(f, wrt=(0, 1, 2, 3))),
        ("series", lambda f: srcdiff.grad(srcdiff.grad(f))),
        ("loss", lambda f: srcdiff.hessian(f)),
        ("mlp_loss", lambda f: srcdiff.jvp(f)),
        ("two_kinds", lambda f: srcdiff.grad(f, wrt=(0, 1))),
    ],
    ids=["readme grad", "mlp value_and_grad", "second-order loop", "readme hessian", "mlp jvp", "two specialisations"],
)
def test_exported_module_runs_without_srcdiff(function, make, tmp_path, user_modules):
    m = user_modules(MODEL)
    args = model_arguments()[function]
    g = make(getattr(m, function))
    name = f"exported_{function}_{next(_names)}"
    exported(tmp_path, g, *args, name=name)
    if isinstance(g, srcdiff.transforms.Jvp):  # the generated jvp takes the tangents of the float arguments first
        tangents = tuple(np.ones_like(a) for a in args)
        expected, args = srcdiff.jvp(getattr(m, function), args, tangents), tangents + args
    else:
        expected = g(*args)
    same_numbers(run_without_srcdiff(tmp_path, name, args, tmp_path), expected)


def test_exported_module_records_what_it_was_built_from(tmp_path, user_modules):
    m = user_modules(MODEL)
    w, b, x, y = model_arguments()["loss"]
    text = exported(tmp_path, srcdiff.grad(m.loss, wrt=("w", "b")), w, b, x, y, name="recorded").read_text()
    namespace: dict = {"__name__": "recorded"}
    exec(compile(text, "recorded.py", "exec"), namespace)  # noqa: S102
    assert namespace["__all__"][0] == "grad_loss"
    docstring = namespace["__doc__"]
    assert hashlib.sha256(inspect.getsource(m.loss).encode()).hexdigest() in docstring
    assert f"srcdiff {srcdiff.__version__}" in docstring and f"NumPy {np.__version__}" in docstring
    assert "w: a 1-d array; b: a number; x: a 2-d array; y: a 1-d array" in docstring
    # only the helpers this code calls, and what they call
    defined = {d.name for d in ast.parse(text).body if isinstance(d, (ast.FunctionDef, ast.ClassDef))}
    assert {"unbroadcast", "size", "matmul_adjoint_b", "materialize"} <= defined
    assert not defined & {"einsum_adjoint", "cumsum_adjoint", "svd_adjoint", "gather"}


def test_exported_entry_checks_the_argument_kinds(tmp_path, user_modules):
    m = user_modules(MODEL)
    w, b, x, y = model_arguments()["loss"]
    text = srcdiff.export(srcdiff.grad(m.loss, wrt=("w", "b")), w, b, x, y)
    grad_loss = run_printed(text, "grad_loss")
    same_numbers(grad_loss(w, b, x, y), srcdiff.grad(m.loss, wrt=("w", "b"))(w, b, x, y))
    with pytest.raises(ValueError, match="argument 'x' must be a 2-d array .* not a 1-d array"):
        grad_loss(w, b, y, y)
    with pytest.raises(TypeError, match="argument 'w' must be a 1-d array .* not builtins.list"):
        grad_loss(list(w), b, x, y)
    with pytest.raises(TypeError, match="argument 'b' must be a number"):
        grad_loss(w, np.ones(1), x, y)


def test_every_runtime_helper_can_be_copied_alone():
    # the copy is found by reading the helpers' trees: each helper's, with what it reads, runs on its own
    for module in (runtime, runtime_linalg):
        for name in module.__all__:
            definitions = runtime_closure({(module.__name__, name)})
            text = "\n\n".join(d.text for d in definitions)
            assert "srcdiff" not in "".join(line for line in text.splitlines() if line.startswith(("import", "from")))
            namespace: dict = {"__name__": "copied"}
            exec(compile("from __future__ import annotations\n" + text, name, "exec"), namespace)  # noqa: S102
            assert callable(namespace[name]), name


def test_export_refuses_what_another_process_cannot_import(user_modules):
    def make(c):
        def scaled(x):
            return x * c

        return scaled

    with pytest.raises(ExportError, match="held in a closure"):
        srcdiff.export(srcdiff.grad(make(2.0)), 1.0)
    with pytest.raises(ExportError, match="cannot import to check it"):
        srcdiff.export(srcdiff.grad(apply), np.ones(3), lambda v: v * 2.0)
    # a module made by exec: its globals cannot be imported by its name, unless the user names it
    f = gen.load("import numpy as np\nSCALE = 2.0\n\ndef program(x):\n    return np.sum(x * SCALE)\n")
    with pytest.raises(ExportError, match="not importable by that name.*\n.*module='name'"):
        srcdiff.export(srcdiff.grad(f), np.ones(3))
    text = srcdiff.export(srcdiff.grad(f), np.ones(3), module="model")
    assert "from model import SCALE" in text


@dataclasses.dataclass
class Dense:
    W: np.ndarray


def through_dense_layers(layers, x):
    for layer in layers:
        x = np.tanh(x @ layer.W)
    return np.sum(x)


def test_export_refuses_dataclasses_alone_or_in_a_list():
    # grad reads them as records, which exported code would not: a refusal, not code that fails when run
    layers = [Dense(np.ones((2, 2)))]
    for example in (layers, layers[0]):
        with pytest.raises(ExportError, match="not dataclasses"):
            srcdiff.export(srcdiff.grad(through_dense_layers), example, np.ones(2))


def apply(x, act=np.tanh):
    return np.sum(act(x))


def test_exported_code_for_a_function_argument_checks_it_is_that_function():
    for given in [(np.sin,), ()]:  # passed, or the default
        expected = "sin" if given else "tanh"
        text = srcdiff.export(srcdiff.grad(apply), np.ones(3), *given)
        assert f"act: the function {expected}" in text
        grad_apply = run_printed(text, "grad_apply")
        same_numbers(grad_apply(np.ones(3), *given), srcdiff.grad(apply)(np.ones(3), *given))
        with pytest.raises(TypeError, match=f"argument 'act' must be the function {expected}"):
            grad_apply(np.ones(3), np.cos)


# --------------------------------------------------------------------------- the command line


def test_command_line_export(tmp_path, user_modules):
    m = user_modules(MODEL, "cli_model")
    source_file = tmp_path / "cli_model.py"
    out = tmp_path / "exported" / "cli_grad.py"
    out.parent.mkdir()
    printed = io.StringIO()
    argv = ["export", f"{source_file}:loss", "--wrt", "w,b", "--args", "rand:3", "0.5", "rand:8x3", "rand:8", "-o", str(out)]
    assert cli._export(cli._parser().parse_args(argv), printed) == cli.OK
    assert "wrote" in printed.getvalue() and out.is_file()
    args = tuple(cli.parse_args(argv[5:9], m.loss, ["w", "b"], 0))
    same_numbers(run_without_srcdiff(tmp_path, "cli_grad", args, tmp_path), srcdiff.grad(m.loss, wrt=("w", "b"))(*args))

    # --order 2: the Hessian of an array argument; grad(grad(f)) of a float one
    hessian_out = out.with_name("cli_hessian.py")
    argv = ["export", f"{source_file}:loss", "--order", "2", "--args", "rand:3", "0.5", "rand:8x3", "rand:8"]
    assert cli.main([*argv, "-o", str(hessian_out)]) == cli.OK
    args = tuple(cli.parse_args(argv[5:9], m.loss, [0], 0))
    same_numbers(run_without_srcdiff(tmp_path, "cli_hessian", args, tmp_path), srcdiff.hessian(m.loss)(*args))
    series_out = out.with_name("cli_series.py")
    assert cli.main(["export", f"{source_file}:series", "--order", "2", "--args", "0.7", "8", "-o", str(series_out)]) == cli.OK
    assert "def grad_grad_series(x, n):" in series_out.read_text()
    same_numbers(run_without_srcdiff(tmp_path, "cli_series", (0.7, 8), tmp_path), srcdiff.grad(srcdiff.grad(m.series))(0.7, 8))
    assert "from cli_model import SCALE" in series_out.read_text()  # the file's name, not the command line's module name


def test_command_line_export_errors(tmp_path, capsys):
    script = tmp_path / "closure.py"
    script.write_text(
        "import numpy as np\n\ndef outer(c):\n    def f(x):\n        return x * c\n    return f\n\nf = outer(2.0)\n"
    )
    assert cli.main(["export", f"{script}:f", "--args", "1.0"]) == cli.FAILED
    assert "held in a closure" in capsys.readouterr().err
    assert cli.main(["export", f"{script}:nothing", "-o", str(tmp_path / "x.py")]) == cli.USAGE


def test_a_script_run_as_main_names_its_module(tmp_path):
    # a script's globals live in __main__, which another program cannot import: export says so, and module= fixes it
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import srcdiff

            RATE = 0.1

            def loss(w):
                return np.sum(w ** 2) * RATE

            try:
                srcdiff.export(srcdiff.grad(loss), np.ones(2))
            except srcdiff.SrcdiffError as error:
                print(type(error).__name__, error)
            print(srcdiff.export(srcdiff.grad(loss), np.ones(2), module="train").splitlines().count("from train import RATE"))
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.strip().splitlines()[:1] + done.stdout.strip().splitlines()[-1:]
    assert first.startswith("ExportError") and "__main__, the script being run" in first
    assert "module='name'" in done.stdout and second == "1"
