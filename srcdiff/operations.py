"""Operations: what each operation of a normalised function is.

On entry: a tree in the normal form of ``normalize`` and the function's environment
(globals and closure, to resolve called functions). On exit: ``classify`` maps every
operation (keyed by its ast node) to an ``Op``: a primitive with a rule, a constant, a
call to a user function, an index read, a list append or pop, ... An operation
without a derivative rule is a constant that carries its refusal: ``safety`` raises
it if a value being differentiated reaches it. The tree is not modified.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import callables, methods, packing, rules
from .errors import NoDerivativeRule, UnsupportedSyntax
from .names import local_names
from .normalize import is_atom
from .parse import Origin

INDEX, COPY, PACK, APPEND, POP, CALL, RULE, CONSTANT = "index", "copy", "pack", "append", "pop", "call", "rule", "constant"


@dataclass(frozen=True)
class Env:
    """The names a function can read besides its locals."""

    globals: dict
    closure: dict[str, Any]  # free variable -> cell
    locals: frozenset[str] = frozenset()  # the function's own names, which shadow the rest
    arguments: dict[str, Any] = field(default_factory=dict)  # parameters holding a function (callables.py)
    # locals bound once to functools.partial(f, ...) of a module-level f: a partial of that shape
    partials: dict[str, Any] = field(default_factory=dict)
    objects: frozenset[str] = frozenset()  # parameters holding an object (not an array): its methods are its own
    classes: dict[str, int] = field(default_factory=dict)  # those objects' classes' keys (``callables.key``)
    receivers: dict[str, int] = field(default_factory=dict)  # a method's name (``methods``) -> its object's class
    lookups: Any = None  # ``methods.Lookups``: where each method's function is found again

    def lookup(self, name: str) -> Any:
        if observers:
            return _observed(self, name, lambda: self._lookup(name))
        return self._lookup(name)

    def _lookup(self, name: str) -> Any:
        if name in self.arguments:
            return self.arguments[name]
        if name in self.closure:
            return self.closure[name].cell_contents
        if name in self.globals:
            return self.globals[name]
        return getattr(builtins, name)

    def resolve(self, expr: ast.expr) -> Any:
        """The object a non-local Name or attribute chain (``np.linalg.norm``) denotes now."""
        if isinstance(expr, ast.Name):
            return self.lookup(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.resolve(expr.value)
            if observers:
                return _observed(self, _spelled(expr), lambda: getattr(base, expr.attr))
            return getattr(base, expr.attr)
        if isinstance(expr, ast.Call) and expr.args:  # grad(loss) written where it is called: made now, as the run would
            maker = self.resolve(expr.func)
            if getattr(maker, "makes_gradient", False):
                first = self.resolve(expr.args[0])
                try:
                    constants = [ast.literal_eval(a) for a in [*expr.args[1:], *(k.value for k in expr.keywords)]]
                except ValueError:
                    raise TypeError(f"cannot resolve {ast.unparse(expr)}") from None
                keywords = dict(zip((k.arg for k in expr.keywords), constants[len(expr.args) - 1 :]))
                return maker(first, *constants[: len(expr.args) - 1], **keywords)
        raise TypeError(f"cannot resolve {ast.unparse(expr)}")


# Called with (env, name or attribute chain, what it denotes or ABSENT) for every lookup while
# one is registered: ``persist`` records what a build read from outside its source, which an
# entry read from disk must find again.
observers: list[Callable[[Env, str, Any], None]] = []
ABSENT = object()  # a name that is not found, an empty cell, an attribute that is not there


def _spelled(expr: ast.expr) -> str:
    """``a.b.c`` (what ``ast.unparse`` gives, faster: a build resolves thousands)."""
    parts, root = [], expr
    while isinstance(root, ast.Attribute):
        parts.append(root.attr)
        root = root.value
    return ".".join([root.id, *reversed(parts)]) if isinstance(root, ast.Name) else ast.unparse(expr)


def _observed(env: Env, text: str, find: Callable[[], Any]) -> Any:
    try:
        value = find()
    except (AttributeError, TypeError, ValueError):  # (ValueError: an empty cell)
        for observe in observers:
            observe(env, text, ABSENT)
        raise
    for observe in observers:
        observe(env, text, value)
    return value


def environment(f: Any, tree: ast.FunctionDef, kinds: frozenset[tuple[str, int]] = frozenset()) -> Env:
    """``f``'s globals and closure, and the functions its parameters hold in this specialisation."""
    code = f.__code__
    cells = dict(zip(code.co_freevars, f.__closure__ or ()))
    classes = {n[len(OBJECT) :]: k for n, k in kinds if n.startswith(OBJECT)}
    # the methods of their classes called in tree (``methods.rewrite``): called like functions passed in
    found = methods.receivers(f, tree, kinds)
    arguments = callables.bound(kinds) | {n: function for n, (function, _) in found.items()}
    receivers = {n: k for n, (_, k) in found.items() if k is not None}
    env = Env(f.__globals__, cells, frozenset(local_names(tree)), arguments)
    partials = _local_partials(tree, env)
    lookups = methods.lookups(f, tree, kinds) if found else None
    return Env(env.globals, env.closure, env.locals, env.arguments, partials, frozenset(classes), classes, receivers, lookups)


