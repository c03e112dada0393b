"""Parse: a Python function -> (its ``ast.FunctionDef``, an ``Origin``).

The source read is that of the code object the function runs, so a decorator's
wrapper is seen as written, never silently replaced by the function it wraps.
On exit the tree has absolute line numbers (those of the user's file), no
decorators, and has passed the table of supported syntax below: every ``ast``
class is either allowed or refused with a message that says what to write
instead. A class missing from the table is refused too, so a new Python
version cannot slip an unknown construct through.
"""

from __future__ import annotations
import __future__

import ast
import functools
import inspect
import linecache
import operator
import os
import re
import types
from dataclasses import dataclass
from typing import Any

from .errors import SourceUnavailable, UnsupportedSyntax, cell_number, place
from .names import Fresh, copy_tree, names_in


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
        """Build a diagnostic of class ``cls`` pointing at ``node`` in this file; in code srcdiff
        generated, at the user's line that code came from (found through its comments)."""
        filename, line = self.filename, getattr(node, "lineno", None) or self.first_line
        order = 1
        while filename in GENERATED_FROM:
            source_line = _provenance(filename, line)
            if source_line is None:
                break
            filename, line = GENERATED_FROM[filename], source_line
            order += 1
        if order > 1:
            message += f" (in srcdiff's code for this line, differentiated to order {order})"
        construct = linecache.getline(filename, line).strip() or None
        return cls(message, filename=filename, line=line, construct=construct, suggestion=suggestion or None)


# generated code's file name -> the file of the code it was generated from (emit fills it in)
GENERATED_FROM: dict[str, str] = {}


def is_generated(filename: str) -> bool:
    """Is this the file of code srcdiff wrote (a derivative, a custom function's wrapper, an output
    selector)? A name in angle brackets, or an entry of the disk cache (in ``GENERATED_FROM``)."""
    return filename.startswith("<srcdiff") or filename in GENERATED_FROM


_PROVENANCE = re.compile(r"^\s*# (?:forward: )?\S.*?:(\d+)(?:-\d+)?(?:  |$)")


def user_line(filename: str, line: int) -> tuple[str, int] | None:
    """The user's file and line that a line of generated code came from (through generated code
    generated from generated code too), or None if ``filename`` is not srcdiff's."""
    if filename not in GENERATED_FROM:
        return None
    while filename in GENERATED_FROM:
        source_line = _provenance(filename, line)
        if source_line is None:
            return None
        filename, line = GENERATED_FROM[filename], source_line
    return filename, line


def note_user_line(exc: BaseException) -> None:
    """Name, on an exception raised in generated code, the user's line that code came from
    (an exception note; Python 3.10 has none, and shows srcdiff's line alone)."""
    if getattr(exc, "filename", None) or not hasattr(exc, "add_note"):
        return  # a SrcdiffError names the user's line already
    tb = exc.__traceback__
    found = None
    while tb is not None:  # the innermost generated frame: where it failed
        filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        if filename in GENERATED_FROM:
            found = (filename, line)
        tb = tb.tb_next
    if found is None:
        return
    comment = next((t for t in reversed(linecache.getlines(found[0])[: found[1]]) if _PROVENANCE.match(t)), "")
    where = user_line(*found)
    if where is None:
        return
    if comment.strip().startswith("# forward:"):  # a statement of the forward sweep: the function's lines
        span = comment.strip()[len("# forward: ") :]
        source, cell = GENERATED_FROM[found[0]], cell_number(GENERATED_FROM[found[0]])
        named = source if cell is None else f"In [{cell}]"
        exc.add_note(f"in the forward sweep srcdiff wrote for {named} (lines {span.rsplit(':', 1)[-1]})")
    else:
        exc.add_note(f"in srcdiff's derivative code for {place(*where)}  {linecache.getline(*where).strip()}")


def _provenance(filename: str, line: int) -> int | None:
    """The source line named by the nearest provenance comment at or above ``line``."""
    lines = linecache.getlines(filename)
    for text in reversed(lines[:line]):
        found = _PROVENANCE.match(text)
        if found:
            return int(found.group(1))
    return None


