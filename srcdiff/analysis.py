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
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from . import kinds as kinds_
from . import safety
from .kinds import CONTAINER, CONTAINERS, LEAVES, NOT_CONTAINER, SCALARS, ReturnsKind
from .operations import CONSTANT, Env, Op, appended_to, classify, environment, walk_statements
from .parse import Origin

__all__ = ["Activity", "activity", "environment", "CONTAINER", "CONTAINERS", "LEAVES", "NOT_CONTAINER", "SCALARS"]


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
        return base in (LEAVES, SCALARS) and not isinstance(e.slice, ast.Slice)

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
) -> Activity:
    """Classify operations and compute active, scalar and list-valued names.

    ``kinds`` gives the parameters' number of dimensions in this specialisation (0 for a
    scalar, CONTAINER for a list, tuple or dict; a parameter not listed is of unknown kind);
    ``returns_kind(f, kinds)`` says what a called user function returns for such arguments
    (without it, a call result is of unknown kind).
    ``augmented`` names the user's ``x += v`` targets: on an array that writes in place.
    ``callee``: ``f`` is called from differentiated code, so changing a parameter in place
    would change the caller's value too.
    """
    ops = classify(tree, origin, env)
    result = tree.body[-1].value.id
    flows = list(_flows(tree, ops))  # (target, sources) pairs: target's value depends on sources
    varied = set(wrt)
    useful = {result}
    changed = True
    while changed:
        changed = False
        for target, sources in flows:
            if target not in varied and varied & sources:
                varied.add(target)
                changed = True
            if target in useful and not sources <= useful:
                useful |= sources
                changed = True
    safety.refuse_unknown(tree, ops, varied, useful)
    safety.refuse_lost_derivatives(tree, ops, varied, useful, origin)
    scalars, lists, definite_lists, ndims = kinds_.kinds(tree, ops, env, dict(kinds), returns_kind)
    written = safety.written_in_place(tree.body, ops) | (augmented - scalars)
    if not origin.filename.startswith("<srcdiff"):  # generated code copies where it must, by construction
        safety.refuse_aliases(tree, ops, origin, written)
        if callee:
            safety.refuse_changed_parameters(tree, ops, origin, written)
        safety.refuse_stale_views(tree.body, ops, origin, written - lists, scalars, {}, set())  # list items are not views
    safety.refuse_list_arithmetic(tree, origin, varied & useful, definite_lists)
    masks = {
        s.targets[0].id
        for s in walk_statements(tree.body)
        if _assigns_name(s)
        and (
            isinstance(s.value, ast.Compare)
            or (ops.get(s.value) or Op("")).kind == CONSTANT
            and not isinstance(s.value, ast.Call)
        )
    }
    active = frozenset(varied & useful)
    written = frozenset(safety.written_in_place(tree.body, ops))
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
    )


def _assigns_name(s: ast.stmt) -> bool:
    return isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)


def _flows(tree: ast.FunctionDef, ops: dict[ast.AST, Op]):
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign):
            target = s.targets[0]
            if isinstance(target, ast.Name):
                op = ops[s.value]
                yield target.id, {a.id for a in op.operands if isinstance(a, ast.Name)}
            else:  # x[i] = v
                yield target.value.id, {s.value.id} if isinstance(s.value, ast.Name) else set()
        elif appended_to(s):  # L.append(v)
            yield appended_to(s), {a.id for a in s.value.args if isinstance(a, ast.Name)}
