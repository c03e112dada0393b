"""Optimise generated functions: constant folding, copy propagation, dead code.

On entry and on exit: ``Transformed`` (its functions are rewritten in place);
each pass keeps the program's meaning and the passes repeat until nothing
changes. They are deliberately simple and local: a rewrite that needs a proof
about control flow is not made.

- Constant folding: ``2 - 1`` -> ``1``; ``x ** 1``, ``x * 1``, ``1 * x`` -> ``x``; ``e + e`` -> ``e * 2``;
  ``a if None is None else b`` -> ``a``.
- Copy propagation: after ``a = b``, where temporary ``a`` is assigned only there, later
  reads of ``a`` in the same block read ``b`` while ``b`` is unchanged; the copy
  goes when no read of ``a`` is left.
- Dead code: an assignment of an operation without calls (or a call of a helper in
  ``runtime.PURE``) to a name nobody reads.

Then a loop over a sequence's positions that only reads its items walks the items (``items``),
a temporary read once goes back into the expression that reads it (``nest``), and last,
each local is released after its last use (``release``): arrays go as soon as nothing reads them.
"""

from __future__ import annotations

import ast
import operator
from collections import Counter
from dataclasses import dataclass, field

from . import runtime
from .items import walk_items
from .names import child_fields, count_statements, drop_statements, nodes
from .nest import nest
from .release import hold_shapes, release
from .reverse import Transformed
from .spread import spread

_FOLD = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.Gt: operator.gt,
}


def optimize(transformed: Transformed) -> Transformed:
    """Rewrite every function of ``transformed`` until no pass changes anything."""
    # helpers bound under these names make a value and nothing else: an unread call of one goes
    pure_calls = frozenset(n for n, obj in transformed.bindings.items() if any(obj is h for h in runtime.PURE))
    for fn in transformed.module.body:
        if isinstance(fn, ast.FunctionDef):
            for _ in range(10):  # each pass says whether it changed anything
                fold = _Fold()
                fn.body = fold.visit_block(fn.body)
                changed = fold.changed
                changed |= spread(fn, transformed.bindings, transformed.scalars, transformed.ndims, transformed.not_containers)
                propagated, reads = _propagate_copies(fn, transformed.temporaries)
                changed |= propagated
                size = count_statements(fn.body)
                fn.body = _drop_dead(fn.body, reads, pure_calls)
                changed |= count_statements(fn.body) != size
                if not changed:
                    break
            walk_items(fn, transformed.ndims, transformed.bindings)
            hold_shapes(fn, transformed.bindings, transformed.stack, transformed.scalars)
            nest(fn, transformed.temporaries, transformed.scalars, transformed.bindings)
            release(fn, transformed.scalars)
    return transformed


def _is_number(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and type(e.value) in (int, float, bool)


def _same(a: ast.AST, b: ast.AST) -> bool:
    """Structural equality (what comparing ``ast.dump``s tells), stopping at the first difference."""
    if type(a) is not type(b):
        return False
    for f in a._fields:
        x, y = getattr(a, f, None), getattr(b, f, None)
        if isinstance(x, ast.AST):
            if not _same(x, y):
                return False
        elif isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y):
                return False
            for u, v in zip(x, y):
                if not (_same(u, v) if isinstance(u, ast.AST) else _same_value(u, v)):
                    return False
        elif not _same_value(x, y):
            return False
    return True


def _same_value(x: object, y: object) -> bool:
    """Equal as ``ast.dump`` tells: by repr for numbers (``0.0`` is not ``-0.0``; ``nan`` is ``nan``)."""
    if type(x) is not type(y):
        return False
    return repr(x) == repr(y) if isinstance(x, (float, complex)) else x == y


