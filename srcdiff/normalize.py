"""Normalise: one operation per statement, structured control flow, a single exit.

On entry: a checked ``FunctionDef`` from ``parse``. On exit its body holds only

    name = expr                      expr: one operation on atoms (see below)
    name[index] = atom               a write into a local array or list
    name.append(atom)                growing a local list
    if test: ... else: ...           test: atom or ``not name``
    for name in name: ...            the iterable is a ``range`` held in a name
    while name: ...                  the test is recomputed at the end of the body
    if name: break                   only as the last statement of a loop body
    raise ... / assert ...           kept for the forward sweep only
    return name                      once, as the last statement

An atom is a Name, a Constant, or an attribute of a non-local name (``np.pi``).
An operation is a BinOp, UnaryOp or single Compare of atoms, a Call whose
arguments are atoms, a Subscript or Attribute of an atom, a List/Tuple of
atoms, or a Dict of atoms with constant keys. No statement reads the name it assigns. ``return``/``break``/``continue`` (exits.py)
become flags and guarded blocks (``for``/``while ... else`` too); ``for`` over rows,
lists, ``enumerate``, ``zip`` and ``reversed``, nested, becomes an index loop;
comprehensions become loops that append, and a generator expression, ``map`` or
``filter`` that a builtin walks to its end becomes a comprehension; ``max(xs)``
(``key=``, ``default=``), ``math.prod`` and ``functools.reduce`` become loops, and
``sorted(xs, key=<lambda>)`` the keys and a sort of positions (``desugar`` writes such
rewrites as Python source); ``operator.add(a, b)`` and kin become their operators;
``np.r_[...]``/``np.c_[...]`` become ``np.concatenate``; ``np.add.at(y, i, v)`` becomes a
write into all of ``y``. A local ``def``
or ``lambda`` is inlined at each call, with fresh names (``bindings`` says which names
are local functions, lists of known length and dicts); ``*seq`` is spelled out or
gathered by a loop; ``d.get`` becomes a test. Every statement keeps the line number
of the user's statement it came from (an inlined body keeps its own lines).
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import inspect
import math
import operator
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from .bindings import (
    Walked,
    dict_names,
    fixed_keys,
    fixed_lengths,
    is_list_expression,
    list_names,
    local_functions,
    range_names,
    sequence_expression,
    sequence_names,
    single_name,
    tuple_names,
)
from .errors import UnsupportedSyntax
from .exits import ExitLowering
from .names import Fresh, assign, local_names, name, names_in, parameters
from .parse import Origin, is_generated

_ITERATOR_BUILTINS = ("range", "enumerate", "zip", "reversed")
_ERROR_CATEGORIES = ("all", "divide", "over", "under", "invalid")  # np.errstate's keywords, np.seterr's too
_SEQUENCE_ATTRIBUTES = frozenset(dir(list)) | frozenset(dir(tuple)) | {"_fields", "_field_defaults"}
_FIELD_OR_METHOD = frozenset({"index", "count"})  # tuple methods a NamedTuple's field of that name hides
# builtins that walk an iterable argument to its end: a generator or map there may become a list
_CONSUMERS = ("sum", "max", "min", "list", "tuple", "sorted", "any", "all", "enumerate", "zip")


def normalize(
    tree: ast.FunctionDef,
    origin: Origin,
    containers: Mapping[str, str] = MappingProxyType({}),
    resolve: Callable[[ast.expr], Any] | None = None,
) -> ast.FunctionDef:
    """Return the normal form of ``tree`` (a new tree; ``tree`` is not modified).

    ``containers``: the parameters that hold a ``"dict"`` in this call (a loop over one walks
    its keys) or a ``"sequence"`` (``record.field`` of a NamedTuple reads it by position; of a
    ``"sequence of records"``, so does ``item.field`` of the variable of a loop over it);
    dicts the function builds itself are recognised here. ``resolve``: the object a non-local
    name or attribute chain denotes (None if unknown), to tell ``functools.partial`` when it is called."""
    return _Normalizer(tree, origin, containers, resolve).run()


def _appends(e: ast.expr, is_local: Callable[[ast.expr], bool]) -> bool:
    """Is ``e`` a call ``xs.append(v)`` on a local list?"""
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "append" and is_local(e.func.value)


def _parallel(target: ast.expr, value: ast.expr) -> bool:
    """``a, b = e1, e2``: a tuple or list of targets given a display of as many values, no ``*``."""
    return (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
        and not any(isinstance(e, ast.Starred) for e in target.elts + value.elts)
    )


def augmented_names(tree: ast.FunctionDef) -> frozenset[str]:
    """Names the user's code changes with ``x += v`` (in place, when x is an array)."""
    return frozenset(n.target.id for n in ast.walk(tree) if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name))


def is_atom(e: ast.expr, locals_: set[str]) -> bool:
    """Names, constants and attributes of non-local names (modules, constants)."""
    if isinstance(e, (ast.Name, ast.Constant)):
        return True
    while isinstance(e, ast.Attribute):
        e = e.value
    return isinstance(e, ast.Name) and e.id not in locals_


def is_flag_test(e: ast.expr) -> bool:
    return isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not) and isinstance(e.operand, ast.Name)


# --------------------------------------------------------------------- flattening


