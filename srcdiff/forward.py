"""Forward mode: after each primal statement, the statement that computes its tangent.

On entry: a normalised tree and its ``Activity`` (``act.wrt`` names the parameters that
are given tangents). On exit: ``Transformed``, a module holding one function
``jvp_f(tx, ty, x, y, ...)`` (``f_jvp`` for a function called from differentiated code):
the tangents of ``act.wrt`` first, then ``f``'s own parameters (defaults included); it
returns ``(out, tout)``. A user function called with active arguments is bound to a
``CalleeRef`` (part ``"jvp"``) for its own ``f_jvp``.

The tangent of ``name`` is ``tname``. Forward mode needs no tape: each tangent is computed
right after its primal, in the same control flow, so loops, branches and early exits need
nothing of their own. Only active names get tangents (they depend on a parameter with a
tangent and reach the result; a tangent that reaches nothing is dead code). An active name
assigned an inactive value gets a zero tangent: ``0.0`` for a scalar, ``zeros_like(x)``
otherwise (``tx[i] = ...`` and ``np.sum(tx, axis=0)`` need the shape). A rule's tangent is
the sum over its active operands of the rule's ``jvp`` template; an elementwise rule whose
operands may broadcast wraps it in ``broadcast_like``, so the tangent has the result's shape.
A name written in place gets a private tangent where it is assigned (``private_copy``), so
``tx[i] = tv`` never writes into the tangent of another value or into the caller's arrays.
"""

from __future__ import annotations

import ast
import copy
import inspect
from typing import Any

from . import rules
from .analysis import Activity
from .errors import NoDerivativeRule
from .kinds import call_kinds
from .names import Fresh, assign, name, names_in
from .operations import CALL, COPY, INDEX, PACK, POP, RULE, appended_to
from .parse import Origin
from .reverse import COMMENT, CalleeRef, Transformed

__all__ = ["transform"]


def transform(tree: ast.FunctionDef, act: Activity, origin: Origin, *, callee: bool = False) -> Transformed:
    """The jvp of ``tree`` for tangents of ``act.wrt`` (``callee``: named ``f_jvp``, returns the raw tangent)."""
    return _Forward(tree, act, origin).run(callee)


