"""The derivative table's mechanics: ``vjp(...)``, ``jvp(...)``, ``nondifferentiable(...)``.

An entry reads like the call it differentiates::

    vjp("np.multiply(x, y)", x="g * y", y="g * x", kind=ELEMENTWISE)

``g`` is the incoming adjoint (``t`` the incoming tangent, for ``jvp``), ``ans``
the primal result, other names the pattern's parameters. In a pattern with a ``*vararg``,
``k`` is the position of the vararg's element being differentiated (so only there is ``k``
reserved: ``np.tril(m, k=0)`` keeps NumPy's own name). Templates are parsed
when the table is imported: a name that is neither a parameter nor defined in
``NAMESPACE`` fails the import, never a user's call. The reverse transform
substitutes the call's atoms for the parameters and prints the result into the
user's adjoint code, so an entry must be an expression a reader understands.

``discrete`` names the parameters the result is piecewise constant in (a shape, an
axis, an index, a mask, a count): a varied value may flow into them and carry no
derivative. A parameter with neither an adjoint nor a place in ``discrete`` is one the
result varies smoothly with but srcdiff cannot differentiate::

    vjp("np.linspace(start, stop, num=50, endpoint=True, axis=0)", start=..., stop=...,
        discrete=("num", "endpoint", "axis"))

A parameter named ``dtype`` is the type the result is cast to, as in NumPy, and the mechanics
differentiate the cast for every rule (``for_dtype``): to an integer or bool type the call has
no derivative, to a float or complex type it keeps the rule's, and to a type known only at run
time the templates are multiplied by ``keeps_fractions(dtype)``. ``out=`` other than ``None`` is
refused (the result would go into an array the analysis does not see change), as is any keyword
a pattern does not declare (``where=``, ``casting=``), with advice from ``ARGUMENT_ADVICE``.

``parameter_role(func, param)`` answers for the analysis: ``ADJOINT`` (differentiate),
``DISCRETE`` (no derivative is lost) or ``MISSING`` (refuse: the gradient would be silently
wrong); every parameter of a ``nondifferentiable(...)`` function is ``DISCRETE``, and
``None`` means ``func`` is not in the table at all. ``nondifferentiable(...)`` is only for
functions piecewise constant in *every* argument (comparisons, integer rounding, shapes).

A rule may also replace the call itself, for a function that brings its own derivative
(``srcdiff.custom_vjp``, ``srcdiff.custom_jvp``; see ``srcdiff/custom.py``): ``primal``
is what reverse mode's primal sweep computes instead, a pair ``(ans, residuals)`` whose
residuals are kept like any saved value and read as ``RESIDUALS`` by ``cotangents``, one
template for every parameter's adjoint at once (a tuple in parameter order, ``None`` for
a parameter without one); ``with_tangent`` is what forward mode computes instead, a pair
``(ans, tangent)`` from the parameters and ``TANGENTS``, the tuple of their tangents.
Their templates name the rule's own functions through ``names`` (placeholder -> object).

``kind`` says whether the result is a Python/NumPy scalar when the inputs are:
``ELEMENTWISE`` (scalar iff every input is; operands broadcast, so each adjoint
is summed back to its operand's shape), ``SCALAR`` (always), ``REDUCTION``
(scalar iff ``axis`` is None), ``ARRAY`` (assume an array) or ``PARTS`` (a tuple or list, as
``np.linalg.eigh``'s ``(w, v)``: its adjoint is a list with one adjoint per part, added part
by part; a part nothing read has a weak zero; ``compute_uv=False`` makes it an array, as for
``np.linalg.svd``).
"""

from __future__ import annotations

import ast
import builtins as python_builtins
import importlib
import math as python_math
import sys
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import runtime
from ..names import nodes

ELEMENTWISE, SCALAR, REDUCTION, ARRAY, PARTS = "elementwise", "scalar", "reduction", "array", "parts"
ADJOINT, DISCRETE, MISSING = "adjoint", "discrete", "missing"  # parameter roles: see parameter_role
# Placeholders in whole-call templates (never a parameter's name: they are not identifiers).
RESIDUALS, TANGENTS = "<residuals>", "<tangents>"

