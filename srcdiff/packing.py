"""Packing: a called helper's ``*args`` and ``**kwargs``, spelled out for one call.

Where differentiated code calls a helper, the call is seen whole, so what the helper's
``*xs`` and ``**kw`` gather is known there: the call's extra positional arguments and
its extra keywords. The caller binds the call to the helper's signature with the extras
spelled out (``call_signature``: ``xs_0, xs_1, ...`` and one keyword-only parameter per
key) and records their shape among the callee's argument kinds (``shape``); the callee
is built from its tree with the same parameters, ``xs`` and ``kw`` assigned from them
(``spell_out``), so normalize sees a tuple and a dict written out. Each shape is a
specialisation of its own, cached like the arguments' kinds.

On entry to ``spell_out``: a checked ``FunctionDef``. On exit: a ``FunctionDef`` with named
parameters only; one with ``*args`` or ``**kwargs`` and no shape (the function being
differentiated itself) is refused.
"""

from __future__ import annotations

import ast
import copy
import inspect
import keyword
from typing import Any

from .errors import UnsupportedSyntax
from .names import assign, local_names, name, names_in
from .parse import Origin

POSITIONAL = "*"  # kinds entry ("*", n): the call passes n positional extras
KEYWORD = "**"  # kinds entry ("**key", k): the call's k-th keyword extra is named key
_P = inspect.Parameter


def extras(signature: inspect.Signature, call: ast.Call) -> tuple[int, list[str]] | None:
    """How many positional extras and which keyword extras ``call`` passes to the ``*args``
    and ``**kwargs`` of a function of this signature (None: it has neither)."""
    params = list(signature.parameters.values())
    vararg = any(p.kind == _P.VAR_POSITIONAL for p in params)
    varkw = any(p.kind == _P.VAR_KEYWORD for p in params)
    if not (vararg or varkw):
        return None
    positional = [p for p in params if p.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)]
    named = {p.name for p in params if p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY)}
    count = max(0, len(call.args) - len(positional)) if vararg else 0
    keys = [k.arg for k in call.keywords if k.arg not in named] if varkw else []
    return count, keys


def _extra_names(vararg: str, count: int, keys: list[str]) -> list[str]:
    return [f"{vararg}_{k}" for k in range(count)] + keys


def clash(func: Any, call: ast.Call) -> str | None:
    """A name two of the parameters ``call_signature`` would give ``func`` share (``def h(xs_0, *xs)``
    called with extras, or a keyword ``xs_0=`` that ``**kw`` gathers): such a call is refused."""
    signature = inspect.signature(func, follow_wrapped=False)
    found = extras(signature, call)
    if found is None:
        return None
    vararg = next((p.name for p in signature.parameters.values() if p.kind == _P.VAR_POSITIONAL), "")
    named = [p.name for p in signature.parameters.values() if p.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD)]
    names = named + _extra_names(vararg, *found)
    return next((n for n in names if names.count(n) > 1), None)


def call_signature(func: Any, call: ast.Call) -> inspect.Signature:
    """``func``'s signature with its ``*args`` and ``**kwargs`` spelled out for ``call``
    (``inspect.Signature.bind`` of the call gives each extra a parameter of its own)."""
    signature = inspect.signature(func, follow_wrapped=False)  # the wrapper's own parameters
    shape = extras(signature, call)
    if shape is None:
        return signature
    count, keys = shape
    params: list[inspect.Parameter] = []
    for p in signature.parameters.values():
        if p.kind == _P.VAR_POSITIONAL:
            params += [_P(n, _P.POSITIONAL_OR_KEYWORD) for n in _extra_names(p.name, count, [])]
        elif p.kind == _P.VAR_KEYWORD:
            params += [_P(key, _P.KEYWORD_ONLY) for key in keys]
        elif count and p.kind != _P.KEYWORD_ONLY:
            params.append(p.replace(default=_P.empty))  # the extras come after every positional argument
        else:
            params.append(p)
    return signature.replace(parameters=params)


