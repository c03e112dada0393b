"""srcdiff in a notebook: cells named as the user knows them, generated code shown highlighted.

Refusals and exception notes name a cell ``In [3], line 2`` (``errors.place``); the headers and
provenance comments of generated code name it too, through the functions here.
``srcdiff.source`` returns a ``GeneratedSource``: a ``str`` in every respect, which a notebook
displays as a highlighted Python block (``_repr_markdown_``, a hook only notebooks call).
"""

from __future__ import annotations

import re

from . import errors
from .errors import cell_number


def place(filename: str, line: int, short: bool = False) -> str:
    """``In [3], line 2`` for a cell, else ``file:line`` (the file's base name if ``short``)."""
    if short and cell_number(filename) is None:
        filename = filename.rsplit("/", 1)[-1]
    return errors.place(filename, line)


def short_name(filename: str) -> str:
    """How generated code's comments name a file: ``In [3]`` for a cell, else its base name."""
    number = cell_number(filename)
    return f"In [{number}]" if number is not None else filename.rsplit("/", 1)[-1]


class GeneratedSource(str):
    """Generated Python as text; a notebook shows it as a highlighted code block."""

    __slots__ = ()

    def _repr_markdown_(self) -> str:
        # a fence longer than any run of backticks in the text (a user's string may hold some)
        fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", self)), default=0) + 1)
        return f"{fence}python\n{self.rstrip()}\n{fence}"
