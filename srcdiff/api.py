"""The public API: ``grad``, ``value_and_grad``, ``source``, ``check_grad``, ``stop_gradient``.

``build`` runs the pipeline, one line per stage; ``lower`` is its front (parse,
normalise, analyse), shared with forward mode. A ``Gradient`` builds lazily on
its first call (so helpers defined later in the module are found) and once per
kind of arguments: floats get float code, without the broadcasting bookkeeping
arrays need, and an array's number of dimensions is known (``x[i]`` of a vector
is a float too). Each specialisation records the guards its code was built
under: the arrays' dimensions and the functions it calls (``cache.Dependency``).
A call checks the guards its code has, written out, and takes no lock; only a
build (``cache.get``) does. Every call first checks that the function itself is the
one the code was built from (``cache.own``: its ``__code__``, as autoreload swaps
it, and its defaults), by identity.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import inspect
import re
import sys
import threading
import types
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import (
    analysis,
    cache,
    callables,
    compiled,
    emit,
    methods,
    normalize,
    notebook,
    operations,
    optimize,
    packing,
    parse,
    persist,
    records,
    reverse,
    rules,
    trees,
)
from .assembly import module_text
from .errors import (
    ArraySubclassError,
    BadAux,
    BadCall,
    BadWrt,
    GradientCheckError,
    NonScalarOutput,
    SourceUnavailable,
    UnsupportedSyntax,
    WrtTypeError,
)
from .log import logger
from .runtime import LABELLED, is_duck_array, materialize_all, seed, stop_gradient

Wrt = int | str | Sequence[int | str]
_SCALAR_TYPES = (float, int, bool, np.float64, np.float32, np.int64, np.bool_)
_SCALAR_SET = frozenset(_SCALAR_TYPES)
_LEAF_SET = _SCALAR_SET | {np.ndarray}
_CONTAINER_TYPES = (list, tuple, dict)


def container_kind(value: list | tuple | dict) -> int:
    """A container's kind: of scalars, of arrays and scalars, or of anything (one level deep);
    offset by ``analysis.DICT`` for a dict."""
    types = set(map(type, value.values() if type(value) is dict else value))
    kind = analysis.SCALARS if types <= _SCALAR_SET else analysis.LEAVES if types <= _LEAF_SET else analysis.CONTAINER
    return kind + analysis.DICT if type(value) is dict else kind


__all__ = ["grad", "value_and_grad", "source", "check_grad", "stop_gradient", "stages", "Gradient", "AuxGradient"]


def container_parameters(kinds: frozenset[tuple[str, int]], wrt: tuple[str, ...]) -> dict[str, str]:
    """The parameters that hold a ``"dict"``, a ``"sequence"`` in ``wrt`` (a list or tuple,
    NamedTuples included; ``"sequence of records"`` where its items are themselves lists or
    tuples, NamedTuples included), ``"function"`` (a function, which the code may call:
    ``callables``) or ``"not a dict"`` (any other known kind), for arguments of these kinds:
    normalize lowers ``for k in d`` and ``record.field`` (an attribute of any other argument is
    read as it is, a constant)."""
    dicts = analysis.DICT + analysis.CONTAINER

    def described(n: str, kind: int) -> str:
        if kind <= dicts:
            return "dict"
        if kind in analysis.CONTAINERS and n in wrt:
            return "sequence of records" if kind == analysis.CONTAINER else "sequence"
        return "not a dict"

    found = {n: described(n, kind) for n, kind in kinds if n.isidentifier()}  # (not the entries of packing and callables)
    return found | {n: "function" for n in callables.bound(kinds)}


class Lowered(NamedTuple):
    """A function after the stages both modes share: parse, ``packing.spell_out``, normalise, analyse."""

    tree: ast.FunctionDef
    origin: parse.Origin
    activity: analysis.Activity
    depends: tuple[cache.Dependency, ...]  # the functions the analysis assumed (see ``_analyse``)


def lower(f: Callable, kinds: frozenset[tuple[str, int]], wrt: tuple[str, ...], callee: bool = False) -> Lowered:
    """Parse, spell out, normalise and analyse ``f`` for arguments of these kinds: the one
    front of the pipeline, for grad, jvp and the facts asked of callees. ``callee``: ``f`` is
    called from differentiated code (a parameter it changes in place is refused)."""
    tree, origin = parse.function_ast(f)
    dataclasses = records.fields_in(kinds)
    if dataclasses and not parse.is_generated(origin.filename):  # read as records of their fields: only by them
        records.refuse_other_uses(f, tree, origin, dataclasses)  # (srcdiff's own code came from code checked so)
    tree = packing.spell_out(tree, origin, kinds)
    kinds |= methods.free_objects(f, tree)  # objects of the user's classes held by globals: followed as arguments are
    tree = methods.rewrite(f, tree, origin, kinds)
    augmented = normalize.augmented_names(tree)
    tree = normalize.normalize(tree, origin, container_parameters(kinds, wrt), operations.resolver(f, tree, kinds))
    act, depends = _analyse(f, tree, origin, wrt, kinds, augmented, callee)
    return Lowered(tree, origin, act, cache.unique(depends + cache.closure_functions(f)))


def stages(
    f: Callable, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]] = frozenset(), mode: str = "grad"
) -> Iterator[tuple[str, str]]:
    """Yield ``(stage, source)`` after each stage of the pipeline: start here when debugging."""
    yield "parse", ast.unparse(parse.function_ast(f)[0])
    tree, origin, act, _ = lower(f, kinds, wrt)
    yield "normalize", ast.unparse(tree)
    yield "analysis", f"active: {sorted(act.active)}\nscalars: {sorted(act.scalars)}"
    transformed = reverse.transform(tree, act, origin, split=mode in _SPLIT_MODES, with_value=mode == "value")
    yield "reverse", emit.to_source(transformed, _header(f, origin, wrt, mode))
    transformed = optimize.optimize(transformed)
    text = emit.to_source(transformed, _header(f, origin, wrt, mode))
    yield "optimize", text


# cache.key of (f, kinds) -> ((what it returns, is that a value of its own), the dependencies of
# that answer, f: keeps the key's ids valid, what lowering f looked up: ``persist.recording``)
_callee_facts: OrderedDict[tuple, tuple[tuple[int | None, bool], tuple[cache.Dependency, ...], Any, tuple]] = OrderedDict()
_FACTS_LIMIT = 1000  # answers kept, the least recently used dropped first
_facts_lock = threading.Lock()  # _callee_facts: held for a lookup or an update, not while an answer is found
# per thread: .asking, the keys of the answers being found (a recursive call asks one of them: unknown);
# .consulted, per analysis running, the dependencies of the answers it used
_facts_here = threading.local()
_UNKNOWN = (None, False, False)


def _facts(f: Callable, kinds: frozenset[tuple[str, int]]) -> tuple[int | None, bool, bool]:
    """What ``f`` returns for arguments of these kinds (see ``analysis.ReturnsKind``), whether
    that is a value of its own, never sharing an argument's data, and whether it may be complex.
    Cached; while a recursive call asks, unknown, not fresh and not complex. Threads asking at
    once may each find the answer (the same): none waits for another's."""
    key = cache.key(f, (), kinds, "returns")  # code objects compare by value: globals and cells tell them apart
    asking = _facts_here.__dict__.setdefault("asking", set())
    if key in asking:
        return _UNKNOWN
    with _facts_lock:
        found = _callee_facts.get(key)
    if found is None or not cache.current(found[1]):
        asking.add(key)
        try:
            with persist.recording() as looked_up:  # what a build that asks depends on (``persist``)
                tree, _, act, depends = lower(f, kinds, ())
            result = tree.body[-1].value.id
            if result in act.scalars:
                kind: int | None = 0
            elif result in act.containers:
                kind = analysis.CONTAINER
            elif result in act.lists:
                kind = None
            else:
                kind = act.ndims.get(result, analysis.NOT_CONTAINER)
            fresh = analysis.returns_own_value(tree, act, returns_fresh)
        finally:
            asking.discard(key)
        found = ((kind, fresh, result in act.complex_values), depends, f, tuple(looked_up.items()))
        with _facts_lock:
            _callee_facts[key] = found
    else:
        persist.replay(found[3])
    with _facts_lock:
        if key in _callee_facts:
            _callee_facts.move_to_end(key)
        while len(_callee_facts) > _FACTS_LIMIT:
            _callee_facts.popitem(last=False)
    consulted = _facts_here.__dict__.get("consulted")
    if consulted:
        consulted[-1] += found[1]
    return found[0]