_APPEND = "Write a for loop that appends to a list"

# Every ast class the transformer meets: None means supported; else (what it is, what to do instead).
SYNTAX: dict[type, tuple[str, str] | None] = {
    ast.Module: None,
    ast.FunctionDef: None,  # local functions are inlined where called (normalize)
    ast.Lambda: None,
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
    ast.comprehension: None,
    ast.ListComp: None,
    ast.DictComp: None,  # normalize makes it a loop that writes keys
    ast.Dict: None,  # with constant keys
    ast.GeneratorExp: None,  # where it is walked at once (sum, max, ...): normalize makes it a list
    ast.Starred: None,  # normalize spells it out, or refuses where the length is not known
    ast.Delete: None,  # of names only (normalize drops it)
    ast.With: None,  # with np.errstate(...): normalize refuses any other context manager
    ast.withitem: None,
    ast.AsyncFunctionDef: ("an async function", "Use a plain def"),
    ast.ClassDef: ("a class definition", "Define the class outside the differentiated function"),
    ast.AsyncWith: ("async with", "Move it outside the differentiated function"),
    ast.AsyncFor: ("async for", "Use a plain for loop"),
    ast.Try: ("try/except", "Validate inputs before calling the gradient"),
    ast.Import: ("import", "Import at module level; the function may use the module"),
    ast.ImportFrom: ("import", "Import at module level; the function may use the names"),
    ast.Global: ("writing a global", "Return the value instead"),
    ast.Nonlocal: ("writing an enclosing function's variable", "Return the value instead"),
    ast.NamedExpr: ("the walrus operator :=", "Use a separate assignment"),
    ast.Set: ("a set", "Use a list"),
    ast.SetComp: ("a set comprehension", _APPEND),
    ast.Await: ("await", "Call the function synchronously"),
    ast.Yield: ("yield (a generator)", "Return a list instead"),
    ast.YieldFrom: ("yield from (a generator)", "Return a list instead"),
}
for _name in ("Match", "TryStar", "TypeAlias"):
    if hasattr(ast, _name):
        SYNTAX[getattr(ast, _name)] = (f"a {_name} statement", "Rewrite it with if statements and assignments")
_OPERATOR_CLASSES = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)


def refuse_transform_results(f: Any) -> None:
    """A jvp, a Jacobian, a Hessian, an hvp or a pullback runs generated code (made on demand,
    or called in a Python loop), not code that srcdiff generates in one piece to transform again."""
    made = getattr(f, "srcdiff_transform", None)
    if made is not None:
        raise SourceUnavailable(
            f"{getattr(f, '__name__', f)} is made by srcdiff.{made}, which cannot be transformed again",
            suggestion="Compose through grad, whose generated code can be: hessian(f) (that is jacobian(grad(f))), "
            "hvp(f), jvp(grad(f), ...), grad(grad(f)). For the second derivatives of a vector-valued f, take the "
            "Hessian of each output: [hessian(lambda x, i=i: f(x)[i])(x) for i in range(n)].",
        )


def function_ast(f) -> tuple[ast.FunctionDef, Origin]:
    """Read the source of the code ``f`` runs and return its checked ``FunctionDef`` and origin.

    The source is that of ``f.__code__``, never of a function it wraps: a decorator's
    wrapper (``functools.wraps`` sets ``__wrapped__``) is differentiated as written.
    """
    code = getattr(f, "__code__", None)
    name = code.co_name if code is not None else getattr(f, "__name__", repr(f))
    refuse_transform_results(f)
    if code is None:
        raise SourceUnavailable(
            f"cannot differentiate {name!r}: it is not a Python function (builtins and C functions have no source)",
            suggestion="Wrap the call in a def, or register a rule with srcdiff.rules.vjp(...).",
        )
    found = _parsed.get(id(code))
    if found is not None and found[0] is code and found[1] is linecache.cache.get(code.co_filename):
        tree, origin = copy_tree(found[2]), found[3]
    else:
        tree, origin = _lambda_ast(code) if name == "<lambda>" else _code_ast(code, name, f)
        entry = linecache.cache.get(code.co_filename)
        if entry is not None:
            if len(_parsed) >= _CHECKED_LIMIT:
                _parsed.clear()
            _parsed[id(code)] = (code, entry, copy_tree(tree), origin)
    if name != "<lambda>" and (tree.args.vararg or tree.args.kwarg) and hasattr(f, "__wrapped__"):
        inner = getattr(f.__wrapped__, "__name__", "the function")
        raise origin.error(
            UnsupportedSyntax,
            tree,
            f"{name!r} is a decorator's wrapper around {inner!r}; its *args/**kwargs hide what it does with the arguments",
            f"Differentiate the undecorated {inner} (keep a reference to it before decorating), give the wrapper "
            "named parameters, or register a rule for the decorated function with srcdiff.rules.vjp(...).",
        )
    return tree, origin