# Names a template may use besides its parameters, and what emitted code binds them to.
NAMESPACE: dict[str, Any] = {"np": np, "math": python_math}
NAMESPACE.update({n: getattr(runtime, n) for n in runtime.__all__})
_BUILTINS = {n for n in dir(python_builtins) if not n.startswith("_")}


@dataclass(frozen=True)
class Rule:
    """How to differentiate one primitive."""

    func: Any
    spelling: str  # how templates and error messages name it, e.g. "np.sum"
    params: tuple[str, ...]
    defaults: dict[str, ast.expr]
    vararg: str | None
    positional: tuple[str, ...]  # parameters a call may pass by position (those after *vararg may not)
    adjoints: dict[str, ast.expr] = field(default_factory=dict)
    tangents: dict[str, ast.expr] = field(default_factory=dict)
    kind: str = ARRAY
    discrete: frozenset[str] = frozenset()  # parameters the result is piecewise constant in
    # whole-call templates (see the module docstring), and the objects their placeholders name
    primal: ast.expr | None = None
    cotangents: ast.expr | None = None
    with_tangent: ast.expr | None = None
    names: dict[str, Any] = field(default_factory=dict)
    advice: dict[str, str] = field(default_factory=dict)  # "vjp"/"jvp" -> how to add that missing rule
    aliases: dict[str, str] = field(default_factory=dict)  # another keyword for a parameter (x.clip(min=...): a_min)
    only: dict[str, tuple] = field(default_factory=dict)  # a parameter handled at these constant values alone
    # templates that replace those above where an operand may hold complex values (``for_complex``)
    complex_adjoints: dict[str, ast.expr] = field(default_factory=dict)
    complex_tangents: dict[str, ast.expr] = field(default_factory=dict)

    def adjoints_for(self, complex_operands: bool) -> dict[str, ast.expr]:
        return {**self.adjoints, **self.complex_adjoints} if complex_operands else self.adjoints

    def tangents_for(self, complex_operands: bool) -> dict[str, ast.expr]:
        return {**self.tangents, **self.complex_tangents} if complex_operands else self.tangents

    def role(self, param: str) -> str:
        """``ADJOINT``, ``DISCRETE`` or ``MISSING``: see the module docstring. A parameter
        differentiated in one mode only is ``ADJOINT``: the other mode's transform refuses it."""
        if self.has_adjoint(param) or self.has_tangent(param):
            return ADJOINT
        return DISCRETE if param in self.discrete else MISSING

    def has_adjoint(self, param: str) -> bool:
        return param in self.adjoints or (self.cotangents is not None and param in self.params)

    def has_tangent(self, param: str) -> bool:
        return param in self.tangents or (self.with_tangent is not None and param in self.params)

    def how_to_add(self, mode: str) -> str:
        """What an error says to do when this rule lacks ``mode`` ("vjp" or "jvp")."""
        instead = (
            "use srcdiff.grad, which has a rule for it"
            if mode == "jvp"
            else "wrap the value in stop_gradient(...) if it is constant"
        )
        return self.advice.get(mode, f"Add one with srcdiff.rules.{mode}(...), or {instead}.")

    def bind(self, args: list[ast.expr], keywords: dict[str, ast.expr]) -> dict[str, ast.expr]:
        """Map a call's atoms to parameter names (the vararg gets a Tuple of atoms)."""
        bound: dict[str, ast.expr] = {}
        positional = list(self.positional)
        for i, a in enumerate(args):
            if i < len(positional):
                bound[positional[i]] = a
            elif self.vararg:
                bound.setdefault(self.vararg, ast.Tuple(elts=[], ctx=ast.Load())).elts.append(a)
            else:
                raise TypeError(f"{self.spelling}() takes at most {len(positional)} positional arguments")
        for k, v in keywords.items():
            k = self.aliases.get(k, k)
            if k == self.vararg and k not in bound:  # np.transpose(x, axes=p) is np.transpose(x, p)
                bound[k] = ast.Tuple(elts=[v], ctx=ast.Load())
                continue
            if k in bound:
                raise TypeError(f"{self.spelling}() got multiple values for argument {k!r}")
            if k not in self.params:  # an argument the rule does not know could change the result
                raise RefusedArgument(f"srcdiff's rule for {self.spelling} does not handle the argument {k}=", k)
            bound[k] = v
        for k, values in self.only.items():  # (given by position or by keyword)
            v = bound.get(k)
            if v is not None and not (isinstance(v, ast.Constant) and any(v.value is c for c in values)):
                handled = " or ".join(f"{k}={c!r}" for c in values)
                raise RefusedArgument(f"srcdiff's rule for {self.spelling} handles {handled} only", k)
        written = bound.get("out")
        if written is not None and not (isinstance(written, ast.Constant) and written.value is None):
            # the result goes into an existing array, which the analysis does not see change
            raise RefusedArgument(f"srcdiff does not differentiate {self.spelling}(..., out=...)", "out")
        if self.vararg and self.vararg not in bound:
            bound[self.vararg] = ast.Tuple(elts=[], ctx=ast.Load())
        for p in self.params:
            if p not in bound:
                if p not in self.defaults:
                    raise TypeError(f"{self.spelling}() missing argument {p!r}")
                bound[p] = self.defaults[p]
        return bound

    def returns_parts(self, bound: dict[str, ast.expr]) -> bool:
        """Is the result a tuple or list of parts (``PARTS``), given the call's bound atoms?"""
        only_values = bound.get("compute_uv")
        return self.kind == PARTS and not (isinstance(only_values, ast.Constant) and only_values.value is False)

    def is_scalar(self, bound: dict[str, ast.expr], scalar_args: dict[str, bool]) -> bool:
        """Is the result a scalar, given which bound parameters are scalars?"""
        if self.kind == SCALAR:
            return True
        if self.kind == ELEMENTWISE:
            return all(scalar_args.values())
        if self.kind == REDUCTION:
            axis = bound.get("axis")
            return isinstance(axis, ast.Constant) and axis.value is None
        return False


