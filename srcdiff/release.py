"""Release: let each value go as soon as nothing reads it any more.

A Python function keeps every local alive until it returns, so a gradient's forward values
and its backward temporaries would all be alive together at its end. For arrays of a few
hundred kilobytes that peak is paid again on every call: the allocator hands the top of its
heap back to the system when the call's arrays are freed, and the next call faults fresh
pages in for each of them (softmax cross-entropy on 1000×100 spent three quarters of its
time so). A ``del`` after a name's last read lets the next temporary reuse its memory, as a
hand-written backward pass does by reusing its buffers.

An array the rest of the function reads only for its shape (the ``like`` of ``unbroadcast``
and ``unreduce``: a forward value kept for the backward sweep to sum an adjoint down to it)
gives way to a ``shape_holder`` after its last other read, so its memory goes too.

The reasoning is straight-line, over the top-level statements of each function: a name is
released after the last top-level statement that mentions it (at any depth), when an earlier
top-level assignment certainly bound it. Left alone: parameters (the caller holds them
anyway), names proven scalar (nothing to gain, and a ``del`` costs time), names a nested
function or lambda reads (its closure needs them), and the return statement's names.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from . import runtime
from .names import Fresh, nodes, parameters
from .reverse import COMMENT


def hold_shapes(fn: ast.FunctionDef, bindings: dict[str, Any], stack: str = "", scalars: frozenset[str] = frozenset()) -> None:
    """After the last statement that reads an array's data, where the rest of ``fn`` reads only
    its shape, rebind its name to a ``shape_holder`` (bound in ``bindings``) of it; where nothing
    reads its data at all and an elementwise operator made it, make its holder in the operation's
    place (``result_holder``); and where the backward sweep reads a name only for its shape, push
    holders of its values on ``stack`` (the tape: ``stack.append(v)`` in the forward sweep,
    ``v = stack.pop()`` in the backward).

    Only names bound once, by a top-level assignment, and no closure's: a holder is then the
    value every later read sees."""
    positions = {
        bound: runtime.READS_ONLY_THE_SHAPE[obj.__name__]
        for bound, obj in bindings.items()
        if getattr(obj, "__module__", None) == runtime.__name__ and obj.__name__ in runtime.READS_ONLY_THE_SHAPE
    }
    if not positions:
        return
    body = fn.body
    shape_reads: set[int] = set()  # ids of Name nodes read only for their shape
    stores: dict[str, list[int]] = {}  # name -> top-level statements binding it, at any depth
    data_reads: dict[str, set[int]] = {}  # name -> the top-level statements reading its data
    closed_over: set[str] = set()
    numpy_names = {bound for bound, obj in bindings.items() if obj is np}
    last_shape_read: dict[str, int] = {}
    taken = set(bindings) | {a.arg for a in nodes(fn.args) if isinstance(a, ast.arg)}  # (for the holders' names)
    for i, statement in enumerate(body):
        for node in nodes(statement):  # (a call or attribute comes before the names it holds)
            if isinstance(node, ast.Name):
                taken.add(node.id)
                if not isinstance(node.ctx, ast.Load):
                    stores.setdefault(node.id, []).append(i)
                elif id(node) in shape_reads:
                    last_shape_read[node.id] = i
                else:
                    data_reads.setdefault(node.id, set()).add(i)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in positions:
                k = positions[node.func.id]
                if k < len(node.args) and isinstance(node.args[k], ast.Name):
                    shape_reads.add(id(node.args[k]))
            elif isinstance(node, ast.Call) and _numpy_function(node.func, numpy_names) in _OF_THE_SHAPE and len(node.args) == 1:
                if isinstance(node.args[0], ast.Name) and not node.keywords:  # np.size(x) (the rule of a mean)
                    shape_reads.add(id(node.args[0]))
            elif isinstance(node, ast.Attribute) and node.attr in _OF_THE_SHAPE and isinstance(node.value, ast.Name):
                shape_reads.add(id(node.value))  # x.shape (an array's, as a holder stands only for arrays)
            elif isinstance(node, ast.arg):
                taken.add(node.arg)
            elif isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                closed_over |= {n.id for n in nodes(node) if isinstance(n, ast.Name)}
    if not last_shape_read:
        return
    fresh = Fresh(taken)

    def held_once(n: str) -> int | None:
        """The top-level statement ``n = ...`` that alone binds ``n``, if a holder may replace it."""
        defined = stores.get(n, [])
        if len(defined) != 1 or n in closed_over or n in parameters(fn):
            return None
        (d,) = defined
        targets = getattr(body[d], "targets", None)
        if not (isinstance(body[d], ast.Assign) and len(targets) == 1 and isinstance(targets[0], ast.Name)):
            return None  # (bound inside a block, or by unpacking: not certainly bound where the holder would go)
        return d

    # from the last statement up, so that an operand the replaced operation read becomes
    # shape-read in its turn (the log-probabilities of a cross-entropy, then their product)
    result_holder = ""
    for i in range(len(body) - 1, -1, -1):
        statement = body[i]
        if not (isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name)):
            continue
        n = statement.targets[0].id
        operation = _elementwise(statement.value)
        if operation is None or n in scalars or data_reads.get(n) or n not in last_shape_read or held_once(n) != i:
            continue
        result_holder = result_holder or fresh.like("result_holder")
        symbol, operands = operation
        statement.value = ast.Call(
            func=ast.Name(id=result_holder, ctx=ast.Load()), args=[ast.Constant(symbol), *operands], keywords=[]
        )
        for operand in operands:
            if isinstance(operand, ast.Name):
                data_reads.get(operand.id, set()).discard(i)
                shape_reads.add(id(operand))
                last_shape_read[operand.id] = max(i, last_shape_read.get(operand.id, i))
        last_shape_read.pop(n)  # (made a holder: nothing to hold after)
    if result_holder:
        bindings[result_holder] = runtime.result_holder
    data_read = {n: max(reads) for n, reads in data_reads.items() if reads}
    holder = fresh.like("shape_holder")
    held_pushes = _hold_pushes(body, stack, holder, data_read, last_shape_read) if stack else False
    after: dict[int, list[str]] = {}
    for n, reads_at in last_shape_read.items():
        d = held_once(n)
        if d is None:
            continue
        last_data = max(d, data_read.get(n, d))
        if reads_at > last_data and not isinstance(body[last_data], (ast.Return, ast.Raise)):
            after.setdefault(last_data, []).append(n)
    if not (after or held_pushes):
        return
    bindings[holder] = runtime.shape_holder
    held: list[ast.stmt] = []
    for i, statement in enumerate(body):
        held.append(statement)
        for n in sorted(after.get(i, ())):
            call = ast.Call(func=ast.Name(id=holder, ctx=ast.Load()), args=[ast.Name(id=n, ctx=ast.Load())], keywords=[])
            held.append(ast.copy_location(ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=call), statement))
    fn.body = held


_OF_THE_SHAPE = {"shape", "ndim", "size", "dtype"}  # what a holder tells as the array it holds would


def _numpy_function(func: ast.expr, numpy_names: set[str]) -> str | None:
    """``size`` for ``np.size`` where ``np`` is bound to NumPy."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in numpy_names:
        return func.attr
    return None


