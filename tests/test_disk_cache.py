"""The disk cache: a second process reads what the first built, and nothing it should not.

Most tests run real processes (a fresh interpreter is what the disk cache is for), each given
its own cache directory; a child prints its gradient and ``srcdiff.cache_info()`` as JSON.
Gradients are compared with a run whose disk cache is off, which builds everything anew.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import srcdiff
from srcdiff import cache, cli, disk_cache, rules
from srcdiff.errors import CacheDirectoryWarning

ROOT = Path(__file__).resolve().parent.parent

MODEL = """
import os
import numpy as np
import helpers

SCALE = float(os.environ.get("SCALE", "2.0"))
act = np.sin if os.environ.get("ACT") == "sin" else np.tanh  # what the build resolves, chosen per process


def shifted(v):
    return v - np.mean(v)


def loss(w, x):
    z = helpers.squash(x @ w) * SCALE
    return np.sum(shifted(z) ** 2) + np.sum(act(w))
"""

HELPERS = """
import numpy as np


def squash(v):
    return np.tanh(v)
"""

CHILD = """
import json, sys
import numpy as np
import srcdiff
import model

w = np.linspace(0.1, 1.0, 3)
x = np.arange(12.0).reshape(4, 3) / 10
value = srcdiff.grad(model.loss)(w, x)
info = srcdiff.cache_info()
print(json.dumps({
    "grad": value.tolist(),
    "builds": info.memory.builds,
    "made": info.memory.misses,
    "disk_hits": info.disk.hits,
    "disk_writes": info.disk.writes,
    "state": info.disk.state,
}))
"""


def _project(tmp_path: Path) -> Path:
    """A directory with model.py, helpers.py and the child script."""
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "child.py").write_text(CHILD)
    return tmp_path


def _environment(cache_dir: Path | str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SRCDIFF_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    if cache_dir is not None:
        env["SRCDIFF_CACHE_DIR"] = str(cache_dir)
    return env | extra


def _child(project: Path, cache_dir: Path | str | None, **extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, "child.py"], cwd=project, env=_environment(cache_dir, **extra), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    result["stderr"] = done.stderr
    return result


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix == ".py" and not p.name.startswith("."))


def test_a_second_process_reads_what_the_first_built(tmp_path):
    project, store = _project(tmp_path), tmp_path / "cache"
    first = _child(project, store)
    assert first["builds"] >= 3 and first["disk_writes"] == first["builds"] and first["disk_hits"] == 0  # loss and 2 callees
    second = _child(project, store)
    assert second["builds"] == 0 and second["disk_hits"] == first["disk_writes"] and second["disk_writes"] == 0
    assert second["made"] == first["made"]  # the same entries, made by reading
    uncached = _child(project, "")
    assert uncached["state"].startswith("off") and uncached["disk_writes"] == 0
    assert second["grad"] == first["grad"] == uncached["grad"]


def test_the_directory_is_the_users_alone(tmp_path):
    store = tmp_path / "made" / "cache"
    _child(_project(tmp_path), store)
    if hasattr(os, "getuid"):
        assert store.stat().st_mode & 0o777 == 0o700
        assert all(p.stat().st_mode & 0o077 == 0 for p in _entries(store))


@pytest.mark.parametrize(
    "change, setting",
    [
        ("helpers", {}),  # a callee whose derivative is bound in: its entry and the caller's are stale
        ("global", {"ACT": "sin"}),  # a name the build resolved denotes another function now
        ("constant", {"SCALE": "3.0"}),  # a module-level number the build read
    ],
)
def test_what_the_build_depended_on_changed_so_it_builds_again(tmp_path, change, setting):
    project, store = _project(tmp_path), tmp_path / "cache"
    before = _child(project, store)
    if change == "helpers":
        (project / "helpers.py").write_text(HELPERS.replace("np.tanh(v)", "np.tanh(v) * 3.0"))
    after = _child(project, store, SRCDIFF_LOG="debug", **setting)
    assert after["builds"] >= 1 and "stale" in after["stderr"]
    expected = _child(project, "", **setting)  # built anew, nothing read
    assert after["grad"] == expected["grad"] != before["grad"]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    where = data.index(b"return")  # in the code, not the metadata
    data[where : where + 6] = b"raise "
    path.write_bytes(bytes(data))


def _swap(paths: list[Path]) -> None:
    """Each entry's content under another's name: whole entries, for other keys."""
    contents = [p.read_bytes() for p in paths]
    for p, c in zip(paths, contents[1:] + contents[:1]):
        p.write_bytes(c)


@pytest.mark.parametrize("damage", ["truncated", "edited", "another key"])
def test_a_damaged_entry_is_built_again_never_run(tmp_path, damage):
    project, store = _project(tmp_path), tmp_path / "cache"
    first = _child(project, store)
    entries = _entries(store)
    if damage == "truncated":
        list(map(_truncate, entries))
    elif damage == "edited":
        list(map(_flip, entries))
    else:
        _swap(entries)
    second = _child(project, store, SRCDIFF_LOG="debug")
    assert second["builds"] == first["builds"] and second["disk_hits"] == 0
    assert second["grad"] == first["grad"]
    third = _child(project, store)  # the rebuilt entries replaced the damaged ones
    assert third["builds"] == 0 and third["grad"] == first["grad"]


def test_several_processes_write_at_once(tmp_path):
    project, store = _project(tmp_path), tmp_path / "cache"
    env = _environment(store)
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    children = [subprocess.Popen([sys.executable, "child.py"], cwd=project, env=env, **pipes) for _ in range(4)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        results.append(json.loads(out.splitlines()[-1]))
    assert all(r["grad"] == results[0]["grad"] for r in results)
    for entry in _entries(store):  # whole entries only: no writer's half file, no temporary left
        assert not isinstance(disk_cache._parse(entry.read_bytes()), str)
    assert not [p for p in store.iterdir() if p.name.startswith(".tmp-")]
    last = _child(project, store)
    assert last["builds"] == 0 and last["grad"] == results[0]["grad"]


def test_an_empty_setting_turns_it_off_and_the_default_is_the_user_cache_directory(tmp_path):
    project = _project(tmp_path)
    xdg = tmp_path / "xdg"
    off = _child(project, "", XDG_CACHE_HOME=str(xdg), HOME=str(tmp_path))
    assert off["state"].startswith("off") and off["disk_writes"] == 0 and not xdg.exists()
    if sys.platform.startswith("linux"):
        on = _child(project, None, XDG_CACHE_HOME=str(xdg), HOME=str(tmp_path))  # no SRCDIFF_CACHE_DIR: the default
        assert on["disk_writes"] >= 3 and len(_entries(xdg / "srcdiff")) == on["disk_writes"]


def test_the_logger_is_silent_unless_asked(tmp_path):
    project, store = _project(tmp_path), tmp_path / "cache"
    assert _child(project, store)["stderr"] == ""
    logged = _child(project, tmp_path / "other", SRCDIFF_LOG="debug")["stderr"]
    assert "built grad_loss in" in logged and "wrote" in logged
    logged = _child(project, tmp_path / "other", SRCDIFF_LOG="debug")["stderr"]
    assert "loss: read from the disk cache" in logged and "built" not in logged


def test_a_gradient_read_from_disk_shows_its_lines_in_a_traceback(tmp_path):
    (tmp_path / "shapes.py").write_text("import numpy as np\n\n\ndef f(x, m):\n    y = m @ x\n    return np.sum(y * y)\n")
    script = "import numpy as np, srcdiff\nfrom shapes import f\nsrcdiff.grad(f)(np.ones(3), np.ones((2, 4)))\n"
    (tmp_path / "fails.py").write_text(script)
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "fails.py"], cwd=tmp_path, env=_environment(tmp_path / "cache"), capture_output=True, text=True
        )
        assert done.returncode == 1
        outputs.append(done.stderr)
    assert len(_entries(tmp_path / "cache")) == 1  # the second run read it
    for stderr in outputs:
        assert "y = m @ x" in stderr and "ValueError" in stderr


# ---------------------------------------------------------------- in this process

_modules = itertools.count()


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """A cache directory of the test's own. Another test in this process may have registered rules,
    which turns the disk cache off for the process (``rules.user_changes``); the functions here
    use none of them, and no other process reads this directory."""
    monkeypatch.setattr(rules, "user_changes", 0)
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _module(tmp_path: Path, source: str):
    """Import ``source`` as a module of its own (a new name each time: functions never built before)."""
    name = f"disk_cache_subject_{os.getpid()}_{next(_modules)}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


SIMPLE = """
import numpy as np

