"""Bindings: what the names of a user's function surely hold, read from its source alone.

On entry: a checked ``FunctionDef`` from ``parse``. ``normalize`` asks these questions to
desugar constructs whose meaning depends on a name: which names are local functions (their
calls are inlined), which hold a tuple or list whose length is written in the source
(``f(*args)`` is spelled out), which hold a dict whose keys are written in the source
(``f(**options)`` is spelled out), and which hold a dict (``for k in d`` walks its keys).
Each answer is conservative: a name bound twice anywhere, or used in a way that might
change what it holds, is answered "not known", and normalize refuses or takes the
general path. The tree is not modified.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterable

LocalFunction = ast.FunctionDef | ast.Lambda


class Walked:
    """One walk of a function, shared by the questions below (each would walk it again): its
    nodes, in ``ast.walk``'s order, and ``binding_counts``."""

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree
        self.nodes = list(ast.walk(tree))
        self.counts = _counts(self.nodes, tree)


def binding_counts(tree: ast.FunctionDef) -> Counter[str]:
    """How many places bind each name: parameters (of local functions and lambdas too),
    assignments and loop targets anywhere, nested ``def`` statements."""
    return _counts(ast.walk(tree), tree)


def _counts(walked: Iterable[ast.AST], tree: ast.AST) -> Counter[str]:
    counts: Counter[str] = Counter()
    for n in walked:
        if isinstance(n, ast.arg):
            counts[n.arg] += 1
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):  # (``del x`` binds no other value)
            counts[n.id] += 1
        elif isinstance(n, ast.FunctionDef) and n is not tree:
            counts[n.name] += 1
    return counts


def local_functions(walked: Walked) -> dict[str, LocalFunction]:
    """The ``def`` and ``name = lambda ...`` statements at the top level of the body whose name
    is bound nowhere else: each call is inlined. Any other local function is refused."""
    counts = walked.counts
    found: dict[str, LocalFunction] = {}
    for s in walked.tree.body:
        if isinstance(s, ast.FunctionDef):
            found.setdefault(s.name, s)
        elif isinstance(s, ast.Assign) and isinstance(s.value, ast.Lambda) and single_name(s.targets):
            found.setdefault(s.targets[0].id, s.value)
    return {k: v for k, v in found.items() if counts[k] == 1}


def tuple_names(walked: Walked) -> frozenset[str]:
    """Names bound once, to a tuple written out (``args`` of an inlined ``*args``)."""
    counts = walked.counts
    return frozenset(
        s.targets[0].id
        for s in walked.nodes
        if isinstance(s, ast.Assign)
        and single_name(s.targets)
        and isinstance(s.value, ast.Tuple)
        and counts[s.targets[0].id] == 1
    )


def range_names(walked: Walked) -> frozenset[str]:
    """Names bound once, to ``range(...)`` (the builtin, no local of that name): a loop over one
    is a range loop (generated code names its ranges: ``_t1 = range(n)``, ``for _ in _t1``)."""
    counts = walked.counts
    if counts["range"]:
        return frozenset()
    return frozenset(
        s.targets[0].id
        for s in walked.nodes
        if isinstance(s, ast.Assign)
        and single_name(s.targets)
        and isinstance(s.value, ast.Call)
        and isinstance(s.value.func, ast.Name)
        and s.value.func.id == "range"
        and counts[s.targets[0].id] == 1
    )


def fixed_lengths(walked: Walked) -> dict[str, int]:
    """Names bound once, to a tuple or list written out, whose length nothing changes: a list
    is only read by index, ``len``, a loop or ``*name`` (no method call, no call that may
    append to it)."""
    counts = walked.counts
    displays = {
        s.targets[0].id: s.value
        for s in walked.nodes
        if isinstance(s, ast.Assign)
        and single_name(s.targets)
        and isinstance(s.value, (ast.Tuple, ast.List))
        and not any(isinstance(e, ast.Starred) for e in s.value.elts)
        and counts[s.targets[0].id] == 1
    }
    keeps_length: set[int] = set()  # the Name nodes read in ways that keep a list's length
    for n in walked.nodes:
        if isinstance(n, (ast.Subscript, ast.Starred)) and isinstance(n.value, ast.Name):
            keeps_length.add(id(n.value))
        elif isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Name):
            keeps_length.add(id(n.iter))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len" and len(n.args) == 1:
            keeps_length.add(id(n.args[0]))
    changeable = {
        n.id for n in walked.nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in keeps_length
    }
    return {k: len(v.elts) for k, v in displays.items() if isinstance(v, ast.Tuple) or k not in changeable}


def fixed_keys(walked: Walked) -> dict[str, list[str]]:
    """Names bound once, to a dict display with constant string keys, whose keys nothing
    changes: only read by ``d[k]``, ``len``, a loop or ``**d`` (no writes, no method calls)."""
    counts = walked.counts
    displays = {
        s.targets[0].id: [k.value for k in s.value.keys]
        for s in walked.nodes
        if isinstance(s, ast.Assign)
        and single_name(s.targets)
        and isinstance(s.value, ast.Dict)
        and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in s.value.keys)
        and counts[s.targets[0].id] == 1
    }
    keeps_keys: set[int] = set()  # the Name nodes read in ways that keep a dict's keys
    for n in walked.nodes:
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name):
            keeps_keys.add(id(n.value))
        elif isinstance(n, ast.keyword) and n.arg is None and isinstance(n.value, ast.Name):
            keeps_keys.add(id(n.value))
        elif isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Name):
            keeps_keys.add(id(n.iter))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len" and len(n.args) == 1:
            keeps_keys.add(id(n.args[0]))
    changeable = {
        n.id for n in walked.nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in keeps_keys
    }
    return {k: list(dict.fromkeys(keys)) for k, keys in displays.items() if k not in changeable}


