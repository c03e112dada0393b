"""Reverse mode: a primal sweep that keeps what the adjoint needs, then adjoints in reverse.

On entry: a normalised tree and its ``Activity``. On exit: ``Transformed``, a
module holding either one gradient function (``grad_f``) or, for a function
called from differentiated code, a pair ``f_forward``/``f_backward``, plus the
free names that code uses and what they must be bound to.

The backward sweep visits statements in reverse. At each statement every
variable holds the value it had just after that statement ran in the primal
sweep: a statement that overwrites a value the adjoint reads first pushes the
old value on a plain list (``_stack``), and the backward sweep pops it back
right after that statement's adjoint. Straight-line code that assigns each name
once therefore pushes nothing; loops push per iteration exactly what their
adjoint reads.

A call to a user function becomes ``y, _saved1 = f_forward(...)`` in the primal sweep and
``f_backward(_saved1, dy)`` in the backward sweep; a rule that replaces its call (``primal``
and ``cotangents``: a custom_vjp function's ``fwd`` and ``bwd``) is written the same way,
its residuals ``_res1`` kept like a callee's tape.

Adjoints: ``dx`` is assigned on its first contribution and accumulated as
``dx = dx + c`` after (never ``+=``: adjoints may share arrays). Where control
flow merges and only one path contributed, the other path sets a zero: the
float ``0.0`` (a "weak zero" that broadcasts) or ``zeros_like(x)`` for names
whose adjoint is written element by element.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import callables, methods, notebook, packing, rules
from . import kinds as kinds_
from .analysis import Activity, argument_kind, returns_no_number
from .errors import NoDerivativeRule, NonScalarOutput
from .kinds import call_kinds
from .names import (
    Fresh,
    assign,
    copy_tree,
    count_statements,
    drop_statements,
    fix_missing_locations,
    local_names,
    name,
    names_in,
    nodes,
    parameters,
)
from .normalize import is_final_break
from .operations import CALL, CONSTANT, COPY, INDEX, PACK, POP, RULE, appended_to, changed_in_place, walk_statements
from .parse import Origin
from .tape import TapePlan

COMMENT = "__srcdiff_comment__:"  # marker strings that emit turns into comments


def function_name(func: Any) -> str:
    """A name for generated code to call ``func``'s derivative by: its own, or ``lambda`` for a lambda."""
    found = getattr(func, "__name__", "f")
    return found if found.isidentifier() else "lambda"


@dataclass(frozen=True)
class CalleeRef:
    """A user function called with active arguments: it needs a forward/backward pair."""

    func: Any
    wrt: tuple[str, ...]
    kinds: frozenset[tuple[str, int]]  # (parameter, number of dimensions) known at the call
    part: str  # "forward" or "backward"


@dataclass
class Transformed:
    module: ast.Module
    bindings: dict[str, Any] = field(default_factory=dict)  # free name -> object or CalleeRef
    entry: str = ""  # name of the function that api calls
    temporaries: frozenset[str] = frozenset()  # generated names the optimiser may rename away
    # the backward sweep writes into values on the tape (restores array elements, lists'
    # elements): a second run over the same tape would start from the wrong values
    backward_changes_tape: bool = False
    scalars: frozenset[str] = frozenset()  # names proven to hold numbers (primal and adjoint): nothing to release
    ndims: dict[str, int] = field(default_factory=dict)  # the primal names' known kinds (kinds.kinds)
    not_containers: frozenset[str] = frozenset()  # primal names proven to hold arrays or numbers
    # the tape's stack, in a function with both sweeps: the forward sweep pushes a name's value
    # before assigning it again, and the backward sweep pops it back into the same name
    stack: str = ""


def transform(
    tree: ast.FunctionDef,
    act: Activity,
    origin: Origin,
    *,
    split: bool = False,
    with_value: bool = False,
) -> Transformed:
    """Differentiate ``tree`` w.r.t. ``act.wrt`` (a scalar-output gradient, or a split pair)."""
    return _Reverse(tree, act, origin).run(split=split, with_value=with_value)