# id(code) -> (code, the linecache entry read, its checked tree, origin): a function's source is
# read and checked once while its code and file stay (``function_ast`` hands out copies)
_parsed: dict[int, tuple[Any, Any, ast.FunctionDef, Origin]] = {}


def read_origin(code: types.CodeType) -> Origin | None:
    """The origin ``function_ast`` found for ``code``, if it has read it from the file's text as
    ``linecache`` holds it now (its lines are those ``inspect.getsourcelines(code)`` gives)."""
    found = _parsed.get(id(code))
    if found is not None and found[0] is code and found[1] is linecache.cache.get(code.co_filename):
        return found[3]
    return None


def carried_source(f: Any) -> list[str] | None:
    """What a pickled gradient carries of its function's source, for a process that may not have
    its file: the file's lines, for a function pickle cannot send by reference (``__main__``'s, a
    local one, a lambda: cloudpickle sends those by value, without their source, under the file
    name ``<dynamic-code>``); None for a module's function, which is imported from its own file."""
    code = getattr(f, "__code__", None)
    if code is None or getattr(f, "__module__", None) != "__main__" and "<" not in getattr(f, "__qualname__", "<"):
        return None
    return list(linecache.getlines(code.co_filename)) or None


def restore_source(f: Any, lines: list[str]) -> None:
    """Make a carried source readable under the file name ``f``'s code has here, where no file of
    that name can be read (cloudpickle's ``<dynamic-code>``, a deleted script, ``python -c``); a
    file this process can read is its own and stays. Code built from a carried text is checked
    against it as an edited file's is (two scripts' functions share ``<dynamic-code>``)."""
    filename = getattr(getattr(f, "__code__", None), "co_filename", None)
    if filename is None or (linecache.getlines(filename) and filename not in _CARRIED):
        return
    linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)
    _CARRIED.add(filename)


_CARRIED: set[str] = set()  # file names whose lines a pickled gradient carried here


def source_lines(code: types.CodeType) -> tuple[list[str], int]:
    """``inspect.getsourcelines(code)`` for a def's code, read from ``linecache`` where the def
    starts without inspect's search of every module for the file (a tenth of a build's first
    read of a 200-line function, or of its first call in a process that reads the disk cache).
    As inspect does, the file is checked first: ``importlib.reload`` and ``%autoreload`` do not
    refresh ``linecache``, whose old text would fail the reloaded code's check (or, describing a
    callee to the disk cache, match an entry built from the text before the edit)."""
    linecache.checkcache(code.co_filename)
    lines = linecache.getlines(code.co_filename)
    start = code.co_firstlineno - 1
    if 0 <= start < len(lines) and _DEFINITION.match(lines[start]):
        return inspect.getblock(lines[start:]), start + 1
    return inspect.getsourcelines(code)


_DEFINITION = re.compile(r"\s*(@|def\s|async\s+def\s)")


