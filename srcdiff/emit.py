"""Emit: generated module -> source text with provenance comments -> live functions.

On entry: ``Transformed`` (a module of function definitions and the free names
they use). On exit: ``Emitted``, the source text (registered with ``linecache``
so tracebacks and ``pdb`` show it, for as long as one of its functions lives)
and the compiled functions.

The text begins with ordinary ``import`` lines for the helpers it uses, so it
reads as a self-contained module. To compile it without touching the user's
module, the definitions are wrapped (at the AST level, so line numbers stay
those of the text) in a factory whose locals are those imports, the
user's closure variables and the other generated functions it calls. The
functions are then built from their code objects with the *user's* globals,
so module-level names the user's code reads stay live, while every helper is a
closure cell: no lookups in dictionaries, no names added to the user's module.
"""

from __future__ import annotations

import ast
import copy
import itertools
import linecache
import math
import re
import sys
import threading
import types
import weakref
from dataclasses import dataclass, field
from typing import Any

from . import rules, runtime
from .parse import GENERATED_FROM, Origin
from .reverse import COMMENT, CalleeRef, Transformed

_counter = itertools.count(1)
_TOKEN = "__srcdiff_comment_{}__"
# id of a generated function -> the Emitted defining it, while that lives: ``export`` finds the
# callees of code a second derivative reads (held in that code's cells, not in its own callees)
DEFINED_BY: weakref.WeakValueDictionary[int, Emitted] = weakref.WeakValueDictionary()


@dataclass
class Emitted:
    text: str
    functions: dict[str, types.FunctionType]
    entry: str
    pending: dict[str, CalleeRef] = field(default_factory=dict)  # callee name -> what to bind
    cells: dict[str, types.CellType] = field(default_factory=dict)
    depends: tuple = ()  # cache.Dependency values: the functions this code calls, as found when built
    callees: list[Emitted] = field(default_factory=list)  # the entries bound into its cells
    backward_changes_tape: bool = False  # see reverse.Transformed: a pullback replays the forward sweep first
    loaded: bool = False  # read from the disk cache (``persist``), not built
    compiled: dict[Any, Any] = field(default_factory=dict)  # (backend, float parameters) -> what runs it (compiled.py)
    footprint: int = 0  # bytes it holds, as cache.footprint estimates them (0: not yet)

    def bind(self, name: str, value: Any) -> None:
        self.cells[name].cell_contents = value


def changes_tape(entry: Emitted) -> bool:
    """Does running ``entry``'s backward sweep (or a callee's it calls) change the tape it reads?"""
    seen, pending = set(), [entry]
    while pending:  # callees, recursion included, each once
        e = pending.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if e.backward_changes_tape:
            return True
        pending += e.callees
    return False


def _parenthesize_negative_constants(module: ast.Module) -> None:
    """A negative number folded into a constant, where it binds less tightly than what holds it:
    ``ast.unparse`` prints ``Constant(-1.0) ** i`` as ``-1.0 ** i``, which is ``-(1.0 ** i)``
    (and ``-1[0]`` for a subscript); written as ``-(1.0)`` it prints ``(-1.0) ** i``."""

    def negative(e: ast.expr) -> bool:
        return isinstance(e, ast.Constant) and type(e.value) in (int, float) and math.copysign(1, e.value) < 0

    def spelled(e: ast.Constant) -> ast.expr:
        return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-e.value)), e)

    for node in ast.walk(module):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and negative(node.left):
            node.left = spelled(node.left)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and negative(node.value):
            node.value = spelled(node.value)


