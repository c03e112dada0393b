"""Functions that bring their own derivatives: ``custom_vjp`` and ``custom_jvp``, in JAX's shape.

``@custom_vjp`` then ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)`` and
``bwd(residuals, g) -> tuple``, one cotangent per argument (``None`` for an argument
without one). ``@custom_jvp`` then ``@f.defjvp`` on ``rule(primals, tangents) ->
(out, tangent_out)``. Called directly, ``f`` just runs ``f``.

A ``CustomFunction`` carries its derivative as a ``rules.Rule`` (``srcdiff_rule``, which
``rules.lookup`` finds), so the analysis treats a call to it as a primitive and never
reads ``f``'s source. The rule replaces the call (see ``rules``): reverse mode's primal
sweep calls ``fwd`` and keeps its residuals like any saved value, the backward sweep
calls ``bwd``; forward mode calls the jvp rule. Generated code calls these functions by
their own names, so it can be read, stepped through, and differentiated again (``fwd``
and ``bwd`` are then ordinary Python functions). Each definition counts as a change to
the rule table (``rules.changed``): derivatives that may call ``f`` are built anew.
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
from collections.abc import Callable
from typing import Any

from . import rules

__all__ = ["custom_vjp", "custom_jvp", "CustomFunction"]

# Placeholders for the functions the templates call (not identifiers: never a parameter's name).
_FWD, _BWD, _JVP = "<fwd>", "<bwd>", "<jvp>"
_SIMPLE_DEFAULTS = (int, float, bool, str, type(None))


class CustomFunction:
    """A function with derivative rules of its own (made by ``custom_vjp`` or ``custom_jvp``)."""

    def __init__(self, f: Callable, decorator: str) -> None:
        functools.update_wrapper(self, f)
        self.function = f
        self.decorator = decorator  # how the user made it, for messages
        self.params, self.defaults = _signature(f, decorator)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self.jvp: Callable | None = None
        self._update()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<srcdiff.{self.decorator} {self.__name__}>"

    @functools.cached_property
    def srcdiff_caller(self) -> Callable:
        """A Python function that only calls this one: what ``grad(f)`` and ``jvp(f)`` differentiate,
        so that ``f``'s own rules are used (its source is written here and kept in ``linecache``)."""
        name = self.__name__ if self.__name__.isidentifier() else "custom_function"  # a lambda's is "<lambda>"
        params = ", ".join(p if p not in self.defaults else f"{p}={self.defaults[p].value!r}" for p in self.params)
        text = f"def {name}({params}):\n    return {name}({', '.join(self.params)})\n"
        filename = f"<srcdiff {self.decorator} {name}>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        namespace: dict[str, Any] = {}
        exec(compile(text, filename, "exec"), namespace)  # noqa: S102  (text built above from identifiers)
        caller = namespace[name]
        namespace[name] = self  # the name it calls: this function, not the caller
        return caller

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Reverse mode: ``fwd(*args) -> (out, residuals)``, ``bwd(residuals, g) -> one cotangent per argument``."""
        if not (callable(fwd) and callable(bwd)):
            raise TypeError(f"{self.__name__}.defvjp(fwd, bwd) takes two functions")
        self.fwd, self.bwd = fwd, bwd
        self._update()

    def defjvp(self, rule: Callable) -> Callable:
        """Forward mode (a decorator): ``rule(primals, tangents) -> (out, tangent_out)``."""
        if not callable(rule):
            raise TypeError(f"{self.__name__}.defjvp takes a function: rule(primals, tangents) -> (out, tangent_out)")
        self.jvp = rule
        self._update()
        return rule

    def _update(self) -> None:
        self.srcdiff_rule = self._rule()
        rules.changed()

    def _rule(self) -> rules.Rule:
        """The rule a call to this function is differentiated by; its templates call fwd, bwd, jvp."""
        params = [_name(p) for p in self.params]
        names: dict[str, Any] = {}
        primal = cotangents = with_tangent = None
        if self.fwd is not None:
            names.update({_FWD: self.fwd, _BWD: self.bwd})
            primal = _call(_FWD, *params)  # fwd(x, b)
            # cotangents(bwd(residuals, g), 2): checked, None read as a zero
            returned = _call(_BWD, _name(rules.RESIDUALS), _name("g"))
            cotangents = _call("cotangents", returned, ast.Constant(len(self.params)))
        if self.jvp is not None:
            names[_JVP] = self.jvp
            with_tangent = _call(_JVP, ast.Tuple(elts=params, ctx=ast.Load()), _name(rules.TANGENTS))
        name = self.__name__
        advice = {
            "vjp": f"Define one with {name}.defvjp(fwd, bwd)"
            + (" (srcdiff does not derive reverse mode from the jvp rule)." if self.jvp else "."),
            "jvp": f"Define one with @{name}.defjvp on rule(primals, tangents) -> (out, tangent_out).",
        }
        return rules.Rule(
            self,
            name,
            tuple(self.params),
            self.defaults,
            None,
            tuple(self.params),
            primal=primal,
            cotangents=cotangents,
            with_tangent=with_tangent,
            names=names,
            advice=advice,
        )


def custom_vjp(f: Callable) -> CustomFunction:
    """Give ``f`` a reverse-mode rule of its own (JAX: ``jax.custom_vjp``); then ``f.defvjp(fwd, bwd)``.

    ``fwd(*args)`` returns ``(out, residuals)``; ``bwd(residuals, g)`` returns a tuple with one
    cotangent per argument of ``f`` (``None`` for an argument without one: a zero). Gradients of code
    that calls ``f`` call ``fwd`` in the forward sweep and ``bwd`` in the backward sweep, and
    never read ``f``'s source: wrap code srcdiff cannot read, or change a derivative (clip it,
    compute it stably). ``f.defjvp`` adds a forward-mode rule too.
    """
    return CustomFunction(f, "custom_vjp")


def custom_jvp(f: Callable) -> CustomFunction:
    """Give ``f`` a forward-mode rule of its own (JAX: ``jax.custom_jvp``); then ``@f.defjvp``.

    ``rule(primals, tangents)`` returns ``(out, tangent_out)``: ``primals`` and ``tangents`` are
    tuples, one entry per argument of ``f``. ``srcdiff.jvp`` of code that calls ``f`` calls the
    rule; ``srcdiff.grad`` refuses it unless ``f.defvjp`` adds a reverse-mode rule (srcdiff does not
    derive one from the jvp rule by linearisation, as JAX does).
    """
    return CustomFunction(f, "custom_jvp")


def _signature(f: Callable, decorator: str) -> tuple[list[str], dict[str, ast.expr]]:
    """``f``'s parameters (each may be passed by position) and their defaults, as constants."""
    if not callable(f):
        raise TypeError(f"@srcdiff.{decorator} decorates a function, not {f!r}")
    params, defaults = [], {}
    for p in inspect.signature(f).parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            raise TypeError(f"@srcdiff.{decorator}: {f.__name__}'s parameter {p} must be a plain positional one")
        params.append(p.name)
        if p.default is not p.empty:
            if type(p.default) not in _SIMPLE_DEFAULTS:
                raise TypeError(f"@srcdiff.{decorator}: {f.__name__}'s default {p} must be a number, string or None")
            defaults[p.name] = ast.Constant(p.default)
    return params, defaults


def _name(n: str) -> ast.Name:
    return ast.Name(id=n, ctx=ast.Load())


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_name(func), args=list(args), keywords=[])
