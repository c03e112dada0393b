"""Analyse a normalised function: what is active, of which kind, and whether it is safe.

On entry: a tree in the normal form of ``normalize``, the function's environment
(globals and closure, to resolve called functions) and which parameters are
``wrt``. On exit: an ``Activity`` record; the tree is not modified. ``activity``
runs the three analyses, each in its own module:

- ``operations``: what each operation is (a primitive with a rule, a constant, a
  call to a user function, an index read, ...).
- ``active`` names depend on a ``wrt`` parameter *and* reach the result; only
  they get adjoints. The analysis is flow-insensitive per name: reassigning a
  name can only make more code active, never drop a needed adjoint.
- ``kinds``: names that always hold a scalar (the reverse pass skips broadcasting
  bookkeeping on floats), may or surely hold containers, and arrays' dimensions.
- ``safety``: refusals of programs whose gradient would be silently wrong.
- ``complexes``: names that may hold complex values; refusals of rules written for real ones.
"""

from __future__ import annotations

import ast
import functools
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from . import cancellation, complexes, safety
from . import kinds as kinds_
from .bindings import binding_counts
from .kinds import CONTAINER, CONTAINERS, DICT, LEAVES, NOT_CONTAINER, SCALARS, ReturnsKind, call_kinds
from .names import local_names, parameters
from .operations import (
    COMPLEX,
    DUCK,
    Env,
    Op,
    appended_to,
    as_unknown_calls,
    classify,
    environment,
    walk_statements,
    written_in_place,
)
from .parse import Origin, is_generated

__all__ = ["Activity", "activity", "environment", "returns_own_value"]
__all__ += ["CONTAINER", "CONTAINERS", "DICT", "LEAVES", "NOT_CONTAINER", "SCALARS"]


@dataclass(frozen=True)
class InPlaceCheck:
    """``runtime.check_unshared(array, index, readers, ...)`` before a write into ``array[index]``
    (``index`` None: the whole of ``array``, written by ``array += v``)."""

    array: str
    index: ast.expr | None
    readers: tuple[str, ...]
    described: tuple[str, ...]  # each reader as the error names it
    filename: str
    line: int


def _check(s: ast.stmt, target: str, readers: dict[str, int], origin: Origin) -> InPlaceCheck:
    index = s.targets[0].slice if isinstance(s.targets[0], ast.Subscript) else None
    array = s.targets[0].value.id if isinstance(s.targets[0], ast.Subscript) else target
    names = tuple(sorted(readers))
    described = tuple(f"the value read on line {readers[r]}" if r.startswith("_") else f"'{r}'" for r in names)
    return InPlaceCheck(array, index, names, described, origin.filename, getattr(s, "lineno", origin.first_line))


@dataclass(frozen=True)
class Activity:
    wrt: tuple[str, ...]
    active: frozenset[str]
    scalars: frozenset[str]
    ndims: dict[str, int]  # names whose number of array dimensions is known (0: a scalar)
    index_safe: frozenset[str]  # ints and masks: ``dx[i] += g`` needs no np.add.at
    lists: frozenset[str]  # names that may hold Python lists, tuples or dicts (or are of unknown kind)
    containers: frozenset[str]  # names that surely hold a list, tuple or dict
    written: frozenset[str]  # arrays and lists changed in place
    ops: dict[ast.AST, Op]
    env: Env
    floats: frozenset[str] = frozenset()  # arrays written in place that surely hold floats (kinds.float_arrays)
    # names that may share data with an array written in place (the written ones included)
    shares_written: frozenset[str] = frozenset()
    complex_values: frozenset[str] = frozenset()  # names that may hold complex values (complexes.complex_names)
    # id(statement) -> the run-time check before that in-place write (safety.stale_reads): what it writes
    # into, the index, the names read later that may share its data, and the user's file and line
    checks: dict[int, InPlaceCheck] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()  # globals read as scalars: checked on entry (kinds.global_numbers)

    def is_active(self, e: ast.expr | None) -> bool:
        return isinstance(e, ast.Name) and e.id in self.active

    def element_is_scalar(self, e: ast.Subscript) -> bool:
        """Is ``x[i, j]`` one element: integer indices, as many as ``x`` has dimensions?"""
        parts = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        base = self.ndims.get(e.value.id) if isinstance(e.value, ast.Name) else None
        return base == len(parts) and all(not isinstance(p, ast.Slice) and self.is_scalar(p) for p in parts)

    def element_is_leaf(self, e: ast.Subscript) -> bool:
        """Is ``xs[i]`` one element (not a slice) of a container of arrays and scalars?"""
        base = self.ndims.get(e.value.id) if isinstance(e.value, ast.Name) else None
        if base in (DICT + LEAVES, DICT + SCALARS):
            return True  # a key
        # a list's element: an integer index, not a slice (nor a name that may hold one)
        return base in (LEAVES, SCALARS) and (isinstance(e.slice, ast.Constant) or self.is_scalar(e.slice))

    def is_scalar(self, e: ast.expr) -> bool:
        if isinstance(e, ast.Constant):
            return isinstance(e.value, (int, float, bool)) or e.value is None
        return isinstance(e, ast.Name) and e.id in self.scalars


