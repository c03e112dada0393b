"""The command line: ``srcdiff show`` prints generated derivative code, ``srcdiff check`` tests it,
``srcdiff export`` writes it as a module that runs without srcdiff.

    srcdiff show model.py:loss --wrt w,b          the gradient code of loss
    srcdiff show model.py:f --order 2             the code of the second derivative
    srcdiff check model.py:loss --args 'rand:3x2' 0.5
                                                  srcdiff's gradient against central differences
    srcdiff export model.py:loss --args rand:3 0.5 -o grad_loss.py
                                                  the gradient as a standalone module
    srcdiff cache info|clear                      the disk cache of built derivatives

``python -m srcdiff`` is the same program. Exit codes: 0 success; 1 the gradient
check failed, srcdiff refused the function, or running it raised; 2 a usage
error: bad arguments, a missing or unreadable file, a missing function.

Optional extras: with pygments installed, ``show`` highlights the code when it
writes to a terminal (``--color always|never`` overrides). Nothing here is
imported by ``srcdiff`` itself, so NumPy stays its only dependency.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import __version__, disk_cache
from .api import Gradient, check_grad, grad, source
from .errors import BadWrt, GradientCheckError, SrcdiffError, WrtTypeError

OK, FAILED, USAGE = 0, 1, 2
_RANDOM = re.compile(r"rand(?::(\d+(?:x\d+)*))?$")


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``srcdiff`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage (code 2) or --help (code 0)
        return int(exc.code or 0)
    try:
        return options.run(options, sys.stdout)
    except UsageError as exc:
        print(f"srcdiff: error: {exc}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:  # srcdiff show ... | head: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # (so that the interpreter's final flush does not fail again)
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="srcdiff",
        description="Print or check the derivative code srcdiff generates for a Python function.",
        epilog="Exit codes: 0 success, 1 check failed or srcdiff refused the function, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"srcdiff {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    target_help = "the function to differentiate, as FILE.py:FUNCTION or MODULE:FUNCTION (a dotted module name)"
    wrt_help = "parameters to differentiate with respect to: names or indices, comma-separated"
    args_help = (
        "inputs, one per parameter: a number (2.0), a list ('[1, 2.5]'), or random normal values: "
        "'rand' for a float, 'rand:3x2' for an array of that shape"
    )

    show = commands.add_parser(
        "show", help="print the generated derivative code", description="Print the Python code srcdiff generates."
    )
    show.add_argument("target", metavar="FILE.py:FUNCTION", help=target_help)
    show.add_argument("--wrt", metavar="NAMES", help=wrt_help + " (default: the first parameter)")
    show.add_argument(
        "--order", type=_positive_int, default=1, help="1 for the gradient, 2 for the second derivative (default: 1)"
    )
    show.add_argument("--args", nargs="+", metavar="VALUE", help=args_help + "; floats give float code (default: array code)")
    show.add_argument("--seed", type=int, default=0, help="seed for 'rand' inputs (default: 0)")
    show.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="highlight with pygments (default: auto, on a terminal)",
    )
    show.set_defaults(run=_show)

    check = commands.add_parser(
        "check", help="compare the gradient with central differences", description="Run srcdiff.check_grad."
    )
    check.add_argument("target", metavar="FILE.py:FUNCTION", help=target_help)
    check.add_argument("--args", nargs="+", metavar="VALUE", help=args_help + " (default: 'rand' for every parameter)")
    check.add_argument("--wrt", metavar="NAMES", help=wrt_help + " (default: every float argument)")
    check.add_argument("--seed", type=int, default=0, help="seed for 'rand' inputs (default: 0)")
    check.add_argument("--eps", type=float, default=1e-6, help="finite-difference step (default: 1e-6)")
    check.add_argument("--rtol", type=float, default=1e-5, help="relative tolerance (default: 1e-5)")
    check.add_argument("--atol", type=float, default=1e-6, help="absolute tolerance (default: 1e-6)")
    check.set_defaults(run=_check)
    _export_parser(commands, target_help, wrt_help, args_help)
    _add_cache_command(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


# --------------------------------------------------------------------------- commands


def _show(options: argparse.Namespace, out: TextIO) -> int:
    f = load_function(options.target)
    wrt = parse_wrt(options.wrt, f, default=[0])
    if options.order > 1 and len(wrt) != 1:
        raise UsageError(f"--order {options.order} needs a single --wrt parameter: the derivative of a scalar gradient")
    args = parse_args(options.args, f, wrt, options.seed) if options.args else []
    try:
        g: Gradient = grad(f, wrt=_wrt_value(wrt))
        for _ in range(options.order - 1):
            g = grad(g, wrt=wrt[0])
        text = source(g, *args)
    except (BadWrt, WrtTypeError) as exc:
        raise UsageError(str(exc)) from None
    except SrcdiffError as exc:
        print(f"srcdiff: {exc}", file=sys.stderr)
        return FAILED
    out.write(highlight(text, options.color, out) + "\n")
    return OK


def _check(options: argparse.Namespace, out: TextIO) -> int:
    f = load_function(options.target)
    params = _parameters(f)
    tokens = options.args if options.args else ["rand"] * len(params)
    wrt = parse_wrt(options.wrt, f, default=[])
    values = parse_args(tokens, f, wrt, options.seed)  # arguments in wrt become floats
    if not wrt:  # default: every float argument
        wrt = [p for p, v in zip(params, values, strict=False) if _is_float(v)]
        if not wrt:
            raise UsageError("no float argument to differentiate with respect to; pass floats or name them with --wrt")
    name = getattr(f, "__name__", options.target)
    try:
        f(*values)
    except Exception as exc:  # the user's function, on these inputs
        print(f"srcdiff: {name} raised {type(exc).__name__} on these inputs: {exc}", file=sys.stderr)
        print("  Give inputs of the right shapes with --args.", file=sys.stderr)
        return FAILED
    try:
        check_grad(f, *values, wrt=tuple(wrt), eps=options.eps, rtol=options.rtol, atol=options.atol)
        gradients = grad(f, wrt=tuple(wrt))(*values)
    except (BadWrt, WrtTypeError) as exc:
        raise UsageError(str(exc)) from None
    except GradientCheckError as exc:
        print(f"srcdiff: FAILED: {exc}", file=sys.stderr)
        return FAILED
    except SrcdiffError as exc:
        print(f"srcdiff: {exc}", file=sys.stderr)
        return FAILED
    except Exception as exc:  # f ran, so this is srcdiff's generated code
        print(f"srcdiff: the generated gradient of {name} raised {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  This is a bug in srcdiff; please report it with this function.", file=sys.stderr)
        return FAILED
    names = [p if isinstance(p, str) else params[p] for p in wrt]
    tolerances = f"eps={options.eps:g}, rtol={options.rtol:g}, atol={options.atol:g}"
    print(f"ok: the gradient of {name} with respect to {', '.join(names)} matches central differences ({tolerances})", file=out)
    for p, v in zip(params, values, strict=False):
        label = f"  {p} = "
        print(label + _short(v, len(label)), file=out)
    for p, d in zip(names, gradients, strict=True):
        label = f"  d{name}/d{p} = "
        print(label + _short(d, len(label)), file=out)
    return OK


def _add_cache_command(commands: Any) -> None:
    cache = commands.add_parser(
        "cache",
        help="show or clear the disk cache of built derivatives",
        description="The disk cache of built derivatives: where it is and what it holds (info), or empty it (clear). "
        "SRCDIFF_CACHE_DIR sets its directory (an empty value turns it off), SRCDIFF_CACHE_SIZE its bound.",
    )
    cache.add_argument("action", choices=("info", "clear"))
    cache.set_defaults(run=_cache)


def _cache(options: argparse.Namespace, out: TextIO) -> int:
    if options.action == "clear":
        removed = disk_cache.clear()
        where = disk_cache.configured() or "no directory (the disk cache is off)"
        print(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {where}", file=out)
        return OK
    info = disk_cache.info()
    print(f"directory: {info.directory or '(none)'}", file=out)
    print(f"state:     {info.state}", file=out)
    print(f"entries:   {info.entries}", file=out)
    print(f"size:      {info.bytes / 2**20:.1f} MB of {info.limit / 2**20:.0f} MB ({info.bytes} bytes)", file=out)
    return OK


def _export_parser(commands: Any, target_help: str, wrt_help: str, args_help: str) -> None:
    export = commands.add_parser(
        "export",
        help="write the derivative as a standalone module (NumPy its only dependency)",
        description=(
            "Write the derivative code as a module that runs without srcdiff: the runtime helpers it calls are "
            "copied in, the globals it reads are imported from FILE's module. The code is specialised to the "
            "kinds of --args (without them, to arrays) and checks them when called."
        ),
    )
    export.add_argument("target", metavar="FILE.py:FUNCTION", help=target_help)
    export.add_argument("-o", "--output", metavar="OUT.py", help="the file to write (default: print the module)")
    export.add_argument("--wrt", metavar="NAMES", help=wrt_help + " (default: the first parameter)")
    export.add_argument(
        "--order",
        type=_positive_int,
        default=1,
        help="1: the gradient; 2: the Hessian with respect to one --wrt parameter (for a float, grad(grad(f))); "
        "3 and more: repeated gradients of a float parameter (default: 1)",
    )
    export.add_argument("--args", nargs="+", metavar="VALUE", help=args_help + "; floats give float code (default: arrays)")
    export.add_argument("--seed", type=int, default=0, help="seed for 'rand' inputs (default: 0)")
    export.add_argument(
        "--module",
        metavar="NAME",
        help="the name FILE is imported by where the exported module runs (default: MODULE, or the package "
        "module FILE is, or FILE's name without .py)",
    )
    export.set_defaults(run=_export)


def _export(options: argparse.Namespace, out: TextIO) -> int:
    from .derived import hessian
    from .export import export

    f, imported_as = load_target(options.target)
    module = options.module or imported_as
    if not module.replace(".", "_").isidentifier():
        raise UsageError(f"{module!r} is not a module name: name the module FILE is imported by with --module")
    wrt = parse_wrt(options.wrt, f, default=[0])
    if options.order > 1 and len(wrt) != 1:
        raise UsageError(f"--order {options.order} needs a single --wrt parameter")
    args = parse_args(options.args, f, wrt, options.seed) if options.args else []
    position = wrt[0] if isinstance(wrt[0], int) else _parameters(f).index(wrt[0])
    on_float = position < len(args) and np.ndim(args[position]) == 0
    if options.order > 2 and not on_float:
        raise UsageError(f"--order {options.order} takes a float --wrt argument (give it with --args)")
    try:
        if options.order == 2 and not on_float:
            g: Any = hessian(f, wrt=wrt[0])
        else:
            g = grad(f, wrt=_wrt_value(wrt))
            for _ in range(options.order - 1):
                g = grad(g, wrt=wrt[0])
        text = export(g, *args, path=options.output, module=module)
    except (BadWrt, WrtTypeError) as exc:
        raise UsageError(str(exc)) from None
    except SrcdiffError as exc:
        print(f"srcdiff: {exc}", file=sys.stderr)
        return FAILED
    if options.output is None:
        out.write(text)
    else:
        entry = text.split(":", 1)[0].lstrip('"')
        reads = f", which imports from {module} the globals it reads" if f"from {module} import " in text else ""
        print(f"wrote {options.output}: {entry}{reads}", file=out)
    return OK


# --------------------------------------------------------------------------- helpers


def load_function(target: str) -> Callable:
    """The function ``FILE.py:FUNCTION`` or ``MODULE:FUNCTION`` names (see ``load_target``)."""
    return load_target(target)[0]


def load_target(target: str) -> tuple[Callable, str]:
    """Import the module of ``FILE.py:FUNCTION`` or ``MODULE:FUNCTION`` and return the function
    and the name its module is imported by.

    ``MODULE`` is a dotted name, imported as ``python -m`` would (the current directory first).
    A file inside a package (its directory has an ``__init__.py``) is imported as that package's
    module, ``pkg.sub.model``, so its relative imports work; any other file as a fresh module
    (``__name__`` not ``"__main__"``), its directory on the path while it runs so that it can
    import its neighbours."""
    where, colon, func_name = target.rpartition(":")
    if not colon or not where or not func_name:
        raise UsageError(f"expected FILE.py:FUNCTION or MODULE:FUNCTION, got {target!r}")
    path = Path(where)
    if path.is_file():
        package = _package_of(path)
        if package is None:
            module, name = _import_file(path, where), path.stem
        else:
            root, name = package
            module = _import_module(name, root, where)
            if Path(getattr(module, "__file__", "") or "").resolve() != path.resolve():
                raise UsageError(
                    f"{where} is the module {name} of a package, but importing {name} finds {module.__file__}: "
                    f"run srcdiff from {root} or name the module as MODULE:FUNCTION"
                )
    elif _MODULE_NAME.fullmatch(where) and not where.endswith(".py"):
        module, name = _import_module(where, os.getcwd(), where), where
    else:
        raise UsageError(f"no such file: {where}")
    f = getattr(module, func_name, None)
    if not inspect.isfunction(f):
        functions = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and v.__module__ == module.__name__)
        what = "is not a function" if f is not None else "not found"
        raise UsageError(f"{func_name!r} {what} in {where} (functions there: {', '.join(functions) or 'none'})")
    return f, name


_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _package_of(path: Path) -> tuple[str, str] | None:
    """For a file inside a package: the directory its top package is in, and the module's dotted name."""
    parts = [] if path.stem == "__init__" else [path.stem]
    directory = path.resolve().parent
    while (directory / "__init__.py").is_file() and directory.name.isidentifier():
        parts.insert(0, directory.name)
        directory = directory.parent
    if not parts or parts == [path.stem]:
        return None
    return str(directory), ".".join(parts)


