"""Compiled backends: a derivative's generated Python, compiled with Numba where Numba can take it.

On entry: an ``emit.Emitted`` (the generated text and its functions) and its entry function,
called with the user's arguments. On exit: a function to call instead, with the same
signature and results: for ``backend="python"`` the generated function itself; for
``backend="numba"`` one that calls the generated code compiled by ``numba.njit``, or, where
that code is outside the subset this module lowers, the generated function again after a
one-line ``BackendFallback`` warning naming what stopped it and the user's line.

``lower`` reads the entry function's tree and either refuses it or rewrites it for Numba:

- it is checked construct by construct (``_ALLOWED``) and name by name: every name it reads
  and does not bind must be a module Numba compiles (``math``, ``numpy``), a builtin of
  ``_BUILTINS``, a runtime helper with a Numba version (``numba_runtime.HELPERS``), data (a
  number or an array), or srcdiff's code for a function it calls, lowered the same way and
  compiled with it (``_callees``);
- data read from the user's globals or closure (``DT = 0.01``) becomes extra parameters, read
  again on each call: Numba would freeze a global's value into the machine code, and the
  Python code reads it live; ``check_numbers`` calls go with them, as the call checks that
  each still holds what it held when compiled (else the Python code runs, and says why);
- ``materialize``/``materialize_all`` of the returned gradients moves out of the compiled code
  into the call (``_finish``), as their job is Python objects' business: views, dtypes, weak zeros;
- an adjoint that only accumulates (``dw = dw + c``) and is returned as the gradient of an
  array parameter starts from ``numba_runtime.zeros_of(w)`` instead of the weak zero ``0.0``:
  Numba gives a variable one type, and the two give the same gradient (``_accumulators``);
- a loop's stack proven to hold floats becomes a float64 array and a count (``numba_tapes``).

The rest is left to Numba's own typing on the first call for a kind of arguments: a typing
error there (a NumPy function Numba lacks, a list of mixed types) is a fallback too. The
compiled dispatcher is kept in the ``Emitted`` entry (``Emitted.compiled``), so every
gradient built from the same code shares it, and it is dropped with the entry.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib.util
import inspect
import linecache
import os
import re
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import emit, parse, release, runtime
from .errors import BackendFallback, BackendUnavailable, BadCall

BACKENDS = ("python", "numba")

# the syntax the lowering passes on to Numba; any other node is refused, naming it
_ALLOWED = (
    ast.FunctionDef,
    ast.arguments,
    ast.arg,
    ast.Assign,
    ast.AugAssign,
    ast.Expr,
    ast.Return,
    ast.If,
    ast.For,
    ast.While,
    ast.Break,
    ast.Continue,
    ast.Pass,
    ast.Raise,
    ast.Assert,
    ast.Name,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.Call,
    ast.keyword,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.IfExp,
    ast.ListComp,
    ast.comprehension,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
    ast.boolop,
)
_CONSTRUCTS = {  # how a refused node is named
    ast.Try: "try", ast.With: "with", ast.Lambda: "lambda", ast.GeneratorExp: "a generator expression",
    ast.Dict: "a dict", ast.DictComp: "a dict comprehension", ast.Set: "a set", ast.Starred: "unpacking with *",
    ast.JoinedStr: "an f-string", ast.Delete: "del", ast.FunctionDef: "a nested function",
}  # fmt: skip
_BUILTINS = frozenset(
    {"range", "len", "reversed", "float", "int", "bool", "abs", "min", "max", "round", "pow", "enumerate", "zip", "list"}
)
_MODULES = frozenset({"math", "numpy", "cmath"})
_MATERIALIZE = ("materialize", "materialize_all")


def check_backend(backend: str | None, inner: Any = None) -> str:
    """The backend to use: ``backend``, else an inner gradient's (``grad(grad(f, backend=...))``),
    else "python". Refuses an unknown name, and "numba" when Numba is not installed."""
    if backend is None:
        backend = getattr(inner, "backend", "python")
    if backend not in BACKENDS:
        raise BadCall(
            f"backend={backend!r} is not a srcdiff backend",
            suggestion=f"Pass one of: {', '.join(map(repr, BACKENDS))}.",
        )
    if backend == "numba" and importlib.util.find_spec("numba") is None:
        raise BackendUnavailable(
            "backend='numba' compiles derivatives with Numba, which is not installed",
            suggestion="Install it (pip install 'srcdiff[numba]'), or leave out backend= to run the Python code.",
        )
    return backend


def prepare(backend: str) -> None:
    """Import what ``backend`` compiles with, before code is built for it: Numba imports SciPy,
    whose derivative rules srcdiff then loads (``rules.load_optional_rules``), and code built
    with the table of before would be built, and compiled, again on its next call."""
    if backend == "numba":
        from . import numba_runtime  # noqa: F401


def compiled(entry: emit.Emitted, fn: Callable, backend: str, floats: frozenset[str] = frozenset()) -> Callable:
    """What to call for ``entry``'s function ``fn`` on ``backend`` (built once per entry and set
    of ``floats``, the parameters that hold floats: a call checks that they do)."""
    if backend == "python":
        return fn
    found = entry.compiled.get((backend, floats))
    if found is None:
        found = entry.compiled[backend, floats] = _numba(entry, fn, floats)
    return found


class _Refused(Exception):
    """The code is outside what this backend compiles: ``what`` stopped it, at ``line`` of the text."""

    def __init__(self, what: str, line: int | None) -> None:
        super().__init__(what)
        self.what, self.line = what, line


def _numba(entry: emit.Emitted, fn: Callable, floats: frozenset[str]) -> Callable:
    filename = fn.__code__.co_filename
    try:
        lowered = lower(entry, fn, floats)
    except _Refused as refused:
        fall_back(fn, refused.what, filename, refused.line)
        return fn
    return Compiled(lowered, fn)


def fall_back(fn: Callable, what: str, filename: str, line: int | None) -> None:
    """Warn, in one line, that ``fn`` runs as Python: what stopped Numba, at the user's line."""
    where = parse.user_line(filename, line) if line else None
    place = f" at {where[0].rsplit('/', 1)[-1]}:{where[1]}" if where else ""
    source = f" ({linecache.getline(*where).strip()})" if where else ""
    warnings.warn(
        f"srcdiff: {fn.__name__} runs as Python, not compiled with Numba: {what}{place}{source}",
        BackendFallback,
        stacklevel=_outside_srcdiff(),
    )