def activity(
    tree: ast.FunctionDef,
    origin: Origin,
    env: Env,
    wrt: tuple[str, ...],
    kinds: frozenset[tuple[str, int]],
    returns_kind: ReturnsKind | None = None,
    augmented: frozenset[str] = frozenset(),
    callee: bool = False,
    returns_fresh: CallFact | None = None,
    returns_complex: CallFact | None = None,
) -> Activity:
    """Classify operations and compute active, scalar and list-valued names.

    ``kinds`` gives the parameters' number of dimensions in this specialisation (0 for a
    scalar, CONTAINER for a list, tuple or dict; a parameter not listed is of unknown kind);
    ``returns_kind(f, kinds)`` says what a called user function returns for such arguments
    (without it, a call result is of unknown kind).
    ``augmented`` names the user's ``x += v`` targets: on an array that writes in place.
    ``callee``: ``f`` is called from differentiated code, so changing a parameter in place
    would change the caller's value too. ``returns_fresh(f, kinds)`` says whether a called
    user function returns a value of its own (not one sharing an argument's data), and
    ``returns_complex(f, kinds)`` whether it may return a complex value.
    """
    ops = classify(tree, origin, env)
    result = tree.body[-1].value.id
    generated = is_generated(origin.filename)  # its methods were proven NumPy's in the code it came from
    while True:  # obj.sum(x) is obj's own method: kinds again, with its result of unknown kind (once, if ever)
        scalars, lists, definite_lists, ndims = kinds_.kinds(tree, ops, env, dict(kinds), returns_kind)
        known = as_unknown_calls(ops, functools.partial(kinds_.proven_array, lists=lists, containers=definite_lists))
        if generated or known == ops:
            break
        ops = known
    locals_ = local_names(tree)
    in_place = written_in_place(tree.body, ops)
    group = safety.sharing_groups(tree.body, parameters(tree), ops, locals_, scalars)
    varied, useful = _dependencies(tree, ops, set(wrt), result, in_place, group)
    safety.refuse_unknown(tree, ops, varied, useful)
    safety.refuse_lost_derivatives(tree, ops, varied, useful, origin)
    written = in_place | (augmented - scalars)
    if not is_generated(origin.filename):  # generated code copies where it must, by construction
        call_is_fresh = _calls_where(ops, scalars, ndims, lists, returns_fresh)
        safety.refuse_aliases(tree, ops, origin, scalars, call_is_fresh)
        if callee:
            safety.refuse_changed_parameters(tree, ops, origin, written)
        ducks = {n[len(DUCK) :] for n, _ in kinds if n.startswith(DUCK)}
        if ducks:  # what may hold another library's array: every value computed from one
            safety.refuse_duck_writes(tree, origin, _dependencies(tree, ops, ducks, result, in_place, group)[0])
        # (a list's element is a reference: changing the list leaves it as it was)
        checks = safety.stale_reads(
            tree.body, ops, origin, written - definite_lists, scalars, locals_, call_is_fresh, parameters(tree), ndims
        )
    else:
        checks = []
    safety.refuse_list_arithmetic(tree, origin, varied & useful, definite_lists)
    safety.refuse_dict_iteration(tree, origin, {n for n, d in ndims.items() if kinds_.is_dict(d)})
    # masks and numbers: an index of one writes each position once (an index array may repeat
    # one). Every binding of the name must be one: a name bound to a comparison and later to a
    # list of positions is an index array where it is read (a fact of each binding, not of one)
    mask_bindings = Counter(
        s.targets[0].id
        for s in walk_statements(tree.body)
        if _assigns_name(s)
        and isinstance(s.value, (ast.Compare, ast.Constant))
    )
    bindings = binding_counts(tree)
    masks = {n for n, count in mask_bindings.items() if count == bindings[n]}
    # (a value whose every variation cancels before the result needs no adjoint: a softmax's row maximum)
    reaching = frozenset(varied & useful)
    active = reaching - cancellation.cancelled(tree, ops, ndims, reaching)
    complex_parameters = frozenset(n[len(COMPLEX) :] for n, _ in kinds if n.startswith(COMPLEX))
    may_be_complex = _calls_where(ops, scalars, ndims, lists, returns_complex)
    complex_ = complexes.complex_names(tree, ops, env, may_be_complex, complex_parameters)
    complexes.refuse_real_only(tree, ops, origin, env, complex_, active)
    written = frozenset(in_place)
    floats = kinds_.float_arrays(tree, ops, env, set(written))
    written_groups = {group(n) for n in written}
    shares_written = frozenset(n for n in locals_ if group(n) in written_groups)
    return Activity(
        wrt,
        active,
        frozenset(scalars),
        ndims,
        frozenset(scalars | masks),
        frozenset(lists),
        frozenset(definite_lists),
        written,
        ops,
        env,
        floats,
        shares_written,
        complex_,
        {id(s): _check(s, target, readers, origin) for s, target, readers in checks},
        kinds_.global_numbers(tree, env),
    )


