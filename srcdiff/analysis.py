"""Analyse a normalised function: what each operation is, what is active, what is scalar.

On entry: a tree in the normal form of ``normalize``, the function's environment
(globals and closure, to resolve called functions) and which parameters are
``wrt``. On exit: an ``Activity`` record; the tree is not modified.

- ``ops`` classifies every operation (keyed by its ast node): a primitive with a
  rule, a constant-valued call, a call to a user function, an index read, ...
  A call that is none of these is refused here, at the user's line.
- ``active`` names depend on a ``wrt`` parameter *and* reach the result; only
  they get adjoints. The analysis is flow-insensitive per name: reassigning a
  name can only make more code active, never drop a needed adjoint.
- ``scalars`` names always hold a Python or NumPy scalar for the argument kinds
  given; the reverse pass uses it to skip broadcasting bookkeeping on floats.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import rules
from .errors import NoDerivativeRule, UnsupportedSyntax
from .names import local_names
from .normalize import is_atom
from .parse import Origin

INDEX, COPY, PACK, APPEND, POP, CALL, RULE, CONSTANT = "index", "copy", "pack", "append", "pop", "call", "rule", "constant"


@dataclass(frozen=True)
class Env:
    """The names a function can read besides its locals."""

    globals: dict
    closure: dict[str, Any]  # free variable -> cell
    locals: frozenset[str] = frozenset()  # the function's own names, which shadow the rest

    def lookup(self, name: str) -> Any:
        if name in self.closure:
            return self.closure[name].cell_contents
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name)

    def resolve(self, expr: ast.expr) -> Any:
        """The object a non-local Name or attribute chain (``np.linalg.norm``) denotes now."""
        if isinstance(expr, ast.Name):
            return self.lookup(expr.id)
        if isinstance(expr, ast.Attribute):
            return getattr(self.resolve(expr.value), expr.attr)
        raise TypeError(f"cannot resolve {ast.unparse(expr)}")


def environment(f: Any, tree: ast.FunctionDef) -> Env:
    code = f.__code__
    cells = dict(zip(code.co_freevars, f.__closure__ or ()))
    return Env(f.__globals__, cells, frozenset(local_names(tree)))


@dataclass(frozen=True)
class Op:
    """What one operation is, and which of its atoms carry derivatives."""

    kind: str
    operands: tuple[ast.expr, ...] = ()  # atoms whose adjoints the operation produces
    rule: rules.Rule | None = None
    bound: dict[str, ast.expr] = field(default_factory=dict)  # rule parameter -> atom
    func: Any = None  # the user function, for CALL
    refusal: Exception | None = None  # raised if a varied value reaches this (constant) operation


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

    def is_scalar(self, e: ast.expr) -> bool:
        if isinstance(e, ast.Constant):
            return isinstance(e.value, (int, float, bool)) or e.value is None
        return isinstance(e, ast.Name) and e.id in self.scalars


def walk_statements(body: list[ast.stmt]):
    """Every statement, nested ones included, in source order."""
    for s in body:
        yield s
        for f in ("body", "orelse"):
            yield from walk_statements(getattr(s, f, []))


# What a user function returns, for arguments of given kinds (``returns_kind``): the number
# of dimensions of an array (0: a scalar), CONTAINER, NOT_CONTAINER, or None when unknown.
ReturnsKind = Callable[[Any, frozenset[tuple[str, int]]], "int | None"]


def activity(
    tree: ast.FunctionDef,
    origin: Origin,
    env: Env,
    wrt: tuple[str, ...],
    kinds: frozenset[tuple[str, int]],
    returns_kind: ReturnsKind | None = None,
    augmented: frozenset[str] = frozenset(),
) -> Activity:
    """Classify operations and compute active, scalar and list-valued names.

    ``kinds`` gives the parameters' number of dimensions in this specialisation (0 for a
    scalar, CONTAINER for a list, tuple or dict; a parameter not listed is of unknown kind);
    ``returns_kind(f, kinds)`` says what a called user function returns for such arguments
    (without it, a call result is of unknown kind).
    ``augmented`` names the user's ``x += v`` targets: on an array that writes in place.
    """
    ops = _classify(tree, origin, env)
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
    _refuse_unknown(tree, ops, varied)
    _refuse_lost_derivatives(tree, ops, varied, origin)
    scalars, lists, definite_lists, ndims = _kinds(tree, ops, env, dict(kinds), returns_kind)
    written = written_in_place(tree.body, ops) | (augmented - scalars)
    if not origin.filename.startswith("<srcdiff"):  # generated code copies where it must, by construction
        _refuse_aliases(tree, ops, origin, written)
        _refuse_stale_views(tree.body, ops, origin, written - lists, scalars, {}, set())  # list items are not views
    _refuse_list_arithmetic(tree, origin, varied & useful, definite_lists)
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
    written = frozenset(written_in_place(tree.body, ops))
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


def _refuse_unknown(tree: ast.FunctionDef, ops: dict[ast.AST, Op], varied: set[str]) -> None:
    """Raise the refusal of an operation without a rule if a varied value reaches it.

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
        if {n.id for n in ast.walk(e) if isinstance(n, ast.Name)} & varied:
            raise op.refusal