class _Forward:
    def __init__(self, tree: ast.FunctionDef, act: Activity, origin: Origin) -> None:
        self.tree = tree
        self.act = act
        self.origin = origin
        self.body = tree.body[:-1]
        self.result = tree.body[-1].value.id
        self.params = [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
        self.fresh = Fresh(names_in(tree) | set(act.env.globals) | set(act.env.closure))
        self.tangent_names: dict[str, str] = {}
        self.helpers: dict[Any, str] = {}  # canonical helper name (or callee key) -> emitted name
        self.bindings: dict[str, Any] = {}

    # ------------------------------------------------------------------ names
    def t(self, primal: str) -> str:
        if primal not in self.tangent_names:
            self.tangent_names[primal] = self.fresh.like("t" + primal.lstrip("_"))
        return self.tangent_names[primal]

    def helper(self, canonical: str) -> str:
        """The emitted name for a helper (np, math, zeros_like, ...), avoiding the user's names."""
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

    def call_helper(self, canonical: str, *args: ast.expr) -> ast.Call:
        return ast.Call(func=name(self.helper(canonical)), args=list(args), keywords=[])

    # -------------------------------------------------------------------- run
    def run(self, callee: bool) -> Transformed:
        wrt = self.act.wrt
        tangent_params = [self.t(p) for p in wrt]
        prologue: list[ast.stmt] = []
        for p in self.params:
            if p in self.act.written:  # the caller's arrays and lists are never changed
                prologue.append(assign(p, self.call_helper("private_copy", name(p))))
                if p in wrt:
                    prologue.append(assign(self.t(p), self.call_helper("private_copy", name(self.t(p)), name(p))))
            if p in self.act.active and p not in wrt:  # given no tangent, but assigned an active value later
                prologue.append(assign(self.t(p), self.zero(p)))
        body = prologue + self.block(self.body)
        out = self.result
        if out in self.act.active:
            tangent: ast.expr = name(self.t(out))
            if not callee and out not in self.act.scalars:  # a writable array (or list) shaped like out
                tangent = self.call_helper("materialize", tangent, name(out))
        else:
            tangent = self.zero(out)
        body.append(ast.Return(value=ast.Tuple(elts=[name(out), tangent], ctx=ast.Load())))
        fn_name = self.fresh.like(self.tree.name + "_jvp" if callee else "jvp_" + self.tree.name)
        args = copy.deepcopy(self.tree.args)
        first = [ast.arg(arg=t) for t in tangent_params]
        if args.posonlyargs:
            args.posonlyargs = first + args.posonlyargs
        else:
            args.args = first + args.args
        extra = {"type_params": []} if "type_params" in ast.FunctionDef._fields else {}
        fn = ast.FunctionDef(name=fn_name, args=args, body=body, decorator_list=[], returns=None, type_comment=None, **extra)
        fn = ast.fix_missing_locations(ast.copy_location(fn, self.tree))
        temps = {n for n in names_in(self.tree) if n.startswith("_")}
        temporaries = frozenset(temps | {self.tangent_names[n] for n in temps if n in self.tangent_names})
        return Transformed(ast.Module(body=[fn], type_ignores=[]), self.bindings, fn_name, temporaries)

    # ------------------------------------------------------------- statements
    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """Each statement followed by its tangent; a comment names each user line once."""
        out: list[ast.stmt] = []
        line = None
        for s in body:
            compound = isinstance(s, (ast.If, ast.For, ast.While))
            if not compound and s.lineno != line and not isinstance(s, (ast.Break, ast.Continue, ast.Pass)):
                line = s.lineno
                text = f"{_short(self.origin.filename)}:{s.lineno}  {self.origin.line_text(s.lineno)}"
                out.append(ast.Expr(value=ast.Constant(COMMENT + text)))
            elif compound:
                line = None
            out += self.statement(s)
        return out

    def statement(self, s: ast.stmt) -> list[ast.stmt]:
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            return self.assignment(s, s.targets[0].id)
        if isinstance(s, ast.Assign):
            return [s, *self.write(s)]
        if appended_to(s):
            return [s, *self.append(s)]
        if isinstance(s, ast.If):
            return [ast.If(test=s.test, body=self.block(s.body) or [ast.Pass()], orelse=self.block(s.orelse))]
        if isinstance(s, ast.For):
            return [ast.For(target=s.target, iter=s.iter, body=self.block(s.body) or [ast.Pass()], orelse=[])]
        if isinstance(s, ast.While):
            return [ast.While(test=s.test, body=self.block(s.body) or [ast.Pass()], orelse=[])]
        return [s]  # raise, assert, break, a discarded call: no tangent

    def assignment(self, s: ast.Assign, target: str) -> list[ast.stmt]:
        if target not in self.act.active:
            return [s]
        op = self.act.ops[s.value]
        if op.kind == CALL:
            return [self.call(s, target)]
        tangent = self.tangent(s, op, target)
        zeros = self.helpers.get("zeros_like")
        made = isinstance(tangent, ast.Call) and isinstance(tangent.func, ast.Name) and tangent.func.id == zeros
        new = op.kind == PACK or isinstance(tangent, ast.Constant) or made
        if target in self.act.written and not new:  # written element by element below: never a shared array
            tangent = self.call_helper("private_copy", tangent, name(target))
        return [s, assign(self.t(target), tangent)]

    def tangent(self, s: ast.Assign, op, target: str) -> ast.expr:
        e = s.value
        if op.kind == COPY:
            return self.of(e)
        if op.kind == PACK:
            return type(e)(elts=[self.of(element) for element in e.elts], ctx=ast.Load())
        if op.kind == INDEX and self.act.is_active(e.value):
            return ast.Subscript(value=name(self.t(e.value.id)), slice=copy.deepcopy(e.slice), ctx=ast.Load())
        if op.kind == POP and self.act.is_active(e.func.value):
            pop = ast.Attribute(value=name(self.t(e.func.value.id)), attr="pop", ctx=ast.Load())
            return ast.Call(func=pop, args=copy.deepcopy(e.args), keywords=[])
        if op.kind == RULE:
            return self.rule(s, op, target)
        return self.zero(target)  # a constant, or an operation on inactive values only

    def of(self, atom: ast.expr) -> ast.expr:
        """The tangent of an atom: its own, or a zero shaped like it."""
        if self.act.is_active(atom):
            return name(self.t(atom.id))
        if isinstance(atom, ast.Name) and atom.id not in self.act.scalars:
            return self.call_helper("zeros_like", name(atom.id))
        return ast.Constant(0.0)

    def zero(self, p: str) -> ast.expr:
        return ast.Constant(0.0) if p in self.act.scalars else self.call_helper("zeros_like", name(p))

    def write(self, s: ast.Assign) -> list[ast.stmt]:
        """``x[i] = v``: the tangent is written where the primal is (``tx`` is private: see ``assignment``)."""
        target = s.targets[0]
        if not self.act.is_active(target.value):
            return []
        where = ast.Subscript(value=name(self.t(target.value.id)), slice=copy.deepcopy(target.slice), ctx=ast.Store())
        return [ast.Assign(targets=[where], value=self.of(s.value))]

    def append(self, s: ast.Expr) -> list[ast.stmt]:
        lst = s.value.func.value
        if not self.act.is_active(lst):
            return []
        method = ast.Attribute(value=name(self.t(lst.id)), attr="append", ctx=ast.Load())
        return [ast.Expr(value=ast.Call(func=method, args=[self.of(s.value.args[0])], keywords=[]))]

    # ------------------------------------------------------------------ rules
    def rule(self, s: ast.Assign, op, target: str) -> ast.expr:
        """The sum, over active operands, of the rule's tangent template."""
        rule = op.rule
        parts: list[ast.expr] = []
        for p in (*rule.params, *([rule.vararg] if rule.vararg else [])):
            value = op.bound.get(p)
            elements = list(enumerate(value.elts)) if p == rule.vararg and isinstance(value, ast.Tuple) else [(None, value)]
            for k, atom in elements:
                if not self.act.is_active(atom):
                    continue
                template = rule.tangents.get(p)
                if template is None:
                    if p not in rule.adjoints:
                        continue  # a discrete parameter (a shape, an axis): no derivative to carry
                    raise self.origin.error(
                        NoDerivativeRule,
                        s,
                        f"no forward-mode (tangent) rule for {rule.spelling} in its argument {p!r}",
                        "Add one with srcdiff.rules.jvp(...), or use srcdiff.grad, which has a rule for it.",
                    )
                parts.append(self.instantiate(template, op.bound, rule.defaults, name(self.t(atom.id)), target, k))
        if not parts:
            return self.zero(target)
        total = parts[0]
        for part in parts[1:]:
            total = self.add(target, total, part)
        if rule.kind == rules.ELEMENTWISE and target not in self.act.scalars and self.may_broadcast(op):
            total = self.call_helper("broadcast_like", total, name(target))
        return total

    def add(self, target: str, total: ast.expr, part: ast.expr) -> ast.expr:
        if target in self.act.lists:  # tangents of lists add element by element
            return self.call_helper("add_adjoints", total, part)
        return ast.BinOp(left=total, op=ast.Add(), right=part)

    def may_broadcast(self, op) -> bool:
        """Can an active operand's shape differ from the result's? Not if every other operand is a scalar."""
        atoms = [a for a in op.bound.values() if isinstance(a, (ast.Name, ast.Constant))]
        for operand in atoms:
            if self.act.is_active(operand):
                others = [a for a in atoms if not (isinstance(a, ast.Name) and a.id == operand.id)]
                if not all(self.act.is_scalar(a) for a in others):
                    return True
        return False

    def instantiate(
        self, template: ast.expr, bound: dict[str, ast.expr], defaults: dict[str, ast.expr], t: ast.expr, ans: str, k: int | None
    ) -> ast.expr:
        """The template with the call's atoms; ``axis=axis`` goes where the call left it at its default."""
        helpers = set(rules.NAMESPACE)

        def at_default(e: ast.expr) -> bool:
            return isinstance(e, ast.Name) and e.id in defaults and bound.get(e.id) is defaults[e.id]

        def swap(node: ast.AST) -> ast.AST:
            if isinstance(node, ast.Call):  # ``np.sum(t, axis=axis)`` of ``np.sum(x)`` is ``np.sum(t)``
                node.keywords = [kw for kw in node.keywords if not at_default(kw.value)]
            if isinstance(node, ast.Name):
                if node.id == "t":
                    return copy.deepcopy(t)
                if node.id == "ans":
                    return name(ans)
                if node.id == "k" and k is not None:
                    return ast.Constant(k)
                if node.id in bound:
                    return copy.deepcopy(bound[node.id])
                if node.id in helpers:
                    return name(self.helper(node.id))
                return node
            for f, v in ast.iter_fields(node):
                if isinstance(v, list):
                    setattr(node, f, [swap(x) if isinstance(x, ast.AST) else x for x in v])
                elif isinstance(v, ast.AST):
                    setattr(node, f, swap(v))
            return node

        return swap(copy.deepcopy(template))

    # ------------------------------------------------------------------ calls
    def call(self, s: ast.Assign, target: str) -> ast.stmt:
        """``y = g(a, b)`` becomes ``y, ty = g_jvp(ta, a, b)``: tangents of g's active parameters first."""
        call = s.value
        func = self.act.ops[call].func
        bound = inspect.signature(func).bind(*call.args, **{k.arg: k.value for k in call.keywords})
        wrt = tuple(p for p, a in bound.arguments.items() if self.act.is_active(a))
        kinds = call_kinds(func, call, self.ndim)
        key = (id(func), wrt, kinds, "jvp")
        if key not in self.helpers:
            self.helpers[key] = self.fresh.like(getattr(func, "__name__", "f") + "_jvp")
            self.bindings[self.helpers[key]] = CalleeRef(func, wrt, kinds, "jvp")
        tangents = [name(self.t(bound.arguments[p].id)) for p in wrt]
        jvp_call = ast.Call(func=name(self.helpers[key]), args=tangents + list(call.args), keywords=call.keywords)
        targets = ast.Tuple(elts=[name(target, True), name(self.t(target), True)], ctx=ast.Store())
        return ast.Assign(targets=[targets], value=jvp_call)

    def ndim(self, atom: ast.expr) -> int | None:
        if self.act.is_scalar(atom):
            return 0
        return self.act.ndims.get(atom.id) if isinstance(atom, ast.Name) else None


def _short(filename: str) -> str:
    return filename.rsplit("/", 1)[-1]

