"""Tapes for compiled code: a stack per variable, and a stack of floats as a float64 array.

On entry: the entry function's tree as ``compiled.lower`` rewrites it, and the parameters
known to hold floats (scalars in ``wrt``: srcdiff refuses an integer there, and the call
checks each is a float64; globals passed in, which the call checks keep their type) or ints.
On exit: the same tree, its loop stacks (``_stack = []``, ``_stack.append(v)``,
``v = _stack.pop()``) rewritten in three steps.

1. ``_split``: a stack holding the values of several variables of several types (a range, a
   bool, an array, floats), which Numba cannot put in one list, becomes a stack per variable
   and a stack of int tags with which each pop checks that it takes what its push gave.
2. A stack proven to hold only floats (or only ints: the tags) becomes an array and a count
   (grown by ``numba_runtime.tape_grow``): Numba's lists cost some 8 ns a push or a pop, an
   array's element one, and a second derivative's loops do little else.
3. Before a loop over a range, room is made for all its pushes (``tape_reserve``), so that
   they write without testing for room: the array is not reassigned inside the loop.

The proof is a small type inference, flow-insensitive: each name's possible kinds of value
(float, int, None, or unknown) joined over every assignment to it, a stack's over every
push, until nothing changes. A float comes from a float parameter, a float constant,
arithmetic with a float, division, or a ``math`` function that returns one. A stack
qualifies when every push is a float or the ``None`` that stands for a value pushed before
its first assignment (kept as NaN: Python reads it only after the last pop, and never in
arithmetic), and it is only ever pushed, popped, or given to ``zeros_like`` (the zero
adjoint of a stack at second order: a float tape of zeros).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable

FLOAT, INT, NONE, UNKNOWN = "float", "int", "none", "unknown"
_MATH_FLOATS = frozenset(
    "sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp expm1 log log1p log2 log10 sqrt pow "
    "fabs hypot erf erfc gamma lgamma copysign fmod exp2 cbrt".split()
)


def rewrite(
    tree: ast.FunctionDef, floats: set[str], ints: set[str], is_zeros_like: Callable[[ast.AST], bool], nan: str
) -> ast.FunctionDef:
    """``tree`` with its float stacks as arrays (see the module docstring): ``floats`` and ``ints``
    are parameters proven to hold them; ``is_zeros_like(node)`` tells a call of ``runtime.zeros_like``;
    ``nan`` names a global holding NaN."""
    _, stacks = _infer(tree, floats, ints)
    tree = _split(tree, {s for s, k in stacks.items() if k <= {FLOAT, NONE}})  # (a float tape as it is: no tags to pay)
    kinds, stacks = _infer(tree, floats, ints)
    tapes = _tapes(tree, stacks, is_zeros_like)
    int_tapes = {t for t in tapes if stacks[t] == {INT}}
    placeholders = {n for n, k in kinds.items() if k <= {FLOAT, NONE} and FLOAT in k} - _compared(tree)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    counts = {}
    for s in sorted(tapes):
        count = f"{s}_count"
        while count in taken:
            count += "_"
        counts[s] = count
    _Rewriter(tapes, counts, placeholders, is_zeros_like, nan, _ranges(tree), int_tapes).visit(tree)
    return tree


def _fresh(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _split(tree: ast.FunctionDef, keep: set[str]) -> ast.FunctionDef:
    """A stack per variable: each stack that is made by ``[]``, pushed names and popped into
    names only, and holds several names' values, becomes one stack per name and a stack of
    tags, the number of the name each push pushed. A pop checks its tag: the stack it pops is
    the one the matching push pushed (srcdiff's sweeps mirror each other, so it is; a tag that
    differs raises, a bug to report, not a wrong number). Each name's stack holds one type,
    which Numba needs, and floats among ranges and arrays become float tapes."""
    made: dict[str, int] = defaultdict(int)
    fresh_list: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.For, ast.comprehension)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        made[name.id] += 1
                        if (
                            isinstance(node, ast.Assign)
                            and target is name
                            and isinstance(node.value, ast.List)
                            and not node.value.elts
                        ):
                            fresh_list.add(name.id)
    pushed: dict[str, list[str]] = defaultdict(list)
    popped: dict[str, set[str]] = defaultdict(set)
    allowed: set[int] = set()
    for node in ast.walk(tree):
        push = _push_of(node)
        if push is not None and isinstance(push[1], ast.Name):
            pushed[push[0]].append(push[1].id)
            allowed.add(id(node.value.func.value))
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and _pop_of(node.value) is not None
        ):
            popped[_pop_of(node.value)].add(node.targets[0].id)
            allowed.add(id(node.value.func.value))
    misused = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in allowed}
    stacks = {
        st: sorted(set(names))
        for st, names in pushed.items()
        if st in fresh_list
        and made[st] == 1
        and st not in misused
        and st not in keep
        and popped[st] <= set(names)
        and len(set(names)) > 1
    }
    if not stacks:
        return tree
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | _parameters(tree)
    per_name = {st: {v: _fresh(f"{st}_{v}", taken) for v in names} for st, names in stacks.items()}
    tags = {st: (_fresh(f"{st}_tags", taken), _fresh(f"{st}_tag", taken)) for st in stacks}
    return _Splitter(stacks, per_name, tags).visit(tree)


def _parameters(tree: ast.FunctionDef) -> set[str]:
    a = tree.args
    return {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=func, ctx=ast.Load()), args=list(args), keywords=[])


def _method(obj: str, method: str, *args: ast.expr) -> ast.Call:
    return ast.Call(
        func=ast.Attribute(value=ast.Name(id=obj, ctx=ast.Load()), attr=method, ctx=ast.Load()), args=list(args), keywords=[]
    )


class _Splitter(ast.NodeTransformer):
    def __init__(self, stacks: dict[str, list[str]], per_name: dict[str, dict[str, str]], tags: dict[str, tuple[str, str]]):
        self.stacks, self.per_name, self.tags = stacks, per_name, tags

    def placed(self, statements: list[ast.stmt], node: ast.AST) -> list[ast.stmt]:
        return [ast.fix_missing_locations(ast.copy_location(t, node)) for t in statements]

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        target = node.targets[0].id if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) else None
        if target in self.stacks and isinstance(node.value, ast.List):  # s = []: a stack per name, and the tags
            names = [*self.per_name[target].values(), self.tags[target][0]]
            return self.placed(
                [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=ast.List(elts=[], ctx=ast.Load())) for n in names],
                node,
            )
        st = _pop_of(node.value)
        if target is not None and st in self.stacks:  # v = s.pop(): the tag says it is v's
            tags, tag = self.tags[st]
            k = self.stacks[st].index(target)
            wrong = ast.Compare(left=ast.Name(id=tag, ctx=ast.Load()), ops=[ast.NotEq()], comparators=[ast.Constant(k)])
            message = ast.Constant("srcdiff: a compiled tape was read out of order; please report this bug")
            return self.placed(
                [
                    ast.Assign(targets=[ast.Name(id=tag, ctx=ast.Store())], value=_method(tags, "pop")),
                    ast.If(test=wrong, body=[ast.Raise(exc=_call("AssertionError", message), cause=None)], orelse=[]),
                    ast.Assign(targets=node.targets, value=_method(self.per_name[st][target], "pop")),
                ],
                node,
            )
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST | list[ast.stmt]:
        push = _push_of(node)
        if push is not None and push[0] in self.stacks:  # s.append(v): v's stack, and its tag
            st, value = push
            k = self.stacks[st].index(value.id)
            return self.placed(
                [
                    ast.Expr(value=_method(self.per_name[st][value.id], "append", value)),
                    ast.Expr(value=_method(self.tags[st][0], "append", ast.Constant(k))),
                ],
                node,
            )
        return node


def _pop_of(node: ast.AST) -> str | None:
    """The stack ``node`` pops (``s.pop()``), or None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pop"
        and isinstance(node.func.value, ast.Name)
        and not node.args
        and not node.keywords
    ):
        return node.func.value.id
    return None


