"""Diagnostics: every refusal names the user's file:line, the construct and what to do.

Each class also derives from the built-in exception a Python user would expect
(``NotImplementedError`` for unsupported code, ``ValueError``/``TypeError`` for
bad arguments), so ``except ValueError`` style handlers keep working.
"""

from __future__ import annotations

import sys


def cell_number(filename: str) -> int | None:
    """The execution count of the notebook cell IPython compiled under ``filename``, or None.

    A kernel compiles each cell under a file name of its own (ipykernel: a temporary path such
    as ``.../ipykernel_1234/2259055867.py``) and keeps a map from those names to execution
    counts on its compiler; a user knows the cell by its count. IPython is consulted only when
    the program has imported it: srcdiff never imports it. (Here, not in ``notebook``: an
    exported module copies this file's definitions and must stay self-contained.)"""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    numbers = getattr(getattr(shell, "compile", None), "_filename_map", None)  # what IPython's tracebacks use
    number = numbers.get(filename) if isinstance(numbers, dict) else None
    return number if isinstance(number, int) else None


def place(filename: str, line: int) -> str:
    """How a diagnostic names a line: ``In [3], line 2`` in a notebook cell, else ``file:line``."""
    number = cell_number(filename)
    return f"In [{number}], line {line}" if number is not None else f"{filename}:{line}"


class SrcdiffError(Exception):
    """Base class of everything srcdiff refuses.

    ``filename``/``line`` point at the user's code when the problem is in it;
    ``construct`` is the offending source text and ``suggestion`` says what to do.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        line: int | None = None,
        construct: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.construct = construct
        self.suggestion = suggestion
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{place(self.filename, self.line)}: " if self.filename and self.line else ""
        text = where + self.message
        if self.construct:
            text += f" in '{self.construct}'"
        if not text.endswith("."):
            text += "."
        if self.suggestion:
            text += f"\n  {self.suggestion}"
        return text


class UnsupportedSyntax(SrcdiffError, NotImplementedError):
    """A Python construct the transformer does not differentiate."""


class SharedInPlace(UnsupportedSyntax):
    """Raised by generated code before an in-place write into data that a value read later
    shares (``runtime.check_unshared``): srcdiff would differentiate that value as it was."""


class NoDerivativeRule(SrcdiffError, NotImplementedError):
    """A call to a function that has neither a rule nor Python source."""


class SourceUnavailable(SrcdiffError, TypeError):
    """The function's source cannot be read (builtins, lambdas, exec, REPL)."""


class BadWrt(SrcdiffError, ValueError):
    """``wrt`` names no parameter, or is out of range."""


class WrtTypeError(SrcdiffError, TypeError):
    """An argument in ``wrt`` is not a float or a float array."""


class ArraySubclassError(SrcdiffError, TypeError):
    """An argument is an ``ndarray`` subclass (``np.matrix``, a masked array) or a labelled array
    (pandas, xarray): its operations differ from a plain array's, which is what every derivative
    rule describes. (Also another library's array of unknown shape: a Dask array after a boolean index.)"""


class NonScalarOutput(SrcdiffError, ValueError):
    """``grad`` of a function whose result is not a scalar."""


class BadCall(SrcdiffError, TypeError):
    """A derivative called with arguments its function does not take, or not in the form it takes them."""


class BadAux(SrcdiffError, TypeError):
    """``has_aux=True`` on a function that does not return a pair ``(output, aux)``."""


class BadArgument(SrcdiffError, ValueError):
    """A transform's option or input that it does not take: an unknown ``mode``, a cotangent
    or vector not shaped like the value it goes with."""


class GradientCheckError(SrcdiffError, AssertionError):
    """``check_grad`` found a gradient that disagrees with finite differences."""


class CacheDirectoryWarning(UserWarning):
    """The disk cache's directory may not hold code srcdiff will run (another user owns it, or
    others may write to it) or cannot be created: builds run without the disk cache."""


class ExportError(SrcdiffError, ValueError):
    """``srcdiff.export`` cannot write a module that runs on its own: it reads a value no module
    can import (a closure variable, a global of ``__main__``), or takes a function as an argument."""


class BackendUnavailable(SrcdiffError, ImportError):
    """A backend was asked for whose library is not installed (``backend="numba"`` without Numba)."""


class BackendFallback(UserWarning):
    """A derivative asked to be compiled (``backend="numba"``) runs as Python code instead: the
    message names what stopped the compiler. A warning, not an error: the result is the same."""