def returns_no_number(tree: ast.FunctionDef) -> list[ast.Assign]:
    """The assignments of a constant that is not a number (None, a string) to the result of a
    normalised ``tree``: a ``return None``, ``return "text"``, or the end reached without a return."""
    result = tree.body[-1].value.id
    return [
        s
        for s in walk_statements(tree.body)
        if isinstance(s, ast.Assign)
        and len(s.targets) == 1
        and isinstance(s.targets[0], ast.Name)
        and s.targets[0].id == result
        and isinstance(s.value, ast.Constant)
        and not isinstance(s.value.value, (int, float, complex))
    ]


def result_assignments(tree: ast.FunctionDef) -> list[ast.stmt]:
    """Every statement that assigns the result of a normalised ``tree``."""
    result = tree.body[-1].value.id
    return [s for s in walk_statements(tree.body) if isinstance(s, ast.Assign) and result in _target_names(s)]


def _target_names(s: ast.Assign) -> set[str]:
    return {n.id for t in s.targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def argument_kind(a: ast.expr, scalars: Collection[str], ndims: dict[str, int], lists: Collection[str]) -> int | None:
    """What a callee is told of an argument: 0 for a scalar, an array's number of dimensions,
    a container's kind, NOT_CONTAINER for an array or scalar of unknown dimensions (proven not
    a container nor an object: its methods are NumPy's), None where nothing is known."""
    if not isinstance(a, ast.Name):
        return None
    if a.id in scalars:
        return 0
    return ndims.get(a.id, None if a.id in lists else NOT_CONTAINER)


# what a user function does for arguments of these kinds: returns a value of its own, may return a complex one
CallFact = Callable[[Any, frozenset[tuple[str, int]]], bool]


def _calls_where(
    ops: dict, scalars: set[str], ndims: dict[str, int], lists: set[str] | frozenset[str], fact: CallFact | None
) -> Callable[[ast.Call], bool]:
    """Does ``fact`` hold of this call to a user function (does it return a value of its own,
    may it return a complex one), for the kinds of the arguments it is given here?"""

    def ndim_of(a: ast.expr) -> int | None:
        return argument_kind(a, scalars, ndims, lists)

    def holds(call: ast.Call) -> bool:
        func = ops[call].func
        return fact is not None and fact(func, call_kinds(func, call, ndim_of, ops[call].passed))

    return holds


def returns_own_value(tree: ast.FunctionDef, act: Activity, returns_fresh: CallFact | None) -> bool:
    """Is the result always a value of its own (never an argument, a view or an element of one)?"""
    result = tree.body[-1].value.id
    params = set(parameters(tree))
    if result in params:
        return False
    call_is_fresh = _calls_where(act.ops, act.scalars, act.ndims, act.lists, returns_fresh)
    locals_ = local_names(tree)
    definitions = [s.value for s in walk_statements(tree.body) if _assigns_name(s) and s.targets[0].id == result]
    if any(safety.shared_with(v, act.ops[v], locals_, act.scalars, call_is_fresh) for v in definitions):
        return False
    # what it may share without proof: a list or tuple holding an argument (return [x], x * 2)
    return not safety.may_share(tree.body, act.ops, act.scalars, locals_, call_is_fresh, result) & params


def _dependencies(
    tree: ast.FunctionDef,
    ops: dict[ast.AST, Op],
    varied: set[str],
    result: str,
    written: set[str],
    group: Callable[[str], str],
) -> tuple[set[str], set[str]]:
    """Names that depend on ``varied`` ones, and names the result depends on.

    Writing into an array changes every name that shares its data, so an array written in
    place is needed when any name that may share its data is: a view (``v = x[1:3]``) or, in
    generated code, another element of the same tape (a forward sweep's ``(t3[1:3], t3)``)."""
    flows = list(_flows(tree, ops))  # (target, sources) pairs: target's value depends on sources
    useful = {result}
    changed = True
    while changed:  # straight-line code settles in one round: varied flows forward, useful backward
        changed = False
        for target, sources in flows:
            if target not in varied and varied & sources:
                varied.add(target)
                changed = True
        for target, sources in reversed(flows):
            if target in useful and not sources <= useful:
                useful |= sources
                changed = True
        if written:
            needed_groups = {group(n) for n in useful}
            shared = {x for x in written - useful if group(x) in needed_groups}
            if shared:
                useful |= shared
                changed = True
    return varied, useful


def _assigns_name(s: ast.stmt) -> bool:
    return isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)


def _flows(tree: ast.FunctionDef, ops: dict[ast.AST, Op]):
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign):
            target = s.targets[0]
            if isinstance(target, ast.Name):
                op = ops[s.value]
                if op.refusal is not None:  # no rule: its result may vary with anything it reads
                    yield target.id, {n.id for n in ast.walk(s.value) if isinstance(n, ast.Name)}
                    continue
                yield target.id, {a.id for a in op.operands if isinstance(a, ast.Name)}
            else:  # x[i] = v
                yield target.value.id, {s.value.id} if isinstance(s.value, ast.Name) else set()
        elif appended_to(s):  # L.append(v)
            yield appended_to(s), {a.id for a in s.value.args if isinstance(a, ast.Name)}