def _push_of(node: ast.AST) -> tuple[str, ast.expr] | None:
    """(stack, value) of a statement ``s.append(value)``, or None."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name)
            and len(call.args) == 1
            and not call.keywords
        ):
            return call.func.value.id, call.args[0]
    return None


def _infer(
    tree: ast.FunctionDef, floats: set[str], ints: set[str] = frozenset()
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Each name's possible kinds of value, and each stack's elements' (see the module docstring)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    stacks: dict[str, set[str]] = defaultdict(set)
    a = tree.args
    for p in (*a.posonlyargs, *a.args, *a.kwonlyargs):
        kinds[p.arg] = {FLOAT} if p.arg in floats else {INT} if p.arg in ints else {UNKNOWN}
    assignments: list[tuple[str, ast.expr]] = []
    pushes: list[tuple[str, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):  # a tuple target's names: unknown
                        assignments.append((name.id, node.value if target is name else None))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            assignments.append(
                (node.target.id, ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op, right=node.value))
            )
        elif isinstance(node, (ast.For, ast.comprehension)):
            for name in ast.walk(node.target):
                if isinstance(name, ast.Name):
                    assignments.append((name.id, None))  # (a range's ints are never pushed here: unknown will do)
        elif (push := _push_of(node)) is not None:
            pushes.append(push)

    def kind(e: ast.expr | None) -> set[str]:
        if e is None:
            return {UNKNOWN}
        if isinstance(e, ast.Constant):
            v = e.value
            return {NONE} if v is None else {FLOAT} if type(v) is float else {INT} if type(v) is int else {UNKNOWN}
        if isinstance(e, ast.Name):
            return set(kinds[e.id]) or set()
        if (stack := _pop_of(e)) is not None:
            return set(stacks[stack])
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
            return kind(e.operand) - {NONE}
        if isinstance(e, ast.IfExp):
            return kind(e.body) | kind(e.orelse)
        if isinstance(e, ast.BinOp):
            found = set()
            for x in kind(e.left) - {NONE}:  # None in arithmetic raises in Python: no value comes of it
                for y in kind(e.right) - {NONE}:
                    found.add(_arithmetic(x, y, e.op))
            return found
        if isinstance(e, ast.Call) and not e.keywords:
            f = e.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "math" and f.attr in _MATH_FLOATS:
                return {FLOAT}
            if isinstance(f, ast.Name) and f.id == "float" and len(e.args) == 1:
                return {FLOAT}
        return {UNKNOWN}

    changed = True
    while changed:  # joins only grow, over four kinds: a few rounds
        changed = False
        for name, value in assignments:
            new = kind(value) - kinds[name]
            if new:
                kinds[name] |= new
                changed = True
        for stack, value in pushes:
            new = kind(value) - stacks[stack]
            if new:
                stacks[stack] |= new
                changed = True
    return kinds, stacks


def _arithmetic(x: str, y: str, op: ast.operator) -> str:
    if UNKNOWN in (x, y):
        return UNKNOWN
    if isinstance(op, ast.Div):
        return FLOAT
    if isinstance(op, ast.Pow):  # a float to a float power may be complex in Python: only a float base to an int
        return FLOAT if x == FLOAT and y == INT else UNKNOWN
    if isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Mod, ast.FloorDiv)):
        return FLOAT if FLOAT in (x, y) else INT
    return UNKNOWN


def _compared(tree: ast.FunctionDef) -> set[str]:
    """Names compared anywhere (``v is None``): their None stays None."""
    return {n.id for c in ast.walk(tree) if isinstance(c, ast.Compare) for n in ast.walk(c) if isinstance(n, ast.Name)}


def _tapes(tree: ast.FunctionDef, stacks: dict[str, set[str]], is_zeros_like: Callable[[ast.AST], bool]) -> set[str]:
    """The stacks that become tapes: made by ``[]`` (or ``zeros_like`` of a float tape), pushed
    floats (and None placeholders) only, or ints only (the tags of ``_split``), and read by
    nothing but push, pop and ``zeros_like``."""
    floats = {s for s, k in stacks.items() if k <= {FLOAT, NONE} and FLOAT in k or k == {INT}}
    made: dict[str, list[ast.expr]] = defaultdict(list)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        made[name.id].append(node.value if target is name else None)
        elif isinstance(node, (ast.For, ast.comprehension, ast.AugAssign)):
            for name in ast.walk(node.target):
                if isinstance(name, ast.Name):
                    made[name.id].append(None)
    allowed: set[int] = set()  # the Name nodes that use a stack as a tape may be used
    zeros_of: dict[str, str] = {}  # d = zeros_like(s): d -> s
    for node in ast.walk(tree):
        if _push_of(node) is not None:
            allowed.add(id(node.value.func.value))
        elif isinstance(node, ast.Call) and _pop_of(node) is not None:
            allowed.add(id(node.func.value))
    for name, values in made.items():
        if len(values) == 1 and isinstance(values[0], ast.Call) and is_zeros_like(values[0]):
            arg = values[0].args[0] if len(values[0].args) == 1 else None
            if isinstance(arg, ast.Name):
                zeros_of[name] = arg.id
                allowed.add(id(arg))
    candidates = set()
    for s in floats | set(zeros_of):
        values = made.get(s, [])
        fresh = len(values) == 1 and isinstance(values[0], ast.List) and not values[0].elts
        if fresh or s in zeros_of:
            candidates.add(s)
    misused = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in allowed}
    tapes = candidates - misused
    # a pop lands in a plain name, nowhere, or in an expression of a simple statement that reads
    # it once, unconditionally, and pops that tape nowhere else (the count goes down before it);
    # any other pop keeps its stack a list
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        own = [e for e in ast.iter_child_nodes(node) if not isinstance(e, ast.stmt)]  # (not its blocks)
        pops = [c for e in own for c in ast.walk(e) if isinstance(c, ast.Call) and _pop_of(c) in tapes]
        if not pops:
            continue
        if not isinstance(node, _HOISTS) or _push_of(node) is not None:
            tapes -= {_pop_of(c) for c in pops}
            continue
        conditional = any(isinstance(c, _CONDITIONAL) for e in own for c in ast.walk(e))
        popped = [_pop_of(c) for c in pops]
        tapes -= {t for t in popped if conditional or popped.count(t) > 1}
    changed = True
    while changed:  # zeros of a stack that stays a list is a list; a tape's is a tape only if it is pushed floats
        changed = False
        for d, s in zeros_of.items():
            if d in tapes and (s not in tapes or not stacks[d] <= {FLOAT, NONE}):
                tapes.discard(d)
                changed = True
            if s in tapes and d not in tapes:  # zeros_like of a tape must give a tape
                tapes.discard(s)
                changed = True
    return tapes


_HOISTS = (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)  # statements whose pops the count can go before
_CONDITIONAL = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Compare)


def _ranges(tree: ast.FunctionDef) -> set[str]:
    """The names bound only to ranges: ``range(...)``, a range's slice, ``reversed`` of a range."""
    values: dict[str, list[ast.expr | None]] = defaultdict(list)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id].append(node.value)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.For, ast.comprehension)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        values[name.id].append(None)
    found: set[str] = set()
    changed = True
    while changed:  # a range's slice of a range...: a few rounds
        changed = False
        for name, assigned in values.items():
            if name not in found and all(e is not None and _is_range(e, found) for e in assigned):
                found.add(name)
                changed = True
    a = tree.args
    return found - {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}


