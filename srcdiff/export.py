"""Export: a derivative -> a standalone module, NumPy its only dependency.

``srcdiff.export(g, *example_args)`` (and ``srcdiff export`` on the command line): the code
``g`` runs for arguments of these kinds (``specialise``, as ``source`` finds it), assembled
with the runtime helpers copied in (``assembly.assemble(standalone=True)``), a docstring
recording what it was built from (the source's SHA-256, the versions, the argument kinds),
``__all__`` naming the entry function first, and checks of the argument kinds at the top of
that function (``check_argument``, written into the module). What another program could not
import (a closure variable, a global of ``__main__``) is refused with ``ExportError``.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import callables, emit, trees
from .assembly import Assembly, Context, assemble, importable, module_text, numpy_name, renamed, unimportable
from .errors import ExportError
from .kinds import CONTAINER, DICT, LEAVES, NOT_CONTAINER, SCALARS
from .runtime import is_duck_array

__all__ = ["export", "specialise", "driven_source"]


@dataclasses.dataclass
class Specialised:
    """A derivative object, for example arguments: the code to export and how it is called."""

    entry: emit.Emitted
    function: Any  # the user's function
    what: str  # "the gradient of f with respect to x", for the docstring
    params: list[str]  # the user's function's parameters
    args: tuple  # the example arguments
    kinds: frozenset
    driver: str | None = None  # "hvp" or "hessian": a function written around the jvp of the gradient
    wrt: tuple[str, ...] = ()
    sweeps: bool = False  # a pullback: the forward sweep and the backward sweep are both called


def specialise(g: Any, args: tuple) -> Specialised:
    """The generated code behind ``g`` for these arguments, as ``srcdiff.source`` prints it."""
    # (imported here: derived imports this module, for source() of a Hessian)
    from . import api, derived, transforms

    if isinstance(g, api.AuxGradient):
        raise ExportError(
            f"{g.__name__} was made with has_aux=True, which export does not take",
            suggestion="Export grad(f) of a function returning its output alone, or value_and_grad.",
        )
    if isinstance(g, (api.Gradient, transforms.Jvp)) and (g.receiver or getattr(g, "keywords", None)):
        raise ExportError(
            f"{g.__name__} differentiates a bound method or a functools.partial, which export does not take",
            suggestion="Export the derivative of a plain function and pass the object or the bound values as arguments.",
        )
    if trees.holds_dataclass(args):  # (in a list too: grad reads one as a record, which exported code does not)
        raise ExportError("export takes arrays, numbers, lists, tuples and dicts as arguments, not dataclasses")
    if isinstance(g, api.Gradient):
        kinds = g.argument_kinds(args, {}) if args else _array_kinds(g.params)
        what = {"grad": "the gradient", "value": "the value and gradient"}[g.mode]
        inner = g.function
        while isinstance(inner, api.Gradient):  # grad(grad(f)): the gradient of the gradient of f
            what, inner = what + " of the gradient", inner.function
        return Specialised(
            g.entry(kinds),
            api.base_function(g),
            f"{what} of {{name}} with respect to {', '.join(g.wrt)}",
            g.params,
            args,
            kinds,
            wrt=g.wrt,
        )
    if isinstance(g, transforms.Jvp):
        if args:
            kinds = g.argument_kinds(args)
            wrt = tuple(g.params[i] for i, a in enumerate(args) if transforms._differentiable(a))
        else:
            kinds, wrt = _array_kinds(g.params), tuple(g.params)
        what = f"the jvp of {{name}} with tangents of {', '.join(wrt)}, which it takes first, then the arguments"
        return Specialised(g.entry(wrt, kinds), api.base_function(g.function), what, g.params, args, kinds, wrt=wrt)
    if isinstance(g, derived.Pullback):
        what = "the forward sweep and the pullback of {name}: forward(*primals) -> (out, tape), backward(tape, cotangent)"
        function = api.base_function(g.entry.functions[g.entry.entry])
        return Specialised(g.entry, function, what, [], g.primals, frozenset(), sweeps=True)
    if isinstance(g, derived.Hvp) or getattr(g, "srcdiff_transform", None) == "hessian":
        driver = "hvp" if isinstance(g, derived.Hvp) else "hessian"
        if driver == "hessian" and not isinstance(g, derived.Jacobian):
            raise ExportError("export takes hessian(f) with respect to one argument (wrt an index or a name, not a tuple)")
        gradient = g.gradient if isinstance(g, derived.Hvp) else g.function
        if len(gradient.wrt) != 1:
            raise ExportError(f"export takes {driver}(f) with respect to one argument, not {len(gradient.wrt)}")
        tangents = g.tangents
        if driver == "hvp":
            args = args[: len(gradient.params)]  # (source() takes f's arguments; hvp's last one is v)
        kinds = tangents.argument_kinds(args) if args else _array_kinds(gradient.params)
        what = {"hvp": "the Hessian of {name} with respect to %s times v", "hessian": "the Hessian of {name} with respect to %s"}
        return Specialised(
            tangents.entry(gradient.wrt, kinds),
            api.base_function(gradient),
            what[driver] % gradient.wrt[0],
            gradient.params,
            args,
            kinds,
            driver,
            gradient.wrt,
        )
    raise ExportError(
        f"export takes a derivative made by srcdiff (grad, value_and_grad, jvp, vjp's pullback, hvp, hessian), not {g!r}"
    )


def _array_kinds(params: list[str]) -> frozenset:
    """Without example arguments: code for arrays (of any number of dimensions), as ``source`` shows."""
    return frozenset((p, NOT_CONTAINER) for p in params)


def expected_kinds(s: Specialised) -> dict[str, tuple]:
    """What each parameter must be for the code built: ``("number",)``, ``("array", ndim)``,
    ``("array or number",)`` (code for arrays of any dimensions), ``("list", what it holds)``,
    ``("function", f)`` (code built for calls of ``f``: the default ``m=np`` too), ``("object",
    class)`` (for its methods), ``("list", "objects", class)``."""
    holds = {SCALARS: "numbers", LEAVES: "arrays and numbers", CONTAINER: "anything"}
    example = dict(zip(s.params, s.args))
    found: dict[str, tuple] = {}
    order = {p: i for i, p in enumerate(s.params)}
    for entry, kind in sorted(s.kinds, key=lambda e: (order.get(e[0].lstrip("!?%"), len(order)), e)):
        name = entry.lstrip("!?%")
        if not name.isidentifier() or entry[:1] not in "!?%" and not entry.isidentifier():
            continue  # (complex values, a dataclass's fields: nothing more to check)
        value = example.get(name)
        if entry[0] in "!?%":
            held = callables.held(kind) if kind >= 0 else None
            if held is None:
                raise ExportError(f"export takes {name!r}, which holds objects of several classes, as an argument")
            found[name] = (
                ("function", held)
                if entry[0] == "!"
                else ("object", held)
                if entry[0] == "?"
                else (type(value).__name__, "objects", held)
            )
        elif name in found:  # (a list of objects: said above)
            continue
        elif kind == NOT_CONTAINER:
            found[name] = ("array or number",)
        elif kind >= 0:
            found[name] = ("array", kind) if isinstance(value, np.ndarray) or is_duck_array(value) else ("number",)
        elif kind in holds or kind - DICT in holds:
            found[name] = (type(value).__name__ if value is not None else "list", holds[kind if kind in holds else kind - DICT])
    return found


def describe_kind(expected: tuple) -> str:
    if expected[0] == "array":
        return f"a {expected[1]}-d array"
    if expected[0] in ("number", "array or number"):
        return f"an {expected[0]}" if expected[0][0] in "a" else f"a {expected[0]}"
    if expected[0] == "function":
        return f"the function {_name_of(expected[1])}"
    if expected[0] == "object":
        return f"an object of class {_name_of(expected[1])}"
    if len(expected) == 3:
        return f"a {expected[0]} of objects of class {_name_of(expected[2])}"
    return f"a {expected[0]} of {expected[1]}"


def _name_of(value: Any) -> str:
    return getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or repr(value)


def _check_call(checker: str, name: str, expected: tuple, function: str, a: Assembly, context: Context) -> str:
    """The line checking argument ``name``: an object it must be, or be of, named by an import."""
    objects = [v for v in expected if not isinstance(v, (str, int))]
    if not objects:
        return f"{checker}({name}, {name!r}, {expected!r}, {function!r})"
    origin = importable(objects[0], context)
    if origin is None or "." in str(origin[-1]):
        raise ExportError(
            f"the code was built for {name} = {objects[0]!r}, which the exported module cannot import to check it",
            suggestion="Pass a function or class defined at the top level of a module.",
        )
    bound = next((n for n, o in a.namespace.bound.items() if o == origin), None)  # imported already
    if bound is None:
        bound = a.namespace.reserve(origin[-1].rpartition(".")[2], origin)
        line = f"import {origin[1]} as {bound}" if origin[0] == "module" else f"from {origin[1]} import {origin[2]} as {bound}"
        a.imports.append(line.rpartition(" as ")[0] if line.endswith(f" as {origin[-1]}") else line)
    spelled = ", ".join(bound if not isinstance(v, (str, int)) else repr(v) for v in expected)
    return f"{checker}({name}, {name!r}, ({spelled}), {function!r})"


# The argument check of an exported entry: its text is written into the module (``np`` is
# NumPy there). A cheap check: the type, an array's number of dimensions, a container's items.
_CHECKER = '''
def check_argument(value, name, expected, function):
    """Raise unless ``value`` is of the kind this module was exported for (``expected``)."""
    kind = expected[0]
    if kind == "number":
        if isinstance(value, (int, float, np.number)) or (isinstance(value, np.ndarray) and value.ndim == 0):
            return
    elif kind == "array" or kind == "array or number":
        if type(value) is np.ndarray:
            if kind == "array or number" or value.ndim == expected[1]:
                return
            raise ValueError(
                f"{function}: argument {name!r} must be a {expected[1]}-d array (this module was exported "
                f"for one), not a {value.ndim}-d array; export again for arguments of that kind"
            )
        if kind == "array or number" and isinstance(value, (int, float, np.number)):
            return
    elif kind == "function":
        if value is expected[1]:
            return
    elif kind == "object":
        if type(value) is expected[1]:
            return
    elif type(value).__name__ == kind:
        items = value.values() if kind == "dict" else value
        if expected[1] == "objects":
            if all(type(v) is expected[2] for v in items):
                return
        elif expected[1] == "anything" or all(
            isinstance(v, (int, float, np.number)) or (expected[1] != "numbers" and type(v) is np.ndarray) for v in items
        ):
            return
    what = f"a {expected[1]}-d array" if kind == "array" else f"a {kind} of {expected[1]}" if len(expected) > 1 else f"a {kind}"
    if kind in ("function", "object") or len(expected) == 3:
        what = f"{'the function' if kind == 'function' else 'of class'} {getattr(expected[-1], '__name__', expected[-1])}"
    raise TypeError(
        f"{function}: argument {name!r} must be {what} (this module was exported for that), "
        f"not {type(value).__module__}.{type(value).__qualname__}; export again for arguments of that kind"
    )
'''


def _driver(s: Specialised, a: Assembly, np_name: str) -> tuple[str, str]:
    """The name and text of the function an ``hvp`` or a ``hessian`` is called as, around the
    jvp of the gradient (``a.entry``)."""
    name = a.namespace.reserve(f"{s.driver}_{getattr(s.function, '__name__', 'f')}", ("export", "driver"))
    params, w, jvp = ", ".join(s.params), s.wrt[0], a.entry
    if s.driver == "hvp":
        text = (
            f"def {name}({params}, v):\n"
            f'    """H @ v: the Hessian with respect to {w} times v (the jvp of the gradient along v)."""\n'
            f"    return {jvp}(v, {params})[1]\n"
        )
    else:
        text = (
            f"def {name}({params}):\n"
            f'    """The Hessian with respect to {w}, of shape {w}.shape + {w}.shape: one jvp of the gradient\n'
            f'    per entry of {w}, along that unit vector (forward over reverse), as srcdiff.hessian takes it."""\n'
            f"    if np.ndim({w}) == 0:\n"
            f"        return np.asarray({jvp}(1.0, {params})[1])\n"
            f"    size, shape = np.size({w}), np.shape({w})\n"
            f"    columns = [{jvp}(e.reshape(shape), {params})[1] for e in np.eye(size)]\n"
            f"    return np.stack(columns, axis=-1).reshape(shape + shape)\n"
        )
    return name, renamed(text, ast.parse(text), {"np": np_name})