OBJECT = methods.OBJECT  # kinds entry ("?model", key): the parameter model holds an object of that class
COMPLEX = "~"  # kinds entry ("~z", 0): the parameter z holds a complex number or array (complexes.py)
# kinds entry ("&X", 0): the parameter X holds another library's array (a Dask or CuPy array, ``runtime.is_duck_array``),
# or a list, tuple or dict holding one; ``safety.refuse_duck_writes`` refuses writes into what may hold its data
DUCK = "&"


def _local_partials(tree: ast.FunctionDef, env: Env) -> dict[str, Any]:
    """Locals bound once, to ``functools.partial(f, a, k=v)`` of a function ``f`` named outside, each
    with a partial of the same shape (``callables.key``): what a helper given one is built for."""
    counts: dict[str, int] = {}
    found = {}
    for s in walk_statements(tree.body):
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
            continue
        target, e = s.targets[0].id, s.value
        counts[target] = counts.get(target, 0) + 1
        if not (isinstance(e, ast.Call) and e.args and is_atom(e.func, env.locals) and is_atom(e.args[0], env.locals)):
            continue
        if safe_resolve(e.func, env) is not functools.partial or any(isinstance(a, ast.Starred) for a in e.args):
            continue
        func = safe_resolve(e.args[0], env)
        if callables.is_function(func) and not isinstance(func, functools.partial) and all(k.arg for k in e.keywords):
            found[target] = functools.partial(func, *[None] * (len(e.args) - 1), **{k.arg: None for k in e.keywords})
    return {n: p for n, p in found.items() if counts[n] == 1}


@dataclass(frozen=True)
class Op:
    """What one operation is, and which of its atoms carry derivatives."""

    kind: str
    operands: tuple[ast.expr, ...] = ()  # atoms whose adjoints the operation produces
    rule: rules.Rule | None = None
    bound: dict[str, ast.expr] = field(default_factory=dict)  # rule parameter -> atom
    func: Any = None  # the user function, for CALL
    passed: frozenset[tuple[str, int]] = frozenset()  # for CALL: the functions it is given (``callables.entry``)
    refusal: Exception | None = None  # raised if a varied value reaches this (constant) operation
    # a method or attribute of a local value (``v.sum()``, ``v.T``): its rule holds only if ``receiver`` is
    # an array or a scalar; otherwise (``kinds.proven_array`` fails) the operation is an unknown call
    # carrying ``unknown`` (``as_unknown_calls``)
    receiver: tuple[str, str] | None = None  # (the local, the method or attribute)
    unknown: Exception | None = None


