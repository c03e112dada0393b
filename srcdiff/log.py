"""The ``srcdiff`` logger: builds with their time and size, cache hits and misses, rebuild
reasons, evictions.

Silent by default, as a library's logger should be: it has a ``NullHandler`` and the
program configures ``logging`` as it likes. ``SRCDIFF_LOG=debug`` (or ``info``,
``warning``, ...) in the environment also writes its records to standard error, for a
program that configures nothing.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger("srcdiff")
logger.addHandler(logging.NullHandler())


def _from_environment() -> None:
    wanted = os.environ.get("SRCDIFF_LOG", "").strip().upper()
    if not wanted:
        return
    level = logging.getLevelName(wanted)
    if not isinstance(level, int):  # an unknown name: say so once rather than ignore it
        print(f"srcdiff: SRCDIFF_LOG={wanted.lower()!r} is not a logging level (try debug)", file=sys.stderr)
        return
    handler = logging.StreamHandler()  # standard error
    handler.setFormatter(logging.Formatter("srcdiff %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


_from_environment()