def to_source(transformed: Transformed, header: str) -> str:
    """The module as text: header comment, imports, definitions with provenance comments."""
    comments: dict[str, str] = {}

    def is_marker(s: ast.stmt) -> bool:
        return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and str(s.value.value).startswith(COMMENT)

    def strip_markers(body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for i, s in enumerate(body):
            if is_marker(s):
                if i + 1 == len(body) or is_marker(body[i + 1]):
                    continue  # a heading with no code under it
                token = _TOKEN.format(len(comments))
                comments[token] = s.value.value[len(COMMENT) :]
                out.append(ast.Expr(value=ast.Name(id=token, ctx=ast.Load())))
                continue
            blocks = [f for f in ("body", "orelse") if isinstance(getattr(s, f, None), list) and getattr(s, f)]
            if blocks:  # a shallow copy with new blocks: the caller's tree stays as it was
                s = copy.copy(s)
                for f in blocks:
                    setattr(s, f, strip_markers(getattr(s, f)) or [ast.Pass()])
            out.append(s)
        if (
            out
            and all(isinstance(s.value, ast.Name) and s.value.id in comments for s in out if isinstance(s, ast.Expr))
            and all(isinstance(s, ast.Expr) for s in out)
        ):
            out.append(ast.Pass())  # a block of comments alone is not a block
        return out

    module = ast.Module(body=strip_markers(transformed.module.body), type_ignores=[])
    _parenthesize_negative_constants(module)  # (in the shared nodes: the same value, and idempotent)
    lines = [f"# {line}" for line in header.splitlines()]
    lines += _import_lines(transformed.bindings)
    code = ast.unparse(module)
    if _TUPLE_TARGET is not None:
        code = _TUPLE_TARGET.sub(r"\1\2\3 \4 ", code)
    for line in code.splitlines():
        stripped = line.strip()
        if stripped in comments:
            indent = line[: len(line) - len(line.lstrip())]
            line = f"{indent}# {comments[stripped]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


# Python 3.10's ast.unparse writes every tuple in parentheses, ``(a, b) = f(x)`` and ``for (i, x) in``,
# where later versions write ``a, b = f(x)``: written alike, generated code reads the same on each
# (a target of names alone: both spellings parse to the same tree).
_TUPLE_TARGET = (
    re.compile(r"^(\s*)(for )?\(((?:\w+, )*\w+,?)\) (=|in) ", re.MULTILINE) if sys.version_info < (3, 11) else None
)


def _import_lines(bindings: dict[str, Any]) -> list[str]:
    """``import`` lines that bind every helper the code uses, from the helper's own module."""
    modules, names = [], {}
    for emitted, value in sorted(bindings.items()):
        if isinstance(value, CalleeRef):
            continue
        if isinstance(value, types.ModuleType):
            alias = "" if emitted == value.__name__ else f" as {emitted}"
            modules.append(f"import {value.__name__}{alias}")
            continue
        canonical = _import_name(value)
        if canonical is None:
            continue
        module = rules.module_of(value) or runtime.__name__
        names.setdefault(module, []).append(canonical if emitted == canonical else f"{canonical} as {emitted}")
    lines = sorted(modules) + [f"from {m} import {', '.join(n)}" for m, n in sorted(names.items())]
    return lines + ([""] if lines else [])


def _import_name(value: Any) -> str | None:
    """The name a helper is imported by: its name in the rule namespace, or for a function a rule
    names itself (a custom function's fwd), its own; None for a lambda, which cannot be imported."""
    canonical = next((k for k, v in rules.NAMESPACE.items() if v is value), None)
    if canonical is None:
        canonical = getattr(value, "__name__", "")
    return canonical if canonical.isidentifier() else None


def to_function(transformed: Transformed, origin: Origin, user_function: Any, header: str) -> Emitted:
    """Compile the module; functions get the user's globals, helpers become closure cells."""
    text = to_source(transformed, header)
    return compile_text(text, transformed.bindings, transformed.entry, origin, user_function, transformed.backward_changes_tape)


def compile_text(
    text: str,
    bindings: dict[str, Any],
    entry: str,
    origin: Origin,
    user_function: Any,
    backward_changes_tape: bool = False,
    filename: str | None = None,
) -> Emitted:
    """``to_function`` after ``to_source``; also how text read back from the disk cache is compiled,
    with ``bindings`` as they were when it was written (``persist``). ``filename``: a file that holds
    the text (the disk cache's entry), so that every traceback printer finds its lines (the default
    excepthook reads files, not ``linecache``); else a name of its own, in ``linecache`` alone."""
    filename = filename or f"<srcdiff {origin.name} #{next(_counter)}>"
    user_cells = dict(zip(user_function.__code__.co_freevars, user_function.__closure__ or ()))
    defined = _DEFINED.findall(text)
    callees = {n: v for n, v in bindings.items() if isinstance(v, CalleeRef)}
    unimported = {n for n, v in bindings.items() if not isinstance(v, (CalleeRef, types.ModuleType)) and _import_name(v) is None}
    # the factory's parameters: every name the definitions may take from outside
    parameters = [n for n in sorted(set(callees) | set(user_cells) | unimported) if n not in defined]
    factory_code = _compiled_factory(text, parameters, defined, filename)
    inner = {c.co_name: c for c in factory_code.co_consts if isinstance(c, types.CodeType)}
    cells: dict[str, types.CellType] = {}

    def cell(n: str) -> types.CellType:
        if n not in cells:
            if n in user_cells:
                cells[n] = user_cells[n]  # the user's own cell: closure variables stay live
            elif n in bindings and not isinstance(bindings[n], CalleeRef):
                cells[n] = types.CellType(bindings[n])
            else:
                cells[n] = types.CellType()  # filled by bind(): another generated function
        return cells[n]

    functions = {}
    for n in defined:
        c = inner[n]
        fn = types.FunctionType(c, user_function.__globals__, n, None, tuple(cell(v) for v in c.co_freevars))
        positional, keyword_only = _takes_arguments_of(c, user_function.__code__)  # the gradient and forward do
        if positional:
            fn.__defaults__ = user_function.__defaults__
        if keyword_only:
            fn.__kwdefaults__ = user_function.__kwdefaults__
        functions[n] = fn
    for n in defined:
        if n in cells:
            cells[n].cell_contents = functions[n]
    _forget_source_with(filename, list(functions.values()), text, origin.filename)
    emitted = Emitted(text, functions, entry, callees, cells, backward_changes_tape=backward_changes_tape)
    for fn in functions.values():
        DEFINED_BY[id(fn)] = emitted
    return emitted


_DEFINED = re.compile(r"^def (\w+)\(", re.MULTILINE)  # the module's functions (its other lines: imports, comments)


def _compiled_factory(text: str, parameters: list[str], defined: list[str], filename: str) -> types.CodeType:
    """The module's code inside ``def __srcdiff_factory__(parameters)``, which returns the functions
    it defines, so that a name they read from outside is a closure variable; its text is registered
    with ``linecache``, and every line of the functions' bodies keeps its number and columns.

    Done as text: the def takes the header's first line (a comment) and each line that starts at
    column 0 (a def, an import, a comment) moves one column right, into the factory's body; the
    lines of the functions' bodies, indented already, stay as they are. Compiling text is several
    times faster than parsing it into a tree and compiling that, which matters most when an entry
    is read from the disk cache. A string written over several lines (which moving a line would
    change) takes that slower way."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    first, _, rest = text.partition("\n")
    if first.startswith("#") and '"""' not in text and "'''" not in text:
        body = "".join(" " + line if line[:1] not in " \n" else line for line in rest.splitlines(True))
        wrapped = f"def __srcdiff_factory__({', '.join(parameters)}):\n{body} return ({', '.join(defined)},)\n"
        code = compile(wrapped, filename, "exec")
    else:
        parsed = ast.parse(text, filename)
        factory = ast.FunctionDef(
            name="__srcdiff_factory__",
            args=ast.arguments(
                posonlyargs=[], args=[ast.arg(arg=n) for n in parameters], kwonlyargs=[], kw_defaults=[], defaults=[]
            ),
            body=[ast.Return(value=ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in defined], ctx=ast.Load()))],
            decorator_list=[],
            returns=None,
            type_comment=None,
            **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}),
        )
        ast.fix_missing_locations(ast.copy_location(factory, parsed.body[0]))  # the parsed definitions have theirs
        factory.body = parsed.body + factory.body
        code = compile(ast.Module(body=[factory], type_ignores=[]), filename, "exec")
    return next(c for c in code.co_consts if isinstance(c, types.CodeType))


