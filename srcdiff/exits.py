"""Exits: ``return``, ``break`` and ``continue`` become flags and guarded blocks.

On entry: a function body as the user wrote it. On exit: the same statements with
a single exit (the result assigned to one name), where a loop leaves early only
through ``if flag: break`` as the last statement of its body. Where an ``if``
branch always exits, the code after it moves into the other branch instead, so
common shapes (``if c: return a``) need no flag at all.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .names import Fresh, assign, drop_statements, name
from .parse import Origin


@dataclass
class _Loop:
    stop: str  # set by break/continue/return: skip the rest of this iteration
    brk: str  # set by break/return: leave the loop after this iteration
    used: bool = False


class ExitLowering:
    """Turn return/break/continue into flags and guarded blocks (single exit)."""

    def __init__(self, fresh: Fresh, result: str, origin: Origin) -> None:
        self.origin = origin
        self.fresh = fresh
        self.result = result
        self.returned = fresh.like("_returned")
        self.returned_used = False

    def block(self, stmts: list[ast.stmt], loop: _Loop | None) -> tuple[list[ast.stmt], str]:
        """Lower ``stmts``; also say whether they exit 'never', 'maybe' or 'always'."""
        out: list[ast.stmt] = []
        for i, s in enumerate(stmts):
            rest = stmts[i + 1 :]
            if isinstance(s, ast.If):
                body, body_exits = self.block(s.body, loop)
                orelse, else_exits = self.block(s.orelse, loop)
                node = ast.copy_location(ast.If(test=s.test, body=body, orelse=orelse), s)
                out.append(node)
                exits = {body_exits, else_exits}
                if exits == {"always"}:
                    return out, "always"
                if exits == {"always", "never"} and rest:
                    # ``if c: return a`` then more code: the rest belongs to the other branch
                    moved, rest_exits = self.block(rest, loop)
                    if body_exits == "never":
                        node.body += moved
                    else:
                        node.orelse += moved
                    return out, "always" if rest_exits == "always" else "maybe"
                node.body = node.body or [ast.copy_location(ast.Pass(), s)]
                exits_now = "never" if exits == {"never"} else "maybe"
            else:
                lowered, exits_now = self.stmt(s, loop)
                out += lowered
            if exits_now == "always":
                return out, "always"
            if exits_now == "maybe" and rest:
                moved, rest_exits = self.block(rest, loop)
                flag = loop.stop if loop else self.returned
                guard = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=name(flag)), body=moved, orelse=[])
                out.append(ast.copy_location(guard, s))
                return out, "always" if rest_exits == "always" else "maybe"
            if exits_now == "maybe":
                return out, "maybe"
        return out, "never"

    def stmt(self, s: ast.stmt, loop: _Loop | None) -> tuple[list[ast.stmt], str]:
        at = lambda *nodes: [ast.copy_location(n, s) for n in nodes]  # noqa: E731
        true = ast.Constant(True)
        if isinstance(s, ast.Return):
            value = s.value if s.value is not None else ast.Constant(None)
            out = at(assign(self.result, value), assign(self.returned, true))
            if loop:
                loop.used = True
                out += at(assign(loop.brk, true), assign(loop.stop, true))
            return out, "always"
        if isinstance(s, (ast.Break, ast.Continue)):
            loop.used = True
            flags = [loop.stop] + ([loop.brk] if isinstance(s, ast.Break) else [])
            return at(*(assign(f, true) for f in flags)), "always"
        if isinstance(s, (ast.For, ast.While)):
            inner = _Loop(self.fresh.like("_stop"), self.fresh.like("_break"))
            body, _ = self.block(s.body, inner)
            node = type(s)(**{**{f: getattr(s, f) for f in s._fields}, "body": body, "orelse": []})
            ast.copy_location(node, s)
            # ``for ... else``: the else block runs when the loop ends without break (or return)
            orelse, else_exits = self.block(s.orelse, loop) if s.orelse else ([], "never")
            if not inner.used:
                return [node, *orelse], else_exits
            false = ast.Constant(False)
            node.body = at(assign(inner.stop, false)) + body
            node.body += at(ast.If(test=name(inner.brk), body=[ast.Break()], orelse=[]))
            out = at(assign(inner.brk, false)) + [node]
            if orelse:
                out += at(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=name(inner.brk)), body=orelse, orelse=[]))
            returns = any(isinstance(n, ast.Return) for n in ast.walk(ast.Module(body=s.body, type_ignores=[])))
            if not returns:
                return out, "never" if else_exits == "never" else "maybe"
            if loop:  # a return inside the inner loop leaves this loop as well
                loop.used = True
                out += at(ast.If(test=name(self.returned), body=at(assign(loop.brk, true), assign(loop.stop, true)), orelse=[]))
            return out, "maybe"
        return [s], "never"

    def function_body(self, stmts: list[ast.stmt], returns: bool) -> list[ast.stmt]:
        """Lower the body; ``returns``: it has return statements (else the result is already named)."""
        if not stmts:
            return []
        body, exits = self.block(stmts, None)
        if returns and exits != "always":  # falling off the end returns None
            fall_through: ast.stmt = assign(self.result, ast.Constant(None))
            if exits == "maybe":  # only when no return inside a loop above has run
                fall_through = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=name(self.returned)), body=[fall_through], orelse=[])
            body.append(ast.copy_location(fall_through, stmts[-1]))
        flag_read = any(
            isinstance(n, ast.Name) and n.id == self.returned and isinstance(n.ctx, ast.Load) for s in body for n in ast.walk(s)
        )
        if not flag_read:  # no one asks whether we returned: drop the flag's stores
            body = drop_statements(body, lambda s: _stores_to(s, self.returned))
        else:
            body.insert(0, ast.copy_location(assign(self.returned, ast.Constant(False)), stmts[0]))
        return body


def _stores_to(s: ast.stmt, flag: str) -> bool:
    return isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and s.targets[0].id == flag