class RefusedArgument(TypeError):
    """A call passes an argument its rule does not handle; ``advice`` says what to write instead."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        otherwise = "Compute it another way, or give the function a rule that handles it with srcdiff.rules.vjp(...)."
        self.advice = ARGUMENT_ADVICE.get(param, otherwise)


# What to write instead of a NumPy keyword argument that no rule handles (see ``Rule.bind``).
ARGUMENT_ADVICE = {
    "out": "Assign the result to a new name (y = np.sum(x)) and, if an existing array must hold it, copy it there "
    "afterwards (buf[...] = y).",
    "where": "Select the values first: np.sum(np.where(mask, x, 0.0)) for a reduction, np.where(mask, np.exp(x), x) "
    "for an elementwise function.",
    "casting": "Leave casting= out and convert with .astype(...) before or after the call.",
    "dtype": "Pass a NumPy number type (dtype=np.float64), or convert the result with .astype(...).",
}


# ``dtype=``: a rule's ``dtype`` parameter is the type its result is cast to, as in NumPy. The
# cast is differentiated once, here, not by each rule: to an integer or bool type it is piecewise
# constant (no derivative at all), to a float or complex type it keeps the rule's derivative.
RUN_TIME = object()  # a dtype bound to a name at run time, unknown when the code is built


def for_dtype(rule: Rule, dtype: Any) -> Rule | None:
    """``rule`` for a call that casts its result to ``dtype`` (``None``: no cast; ``RUN_TIME``: a
    name's value). ``None`` where the cast leaves no derivative (integer and bool types); for a
    dtype known only at run time, the rule with every template multiplied by
    ``keeps_fractions(dtype)``, a cheap check that zeroes the derivative of an integer cast.
    Raises ``RefusedArgument`` for a dtype that is neither a number type nor ``None``."""
    if dtype is None or rule.primal is not None or rule.cotangents is not None or rule.with_tangent is not None:
        return rule  # (a custom function's rule: its dtype is its own business)
    if dtype is RUN_TIME:
        return replace(
            rule,
            adjoints=_cast_templates(rule.adjoints),
            tangents=_cast_templates(rule.tangents),
            complex_adjoints=_cast_templates(rule.complex_adjoints),
            complex_tangents=_cast_templates(rule.complex_tangents),
        )
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = "?"
    if kind in "biu":
        return None
    if kind in "fc":
        return rule
    raise RefusedArgument(f"srcdiff differentiates {rule.spelling}(..., dtype=) only to a number type, not {dtype!r}", "dtype")


def _cast_templates(templates: dict[str, ast.expr]) -> dict[str, ast.expr]:
    check = "keeps_fractions(dtype)"
    return {p: ast.BinOp(left=t, op=ast.Mult(), right=ast.parse(check, mode="eval").body) for p, t in templates.items()}


RULES: dict[Any, Rule] = {}
NONDIFFERENTIABLE: dict[Any, str] = {}  # primitive -> kind of its result
version = 0  # counts changes to the table; the cache builds anew after one
# Changes to the table made by the program rather than by srcdiff loading its own rules: the disk
# cache (``persist``) keys entries by srcdiff's source and so describes srcdiff's table alone.
user_changes = 0
_loading_own = threading.local()  # .active while srcdiff registers its own rules (in this thread)


def _table_changed() -> None:
    global version, user_changes
    version += 1
    if not getattr(_loading_own, "active", False):
        user_changes += 1


def _parse_pattern(pattern: str) -> tuple[Any, str, tuple[str, ...], dict[str, ast.expr], str | None, tuple[str, ...]]:
    """The function a pattern names, its spelling, parameters, defaults, vararg and positional ones."""
    call = ast.parse(pattern, mode="eval").body
    if not isinstance(call, ast.Call):
        raise ValueError(f"rule pattern must be a call: {pattern!r}")
    spelling = ast.unparse(call.func)
    func = _resolve(call.func)
    params, vararg = [], None
    for a in call.args:
        if isinstance(a, ast.Starred):
            vararg = a.value.id
        else:
            params.append(a.id)
    defaults = {k.arg: k.value for k in call.keywords}
    positional = tuple(params) if vararg else tuple(params) + tuple(defaults)  # keywords after *args are keyword-only
    return func, spelling, tuple(params) + tuple(defaults), defaults, vararg, positional


def _resolve(expr: ast.expr) -> Any:
    """The function a pattern names: a name in ``NAMESPACE`` (or a builtin), or an attribute chain
    from one; anything else is evaluated."""
    if isinstance(expr, ast.Attribute):
        return getattr(_resolve(expr.value), expr.attr)
    if isinstance(expr, ast.Name):
        if expr.id in NAMESPACE:
            return NAMESPACE[expr.id]
        if hasattr(python_builtins, expr.id):
            return getattr(python_builtins, expr.id)
    return eval(compile(ast.Expression(expr), "<rule>", "eval"), dict(NAMESPACE), {})  # noqa: S307


def _template_names(vararg: str | None, incoming: str) -> set[str]:
    """The names a template reads besides the pattern's parameters: ``k`` only with a vararg."""
    return {incoming, "ans", "k"} if vararg else {incoming, "ans"}


def _check_parameters(pattern: str, params: tuple[str, ...], vararg: str | None, reserved: set[str]) -> None:
    clash = (set(params) | {vararg}) & reserved
    if clash:
        raise NameError(f"rule for {pattern!r}: parameter {sorted(clash)[0]!r} would be read as the template's own name")


def _parse_template(template: str, allowed: set[str], pattern: str) -> ast.expr:
    tree = ast.parse(template, mode="eval").body
    for node in nodes(tree):
        if isinstance(node, ast.Name) and node.id not in allowed and node.id not in NAMESPACE and node.id not in _BUILTINS:
            raise NameError(f"rule for {pattern!r}: unknown name {node.id!r} in {template!r}")
    return tree


def _add_names(names: dict[str, Any] | None) -> None:
    """Let patterns and templates use the caller's own functions (bound in emitted code too)."""
    for n, value in (names or {}).items():
        if NAMESPACE.get(n, value) is not value:
            raise ValueError(f"the rule namespace already binds {n!r} to {NAMESPACE[n]!r}")
        NAMESPACE[n] = value


def vjp(
    pattern: str,
    *,
    kind: str = ARRAY,
    discrete: tuple[str, ...] = (),
    names: dict[str, Any] | None = None,
    for_complex: dict[str, str] | None = None,
    aliases: dict[str, str] | None = None,
    only: dict[str, tuple] | None = None,
    **adjoints: str,
) -> Rule:
    """Register reverse-mode rules: one adjoint template per differentiable parameter.

    ``discrete`` lists the parameters the result is piecewise constant in (shapes, axes,
    flags, masks): the others without an adjoint are ``MISSING`` (see ``parameter_role``).
    ``names`` binds the pattern's function and any helper a template calls, for rules
    on your own functions: ``vjp("softplus(x)", x="g * sigmoid(x)", names={...})``.
    ``for_complex`` gives templates used instead where an operand may hold complex values
    (``srcdiff.complexes``), so that code on real values keeps the plain one. ``aliases`` maps
    another keyword a call may use to the parameter it names (``{"min": "a_min"}``). ``only``
    maps a parameter to the constant values the templates are right for (given as ``True``,
    ``False`` or ``None``, compared by identity); a call passing another is refused.
    """
    _add_names(names)
    func, spelling, params, defaults, vararg, positional = _parse_pattern(pattern)
    reserved = _template_names(vararg, "g")
    _check_parameters(pattern, params, vararg, reserved)
    allowed = (set(params) | {vararg} | reserved) - {None}
    for p in adjoints:
        if p not in params and p != vararg:
            raise NameError(f"rule for {pattern!r}: {p!r} is not a parameter")
    parsed = {p: _parse_template(t, allowed, pattern) for p, t in adjoints.items()}
    for_complex_parsed = {p: _parse_template(t, allowed, pattern) for p, t in (for_complex or {}).items()}
    _check_discrete(pattern, discrete, (set(params) | {vararg}) - set(adjoints))
    old = RULES.get(func)
    tangents = old.tangents if old else {}
    _check_aliases(pattern, aliases or {}, params)
    rule = Rule(
        func, spelling, params, defaults, vararg, positional, parsed, tangents, kind, frozenset(discrete),
        complex_adjoints=for_complex_parsed, complex_tangents=old.complex_tangents if old else {}, aliases=dict(aliases or {}),
        only=dict(only or {}),
    )  # fmt: skip
    _register(func, rule)
    return rule


def _check_discrete(pattern: str, discrete: tuple[str, ...], candidates: set[str | None]) -> None:
    for p in discrete:
        if p not in candidates:
            raise NameError(f"rule for {pattern!r}: discrete {p!r} is not a parameter without an adjoint")


def _check_aliases(pattern: str, aliases: dict[str, str], params: tuple[str, ...]) -> None:
    for alias, p in aliases.items():
        if p not in params or alias in params:
            raise NameError(f"rule for {pattern!r}: alias {alias!r} must name a parameter ({p!r}) and not be one")


def _register(func: Any, rule: Rule) -> None:
    RULES[func] = rule
    _table_changed()


def jvp(pattern: str, *, names: dict[str, Any] | None = None, for_complex: dict[str, str] | None = None, **tangents: str) -> Rule:
    """Register forward-mode rules: the tangent contributed by each parameter's tangent ``t``
    (``for_complex``: as for ``vjp``)."""
    _add_names(names)
    func, spelling, params, defaults, vararg, positional = _parse_pattern(pattern)
    reserved = _template_names(vararg, "t")
    _check_parameters(pattern, params, vararg, reserved)
    allowed = (set(params) | {vararg} | reserved) - {None}
    parsed = {p: _parse_template(t, allowed, pattern) for p, t in tangents.items()}
    old = RULES.get(func)
    kind, discrete = (old.kind, old.discrete) if old else (ARRAY, frozenset())
    for_complex_parsed = {p: _parse_template(t, allowed, pattern) for p, t in (for_complex or {}).items()}
    rule = Rule(
        func, spelling, params, defaults, vararg, positional, old.adjoints if old else {}, parsed, kind, discrete,
        complex_adjoints=old.complex_adjoints if old else {}, complex_tangents=for_complex_parsed,
        aliases=old.aliases if old else {}, only=old.only if old else {},
    )  # fmt: skip
    _register(func, rule)
    return rule


def nondifferentiable(*funcs: Any, kind: str = ARRAY) -> None:
    """Primitives piecewise constant in every argument (integers, masks, shapes): their result
    carries no derivative. A function smooth in some argument needs a rule (``discrete=``)."""
    for f in funcs:
        NONDIFFERENTIABLE[f] = kind
    _table_changed()


UNDONE: dict[Any, ast.expr] = {}  # state setters -> the call that puts back the state each replaced


def undone_by(func: Any, template: str) -> None:
    """``func`` sets some state (not a value: what warns or raises) and returns the state it
    replaced, as ``np.seterr`` does: the backward sweep, running the forward's statements in
    reverse, calls ``template`` (``ans``: what the call returned) where ``func`` was called, so
    each statement's derivative runs in the state the statement ran in."""
    UNDONE[func] = _parse_template(template, {"ans"}, f"undone_by({getattr(func, '__name__', func)})")
    _table_changed()


VIEWS: set[Any] = set()  # functions whose result may be a view of an argument, or the argument itself


def returns_views(*funcs: Any) -> None:
    """Functions whose result may share an argument's data (``np.reshape``, ``np.diag`` of a
    matrix, ``np.real_if_close`` of a real array, ``stop_gradient``): the analysis treats their
    result as sharing its arguments' data, so writing into either is checked (``safety``).
    tests/test_rules.py calls every function in the table and fails on one that shares
    memory with its argument and is not declared here."""
    VIEWS.update(funcs)
    _table_changed()


def changed() -> None:
    """Note a change to a rule the table does not hold (a custom function's): builds start anew."""
    global version
    version += 1


def lookup(func: Any) -> Rule | None:
    """The table's rule for ``func``, or the one it carries itself (``srcdiff.custom_vjp``)."""
    try:
        found = RULES.get(func)
    except TypeError:  # unhashable callables have no table entry
        found = None
    if found is None and load_optional_rules():
        return lookup(func)
    if found is None:
        own = getattr(func, "srcdiff_rule", None)
        found = own if isinstance(own, Rule) else None
    return found


def module_of(value: Any) -> str | None:
    """``value.__module__``, and ``"numpy"`` for NumPy's own ufuncs, which have none on NumPy 1
    (SciPy's have none on any NumPy)."""
    module = getattr(value, "__module__", None)
    if module is None and isinstance(value, np.ufunc) and getattr(np, value.__name__, None) is value:
        return "numpy"
    return module


def reads_lists_as_arrays(func: Any) -> bool:
    """Is ``func`` NumPy-like: reads a list as an array, returns an array or a scalar (never a list)?
    NumPy's functions, and those whose rules are spelled from SciPy (its ufuncs have no module)."""
    if (module_of(func) or "").startswith("numpy"):
        return True
    rule = lookup(func)
    return rule is not None and rule.spelling.startswith("scipy.")


def is_nondifferentiable(func: Any) -> bool:
    try:
        found = func in NONDIFFERENTIABLE
    except TypeError:
        return False
    if not found and load_optional_rules():
        return is_nondifferentiable(func)
    return found


def parameter_role(func: Any, param: str) -> str | None:
    """Does a varied value flowing into parameter ``param`` of ``func`` have a derivative?

    ``ADJOINT``: the rule differentiates it. ``DISCRETE``: the result is piecewise constant in
    it, nothing is lost. ``MISSING``: the result varies with it and srcdiff has no derivative,
    so differentiating the call would be silently wrong. ``None``: ``func`` is not in the table.
    ``param`` is the name in the rule's pattern (``Rule.bind`` maps a call's arguments to them;
    a ``*vararg`` is one parameter); a ``nondifferentiable`` function is ``DISCRETE`` in all.
    """
    if is_nondifferentiable(func):
        return DISCRETE
    rule = lookup(func)
    return None if rule is None else rule.role(param)


# Python operators share their function form's rule; the emitted code keeps the operator.
BINARY_OPERATORS: dict[type, Any] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
    ast.MatMult: np.matmul,
    ast.Mod: np.mod,
    ast.FloorDiv: np.floor_divide,
}
UNARY_OPERATORS: dict[type, Any] = {ast.USub: np.negative, ast.UAdd: np.positive, ast.Not: np.logical_not, ast.Invert: np.invert}
# ndarray methods and attributes read as the function they stand for (receiver first).
METHODS: dict[str, Any] = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    "var": np.var, "std": np.std, "cumsum": np.cumsum, "dot": np.dot, "reshape": np.reshape,
    "transpose": np.transpose, "ravel": np.ravel, "flatten": np.ndarray.flatten, "squeeze": np.squeeze,
    "copy": np.copy, "clip": np.clip, "swapaxes": np.swapaxes, "repeat": np.repeat,
    "trace": np.trace, "astype": runtime.astype,
    "argmax": np.argmax, "argmin": np.argmin, "nonzero": np.nonzero, "any": np.any, "all": np.all,
    "argsort": np.argsort, "keys": dict.keys,
    "diagonal": np.diagonal, "take": np.take, "conj": np.conj, "conjugate": np.conj, "round": np.round,
    "cumprod": np.cumprod, "item": np.ndarray.item,
}  # fmt: skip
# (not .sort and .partition: they reorder the array in place and return None)
ATTRIBUTES: dict[str, Any] = {"T": np.transpose, "real": np.real, "imag": np.imag}
CONSTANT_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})

