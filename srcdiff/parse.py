"""Parse: a Python function -> (its ``ast.FunctionDef``, an ``Origin``).

On exit the tree has absolute line numbers (those of the user's file), no
decorators, and has passed the table of supported syntax below: every ``ast``
class is either allowed or refused with a message that says what to write
instead. A class missing from the table is refused too, so a new Python
version cannot slip an unknown construct through.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from dataclasses import dataclass

from .errors import SourceUnavailable, UnsupportedSyntax


@dataclass(frozen=True)
class Origin:
    """Where a function's source lives, for provenance comments and errors."""

    filename: str
    name: str
    first_line: int
    last_line: int

    def line_text(self, line: int) -> str:
        return linecache.getline(self.filename, line).strip()

    def error(self, cls: type, node: ast.AST | None, message: str, suggestion: str = ""):
        """Build a diagnostic of class ``cls`` pointing at ``node`` in this file."""
        line = getattr(node, "lineno", None) or self.first_line
        construct = self.line_text(line) or None
        return cls(
            message, filename=self.filename, line=line, construct=construct, suggestion=suggestion or None
        )


_LOOPS = "Write it as a for loop that appends to a list"

# Every ast class the transformer meets: None means supported, a string is the advice.
SYNTAX: dict[type, str | None] = {
    ast.Module: None,
    ast.FunctionDef: None,  # only the function itself; nested definitions are refused below
    ast.arguments: None,
    ast.arg: None,
    ast.keyword: None,
    ast.Return: None,
    ast.Assign: None,
    ast.AugAssign: None,
    ast.AnnAssign: None,
    ast.For: None,
    ast.While: None,
    ast.If: None,
    ast.Expr: None,
    ast.Pass: None,
    ast.Break: None,
    ast.Continue: None,
    ast.Raise: None,
    ast.Assert: None,
    ast.BoolOp: None,
    ast.BinOp: None,
    ast.UnaryOp: None,
    ast.IfExp: None,
    ast.Compare: None,
    ast.Call: None,
    ast.Constant: None,
    ast.Attribute: None,
    ast.Subscript: None,
    ast.Name: None,
    ast.List: None,
    ast.Tuple: None,
    ast.Slice: None,
    ast.JoinedStr: None,
    ast.FormattedValue: None,
    ast.Load: None,
    ast.Store: None,
    ast.comprehension: None,
    ast.ListComp: None,
    ast.AsyncFunctionDef: "async functions cannot be differentiated; use a plain def",
    ast.ClassDef: "define classes outside the differentiated function",
    ast.Lambda: "define the helper with def at module level; srcdiff transforms it when called",
    ast.Delete: "del is not supported; let the name go out of use instead",
    ast.With: "with blocks are not supported; move the context manager outside the function",
    ast.AsyncWith: "async with is not supported",
    ast.AsyncFor: "async for is not supported",
    ast.Try: "try/except is not supported; validate inputs before calling the gradient",
    ast.Import: "import at module level; the function may use the imported module",
    ast.ImportFrom: "import at module level; the function may use the imported names",
    ast.Global: "writing globals is not supported; return the value instead",
    ast.Nonlocal: "writing enclosing variables is not supported; return the value instead",
    ast.NamedExpr: "the walrus operator is not supported; use a separate assignment",
    ast.Dict: "dict values are not supported; use separate variables or a list",
    ast.Set: "sets are not supported",
    ast.SetComp: "set comprehensions are not supported",
    ast.DictComp: "dict comprehensions are not supported",
    ast.GeneratorExp: f"generator expressions are not supported. {_LOOPS}",
    ast.Await: "await is not supported",
    ast.Yield: "generators cannot be differentiated; return a list instead",
    ast.YieldFrom: "generators cannot be differentiated; return a list instead",
    ast.Starred: "star-arguments are not supported; pass the arguments one by one",
}
for _name in ("Match", "TryStar", "TypeAlias"):
    if hasattr(ast, _name):
        SYNTAX[getattr(ast, _name)] = f"{_name.lower()} statements are not supported"
_OPERATOR_CLASSES = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def function_ast(f) -> tuple[ast.FunctionDef, Origin]:
    """Read ``f``'s source and return its checked ``FunctionDef`` and origin."""
    name = getattr(f, "__name__", repr(f))
    code = getattr(f, "__code__", None)
    if code is None:
        raise SourceUnavailable(
            f"cannot differentiate {name!r}: it is not a Python function (builtins and C functions have no source)",
            suggestion="Wrap the call in a def, or register a rule with srcdiff.rules.vjp(...).",
        )
    if name == "<lambda>":
        raise SourceUnavailable(
            f"cannot differentiate a lambda ({code.co_filename}:{code.co_firstlineno})",
            suggestion="Define the function with def.",
        )
    try:
        lines, first_line = inspect.getsourcelines(f)
    except (OSError, TypeError) as exc:
        raise SourceUnavailable(
            f"cannot read the source of {name!r} ({exc})",
            filename=code.co_filename,
            line=code.co_firstlineno,
            suggestion="Define the function in a file (not exec or the interactive prompt).",
        ) from None
    module = ast.parse(textwrap.dedent("".join(lines)))
    tree = module.body[0]
    if not isinstance(tree, ast.FunctionDef):
        raise SourceUnavailable(f"the source of {name!r} is not a def statement", filename=code.co_filename)
    ast.increment_lineno(tree, first_line - 1)
    tree.decorator_list = []
    origin = Origin(code.co_filename, tree.name, first_line, first_line + len(lines) - 1)
    check_syntax(tree, origin)
    return tree, origin


def check_syntax(tree: ast.FunctionDef, origin: Origin) -> None:
    """Refuse any construct outside the supported subset, at its line."""
    args = tree.args
    if args.vararg or args.kwarg:
        raise origin.error(
            UnsupportedSyntax, tree, "*args/**kwargs parameters are not supported", "Name every parameter."
        )
    for node in ast.walk(tree):
        if isinstance(node, _OPERATOR_CLASSES):
            continue
        advice = SYNTAX.get(type(node), f"{type(node).__name__} is not supported")
        if isinstance(node, ast.FunctionDef) and node is not tree:
            advice = "nested function definitions are not supported; define the helper at module level"
        if advice is not None:
            construct = type(node).__name__
            raise origin.error(UnsupportedSyntax, node, f"{construct} is not supported", advice[0].upper() + advice[1:] + ".")