class _Normalizer:
    def __init__(
        self, tree: ast.FunctionDef, origin: Origin, containers: Mapping[str, str], resolve: Callable[[ast.expr], Any] | None
    ) -> None:
        self.tree = tree
        self.resolve = resolve
        self.origin = origin
        self.locals = local_names(tree)
        self.fresh = Fresh(names_in(tree), record=self.locals)
        self.out: list[ast.stmt] = []
        self.line = tree.lineno
        # local functions (``def``/``lambda`` at the top of the body), inlined where called;
        # ``defined``: those whose definition has run, with the atoms holding their defaults
        walked = Walked(tree)  # (the questions below share one walk of the tree, which they do not change)
        self.local_functions = local_functions(walked)
        self.defined: dict[str, dict[str, ast.expr]] = {}
        self.inlining: list[ast.AST] = []  # the local functions being inlined: one calling itself is refused
        # ``g = functools.partial(f, a, k=v)`` bound once: each call ``g(x)`` becomes ``f(a, x, k=v)``, with
        # the atoms holding the arguments as they were when the partial was made
        self.counts = walked.counts
        self.partials: dict[str, tuple[ast.expr, list[ast.expr], list[ast.keyword]]] = {}
        self.passed_partials: set[str] = set()  # those also made as written, to be passed on
        # parameters holding a function in this call (``act(x)``): called as a global function is
        self.function_parameters = {p for p, c in containers.items() if c == "function" and self.counts[p] == 1}
        self.fixed_lengths = fixed_lengths(walked)  # names holding a tuple or list written out: ``*name`` unpacks
        self.tuples = tuple_names(walked)  # names holding a tuple written out: ``+`` joins them
        self.lists = list_names(walked)  # names surely holding a list: ``+=`` extends it, ``+`` joins
        self.fixed_keys = fixed_keys(walked)  # names holding a dict written out: ``**name`` unpacks
        self.dicts = dict_names(walked, frozenset(p for p, c in containers.items() if c == "dict"))  # ``for k in d``: keys
        # lists and tuples in wrt, which may be NamedTuples
        self.records = {p for p, c in containers.items() if c.startswith("sequence") and self.counts[p] == 1}
        # lists in wrt whose items are lists or tuples: ``for layer in layers`` reads each by field
        self.record_lists = {p for p, c in containers.items() if c == "sequence of records" and self.counts[p] == 1}
        self.ranges = range_names(walked)  # ``for i in r`` over one: a range loop
        # surely not dicts: a loop over anything else checks, when it runs, whether to walk keys
        self.sequences = sequence_names(walked, frozenset(p for p, c in containers.items() if c != "dict"))
        self.walked_generators: set[int] = set()  # the generator calls ``as_sequence`` made lists of

    def fail(self, node: ast.AST, message: str, advice: str) -> UnsupportedSyntax:
        if getattr(node, "lineno", None) is None:  # a node this stage built: the statement being normalised
            node = ast.Pass(lineno=self.line)
        return self.origin.error(UnsupportedSyntax, node, message, advice)

    # -- entry
    def run(self) -> ast.FunctionDef:
        body = list(self.tree.body)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # docstring
        if not body:
            body = [ast.copy_location(ast.Return(value=ast.Constant(None)), self.tree)]
        last = body[-1]
        single_exit = sum(isinstance(n, ast.Return) for n in ast.walk(self.tree)) == 1
        if single_exit and isinstance(last, ast.Return) and isinstance(last.value, ast.Name):
            result = last.value.id  # ``return loss``: keep the user's name
            body = ExitLowering(self.fresh, result, self.origin).function_body(body[:-1], returns=False)
        else:
            result = self.fresh.like("out")
            body = ExitLowering(self.fresh, result, self.origin).function_body(body, returns=True)
        self.locals |= local_names(ast.Module(body=body, type_ignores=[])) | {result}
        new_body = self.block(body)
        self.refuse_escaping_functions(new_body)
        ret = ast.Return(value=name(result))
        ret.lineno = last.lineno
        new_body.append(ret)
        fn = ast.FunctionDef(
            name=self.tree.name,
            args=self.tree.args,
            body=new_body,
            decorator_list=[],
            returns=None,
            type_comment=None,
            **({"type_params": []} if "type_params" in ast.FunctionDef._fields else {}),
        )
        ast.copy_location(fn, self.tree)
        _relocate(fn)
        return fn

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        saved, self.out = self.out, []
        for s in stmts:
            self.line = getattr(s, "lineno", self.line)
            self.stmt(s)
        result, self.out = self.out, saved
        return result

    def emit(self, s: ast.stmt) -> None:
        s.lineno = self.line
        self.out.append(s)

    # -- statements
    def stmt(self, s: ast.stmt) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise self.fail(s, f"{type(s).__name__} statements are not supported", "Rewrite it with assignments.")
        method(s)

    def stmt_Pass(self, s: ast.Pass) -> None:
        pass

    def stmt_Delete(self, s: ast.Delete) -> None:
        """``del name`` only ends a name's use (generated code releases arrays so): no value changes."""
        for target in s.targets:
            if not isinstance(target, ast.Name):
                what = {ast.Subscript: "an element", ast.Attribute: "an attribute"}.get(type(target), "this")
                raise self.fail(s, f"del of {what} is not supported", "Build a new list or dict without it instead.")

    def stmt_Raise(self, s: ast.Raise) -> None:
        self.emit(s)

    def stmt_Assert(self, s: ast.Assert) -> None:
        self.emit(s)

    def stmt_Break(self, s: ast.Break) -> None:
        self.emit(s)  # only produced by exit lowering, at the end of a loop body

    def stmt_Expr(self, s: ast.Expr) -> None:
        call = s.value
        if isinstance(call, ast.Constant):
            return  # a bare string or number does nothing
        if isinstance(call, ast.Call):
            func = call.func
            if self.is_add_at(call):
                self.scatter_add(call)
                return
            if isinstance(func, ast.Attribute) and func.attr == "pop" and self._is_local(func.value):
                self.emit(assign(self.fresh.temp(), self.expr(call)))  # a discarded pop still changes the list
                return
            if self.grows_container(call):
                return
            value = self.expr(call)
            if not is_atom(value, self.locals):  # an inlined local function leaves only its result
                self.emit(ast.Expr(value=value))  # append, print, logging: analysis decides
            return
        raise self.fail(s, "an expression whose value is discarded is not supported", "Assign it to a name.")

    def stmt_With(self, s: ast.With) -> None:
        """``with np.errstate(divide="ignore"): ...``: the body between setting NumPy's error
        handling and putting back what it was (which changes no value: only what warns or raises,
        in the forward sweep; the derivative's own code runs as NumPy is set when it runs). Any
        other context manager is refused; so is an exit from the body."""
        item = s.items[0] if len(s.items) == 1 else None
        manager = item.context_expr if item is not None else None
        if not (
            isinstance(manager, ast.Call)
            and isinstance(manager.func, ast.Attribute)
            and item.optional_vars is None
            and self.resolves_to(manager.func, np.errstate, "np.errstate")
            and not manager.args
            and all(k.arg in _ERROR_CATEGORIES for k in manager.keywords)
        ):
            advice = "Move the context manager outside the differentiated function."
            raise self.fail(s, "a with block cannot be differentiated", advice)
        if any(isinstance(n, (ast.Return, ast.Break, ast.Continue)) for n in ast.walk(ast.Module(body=s.body, type_ignores=[]))):
            raise self.fail(s, "return, break or continue inside a with block is not supported", "Leave the block first.")
        seterr = ast.Attribute(value=manager.func.value, attr="seterr", ctx=ast.Load())
        before = self.fresh.temp("_errstate")
        keywords = [ast.keyword(arg=k.arg, value=self.atom(k.value)) for k in manager.keywords]
        self.emit(assign(before, ast.Call(func=seterr, args=[], keywords=keywords)))
        for inner in s.body:
            self.stmt(inner)
        restore = ", ".join(f"{k}={before}[{k!r}]" for k in _ERROR_CATEGORIES if k != "all")
        self.desugar(f"{self.fresh.temp('_errstate')} = SETERR({restore})", SETERR=seterr)  # (rules.undone_by)

    def stmt_AnnAssign(self, s: ast.AnnAssign) -> None:
        if s.value is not None:
            self.stmt_Assign(ast.Assign(targets=[s.target], value=s.value, lineno=s.lineno))

    def stmt_FunctionDef(self, s: ast.FunctionDef) -> None:
        self.define(s.name, s)

    def stmt_Assign(self, s: ast.Assign) -> None:
        if isinstance(s.value, ast.Lambda) and single_name(s.targets):
            self.define(s.targets[0].id, s.value)
            return
        if self.makes_partial(s.value) and single_name(s.targets) and self.counts[s.targets[0].id] == 1:
            self.define_partial(s.targets[0].id, s.value)
            return
        if len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            self.assign_name(s.targets[0].id, s.value)
            return
        if len(s.targets) == 1 and isinstance(s.targets[0], (ast.Tuple, ast.List)) and self.is_builtin_call(s.value, ("zip",)):
            row = self.fresh.temp("_row")  # a, b = zip(...): unpacking walks it to the end, as a list of its rows does
            rows = ast.comprehension(target=name(row, store=True), iter=s.value, ifs=[], is_async=0)
            s = ast.Assign(targets=s.targets, value=ast.ListComp(elt=name(row), generators=[rows]), lineno=s.lineno)
        if len(s.targets) == 1 and _parallel(s.targets[0], s.value):
            self.assign_parallel(s.targets[0].elts, s.value.elts)
            return
        value = self.atom(s.value)
        for target in s.targets:
            self.store(target, value)

    def assign_name(self, target: str, value: ast.expr) -> None:
        if _appends(value, self._is_local):  # r = xs.append(v): the list changes, r is None
            self.stmt_Expr(ast.Expr(value=value))
            self.emit(assign(target, ast.Constant(None)))
            return
        simple = self.expr(value)
        if target in {n.id for n in ast.walk(simple) if isinstance(n, ast.Name)} and not isinstance(simple, ast.Name):
            temp = self.fresh.temp()  # ``x = x * 2``: the adjoint needs the old x
            self.emit(assign(temp, simple))
            simple = name(temp)
        if isinstance(simple, ast.Name) and simple.id == target:
            return
        self.emit(assign(target, simple))

    def assign_parallel(self, targets: list[ast.expr], values: list[ast.expr]) -> None:
        """``x, v = x + dt * v, v - dt * x``: each value into a name of its own, then each target,
        in order (no tuple in between, so the kinds of the values reach the targets). A value
        that is a name the targets rebind is copied first (``x, y = y, x``)."""
        rebound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        atoms = []
        for v in values:
            atom = self.atom(v)
            if isinstance(atom, ast.Name) and atom.id in rebound:
                temp = self.fresh.temp()
                self.emit(assign(temp, atom))
                atom = name(temp)
            atoms.append(atom)
        for target, atom in zip(targets, atoms):
            self.store(target, atom)

    def store(self, target: ast.expr, value: ast.expr) -> None:
        """``target = value`` where value is an atom; unpacks tuples element by element."""
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            starred = [k for k, element in enumerate(target.elts) if isinstance(element, ast.Starred)]
            if starred:
                self.store_starred(target.elts, starred[0], value)
                return
            for k, element in enumerate(target.elts):
                self.store(element, self.atom(ast.Subscript(value=value, slice=ast.Constant(k), ctx=ast.Load())))
        elif isinstance(target, ast.Subscript) and self.is_held_element(target.value):  # hs[0][i] = value
            self.write_through(target.value, lambda element: self.store(subscript(element, target.slice), value))
        elif isinstance(target, ast.Subscript):
            if not (isinstance(target.value, ast.Name) and target.value.id in self.locals):
                raise self.fail(
                    target,
                    "writing into an array that is not a local variable is not supported",
                    "Copy it first: local = array.copy(); local[...] = value.",
                )
            index = self.index(target.slice)
            self.emit(ast.Assign(targets=[ast.Subscript(value=name(target.value.id), slice=index, ctx=ast.Store())], value=value))
        else:
            raise self.fail(target, f"assigning to {type(target).__name__} is not supported", "Assign to a local name.")

    def store_starred(self, targets: list[ast.expr], star: int, value: ast.expr) -> None:
        """``a, *rest, b = value``: the ends by index (negative after the star), ``rest`` a list
        of the middle; too few values raise ValueError, as in Python."""
        after = len(targets) - star - 1
        self.desugar(
            f"if len(VALUE) < {len(targets) - 1}:\n"
            f"    raise ValueError('not enough values to unpack (expected at least {len(targets) - 1})')",
            VALUE=value,
        )
        for k, element in enumerate(targets):
            if k == star:
                middle = ast.Slice(lower=ast.Constant(star), upper=ast.Constant(-after) if after else None)
                item = self.fresh.temp("_v")
                rest = ast.ListComp(
                    elt=name(item),
                    generators=[
                        ast.comprehension(
                            target=name(item, store=True),
                            iter=ast.Subscript(value=value, slice=middle, ctx=ast.Load()),
                            ifs=[],
                            is_async=0,
                        )
                    ],
                )
                self.store(element.value, self.atom(rest))
            else:
                index = k if k < star else k - len(targets)
                self.store(element, self.atom(ast.Subscript(value=value, slice=ast.Constant(index), ctx=ast.Load())))

    def unstarred(self, elements: list[ast.expr]) -> list[ast.expr] | None:
        """``elements`` with each ``*seq`` spelled out (``seq[0], seq[1], ...``) where the length
        of ``seq`` is known here: a tuple or list written out; else None."""
        out: list[ast.expr] = []
        for e in elements:
            if not isinstance(e, ast.Starred):
                out.append(e)
            elif isinstance(e.value, (ast.Tuple, ast.List)):
                inner = self.unstarred(e.value.elts)
                if inner is None:
                    return None
                out += inner
            elif isinstance(e.value, ast.Name) and e.value.id in self.fixed_lengths:
                length = self.fixed_lengths[e.value.id]
                out += [ast.Subscript(value=e.value, slice=ast.Constant(k), ctx=ast.Load()) for k in range(length)]
            else:
                return None
        return out

    def unpacked_keywords(self, call: ast.Call) -> list[ast.keyword]:
        """The call's keywords with each ``**d`` spelled out (``k=d["k"]``) where the keys of
        ``d`` are written in the function; a keyword given twice is refused (Python raises TypeError)."""
        out: list[ast.keyword] = []
        for k in call.keywords:
            if k.arg is not None:
                out.append(k)
            elif isinstance(k.value, ast.Dict) and all(_is_string(key) for key in k.value.keys):
                out += [ast.keyword(arg=key.value, value=value) for key, value in zip(k.value.keys, k.value.values)]
            elif isinstance(k.value, ast.Name) and k.value.id in self.fixed_keys:
                for key in self.fixed_keys[k.value.id]:
                    out.append(ast.keyword(arg=key, value=ast.Subscript(value=k.value, slice=ast.Constant(key), ctx=ast.Load())))
            else:
                raise self.fail(
                    call,
                    "**-unpacking in a call needs a dict whose keys are seen where the function is written",
                    "Unpack a dict written out in the function (options = {'axis': 0}; f(**options)), or pass the "
                    "keyword arguments one by one.",
                )
        names = [k.arg for k in out]
        if len(set(names)) != len(names):
            raise self.fail(call, "a keyword argument is given twice", "Pass each keyword once.")
        return out

    def stmt_AugAssign(self, s: ast.AugAssign) -> None:
        target = s.target
        if isinstance(target, ast.Name) and isinstance(s.op, ast.Add) and target.id in self.lists:
            self.extend(target.id, s.value)  # xs += ys: the same list, grown
        elif isinstance(target, ast.Name):
            read = name(target.id)
            self.assign_name(target.id, ast.BinOp(left=read, op=s.op, right=s.value))
            if self.out and isinstance(self.out[-1], ast.Assign) and self.out[-1].targets[0].id == target.id:
                self.out[-1].in_place = True  # on an array, Python changes it in place: its views see it (safety.py)
        elif isinstance(target, ast.Subscript) and self._is_local(target.value):
            index = self.index(target.slice)
            old = self.atom(ast.Subscript(value=name(target.value.id), slice=index, ctx=ast.Load()))
            new = self.atom(ast.BinOp(left=old, op=s.op, right=s.value))
            self.emit(ast.Assign(targets=[ast.Subscript(value=name(target.value.id), slice=index, ctx=ast.Store())], value=new))
            # an array held in a list is changed in place by +=: what shares it sees the change (safety.py)
            self.out[-1].element = getattr(old, "id", None)
        elif isinstance(target, ast.Subscript) and self.is_held_element(target.value):  # hs[0][i] += v
            self.write_through(
                target.value, lambda element: self.stmt_AugAssign(ast.AugAssign(subscript(element, target.slice), s.op, s.value))
            )
        else:
            raise self.fail(s, "this augmented assignment is not supported", "Assign to a local name or element.")

    def is_held_element(self, e: ast.expr) -> bool:
        """Is ``e`` an element of a list or dict this function made (``hs[0]``, ``d["k"]``)?
        (One a parameter holds is the caller's: writing into it would change the caller's value.)"""
        return (
            isinstance(e, ast.Subscript)
            and isinstance(e.value, ast.Name)
            and e.value.id in (self.lists | self.dicts) - set(parameters(self.tree))
        )

    def write_through(self, held: ast.Subscript, write: Callable[[ast.Name], None]) -> None:
        """A write into an element of a local list or dict (``hs[0][i] = v``, ``d["k"][i] += v``):
        the element under a name of its own, written in place there (``write``), then put back
        into its slot. In Python the element object changes and the slot still holds it; srcdiff
        keeps one adjoint per name, so the put-back says the slot holds the changed value. It is
        marked ``element``: whatever else holds the element sees the change (safety.py checks
        those), and the element's name stops being a second name for the container there."""
        container = held.value.id
        key = self.index(held.slice)
        element = self.fresh.temp("_el")
        self.locals.add(element)
        self.emit(assign(element, ast.Subscript(value=name(container), slice=key, ctx=ast.Load())))
        write(name(element))
        self.emit(ast.Assign(targets=[subscript(name(container), key)], value=name(element)))
        self.out[-1].element = element
        self.out[-1].puts_back = True

    def stmt_If(self, s: ast.If) -> None:
        test = self.test(s.test)
        body = self.block(s.body) or [ast.Pass()]
        orelse = self.block(s.orelse)
        self.emit_if(test, body, orelse)

    def emit_if(self, test: ast.expr, body: list[ast.stmt], orelse: list[ast.stmt]) -> None:
        tested = test.operand if is_flag_test(test) else test
        if isinstance(tested, ast.Name) and tested.id in local_names(ast.Module(body=body + orelse, type_ignores=[])):
            # the branch reassigns its own test (a flag): the backward sweep needs the value tested
            held = self.fresh.temp("_cond")
            self.emit(assign(held, tested))
            test = ast.UnaryOp(op=ast.Not(), operand=name(held)) if is_flag_test(test) else name(held)
        self.emit(ast.If(test=test, body=body, orelse=orelse))

    def stmt_While(self, s: ast.While) -> None:
        test = self.test(s.test)
        cond = self.fresh.temp("_more")
        self.emit(assign(cond, test))
        body = self.block(s.body)
        # the test is evaluated again at the end of each iteration, before any final break
        brk = body.pop() if body and is_final_break(body[-1]) else None
        saved, self.out = self.out, []
        self.emit(assign(cond, self.test(s.test)))
        retest, self.out = self.out, saved
        body += retest + ([brk] if brk else [])
        self.emit(ast.While(test=name(cond), body=body, orelse=[]))

    def stmt_For(self, s: ast.For) -> None:
        it = s.iter
        if _is_dict_view(it, self.locals):  # d.items(), d.keys(), d.values(): a loop over the keys
            d = self.atom(it.func.value)
            self.dict_loop(s, d, it.func.attr)
            return
        if isinstance(it, ast.Name) and it.id in self.dicts:  # ``for k in d``
            self.dict_loop(s, it, "keys")
            return
        if isinstance(s.target, ast.Name) and isinstance(it, ast.Name) and it.id in self.ranges:
            self.emit_loop(s.target.id, it, s.body, prologue=[])
            return
        if isinstance(s.target, ast.Name) and self.is_builtin_call(it, ("reversed",)) and len(it.args) == 1:
            if isinstance(it.args[0], ast.Name) and it.args[0].id in self.ranges:
                rev = self.atom(ast.Subscript(value=it.args[0], slice=ast.Slice(step=ast.Constant(-1)), ctx=ast.Load()))
                self.emit_loop(s.target.id, rev, s.body, prologue=[])
                return
        self.refuse_interleaved_generators(s)
        walks_records = isinstance(it, ast.Name) and it.id in self.record_lists  # for layer in layers: each may
        if walks_records and isinstance(s.target, ast.Name) and self.counts[s.target.id] == 1:  # be a NamedTuple,
            self.records.add(s.target.id)  # read by field
        it = self.as_sequence(it)
        kind = it.func.id if self.is_builtin_call(it, _ITERATOR_BUILTINS) else "sequence"
        if kind == "range":
            if not isinstance(s.target, ast.Name):
                raise self.fail(s, "a range loop needs a single loop variable", "Write: for i in range(...).")
            rng = self.atom(ast.Call(func=it.func, args=it.args, keywords=[]))
            self.emit_loop(s.target.id, rng, s.body, prologue=[])
            return
        if kind == "reversed" and len(it.args) == 1 and _is_range_call(it.args[0], self.locals):
            if not isinstance(s.target, ast.Name):
                raise self.fail(s, "a range loop needs a single loop variable", "Write: for i in reversed(range(...)).")
            rng = self.atom(it.args[0])
            rev = self.atom(ast.Subscript(value=rng, slice=ast.Slice(step=ast.Constant(-1)), ctx=ast.Load()))
            self.emit_loop(s.target.id, rev, s.body, prologue=[])
            return
        rebound = local_names(ast.Module(body=s.body, type_ignores=[])) | {
            n.id for n in ast.walk(s.target) if isinstance(n, ast.Name)
        }
        if kind == "reversed":
            if it.keywords or len(it.args) != 1:
                raise self.fail(s, "reversed() takes one sequence", "Write: for v in reversed(seq).")
            sequences, item = self.walked_in_step(it.args[0], rebound, nested=False)
        else:
            sequences, item = self.walked_in_step(it, rebound, nested=True)
        lengths = [self.atom(ast.Call(func=name("len"), args=[q], keywords=[])) for q in sequences]
        count = lengths[0] if len(lengths) == 1 else self.atom(ast.Call(func=name("min"), args=lengths, keywords=[]))
        index = self.fresh.temp("_i")
        rng = self.atom(ast.Call(func=name("range"), args=[count], keywords=[]))
        if kind == "reversed":
            rng = self.atom(ast.Subscript(value=rng, slice=ast.Slice(step=ast.Constant(-1)), ctx=ast.Load()))
        prologue = [ast.copy_location(a, s) for a in _bind(s.target, item(name(index)))]
        self.emit_loop(index, rng, s.body, prologue)

    def walked_in_step(self, it: ast.expr, rebound: set[str], nested: bool) -> tuple[list[ast.expr], Callable]:
        """The sequences a loop over ``it`` indexes in step (``zip`` and ``enumerate``, nested as
        you like, walk several), and a function from the index to the loop's item."""
        it = self.as_sequence(it)
        if nested and self.is_builtin_call(it, ("zip", "enumerate")):
            kind = it.func.id
            if kind == "zip" and it.keywords:
                raise self.fail(it, "zip() with keyword arguments is not supported", "Use an index loop.")
            if kind == "enumerate":
                start = [k.value for k in it.keywords if k.arg == "start"] + it.args[1:]
                if len(it.args) not in (1, 2) or len(start) + 1 != len(it.args) + len(it.keywords):
                    raise self.fail(it, "enumerate() takes a sequence and a start", "Write: enumerate(seq) or enumerate(seq, 1).")
                offset = self.atom(start[0]) if start else None
                sequences, inner = self.walked_in_step(it.args[0], rebound, nested=True)

                def counted(index: ast.expr) -> ast.expr:
                    count = index if offset is None else ast.BinOp(left=index, op=ast.Add(), right=offset)
                    return ast.Tuple(elts=[count, inner(index)], ctx=ast.Load())

                return sequences, counted
            args = self.unstarred(it.args)  # zip(*rows): each row, where their number is known
            if args is None and len(it.args) == 1 and not it.keywords:  # else, the columns, made by loops
                return self.walked_in_step(self.columns(it.args[0].value), rebound, nested=True)
            if args is None:
                raise self.fail(it, "zip(*seq) beside other sequences is not supported", "Write them out: zip(a, b, c).")
            parts = [self.walked_in_step(a, rebound, nested=True) for a in args]
            return [q for qs, _ in parts for q in qs], lambda index: ast.Tuple(elts=[f(index) for _, f in parts], ctx=ast.Load())
        if _is_dict_view(it, self.locals):  # d.keys(): a list of them can be indexed
            it = ast.Call(func=name("list"), args=[it], keywords=[])
        if self.is_builtin_call(it, ("reversed",)) and len(it.args) == 1 and not it.keywords:
            it = ast.Subscript(value=it.args[0], slice=ast.Slice(step=ast.Constant(-1)), ctx=ast.Load())  # a reversed copy
        q = self.atom(it)
        if not (isinstance(it, ast.Name) and it.id in self.sequences or sequence_expression(it, self.sequences, self.locals)):
            q = self.keys_if_dict(q)
        if isinstance(q, ast.Name) and q.id in rebound:  # the loop walks the object it started with, even if the name is rebound
            held = self.fresh.temp("_seq")
            self.emit(assign(held, q))
            q = name(held)
        return [q], lambda index: ast.Subscript(value=q, slice=index, ctx=ast.Load())

    def columns(self, rows: ast.expr) -> ast.Name:
        """``zip(*rows)`` for ``rows`` of a length known only when it runs: the list of its tuples
        (the j-th items of the rows, as far as the shortest row goes), made by loops."""
        held, count, result, j, row, column = (self.fresh.temp(n) for n in ("_rows", "_n", "_cols", "_j", "_r", "_col"))
        self.locals.update((held, result))
        self.sequences.update((held, result))
        self.desugar(
            f"{held} = list(ROWS)\n{count} = len({held}[0]) if len({held}) > 0 else 0\n"
            f"for {row} in {held}:\n    if len({row}) < {count}:\n        {count} = len({row})\n"
            f"{result} = []\nfor {j} in range({count}):\n    {column} = []\n"
            f"    for {row} in {held}:\n        {column}.append({row}[{j}])\n    {result}.append(tuple({column}))",
            ROWS=self.as_sequence(rows),
        )
        return name(result)

    def keys_if_dict(self, q: ast.expr) -> ast.Name:
        """What a loop over ``q`` walks, for a ``q`` that may be a dict (a container's element, a
        call's result): its keys if it is one when the loop starts, else ``q`` itself."""
        walked, is_dict = self.fresh.temp("_seq"), self.fresh.temp("_c")
        self.emit(assign(is_dict, ast.Call(func=name("isinstance"), args=[q, name("dict")], keywords=[])))
        saved, self.out = self.out, []
        self.emit(assign(walked, ast.Call(func=name("list"), args=[self.atom(_keys(q))], keywords=[])))
        keys, self.out = self.out, saved
        self.emit(ast.If(test=name(is_dict), body=keys, orelse=[assign(walked, q)]))
        return name(walked)

    def dict_loop(self, s: ast.For, d: ast.Name, view: str) -> None:
        """``for k, v in d.items()`` as an index loop over ``list(d.keys())`` that reads ``d[k]``."""
        keys = self.atom(ast.Call(func=name("list"), args=[ast.Call(func=ast.Attribute(value=d, attr="keys", ctx=ast.Load()),
                                                                    args=[], keywords=[])], keywords=[]))  # fmt: skip
        index = self.fresh.temp("_i")
        count = self.atom(ast.Call(func=name("len"), args=[keys], keywords=[]))
        rng = self.atom(ast.Call(func=name("range"), args=[count], keywords=[]))
        key: ast.expr = ast.Subscript(value=keys, slice=name(index), ctx=ast.Load())
        if view == "keys":
            prologue = [ast.Assign(targets=[s.target], value=key)]
        else:
            key_name = self.fresh.temp("_key")
            value = ast.Subscript(value=d, slice=name(key_name), ctx=ast.Load())
            prologue = [assign(key_name, key)]
            if view == "values":
                prologue.append(ast.Assign(targets=[s.target], value=value))
            elif isinstance(s.target, ast.Tuple) and len(s.target.elts) == 2:
                prologue += [ast.Assign(targets=[s.target.elts[0]], value=name(key_name)),
                             ast.Assign(targets=[s.target.elts[1]], value=value)]  # fmt: skip
            else:
                prologue.append(ast.Assign(targets=[s.target], value=ast.Tuple(elts=[name(key_name), value], ctx=ast.Load())))
        self.emit_loop(index, rng, s.body, [ast.copy_location(p, s) for p in prologue])

    def emit_loop(self, var: str, rng: ast.expr, body: list[ast.stmt], prologue: list[ast.stmt]) -> None:
        if not isinstance(rng, ast.Name):
            held = self.fresh.temp("_range")
            self.emit(assign(held, rng))
            rng = name(held)
        new_body = self.block(prologue + body)
        self.emit(ast.For(target=name(var, store=True), iter=rng, body=new_body or [ast.Pass()], orelse=[]))

    def test(self, e: ast.expr) -> ast.expr:
        if is_flag_test(e):
            return e
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return ast.UnaryOp(op=ast.Not(), operand=self.as_name(self.atom(e.operand)))
        return self.atom(e)

    # -- expressions
    def _is_local(self, e: ast.expr) -> bool:
        return isinstance(e, ast.Name) and e.id in self.locals

    def as_name(self, e: ast.expr) -> ast.expr:
        if isinstance(e, ast.Name):
            return e
        temp = self.fresh.temp()
        self.emit(assign(temp, e))
        return name(temp)

    def _gradient_made_here(self, func: ast.expr) -> bool:
        """Is ``func`` a gradient written where it is called (``grad(loss)(w, x)``), which the build
        makes (``operations.Env.resolve``) and differentiated code may call?"""
        if not isinstance(func, ast.Call) or self.resolve is None:
            return False
        made = self.resolve(func)
        return getattr(made, "called_inside", None) is not None and made.called_inside() is not None

    def is_builtin_call(self, e: ast.expr, names: tuple[str, ...]) -> bool:
        """Is ``e`` a call of one of the builtins ``names``? Not when the name is a local or
        is bound to something else (``from numpy import max``)."""
        if not (isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in names and e.func.id not in self.locals):
            return False
        return self.resolve is None or self.resolve(e.func) is getattr(builtins, e.func.id)

    def resolves_to(self, func: ast.expr, target: Any, spelling: str) -> bool:
        """Is ``func`` a non-local name or attribute chain (``math.prod``) that denotes ``target``?
        (Normalised alone, without the function's globals: is it spelled ``spelling``?)"""
        if not isinstance(func, (ast.Name, ast.Attribute)) or not is_atom(func, self.locals):
            return False
        if isinstance(func, ast.Name) and func.id in self.locals:
            return False
        return self.resolve(func) is target if self.resolve is not None else ast.unparse(func) == spelling

    def atom(self, e: ast.expr) -> ast.expr:
        """Emit whatever ``e`` needs and return an atom holding its value."""
        if is_atom(e, self.locals):
            return e
        simple = self.expr(e)
        if is_atom(simple, self.locals):
            return simple
        temp = self.fresh.temp()
        self.emit(assign(temp, simple))
        return name(temp)

    def expr(self, e: ast.expr) -> ast.expr:
        """Emit the operands of ``e`` and return one operation on atoms."""
        if is_atom(e, self.locals):
            return e
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            raise self.fail(e, f"{type(e).__name__} expressions are not supported", "Rewrite it with simpler operations.")
        return method(e)

    def expr_BinOp(self, e: ast.BinOp) -> ast.expr:
        if isinstance(e.op, ast.Add) and self.is_tuple(e.left) and self.is_tuple(e.right):  # args + (x,): one tuple
            joined = [ast.Starred(value=side, ctx=ast.Load()) for side in (e.left, e.right)]
            return self.expr(ast.Tuple(elts=joined, ctx=ast.Load()))
        if isinstance(e.op, ast.Add) and all(is_list_expression(side, self.lists) for side in (e.left, e.right)):
            joined_list = self.fresh.temp("_list")  # xs + ys: a new list, xs's items then ys's
            self.locals.add(joined_list)
            self.emit(assign(joined_list, ast.List(elts=[], ctx=ast.Load())))
            self.extend(joined_list, e.left)
            self.extend(joined_list, e.right)
            return name(joined_list)
        return ast.BinOp(left=self.atom(e.left), op=e.op, right=self.atom(e.right))

    def is_tuple(self, e: ast.expr) -> bool:
        """Is ``e`` surely a tuple: written out, or a name bound once to one written out?"""
        return isinstance(e, ast.Tuple) or isinstance(e, ast.Name) and e.id in self.tuples and e.id in self.fixed_lengths

    def expr_UnaryOp(self, e: ast.UnaryOp) -> ast.expr:
        operand = self.atom(e.operand)  # (+y makes a new array, as -y does: np.positive)
        if isinstance(operand, ast.Constant) and isinstance(e.op, ast.USub):
            return ast.Constant(-operand.value)
        return ast.UnaryOp(op=e.op, operand=operand)

    def expr_Compare(self, e: ast.Compare) -> ast.expr:
        left = self.atom(e.left)
        if len(e.ops) == 1:
            return ast.Compare(left=left, ops=e.ops, comparators=[self.atom(e.comparators[0])])
        result = self.fresh.temp()  # a < b < c: later comparisons run only while true
        pairs = list(zip(e.ops, e.comparators))
        return self._chain(result, left, pairs)

    def _chain(self, result: str, left: ast.expr, pairs: list) -> ast.expr:
        op, right_expr = pairs[0]
        right = self.atom(right_expr)
        self.emit(assign(result, ast.Compare(left=left, ops=[op], comparators=[right])))
        if len(pairs) > 1:
            saved, self.out = self.out, []
            self._chain(result, right, pairs[1:])
            rest, self.out = self.out, saved
            self.emit_if(name(result), rest, [])
        return name(result)

    def expr_BoolOp(self, e: ast.BoolOp) -> ast.expr:
        result = self.fresh.temp()
        self.assign_name(result, e.values[0])
        for value in e.values[1:]:
            saved, self.out = self.out, []
            self.assign_name(result, value)
            rest, self.out = self.out, saved
            test: ast.expr = name(result)
            if isinstance(e.op, ast.Or):
                test = ast.UnaryOp(op=ast.Not(), operand=name(result))
            self.emit_if(test, rest or [ast.Pass()], [])
        return name(result)

    def expr_IfExp(self, e: ast.IfExp) -> ast.expr:
        test = self.test(e.test)
        result = self.fresh.temp()
        branches = []
        for branch in (e.body, e.orelse):
            saved, self.out = self.out, []
            self.assign_name(result, branch)
            branches.append(self.out)
            self.out = saved
        self.emit_if(test, branches[0], branches[1])
        return name(result)

    def is_generator_call(self, e: ast.expr) -> bool:
        """Is ``e`` a call of a generator function (one with ``yield``) of the user's?"""
        if not (isinstance(e, ast.Call) and self.resolve is not None and is_atom(e.func, self.locals)):
            return False
        return inspect.isgeneratorfunction(self.resolve(e.func))

    def refuse_interleaved_generators(self, s: ast.For) -> None:
        """A loop over a generator's items takes them all before its body runs (``as_sequence``): the
        same items only if the body changes nothing the generator reads, which is checked here:
        no write into an element, no method call that may change its object, no ``+=`` on a name
        the generator is given."""
        calls = [n for n in ast.walk(s.iter) if self.is_generator_call(n)]
        if not calls:
            return
        given = {n.id for c in calls for n in ast.walk(c) if isinstance(n, ast.Name)}
        for n in ast.walk(ast.Module(body=s.body, type_ignores=[])):
            writes_element = isinstance(n, (ast.Assign, ast.AugAssign)) and any(
                isinstance(t, (ast.Subscript, ast.Attribute)) for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            )
            changes_given = isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id in given
            method_call = isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute)
            if writes_element or changes_given or method_call or isinstance(n, (ast.Break, ast.Return)):
                raise self.fail(
                    n,
                    "a loop over a generator's items that changes data in place, or leaves early, is not supported "
                    "(srcdiff takes all of the generator's items before the loop runs)",
                    "Take the items first where that is what you mean: items = list(gen(...)); for v in items: ...",
                )

    def expr_Call(self, e: ast.Call) -> ast.expr:
        walked_here = id(e) in self.walked_generators or is_generated(self.origin.filename)  # (srcdiff's code walks it)
        if not walked_here and self.is_generator_call(e):
            raise self.fail(
                e,
                "a generator function's call is supported only where it is walked to its end at once",
                "Loop over it (for v in gen(...)), or take its items: list(gen(...)).",
            )
        if any(isinstance(a, ast.Starred) for a in e.args):
            args = self.unstarred(e.args)
            if args is None:  # kept: a call without a derivative may take it (rs.randn(*x.shape)); analysis refuses the rest
                args = [ast.Starred(value=self.atom(a.value), ctx=ast.Load()) if isinstance(a, ast.Starred) else a
                        for a in e.args]  # fmt: skip
            e = ast.Call(func=e.func, args=args, keywords=e.keywords)
        if any(k.arg is None for k in e.keywords):
            e = ast.Call(func=e.func, args=e.args, keywords=self.unpacked_keywords(e))
        func = e.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and self._is_local(func.value) and len(e.args) in (1, 2):
            if not e.keywords:  # ``d.get(k, default)``: d[k] if k in d else default
                key = self.atom(e.args[0])
                found = ast.Compare(left=key, ops=[ast.In()], comparators=[func.value])
                default = e.args[1] if len(e.args) == 2 else ast.Constant(None)
                read = ast.Subscript(value=func.value, slice=key, ctx=ast.Load())
                return self.expr(ast.IfExp(test=found, body=read, orelse=default))
        if self.is_builtin_call(e, ("dict",)) and not e.args and all(k.arg for k in e.keywords):
            return self.expr(ast.Dict(keys=[ast.Constant(k.arg) for k in e.keywords], values=[k.value for k in e.keywords]))
        if self.is_builtin_call(e, ("dict",)) and len(e.args) == 1 and not e.keywords and self.makes_pairs(e.args[0]):
            key, value = self.fresh.temp("_key"), self.fresh.temp("_v")  # dict(zip(keys, values)): a comprehension
            pair = ast.Tuple(elts=[name(key, store=True), name(value, store=True)], ctx=ast.Store())
            walk = ast.comprehension(target=pair, iter=e.args[0], ifs=[], is_async=0)
            return self.expr(ast.DictComp(key=name(key), value=name(value), generators=[walk]))
        if isinstance(func, ast.Lambda):  # ``(lambda v: v * v)(x)``
            return self.inline(func, self.defaults(func), e)
        if self.makes_partial(func):  # ``partial(f, a)(x)``: as if it had a name
            func = self.named_partial(func)
            e = ast.Call(func=func, args=e.args, keywords=e.keywords)
        if isinstance(func, ast.Name) and func.id in self.partials:
            return self.call_partial(e)
        if isinstance(func, ast.Name) and func.id in self.local_functions:
            if func.id not in self.defined:
                raise self.fail(e, f"{func.id!r} is called before it is defined", f"Define {func.id} before calling it.")
            return self.inline(self.local_functions[func.id], self.defined[func.id], e)
        if self.is_builtin_call(e, ("max", "min")) and _extremum_keywords(e):
            return self.extremum(e)
        operator_form = self.operator_form(e)
        if operator_form is not None:
            return self.expr(operator_form)
        if self.resolves_to(func, functools.reduce, "functools.reduce") and len(e.args) in (2, 3) and not e.keywords:
            return self.folded(e)
        if self.is_builtin_call(e, ("sorted",)) and _local_key(e, self.local_functions):
            return self.sorted_by_key(e)
        if self.resolves_to(func, math.prod, "math.prod") and len(e.args) == 1 and all(k.arg == "start" for k in e.keywords):
            return self.product(e)
        joins = isinstance(func, ast.Attribute) and func.attr == "join" and isinstance(func.value, ast.Constant)
        if self.is_builtin_call(e, _CONSUMERS) or joins:  # they walk a generator to its end: a list does the same
            e = ast.Call(func=func, args=[self.as_sequence(a) for a in e.args], keywords=e.keywords)
        if isinstance(func, ast.Name) and func.id in self.function_parameters:
            held = self.resolve(func) if self.resolve is not None else None
            if isinstance(held, functools.partial):  # act(x) of partial(f, a, k=v): act.func(act.args[0], x, k=...)
                return self.expr(_spelled_out_partial(e, held))
            # resolved, like a global, to the function the argument holds
        elif isinstance(func, ast.Attribute) and not is_atom(func, self.locals):
            func = ast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=ast.Load())
        elif not is_atom(func, self.locals) and not self._gradient_made_here(func):
            raise self.fail(
                e, "calling the result of an expression is not supported", "Assign the function to a name at module level."
            )
        elif isinstance(func, ast.Name) and func.id in parameters(self.tree):
            raise self.fail(
                e,
                f"calling the parameter {func.id!r} is supported when it holds a function (a def, a lambda, a NumPy, "
                "math or builtin function) or an object whose class defines __call__ in Python, and is not assigned "
                "in the function",
                "Pass such a function or object, and give a value chosen in the function a name of its own.",
            )
        elif isinstance(func, ast.Name) and func.id in self.locals:
            raise self.fail(
                e,
                f"calling the local variable {func.id!r} is not supported",
                "Call module-level functions by name, or bind arguments with functools.partial(f, ...) and call that.",
            )
        args = [a if isinstance(a, ast.Starred) else self.atom(a) for a in e.args]
        keywords = []
        for k in e.keywords:
            if k.arg is None:
                raise self.fail(e, "**kwargs in calls are not supported", "Pass keyword arguments one by one.")
            keywords.append(ast.keyword(arg=k.arg, value=self.atom(k.value)))
        return ast.Call(func=func, args=args, keywords=keywords)

    def expr_Attribute(self, e: ast.Attribute) -> ast.expr:
        record = e.value
        is_field = e.attr not in _SEQUENCE_ATTRIBUTES or e.attr in _FIELD_OR_METHOD
        if isinstance(record, ast.Name) and record.id in self.records and is_field:
            # ``layer.W`` of a NamedTuple: the field at its position, found when it runs (any other
            # list or tuple has no such attribute, and raises AttributeError there, as in Python;
            # a field named ``index`` or ``count`` hides the tuple's method: called, it is the method)
            kind = ast.Call(func=name("type"), args=[record], keywords=[])
            fields = ast.Attribute(value=ast.Attribute(value=kind, attr="_fields", ctx=ast.Load()), attr="index", ctx=ast.Load())
            position = ast.Call(func=fields, args=[ast.Constant(e.attr)], keywords=[])
            return self.expr(ast.Subscript(value=record, slice=position, ctx=ast.Load()))
        return ast.Attribute(value=self.atom(e.value), attr=e.attr, ctx=ast.Load())

    def expr_Subscript(self, e: ast.Subscript) -> ast.expr:
        joined = self.concatenator(e)
        if joined is not None:
            return self.expr(joined)
        value = self.atom(e.value)
        return ast.Subscript(value=value, slice=self.index(e.slice), ctx=ast.Load())

    def concatenator(self, e: ast.Subscript) -> ast.expr | None:
        """``np.r_[a, b, 0:3]`` and ``np.c_[a, b]``: the ``np.concatenate`` they stand for (None for
        any other subscript). ``np.r_`` joins its items along the first axis, each at least 1-d
        (a slice of literal ints is ``np.arange``); ``np.c_`` along the last, each at least 2-d
        with a 1-d item as a column, which is what ``np.column_stack([item])`` makes of it."""
        which = _concatenator_name(e.value, self.resolve, self.locals)
        if which is None:
            return None
        module = e.value.value
        items = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        advice = "Write np.concatenate([...]) (np.column_stack for columns) with np.arange or np.linspace for ranges."
        call = lambda f, *args, **kw: ast.Call(  # noqa: E731
            func=ast.Attribute(value=module, attr=f, ctx=ast.Load()),
            args=list(args),
            keywords=[ast.keyword(arg=k, value=v) for k, v in kw.items()],
        )
        parts: list[ast.expr] = []
        for item in items:
            if isinstance(item, ast.Slice):
                bounds = [_literal_int(b) for b in (item.lower, item.upper, item.step)]
                if item.upper is None or any(b is False for b in bounds):
                    raise self.fail(e, f"np.{which}[...] with a range other than start:stop:step of literal ints", advice)
                start, stop, step = (ast.Constant(d if b is None else b) for b, d in zip(bounds, (0, 0, 1)))
                item = call("arange", start, stop, step)
            elif isinstance(item, ast.Constant) and isinstance(item.value, str):
                raise self.fail(e, f"np.{which}[...] with a string directive ({item.value!r})", advice)
            if which == "r_":
                parts.append(call("atleast_1d", item))
            else:
                parts.append(call("column_stack", ast.List(elts=[item], ctx=ast.Load())))
        axis = ast.Constant(0 if which == "r_" else -1)
        return ast.copy_location(call("concatenate", ast.List(elts=parts, ctx=ast.Load()), axis=axis), e)

    def index(self, s: ast.expr) -> ast.expr:
        if isinstance(s, ast.Slice):
            part = lambda x: None if x is None else self.atom(x)  # noqa: E731
            return ast.Slice(lower=part(s.lower), upper=part(s.upper), step=part(s.step))
        if isinstance(s, ast.Tuple):
            return ast.Tuple(elts=[self.index(x) for x in s.elts], ctx=ast.Load())
        return self.atom(s)

    def expr_List(self, e: ast.List) -> ast.expr:
        elements = self.unstarred(e.elts)
        if elements is None:
            return self.gathered(e.elts)
        return ast.List(elts=[self.atom(x) for x in elements], ctx=ast.Load())

    def expr_Tuple(self, e: ast.Tuple) -> ast.expr:
        elements = self.unstarred(e.elts)
        if elements is None:
            return ast.Call(func=name("tuple"), args=[self.gathered(e.elts)], keywords=[])
        return ast.Tuple(elts=[self.atom(x) for x in elements], ctx=ast.Load())

    def gathered(self, elements: list[ast.expr]) -> ast.expr:
        """``[a, *seq, b]`` where the length of ``seq`` is known only when it runs: a list that
        a loop over ``seq`` appends to."""
        result = self.fresh.temp("_list")
        self.emit(assign(result, ast.List(elts=[], ctx=ast.Load())))
        for e in elements:
            append = ast.Attribute(value=name(result), attr="append", ctx=ast.Load())
            if isinstance(e, ast.Starred):
                item = self.fresh.temp("_v")
                add = ast.Expr(value=ast.Call(func=append, args=[name(item)], keywords=[]))
                self.stmt(ast.For(target=name(item, store=True), iter=e.value, body=[add], orelse=[], lineno=self.line))
            else:
                self.emit(ast.Expr(value=ast.Call(func=append, args=[self.atom(e)], keywords=[])))
        return name(result)

    def expr_Dict(self, e: ast.Dict) -> ast.expr:
        """``{"w": a, "b": b}``: keys are constants, so which value each key keeps is known here
        (a repeated key keeps the last value, as in Python; the earlier ones are still evaluated).
        A dict with computed keys or ``**other`` is built item by item, as Python builds it."""
        if not all(isinstance(key, ast.Constant) and isinstance(key.value, (str, int, float, bool, tuple)) for key in e.keys):
            return self.dict_by_items(e)
        last: dict = {}
        for k, key in enumerate(e.keys):
            last[key.value] = k  # type: ignore[union-attr]
        values = [self.atom(v) for v in e.values]
        kept = sorted(last.values())
        return ast.Dict(keys=[e.keys[k] for k in kept], values=[values[k] for k in kept])

    def dict_by_items(self, e: ast.Dict) -> ast.expr:
        result = self.fresh.temp("_dict")
        self.locals.add(result)
        self.dicts.add(result)
        self.emit(assign(result, ast.Dict(keys=[], values=[])))
        for key, value in zip(e.keys, e.values):
            if key is not None:  # (the key first, as Python evaluates it)
                held_key = self.fresh.temp("_key")
                self.desugar(f"{held_key} = KEY\n{result}[{held_key}] = VALUE", KEY=key, VALUE=value)
            elif not self.updates(result, ast.Call(func=name("dict"), args=[value], keywords=[])):
                raise self.fail(e, "**-unpacking of a dict whose keys are not known here is not supported", "Write each entry.")
        return name(result)

    def expr_JoinedStr(self, e: ast.JoinedStr) -> ast.expr:
        return e  # strings only feed print/raise; never differentiated

    def as_sequence(self, e: ast.expr) -> ast.expr:
        """``e``, or where it is a lazy iterator that its consumer walks to the end (a generator
        expression, ``map``, ``filter``), the list comprehension that gives the same items; a
        generator function's call, the list of its items (``parse.generator_as_list``)."""
        if self.is_generator_call(e) and id(e) not in self.walked_generators:
            self.walked_generators.add(id(e))
            return ast.copy_location(ast.Call(func=name("list"), args=[e], keywords=[]), e)
        if isinstance(e, ast.GeneratorExp):
            return ast.copy_location(ast.ListComp(elt=e.elt, generators=e.generators), e)
        if isinstance(e, ast.Name) and e.id in self.dicts:  # a dict walks its keys
            return ast.Call(func=name("list"), args=[_keys(e)], keywords=[])
        if _is_dict_view(e, self.locals) and e.func.attr != "keys":  # d.values(), d.items(): read by key
            d, key = e.func.value, self.fresh.temp("_key")
            keys = ast.Call(func=name("list"), args=[_keys(d)], keywords=[])
            value = ast.Subscript(value=d, slice=name(key), ctx=ast.Load())
            item = value if e.func.attr == "values" else ast.Tuple(elts=[name(key), value], ctx=ast.Load())
            generator = ast.comprehension(target=name(key, store=True), iter=keys, ifs=[], is_async=0)
            return ast.copy_location(ast.ListComp(elt=item, generators=[generator]), e)
        if not (self.is_builtin_call(e, ("map", "filter")) and not e.keywords and len(e.args) >= 2):
            return e
        items = [self.fresh.temp("_v") for _ in e.args[1:]]
        if e.func.id == "filter" and len(items) != 1:
            raise self.fail(e, "filter() takes a function and one iterable", "Write a list comprehension with an if.")
        source = e.args[1] if len(items) == 1 else ast.Call(func=name("zip"), args=e.args[1:], keywords=[])
        targets = [name(v, store=True) for v in items]
        target = targets[0] if len(items) == 1 else ast.Tuple(elts=targets, ctx=ast.Store())
        generator = ast.comprehension(target=target, iter=source, ifs=[], is_async=0)
        if e.func.id == "map":
            function = self.named_partial(e.args[0]) if self.makes_partial(e.args[0]) else e.args[0]
            call = ast.Call(func=function, args=[name(v) for v in items], keywords=[])
            return ast.copy_location(ast.ListComp(elt=call, generators=[generator]), e)
        test = name(items[0]) if _is_none(e.args[0]) else ast.Call(func=e.args[0], args=[name(items[0])], keywords=[])
        generator.ifs = [test]
        return ast.copy_location(ast.ListComp(elt=name(items[0]), generators=[generator]), e)

    # -- local functions: inlined at each call, reading the caller's variables as a closure does
    def define(self, function_name: str, node: ast.FunctionDef | ast.Lambda) -> None:
        if self.local_functions.get(function_name) is not node:
            raise self.fail(
                node,
                "a local function defined inside a block, or bound to a name that is assigned again, is not supported",
                "Define it once, at the top level of the function body (not inside if, for or another function).",
            )
        self.defined[function_name] = self.defaults(node)

    def defaults(self, node: ast.FunctionDef | ast.Lambda) -> dict[str, ast.expr]:
        """Evaluate a local function's defaults where it is defined, as Python does; return
        each parameter's atom holding its default."""
        args = node.args
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            raise self.fail(node, "a decorated local function is not supported", "Call the decorator's result at module level.")
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        held = {}
        for parameter, default in pairs:
            value = self.atom(default)
            if isinstance(value, ast.Name) and value.id in self.locals:  # a later assignment must not change it
                keep = self.fresh.temp("_default")
                self.emit(assign(keep, value))
                value = name(keep)
            held[parameter.arg] = value
        return held

    def inline(self, node: ast.FunctionDef | ast.Lambda, defaults: dict[str, ast.expr], call: ast.Call) -> ast.expr:
        """The body of the local function ``node`` at this call, its names made fresh; its free
        names read the caller's variables as they are now, which is what a closure reads."""
        what = getattr(node, "name", "lambda")
        if node in self.inlining:
            raise self.fail(call, f"the local function {what!r} calls itself", "Define a recursive helper at module level.")
        args = node.args
        positional = [a.arg for a in args.posonlyargs + args.args]
        keyword_only = [a.arg for a in args.kwonlyargs]
        if len(call.args) > len(positional) and not args.vararg:
            raise self.fail(call, f"{what}() takes {len(positional)} positional arguments", "Pass the arguments it names.")
        # each argument's slot: a parameter's name, or (the *args or **kwargs name, its position or key)
        given: dict = {p: v for p, v in zip(positional, call.args)}
        given |= {(args.vararg.arg, k): v for k, v in enumerate(call.args[len(positional) :])}
        for k in call.keywords:
            if k.arg in given or k.arg is None or k.arg not in positional + keyword_only and not args.kwarg:
                raise self.fail(call, f"{what}() has no parameter for this argument", "Pass the arguments it names.")
            given[k.arg if k.arg in positional + keyword_only else (args.kwarg.arg, k.arg)] = k.value
        atoms = {slot: self.atom(v) for slot, v in given.items()}  # the arguments first, in the order written
        values = {p: v for p, v in atoms.items() if isinstance(p, str)}
        packed = [a.arg for a in (args.vararg, args.kwarg) if a is not None]  # gather the extras: a tuple, a dict
        if args.vararg:
            extra = [v for slot, v in atoms.items() if not isinstance(slot, str) and slot[0] == args.vararg.arg]
            values[args.vararg.arg] = ast.Tuple(elts=extra, ctx=ast.Load())
        if args.kwarg:
            extra = [(slot[1], v) for slot, v in atoms.items() if not isinstance(slot, str) and slot[0] == args.kwarg.arg]
            values[args.kwarg.arg] = ast.Dict(keys=[ast.Constant(k) for k, _ in extra], values=[v for _, v in extra])
        for p in positional + keyword_only:
            if p not in values:
                if p not in defaults:
                    raise self.fail(call, f"{what}() is missing the argument {p!r}", "Pass every parameter without a default.")
                values[p] = defaults[p]
        body = list(node.body) if isinstance(node, ast.FunctionDef) else [ast.Return(value=node.body, lineno=node.lineno)]
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:] or [ast.Pass(lineno=body[0].lineno)]  # docstring
        inner = local_names(ast.Module(body=body, type_ignores=[])) | set(values)
        renames = {n: self.fresh.like(n) for n in sorted(inner)}
        body = [_Rename(renames).visit(ast.fix_missing_locations(copy.deepcopy(s))) for s in body]  # inlined again later
        result = self.fresh.temp("_result")
        line = self.line
        bound = [assign(renames[p], value) for p, value in values.items()]
        if packed:  # what the body may do with the tuple and the dict: its names are fresh, so known here alone
            inlined = ast.Module(body=bound + body, type_ignores=[])
            walked = Walked(inlined)
            self.fixed_lengths |= {n: k for n, k in fixed_lengths(walked).items() if n in renames.values()}
            self.tuples |= tuple_names(walked) & set(renames.values())
            self.fixed_keys |= {n: k for n, k in fixed_keys(walked).items() if n in renames.values()}
            self.dicts |= dict_names(walked, frozenset()) & set(renames.values())
        self.lists |= list_names(Walked(ast.Module(body=body, type_ignores=[]))) & set(renames.values())
        for s in bound:
            self.emit(s)
        self.inlining.append(node)
        self.out += self.block(ExitLowering(self.fresh, result, self.origin).function_body(body, returns=True))
        self.inlining.pop()
        self.line = line
        return name(result)

    def refuse_escaping_functions(self, body: list[ast.stmt]) -> None:
        """A local function or partial is inlined where it is called; any other use of it is refused."""
        for s in body:
            for n in ast.walk(s):
                if isinstance(n, ast.Name) and n.id in self.local_functions and not isinstance(n.ctx, ast.Store):
                    raise self.fail(
                        s,
                        f"the local function {n.id!r} is used other than by calling it",
                        "Call it directly (or through map/filter); to pass a function on, define it at module level.",
                    )
                inlined = isinstance(n, ast.Name) and n.id in self.partials and n.id not in self.passed_partials
                if inlined and not isinstance(n.ctx, ast.Store):
                    raise self.fail(
                        s,
                        f"the partial {n.id!r} is used other than by calling it",
                        "Call it directly (or through map/filter), or call the function it wraps with all its arguments.",
                    )

    # -- functools.partial: a call of the function with the arguments bound first
    def makes_partial(self, e: ast.expr) -> bool:
        """Is ``e`` a call of ``functools.partial`` (however it is named, and not a local)?"""
        if not (isinstance(e, ast.Call) and self.resolve is not None and is_atom(e.func, self.locals)):
            return False
        return isinstance(e.func, (ast.Name, ast.Attribute)) and self.resolve(e.func) is functools.partial

    def named_partial(self, e: ast.Call) -> ast.Name:
        """``functools.partial(f, a)`` written where a function is expected (``map(partial(f, a), xs)``):
        defined under a fresh name, its arguments evaluated here, as Python evaluates them."""
        partial_name = self.fresh.temp("_partial")
        self.define_partial(partial_name, e)
        return name(partial_name)

    def define_partial(self, partial_name: str, e: ast.Call) -> None:
        """``g = functools.partial(f, a, k=v)``: the arguments are evaluated now, as Python does, and
        kept for the calls of ``g``; ``g`` itself is never assigned."""
        if not e.args or any(isinstance(a, ast.Starred) for a in e.args):
            raise self.fail(e, "functools.partial needs the function first and no *-unpacking", "Write partial(f, a, k=v).")
        if any(k.arg is None for k in e.keywords):
            e = ast.Call(func=e.func, args=e.args, keywords=self.unpacked_keywords(e))
        func = e.args[0]
        if isinstance(func, ast.Name) and func.id in self.partials | self.local_functions:
            held_func: ast.expr = func  # a call of g expands it in turn
        elif isinstance(func, ast.Lambda) or is_atom(func, self.locals) and not self._is_local(func):
            held_func = func
        else:
            raise self.fail(
                e,
                "functools.partial of a value computed in the function is not supported",
                "Give partial a function by name (a module-level function, a local def or a lambda).",
            )
        args = [self.held(a) for a in e.args[1:]]
        keywords = [ast.keyword(arg=k.arg, value=self.held(k.value)) for k in e.keywords]
        self.partials[partial_name] = (held_func, args, keywords)
        inlined = isinstance(func, ast.Lambda) or isinstance(func, ast.Name) and func.id in self.partials | self.local_functions
        if not inlined and _escapes(self.tree, partial_name):
            # a partial of a module-level function, passed on: also made as written (see operations.Env.partials)
            self.passed_partials.add(partial_name)
            self.emit(assign(partial_name, ast.Call(func=e.func, args=[func, *args], keywords=keywords)))

    def held(self, e: ast.expr) -> ast.expr:
        """An atom holding ``e``'s value now, which later assignments do not change."""
        value = self.atom(e)
        if isinstance(value, ast.Name) and value.id in self.locals:
            keep = self.fresh.temp("_bound")
            self.emit(assign(keep, value))
            value = name(keep)
        return value

    def call_partial(self, e: ast.Call) -> ast.expr:
        """``g(x, k=w)`` of ``g = partial(f, a, k=v)``: ``f(a, x, k=w)`` (keywords given at the call win)."""
        func, args, keywords = self.partials[e.func.id]
        given = {k.arg for k in e.keywords}
        merged = [k for k in keywords if k.arg not in given] + list(e.keywords)
        return self.expr(ast.Call(func=func, args=[*args, *e.args], keywords=merged))

    def expr_Lambda(self, e: ast.Lambda) -> ast.expr:
        raise self.fail(
            e,
            "a lambda is supported when called, assigned to a name at the top level of the function, or given to map/filter",
            "Define the helper with def at module level to pass it on; srcdiff transforms it when it is called.",
        )

    def expr_GeneratorExp(self, e: ast.GeneratorExp) -> ast.expr:
        raise self.fail(
            e,
            "a generator expression is supported only where it is walked to its end at once (sum, max, min, "
            "list, tuple, sorted, any, all, a for loop)",
            "Write a list comprehension [...] instead (np.array of a generator is an object array).",
        )

    def extremum(self, e: ast.Call) -> ast.expr:
        """``max(xs)``, ``max(a, b, c)``: a loop that keeps the first largest item, as Python does;
        with ``key=f``, the first item whose ``f(item)`` is largest (``f`` called once per item, a
        lambda or local function inlined), and with ``default=d``, ``d`` for an empty sequence."""
        sequence = e.args[0] if len(e.args) == 1 else ast.List(elts=e.args, ctx=ast.Load())
        held, best, item = self.fresh.temp("_seq"), self.fresh.temp("_best"), self.fresh.temp("_v")
        beats = ">" if e.func.id == "max" else "<"
        keywords = {k.arg: k.value for k in e.keywords}
        key = keywords.get("key")
        if key is None or _is_none(key):
            loop = (
                f"{best} = {held}[0]\n"
                f"for {item} in {held}[1:]:\n    if {item} {beats} {best}:\n        {best} = {item}"
            )
        else:
            best_key, item_key = self.fresh.temp("_bestkey"), self.fresh.temp("_key")
            loop = (
                f"{best} = {held}[0]\n{best_key} = KEY({best})\n"
                f"for {item} in {held}[1:]:\n    {item_key} = KEY({item})\n"
                f"    if {item_key} {beats} {best_key}:\n        {best} = {item}\n        {best_key} = {item_key}"
            )
        if "default" in keywords:
            indented = "\n".join("    " + line for line in loop.splitlines())
            loop = f"if len({held}) == 0:\n    {best} = DEFAULT\nelse:\n{indented}"
        self.desugar(
            f"{held} = SEQUENCE\n{loop}",
            SEQUENCE=self.as_sequence(sequence),
            KEY=key if key is not None else ast.Constant(None),
            DEFAULT=keywords.get("default", ast.Constant(None)),
        )
        return name(best)

    def operator_form(self, e: ast.Call) -> ast.expr | None:
        """``operator.add(a, b)``, ``operator.neg(a)``, ``operator.getitem(a, i)``: the operator they
        are (``a + b``, ``-a``, ``a[i]``), so lists, arrays and floats behave as the operator does."""
        if e.keywords or not isinstance(e.func, (ast.Name, ast.Attribute)):
            return None
        for spelled, (arity, build) in _OPERATOR_FUNCTIONS.items():
            if len(e.args) == arity and self.resolves_to(e.func, getattr(operator, spelled), f"operator.{spelled}"):
                return ast.copy_location(build(*e.args), e)
        return None

    def folded(self, e: ast.Call) -> ast.expr:
        """``functools.reduce(f, xs[, initial])``: a loop ``acc = f(acc, item)`` over the items (from
        the first item when there is no initial value), ``f`` a lambda, a local or a global function."""
        held, acc, item = self.fresh.temp("_seq"), self.fresh.temp("_acc"), self.fresh.temp("_v")
        start, rest = ("INITIAL", held) if len(e.args) == 3 else (f"{held}[0]", f"{held}[1:]")
        self.desugar(
            f"{held} = SEQUENCE\n{acc} = {start}\nfor {item} in {rest}:\n    {acc} = FUNCTION({acc}, {item})",
            SEQUENCE=self.as_sequence(e.args[1]),
            INITIAL=e.args[2] if len(e.args) == 3 else ast.Constant(None),
            FUNCTION=e.args[0],
        )
        return name(acc)

    def sorted_by_key(self, e: ast.Call) -> ast.expr:
        """``sorted(xs, key=lambda v: ..., reverse=r)`` with a lambda or local function as the key
        (a global function is passed as it is: runtime.unsort calls it): the keys computed item by
        item (the function inlined), then the items in the order Python sorts their positions by
        those keys (stable, as ``sorted`` is, with ``reverse`` too)."""
        keywords = {k.arg: k.value for k in e.keywords}
        held, keys, order, item, position = (self.fresh.temp(n) for n in ("_seq", "_keys", "_order", "_v", "_i"))
        result = self.fresh.temp("_sorted")
        self.desugar(
            f"{held} = list(SEQUENCE)\n{keys} = [KEY({item}) for {item} in {held}]\n"
            f"{order} = sorted(range(len({held})), key={keys}.__getitem__, reverse=REVERSE)\n"
            f"{result} = [{held}[{position}] for {position} in {order}]",
            SEQUENCE=self.as_sequence(e.args[0]),
            KEY=keywords["key"],
            REVERSE=keywords.get("reverse", ast.Constant(False)),
        )
        return name(result)

    def is_add_at(self, call: ast.Call) -> bool:
        """Is ``call`` ``np.add.at(y, index, v)`` on a local name ``y``?"""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "at" and isinstance(func.value, ast.Attribute)):
            return False
        ufunc = func.value
        if not (ufunc.attr == "add" and len(call.args) == 3 and not call.keywords and self._is_local(call.args[0])):
            return False
        return _numpy_module(ufunc.value, self.resolve, self.locals)

    def scatter_add(self, call: ast.Call) -> None:
        """``np.add.at(y, index, v)``: ``y`` changed in place by the sums of ``v`` at ``index``, repeated
        positions included. Written as a write into all of ``y`` (``y[...] = y + added``), which the
        machinery of item writes differentiates and checks for sharing as it does ``y[i] = v``: whatever
        shares ``y``'s data sees the change, as with ``np.add.at``. (Rebinding ``y`` to a new array
        would be sound only where nothing shares it.) ``added`` comes from ``np.bincount`` over the flat
        positions ``index`` selects, which any index form gives (ints, slices, arrays, masks, tuples)."""
        module = call.func.value.value
        where, added = self.fresh.temp("_where"), self.fresh.temp("_added")
        target = call.args[0].id
        self.desugar(
            f"{where} = NP.reshape(NP.arange(NP.size({target})), NP.shape({target}))[INDEX]\n"
            f"{added} = NP.reshape(NP.bincount(NP.ravel({where}), NP.ravel(NP.broadcast_to(VALUE, NP.shape({where}))),"
            f" NP.size({target})), NP.shape({target}))\n"
            f"{target}[...] = {target} + {added}",
            NP=module,
            INDEX=call.args[1],
            VALUE=call.args[2],
        )

    def product(self, e: ast.Call) -> ast.expr:
        """``math.prod(xs, start=s)``: a loop that multiplies ``s`` by each item in turn, as Python does
        (so its derivative, second ones too, is the loop's: no rule of its own)."""
        held, result, item = self.fresh.temp("_seq"), self.fresh.temp("_prod"), self.fresh.temp("_v")
        start = e.keywords[0].value if e.keywords else ast.Constant(1)
        self.desugar(
            f"{held} = SEQUENCE\n{result} = START\nfor {item} in {held}:\n    {result} = {result} * {item}",
            SEQUENCE=self.as_sequence(e.args[0]),
            START=start,
        )
        return name(result)

    def grows_container(self, call: ast.Call) -> bool:
        """``xs.extend(ys)``, ``xs.insert(i, v)`` on a local list and ``d.update(...)`` on a local dict,
        written with the appends and item writes they are made of; False for any other call."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and self._is_local(func.value)):
            return False
        held = func.value.id
        if func.attr == "update":
            return held in self.dicts and self.updates(held, call)
        if held not in self.lists or call.keywords:
            return False  # (a deque, an object of the user's: their methods are their own)
        if func.attr == "extend" and len(call.args) == 1:
            self.extend(held, call.args[0])
        elif func.attr == "insert" and len(call.args) == 2:
            at, count, item, k = (self.fresh.temp(n) for n in ("_at", "_n", "_v", "_k"))
            self.desugar(  # as list.insert does: a negative position counts from the end; out of range, an end
                f"{at} = INDEX\n{item} = ITEM\n{count} = len({held})\n"
                f"if {at} < 0:\n    {at} = {at} + {count}\nif {at} < 0:\n    {at} = 0\nif {at} > {count}:\n    {at} = {count}\n"
                f"{held}.append({item})\n"
                f"for {k} in range({count}, {at}, -1):\n    {held}[{k}] = {held}[{k} - 1]\n"
                f"{held}[{at}] = {item}",
                INDEX=call.args[0],
                ITEM=call.args[1],
            )
        else:
            return False
        return True

    def makes_pairs(self, e: ast.expr) -> bool:
        """Does ``e`` surely give pairs (``zip(...)``, ``d.items()``, a list of them), never a dict,
        whose copy ``dict(e)`` would be?"""
        return (
            self.is_builtin_call(e, ("zip",))
            or isinstance(e, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp))
            or _is_dict_view(e, self.locals) and e.func.attr == "items"
        )

    def extend(self, held: str, items: ast.expr) -> None:
        """``held.extend(items)``: each item appended (of a copy: ``xs.extend(xs)`` doubles xs)."""
        seq, item = self.fresh.temp("_seq"), self.fresh.temp("_v")
        self.sequences.add(seq)  # (a list: the loop needs no test for a dict)
        self.desugar(
            f"{seq} = list(ITEMS)\nfor {item} in {seq}:\n    {held}.append({item})", ITEMS=self.as_sequence(items)
        )

    def updates(self, held: str, call: ast.Call) -> bool:
        """``d.update(other, k=v)`` where ``other`` is a dict display or a local dict: one item
        write per key; False (nothing written) for any other argument."""
        if len(call.args) > 1 or any(k.arg is None for k in call.keywords):
            return False
        other = call.args[0] if call.args else None
        written_out = isinstance(other, ast.Dict) and None not in other.keys
        if other is not None and not (written_out or self._is_local(other) and other.id in self.dicts):
            return False
        if isinstance(other, ast.Name):
            key = self.fresh.temp("_key")
            self.desugar(f"for {key} in OTHER:\n    {held}[{key}] = OTHER[{key}]", OTHER=other)
        elif other is not None:
            for k, v in zip(other.keys, other.values):
                self.desugar(f"{held}[KEY] = VALUE", KEY=k, VALUE=v)
        for k in call.keywords:
            self.desugar(f"{held}[{k.arg!r}] = VALUE", VALUE=k.value)
        return True

    def desugar(self, template: str, **parts: ast.expr) -> None:
        """Normalise the statements of ``template``, Python source written in constructs this
        stage already supports, with each placeholder name in ``parts`` replaced by its expression."""
        for s in ast.parse(template).body:
            s = _Substitute(parts).visit(s)
            for n in ast.walk(s):
                if isinstance(n, ast.stmt):
                    n.lineno = self.line
            self.stmt(ast.fix_missing_locations(s))

    def expr_ListComp(self, e: ast.ListComp) -> ast.expr:
        return self.comprehension(e, "_list", ast.List(elts=[], ctx=ast.Load()))

    def expr_DictComp(self, e: ast.DictComp) -> ast.expr:
        return self.comprehension(e, "_dict", ast.Dict(keys=[], values=[]))

    def comprehension(self, e: ast.ListComp | ast.DictComp, prefix: str, empty: ast.expr) -> ast.expr:
        """The loops a comprehension is: each item appended to a new list, or each key written
        into a new dict (a later key replaces an earlier one, as in Python)."""
        result = self.fresh.temp(prefix)
        self.locals.add(result)
        if isinstance(e, ast.DictComp):
            self.dicts.add(result)
        self.emit(assign(result, empty))
        renames = {}
        for gen in e.generators:  # comprehension variables do not leak: give them fresh names
            for n in ast.walk(gen.target):
                if isinstance(n, ast.Name):
                    renames[n.id] = self.fresh.like(n.id)
        self.locals |= set(renames.values())
        comp = (
            _Rename(renames).visit(ast.fix_missing_locations(ast.Module(body=[ast.Expr(value=e)], type_ignores=[]))).body[0].value
        )
        inner: list[ast.stmt]
        if isinstance(comp, ast.DictComp):  # (the key first, as Python evaluates it)
            key = self.fresh.temp("_key")
            target = ast.Subscript(value=name(result), slice=name(key), ctx=ast.Store())
            inner = [assign(key, comp.key), ast.Assign(targets=[target], value=comp.value)]
        else:
            append = ast.Attribute(value=name(result), attr="append", ctx=ast.Load())
            inner = [ast.Expr(value=ast.Call(func=append, args=[comp.elt], keywords=[]))]
        for gen in reversed(comp.generators):
            if gen.is_async:
                raise self.fail(e, "async comprehensions are not supported", "Use a for loop.")
            for cond in reversed(gen.ifs):
                inner = [ast.If(test=cond, body=inner, orelse=[])]
            inner = [ast.For(target=gen.target, iter=gen.iter, body=inner, orelse=[])]
        for s in inner:
            ast.fix_missing_locations(ast.copy_location(s, ast.Pass(lineno=self.line)))
            for n in ast.walk(s):
                if isinstance(n, ast.stmt):
                    n.lineno = self.line
            self.stmt(s)
        return name(result)


def _concatenator_name(e: ast.expr, resolve: Callable[[ast.expr], Any] | None, locals_: set[str]) -> str | None:
    """``"r_"`` or ``"c_"`` if ``e`` is NumPy's ``np.r_`` or ``np.c_`` spelled as an attribute of the module."""
    if not (isinstance(e, ast.Attribute) and e.attr in ("r_", "c_") and isinstance(e.value, ast.Name)):
        return None
    return e.attr if _numpy_module(e.value, resolve, locals_) else None