_loading_own.active = True
from . import builtins as _builtins  # noqa: E402,F401  (registers entries)
from . import linalg as _linalg  # noqa: E402,F401
from . import math as _math  # noqa: E402,F401
from . import numpy as _numpy  # noqa: E402,F401

_loading_own.active = False

# Rules for optional libraries load only where the library is: srcdiff itself needs NumPy
# alone. A library whose rules are absent keeps the advice a refused call into it gives.
MISSING_RULES: dict[str, str] = {}  # top-level package -> how to get srcdiff's rules for it
# Optional libraries whose rules load on first need: when the program may call them (the
# library is imported), so that ``import srcdiff`` does not import SciPy (``scipy.stats``
# alone takes most of a second). ``load_optional_rules(force=True)`` loads them all.
_loading = threading.RLock()  # (re-entrant: the rule module registers through this one)
LOADED_OPTIONAL: list[str] = []  # the optional libraries whose rules are in the table
_SCIPY_ADVICE = "srcdiff's SciPy rules need SciPy 1.8 or later: pip install 'srcdiff[scipy]'"
# package -> the advice if its rules cannot load; rules/<package, dots as underscores>.py has them
_UNLOADED = {"scipy": _SCIPY_ADVICE, "scipy.signal": _SCIPY_ADVICE}


