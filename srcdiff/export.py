"""Export: generated code -> one module that runs as printed, or a standalone file.

On entry: an ``emit.Emitted`` (a derivative's entry, the entries of the functions it calls
bound into its cells, ``Emitted.callees``). Emit compiled each of them with the user's
globals and with every helper, callee and closure variable in a cell, so its text's import
lines are for the reader: they leave out the user's globals (``SCALE``, the user's own
``np``) and the helpers a second derivative reads from the cells of the code it
differentiates. Here the text is made whole: the names every definition reads and does not
bind (``symtable``) are looked up where the compiled functions look them up (their cells,
then their globals), and each gets a binding at the top of the module:

- a module: ``import numpy as np``;
- a function or class importable from its own module: ``from scipy.special import gammaln``;
- any other global of the user's module: ``from model import SCALE`` (a module that cannot
  be imported by its name, such as ``__main__`` or one made by ``exec``, is said so);
- another part's function: nothing, it is defined in the module.

Two parts may give one name two meanings (two specialisations of one helper both define
``helper_forward``; a callee is bound under another name than it defines): names are given
out once per module and a part's uses are renamed (by its tree's positions: attributes,
keywords, strings and comments are left alone).

``source()`` prints ``module_text(entry)``: the runtime helpers are imported from
``srcdiff.runtime``. ``export()`` writes a standalone module: those helpers, with every
definition of ``srcdiff/runtime.py``, ``runtime_linalg.py`` and ``errors.py`` they read (found
by reading their trees, transitively), are copied into it, so it imports NumPy and the
user's module only; its entry function checks the argument kinds it was built for.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import os
import symtable
import sys
import types
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from . import callables, emit
from .errors import ExportError

__all__ = ["module_text", "export", "Assembly", "assemble"]

# The modules a standalone export copies definitions from, in the order they are written.
_INLINED = ("srcdiff.errors", "srcdiff.runtime_linalg", "srcdiff.runtime")


# ------------------------------------------------------------------------------ parts


@dataclass
class Part:
    """One generated module (an entry or a callee's) split into its header, and its definitions."""

    emitted: emit.Emitted
    header: list[str]  # the comment lines emit wrote first
    body: str  # the definitions, without emit's import lines
    tree: ast.Module
    defined: list[str]  # the functions it defines, in order
    renames: dict[str, str] = field(default_factory=dict)  # a name it uses -> the module's name for it


def parts(entry: emit.Emitted) -> list[Part]:
    """The entry and every generated function it reaches, each module once, the entry first:
    its callees, and the functions in its cells that other code generated (a second derivative
    reads the first's callees from the first's cells)."""
    found: list[Part] = []
    seen: set[int] = set()
    pending = [entry]
    while pending:
        e = pending.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        found.append(_split(e))
        pending += e.callees
        for cell in e.cells.values():
            try:
                value = cell.cell_contents
            except ValueError:  # (a callee never bound: origin_of says so)
                continue
            defined_by = emit.DEFINED_BY.get(id(value))
            if defined_by is not None and value in defined_by.functions.values():
                pending.append(defined_by)
    return found


def _split(e: emit.Emitted) -> Part:
    lines = e.text.splitlines()
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    header = lines[:i]
    while i < len(lines) and lines[i].startswith(("import ", "from ")):
        i += 1
    body = "\n".join(lines[i:]).strip("\n") + "\n"
    tree = ast.parse(body)
    return Part(e, header, body, tree, [d.name for d in tree.body if isinstance(d, ast.FunctionDef)])


def free_names(part: Part) -> set[str]:
    """The names the part's functions read and do not bind (nor another of its functions)."""
    found: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for s in table.get_symbols():
            if s.is_global() and (s.is_referenced() or s.is_assigned()):
                found.add(s.get_name())
        for child in table.get_children():
            walk(child)

    module = symtable.symtable(part.body, "<srcdiff part>", "exec")
    found |= {s.get_name() for s in module.get_symbols() if s.is_referenced()}  # defaults: def f(x, m=np)
    for child in module.get_children():
        walk(child)
    return found - set(part.defined)


# ------------------------------------------------------------------------------ where names come from

# An origin says what a module-level name must be bound to, as a hashable key:
# ("module", "numpy"), ("from", "scipy.special", "gammaln"), ("generated", id(function)),
# ("missing", why) for a value nothing can import.
Origin = tuple


@dataclass(frozen=True)
class Context:
    """What resolving a name needs besides the part: the functions of every part (a callee is
    defined in the module, not imported), and the names to import user modules by."""

    generated: dict[int, Any]  # id -> a generated function of some part
    module_names: dict[str, str]  # a module's __name__ -> the name an export imports it by


def origin_of(part: Part, name: str, context: Context) -> Origin | None:
    """Where the compiled functions of ``part`` find ``name``: their cells, then their globals,
    then the builtins (None: a builtin, nothing to bind)."""
    cell = part.emitted.cells.get(name)
    if cell is not None:
        try:
            value = cell.cell_contents
        except ValueError:
            return ("missing", f"{name}: a callee that was never bound")
        if id(value) in context.generated and context.generated[id(value)] is value:
            return ("generated", id(value))
        found = _importable(value, context)
        return found or ("missing", f"{name}: {_describe_value(value)} held in a closure (not a global of any module)")
    functions = list(part.emitted.functions.values())
    namespace = functions[0].__globals__ if functions else {}
    if name in namespace:
        value = namespace[name]
        found = _importable(value, context)
        if found is not None:
            return found
        return ("from", _module_name(namespace, context), name)
    if hasattr(builtins, name):
        return None
    return ("missing", f"{name}: not defined in {namespace.get('__name__', 'the module')}")


def _importable(value: Any, context: Context) -> Origin | None:
    """A module, or a function or class found under its own module and name."""
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if type(value) is callables.Method:  # a method of the user's class, called as a function
        value = value.function
    if not callable(value):
        return None
    module, name = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
        return None  # a lambda, a function defined in a function, a callable object
    found = sys.modules.get(module)
    for attribute in name.split("."):  # Class.method: read from the class
        found = getattr(found, attribute, None)
    if found is not value:
        return None
    return ("from", context.module_names.get(module, module), name)


def _module_name(namespace: dict, context: Context) -> str:
    name = namespace.get("__name__", "?")
    return context.module_names.get(name, name)


def _describe_value(value: Any) -> str:
    return f"a {type(value).__module__}.{type(value).__qualname__}" if not isinstance(value, (int, float)) else repr(value)


def unimportable(module: str) -> str | None:
    """Why ``from module import ...`` cannot work in another program (None: it can, where the
    module is on the path: a module registered in ``sys.modules`` is taken at its word)."""
    if module == "__main__":
        return "the script being run, which another program cannot import"
    if module not in sys.modules:
        return "not importable by that name (made by exec, or loaded from a path)"
    return None


# ------------------------------------------------------------------------------ names


class Namespace:
    """The module's names: each bound to one origin; a second origin wanting a name gets a fresh one."""

    def __init__(self, taken_text: set[str]) -> None:
        self.bound: dict[str, Origin] = {}
        self.order: list[str] = []
        self.taken_text = taken_text  # every identifier in the text: a fresh name is none of them

    def reserve(self, name: str, origin: Origin) -> str:
        """``name`` for ``origin``, or a fresh name if ``name`` means something else here."""
        if self.bound.get(name, origin) == origin:
            if name not in self.bound:
                self.bound[name] = origin
                self.order.append(name)
            return name
        for k in range(1, 1000):
            fresh = f"{name}_{k}"
            if self.bound.get(fresh, origin) == origin and fresh not in self.taken_text:
                if fresh not in self.bound:
                    self.bound[fresh] = origin
                    self.order.append(fresh)
                return fresh
        raise ExportError(f"no free name like {name!r}")  # (a thousand parts: not reached)


def _identifiers(tree: ast.AST) -> set[str]:
    return {n.id if isinstance(n, ast.Name) else n.name for n in ast.walk(tree) if isinstance(n, (ast.Name, ast.FunctionDef))}


def renamed(text: str, tree: ast.Module, renames: dict[str, str]) -> str:
    """``text`` with the names in ``renames`` replaced where the tree has them: loads, stores
    and function definitions; not attributes, keywords, strings or comments."""
    if not renames:
        return text
    lines = text.splitlines(keepends=True)
    edits: dict[int, list[tuple[int, int, str]]] = {}  # line -> (start, end, new), in bytes
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renames:
            edits.setdefault(node.lineno, []).append((node.col_offset, node.end_col_offset, renames[node.id]))
        elif isinstance(node, ast.FunctionDef) and node.name in renames:
            encoded = lines[node.lineno - 1].encode()
            start = encoded.index(b"def ", node.col_offset) + 4
            edits.setdefault(node.lineno, []).append((start, start + len(node.name.encode()), renames[node.name]))
    for line, spans in edits.items():
        encoded = lines[line - 1].encode()
        for start, end, new in sorted(spans, reverse=True):
            encoded = encoded[:start] + new.encode() + encoded[end:]
        lines[line - 1] = encoded.decode()
    return "".join(lines)


# ------------------------------------------------------------------------------ the module


@dataclass
class Assembly:
    """A module assembled from generated parts."""

    parts: list[Part]
    namespace: Namespace
    imports: list[str]  # import lines
    inlined: list[str]  # standalone: the runtime definitions copied in
    aliases: list[str]  # ``name = other`` lines: a helper bound under another name than its own
    missing: list[str]  # what nothing can import, said in the text
    entry: str  # the entry function's name in the module
    functions: dict[str, str]  # a generated function's name in its part -> in the module (the entry part's)

    def definitions(self) -> str:
        out = []
        for p in self.parts:
            out.append("\n".join([*p.header, renamed(p.body, p.tree, p.renames).rstrip("\n")]))
        return "\n\n\n".join(out) + "\n"


def assemble(entry: emit.Emitted, standalone: bool = False, module_names: dict[str, str] | None = None) -> Assembly:
    """Resolve every name the parts read, give each a module-level name, and the lines binding them."""
    found = parts(entry)
    generated = {id(fn): fn for p in found for fn in p.emitted.functions.values()}
    context = Context(generated, dict(module_names or {}))
    wanted = [{n: origin_of(p, n, context) for n in sorted(free_names(p))} for p in found]
    inlined_defs: list[Definition] = []
    if standalone:
        helpers = {(o[1], o[2]) for w in wanted for o in w.values() if o and o[0] == "from" and o[1] in _INLINED}
        inlined_defs = runtime_closure(helpers)
    taken = set().union(*(_identifiers(p.tree) for p in found), *(d.reads | set(d.binds) for d in inlined_defs))
    namespace = Namespace(taken)
    for d in inlined_defs:  # the copied runtime keeps its own names
        for name, origin in d.binds.items():
            if namespace.reserve(name, origin) != name:
                raise ExportError(f"two runtime definitions of {name!r}")  # (a test checks there are none)
    generated_names: dict[int, str] = {}
    for p in found:  # definitions keep their names unless another part's function has one
        for n in p.defined:
            fn = p.emitted.functions[n]
            module_name = namespace.reserve(n, ("generated", id(fn)))
            generated_names[id(fn)] = module_name
            if module_name != n:
                p.renames[n] = module_name
    missing: list[str] = []
    for p, names in zip(found, wanted):
        for n, origin in names.items():
            if origin is None:
                continue
            if origin[0] == "missing":
                missing.append(origin[1])
                continue
            if origin[0] == "generated":
                module_name = generated_names[origin[1]]
            else:
                module_name = namespace.reserve(n, origin)
            if module_name != n:
                p.renames[n] = module_name
    imports, aliases = _binding_lines(namespace, inlined_defs, found, wanted)
    first = found[0]
    return Assembly(
        found,
        namespace,
        imports,
        [d.text for d in inlined_defs],
        aliases,
        sorted(set(missing)),
        first.renames.get(first.emitted.entry, first.emitted.entry),
        {n: first.renames.get(n, n) for n in first.defined},
    )


def _binding_lines(
    namespace: Namespace, inlined: list[Definition], found: list[Part], wanted: list[dict]
) -> tuple[list[str], list[str]]:
    """The import lines (modules, then ``from`` imports by module), and the aliases of copied helpers."""
    copied = {name: origin for d in inlined for name, origin in d.binds.items()}
    copied_origins = set(copied.values())
    modules: set[str] = set()
    froms: dict[str, list[str]] = {}
    aliases: list[str] = []
    for name in list(namespace.order):
        origin = namespace.bound[name]
        if name in copied:
            continue  # the copied runtime defines it
        if origin in copied_origins:  # a copied helper, used under another name
            aliases.append(f"{name} = {next(n for n, o in copied.items() if o == origin)}")
        elif origin[0] == "module":
            modules.add(f"import {origin[1]}" + ("" if name == origin[1] else f" as {name}"))
        elif origin[0] == "from" and "." in origin[2]:  # a method: its class imported, then read
            top, _, rest = origin[2].partition(".")
            bound = namespace.reserve(top, ("from", origin[1], top))
            froms.setdefault(origin[1], []).append(top if top == bound else f"{top} as {bound}")
            aliases.append(f"{name} = {bound}.{rest}")
        elif origin[0] == "from":
            froms.setdefault(origin[1], []).append(origin[2] if origin[2] == name else f"{origin[2]} as {name}")
    froms = {m: sorted(set(ns)) for m, ns in froms.items()}
    modules |= _submodules(found, wanted)
    lines = sorted(modules) + [f"from {m} import {', '.join(sorted(ns))}" for m, ns in sorted(froms.items())]
    return lines, aliases


def _submodules(found: list[Part], wanted: list[dict]) -> set[str]:
    """``import scipy.special`` where a part reads ``scipy.special.x`` of ``scipy``: importing a
    package does not always import its submodules."""
    lines = set()
    for p, names in zip(found, wanted):
        packages = {n: o[1] for n, o in names.items() if o and o[0] == "module" and hasattr(sys.modules.get(o[1]), "__path__")}
        for node in ast.walk(p.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in packages:
                sub = f"{packages[node.value.id]}.{node.attr}"
                if sub in sys.modules:
                    lines.add(f"import {sub}")
    return lines


def module_text(entry: emit.Emitted, driven: Specialised | None = None) -> str:
    """What ``srcdiff.source`` prints: the entry's module and its callees', with every name they
    read bound by an import line (the runtime helpers imported from ``srcdiff.runtime``); with
    ``driven`` (a Hessian), the function that calls the entry for it."""
    a = assemble(entry)
    driver = _driver(driven, a, _numpy_name(a))[1] if driven is not None else ""
    first = a.parts[0]
    modules = [line.split()[1] for line in a.imports if line.startswith("from ")]
    elsewhere = [f"# {m}: {why}" for m in modules if (why := unimportable(m))]
    bindings = a.imports + a.aliases + elsewhere + [f"# not importable: {m}" for m in a.missing]
    lines = first.header + bindings + ([""] if bindings else [])  # (emit's layout: a blank line after imports)
    text = "\n".join(lines) + "\n" if lines else ""
    a.parts[0] = Part(first.emitted, [], first.body, first.tree, first.defined, first.renames)  # its header is on top
    return text + a.definitions().lstrip("\n") + (f"\n\n{driver}" if driver else "")


def driven_source(g: Any, *args: Any) -> str:
    """``srcdiff.source`` of a Hessian: the jvp of the gradient, and the function taking it column by column."""
    s = specialise(g, args)
    return module_text(s.entry, s)


def _numpy_name(a: Assembly) -> str:
    """The module's name for NumPy, bound by an import line if nothing binds it yet."""
    name = a.namespace.reserve("np", ("module", "numpy"))
    if not any(name in d.binds for d in _bound_by(a)) and f"import numpy as {name}" not in a.imports:
        a.imports.insert(0, "import numpy" if name == "numpy" else f"import numpy as {name}")
    return name


# ------------------------------------------------------------------------------ the runtime, copied


@dataclass(frozen=True)
class Definition:
    """A top-level statement of a copied module: the names it binds (name -> origin), its text
    and the names it reads; or, for ``from .errors import X``, where ``X`` is defined."""

    module: str
    index: int  # its position in the module
    text: str
    binds: dict[str, Origin]
    reads: frozenset[str]
    redirect: tuple[str, str] | None = None

    @property
    def is_import(self) -> bool:
        return self.text.startswith(("import ", "from "))


@cache
def _definitions(module: str) -> dict[str, Definition]:
    """Every name ``module``'s top level binds, with the statement that binds it."""
    text = inspect.getsource(sys.modules[module])
    lines = text.splitlines()
    found: dict[str, Definition] = {}
    for index, stmt in enumerate(ast.parse(text).body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                found[bound] = Definition(module, index, line, {bound: ("module", alias.name)}, frozenset())
        elif isinstance(stmt, ast.ImportFrom) and stmt.module != "__future__":
            source = f"{module.rpartition('.')[0]}.{stmt.module}" if stmt.level else str(stmt.module)
            for alias in stmt.names:
                bound = alias.asname or alias.name
                if stmt.level:  # srcdiff's own module: its definition is copied, not imported
                    found[bound] = Definition(module, index, "", {}, frozenset(), (source, alias.name))
                    continue
                line = f"from {source} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                found[bound] = Definition(module, index, line, {bound: ("from", source, alias.name)}, frozenset())
        elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)):
            if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
                names = [stmt.name]
            else:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and n.id != "__all__"]
            start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            segment = "\n".join(lines[start - 1 : stmt.end_lineno])
            reads = frozenset(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name))
            binds = {n: ("from", module, n) for n in names}
            for n in names:
                found[n] = Definition(module, index, segment, binds, reads)
    return found