def _outside_srcdiff() -> int:
    """The ``stacklevel`` of the first frame outside srcdiff: the user's call, where the warning points."""
    package = os.path.dirname(__file__)
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame, level = frame.f_back, level + 1
    return level


class Lowered:
    """The entry function rewritten for Numba, and what a call passes it and does with its result."""

    def __init__(
        self,
        function: types.FunctionType,
        live: tuple[tuple[str, Callable[[], Any]], ...],
        finish: tuple[tuple[int | None, bool, tuple[int, ...]], ...],
        params: tuple[str, ...],
        floats: tuple[int, ...],
    ) -> None:
        self.function = function  # the rewritten Python function, for numba.njit
        self.live = live  # (name, read it now): the data it reads from globals and closure cells
        self.finish = finish  # (position in the returned tuple or None, a tuple of gradients?, likes' positions)
        self.params = params
        self.floats = floats  # the positions of parameters proven floats: a call checks they are float64


def lower(entry: emit.Emitted, fn: Callable, floats: frozenset[str] = frozenset(), within: tuple = ()) -> Lowered:
    """``entry``'s function ``fn`` rewritten for Numba, or ``_Refused``; ``floats``: parameters
    that hold floats (``numba_tapes``); ``within``: the functions whose lowering lowers this one
    (a function it calls: ``_callees``)."""
    from . import numba_runtime, numba_tapes  # (imports Numba: only now that it is wanted)

    filename = fn.__code__.co_filename
    module = ast.parse(entry.text, filename)
    tree = next(d for d in module.body if isinstance(d, ast.FunctionDef) and d.name == fn.__name__)
    tree = _without_release(tree, fn)
    _check_syntax(tree)
    params = _parameters(tree)
    namespace, live, callees = _free_names(tree, fn, numba_runtime.HELPERS, entry)
    live = _callees(tree, callees, namespace, live, (*within, fn))
    held = {name: read() for name, read in live}
    tree = _without_checks(tree, namespace, held)
    tree, finish = _strip_materialize(tree, namespace, params)
    tree = _accumulators(tree, finish, params, namespace)
    order = _positional(tree)
    tree.args = ast.arguments(
        posonlyargs=[], args=[ast.arg(arg=n) for n in (*order, *held)], kwonlyargs=[], kw_defaults=[], defaults=[]
    )
    tree.decorator_list = []
    floats = floats & set(order)
    # a global passed in is of the type it has now: the call checks it keeps it
    floats_held = {n for n, v in held.items() if type(v) is float or type(v) is np.float64}
    ints_held = {n for n, v in held.items() if type(v) is int}
    is_zeros_like = lambda n: _calls(n, ("zeros_like",), namespace)
    tree = numba_tapes.rewrite(tree, floats | floats_held, ints_held, is_zeros_like, "tape_nan")
    namespace.update(numba_runtime.TAPES, zeros_of=numba_runtime.zeros_of)
    code = compile(ast.fix_missing_locations(ast.Module(body=[tree], type_ignores=[])), filename, "exec")
    exec(code, namespace)  # noqa: S102 (srcdiff's own code, rewritten)
    return Lowered(namespace[tree.name], tuple(live), finish, order, tuple(order.index(p) for p in sorted(floats)))


