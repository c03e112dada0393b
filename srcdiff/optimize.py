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
- Dead code: an assignment of an operation without calls to a name nobody reads.
"""

from __future__ import annotations

import ast
import operator
from collections import Counter

from .names import drop_statements
from .reverse import Transformed

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
    for fn in transformed.module.body:
        if isinstance(fn, ast.FunctionDef):
            for _ in range(10):
                before = ast.dump(fn)
                fn.body = _Fold().visit_block(fn.body)
                _propagate_copies(fn, transformed.temporaries)
                fn.body = _drop_dead(fn.body, _reads(fn))
                if ast.dump(fn) == before:
                    break
    return transformed


def _is_number(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and type(e.value) in (int, float, bool)


class _Fold(ast.NodeTransformer):
    def visit_block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        return [self.visit(s) for s in body]

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
        if isinstance(node.op, ast.Add) and _pure(left) and ast.dump(left) == ast.dump(right):
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


def _is_none(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


def _assignment_counts(fn: ast.FunctionDef) -> Counter:
    counts: Counter = Counter(a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg))
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            counts[n.id] += 1
    return counts


def _reads(fn: ast.FunctionDef) -> Counter:
    return Counter(n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _stores(s: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _propagate_copies(fn: ast.FunctionDef, temporaries: frozenset[str]) -> None:
    counts = _assignment_counts(fn)

    def block(body: list[ast.stmt], inherited: dict[str, str]) -> list[ast.stmt]:
        copies = dict(inherited)  # a -> b for ``a = b`` still valid here
        out = []
        for s in body:
            nested = [f for f in ("body", "orelse") if isinstance(getattr(s, f, None), list) and getattr(s, f)]
            if nested:  # substitute into the test here, and into each branch as far as it keeps b unchanged
                header = [getattr(s, f) for f in ("test", "iter") if getattr(s, f, None) is not None]
                for e in header:
                    _Substitute(copies).visit(e)
                inner = copies
                if isinstance(s, (ast.For, ast.While)):  # a write late in the body changes b for the next round
                    changed = _stores(s)
                    inner = {a: b for a, b in copies.items() if a not in changed and b not in changed}
                for f in nested:
                    setattr(s, f, block(getattr(s, f), inner))
            elif copies:
                _Substitute(copies).visit(s)
            for written in _stores(s):  # a write to b ends every copy of b
                copies = {a: b for a, b in copies.items() if b != written and a != written}
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
            out.append(s)
        return out

    fn.body = block(fn.body, {})
    reads = _reads(fn)

    def spent_copy(s: ast.stmt) -> bool:  # ``a = a``, or a copy nobody reads any more
        if not (isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)):
            return False
        target = s.targets[0].id
        return isinstance(s.value, ast.Name) and (s.value.id == target or (counts[target] == 1 and reads[target] == 0))

    fn.body = drop_statements(fn.body, spent_copy)


class _Substitute(ast.NodeTransformer):
    def __init__(self, copies: dict[str, str]) -> None:
        self.copies = copies

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if isinstance(node.ctx, ast.Load) and node.id in self.copies:
            return ast.Name(id=self.copies[node.id], ctx=ast.Load())
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        return node


def _pure(e: ast.expr) -> bool:
    return not any(isinstance(n, (ast.Call, ast.Subscript, ast.Attribute)) for n in ast.walk(e))


def _drop_dead(body: list[ast.stmt], reads: Counter) -> list[ast.stmt]:
    def dead(s: ast.stmt) -> bool:
        unread = all(isinstance(t, ast.Name) and reads[t.id] == 0 for t in getattr(s, "targets", [None]))
        return isinstance(s, ast.Assign) and unread and _pure(s.value)

    return drop_statements(body, dead)