# operator functions and the operators they are: arity, and the expression for the arguments
_BINARY = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "truediv": ast.Div, "floordiv": ast.FloorDiv,
           "mod": ast.Mod, "pow": ast.Pow, "matmul": ast.MatMult}  # fmt: skip
_OPERATOR_FUNCTIONS: dict[str, tuple[int, Callable[..., ast.expr]]] = {
    **{n: (2, lambda a, b, op=op: ast.BinOp(left=a, op=op(), right=b)) for n, op in _BINARY.items()},
    "neg": (1, lambda a: ast.UnaryOp(op=ast.USub(), operand=a)),
    "pos": (1, lambda a: ast.UnaryOp(op=ast.UAdd(), operand=a)),
    "getitem": (2, lambda a, i: ast.Subscript(value=a, slice=i, ctx=ast.Load())),
}


def _extremum_keywords(e: ast.Call) -> bool:
    """Is ``max(...)``/``min(...)`` one the loop of ``extremum`` stands for: one sequence, or several
    items, with ``key=`` and (for one sequence) ``default=``? (``max(a, b)`` alone has a rule.)"""
    given = {k.arg for k in e.keywords}
    if not given <= {"key", "default"} or not e.args:
        return False
    if "default" in given and len(e.args) != 1:
        return False
    return bool(given) or len(e.args) != 2


