"""Shrink a failing program, and the command line that finds and shrinks failures.

``shrink(program, outcome)`` removes statements, unwraps branches and loops, replaces
expressions with an operand and calls with their first argument, drops keywords, unused
parameters and the second-order check, while the program still fails the same way.

``python -m tests.program_shrinker START COUNT [PER_SIGNATURE]`` checks seeds START ..
START + COUNT - 1 and prints the summary and the shortest failures of each signature, shrunk.
"""

import ast
import copy
import sys
import time
from collections import Counter
from dataclasses import replace

from tests.program_checker import Outcome, check, run
from tests.program_generator import Program

# -- shrinking -------------------------------------------------------------------------------------


def _candidates(tree: ast.Module):
    """Smaller variants of ``tree``: each a fresh tree with one thing removed or simplified."""
    n = len(list(ast.walk(tree)))
    for k in range(n):
        for variant in ("drop", "unwrap_body", "unwrap_else", "operand0", "operand1", "first_arg", "drop_keyword", "smaller"):
            new = copy.deepcopy(tree)
            node = list(ast.walk(new))[k]
            if _apply(new, node, variant):
                yield new


def _apply(tree, node, variant: str) -> bool:
    parent_lists = [
        (p, name, body)
        for p in ast.walk(tree)
        for name in ("body", "orelse")
        for body in [getattr(p, name, None)]
        if isinstance(body, list) and node in body
    ]
    if variant == "drop" and parent_lists and isinstance(node, ast.stmt) and not isinstance(node, (ast.Import, ast.ImportFrom)):
        p, name, body = parent_lists[0]
        if isinstance(node, ast.FunctionDef) and node.name == "program":
            return False
        body.remove(node)
        if not body and not isinstance(p, ast.Module) and name == "body":
            body.append(ast.Pass())
        return True
    if variant in ("unwrap_body", "unwrap_else") and parent_lists and isinstance(node, (ast.If, ast.For, ast.While)):
        inner = node.body if variant == "unwrap_body" else node.orelse
        if not inner:
            return False
        p, name, body = parent_lists[0]
        at = body.index(node)
        body[at : at + 1] = inner
        return True
    if isinstance(node, ast.expr):
        replacement = None
        if variant == "operand0" and isinstance(node, ast.BinOp):
            replacement = node.left
        elif variant == "operand1" and isinstance(node, ast.BinOp):
            replacement = node.right
        elif variant == "operand0" and isinstance(node, ast.UnaryOp):
            replacement = node.operand
        elif variant == "operand0" and isinstance(node, ast.BoolOp):
            replacement = node.values[0]
        elif variant == "operand1" and isinstance(node, ast.BoolOp):
            replacement = node.values[-1]
        elif variant == "first_arg" and isinstance(node, ast.Call) and node.args and not _is_print(node):
            if isinstance(node.func, ast.Name) and node.func.id == "range":
                return False
            replacement = node.args[0]
        elif variant == "drop_keyword" and isinstance(node, ast.Call) and node.keywords:
            node.keywords.pop()
            return True
        elif variant == "smaller" and isinstance(node, ast.Constant) and isinstance(node.value, int) and node.value > 0:
            node.value -= 1
            return True
        if replacement is not None:
            return _replace(tree, node, replacement)
    if variant == "drop" and isinstance(node, ast.FunctionDef) and node.name == "program":
        return False
    return False


def _is_print(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "print"


def _replace(tree, old, new) -> bool:
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return True
            if isinstance(value, list) and any(v is old for v in value):
                value[[i for i, v in enumerate(value) if v is old][0]] = new
                return True
    return False


def _unused_parameters(program: Program) -> Program | None:
    tree = ast.parse(program.source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "program")
    used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
    params = [a.arg for a in fn.args.args]
    keep = [i for i, p in enumerate(params) if p in used]
    if len(keep) == len(params) or not keep:
        return None
    fn.args.args = [fn.args.args[i] for i in keep]
    return replace(program, source=ast.unparse(tree) + "\n", args=tuple(program.args[i] for i in keep))


def _drop_second_order(program: Program) -> Program | None:
    if "second_order" not in program.features:
        return None
    return replace(program, features=program.features - {"second_order"})


def fails_alike(outcome: Outcome):
    """The shrinker's test: a variant must fail with the same signature (wrong value stays wrong value)."""

    def still_fails(candidate: Program) -> bool:
        try:
            found = check(candidate)
        except Exception:
            return False
        return found.status == "fail" and found.signature == outcome.signature

    return still_fails


def shrink(program: Program, outcome: Outcome | None = None, budget: float = 60.0, still_fails=None) -> Program:
    """The smallest variant found within ``budget`` seconds that still fails with the same signature.

    Greedy: try each simplification (drop a statement, unwrap an if or a loop, replace an
    expression with an operand or a call with its first argument, drop a keyword, lower an
    integer, drop an unused parameter, drop the second-order check), keep the first that
    still fails, start again; stop when none does.
    """
    deadline = time.monotonic() + budget
    still_fails = still_fails or fails_alike(outcome)

    best = program
    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for simpler in (_unused_parameters(best), _drop_second_order(best)):
            if simpler is not None and still_fails(simpler):
                best, progress = simpler, True
        tree = ast.parse(best.source)
        for new in _candidates(tree):
            if time.monotonic() > deadline:
                break
            try:
                source = ast.unparse(new) + "\n"
                compile(source, "<shrink>", "exec")
            except Exception:
                continue
            candidate = replace(best, source=source)
            if len(source) < len(best.source) and still_fails(candidate):
                best, progress = candidate, True
                break
    return best


def main(argv: list[str]) -> None:
    """``START COUNT [PER_SIGNATURE]``: check the seeds, then shrink a few failures of each signature."""
    start, count = int(argv[0]), int(argv[1])
    per_signature = int(argv[2]) if len(argv) > 2 else 2
    report = run(range(start, start + count))
    print(report.summary())
    for program, outcome in report.invalid:
        print(f"\nINVALID {outcome.signature}: {outcome.detail}\n{program.describe()}")
    shown: Counter = Counter()
    for program, outcome in sorted(report.failures, key=lambda f: len(f[0].source)):
        shown[outcome.signature] += 1
        if shown[outcome.signature] <= per_signature:
            small = shrink(program, outcome)
            print(f"\nFAIL {outcome.signature}\n{check(small).detail}\nshrunk from seed {program.seed}:\n{small.describe()}")
    print("\nfailures by signature:\n" + "\n".join(f"  {v} x {k}" for k, v in shown.most_common()))


if __name__ == "__main__":
    main(sys.argv[1:])