# an elementwise operator -> its symbol in ``runtime.result_holder``
OPERATORS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.USub: "neg", ast.UAdd: "pos",
}  # fmt: skip


def _elementwise(value: ast.expr) -> tuple[str, list[ast.expr]] | None:
    """An arithmetic operator on names and numbers: its symbol and operands (None otherwise)."""
    if isinstance(value, ast.BinOp):
        symbol, operands = OPERATORS.get(type(value.op)), [value.left, value.right]
    elif isinstance(value, ast.UnaryOp):
        symbol, operands = OPERATORS.get(type(value.op)), [value.operand]
    else:
        return None
    atoms = all(isinstance(o, ast.Name) or (isinstance(o, ast.Constant) and type(o.value) in (int, float)) for o in operands)
    if symbol is None or not atoms or not any(isinstance(o, ast.Name) for o in operands):
        return None
    return symbol, operands


def _hold_pushes(body: list[ast.stmt], stack: str, holder: str, data_read: dict[str, int], shape_read: dict[str, int]) -> bool:
    """Wrap ``stack.append(v)`` in the forward sweep as ``stack.append(holder(v))`` where the
    backward sweep (after its marker) reads ``v`` only for its shape. Did any change?"""
    marker = COMMENT + "backward"
    start = next((i for i, s in enumerate(body) if isinstance(s, ast.Expr) and getattr(s.value, "value", None) == marker), None)
    if start is None:
        return False
    held = {n for n, i in shape_read.items() if i > start and data_read.get(n, -1) < start}
    changed = False
    for statement in body[:start]:
        for node in nodes(statement):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == stack
                and len(node.args) == 1
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in held
            ):
                node.args[0] = ast.Call(func=ast.Name(id=holder, ctx=ast.Load()), args=[node.args[0]], keywords=[])
                changed = True
    return changed


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