def _code_ast(code: Any, name: str, f: Any) -> tuple[ast.FunctionDef, Origin]:
    """The checked ``FunctionDef`` of a ``def``'s code object, and its origin."""
    try:
        lines, first_line = source_lines(code)  # the code object's: inspect would follow __wrapped__ from f
    except (OSError, TypeError) as exc:
        raise SourceUnavailable(
            f"cannot read the source of {name!r} ({exc})",
            filename=code.co_filename,
            line=code.co_firstlineno,
            suggestion="Define the function in a file (not exec or the interactive prompt).",
        ) from None
    tree = _parse_indented("".join(lines), first_line)
    starts = [n.lineno for n in [tree, *tree.decorator_list]] if isinstance(tree, ast.FunctionDef) else []
    if not starts or tree.name != code.co_name or min(starts) != code.co_firstlineno:
        raise SourceUnavailable(
            f"the source found for {name!r} is not its def statement (the file may have changed since it was loaded)",
            filename=code.co_filename,
            line=code.co_firstlineno,
            suggestion="Reload the module (or re-run the cell) that defines it.",
        )
    tree.decorator_list = []
    # a file may have changed since it was imported (a cell's text cannot; srcdiff's entries do not)
    if (os.path.isfile(code.co_filename) or code.co_filename in _CARRIED) and not is_generated(code.co_filename):
        refuse_edited(tree, code, getattr(code, "co_qualname", getattr(f, "__qualname__", name)), getattr(f, "__globals__", {}))
    origin = Origin(code.co_filename, tree.name, first_line, first_line + len(lines) - 1)
    if code.co_flags & inspect.CO_GENERATOR:
        tree = generator_as_list(tree)
    check_syntax(tree, origin)
    return tree, origin


def generator_as_list(tree: ast.FunctionDef) -> ast.FunctionDef:
    """A generator function as the function returning the list of what it yields: ``yield v``
    appends ``v``, ``yield from seq`` its items, and each ``return`` (and the end) returns the list.
    Its callers walk it to the end at once (normalize: ``list(gen(...))``), so the two agree. A
    ``yield`` whose value is used (``x = yield v``) is left for ``check_syntax`` to refuse."""
    items = Fresh(names_in(tree)).like("_yielded")

    def listed() -> ast.Name:
        return ast.Name(id=items, ctx=ast.Load())

    class Yields(ast.NodeTransformer):
        def visit_Expr(self, node: ast.Expr) -> ast.AST:
            value = node.value
            if isinstance(value, (ast.Yield, ast.YieldFrom)):
                method = "append" if isinstance(value, ast.Yield) else "extend"
                item = value.value if value.value is not None else ast.Constant(None)
                grow = ast.Call(func=ast.Attribute(value=listed(), attr=method, ctx=ast.Load()), args=[item], keywords=[])
                return ast.copy_location(ast.Expr(value=grow), node)
            return node

        def visit_Return(self, node: ast.Return) -> ast.AST:
            return ast.copy_location(ast.Return(value=listed()), node)

        def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
            return node if node is not tree else self.generic_visit(node)

        visit_Lambda = visit_AsyncFunctionDef = visit_FunctionDef  # (their own yields and returns)

    tree = Yields().visit(tree)
    empty = ast.Assign(targets=[ast.Name(id=items, ctx=ast.Store())], value=ast.List(elts=[], ctx=ast.Load()))
    start = ast.copy_location(empty, tree.body[0])
    end = ast.copy_location(ast.Return(value=listed()), tree.body[-1])
    first = 1 if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant) else 0
    tree.body = tree.body[:first] + [start] + tree.body[first:] + [end]
    return ast.fix_missing_locations(tree)


def _parse_indented(text: str, first_line: int = 1) -> ast.stmt | None:
    """The first statement of ``text``, which starts at line ``first_line`` of its file and may be
    indented (a method, a nested def): parsed under ``if 1:`` rather than dedented, which would
    change a multi-line string's text (and fail on a line of one indented less than its def), with
    the file's line numbers (blank lines put in front: a walk of the tree to renumber it costs more)."""
    indented = text[:1] in (" ", "\t")
    blank = "\n" * max(first_line - 1 - indented, 0)
    module = ast.parse(blank + ("if 1:\n" if indented else "") + text)
    if not module.body:
        return None
    tree = module.body[0]
    if not indented:
        return tree
    tree = tree.body[0]  # type: ignore[attr-defined]
    if first_line == 1:  # (no line in front for ``if 1:``)
        ast.increment_lineno(tree, -1)
    return tree