def _local_key(e: ast.Call, local_functions: Mapping[str, Any]) -> bool:
    """Is ``sorted(...)``'s ``key=`` a lambda or a local function (which emitted code cannot pass on)?"""
    key = next((k.value for k in e.keywords if k.arg == "key"), None)
    return len(e.args) == 1 and (isinstance(key, ast.Lambda) or isinstance(key, ast.Name) and key.id in local_functions)


def _numpy_module(e: ast.expr, resolve: Callable[[ast.expr], Any] | None, locals_: set[str]) -> bool:
    """Is ``e`` a non-local name for the ``numpy`` module (``np``)?"""
    if not isinstance(e, ast.Name) or e.id in locals_:
        return False
    if resolve is None:  # (normalised alone, without the function's globals)
        return e.id in ("np", "numpy")
    return getattr(resolve(e), "__name__", None) == "numpy"


def _literal_int(e: ast.expr | None) -> int | None | bool:
    """The int a slice bound spells (``3``, ``-3``), None for no bound, False for anything else."""
    if e is None:
        return None
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        inner = _literal_int(e.operand)
        return -inner if isinstance(inner, int) and not isinstance(inner, bool) else False
    if isinstance(e, ast.Constant) and type(e.value) is int:
        return e.value
    return False


class _Substitute(ast.NodeTransformer):
    def __init__(self, parts: dict[str, ast.expr]) -> None:
        self.parts = parts

    def visit_Name(self, node: ast.Name) -> ast.expr:  # (a copy each time: a placeholder may appear twice)
        return copy.deepcopy(self.parts[node.id]) if node.id in self.parts else node


