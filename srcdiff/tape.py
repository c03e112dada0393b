"""Tape planning: what the forward sweep keeps for the backward sweep, and how.

On entry: a normalised body and its ``Activity``. ``plan`` answers, for the
reverse transform, questions about the primal code (nothing here writes code):

- ``pushes(s, x)``: must definition ``s`` push the value of ``x`` it overwrites?
  Only if the backward sweep reads ``x`` and ``s`` can overwrite a value: a
  parameter, a name assigned more than once, or an assignment inside a loop.
- ``may_be_unbound(x)``: may ``x`` be read (pushed, or saved on a tape) before any
  assignment? Then the forward sweep starts it at ``None``.
- ``remat``: scalar temporaries in loops recomputed in the backward sweep instead
  of taped (``recompute`` writes the statements).
- ``indexed``: names whose adjoint is written element by element, so it must be
  a private array or list rather than a shared or weak zero.
- ``kept_in_place()``: arrays written in place (``x[i] = v``) whose old elements the
  forward sweep keeps, so that the backward sweep can put them back: those the
  backward reads, directly or through a name that may share their data.

``needed``, the names the backward sweep reads, is known only once the backward
code exists; the reverse transform fills it in before asking ``pushes``.
"""

from __future__ import annotations

import ast

from .analysis import Activity
from .names import assign, copy_tree, local_names, nodes
from .operations import CONSTANT, COPY, INDEX, RULE, walk_statements
from .safety import sharing_groups