def _refuse_lost_derivatives(tree: ast.FunctionDef, ops: dict[ast.AST, Op], varied: set[str], origin: Origin) -> None:
    """Refuse a varied value in a place where no derivative flows: an argument of a rule
    without an adjoint for it, or an index (``np.r_[x, y]`` indexes an object with data).
    Comparisons and functions registered as nondifferentiable are piecewise constant."""
    for s in walk_statements(tree.body):
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
            continue
        op = ops[s.value]
        lost: set[str] = set()
        if op.kind == RULE:
            for p, atom in op.bound.items():
                if p not in op.rule.adjoints and p not in rules.discrete_parameters(op.rule):
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


def appended_to(s: ast.stmt) -> str | None:
    """The list ``L`` of an ``L.append(v)`` statement."""
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute):
        if s.value.func.attr == "append" and isinstance(s.value.func.value, ast.Name):
            return s.value.func.value.id
    return None


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


def _refuse_aliases(tree: ast.FunctionDef, ops: dict[ast.AST, Op], origin: Origin, written: set[str]) -> None:
    """Refuse a second name for an array or list that is written in place.

    ``y = x; y[0] = v`` changes ``x`` too in Python; srcdiff keeps one adjoint per
    name, so such aliasing would give a silently wrong gradient. Temporaries made by
    normalisation never outlive the statement they serve, so only user names count.
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


def _refuse_stale_views(
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
            _refuse_stale_views(getattr(s, f, []), ops, origin, written, scalars, views, stale)
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


def _refuse_list_arithmetic(tree: ast.FunctionDef, origin: Origin, active: set[str], lists: set[str]) -> None:
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


# ------------------------------------------------------------------ classification


def _classify(tree: ast.FunctionDef, origin: Origin, env: Env) -> dict[ast.AST, Op]:
    """Every operation's ``Op``. An operation without a derivative rule is classified as a
    constant that carries its refusal: ``_refuse_unknown`` raises it if a varied value reaches it."""
    ops: dict[ast.AST, Op] = {}
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            try:
                ops[s.value] = _operation(s.value, s, origin, env)
            except NoDerivativeRule as exc:
                ops[s.value] = Op(CONSTANT, refusal=exc)
        elif appended_to(s):
            ops[s.value] = Op(APPEND, tuple(s.value.args))
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            ops[s.value] = _discarded_call(s, origin, env)
    return ops


# Functions that write into an argument: their results are discarded, their effect is not.
_WRITES_ARGUMENT = frozenset({"shuffle", "copyto", "put", "place", "putmask", "fill_diagonal", "at"})


def _discarded_call(s: ast.Expr, origin: Origin, env: Env) -> Op:
    """``f(...)`` whose result is dropped: run in the forward sweep only (``print``, logging,
    ``rng.normal(...)``), when nothing it touches carries a derivative or may change under it."""
    call = s.value
    func = call.func
    advice = "Assign the result to a name and use it; srcdiff cannot follow calls that work by side effect."
    refusal = origin.error(UnsupportedSyntax, s, "a call whose result is discarded, on values being differentiated,", advice)
    mutating = origin.error(
        UnsupportedSyntax, s, "a call that may change its arguments in place cannot be differentiated", advice
    )
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if isinstance(receiver, ast.Name) and receiver.id in env.locals:  # x.sort(), rng.shuffle(x): may change x
        return Op(CONSTANT, bound={"touched": [receiver, *call.args]}, refusal=mutating)
    target = _safe_resolve(func, env)
    if any(k.arg == "out" for k in call.keywords) or getattr(target, "__name__", None) in _WRITES_ARGUMENT:
        return Op(CONSTANT, bound={"touched": list(call.args)}, refusal=mutating)
    if inspect.isfunction(target) and not rules.lookup(target) and getattr(target, "__module__", "") != "srcdiff.runtime":
        return Op(CONSTANT, refusal=refusal)  # a user function may change what it is given
    return Op(CONSTANT)  # print, logging, warnings.warn, plotting: output only


def _names(atoms) -> tuple[ast.expr, ...]:
    return tuple(a for a in atoms if isinstance(a, ast.Name))


def _operation(e: ast.expr, stmt: ast.stmt, origin: Origin, env: Env) -> Op:
    if isinstance(e, ast.Name):
        return Op(COPY, (e,))
    if isinstance(e, (ast.Constant, ast.JoinedStr)) or _is_global_chain(e, env):
        return Op(CONSTANT)
    if isinstance(e, ast.BinOp):
        return _rule_op(rules.BINARY_OPERATORS.get(type(e.op)), [e.left, e.right], {}, e, stmt, origin)
    if isinstance(e, ast.UnaryOp):
        return _rule_op(rules.UNARY_OPERATORS.get(type(e.op)), [e.operand], {}, e, stmt, origin)
    if isinstance(e, ast.Compare):
        return Op(CONSTANT)
    if isinstance(e, (ast.List, ast.Tuple)):
        return Op(PACK, _names(e.elts))
    if isinstance(e, ast.Subscript):
        return Op(INDEX, _names([e.value]))
    if isinstance(e, ast.Attribute):
        if e.attr in rules.CONSTANT_ATTRIBUTES:
            return Op(CONSTANT)
        if e.attr in rules.ATTRIBUTES:
            return _rule_op(rules.ATTRIBUTES[e.attr], [e.value], {}, e, stmt, origin)
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for the attribute .{e.attr}",
            "Use an equivalent NumPy function, or stop_gradient(...) if it is constant.",
        )
    if isinstance(e, ast.Call):
        return _call(e, stmt, origin, env)
    raise origin.error(
        UnsupportedSyntax, stmt, f"{type(e).__name__} is not supported here", "Rewrite it with simpler operations."
    )


def _is_global_chain(e: ast.expr, env: Env) -> bool:
    """``np.pi``, ``np.linalg.norm``: an attribute chain rooted at a non-local name."""
    return isinstance(e, ast.Attribute) and is_atom(e, env.locals)


def _call(e: ast.Call, stmt: ast.stmt, origin: Origin, env: Env) -> Op:
    func = e.func
    keywords = {k.arg: k.value for k in e.keywords}
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in env.locals:
        method = func.attr  # a method of a local value
        if method == "pop":
            return Op(POP, _names([func.value]))
        if method == "append":
            return Op(APPEND, _names(e.args))
        if method in rules.METHODS:
            return _rule_op(rules.METHODS[method], [func.value, *e.args], keywords, e, stmt, origin)
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for the method .{method}()",
            "Call the NumPy function instead, or wrap the value in stop_gradient(...).",
        )
    try:
        target = env.resolve(func)
    except (AttributeError, TypeError):
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"cannot find the function {ast.unparse(func)!r}",
            "Define it at module level before the gradient is first called.",
        ) from None
    if rules.is_nondifferentiable(target):
        return Op(CONSTANT)
    rule = rules.lookup(target)
    if rule is not None:
        return _rule_op(target, list(e.args), keywords, e, stmt, origin)
    if getattr(target, "__module__", None) == "srcdiff.runtime":  # its source is not the derivative's business
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for srcdiff.runtime.{target.__name__} (needed to differentiate generated code again)",
            "Differentiate once, or add a rule for it with srcdiff.rules.vjp(...).",
        )
    if inspect.isfunction(target):
        try:
            inspect.signature(target).bind(*e.args, **keywords)
        except TypeError as exc:
            raise origin.error(
                UnsupportedSyntax, stmt, f"this call does not match {target.__name__}'s parameters ({exc})", "Fix the arguments."
            ) from None
        return Op(CALL, _names([*e.args, *keywords.values()]), func=target, bound=keywords)
    name = ast.unparse(func)
    raise origin.error(
        NoDerivativeRule,
        stmt,
        f"no derivative rule for {name}",
        "Add one with srcdiff.rules.vjp(...), or wrap the call in stop_gradient(...) if it is constant.",
    )


def _rule_op(func: Any, args: list, keywords: dict, e: ast.expr, stmt: ast.stmt, origin: Origin) -> Op:
    if func is None or rules.is_nondifferentiable(func):
        return Op(CONSTANT, bound={"args": args})
    rule = rules.lookup(func)
    if rule is None:
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for {getattr(func, '__name__', func)}",
            "Add one with srcdiff.rules.vjp(...), or wrap it in stop_gradient(...).",
        )
    try:
        bound = rule.bind(args, keywords)
    except TypeError as exc:
        advice = "Compute it another way, or give the function a rule that handles it with srcdiff.rules.vjp(...)."
        raise origin.error(UnsupportedSyntax, stmt, str(exc), advice) from None
    operands: list[ast.expr] = []
    for p in rule.adjoints:
        value = bound.get(p)
        if isinstance(value, ast.Tuple) and p == rule.vararg:
            operands += _names(value.elts)
        elif isinstance(value, ast.Name):
            operands.append(value)
    return Op(RULE, tuple(operands), rule=rule, bound=bound)


# --------------------------------------------------------------------------- kinds


def _kinds(
    tree: ast.FunctionDef, ops: dict[ast.AST, Op], env: Env, param_ndims: dict[str, int], returns_kind: ReturnsKind | None
) -> tuple[set[str], set[str], set[str], dict[str, int]]:
    """Names that are always scalars (optimistic fixpoint), may hold containers, surely hold
    containers; and the known numbers of dimensions (so ``x[i]`` of a vector is a scalar).

    "May hold a container" is the unknown end of the lattice: a parameter of unknown kind,
    an element of a container, or a call result that is not known to be an array or a
    scalar. The reverse transform gives such names code that is right for any value."""
    assigned: dict[str, list[ast.expr | None]] = {}
    lists: set[str] = set()
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign):
            t = s.targets[0]
            if isinstance(t, ast.Name):
                assigned.setdefault(t.id, []).append(s.value)
                if (
                    isinstance(s.value, (ast.List, ast.Tuple))
                    or ops[s.value].kind == RULE
                    and ops[s.value].rule.spelling in ("unstack", "unconcatenate", "unvstack")
                ):
                    lists.add(t.id)
            else:
                assigned.setdefault(t.value.id, []).append(None)  # element writes: an array or list
        elif isinstance(s, ast.For):
            assigned.setdefault(s.target.id, []).append(ast.Constant(0))
        elif appended_to(s):
            lists.add(appended_to(s))
    params = {a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    scalar_params = {n for n, d in param_ndims.items() if d == 0}
    container_params = {n for n, d in param_ndims.items() if d == CONTAINER}
    lists |= container_params | (params - set(param_ndims))  # a parameter of unknown kind may be one
    ndims = _array_ndims(assigned, ops, env, param_ndims)
    scalars = scalar_params | (set(assigned) - params)
    changed = True
    while changed:
        changed = False
        for n, values in assigned.items():
            keeps = all(_scalar(v, ops, scalars, env, returns_kind, ndims) for v in values)
            if n in scalars and n not in scalar_params and not keeps:
                scalars.discard(n)
                changed = True
    definite = set(lists) - (params - container_params)
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
                )
                if (isinstance(source, ast.Name) and source.id in lists or unknown) and n not in scalars | lists:
                    lists.add(n)
                    grown = True
    ndims.update({n: 0 for n in scalars - lists})
    ndims.update({n: CONTAINER for n in definite})
    return scalars - lists, lists, definite, {n: d for n, d in ndims.items() if d >= 0 or d == CONTAINER}


_CONTAINER_HELPERS = frozenset(
    {
        "zeros_like",
        "private_copy",
        "add_adjoints",
        "materialize",
        "materialize_all",
        "structured",
        "sum_adjoint",
        "cast",
        "unbroadcast",
    }
)  # runtime functions that return a container when given one
_CONTAINER_BUILTINS = frozenset({"sorted", "list", "tuple", "dict", "zip", "enumerate", "reversed", "map", "filter"})


def _may_return_container(e: ast.expr | None, env: Env) -> bool:
    """May this call (not to a user function) return a list, tuple or dict? NumPy and math
    functions and array methods return arrays and scalars; other calls are of unknown kind."""
    if not isinstance(e, ast.Call):
        return False
    func = e.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in env.locals:
        return func.attr not in rules.METHODS  # x.sum() is an array; rng.normal(...) may be anything
    target = _safe_resolve(func, env)
    module = getattr(target, "__module__", None) or ""
    if module == rules.runtime.__name__:
        return target.__name__ in _CONTAINER_HELPERS
    if module == "builtins":
        return target.__name__ in _CONTAINER_BUILTINS
    return not (module.startswith("numpy") or module == "math")


def _call_kind(e: ast.expr, ops: dict, scalars: set[str], ndims: dict[str, int], returns_kind: ReturnsKind | None) -> int | None:
    """What a call to a user function returns (see ``ReturnsKind``); None when unknown."""
    op = ops.get(e)
    if op is None or op.kind != CALL or returns_kind is None:
        return None
    kinds = call_kinds(
        op.func, e, lambda a: 0 if isinstance(a, ast.Name) and a.id in scalars else ndims.get(getattr(a, "id", None))
    )
    return returns_kind(op.func, kinds)


_CREATE = frozenset({"zeros", "ones", "empty", "full"})
_SHAPED_LIKE = (("zeros_like", 0), ("private_copy", 0), ("unreduce", 1), ("unbroadcast", 1))  # (helper, like argument)
SHAPE = -1  # the "ndim" of a shape: a tuple of ints, whose elements are scalars
CONTAINER = -2  # the "ndim" of a list, tuple or dict
NOT_CONTAINER = -3  # an array or a scalar, of unknown dimensions
_LIKE = frozenset({"zeros_like", "ones_like", "empty_like", "full_like", "copy"})


def _array_ndims(assigned: dict[str, list], ops: dict[ast.AST, Op], env: Env, known: dict[str, int]) -> dict[str, int]:
    """Names whose every definition has a known number of dimensions (a pessimistic pass)."""
    ndims = dict(known)
    grown = True
    while grown:  # to a fixpoint: names defined from names defined before
        grown = False
        for n, values in assigned.items():
            if n not in ndims:
                found = {_ndim(v, ndims, ops, env) for v in values if v is not None}  # x[i] = v keeps x's ndim
                if len(found) == 1 and None not in found:
                    ndims[n] = found.pop()
                    grown = True
    return ndims


def _ndim(e: ast.expr | None, ndims: dict[str, int], ops: dict[ast.AST, Op], env: Env) -> int | None:
    """The number of dimensions of an operation's result, where it follows from its operands."""
    if isinstance(e, ast.Constant):
        return 0 if isinstance(e.value, (int, float)) else None
    if isinstance(e, ast.Name):
        return ndims.get(e.id)
    if isinstance(e, ast.Attribute) and e.attr == "shape":
        return SHAPE
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and ndims.get(e.value.id) == SHAPE:
        return 0 if _ndim(e.slice, ndims, ops, env) == 0 else None  # x.shape[0]
    if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and ndims.get(e.value.id, -1) >= 0:
        parts = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        ints = sum(1 for p in parts if not isinstance(p, ast.Slice) and _ndim(p, ndims, ops, env) == 0)
        added = sum(1 for p in parts if isinstance(p, ast.Constant) and p.value is None)
        if ints + added + sum(isinstance(p, ast.Slice) for p in parts) != len(parts) or ints > ndims[e.value.id]:
            return None  # an array or mask index: fancy indexing
        return ndims[e.value.id] - ints + added
    if isinstance(e, ast.BinOp) and ops.get(e, Op("")).kind == RULE and op_is_elementwise(ops[e]):
        left, right = _ndim(e.left, ndims, ops, env), _ndim(e.right, ndims, ops, env)
        return None if left is None or right is None or min(left, right) < 0 else max(left, right)
    if isinstance(e, ast.Call) and e.args:
        receiver = e.func.value if isinstance(e.func, ast.Attribute) else None
        if isinstance(receiver, ast.Name) and receiver.id in env.locals:
            return ndims.get(receiver.id) if e.func.attr == "copy" else None  # x.copy()
        func = _safe_resolve(e.func, env)
        for helper, like in _SHAPED_LIKE:  # generated code's adjoint arrays take a primal's shape
            if func is rules.NAMESPACE[helper] and len(e.args) > like:
                return _ndim(e.args[like], ndims, ops, env)
        name = getattr(func, "__name__", None) if (getattr(func, "__module__", None) or "").startswith("numpy") else None
        if name in _CREATE and _ndim(e.args[0], ndims, ops, env) == 0:
            return 1
        if name in _LIKE:
            return _ndim(e.args[0], ndims, ops, env)
        if name == "shape":
            return SHAPE
    return None


