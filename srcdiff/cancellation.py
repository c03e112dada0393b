"""Cancellation: values whose every variation provably cancels before the result.

A stable softmax subtracts each row's maximum, ``m = np.max(z, axis=1, keepdims=True)``, and
its result does not depend on ``m`` at all: shifting a row by a constant shifts its log-sum-exp
by the same constant. The chain rule still sends ``m`` an adjoint, and ``m``'s adjoint (a pass
to sum it, then the maximum's, which finds where each maximum is) is two of the costliest
passes of the gradient, spent adding a rounding error's worth of zero to it.

This module proves such cancellations with a small algebra of tangents. A candidate ``m`` is
perturbed by an arbitrary ``δ`` of its shape, and the perturbation is followed through the
straight-line code after it: each tangent is a sum of terms ``c · Π vᵏ · δ``, a number times
a product of powers of named values (a monomial). Sums and differences add terms; products,
quotients, powers, ``exp`` and ``log`` multiply monomials (``log(v)`` divides by ``v``, which
cancels the ``v`` a sum's tangent carries); a sum or mean along an axis where ``δ`` is constant
(an axis ``m`` was reduced along, kept with ``keepdims``) moves ``δ`` out of the sum, turning
the monomial ``x`` into the sum's own name. Where the result's tangent has no term left, the
result does not depend on ``m``, identically: ``m`` needs no adjoint (nor a tangent in forward
mode), and the analysis drops it from the active names.

Anything the algebra does not know ends the attempt, and the candidate stays active (nothing
is assumed): an operation it has no rule for reading a perturbed value, a name bound twice,
a loop or branch reading one, an in-place write, an axis whose alignment it cannot tell, a
closure or global declaration anywhere in the function (they read names unseen). A monomial's ``v / v``
cancels where ``v`` is not zero; where it is, the function itself divided by zero or took
``log(0)`` there.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .bindings import binding_counts
from .names import nodes
from .operations import Op

Ops = dict[ast.AST, Op]
Monomial = tuple[tuple[str, Fraction], ...]  # sorted (name, exponent) pairs, no zero exponent
Tangent = dict[Monomial, Fraction]  # monomial -> its coefficient; {} is zero

# reductions along an axis that a constant factor leaves (sum(c * x) = c * sum(x), and the mean)
_LINEAR_REDUCTIONS = (np.sum, np.mean)
# results kept with keepdims=True: constant along the axes reduced, so candidates
_KEEPDIMS_REDUCTIONS = (np.max, np.min, np.amax, np.amin, np.sum, np.mean)
# what can read a name without a statement that names it: a closure, a global or nonlocal one
_HIDDEN_READERS = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal)


def cancelled(tree: ast.FunctionDef, ops: Ops, ndims: dict[str, int], active: frozenset[str]) -> frozenset[str]:
    """The active names bound by a reduction kept with ``keepdims=True`` whose every variation
    provably cancels before the result (``tree``: a normalised function, ending ``return r``)."""
    body = tree.body
    if not (body and isinstance(body[-1], ast.Return) and isinstance(body[-1].value, ast.Name)):
        return frozenset()
    if any(isinstance(n, _HIDDEN_READERS) and n is not tree for n in nodes(tree)):
        return frozenset()  # (a closure or a global reads names where no statement of this body shows it)
    once = {n for n, count in binding_counts(tree).items() if count == 1}
    # top-level ``name = value`` statements of names bound nowhere else: each name is one value
    # wherever it is read, so a monomial's names mean the same everywhere
    plain = [_binds_once(s, once) for s in body]
    ndim = {n: d for n, d in ndims.items() if d >= 0}  # (arrays' and scalars': not containers, shapes)
    found = set()
    for i, s in enumerate(body):
        op = ops.get(s.value) if plain[i] else None  # type: ignore[attr-defined]
        if plain[i] in active and op is not None and op.rule is not None and op.rule.func in _KEEPDIMS_REDUCTIONS:
            reduced = _reduced_axes(op, ndim)
            perturbation = _Perturbation(plain[i], *reduced) if reduced is not None else None
            if perturbation and _cancels(perturbation, body[i + 1 :], plain[i + 1 :], ops, ndim, body[-1].value.id):  # type: ignore[attr-defined]
                found.add(plain[i])
    return frozenset(found)


def _binds_once(s: ast.stmt, once: set[str]) -> str:
    """The name ``s`` binds, if it is ``name = value`` and nothing else binds that name ("" otherwise)."""
    if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) and s.targets[0].id in once:
        return s.targets[0].id
    return ""


def _atoms(op: Op) -> list[ast.expr]:
    """An operation's arguments in the order of its rule's parameters."""
    return [op.bound[p] for p in op.rule.params if p in op.bound] if op.rule else []


def _reduced_axes(op: Op, ndim: dict[str, int]) -> tuple[frozenset[int], int] | None:
    """The axes (counted from the end: -1 the last) a keepdims reduction collapses to length 1,
    and its number of dimensions (its operand's)."""
    keep, axis, operand = op.bound.get("keepdims"), op.bound.get("axis"), op.bound.get("a")
    if not (isinstance(keep, ast.Constant) and keep.value is True and isinstance(operand, ast.Name)):
        return None
    n = ndim.get(operand.id)
    axes = _axes(axis, n)
    if n is None or axes is None:
        return None
    return frozenset(a - n for a in axes), n


def _axes(axis: ast.expr | None, n: int | None) -> frozenset[int] | None:
    """A reduction's axes as non-negative numbers (None: not known)."""
    if n is None or axis is None:
        return None
    if isinstance(axis, ast.Constant) and axis.value is None:
        return frozenset(range(n))
    parts = axis.elts if isinstance(axis, ast.Tuple) else [axis]
    if not all(isinstance(p, ast.Constant) and type(p.value) is int and -n <= p.value < n for p in parts):
        return None
    return frozenset(p.value % n for p in parts)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Perturbation:
    """``δ``: an arbitrary change of the value ``name``, of ``rank`` dimensions, each of length 1
    along ``constant_axes`` (counted from the end: -1 the last)."""

    name: str
    constant_axes: frozenset[int]
    rank: int

    def constant_along(self, axis: int, ndim: int) -> bool:
        """Is it constant along ``axis`` of a value of ``ndim`` dimensions it is broadcast with?"""
        from_end = axis - ndim
        return from_end in self.constant_axes or from_end < -self.rank  # (beyond its dimensions: broadcast)


def _cancels(
    perturbation: _Perturbation, after: list[ast.stmt], plain: list[str], ops: Ops, ndim: dict[str, int], result: str
) -> bool:
    """Does the result's tangent along ``perturbation`` vanish, term by term? The statements
    ``after`` it that read (or write) a perturbed value must each be ``name = operation``
    binding its name once (``plain``), an operation the algebra knows."""
    tangents: dict[str, Tangent] = {perturbation.name: {(): Fraction(1)}}
    for s, target in zip(after, plain):
        if not any(isinstance(n, ast.Name) and n.id in tangents for n in ast.walk(s)):
            continue
        op = ops.get(s.value) if target else None  # type: ignore[attr-defined]
        tangent = _tangent(target, op, tangents, perturbation, ndim) if op is not None and op.rule is not None else None
        if tangent is None:
            return False  # a statement the algebra does not know reads the perturbation
        if tangent:
            tangents[target] = tangent
    return result not in tangents


def _tangent(
    target: str, op: Op, tangents: dict[str, Tangent], perturbation: _Perturbation, ndim: dict[str, int]
) -> Tangent | None:
    """The tangent of ``target = op(...)`` from its operands' (None: not one the algebra knows)."""
    func, atoms = op.rule.func, _atoms(op)  # type: ignore[union-attr]

    def of(a: ast.expr) -> Tangent:
        return tangents.get(a.id, {}) if isinstance(a, ast.Name) else {}

    def factor(a: ast.expr) -> tuple[Fraction, Monomial] | None:
        """An operand as a coefficient and monomial: a number, or a named value."""
        if isinstance(a, ast.Constant) and type(a.value) in (int, float):
            return Fraction(a.value), ()
        return (Fraction(1), ((a.id, Fraction(1)),)) if isinstance(a, ast.Name) else None

    if func in (np.add, np.subtract) and len(atoms) == 2:
        return _add(of(atoms[0]), _scale(of(atoms[1]), Fraction(1 if func is np.add else -1), ()))
    if func in (np.negative, np.positive) and len(atoms) == 1:
        return _scale(of(atoms[0]), Fraction(-1 if func is np.negative else 1), ())
    if func is np.multiply and len(atoms) == 2:
        x, y = factor(atoms[0]), factor(atoms[1])
        if x is None or y is None:
            return None
        return _add(_scale(of(atoms[0]), *y), _scale(of(atoms[1]), *x))
    if func is np.divide and len(atoms) == 2:
        x, y = factor(atoms[0]), factor(atoms[1])
        if x is None or y is None or y[0] == 0:
            return None
        over_y = (1 / y[0], _power(y[1], Fraction(-1)))  # d(x / y) = dx / y - x dy / y²
        over_y_squared = (-x[0] / y[0] ** 2, _times(x[1], _power(y[1], Fraction(-2))))
        return _add(_scale(of(atoms[0]), *over_y), _scale(of(atoms[1]), *over_y_squared))
    if func is np.exp and len(atoms) == 1:
        return _scale(of(atoms[0]), Fraction(1), ((target, Fraction(1)),))  # d exp(x) = exp(x) dx
    if func is np.log and len(atoms) == 1 and isinstance(atoms[0], ast.Name):
        return _scale(of(atoms[0]), Fraction(1), ((atoms[0].id, Fraction(-1)),))  # d log(x) = dx / x
    exponent = atoms[1] if func is np.power and len(atoms) == 2 else ast.Constant(2) if func is np.square else None
    if isinstance(exponent, ast.Constant) and type(exponent.value) in (int, float) and isinstance(atoms[0], ast.Name):
        k = Fraction(exponent.value)
        return _scale(of(atoms[0]), k, ((atoms[0].id, k - 1),))  # d x^k = k x^(k-1) dx
    if func in _LINEAR_REDUCTIONS:
        return _reduced(target, op, of(atoms[0]), atoms[0], perturbation, ndim)
    return None


def _reduced(
    target: str, op: Op, tangent: Tangent, operand: ast.expr, perturbation: _Perturbation, ndim: dict[str, int]
) -> Tangent | None:
    """A sum or mean kept with keepdims along axes where the perturbation is constant: each term
    ``c · operand · δ`` becomes ``c · target · δ`` (the perturbation leaves the sum)."""
    keep, dtype, out = op.bound.get("keepdims"), op.bound.get("dtype"), op.bound.get("out")
    plain = all(isinstance(v, ast.Constant) and v.value is None for v in (dtype, out) if v is not None)
    if not (isinstance(keep, ast.Constant) and keep.value is True and plain and isinstance(operand, ast.Name)):
        return None
    n = ndim.get(operand.id)
    axes = _axes(op.bound.get("axis"), n)
    if n is None or axes is None or not all(perturbation.constant_along(a, n) for a in axes):
        return None
    own: Monomial = ((operand.id, Fraction(1)),)
    if set(tangent) != {own}:
        return None  # (the sum of another product is no name the algebra knows)
    return {((target, Fraction(1)),): tangent[own]}


def _power(monomial: Monomial, k: Fraction) -> Monomial:
    return tuple((n, e * k) for n, e in monomial)


def _times(a: Monomial, b: Monomial) -> Monomial:
    powers: dict[str, Fraction] = dict(a)
    for n, e in b:
        powers[n] = powers.get(n, Fraction(0)) + e
    return tuple(sorted((n, e) for n, e in powers.items() if e != 0))


def _scale(tangent: Tangent, c: Fraction, monomial: Monomial) -> Tangent:
    scaled: Tangent = {}
    for m, coefficient in tangent.items():
        product = _times(m, monomial)
        scaled[product] = scaled.get(product, Fraction(0)) + coefficient * c
    return {m: c for m, c in scaled.items() if c != 0}


def _add(a: Tangent, b: Tangent) -> Tangent:
    total = dict(a)
    for m, c in b.items():
        total[m] = total.get(m, Fraction(0)) + c
    return {m: c for m, c in total.items() if c != 0}