def shape(func: Any, call: ast.Call) -> frozenset[tuple[str, int]]:
    """The kinds entries that tell the callee's build what ``call`` passes to its ``*args``
    and ``**kwargs`` (none for a function without them)."""
    found = extras(inspect.signature(func, follow_wrapped=False), call)
    if found is None:
        return frozenset()
    count, keys = found
    return frozenset({(POSITIONAL, count)} | {(KEYWORD + key, k) for k, key in enumerate(keys)})


def is_shape_entry(entry_name: str) -> bool:
    return entry_name.startswith(POSITIONAL)


def spell_out(tree: ast.FunctionDef, origin: Origin, kinds: frozenset[tuple[str, int]]) -> ast.FunctionDef:
    """``tree`` with its ``*xs`` and ``**kw`` replaced by the parameters ``call_signature``
    gives for the shape in ``kinds``, and ``xs = (xs_0, ...)``, ``kw = {"key": key, ...}``
    first in the body (a new tree; ``tree`` is not modified)."""
    args = tree.args
    if not (args.vararg or args.kwarg):
        return tree
    entries = [(n, k) for n, k in kinds if is_shape_entry(n)]
    if not entries:
        raise origin.error(
            UnsupportedSyntax,
            tree,
            "*args/**kwargs parameters of the function being differentiated are not supported",
            "Name every parameter; a helper it calls may take *args and **kwargs (each call spells them out).",
        )
    count = next((k for n, k in entries if n == POSITIONAL), 0)
    keys = [n[len(KEYWORD) :] for n, _ in sorted((e for e in entries if e[0].startswith(KEYWORD)), key=lambda e: e[1])]
    vararg = args.vararg.arg if args.vararg else ""
    spelled = _extra_names(vararg, count, keys)
    taken = names_in(tree)
    locals_ = local_names(tree)
    renames: dict[str, str] = {}
    for n in spelled:
        if n in locals_:  # a local of the same name (``s = kw["s"]``) is another variable: give it a new name
            fresh, k = n, 0
            while fresh in taken or fresh in spelled:
                k += 1
                fresh = f"{n}_{k}"
            taken.add(fresh)
            renames[n] = fresh
        elif n in taken or not n.isidentifier() or keyword.iskeyword(n):
            raise origin.error(
                UnsupportedSyntax,
                tree,
                f"the argument gathered as {n!r} by *args/**kwargs has the name of a global that {tree.name} reads",
                f"Pass that argument under another name, or import the global under another name in {tree.name}'s module.",
            )
    if renames:
        tree = _Rename(renames).visit(copy.deepcopy(tree))
    new = copy_function(tree)
    new_args = new.args
    prologue: list[ast.stmt] = []
    if args.vararg:
        if count:
            new_args.defaults = []  # every positional parameter is given when there are extras
        new_args.args = new_args.args + [ast.arg(arg=n) for n in spelled[:count]]
        prologue.append(assign(vararg, ast.Tuple(elts=[name(n) for n in spelled[:count]], ctx=ast.Load())))
    if args.kwarg:
        new_args.kwonlyargs = new_args.kwonlyargs + [ast.arg(arg=key) for key in keys]
        new_args.kw_defaults = new_args.kw_defaults + [None] * len(keys)
        values = ast.Dict(keys=[ast.Constant(key) for key in keys], values=[name(key) for key in keys])
        prologue.append(assign(args.kwarg.arg, values))
    new_args.vararg = new_args.kwarg = None
    for s in prologue:
        ast.fix_missing_locations(ast.copy_location(s, tree))
    body = new.body
    docstring = body[:1] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else []
    new.body = docstring + prologue + body[len(docstring) :]
    return new


class _Rename(ast.NodeTransformer):
    """Every use of a name, nested scopes' parameters included, under a new name."""

    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(id=self.renames.get(node.id, node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return ast.copy_location(ast.arg(arg=self.renames.get(node.arg, node.arg), annotation=node.annotation), node)


def copy_function(tree: ast.FunctionDef) -> ast.FunctionDef:
    """A copy of ``tree`` whose parameters and body list can be replaced (the statements are shared)."""
    new = ast.FunctionDef(**{f: getattr(tree, f) for f in tree._fields})
    ast.copy_location(new, tree)
    new.args = ast.arguments(**{f: getattr(tree.args, f) for f in tree.args._fields})
    return new
