"""Names: which identifiers code uses, fresh names that collide with none, AST builders and walks."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field


def names_in(node: ast.AST) -> set[str]:
    """Every identifier in ``node``: variables, parameters, attribute roots."""
    found = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    found |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    return found


def parameters(tree: ast.FunctionDef) -> list[str]:
    """The names of a function's parameters, in order (not ``*args``/``**kwargs``, which parse refuses)."""
    return [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]


def local_names(tree: ast.AST) -> set[str]:
    """Parameters and every name the code assigns (Python's rule for locals)."""
    found = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
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