def returns_kind(f: Callable, kinds: frozenset[tuple[str, int]]) -> int | None:
    """What ``f`` returns for arguments of these kinds (see ``analysis.ReturnsKind``)."""
    return _facts(f, kinds)[0]


def returns_fresh(f: Callable, kinds: frozenset[tuple[str, int]]) -> bool:
    """Does ``f`` return a value of its own, sharing no argument's data?"""
    return _facts(f, kinds)[1]


def returns_complex(f: Callable, kinds: frozenset[tuple[str, int]]) -> bool:
    """May ``f`` return a complex value (its arguments real)?"""
    return _facts(f, kinds)[2]


def _analyse(
    f: Callable,
    tree: ast.FunctionDef,
    origin: parse.Origin,
    wrt: tuple[str, ...],
    kinds: frozenset[tuple[str, int]],
    augmented: frozenset[str] = frozenset(),
    callee: bool = False,
) -> tuple[analysis.Activity, tuple[cache.Dependency, ...]]:
    """``analysis.activity``, and the functions its answer depends on (those of callees asked included)."""
    env = analysis.environment(f, tree, kinds)
    stack = _facts_here.__dict__.setdefault("consulted", [])
    stack.append([])
    try:
        act = analysis.activity(tree, origin, env, wrt, kinds, returns_kind, augmented, callee, returns_fresh, returns_complex)
    finally:
        consulted = stack.pop()
    return act, cache.unique(_called(act) + tuple(consulted))


def _called(act: analysis.Activity) -> tuple[cache.Dependency, ...]:
    """Each user function the code calls, with where its name is found (closure, globals, module)."""
    found = []
    for node, op in act.ops.items():
        if op.kind != operations.CALL:
            continue
        func = node.func
        if isinstance(func, ast.Name) and act.env.lookups is not None and func.id in act.env.lookups.recipes:
            found.append(cache.Dependency(act.env.lookups, func.id, op.func, op.func.__code__))  # a method of a class
            continue
        if isinstance(func, ast.Name) and func.id in act.env.arguments:
            continue  # a function passed as an argument: its identity is in the cache key
        gradient = operations.safe_resolve(func, act.env)
        if isinstance(gradient, Gradient) and gradient.called_inside() is op.func:  # its generated code is called
            found += _gradient_dependencies(act.env, func, gradient)
            continue
        found.append(_dependency(act.env, func, op.func))
    return tuple(found)


def _dependency(env: operations.Env, func: ast.expr, function: Any) -> cache.Dependency:
    """``func`` (a name or an attribute chain) denotes ``function``, as where it is looked up again says."""
    if isinstance(func, ast.Name) and func.id in env.closure:
        namespace: Any = cache.Cell(env.closure[func.id])
    elif isinstance(func, ast.Name):
        namespace = env.globals if func.id in env.globals else builtins.__dict__
    else:  # module.helper: the chain is looked up again
        namespace = _Chain(env, func)
    name = func.id if isinstance(func, ast.Name) else ast.unparse(func)
    return cache.Dependency(namespace, name, function, function.__code__)


def _named(env: operations.Env, expr: ast.expr, value: Any) -> list[cache.Dependency]:
    """``expr`` denotes ``value``: a name or a chain does, or the transform and function a gradient
    made where it is called (``grad(grad(loss))``) is made of."""
    if isinstance(expr, ast.Call):
        parts = (expr.func, expr.args[0])
        return [d for part in parts for d in _named(env, part, operations.safe_resolve(part, env))]
    return [_dependency(env, expr, value)]


def _gradient_dependencies(env: operations.Env, func: ast.expr, gradient: Gradient) -> list[cache.Dependency]:
    """What code calling ``gradient`` assumes: that ``func`` still denotes it (``dloss``), or, made
    where it is called (``grad(loss)``), that ``grad`` and ``loss`` still denote what they did; that
    the function it differentiates keeps its code; and what the gradient's own code assumes."""
    found = _named(env, func, gradient)
    base = base_function(gradient)
    found.append(cache.Dependency({"f": base}, "f", base, base.__code__))
    return found + list(gradient.dependencies(gradient.entry(frozenset()), frozenset()))


class _Chain:
    """An attribute chain (``helpers.h``) read like a namespace."""

    def __init__(self, env: operations.Env, expr: ast.expr) -> None:
        self.env = env
        self.expr = expr
        root = expr
        while isinstance(root, ast.Attribute):
            root = root.value
        where = env.closure.get(root.id) if isinstance(root, ast.Name) else None
        self.key = id(where if where is not None else env.globals)  # with the name: one chain, one key

    def __getitem__(self, name: str) -> Any:
        try:
            return self.env.resolve(self.expr)
        except (AttributeError, TypeError):
            return None


# Modes whose code is a forward sweep returning (value, tape) and a backward sweep taking
# (tape, adjoint of the value): "split" for a function called from differentiated code,
# "pullback" for vjp and has_aux, called by the user (so not refused for changing its arguments).
_SPLIT_MODES = ("split", "pullback")


