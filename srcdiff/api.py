"""The public API: ``grad``, ``value_and_grad``, ``source``, ``check_grad``, ``stop_gradient``.

``build`` runs the pipeline, one line per stage. A ``Gradient`` builds lazily on
its first call (so helpers defined later in the module are found) and once per
kind of arguments: floats get float code, without the broadcasting bookkeeping
arrays need, and an array's number of dimensions is known (``x[i]`` of a vector
is a float too).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import analysis, cache, emit, normalize, optimize, parse, reverse, rules
from .errors import BadWrt, GradientCheckError, WrtTypeError
from .runtime import stop_gradient

Wrt = int | str | Sequence[int | str]
_SCALAR_TYPES = (float, int, bool, np.float64, np.float32, np.int64, np.bool_)
_SCALAR_SET = frozenset(_SCALAR_TYPES)
_LEAF_SET = _SCALAR_SET | {np.ndarray}
_CONTAINER_TYPES = (list, tuple, dict)


def container_kind(value: list | tuple | dict) -> int:
    """A container's kind: of scalars, of arrays and scalars, or of anything (one level deep)."""
    types = set(map(type, value.values() if type(value) is dict else value))
    kind = analysis.SCALARS if types <= _SCALAR_SET else analysis.LEAVES if types <= _LEAF_SET else analysis.CONTAINER
    return kind + analysis.DICT if type(value) is dict else kind


__all__ = ["grad", "value_and_grad", "source", "check_grad", "stop_gradient", "stages", "Gradient"]


def stages(
    f: Callable, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]] = frozenset(), mode: str = "grad"
) -> Iterator[tuple[str, str]]:
    """Yield ``(stage, source)`` after each stage of the pipeline: start here when debugging."""
    tree, origin = parse.function_ast(f)
    yield "parse", ast.unparse(tree)
    augmented = normalize.augmented_names(tree)
    tree = normalize.normalize(tree, origin)
    yield "normalize", ast.unparse(tree)
    act = analysis.activity(
        tree, origin, analysis.environment(f, tree), wrt, kinds, returns_kind, augmented, returns_fresh=returns_fresh
    )
    yield "analysis", f"active: {sorted(act.active)}\nscalars: {sorted(act.scalars)}"
    transformed = reverse.transform(tree, act, origin, split=mode == "split", with_value=mode == "value")
    yield "reverse", emit.to_source(transformed, _header(f, origin, wrt, mode))
    transformed = optimize.optimize(transformed)
    text = emit.to_source(transformed, _header(f, origin, wrt, mode))
    yield "optimize", text


_callee_facts: dict[tuple, tuple[int | None, bool]] = {}


def _facts(f: Callable, kinds: frozenset[tuple[str, int]]) -> tuple[int | None, bool]:
    """What ``f`` returns for arguments of these kinds, and whether it is a value of its own
    (cached; while a recursive call asks, unknown and not fresh)."""
    key = (f.__code__, kinds, rules.version)
    if key not in _callee_facts:
        _callee_facts[key] = (None, False)
        tree, origin = parse.function_ast(f)
        tree = normalize.normalize(tree, origin)
        env = analysis.environment(f, tree)
        act = analysis.activity(tree, origin, env, (), kinds, returns_kind, returns_fresh=returns_fresh)
        result = tree.body[-1].value.id
        if result in act.scalars:
            kind: int | None = 0
        elif result in act.containers:
            kind = analysis.CONTAINER
        elif result in act.lists:
            kind = None
        else:
            kind = act.ndims.get(result, analysis.NOT_CONTAINER)
        _callee_facts[key] = (kind, analysis.returns_own_value(tree, act, returns_fresh))
    return _callee_facts[key]


def returns_kind(f: Callable, kinds: frozenset[tuple[str, int]]) -> int | None:
    """What ``f`` returns for arguments of these kinds (see ``analysis.ReturnsKind``)."""
    return _facts(f, kinds)[0]


def returns_fresh(f: Callable, kinds: frozenset[tuple[str, int]]) -> bool:
    """Does ``f`` return a value of its own, sharing no argument's data?"""
    return _facts(f, kinds)[1]