_FUTURE_FLAGS = functools.reduce(operator.or_, (getattr(__future__, n).compiler_flag for n in __future__.all_feature_names))


def refuse_edited(tree: ast.FunctionDef, code: types.CodeType, qualname: str, namespace: dict) -> None:
    """Refuse source that is not that of the code the function runs: its file was edited and
    not reloaded (srcdiff would differentiate the new text, the function run the old code).

    The code objects are compared by what they run (bytecode, names, constants, nested code;
    not line numbers). The ``def`` alone is compiled first, where it stands: inside the classes
    and functions its qualified name lists (so closures, ``super()`` and private names compile
    as they did), with the module's ``__future__`` flags and its modules imported (Python 3.11
    calls a method of an imported name differently). Where that differs, the file as it is now
    is compiled whole (once per version of the file), and the def at the code's first line
    compared: that is the context exactly."""
    if any(n.startswith("@py_assert") for n in code.co_varnames):
        return  # pytest rewrote its asserts (https://docs.pytest.org/en/stable/how-to/assert.html): not comparable
    lines = linecache.getlines(code.co_filename)  # the list inspect read from (a new one once the file changes)
    if _checked.get((code.co_filename, code)) is lines:
        return
    expected = _runs(code)
    modules = sorted(n for n in _names(code) if isinstance(namespace.get(n), types.ModuleType))
    for imported in (modules, []) if modules else ([],):  # without: the imports ran in another compile (a cell)
        if _runs_or_none(_compiled_in_place(tree, code, qualname, imported), code.co_name) == expected:
            _remember(code, lines)
            return
    refuse_edited_file(code, lines)


def refuse_edited_file(code: types.CodeType, lines: list[str]) -> None:
    """Refuse ``code`` unless the file it came from, as ``lines`` now reads, compiled whole has
    the same code at its first line (once per version of the file): what ``refuse_edited`` falls
    back on, and how a lambda is checked (it may sit anywhere in a statement)."""
    whole = _whole_files.get(code.co_filename)
    if whole is None or whole[0] is not lines:
        try:
            compiled = compile("".join(lines), code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)
        except (SyntaxError, ValueError):
            compiled = None
        whole = _whole_files[code.co_filename] = (lines, compiled)
    expected = _runs(code)
    if whole[1] is not None and any(_runs(c) == expected for c in _codes_at(whole[1], code.co_name, code.co_firstlineno)):
        _remember(code, lines)
        return
    name = "the lambda" if code.co_name == "<lambda>" else code.co_name
    raise SourceUnavailable(
        f"the file changed since {name} was imported: its source is not the code it runs",
        filename=code.co_filename,
        line=code.co_firstlineno,
        suggestion="Reload the module (importlib.reload, or %autoreload in IPython) or restart, then "
        "differentiate the reloaded function. (An import hook that rewrites functions has this effect too.)",
    )


# (file name, code) -> the lines its source was found to be in (a build reads a function's source several times)
_checked: dict[tuple[str, types.CodeType], list[str]] = {}


def _remember(code: types.CodeType, lines: list[str]) -> None:
    if len(_checked) > 1000:
        _checked.clear()
    _checked[code.co_filename, code] = lines


# file name -> (linecache's lines of it, the module compiled from them): one compile per version
_whole_files: dict[str, tuple[list[str], types.CodeType | None]] = {}


def _compiled_in_place(tree: ast.FunctionDef, code: types.CodeType, qualname: str, modules: list[str]) -> types.CodeType | None:
    """The module of ``tree`` alone, nested as ``qualname`` says, its closure variables locals of
    the function around it, and ``modules`` imported."""
    body: list[ast.stmt] = [tree]
    scopes = qualname.split(".")[:-1]
    free = [n for n in code.co_freevars if n != "__class__"]  # __class__ is the enclosing class's
    if free and "<locals>" not in scopes:
        scopes = ["__srcdiff_outer__", "<locals>"] + scopes
    innermost = max((i for i, s in enumerate(scopes) if s == "<locals>"), default=-1)
    for i in reversed(range(len(scopes))):
        scope = scopes[i]
        if scope == "<locals>":
            continue
        if i + 1 < len(scopes) and scopes[i + 1] == "<locals>":  # a function
            if i + 1 == innermost:  # the closure's variables are its locals
                body = [ast.Assign(targets=[ast.Name(n, ast.Store())], value=ast.Constant(None)) for n in free] + body
            args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
            body = [ast.FunctionDef(name=scope, args=args, body=body, decorator_list=[], returns=None, **_NO_TYPE_PARAMS)]
        else:
            body = [ast.ClassDef(name=scope, bases=[], keywords=[], body=body, decorator_list=[], **_NO_TYPE_PARAMS)]
    body = [ast.Import(names=[ast.alias(name=n)]) for n in modules] + body
    module = ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
    try:
        return compile(module, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError):
        return None


