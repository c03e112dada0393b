"""Normalisation: the normal form's invariants hold, and the meaning is kept."""

import ast
import types

import numpy as np
import pytest

from srcdiff import normalize, parse
from srcdiff.names import local_names
from srcdiff.normalize import is_atom
from tests import programs as P
from tests.test_reverse import CASES

PROGRAMS = sorted({c[0] for c in CASES}, key=lambda f: f.__name__)


def normal_form(f):
    tree, origin = parse.function_ast(f)
    return normalize.normalize(tree, origin)


def compile_normal_form(f):
    """The normalised tree as a callable with f's globals and closure."""
    tree = normal_form(f)
    module = ast.fix_missing_locations(ast.Module(body=[tree], type_ignores=[]))
    namespace = dict(f.__globals__)
    exec(compile(module, "<normal form>", "exec"), namespace)
    g = namespace[tree.name]
    return types.FunctionType(g.__code__, f.__globals__, g.__name__, f.__defaults__, f.__closure__)


def statements(body):
    for s in body:
        yield s
        for field in ("body", "orelse"):
            yield from statements(getattr(s, field, []))


def own_statements(body):
    """Statements of a loop body, not those of loops nested in it."""
    for s in body:
        yield s
        if not isinstance(s, (ast.For, ast.While)):
            for field in ("body", "orelse"):
                yield from own_statements(getattr(s, field, []))


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_normal_form_invariants(f):
    tree = normal_form(f)
    locals_ = local_names(tree)
    body = tree.body
    assert isinstance(body[-1], ast.Return) and isinstance(body[-1].value, ast.Name)
    assert not any(isinstance(s, ast.Return) for s in statements(body[:-1]))
    for s in statements(body[:-1]):
        if isinstance(s, ast.Assign):
            assert len(s.targets) == 1
            target, value = s.targets[0], s.value
            if isinstance(target, ast.Name):
                operands = [n for n in ast.iter_child_nodes(value) if isinstance(n, ast.expr)]
                if isinstance(value, ast.Call):
                    operands = value.args + [k.value for k in value.keywords]
                elif isinstance(value, ast.Subscript):
                    operands = [value.value]
                if not isinstance(value, ast.JoinedStr):
                    assert all(is_atom(o, locals_) for o in operands), ast.unparse(s)
                reads = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
                assert target.id not in reads or isinstance(value, ast.Name), ast.unparse(s)
            else:
                assert isinstance(target, ast.Subscript) and is_atom(value, locals_)
        elif isinstance(s, ast.If):
            test = s.test.operand if isinstance(s.test, ast.UnaryOp) else s.test
            assert is_atom(test, locals_)
            assert not (
                isinstance(test, ast.Name) and test.id in local_names(ast.Module(body=s.body + s.orelse, type_ignores=[]))
            )
        elif isinstance(s, ast.For):
            assert isinstance(s.iter, ast.Name) and isinstance(s.target, ast.Name)
        elif isinstance(s, ast.Break):
            pass
        elif isinstance(s, ast.Expr):
            assert isinstance(s.value, ast.Call) and s.value.func.attr == "append"
        else:
            assert isinstance(s, (ast.While, ast.Raise, ast.Assert, ast.Pass)), ast.unparse(s)
    for s in statements(body):  # break only as the final `if flag: break` of a loop body
        if isinstance(s, (ast.For, ast.While)):
            inner = [b for b in own_statements(s.body) if isinstance(b, ast.Break)]
            if inner:
                last = s.body[-1]
                assert isinstance(last, ast.If) and isinstance(last.body[0], ast.Break) and len(inner) == 1


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_normal_form_computes_the_same_value(case):
    f, args = case[0], case[1]
    copy = lambda a: a.copy() if isinstance(a, np.ndarray) else a  # noqa: E731
    np.testing.assert_allclose(compile_normal_form(f)(*map(copy, args)), f(*map(copy, args)), rtol=1e-12)


def test_lines_point_at_the_users_statements():
    tree = normal_form(P.straight)
    first = P.straight.__code__.co_firstlineno
    assert {s.lineno for s in statements(tree.body)} == {first + 1, first + 2, first + 3}


def test_user_names_are_kept_and_temporaries_are_fresh():
    source = ast.unparse(normal_form(P.straight))
    assert "z = " in source and "w = " in source
    assert "_t1" in source


def test_early_return_becomes_a_single_exit_without_flags_when_possible():
    tree = normal_form(P.multiple_returns)
    assert sum(isinstance(n, ast.Return) for n in ast.walk(tree)) == 1
    assert "_returned" not in ast.unparse(tree)


def loops_over_a_named_range(x):
    steps = range(4)
    for _ in steps:
        x = x * 0.5 + 1.0
    for i in reversed(steps):
        x = x + i
    del steps
    return x


def loops_over_a_rebound_range(x):
    steps = range(2)
    steps = [0.5, 1.5]  # no longer a range: the loop walks the list
    for s in steps:
        x = x * s
    return x


def test_a_name_bound_once_to_a_range_is_walked_as_a_range():
    # generated code names its ranges (_t1 = range(n); for _ in _t1): differentiated again, a
    # loop over one must stay a range loop, not an index loop reading _t1[i]
    source = ast.unparse(normal_form(loops_over_a_named_range))
    assert "len(" not in source and "steps[_" not in source  # (no index loop)
    assert "for _ in steps" in source and "steps[::-1]" in source
    assert "len(" in ast.unparse(normal_form(loops_over_a_rebound_range))
    import srcdiff

    assert srcdiff.grad(loops_over_a_named_range)(2.0) == 0.5**4
    assert srcdiff.grad(loops_over_a_rebound_range)(2.0) == 0.75
