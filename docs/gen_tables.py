"""Generate the tables in docs/supported-python.md from srcdiff's own registries.

    python docs/gen_tables.py            rewrite the generated sections of supported-python.md
    python docs/gen_tables.py --check    exit 1 if they differ from what the code says
    python docs/gen_tables.py --print    print the sections instead

Each section sits between ``<!-- NAME: begin ... -->`` and ``<!-- NAME: end -->``
markers and is built from: ``srcdiff.parse.SYNTAX`` (the syntax table),
``srcdiff.rules`` operators, methods and attributes (how operators map to
primitives), ``srcdiff.rules.RULES`` (the derivative rules) and
``srcdiff.rules.NONDIFFERENTIABLE``. tests/test_docs.py runs ``--check``, so the
page never drifts from the code.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import math
import re
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import srcdiff  # noqa: E402
from srcdiff import parse, rules, runtime  # noqa: E402

rules.load_optional_rules(force=True)  # every rule srcdiff ships, SciPy's too (where installed)

PAGE = ROOT / "docs" / "supported-python.md"
_OPERATOR_SPELLING = {
    ast.Add: "a + b", ast.Sub: "a - b", ast.Mult: "a * b", ast.Div: "a / b", ast.Pow: "a ** b",
    ast.MatMult: "a @ b", ast.Mod: "a % b", ast.FloorDiv: "a // b", ast.USub: "-a", ast.Not: "not a",
    ast.Invert: "~a", ast.UAdd: "+a",
}  # fmt: skip


def _code(text: str) -> str:
    """A Markdown code span that survives table cells."""
    return "`" + text.replace("|", "\\|") + "`"


def spelling(func: Any) -> str:
    """How a user writes ``func``: ``np.sum``, ``np.random.rand``, ``math.exp``, ``len``, ``srcdiff.stop_gradient``."""
    name = getattr(func, "__name__", None)
    places = [("np.", np), ("np.random.", np.random), ("np.linalg.", np.linalg), ("math.", math)]
    places += [("srcdiff.", srcdiff), ("srcdiff.runtime.", runtime), ("", builtins)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dir(np) holds deprecated aliases that warn when read
        for prefix, module in places:
            if name and getattr(module, name, None) is func:
                return prefix + name
            for attr in dir(module):
                if not attr.startswith("_") and getattr(module, attr, None) is func:
                    return prefix + attr
    return repr(func)


def _signature(rule: rules.Rule) -> str:
    parts = [p for p in rule.params if p not in rule.defaults]
    if rule.vararg:
        parts.append("*" + rule.vararg)
    parts += [f"{p}={ast.unparse(rule.defaults[p])}" for p in rule.params if p in rule.defaults]
    return f"{rule.spelling}({', '.join(parts)})"


def _templates(templates: dict[str, ast.expr]) -> str:
    if not templates:
        return "none (its result is constant)"
    return "<br>".join(f"{p}: {_code(ast.unparse(t))}" for p, t in templates.items())


def _with_complex(templates: dict[str, ast.expr], complex_templates: dict[str, ast.expr]) -> str:
    """The templates, then those that replace them where an operand may hold complex values."""
    shown = _templates(templates)
    return "".join([shown, *(f"<br>complex {p}: {_code(ast.unparse(t))}" for p, t in complex_templates.items())])


def _adjoints(rule: rules.Rule) -> str:
    """The adjoint templates, then the parameters without a derivative that are not discrete."""
    params = [*rule.params, *([rule.vararg] if rule.vararg else [])]
    missing = [p for p in params if rule.role(p) == rules.MISSING]
    if not missing:
        return _with_complex(rule.adjoints, rule.complex_adjoints)
    shown = _with_complex(rule.adjoints, rule.complex_adjoints) + "<br>" if rule.adjoints else ""
    return shown + "no derivative yet: " + ", ".join(missing)


FAMILIES = (
    "NumPy",
    "SciPy (loaded when SciPy is installed: pip install 'srcdiff[scipy]')",
    "math",
    "Python builtins",
    "srcdiff.runtime (helpers that generated code calls, so it can be differentiated again)",
)
# Syntax that only newer Pythons parse: left out so the page is the same on every supported version.
NEWER_SYNTAX = frozenset({"TryStar", "TypeAlias", "TypeVar", "ParamSpec", "TypeVarTuple", "TemplateStr", "Interpolation"})


def _family(func: Any, text: str) -> str:
    if text.startswith("np."):
        return FAMILIES[0]
    if text.startswith("scipy."):
        return FAMILIES[1]
    if text.startswith("math."):
        return FAMILIES[2]
    if getattr(runtime, text.rsplit(".", 1)[-1], None) is func:
        return FAMILIES[4]
    return FAMILIES[3]


def syntax_table() -> str:
    """Supported and refused ``ast`` classes, from ``parse.SYNTAX``."""
    syntax = {cls: entry for cls, entry in parse.SYNTAX.items() if cls.__name__ not in NEWER_SYNTAX}
    allowed = sorted(cls.__name__ for cls, entry in syntax.items() if entry is None)
    lines = ["Accepted `ast` node classes (anything else is refused at its line):", ""]
    lines += [", ".join(_code(n) for n in allowed), ""]
    lines += ["| construct | `ast` class | what to write instead |", "| --- | --- | --- |"]
    for cls, entry in sorted(syntax.items(), key=lambda item: item[0].__name__):
        if entry is None:
            continue
        what, advice = entry if isinstance(entry, tuple) else ("", entry)
        lines.append(f"| {what} | {_code(cls.__name__)} | {advice} |")
    return "\n".join(lines)


def operator_table() -> str:
    """Operators, methods and attributes, and the primitive whose rule they share."""
    lines = ["| you write | differentiated as |", "| --- | --- |"]
    for table in (rules.BINARY_OPERATORS, rules.UNARY_OPERATORS):
        for op, func in table.items():
            lines.append(f"| {_code(_OPERATOR_SPELLING.get(op, op.__name__))} | {_code(spelling(func))} |")
    for method, func in rules.METHODS.items():
        lines.append(f"| {_code(f'x.{method}(...)')} | {_code(spelling(func))} |")
    for attr, func in rules.ATTRIBUTES.items():
        lines.append(f"| {_code(f'x.{attr}')} | {_code(spelling(func))} |")
    constants = ", ".join(_code(f"x.{a}") for a in sorted(rules.CONSTANT_ATTRIBUTES))
    lines += ["", f"Constant attributes (no derivative): {constants}."]
    return "\n".join(lines)


def rules_table() -> str:
    """Every derivative rule, grouped by library, in registration order."""
    with_tangents = any(rule.tangents for rule in rules.RULES.values())
    header = "| primitive | result | adjoint of each parameter (`g`: incoming adjoint, `ans`: result) |"
    rule_line = "| --- | --- | --- |"
    if with_tangents:
        header += " tangent |"
        rule_line += " --- |"
    groups: dict[str, list[str]] = {family: [] for family in FAMILIES}
    for func, rule in rules.RULES.items():
        row = f"| {_code(_signature(rule))} | {rule.kind} | {_adjoints(rule)} |"
        if with_tangents:
            row += f" {_with_complex(rule.tangents, rule.complex_tangents)} |"
        groups.setdefault(_family(func, rule.spelling), []).append(row)
    lines: list[str] = []
    for family, rows in groups.items():
        if rows:
            lines += [f"**{family}** ({len(rows)} rules)", "", header, rule_line, *rows, ""]
    return "\n".join(lines).rstrip()


def nondifferentiable_list() -> str:
    """Primitives whose results srcdiff treats as constants."""
    names = [spelling(f) for f in rules.NONDIFFERENTIABLE]
    return ", ".join(_code(n) for n in names) + "."


SECTIONS: dict[str, Callable[[], str]] = {
    "syntax-table": syntax_table,
    "operator-table": operator_table,
    "rules-table": rules_table,
    "nondifferentiable-list": nondifferentiable_list,
}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}: begin[^>]*-->\n)(.*?)(<!-- {name}: end -->)", re.S)


def render(text: str, names: Iterable[str] = SECTIONS) -> str:
    """``text`` with every generated section rebuilt from the code."""
    for name in names:
        pattern = _pattern(name)
        if not pattern.search(text):
            raise ValueError(f"{PAGE.name} has no '<!-- {name}: begin -->' ... '<!-- {name}: end -->' section")
        body = SECTIONS[name]()
        text = pattern.sub(lambda m, body=body: m.group(1) + "\n" + body + "\n\n" + m.group(3), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite, check (exit 1 on a difference) or print the generated sections."""
    parser = argparse.ArgumentParser(description="Generate the tables of docs/supported-python.md.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    mode.add_argument("--print", action="store_true", help="print the sections")
    options = parser.parse_args(argv)
    if options.print:
        for name, build in SECTIONS.items():
            print(f"<!-- {name} -->\n{build()}\n")
        return 0
    current = PAGE.read_text()
    wanted = render(current)
    if options.check:
        if current != wanted:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run python docs/gen_tables.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        PAGE.write_text(wanted)
        print(f"updated {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