def op_is_elementwise(op: Op) -> bool:
    return op.rule is not None and op.rule.kind == rules.ELEMENTWISE


def call_kinds(func: Any, call: ast.Call, ndim_of: Callable[[ast.expr], int | None]) -> frozenset[tuple[str, int]]:
    """The callee's parameters with known dimensions at this call (scalar defaults included)."""
    signature = inspect.signature(func)
    bound = signature.bind(*call.args, **{k.arg: k.value for k in call.keywords})
    found = {(p, ndim_of(a)) for p, a in bound.arguments.items()}
    unbound = (p for p in signature.parameters.values() if p.name not in bound.arguments)
    defaults = {(p.name, 0) for p in unbound if type(p.default) in (int, float, bool)}
    return frozenset({(p, d) for p, d in found if d is not None} | defaults)


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
        return _ndim(e, {**ndims, **{n: 0 for n in scalars}}, ops, env) == 0  # x[i] of a vector
    op = ops.get(e)
    if op is None or isinstance(e, (ast.List, ast.Tuple, ast.Subscript)):
        return False
    if op.kind == CONSTANT:
        if isinstance(e, ast.Compare):
            return all(_scalar(a, ops, scalars, env) for a in [e.left, *e.comparators])
        if isinstance(e, ast.Attribute) and _is_global_chain(e, env):
            return isinstance(env.resolve(e), (int, float))
        if isinstance(e, ast.Call):
            target = _safe_resolve(e.func, env)
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
        kinds = call_kinds(func, e, lambda a: 0 if _scalar(a, ops, scalars, env) else (ndims or {}).get(getattr(a, "id", None)))
        return returns_kind(func, kinds) == 0
    if op.kind == RULE:
        flags = {p: _scalar(a, ops, scalars, env) for p, a in op.bound.items() if isinstance(a, ast.Name)}
        return op.rule.is_scalar(op.bound, flags)
    return False


def _safe_resolve(func: ast.expr, env: Env) -> Any:
    try:
        return env.resolve(func)
    except (AttributeError, TypeError):
        return None
