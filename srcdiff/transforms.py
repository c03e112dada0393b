"""Forward mode's public entry point: ``jvp``, and ``source`` for what it generates.

``build`` runs the same stages as ``api.build``, one line per stage, with the forward
transform in place of the reverse one: ``api.lower`` (parse, normalise, analyse: the same
front, with the same checks and the same dependencies recorded), ``forward.transform``,
optimise, emit, cache. A ``Jvp`` builds on its first call and once per kind of arguments
(floats get float code) and per set of primals given tangents; a user function it calls
gets its own ``f_jvp``, built the same way (recursion included). A call checks what the
code assumes as ``Gradient.__call__`` does: the function itself unchanged (its code and
defaults) and the functions it calls.
"""

from __future__ import annotations

import ast
import inspect
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import analysis, api, cache, callables, compiled, emit, forward, notebook, optimize, parse, rules, trees
from .assembly import module_text
from .errors import BadCall, BadWrt, SourceUnavailable, WrtTypeError

__all__ = ["jvp", "Jvp", "source", "with_callees", "build", "stages"]

_FLOATS = (float, np.floating)


def build(f: Callable, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], callee: bool = False) -> emit.Emitted:
    """Parse, normalise, analyse, transform and emit the jvp of ``f`` (cached, callees included)."""
    key = cache.key(f, wrt, kinds, "jvp callee" if callee else "jvp")

    def run() -> emit.Emitted:
        tree, origin, act, depends = api.lower(f, kinds, wrt, callee=callee)
        if not callee:  # (a helper returning None is called for what it does, and refused if that is a write)
            api.refuse_no_number(tree, origin)
        transformed = forward.transform(tree, act, origin, callee=callee, itself=(f, kinds))
        transformed = optimize.optimize(transformed)
        emitted = emit.to_function(transformed, origin, f, _header(origin, wrt))
        emitted.depends = depends
        jvp_function = emitted.functions[emitted.entry]  # f's parameters follow the tangents: so do its defaults
        jvp_function.__defaults__, jvp_function.__kwdefaults__ = f.__defaults__, f.__kwdefaults__
        cache.put(key, emitted)  # recursion: a callee that calls back finds this entry
        for name, ref in emitted.pending.items():
            callee_entry = build(ref.func, ref.wrt, ref.kinds, callee=True)
            emitted.bind(name, callee_entry.functions[callee_entry.entry])
            emitted.callees.append(callee_entry)
        return emitted

    return cache.get(key, run)


def stages(f: Callable, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]] = frozenset()) -> Iterator[tuple[str, str]]:
    """Yield ``(stage, source)`` after each stage of the jvp pipeline (``api.stages`` for grad)."""
    yield "parse", ast.unparse(parse.function_ast(f)[0])
    tree, origin, act, _ = api.lower(f, kinds, wrt)
    yield "normalize", ast.unparse(tree)
    yield "analysis", f"active: {sorted(act.active)}\nscalars: {sorted(act.scalars)}"
    transformed = forward.transform(tree, act, origin, itself=(f, kinds))
    yield "forward", emit.to_source(transformed, _header(origin, wrt))
    yield "optimize", emit.to_source(optimize.optimize(transformed), _header(origin, wrt))


def _header(origin: parse.Origin, wrt: tuple[str, ...]) -> str:
    where = notebook.place(origin.filename, origin.first_line, short=True)
    return f"srcdiff: jvp of {origin.name} ({where}) with tangents of {', '.join(wrt) or 'nothing'}"


def _kind(value: Any) -> int | None:
    """A primal's kind, as ``api.Gradient.argument_kinds`` gives it (None: of unknown kind)."""
    if isinstance(value, api._SCALAR_TYPES):
        return 0
    if type(value) is np.ndarray:
        return value.ndim
    if isinstance(value, api._CONTAINER_TYPES):
        return api.container_kind(value)
    return None


