"""``python -m srcdiff``: the same program as the ``srcdiff`` command (see ``srcdiff.cli``)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