def build(f: Callable, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], mode: str) -> emit.Emitted:
    """Parse, normalise, analyse, transform and emit ``f`` (cached, callees included).

    ``mode``: "grad", "value" (value and gradient), or one of ``_SPLIT_MODES``."""
    key = cache.key(f, wrt, kinds, mode)

    def run() -> emit.Emitted:
        stored = persist.Stored.of(f, wrt, kinds, mode)  # None: not cached on disk
        emitted = stored.load() if stored is not None else None
        if emitted is None:
            with persist.recording() if stored is not None else contextlib.nullcontext({}) as looked_up:
                tree, origin, act, depends = lower(f, kinds, wrt, callee=mode == "split")
                if mode in ("grad", "value"):
                    refuse_no_number(tree, origin)
                transformed = reverse.transform(tree, act, origin, split=mode in _SPLIT_MODES, with_value=mode == "value")
                transformed = optimize.optimize(transformed)
                text = emit.to_source(transformed, _header(f, origin, wrt, mode))
            path = stored.save(text, transformed, depends, looked_up, origin) if stored is not None else None
            bindings, entry, changes_tape = transformed.bindings, transformed.entry, transformed.backward_changes_tape
            emitted = emit.compile_text(text, bindings, entry, origin, f, changes_tape, path)  # (written: as that file)
            emitted.depends = depends
        cache.put(key, emitted)  # recursion: a callee that calls back finds this entry
        for name, ref in emitted.pending.items():
            callee = build(ref.func, ref.wrt, ref.kinds, "split")
            emitted.bind(name, callee.functions[_part(callee, ref.part)])
            emitted.callees.append(callee)
        return emitted

    return cache.get(key, run)


def refuse_no_number(tree: ast.FunctionDef, origin: parse.Origin) -> None:
    """Refuse a function every return of which is None or a string (``analysis.returns_no_number``):
    it has no gradient. Where only some paths return one, the generated code checks (``runtime.seed``)."""
    nothing = analysis.returns_no_number(tree)
    if nothing and len(nothing) == len(analysis.result_assignments(tree)):
        value = nothing[0].value.value
        what = "None" if value is None else f"a {type(value).__name__}"
        raise origin.error(
            NonScalarOutput,
            nothing[0],
            f"{origin.name} returns {what}, not a number, so it has no derivative",
            "Return the number to differentiate (a scalar: reduce an array with np.sum or np.mean).",
        )


def split_pair(entry: emit.Emitted) -> tuple[Callable, Callable]:
    """The forward sweep ``(*args) -> (value, tape)`` and the backward sweep
    ``(tape, adjoint of value) -> adjoints of wrt`` of an entry built in a split mode."""
    return entry.functions[_part(entry, "forward")], entry.functions[_part(entry, "backward")]


def _part(entry: emit.Emitted, part: str) -> str:
    return next(n for n in entry.functions if (n == entry.entry) == (part == "forward"))


def _header(f: Callable, origin: parse.Origin, wrt: tuple[str, ...], mode: str) -> str:
    what = {
        "grad": "gradient",
        "value": "value and gradient",
        "split": "forward and backward sweeps",
        "pullback": "forward sweep and pullback",
    }[mode]
    where = notebook.place(origin.filename, origin.first_line, short=True)
    return f"srcdiff: {what} of {origin.name} ({where}) with respect to {', '.join(wrt) or 'nothing'}"


def _parameters(f: Callable) -> list[str]:
    if isinstance(f, Gradient):
        return f.params
    try:
        sig = inspect.signature(f, follow_wrapped=False)  # a wrapper's own parameters, not the wrapped function's
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


_signatures: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # f -> inspect.signature(f), or None


def _signature(f: Callable) -> inspect.Signature | None:
    """``inspect.signature(f)``, kept: a call with keyword arguments asks on every call."""
    try:
        return _signatures[f]
    except (KeyError, TypeError):
        pass
    try:
        found: inspect.Signature | None = inspect.signature(f)
    except (TypeError, ValueError):
        found = None
    try:
        _signatures[f] = found
    except TypeError:  # not weakly referenceable: asked again next time
        pass
    return found


def check_call(f: Callable, transform: str, args: tuple, kwargs: dict) -> None:
    """Refuse arguments ``f`` does not take, naming it and its parameters (not the generated code's)."""
    signature = _signature(f)
    if signature is None:
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as error:
        raise BadCall(
            f"{transform} takes the arguments of {getattr(base_function(f), '__name__', f)}{signature}, and {error}",
            suggestion="Pass the arguments the function takes.",
        ) from None


def as_positional(f: Callable, transform: str, args: tuple, kwargs: dict) -> tuple:
    """``args`` and ``kwargs`` as positional arguments up to the last one given, a parameter
    skipped taking its default: for the transforms that take their arguments by position."""
    if not kwargs:
        return args
    check_call(f, transform, args, kwargs)
    signature = _signature(f) or inspect.signature(f)
    bound = signature.bind(*args, **kwargs)
    names = list(signature.parameters)
    kinds = signature.parameters
    if any(kinds[n].kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in kwargs):
        raise BadCall(f"{transform} passes its arguments by position, and {', '.join(kwargs)} can only be passed by name")
    last = max(names.index(n) for n in bound.arguments)
    bound.apply_defaults()
    return tuple(bound.arguments[n] for n in names[: last + 1])