def runtime_closure(helpers: set[tuple[str, str]]) -> list[Definition]:
    """The definitions ``helpers`` (module, name) need, transitively, in the order to write them:
    imports first, then each module's definitions in its own order (errors, then the runtime)."""
    chosen: dict[tuple[str, int, str], Definition] = {}
    pending = sorted(helpers)
    while pending:
        module, name = pending.pop()
        d = _definitions(module).get(name)
        if d is None:
            raise ExportError(f"{module}.{name} is not defined at the top level of {module}: it cannot be copied")
        if d.redirect is not None:
            pending.append(d.redirect)
            continue
        key = (d.module, d.index, d.text)
        if key in chosen:
            continue
        chosen[key] = d
        own = _definitions(module)
        pending += [(module, n) for n in sorted(d.reads) if n in own and n not in d.binds]
    imports = {d.text: d for d in chosen.values() if d.is_import}  # (both runtimes import numpy as np)
    rest = sorted((d for d in chosen.values() if not d.is_import), key=lambda d: (_INLINED.index(d.module), d.index))
    return [imports[t] for t in sorted(imports, key=lambda t: (t.startswith("from"), t))] + rest


# ------------------------------------------------------------------------------ export


@dataclass
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
    # (imported here: the transforms import this module, for source(); this stage comes after them)
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
    if any(map(_is_dataclass_instance, args)):
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
        what = f"the jvp of {{name}} with tangents of {', '.join(wrt)} (called as f(t{', t'.join(wrt)}, *primals))"
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


