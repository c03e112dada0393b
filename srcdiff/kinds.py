"""Kinds: what each name holds, for one specialisation of the argument kinds.

On entry: a normalised tree, its operations and the parameters' kinds. On exit: the
names that always hold a scalar, those that may hold a container (list, tuple, dict:
the unknown end of the lattice), those that surely do, and the known numbers of
dimensions of arrays. A kind is an int: an array's ``ndim`` (0: a scalar), ``SHAPE``,
``NOT_CONTAINER`` (an array or scalar), or a container: ``SCALARS`` (of scalars),
``LEAVES`` (of arrays and scalars) or ``CONTAINER`` (of anything), each offset by ``DICT``
for a dict (iterating one gives its keys). A name without one
is of unknown kind, and the reverse transform gives it code that is right for any value.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from . import callables, packing, rules
from .names import parameters
from .operations import (
    CALL,
    CONSTANT,
    COPY,
    POP,
    RULE,
    Env,
    Op,
    appended_to,
    is_global_chain,
    safe_resolve,
    walk_statements,
    written_in_place,
)

# What a user function returns, for arguments of given kinds (``returns_kind``): the number
# of dimensions of an array (0: a scalar), CONTAINER, NOT_CONTAINER, or None when unknown.
ReturnsKind = Callable[[Any, frozenset[tuple[str, int]]], "int | None"]


def global_numbers(tree: ast.FunctionDef, env: Env) -> tuple[str, ...]:
    """The globals and closure values the function reads that hold a Python ``int`` or ``float``
    now (``DT = 0.01`` at module level, ``config.LR``): scalars for the code built now, which
    checks on entry that they still are (``runtime.check_numbers``)."""
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute) and is_global_chain(n, env) or isinstance(n, ast.Name) and n.id not in env.locals:
            if isinstance(n.ctx, ast.Load) and type(safe_resolve(n, env)) in (int, float):
                found.append(ast.unparse(n))
    return tuple(dict.fromkeys(found))


def kinds(
    tree: ast.FunctionDef, ops: dict[ast.AST, Op], env: Env, param_ndims: dict[str, int], returns_kind: ReturnsKind | None
) -> tuple[set[str], set[str], set[str], dict[str, int]]:
    """Names that are always scalars (optimistic fixpoint), may hold containers, surely hold
    containers; and the known numbers of dimensions (so ``x[i]`` of a vector is a scalar).

    "May hold a container" is the unknown end of the lattice: a parameter of unknown kind,
    an element of a container, or a call result that is not known to be an array or a
    scalar. The reverse transform gives such names code that is right for any value."""
    assigned: dict[str, list[ast.expr | None]] = {}
    lists: set[str] = set()
    appended: dict[str, list[ast.expr]] = {}  # list -> what is appended to it
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            if isinstance(t, ast.Name):
                assigned.setdefault(t.id, []).append(s.value)
                op = ops[s.value]
                if isinstance(s.value, (ast.List, ast.Tuple, ast.Dict)) or op.kind == RULE and op.rule.returns_parts(op.bound):
                    lists.add(t.id)
                elif op.kind == RULE and op.rule.func is builtins.sum and _names_in(op.bound.get("start")) & lists:
                    lists.add(t.id)  # sum(parts, []): joins lists
            else:
                assigned.setdefault(t.value.id, []).append(None)  # element writes: an array or list
        elif isinstance(s, ast.For):
            assigned.setdefault(s.target.id, []).append(ast.Constant(0))
        elif appended_to(s):
            lists.add(appended_to(s))
            appended.setdefault(appended_to(s), []).extend(s.value.args)
    params = set(parameters(tree))
    changed_here = written_in_place(tree.body, ops)
    # a container changed here may take elements of other kinds
    param_ndims = {
        n: (DICT if is_dict(d) else 0) + CONTAINER if d in _ELEMENT and n in changed_here else d for n, d in param_ndims.items()
    }
    scalar_params = {n for n, d in param_ndims.items() if d == 0}
    container_params = {n for n, d in param_ndims.items() if d in CONTAINERS}
    lists |= container_params | (params - set(param_ndims))  # a parameter of unknown kind may be one
    ndims = _array_ndims(assigned, ops, env, param_ndims)
    scalars = scalar_params | (set(assigned) - params) | {n for n in global_numbers(tree, env) if n.isidentifier()}
    changed = True
    while changed:  # a name (a parameter too) is a scalar if every value it is given is one
        changed = False
        # lists that only ever hold scalars (a loop's stack of floats): what is popped is a scalar
        numbers = {
            n
            for n, values in assigned.items()
            if n not in params
            and all(isinstance(v, ast.List) and all(_scalar(e, ops, scalars, env) for e in v.elts) for v in values)
            and all(_scalar(a, ops, scalars, env) for a in appended.get(n, []))
        }
        for n, values in assigned.items():
            keeps = all(_scalar(v, ops, scalars, env, returns_kind, ndims) or _pops(v, ops, numbers) for v in values)
            if n in scalars and not keeps:
                scalars.discard(n)
                changed = True
    rebound = {n for n, values in assigned.items() if any(v is not None for v in values)}  # (x[i] = v keeps x)
    definite = set(lists) - (params - container_params) - (params & rebound)  # a parameter given another value
    for n, values in assigned.items():  # a user function returning a tuple
        if values and all(v is not None and _call_kind(v, ops, scalars, ndims, returns_kind) == CONTAINER for v in values):
            definite.add(n)
    lists |= definite
    # a copy or element of a container may be a container; so may a value of unknown kind
    grown = True
    while grown:  # to a fixpoint: chains of copies are as long as the code
        grown = False
        for n, values in assigned.items():
            for v in values:
                source = v.value if isinstance(v, ast.Subscript) else v
                op = ops.get(v, Op("")) if v is not None else Op("")
                unknown = (
                    op.kind == POP
                    or op.kind == CALL
                    and _call_kind(v, ops, scalars, ndims, returns_kind) in (None, CONTAINER)
                    or op.kind != CALL
                    and _may_return_container(v, env)
                    or op.refusal is not None  # no rule: an object's attribute, an unknown call
                    or _reads_other_global(v, env)
                )
                known = ndims.get(n) == NOT_CONTAINER or ndims.get(n, -1) >= 0  # an element of a list of arrays
                if (isinstance(source, ast.Name) and source.id in lists or unknown) and n not in scalars | lists and not known:
                    lists.add(n)
                    grown = True
    definite |= {n for n, d in ndims.items() if d in CONTAINERS}
    lists |= definite
    ndims.update({n: 0 for n in scalars - lists})
    ndims.update({n: CONTAINER for n in definite if ndims.get(n) not in CONTAINERS})
    return scalars - lists, lists, definite, {n: d for n, d in ndims.items() if d != SHAPE}


_CONTAINER_HELPERS = frozenset(
    {
        "zeros_like",
        "cotangents",
        "private_copy",
        "writable",
        "add_adjoints",
        "materialize",
        "materialize_all",
        "structured",
        "sum_adjoint",
        "cast",
        "unbroadcast",
        "indexable",
        "unstructured",
        "unsort",
        "resort",
        "unreverse",
        "unstack",
        "unconcatenate",
        "unvstack",
        "einsum_adjoints",
        "scatter",
        "gather",
    }
)  # runtime functions that return a container when given one (or a list of parts)
_CONTAINER_BUILTINS = frozenset({"sorted", "list", "tuple", "dict", "zip", "enumerate", "reversed", "map", "filter"})


def proven_array(receiver: tuple[str, str], lists: set[str], containers: set[str]) -> bool:
    """Is ``Op.receiver``'s method NumPy's: does the local surely hold an array or a scalar (is it
    not of unknown kind)? For ``.keys()``: does it surely hold a list, tuple or dict (a list's raises)?
    An argument that is not an array, an object's attribute, a global object, an unknown call's result
    are of unknown kind, and ``operations.as_unknown_calls`` makes their methods unknown calls."""
    name, method = receiver
    return name in containers if method == "keys" else name not in lists


_DATA = (np.ndarray, np.generic, int, float, complex, bool, str, bytes, type(None))


def _reads_other_global(e: ast.expr | None, env: Env) -> bool:
    """Does ``e`` read a global or closure value that is not an array, a number or a string (an
    object, a list: of unknown kind)? ``model.sub``, ``model``, ``table[0]``."""
    if isinstance(e, ast.Subscript):
        e = e.value
    if isinstance(e, ast.Name) and e.id not in env.locals or is_global_chain(e, env):
        return not isinstance(safe_resolve(e, env), _DATA)
    return False


def _may_return_container(e: ast.expr | None, env: Env) -> bool:
    """May this call (not to a user function) return a list, tuple or dict? NumPy and math
    functions and array methods return arrays and scalars; other calls are of unknown kind."""
    if not isinstance(e, ast.Call):
        return False
    func = e.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in env.locals:
        return func.attr not in rules.METHODS  # x.sum() is an array; rng.normal(...) may be anything
    target = safe_resolve(func, env)
    module = rules.module_of(target) or ""
    if module == rules.runtime.__name__:
        return target.__name__ in _CONTAINER_HELPERS
    if module == "builtins":
        return target.__name__ in _CONTAINER_BUILTINS
    return not (rules.reads_lists_as_arrays(target) or module == "math")


def _call_kind(e: ast.expr, ops: dict, scalars: set[str], ndims: dict[str, int], returns_kind: ReturnsKind | None) -> int | None:
    """What a call to a user function returns (see ``ReturnsKind``); None when unknown."""
    op = ops.get(e)
    if op is None or op.kind != CALL or returns_kind is None:
        return None
    kinds = call_kinds(
        op.func, e, lambda a: 0 if isinstance(a, ast.Name) and a.id in scalars else ndims.get(getattr(a, "id", None)), op.passed
    )
    return returns_kind(op.func, kinds)


_CREATE = frozenset({"zeros", "ones", "empty", "full"})
# (helper, its like argument)
_SHAPED_LIKE = (("zeros_like", 0), ("private_copy", 0), ("writable", 0), ("unreduce", 1), ("unbroadcast", 1))
SHAPE = -1  # the "ndim" of a shape: a tuple of ints, whose elements are scalars
CONTAINER = -2  # the "ndim" of a list, tuple or dict
NOT_CONTAINER = -3  # an array or a scalar, of unknown dimensions
LEAVES = -4  # a list, tuple or dict whose elements are arrays or scalars
SCALARS = -5  # a list, tuple or dict whose elements are scalars
DICT = -10  # a dict's kind is its list counterpart plus DICT: DICT + LEAVES is a dict of arrays and scalars
CONTAINERS = (CONTAINER, LEAVES, SCALARS, DICT + CONTAINER, DICT + LEAVES, DICT + SCALARS)
_ELEMENT = {LEAVES: NOT_CONTAINER, SCALARS: 0, DICT + LEAVES: NOT_CONTAINER, DICT + SCALARS: 0}  # the kind of one element


def is_dict(kind: int | None) -> bool:
    return kind is not None and kind <= DICT + CONTAINER


_LIKE = frozenset({"zeros_like", "ones_like", "empty_like", "full_like", "copy"})
_REDUCTIONS = frozenset({"sum", "mean", "max", "min", "amax", "amin", "prod", "std", "var"})


def _array_ndims(assigned: dict[str, list], ops: dict[ast.AST, Op], env: Env, known: dict[str, int]) -> dict[str, int]:
    """Names whose every definition has a known number of dimensions (a pessimistic pass;
    a parameter given another value keeps its kind only if the value is of the same kind)."""
    ndims = {n: d for n, d in known.items() if n not in assigned}
    tuples = {n: vs[0] for n, vs in assigned.items() if len(vs) == 1 and isinstance(vs[0], ast.Tuple)}
    grown = True
    while grown:  # to a fixpoint: names defined from names defined before
        grown = False
        for n, values in assigned.items():
            if n not in ndims:
                found = {_ndim(v, ndims, ops, env, tuples) for v in values if v is not None}  # x[i] = v keeps x's ndim
                if n in known:
                    found.add(known[n])
                if len(found) == 1 and None not in found:
                    ndims[n] = found.pop()
                    grown = True
    return ndims


class _ScalarsFirst(Mapping[str, int]):
    """``ndims`` with every name of ``scalars`` 0-dimensional, without copying either."""

    def __init__(self, ndims: Mapping[str, int], scalars: set[str]) -> None:
        self.ndims, self.scalars = ndims, scalars

    def __getitem__(self, name: str) -> int:
        return 0 if name in self.scalars else self.ndims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.ndims.keys() | self.scalars)

    def __len__(self) -> int:
        return len(self.ndims.keys() | self.scalars)


def _ndim(
    e: ast.expr | None, ndims: Mapping[str, int], ops: dict[ast.AST, Op], env: Env, tuples: Mapping[str, ast.Tuple] | None = None
) -> int | None:
    """The number of dimensions of an operation's result, where it follows from its operands
    (``tuples``: the names bound once, to a tuple display)."""
    if isinstance(e, ast.Constant):
        return 0 if isinstance(e.value, (int, float)) else None
    if isinstance(e, ast.Name):
        return ndims.get(e.id)
    if isinstance(e, ast.Attribute) and e.attr == "shape":
        return SHAPE
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and ndims.get(e.value.id) == SHAPE:
        return 0 if _ndim(e.slice, ndims, ops, env) == 0 else None  # x.shape[0]
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and ndims.get(e.value.id) in _ELEMENT:
        container = ndims[e.value.id]  # xs[i] is one element; xs[1:3] is a list of the same elements
        if isinstance(e.slice, ast.Slice):
            return container
        if is_dict(container) or _ndim(e.slice, ndims, ops, env) == 0 or isinstance(e.slice, ast.Constant):
            return _ELEMENT[container]  # a key, or an integer: one element
        return None  # an index of unknown kind (a slice held in a variable): one element, or a list of them
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and ndims.get(e.value.id, -1) >= 0:
        parts = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        ints = sum(1 for p in parts if not isinstance(p, ast.Slice) and _ndim(p, ndims, ops, env) == 0)
        added = sum(1 for p in parts if isinstance(p, ast.Constant) and p.value is None)
        if ints + added + sum(isinstance(p, ast.Slice) for p in parts) != len(parts) or ints > ndims[e.value.id]:
            return None  # an array or mask index: fancy indexing
        return ndims[e.value.id] - ints + added
    if isinstance(e, (ast.BinOp, ast.UnaryOp, ast.Call)) and ops.get(e, Op("")).kind == RULE and op_is_elementwise(ops[e]):
        if isinstance(e, ast.BinOp):
            parts = [e.left, e.right]
        else:
            parts = [e.operand] if isinstance(e, ast.UnaryOp) else [*e.args, *(k.value for k in e.keywords)]
        found = [_ndim(p, ndims, ops, env) for p in parts]  # (an elementwise operation broadcasts them all)
        return None if not found or None in found or min(found) < 0 else max(found)  # type: ignore[type-var]
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.MatMult) and ops.get(e, Op("")).kind == RULE:
        left, right = _ndim(e.left, ndims, ops, env), _ndim(e.right, ndims, ops, env)
        if left is None or right is None or min(left, right) < 1:
            return None
        return max(left, right) - (min(left, right) == 1)  # a vector operand loses its dimension
    if isinstance(e, ast.Call) and e.args:
        receiver = e.func.value if isinstance(e.func, ast.Attribute) else None
        if isinstance(receiver, ast.Name) and receiver.id in env.locals:
            return ndims.get(receiver.id) if e.func.attr == "copy" else None  # x.copy()
        func = safe_resolve(e.func, env)
        for helper, like in _SHAPED_LIKE:  # generated code's adjoint arrays take a primal's shape
            if func is rules.NAMESPACE[helper] and len(e.args) > like:
                return _ndim(e.args[like], ndims, ops, env)
        name = getattr(func, "__name__", None) if (rules.module_of(func) or "").startswith("numpy") else None
        if name in _CREATE and e.args and _ndim(e.args[0], ndims, ops, env) == 0:
            return 1
        shape = e.args[0] if e.args else None
        shape = (tuples or {}).get(shape.id) if isinstance(shape, ast.Name) else shape  # (a tuple display is a name of its own)
        if name in _CREATE and isinstance(shape, ast.Tuple) and all(_ndim(n, ndims, ops, env) == 0 for n in shape.elts):
            return len(shape.elts)  # np.zeros((2, 3))
        if name in _LIKE:
            return _ndim(e.args[0], ndims, ops, env)
        keepdims = any(k.arg == "keepdims" and isinstance(k.value, ast.Constant) and k.value.value is True for k in e.keywords)
        if name in _REDUCTIONS and keepdims:  # a reduction kept with keepdims: its operand's dimensions
            kept = _ndim(e.args[0], ndims, ops, env)
            return kept if kept is not None and kept >= 1 else None
        if name == "shape":
            return SHAPE
    return None


def op_is_elementwise(op: Op) -> bool:
    return op.rule is not None and op.rule.kind == rules.ELEMENTWISE


def call_kinds(
    func: Any, call: ast.Call, ndim_of: Callable[[ast.expr], int | None], passed: frozenset[tuple[str, int]]
) -> frozenset[tuple[str, int]]:
    """The callee's parameters with known dimensions at this call (scalar defaults included), the
    shape of its ``*args`` and ``**kwargs`` (``packing``) and the functions ``passed`` to it
    (``Op.passed``: required, so that no caller builds the callee for other functions than it is given)."""
    signature = packing.call_signature(func, call)  # *args and **kwargs spelled out
    bound = signature.bind(*call.args, **{k.arg: k.value for k in call.keywords})
    found = {(p, ndim_of(a)) for p, a in bound.arguments.items()}
    unbound = [p for p in signature.parameters.values() if p.name not in bound.arguments]
    defaults = {(p.name, 0) for p in unbound if type(p.default) in (int, float, bool)}
    defaults |= {callables.entry(p.name, p.default) for p in unbound if callables.is_function(p.default)}
    return frozenset({(p, d) for p, d in found if d is not None} | defaults | packing.shape(func, call) | passed)


def _names_in(e: ast.expr | None) -> set[str]:
    return {e.id} if isinstance(e, ast.Name) else set()


def _pops(e: ast.expr | None, ops: dict, lists: set[str]) -> bool:
    """Is ``e`` ``xs.pop()`` of one of ``lists``?"""
    return e is not None and ops.get(e, Op("")).kind == POP and e.func.value.id in lists


def _scalar(
    e: ast.expr | None,
    ops: dict,
    scalars: set[str],
    env: Env,
    returns_kind: ReturnsKind | None = None,
    ndims: dict[str, int] | None = None,
) -> bool:
    if e is None:
        return False
    if isinstance(e, ast.Constant):
        return isinstance(e.value, (int, float, bool)) or e.value is None
    if isinstance(e, ast.Name):
        return e.id in scalars
    if isinstance(e, ast.Subscript) and ndims is not None:
        return _ndim(e, _ScalarsFirst(ndims, scalars), ops, env) == 0  # x[i] of a vector
    op = ops.get(e)
    if op is None or isinstance(e, (ast.List, ast.Tuple, ast.Dict, ast.Subscript)):
        return False
    if op.kind == CONSTANT:
        if isinstance(e, ast.Compare):
            return all(_scalar(a, ops, scalars, env) for a in [e.left, *e.comparators])
        if isinstance(e, ast.Attribute) and is_global_chain(e, env):
            return isinstance(env.resolve(e), (int, float))
        if isinstance(e, ast.Call):
            target = safe_resolve(e.func, env)
            kind = rules.NONDIFFERENTIABLE.get(target) if target is not None and rules.is_nondifferentiable(target) else None
            if kind == rules.SCALAR:
                return True
            if kind == rules.ELEMENTWISE:
                return all(_scalar(a, ops, scalars, env) for a in e.args)
            return False
        args = op.bound.get("args", [])
        return bool(args) and all(_scalar(a, ops, scalars, env) for a in args)
    if op.kind == COPY:
        return _scalar(op.operands[0], ops, scalars, env)
    if op.kind == CALL and returns_kind is not None:
        func = op.func
        kinds = call_kinds(
            func, e, lambda a: 0 if _scalar(a, ops, scalars, env) else (ndims or {}).get(getattr(a, "id", None)), op.passed
        )
        return returns_kind(func, kinds) == 0
    if op.kind == RULE:
        flags = {p: _scalar(a, ops, scalars, env) for p, a in op.bound.items() if isinstance(a, ast.Name)}
        return op.rule.is_scalar(op.bound, flags)
    return False


# Functions whose result is an array of floats when no ``dtype`` is given (the *_like ones
# take their argument's dtype instead).
_FLOAT_CREATIONS = frozenset({np.zeros, np.ones, np.empty, np.eye, np.identity})
_LIKE_CREATIONS = frozenset({np.zeros_like, np.ones_like, np.empty_like})


def float_arrays(tree: ast.FunctionDef, ops: dict[ast.AST, Op], env: Env, names: set[str]) -> frozenset[str]:
    """Which of ``names`` surely hold floats: every definition is a float array created without a
    ``dtype``, arithmetic with a float operand, or a copy, element or slice of such a value.

    NumPy rounds a float written into an integer array (``t = np.full(3, 0); t[0] = x``), so
    such a write passes no derivative; the transforms weigh the others' derivatives by the
    array's dtype when it runs. (The largest fixpoint: ``t = t * 2.0`` in a loop stays float.)"""
    definitions: dict[str, list[ast.expr | None]] = {}
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            definitions.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, ast.For):
            definitions.setdefault(s.target.id, []).append(None)
    floats = {n for n in definitions}

    def is_float(e: ast.expr | None) -> bool:
        if e is None:
            return False
        if isinstance(e, ast.Constant):
            return isinstance(e.value, float)
        if isinstance(e, ast.Name):
            return e.id in floats
        if isinstance(e, ast.Subscript):
            return is_float(e.value)
        if isinstance(e, (ast.BinOp, ast.UnaryOp)):  # NumPy's arithmetic: a float with anything gives a float
            operands = [e.left, e.right] if isinstance(e, ast.BinOp) else [e.operand]
            return any(is_float(o) for o in operands)
        if isinstance(e, ast.Call) and not any(k.arg == "dtype" for k in e.keywords):
            func = safe_resolve(e.func, env)
            if func in _FLOAT_CREATIONS:
                return True
            if func in _LIKE_CREATIONS or func is np.copy:
                return bool(e.args) and is_float(e.args[0])
            op = ops.get(e)
            if op is not None and op.kind == RULE and op.rule.kind == rules.ELEMENTWISE:
                return any(is_float(a) for a in op.operands)
        return False

    changed = True
    while changed:
        changed = False
        for n in list(floats):
            if not all(is_float(e) for e in definitions[n]):
                floats.discard(n)
                changed = True
    return frozenset(floats & names)
