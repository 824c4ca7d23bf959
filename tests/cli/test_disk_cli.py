"""A full disk, a read-only ARENA_HOME, a read-only database: one line, exit 1, and the
database passes ``PRAGMA integrity_check`` afterwards.

The real cases mount a small tmpfs (full disk) or a read-only bind mount, which
needs root (the tests run as root; chmod would not stop root) and skip
otherwise; commands then run as child processes, so no engine of this process
holds the mount busy. The monkeypatched cases run everywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from arena.cli import app
from tests.conftest import EXAMPLE_C4

runner = CliRunner()


def arena(home: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "ARENA_HOME": str(home)}
    env.pop("ARENA_DB", None)
    proc = subprocess.run(
        [sys.executable, "-m", "arena.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    err = "".join(
        line for line in proc.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return proc.returncode, proc.stdout, err


def integrity(db: Path) -> tuple[str, int]:
    with sqlite3.connect(db) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        return check, conn.execute("SELECT count(*) FROM matches").fetchone()[0]


def _mount(*args: str) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount here ({proc.stderr.strip()}): needs root")


def _umount(target: Path) -> None:
    if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs."""
    disk = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk))
    try:
        yield disk
    finally:
        _umount(disk)


def fill(disk: Path, leave_kib: int) -> Path:
    """Fill the disk but ``leave_kib``; return the filler (delete it to free the space)."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize // 1024
    filler = disk / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * max(0, free - leave_kib) * 1024)
    return filler


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """``(home, view)``: a home with one match, and a read-only bind mount of it."""
    home, view = tmp_path / "home", tmp_path / "view"
    view.mkdir()
    code, _, err = arena(home, "match", "connect_four_v3", "one-ply", "random", "--json")
    assert code == 0, err
    _mount("--bind", str(home), str(view))
    try:
        _mount("-o", "remount,ro,bind", str(view))
        yield home, view
    finally:
        _umount(view)


# --- a full disk ------------------------------------------------------------------


def test_a_full_disk_mid_series_is_one_line_and_the_database_stays_sound(
    small_disk: Path,
) -> None:
    home = small_disk / "home"
    assert arena(home, "match", "connect_four_v3", "one-ply", "random", "--json")[0] == 0
    filler = fill(small_disk, leave_kib=300)  # room for some matches, not for 2000
    code, out, err = arena(home, "match", "connect_four_v3", "one-ply", "random", "--games", "2000")
    assert (code, out) == (1, "")
    db = home / "arena.db"
    assert err.startswith(f"error: database sqlite:///{db}: database or disk is full"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    filler.unlink()
    check, stored = integrity(db)
    assert check == "ok" and 1 < stored < 2001
    assert arena(home, "match", "connect_four_v3", "one-ply", "random")[0] == 0  # usable again


def test_a_full_disk_on_open_is_one_line_for_writers_and_reads_still_work(
    small_disk: Path,
) -> None:
    home = small_disk / "home"
    assert arena(home, "match", "connect_four_v3", "one-ply", "random", "--json")[0] == 0
    filler = fill(small_disk, leave_kib=0)
    code, out, err = arena(home, "match", "connect_four_v3", "random", "random")
    assert (code, out) == (1, "")
    assert err == (
        f"error: cannot open database sqlite:///{home / 'arena.db'}: disk I/O error "
        f"(no space left on the device of {home})\n"
    )
    # A reader needs no space: the database is read as it is.
    code, out, err = arena(home, "leaderboard", "--json")
    assert (code, err) == (0, "") and '"agent": "one-ply"' in out
    filler.unlink()
    assert integrity(home / "arena.db") == ("ok", 1)


def test_a_full_disk_while_submitting_stores_nothing(small_disk: Path, tmp_path: Path) -> None:
    home = small_disk / "home"
    package = tmp_path / "c4-heuristic"
    shutil.copytree(EXAMPLE_C4, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "weights.bin").write_bytes(os.urandom(600 * 1024))
    # the database exists (`agent list` only reads: it would not create it)
    assert arena(home, "match", "connect_four_v3", "one-ply", "random", "--json")[0] == 0
    filler = fill(small_disk, leave_kib=200)
    code, _, err = arena(home, "agent", "submit", str(package))
    dest = home / "packages" / "c4-heuristic" / "1.0.0"
    assert code == 1
    assert err == f"error: {dest}: cannot write: [Errno 28] No space left on device\n"
    assert list(dest.parent.iterdir()) == []  # no half-written folder
    filler.unlink()
    assert arena(home, "agent", "list", "--json")[1] == "[]\n"


def test_a_full_disk_while_writing_the_report(small_disk: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert arena(home, "match", "connect_four_v3", "one-ply", "random", "--json")[0] == 0
    fill(small_disk, leave_kib=8)
    out = small_disk / "report"
    code, _, err = arena(home, "report", "--out", str(out))
    assert code == 1
    assert err == f"error: --out {out}: cannot write: No space left on device\n"
    assert not out.exists() and [p.name for p in small_disk.iterdir()] == ["filler"]


# --- read-only --------------------------------------------------------------------


def test_a_read_only_home_refuses_writes_in_one_line_and_serves_reads(
    read_only: tuple[Path, Path],
) -> None:
    home, view = read_only
    code, out, err = arena(view, "match", "connect_four_v3", "one-ply", "random")
    assert (code, out) == (1, "")
    assert err == (
        f"error: cannot open database sqlite:///{view / 'arena.db'}: unable to open database "
        f"file ({view} is on a read-only file system)\n"
    )
    for args, shown in (
        (("leaderboard", "--json"), '"agent": "one-ply"'),
        (("agent", "list", "--json"), "[]"),
        (("tournament", "status"), "no tournament runs yet"),
        (("replay", "1"), "one-ply"),
    ):
        code, out, err = arena(view, *args)
        assert (code, err) == (0, ""), args
        assert shown in out, (args, out)
    assert sorted(p.name for p in view.iterdir()) == ["arena.db"]
    assert integrity(home / "arena.db") == ("ok", 1)


def test_read_only_commands_create_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nowhere" / "home"
    for args, shown in (
        (("leaderboard",), "no rated matches yet"),
        (("agent", "list"), "no submitted packages yet"),
        (("tournament", "status"), "no tournament runs yet"),
    ):
        code, out, err = arena(home, *args)
        assert (code, err) == (0, ""), args
        assert shown in out, (args, out)
    code, out, err = arena(home, "replay", "1")
    assert (code, out, err) == (1, "", "error: no match with id 1 in the database\n")
    assert not (tmp_path / "nowhere").exists()


def test_a_read_only_database_file_refuses_writes_but_serves_reads(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert arena(home, "match", "connect_four_v3", "one-ply", "random", "--json")[0] == 0
    db = home / "arena.db"
    _mount("--bind", str(db), str(db))
    try:
        _mount("-o", "remount,ro,bind", str(db))
        code, out, err = arena(home, "match", "connect_four_v3", "one-ply", "random")
        assert (code, out) == (1, "")
        assert err == (
            f"error: database sqlite:///{db}: attempt to write a readonly database "
            f"(no write permission on {db})\n"
        )
        code, out, _ = arena(home, "leaderboard", "--json")
        assert code == 0 and '"agent": "one-ply"' in out
    finally:
        _umount(db)
    assert integrity(db) == ("ok", 1)


# --- the same paths without mounts ------------------------------------------------


def test_a_write_failing_with_enospc_in_the_recorder(
    arena_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object, **_kwargs: object) -> int:
        raise OperationalError(
            "INSERT ...", {}, sqlite3.OperationalError("database or disk is full")
        )

    monkeypatch.setattr("arena.storage.recorder.Recorder._record", full)
    result = runner.invoke(app, ["match", "connect_four_v3", "random", "random"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: database sqlite:///{arena_home / 'arena.db'}: database or disk is full\n"
    )
    assert integrity(arena_home / "arena.db") == ("ok", 0)


def test_an_os_error_is_one_line_naming_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "x.gif"))

    monkeypatch.setattr("arena.play.play_and_record", read_only)
    result = runner.invoke(app, ["match", "connect_four_v3", "random", "random"])
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {tmp_path / 'x.gif'}: Read-only file system\n",
    )
    result = runner.invoke(app, ["-v", "match", "connect_four_v3", "random", "random"])
    assert result.stderr.startswith(f"error: {tmp_path / 'x.gif'}: Read-only file system\n")
    assert "Traceback (most recent call last)" in result.stderr  # -v: the arena's own


def test_a_report_write_failing_with_enospc(
    arena_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("tournaments.report.site._write", full)
    out = tmp_path / "site"
    result = runner.invoke(app, ["report", "--out", str(out)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: --out {out}: cannot write: No space left on device\n",
    )
    assert not out.exists() and not any(p.name.startswith(".site.") for p in tmp_path.iterdir())
