"""The transforms built from the two generated derivatives: ``vjp``, ``jacobian``, ``hessian``, ``hvp``.

No new code generation lives here: each transform calls code that ``api.build`` (reverse
mode) or ``transforms.build`` (forward mode) generated, and only arranges its inputs and
outputs.

- ``vjp`` builds ``f`` in "pullback" mode: a forward sweep returning ``(out, tape)`` and a
  backward sweep seeded with the adjoint of ``out`` — the cotangent, where ``grad`` seeds
  1.0. One forward sweep serves every cotangent.
- ``jacobian`` is rows of vjps with unit cotangents ("rev") or columns of jvps with unit
  tangents ("fwd"); "auto" takes the fewer.
- ``hessian`` is the forward-mode jacobian of the generated gradient (forward over
  reverse), and ``hvp`` one jvp of it.

Arguments, outputs, cotangents and tangents may be trees (``trees``): nested lists, tuples
and dicts of floats and arrays; what comes back mirrors their structure.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import api, callables, emit, parse, transforms, trees
from .assembly import module_text
from .errors import BadArgument, SourceUnavailable
from .export import driven_source
from .runtime import materialize_all

__all__ = ["vjp", "Pullback", "jacobian", "Jacobian", "SecondJacobian", "hessian", "hvp", "Hvp", "elementwise_grad", "source"]

MODES = ("auto", "rev", "fwd")


@dataclass
class Pullback:
    """``pullback(cotangent)``: the cotangent of each primal, from the tape of one forward sweep.

    The generated backward sweep is called with the tape and the cotangent as the adjoint of
    the output. A backward sweep that changes its tape (restoring array elements an in-place
    write overwrote) runs once per tape: later calls replay the forward sweep for a new one.
    """

    srcdiff_transform = "vjp"
    out: Any  # the output (a copy, when the backward sweep changes the tape it may share)
    aux: Any  # with has_aux: the aux the function returned, which gets a zero adjoint
    has_aux: bool
    forward: Callable  # the generated sweeps, and the entry they come from (for source())
    backward: Callable
    entry: emit.Emitted
    tape: Any  # None once a backward sweep that changes it has used it
    args: tuple  # what the forward sweep is called with: the receiver of a bound method, then the primals
    primals: tuple
    positions: tuple[int, ...]  # of the primals given cotangents
    replay: bool  # the backward sweep changes the tape: one use per tape

    def __call__(self, cotangent: Any) -> tuple:
        if not trees.same_structure(self.out, cotangent):
            raise BadArgument(
                f"the cotangent must be shaped like the output, {_describe(self.out)}; got {_describe(cotangent)}",
                suggestion="Pass one value per output leaf, each of its leaf's shape (a float for a float).",
            )
        tape = self.tape
        if tape is None:  # this tape was used by a backward sweep that changes it: a new one
            tape = self.forward(*self.args)[1]
        elif self.replay:
            self.tape = None
        seed = (cotangent, trees.zeros(self.aux)) if self.has_aux else cotangent
        adjoints = self.backward(tape, seed)
        adjoints = materialize_all(adjoints, tuple(self.primals[i] for i in self.positions))
        found = dict(zip(self.positions, adjoints))
        return trees.from_records(tuple(found.get(i) for i in range(len(self.primals))))  # a dataclass's, a dataclass


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Reverse mode for any output (JAX: ``jax.vjp``): ``(f(*primals), pullback)``, where
    ``pullback(cotangent)`` gives ``cotangent · J``, one cotangent per primal, each shaped
    like its primal (None for a primal that is not a float or float array/tree, such as an
    integer count). With ``has_aux=True``, ``f`` returns ``(out, aux)`` and vjp returns
    ``(out, pullback, aux)``, as JAX does."""
    api.check_call(f, "vjp", primals, {})
    primals = trees.as_records(primals)  # generated code reads a dataclass as a NamedTuple of its fields
    positions = tuple(i for i, p in enumerate(primals) if transforms._differentiable(p))
    if not positions:
        raise BadArgument(f"vjp of {getattr(f, '__name__', f)} needs a float primal; none of the {len(primals)} is")
    return _vjp(f, primals, positions, has_aux)