def walk_statements(body: list[ast.stmt]):
    """Every statement, nested ones included, in source order."""
    for s in body:
        yield s
        for f in ("body", "orelse"):
            yield from walk_statements(getattr(s, f, []))


def appended_to(s: ast.stmt) -> str | None:
    """The list ``L`` of an ``L.append(v)`` statement."""
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute):
        if s.value.func.attr == "append" and isinstance(s.value.func.value, ast.Name):
            return s.value.func.value.id
    return None


def changed_in_place(s: ast.stmt, ops: dict[ast.AST, Op]) -> str | None:
    """The array or list this one statement changes in place: ``x[i] = v``, ``L.append(v)``, ``L.pop()``."""
    if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Subscript):
        return s.targets[0].value.id
    if appended_to(s):
        return appended_to(s)
    if isinstance(s, ast.Assign) and ops.get(s.value, Op("")).kind == POP:
        return s.value.func.value.id
    return None


def written_in_place(body: list[ast.stmt], ops: dict[ast.AST, Op]) -> set[str]:
    """Arrays and lists the code changes in place anywhere."""
    return {changed_in_place(s, ops) for s in walk_statements(body)} - {None}


def classify(tree: ast.FunctionDef, origin: Origin, env: Env) -> dict[ast.AST, Op]:
    """Every operation's ``Op``. An operation without a derivative rule is classified as a
    constant that carries its refusal: ``_refuse_unknown`` raises it if a varied value reaches it."""
    ops: dict[ast.AST, Op] = {}
    for s in walk_statements(tree.body):
        if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
            try:
                ops[s.value] = _not_given_objects(_operation(s.value, s, origin, env), s, origin, env)
            except NoDerivativeRule as exc:
                ops[s.value] = Op(CONSTANT, refusal=exc)
        elif appended_to(s):
            ops[s.value] = Op(APPEND, tuple(s.value.args))
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
            ops[s.value] = _discarded_call(s, origin, env)
    return ops


# Library functions that write into an argument: their results are discarded, their effect is not.
_WRITES_ARGUMENT = frozenset(
    {"shuffle", "copyto", "put", "place", "putmask", "fill_diagonal", "at", "put_along_axis"}  # NumPy
    | {"heappush", "heappop", "heapify", "heapreplace", "heappushpop", "insort", "insort_left", "insort_right"}
    | {"setitem", "delitem", "iadd", "isub", "imul", "itruediv", "ipow", "setattr"}  # heapq, bisect, operator
    | {"restore_popped"}  # srcdiff.runtime's, in a backward sweep differentiated again
)


def _discarded_call(s: ast.Expr, origin: Origin, env: Env) -> Op:
    """``f(...)`` whose result is dropped: run in the forward sweep only (``print``, logging,
    ``rng.normal(...)``), when nothing it touches carries a derivative or may change under it."""
    call = s.value
    func = call.func
    advice = "Assign the result to a name and use it; srcdiff cannot follow calls that work by side effect."
    refusal = origin.error(
        UnsupportedSyntax, s, "a call to your own function whose result is discarded cannot be differentiated", advice
    )
    mutating = origin.error(
        UnsupportedSyntax,
        s,
        "a call that may change its arguments in place cannot be differentiated",
        advice + " A call that only reads them (logger.debug(...)) can be given stop_gradient(x) instead of x.",
    )
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if isinstance(receiver, ast.Name) and receiver.id in env.locals:  # x.sort(), rng.shuffle(x): may change x
        return Op(CONSTANT, bound={"touched": [receiver, *call.args]}, refusal=mutating)
    target = safe_resolve(func, env)
    if getattr(target, "__name__", None) == "at":  # np.add.at(y, idx, v): accumulates into y
        mutating = origin.error(
            UnsupportedSyntax,
            s,
            "a ufunc's .at() changes its first argument in place and cannot be differentiated",
            "Write the loop it stands for: for k in range(len(idx)): y[idx[k]] += v[k].",
        )
    if any(k.arg in ("out", "output") for k in call.keywords) or getattr(target, "__name__", None) in _WRITES_ARGUMENT:
        return Op(CONSTANT, bound={"touched": list(call.args)}, refusal=mutating)
    user = inspect.isfunction(target) and not is_installed_library(target, env)
    if user and not rules.lookup(target) and getattr(target, "__module__", "") != "srcdiff.runtime":
        return Op(CONSTANT, refusal=refusal)  # a user function may change what it is given
    return Op(CONSTANT)  # print, logging.debug, warnings.warn, plotting: output only