def _free_names(
    tree: ast.FunctionDef, fn: Callable, helpers: set[str], entry: emit.Emitted
) -> tuple[dict[str, Any], list[tuple[str, Callable[[], Any]]], dict[str, tuple[emit.Emitted, Callable, int]]]:
    """The names ``tree`` reads and does not bind: the namespace the compiled function sees
    (modules, runtime helpers with a Numba version), the data passed in on each call (name,
    how to read it), and the generated functions of the functions it calls (name -> their
    entry, the function, the line of the call), or ``_Refused`` naming one that is none of these."""
    generated = {id(f): e for e in entry.callees for f in e.functions.values()}
    callees: dict[str, tuple[emit.Emitted, Callable, int]] = {}
    bound = _parameters(tree) | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    first_use: dict[str, int] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id not in bound:
            first_use[n.id] = min(first_use.get(n.id, n.lineno), n.lineno)
    namespace: dict[str, Any] = {}
    live: list[tuple[str, Callable[[], Any]]] = []
    for name, line in sorted(first_use.items()):
        value, read = _resolve(fn, name)
        if isinstance(value, types.ModuleType):
            if value.__name__ not in _MODULES:
                raise _Refused(f"it reads the module {value.__name__}, which Numba does not compile", line)
            namespace[name] = value
        elif value is getattr(builtins, name, None) and name in dir(builtins):
            if name not in _BUILTINS:
                raise _Refused(f"it calls the builtin {name}", line)
        elif getattr(value, "__module__", None) == runtime.__name__ and callable(value):
            helper = getattr(value, "__name__", name)
            if helper not in helpers and helper != "check_numbers":
                raise _Refused(f"it calls srcdiff.runtime.{helper}, which has no Numba version", line)
            namespace[name] = value
        elif _is_data(value):
            live.append((name, read))
        elif id(value) in generated:
            callees[name] = (generated[id(value)], value, line)
        else:
            what = getattr(value, "__name__", None) or type(value).__name__
            raise _Refused(f"it reads {name} ({what}), which is not a number, an array or a module Numba compiles", line)
    return namespace, live, callees


def _callees(
    tree: ast.FunctionDef,
    callees: dict[str, tuple[emit.Emitted, Callable, int]],
    namespace: dict[str, Any],
    live: list[tuple[str, Callable[[], Any]]],
    within: tuple,
) -> list[tuple[str, Callable[[], Any]]]:
    """Compile each function the code calls (a helper's forward and backward sweeps) too, and
    pass it the data it reads: its calls get those arguments, which this function takes as its
    own live data. Returns the live data of both."""
    import numba

    taken = _parameters(tree) | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    extra: dict[str, list[str]] = {}
    for name, (callee_entry, callee, line) in sorted(callees.items()):
        if callee in within:
            raise _Refused(f"it calls {name} recursively, which Numba compiles only with types declared", line)
        sub = lower(callee_entry, callee, frozenset(), within)
        if sub.finish:
            raise _Refused(f"it calls {name}, which materialises gradients", line)
        for data, read in sub.live:
            mine = next((r for n, r in live if n == data), None)
            if mine is None and data in taken:
                raise _Refused(f"it calls {name}, which reads a global {data} this code has a variable of", line)
            if mine is None:
                live.append((data, read))
                taken.add(data)
            elif _source(mine) != _source(read):
                raise _Refused(f"it calls {name}, which reads another {data} than this code", line)
        extra[name] = [n for n, _ in sub.live]
        namespace[name] = numba.njit(sub.function)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and extra.get(node.func.id):
            node.args = [*node.args, *(ast.Name(id=n, ctx=ast.Load()) for n in extra[node.func.id])]
    return live


