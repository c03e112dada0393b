"""Complex values: which names may hold them, and the rules that must not see them.

On entry: a normalised tree and its operations. On exit: the names that may hold complex
values, or a ``NoDerivativeRule`` refusal; the tree is not modified.

Adjoints of complex values follow autograd's and JAX's convention, ``dL/dRe z - i dL/dIm z``
(see ``runtime.real_like``): a rule written for real values stays right for a complex one
where the function is holomorphic (``np.multiply``, ``np.exp``, ``np.sum``, ``np.matmul``,
...) or only moves values (reshapes, indexing). Others, such as ``np.var`` (which reads
``|a - mean|``) or ``np.linalg.eigh``, are refused when an active complex value reaches them.

Complex values start at a complex constant (``1j``), at a transform of ``np.fft``, at a global
or closure variable that holds one, and at a complex dtype (``np.zeros(n, complex)``); they
pass through every operation but those whose result is real (``np.real``, ``np.abs``, ...).
A complex argument starts them too (the argument kinds say which are complex); it cannot be
in ``wrt`` (``grad`` of a function of complex arguments is not supported).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable

import numpy as np

from . import rules, runtime
from .errors import NoDerivativeRule
from .operations import CALL, RULE, Env, Op, appended_to, safe_resolve, walk_statements
from .parse import Origin

_FFT = np.fft
# results that are complex whatever their inputs
COMPLEX_RESULTS = frozenset({_FFT.fft, _FFT.ifft, _FFT.fft2, _FFT.ifft2, _FFT.fftn, _FFT.ifftn, _FFT.rfft, _FFT.rfft2,
                             _FFT.rfftn, _FFT.ihfft, runtime.dft, runtime.rdft})  # fmt: skip
# results that are real whatever their inputs
REAL_RESULTS = frozenset({np.real, np.imag, np.abs, np.angle, _FFT.irfft, _FFT.irfft2, _FFT.irfftn, _FFT.hfft, np.isrealobj,
                          np.iscomplexobj, np.shape, np.ndim, np.size, runtime.size, runtime.irdft,
                          runtime.rdft_adjoint})  # fmt: skip
# helpers whose results are real where one argument is (a gradient is shaped like its argument)
REAL_LIKE = {runtime.real_like: "like", runtime.dft_adjoint: "a", runtime.irdft_adjoint: "a", runtime.materialize: "like",
             runtime.materialize_all: "likes", runtime.cast: "x"}  # fmt: skip
# primitives whose rules hold for complex values: holomorphic, linear, or written for them
COMPLEX_SAFE = frozenset({
    np.add, np.subtract, np.multiply, np.true_divide, np.divide, np.negative, np.positive, np.square, np.sqrt,
    np.reciprocal, np.power, np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p, np.sin, np.cos, np.tan,
    np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh,
    np.abs, np.real, np.imag, np.conj, np.angle, np.real_if_close, np.where, np.copy, np.asarray, np.array,
    np.sum, np.mean, np.cumsum, np.trace, np.matmul, np.dot, np.inner, np.outer, np.einsum, np.tensordot, np.kron,
    np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.squeeze, np.expand_dims, np.broadcast_to,
    np.flip, np.tile, np.repeat, np.stack, np.concatenate, np.hstack, np.vstack, np.roll, np.take, np.take_along_axis,
    np.tril, np.triu, np.diag, np.diagonal, np.fliplr, np.flipud, np.rot90, np.rollaxis, np.atleast_1d, np.atleast_2d,
    np.atleast_3d, np.split, np.array_split, np.column_stack, np.append, np.pad, np.diff,
    _FFT.fftshift, _FFT.ifftshift, *COMPLEX_RESULTS, _FFT.irfft, _FFT.irfft2, _FFT.irfftn, _FFT.hfft,
})  # fmt: skip
_COMPLEX_TYPES = (complex, np.complexfloating)


def _holds_complex(value: object) -> bool:
    if isinstance(value, type):  # a dtype: complex, np.complex128
        return issubclass(value, _COMPLEX_TYPES)
    return isinstance(value, (*_COMPLEX_TYPES, np.ndarray)) and np.iscomplexobj(value)


def _nonlocal_complex(node: ast.expr, env: Env) -> bool:
    """A global or closure variable (or attribute chain, ``np.complex128``) holding a complex value or dtype."""
    if isinstance(node, ast.Name) and node.id in env.locals:
        return False
    try:
        return _holds_complex(env.resolve(node))
    except (AttributeError, TypeError, NameError):
        return False


# results without a derivative that keep their argument's dtype (the others are integers, bools, shapes)
KEEPS_DTYPE = frozenset({np.zeros_like, np.ones_like, np.empty_like, runtime.zeros_like, runtime.stop_gradient, np.sign, np.round,
                         np.rint, np.trunc, np.zeros, np.ones, np.empty, np.eye, np.identity})  # fmt: skip
_SIZES = frozenset({"shape", "ndim", "size", "itemsize", "nbytes"})


def _counts(value: ast.expr, env: Env) -> bool:
    """A result that is real whatever it reads: a shape or size, or one of a function without a
    derivative that gives integers, bools or shapes (``len(z)``, ``np.argmax(np.abs(z))``)."""
    if isinstance(value, ast.Attribute):
        return value.attr in _SIZES
    if not isinstance(value, ast.Call):
        return False
    func = safe_resolve(value.func, env)
    return func is not None and rules.is_nondifferentiable(func) and func not in KEEPS_DTYPE


def _reads(value: ast.expr) -> list[ast.expr]:
    """The atoms and attribute chains an operation reads (an attribute chain as a whole)."""
    found: list[ast.expr] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.Name, ast.Attribute)):
            found.append(node)
            if isinstance(node, ast.Attribute):
                visit(node.value)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(value)
    return found


def complex_names(
    tree: ast.FunctionDef,
    ops: dict[ast.AST, Op],
    env: Env,
    call_returns_complex: Callable[[ast.Call], bool] | None = None,
    parameters: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """The names that may hold complex values (a fixpoint: loops carry them around), starting
    from the ``parameters`` given complex values. ``call_returns_complex(call)``: may this
    call to a user function return one?"""
    found: set[str] = set(parameters)

    def makes_complex(value: ast.expr) -> bool:
        op = ops.get(value)
        func = op.rule.func if op is not None and op.kind == RULE else None
        if func in COMPLEX_RESULTS:
            return True
        if op is not None and op.kind == CALL and call_returns_complex is not None and call_returns_complex(value):
            return True
        if func in REAL_RESULTS or isinstance(value, ast.Compare) or _counts(value, env):
            return False
        if func in REAL_LIKE:  # real where the argument they are shaped like is
            value = op.bound[REAL_LIKE[func]]
        if any(isinstance(n, ast.Constant) and isinstance(n.value, complex) for n in ast.walk(value)):
            return True
        reads = _reads(value)
        return any(isinstance(n, ast.Name) and n.id in found for n in reads) or any(_nonlocal_complex(n, env) for n in reads)

    changed = True
    while changed:
        changed = False
        for s in walk_statements(tree.body):
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name):
                target, value = s.targets[0].id, s.value
            elif appended_to(s):
                target, value = appended_to(s), s.value
            else:
                continue
            if target not in found and makes_complex(value):
                found.add(target)
                changed = True
    return frozenset(found)


def refuse_real_only(
    tree: ast.FunctionDef, ops: dict[ast.AST, Op], origin: Origin, env: Env, complex_: frozenset[str], active: frozenset[str]
) -> None:
    """A varied complex value reaching a primitive whose rule is written for real values only."""
    for s in walk_statements(tree.body):
        if not (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)):
            continue
        op = ops.get(s.value)
        if op is None or op.kind not in (RULE, CALL) or s.targets[0].id not in active:
            continue
        complex_operands = [a.id for a in op.operands if isinstance(a, ast.Name) and a.id in complex_ and a.id in active]
        power = op.kind == RULE and op.rule.func is np.power and _varied_exponent_of_complex(op, env, complex_, active)
        if not complex_operands and not power:
            continue
        if op.kind == CALL:  # its code is differentiated as if its arguments were real
            what = f"the function {getattr(op.func, '__name__', '')}".rstrip()
            instead = "Pass it np.real(...) and np.imag(...) of the value, or write its steps in this function."
        elif power:
            what = "np.power"
            instead = "Write b ** z as np.exp(z * np.log(b)) (with the logarithm you mean for a negative or complex b)."
        elif op.rule.func in COMPLEX_SAFE or _is_helper(op.rule.func) or not _ours(op.rule):
            continue
        else:
            what = op.rule.spelling
            instead = (
                "Take np.real, np.imag or np.abs of the value first, or write the step with operations that take complex values."
            )
        user_name = next((n for n in complex_operands if not n.startswith("_")), None)
        value = f"the complex value {user_name!r}" if user_name else "a complex value"
        raise origin.error(
            NoDerivativeRule,
            s,
            f"{what} is given {value}, and srcdiff differentiates complex values only through the operations"
            " listed in docs/supported-python.md (Complex values)",
            instead,
        )


def _is_helper(func: object) -> bool:
    return any(getattr(runtime, n) is func for n in runtime.__all__)


def _ours(rule: rules.Rule) -> bool:
    """A rule srcdiff ships (a user's own rule is trusted to follow the convention)."""
    return rule.spelling.startswith(("np.", "math.", "scipy.")) or getattr(builtins, rule.spelling, None) is rule.func


def _varied_exponent_of_complex(op: Op, env: Env, complex_: frozenset[str], active: frozenset[str]) -> bool:
    """``x ** y`` with y varied, and x or y complex: the rule for y reads a real logarithm of x,
    right only for a positive x (a constant ``2.0 ** (1j * y)`` is fine)."""
    x, y = op.bound.get("x"), op.bound.get("y")
    if not (isinstance(y, ast.Name) and y.id in active):
        return False
    if isinstance(x, ast.Name) and (x.id in complex_ or _nonlocal_complex(x, env)):
        return True
    if isinstance(x, ast.Constant) and isinstance(x.value, complex):
        return True
    positive_constant = isinstance(x, ast.Constant) and isinstance(x.value, (int, float)) and x.value > 0
    return y.id in complex_ and not positive_constant
