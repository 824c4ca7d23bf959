"""``arena.home``: the checked walk of a package folder, ``content_hash``, and the store's
temporary folders (named after their writer, swept once the writer is gone)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from arena.archives import unpack_archive
from arena.errors import ArenaError
from arena.home import (
    content_hash,
    make_read_only,
    package_entries,
    publish,
    sweep_stale,
    sweep_store,
    writer_alive,
    writer_tag,
)
from arena.sources import resolve_agent

GOOD = Path(__file__).resolve().parents[1] / "packages" / "good-c4"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "pkg"
    shutil.copytree(GOOD, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return folder


def refusal(package: Path) -> str:
    with pytest.raises(ArenaError) as info:
        content_hash(package)
    return str(info.value)


# --- what content_hash reads -------------------------------------------------------


def _hash_before_the_split(package_dir: Path) -> str:
    """``content_hash`` as ``arena/sources.py`` had it: the identity must not change."""
    skip = {"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
    digest = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                files.append(Path(root) / name)
    for file in sorted(files, key=lambda p: p.relative_to(package_dir).as_posix()):
        digest.update(file.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def test_hash_is_what_it_was(package: Path) -> None:
    (package / "data" / "deep").mkdir(parents=True)
    (package / "data" / "deep" / "w.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (package / "data" / "a b.txt").write_text("spaces\n")
    (package / "w-link.bin").symlink_to("data/deep/w.bin")
    (package / "data-link").symlink_to("data")
    (package / ".git").mkdir()
    (package / ".git" / "HEAD").write_text("ref\n")
    assert content_hash(package) == _hash_before_the_split(package)


def test_a_fifo_is_refused_by_name_without_being_opened(package: Path) -> None:
    os.mkfifo(package / "pipe")  # opening it for reading would block forever
    assert refusal(package) == (
        f"{package}: entry 'pipe' is a fifo; only files and folders are allowed"
    )


def test_a_socket_is_refused_by_name(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (package / "sub").mkdir()
    monkeypatch.chdir(package / "sub")  # a relative bind: socket paths are short
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("sock")
        assert refusal(package) == (
            f"{package}: entry 'sub/sock' is a socket; only files and folders are allowed"
        )


def test_a_device_is_refused_by_name(package: Path) -> None:
    try:
        os.mknod(package / "null", 0o600 | 0o020000, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root")
    assert refusal(package) == (
        f"{package}: entry 'null' is a character device; only files and folders are allowed"
    )


def test_a_link_to_a_fifo_inside_is_refused(package: Path) -> None:
    os.mkfifo(package / "pipe")
    (package / "a-link").symlink_to("pipe")
    # The walk is sorted: the link comes first, and is judged by what it points to.
    assert refusal(package) == (
        f"{package}: entry 'a-link' is a fifo; only files and folders are allowed"
    )


def test_links_outside_or_nowhere_are_refused(package: Path) -> None:
    (package / "passwd").symlink_to("/etc/passwd")
    assert refusal(package) == (
        f"{package}: 'passwd' is a symbolic link to '/etc/passwd', outside the package; refused"
    )
    (package / "passwd").unlink()
    (package / "etc").symlink_to("/etc")  # a folder link out: its files would run unhashed
    assert refusal(package) == (
        f"{package}: 'etc' is a symbolic link to '/etc', outside the package; refused"
    )
    (package / "etc").unlink()
    (package / "gone").symlink_to("missing.txt")
    assert refusal(package) == (
        f"{package}: 'gone' is a broken symbolic link (to 'missing.txt'); refused"
    )


def test_entries_say_what_is_stored(package: Path) -> None:
    (package / "data").mkdir()
    (package / "data" / "w.txt").write_text("weights\n")
    (package / "w-link.txt").symlink_to("data/w.txt")
    (package / "data-link").symlink_to("data")
    kinds = {e.rel.as_posix(): e.kind for e in package_entries(package)}
    assert kinds["data"] == "dir" and kinds["data-link"] == "dirlink"
    assert kinds["w-link.txt"] == kinds["data/w.txt"] == kinds["agent.toml"] == "file"


def test_a_fifo_manifest_is_refused_before_it_is_read(package: Path) -> None:
    (package / "agent.toml").unlink()
    os.mkfifo(package / "agent.toml")
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(package))
    assert str(info.value) == (
        f"{package}: entry 'agent.toml' is a fifo; only files and folders are allowed"
    )


def test_an_archive_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "agent.zip"
    os.mkfifo(fifo)
    with pytest.raises(ArenaError) as info:
        unpack_archive(fifo)
    assert str(info.value) == f"{fifo}: is a fifo, not a regular file"


# --- temporary folders of the store -------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free (and not reused this soon)
    return proc.pid


def test_a_temporary_folder_is_named_after_its_writer(tmp_path: Path) -> None:
    seen: list[str] = []
    publish(tmp_path, tmp_path / "1.0.0", lambda tmp: seen.append(tmp.name))
    host, pid, start = writer_tag().split(".")
    assert seen[0].startswith(f".1.0.0.tmp-{host}.{os.getpid()}.{start}.")
    assert pid == str(os.getpid()) and int(start) > 0  # Linux: the start time from /proc
    assert (tmp_path / "1.0.0").is_dir()


def test_sweep_removes_dead_writers_folders_only(tmp_path: Path) -> None:
    host, _, _ = writer_tag().split(".")
    dead = tmp_path / f".1.0.0.tmp-{host}.{_dead_pid()}.123.abc_xyz9"
    mine = tmp_path / f".1.1.0.tmp-{writer_tag()}.k2j3h4"
    other_host = tmp_path / f".1.2.0.tmp-elsewhere-{host}.{_dead_pid()}.5.a1"
    reused = tmp_path / f".1.3.0.tmp-{host}.{os.getpid()}.1.a1"  # a live pid, another start
    old_style = tmp_path / ".1.4.0.tmp-x8y7z6"  # an older arena's: writer unknown
    stored = tmp_path / "1.0.0"
    for folder in (dead, mine, other_host, reused, old_style, stored):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "f.py").write_text("x\n")
    (dead / "sub").chmod(0o555)  # published trees are read-only
    dead.chmod(0o555)
    assert sorted(sweep_stale(tmp_path)) == sorted([dead, reused])
    assert {p.name for p in tmp_path.iterdir()} == {
        mine.name,
        other_host.name,
        old_style.name,
        stored.name,
    }


def test_writer_alive_checks_pid_and_start_time() -> None:
    host, pid, start = writer_tag().split(".")
    assert writer_alive(host, int(pid), int(start))
    assert not writer_alive(host, int(pid), int(start) + 1)  # the pid was reused
    assert not writer_alive(host, _dead_pid(), 0)
    assert writer_alive("another-host", _dead_pid(), 0)  # cannot be checked from here


def test_sweep_store_covers_the_cache_and_every_package_name(arena_home: Path) -> None:
    host, _, _ = writer_tag().split(".")
    leftovers = [
        arena_home / "cache" / f".{'a' * 64}.tmp-{host}.{_dead_pid()}.7.q1",
        arena_home / "packages" / "c4" / f".1.0.0.tmp-{host}.{_dead_pid()}.7.q2",
        arena_home / "packages" / "ttt" / f".2.0.tmp-{host}.{_dead_pid()}.7.q3",
    ]
    for folder in leftovers:
        folder.mkdir(parents=True)
    assert sorted(sweep_store()) == sorted(leftovers)
    assert not any(p.exists() for p in leftovers)


def test_a_live_writers_folder_is_kept(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stat_line = Path(f"/proc/{proc.pid}/stat").read_bytes()
        start = int(stat_line.rsplit(b")", 1)[1].split()[19])
        host = writer_tag().split(".")[0]
        live = tmp_path / f".1.0.0.tmp-{host}.{proc.pid}.{start}.w1"
        live.mkdir()
        assert sweep_stale(tmp_path) == [] and live.is_dir()
    finally:
        proc.kill()
        proc.wait()
    assert sweep_stale(tmp_path) == [live]


def test_published_trees_are_readable_by_sandboxed_agents(tmp_path: Path) -> None:
    """Stored and unpacked packages must be readable under the sandbox's own user id,
    whatever the files' modes and the arena's umask were."""
    tree = tmp_path / "pkg"
    (tree / "sub").mkdir(parents=True)
    (tree / "w.bin").write_bytes(b"x")
    (tree / "run.sh").write_text("#!/bin/sh\n")
    (tree / "w.bin").chmod(0o600)
    (tree / "run.sh").chmod(0o700)
    (tree / "sub").chmod(0o700)
    tree.chmod(0o700)
    make_read_only(tree)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [tree, *tree.rglob("*")]}
    assert modes == {"pkg": 0o555, "sub": 0o555, "w.bin": 0o444, "run.sh": 0o555}