class CodeWriter:
    """What both transforms need to write code: the helpers it calls, bound under names that
    avoid the user's, and the known dimensions of atoms (to specialise callees)."""

    def __init__(self, tree: ast.FunctionDef, act: Activity, origin: Origin) -> None:
        self.tree = tree
        self.act = act
        self.origin = origin
        self.body = tree.body[:-1]
        self.result = tree.body[-1].value.id
        self.params = parameters(tree)
        self.fresh = Fresh(names_in(tree) | set(act.env.globals) | set(act.env.closure))
        self.helpers: dict[Any, str] = {}  # canonical helper name (or a callee's key) -> emitted name
        self.bindings: dict[str, Any] = {}  # emitted name -> object (or CalleeRef)
        for n, f in act.env.arguments.items():  # the methods an inactive call runs as written (``methods``)
            if methods.is_users(f) and n not in self.params:
                self.bindings[n] = callables.Method(f)

    def helper(self, canonical: str) -> str:
        """The emitted name for a helper (np, math, unbroadcast, ...), avoiding user names."""
        if canonical not in self.helpers:
            value = rules.NAMESPACE[canonical]
            emitted = canonical
            try:  # a local of that name, or a global bound to something else, takes the name
                clash = canonical in self.act.env.locals or self.act.env.lookup(canonical) is not value
            except AttributeError:
                clash = False
            if clash:
                emitted = self.fresh.like(canonical + "_")
            self.helpers[canonical] = emitted
            self.bindings[emitted] = value
        return self.helpers[canonical]

    def object_name(self, value: Any, fallback: str) -> str:
        """The emitted name of a function a rule names itself (a custom function's ``fwd``):
        its own name, unless the user's code means something else by it."""
        key = ("object", id(value))
        if key not in self.helpers:
            emitted = getattr(value, "__name__", "")
            emitted = emitted if emitted.isidentifier() else fallback
            try:
                clash = emitted in self.act.env.locals or self.act.env.lookup(emitted) is not value
            except AttributeError:
                clash = emitted in self.fresh.taken
            if clash:
                emitted = self.fresh.like(emitted + "_")
            self.fresh.taken.add(emitted)
            self.helpers[key] = emitted
            self.bindings[emitted] = value
        return self.helpers[key]

    def rule_values(self, rule: rules.Rule, bound: dict[str, ast.expr]) -> dict[str, ast.expr]:
        """A call's atoms by parameter name, and the emitted names of the rule's own functions."""
        objects = {p: name(self.object_name(v, p.strip("<>"))) for p, v in rule.names.items()}
        return {**bound, **objects}

    def complex_operands(self, op: Any) -> bool:
        """May an operand of ``op`` hold complex values (its rule's ``for_complex`` templates apply)?"""
        return bool(self.act.complex_values) and any(
            isinstance(a, ast.Name) and a.id in self.act.complex_values for a in ast.walk(ast.Tuple(elts=list(op.bound.values())))
        )

    def numbers_checked(self) -> list[ast.stmt]:
        """A check that the globals the code reads as numbers still hold numbers (``check_numbers``)."""
        if not self.act.numbers:
            return []
        values = ast.Tuple(elts=[ast.parse(n, mode="eval").body for n in self.act.numbers], ctx=ast.Load())
        where = [ast.Constant(", ".join(self.act.numbers)), ast.Constant(self.origin.filename), ast.Constant(self.tree.lineno)]
        return [ast.Expr(value=self.call_helper("check_numbers", values, *where))]

    def unshared_arguments(self) -> list[ast.stmt]:
        """A check that no array parameter written in place shares memory with another (``f(x, x)``)."""
        written = [p for p in self.params if p in self.act.written]
        if not written or len(self.params) < 2:
            return []
        line = next(s.lineno for s in walk_statements(self.tree.body) if changed_in_place(s, self.act.ops) in written)
        where = [ast.Constant(self.origin.filename), ast.Constant(line), ast.Constant(self.tree.name)]
        strings = lambda names: ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load())  # noqa: E731
        place = ast.Tuple(elts=where, ctx=ast.Load())
        check = self.call_helper("unshared_arguments", place, strings(written), strings(self.params))
        check.args += [name(p) for p in self.params]
        return [ast.Expr(value=check)]

    def call_helper(self, canonical: str, *args: ast.expr) -> ast.Call:
        return ast.Call(func=name(self.helper(canonical)), args=list(args), keywords=[])

    def checks_before(self, s: ast.stmt) -> list[ast.stmt]:
        """The run-time checks a write needs first: that it shares no data a later read needs
        (``Activity.checks``), and that a slice assignment keeps a list's length."""
        out = []
        target = s.targets[0] if isinstance(s, ast.Assign) else None
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice) and target.value.id in self.act.lists:
            where = [ast.Constant(self.origin.filename), ast.Constant(s.lineno)]
            args = [name(target.value.id), _index_value(target.slice), copy_tree(s.value), *where]
            out.append(ast.Expr(value=self.call_helper("check_slice_length", *args)))
        check = self.act.checks.get(id(s))
        if check is None:
            return out
        index = ast.Constant(None) if check.index is None else _index_value(check.index)
        readers = ast.Tuple(elts=[name(r) for r in check.readers], ctx=ast.Load())
        described = ast.Tuple(elts=[ast.Constant(d) for d in check.described], ctx=ast.Load())
        constants = [described, ast.Constant(check.filename), ast.Constant(check.line)]
        return out + [ast.Expr(value=self.call_helper("check_unshared", name(check.array), index, readers, *constants))]

    def ndim(self, atom: ast.expr) -> int | None:
        """Known kind of an atom (0 for a scalar, an array's dimensions), for specialising callees."""
        if self.act.is_scalar(atom):
            return 0
        return argument_kind(atom, self.act.scalars, self.act.ndims, self.act.lists)

    def fill(self, template: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
        """A rule's template with ``values`` for its names (``g``/``t``, ``ans``, ``k``, the
        call's atoms) and the emitted names of the helpers it calls."""
        helpers = rules.NAMESPACE  # (self.helper binds names in self.bindings, never here)

        def swap(node: ast.AST) -> ast.AST:
            if isinstance(node, ast.Name):
                if node.id in values:
                    return copy_tree(values[node.id])
                return name(self.helper(node.id)) if node.id in helpers else node
            for f, v in ast.iter_fields(node):
                if isinstance(v, list):
                    setattr(node, f, [swap(x) if isinstance(x, ast.AST) else x for x in v])
                elif isinstance(v, ast.AST):
                    setattr(node, f, swap(v))
            return node

        return swap(copy_tree(template))


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body``, at any depth (the blocks ``drop_statements`` visits)."""
    for s in body:
        yield s
        for f in ("body", "orelse"):
            block = getattr(s, f, None)
            if isinstance(block, list):
                yield from _statements(block)


@dataclass
class _Restore:
    """Placeholder in the backward code: pop ``target`` if its statement pushed."""

    stmt: ast.stmt
    target: str


class _Reverse(CodeWriter):
    def __init__(self, tree: ast.FunctionDef, act: Activity, origin: Origin) -> None:
        super().__init__(tree, act, origin)
        self.stack = self.fresh.like("_stack")
        self.adjoint_names: dict[str, str] = {}
        self.saved: dict[int, str] = {}  # call statement id -> name of its saved tape
        self.push_order: dict[int, list[str]] = {}  # statement id -> names it pushes, in order
        self.counters: dict[int, str] = {}  # loop id -> name of its iteration counter
        self.written_back: set[int] = set()  # ids of x[i] = v statements whose old elements the forward sweep keeps
        self.unrestored: set[str] = set()  # arrays written in place whose old elements nothing reads back
        # list -> the backward statements that only move its elements: a popped value put back
        # (``xs.append(v)``), an appended one taken off again (``xs.pop()``, its value unread). The
        # statements themselves, not their ids: one that a later step replaces must not lend its id
        # to another statement
        self.list_moves: dict[str, list[ast.stmt]] = {}
        self._surely_dicts: set[str] | None = None  # (see _surely_dict)
        for s in walk_statements(self.body):
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                op = self.act.ops[s.value]
                if op.kind == CALL and s.targets[0].id in self.act.active:
                    self.saved[id(s)] = self.fresh.temp("_saved")
                elif op.kind == RULE and op.rule.primal is not None and s.targets[0].id in self.act.active:
                    self.saved[id(s)] = self.fresh.temp("_res")  # the residuals its primal replacement keeps
        self.tape = TapePlan(self.body, act, self.params, self.saved)

    # ------------------------------------------------------------------ names
    def d(self, primal: str) -> str:
        if primal not in self.adjoint_names:
            self.adjoint_names[primal] = self.fresh.like("d" + primal.lstrip("_") if primal.startswith("_") else "d" + primal)
        return self.adjoint_names[primal]

    # ------------------------------------------------------------- structure
    # -------------------------------------------------------------------- run
    def run(self, *, split: bool, with_value: bool) -> Transformed:
        wrt = self.act.wrt
        scalar_output = self.result in self.act.scalars
        result_active = self.result in self.act.active
        if not split and result_active and self.result in self.act.complex_values:  # (JAX refuses it too)
            raise self.origin.error(
                NonScalarOutput,
                self.tree.body[-1],
                "grad needs a real output, and this one may be complex",
                "Differentiate np.real(...), np.imag(...) or np.abs(...) of it (jvp and vjp take complex outputs).",
            )
        # backward first: it decides what the forward sweep must keep
        state: dict[str, bool] = {}
        seed: list[ast.stmt] = []
        nothing = returns_no_number(self.tree)  # paths that return None or a string: checked
        line = getattr(nothing[0] if nothing else self.tree, "lineno", None)
        where = [ast.Constant(v) for v in (self.origin.name, self.origin.filename, line)] if nothing or not result_active else []
        if result_active:
            seed_value: ast.expr = (
                name(self.d(self.result))
                if split
                else ast.Constant(1.0)
                if scalar_output and not nothing
                else self.call_helper("seed", name(self.result), *where)
            )
            if not split:
                seed.append(assign(self.d(self.result), seed_value))
            state[self.result] = False
        elif not split:  # no adjoint to seed: the result is checked all the same
            seed.append(ast.Expr(self.call_helper("seed", name(self.result), *where)))
        backward = self.backward(self.body, state)
        # a parameter the result does not depend on: zeros (of its own dtype, as a final gradient)
        unused = "zeros_like" if split else "materialize"
        outputs = [
            name(self.d(p)) if p in state else self.call_helper(unused, *([] if split else [ast.Constant(0.0)]), name(p))
            for p in wrt
        ]
        # arrays, and containers (whose unused leaves need zeros of their shapes)
        arrays = [i for i, p in enumerate(wrt) if p not in self.act.scalars and p in state]
        if not split and len(arrays) > 1:  # writable arrays shaped like x, and never one array twice
            likes = ast.Tuple(elts=[name(p) for p in wrt], ctx=ast.Load())
            outputs = [self.call_helper("materialize_all", ast.Tuple(elts=outputs, ctx=ast.Load()), likes)]
        elif not split:
            for i in arrays:
                outputs[i] = self.call_helper("materialize", outputs[i], name(wrt[i]))
        if self.act.complex_values:  # a real parameter's derivative: the real part of its adjoint
            for i, p in enumerate(wrt):  # (materialize takes it for the arrays a gradient returns)
                if p in state and (split or p in self.act.scalars):
                    outputs[i] = self.call_helper("real_like", outputs[i], name(p))
        if not split and not with_value:  # (a split backward sweep runs again: its lists must be as it found them)
            backward = self._without_unread_list_moves(seed, backward, outputs)
        self.tape.needed |= self._loads(backward) | self._loads(outputs)
        primal = local_names(self.tree) | set(self.saved.values()) | set(self.counters.values())  # never globals
        self.tape.needed &= primal - set(self.adjoint_names.values())
        kept = self.tape.kept_in_place(self.tree)  # (a restore writes into the array it reads, at its index)
        if not split:  # (a split backward sweep runs again: its tape must be as the forward sweep left it)
            self.unrestored = self._restores_nobody_reads(kept, seed + backward + outputs)
            kept -= self.unrestored
        self.tape.needed |= kept | self.tape.restore_indices(kept)
        forward = self.forward(self.body)
        if not split and not with_value:  # only the gradient is returned: drop what nothing reads
            forward = self._prune(forward, seed + backward + outputs)
        backward = self._finish_restores(backward)
        prologue = self._prologue(self._stack_used(forward), split)
        if split:
            transformed = self._split_functions(prologue + forward, seed, backward, outputs)
            changed = _changed_in_place(backward) - set(self.adjoint_names.values()) - {self.stack}  # the stack is copied
            transformed.backward_changes_tape = bool(changed)
            return transformed
        fn_name = self.fresh.like(("value_and_grad_" if with_value else "grad_") + self.tree.name)
        grads: ast.expr = outputs[0] if len(outputs) == 1 else ast.Tuple(elts=outputs, ctx=ast.Load())
        value, kept = self._value_kept(backward) if with_value else (self.result, [])
        ret = ast.Tuple(elts=[name(value), grads], ctx=ast.Load()) if with_value else grads
        body = (
            [self._comment(f"forward: {self._span()}")]
            + prologue
            + forward
            + kept
            + [self._comment("backward")]
            + seed
            + backward
            + [ast.Return(value=ret)]
        )
        fn = self._function(fn_name, self.tree.args, body)
        return self._transformed(ast.Module(body=[fn], type_ignores=[]), fn_name, stack=self.stack)

    def _value_kept(self, backward: list[ast.stmt]) -> tuple[str, list[ast.stmt]]:
        """The name holding the value to return, and the statement keeping it: the backward sweep
        pops the result's name back to an older value (``v = v * x``), or restores elements of it."""
        rebound = {n.id for s in backward for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        changed = _changed_in_place(backward)
        if self.result not in rebound | changed:
            return self.result, []
        value = self.fresh.like("_value")
        kept = self.call_helper("private_copy", name(self.result)) if self.result in changed else name(self.result)
        return value, [assign(value, kept)]

    def _split_functions(
        self, forward: list[ast.stmt], seed: list[ast.stmt], backward: list[ast.stmt], outputs: list[ast.expr]
    ) -> Transformed:
        saved_names = sorted((self.tape.needed - set(self.tape.remat)) | ({self.stack} if self._stack_used(forward) else set()))
        tape = ast.Tuple(elts=[name(n) for n in saved_names], ctx=ast.Load())
        fwd_name = self.fresh.like(self.tree.name + "_forward")
        bwd_name = self.fresh.like(self.tree.name + "_backward")
        tape_name = self.fresh.like("_tape")
        fwd_body = [self._comment(f"forward: {self._span()}")] + forward
        fwd_body.append(ast.Return(value=ast.Tuple(elts=[name(self.result), tape], ctx=ast.Load())))
        unpack = ast.Assign(
            targets=[ast.Tuple(elts=[name(n, True) for n in saved_names], ctx=ast.Store())], value=name(tape_name)
        )
        bwd_body: list[ast.stmt] = [unpack] if saved_names else []
        # pop from a copy: the tape's stack stays as the forward sweep left it (it is read again when
        # this backward sweep is itself differentiated). Arrays written in place are restored in
        # place, not in copies: the tape's views of them (``_t = y[1:3]``) must see the restored values.
        if self.stack in saved_names:
            bwd_body.append(assign(self.stack, ast.Call(func=name("list"), args=[name(self.stack)], keywords=[])))
        for lst in self._lists_popped_from_copies(saved_names):  # (the list the caller holds, if it is the result)
            bwd_body.append(assign(lst, ast.Call(func=name("list"), args=[name(lst)], keywords=[])))
        bwd_body += seed + backward + [ast.Return(value=ast.Tuple(elts=outputs, ctx=ast.Load()))]
        bwd_args = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=tape_name), ast.arg(arg=self.d(self.result))],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        module = ast.Module(
            body=[self._function(fwd_name, self.tree.args, fwd_body), self._function(bwd_name, bwd_args, bwd_body)],
            type_ignores=[],
        )
        return self._transformed(module, fwd_name)

    def _transformed(self, module: ast.Module, entry: str, stack: str = "") -> Transformed:
        """``module`` with what optimize needs to know of it: the bindings, the temporaries, the
        names proven numbers, the primal names' kinds, and those proven arrays or numbers (the
        function's own, less those that may hold a list, tuple or dict, or a value of unknown kind)."""
        not_containers = frozenset(local_names(self.tree) | set(self.tape.params)) - self.act.lists
        return Transformed(
            module,
            self.bindings,
            entry,
            self._temporaries(),
            scalars=self._scalar_names(),
            ndims=self.act.ndims,
            not_containers=not_containers,
            stack=stack,
        )

    def _scalar_names(self) -> frozenset[str]:
        """The primal names proven to hold numbers, and their adjoints (numbers too)."""
        scalars = self.act.scalars
        return frozenset(scalars | {d for p, d in self.adjoint_names.items() if p in scalars})

    def _prune(self, forward: list[ast.stmt], rest: list) -> list[ast.stmt]:
        """Drop forward statements whose result nothing reads, when they only compute values.

        A primitive with a rule, a copy or a comparison has no effect but its value; calls to
        user functions, list operations, indexing (which may raise) and anything impure stay.
        """
        pure_kinds = (RULE, COPY, PACK)  # not INDEX: x[i] out of range must still raise

        def removable(s: ast.stmt, reads: set[str]) -> bool:
            if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)) or s.targets[0].id in reads:
                return False
            op = self.act.ops.get(s.value)
            return op is not None and (op.kind in pure_kinds or op.kind == CONSTANT and not isinstance(s.value, ast.Call))

        while True:  # again only where dropping an emptied ``if c:`` stopped reading ``c``, or a statement sat twice
            reads = self._load_counts(forward) + self._load_counts(rest)
            defining: dict[str, list[ast.stmt]] = {}
            for s in _statements(forward):
                if removable(s, set()):
                    defining.setdefault(s.targets[0].id, []).append(s)
            # liveness by counting reads: removing a statement takes its reads away, which can
            # leave the statements defining them unread in turn
            unread = [n for n in defining if not reads[n]]
            removed: set[int] = set()
            while unread:
                for s in defining[unread.pop()]:
                    if id(s) in removed:
                        continue
                    removed.add(id(s))
                    for n in nodes(s.value):
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                            reads[n.id] -= 1
                            if not reads[n.id] and n.id in defining:
                                unread.append(n.id)
            if not removed:
                return forward
            size = count_statements(forward)
            forward = drop_statements(forward, lambda s, removed=removed: id(s) in removed)
            if count_statements(forward) == size - len(removed):
                return forward  # the counts were exact: nothing else is left unread

    def _temporaries(self) -> frozenset[str]:
        """Names of normalisation temporaries, their adjoints and adjoint partials."""
        temps = {n for n in names_in(self.tree) if n.startswith("_")}
        adjoints = {self.adjoint_names[n] for n in temps if n in self.adjoint_names}
        return frozenset(temps | adjoints | {n for n in self.fresh.taken if n.startswith("_d")})

    def _stack_used(self, stmts: list[ast.stmt]) -> bool:
        return any(isinstance(n, ast.Name) and n.id == self.stack for s in stmts for n in nodes(s))

    def _function(self, fn_name: str, args: ast.arguments, body: list[ast.stmt]) -> ast.FunctionDef:
        extra = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
        fn = ast.FunctionDef(
            name=fn_name, args=copy_tree(args), body=body, decorator_list=[], returns=None, type_comment=None, **extra
        )
        return fix_missing_locations(ast.copy_location(fn, self.tree))

    def _prologue(self, pushes_any: bool, split: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        # inputs are never mutated: arrays and lists the function writes into are copied first
        out += self.numbers_checked() + self.unshared_arguments()
        for p in self.params:
            if p in self.act.written:
                out.append(assign(p, self.call_helper("private_copy", name(p))))
        if pushes_any:
            out.append(assign(self.stack, ast.List(elts=[], ctx=ast.Load())))
        pushed = {n for names in self.push_order.values() for n in names}
        saved = self.tape.needed - set(self.tape.remat) if split else pushed  # a split forward returns every needed value
        top = {id(s) for s in self.body}
        nested_counters = {n for loop, n in self.counters.items() if loop not in top}  # (in a branch not taken: unbound)
        preinit = sorted(n for n in saved if self.tape.may_be_unbound(n) or n in nested_counters)
        if preinit:
            out.append(ast.Assign(targets=[name(n, True) for n in preinit], value=ast.Constant(None)))
        return out

    def _span(self) -> str:
        return f"{short(self.origin.filename)}:{self.origin.first_line}-{self.origin.last_line}"

    def _comment(self, text: str) -> ast.Expr:
        return ast.Expr(value=ast.Constant(COMMENT + text))

    def _load_counts(self, code: list) -> Counter:
        """How many times each name is read in ``code`` (as ``_loads``, counted)."""
        found: Counter = Counter()
        for s in code:
            if isinstance(s, _Restore):
                continue
            found.update(n.id for n in nodes(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
        return found

    def _restores_nobody_reads(self, kept: set[str], code: list) -> set[str]:
        """The arrays of ``kept`` whose restored elements nothing would read: the backward sweep
        (``code``, in the order it runs) reads them, and every name that may share data with an
        array written in place (``Activity.shares_written``, the analysis's conservative answer)
        or with them (the tape's sharing groups), only before it restores any of their elements;
        and no parameter or closure holds any of those names (the caller sees a parameter's
        elements). A recurrence ``y[i] = 0.5 * y[i - 1] + ...`` summed at the end reads ``y`` once,
        before the loop back: its old elements need no tape."""
        if not kept:
            return set()
        group = self.tape.sharing_groups(self.tree)
        first_restore: dict[str, int] = {}  # array -> the top-level statement of code that restores it first
        last_read: dict[str, int] = {}  # name -> the last top-level statement of code reading it
        for k, s in enumerate(code):
            for array in _restored_arrays(s):
                first_restore.setdefault(array, k)
            for n in self._loads([s]):
                last_read[n] = k
        outside = self._names_outside()
        found = set()
        for a in kept:
            if a not in first_restore or a in self.act.lists:  # (an array: a list's elements may be other lists' too)
                continue
            sharing = set(self.act.shares_written) | {a} | {n for n in set(last_read) | outside if group(n) == group(a)}
            if sharing & outside:
                continue
            if all(last_read.get(n, -1) < first_restore[a] for n in sharing):
                found.add(a)
        return found

    def _names_outside(self) -> set[str]:
        """The parameters, and the names a nested function or lambda reads or writes: what the
        caller or a closure may hold after the gradient returns."""
        closures = {
            n.id
            for f in nodes(self.tree)
            if isinstance(f, (ast.Lambda, ast.FunctionDef)) and f is not self.tree
            for n in nodes(f)
            if isinstance(n, ast.Name)
        }
        return set(self.tape.params) | closures

    def _lists_popped_from_copies(self, saved: list[str]) -> list[str]:
        """The lists on the tape whose appends this split backward sweep undoes, which it may undo
        on copies, as it does the stack's: each is bound once, to a list display at the top of
        the body (a list when the backward sweep runs), and no other name holds it (each read of
        one is a move, an element read, ``len`` or the return). The tape then stays as the
        forward sweep left it, for a backward sweep that runs again (differentiated again), and
        so does the list a caller was given as the result."""
        stores = Counter(n.id for n in nodes(self.tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
        top = {
            s.targets[0].id for s in self.tree.body if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)
            and isinstance(s.value, ast.List)
        }
        moved = set(self.list_moves) & set(saved) - set(self.tape.params)
        candidates = {lst for lst in moved if lst in top and stores[lst] == 1}
        if not candidates:
            return []
        allowed: set[int] = set()  # ids of the Name nodes read in those ways
        # or held in the result's tuple (``return out, state``), made after every method call (every move among them)
        body = self.tree.body
        calls = [
            k for k, s in enumerate(body) if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) for n in nodes(s))
        ]
        for k, s in enumerate(body):
            packs_result = isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and s.targets[0].id == self.result
            if packs_result and isinstance(s.value, (ast.Tuple, ast.List)) and k > max(calls, default=-1):
                allowed.update(id(e) for e in s.value.elts if isinstance(e, ast.Name))
        for n in nodes(self.tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "pop"):
                allowed.add(id(n.func.value))
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "len" and n.args:
                allowed.add(id(n.args[0]))
            elif isinstance(n, (ast.Subscript, ast.Return)):
                allowed.add(id(n.value))
        held_elsewhere = {
            n.id for n in nodes(self.tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in allowed
        }
        return sorted(candidates - held_elsewhere)

    def _without_unread_list_moves(self, seed: list, backward: list, outputs: list) -> list:
        """``backward`` without the moves of a list (``list_moves``) from the first that puts a
        popped value back on, where the list is made here (bound only to list displays) and only
        ever moved: every read of its name, in the function and in the backward sweep, is the
        object of ``.append``/``.pop`` or the argument of ``zeros_like`` (its adjoint's shape), so
        no other name can hold it and nothing reads it but those moves. (Moving references in
        and out of a list changes no element: only the list.) The backward sweep of
        ``v = xs.pop()`` puts ``v`` back for whatever reads ``xs`` later; a tape's stack in code
        differentiated again is read by nothing else."""
        displays = {  # the targets of ``xs = [...]``
            id(s.targets[0])
            for s in walk_statements(self.tree.body)
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name) and isinstance(s.value, ast.List)
        }
        made_here: dict[str, bool] = {}  # name -> bound by list displays only: no one else's list
        for n in nodes(self.tree):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                made_here[n.id] = made_here.get(n.id, True) and id(n) in displays
        lists = {lst for lst in self.list_moves if made_here.get(lst) and lst not in self.tape.params}
        if not lists:
            return backward
        code = seed + backward + outputs
        moved: set[int] = set()  # ids of the Name nodes of those lists read as the object of a move
        sized: dict[int, int] = {}  # ids of those read by zeros_like -> the statement of code (-1: the function's)
        reads: list[ast.Name] = []
        zeros = self.helpers.get("zeros_like")
        for k, root in enumerate([self.tree, *code]):
            for n in nodes(root) if isinstance(root, ast.AST) else ():
                if isinstance(n, ast.Call):
                    f = n.func
                    if isinstance(f, ast.Attribute) and f.attr in ("append", "pop") and isinstance(f.value, ast.Name):
                        moved.add(id(f.value))
                    elif isinstance(f, ast.Name) and f.id == zeros:
                        sized.update((id(a), k - 1) for a in n.args if isinstance(a, ast.Name))
                elif isinstance(n, ast.Name) and n.id in lists and isinstance(n.ctx, ast.Load):
                    reads.append(n)
        only_moved = lists - {n.id for n in reads if id(n) not in moved and id(n) not in sized}
        dropped: set[int] = set()
        for lst in only_moved:
            moves = {id(m) for m in self.list_moves[lst]}  # (held in list_moves: ids of live statements)
            puts_back = {id(i) for i in _statements(code) if id(i) in moves and _is_put_back(i)}
            first = next((k for k, s in enumerate(code) if any(id(i) in puts_back for i in _statements([s]))), None)
            last_sized = max((sized[id(n)] for n in reads if n.id == lst and id(n) in sized), default=-1)
            if first is not None and last_sized < first:  # (zeros_like reads the list's length: before, only)
                dropped |= {id(i) for i in _statements(code[first:]) if id(i) in moves}
        return drop_statements(backward, lambda s: id(s) in dropped) if dropped else backward

    def _loads(self, code: list) -> set[str]:
        found = set()
        for s in code:
            if isinstance(s, _Restore):
                continue
            for n in nodes(s):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    found.add(n.id)
        return found

    # ---------------------------------------------------------------- forward
    def forward(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in body:
            out += self.forward_stmt(s)
        return out

    def push(self, value: ast.expr) -> ast.stmt:
        call = ast.Call(func=ast.Attribute(value=name(self.stack), attr="append", ctx=ast.Load()), args=[value], keywords=[])
        return ast.Expr(value=call)

    def forward_stmt(self, s: ast.stmt) -> list[ast.stmt]:
        return self.checks_before(s) + self.primal_stmt(s)

    def primal_stmt(self, s: ast.stmt) -> list[ast.stmt]:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            target = s.targets[0].id
            pushed = [target] if self.tape.pushes(s, target) else []
            saved = self.saved.get(id(s))
            if saved and self.tape.pushes(s, saved):
                pushed.append(saved)  # a call's tape, once per iteration
            self.push_order[id(s)] = pushed
            out = [self.push(name(n)) for n in pushed]
            if saved:
                call = self._primal_replacement(s)
                out.append(
                    ast.Assign(targets=[ast.Tuple(elts=[name(target, True), name(saved, True)], ctx=ast.Store())], value=call)
                )
                return out
            return out + [s]
        if isinstance(s, ast.Assign):  # x[i] = v
            target = s.targets[0]
            array = target.value.id
            if array in self.tape.needed and array not in self.unrestored:  # (see TapePlan.kept_in_place)
                old = ast.Subscript(value=name(array), slice=copy_tree(target.slice), ctx=ast.Load())
                saved = old if array in self.act.containers else self.call_helper("private_copy", old)
                surely_dict = self._surely_dict(array)
                if surely_dict or array in self.act.lists:  # a dict's key may be new: remembered as absent
                    get = ast.Attribute(value=name(array), attr="get", ctx=ast.Load())  # (d.get reads like d[k])
                    remembered = ast.Call(func=get, args=[_index_value(target.slice), self.call_helper("absent")], keywords=[])
                    if surely_dict:
                        saved = remembered
                    else:  # a dict or a list, which the run tells
                        is_dict = ast.Call(func=name("isinstance"), args=[name(array), name("dict")], keywords=[])
                        saved = ast.IfExp(test=is_dict, body=remembered, orelse=saved)
                self.written_back.add(id(s))
                return [self.push(saved), s]
            return [s]
        if isinstance(s, ast.If):
            return [ast.If(test=s.test, body=self.forward(s.body) or [ast.Pass()], orelse=self.forward(s.orelse))]
        if isinstance(s, ast.For):
            body = self.forward(s.body)
            out = []
            if self._loop_target_saved(s):  # another loop reuses the name: keep this one's old value
                self.push_order[id(s)] = [s.target.id]  # (so it is started at None if still unbound)
                out.append(self.push(name(s.target.id)))
            counter = self._counter(s)
            if counter:
                out += self._keep_counter(s, counter) + [assign(counter, ast.Constant(0))]
                body.insert(0, assign(counter, ast.BinOp(left=name(counter), op=ast.Add(), right=ast.Constant(1))))
            return out + [ast.For(target=s.target, iter=s.iter, body=body, orelse=[])]
        if isinstance(s, ast.While):
            counter = self._counter(s)
            body = [assign(counter, ast.BinOp(left=name(counter), op=ast.Add(), right=ast.Constant(1)))] + self.forward(s.body)
            start = assign(counter, ast.Constant(0))
            return self._keep_counter(s, counter) + [start, ast.While(test=s.test, body=body, orelse=[])]
        return [s]

    def _primal_replacement(self, s: ast.Assign) -> ast.expr:
        """What the primal sweep calls instead of ``s``'s call, returning (value, what the adjoint
        reads): a user function's generated forward sweep, or a rule's ``primal`` template."""
        op = self.act.ops[s.value]
        if op.kind == RULE:
            return self.fill(op.rule.primal, self.rule_values(op.rule, op.bound))
        return ast.Call(func=name(self._callee_name(s, "forward")), args=s.value.args, keywords=s.value.keywords)

    def _keep_counter(self, s: ast.stmt, counter: str) -> list[ast.stmt]:
        """In an enclosing loop, a loop's count is one per round of it: push the last round's."""
        if self.tape.loop_depth[id(s)] == 0:
            return []
        self.push_order.setdefault(id(s), []).append(counter)
        return [self.push(name(counter))]

    def _loop_target_saved(self, s: ast.For) -> bool:
        return s.target.id in self.tape.needed and len(self.tape.defs[s.target.id]) > 1

    def _counter(self, s: ast.stmt) -> str | None:
        """Loops that may stop early count their iterations; the backward replays that many."""
        if isinstance(s, ast.For) and not (s.body and is_final_break(s.body[-1])):
            return None
        if id(s) not in self.counters:
            self.counters[id(s)] = self.fresh.temp("_n")
        return self.counters[id(s)]

    def _callee_name(self, s: ast.Assign, part: str) -> str:
        func, wrt, kinds = self._callee(s)
        base = function_name(func) + "_" + part
        key = (id(func), wrt, kinds, part)
        if key not in self.helpers:
            self.helpers[key] = self.fresh.like(base)
            self.bindings[self.helpers[key]] = CalleeRef(func, wrt, kinds, part)
        return self.helpers[key]

    def _callee(self, s: ast.Assign) -> tuple[Any, tuple[str, ...], frozenset[tuple[str, int]]]:
        op = self.act.ops[s.value]
        func = op.func
        bound = packing.call_signature(func, s.value).bind(*s.value.args, **{k.arg: k.value for k in s.value.keywords})
        wrt = tuple(p for p, a in bound.arguments.items() if self.act.is_active(a))
        return op.func, wrt, call_kinds(func, s.value, self.ndim, op.passed)

    # --------------------------------------------------------------- backward
    def backward(self, body: list[ast.stmt], state: dict[str, bool]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        line = None
        recomputed: set[str] = set()
        here = {id(s) for s in body}
        local_remat = {t for t, d in self.tape.remat.items() if id(d) in here}
        for s in reversed(body):
            code = self.backward_stmt(s, state)
            first: list[ast.stmt] = []
            if local_remat:
                for t in sorted(self._loads(code) & local_remat - recomputed):  # recompute, once, where first read
                    first += self.tape.recompute(t, local_remat, recomputed)
            code = first + code
            real = any(not isinstance(c, _Restore) for c in code)
            if real and s.lineno != line and not isinstance(s, (ast.If, ast.For, ast.While)):
                line = s.lineno
                text = self.origin.line_text(s.lineno)
                out.append(self._comment(f"{short(self.origin.filename)}:{s.lineno}  {text}"))
            elif isinstance(s, (ast.If, ast.For, ast.While)):
                line = None
            out += code
        return out

    def contribute(self, primal: ast.expr, value: ast.expr, state: dict[str, bool], out: list) -> None:
        """Add ``value`` to the adjoint of ``primal`` (if it is an active name)."""
        if not self.act.is_active(primal):
            return
        p = primal.id
        dp = self.d(p)
        if p not in state:
            out.append(assign(dp, value))
            # arithmetic makes a new array, but of p's shape only if an operand has it: a weak
            # zero times a scalar is a scalar (writing dp[i] needs make_private first)
            state[p] = False
            return
        out.append(assign(dp, self.add(p, name(dp), value)))
        state[p] = state[p]  # private + value is a new array of p's shape; weak zero + value is value

    def add(self, p: str, total: ast.expr, value: ast.expr) -> ast.expr:
        """``total + value`` for the adjoint of ``p`` (element by element when p is a list)."""
        if p in self.act.lists:
            return self.call_helper("add_adjoints", total, value)
        return ast.BinOp(left=total, op=ast.Add(), right=value)

    def make_private(self, p: str, state: dict[str, bool], out: list) -> None:
        dp = self.d(p)
        if p not in state:
            out.append(assign(dp, self.call_helper("zeros_like", name(p))))
        elif not state[p]:
            out.append(assign(dp, self.call_helper("private_copy", name(dp), name(p))))
        state[p] = True

    def zero(self, p: str, state: dict[str, bool]) -> ast.stmt:
        """A zero adjoint for ``p``: private zeros where it is written element by element.

        A name assigned only inside branches or loops may be unbound on this path, so it
        gets the weak zero, which ``make_private`` turns into zeros where ``p`` is read.
        """
        if p in self.tape.indexed and not self.tape.may_be_unbound(p):
            state[p] = True
            return assign(self.d(p), self.call_helper("zeros_like", name(p)))
        state[p] = False
        return assign(self.d(p), ast.Constant(0.0))

    def backward_stmt(self, s: ast.stmt, state: dict[str, bool]) -> list:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            target = s.targets[0].id
            out: list = []
            op = self.act.ops[s.value]
            if op.kind == POP:
                self.backward_pop(s, target, state, out)
            elif target in self.act.active and target in state:
                self.adjoint_of(s, target, state, out)
            elif op.kind == CONSTANT and op.func in rules.UNDONE:  # the state it replaced, put back
                undo = self.fill(rules.UNDONE[op.func], {"ans": name(target)})
                out.append(assign(self.fresh.temp("_state"), undo))  # (held: an order above undoes it in turn)
            state.pop(target, None)
            out.append(_Restore(s, target))
            return out
        if isinstance(s, ast.Assign):
            return self.backward_write(s, state)
        if appended_to(s):
            return self.backward_append(s, state)
        if isinstance(s, ast.If):
            return self.backward_if(s, state)
        if isinstance(s, (ast.For, ast.While)):
            return self.backward_loop(s, state)
        return []  # raise, assert, print, break: nothing flows back

    def adjoint_of(self, s: ast.Assign, target: str, state: dict[str, bool], out: list) -> None:
        g = name(self.d(target))
        e = s.value
        op = self.act.ops[e]
        if op.kind == COPY:
            self.contribute(op.operands[0], g, state, out)
        elif op.kind == PACK:
            keys = e.keys if isinstance(e, ast.Dict) else [ast.Constant(k) for k in range(len(e.elts))]
            if not state.get(target):  # a weak zero on some path: zeros of the container's shape
                g = self.call_helper("indexable", g, name(target))
            for key, element in zip(keys, e.values if isinstance(e, ast.Dict) else e.elts):
                item = ast.Subscript(value=g, slice=copy_tree(key), ctx=ast.Load())
                self.contribute(element, item, state, out)
        elif op.kind == INDEX:
            self.adjoint_index(e, g, state, out)
        elif op.kind == RULE:
            self.adjoint_rule(s, op, target, g, state, out)
        elif op.kind == CALL:
            self.adjoint_call(s, g, state, out)

    def backward_pop(self, s: ast.Assign, target: str, state: dict[str, bool], out: list) -> None:
        """``v = L.pop()``: dv goes back on dL (a zero if none), then v goes back on L; with a
        position or a key (``L.pop(0)``, ``d.pop(k)``), back where it was."""
        lst = s.value.func.value.id
        key = s.value.args

        def put_back(container: str, value: ast.expr) -> ast.stmt:
            if key:
                return ast.Expr(value=self.call_helper("restore_popped", name(container), value, *copy_tree(key)))
            append = ast.Attribute(value=name(container), attr="append", ctx=ast.Load())
            return ast.Expr(value=ast.Call(func=append, args=[value], keywords=[]))

        if lst in self.act.active and (lst in state or target in state):
            self.make_private(lst, state, out)
            value = name(self.d(target)) if target in state and target in self.act.active else ast.Constant(0.0)
            out.append(put_back(self.d(lst), value))
        out.append(put_back(lst, name(target)))
        self.list_moves.setdefault(lst, []).append(out[-1])

    def _surely_dict(self, container: str) -> bool:
        """Is ``container`` surely a dict (whose keys a write may add): a dict by its kind, or by
        every assignment to it (a dict display, or another such name)?"""
        if kinds_.is_dict(self.act.ndims.get(container)):
            return True
        if self._surely_dicts is None:
            self._surely_dicts = _surely_dicts(self.tree)
        return container in self._surely_dicts

    def adjoint_index(self, e: ast.Subscript, g: ast.expr, state: dict[str, bool], out: list) -> None:
        array = e.value
        if not self.act.is_active(array):
            return
        p = array.id
        self.make_private(p, state, out)
        dp = self.d(p)
        where = ast.Subscript(value=name(dp), slice=copy_tree(e.slice), ctx=ast.Store())
        kind = self.act.ndims.get(p)
        array = kind is not None and (kind >= 0 or kind == kinds_.NOT_CONTAINER)  # (not a list, whose slices join with +)
        if not array and not self.act.element_is_leaf(e) and (p in self.act.containers or self._index_safe(e.slice)):
            # elements (or a slice) may be containers: added leaf by leaf
            read = ast.Subscript(value=name(dp), slice=copy_tree(e.slice), ctx=ast.Load())
            out.append(ast.Assign(targets=[where], value=self.call_helper("add_adjoints", read, g)))
        elif p in self.act.containers or self._index_safe(e.slice):  # a list or dict: one key, never an index array
            read = ast.Subscript(value=name(dp), slice=copy_tree(e.slice), ctx=ast.Load())
            out.append(ast.Assign(targets=[where], value=ast.BinOp(left=read, op=ast.Add(), right=g)))
        else:  # integer arrays may repeat an index: np.add.at adds every occurrence
            out.append(assign(dp, self.call_helper("add_at", name(dp), _index_value(e.slice), g)))

    def _index_safe(self, index: ast.expr) -> bool:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        for part in parts:
            if isinstance(part, ast.Slice) or isinstance(part, ast.Constant):
                continue
            if isinstance(part, ast.Name) and part.id in self.act.index_safe:
                continue
            if isinstance(part, ast.Attribute):  # np.newaxis
                continue
            return False
        return True

    def adjoint_rule(self, s: ast.Assign, op, target: str, g: ast.expr, state: dict[str, bool], out: list) -> None:
        rule = op.rule
        if rule.cotangents is not None:
            self.adjoint_all_at_once(s, op, g, state, out)
            return
        for p, value in op.bound.items():
            if rule.role(p) == rules.ADJOINT and p not in rule.adjoints and self._any_active(value):
                raise self.origin.error(
                    NoDerivativeRule,
                    s,
                    f"no reverse-mode (adjoint) rule for {rule.spelling} in its argument {p!r}",
                    rule.how_to_add("vjp"),
                )
        parts: dict[str, tuple[ast.expr, ast.expr]] = {}  # operand name -> (atom, its summed contribution)

        def add(atom: ast.expr, expr: ast.expr) -> None:  # ``x * x``: one contribution, not two
            if atom.id in parts:
                expr = self.add(atom.id, parts[atom.id][1], expr)
            parts[atom.id] = (atom, expr)

        reads_as_array = rules.reads_lists_as_arrays(rule.func)

        for p, template in rule.adjoints_for(self.complex_operands(op)).items():
            value = op.bound.get(p)
            if p == rule.vararg and isinstance(value, ast.Tuple):
                for k, element in enumerate(value.elts):
                    if self.act.is_active(element):
                        add(element, self.instantiate(template, op.bound, g, target, k))
                continue
            if not self.act.is_active(value):
                continue
            expr = self.instantiate(template, op.bound, g, target, None)
            if rule.kind == rules.ELEMENTWISE and self._may_broadcast(value, op):
                # a sum back to the operand's shape commutes with a negation: negate the smaller array
                negated, expr = _without_negation(expr)
                expr = self.call_helper("unbroadcast", expr, copy_tree(value))
                expr = ast.UnaryOp(op=ast.USub(), operand=expr) if negated else expr
            if reads_as_array and value.id in self.act.lists:  # NumPy read a list as an array: its adjoint is a list
                expr = self.call_helper("structured", expr, copy_tree(value))
            add(value, expr)
        for atom, expr in parts.values():
            self.contribute(atom, expr, state, out)

    def _any_active(self, value: ast.expr) -> bool:
        return any(self.act.is_active(n) for n in nodes(value) if isinstance(n, ast.Name))

    def adjoint_all_at_once(self, s: ast.Assign, op, g: ast.expr, state: dict[str, bool], out: list) -> None:
        """``_d1, _d2 = bwd(_res1, dy)``: one call gives every parameter's adjoint (``rule.cotangents``)."""
        rule = op.rule
        values = {**self.rule_values(rule, op.bound), "g": g, "ans": name(s.targets[0].id)}
        if id(s) in self.saved:
            values[rules.RESIDUALS] = name(self.saved[id(s)])
        results = [self.fresh.temp("_d") for _ in rule.params]
        unpack = ast.Tuple(elts=[name(r, True) for r in results], ctx=ast.Store())
        out.append(ast.Assign(targets=[unpack], value=self.fill(rule.cotangents, values)))
        for p, result in zip(rule.params, results):
            self.contribute(op.bound[p], name(result), state, out)

    def _may_broadcast(self, operand: ast.Name, op) -> bool:
        """Can ``operand``'s shape differ from the result's? Not if every other operand is a scalar or itself."""
        others = [a for a in op.bound.values() if isinstance(a, (ast.Name, ast.Constant))]
        others = [a for a in others if not (isinstance(a, ast.Name) and a.id == operand.id)]
        return not all(self.act.is_scalar(a) for a in others)

    def instantiate(self, template: ast.expr, bound: dict[str, ast.expr], g: ast.expr, ans: str, k: int | None) -> ast.expr:
        values = {**bound, "g": g, "ans": name(ans)}
        return self.fill(template, values if k is None else {**values, "k": ast.Constant(k)})

    def adjoint_call(self, s: ast.Assign, g: ast.expr, state: dict[str, bool], out: list) -> None:
        func, wrt, _ = self._callee(s)
        if not wrt:
            return
        backward_fn = self._callee_name(s, "backward")
        results = [self.fresh.temp("_d") for _ in wrt]
        call = ast.Call(func=name(backward_fn), args=[name(self.saved[id(s)]), g], keywords=[])
        out.append(ast.Assign(targets=[ast.Tuple(elts=[name(r, True) for r in results], ctx=ast.Store())], value=call))
        bound = packing.call_signature(func, s.value).bind(*s.value.args, **{kw.arg: kw.value for kw in s.value.keywords})
        for param, result in zip(wrt, results):
            self.contribute(bound.arguments[param], name(result), state, out)

    def backward_write(self, s: ast.Assign, state: dict[str, bool]) -> list:
        target = s.targets[0]
        p = target.value.id
        out: list = []
        if p in self.act.active and p in state:
            dp = self.d(p)
            self.make_private(p, state, out)  # (it may be a weak zero, and its elements are zeroed below)
            read = ast.Subscript(value=name(dp), slice=copy_tree(target.slice), ctx=ast.Load())
            if self.act.is_active(s.value):
                # an element of an array is a view that is zeroed next: copy it, unless it is summed into
                # a new value anyway; a container's element is a reference, which the zeroing replaces
                surely_container = p in self.act.containers
                part: ast.expr = (
                    read if (surely_container or self.act.is_scalar(s.value)) else self.call_helper("private_copy", read)
                )
                if not surely_container and not self._index_safe(target.slice):
                    # an index array may repeat a position: NumPy keeps the last write there, the others are lost
                    mask = self.call_helper("last_writes", name(p), _index_value(target.slice))
                    part = ast.BinOp(left=part, op=ast.Mult(), right=mask)
                if not surely_container and not self.act.element_is_scalar(target):  # y[i] of a vector: nothing to sum
                    part = self.call_helper("unbroadcast", part, copy_tree(s.value))
                if not surely_container and p not in self.act.floats:  # an integer array rounds what it is given
                    part = ast.BinOp(left=part, op=ast.Mult(), right=self.call_helper("holds_fractions", name(p)))
                if isinstance(s.value, ast.Name) and s.value.id == p:  # y[::-1] = y: its own adjoint, after the zeroing
                    held = self.fresh.temp("_d")
                    out.append(assign(held, part))
                    part = name(held)
                    later = True
                else:
                    self.contribute(s.value, part, state, out)
                    later = False
            zero: ast.expr = ast.Constant(0.0)
            kind = self.act.ndims.get(p, -1)
            slice_of_a_list = isinstance(target.slice, ast.Slice) or not self.act.element_is_leaf(target) and kind < 0
            if slice_of_a_list and not kind >= 1 and kind != kinds_.NOT_CONTAINER:  # a list's slice takes a list
                zero = self.call_helper("zeros_like", copy_tree(read))
            out.append(
                ast.Assign(
                    targets=[ast.Subscript(value=name(dp), slice=copy_tree(target.slice), ctx=ast.Store())],
                    value=zero,
                )
            )
            if self.act.is_active(s.value) and later:
                self.contribute(s.value, part, state, out)
        if p in self.act.active:
            self.tape.needed.add(p)
        out.append(_Restore(s, p))  # the old elements go back if the forward sweep kept them (decided later)
        return out

    def backward_append(self, s: ast.Expr, state: dict[str, bool]) -> list:
        call = s.value
        lst = call.func.value.id
        out: list = []
        if lst in self.act.active and lst in state:
            self.make_private(lst, state, out)
            pop = ast.Call(func=ast.Attribute(value=name(self.d(lst)), attr="pop", ctx=ast.Load()), args=[], keywords=[])
            if self.act.is_active(call.args[0]):
                self.contribute(call.args[0], pop, state, out)
            else:
                out.append(ast.Expr(value=pop))
        if lst in self.act.active or lst in self.tape.needed:
            out.append(
                ast.Expr(value=ast.Call(func=ast.Attribute(value=name(lst), attr="pop", ctx=ast.Load()), args=[], keywords=[]))
            )
            self.list_moves.setdefault(lst, []).append(out[-1])
        return out

    def backward_if(self, s: ast.If, state: dict[str, bool]) -> list:
        body_state, else_state = dict(state), dict(state)
        body = self.backward(s.body, body_state)
        orelse = self.backward(s.orelse, else_state)
        for names_here, code, other in ((body_state, body, else_state), (else_state, orelse, body_state)):
            for p in sorted(set(other) - set(names_here)):
                code.append(self.zero(p, names_here))
        state.clear()
        state.update({p: body_state[p] and else_state[p] for p in body_state})
        if not body and not orelse:
            return []
        return [ast.If(test=copy_tree(s.test), body=body or [ast.Pass()], orelse=orelse)]

    def backward_loop(self, s: ast.stmt, state: dict[str, bool]) -> list:
        before: list[ast.stmt] = []
        resets: list[str] = []
        for _ in range(20):
            entry = dict(state)
            inner = dict(entry)
            body = self.backward(s.body, inner)
            if isinstance(s, ast.For):  # each round binds the variable anew, to an int of the range:
                inner.pop(s.target.id, None)  # its adjoint goes no further (not to an earlier binding of the name)
            for p in resets:  # lost in the body on an earlier pass: zero for the round before, if still lost
                if p not in inner:  # (an adjoint the body now gives must flow on, not be zeroed)
                    body.append(self.zero(p, inner))
            grown = set(inner) - set(entry)
            lost = set(entry) - set(inner)
            privacy = {p for p in entry if entry[p] and not inner.get(p, False)}
            # written element by element in the body: make it private once, before the loop
            hoist = {p for p in entry if not entry[p] and inner.get(p) and p in self.tape.indexed}
            if not grown and not lost and not privacy and not hoist:
                break
            for p in sorted(grown):
                before.append(self.zero(p, state))
            for p in sorted(hoist):
                self.make_private(p, state, before)
            resets += sorted(lost)
            for p in privacy:
                state[p] = False
        if not body:  # nothing to replay; what the forward sweep kept before the loop still goes back
            return before + [_Restore(s, s.target.id if isinstance(s, ast.For) else self._counter(s))]
        if isinstance(s, ast.For):
            rng: ast.expr = name(s.iter.id)
            counter = self._counter(s)
            if counter:
                rng = ast.Subscript(value=rng, slice=ast.Slice(upper=name(counter)), ctx=ast.Load())
            loop = ast.For(
                target=copy_tree(s.target),
                iter=ast.Call(func=name("reversed"), args=[rng], keywords=[]),
                body=body,
                orelse=[],
            )
            # the loop variable's value before the loop, if the forward sweep saved it (known later)
            return before + [loop, _Restore(s, s.target.id)]
        counter = self._counter(s)
        loop = ast.For(
            target=name(self.fresh.like("_"), True),
            iter=ast.Call(func=name("range"), args=[name(counter)], keywords=[]),
            body=body,
            orelse=[],
        )
        return before + [loop, _Restore(s, counter)]  # the count of the round before, if it was kept

    def _finish_restores(self, code: list) -> list:
        out = []
        for s in code:
            if isinstance(s, _Restore) and id(s.stmt) in self.written_back:  # x[i] = v: its old elements
                pop = ast.Call(func=ast.Attribute(value=name(self.stack), attr="pop", ctx=ast.Load()), args=[], keywords=[])
                # (a key a dict did not have gets absent()'s marker back: no earlier step reads it)
                out.append(ast.Assign(targets=[copy_tree(s.stmt.targets[0])], value=pop))
                continue
            if isinstance(s, _Restore):
                for n in reversed(self.push_order.get(id(s.stmt), [])):
                    pop = ast.Call(func=ast.Attribute(value=name(self.stack), attr="pop", ctx=ast.Load()), args=[], keywords=[])
                    out.append(assign(n, pop))
                continue
            for f in ("body", "orelse"):
                if hasattr(s, f) and isinstance(getattr(s, f), list):
                    setattr(s, f, self._finish_restores(getattr(s, f)) or ([ast.Pass()] if f == "body" else []))
            out.append(s)
        return out


def _is_put_back(s: object) -> bool:
    """``xs.append(v)`` (what the backward sweep of ``v = xs.pop()`` writes)."""
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and getattr(s.value.func, "attr", None) == "append"


def _restored_arrays(s: object) -> set[str]:
    """The arrays whose element writes (``y[i] = v``) have a restore placeholder in ``s``, at any depth."""
    if isinstance(s, _Restore):
        target = s.stmt.targets[0] if isinstance(s.stmt, ast.Assign) else None
        return {target.value.id} if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) else set()
    found: set[str] = set()
    for f in ("body", "orelse"):
        for inner in getattr(s, f, None) or []:
            found |= _restored_arrays(inner)
    return found


def _without_negation(e: ast.expr) -> tuple[bool, ast.expr]:
    """``e`` as ``-e'``, when it is a negation or a product or quotient whose first factor is one
    (``-g * ans / y`` is ``-(g * ans / y)``); else ``(False, e)``."""
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        return True, e.operand
    if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Mult, ast.Div)):
        negated, left = _without_negation(e.left)
        if negated:
            return True, ast.BinOp(left=left, op=e.op, right=e.right)
    return False, e


def _surely_dicts(tree: ast.FunctionDef) -> set[str]:
    """Local names that every assignment binds to a dict display, or to another such name."""
    values: dict[str, list[ast.expr]] = {}
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            values.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, ast.For):
            values.setdefault(s.target.id, []).append(s.iter)  # (an element: of any kind)
    found = set(values)
    changed = True
    while changed:  # drop a name any of whose values is not surely a dict
        changed = False
        for n in list(found):
            if not all(isinstance(v, ast.Dict) or isinstance(v, ast.Name) and v.id in found for v in values[n]):
                found.discard(n)
                changed = True
    return found


_LIST_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort"})


def _changed_in_place(code: list[ast.stmt]) -> set[str]:
    """Names whose values ``code`` changes in place: ``x[i] = v`` targets and lists it appends to or pops."""
    changed = set()
    for node in (n for s in code for n in ast.walk(s)):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name):
            changed.add(node.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            if node.func.attr in _LIST_MUTATORS:
                changed.add(node.func.value.id)
    return changed


def _index_value(index: ast.expr) -> ast.expr:
    """An index as a value expression: slices become ``slice(...)`` calls."""
    if isinstance(index, ast.Slice):
        parts = [p if p is not None else ast.Constant(None) for p in (index.lower, index.upper, index.step)]
        return ast.Call(func=name("slice"), args=parts, keywords=[])
    if isinstance(index, ast.Tuple):
        return ast.Tuple(elts=[_index_value(p) for p in index.elts], ctx=ast.Load())
    return copy_tree(index)


short = notebook.short_name  # a file as generated code's comments name it