def _resolve_wrt(f: Callable, wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """``wrt`` as parameter names, and whether the caller asked for a tuple."""
    parse.refuse_transform_results(f)
    params = _parameters(f)
    many = isinstance(wrt, (tuple, list))
    items = list(wrt) if many else [wrt]
    names = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise BadWrt(f"wrt must be a parameter index or name, not {w!r}")
        if isinstance(w, int):
            if not -len(params) <= w < len(params):
                raise BadWrt(
                    f"wrt={w} is out of range: {getattr(f, '__name__', f)} has {len(params)} parameters ({', '.join(params)})"
                )
            names.append(params[w])
        elif w not in params:
            raise BadWrt(f"wrt={w!r} is not a parameter of {getattr(f, '__name__', f)} (parameters: {', '.join(params)})")
        else:
            names.append(w)
    if len(set(names)) != len(names):
        raise BadWrt(f"wrt names a parameter twice: {wrt!r}")
    return tuple(names), many


def _shared_key(cls: type, f: Any, wrt: Wrt, mode: str, backend: str) -> tuple | None:
    """The cache key under which Gradients of a plain function share their state (``None``: not shared)."""
    if type(f) is not types.FunctionType:
        return None
    key = ("gradient", cls, id(f), tuple(wrt) if isinstance(wrt, list) else wrt, mode, backend, rules.version)
    try:
        hash(key)
    except TypeError:  # a wrt that is no name or index: refused by __init__
        return None
    return key


def _as_built(f: types.FunctionType) -> tuple:
    """What a Gradient's state depends on, compared by identity: the function (the key has only its
    id), its code, defaults and keyword defaults (a dict, changed in place: its items)."""
    kw = f.__kwdefaults__
    return (_Same(f), _Same(f.__code__), _Same(f.__defaults__), tuple((k, _Same(v)) for k, v in kw.items()) if kw else ())


class _Same:
    """Compares by identity (a default may be an array, whose == is elementwise)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and self.value is other.value

    __hash__ = None  # type: ignore[assignment]


def check_source(f: Callable) -> None:
    """Refuse unreadable source and unsupported syntax of a function to transform, at its line."""
    tree, origin = parse.function_ast(f)
    if inspect.isgeneratorfunction(f):  # (its callers walk it: parse.generator_as_list)
        raise origin.error(
            UnsupportedSyntax,
            tree,
            f"{tree.name!r} is a generator function: it gives values one by one, not one result to differentiate",
            f"Differentiate a function that walks it: def loss(x): return sum({tree.name}(x)).",
        )
    packing.spell_out(tree, origin, frozenset())


class Gradient:
    """The derivative of a Python function, built on first call (see ``grad``).

    A bound method ``obj.method`` is differentiated as ``method.__func__`` with ``obj``
    passed first: ``wrt`` counts the parameters after ``self``, and ``obj`` is a constant.
    """

    __code__ = None  # a gradient called by differentiated code is a dependency of it with no code (cache.Dependency)

    def __init__(self, f: Callable, wrt: Wrt, mode: str, backend: str | None = None) -> None:
        self.receiver: tuple = ()  # (obj,) when f is obj.method
        f = getattr(f, "srcdiff_caller", f)  # a custom_vjp function: differentiated by its own rules
        backend = compiled.check_backend(backend, f if isinstance(f, Gradient) else None)
        shared = _shared_key(type(self), f, wrt, mode, backend)
        if shared is not None:
            state = cache.recall(shared)
            if state is not None and state[0] == _as_built(f):  # grad(f)(x) inline: what the last one knew
                self.__dict__.update(state[1])
                return
        if isinstance(f, AuxGradient):
            raise SourceUnavailable(
                f"{f.__name__} was made with has_aux=True: it cannot be differentiated again",
                suggestion="Differentiate a function that returns the output alone (grad(grad(f)) works).",
            )
        self.keywords: dict = {}  # the keywords a functools.partial binds
        if isinstance(f, Gradient):
            self.receiver, self.keywords = f.receiver, f.keywords
            self.function: Callable = f
        elif inspect.ismethod(f):
            self.receiver = (f.__self__,)
            self.function = f.__func__
        elif type(f) is functools.partial and inspect.isfunction(f.func):  # its values are constants
            self.receiver, self.keywords = f.args, dict(f.keywords)
            self.function = f.func
        else:
            self.function = f
        if not isinstance(f, Gradient):
            # refuse unreadable source and unsupported syntax now, at its line
            parse.checked(self.function, check_source)
        self.mode = mode
        self.backend = backend  # what runs the generated code: "python", or "numba" (compiled.py)
        self.wrt, self.many = _resolve_wrt(f, wrt)
        if set(self.wrt) & set(self.keywords):
            bound = sorted(set(self.wrt) & set(self.keywords))[0]
            raise BadWrt(
                f"wrt={bound!r} names a parameter the functools.partial binds, which is a constant",
                suggestion=f"Leave {bound} out of the partial and pass it in the call.",
            )
        self.params = _parameters(f)  # those the caller passes: a bound method's self is not one
        self.function_defaults = f.function_defaults if isinstance(f, Gradient) else callables.defaults(f)
        self.positions = tuple(self.params.index(w) for w in self.wrt)
        self.single = not self.many and len(self.wrt) == 1  # one gradient, not a tuple
        # argument types -> what specialize returns; filled without a lock (a dict write is atomic)
        self._compiled: dict[tuple, tuple] = {}
        self._version = rules.version  # of the derivative table the entries were built with
        self._own = tuple(cache.own(base_function(self.function)))  # the function they were built from
        self.__wrapped__ = f
        self.__name__ = ("grad_" if mode == "grad" else "value_and_grad_") + getattr(f, "__name__", "f")
        what = "Gradient" if mode == "grad" else "Value and gradient"
        self.__doc__ = f"{what} of {getattr(f, '__name__', f)} with respect to {', '.join(self.wrt)}."
        self._shared = shared  # (None: this Gradient's state is its own)
        if shared is not None:  # the next Gradient of f shares these, its compiled entries included
            cache.remember(shared, (_as_built(f), dict(self.__dict__)))

    def __repr__(self) -> str:
        return f"<srcdiff {self.__name__} wrt={self.wrt}>"

    def __reduce__(self) -> tuple:
        """A gradient pickles as the function it differentiates and its options (the function by
        reference, as pickle sends functions): the process that loads it builds its own code."""
        wrt = self.wrt if self.many else self.wrt[0]
        mode = getattr(self, "returns", None)  # (AuxGradient: "grad" or "value")
        f = self.__wrapped__
        return (_gradient, (f, wrt, mode or self.mode, mode is not None, self.backend, parse.carried_source(f)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the hot path: the argument types, one dict lookup, then the generated code; arrays'
        # ndim and the called functions' identity are checked only for code that assumes them
        f, code, defaults, kwdefaults, uses_defaults = self._own  # (a plain tuple unpacks faster than attributes)
        if (  # a rule was registered or replaced, or f redefined in place: build everything anew
            self._version != rules.version
            or f.__code__ is not code  # (reading an attribute of a function costs: one, unless defaults were used)
            or uses_defaults
            and (f.__defaults__ is not defaults or f.__kwdefaults__ is not kwdefaults)
        ):
            why = "the derivative rules changed" if self._version != rules.version else f"{f.__name__} was redefined"
            logger.debug("%s: %s: building again", self.__name__, why)
            self._compiled = {}
            self._version = rules.version
            self._own = tuple(cache.own(f))
        if kwargs:  # keyed by the keywords' names too; the guards index the positional values, then the keywords'
            key: tuple = (tuple(map(type, args)), tuple(kwargs), tuple(map(type, kwargs.values())))
            values = args + tuple(kwargs.values())
        else:
            key = tuple(map(type, args))
            values = args
        entry = self._compiled.get(key)
        if entry is not None and entry[1]:  # guards, written out here: a call would cost more than they do
            try:
                if entry[3]:  # an empty loop costs more than a test
                    for i, ndim, complex_ in entry[3]:
                        if values[i].ndim != ndim or (values[i].dtype.kind == "c") is not complex_:
                            raise LookupError  # the same types with other dimensions, or complex: code of its own
                if entry[4]:
                    for namespace, name, function, code in entry[4]:  # cache.current
                        if namespace[name] is not function or function.__code__ is not code:
                            raise LookupError  # a function it calls was redefined: build again
                if entry[5]:
                    for i, kind in entry[5]:  # lists, tuples and dicts: of scalars, of arrays, of anything
                        if container_guard(values[i]) != kind:
                            raise LookupError
                if entry[6]:
                    for i, function in entry[6]:  # a function passed in: its code was built for that one
                        if callables.key(values[i]) != function:
                            raise LookupError
            except LookupError:  # KeyError included: the name is gone
                entry = None
        if entry is None:
            if len(args) + len(kwargs) < len(self.params) and not self._own[4]:  # code for f's defaults of now
                self._own = tuple(cache.own(self._own[0], uses_defaults=True))
            entry = self.specialize(args, kwargs)
            self._compiled[key] = entry
            if self._shared is not None:  # the state shared through the cache holds this code now
                cache.holds(self._shared, entry[-1])
        fn, _, wrt_arrays, _, _, _, _, _ = entry
        for i in wrt_arrays:  # integer arrays have no gradient: say so instead of returning zeros
            if args[i].dtype.kind != "f":  # (complex: pass the real and imaginary parts as two arguments)
                raise WrtTypeError(f"argument {self.params[i]!r} is in wrt but has dtype {args[i].dtype}; pass floats")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # (free until raised) say which line of the user's it came from
            parse.note_user_line(exc)
            raise
        if self.single:
            return result
        if self.mode == "value":
            return result[0], tuple(result[1]) if len(self.wrt) > 1 else (result[1],)
        return tuple(result) if len(self.wrt) > 1 else (result,)

    def called_inside(self) -> Callable | None:
        """The generated function a call of this gradient runs, as code that another function being
        differentiated calls: built for arguments of any kind, and returning what a call returns
        (None where it would not: a bound method, a partial, another backend, wrt=(0,) as a tuple)."""
        if type(self) is not Gradient or self.receiver or self.keywords or self.backend != "python":
            return None
        if not (self.single or len(self.wrt) > 1):
            return None
        return self.compiled(frozenset())

    def argument_kinds(self, args: tuple, kwargs: dict) -> frozenset[tuple[str, int]]:
        """Each scalar or array argument's number of dimensions (0 for a scalar), and the
        functions the parameters not given hold by default (``callables``)."""
        given = set(self.params[: len(args)]) | set(kwargs)
        refuse_other_arrays(self.function, {**dict(zip(self.params, args)), **kwargs})
        defaults = {callables.entry(p, v) for p, v in self.function_defaults.items() if p not in given}
        if self.receiver or self.keywords:  # obj.method's object (of its class: ``methods``), a partial's values
            names = inspect.getfullargspec(base_function(self.function)).args
            fixed = dict(zip(names, self.receiver)) | {k: v for k, v in self.keywords.items() if k not in kwargs}
            defaults |= argument_kinds([], (), (), fixed)
        return argument_kinds(self.params, self.wrt, args, kwargs) | defaults

    def target(self, kinds: frozenset[tuple[str, int]]) -> Callable:
        """The Python function to transform: for grad(grad(f)), the inner generated code."""
        if isinstance(self.function, Gradient):
            return self.function.compiled(kinds)
        return self.function

    def compiled(self, kinds: frozenset[tuple[str, int]]) -> Callable:
        entry = self.entry(kinds)
        return entry.functions[entry.entry]

    def entry(self, kinds: frozenset[tuple[str, int]]) -> emit.Emitted:
        return build(self.target(kinds), self.wrt, kinds, self.mode)

    def generated(self, entry: emit.Emitted) -> Callable:
        """The function that computes this derivative, from the entry ``self.entry`` built."""
        return entry.functions[entry.entry]

    def compile(self, entry: emit.Emitted, fn: Callable, kinds: frozenset[tuple[str, int]]) -> Callable:
        """What runs ``fn``, the generated function of ``entry``, on ``self.backend`` (``compiled``);
        the scalars in wrt are floats (an integer is refused), which compiled code may rely on."""
        floats = frozenset(w for w in self.wrt if (w, 0) in kinds)
        return compiled.compiled(entry, fn, self.backend, floats)

    def dependencies(self, entry: emit.Emitted, kinds: frozenset[tuple[str, int]]) -> tuple[cache.Dependency, ...]:
        """What ``entry`` (built by ``self.entry(kinds)``) assumes about the functions it calls."""
        depends = cache.dependencies(entry)
        if isinstance(self.function, Gradient):  # our code was made from the inner gradient's
            inner = self.function
            depends = cache.unique(depends + inner.dependencies(inner.entry(kinds), kinds))
        return depends

    def specialize(
        self, args: tuple, kwargs: dict
    ) -> tuple[Callable, bool, tuple[int, ...], tuple, tuple, tuple, tuple, emit.Emitted]:
        """The function to call for these arguments (the generated code, for a plain function),
        whether the entry has guards, the positions of wrt arrays (whose dtype is checked), the
        guards: the (position, ndim) of array arguments, the dependencies the code assumes, the
        (position, kind) of container arguments (see ``container_kind``), and the (position,
        key) of function arguments (see ``callables``); last, the entry the function comes from
        (what the memory cache charges a Gradient's state for)."""
        check_call(self.__wrapped__, self.__name__, args, kwargs)
        records = _records_in_wrt(self.params, self.wrt)
        if trees.holds_dataclass([*args, *kwargs.values()]):
            # generated code reads a dataclass in wrt as a NamedTuple of its fields; another is itself
            args, kwargs = records(args, kwargs)
        else:
            records = None
        kinds = self.argument_kinds(args, kwargs)
        compiled.prepare(self.backend)
        entry = self.entry(kinds)
        fn = self.generated(entry)
        if self.backend != "python":
            fn = self.compile(entry, fn, kinds)
        if self.receiver or self.keywords:
            fn = functools.partial(fn, *self.receiver, **self.keywords)
        scalars = _scalar_likes(self.wrt, self.positions, args, kwargs)
        if scalars:
            fn = _returning_like(fn, scalars, len(self.wrt), self.mode)
        if records:
            fn = _through_records(fn, records)
        values = (*args, *kwargs.values())  # as __call__ indexes them
        # (another library's array: its ndim and dtype too, through the same attributes)
        checks = tuple((i, a.ndim, a.dtype.kind == "c") for i, a in enumerate(values) if _is_array(a))
        depends = self.dependencies(entry, kinds)
        wrt_arrays = tuple(i for i in self.positions if i < len(args) and _is_array(args[i]))
        guards = tuple(map(tuple, depends))  # plain tuples unpack faster than named ones
        containers = tuple((i, container_guard(a)) for i, a in enumerate(values) if type(a) in _CONTAINER_TYPES)
        functions = tuple((i, callables.key(a)) for i, a in enumerate(values) if callables.is_function(a))
        return fn, bool(checks or guards or containers or functions), wrt_arrays, checks, guards, containers, functions, entry


def base_function(f: Callable) -> Callable:
    """The user's function under any number of ``grad``s."""
    while isinstance(f, Gradient):
        f = f.function
    return f


def value_markers(bound: dict[str, Any]) -> set[tuple[str, int]]:
    """Kinds entries for what a value is besides its kind: an object (whose methods are its own)
    and a complex number or array (``complexes``: an argument the function does not differentiate)."""
    found = {(operations.OBJECT + n, callables.key(type(v))) for n, v in bound.items() if _is_object(v)}
    found |= {(methods.ELEMENTS + n, k) for n, v in bound.items() if (k := element_class(v)) is not None}
    found |= {entry for n, v in bound.items() if trees.is_dataclass_record(v) for entry in records.markers(n, v._fields)}
    found |= {(operations.DUCK + n, 0) for n, v in bound.items() if holds_duck_array(v)}
    return found | {(operations.COMPLEX + n, 0) for n, v in bound.items() if is_complex(v)}


def holds_duck_array(value: Any) -> bool:
    """Is ``value`` another library's array (``runtime.is_duck_array``: Dask, CuPy), or a list,
    tuple or dict holding one? The analysis refuses writes into what may hold its data."""
    if isinstance(value, _CONTAINER_TYPES):
        return any(map(holds_duck_array, value.values() if isinstance(value, dict) else value))
    return is_duck_array(value)


def _is_array(value: Any) -> bool:
    """A plain ``ndarray`` or another library's array (``runtime.is_duck_array``): an array argument."""
    return type(value) is np.ndarray or is_duck_array(value)


def element_class(value: Any) -> int | None:
    """For a list or tuple of objects (``_is_object``): the key of their class if they share one
    (``methods``: ``for m in layers: x = m(x)``), else -1; None for anything else."""
    if type(value) not in (list, tuple) or not value or not all(map(_is_object, value)):
        return None
    classes = set(map(type, value))
    return callables.key(classes.pop()) if len(classes) == 1 else -1


def container_guard(value: list | tuple | dict) -> Any:
    """What code built for a container argument assumes of it: its ``container_kind``, and the
    class of its objects if it holds objects (code built for one class is not another's)."""
    kind = container_kind(value)
    return kind if kind != analysis.CONTAINER else (kind, element_class(value))


def is_complex(value: Any) -> bool:
    return isinstance(value, (complex, np.complexfloating)) or _is_array(value) and value.dtype.kind == "c"


def _is_object(value: Any) -> bool:
    """An object whose methods are its own (a model, a random generator), not an array's."""
    data = (np.ndarray, np.generic, str, bytes, type(None), range, slice, *_SCALAR_TYPES, *_CONTAINER_TYPES)
    if isinstance(value, data) or isinstance(value, type) or callables.is_function(value):
        return False
    return not is_duck_array(value)  # another library's array: NumPy's functions run its own


def refuse_other_arrays(f: Callable, bound: dict[str, Any]) -> None:
    """Raise ``ArraySubclassError`` for an argument (or a container's element), in ``wrt`` or
    not, whose operations are not a plain array's, while the rules describe plain arrays: an
    ``ndarray`` subclass (``*`` of an ``np.matrix`` is a matrix product, a masked array's
    reductions skip masked entries) or a labelled array (pandas, xarray: arithmetic aligns by
    labels); and another library's array whose shape is not known (a Dask array after a
    boolean index), which broadcasting's adjoint reads."""
    for param, value in bound.items():
        found = _other_array(value)
        if found is None:
            continue
        kind = type(found).__module__ + "." + type(found).__qualname__
        what = f"a {kind}, not a plain numpy.ndarray, and srcdiff's rules describe plain arrays"
        if isinstance(found, np.ma.MaskedArray):
            instead = f"the values it stands for: {param}.filled(0.0), or np.ma.getdata({param}) and the mask apart"
        elif isinstance(found, np.ndarray):
            instead = f"a plain array: np.asarray({param})"
        elif is_duck_array(found) and _untested_library(found):
            what = f"a {kind} from {_untested_library(found)}: srcdiff's rules run on Dask arrays as tested with {_TESTED_WITH}"
            instead = f"a NumPy array ({param}.compute()), or upgrade to {_TESTED_WITH}"
        elif is_duck_array(found):
            what = f"a {kind} of unknown shape {found.shape}, and srcdiff's adjoints read shapes"
            instead = f"an array of known shape (a Dask array's {param}.compute_chunk_sizes())"
        else:
            what = f"a {kind}, a labelled array whose arithmetic aligns by labels, and srcdiff's rules describe plain arrays"
            instead = f"its values as an array: {param}.to_numpy() (or a Dask array of them)"
        while isinstance(f, Gradient) or hasattr(f, "__func__"):  # grad(grad(f)), a bound method
            f = f.function if isinstance(f, Gradient) else f.__func__
        code = getattr(f, "__code__", None)
        raise ArraySubclassError(
            f"argument {param!r} of {getattr(f, '__name__', f)} is {what}",
            filename=code.co_filename if code else None,
            line=code.co_firstlineno if code else None,
            suggestion=f"Pass {instead}.",
        )


def _other_array(value: Any) -> Any:
    """The first array in ``value`` (a container's elements included) that ``refuse_other_arrays`` refuses."""
    if isinstance(value, np.ndarray):
        return None if type(value) is np.ndarray else value
    if isinstance(value, _CONTAINER_TYPES):
        for v in value.values() if isinstance(value, dict) else value:
            found = _other_array(v)
            if found is not None:
                return found
        return None
    if type(value).__module__.partition(".")[0] in LABELLED and hasattr(value, "__array__"):
        return value
    if is_duck_array(value) and not all(isinstance(n, (int, np.integer)) for n in value.shape):
        return value  # (Dask gives nan for a length it learns only by computing)
    if is_duck_array(value) and _untested_library(value):
        return value
    return None


# Dask and NumPy releases whose pairing the suite runs (tests/test_dask.py, every rule): older
# ones differ where srcdiff's adjoints need NumPy's meaning (dask 2024.8 with NumPy 1.22 gave
# wrong linalg adjoints, e.g. np.linalg.cholesky's upper triangle for the lower; and no FFT norm=)
_TESTED_WITH = "dask 2025.1 or later with NumPy 2"
_TESTED_DASK, _TESTED_NUMPY = (2025, 1), 2


def _untested_library(value: Any) -> str:
    """For a Dask array where the Dask or NumPy release is older than the tested ones: which
    ("" otherwise, and for another library's arrays, which take NumPy's own functions)."""
    module = sys.modules.get(type(value).__module__.partition(".")[0])
    if getattr(module, "__name__", "") != "dask":
        return ""
    release = tuple(int(p) for p in re.findall(r"\d+", getattr(module, "__version__", "0"))[:2])
    if release < _TESTED_DASK or int(np.__version__.split(".")[0]) < _TESTED_NUMPY:
        return f"dask {module.__version__} with NumPy {np.__version__}"  # type: ignore[union-attr]
    return ""


def argument_kinds(params: list[str], wrt: tuple[str, ...], args: tuple, kwargs: dict) -> frozenset[tuple[str, int]]:
    """Each argument's kind: 0 for a scalar, an array's number of dimensions, a container's
    ``container_kind``. An integer in ``wrt`` is refused: it has no gradient."""
    bound = dict(zip(params, args))
    bound.update(kwargs)
    for w in wrt:
        value = bound.get(w)
        if isinstance(value, (bool, int, np.integer, np.bool_)):
            raise WrtTypeError(
                f"argument {w!r} is in wrt but is {type(value).__name__} {value!r}; pass a float (e.g. {float(value)!r})"
            )
        if isinstance(value, (complex, np.complexfloating)):  # srcdiff takes arguments as real
            raise WrtTypeError(f"argument {w!r} is in wrt but is complex; pass its real and imaginary parts as two floats")
    for w in wrt:
        if callables.is_function(bound.get(w)):
            raise WrtTypeError(f"argument {w!r} is in wrt but is the function {bound[w]!r}; a function has no gradient")
    kinds = {(n, 0) for n, v in bound.items() if isinstance(v, _SCALAR_TYPES)} | value_markers(bound)
    kinds |= {callables.entry(n, v) for n, v in bound.items() if callables.is_function(v)}
    kinds |= {(n, container_kind(v)) for n, v in bound.items() if isinstance(v, _CONTAINER_TYPES)}
    return frozenset(kinds | {(n, v.ndim) for n, v in bound.items() if _is_array(v)})


class AuxGradient(Gradient):
    """``grad`` or ``value_and_grad`` with ``has_aux=True``: ``f`` returns ``(output, aux)``.

    Built in "pullback" mode: the forward sweep returns the pair; the backward sweep is seeded
    with the adjoint of the pair, 1.0 for the output and a zero for every leaf of ``aux``, so
    ``aux`` (any structure: counts, strings, arrays) passes through and gets no adjoint code.
    """

    def __init__(self, f: Callable, wrt: Wrt, returns: str, backend: str | None = None) -> None:
        super().__init__(f, wrt, "value", backend)  # the generated part returns (pair, gradients)
        self.returns = returns
        self.__name__ = ("grad_" if returns == "grad" else "value_and_grad_") + getattr(f, "__name__", "f")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        (value, aux), grads = super().__call__(*args, **kwargs)
        return (grads, aux) if self.returns == "grad" else ((value, aux), grads)

    def entry(self, kinds: frozenset[tuple[str, int]]) -> emit.Emitted:
        return build(self.target(kinds), self.wrt, kinds, "pullback")

    def compile(self, entry: emit.Emitted, fn: Callable, kinds: frozenset[tuple[str, int]]) -> Callable:
        """The Python code: a forward and a backward sweep with aux between them are not compiled."""
        if "has_aux" not in entry.compiled:
            entry.compiled["has_aux"] = fn  # (warned once per entry)
            compiled.fall_back(fn, "has_aux=True is not compiled", entry.functions[entry.entry].__code__.co_filename, None)
        return fn

    def generated(self, entry: emit.Emitted) -> Callable:
        forward, backward = split_pair(entry)
        name, positions, count = getattr(self.function, "__name__", "f"), self.positions, len(self.wrt)
        offset = len(self.receiver)  # the receiver comes first when f is a bound method
        wrt, changes_tape = self.wrt, emit.changes_tape(entry)

        def value_and_grad_with_aux(*args: Any, **kwargs: Any) -> tuple:
            pair, tape = forward(*args, **kwargs)
            value, aux = aux_pair(pair, name)
            if changes_tape:  # the backward sweep restores values aux may share: keep them as returned
                aux = trees.copy_arrays(aux)
            grads = backward(tape, (seed(value), trees.zeros(aux)))
            likes = tuple(args[offset + i] if offset + i < len(args) else kwargs[w] for i, w in zip(positions, wrt))
            grads = materialize_all(grads, likes)
            return (value, aux), (grads[0] if count == 1 else grads)

        return value_and_grad_with_aux


def aux_pair(result: Any, name: str) -> tuple[Any, Any]:
    """``(output, aux)`` from what a function called with ``has_aux=True`` returned."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = f"a {type(result).__name__} of {len(result)}" if isinstance(result, (tuple, list)) else type(result).__name__
        raise BadAux(
            f"has_aux=True needs {name} to return a pair (output, aux); it returned {got}",
            suggestion="Return `output, aux`, or drop has_aux=True.",
        )
    return result[0], result[1]


def _scalar_likes(wrt: tuple[str, ...], positions: tuple[int, ...], args: tuple, kwargs: dict) -> tuple:
    """The wrt arguments analysed as scalars whose gradient needs converting to their type, as
    (k, position or name): 0-d arrays (returned as 0-d arrays), float32 scalars, and float64
    scalars when arrays are about (with a float32 array, their gradient would be np.float32)."""
    arrays = any(_is_array(a) or type(a) is np.float32 for a in (*args, *kwargs.values()))
    found = []
    for k, (name, i) in enumerate(zip(wrt, positions)):
        value = args[i] if i < len(args) else kwargs.get(name)
        if (
            (type(value) is np.ndarray and value.ndim == 0)
            or type(value) is np.float32
            or (arrays and type(value) in (float, np.float64))
        ):
            found.append((k, i if i < len(args) else name))
    return tuple(found)


def _records_in_wrt(params: list[str], wrt: tuple[str, ...]) -> Callable[[tuple, dict], tuple[tuple, dict]]:
    """The arguments with each one in ``wrt`` read as records (``trees.as_records``): a dataclass
    not differentiated stays itself, so its methods, properties, ``==`` and ``isinstance`` are its own."""

    def records(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        args = tuple(trees.as_records(a) if i < len(params) and params[i] in wrt else a for i, a in enumerate(args))
        return args, {k: trees.as_records(v) if k in wrt else v for k, v in kwargs.items()}

    return records


def _through_records(fn: Callable, records: Callable[[tuple, dict], tuple[tuple, dict]]) -> Callable:
    """``fn`` called with its dataclass arguments in wrt as NamedTuples, and its records made dataclasses again."""

    def call(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = records(args, kwargs)
        return trees.from_records(fn(*args, **kwargs))

    return call


_FLOATS = (float, np.float64, np.float32)


def _returning_like(fn: Callable, scalars: tuple, count: int, mode: str) -> Callable:
    """``fn`` with the gradients listed in ``scalars`` converted to their argument's type and dtype."""

    def like(value: Any, arg: Any) -> Any:
        if type(arg) is float and type(value) in _FLOATS:  # the common case, first: a float's gradient as a float
            return float(value)
        if np.ndim(value) != 0:  # not a scalar's gradient: leave it for the caller to see
            return value
        if is_duck_array(value):  # computed from a Dask array: a 0-d one of the argument's dtype, for the caller to compute
            return value.astype(arg.dtype if isinstance(arg, (np.ndarray, np.generic)) else np.float64)
        return type(arg)(value) if type(arg) is not np.ndarray else np.array(value, dtype=arg.dtype)

    def call(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        value, grads = result if mode == "value" else (None, result)
        grads = [grads] if count == 1 else list(grads)
        for k, where in scalars:
            grads[k] = like(grads[k], args[where] if isinstance(where, int) else kwargs[where])
        grads = grads[0] if count == 1 else tuple(grads)
        return (value, grads) if mode == "value" else grads

    return call


class _Decorator:
    """The default of ``grad``'s ``f``: not given, so ``grad()`` or ``grad(wrt=...)`` is a decorator."""

    def __repr__(self) -> str:
        return "<the function to decorate>"


_DECORATE: Any = _Decorator()


def _decorated(f: Any, transform: str) -> bool:
    """Is ``f`` the function to decorate, not yet given? Refuses what is not a function at once."""
    if f is _DECORATE:
        return True
    if not callable(f):
        raise BadCall(
            f"{transform}({f!r}): {type(f).__name__} is not callable; {transform} takes the function to differentiate",
            suggestion=f"Write {transform}(f), or decorate a def with @{transform}, @{transform}() or @{transform}(wrt=...).",
        )
    return False


def grad(f: Callable = _DECORATE, wrt: Wrt = 0, has_aux: bool = False, backend: str | None = None) -> Any:
    """The gradient of scalar-valued ``f`` with respect to ``wrt`` (index, name or tuple).

    Use as ``grad(f)``, ``@grad`` or ``@grad(wrt=...)``. A single ``wrt`` gives one
    gradient shaped like its argument; a tuple gives a tuple of gradients. With
    ``has_aux=True``, ``f`` returns ``(output, aux)`` and the gradient is ``(gradient, aux)``:
    ``aux`` is passed through, not differentiated.

    ``backend="numba"`` compiles the generated code with Numba (``pip install 'srcdiff[numba]'``)
    where it is in Numba's subset, and otherwise runs it as Python after a ``BackendFallback``
    warning naming what stopped it (docs/backends.md). The default is the backend of ``f`` when
    ``f`` is itself a gradient (``grad(grad(f, backend="numba"))``), else "python".
    """
    if _decorated(f, "grad"):
        return lambda g: _gradient(g, wrt, "grad", has_aux, backend)
    return _gradient(f, wrt, "grad", has_aux, backend)


def value_and_grad(f: Callable = _DECORATE, wrt: Wrt = 0, has_aux: bool = False, backend: str | None = None) -> Any:
    """Like ``grad`` but returns ``(f(...), gradient)`` from one forward sweep; with
    ``has_aux=True``, ``((output, aux), gradient)``. ``backend`` as for ``grad``."""
    if _decorated(f, "value_and_grad"):
        return lambda g: _gradient(g, wrt, "value", has_aux, backend)
    return _gradient(f, wrt, "value", has_aux, backend)


# grad(loss)(w, x) inside differentiated code: the gradient is made when the code is built (operations.Env.resolve)
grad.makes_gradient = value_and_grad.makes_gradient = True  # type: ignore[attr-defined]


def _gradient(
    f: Callable, wrt: Wrt, mode: str, has_aux: bool, backend: str | None = None, source: list[str] | None = None
) -> Gradient:
    if source is not None:  # (a gradient unpickled: its function's file may not exist here)
        parse.restore_source(f, source)
    return AuxGradient(f, wrt, mode, backend) if has_aux else Gradient(f, wrt, mode, backend)


def source(g: Gradient, *args: Any, **kwargs: Any) -> str:
    """The generated Python of a derivative (for these example arguments; without them, for arrays).
    A ``str``, which a notebook displays as highlighted code."""
    if not isinstance(g, Gradient):
        raise TypeError("source() takes a function made by srcdiff.grad or srcdiff.value_and_grad")
    # without example arguments, show the code for arrays (a list argument gets code of its own)
    args, kwargs = trees.as_records(args), trees.as_records(kwargs)
    kinds = g.argument_kinds(args, kwargs) if (args or kwargs) else frozenset((p, analysis.NOT_CONTAINER) for p in g.params)
    return notebook.GeneratedSource(module_text(g.entry(kinds)))


def with_callees(entry: emit.Emitted) -> str:
    """The generated source of ``entry`` and of the split pairs of the functions it calls, each once."""
    texts = [entry.text]
    seen = {id(entry)}
    pending = list(entry.pending.values())
    while pending:
        ref = pending.pop(0)
        callee = build(ref.func, ref.wrt, ref.kinds, "split")
        if id(callee) not in seen:
            seen.add(id(callee))
            texts.append(callee.text)
            pending += list(callee.pending.values())
    return "\n\n".join(texts)


def check_grad(f: Callable, *args: Any, wrt: Wrt = 0, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Compare srcdiff's gradient with central finite differences (PyTorch: ``gradcheck``).

    Every float in a ``wrt`` argument is moved in turn: a float, each entry of a float
    array, and the floats and arrays inside (nested) lists and tuples. Returns True, or
    raises ``GradientCheckError`` naming the worst entry (or where the gradient's structure
    differs from the argument's).
    """
    g = grad(f, wrt=wrt)
    analytic = g(*args)
    if not g.many:
        analytic = (analytic,)
    fname = getattr(f, "__name__", f)
    for name, computed in zip(g.wrt, analytic):
        i = g.params.index(name)
        x0 = trees.as_records(args[i])  # a dataclass's floats are its fields'
        computed = trees.as_records(computed)
        worst = None
        for path in _float_leaves(x0):
            values = []
            for step in (eps, -eps):
                moved = list(args)
                moved[i] = trees.from_records(_moved(x0, path, step))
                values.append(float(f(*moved)))
            numeric = (values[0] - values[1]) / (2 * eps)
            got = _leaf(computed, x0, path, f"gradient of {fname} with respect to {name}")
            excess = abs(got - numeric) - (atol + rtol * abs(numeric))
            if not excess <= 0:  # NaN fails too
                excess = np.inf if np.isnan(excess) else excess
                if worst is None or excess > worst[0]:
                    worst = (excess, path, got, numeric)
        if worst is not None:
            _, path, got, numeric = worst
            raise GradientCheckError(
                f"gradient of {fname} with respect to {name} disagrees with finite differences "
                f"at index {_render(path)}: srcdiff {got!r}, numeric {numeric!r}"
            )
    return True


# A leaf's path: list/tuple positions (ints), then an array index (a tuple), if the leaf is in an array.
def _float_leaves(x: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(x, (list, tuple)):
        for k, item in enumerate(x):
            yield from _float_leaves(item, path + (k,))
    elif isinstance(x, np.ndarray):
        if x.dtype.kind == "f":
            for idx in np.ndindex(*x.shape):
                yield path + (idx,)
    elif isinstance(x, (float, np.floating)):
        yield path


def _moved(x: Any, path: tuple, step: float) -> Any:
    """A copy of ``x`` with the leaf at ``path`` moved by ``step`` (arrays and floats in float64)."""
    if not path:
        return float(x) + step
    if isinstance(path[0], tuple):
        moved = np.array(x, dtype=np.float64)
        moved[path[0]] += step
        return moved
    k = path[0]
    item = _moved(x[k], path[1:], step)
    if isinstance(x, list):
        return [*x[:k], item, *x[k + 1 :]]
    return type(x)(*x[:k], item, *x[k + 1 :]) if hasattr(x, "_fields") else (*x[:k], item, *x[k + 1 :])  # a NamedTuple


def _leaf(computed: Any, x: Any, path: tuple, what: str) -> float:
    """The gradient's entry at ``path``, checking that it is shaped like the argument on the way."""
    here = computed
    for depth, part in enumerate(path):
        if isinstance(part, tuple):
            here = np.asarray(here)
            if here.shape != x.shape:
                raise GradientCheckError(f"{what} has shape {here.shape} at {_render(path[:depth])}; the argument's is {x.shape}")
            here = here[part]
        else:
            if not isinstance(here, (list, tuple)) or len(here) != len(x):
                got = f"a {type(here).__name__}" + (f" of {len(here)}" if isinstance(here, (list, tuple)) else "")
                raise GradientCheckError(
                    f"{what} is {got} at {_render(path[:depth])}; the argument is a {type(x).__name__} of {len(x)}"
                )
            here, x = here[part], x[part]
    if np.ndim(here) != 0 or not isinstance(here, (float, int, np.number, np.ndarray)):
        raise GradientCheckError(f"{what} is not a number at {_render(path)}: {here!r}")
    return float(here)


def _render(path: tuple) -> str:
    if len(path) == 1 and isinstance(path[0], tuple):
        return str(tuple(int(k) for k in path[0]))  # an array argument: (i, j)
    return "".join(f"[{k}]" if isinstance(k, int) else str(tuple(int(j) for j in k)) for k in path) or "()"