class TapePlan:
    def __init__(self, body: list[ast.stmt], act: Activity, params: list[str], saved: dict[int, str]) -> None:
        self.body = body
        self.act = act
        self.params = params
        self.saved = saved  # call statement id -> name of the callee's tape
        self.needed: set[str] = set()
        self.indexed = self._indexed_names()
        self.loop_depth: dict[int, int] = {}
        self._depths(self.body, 0)
        self.defs = self._definitions()
        self.remat = self._rematerializable()

    def _indexed_names(self) -> set[str]:
        """Names whose adjoint is written element by element: it must be a private array or list."""
        read = {
            s.value.value.id
            for s in walk_statements(self.body)
            if isinstance(s, ast.Assign) and isinstance(s.value, ast.Subscript) and isinstance(s.value.value, ast.Name)
        }
        return read | set(self.act.written) | set(self.act.lists)

    def _depths(self, body: list[ast.stmt], depth: int) -> None:
        for s in body:
            self.loop_depth[id(s)] = depth
            inner = depth + 1 if isinstance(s, (ast.For, ast.While)) else depth
            for f in ("body", "orelse"):
                self._depths(getattr(s, f, []), inner)

    def _definitions(self) -> dict[str, list[tuple[ast.stmt, bool]]]:
        """name -> [(defining statement, at top level?)] in source order."""
        defs: dict[str, list[tuple[ast.stmt, bool]]] = {}

        def visit(body: list[ast.stmt], top: bool) -> None:
            for s in body:
                if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                    defs.setdefault(s.targets[0].id, []).append((s, top))
                    if id(s) in self.saved:
                        defs.setdefault(self.saved[id(s)], []).append((s, top))
                elif isinstance(s, ast.For):
                    defs.setdefault(s.target.id, []).append((s, False))
                for f in ("body", "orelse"):
                    visit(getattr(s, f, []), False)

        visit(self.body, True)
        return defs

    def _rematerializable(self) -> dict[str, ast.Assign]:
        """Scalar temporaries in loops that the backward sweep recomputes instead of taping.

        A temporary computed by one scalar operation is cheaper to compute again than to
        push and pop. It qualifies when it is assigned once, read only later in its own
        block, and its operands do not change before its last reader (or the last reader
        of a temporary recomputed from it): then, where the backward sweep first reads
        it, the restored operands have the values they had when it was computed.
        """
        remat: dict[str, ast.Assign] = {}
        loads = [
            n.id
            for n in ast.walk(ast.Module(body=self.body, type_ignores=[]))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        ]

        def visit(block: list[ast.stmt], in_loop: bool) -> None:
            for s in block:
                for f in ("body", "orelse"):
                    visit(getattr(s, f, []), in_loop or isinstance(s, (ast.For, ast.While)))
            if not in_loop:
                return
            found: dict[str, tuple[int, int, set[str]]] = {}  # temp -> (def index, last reader, operands)
            for i, s in enumerate(block):
                if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
                    continue
                t = s.targets[0].id
                op = self.act.ops[s.value]
                cheap = op.kind in (RULE, CONSTANT, COPY, INDEX) and op.refusal is None  # (not rng.normal())
                if not (t.startswith("_") and t in self.act.scalars and len(self.defs[t]) == 1 and cheap):
                    continue
                readers = [j for j in range(i + 1, len(block)) if t in _loaded(block[j])]
                if not readers or loads.count(t) != sum(_loaded(block[j]).count(t) for j in readers):
                    continue  # unread, or read outside this block
                operands = {n.id for n in nodes(s.value) if isinstance(n, ast.Name)}
                if not operands & self.act.lists:
                    found[t] = (i, readers[-1], operands)
            while True:  # drop temporaries whose operands change before the last reader of a dependent
                last = {t: r for t, (_, r, _) in found.items()}
                for _ in found:
                    for t, (_, _, operands) in found.items():
                        for dep in operands & set(found):
                            last[dep] = max(last[dep], last[t])
                bad = {
                    t
                    for t, (i, _, operands) in found.items()
                    if any(operands & _stored(block[j]) for j in range(i + 1, last[t] + 1))
                }
                if not bad:
                    break
                found = {t: v for t, v in found.items() if t not in bad}
            remat.update({t: block[i] for t, (i, _, _) in found.items()})

        visit(self.body, False)
        return remat

    def recompute(self, t: str, local: set[str], done: set[str]) -> list[ast.stmt]:
        """Statements recomputing ``t`` (and first the recomputed temporaries it reads)."""
        out: list[ast.stmt] = []
        value = self.remat[t].value
        for dep in sorted({n.id for n in nodes(value) if isinstance(n, ast.Name)} & local - done):
            out += self.recompute(dep, local, done)
        done.add(t)
        return out + [assign(t, copy_tree(value))]

    def pushes(self, s: ast.stmt, target: str) -> bool:
        """Can this definition overwrite a value of ``target`` that the backward sweep reads?"""
        if target not in self.needed or target in self.remat:
            return False
        if target in self.params:
            return True
        first, top = self.defs[target][0]
        if first is s and top:  # the first assignment on every path: nothing to overwrite
            return False
        return len(self.defs[target]) > 1 or self.loop_depth[id(s)] > 0

    def kept_in_place(self, tree: ast.FunctionDef) -> set[str]:
        """Arrays written in place whose old elements go back in the backward sweep: each one
        the backward sweep reads, directly or through a view, an element, a parameter (the
        caller's values may share data) or a callee's tape that may share its data."""
        written = {
            s.targets[0].value.id
            for s in walk_statements(self.body)
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript)
        }
        if not written:
            return set()
        group = self.sharing_groups(tree)
        read = {group(n) for n in self.needed}
        # the groups miss an array held in a list (``hs.append(t)``, then ``hs[0]`` read): where the
        # backward sweep reads a name the analysis says may share a written array's data, those
        # arrays are kept too
        shared_read = not self.act.shares_written.isdisjoint(self.needed)
        return {
            x
            for x in written
            if x in self.act.active or group(x) in read or shared_read and x in self.act.shares_written
        }

    def restore_indices(self, kept: set[str]) -> set[str]:
        """The names in the indices of writes into ``kept`` arrays: a restore reads them too
        (a split forward sweep must hand them over, a loop must push them)."""
        return {
            n.id
            for s in walk_statements(self.body)
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript)
            and isinstance(s.targets[0].value, ast.Name) and s.targets[0].value.id in kept
            for n in ast.walk(s.targets[0].slice)
            if isinstance(n, ast.Name)
        }  # fmt: skip

    def sharing_groups(self, tree: ast.FunctionDef):
        """A function naming, for each local, its group of names that may share data; a
        callee's tape may also hold its arguments and views of them."""
        locals_ = local_names(tree)

        def tape_of_callee(s: ast.Assign) -> set[str]:
            if id(s) not in self.saved:
                return set()
            return {self.saved[id(s)]} | {a.id for a in nodes(s.value) if isinstance(a, ast.Name) and a.id in locals_}

        return sharing_groups(self.body, self.params, self.act.ops, locals_, set(self.act.scalars), tape_of_callee)

    def may_be_unbound(self, target: str) -> bool:
        """Is there a path on which ``target`` is read (pushed or saved) before any assignment?"""
        if target in self.params or target not in self.defs:
            return False
        first, top = self.defs[target][0]
        return not top


def _loaded(s: ast.stmt) -> list[str]:
    return [n.id for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def _stored(s: ast.stmt) -> set[str]:
    """Names a statement assigns or writes into (``x[i] = v`` writes x; ``L.append`` writes L)."""
    found = set()
    for n in nodes(s):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            found.add(n.id)
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store) and isinstance(n.value, ast.Name):
            found.add(n.value.id)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "pop"):
            if isinstance(n.func.value, ast.Name):
                found.add(n.func.value.id)
    return found