def _source(read: Any) -> tuple:
    """Where a reader of live data reads (``_resolve``'s partials): compared by identity."""
    return (id(getattr(read.func, "__self__", read.func)), *(a if isinstance(a, str) else id(a) for a in read.args))


_WRITTEN = {symbol: op for op, symbol in release.OPERATORS.items()}  # result_holder's symbol -> its operator


def _without_release(tree: ast.FunctionDef, fn: Callable) -> ast.FunctionDef:
    """``tree`` without what the release stage (release.py) writes for Python's memory: its
    ``del`` statements, ``shape_holder(v)``, which stands for ``v`` where only its shape is read,
    and ``result_holder(op, a, b)``, which stands for ``a op b`` there."""
    parameters = _parameters(tree)

    def helper(node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.keywords or node.func.id in parameters:
            return None
        return _resolve(fn, node.func.id)[0]

    class Strip(ast.NodeTransformer):
        def visit_Delete(self, node: ast.Delete) -> None:
            return None

        def visit_Call(self, node: ast.Call) -> ast.expr:
            self.generic_visit(node)
            held = helper(node)
            if held is runtime.shape_holder and len(node.args) == 1:
                return node.args[0]
            if held is runtime.result_holder:
                symbol, *operands = node.args
                op = _WRITTEN[symbol.value]()  # type: ignore[attr-defined]
                if isinstance(op, ast.unaryop):
                    return ast.UnaryOp(op=op, operand=operands[0])
                return ast.BinOp(left=operands[0], op=op, right=operands[1])
            return node

    return Strip().visit(tree)


def _check_syntax(tree: ast.FunctionDef) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (isinstance(node, ast.FunctionDef) and node is not tree):
            what = _CONSTRUCTS.get(type(node), type(node).__name__)
            raise _Refused(f"{what} is outside what it compiles", getattr(node, "lineno", None))
    if tree.args.vararg or tree.args.kwarg:
        raise _Refused("it takes *args or **kwargs", tree.lineno)


def _parameters(tree: ast.FunctionDef) -> set[str]:
    a = tree.args
    return {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}


def _positional(tree: ast.FunctionDef) -> tuple[str, ...]:
    """The parameters in the order a call passes them (keyword-only ones last)."""
    a = tree.args
    return tuple(p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs))


def _resolve(fn: Callable, name: str) -> tuple[Any, Callable[[], Any]]:
    """What ``name`` denotes in ``fn`` now, and how to read it again on a call."""
    code = fn.__code__
    if name in code.co_freevars:  # (readers as partials: called on every call, they cost less than lambdas)
        cell = fn.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents, functools.partial(getattr, cell, "cell_contents")
        except ValueError:
            raise _Refused(f"it reads {name}, a closure variable not yet assigned", None) from None
    namespace = fn.__globals__
    if name in namespace:
        return namespace[name], functools.partial(namespace.__getitem__, name)
    return getattr(builtins, name, None), lambda: getattr(builtins, name)


def _is_data(value: Any) -> bool:
    """A value compiled code takes as an argument: a number or a plain array of numbers."""
    if type(value) in (int, float, bool) or isinstance(value, np.number):
        return True
    return type(value) is np.ndarray and value.dtype.kind in "biuf"


def _kind(value: Any) -> Any:
    """What a call checks a live value still is: its type, and an array's dtype and dimensions."""
    return (np.ndarray, value.dtype, value.ndim) if type(value) is np.ndarray else type(value)


def _calls(node: ast.AST, names: tuple[str, ...], namespace: dict[str, Any]) -> bool:
    """Is ``node`` a call of a runtime helper named one of ``names``?"""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and getattr(namespace.get(node.func.id), "__name__", None) in names
        and getattr(namespace.get(node.func.id), "__module__", None) == runtime.__name__
    )


def _without_checks(tree: ast.FunctionDef, namespace: dict[str, Any], live: dict[str, Any]) -> ast.FunctionDef:
    """The tree without its ``check_numbers`` statements: the call checks that each global it
    passes keeps its type, an int or a float now (else the Python code runs and its check raises)."""
    for node in ast.walk(tree):
        if _calls(node, ("check_numbers",), namespace) and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
            for name in str(node.args[1].value).split(", "):
                if name in live and type(live[name]) not in (int, float):
                    raise _Refused(f"{name} holds a {type(live[name]).__name__}, not the number it held when built", None)
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block:
                kept = [s for s in block if not (isinstance(s, ast.Expr) and _calls(s.value, ("check_numbers",), namespace))]
                setattr(node, field, kept or ([ast.Pass()] if field == "body" else []))
    if any(_calls(n, ("check_numbers",), namespace) for n in ast.walk(tree)):
        raise _Refused("it checks globals where Numba cannot", None)
    return tree


