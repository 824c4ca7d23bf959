"""The data folder, the rules a package folder is read by, and how the store is written.

- :func:`arena_home`: ``$ARENA_HOME`` or ``./.arena``.
- :func:`package_entries`: one checked walk of a package folder, shared by
  :func:`content_hash` and the registry's copy. Caches (``SKIP_DIRS``, ``.pyc``)
  are left out; symlinks must resolve inside the folder; fifos, devices and
  sockets are refused by name from ``lstat`` alone, never opened (opening a fifo
  blocks until someone writes to it).
- :func:`max_package_bytes` and :class:`Budget`: the unpacked size limit.
- :func:`publish`: a folder of the store (cache entry, stored package) is built in
  a temporary sibling named after its writer (host, pid, start time), made
  read-only and renamed into place; :func:`sweep_stale` removes the temporary
  folders of writers that are no longer alive.

Refusals are one line naming the folder and the offending entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from arena.errors import ArenaError

SKIP_DIRS = frozenset({"__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo")
MIB = 1024 * 1024
DEFAULT_MAX_MB = 256
MAX_MB_ENV = "ARENA_MAX_PACKAGE_MB"
CHUNK = 1024 * 1024
# $ARENA_HOME/packages: the store of submitted packages (arena.package_store owns it).
STORE_DIR = "packages"

SPECIAL_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def arena_home() -> Path:
    """The data folder: ``$ARENA_HOME`` or ``./.arena``."""
    return Path(os.environ.get("ARENA_HOME", ".arena"))


# --- what a package folder may hold ---------------------------------------------


def special_kind(mode: int) -> str:
    """``fifo``, ``socket``, ``character device``, ... for a mode that is not a file or folder."""
    return SPECIAL_KINDS.get(stat.S_IFMT(mode), "special file")


def not_regular(where: Path, name: str, kind: str, *, noun: str = "entry") -> ArenaError:
    return ArenaError(f"{where}: {noun} '{name}' is a {kind}; only files and folders are allowed")


def open_regular(path: Path, where: Path, name: str) -> IO[bytes]:
    """Open ``path`` for reading only if it is a regular file, without ever blocking.

    ``O_NONBLOCK`` makes the open of a fifo (swapped in after a check) return at
    once; ``fstat`` on the open file then refuses it.

    Raises:
        ArenaError: not a regular file (one line naming ``name`` in ``where``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(where, name, special_kind(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class Entry:
    """One item of a package folder: a folder, a file, or a link to a folder inside it."""

    rel: PurePosixPath
    kind: str  # dir | file | dirlink
    source: Path  # what to read: the file (a link's target) or the linked folder
    size: int = 0


def package_entries(folder: Path) -> list[Entry]:
    """Every folder and file of a package, checked, in a stable order.

    Caches (``SKIP_DIRS``, ``*.pyc``, ``*.pyo``) are left out. A symlink must
    resolve inside the folder: a linked file counts as the file, a linked folder
    is an entry of its own (not walked: its target is walked where it is).
    Nothing is opened: kinds come from ``lstat``/``stat``.

    Raises:
        ArenaError: a symlink that resolves outside the folder or nowhere, or a
            fifo, device or socket (named, with the folder).
    """
    root = folder.resolve()
    entries: list[Entry] = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        base = Path(current)
        for name in [*dirs, *sorted(names)]:
            if name in names and name.endswith(SKIP_SUFFIXES):
                continue
            path = base / name
            rel = PurePosixPath(path.relative_to(folder).as_posix())
            info = path.lstat()
            source = path
            if stat.S_ISLNK(info.st_mode):
                target = Path(os.path.realpath(path))
                if target != root and root not in target.parents:
                    raise ArenaError(
                        f"{folder}: '{rel}' is a symbolic link to '{os.readlink(path)}', "
                        "outside the package; refused"
                    )
                if not target.exists():
                    raise ArenaError(
                        f"{folder}: '{rel}' is a broken symbolic link (to "
                        f"'{os.readlink(path)}'); refused"
                    )
                info, source = target.stat(), target
                if stat.S_ISDIR(info.st_mode):
                    entries.append(Entry(rel, "dirlink", target))
                    continue
            if stat.S_ISDIR(info.st_mode):
                entries.append(Entry(rel, "dir", path))
            elif stat.S_ISREG(info.st_mode):
                entries.append(Entry(rel, "file", source, info.st_size))
            else:
                raise not_regular(folder, str(rel), special_kind(info.st_mode))
    return entries


def content_hash(package_dir: Path, entries: list[Entry] | None = None) -> str:
    """sha256 over every file's relative path and bytes, in sorted order.

    Caches (``__pycache__``, ``.pyc``) are left out so that running a package
    does not change its identity. A linked file counts with its target's bytes;
    a linked folder is not walked twice. ``entries``: the folder's
    :func:`package_entries`, when the caller has them already.

    Raises:
        ArenaError: as :func:`package_entries`, before any file is read.
    """
    if entries is None:
        entries = package_entries(package_dir)
    files = [e for e in entries if e.kind == "file"]
    digest = hashlib.sha256()
    for entry in sorted(files, key=lambda e: e.rel.as_posix()):
        digest.update(entry.rel.as_posix().encode() + b"\0")
        file_digest = hashlib.sha256()
        with open_regular(entry.source, package_dir, str(entry.rel)) as f:
            while chunk := f.read(CHUNK):
                file_digest.update(chunk)
        digest.update(file_digest.digest())
    return digest.hexdigest()


# --- the size limit ---------------------------------------------------------------


def max_package_bytes(max_bytes: int | None = None) -> int:
    """The unpacked size limit: ``max_bytes``, else ``$ARENA_MAX_PACKAGE_MB``, else 256 MiB.

    Raises:
        ArenaError: the environment variable is not a positive number.
    """
    if max_bytes is not None:
        if max_bytes <= 0:
            raise ArenaError(f"package size limit must be positive, got {max_bytes} bytes")
        return max_bytes
    raw = os.environ.get(MAX_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_MB * MIB
    try:
        mb = float(raw)
    except ValueError:
        mb = -1.0
    if not mb > 0 or mb == float("inf"):
        raise ArenaError(f"{MAX_MB_ENV}: expected a positive number of MiB, got {raw!r}")
    return max(1, int(mb * MIB))


def _size_text(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n} bytes"


def too_big(where: Path, member: str, limit: int, *, archive: bool = True) -> ArenaError:
    what = "unpacked size exceeds" if archive else "size exceeds"
    at = "at member" if archive else "at"
    return ArenaError(
        f"{where}: {what} the limit of {_size_text(limit)} {at} '{member}' "
        f"(set {MAX_MB_ENV} to raise it)"
    )


class Budget:
    """Counts the bytes written against the size limit (declared sizes can lie)."""

    def __init__(self, where: Path, limit: int, *, archive: bool = True) -> None:
        self.where, self.limit, self.used, self.archive = where, limit, 0, archive

    def copy(self, src: IO[bytes], dst: Path, member: str) -> None:
        with dst.open("xb") as out:
            while chunk := src.read(CHUNK):
                self.used += len(chunk)
                if self.used > self.limit:
                    raise too_big(self.where, member, self.limit, archive=self.archive)
                out.write(chunk)


# --- read-only trees and atomic publication -------------------------------------


def _read_only_mode(mode: int) -> int:
    # Readable by everyone (sandboxed agents run under a user id of their own,
    # whatever the umask was), executable where any execute bit was, never writable.
    if stat.S_ISDIR(mode) or mode & 0o111:
        return 0o555
    return 0o444


def make_read_only(tree: Path) -> None:
    for root, dirs, files in os.walk(tree, topdown=False):
        for name in [*files, *dirs]:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(_read_only_mode(path.lstat().st_mode))
    tree.chmod(_read_only_mode(tree.stat().st_mode))


def remove_tree(tree: Path) -> None:
    """Delete a tree, made writable first (our own folders are read-only)."""
    if not tree.is_dir() or tree.is_symlink():
        return
    with contextlib.suppress(OSError):
        tree.chmod(0o700)
        for root, dirs, _ in os.walk(tree):
            for name in dirs:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o700)
    shutil.rmtree(tree, ignore_errors=True)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _start_time(pid: int) -> int:
    """The process's start time in clock ticks since boot (Linux), or 0 when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[19])  # field 22 of the line; the first two are before ")"
    except (OSError, IndexError, ValueError):
        return 0


def writer_tag() -> str:
    """``<host>.<pid>.<start time>``: who writes a temporary folder of the store."""
    pid = os.getpid()
    return f"{_host()}.{pid}.{_start_time(pid)}"


# .<dest>.tmp-<host>.<pid>.<start>.<mkdtemp's random part>
_TMP_NAME = re.compile(r"^\..+\.tmp-(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.(?P<start>\d+)\.\w+$")


def writer_alive(host: str, pid: int, start: int) -> bool:
    """Whether the writer of a temporary folder may still be writing it.

    A writer on another host cannot be checked and counts as alive. A pid that
    exists but started at another time than recorded is a reused pid: dead.
    """
    if host != _host():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now = _start_time(pid)
    return not (start and now and now != start)


def sweep_stale(parent: Path) -> list[Path]:
    """Remove ``parent``'s temporary folders whose writer is no longer alive; return them.

    Folders named by an older arena (no writer in the name) are left alone.
    """
    removed: list[Path] = []
    try:
        children = list(parent.iterdir())
    except OSError:
        return removed
    for child in children:
        found = _TMP_NAME.match(child.name)
        if found is None or not child.is_dir() or child.is_symlink():
            continue
        if writer_alive(found["host"], int(found["pid"]), int(found["start"])):
            continue
        remove_tree(child)
        removed.append(child)
    return removed


def sweep_store(home: Path | None = None) -> list[Path]:
    """:func:`sweep_stale` over the store's folders: the cache and each package name."""
    home = arena_home() if home is None else home
    removed = sweep_stale(home / "cache")
    with contextlib.suppress(OSError):
        for name in sorted((home / STORE_DIR).iterdir()):
            if name.is_dir() and not name.is_symlink():
                removed += sweep_stale(name)
    return removed


def publish(parent: Path, dest: Path, build: Callable[[Path], None]) -> bool:
    """Build a folder in a temporary sibling of ``dest``, make it read-only, rename it in.

    The sibling is ``.<dest name>.tmp-<host>.<pid>.<start time>.<random>``, so
    :func:`sweep_stale` can tell a crashed writer's leftover from a live one.
    Returns False when ``dest`` appeared meanwhile (a concurrent writer): the
    temporary folder is dropped and ``dest`` kept. On any error the temporary
    folder is removed, so ``dest`` is either complete or absent.
    """
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-{writer_tag()}.", dir=parent))
    except OSError as exc:
        raise ArenaError(f"{dest}: cannot write: {exc}") from None
    try:
        tmp.chmod(0o755)
        build(tmp)
        make_read_only(tmp)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
            remove_tree(tmp)
            return False
        return True
    except OSError as exc:  # a full disk, a permission; ArenaErrors pass unchanged
        remove_tree(tmp)
        raise ArenaError(f"{dest}: cannot write: {exc}") from None
    except BaseException:
        remove_tree(tmp)
        raise