def _names(code: types.CodeType) -> set[str]:
    """The global and attribute names ``code`` and the code it holds read."""
    found = set(code.co_names)
    for k in code.co_consts:
        if isinstance(k, types.CodeType):
            found |= _names(k)
    return found


def _runs_or_none(module: types.CodeType | None, name: str) -> tuple | None:
    found = _code_named(module, name) if module is not None else None
    return _runs(found) if found is not None else None


def _codes_at(module: types.CodeType, name: str, line: int) -> list[types.CodeType]:
    """The code objects named ``name`` whose def starts at ``line``, anywhere in ``module``."""
    found, todo = [], [module]
    while todo:
        c = todo.pop()
        if c.co_name == name and c.co_firstlineno == line and c is not module:
            found.append(c)
        todo += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    return found


_NO_TYPE_PARAMS = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}


def _code_named(code: types.CodeType, name: str) -> types.CodeType | None:
    """The outermost code object named ``name`` within ``code`` (breadth first: the def, not one it holds)."""
    level = [code]
    while level:
        for c in level:
            if c.co_name == name and c is not code:
                return c
        level = [k for c in level for k in c.co_consts if isinstance(k, types.CodeType)]
    return None


def _runs(code: types.CodeType) -> tuple:
    """What a code object runs, without where its lines are."""
    consts = tuple(_runs(k) if isinstance(k, types.CodeType) else (type(k), repr(k)) for k in code.co_consts)
    shape = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount)
    return code.co_name, code.co_code, code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars, shape, consts


# id(code) -> (code, the linecache entry its source was read from), for functions ``checked``
# found readable and supported; the code is kept so that its id is not another's
_passed: dict[int, tuple[Any, Any]] = {}
_CHECKED_LIMIT = 1000


def checked(f: Any, check: Any) -> None:
    """Run ``check(f)`` (which raises on unreadable source or unsupported syntax), unless it
    already passed for the code ``f`` runs, read from the same source: the key is the code
    object's identity (a redefined function, or a swapped ``__code__``, is another) and the
    file's ``linecache`` entry (replaced when the file is read again)."""
    code = getattr(f, "__code__", None)
    if code is None:
        check(f)
        return
    found = _passed.get(id(code))
    if found is not None and found[0] is code and found[1] is linecache.cache.get(code.co_filename):
        return
    check(f)
    entry = linecache.cache.get(code.co_filename)
    if entry is not None:
        if len(_passed) >= _CHECKED_LIMIT:
            _passed.clear()
        _passed[id(code)] = (code, entry)