class _Fold(ast.NodeTransformer):
    def __init__(self) -> None:
        self.changed = False  # did any rewrite happen

    def visit_block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        return [self.visit(s) for s in body]

    def visit(self, node: ast.AST) -> ast.AST:
        rewrite = _FOLDS.get(node.__class__)
        new = rewrite(self, node) if rewrite is not None else self.generic_visit(node)
        if new is not node:
            self.changed = True
        return new

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """``NodeTransformer.generic_visit`` (lists are changed in place), without its generators."""
        for f in child_fields(node.__class__):
            value = getattr(node, f, None)
            if type(value) is list:
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        new = self.visit(item)
                        if new is not item:
                            value[i] = new
            elif isinstance(value, ast.AST):
                new = self.visit(value)
                if new is not value:
                    setattr(node, f, new)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        left, right = node.left, node.right
        fold = _FOLD.get(type(node.op))
        if fold and _is_number(left) and _is_number(right):
            try:
                value = fold(left.value, right.value)
            except (ArithmeticError, ValueError):
                return node
            if type(value) in (int, float) and abs(value) < 1e15:
                return ast.Constant(value)
        if isinstance(node.op, ast.Add) and _same(left, right) and _pure(left):
            return ast.BinOp(left=left, op=ast.Mult(), right=ast.Constant(2))  # e + e is exactly e * 2
        one = lambda e: _is_number(e) and type(e.value) is int and e.value == 1  # noqa: E731
        if isinstance(node.op, (ast.Pow, ast.Mult)) and one(right):
            return left
        if isinstance(node.op, ast.Mult) and one(left):
            return right
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        fold = _FOLD.get(type(node.ops[0]))
        if len(node.ops) == 1 and fold and _is_number(node.left) and _is_number(node.comparators[0]):
            return ast.Constant(fold(node.left.value, node.comparators[0].value))
        texts = _is_text(node.left) and _is_text(node.comparators[0])
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)) and texts:
            # ``'C' == 'C'``: a rule's string option filled into ``np.reshape(g, s) if order == 'C' else ...``
            return ast.Constant((node.left.value == node.comparators[0].value) == isinstance(node.ops[0], ast.Eq))
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)) and _is_none(node.left):
            # ``None is None``: a rule's default filled into ``1.0 if b is None else b``
            right = node.comparators[0]
            if isinstance(right, ast.Constant):
                return ast.Constant(_is_none(right) == isinstance(node.ops[0], ast.Is))
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node


_FOLDS = {ast.BinOp: _Fold.visit_BinOp, ast.Compare: _Fold.visit_Compare, ast.IfExp: _Fold.visit_IfExp}


