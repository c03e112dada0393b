"""Nest: a temporary read once goes back into the expression that reads it.

Normalisation names every operation (``_t3 = _t2 * a``): the transform needs the names, the
generated code does not. In a loop over floats each extra name costs a store and a load per
step, a third of a scalar loop's time. Where a generated temporary is assigned once and read
once, later in the same block, its expression replaces the read and its assignment goes:
``_t4 = x * x; _t5 = _t4 * 0.1; x = _t3 + _t5`` -> ``x = _t3 + x * x * 0.1``. The operations
and their order are the ones the names spelled out, so the values are the same to the bit.

An expression moved later keeps its value only if nothing it reads changes in between. That is
proven statement by statement, never assumed from a pattern:

- no statement in between assigns or deletes a name the expression reads;
- where the expression reads a name that may hold a mutable object (any name not proven a
  number), no statement in between may change memory: no item or attribute store, no
  augmented assignment of anything but a number, no call not known pure;
- the expression calls only functions known pure (``math``'s functions, NumPy's ufuncs called
  without keywords, the runtime's ``PURE``), so moving it moves no effect; in the reading
  statement, each call that does not enclose the read is pure too;
- no statement in between may leave the block (``break``, ``continue``, ``return``, ``raise``):
  an error the expression raises is raised on every path it was;
- the read is evaluated exactly once where it stands: not in a nested block, a lambda, a
  comprehension, a branch of ``a if c else b``, a later operand of ``and``/``or`` or of a
  chained comparison, or a ``while`` test (an ``if`` test and a ``for`` iterable are read once).
"""

from __future__ import annotations

import ast
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import runtime
from .names import nodes

_ONCE_HEADERS = {ast.If: "test", ast.For: "iter"}  # a compound statement's expression read once, before its body
_LEAVES = (ast.Break, ast.Continue, ast.Return, ast.Raise)
_LAZY = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr)


@dataclass
class _Pending:
    """An assignment ``name = value`` that may still move into a later statement of its block."""

    statement: ast.Assign
    reads: frozenset[str]
    reads_memory: bool  # reads a name that may hold a mutable object


def nest(fn: ast.FunctionDef, temporaries: frozenset[str], scalars: frozenset[str], bindings: dict[str, Any]) -> bool:
    """Nest ``fn``'s temporaries read once (see the module docstring); ``temporaries``: the
    generated names; ``scalars``: the names proven to hold numbers; ``bindings``: the globals
    of the generated module. Returns whether anything changed."""
    stores: Counter = Counter()
    reads: Counter = Counter()
    deleted: set[str] = set()
    for n in nodes(fn):
        if isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Load):
                reads[n.id] += 1
            elif isinstance(n.ctx, ast.Store):
                stores[n.id] += 1
            else:
                deleted.add(n.id)
        elif isinstance(n, ast.arg):
            stores[n.arg] += 1
    movable = {t for t in temporaries if stores[t] == 1 and reads[t] == 1 and t not in deleted}
    if not movable:
        return False
    nesting = _Nesting(movable, scalars, bindings)
    fn.body = nesting.block(fn.body)
    return nesting.changed