def _escapes(tree: ast.AST, function_name: str) -> bool:
    """Is ``function_name`` used in ``tree`` other than by calling it?"""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return any(
        isinstance(n, ast.Name) and n.id == function_name and isinstance(n.ctx, ast.Load) and id(n) not in called
        for n in ast.walk(tree)
    )


def _spelled_out_partial(call: ast.Call, held: functools.partial) -> ast.Call:
    """``act(x, k=w)`` where the argument ``act`` holds ``partial(f, a, k=v)``: ``act.func(act.args[0], x,
    k=w)``, its bound arguments read from it (keywords given at the call win, as in Python)."""
    act = call.func

    def read(attr: str, index: object) -> ast.expr:
        bound = ast.Attribute(value=act, attr=attr, ctx=ast.Load())
        return ast.Subscript(value=bound, slice=ast.Constant(index), ctx=ast.Load())

    given = {k.arg for k in call.keywords}
    keywords = [ast.keyword(arg=k, value=read("keywords", k)) for k in held.keywords if k not in given]
    return ast.Call(
        func=ast.Attribute(value=act, attr="func", ctx=ast.Load()),
        args=[read("args", k) for k in range(len(held.args))] + call.args,
        keywords=keywords + call.keywords,
    )


def _keys(d: ast.expr) -> ast.Call:
    """``dict.keys(d)``, not ``d.keys()``: a dict's keys whatever ``d``'s kind is known to be (not a dict's raises)."""
    return ast.Call(func=ast.Attribute(value=name("dict"), attr="keys", ctx=ast.Load()), args=[d], keywords=[])