def build(f: Callable, wrt: tuple[str, ...], kinds: frozenset[tuple[str, int]], mode: str) -> emit.Emitted:
    """Parse, normalise, analyse, transform and emit ``f`` (cached, callees included)."""
    key = cache.key(f, wrt, kinds, mode)

    def run() -> emit.Emitted:
        tree, origin = parse.function_ast(f)
        augmented = normalize.augmented_names(tree)
        tree = normalize.normalize(tree, origin)
        env = analysis.environment(f, tree)
        act = analysis.activity(
            tree, origin, env, wrt, kinds, returns_kind, augmented, callee=mode == "split", returns_fresh=returns_fresh
        )
        transformed = reverse.transform(tree, act, origin, split=mode == "split", with_value=mode == "value")
        transformed = optimize.optimize(transformed)
        emitted = emit.to_function(transformed, origin, f, _header(f, origin, wrt, mode))
        cache.put(key, emitted)  # recursion: a callee that calls back finds this entry
        for name, ref in emitted.pending.items():
            callee = build(ref.func, ref.wrt, ref.kinds, "split")
            emitted.bind(name, callee.functions[_part(callee, ref.part)])
        return emitted

    return cache.get(key, run)


def _part(entry: emit.Emitted, part: str) -> str:
    return next(n for n in entry.functions if (n == entry.entry) == (part == "forward"))


def _header(f: Callable, origin: parse.Origin, wrt: tuple[str, ...], mode: str) -> str:
    what = {"grad": "gradient", "value": "value and gradient", "split": "forward and backward sweeps"}[mode]
    file = origin.filename.rsplit("/", 1)[-1]
    return f"srcdiff: {what} of {origin.name} ({file}:{origin.first_line}) with respect to {', '.join(wrt) or 'nothing'}"