def _described(value: Any, fixed: bool) -> tuple:
    """What the code built for a primal depends on: its type and kind, whether it has a tangent,
    the function it is (``callables``) and whether it is complex. Arrays and floats first: the
    common case, on the path of every call."""
    kind = type(value)
    if kind is np.ndarray:
        return kind, value.ndim, fixed, value.dtype.kind == "c"
    if kind is float:
        return kind, fixed
    return kind, _kind(value), fixed, _identity(value), api.is_complex(value)


def _identity(value: Any) -> int | None:
    """A function argument's key: code is built for the function passed (``callables``)."""
    return callables.key(value) if callables.is_function(value) else None


class Jvp:
    """The Jacobian-vector product of a Python function, built on first call (see ``jvp``)."""

    srcdiff_transform = "jvp"  # what parse says when asked to differentiate one

    def __init__(self, f: Callable, backend: str | None = None) -> None:
        parse.refuse_transform_results(f)
        # what runs the code (compiled.py): as given, else a gradient's (hvp, hessian), else Python
        self.backend = compiled.check_backend(backend, f if isinstance(f, api.Gradient) else None)
        f = getattr(f, "srcdiff_caller", f)  # a custom_jvp function: differentiated by its own rules
        if isinstance(f, api.AuxGradient):
            raise SourceUnavailable(
                f"jvp of {f.__name__} is not supported: it was made with has_aux=True",
                suggestion="Take the jvp of grad(f) for a function f that returns the output alone.",
            )
        if not isinstance(f, api.Gradient):
            api.check_source(f)  # unreadable source and unsupported syntax: refused now, at its line
        # a bound method obj.method is transformed as method.__func__, obj passed first (as grad does)
        self.receiver: tuple = f.receiver if isinstance(f, api.Gradient) else (f.__self__,) if inspect.ismethod(f) else ()
        self.function = f.__func__ if inspect.ismethod(f) else f
        self.params = f.params if isinstance(f, api.Gradient) else api._parameters(f)
        self.function_defaults = f.function_defaults if isinstance(f, api.Gradient) else callables.defaults(f)
        self._compiled: dict[tuple, tuple[Callable, tuple]] = {}  # primals' description -> (code, its guards)
        self._own = tuple(cache.own(api.base_function(self.function)))  # the function the code was built from
        self.__wrapped__ = f
        self.__name__ = "jvp_" + getattr(f, "__name__", "f")

    def __repr__(self) -> str:
        return f"<srcdiff {self.__name__}>"

    def __call__(self, primals: tuple, tangents: tuple) -> tuple[Any, Any]:
        """``(f(*primals), J @ tangents)``: one tangent per primal (None: that primal is held fixed)."""
        if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
            raise BadCall(
                f"jvp takes primals and tangents as tuples, not {type(primals).__name__} and {type(tangents).__name__}",
                suggestion="Write jvp(f, (x,), (v,)) for one argument, jvp(f, (x, y), (v, w)) for two.",
            )
        if len(primals) != len(tangents):
            raise BadWrt(f"jvp needs one tangent per primal: {len(primals)} primals, {len(tangents)} tangents")
        if len(primals) > len(self.params):
            raise BadWrt(f"{getattr(self.function, '__name__', 'f')} takes {len(self.params)} arguments, got {len(primals)}")
        if trees.holds_dataclass([p for p, t in zip(primals, tangents) if t is not None]):
            # generated code reads a dataclass given a tangent as a NamedTuple; another is itself
            primals = tuple(p if t is None else trees.as_records(p) for p, t in zip(primals, tangents))
            tangents = trees.as_records(tangents)
            value, tangent = self(primals, tangents)
            return trees.from_records(value), trees.from_records(tangent)
        given = [_checked(self.params[i], p, t) for i, (p, t) in enumerate(zip(primals, tangents)) if t is not None]
        # a new rule: build anew; a function passed in: code for that one
        key = (rules.version, *(_described(p, t is None) for p, t in zip(primals, tangents)))
        f, code, defaults, kwdefaults, uses_defaults = self._own  # (see Gradient.__call__)
        if f.__code__ is not code or uses_defaults and (f.__defaults__ is not defaults or f.__kwdefaults__ is not kwdefaults):
            self._compiled = {}  # f redefined in place (autoreload assigns __code__): build everything anew
            self._own = tuple(cache.own(f))
        found = self._compiled.get(key)
        if found is not None and found[1]:  # the functions it calls, as Gradient.__call__ checks them
            try:
                for namespace, name, function, code in found[1]:  # cache.current, written out
                    if namespace[name] is not function or function.__code__ is not code:
                        found = None  # a function it calls was redefined: build again
                        break
            except KeyError:  # the name is gone
                found = None
        if found is None:
            api.check_call(self.__wrapped__, self.__name__, primals, {})
            if len(primals) < len(self.params) and not self._own[4]:  # code for f's defaults of now
                self._own = tuple(cache.own(self._own[0], uses_defaults=True))
            wrt = tuple(self.params[i] for i, t in enumerate(tangents) if t is not None)
            kinds = self.argument_kinds(primals)
            compiled.prepare(self.backend)
            entry = self.entry(wrt, kinds)
            fn = entry.functions[entry.entry]
            if self.backend != "python":  # the floats it is given now; a call checks they still are
                values = (*given, *self.receiver, *primals)
                names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
                floats = frozenset(n for n, v in zip(names, values) if type(v) is float or type(v) is np.float64)
                fn = compiled.compiled(entry, fn, self.backend, floats)
            found = fn, tuple(map(tuple, self.dependencies(entry, kinds)))
            self._compiled[key] = found
        return found[0](*given, *self.receiver, *primals)

    def argument_kinds(self, primals: tuple) -> frozenset[tuple[str, int]]:
        api.refuse_other_arrays(self.function, dict(zip(self.params, primals)))
        kinds = {(n, k) for n, p in zip(self.params, primals) if (k := _kind(p)) is not None}
        kinds |= api.value_markers(dict(zip(self.params, primals)))
        kinds |= {callables.entry(p, v) for p, v in self.function_defaults.items() if p not in self.params[: len(primals)]}
        return frozenset(kinds | {callables.entry(n, p) for n, p in zip(self.params, primals) if callables.is_function(p)})

    def target(self, kinds: frozenset[tuple[str, int]]) -> Callable:
        """The Python function to transform: for jvp(grad(f)), the generated gradient."""
        if isinstance(self.function, api.Gradient):
            return self.function.compiled(kinds)
        return self.function

    def entry(self, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]]) -> emit.Emitted:
        return build(self.target(kinds), wrt, kinds)

    def dependencies(self, entry: emit.Emitted, kinds: frozenset[tuple[str, int]]) -> tuple[cache.Dependency, ...]:
        """What ``entry`` (built by ``self.entry``) assumes about the functions it calls."""
        depends = cache.dependencies(entry)
        if isinstance(self.function, api.Gradient):  # our code was made from the gradient's
            inner = self.function
            depends = cache.unique(depends + inner.dependencies(inner.entry(kinds), kinds))
        return depends