def _import_file(path: Path, where: str) -> Any:
    module_name = "_srcdiff_cli_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {where}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise UsageError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    return module


def _import_module(name: str, directory: str, where: str) -> Any:
    """Import ``name`` with ``directory`` first on the path (it stays: the module may import more later)."""
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise UsageError(f"no such file or module: {where}") from None
        raise UsageError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    except Exception as exc:
        raise UsageError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None


def parse_wrt(text: str | None, f: Callable, default: list) -> list[int | str]:
    """``"w,b"`` or ``"0,2"`` -> ``["w", "b"]`` or ``[0, 2]``, checked against ``f``'s parameters."""
    if not text:
        return default
    params = _parameters(f)
    items: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        if re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(params) <= index < len(params):
                raise UsageError(f"--wrt {index} is out of range: {f.__name__} has parameters {', '.join(params)}")
            items.append(index)
        elif part in params:
            items.append(part)
        else:
            raise UsageError(f"--wrt {part!r} is not a parameter of {f.__name__} (parameters: {', '.join(params)})")
    return items


def parse_args(tokens: Sequence[str], f: Callable, wrt: Sequence[int | str], seed: int) -> list[Any]:
    """Turn ``--args`` tokens into values; arguments in ``wrt`` become floats."""
    params = _parameters(f)
    try:
        inspect.signature(f, follow_wrapped=False).bind(*tokens)
    except TypeError as exc:
        raise UsageError(f"--args: {f.__name__}({', '.join(params)}) cannot take {len(tokens)} arguments ({exc})") from None
    rng = np.random.default_rng(seed)
    floats = {params[w] if isinstance(w, int) else w for w in wrt}
    values = []
    for param, token in zip(params, tokens, strict=False):
        value = _value(token, rng)
        if param in floats:
            value = float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)
        values.append(value)
    return values


