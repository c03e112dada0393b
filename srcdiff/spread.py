"""Spread: a number stands for a constant array until something needs the array.

The adjoint of a full reduction (``np.sum(v)``, ``np.mean(v)``) is a number spread over the
shape of ``v``: ``dv = unreduce(s, v, None, False)``. Where each read of ``dv`` multiplies it
by an array proven to have the shape of ``v``, broadcasting spreads ``s`` there anyway, so
``dv = s`` gives the same elements without the spread view. A read of a value for its shape
only (``size``, the ``like`` of ``unbroadcast`` and ``unreduce``) reads a value proven to have
the same shape instead, so a square computed only for its size is not computed (dead code then
drops it). A mean square's gradient, ``unreduce`` of ``r * r`` and ``dv * r * 2``, becomes one
multiplication of numbers and one pass over ``r``, as a hand-written one is.

Shapes are proven equal, never assumed. ``v = a * a``, ``v = a ** 2``, ``v = 2.0 * a``,
``v = -a``, and ``v = a * b`` where ``b = -a``, have the shape of ``a``: an arithmetic operator
whose operands are ``int`` or ``float`` constants and names of the shape of ``a``, where each
name is proven an array or a number (not a list, which ``*`` repeats). Such a value has the
dtype kind of ``a`` but for ints becoming floats, which the helpers reading shapes do not tell
apart. Every name involved is bound once in the function, by a top-level statement (or is a
parameter never assigned): every later read sees the value the fact was proven for.

Last, the numbers of a product move to its front, ``dv * r * 2`` -> ``dv * 2 * r``: one
multiplication of numbers instead of one more pass over an array (a reordering of
floating-point products: the result may differ in its last bit).
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any

from . import runtime
from .names import nodes, parameters

_SAME_SHAPE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_SIGNS = (ast.USub, ast.UAdd)
_NUMBER_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def spread(
    fn: ast.FunctionDef,
    bindings: dict[str, Any],
    scalars: frozenset[str],
    ndims: dict[str, int],
    not_containers: frozenset[str],
) -> bool:
    """Rewrite ``fn`` in place as the module describes; ``scalars``: the names proven to hold
    numbers; ``ndims``: the known numbers of dimensions of the primal names (0: a number);
    ``not_containers``: the names proven to hold arrays or numbers. Returns whether anything
    changed."""
    helpers = {
        bound: obj.__name__
        for bound, obj in bindings.items()
        if getattr(obj, "__module__", None) == runtime.__name__ and obj.__name__ in runtime.READS_ONLY_THE_SHAPE
    }
    facts = _Facts(fn, scalars, ndims, not_containers, helpers)
    changed = False
    if helpers:
        changed |= _scalar_adjoints(facts, helpers)
        changed |= _shape_reads(facts, helpers)
    changed |= _numbers_first(facts, helpers)
    return changed


class _Facts:
    """One walk of the function: how often each name is bound and read, the top-level
    assignments that bind a name, the products (their outermost ``*``) and the calls of
    ``helpers``."""

    def __init__(
        self,
        fn: ast.FunctionDef,
        scalars: frozenset[str],
        ndims: dict[str, int],
        not_containers: frozenset[str],
        helpers: dict[str, str],
    ) -> None:
        self.scalars = scalars
        self.ndims = ndims
        self.not_containers = not_containers | scalars
        self.parameters = set(parameters(fn))
        self.bound: Counter = Counter()  # stores, ``del``s, and attribute stores (``a.shape = ...``)
        self.read: Counter = Counter()
        self.calls: list[ast.Call] = []  # calls of the helpers
        products: list[ast.BinOp] = []
        inner: set[int] = set()  # ids of products inside another
        for node in nodes(fn):
            kind = node.__class__
            if kind is ast.Name:
                (self.read if isinstance(node.ctx, ast.Load) else self.bound)[node.id] += 1
            elif kind is ast.BinOp:
                if isinstance(node.op, ast.Mult):
                    products.append(node)
                    for side in (node.left, node.right):
                        if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Mult):
                            inner.add(id(side))
            elif kind is ast.Call:
                if isinstance(node.func, ast.Name) and node.func.id in helpers:
                    self.calls.append(node)
            elif kind is ast.Attribute and isinstance(node.value, ast.Name):
                if not isinstance(node.ctx, ast.Load) or node.attr == "resize":  # the shape changed in place
                    self.bound[node.value.id] += 2
            elif kind in (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef) and node is not fn:
                for name in nodes(node):  # a closure's reads and writes: nothing is proven about those names
                    if isinstance(name, ast.Name):
                        self.bound[name.id] += 2
        self.products = [p for p in products if id(p) not in inner]  # the outermost node of each product
        self.assigned: dict[str, ast.Assign] = {}  # name -> the top-level assignment binding it, if any
        for s in fn.body:
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                self.assigned[s.targets[0].id] = s
        self.shapes: dict[str, str] = {}  # name -> shape_of(name)

    def fixed(self, name: str) -> bool:
        """Does ``name`` hold one value wherever it is read: a parameter never assigned, or a
        name bound once, by a top-level assignment?"""
        if name in self.parameters:
            return self.bound[name] == 0
        return self.bound[name] == 1 and name in self.assigned

    def shape_of(self, name: str) -> str:
        """A name proven to have the shape of ``name`` (``name`` itself if no other is)."""
        if name not in self.shapes:
            self.shapes[name] = name  # (while it is worked out: a name read before it is bound proves nothing)
            self.shapes[name] = self._shape_source(name)
        return self.shapes[name]

    def _shape_source(self, name: str) -> str:
        if not (self.fixed(name) and name in self.assigned):
            return name
        value = self.assigned[name].value
        if isinstance(value, ast.BinOp) and isinstance(value.op, _SAME_SHAPE_OPERATORS):
            operands = [value.left, value.right]
        elif isinstance(value, ast.UnaryOp) and isinstance(value.op, _SIGNS):
            operands = [value.operand]
        else:
            return name
        names = [e.id for e in operands if isinstance(e, ast.Name)]
        if not names or not all(_plain_number(e) for e in operands if not isinstance(e, ast.Name)):
            return name
        if not all(n in self.not_containers and self.fixed(n) for n in names):
            return name
        sources = {self.shape_of(n) for n in names}
        return sources.pop() if len(sources) == 1 else name

    def is_number(self, e: ast.expr, helpers: dict[str, str]) -> bool:
        """Is ``e`` proven a number (shape ``()``): constants, names proven numbers, ``size``
        of anything, and arithmetic of those."""
        if _plain_number(e):
            return True
        if isinstance(e, ast.Name):
            return e.id in self.scalars
        if isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and helpers.get(e.func.id) == "size":
            return len(e.args) == 1 and not e.keywords
        if isinstance(e, ast.BinOp) and isinstance(e.op, _NUMBER_OPERATORS):
            return self.is_number(e.left, helpers) and self.is_number(e.right, helpers)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, _SIGNS):
            return self.is_number(e.operand, helpers)
        return False


def _plain_number(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and type(e.value) in (int, float)


def _factors(e: ast.expr) -> list[ast.expr]:
    """The factors of a product ``a * b * c`` (one factor for anything else)."""
    if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult):
        return _factors(e.left) + _factors(e.right)
    return [e]


def _scalar_adjoints(facts: _Facts, helpers: dict[str, str]) -> bool:
    """``dv = unreduce(s, v, None, False)``, each read of it a factor beside an array of the
    shape of ``v``: ``dv = s``."""
    candidates: dict[str, ast.Assign] = {}
    for target, s in facts.assigned.items():
        call = s.value
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and helpers.get(call.func.id) == "unreduce"):
            continue
        args = call.args
        full = len(args) == 2 or len(args) == 4 and _is_constant(args[2], None) and _is_constant(args[3], False)
        if (
            full
            and not call.keywords
            and isinstance(args[1], ast.Name)
            and facts.fixed(args[1].id)
            and facts.fixed(target)
            and facts.is_number(args[0], helpers)
        ):
            candidates[target] = s
    if not candidates:
        return False
    spread_reads: Counter = Counter()  # candidate -> its reads as a factor beside an array of its shape
    for product in facts.products:
        factors = _factors(product)
        for f in factors:
            if not (isinstance(f, ast.Name) and f.id in candidates):
                continue
            like = facts.shape_of(candidates[f.id].value.args[1].id)
            if any(
                isinstance(w, ast.Name) and w.id not in candidates and w.id in facts.not_containers and facts.fixed(w.id)
                and facts.shape_of(w.id) == like
                for w in factors
            ):  # fmt: skip
                spread_reads[f.id] += 1
    changed = False
    for adjoint, s in candidates.items():
        if spread_reads[adjoint] == facts.read[adjoint] > 0:
            s.value = s.value.args[0]
            facts.scalars = facts.scalars | {adjoint}  # (a number now: it moves to the products' fronts)
            changed = True
    return changed


def _shape_reads(facts: _Facts, helpers: dict[str, str]) -> bool:
    """``size(v)``, ``unbroadcast(x, v)``, ``unreduce(x, v, ...)`` read ``a`` for ``v`` where
    ``a`` has the shape of ``v``."""
    changed = False
    for node in facts.calls:
        helper = helpers[node.func.id]
        k = runtime.READS_ONLY_THE_SHAPE[helper]
        if k >= len(node.args) or not isinstance(node.args[k], ast.Name):
            continue
        read = node.args[k].id
        same = facts.shape_of(read)
        # (unbroadcast and unreduce tell a number from an array: only arrays stand for arrays)
        if same != read and (helper == "size" or facts.ndims.get(same, -1) >= 1):
            node.args[k] = ast.Name(id=same, ctx=ast.Load())
            changed = True
    return changed


def _numbers_first(facts: _Facts, helpers: dict[str, str]) -> bool:
    """``dv * r * 2`` -> ``dv * 2 * r`` where ``dv`` and ``2`` are proven numbers and the other
    factors are names (reading them has no effect, so the order of reads does not matter)."""
    changed = False
    for product in facts.products:
        factors = _factors(product)
        if len(factors) < 3:
            continue
        numbers = [f for f in factors if facts.is_number(f, helpers)]
        others = [f for f in factors if not facts.is_number(f, helpers)]
        if len(numbers) < 2 or not others or factors[: len(numbers)] == numbers:
            continue
        if not all(isinstance(f, ast.Name) for f in others):
            continue
        ordered = numbers + others
        chain = ordered[0]
        for f in ordered[1:-1]:
            chain = ast.BinOp(left=chain, op=ast.Mult(), right=f)
        product.left, product.right = chain, ordered[-1]
        changed = True
    return changed


def _is_constant(e: ast.expr, value: object) -> bool:
    return isinstance(e, ast.Constant) and e.value is value