def export(g: Any, *example_args: Any, path: str | os.PathLike | None = None, module: str | None = None) -> str:
    """A standalone module computing derivative ``g`` for arguments of the kinds of ``example_args``
    (without them, for arrays): the generated code, the runtime helpers it calls copied in, and
    ``from <module> import NAME`` for the globals of the user's module it reads. Its only other
    dependency is NumPy; ``__all__`` names the entry function first, which checks the argument
    kinds when called. Written to ``path`` if given; the text is returned.

    ``module``: the name the user's module is imported by (default: the function's ``__module__``;
    give it for a script run as ``__main__``, or a file loaded from a path).
    """
    s = specialise(g, tuple(example_args))
    user_module = getattr(s.function, "__module__", None) or "__main__"
    names = {user_module: module} if module else {}
    a = assemble(s.entry, standalone=True, module_names=names)
    expected = expected_kinds(s)
    _refuse_unimportable(s, a, names)
    np_name = numpy_name(a)  # the checker's (and a driver's) NumPy
    checker_name = a.namespace.reserve("check_argument", ("export", "check_argument"))
    checker = _CHECKER.strip("\n") + "\n"
    checker = renamed(checker, ast.parse(checker), {"np": np_name, "check_argument": checker_name})
    first = a.parts[0]
    entry_names = [a.entry] + ([n for n in a.functions.values() if n != a.entry] if s.sweeps else [])
    driver_name, driver_text = _driver(s, a, np_name) if s.driver else (a.entry, "")
    context = Context({}, names)
    checks = [_check_call(checker_name, p, e, driver_name, a, context) for p, e in expected.items()]
    if s.driver:
        entry_names = [driver_name]
        driver_text = _insert_checks(driver_text, driver_name, checks)
    else:
        first.body = _insert_checks(renamed(first.body, first.tree, first.renames), a.entry, checks)
        first.tree, first.renames = ast.parse(first.body), {}
    header = _docstring(s, a, expected, entry_names)
    copied_imports = [t for t in a.inlined if t.startswith(("import ", "from "))]
    imports = sorted(set(copied_imports + a.imports), key=lambda line: (line.startswith("from "), line))
    lines = [header, "from __future__ import annotations", "", *imports, "", f"__all__ = {entry_names!r}", ""]
    lines += ["", f"# -- srcdiff's runtime helpers this code calls, copied from srcdiff {_version()}", ""]
    lines += [t + "\n\n" for t in a.inlined if t not in copied_imports]
    lines += a.aliases
    lines += ["", "# -- the argument kinds this module was exported for", "", checker, ""]
    text = "\n".join(lines) + "\n# -- the generated code\n\n" + a.definitions()
    if driver_text:
        text += "\n\n" + driver_text
    text = _tidy(text)
    compile(text, str(path or "<export>"), "exec")  # (a bug here is srcdiff's: found now, not by the user)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _refuse_unimportable(s: Specialised, a: Assembly, names: dict[str, str]) -> None:
    """Raise ``ExportError`` if the module would read a value another program cannot import."""
    modules = {line.split()[1] for line in a.imports}
    reasons = {m: why for m in sorted(modules - set(names.values())) if (why := unimportable(m))}
    ours = sorted(m for m in modules if m.split(".")[0] == "srcdiff")
    problems = a.missing + [f"the globals it reads come from {m}, {why}" for m, why in reasons.items()]
    problems += [f"it reads {m}, which is srcdiff's, not its runtime" for m in ours]
    if not problems:
        return
    instead = []
    if reasons:
        instead.append("pass module='name' (the name its module is imported by; --module on the command line)")
    if a.missing or ours:
        instead.append("make these values globals of an importable module, or arguments")
    raise ExportError(
        f"cannot export {getattr(s.function, '__name__', s.function)} as a standalone module: " + "; ".join(problems),
        suggestion=" or ".join(instead).capitalize() + ".",
    )