def _checked(param: str, primal: Any, tangent: Any) -> Any:
    """The tangent of ``param``, checked against its primal: a float for a float, an array of its shape."""
    if type(primal) is type(tangent) is float:  # the common cases first, without NumPy calls
        return tangent
    if type(primal) is type(tangent) is np.ndarray and primal.shape == tangent.shape and tangent.dtype == np.float64:
        if primal.dtype.kind == "f":
            return tangent
    if isinstance(primal, (bool, int, np.integer, np.bool_, complex, np.complexfloating)) or (
        isinstance(primal, np.ndarray) and primal.dtype.kind != "f"  # (complex: its real and imaginary parts, as two)
    ):
        raise WrtTypeError(
            f"argument {param!r} is given a tangent but is {type(primal).__name__} {primal!r}; "
            "pass floats, or None as its tangent to hold it fixed"
        )
    if isinstance(primal, (list, tuple)):
        if not isinstance(tangent, (list, tuple)) or len(tangent) != len(primal):
            raise BadWrt(f"the tangent of {param!r} must be a list of {len(primal)} tangents, like its primal")
        leaves = [_checked(f"{param}[{i}]", p, t) if _numeric(p) else 0.0 for i, (p, t) in enumerate(zip(primal, tangent))]
        return type(primal)(*leaves) if hasattr(primal, "_fields") else type(primal)(leaves)  # a NamedTuple takes fields
    if isinstance(primal, dict):
        if not isinstance(tangent, dict) or tangent.keys() != primal.keys():
            raise BadWrt(f"the tangent of {param!r} must be a dict with the keys of its primal")
        return {k: _checked(f"{param}[{k!r}]", v, tangent[k]) for k, v in primal.items()}
    if not isinstance(primal, (float, np.floating, np.ndarray)):
        raise WrtTypeError(f"argument {param!r} is given a tangent but is a {type(primal).__name__}; pass floats")
    if np.shape(tangent) != np.shape(primal):
        raise BadWrt(f"the tangent of {param!r} has shape {np.shape(tangent)}, its primal {np.shape(primal)}")
    if isinstance(primal, _FLOATS):
        return float(tangent)
    return np.asarray(tangent, dtype=np.result_type(primal.dtype, np.float64))