def _not_given_objects(op: Op, stmt: ast.stmt, origin: Origin, env: Env) -> Op:
    """A rule's operand that is an object, not an array (a sparse matrix, another library's
    array), would meet NumPy's derivative templates: refused where a derivative must pass."""
    objects = [a.id for a in op.operands if isinstance(a, ast.Name) and a.id in env.objects] if op.kind == RULE else []
    if not objects:
        return op
    raise origin.error(
        NoDerivativeRule,
        stmt,
        f"{op.rule.spelling} is given {objects[0]!r}, an object that is not a NumPy array",
        f"Pass a NumPy array ({objects[0]}.toarray() for a sparse matrix, np.asarray({objects[0]})), "
        "or wrap the call in stop_gradient(...) if it is constant.",
    )


def _names(atoms) -> tuple[ast.expr, ...]:
    return tuple(a for a in atoms if isinstance(a, ast.Name))


def _operation(e: ast.expr, stmt: ast.stmt, origin: Origin, env: Env) -> Op:
    if isinstance(e, ast.Name):
        return Op(COPY, (e,))
    if isinstance(e, (ast.Constant, ast.JoinedStr)) or is_global_chain(e, env):
        return Op(CONSTANT)
    if isinstance(e, ast.BinOp):
        return _rule_op(rules.BINARY_OPERATORS.get(type(e.op)), [e.left, e.right], {}, e, stmt, origin, env)
    if isinstance(e, ast.UnaryOp):
        return _rule_op(rules.UNARY_OPERATORS.get(type(e.op)), [e.operand], {}, e, stmt, origin, env)
    if isinstance(e, ast.Compare):
        return Op(CONSTANT)
    if isinstance(e, (ast.List, ast.Tuple)):
        return Op(PACK, _names(e.elts))
    if isinstance(e, ast.Dict):  # keys are constants (normalize): the values are packed
        return Op(PACK, _names(e.values))
    if isinstance(e, ast.Subscript):
        return Op(INDEX, _names([e.value]))
    if isinstance(e, ast.Attribute):
        if e.attr in rules.CONSTANT_ATTRIBUTES:
            return Op(CONSTANT)
        if e.attr in rules.ATTRIBUTES:
            op = _rule_op(rules.ATTRIBUTES[e.attr], [e.value], {}, e, stmt, origin, env)
            return _method(op, e.value, f".{e.attr}", stmt, origin)
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for the attribute .{e.attr}",
            "Use an equivalent NumPy function; pass a model's arrays in a dict (params['W']), a NamedTuple or a "
            "dataclass (params.W), not another object; or stop_gradient(...) if it is constant.",
        )
    if isinstance(e, ast.Call):
        return _call(e, stmt, origin, env)
    raise origin.error(
        UnsupportedSyntax, stmt, f"{type(e).__name__} is not supported here", "Rewrite it with simpler operations."
    )