def driven_source(g: Any, *args: Any) -> str:
    """``srcdiff.source`` of a Hessian: the jvp of the gradient, and the function taking it column by column."""
    s = specialise(g, args)
    return module_text(s.entry, lambda a: _driver(s, a, numpy_name(a))[1])


def _insert_checks(body: str, function: str, checks: list[str]) -> str:
    """``body`` with ``checks`` as the first statements of ``function``."""
    if not checks:
        return body
    tree = ast.parse(body)
    fn = next(d for d in tree.body if isinstance(d, ast.FunctionDef) and d.name == function)
    first = fn.body[0]
    lines = body.splitlines(keepends=True)
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        at = first.end_lineno  # after the docstring
    else:
        at = fn.lineno  # right after the def line, before its comments
    indent = " " * first.col_offset
    return "".join(lines[:at] + [f"{indent}{c}\n" for c in checks] + lines[at:])


def _tidy(text: str) -> str:
    """At most two blank lines in a row."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip() and len(out) >= 2 and not out[-1].strip() and not out[-2].strip():
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip("\n") + "\n"


def _version() -> str:
    from . import __version__  # (set after the package's imports, this module's among them)

    return __version__


def source_hash(f: Any) -> str:
    """The SHA-256 of ``f``'s source text, as inspect reads it ("unavailable" if it cannot)."""
    try:
        text = inspect.getsource(f)
    except (OSError, TypeError):
        return "unavailable"
    return hashlib.sha256(text.encode()).hexdigest()


def _docstring(s: Specialised, a: Assembly, expected: dict, entry_names: list[str]) -> str:
    """The module's docstring: what it computes, what it needs, what it was built from and for."""
    name = getattr(s.function, "__name__", "f")
    code = getattr(s.function, "__code__", None)
    where = f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}" if code else "?"
    imported = sorted({line for line in a.imports if line.startswith("from ")})
    kinds = "; ".join(f"{p}: {describe_kind(e)}" for p, e in expected.items()) or "(none checked)"
    lines = [
        f'"""{entry_names[0]}: {s.what.format(name=name)}, exported by srcdiff.',
        "",
        "A standalone module. It needs NumPy" + (" and runs: " + "; ".join(imported) if imported else " only") + ".",
        "Exported for arguments of these kinds (the code is specialised to them, and",
        f"{entry_names[0]} checks them when called: a TypeError or ValueError otherwise):",
        f"    {kinds}",
        "",
        f"source:   {name} ({where}), sha256 of its source {source_hash(s.function)}",
        f"versions: srcdiff {_version()}, NumPy {np.__version__}, Python {sys.version.split()[0]} (exported with)",
        '"""',
    ]
    return "\n".join(lines)