def _strip_materialize(
    tree: ast.FunctionDef, namespace: dict[str, Any], params: set[str]
) -> tuple[ast.FunctionDef, tuple[tuple[int | None, bool, tuple[int, ...]], ...]]:
    """The tree returning its gradients as they are, and for each ``materialize`` it returned of
    the gradient of a parameter that keeps its value: (its position in the returned tuple, or None
    for the whole value; several gradients?; the positions of the parameters they are shaped like).
    Any other ``materialize`` or ``materialize_all`` stays, for its Numba version (``numba_runtime``)."""
    order = _positional(tree)
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
    finish: list[tuple[int | None, bool, tuple[int, ...]]] = []
    for k, ret in enumerate(returns):
        value = ret.value
        parts = list(value.elts) if isinstance(value, ast.Tuple) else [value]
        found = []
        for i, part in enumerate(parts):
            if not _calls(part, _MATERIALIZE, namespace):
                continue
            many = namespace[part.func.id].__name__ == "materialize_all"
            likes = part.args[1].elts if many and isinstance(part.args[1], ast.Tuple) else [part.args[1]]
            if not all(isinstance(e, ast.Name) and e.id in params and e.id not in stored for e in likes):
                continue
            parts[i] = part.args[0]
            found.append((i if isinstance(value, ast.Tuple) else None, many, tuple(order.index(e.id) for e in likes)))
        if k and found != finish:
            raise _Refused("its returns materialise gradients differently", ret.lineno)
        finish = found
        ret.value = ast.Tuple(elts=parts, ctx=ast.Load()) if isinstance(value, ast.Tuple) else parts[0]
    return tree, tuple(finish)


def _accumulators(
    tree: ast.FunctionDef, finish: tuple[tuple[int | None, bool, tuple[int, ...]], ...], params: set[str], namespace: dict
) -> ast.FunctionDef:
    """Start from ``zeros_of(x)`` instead of ``0.0`` each adjoint that is only ever accumulated
    (``dw = dw + c``: its one reading) and returned as the gradient shaped like parameter ``x``.

    Python's ``0.0 + c`` is ``c``, and materialising a weak zero gives zeros of ``x``'s shape;
    ``zeros(x.shape) + c`` is ``c`` broadcast to ``x``'s shape, which materialising sums back
    (``unbroadcast``) if ``c`` was bigger: the same gradient, with one type for Numba."""
    order = _positional(tree)
    returned: dict[str, str] = {}  # the name of a returned gradient -> its parameter
    for ret in (n for n in ast.walk(tree) if isinstance(n, ast.Return)):
        parts = ret.value.elts if isinstance(ret.value, ast.Tuple) else [ret.value]
        for position, many, likes in finish:
            value = parts[position] if position is not None else ret.value
            ys = value.elts if many and isinstance(value, ast.Tuple) else [value]
            for y, like in zip(ys, likes):
                if isinstance(y, ast.Name):
                    returned[y.id] = order[like]
    allowed: set[int] = set()  # the Name nodes that read an adjoint the allowed way
    for node in ast.walk(tree):
        if isinstance(node, ast.Return):
            allowed |= {id(n) for n in ast.walk(node.value) if isinstance(n, ast.Name) and n.id in returned}
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.BinOp)
            and isinstance(node.value.op, ast.Add)
            and isinstance(node.value.left, ast.Name)
            and node.value.left.id == node.targets[0].id
        ):
            allowed.add(id(node.value.left))
    others = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in allowed}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in returned
            and node.targets[0].id not in others
            and isinstance(node.value, ast.Constant)
            and node.value.value == 0.0
            and type(node.value.value) is float
        ):
            call = ast.Call(
                func=ast.Name(id="zeros_of", ctx=ast.Load()),
                args=[ast.Name(id=returned[node.targets[0].id], ctx=ast.Load())],
                keywords=[],
            )
            node.value = ast.copy_location(call, node.value)
    return tree


