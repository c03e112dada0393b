"""Disk cache: key text -> (generated source text, what it needs to be used again), as files.

This module stores and finds entries; what goes into a key and how an entry becomes
functions again is ``persist``'s. Loading an entry runs its code, so the directory is a
security boundary:

- entries are source text and JSON, never pickles; each holds its full key, compared
  with the key asked for (not only the hash that names the file), and the SHA-256 of its
  text, so that a truncated, corrupt or foreign file is rebuilt, never trusted;
- the directory is created 0700, and one that is not the user's, or that others may write
  to, is refused: the build runs uncached, with a warning (``CacheDirectoryWarning``);
- a write goes to a temporary file in the directory, renamed over the entry
  (``os.replace``, atomic), so several processes may write and read at once: a reader sees
  a whole entry or none;
- the directory is bounded by bytes (``SRCDIFF_CACHE_SIZE``, default 256 MB): after a write,
  the least recently used entries go, by the modification time a hit sets.

Where: ``SRCDIFF_CACHE_DIR`` if set (empty: no disk cache), else the platform's user cache
directory (``$XDG_CACHE_HOME/srcdiff`` or ``~/.cache/srcdiff`` on Linux,
``~/Library/Caches/srcdiff`` on macOS, ``%LOCALAPPDATA%\\srcdiff\\Cache`` on Windows).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any, NamedTuple

from .errors import CacheDirectoryWarning
from .log import logger

DEFAULT_SIZE = 256 * 2**20
_MARKER = "\n# srcdiff cache entry "  # the last line of an entry: its key and metadata, as JSON
_ENTRY = re.compile(r"(\w{1,40}\.)?[0-9a-f]{64}\.py")  # the only files clear() and eviction remove (and temporaries)
_TEMPORARY = ".tmp-"


class DiskInfo(NamedTuple):
    """The disk cache's counters in this process, and what its directory holds now."""

    hits: int  # entries read and used
    misses: int  # entries looked for and not found (or found stale, corrupt or for another key)
    writes: int
    evictions: int  # entries this process removed to stay under the limit
    entries: int
    bytes: int
    limit: int  # bytes
    directory: str | None
    state: str  # "on", "off (SRCDIFF_CACHE_DIR is empty)", or why the directory is refused


_counts = {"hits": 0, "misses": 0, "writes": 0, "evictions": 0}
_lock = threading.Lock()  # the counters, and the checks of a directory
_checked: dict[str, str] = {}  # directory -> "on" or why it is refused (checked once per process)


def count(what: str) -> None:
    with _lock:
        _counts[what] += 1


def configured() -> Path | None:
    """The directory asked for (it may not exist yet), or None when the disk cache is off."""
    chosen = os.environ.get("SRCDIFF_CACHE_DIR")
    if chosen is not None:
        return Path(os.path.abspath(Path(chosen).expanduser())) if chosen.strip() else None  # (not the cwd's of each build)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "srcdiff" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "srcdiff"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "srcdiff"


def limit() -> int:
    """The bound on the directory's entries, in bytes: ``SRCDIFF_CACHE_SIZE`` (``512M``, ``2G``, a number)."""
    return size_setting("SRCDIFF_CACHE_SIZE", DEFAULT_SIZE)


def size_setting(variable: str, default: int) -> int:
    """A size in bytes from the environment variable (``512M``, ``2G``, ``64K``, a number), or ``default``."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    found = re.fullmatch(r"(\d+)\s*([kKmMgG]?)[bB]?", text)
    if found is None:
        logger.warning("%s=%r is not a size such as 512M; using %d bytes", variable, text, default)
        return default
    return int(found.group(1)) * 1024 ** ("kmg".find(found.group(2).lower()) + 1 if found.group(2) else 0)


def directory() -> Path | None:
    """The directory to use, created if need be, or None: off, or refused (with a warning, once)."""
    path = configured()
    if path is None:
        return None
    state = _state(path)
    return path if state == "on" else None


def _state(path: Path) -> str:
    key = str(path)
    with _lock:
        found = _checked.get(key)
        if found is None:
            found = _checked[key] = _check(path)
            if found != "on":
                warnings.warn(
                    f"srcdiff: not using the disk cache at {path}: {found}. Builds run uncached. "
                    "Make it a directory only you can write to (chmod 700), or set SRCDIFF_CACHE_DIR "
                    "to another one (an empty value turns the disk cache off).",
                    CacheDirectoryWarning,
                    stacklevel=2,
                )
    return found


def _check(path: Path) -> str:
    """``"on"``, or why the directory may not hold code this process will run."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(path)  # (a symbolic link is judged by what it points to)
    except OSError as exc:
        return f"it cannot be created ({exc.strerror or exc})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if hasattr(os, "getuid"):  # (on Windows, the profile directory's access control lists protect it)
        if st.st_uid != os.getuid():
            return "another user owns it"
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"others may write to it (mode {stat.S_IMODE(st.st_mode):o})"
    return "on"