def _is_range(e: ast.expr, ranges: set[str]) -> bool:
    if isinstance(e, ast.Name):
        return e.id in ranges
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and not e.keywords:
        if e.func.id == "range":
            return True
        return e.func.id == "reversed" and len(e.args) == 1 and _is_range(e.args[0], ranges)
    return isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Slice) and _is_range(e.value, ranges)


def _pushes_per_iteration(loop: ast.For, tapes: set[str]) -> dict[str, list[ast.Expr]]:
    """The pushes onto each tape in ``loop``'s body, outside loops nested in it, for tapes pushed
    nowhere in those nested loops: each runs at most once an iteration."""
    nested = [n for n in ast.walk(loop) if isinstance(n, (ast.For, ast.While)) and n is not loop]
    inner = {id(p) for n in nested for p in ast.walk(n)}
    found: dict[str, list[ast.Expr]] = defaultdict(list)
    refused: set[str] = set()
    for node in ast.walk(loop):
        push = _push_of(node)
        if push is not None and push[0] in tapes:
            (refused.add(push[0]) if id(node) in inner else found[push[0]].append(node))
    return {t: pushes for t, pushes in found.items() if t not in refused}


class _Rewriter(ast.NodeTransformer):
    def __init__(
        self,
        tapes: set[str],
        counts: dict[str, str],
        placeholders: set[str],
        is_zeros_like: Callable[[ast.AST], bool],
        nan: str,
        ranges: set[str],
        int_tapes: set[str],
    ):
        self.tapes, self.counts, self.placeholders, self.is_zeros_like, self.nan = tapes, counts, placeholders, is_zeros_like, nan
        self.ranges, self.int_tapes = ranges, int_tapes
        self.reserved: set[int] = set()  # pushes with room made before their loop: no test for it

    def visit_For(self, node: ast.For) -> ast.AST | list[ast.stmt]:
        """A loop over a range pushes each tape at most so many times an iteration: room for all
        of them is made once, before it (``tape_reserve``), and its pushes write without a test."""
        reserve = []
        if _is_range(node.iter, self.ranges):
            for s, pushes in sorted(_pushes_per_iteration(node, self.tapes).items()):
                if any(id(p) in self.reserved for p in pushes):
                    continue  # (an outer loop made room already)
                self.reserved |= set(map(id, pushes))
                iterations = ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[node.iter], keywords=[])
                needed = ast.BinOp(
                    left=self.count(s, ast.Load()),
                    op=ast.Add(),
                    right=ast.BinOp(left=ast.Constant(len(pushes)), op=ast.Mult(), right=iterations),
                )
                call = ast.Call(
                    func=ast.Name(id="tape_reserve", ctx=ast.Load()), args=[ast.Name(id=s, ctx=ast.Load()), needed], keywords=[]
                )
                reserve.append(
                    ast.fix_missing_locations(
                        ast.copy_location(ast.Assign(targets=[ast.Name(id=s, ctx=ast.Store())], value=call), node)
                    )
                )
        self.generic_visit(node)
        return [*reserve, node] if reserve else node

    def count(self, s: str, ctx: ast.expr_context) -> ast.Name:
        return ast.Name(id=self.counts[s], ctx=ctx)

    def visit_Expr(self, node: ast.Expr) -> ast.AST | list[ast.stmt]:
        push = _push_of(node)
        if push is not None and push[0] in self.tapes:
            s, value = push  # if full: grow (rarely); then write and count. One array, not reassigned per push
            write = ast.Subscript(value=ast.Name(id=s, ctx=ast.Load()), slice=self.count(s, ast.Load()), ctx=ast.Store())
            written = [
                ast.Assign(targets=[write], value=self.value(value)),
                ast.AugAssign(target=self.count(s, ast.Store()), op=ast.Add(), value=ast.Constant(1)),
            ]
            if id(node) in self.reserved:
                return [ast.fix_missing_locations(ast.copy_location(t, node)) for t in written]
            full = ast.Compare(
                left=self.count(s, ast.Load()),
                ops=[ast.Eq()],
                comparators=[
                    ast.Subscript(
                        value=ast.Attribute(value=ast.Name(id=s, ctx=ast.Load()), attr="shape", ctx=ast.Load()),
                        slice=ast.Constant(0),
                        ctx=ast.Load(),
                    )
                ],
            )
            grow = ast.Call(func=ast.Name(id="tape_grow", ctx=ast.Load()), args=[ast.Name(id=s, ctx=ast.Load())], keywords=[])
            statements = [
                ast.If(test=full, body=[ast.Assign(targets=[ast.Name(id=s, ctx=ast.Store())], value=grow)], orelse=[]),
                *written,
            ]
            return [ast.fix_missing_locations(ast.copy_location(t, node)) for t in statements]
        if _pop_of(node.value) in self.tapes:
            s = _pop_of(node.value)
            return ast.copy_location(ast.AugAssign(target=self.count(s, ast.Store()), op=ast.Sub(), value=ast.Constant(1)), node)
        return self.hoisted(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        return self.hoisted(node)

    def visit_Return(self, node: ast.Return) -> ast.AST | list[ast.stmt]:
        return self.hoisted(node)

    def hoisted(self, node: ast.stmt) -> ast.AST | list[ast.stmt]:
        """A statement reading tapes' pops inside an expression (``dx = dx + s.pop()``): each count
        goes down first, and each pop reads the element it uncovered (``_tapes`` let through only
        pops evaluated once, one per tape)."""
        popped = {_pop_of(c) for c in ast.walk(node) if isinstance(c, ast.Call) and _pop_of(c) in self.tapes}
        if not popped:
            return node
        before = [
            ast.copy_location(ast.AugAssign(target=self.count(s, ast.Store()), op=ast.Sub(), value=ast.Constant(1)), node)
            for s in sorted(popped)
        ]
        return [*before, _ReadPopped(self).visit(node)]

    def value(self, e: ast.expr) -> ast.expr:
        return ast.Name(id=self.nan, ctx=ast.Load()) if isinstance(e, ast.Constant) and e.value is None else e

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        single = len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
        target = node.targets[0].id if single else None
        if single and target in self.tapes:
            if isinstance(node.value, ast.List):  # s = []
                made = _call("tape_new_int" if target in self.int_tapes else "tape_new")
                start: ast.expr = ast.Constant(0)
            else:  # d = zeros_like(s): as many zeros as s holds
                s = node.value.args[0].id
                made = ast.Call(func=ast.Name(id="tape_zeros", ctx=ast.Load()), args=[self.count(s, ast.Load())], keywords=[])
                start = self.count(s, ast.Load())
            return [
                ast.copy_location(ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=made), node),
                ast.copy_location(ast.Assign(targets=[self.count(target, ast.Store())], value=start), node),
            ]
        if isinstance(node.value, ast.Constant) and node.value.value is None:
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if len(names) == len(node.targets) and any(n in self.placeholders for n in names):
                out = []  # x = y = None: each name its own placeholder
                for n in names:
                    value = ast.Name(id=self.nan, ctx=ast.Load()) if n in self.placeholders else ast.Constant(None)
                    out.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=value), node))
                return out
        return self.hoisted(node)


class _ReadPopped(ast.NodeTransformer):
    """``s.pop()`` of a tape -> ``s[count]``, its count already down by one."""

    def __init__(self, rewriter: _Rewriter) -> None:
        self.rewriter = rewriter

    def visit_Call(self, node: ast.Call) -> ast.expr:
        s = _pop_of(node)
        if s in self.rewriter.tapes:
            read = ast.Subscript(value=ast.Name(id=s, ctx=ast.Load()), slice=self.rewriter.count(s, ast.Load()), ctx=ast.Load())
            return ast.copy_location(read, node)
        self.generic_visit(node)
        return node