class Compiled:
    """Calls the Numba-compiled code with the arguments and the live data it reads; falls back
    to the Python function when Numba cannot compile it for a kind of arguments."""

    def __init__(self, lowered: Lowered, python: Callable) -> None:
        import numba

        from .numba_runtime import NumbaError

        self.python = python
        self.dispatcher: Any = numba.njit(lowered.function)
        self.live = tuple(read for _, read in lowered.live)
        self.kinds = tuple(_kind(read()) for read in self.live)  # what each held when compiled
        self.finish = lowered.finish
        self.arity = len(lowered.params)
        self.floats = lowered.floats
        self.signature = inspect.signature(python)
        self.errors = NumbaError
        self.typeof = numba.typeof
        self.checked = False
        self.__name__ = python.__name__
        self.__wrapped__ = python

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        dispatcher = self.dispatcher
        if dispatcher is None:
            return self.python(*args, **kwargs)
        positional = args
        if kwargs or len(args) != self.arity:
            bound = self.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            positional = tuple(bound.arguments.values())
        for i in self.floats:  # (a float32 or a 0-d array: the Python code, which keeps its type)
            if type(positional[i]) is not float and type(positional[i]) is not np.float64:
                return self.python(*args, **kwargs)
        if self.live:
            try:
                live = [read() for read in self.live]
            except (KeyError, ValueError):  # a global deleted, a cell emptied: the Python code raises NameError
                return self.python(*args, **kwargs)
            for value, kind in zip(live, self.kinds):  # a global now holds something else: Python's code says so
                if type(value) is not kind and _kind(value) != kind:
                    return self.python(*args, **kwargs)
            positional += tuple(live)
        if not self.checked:
            refused = next((i for i, a in enumerate(positional[: self.arity]) if not _is_data(a)), None)
            if refused is not None:
                name = list(self.signature.parameters)[refused]
                what = type(positional[refused]).__name__
                self.fall_back(f"argument {name} is a {what}, not a number or an array of numbers")
                return self.python(*args, **kwargs)
            try:  # compiled before it runs: an error here is Numba's (LLVM's too), not the code's
                dispatcher.compile(tuple(map(self.typeof, positional)))
            except Exception as error:
                self.fall_back(*_numba_reason(error, self.python.__code__.co_filename))
                return self.python(*args, **kwargs)
            self.checked = True
        try:
            result = dispatcher(*positional)
        except self.errors as error:  # compiling for these argument types failed: typing, lowering
            self.fall_back(*_numba_reason(error, self.python.__code__.co_filename))
            return self.python(*args, **kwargs)
        return _finish(result, self.finish, positional) if self.finish else result

    def fall_back(self, what: str, line: int | None = None) -> None:
        self.dispatcher = None
        fall_back(self.python, what, self.python.__code__.co_filename, line)


def _finish(result: Any, finish: tuple, args: tuple) -> Any:
    """The returned gradients materialised as the Python code's are (``runtime.materialize``)."""
    parts = list(result) if finish[0][0] is not None else [result]
    taken = [a for a in args if type(a) is np.ndarray]
    for position, many, likes in finish:
        k = position or 0
        ys = parts[k] if many else (parts[k],)
        out = []
        for y, like in zip(ys, likes):
            y = _materialized(y, args[like], taken)
            taken.append(y)
            out.append(y)
        parts[k] = tuple(out) if many else out[0]
    return tuple(parts) if finish[0][0] is not None else parts[0]


def _materialized(y: Any, like: Any, taken: list) -> Any:
    """``runtime.materialize(y, like)``, for an array Numba returned: it is new unless it shares
    memory with an argument or another gradient (Numba's arrays all have a base)."""
    if type(y) is np.ndarray and type(like) is np.ndarray and y.dtype == like.dtype and y.shape == like.shape:
        shared = not y.flags.writeable or any(np.may_share_memory(y, t) for t in taken if type(t) is np.ndarray)
        return y.copy() if shared else y
    return runtime.materialize(y, like)


_LOCATION = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _numba_reason(error: Exception, filename: str) -> tuple[str, int | None]:
    """What Numba's error says stopped it, in a line, and the line of the generated text it names."""
    text = str(error)
    lines = [t.strip() for t in text.splitlines() if t.strip()]
    skip = ("Failed in", "During:", "File ", "<source", "There are", "- Of which", "Overload", "With argument", "No match", "^")
    useful = [t for t in lines if not t.startswith(skip)]
    what = useful[0] if useful else type(error).__name__
    signature = next((t for t in lines if t.startswith(">>>")), None)
    if signature and signature != what:
        what = f"{what.rstrip(':')} {signature[3:].strip()}"
    line = None
    for match in _LOCATION.finditer(text):  # (Numba may print a file path relative to the working directory)
        if match["file"] == filename or os.path.abspath(match["file"]) == os.path.abspath(filename):
            line = int(match["line"])
    return f"Numba: {what}", line