def _vjp(f: Callable, primals: tuple, positions: tuple[int, ...], has_aux: bool) -> tuple:
    """``vjp`` with respect to the primals at ``positions``."""
    if isinstance(f, api.AuxGradient):
        raise SourceUnavailable(f"{f.__name__} was made with has_aux=True: it cannot be differentiated again")
    # a bound method obj.method is differentiated as method.__func__, obj passed first (as grad does)
    receiver: tuple = f.receiver if isinstance(f, api.Gradient) else (f.__self__,) if inspect.ismethod(f) else ()
    function = f.__func__ if inspect.ismethod(f) else f
    params = api._parameters(f)
    if len(primals) > len(params):
        raise BadArgument(f"{getattr(f, '__name__', f)} takes {len(params)} arguments, got {len(primals)}")
    wrt = tuple(params[i] for i in positions)
    api.refuse_other_arrays(function, dict(zip(params, primals)))
    kinds = api.argument_kinds(params, wrt, primals, {})
    function_defaults = f.function_defaults if isinstance(f, api.Gradient) else callables.defaults(function)
    kinds |= {callables.entry(p, v) for p, v in function_defaults.items() if p not in params[: len(primals)]}
    if isinstance(function, api.Gradient):  # vjp(grad(f)): the generated gradient, differentiated again
        function = function.compiled(kinds)
    entry = api.build(function, wrt, kinds, "pullback")
    forward, backward = api.split_pair(entry)
    args = receiver + tuple(primals)
    out, tape = forward(*args)
    aux = None
    if has_aux:
        out, aux = api.aux_pair(out, getattr(f, "__name__", "f"))
    changes_tape = emit.changes_tape(entry)
    if changes_tape:  # the backward sweep restores values the output may share: keep them as returned
        out, aux = trees.copy_arrays(out), trees.copy_arrays(aux)
    pullback = Pullback(out, aux, has_aux, forward, backward, entry, tape, args, tuple(primals), positions, changes_tape)
    return (out, pullback, aux) if has_aux else (out, pullback)