def _numeric(value: Any) -> bool:
    """Can ``value`` carry a tangent? A string or None in a record (a layer's name) cannot: its tangent is ignored."""
    return not isinstance(value, (str, bytes, type(None)))


def jvp(f: Callable, primals: tuple | None = None, tangents: tuple | None = None, backend: str | None = None) -> Any:
    """Forward mode (JAX: ``jax.jvp``): ``(f(*primals), J @ tangents)``, the value and the
    directional derivative of ``f`` along ``tangents``, one tangent per primal.

    Primals are floats and float arrays (lists, tuples and dicts of them too, with tangents of
    the same structure); a tangent of ``None`` holds its
    primal fixed (an integer count, a mask). ``jvp(f)`` alone gives the reusable ``Jvp``
    that ``srcdiff.source`` can print; ``jvp(grad(f), (x,), (v,))`` is a Hessian-vector product.
    ``backend="numba"`` compiles the code as ``grad``'s does (docs/backends.md).
    """
    if primals is None and tangents is None:
        return Jvp(f, backend)
    try:  # one Jvp per function and backend: its compiled code is reused by every call
        transform = _transforms[f][backend]
    except (KeyError, TypeError):
        transform = Jvp(f, backend)
        try:
            _transforms.setdefault(f, {})[backend] = transform
        except TypeError:  # a callable that cannot be weakly referenced: not kept
            pass
    return transform(*(tuple(v or ()) if isinstance(v, (tuple, list, type(None))) else v for v in (primals, tangents)))


_transforms: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def source(g: Any, *args: Any, **kwargs: Any) -> str:
    """The generated Python of a derivative made by ``grad``, ``value_and_grad`` or ``jvp``.

    For a ``Jvp``, ``args`` are example primals: the float and float-array ones are given
    tangents (without them, every parameter is, as an array)."""
    if not isinstance(g, Jvp):
        return api.source(g, *args, **kwargs)
    if args:
        kinds = g.argument_kinds(trees.as_records(args))
        wrt = tuple(g.params[i] for i, a in enumerate(args) if _differentiable(a))
    else:
        kinds = frozenset((p, analysis.NOT_CONTAINER) for p in g.params)
        wrt = tuple(g.params)
    return module_text(g.entry(wrt, kinds))


def with_callees(entry: emit.Emitted) -> str:
    """The generated source of a jvp's ``entry`` and of the jvps of the functions it calls, each once."""
    texts, seen, pending = [entry.text], {id(entry)}, list(entry.pending.values())
    while pending:  # functions it calls, each once
        ref = pending.pop(0)
        callee = build(ref.func, ref.wrt, ref.kinds, callee=True)
        if id(callee) not in seen:
            seen.add(id(callee))
            texts.append(callee.text)
            pending += list(callee.pending.values())
    return "\n\n".join(texts)


def _differentiable(value: Any) -> bool:
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc"
    return isinstance(value, (float, np.floating, list, tuple, dict))