def load_optional_rules(force: bool = False) -> bool:
    """Load the rules of each optional library that is imported (or of every one, ``force``);
    a library that fails to import, or is too old, gets its advice in ``MISSING_RULES``.
    Returns whether the table changed."""
    if not _UNLOADED:
        return False
    changed = False
    with _loading:  # another thread asking meanwhile waits for the rules, not a table without them
        for package, advice in list(_UNLOADED.items()):
            if force or package in sys.modules:
                _loading_own.active = True
                try:
                    importlib.import_module(f"{__name__}.{package.replace('.', '_')}")
                    changed = True
                    LOADED_OPTIONAL.append(package)
                except ImportError as exc:
                    if not (exc.name or "").startswith(package):
                        raise  # a broken rule module, not a missing library
                    MISSING_RULES[package] = advice
                finally:
                    _loading_own.active = False
                del _UNLOADED[package]
    return changed


def missing_rules_advice(func: Any) -> str | None:
    """How to get srcdiff's rules for the library ``func`` belongs to, if they are not loaded."""
    load_optional_rules()
    for package, advice in MISSING_RULES.items():
        if (getattr(func, "__module__", None) or "").partition(".")[0] == package:
            return advice
        # ufuncs have no __module__: look for func in the package's loaded modules
        modules = [m for n, m in list(sys.modules.items()) if n == package or n.startswith(package + ".")]
        if any(value is func for m in modules for value in list(getattr(m, "__dict__", {}).values())):
            return advice
    return None