class Jacobian:
    """The Jacobian of ``f`` with respect to ``wrt``, computed when called (see ``jacobian``)."""

    srcdiff_transform = "jacobian"

    def __init__(self, f: Callable, wrt: api.Wrt, mode: str, has_aux: bool) -> None:
        if mode not in MODES:
            raise BadArgument(f"jacobian's mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        if has_aux and isinstance(f, api.Gradient):
            raise BadArgument("has_aux=True takes a function returning (output, aux), not a gradient")
        self.function, self.mode, self.has_aux = f, mode, has_aux
        self.wrt, self.many = api._resolve_wrt(f, wrt)
        self.params = api._parameters(f)
        self.positions = tuple(self.params.index(w) for w in self.wrt)
        self.tangents = transforms.Jvp(f)  # its compiled code is reused by every column
        self.__name__ = "jacobian_" + getattr(f, "__name__", "f")

    def __repr__(self) -> str:
        return f"<srcdiff {self.__name__} wrt={self.wrt} mode={self.mode!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """An array of shape ``out.shape + arg.shape`` for each output leaf and ``wrt`` argument
        leaf, arranged as the output's structure of (a tuple over ``wrt`` of) the argument's."""
        args = api.as_positional(self.function, self.__name__, args, kwargs)
        api.check_call(self.function, self.__name__, args, {})
        for i in self.positions:
            if i >= len(args):
                raise BadArgument(f"{self.__name__} needs argument {self.params[i]!r} (wrt) but got {len(args)} arguments")
        args = trees.as_records(args)  # a dataclass is the tree of its fields: rows and columns are made of them
        wrt_args = [args[i] for i in self.positions]
        if self.mode == "fwd":
            out, aux, blocks = self.columns(args)
        else:
            result = _vjp(self.function, args, self.positions, self.has_aux)
            out, pullback, aux = result if self.has_aux else (*result, None)
            complex_out = any(np.iscomplexobj(leaf) for leaf in trees.leaves(out))
            if complex_out and self.mode == "rev":
                raise BadArgument(
                    f"{self.__name__}: mode='rev' needs real outputs (a real cotangent reads only the real part of a complex "
                    "one); use mode='fwd' or 'auto', or take np.real and np.imag of the output"
                )
            if self.mode == "auto" and (complex_out or sum(map(trees.size, wrt_args)) < trees.size(out)):
                out, aux, blocks = self.columns(args)  # fewer inputs than outputs, or complex ones: forward mode
            else:
                rows = [trees.as_records(pullback(u)) for u in trees.unit_vectors(out)]
                blocks = _rows(rows, out, wrt_args, self.positions)
        jac = trees.from_records(self.arrange(out, wrt_args, blocks))
        return (jac, aux) if self.has_aux else jac

    def columns(self, args: tuple) -> tuple[Any, Any, Callable]:
        """The output, aux (with has_aux) and the blocks, from one jvp per number in the wrt arguments."""
        out = aux = None
        columns = []
        for i in self.positions:
            for u in trees.unit_vectors(args[i]):
                tangents = tuple(u if j == i else None for j in range(len(args)))
                out, tangent = trees.as_records(self.tangents(tuple(args), tangents))
                if self.has_aux:  # aux's tangent is dropped: aux is not differentiated
                    (out, aux), tangent = api.aux_pair(out, getattr(self.function, "__name__", "f")), tangent[0]
                columns.append(tangent)
        return out, aux, _columns(columns, out, [args[i] for i in self.positions])

    def arrange(self, out: Any, wrt_args: list, blocks: Callable) -> Any:
        """``blocks(o, k, a)`` (an (output leaf size, argument leaf size) matrix) reshaped and
        arranged: the output's structure, of a tuple over wrt if several, of the argument's."""
        out_leaves = trees.leaves(out)
        per_output = []
        for o, out_leaf in enumerate(out_leaves):
            per_wrt = []
            for k, arg in enumerate(wrt_args):
                arg_leaves = trees.leaves(arg)
                shaped = [blocks(o, k, a).reshape(np.shape(out_leaf) + np.shape(leaf)) for a, leaf in enumerate(arg_leaves)]
                per_wrt.append(trees.rebuild(arg, iter(shaped)))
            per_output.append(tuple(per_wrt) if self.many else per_wrt[0])
        return trees.rebuild(out, iter(per_output))


def _offsets(tree: Any) -> list[int]:
    """Where each leaf of ``tree`` starts when its numbers are laid end to end."""
    sizes = [int(np.size(leaf)) for leaf in trees.leaves(tree)]
    return [sum(sizes[:k]) for k in range(len(sizes) + 1)]


def _flat(value: Any, like: Any) -> np.ndarray:
    """A derivative leaf as a flat float (or complex) array of ``like``'s size (a weak zero broadcast)."""
    value = np.asarray(value)
    return np.broadcast_to(value if np.iscomplexobj(value) else value.astype(np.float64), np.shape(like)).ravel()


def _rows(rows: list[tuple], out: Any, wrt_args: list, positions: tuple[int, ...]) -> Callable:
    """Blocks from the pullbacks of unit cotangents: ``rows[r][position]`` is a cotangent tree."""
    starts = _offsets(out)

    def block(o: int, k: int, a: int) -> np.ndarray:
        like = trees.leaves(wrt_args[k])[a]
        stacked = [_flat(trees.leaves(rows[r][positions[k]])[a], like) for r in range(starts[o], starts[o + 1])]
        return np.array(stacked).reshape(starts[o + 1] - starts[o], np.size(like))

    return block


def _columns(columns: list, out: Any, wrt_args: list) -> Callable:
    """Blocks from the jvps of unit tangents: ``columns`` run over each wrt argument's numbers in turn."""
    first = [0]
    for arg in wrt_args:
        first.append(first[-1] + trees.size(arg))
    out_leaves = trees.leaves(out)

    def block(o: int, k: int, a: int) -> np.ndarray:
        starts = _offsets(wrt_args[k])
        chosen = columns[first[k] + starts[a] : first[k] + starts[a + 1]]
        stacked = [_flat(trees.leaves(c)[o], out_leaves[o]) for c in chosen]
        return np.array(stacked).reshape(len(chosen), np.size(out_leaves[o])).T

    return block


class SecondJacobian:
    """``jacobian(jacobian(f))``: the second derivatives of an array-valued ``f``, of shape
    ``out.shape + inner_arg.shape + outer_arg.shape``. A Jacobian is computed by a Python loop,
    not by generated code, so it is not differentiated itself: each number of ``f``'s output
    is (a generated selector, ``emit.output_selector``) and the forward-mode jacobian of that
    number's generated gradient is taken, as ``hessian`` does (forward over reverse)."""

    srcdiff_transform = "jacobian"

    def __init__(self, inner: Jacobian, wrt: api.Wrt, mode: str, has_aux: bool) -> None:
        if mode not in MODES:
            raise BadArgument(f"jacobian's mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
        if has_aux or inner.has_aux:
            raise BadArgument("jacobian(jacobian(f)) does not take has_aux=True")
        if not inspect.isfunction(inner.function):  # a gradient, a method, a Jacobian of one: third order and beyond
            parse.refuse_transform_results(inner)
        self.inner = inner
        names, self.many = api._resolve_wrt(inner.function, wrt)
        self.wrt = names if self.many else names[0]
        self.__name__ = "jacobian_" + inner.__name__
        self.by_arity: dict[int, Jacobian] = {}  # how many arguments a call gives -> the jacobian of the selector's gradient

    def __repr__(self) -> str:
        return f"<srcdiff {self.__name__} wrt={self.wrt}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args = api.as_positional(self.inner.function, self.__name__, args, kwargs)
        out = self.inner.function(*args)
        if not isinstance(out, (float, int, np.number, np.ndarray)):
            raise BadArgument(
                f"jacobian(jacobian({self.inner.function.__name__})) needs it to return an array or a number, "
                f"not {type(out).__name__}; take the Hessian of each output: hessian(lambda x, i=i: f(x)[i])"
            )
        second = self.by_arity.get(len(args))
        if second is None:
            select = emit.output_selector(self.inner.function, api._parameters(self.inner.function)[: len(args)])
            inner_wrt = self.inner.wrt if self.inner.many else self.inner.wrt[0]
            second = self.by_arity[len(args)] = Jacobian(api.grad(select, wrt=inner_wrt), self.wrt, "fwd", False)
        blocks = [second(*args, number) for number in range(np.size(out))]  # one per output number
        flat = [trees.leaves(block) for block in blocks]
        stacked = [np.stack(parts).reshape(np.shape(out) + np.shape(parts[0])) for parts in zip(*flat)]
        return trees.rebuild(blocks[0], iter(stacked))


def jacobian(f: Callable, wrt: api.Wrt = 0, mode: str = "auto", has_aux: bool = False) -> Jacobian | SecondJacobian:
    """The Jacobian of ``f`` with respect to ``wrt`` (JAX: ``jax.jacrev`` / ``jax.jacfwd``).

    ``jacobian(f)(*args)`` has shape ``out.shape + arg.shape``; a tuple ``wrt`` gives a tuple,
    and tree-valued outputs and arguments give the output's structure of the argument's.
    ``mode="rev"`` computes one row per output number with a vjp, ``"fwd"`` one column per input
    number with a jvp, ``"auto"`` forward mode when the inputs are fewer than the outputs. With
    ``has_aux=True``, ``f`` returns ``(out, aux)`` and the result is ``(jacobian, aux)``.
    ``jacobian(jacobian(f))`` gives the second derivatives of an array-valued ``f``.
    """
    if isinstance(f, Jacobian) and f.srcdiff_transform == "jacobian":  # not a hessian's
        return SecondJacobian(f, wrt, mode, has_aux)
    return Jacobian(f, wrt, mode, has_aux)


def hessian(f: Callable, wrt: api.Wrt = 0, backend: str | None = None) -> Callable:
    """The Hessian of scalar-valued ``f`` (JAX: ``jax.hessian``): forward over reverse, one jvp of
    the generated gradient per number in the ``wrt`` arguments. Shape ``arg.shape + arg.shape``;
    a tuple ``wrt`` gives the blocks as a tuple of tuples. ``backend`` as for ``grad``."""
    names, many = api._resolve_wrt(f, wrt)
    if many and len(names) == 1:  # the generated gradient returns its one gradient bare: nest the block as for several
        one = Jacobian(api.grad(f, wrt=names[0], backend=backend), names, "fwd", False)

        def nested(*args: Any, **kwargs: Any) -> tuple:
            return (one(*args, **kwargs),)

        nested.srcdiff_transform = "hessian"  # type: ignore[attr-defined]
        return nested
    jac = Jacobian(api.grad(f, wrt=names if many else names[0], backend=backend), names if many else names[0], "fwd", False)
    jac.__name__, jac.srcdiff_transform = "hessian_" + getattr(f, "__name__", "f"), "hessian"
    return jac


class Hvp:
    """``hvp(f, wrt)(*args, v)``: the Hessian of ``f`` times ``v``, one jvp of its gradient."""

    srcdiff_transform = "hvp"

    def __init__(self, f: Callable, wrt: api.Wrt, backend: str | None = None) -> None:
        names, self.many = api._resolve_wrt(f, wrt)
        self.gradient = api.grad(f, wrt=names if self.many and len(names) > 1 else names[0], backend=backend)
        self.tangents = transforms.Jvp(self.gradient)  # (on the gradient's backend)
        self.positions = self.gradient.positions
        self.__name__ = "hvp_" + getattr(f, "__name__", "f")

    def __repr__(self) -> str:
        return f"<srcdiff {self.__name__}>"

    def __call__(self, *args_and_v: Any) -> Any:
        """``H @ v``, shaped like the wrt argument (a tuple of them, for a tuple ``wrt``: then
        ``v`` is a tuple with one direction per wrt argument)."""
        if not args_and_v:
            raise BadArgument(f"{self.__name__} takes the arguments of f, then the vector v")
        *args, v = args_and_v
        directions = tuple(v) if self.many else (v,)
        if self.many and (not isinstance(v, (tuple, list)) or len(directions) != len(self.positions)):
            raise BadArgument(f"{self.__name__} takes one direction per wrt argument as a tuple of {len(self.positions)}")
        tangents = [None] * len(args)
        for i, direction in zip(self.positions, directions):
            if i >= len(args):
                raise BadArgument(f"{self.__name__} needs argument {self.gradient.params[i]!r} (wrt), then v")
            tangents[i] = direction
        hv = self.tangents(tuple(args), tuple(tangents))[1]
        return (hv,) if self.many and len(self.positions) == 1 else hv


def hvp(f: Callable, wrt: api.Wrt = 0, backend: str | None = None) -> Hvp:
    """The Hessian-vector product of scalar-valued ``f`` without forming the Hessian (JAX:
    ``jax.jvp(jax.grad(f), (x,), (v,))[1]``): ``hvp(f)(*args, v)``, at about the cost of a
    few gradients whatever the size of ``x``. ``backend`` as for ``grad``."""
    return Hvp(f, wrt, backend)


def elementwise_grad(f: Callable, wrt: int | str = 0) -> Callable:
    """The derivative of an elementwise ``f`` at every entry of one argument, shaped like it
    (autograd's ``elementwise_grad``; JAX writes ``vmap(grad(f))``): the pullback of ones. For
    an ``f`` that is not elementwise it is the gradient of ``np.sum(f(...))``."""
    names, many = api._resolve_wrt(f, wrt)
    if many:
        raise BadArgument("elementwise_grad takes one wrt argument (an index or a name)")
    position = api._parameters(f).index(names[0])

    def elementwise(*args: Any) -> Any:
        if position >= len(args):
            raise BadArgument(f"elementwise_grad of {getattr(f, '__name__', f)} needs argument {names[0]!r}")
        out, pullback = _vjp(f, trees.as_records(args), (position,), False)
        return pullback(np.ones_like(out))[position]

    elementwise.__name__ = "elementwise_grad_" + getattr(f, "__name__", "f")
    return elementwise


def source(g: Any, *args: Any, **kwargs: Any) -> str:
    """The generated Python behind a derivative: ``grad``, ``value_and_grad`` and ``jvp`` as
    ``transforms.source`` prints them; a vjp's pullback (the forward sweep and the backward
    sweep it runs); an ``hvp`` for example arguments of ``f`` (the jvp of the generated gradient,
    with tangents of the wrt arguments)."""
    if isinstance(g, Pullback):
        return module_text(g.entry)
    if getattr(g, "srcdiff_transform", None) == "hessian":
        return driven_source(g, *args)
    if isinstance(g, Hvp):
        return module_text(g.tangents.entry(g.gradient.wrt, g.tangents.argument_kinds(args)))
    return transforms.source(g, *args, **kwargs)


def _describe(tree: Any) -> str:
    if isinstance(tree, (list, tuple)):
        return f"a {type(tree).__name__} of {len(tree)}"
    if isinstance(tree, dict):
        return f"a dict with keys {sorted(map(str, tree))}"
    if isinstance(tree, np.ndarray):
        return f"an array of shape {tree.shape}"
    return f"a {type(tree).__name__}" if not isinstance(tree, (float, int, np.number)) else "a float"