def _value(token: str, rng: np.random.Generator) -> Any:
    random = _RANDOM.match(token.strip())
    if random:
        if random.group(1) is None:
            return float(rng.normal())
        return rng.normal(size=tuple(int(n) for n in random.group(1).split("x")))
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        raise UsageError(f"--args: cannot read {token!r}: give a number, a list '[1.0, 2.0]', 'rand' or 'rand:3x2'") from None
    if isinstance(value, (list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise UsageError(f"--args: {token!r} is not a list of numbers")
        return array
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"--args: {token!r} is not a number or a list of numbers")
    return value


def highlight(text: str, color: str, stream: TextIO) -> str:
    """``text`` with terminal colours if asked (``always``) or writing to a terminal (``auto``) and pygments is installed."""
    wanted = color == "always" or (color == "auto" and hasattr(stream, "isatty") and stream.isatty())
    if not wanted:
        return text
    try:
        from pygments import highlight as pygments_highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return pygments_highlight(text, PythonLexer(), TerminalFormatter()).rstrip("\n")


def _wrt_value(wrt: list[int | str]) -> int | str | tuple[int | str, ...]:
    return wrt[0] if len(wrt) == 1 else tuple(wrt)


def _parameters(f: Callable) -> list[str]:
    return list(inspect.signature(f, follow_wrapped=False).parameters)


def _is_float(value: Any) -> bool:
    return isinstance(value, float) or (isinstance(value, np.ndarray) and value.dtype.kind == "f")


def _short(value: Any, indent: int) -> str:
    """A value for the report: arrays wrapped under their first line, floats to 6 digits."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=20, separator=", ", max_line_width=100 - indent)
        return text.replace("\n", "\n" + " " * indent)
    if isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
        return text if any(c in text for c in ".en") else text + ".0"
    return repr(value)