def _is_text(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and type(e.value) is str


def _is_none(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


@dataclass
class _Names:
    """What one walk of a function finds: how many times each name is assigned (a parameter
    once) and read, and the names each statement assigns (its nested blocks' included)."""

    counts: Counter = field(default_factory=Counter)
    reads: Counter = field(default_factory=Counter)
    stores: dict[int, set[str]] = field(default_factory=dict)  # id(statement) -> names

    @classmethod
    def of(cls, fn: ast.FunctionDef) -> _Names:
        found = cls(counts=Counter(a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)))
        for f in fn._fields:
            if f != "body":
                found.expression(getattr(fn, f, None), set())
        for s in fn.body:
            found.statement(s)
        return found

    def statement(self, s: ast.stmt) -> set[str]:
        stored: set[str] = set()
        for f in s._fields:
            value = getattr(s, f, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                for inner in value:
                    stored |= self.statement(inner)
            else:
                self.expression(value, stored)
        self.stores[id(s)] = stored
        return stored

    def expression(self, value: object, stored: set[str]) -> None:
        for node in value if isinstance(value, list) else [value]:
            if not isinstance(node, ast.AST):
                continue
            for n in nodes(node):
                if isinstance(n, ast.Name):
                    if isinstance(n.ctx, ast.Store):
                        stored.add(n.id)
                        self.counts[n.id] += 1
                    elif isinstance(n.ctx, ast.Load):
                        self.reads[n.id] += 1


def _reads(fn: ast.FunctionDef) -> Counter:
    return Counter(n.id for n in nodes(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _propagate_copies(fn: ast.FunctionDef, temporaries: frozenset[str]) -> tuple[bool, Counter]:
    """Substitute copies and drop the spent ones; returns whether anything changed, and how many
    times each name is read afterwards."""
    names = _Names.of(fn)
    counts, reads, stores = names.counts, names.reads, names.stores
    substituted = []  # one entry per block where a read was replaced

    def block(body: list[ast.stmt], inherited: dict[str, str]) -> list[ast.stmt]:
        copies = dict(inherited)  # a -> b for ``a = b`` still valid here
        sources = set(copies.values())  # the b's
        out = []
        for s in body:
            nested = [f for f in ("body", "orelse") if isinstance(getattr(s, f, None), list) and getattr(s, f)]
            if nested:  # substitute into the test here, and into each branch as far as it keeps b unchanged
                header = [getattr(s, f) for f in ("test", "iter") if getattr(s, f, None) is not None]
                for e in header:
                    substituted.extend(_Substitute(copies).replaced(e))
                inner = copies
                if isinstance(s, (ast.For, ast.While)):  # a write late in the body changes b for the next round
                    changed = stores[id(s)]
                    inner = {a: b for a, b in copies.items() if a not in changed and b not in changed}
                for f in nested:
                    setattr(s, f, block(getattr(s, f), inner))
            elif copies:
                substituted.extend(_Substitute(copies).replaced(s))
            written = stores[id(s)]  # a write to a or b ends the copy ``a = b``
            if written and not (written.isdisjoint(copies) and written.isdisjoint(sources)):
                copies = {a: b for a, b in copies.items() if a not in written and b not in written}
                sources = set(copies.values())
            is_copy = (
                isinstance(s, ast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Name)
                and isinstance(s.value, ast.Name)
                and counts[s.targets[0].id] == 1
                and s.targets[0].id in temporaries  # the user's own names stay in the code
            )
            if is_copy and s.targets[0].id != s.value.id:
                copies[s.targets[0].id] = s.value.id
                sources.add(s.value.id)
            out.append(s)
        return out

    fn.body = block(fn.body, {})
    if substituted:  # counted again: a subtree may sit in two places, so substituting changes reads twice
        reads = _reads(fn)

    def spent_copy(s: ast.stmt) -> bool:  # ``a = a``, or a copy nobody reads any more
        if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
            return False
        target = s.targets[0].id
        return isinstance(s.value, ast.Name) and (s.value.id == target or (counts[target] == 1 and reads[target] == 0))

    size = count_statements(fn.body)
    dropped: list[ast.Assign] = []
    fn.body = drop_statements(fn.body, lambda s: spent_copy(s) and not dropped.append(s))
    for s in dropped:
        reads[s.value.id] -= 1
    if count_statements(fn.body) != size - len(dropped):  # an ``if c:`` left empty went too, and its read of c
        reads = _reads(fn)
    return bool(substituted) or bool(dropped), reads


class _Substitute(ast.NodeTransformer):
    def __init__(self, copies: dict[str, str]) -> None:
        self.copies = copies
        self.count = 0

    def replaced(self, node: ast.AST) -> list[int]:
        """Substitute in ``node``; ``[count]`` if any read was replaced, else ``[]``. A bare name
        (a loop's ``if c:``) is left as it is: its holder keeps the node."""
        if isinstance(node, ast.Name):
            return []
        self.visit(node)
        return [self.count] if self.count else []

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if isinstance(node.ctx, ast.Load) and node.id in self.copies:
            self.count += 1
            return ast.Name(id=self.copies[node.id], ctx=ast.Load())
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        return node


def _pure(e: ast.expr) -> bool:
    return not any(isinstance(n, (ast.Call, ast.Subscript, ast.Attribute)) for n in nodes(e))


def _drop_dead(body: list[ast.stmt], reads: Counter, pure_calls: frozenset[str] = frozenset()) -> list[ast.stmt]:
    def dead(s: ast.stmt) -> bool:
        unread = all(isinstance(t, ast.Name) and reads[t.id] == 0 for t in getattr(s, "targets", [None]))
        if not (isinstance(s, ast.Assign) and unread):
            return False
        call = s.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in pure_calls and not call.keywords:
            return all(_pure(a) for a in call.args)
        return _pure(call)

    body = drop_statements(body, dead)
    return [s for k, s in enumerate(body) if not _replays_nothing(s, body[k + 1 :])]


def _replays_nothing(s: ast.stmt, after: list[ast.stmt]) -> bool:
    """A loop of the function's body that does nothing (``for k in reversed(_t1): pass``, a backward
    sweep with nothing to replay) and whose variable nothing after it reads: it only binds that.
    (Iterating a name, or ``reversed``/``range`` of one, has no effect of its own.)"""
    if not (isinstance(s, ast.For) and isinstance(s.target, ast.Name) and not s.orelse):
        return False
    if not all(isinstance(b, ast.Pass) for b in s.body):
        return False
    walked = s.iter
    if isinstance(walked, ast.Call) and isinstance(walked.func, ast.Name) and walked.func.id in ("reversed", "range"):
        walked = walked.args[0] if len(walked.args) == 1 and not walked.keywords else None
    if not isinstance(walked, ast.Name):
        return False
    target = s.target.id
    return not any(isinstance(n, ast.Name) and n.id == target and isinstance(n.ctx, ast.Load) for t in after for n in nodes(t))
