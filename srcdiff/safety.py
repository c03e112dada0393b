"""Safety: refuse programs whose gradient would be silently wrong, or check them at run time.

On entry: a normalised tree, its operations (``operations.classify``), and which names
are varied (depend on ``wrt``) and of which kinds. Each check raises a diagnostic at
the user's line, or returns: a value being differentiated that reaches an operation
without a rule (``refuse_unknown``) or a place where no derivative flows
(``refuse_lost_derivatives``); writing in place into a value proven to share another's
data while both are bound (``refuse_aliases``, through ``shared_with``, flow by flow); a
value read after a write into data it shares (``stale_reads``: refused where the sharing is
proven, and otherwise returned as the run-time checks the transforms put before the write,
``runtime.check_unshared``); a helper that changes its caller's value
(``refuse_changed_parameters``); a write into an element of a value that may hold a Dask array
(``refuse_duck_writes``); a loop over a dict itself (``refuse_dict_iteration``);
and arithmetic on lists (``refuse_list_arithmetic``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping

from . import rules
from .errors import NoDerivativeRule, UnsupportedSyntax
from .names import local_names, nodes, parameters
from .operations import CALL, CONSTANT, COPY, INDEX, PACK, POP, RULE, Op, appended_to, changed_in_place, walk_statements
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
                op.rule.how_to_add("vjp"),
            )


VIEW_FUNCTIONS = rules.VIEWS  # declared with the rules: rules.returns_views(...)
# builtins whose result holds its argument's elements (an array's rows: views), not copies of them
ELEMENT_HOLDERS = frozenset({list, tuple, reversed, sorted})
CallIsFresh = Callable[[ast.Call], bool]


def shared_with(value: ast.expr, op: Op, locals_: set[str], scalars: set[str], call_is_fresh: CallIsFresh) -> set[str]:
    """The local names whose data this operation's result may share (empty: a value of its own).

    Arithmetic and most NumPy functions make new arrays; a copy, an element or slice, a view
    (``x.T``, ``np.reshape``, ``np.asarray``), a user function that may return what it was
    given, or a call srcdiff knows nothing about may not.
    """
    names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in locals_}
    if op.kind in (COPY, POP):
        return names
    if op.kind == INDEX:  # integers and slices: a view (or a list's element); an index array: a copy
        base, parts = value.value, value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        basic = all(isinstance(p, (ast.Slice, ast.Constant)) or isinstance(p, ast.Name) and p.id in scalars for p in parts)
        return {base.id} & locals_ if isinstance(base, ast.Name) and basic else set()
    if op.kind == RULE:  # a view, or a function with rules of its own (custom_vjp): it may return what it was given
        own = op.rule.primal is not None or op.rule.with_tangent is not None
        shares = op.rule.func in VIEW_FUNCTIONS or op.rule.func in ELEMENT_HOLDERS or own
        return {a.id for a in op.operands if isinstance(a, ast.Name)} if shares else set()
    if op.kind == CALL:
        return set() if call_is_fresh(value) else names
    if op.kind == CONSTANT and (op.refusal is not None or op.func in VIEW_FUNCTIONS):
        return names  # rng.choice(xs), self.cache[...]: anything; stop_gradient(y): y itself
    return set()


def sharing_groups(
    body: list[ast.stmt],
    params: list[str],
    ops: dict[ast.AST, Op],
    locals_: set[str],
    scalars: set[str],
    also: Callable[[ast.Assign], set[str]] = lambda s: set(),
) -> Callable[[str], str]:
    """For each name, a representative of the names that may share its data: the parameters
    (a caller may pass views of one array), what is taken from them by index, copy or view,
    a loop's item and its sequence, and what ``also(s)`` says an assignment's target may share."""
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    for p in params[1:]:
        parent[find(p)] = find(params[0])
    for s in walk_statements(body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            op = ops[s.value]  # (what may share data too: an index of unknown kind may make a view)
            sharing = shared_with(s.value, op, locals_, scalars, lambda call: False)
            sharing |= maybe_shared_with(s.value, op, locals_, scalars)
            for n in sharing | also(s):
                parent[find(n)] = find(s.targets[0].id)
        elif isinstance(s, ast.For):  # an element of a list is a reference to it
            for n in {a.id for a in ast.walk(s.iter) if isinstance(a, ast.Name) and a.id in locals_}:
                parent[find(n)] = find(s.target.id)
    return find


def _through_temporaries(
    tree: ast.FunctionDef, ops: dict[ast.AST, Op], locals_: set[str], scalars: set[str], call_is_fresh: CallIsFresh
) -> Callable[[set[str]], set[str]]:
    """Sharing a normalisation temporary's data is sharing what it shares: a temporary that
    serves one statement (``y = y.copy()`` is ``_t1 = y.copy(); y = _t1``) counts only by its
    sources. One read twice (a local function's default, the same list in two inlined calls)
    is a name like any other."""
    reads: dict[str, int] = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            reads[n.id] = reads.get(n.id, 0) + 1
    definitions: dict[str, list[ast.expr]] = {}
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and s.targets[0].id.startswith("_"):
            if reads.get(s.targets[0].id, 0) <= 1:
                definitions.setdefault(s.targets[0].id, []).append(s.value)

    def resolve(names: set[str], seen: frozenset[str] = frozenset()) -> set[str]:
        out: set[str] = set()
        for n in names:
            if n in definitions and n not in seen:
                for v in definitions[n]:
                    out |= resolve(shared_with(v, ops[v], locals_, scalars, call_is_fresh), seen | {n})
            elif n not in definitions:
                out.add(n)
        return out

    return resolve


def refuse_aliases(
    tree: ast.FunctionDef,
    ops: dict[ast.AST, Op],
    origin: Origin,
    scalars: set[str],
    call_is_fresh: CallIsFresh,
) -> None:
    """Refuse writing in place into a value that may share its data with another name.

    ``y = x; y[0] = v`` changes ``x`` too in Python, and so do ``r = x[0]; r[1] = v``,
    ``y = np.reshape(x, s); y[0] = v`` and ``y = x.T; y += v``; srcdiff keeps one adjoint per
    name, so such aliasing would give a silently wrong gradient. A second name for an array
    or list that is itself changed in place later (``y = x`` then ``x[0] = v``,
    ``x.append(v)``) is refused too. Both are asked flow by flow: a change made before the
    binding, or after either name was bound anew, does not count; nor does one after which
    no other name of the binding is read (``a, b = h(x); b += v`` leaves the pair unread).
    """
    locals_ = local_names(tree)
    through_temporaries = _through_temporaries(tree, ops, locals_, scalars, call_is_fresh)
    shares: dict[int, set[str]] = {}  # id(binding) -> the names whose data its target may share
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and s.targets[0].id not in scalars:
            shared = through_temporaries(shared_with(s.value, ops[s.value], locals_, scalars, call_is_fresh))
            if shared - {s.targets[0].id}:
                shares[id(s)] = shared - {s.targets[0].id}
    changes = _changed_while_bound(tree.body, ops, scalars, shares)
    for s in walk_statements(tree.body):
        if id(s) not in changes:
            continue
        target, value, shared = s.targets[0].id, s.value, shares[id(s)]
        if target in changes[id(s)] and any(n.startswith("_default") for n in shared):
            raise origin.error(
                UnsupportedSyntax,
                s,
                "a local function's default value is one object that all its calls share, and a call changes it in place",
                "Default to None and make a new one inside: def h(v, acc=None): acc = [] if acc is None else acc.",
            )
        changed = {name for name, read_after in changes[id(s)].items() if read_after}
        if target in changed:
            others = ", ".join(f"'{n}'" for n in sorted(shared))
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"'{target}' may share its data with {others} (a copy, a view or an element), and '{target}' is changed in place",
                f"Take a copy where you read it: {target} = {_readable(value, '...')}.copy() (writing into it changes both).",
            )
        copied = ops[value].kind == COPY or ops[value].kind == RULE and ops[value].rule.func in VIEW_FUNCTIONS
        source = next(iter(sorted(changed & shared)), None)
        if copied and source is not None and not source.startswith("_") and not target.startswith("_"):
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"'{target}' would share its data with '{source}', and '{source}' is changed in place",
                f"Take a copy: {target} = {_readable(value, '...')}.copy() (srcdiff keeps one adjoint per name).",
            )


def _changed_while_bound(
    body: list[ast.stmt], ops: dict[ast.AST, Op], scalars: set[str], shares: dict[int, set[str]]
) -> dict[int, dict[str, bool]]:
    """For each binding ``target = value`` in ``shares``, the names among its target and the
    names it shares data with that are changed in place (``x[i] = v``, ``x += v`` on an array,
    ``x.append(v)``) while the binding is live and they still name the object it shares, each
    with whether another of those names is read after the change while it still names that
    object: flow by flow, so a write before the binding (``a *= c`` on a float, then
    ``a = y[-1]``), after a name was bound anew, or after which the other names are not read
    (``a, b = h(x); b += v`` leaves the pair ``h`` returned unread) is not a problem."""
    found: dict[int, dict[str, bool]] = {}

    def walk(block: list[ast.stmt], live: _Live) -> _Live:
        for s in block:
            if getattr(s, "puts_back", False):  # hs[0] = _el after _el[i] = v: _el is hs[0] again, not a second name
                live.rebind(s.element, bindings_of.get(s.element, ()))
            live.reads(_statement_reads(s), found)
            if isinstance(s, ast.If):
                live = walk(s.body, live.copy()).join(walk(s.orelse, live.copy()))
            elif isinstance(s, (ast.For, ast.While)):
                for _ in range(2):  # the body may not run; a second round sees the first's bindings
                    live = live.join(walk(s.body, live.copy()))
                    if isinstance(s, ast.While):  # its test is read again after each round
                        live.reads(_statement_reads(s), found)
                continue
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                target = s.targets[0].id
                if getattr(s, "in_place", False) and target not in scalars:  # x += v: the same array, changed
                    live.changes(target, found)
                else:  # a new object under this name: bindings of it end, others stop watching it
                    live.rebind(target, bindings_of.get(target, ()))
                    if id(s) in shares:
                        live.watch(id(s), shares[id(s)] | {target})
            name_changed = changed_in_place(s, ops)
            if name_changed is not None:
                live.changes(name_changed, found)
        return live

    bindings_of: dict[str, set[int]] = {}
    for s in walk_statements(body):
        if id(s) in shares:
            bindings_of.setdefault(s.targets[0].id, set()).add(id(s))
    walk(body, _Live())
    return found


def _statement_reads(s: ast.stmt) -> set[str]:
    """The names a statement reads itself: of an ``if`` or a loop, its test or what it walks (its
    blocks' statements read in their turn)."""
    parts = [getattr(s, f) for f in ("test", "iter") if getattr(s, f, None) is not None]
    if not isinstance(s, (ast.If, ast.For, ast.While)):
        parts = [s]
    return {n.id for part in parts for n in nodes(part) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class _Live:
    """The live bindings, the names each watches, indexed both ways (a statement touches only
    the bindings that watch its names, so a long function is not walked once per line), and
    for each binding the names changed in place whose change no other name has read yet."""

    def __init__(self) -> None:
        self.names: dict[int, set[str]] = {}  # binding -> the names it watches
        self.watchers: dict[str, set[int]] = {}  # name -> the bindings watching it
        self.unread: dict[int, set[str]] = {}  # binding -> names changed since, not yet read through another

    def copy(self) -> _Live:
        other = _Live()
        other.names = {b: set(names) for b, names in self.names.items()}
        other.watchers = {n: set(bs) for n, bs in self.watchers.items()}
        other.unread = {b: set(names) for b, names in self.unread.items()}
        return other

    def join(self, other: _Live) -> _Live:
        for b, names in other.names.items():
            self.watch(b, names)
        for b, names in other.unread.items():
            self.unread.setdefault(b, set()).update(names)
        return self

    def watch(self, binding: int, names: set[str]) -> None:
        self.names.setdefault(binding, set()).update(names)
        for n in names:
            self.watchers.setdefault(n, set()).add(binding)

    def rebind(self, name: str, bindings_of_name: Iterable[int]) -> None:
        for b in self.watchers.pop(name, ()):
            self.names[b].discard(name)
            if not self.names[b]:
                del self.names[b]
                self.unread.pop(b, None)
        for b in bindings_of_name:
            self.unread.pop(b, None)
            for n in self.names.pop(b, ()):
                self.watchers[n].discard(b)

    def changes(self, name: str, found: dict[int, dict[str, bool]]) -> None:
        for b in self.watchers.get(name, ()):
            found.setdefault(b, {}).setdefault(name, False)
            self.unread.setdefault(b, set()).add(name)

    def reads(self, names: set[str], found: dict[int, dict[str, bool]]) -> None:
        """A statement reads ``names``: a change to one name of a binding is seen through another."""
        for n in names:
            for b in self.watchers.get(n, ()):
                for changed in self.unread.get(b, set()) - {n}:
                    found[b][changed] = True


def refuse_changed_parameters(tree: ast.FunctionDef, ops: dict[ast.AST, Op], origin: Origin, written: set[str]) -> None:
    """Refuse a function called from differentiated code that changes a parameter in place:
    in Python the caller's array or list changes too, and srcdiff's copy would hide that."""
    params = parameters(tree)
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


def maybe_shared_with(value: ast.expr, op: Op, locals_: set[str], scalars: set[str]) -> set[str]:
    """The local names whose data this operation's result may share, beyond what
    ``shared_with`` proves: a container holds references to its elements (``hs = [h]``), and
    an index of unknown kind may be an integer or a slice (``Y[i]`` with ``i = np.argmax(...)``
    is a view), or a function without a rule may return its argument (``np.real_if_close``)."""
    names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in locals_} - scalars
    if op.kind == PACK:
        return names
    if op.kind == INDEX and isinstance(value.value, ast.Name):
        return {value.value.id} & names
    if op.kind == CONSTANT and isinstance(value, ast.Call):
        return names
    return set()


# One run-time check before an in-place write: the statement, the name written into, and
# the names read later that may share its data, each with the first line that reads it
# (``runtime.check_unshared``).
Check = tuple[ast.stmt, str, dict[str, int]]


class _StaleReads:
    """Refuse reading ``r = y[0]`` (or any value that may share ``y``'s data) after a later
    in-place change of ``y``, or check at run time that they do not share.

    NumPy shows the change through the view, so ``r`` would follow it; srcdiff gives ``r``
    an adjoint of its own and would miss that. ``views`` maps a name to the arrays whose
    data it is proven to share (through temporaries too); ``stale`` holds the names whose
    array has since been changed: reading one is refused. ``maybe`` maps a name to the names
    whose data it may share without proof (an element of a container, an index of unknown
    kind): reading one after a write that may change it gets a run-time check before the
    write (``checks``), which compares the memory actually written with the values read
    later. The walk is in source order; a loop body is walked twice, for the reads of the
    next iteration, and what a loop body or a branch leaves is merged with what it found,
    as it may not run.
    """

    def __init__(self, ops: dict[ast.AST, Op], origin: Origin | None, written: set[str], scalars: set[str], locals_: set[str],
                 call_is_fresh: CallIsFresh, bound: set[str], ndims: Mapping[str, int]) -> None:
        self.ops, self.origin, self.written, self.scalars, self.ndims = ops, origin, written, scalars, ndims
        self.locals, self.call_is_fresh = locals_, call_is_fresh
        self.views: dict[str, tuple[set[str], ast.expr]] = {}
        self.stale: set[str] = set()
        self.maybe: dict[str, set[str]] = {}
        # name -> the writes that may have changed it since, each with whether the name was surely bound there
        self.maybe_stale: dict[str, set[tuple[int, bool]]] = {}
        self.bound = set(bound)  # names bound on every path to here
        self.checks: dict[int, Check] = {}
        self.refusing = True

    def state(self) -> tuple:
        return (dict(self.views), set(self.stale), dict(self.maybe), dict(self.maybe_stale), set(self.bound))

    def restore(self, state: tuple) -> None:
        self.views, self.stale, self.maybe, self.maybe_stale, self.bound = (
            dict(state[0]), set(state[1]), dict(state[2]), dict(state[3]), set(state[4]))

    def run(self, block: list[ast.stmt], before: tuple) -> tuple:
        """Walk a block from the state ``before``; the state after it."""
        self.restore(before)
        self.walk(block)
        return self.state()

    def merge(self, outcomes: list[tuple]) -> None:
        """The state after one of several paths ran: a name views what it viewed on any path,
        is stale if it is on any, and is bound if it is on every one."""
        views: dict = {}
        maybe: dict[str, set[str]] = {}
        maybe_stale: dict[str, set] = {}
        for here, _, here_maybe, here_maybe_stale, _ in outcomes:
            for r, (arrays, taken) in here.items():
                views[r] = (views[r][0] | arrays, views[r][1]) if r in views else (arrays, taken)
            for r, roots in here_maybe.items():
                maybe[r] = maybe.get(r, set()) | roots
            for r, writes in here_maybe_stale.items():
                maybe_stale[r] = maybe_stale.get(r, set()) | writes
        self.views, self.maybe, self.maybe_stale = views, maybe, maybe_stale
        self.stale = set().union(*(o[1] for o in outcomes))
        self.bound = set.intersection(*(o[4] for o in outcomes))

    def walk(self, body: list[ast.stmt]) -> None:
        for s in body:
            read = _statement_reads(s)
            if getattr(s, "puts_back", False):  # hs[0] = _el: stores into hs, and brings it up to date
                self.put_back(s.targets[0].value.id, s.element)
                read.discard(s.targets[0].value.id)
            self.reads(s, read)
            if isinstance(s, ast.If):  # after it, what either branch left
                before = self.state()
                self.merge([self.run(s.body, before), self.run(s.orelse, before)])
            for _ in range(2 if isinstance(s, (ast.For, ast.While)) else 0):  # the reads of the next round too
                # the body may run or not: after it, what either left (a name rebound inside may still name the old array)
                before = self.state()
                if isinstance(s, ast.For):
                    self.bound.add(s.target.id)
                self.merge([before, self.run(s.body, self.state())])
            self.writes(s)

    def reads(self, s: ast.stmt, read: set[str]) -> None:
        if not self.refusing:
            return
        for r in sorted(read & self.stale):
            arrays, taken = self.views[r]
            raise self.origin.error(
                UnsupportedSyntax,
                s,
                f"'{r}' is a view of '{sorted(arrays)[0]}' (or shares its data), which was changed in place since",
                f"Take a copy when you read it: {r} = {_readable(taken, '...')}.copy().",
            )
        for r in sorted(read & set(self.maybe_stale)):
            for write, surely_bound in self.maybe_stale[r]:
                statement, target, readers = self.checks[write]
                if not surely_bound:  # not bound on every path to the write: nothing to check there
                    raise self.origin.error(
                        UnsupportedSyntax,
                        statement,
                        f"'{r}' may share its data with '{target}', which is changed in place here and read later",
                        f"Take a copy where '{r}' gets its value (.copy()), or make a new array instead of writing in place.",
                    )
                readers.setdefault(r, getattr(s, "lineno", 0))

    def writes(self, s: ast.stmt) -> None:
        changed = changed_in_place(s, self.ops)
        element = getattr(s, "element", None)  # xs[i] += v: Python changes the element xs[i] in place
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            target, value = s.targets[0].id, s.value
            in_place = getattr(s, "in_place", False) and target not in self.scalars
            if in_place:  # x += v: x's views see the change
                self.stale |= {r for r, (arrays, _) in self.views.items() if target in arrays and r != target}
                self.maybe_changed(s, target, {target}, {target})
            self.views.pop(target, None)
            self.stale.discard(target)
            self.maybe_stale.pop(target, None)
            for r in list(self.views):  # views of the object target named before keep viewing that object, not the new one
                arrays, taken = self.views[r]
                if target in arrays and r not in self.stale:
                    self.views[r] = (arrays - {target}, taken)
            self.bound.add(target)
            if target not in self.scalars:  # an element of a vector is a number of its own
                op = self.ops[value]
                shared = shared_with(value, op, self.locals, self.scalars, self.call_is_fresh) - {target}
                roots = set().union(*(self.views[n][0] if n in self.views else {n} for n in shared)) & self.written
                if roots and not _maybe_element(value, op, self.ndims, self.scalars):
                    self.views[target] = (roots, value)
                self.maybe[target] = self.roots(maybe_shared_with(value, op, self.locals, self.scalars) | shared) - {target}
            else:
                self.maybe.pop(target, None)
        elif appended_to(s):  # the list holds a reference to what it is given
            lst = appended_to(s)
            given = {a.id for a in s.value.args if isinstance(a, ast.Name) and a.id not in self.scalars}
            self.maybe[lst] = self.maybe.get(lst, set()) | self.roots(given)
        if changed is not None and not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
            self.stale |= {r for r, (arrays, _) in self.views.items() if changed in arrays and r != changed}
            if changed in self.written:  # an array's data (or of unknown kind)
                self.maybe_changed(s, changed, {changed, element} - {None}, {changed, element} - {None})
            elif element is not None:  # a list's element, changed by +=: what else holds it (its other slots too) sees it
                self.maybe_changed(s, changed, {element}, {element})

    def put_back(self, container: str, element: str) -> None:
        """``container[k] = element`` after writes into ``element`` (``normalize.write_through``):
        the container's slot holds what was written, so those writes leave it up to date."""
        if container in self.maybe_stale:
            self.maybe_stale[container] = {(w, bound) for w, bound in self.maybe_stale[container] if self.checks[w][1] != element}

    def roots(self, names: set[str]) -> set[str]:
        """``names`` and every name they may share data with."""
        found = set(names)
        for n in names:
            found |= self.maybe.get(n, set()) | (self.views[n][0] if n in self.views else set())
        return found

    def maybe_changed(self, s: ast.stmt, target: str, changed: set[str], written: set[str]) -> None:
        """A write at ``s`` into the data of ``changed``: the names that may share it, except
        the ``written`` ones themselves, may be stale."""
        touched = self.roots(changed)
        for r in self.maybe.keys() | touched:
            if r in written or r in self.scalars or r in self.stale:
                continue
            if r in touched or self.maybe.get(r, set()) & touched:
                self.checks.setdefault(id(s), (s, target, {}))
                self.maybe_stale[r] = self.maybe_stale.get(r, set()) | {(id(s), r in self.bound)}


def _maybe_element(value: ast.expr, op: Op, ndims: Mapping[str, int], scalars: set[str]) -> bool:
    """``y[i]`` (or ``y[i, j]``) with integers only, where ``y`` is not known to have more
    dimensions than the integers index: a number of its own (a copy) if it has exactly as many,
    a view if more. Not proven to share, then: a write into ``y`` gets the run-time check."""
    if op.kind != INDEX or not isinstance(value.value, ast.Name):
        return False
    parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]

    def integer(p: ast.expr) -> bool:
        return isinstance(p, ast.Constant) and type(p.value) is int or isinstance(p, ast.Name) and p.id in scalars

    return all(map(integer, parts)) and not ndims.get(value.value.id, -1) > len(parts)


def stale_reads(
    body: list[ast.stmt],
    ops: dict[ast.AST, Op],
    origin: Origin,
    written: set[str],
    scalars: set[str],
    locals_: set[str],
    call_is_fresh: CallIsFresh,
    params: list[str],
    ndims: Mapping[str, int],
) -> list[Check]:
    """Refuse a read of a value proven to share data with an array changed in place since it
    was taken; return the run-time checks for values that may share it (``_StaleReads``)."""
    walker = _StaleReads(ops, origin, written, scalars, locals_, call_is_fresh, set(params), ndims)
    walker.walk(body)
    return [check for check in walker.checks.values() if check[2]]


def may_share(
    body: list[ast.stmt], ops: dict[ast.AST, Op], scalars: set[str], locals_: set[str], call_is_fresh: CallIsFresh,
    name: str,
) -> set[str]:
    """The names whose data ``name`` may share at the end of ``body``, proven or not."""
    walker = _StaleReads(ops, None, set(), scalars, locals_, call_is_fresh, set(), {})
    walker.refusing = False
    walker.walk(body)
    return walker.roots({name}) - {name}


def refuse_duck_writes(tree: ast.FunctionDef, origin: Origin, ducks: set[str]) -> None:
    """Refuse a write into an element of a value that may hold another library's array
    (``ducks``: computed from a Dask or CuPy argument). The adjoints follow NumPy's semantics,
    where a write shows through every view of the array; Dask has no views (it writes by
    replacing the array's graph), so the same code computes something else there."""
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript) and s.targets[0].value.id in ducks:
            name = s.targets[0].value.id
            what = "a value" if name.startswith("_") else repr(name)
            raise origin.error(
                UnsupportedSyntax,
                s,
                f"a write into an element of {what}, which may hold a Dask (or other non-NumPy) array's data, "
                "cannot be differentiated: srcdiff's adjoints follow NumPy's views, which such arrays do not have",
                "Make a new array instead (np.where(mask, v, x), np.concatenate, np.stack), or pass NumPy arrays.",
            )


def refuse_dict_iteration(tree: ast.FunctionDef, origin: Origin, dicts: set[str]) -> None:
    """Refuse ``for k in d`` over a dict: the loop was lowered to read ``d[i]`` by position
    (for lists and arrays), which a dict does not have."""
    for s in walk_statements(tree.body):
        if isinstance(s, ast.For) and s.body and isinstance(s.body[0], ast.Assign):
            value = s.body[0].value
            if (
                isinstance(value, ast.Subscript)
                and isinstance(value.value, ast.Name)
                and value.value.id in dicts
                and isinstance(value.slice, ast.Name)
                and value.slice.id == s.target.id
                and s.target.id.startswith("_i")
            ):
                d = value.value.id
                raise origin.error(
                    UnsupportedSyntax,
                    s.body[0],  # the loop's own line
                    f"a loop over the dict '{d}' itself cannot be differentiated yet",
                    f"Loop over {d}.items(), {d}.keys() or sorted({d}).",
                )


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
                    "Use np.array(...) for numbers. To join lists, make the first one a local list: "
                    "ys = list(xs) + [v] (or ys = list(xs); ys.extend(more)).",
                )