def _method(op: Op, receiver: ast.Name, spelling: str, stmt: ast.stmt, origin: Origin) -> Op:
    """A NumPy method's or attribute's rule, which holds only if ``receiver`` is an array or scalar."""
    what = "a value" if receiver.id.startswith("_t") else repr(receiver.id)  # (a temporary of normalize's)
    unknown = origin.error(
        NoDerivativeRule,
        stmt,
        f"{spelling} is taken of {what}, which is not known to be a NumPy array (an object's own method, an attribute "
        "of an object, a value read from a global), so srcdiff has no derivative for it",
        "Call a module-level function with the arrays as arguments (np.sum(v) for a NumPy array v, np.asarray(v) for "
        "another array type), or wrap the call in stop_gradient(...) if it is constant.",
    )
    return replace(op, receiver=(receiver.id, spelling.strip(".()")), unknown=unknown)


def as_unknown_calls(ops: dict[ast.AST, Op], is_array: Callable[[tuple[str, str]], bool]) -> dict[ast.AST, Op]:
    """``ops`` with each method or attribute of a value not proven an array or scalar (``is_array``
    of ``Op.receiver``) an unknown call: run as it is written, refused if a derivative must pass through it."""
    return {
        e: Op(CONSTANT, refusal=op.unknown) if op.receiver is not None and not is_array(op.receiver) else op
        for e, op in ops.items()
    }


def is_global_chain(e: ast.expr, env: Env) -> bool:
    """``np.pi``, ``np.linalg.norm``: an attribute chain rooted at a non-local name."""
    return isinstance(e, ast.Attribute) and is_atom(e, env.locals)