def _path(root: Path, key: str, name: str) -> Path:
    """``name.SHA-256 of the key.py``: the name (the function's, for tracebacks) is for people."""
    readable = re.sub(r"\W", "_", name)[:40]
    return root / f"{readable + '.' if readable else ''}{hashlib.sha256(key.encode()).hexdigest()}.py"


def read(key: str, name: str = "") -> tuple[str, dict[str, Any], str] | None:
    """The text and metadata stored under ``key`` and the entry's path, or None: no directory,
    no entry, or one that is not whole, not ours or for another key (logged)."""
    root = directory()
    if root is None:
        return None
    path = _path(root, key, name)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        count("misses")
        return None
    except OSError as exc:
        logger.debug("disk cache: cannot read %s (%s): building", path, exc)
        count("misses")
        return None
    found = _parse(raw)
    if isinstance(found, str):
        logger.debug("disk cache: %s is %s: building it again", path, found)
        count("misses")
        return None
    stored, text, meta = found
    if stored != key:  # a hash collision, or an entry planted under a name it does not match
        logger.debug("disk cache: %s holds another key: building", path)
        count("misses")
        return None
    try:
        os.utime(path)  # recently used: eviction goes by this time
    except OSError:
        pass
    return text, meta, str(path)


def _parse(raw: bytes) -> tuple[str, str, dict[str, Any]] | str:
    """(key, text, metadata) of an entry, or what is wrong with it."""
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    text, marker, trailer = content.rpartition(_MARKER)
    if not marker:
        return "not a whole entry"
    try:
        record = json.loads(trailer)
    except ValueError:
        return "not a whole entry (its metadata is not JSON)"
    if not (isinstance(record, dict) and isinstance(record.get("key"), str) and isinstance(record.get("meta"), dict)):
        return "not an entry of this format"
    text += "\n"
    if hashlib.sha256(text.encode()).hexdigest() != record.get("sha256"):
        return "corrupt (its text does not match its checksum)"
    return record["key"], text, record["meta"]


def write(key: str, text: str, meta: dict[str, Any], name: str = "") -> str | None:
    """Store ``text`` and ``meta`` under ``key`` (atomically), then keep the directory under its
    limit; the entry's path, or None when there is no directory or the write failed (logged)."""
    root = directory()
    if root is None:
        return None
    assert text.endswith("\n")
    record = json.dumps({"key": key, "sha256": hashlib.sha256(text.encode()).hexdigest(), "meta": meta}, sort_keys=True)
    content = (text[:-1] + _MARKER + record + "\n").encode("utf-8")
    path = _path(root, key, name)
    try:
        handle, temporary = tempfile.mkstemp(dir=root, prefix=_TEMPORARY, suffix=".py")  # created 0600
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        logger.debug("disk cache: cannot write %s (%s)", path, exc)
        return None
    count("writes")
    logger.debug("disk cache: wrote %s (%d bytes)", path.name, len(content))
    _evict(root, limit(), keep=path)
    return str(path)


def _entries(root: Path) -> list[tuple[float, int, Path]]:
    """(last use, size, path) of each entry in the directory."""
    found = []
    try:
        with os.scandir(root) as listing:
            for item in listing:
                if _ENTRY.fullmatch(item.name):
                    try:
                        st = item.stat(follow_symlinks=False)
                    except OSError:  # removed meanwhile by another process
                        continue
                    found.append((st.st_mtime, st.st_size, Path(item.path)))
    except OSError:
        pass
    return found


def _evict(root: Path, bound: int, keep: Path | None = None) -> None:
    """Remove the least recently used entries until the rest fit in ``bound`` bytes (never ``keep``,
    the entry just written, unless it alone is over the bound)."""
    entries = sorted(_entries(root))
    total = sum(size for _, size, _ in entries)
    for _, size, path in entries:
        if total <= bound:
            break
        if path == keep and total - size > 0:
            continue
        try:
            path.unlink()
        except FileNotFoundError:  # another process evicted it first
            pass
        except OSError:
            continue
        total -= size
        count("evictions")
        logger.debug("disk cache: evicted %s (%d bytes; the directory holds %d of %d)", path.name, size, total, bound)


def info() -> DiskInfo:
    path = configured()
    if path is None:
        state = "off (SRCDIFF_CACHE_DIR is empty)"
    else:
        state = _checked.get(str(path)) or (_check(path) if path.exists() else "on")
    entries = _entries(path) if path is not None and state == "on" else []
    with _lock:
        counts = dict(_counts)
    return DiskInfo(
        **counts,
        entries=len(entries),
        bytes=sum(size for _, size, _ in entries),
        limit=limit(),
        directory=None if path is None else str(path),
        state=state,
    )


def clear() -> int:
    """Remove every entry (and leftover temporary file) from the directory; the number of entries removed."""
    path = configured()
    if path is None or not path.is_dir():
        return 0
    removed = 0
    with os.scandir(path) as listing:
        for item in listing:
            entry = _ENTRY.fullmatch(item.name)
            if entry or item.name.startswith(_TEMPORARY):
                try:
                    os.unlink(item.path)
                    removed += bool(entry)
                except OSError:
                    pass
    return removed
