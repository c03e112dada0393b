"""Safety: refuse programs whose gradient would be silently wrong.

On entry: a normalised tree, its operations (``operations.classify``), and which names
are varied (depend on ``wrt``) and of which kinds. Each check raises a diagnostic at
the user's line, or returns: a value being differentiated that reaches an operation
without a rule (``refuse_unknown``) or a place where no derivative flows
(``refuse_lost_derivatives``), a second name for an array changed in place
(``refuse_aliases``), a view read after its array changed (``refuse_stale_views``),
and arithmetic on lists (``refuse_list_arithmetic``).
"""

from __future__ import annotations

import ast

from . import rules
from .errors import NoDerivativeRule, UnsupportedSyntax
from .names import local_names
from .operations import CONSTANT, INDEX, POP, RULE, Op, appended_to, walk_statements
from .parse import Origin


def refuse_unknown(tree: ast.FunctionDef, ops: dict[ast.AST, Op], varied: set[str], useful: set[str]) -> None:
    """Raise the refusal of an operation without a rule if a varied value reaches it and its
    result reaches the output (``stop_gradient(f(x))`` needs no rule for ``f``).

    Without one, it runs as in the original and its result is a constant: ``rng.normal(...)``,
    ``self.n``, ``math.lgamma(2.5)``, a discarded ``print(x)``. A discarded call that may
    change what it touches refuses when anything it touches is a local that an operation
    with a derivative reads (the backward sweep would read the changed value).
    """
    read = {a.id for op in ops.values() if op.kind != CONSTANT for a in op.operands if isinstance(a, ast.Name)}
    for s in walk_statements(tree.body):
        e = s.value if isinstance(s, (ast.Assign, ast.Expr)) else None
        op = ops.get(e) if e is not None else None
        if op is None or op.refusal is None:
            continue
        touched = op.bound.get("touched")
        if touched is not None:
            names = {a.id for a in touched if isinstance(a, ast.Name)}
            if names & (varied | read):
                raise op.refusal
            continue
        reaches_output = isinstance(s, ast.Expr) or s.targets[0].id in useful  # a dropped call acts by side effect
        if {n.id for n in ast.walk(e) if isinstance(n, ast.Name)} & varied and reaches_output:
            raise op.refusal


def refuse_lost_derivatives(
    tree: ast.FunctionDef, ops: dict[ast.AST, Op], varied: set[str], useful: set[str], origin: Origin
) -> None:
    """Refuse a varied value in a place where no derivative flows, in an operation whose
    result reaches the output: an argument of a rule without an adjoint for it, or an index
    (``np.r_[x, y]`` indexes an object with data). Comparisons and functions registered as
    nondifferentiable are piecewise constant."""
    for s in walk_statements(tree.body):
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)) or s.targets[0].id not in useful:
            continue
        op = ops[s.value]
        lost: set[str] = set()
        if op.kind == RULE:
            for p, atom in op.bound.items():
                if op.rule.role(p) == rules.MISSING:
                    lost |= {n.id for n in ast.walk(atom) if isinstance(n, ast.Name)} & varied
        elif op.kind == INDEX:
            lost = {n.id for n in ast.walk(s.value.slice) if isinstance(n, ast.Name)} & varied
            if lost and not (isinstance(s.value.value, ast.Name) and s.value.value.id in local_names(tree)):
                what = ast.unparse(s.value.value)
                raise origin.error(
                    NoDerivativeRule,
                    s,
                    f"no derivative rule for {what}[...] with values being differentiated",
                    "Use np.concatenate, np.stack or np.array instead.",
                )
            continue  # an index computed from the values: piecewise constant (x[int(y)])
        if lost:
            name = op.rule.spelling
            raise origin.error(
                NoDerivativeRule,
                s,
                f"no derivative rule for {name} with respect to its argument holding {', '.join(sorted(lost))}",
                "Add one with srcdiff.rules.vjp(...), or wrap the value in stop_gradient(...) if it is constant.",
            )


_VIEWS = {"reshape", "ravel", "transpose", "swapaxes", "squeeze", "T"}


def changed_in_place(s: ast.stmt, ops: dict[ast.AST, Op]) -> str | None:
    """The array or list this one statement changes in place: ``x[i] = v``, ``L.append(v)``, ``L.pop()``."""
    if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript):
        return s.targets[0].value.id
    if appended_to(s):
        return appended_to(s)
    if isinstance(s, ast.Assign) and ops.get(s.value, Op("")).kind == POP:
        return s.value.func.value.id
    return None


def written_in_place(body: list[ast.stmt], ops: dict[ast.AST, Op]) -> set[str]:
    """Arrays and lists the code changes in place anywhere."""
    return {changed_in_place(s, ops) for s in walk_statements(body)} - {None}


