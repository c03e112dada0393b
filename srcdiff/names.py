"""Names: which identifiers code uses, fresh names that collide with none, AST builders and walks."""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}  # an ast class -> its fields that may hold nodes


def child_fields(cls: type) -> tuple[str, ...]:
    """The fields of an ast class that may hold nodes, but an expression's context."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = tuple(f for f in cls._fields if f != "ctx")
    return fields


def nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` but expression contexts (``Load``, ``Store``), in no particular
    order: ``ast.walk`` for a question about a set of nodes, about twice as fast."""
    todo = [tree]
    pop, push = todo.pop, todo.append
    while todo:
        node = pop()
        yield node
        for f in child_fields(node.__class__):
            value = getattr(node, f, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        push(item)
            elif isinstance(value, ast.AST):
                push(value)


def fix_missing_locations(tree: ast.AST) -> ast.AST:
    """``ast.fix_missing_locations``: a node without a position takes its parent's (the root's
    first), without the generators (a transform's whole output is located this way)."""
    todo = [(tree, 1, 0, 1, 0)]
    while todo:
        node, line, col, end_line, end_col = todo.pop()
        attributes = node._attributes
        if "lineno" in attributes:  # as ast's: a missing start, or a missing or None end
            if not hasattr(node, "lineno"):
                node.lineno = line
            else:
                line = node.lineno
        if "end_lineno" in attributes:
            if getattr(node, "end_lineno", None) is None:
                node.end_lineno = end_line
            else:
                end_line = node.end_lineno
        if "col_offset" in attributes:
            if not hasattr(node, "col_offset"):
                node.col_offset = col
            else:
                col = node.col_offset
        if "end_col_offset" in attributes:
            if getattr(node, "end_col_offset", None) is None:
                node.end_col_offset = end_col
            else:
                end_col = node.end_col_offset
        for f in child_fields(node.__class__):
            value = getattr(node, f, None)
            if type(value) is list:
                todo.extend((item, line, col, end_line, end_col) for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                todo.append((value, line, col, end_line, end_col))
    return tree


def names_in(node: ast.AST) -> set[str]:
    """Every identifier in ``node``: variables, parameters, attribute roots."""
    found = set()
    for n in nodes(node):  # one walk for both
        if isinstance(n, ast.Name):
            found.add(n.id)
        elif isinstance(n, ast.arg):
            found.add(n.arg)
    return found


def parameters(tree: ast.FunctionDef) -> list[str]:
    """The names of a function's parameters, in order (not ``*args``/``**kwargs``, which parse refuses)."""
    return [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]


def local_names(tree: ast.AST) -> set[str]:
    """Parameters and every name the code assigns (Python's rule for locals)."""
    found = set()
    for node in nodes(tree):  # one walk for both
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return found


@dataclass
class Fresh:
    """Hands out names no one uses yet: ``_t1, _t2, ...`` or ``base, base_1, ...``."""

    taken: set[str]
    counters: dict[str, int] = field(default_factory=dict)
    record: set[str] | None = None  # also add each new name here (the normaliser's locals)

    def temp(self, prefix: str = "_t") -> str:
        while True:
            n = self.counters.get(prefix, 0) + 1
            self.counters[prefix] = n
            name = f"{prefix}{n}"
            if name not in self.taken:
                self.taken.add(name)
                if self.record is not None:
                    self.record.add(name)
                return name

    def like(self, base: str) -> str:
        name, n = base, 0
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        if self.record is not None:
            self.record.add(name)
        return name


_ATOMS = (str, int, float, complex, bool, bytes, type(None), type(Ellipsis))


def copy_tree(node: Any) -> Any:
    """A deep copy of an AST (what ``copy.deepcopy`` gives, several times faster): every node's
    fields and attributes are copied; a value that is neither a node, a list nor an atom (a
    marker some stage set) is deep-copied."""
    if isinstance(node, ast.AST):
        new = node.__class__.__new__(node.__class__)
        new.__dict__.update({k: copy_tree(v) for k, v in node.__dict__.items()})
        return new
    if isinstance(node, list):
        return [copy_tree(x) for x in node]
    if isinstance(node, _ATOMS):
        return node
    return copy.deepcopy(node)


def name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def assign(target: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[name(target, store=True)], value=value)


def drop_statements(body: list[ast.stmt], drop: Callable[[ast.stmt], bool]) -> list[ast.stmt]:
    """``body`` without the statements ``drop`` selects, at any depth (an emptied block gets
    ``pass``; an ``if`` on a name left with nothing in either branch goes too)."""
    out = []
    for s in body:
        if drop(s):
            continue
        for f in ("body", "orelse"):
            block = getattr(s, f, None)
            if isinstance(block, list) and block:
                setattr(s, f, drop_statements(block, drop) or ([ast.Pass()] if f == "body" else []))
        emptied = isinstance(s, ast.If) and all(isinstance(b, ast.Pass) for b in s.body) and not s.orelse
        if emptied and isinstance(s.test, ast.Name):  # nothing left to choose between (a name's test has no effect)
            continue
        out.append(s)
    return out


def count_statements(body: list[ast.stmt]) -> int:
    """The number of statements in ``body``, at any depth (the blocks ``drop_statements`` visits):
    how a pass that drops some tells whether it dropped only those."""
    return sum(
        1 + count_statements(getattr(s, "body", None) or []) + count_statements(getattr(s, "orelse", None) or [])
        for s in body
    )