def _lambda_ast(code) -> tuple[ast.FunctionDef, Origin]:
    """A lambda as the ``def`` it stands for: ``def lambda_(x): return body``. Its file is
    parsed whole (the lambda may sit in the middle of a statement); the lambda is the one on
    its first line with its parameters, told apart by column where there are several."""
    filename, line = code.co_filename, code.co_firstlineno
    unavailable = SourceUnavailable(
        f"cannot read the source of the lambda at {filename}:{line}",
        filename=filename,
        line=line,
        suggestion="Define the function with def, in a file.",
    )
    lines = linecache.getlines(filename)
    try:
        on_line = _lambdas_by_line(filename, lines or inspect.findsource(code)[0]).get(line, [])
    except (OSError, TypeError, SyntaxError):
        raise unavailable from None
    if lines and os.path.isfile(filename) and not is_generated(filename) and _checked.get((filename, code)) is not lines:
        refuse_edited_file(code, lines)  # the file as read, compiled: the lambda's code must be in it
    parameters = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    found = [n for n in on_line if [a.arg for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs] == parameters]
    if len(found) > 1 and not hasattr(code, "co_positions"):  # Python 3.10: code has lines, not columns
        found = [n for n in found if _reads(_compiled_lambda(n)) == _reads(code)]
    elif len(found) > 1:  # the lambda whose body holds the code's first column
        columns = {  # where the body's instructions start (the (0, 0) entries belong to no source)
            p[2] for p in code.co_positions() if p[0] == line and p[2] is not None and (p[2], p[3]) != (0, 0)
        }
        if columns:
            first = min(columns)
            found = [n for n in found if n.body.col_offset <= first and (n.end_lineno > line or first < n.end_col_offset)]
            found = [n for n in found if not any(m is not n and m in found for m in ast.walk(n))]
    if len(found) != 1:
        raise unavailable
    node = copy_tree(found[0])  # (the file's tree is kept for its other lambdas: later stages change this one)
    tree = ast.FunctionDef(
        name="lambda_",
        args=node.args,
        body=[ast.Return(value=node.body, lineno=node.lineno, col_offset=node.col_offset)],
        decorator_list=[],
        returns=None,
        type_comment=None,
        **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}),
    )
    ast.copy_location(tree, node)
    origin = Origin(filename, "<lambda>", line, node.end_lineno or line)
    check_syntax(tree, origin)
    return tree, origin


def _lambdas_by_line(filename: str, lines: list[str]) -> dict[int, list[ast.Lambda]]:
    """The lambdas of a file as ``lines`` reads it, by their first line: the file is parsed once
    per version (``linecache`` hands out the same list until the file changes), not once for each
    of its lambdas."""
    kept = _lambda_files.get(filename)
    if kept is not None and kept[0] is lines:
        return kept[1]
    by_line: dict[int, list[ast.Lambda]] = {}
    for n in ast.walk(ast.parse("".join(lines))):
        if isinstance(n, ast.Lambda):
            by_line.setdefault(n.lineno, []).append(n)
    if len(_lambda_files) >= 64:
        _lambda_files.clear()
    _lambda_files[filename] = (lines, by_line)
    return by_line


# file name -> (the lines parsed, its lambdas by first line)
_lambda_files: dict[str, tuple[list[str], dict[int, list[ast.Lambda]]]] = {}


def _compiled_lambda(node: ast.Lambda) -> types.CodeType | None:
    """The code of the lambda alone (its enclosing function's variables read as globals)."""
    try:
        module = compile(ast.fix_missing_locations(ast.Expression(body=node)), "<lambda>", "eval")
    except (SyntaxError, ValueError):
        return None
    return next((c for c in module.co_consts if isinstance(c, types.CodeType)), None)


def _reads(code: types.CodeType | None) -> tuple | None:
    """The names (global, attribute or free) and constants a lambda's code reads, with those of
    the code it holds: the same whether the lambda is compiled where it stands or alone. Two
    lambdas on one line that read the same are not told apart (the lambda is then refused)."""
    if code is None:
        return None
    consts = sorted(repr(k) for k in code.co_consts if k is not None and not isinstance(k, types.CodeType))
    inner = sorted(map(repr, (_reads(k) for k in code.co_consts if isinstance(k, types.CodeType))))
    return tuple(sorted(set(code.co_names) | set(code.co_freevars))), tuple(consts), tuple(inner)


def check_syntax(tree: ast.FunctionDef, origin: Origin) -> None:
    """Refuse any construct outside the supported subset, at its line."""
    # *args and **kwargs are spelled out for each call of a helper (packing.py)
    for node in ast.walk(tree):
        if isinstance(node, _OPERATOR_CLASSES):
            continue
        entry = SYNTAX.get(type(node), (type(node).__name__, "Rewrite it with assignments, if and for"))
        if entry is not None:
            what, advice = entry
            raise origin.error(UnsupportedSyntax, node, f"{what} cannot be differentiated", advice + ".")
