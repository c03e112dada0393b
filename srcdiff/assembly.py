"""Assembly: generated code -> one module that runs as printed.

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
``srcdiff.runtime``. With ``standalone=True`` (``export``), those helpers are copied in instead,
with every definition of ``srcdiff/runtime.py``, ``runtime_linalg.py`` and ``errors.py`` they
read (``runtime_closure``: found by reading their trees, transitively), so the module imports
NumPy and the user's modules only.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import symtable
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import callables, emit, rules
from .errors import ExportError

__all__ = ["Assembly", "assemble", "module_text", "runtime_closure", "unimportable"]

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
        found = importable(value, context)
        return found or ("missing", f"{name}: {_describe_value(value)} held in a closure (not a global of any module)")
    functions = list(part.emitted.functions.values())
    namespace = functions[0].__globals__ if functions else {}
    if name in namespace:
        value = namespace[name]
        found = importable(value, context)
        if found is not None:
            return found
        return ("from", _module_name(namespace, context), name)
    if hasattr(builtins, name):
        return None
    return ("missing", f"{name}: not defined in {namespace.get('__name__', 'the module')}")


def importable(value: Any, context: Context) -> Origin | None:
    """A module, or a function or class found under its own module and name."""
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if type(value) is callables.Method:  # a method of the user's class, called as a function
        value = value.function
    if not callable(value):
        return None
    module, name = rules.module_of(value), getattr(value, "__qualname__", None)
    if name is None and module == "numpy":  # a ufunc, on NumPy 1 (checked below: numpy.name must be it)
        name = getattr(value, "__name__", None)
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
    tables = {t.get_name(): t for t in symtable.symtable(text, "<srcdiff part>", "exec").get_children()}
    names: list[ast.Name] = []
    for d in tree.body:  # a name renamed as a global is left alone where a function has a local of that name
        local = set(tables[d.name].get_locals()) if isinstance(d, ast.FunctionDef) and d.name in tables else set()
        names += [n for n in ast.walk(d) if isinstance(n, ast.Name) and n.id in renames and n.id not in local]
    for node in names:
        edits.setdefault(node.lineno, []).append((node.col_offset, node.end_col_offset, renames[node.id]))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in renames:
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


def module_text(entry: emit.Emitted, more: Callable[[Assembly], str] | None = None) -> str:
    """What ``srcdiff.source`` prints: the entry's module and its callees', with every name they
    read bound by an import line (the runtime helpers imported from ``srcdiff.runtime``); then
    what ``more`` writes (a Hessian's function around the entry), its names bound too."""
    a = assemble(entry)
    after = more(a) if more is not None else ""
    first = a.parts[0]
    modules = [line.split()[1] for line in a.imports if line.startswith("from ")]
    elsewhere = [f"# {m}: {why}" for m in modules if (why := unimportable(m))]
    bindings = a.imports + a.aliases + elsewhere + [f"# not importable: {m}" for m in a.missing]
    lines = first.header + bindings + ([""] if bindings else [])  # (emit's layout: a blank line after imports)
    text = "\n".join(lines) + "\n" if lines else ""
    a.parts[0] = Part(first.emitted, [], first.body, first.tree, first.defined, first.renames)  # its header is on top
    return text + a.definitions().lstrip("\n") + (f"\n\n{after}" if after else "")


def numpy_name(a: Assembly) -> str:
    """The module's name for NumPy, bound by an import line if nothing binds it yet."""
    name = a.namespace.reserve("np", ("module", "numpy"))
    if not any(name in d.binds for d in bound_by(a)) and f"import numpy as {name}" not in a.imports:
        a.imports.insert(0, "import numpy" if name == "numpy" else f"import numpy as {name}")
    return name


def bound_by(a: Assembly) -> list[Definition]:
    """The copied runtime's definitions (imports included), by what they bind."""
    return [d for module in _INLINED for d in _definitions(module).values() if d.text in a.inlined]


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