class _Nesting:
    def __init__(self, movable: set[str], scalars: frozenset[str], bindings: dict[str, Any]) -> None:
        self.movable, self.scalars, self.bindings = movable, scalars, bindings
        self.changed = False

    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        pending: dict[str, _Pending] = {}
        moved: list[ast.stmt] = []  # held, so their ids stay theirs while the block is rebuilt
        for s in body:
            for f in ("body", "orelse", "finalbody"):
                inner = getattr(s, f, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(s, f, self.block(inner))
            for h in getattr(s, "handlers", None) or []:
                h.body = self.block(h.body)
            header = _ONCE_HEADERS.get(type(s))
            read_here = getattr(s, header) if header else s if _simple(s) else None
            if read_here is not None and pending:
                for name in self._nest_into(s, header, read_here, pending):
                    moved.append(pending.pop(name).statement)
            self._end_what_changes(s, pending)
            if self._candidate(s):
                target = s.targets[0].id
                value_reads = frozenset(n.id for n in nodes(s.value) if isinstance(n, ast.Name))
                pending[target] = _Pending(s, value_reads, not value_reads <= self.scalars)
        if not moved:
            return body
        self.changed = True
        gone = {id(s) for s in moved}
        return [s for s in body if id(s) not in gone]

    def _candidate(self, s: ast.stmt) -> bool:
        return (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id in self.movable
            and all(self._pure_call(c) for c in nodes(s.value) if isinstance(c, ast.Call))
            and not any(isinstance(n, _LAZY) for n in nodes(s.value))
        )

    def _nest_into(self, s: ast.stmt, header: str | None, read_here: ast.AST, pending: dict[str, _Pending]) -> list[str]:
        """Replace in ``read_here`` (``s``, or its header) the reads of pending names it may take;
        returns those names."""
        if any(isinstance(n, ast.NamedExpr) for n in nodes(read_here)):  # it may bind a name before the read
            return []
        uses: dict[str, list[ast.AST]] = {}  # pending name -> the nodes enclosing its read
        calls: list[ast.Call] = []
        _positions(read_here, [], True, pending, uses, calls)
        if not uses:
            return []
        impure = [c for c in calls if not self._pure_call(c)]
        taken = [name for name, enclosing in uses.items() if all(any(c is e for e in enclosing) for c in impure)]
        if taken:
            values = {name: pending[name].statement.value for name in taken}
            replaced = _Replace(values).visit(read_here)
            if header:
                setattr(s, header, replaced)
        return taken

    def _end_what_changes(self, s: ast.stmt, pending: dict[str, _Pending]) -> None:
        """Forget the pending assignments whose values ``s`` may change."""
        if not pending:
            return
        written: set[str] = set()
        changes_memory = False
        for n in nodes(s):  # (one walk: this runs for each statement while anything is pending)
            if isinstance(n, ast.Name):
                if not isinstance(n.ctx, ast.Load):
                    written.add(n.id)
            elif isinstance(n, _LEAVES):  # a value computed before a jump is computed on every path
                pending.clear()
                return
            elif not changes_memory:
                changes_memory = self._changes_memory(n)
        for name in [p for p, v in pending.items() if v.reads & written or (changes_memory and v.reads_memory)]:
            del pending[name]

    def _changes_memory(self, n: ast.AST) -> bool:
        if isinstance(n, (ast.Subscript, ast.Attribute)):
            return not isinstance(n.ctx, ast.Load)
        if isinstance(n, ast.AugAssign):
            return not (isinstance(n.target, ast.Name) and n.target.id in self.scalars)
        if isinstance(n, ast.Call):
            return not self._pure_call(n)
        return isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal))

    def _pure_call(self, call: ast.Call) -> bool:
        """A call of a function known to change nothing: a ``math`` function, a NumPy ufunc called
        without keywords (``out=`` writes), or one of the runtime's ``PURE`` helpers."""
        func = call.func
        if isinstance(func, ast.Name):
            obj = self.bindings.get(func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            holder = self.bindings.get(func.value.id)
            obj = getattr(holder, func.attr, None) if holder is math or holder is np else None
        else:
            return False
        if obj is None:
            return False
        if isinstance(obj, np.ufunc):  # (an argument past its inputs is its out)
            return not call.keywords and len(call.args) <= obj.nin and not any(isinstance(a, ast.Starred) for a in call.args)
        return getattr(math, getattr(obj, "__name__", ""), None) is obj or any(obj is h for h in runtime.PURE)


def _simple(s: ast.stmt) -> bool:
    return isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return))


def _positions(
    node: ast.AST,
    enclosing: list[ast.AST],
    once: bool,
    pending: dict[str, _Pending],
    uses: dict[str, list[ast.AST]],
    calls: list[ast.Call],
) -> None:
    """Collect in ``uses`` the reads of pending names evaluated exactly once (with the calls
    enclosing each), and in ``calls`` every call of ``node``."""
    if isinstance(node, ast.Name):
        if once and isinstance(node.ctx, ast.Load) and node.id in pending:
            uses[node.id] = list(enclosing)
        return
    if isinstance(node, ast.Call):
        calls.append(node)
    if isinstance(node, _LAZY):
        once = False
    for f in node._fields:
        value = getattr(node, f, None)
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if not isinstance(child, ast.AST):
                continue
            later = (
                (isinstance(node, ast.IfExp) and f != "test")
                or (isinstance(node, ast.BoolOp) and i > 0)
                or (isinstance(node, ast.Compare) and f == "comparators" and i > 0)
            )
            enclosing.append(node)
            _positions(child, enclosing, once and not later, pending, uses, calls)
            enclosing.pop()


class _Replace(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return self.values[node.id]
        return node
