"""Release: let each value go as soon as nothing reads it any more.

A Python function keeps every local alive until it returns, so a gradient's forward values
and its backward temporaries would all be alive together at its end. For arrays of a few
hundred kilobytes that peak is paid again on every call: the allocator hands the top of its
heap back to the system when the call's arrays are freed, and the next call faults fresh
pages in for each of them (softmax cross-entropy on 1000×100 spent three quarters of its
time so). A ``del`` after a name's last read lets the next temporary reuse its memory, as a
hand-written backward pass does by reusing its buffers.

The reasoning is straight-line, over the top-level statements of each function: a name is
released after the last top-level statement that mentions it (at any depth), when an earlier
top-level assignment certainly bound it. Left alone: parameters (the caller holds them
anyway), names proven scalar (nothing to gain, and a ``del`` costs time), names a nested
function or lambda reads (its closure needs them), and the return statement's names.
"""

from __future__ import annotations

import ast

from .names import nodes, parameters


def release(fn: ast.FunctionDef, scalars: frozenset[str]) -> None:
    """Insert ``del`` statements into ``fn``'s body after the last use of each local."""
    body = fn.body
    last: dict[str, int] = {}  # name -> the last top-level statement mentioning it
    bound_at: dict[str, int] = {}  # name -> the first top-level statement that certainly binds it
    closed_over: set[str] = set()
    for i, statement in enumerate(body):
        for node in nodes(statement):
            if isinstance(node, ast.Name):
                last[node.id] = i
            elif isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                closed_over |= {n.id for n in nodes(node) if isinstance(n, ast.Name)}
            elif isinstance(node, (ast.Global, ast.Nonlocal, ast.Delete)):
                return  # (generated code has none: not worth reasoning about)
        for target in _bound(statement):
            bound_at.setdefault(target, i)
    keep = set(parameters(fn)) | scalars | closed_over
    after: dict[int, list[str]] = {}
    for n, i in last.items():
        if n not in keep and bound_at.get(n, len(body)) <= i:
            after.setdefault(i, []).append(n)
    released: list[ast.stmt] = []
    for i, statement in enumerate(body):
        released.append(statement)
        names = after.get(i)
        if names and not isinstance(statement, (ast.Return, ast.Raise)):
            released.append(
                ast.copy_location(ast.Delete(targets=[ast.Name(id=n, ctx=ast.Del()) for n in sorted(names)]), statement)
            )
    fn.body = released


def _bound(statement: ast.stmt) -> list[str]:
    """The names a top-level statement binds whenever it completes."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)) and getattr(statement, "value", True) is not None:
        targets = [statement.target]
    else:
        return []
    found = []
    todo = list(targets)
    while todo:
        t = todo.pop()
        if isinstance(t, ast.Name):
            found.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            todo.extend(t.elts)
        elif isinstance(t, ast.Starred):
            todo.append(t.value)
    return found