def _parameters(f: Callable) -> list[str]:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _resolve_wrt(f: Callable, wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """``wrt`` as parameter names, and whether the caller asked for a tuple."""
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


class Gradient:
    """The derivative of a Python function, built on first call (see ``grad``)."""

    def __init__(self, f: Callable, wrt: Wrt, mode: str) -> None:
        if not isinstance(f, Gradient):
            parse.function_ast(f)  # refuse unreadable source and unsupported syntax now, at its line
        self.function = f
        self.mode = mode
        self.wrt, self.many = _resolve_wrt(f, wrt)
        self.params = _parameters(f)
        self.positions = tuple(self.params.index(w) for w in self.wrt)
        self.single = not self.many and len(self.wrt) == 1  # one gradient, not a tuple
        self._compiled: dict[tuple, tuple] = {}  # argument types -> what specialize returns
        self.__wrapped__ = f
        self.__name__ = ("grad_" if mode == "grad" else "value_and_grad_") + getattr(f, "__name__", "f")
        what = "Gradient" if mode == "grad" else "Value and gradient"
        self.__doc__ = f"{what} of {getattr(f, '__name__', f)} with respect to {', '.join(self.wrt)}."

    def __repr__(self) -> str:
        return f"<srcdiff {self.__name__} wrt={self.wrt}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the hot path: the argument types, one dict lookup, the arrays' ndim, then the generated code
        entry = None if kwargs else self._compiled.get(tuple(map(type, args)))
        if entry is not None:
            for i, ndim in entry[1]:
                if args[i].ndim != ndim:  # the same types with other dimensions: code of its own
                    entry = None
                    break
            else:
                for i, kind in entry[3]:  # lists, tuples and dicts: of scalars, of arrays, of anything
                    if container_kind(args[i]) != kind:
                        entry = None
                        break
        if entry is None:
            entry = self.specialize(args, kwargs)
            if not kwargs:
                self._compiled[tuple(map(type, args))] = entry
        fn, _, wrt_arrays, _ = entry
        for i in wrt_arrays:  # integer arrays have no gradient: say so instead of returning zeros
            if args[i].dtype.kind not in "fc":
                raise WrtTypeError(f"argument {self.params[i]!r} is in wrt but has dtype {args[i].dtype}; pass floats")
        result = fn(*args, **kwargs)
        if self.single:
            return result
        if self.mode == "value":
            return result[0], tuple(result[1]) if len(self.wrt) > 1 else (result[1],)
        return tuple(result) if len(self.wrt) > 1 else (result,)

    def argument_kinds(self, args: tuple, kwargs: dict) -> frozenset[tuple[str, int]]:
        """Each scalar or array argument's number of dimensions (0 for a scalar)."""
        bound = dict(zip(self.params, args))
        bound.update(kwargs)
        for w in self.wrt:
            value = bound.get(w)
            if isinstance(value, (bool, int, np.integer, np.bool_)):
                raise WrtTypeError(
                    f"argument {w!r} is in wrt but is {type(value).__name__} {value!r}; pass a float (e.g. {float(value)!r})"
                )
        kinds = {(n, 0) for n, v in bound.items() if isinstance(v, _SCALAR_TYPES)}
        kinds |= {(n, container_kind(v)) for n, v in bound.items() if isinstance(v, (list, tuple, dict))}
        return frozenset(kinds | {(n, v.ndim) for n, v in bound.items() if type(v) is np.ndarray})

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

    def specialize(self, args: tuple, kwargs: dict) -> tuple[Callable, tuple, tuple[int, ...], tuple]:
        """The generated function for these arguments, the (position, ndim) of array arguments
        it assumes, the positions of array arguments in wrt (whose dtype is checked), and the
        (position, kind) of container arguments (see ``container_kind``)."""
        checks = tuple((i, a.ndim) for i, a in enumerate(args) if type(a) is np.ndarray)
        wrt_arrays = tuple(i for i in self.positions if i < len(args) and type(args[i]) is np.ndarray)
        containers = tuple((i, container_kind(a)) for i, a in enumerate(args) if type(a) in _CONTAINER_TYPES)
        return self.compiled(self.argument_kinds(args, kwargs)), checks, wrt_arrays, containers


def grad(f: Callable | None = None, wrt: Wrt = 0) -> Any:
    """The gradient of scalar-valued ``f`` with respect to ``wrt`` (index, name or tuple).

    Use as ``grad(f)``, ``@grad`` or ``@grad(wrt=...)``. A single ``wrt`` gives one
    gradient shaped like its argument; a tuple gives a tuple of gradients.
    """
    if f is None:
        return lambda g: Gradient(g, wrt, "grad")
    return Gradient(f, wrt, "grad")


def value_and_grad(f: Callable | None = None, wrt: Wrt = 0) -> Any:
    """Like ``grad`` but returns ``(f(...), gradient)`` from one forward sweep."""
    if f is None:
        return lambda g: Gradient(g, wrt, "value")
    return Gradient(f, wrt, "value")


def source(g: Gradient, *args: Any, **kwargs: Any) -> str:
    """The generated Python of a derivative (for these example arguments; without them, for arrays)."""
    if not isinstance(g, Gradient):
        raise TypeError("source() takes a function made by srcdiff.grad or srcdiff.value_and_grad")
    # without example arguments, show the code for arrays (a list argument gets code of its own)
    kinds = g.argument_kinds(args, kwargs) if (args or kwargs) else frozenset((p, analysis.NOT_CONTAINER) for p in g.params)
    entry = g.entry(kinds)
    texts = [entry.text]
    seen = {id(entry)}
    pending = list(entry.pending.values())
    while pending:  # functions it calls, each once
        ref = pending.pop(0)
        callee = build(ref.func, ref.wrt, ref.kinds, "split")
        if id(callee) not in seen:
            seen.add(id(callee))
            texts.append(callee.text)
            pending += list(callee.pending.values())
    return "\n\n".join(texts)


def check_grad(f: Callable, *args: Any, wrt: Wrt = 0, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Compare srcdiff's gradient with central finite differences (PyTorch: ``gradcheck``).

    Returns True, or raises ``GradientCheckError`` naming the worst entry.
    """
    g = grad(f, wrt=wrt)
    names = g.wrt
    analytic = g(*args)
    if not g.many:
        analytic = (analytic,)
    args = list(args)
    for name, computed in zip(names, analytic):
        i = g.params.index(name)
        x0 = args[i]
        base = np.array(x0, dtype=np.float64)
        numeric = np.zeros(base.shape)
        for idx in np.ndindex(*base.shape) if base.shape else [()]:
            values = []
            for step in (eps, -eps):
                moved = base.copy()
                moved[idx] += step
                args[i] = moved if isinstance(x0, np.ndarray) else float(moved)
                values.append(float(f(*args)))
            numeric[idx] = (values[0] - values[1]) / (2 * eps)
        args[i] = x0
        error = np.abs(np.asarray(computed, dtype=np.float64) - numeric)
        bound = atol + rtol * np.abs(numeric)
        if np.any(~(error <= bound)):
            worst = np.unravel_index(np.argmax(error - bound), numeric.shape) if numeric.shape else ()
            raise GradientCheckError(
                f"gradient of {getattr(f, '__name__', f)} with respect to {name} disagrees with finite differences "
                f"at index {tuple(int(k) for k in worst)}: srcdiff {np.asarray(computed)[worst]!r}, numeric {numeric[worst]!r}"
            )
    return True