def _call(e: ast.Call, stmt: ast.stmt, origin: Origin, env: Env) -> Op:
    func = e.func
    keywords = {k.arg: k.value for k in e.keywords}
    held = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in env.arguments
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in env.locals and not held:
        method = func.attr  # a method of a local value (``act.func`` of a partial passed in is resolved below)
        if method == "pop":
            return Op(POP, _names([func.value]))
        if method == "append":
            return Op(APPEND, _names(e.args))
        if method in rules.METHODS and func.value.id not in env.objects:
            op = _rule_op(rules.METHODS[method], [func.value, *e.args], keywords, e, stmt, origin, env)
            return _method(op, func.value, f".{method}()", stmt, origin)
        if func.value.id in env.objects:
            raise origin.error(
                NoDerivativeRule,
                stmt,
                f"no derivative rule for the method .{method}() of {func.value.id!r}, an object: srcdiff follows the "
                "methods of an object's class written in Python (methods.py), and this is not one (an attribute "
                "holding another object or a function, or a library's method)",
                f"Pass what {func.value.id}.{method} holds as an argument of its own (def loss(w, x, {method}): ... "
                f"{method}(x)), call a module-level function with the object's arrays as arguments (a sparse matrix: "
                "pass A.toarray()), or wrap the call in stop_gradient(...).",
            )
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for the method .{method}()",
            "Call the NumPy function instead, or wrap the value in stop_gradient(...).",
        )
    try:
        target = env.resolve(func)
    except (AttributeError, TypeError):
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"cannot find the function {ast.unparse(func)!r}",
            "Define it at module level before the gradient is first called.",
        ) from None
    if rules.is_nondifferentiable(target):
        return Op(CONSTANT, func=target)  # (its result may be an argument itself: stop_gradient, safety.shared_with)
    if target is functools.partial:  # made as written only to be passed on (normalize): its values are constants
        raise origin.error(
            NoDerivativeRule,
            stmt,
            "a functools.partial passed on to another function cannot bind a value being differentiated",
            "Pass that value to the function as an argument of its own, or call the partial where it is made.",
        )
    rule = rules.lookup(target)
    unpacked = [a for a in e.args if isinstance(a, ast.Starred)]
    if unpacked and (rule is not None or inspect.isfunction(target) and not is_installed_library(target, env)):
        raise origin.error(  # its arguments are bound to the rule's or the function's parameters
            UnsupportedSyntax,
            stmt,
            "*-unpacking in a call needs a sequence whose length is seen where the function is written",
            "Unpack a tuple or list written out in the function (args = (a, b); f(*args)), or pass the arguments one by one.",
        )
    if rule is not None:
        return _rule_op(target, list(e.args), keywords, e, stmt, origin, env)
    called_inside = getattr(target, "called_inside", None)  # a gradient: its generated code is user code here
    generated = called_inside() if called_inside is not None else None
    if generated is not None:
        passed = _functions_passed(generated, e, env)
        return Op(CALL, _names([*e.args, *keywords.values()]), func=generated, bound=keywords, passed=passed)
    transforms = ("srcdiff.api", "srcdiff.transforms", "srcdiff.derived")  # grad, jvp, ... and what they return
    if (inspect.isfunction(target) and target.__module__ in transforms) or type(target).__module__ in transforms:
        raise origin.error(  # srcdiff's own transforms, called inside a function being differentiated
            NoDerivativeRule,
            stmt,
            f"{ast.unparse(func)} cannot be called inside a function srcdiff differentiates (grad(f) and "
            "value_and_grad(f) of a plain function can, without has_aux, a backend, or wrt=(0,) as a tuple)",
            "Call grad(f) or value_and_grad(f) there, or compose the transforms instead: grad(grad(f)), "
            "jvp(grad(f), ...), hvp(f), hessian(f), jacobian(grad(f)).",
        )
    if getattr(target, "__module__", None) == "srcdiff.runtime":  # its source is not the derivative's business
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for srcdiff.runtime.{target.__name__}",
            "Differentiate once, or add a rule for it with srcdiff.rules.vjp(...).",
        )
    advice = rules.missing_rules_advice(target)
    if advice is not None:  # a library whose rules srcdiff loads only when it is installed
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for {ast.unparse(func)}",
            f"{advice}; or wrap the call in stop_gradient(...) if it is constant.",
        )
    if inspect.isfunction(target) and is_installed_library(target, env):
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for {ast.unparse(func)} (srcdiff does not read installed libraries' source)",
            "Add one with srcdiff.rules.vjp(...), or wrap the call in stop_gradient(...) if it is constant.",
        )
    if inspect.isfunction(target):
        shared = packing.clash(target, e)
        if shared is not None:
            raise origin.error(
                UnsupportedSyntax,
                stmt,
                f"with its *args/**kwargs spelled out for this call, two of {target.__name__}'s parameters would be "
                f"named {shared!r} (extras are named xs_0, xs_1, ... for *xs, and by their keys for **kw)",
                f"Rename the parameter {shared!r} of {target.__name__}, or pass that argument another way.",
            )
        try:
            inspect.signature(target, follow_wrapped=False).bind(*e.args, **keywords)
        except TypeError as exc:
            raise origin.error(
                UnsupportedSyntax, stmt, f"this call does not match {target.__name__}'s parameters ({exc})", "Fix the arguments."
            ) from None
        passed = _functions_passed(target, e, env)
        return Op(CALL, _names([*e.args, *keywords.values()]), func=target, bound=keywords, passed=passed)
    name = ast.unparse(func)
    raise origin.error(
        NoDerivativeRule,
        stmt,
        f"no derivative rule for {name}",
        "Add one with srcdiff.rules.vjp(...), or wrap the call in stop_gradient(...) if it is constant.",
    )


def _functions_passed(target: Any, call: ast.Call, env: Env) -> frozenset[tuple[str, int]]:
    """The parameters of ``target`` that ``call`` gives a function: a function the caller was given,
    or one named in its module (``apply(np.tanh, x)``); the callee is built for those functions."""
    bound = packing.call_signature(target, call).bind(*call.args, **{k.arg: k.value for k in call.keywords})
    found = set()
    if isinstance(call.func, ast.Name) and call.func.id in env.receivers:  # a method: its object is of that class
        found.add((OBJECT + next(iter(bound.arguments)), env.receivers[call.func.id]))
    for p, a in bound.arguments.items():
        if isinstance(a, ast.Name) and a.id in env.arguments:
            value = env.arguments[a.id]
        elif isinstance(a, ast.Name) and a.id in env.partials:
            value = env.partials[a.id]
        elif isinstance(a, (ast.Name, ast.Attribute)) and is_atom(a, env.locals):
            value = safe_resolve(a, env)
        else:
            continue
        if callables.is_function(value):
            found.add(callables.entry(p, value))
        elif isinstance(a, ast.Name) and a.id in env.classes and a.id not in env.arguments:  # an object: its class
            found.add((OBJECT + p, env.classes[a.id]))
    return frozenset(found)


