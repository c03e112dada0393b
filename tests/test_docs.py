"""The docs say what the code does: every snippet runs and prints what the page shows, the tables are current.

The machinery lives in docs/snippets.py and docs/gen_tables.py, which also
rewrite the pages: ``python docs/snippets.py --update`` and
``python docs/gen_tables.py`` (then read the diff before committing it).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


snippets = _load("snippets")
gen_tables = _load("gen_tables")


def test_the_pages_exist():
    names = {p.name for p in PAGES}
    assert {"README.md", "coming-from-pytorch.md", "how-it-works.md", "supported-python.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_snippets_run_and_print_what_the_page_shows(page):
    if page.name == "scaling-out.md" and _dask_refused():
        pytest.skip("a Dask release srcdiff refuses (tests/test_dask_releases.py)")
    runnable = [b for b in snippets.blocks(page.read_text()) if b.runs]
    assert runnable, f"{page.name} has no ```python snippet"
    problems = snippets.check(page)
    assert not problems, "\n\n".join(problems) + "\n\n(if the change is intended: python docs/snippets.py --update)"


def _dask_refused() -> bool:
    import dask.array as da

    from srcdiff import api

    return bool(api._untested_library(da.ones(1)))


# The page lists the rules as NumPy 2.0 to 2.4 spell them; another NumPy has other aliases (NumPy 1:
# np.amax for np.max, np.round_, np.true_divide, np.int; np.row_stack is np.vstack), lacks some
# (NumPy 1: np.astype; 2.5: np.row_stack) or has a rule of its own (NumPy 1: np.linalg.solve). There,
# test_rules_table_lists_every_rule_and_nondifferentiable_function still checks the table is whole.
_NUMPY_OF_THE_PAGE = "2.0.0" <= np.lib.NumpyVersion(np.__version__) < "2.5.0"


@pytest.mark.skipif(not _NUMPY_OF_THE_PAGE, reason="the page spells the rules as NumPy 2.0 to 2.4 do (see above)")
def test_generated_tables_are_current():
    # a fresh interpreter: other tests register rules of their own in this one
    check = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_tables.py"), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, (
        "supported-python.md is out of date: run python docs/gen_tables.py\n" + check.stdout + check.stderr
    )


def test_rules_table_lists_every_rule_and_nondifferentiable_function():
    from srcdiff import rules

    rules.load_optional_rules(force=True)

    table = gen_tables.rules_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(rules.RULES)
    assert "| `np.sin(x)` | elementwise | x: `g * np.cos(x)` |" in table
    listed = gen_tables.nondifferentiable_list()
    assert listed.count("`") == 2 * len(rules.NONDIFFERENTIABLE)
    assert "`np.argmax`" in listed and "`len`" in listed


def test_syntax_table_follows_parse_syntax():
    from srcdiff import parse

    table = gen_tables.syntax_table()
    for cls, entry in parse.SYNTAX.items():
        if cls.__name__ in gen_tables.NEWER_SYNTAX:
            continue
        if entry is None:
            assert f"`{cls.__name__}`" in table.split("\n\n")[1]
        else:
            assert f"| `{cls.__name__}` |" in table
    assert "| `Try` |" in table and "`With`" in table.split("\n\n")[1]  # with np.errstate: normalize refuses the rest


# --------------------------------------------------------------------------- the checker can fail


def test_checker_reports_wrong_output_and_errors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# A page\n\n```python\nprint(1 + 1)\n```\n\n```text output\n3\n```\n\n"
        "```python\nraise ValueError('broken snippet')\n```\n\n```bash\nnot run\n```\n"
    )
    problems = snippets.check(page)
    assert len(problems) == 2
    assert "page.md:8: the output differs" in problems[1] and "-3" in problems[1] and "+2" in problems[1]
    assert "page.md:12: the snippet raised" in problems[0] and "ValueError: broken snippet" in problems[0]


def test_update_rewrites_outputs_with_page_line_numbers(tmp_path):
    page = tmp_path / "my-page.md"
    page.write_text(
        "Intro.\n\n```python\nimport srcdiff\n\n\ndef f(x):\n    return x * x\n\n\n"
        "print(srcdiff.source(srcdiff.grad(f), 1.0).splitlines()[0])\n```\n\n```text output\nstale\n```\n"
    )
    assert snippets.update(page)
    assert "# srcdiff: gradient of f (my_page.py:7) with respect to x" in page.read_text()
    assert snippets.check(page) == []


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_point_at_files(page):
    for target in re.findall(r"\]\(([^)#]+)\)", page.read_text()):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