def output_selector(f: Any, params: list[str]) -> types.FunctionType:
    """One number of ``f``'s output, as a function srcdiff can read and differentiate:
    ``def f_output(x, y, _number): return np.ravel(f(x, y))[_number]`` (``f`` is called as a
    helper, so its code is transformed as any helper's is)."""
    name = f"{getattr(f, '__name__', 'f')}_output".replace("<lambda>", "lambda")
    arguments = ", ".join(params)
    text = f"def {name}({arguments}, _number):\n    return np.ravel(_f({arguments}))[_number]\n"
    filename = f"<srcdiff {name} #{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace: dict[str, Any] = {"np": runtime.np, "_f": f, "__name__": "srcdiff.selectors"}
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102 (source srcdiff writes)
    function = namespace[name]
    _forget_source_with(filename, [function])
    return function


def _forget_source_with(
    filename: str, functions: list[types.FunctionType], text: str | None = None, generated_from: str | None = None
) -> None:
    """Keep ``text`` in ``linecache`` and the file in ``GENERATED_FROM`` (mapped to the user's file
    it was ``generated_from``) while one of the functions compiled from it is alive; drop them
    with the last: an entry the cache evicted goes when no ``Gradient`` holds its code either.
    A disk cache entry's file may be compiled again while functions of an earlier load live:
    the file goes with the last of them all."""
    with _alive_lock:
        _alive[filename] = _alive.get(filename, 0) + len(functions)
        if text is not None and filename not in linecache.cache:  # (the last function of an earlier load went meanwhile)
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        if generated_from is not None:
            GENERATED_FROM[filename] = generated_from

    def release() -> None:
        with _alive_lock:  # (re-entrant: a collection may run a finalizer while this thread holds it)
            _alive[filename] -= 1
            if _alive[filename]:
                return
            del _alive[filename]
        linecache.cache.pop(filename, None)
        GENERATED_FROM.pop(filename, None)

    for fn in functions:
        weakref.finalize(fn, release)


_alive: dict[str, int] = {}  # file name of generated code -> how many functions compiled from it live
_alive_lock = threading.RLock()


def _takes_arguments_of(a: types.CodeType, b: types.CodeType) -> tuple[bool, bool]:
    """Does code ``a`` take the positional parameters of ``b``, and its keyword-only ones?
    ``a`` may have more of either: ``b``'s ``*args`` and ``**kwargs`` spelled out (``packing``);
    when it has more positional ones, every positional argument is passed, so none has a default."""
    positional_a, positional_b = a.co_varnames[: a.co_argcount], b.co_varnames[: b.co_argcount]
    keyword_a = a.co_varnames[a.co_argcount : a.co_argcount + a.co_kwonlyargcount]
    keyword_b = b.co_varnames[b.co_argcount : b.co_argcount + b.co_kwonlyargcount]
    extended = positional_a[: len(positional_b)] == positional_b and keyword_a[: len(keyword_b)] == keyword_b
    return extended and positional_a == positional_b, extended


def strip_comments(text: str) -> str:
    """The text without comment lines (for checking that it reparses to the same tree)."""
    return "\n".join(line for line in text.splitlines() if not re.match(r"^\s*#", line))