def dict_names(walked: Walked, dict_parameters: frozenset[str]) -> set[str]:
    """Names bound once, to a dict display or comprehension or ``dict(k=v, ...)``, and the parameters that hold
    a dict in this call and are never rebound."""
    counts = walked.counts
    found = {p for p in dict_parameters if counts[p] == 1}
    for s in walked.nodes:
        if isinstance(s, ast.Assign) and single_name(s.targets) and counts[s.targets[0].id] == 1:
            value = s.value
            built = isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict"
            if isinstance(value, (ast.Dict, ast.DictComp)) or built and not value.args and counts["dict"] == 0:
                found.add(s.targets[0].id)
    return found


# builtins whose result is never a dict (a loop over it walks its items, not keys)
_SEQUENCE_BUILTINS = frozenset({"range", "list", "tuple", "sorted", "zip", "enumerate", "reversed", "map", "filter"})
_ARRAY_MODULES = frozenset({"np", "numpy", "math"})


def sequence_names(walked: Walked, sequence_parameters: frozenset[str]) -> set[str]:
    """Names that surely hold something other than a dict (an array, a list, a number): the
    parameters that do in this call, and names every binding of which is an array or sequence
    expression (a display, arithmetic, ``np.*(...)``, ``range``/``list``/``zip``, a slice).
    A loop over any other value may be a loop over a dict's keys, known only when it runs."""
    values = _bound_values(walked, lambda n: ast.BinOp(left=n.target, op=n.op, right=n.value))
    for p in sequence_parameters:  # its binding as a parameter is known
        if None in values.get(p, []):
            values[p].remove(None)
            values[p].append(ast.List(elts=[], ctx=ast.Load()))
    found: set[str] = set()
    grown = True
    while grown:  # names bound to names found before
        grown = False
        for n, bound in values.items():
            if n not in found and all(v is not None and sequence_expression(v, found, values) for v in bound):
                found.add(n)
                grown = True
    return found


def _bound_values(walked: Walked, augmented: Callable[[ast.AugAssign], ast.expr | None]) -> dict[str, list[ast.expr | None]]:
    """Each name's bindings: the value of each ``name = value``, ``augmented(s)`` for each
    ``name op= value``, and None (anything) for any other binding (a parameter, a loop target)."""
    values: dict[str, list[ast.expr | None]] = {}
    seen: set[int] = set()  # the targets whose value is known (their Name nodes are met after them)
    for n in walked.nodes:
        if isinstance(n, ast.Assign) and single_name(n.targets):
            values.setdefault(n.targets[0].id, []).append(n.value)
            seen.add(id(n.targets[0]))
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            values.setdefault(n.target.id, []).append(augmented(n))
            seen.add(id(n.target))
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in seen or isinstance(n, ast.arg):
            values.setdefault(n.id if isinstance(n, ast.Name) else n.arg, []).append(None)  # anything
    return values


def list_names(walked: Walked) -> frozenset[str]:
    """Names that surely hold a list: every binding of each is a list display, a list
    comprehension, ``list(...)`` (the builtin), ``a + b`` of two such lists, or ``name += ...``
    (which extends the list). On them ``+=`` and ``+`` join lists, never add numbers."""
    kept = ast.List(elts=[], ctx=ast.Load())  # xs += ys: still the list it was
    values = _bound_values(walked, lambda n: kept if isinstance(n.op, ast.Add) else None)
    shadowed = walked.counts["list"] > 0
    # the largest set of names each binding of which makes a list from lists of the set
    # (``acc = []`` then ``acc = acc + [v]`` in a loop: a list at every step)
    found = {n for n, bound in values.items() if None not in bound}
    shrunk = True
    while shrunk:
        shrunk = False
        for n in list(found):
            if not all(is_list_expression(v, found, shadowed) for v in values[n]):  # type: ignore[arg-type]
                found.discard(n)
                shrunk = True
    return frozenset(found)


def is_list_expression(e: ast.expr, lists: set[str] | frozenset[str], list_shadowed: bool = False) -> bool:
    """Does ``e`` surely make a list, given the names ``lists`` that surely hold one?"""
    if isinstance(e, (ast.List, ast.ListComp)):
        return True
    if isinstance(e, ast.Name):
        return e.id in lists
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
        return is_list_expression(e.left, lists, list_shadowed) and is_list_expression(e.right, lists, list_shadowed)
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "list" and not list_shadowed


def sequence_expression(e: ast.expr, found: set[str], locals_: dict) -> bool:
    if isinstance(e, ast.BinOp):
        return not isinstance(e.op, ast.BitOr)  # (d1 | d2 joins dicts)
    if isinstance(e, (ast.List, ast.Tuple, ast.ListComp, ast.Constant, ast.UnaryOp, ast.Compare)):
        return True
    if isinstance(e, ast.Name):
        return e.id in found
    if isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Slice):
        return True  # a slice of a dict is an error, not a dict
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id not in locals_:
        return e.func.id in _SEQUENCE_BUILTINS
    if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute):
        root = e.func.value
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id in _ARRAY_MODULES and root.id not in locals_
    return False


def single_name(targets: list[ast.expr]) -> bool:
    """``name = ...``: one target, a plain name."""
    return len(targets) == 1 and isinstance(targets[0], ast.Name)
