"""A package holding a fifo is refused at once, by name, by every command that reads it;
``arena agent submit`` clears the temporary folders of writers that died.

Commands run as child processes with a timeout: before the fix, hashing a
package opened its fifo and blocked forever.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arena.home import writer_tag
from tests.conftest import EXAMPLE_C4


def arena(home: Path, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "ARENA_HOME": str(home)}
    env.pop("ARENA_DB", None)
    proc = subprocess.run(
        [sys.executable, "-m", "arena.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,  # a blocked open of the fifo would hang here, not pass
    )
    err = "".join(
        line for line in proc.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return proc.returncode, proc.stdout, err


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "c4-heuristic"
    shutil.copytree(EXAMPLE_C4, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    os.mkfifo(folder / "pipe")
    return folder


def test_check_refuses_a_fifo_at_once(package: Path, arena_home: Path) -> None:
    code, out, err = arena(arena_home, "agent", "check", str(package))
    assert (code, out) == (1, "")
    assert err == f"error: {package}: entry 'pipe' is a fifo; only files and folders are allowed\n"


def test_match_refuses_a_fifo_at_once(package: Path, arena_home: Path) -> None:
    code, out, err = arena(arena_home, "match", "connect_four_v3", str(package), "random")
    assert (code, out) == (1, "")
    assert err == f"error: {package}: entry 'pipe' is a fifo; only files and folders are allowed\n"
    assert not (arena_home / "arena.db").exists()  # refused before the database opens


def test_submit_refuses_a_fifo_at_once(package: Path, arena_home: Path) -> None:
    code, out, err = arena(arena_home, "agent", "submit", "./c4-heuristic", cwd=package.parent)
    assert (code, out) == (1, "")
    assert err == (
        "error: c4-heuristic: entry 'pipe' is a fifo; only files and folders are allowed\n"
    )
    assert not (arena_home / "packages").exists()


def test_submit_removes_dead_writers_leftovers(tmp_path: Path, arena_home: Path) -> None:
    package = tmp_path / "c4-heuristic"
    shutil.copytree(EXAMPLE_C4, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    host = writer_tag().split(".")[0]
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = arena_home / "packages" / "c4-heuristic" / f".1.0.0.tmp-{host}.{gone.pid}.1.ab12"
    dead_cache = arena_home / "cache" / f".{'f' * 64}.tmp-{host}.{gone.pid}.1.cd34"
    live = arena_home / "packages" / "other" / f".0.1.tmp-{writer_tag()}.ef56"  # this process
    for folder in (dead, dead_cache, live):
        (folder / "half").mkdir(parents=True)
    code, out, err = arena(arena_home, "agent", "submit", str(package))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].startswith("submitted: c4-heuristic 1.0.0 (sha256 ")
    assert not dead.exists() and not dead_cache.exists()
    assert live.is_dir()
    assert [p.name for p in dead.parent.iterdir()] == ["1.0.0"]
