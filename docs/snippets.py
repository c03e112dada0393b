"""Run the Python snippets of the Markdown pages and check (or update) what they print.

    python docs/snippets.py               check README.md and docs/*.md; exit 1 on a difference
    python docs/snippets.py --update      rewrite the output blocks from what the snippets print
    python docs/snippets.py PAGE.md ...   only these pages

How a page is written:

- A block fenced as ```` ```python ```` runs. The blocks of a page run in order,
  in one namespace, as a module named after the page (``how-it-works.md`` runs
  as ``how_it_works.py``) whose lines sit at the page's line numbers: the
  ``file:line`` comments in generated code and in error messages point at the
  page itself.
- A block fenced as ```` ```text output ```` or ```` ```python output ````
  right after a run block is what that block prints, compared line by line.
- Any other block (```` ```bash ````, ```` ```python no-run ````, ...) is text.

Each page runs in a fresh interpreter, in a temporary directory.
tests/test_docs.py runs the check.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(.*)$")


@dataclass(frozen=True)
class Block:
    """A fenced block: its info string, the page lines of its first and last code line, its code."""

    info: str
    first: int  # 1-based line of the first code line
    last: int  # 1-based line of the last code line (first - 1 when empty)
    code: str

    @property
    def runs(self) -> bool:
        return self.info == "python"

    @property
    def is_output(self) -> bool:
        return self.info in ("text output", "python output")


@dataclass(frozen=True)
class Result:
    block: Block
    output: str
    error: str | None


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page, in order."""
    found: list[Block] = []
    lines = text.split("\n")
    start: int | None = None
    info = ""
    for i, line in enumerate(lines, start=1):
        fence = _FENCE.match(line)
        if not fence:
            continue
        if start is None:
            start, info = i, fence.group(1).strip()
        else:
            found.append(Block(info, start + 1, i - 1, "\n".join(lines[start : i - 1])))
            start = None
    if start is not None:
        raise ValueError(f"line {start}: a code block is opened but never closed")
    return found


def module_name(page: Path) -> str:
    """``how-it-works.md`` -> ``how_it_works``: the module a page's snippets run as."""
    return re.sub(r"\W", "_", page.stem.lower())


def run(page: Path) -> list[Result]:
    """Run the page's python blocks in a fresh interpreter; stops at the first that raises."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), MPLBACKEND="Agg")
    with tempfile.TemporaryDirectory(prefix="srcdiff-docs-") as workdir:
        results_file = Path(workdir) / "results.json"
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--exec", str(page.resolve()), str(results_file)],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
            timeout=600,
        )
        if done.returncode != 0 or not results_file.exists():
            raise RuntimeError(f"running the snippets of {page.name} crashed:\n{done.stderr}")
        results = json.loads(results_file.read_text())
    runnable = [b for b in blocks(page.read_text()) if b.runs]
    return [Result(runnable[i], r["output"], r["error"]) for i, r in enumerate(results)]


def _execute(page: Path) -> list[dict]:
    """In the child interpreter, in its working directory: run the blocks, capturing each one's output."""
    runnable = [b for b in blocks(page.read_text()) if b.runs]
    name = module_name(page)
    filename = name + ".py"
    lines = [""] * max((b.last for b in runnable), default=0)
    for b in runnable:
        lines[b.first - 1 : b.last] = b.code.split("\n")
    Path(filename).write_text("\n".join(lines) + "\n")  # inspect reads function source from here
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    results = []
    for b in runnable:
        code = compile("\n" * (b.first - 1) + b.code + "\n", filename, "exec")
        buffer = io.StringIO()
        error = None
        with contextlib.redirect_stdout(buffer):
            try:
                exec(code, module.__dict__)  # noqa: S102  (running the page's own snippets is the point)
            except BaseException:  # noqa: BLE001  (reported with the page line, then we stop)
                error = traceback.format_exc()
        results.append({"output": buffer.getvalue(), "error": error})
        if error:
            break
    return results


def _normal(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip().split("\n")] if text.strip() else []


def pairs(page: Path) -> list[tuple[Block, Block]]:
    """(run block, output block) for every output block of the page."""
    found = []
    previous: Block | None = None
    for b in blocks(page.read_text()):
        if b.is_output:
            if previous is None or not previous.runs:
                raise ValueError(f"{page.name}:{b.first - 1}: an output block must follow a ```python block")
            found.append((previous, b))
        previous = b
    return found


def check(page: Path) -> list[str]:
    """Problems with ``page``: a snippet that raises, or printed output that differs from its block."""
    results = {r.block.first: r for r in run(page)}
    problems = [f"{page.name}:{r.block.first}: the snippet raised\n{r.error}" for r in results.values() if r.error]
    for source, output in pairs(page):
        result = results.get(source.first)
        if result is None or result.error:
            continue
        got, wanted = _normal(result.output), _normal(output.code)
        if got != wanted:
            diff = "\n".join(difflib.unified_diff(wanted, got, "in the page", "printed", lineterm=""))
            problems.append(f"{page.name}:{output.first}: the output differs from what the snippet prints\n{diff}")
    return problems


def update(page: Path) -> bool:
    """Rewrite the page's output blocks with what the snippets print; True if it changed.

    Output that names the page's own lines moves when a block above it grows, so
    this repeats until the page is stable.
    """
    original = page.read_text()
    for _ in range(5):
        if not _update_once(page):
            break
    else:
        raise RuntimeError(f"{page.name}: the output blocks do not settle; does a snippet print something random?")
    return page.read_text() != original


def _update_once(page: Path) -> bool:
    results = {r.block.first: r for r in run(page)}
    errors = [r for r in results.values() if r.error]
    if errors:
        raise RuntimeError(f"{page.name}:{errors[0].block.first}: the snippet raised\n{errors[0].error}")
    lines = page.read_text().split("\n")
    for source, output in reversed(pairs(page)):  # from the bottom, so line numbers above stay valid
        printed = _normal(results[source.first].output)
        lines[output.first - 1 : output.last] = printed
    text = "\n".join(lines)
    if text != page.read_text():
        page.write_text(text)
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    """Check (exit 1 on a problem) or update the pages."""
    parser = argparse.ArgumentParser(description="Run the docs' Python snippets and compare what they print.")
    parser.add_argument("pages", nargs="*", type=Path, help="Markdown pages (default: README.md and docs/*.md)")
    parser.add_argument("--update", action="store_true", help="rewrite the output blocks instead of checking them")
    parser.add_argument("--exec", nargs=2, type=Path, help=argparse.SUPPRESS)  # the child: PAGE RESULTS.json
    options = parser.parse_args(argv)
    if options.exec:
        page, results_file = options.exec
        results_file.write_text(json.dumps(_execute(page)))
        return 0
    failed = False
    for page in options.pages or PAGES:
        if options.update:
            print(f"{page}: {'updated' if update(page) else 'up to date'}")
            continue
        problems = check(page)
        failed = failed or bool(problems)
        print(f"{page}: {'ok' if not problems else ''}")
        for problem in problems:
            print(problem)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