def _is_string(e: ast.expr | None) -> bool:
    return isinstance(e, ast.Constant) and isinstance(e.value, str)


def _is_none(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


class _Rename(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(id=self.renames.get(node.id, node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.arg:  # a lambda's parameter and the names it binds stay one name
        return ast.copy_location(ast.arg(arg=self.renames.get(node.arg, node.arg), annotation=None), node)


def _bind(target: ast.expr, value: ast.expr) -> list[ast.stmt]:
    """``target = value`` as assignments; a tuple value unpacked into a tuple target pairs up
    element by element (``for i, (a, b) in enumerate(zip(xs, ys))``: no tuples in between)."""
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        if not any(isinstance(t, ast.Starred) for t in target.elts):
            return [a for t, v in zip(target.elts, value.elts) for a in _bind(t, v)]
    return [ast.Assign(targets=[target], value=value)]




def is_final_break(s: ast.stmt) -> bool:
    return isinstance(s, ast.If) and len(s.body) == 1 and isinstance(s.body[0], ast.Break)


def _is_dict_view(e: ast.expr, locals_: set[str]) -> bool:
    return (
        isinstance(e, ast.Call)
        and not e.args
        and isinstance(e.func, ast.Attribute)
        and e.func.attr in ("items", "keys", "values")
        and _local_root(e.func.value, locals_)
    )


def subscript(value: ast.expr, index: ast.expr) -> ast.Subscript:
    """``value[index]`` as a target (the index as written: the statement that stores normalises it)."""
    return ast.Subscript(value=value, slice=index, ctx=ast.Store())


def _local_root(e: ast.expr, locals_: set[str]) -> bool:
    """Is ``e`` a local name, or an element of one (``params["layers"]``, ``ps[0]``)?"""
    while isinstance(e, ast.Subscript):
        e = e.value
    return isinstance(e, ast.Name) and e.id in locals_


def _is_range_call(e: ast.expr, locals_: set[str]) -> bool:
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id == "range" and "range" not in locals_


def _relocate(fn: ast.FunctionDef) -> None:
    """Give every node its statement's line (one line per statement; columns are not kept)."""

    def visit(node: ast.AST, line: int) -> None:
        if isinstance(node, ast.stmt) and getattr(node, "lineno", None):
            line = node.lineno
        if "lineno" in node._attributes:
            node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = line, line, 0, 0
        for child in ast.iter_child_nodes(node):
            visit(child, line)

    visit(fn, fn.lineno)