def f0(x):
    return np.sum(np.sin(x) * x)

def f1(x):
    return np.sum(np.cos(x) * x)

def f2(x):
    return np.sum(np.exp(x) * x)

def f3(x):
    return np.sum(np.tanh(x) * x)
"""


def _holding(directory: Path, name: str) -> list[Path]:
    return [p for p in _entries(directory) if f"def grad_{name}(" in p.read_text()]


def test_eviction_keeps_the_directory_under_its_bound_least_recently_used_first(tmp_path, monkeypatch, store):
    module = _module(tmp_path, SIMPLE)
    x = np.linspace(0.1, 1.0, 4)
    srcdiff.grad(module.f0)(x)
    size = _entries(store)[0].stat().st_size
    bound = int(size * 3.5)  # three entries (of about one size) fit, not four
    monkeypatch.setenv("SRCDIFF_CACHE_SIZE", str(bound))
    srcdiff.grad(module.f1)(x)
    srcdiff.grad(module.f2)(x)
    assert len(_entries(store)) == 3
    now = time.time()
    for age, name in ((30, "f0"), (20, "f1"), (10, "f2")):  # used in this order, long ago
        os.utime(_holding(store, name)[0], (now - age, now - age))
    evictions = disk_cache.info().evictions
    cache.clear()  # so that f0's gradient is read from disk: a use
    hits = disk_cache.info().hits
    srcdiff.grad(module.f0)(x)
    assert disk_cache.info().hits == hits + 1
    srcdiff.grad(module.f3)(x)  # a fourth entry: the least recently used goes
    assert _holding(store, "f0") and not _holding(store, "f1") and _holding(store, "f2") and _holding(store, "f3")
    assert sum(p.stat().st_size for p in _entries(store)) <= bound
    assert disk_cache.info().evictions == evictions + 1


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_directory_others_can_write_to_is_refused(tmp_path, monkeypatch, store):
    store = tmp_path / "shared"
    store.mkdir()
    store.chmod(0o777)
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", str(store))
    module = _module(tmp_path, SIMPLE)
    x = np.linspace(0.1, 1.0, 4)
    with pytest.warns(CacheDirectoryWarning, match="others may write to it"):
        value = srcdiff.grad(module.f0)(x)
    assert np.allclose(value, np.sin(x) + x * np.cos(x))
    assert list(store.iterdir()) == []  # nothing written, and nothing would be read
    assert disk_cache.info().state.startswith("others may write")


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="making a directory another user owns needs root")
def test_a_directory_another_user_owns_is_refused(tmp_path, monkeypatch, store):
    store = tmp_path / "theirs"
    store.mkdir(mode=0o700)
    os.chown(store, 65534, 65534)  # nobody
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", str(store))
    module = _module(tmp_path, SIMPLE)
    with pytest.warns(CacheDirectoryWarning, match="another user owns it"):
        srcdiff.grad(module.f1)(np.linspace(0.1, 1.0, 4))
    assert list(store.iterdir()) == []


def test_what_cannot_be_written_as_text_stays_in_memory(tmp_path, store):
    module = _module(
        tmp_path,
        """
        import numpy as np

        class Settings:
            k = 3.0

        settings = Settings()  # an object: what the build read of it cannot be described

        def f(x):
            return np.sum(x * settings.k)
        """,
    )
    writes = disk_cache.info().writes
    assert np.allclose(srcdiff.grad(module.f)(np.ones(3)), 3.0)
    assert disk_cache.info().writes == writes
    assert not store.exists() or not _entries(store)


def test_cache_info_counts_both_caches(tmp_path, store):
    module = _module(tmp_path, SIMPLE)
    before = srcdiff.cache_info()
    g = srcdiff.grad(module.f2)
    g(np.ones(3))
    srcdiff.grad(module.f2)(np.ones(3))  # inline: the state shared with g, no lookup
    g(np.ones((2, 2)))  # another specialisation: a miss, built
    after = srcdiff.cache_info()
    assert after.memory.builds == before.memory.builds + 2 and after.memory.misses == before.memory.misses + 2
    assert after.disk.writes == before.disk.writes + 2 and after.disk.entries == 2
    assert after.disk.directory == str(store) and after.disk.state == "on"
    assert after.memory.entries >= 2 and after.memory.bytes > 0


def test_the_cache_command_shows_and_clears_the_directory(tmp_path, monkeypatch, capsys):
    project, store = _project(tmp_path), tmp_path / "cache"
    _child(project, store)
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", str(store))
    count = len(_entries(store))
    assert cli.main(["cache", "info"]) == 0
    shown = capsys.readouterr().out
    assert f"directory: {store}" in shown and f"entries:   {count}" in shown and "state:     on" in shown
    assert cli.main(["cache", "clear"]) == 0
    assert f"removed {count} entries" in capsys.readouterr().out
    assert _entries(store) == []
    monkeypatch.setenv("SRCDIFF_CACHE_DIR", "")
    assert cli.main(["cache", "info"]) == 0
    assert "off" in capsys.readouterr().out


def test_the_size_setting_reads_units(monkeypatch):
    monkeypatch.delenv("SRCDIFF_CACHE_SIZE", raising=False)
    assert disk_cache.limit() == disk_cache.DEFAULT_SIZE == 256 * 2**20
    for text, expected in (("1000", 1000), ("64K", 65536), ("512M", 512 * 2**20), ("2G", 2 * 2**30), ("2gb", 2 * 2**30)):
        monkeypatch.setenv("SRCDIFF_CACHE_SIZE", text)
        assert disk_cache.limit() == expected