def refuse_aliases(tree: ast.FunctionDef, ops: dict[ast.AST, Op], origin: Origin, written: set[str]) -> None:
    """Refuse a second name for an array or list that is written in place.

    ``y = x; y[0] = v`` changes ``x`` too in Python, and so does ``r = x[0]; r[1] = v``
    (a view of an array, or an element of a list); srcdiff keeps one adjoint per name,
    so such aliasing would give a silently wrong gradient. Temporaries made by
    normalisation are never written in place, so only user names count as targets.
    """
    locals_ = local_names(tree)
    for s in walk_statements(tree.body):
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
            continue
        target, value = s.targets[0].id, s.value
        source = None
        if isinstance(value, ast.Name):
            source = value.id
        elif isinstance(value, ast.Attribute) and value.attr in _VIEWS and isinstance(value.value, ast.Name):
            source = value.value.id
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _VIEWS:
            source = value.func.value.id if isinstance(value.func.value, ast.Name) else None
        part_of = isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in locals_
        if part_of and target in written and not target.startswith("_"):  # r = y[0]; r[1] = v writes into y
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"'{target}' is part of another array or list (a view or an element), and '{target}' is changed in place",
                f"Take a copy where you read it: {target} = {_readable(value, '...')}.copy() (writing into it changes both).",
            )
        if source is None or source.startswith("_") or target.startswith("_") or source not in locals_:
            continue
        if {source, target} & written:
            array = source if source in written else target
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"'{target}' would share its data with '{source}', and '{array}' is changed in place",
                f"Take a copy: {target} = {ast.unparse(value)}.copy() (srcdiff keeps one adjoint per name).",
            )


def refuse_changed_parameters(tree: ast.FunctionDef, ops: dict[ast.AST, Op], origin: Origin, written: set[str]) -> None:
    """Refuse a function called from differentiated code that changes a parameter in place:
    in Python the caller's array or list changes too, and srcdiff's copy would hide that."""
    params = [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
    for s in walk_statements(tree.body):
        changed = changed_in_place(s, ops)
        if changed in params and changed in written:
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"{tree.name} changes its parameter '{changed}' in place, which changes the caller's value too",
                f"Copy it first ({changed} = {changed}.copy()) and return what the caller needs.",
            )
    for name in sorted(set(params) & written):  # x += v on an array parameter (normalised to x = x + v)
        where = next((s for s in walk_statements(tree.body) if isinstance(s, ast.Assign) and _assigns(s, name)), tree)
        raise origin.error(
            UnsupportedSyntax,
            where,
            f"{tree.name} changes its parameter '{name}' in place (+= on an array), which changes the caller's value too",
            f"Write {name} = {name} + ... instead.",
        )


def _assigns(s: ast.Assign, name: str) -> bool:
    return isinstance(s.targets[0], ast.Name) and s.targets[0].id == name


def _readable(e: ast.expr, fallback: str) -> str:
    """``e`` as the user would write it, or ``fallback`` if it reads normalisation temporaries."""
    if any(isinstance(n, ast.Name) and n.id.startswith("_") for n in ast.walk(e)):
        return fallback
    return ast.unparse(e)


def refuse_stale_views(
    body: list[ast.stmt],
    ops: dict[ast.AST, Op],
    origin: Origin,
    written: set[str],
    scalars: set[str],
    views: dict[str, str],
    stale: set[str],
) -> None:
    """Refuse reading ``r = y[0]`` after a later in-place change of ``y``.

    Basic indexing returns a view, so ``r`` would follow the change; srcdiff gives ``r``
    an adjoint of its own and would miss that. ``views`` maps a name to the array it may
    view; ``stale`` holds the views whose array has since been changed (updated in place,
    in source order; branches and loop bodies are merged conservatively).
    """
    for s in body:
        read = {n.id for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for r in sorted(read & stale):
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"'{r}' is a view of '{views[r]}', which was changed in place after '{r}' was taken",
                f"Take a copy when you read it: {r} = {views[r]}[...].copy().",
            )
        for f in ("body", "orelse"):
            refuse_stale_views(getattr(s, f, []), ops, origin, written, scalars, views, stale)
        changed = changed_in_place(s, ops)
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            target, value = s.targets[0].id, s.value
            views.pop(target, None)
            stale.discard(target)
            basic = isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id in written
            parts = (value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]) if basic else []
            if (
                basic
                and target not in scalars
                and all(isinstance(p, (ast.Slice, ast.Constant)) or _names_scalar(p, scalars) for p in parts)
            ):
                views[target] = value.value.id  # integers and slices only: a view, not a copy
        stale |= {r for r, array in views.items() if array == changed}


def _names_scalar(e: ast.expr, scalars: set[str]) -> bool:
    return isinstance(e, ast.Name) and e.id in scalars


def refuse_list_arithmetic(tree: ast.FunctionDef, origin: Origin, active: set[str], lists: set[str]) -> None:
    """``+`` joins lists and ``*`` repeats them: numeric derivative rules would be silently wrong."""
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.BinOp):
            operands = {a.id for a in (s.value.left, s.value.right) if isinstance(a, ast.Name)}
            if operands & lists and (operands | {s.targets[0].id}) & active:
                raise origin.error(
                    UnsupportedSyntax,
                    s,
                    "arithmetic on a list (+ joins lists, * repeats them) cannot be differentiated",
                    "Use np.array(...) for numbers, or build the list with a loop that appends.",
                )
