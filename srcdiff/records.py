"""Dataclasses being differentiated: read by their fields, and only so.

A dataclass argument in ``wrt`` reaches the generated code as a record of its fields (a
NamedTuple, ``trees.as_records``), so that its adjoint can be built field by field. The
record is not the dataclass: ``isinstance(cfg, Cfg)``, ``cfg == other``, ``len(cfg)``,
``bool(cfg)``, iterating it, its properties and methods would all answer differently. So
``refuse_other_uses`` checks, before normalisation, that the function (and every function
of the user's it passes the dataclass to) only reads the dataclass's fields (``cfg.w``),
passes it on whole, or returns it; anything else is refused at its line.

On entry: the parsed function, its origin, and the dataclass parameters with their field
names (``fields_in(kinds)``, from the ``"@"`` entries ``api.value_markers`` adds).
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from . import parse
from .errors import UnsupportedSyntax
from .operations import environment, is_installed_library, safe_resolve

MARKER = "@"  # kinds entries ("@cfg", 0) and ("@cfg.w", 0): cfg is a dataclass in wrt, w one of its fields


def markers(name: str, fields: list[str]) -> set[tuple[str, int]]:
    """The kinds entries saying that parameter ``name`` is a dataclass with these fields."""
    return {(MARKER + name, 0)} | {(f"{MARKER}{name}.{field}", 0) for field in fields}


def fields_in(kinds: frozenset[tuple[str, int]]) -> dict[str, frozenset[str]]:
    """The dataclass parameters in ``kinds`` and their fields."""
    found: dict[str, set[str]] = {}
    for entry, _ in kinds:
        if entry.startswith(MARKER):
            name, _, field = entry[len(MARKER) :].partition(".")
            found.setdefault(name, set())
            if field:
                found[name].add(field)
    return {name: frozenset(fields) for name, fields in found.items()}


def refuse_other_uses(
    f: Any, tree: ast.FunctionDef, origin: parse.Origin, fields: dict[str, frozenset[str]], seen: set | None = None
) -> None:
    """Refuse any use of a dataclass parameter of ``f`` other than reading a field, passing it
    whole to a function of the user's (checked in turn), or returning it."""
    seen = set() if seen is None else seen
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    env = environment(f, tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in fields):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Attribute):
            if parent.attr not in fields[node.id]:
                raise origin.error(
                    UnsupportedSyntax,
                    node,
                    f"'{parent.attr}' is not a field of the dataclass '{node.id}' being differentiated (a property, "
                    "method or class attribute): srcdiff reads it as the record of its fields",
                    f"Compute it in the function from the fields ({', '.join(sorted(fields[node.id]))}), "
                    "or leave the dataclass out of wrt.",
                )
            continue
        if isinstance(parent, ast.Return):
            continue
        call, keyword = (parents.get(id(parent)), parent.arg) if isinstance(parent, ast.keyword) else (parent, None)
        if isinstance(call, ast.Call) and (keyword is not None or node in call.args):
            callee = safe_resolve(call.func, env)
            if inspect.isfunction(callee) and not is_installed_library(callee, env):
                _check_callee(callee, call, node, keyword, fields[node.id], seen)
                continue
        raise origin.error(
            UnsupportedSyntax,
            node,
            f"the dataclass '{node.id}' being differentiated is used other than by its fields (isinstance, ==, len, "
            "bool, iteration or a library call): srcdiff reads it as the record of its fields, which would answer differently",
            f"Read its fields ({node.id}.{min(fields[node.id], default='field')}), or leave the dataclass out of wrt.",
        )


def _check_callee(
    callee: Any, call: ast.Call, node: ast.Name, keyword: str | None, fields: frozenset[str], seen: set
) -> None:
    """The same check in a function of the user's that is given the dataclass."""
    if any(isinstance(a, ast.Starred) for a in call.args):
        return  # (*args: its parameters are spelled out later, and checked there as records)
    try:
        parameters = list(inspect.signature(callee).parameters)
    except (TypeError, ValueError):
        return
    position = call.args.index(node) if keyword is None else None
    param = keyword if position is None else parameters[position] if position < len(parameters) else None
    if param is None or (callee, param) in seen:
        return
    seen.add((callee, param))
    tree, origin = parse.function_ast(callee)
    refuse_other_uses(callee, tree, origin, {param: fields}, seen)