def _rule_op(func: Any, args: list, keywords: dict, e: ast.expr, stmt: ast.stmt, origin: Origin, env: Env) -> Op:
    if func is None or rules.is_nondifferentiable(func):
        return Op(CONSTANT, bound={"args": args}, func=func)
    rule = rules.lookup(func)
    if rule is None:
        raise origin.error(
            NoDerivativeRule,
            stmt,
            f"no derivative rule for {getattr(func, '__name__', func)}",
            "Add one with srcdiff.rules.vjp(...), or wrap it in stop_gradient(...).",
        )
    try:
        bound = rule.bind(args, keywords)
        rule = rules.for_dtype(rule, _dtype(bound.get("dtype"), env))
    except TypeError as exc:
        advice = getattr(exc, "advice", None) or (
            "Compute it another way, or give the function a rule that handles it with srcdiff.rules.vjp(...)."
        )
        raise origin.error(UnsupportedSyntax, stmt, str(exc), advice) from None
    if rule is None:  # cast to integers: piecewise constant, no derivative
        return Op(CONSTANT, bound={"args": args}, func=func)
    operands: list[ast.expr] = []
    for p in (*rule.params, *([rule.vararg] if rule.vararg else [])):
        if rule.role(p) != rules.ADJOINT:  # differentiated in either mode; a transform refuses its missing one
            continue
        value = bound.get(p)
        if isinstance(value, ast.Tuple) and p == rule.vararg:
            operands += _names(value.elts)
        elif isinstance(value, ast.Name):
            operands.append(value)
    return Op(RULE, tuple(operands), rule=rule, bound=bound)


def _dtype(atom: ast.expr | None, env: Env) -> Any:
    """The ``dtype=`` a call passes, as far as it is known when the code is built: ``None`` for
    none, ``rules.RUN_TIME`` for a local name (a parameter, ``x.dtype``)."""
    if atom is None or isinstance(atom, ast.Constant):
        return None if atom is None else atom.value
    if isinstance(atom, ast.Name) and atom.id in env.locals:
        return rules.RUN_TIME
    try:
        return env.resolve(atom)  # int, np.float32, a module-level name
    except (AttributeError, TypeError, NameError):
        return rules.RUN_TIME


def is_installed_library(func: Any, env: Env) -> bool:
    """Is ``func`` from the standard library or an installed package other than the caller's own?"""
    package = (getattr(func, "__module__", None) or "").partition(".")[0]
    if getattr(func, "srcdiff_opaque", False):
        return True  # a helper of srcdiff's rules whose derivative is refused (its source is not the user's business)
    if package and package == str(env.globals.get("__name__", "")).partition(".")[0]:
        return False  # an installed package differentiating its own functions
    if getattr(func, "__module__", None) == "srcdiff.runtime_linalg":
        return False  # written to be differentiated from their source, wherever srcdiff is installed (site-packages)
    return methods.in_library(func.__code__.co_filename)


def resolver(f: Any, tree: ast.FunctionDef, kinds: frozenset[tuple[str, int]] = frozenset()) -> Callable[[ast.expr], Any]:
    """For normalize: the object a non-local name or attribute chain of ``f`` denotes now (None if none)."""
    env = environment(f, tree, kinds)
    return lambda expr: safe_resolve(expr, env)


def safe_resolve(func: ast.expr, env: Env) -> Any:
    try:
        return env.resolve(func)
    except (AttributeError, TypeError):
        return None