def _is_dataclass_instance(value: Any) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _array_kinds(params: list[str]) -> frozenset:
    from .kinds import NOT_CONTAINER

    return frozenset((p, NOT_CONTAINER) for p in params)


def expected_kinds(s: Specialised) -> dict[str, tuple]:
    """What each parameter must be for the code built: ``("number",)``, ``("array", ndim)``,
    ``("array or number",)`` (code for arrays of any dimensions), ``("list", what it holds)``,
    ``("function", f)`` (code built for calls of ``f``: the default ``m=np`` too), ``("object",
    class)`` (for its methods), ``("list", "objects", class)``."""
    from .kinds import CONTAINER, DICT, LEAVES, NOT_CONTAINER, SCALARS

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
            found[name] = ("array", kind) if isinstance(value, np.ndarray) else ("number",)
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
    origin = _importable(objects[0], context)
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
    problems = [*a.missing]
    reasons: dict[str, str] = {}
    for line in a.imports:
        imported = line.split()[1]
        top = imported.split(".")[0]
        if top == "srcdiff":
            problems.append(f"{line!r}: srcdiff itself (an export must not import it)")
        elif imported not in names.values() and (why := unimportable(imported)) is not None:
            reasons[imported] = why
    for imported, why in reasons.items():
        problems.append(f"the globals it reads come from {imported}, {why}")
    if problems:
        raise ExportError(
            f"cannot export {getattr(s.function, '__name__', s.function)} as a standalone module: " + "; ".join(problems),
            suggestion=(
                "Pass module='name' (the name its module is imported by), or make these values globals of an importable "
                "module, or arguments."
            ),
        )
    np_name = _numpy_name(a)  # the checker's (and a driver's) NumPy
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
    header = _docstring(s, a, expected, entry_names, user_module, module)
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


def _bound_by(a: Assembly) -> list[Definition]:
    """The copied runtime's definitions (imports included), by what they bind."""
    return [d for module in _INLINED for d in _definitions(module).values() if d.text in a.inlined]


def _insert_checks(body: str, function: str, checks: list[str]) -> str:
    """``body`` with ``checks`` as the first statements of ``function``."""
    if not checks:
        return body
    tree = ast.parse(body)
    fn = next(d for d in tree.body if isinstance(d, ast.FunctionDef) and d.name == function)
    first = fn.body[0]
    lines = body.splitlines(keepends=True)
    at = first.lineno - 1
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
    from . import __version__

    return __version__


def source_hash(f: Any) -> str:
    """The SHA-256 of ``f``'s source text, as inspect reads it ("unavailable" if it cannot)."""
    try:
        text = inspect.getsource(f)
    except (OSError, TypeError):
        return "unavailable"
    return hashlib.sha256(text.encode()).hexdigest()


def _docstring(s: Specialised, a: Assembly, expected: dict, entry_names: list[str], user_module: str, module: str | None) -> str:
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
