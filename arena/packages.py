"""Package archives and the registry of submitted packages.

``unpack_archive`` turns a ``.zip`` / ``.tar.gz`` / ``.tgz`` into a read-only
folder under ``$ARENA_HOME/cache/<sha256 of the archive>/``; ``submit_package``
checks a package (folder or archive) and stores an immutable copy under
``$ARENA_HOME/packages/<name>/<version>/``; ``list_packages`` reads them back.

Nothing untrusted is written outside a fresh temporary folder, and a folder
becomes visible (cache entry or stored package) only by one atomic rename, once
it is complete and read-only. Refusals are one line naming the archive (or
folder) and the offending member.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version
from sqlalchemy import select

from arena.errors import ArenaError
from arena.manifest import MANIFEST, load_manifest
from arena.sources import _SKIP_DIRS, arena_home, content_hash, package_source
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import ensure_agent_version

if TYPE_CHECKING:
    from arena.check import CheckReport

MIB = 1024 * 1024
DEFAULT_MAX_MB = 256
MAX_MB_ENV = "ARENA_MAX_PACKAGE_MB"
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
_CHUNK = 1024 * 1024
_IGNORED_TOP = {"__MACOSX"}  # resource forks macOS adds next to a zipped folder


# --- limits ----------------------------------------------------------------------


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


def _too_big(where: Path, member: str, limit: int, *, archive: bool = True) -> ArenaError:
    what = "unpacked size exceeds" if archive else "size exceeds"
    at = "at member" if archive else "at"
    return ArenaError(
        f"{where}: {what} the limit of {_size_text(limit)} {at} '{member}' "
        f"(set {MAX_MB_ENV} to raise it)"
    )


# --- archives --------------------------------------------------------------------


def is_archive(path: Path) -> bool:
    """Whether ``path`` is named like an archive the arena unpacks."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _member_path(archive: Path, name: str) -> PurePosixPath | None:
    """The safe relative path of a member, or None for the archive's root entry."""
    text = name.replace("\\", "/")
    if "\0" in text:
        raise ArenaError(f"{archive}: member {name!r} has a NUL byte in its name; refused")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise ArenaError(f"{archive}: member '{name}' has an absolute path; refused")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArenaError(
            f"{archive}: member '{name}' points outside the package ('..' in its path); refused"
        )
    return PurePosixPath(*parts) if parts else None


def _link_error(archive: Path, name: str, kind: str, target: str) -> ArenaError:
    return ArenaError(
        f"{archive}: member '{name}' is a {kind} (to '{target}'); archives may not contain links"
    )


def _special_error(where: Path, name: str, what: str, noun: str = "member") -> ArenaError:
    return ArenaError(f"{where}: {noun} '{name}' is a {what}; only files and folders are allowed")


_SPECIAL = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}

# (relative path, is a folder, opener of the member's bytes)
_Plan = list[tuple[PurePosixPath, bool, Callable[[], IO[bytes]]]]


def _zip_plan(archive: Path, zf: zipfile.ZipFile, limit: int) -> _Plan:
    plan: _Plan = []
    declared = 0
    for info in zf.infolist():
        rel = _member_path(archive, info.filename)
        fmt = stat.S_IFMT(info.external_attr >> 16)
        if fmt == stat.S_IFLNK:
            with zf.open(info) as f:
                target = f.read(4096).decode("utf-8", "replace")
            raise _link_error(archive, info.filename, "symbolic link", target)
        if fmt not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise _special_error(archive, info.filename, _SPECIAL.get(fmt, "special file"))
        if rel is None:
            continue
        is_dir = info.is_dir() or fmt == stat.S_IFDIR
        if not is_dir:
            declared += info.file_size
            if declared > limit:
                raise _too_big(archive, info.filename, limit)
        plan.append((rel, is_dir, functools.partial(zf.open, info)))
    return plan


def _tar_plan(archive: Path, tf: tarfile.TarFile, limit: int) -> _Plan:
    plan: _Plan = []
    declared = 0
    for member in tf.getmembers():
        rel = _member_path(archive, member.name)
        if member.issym():
            raise _link_error(archive, member.name, "symbolic link", member.linkname)
        if member.islnk():
            raise _link_error(archive, member.name, "hard link", member.linkname)
        if member.ischr() or member.isblk() or member.isfifo():
            what = "character device" if member.ischr() else "block device"
            raise _special_error(archive, member.name, "fifo" if member.isfifo() else what)
        if not (member.isfile() or member.isdir()):
            raise _special_error(archive, member.name, "special file")
        if rel is None:
            continue
        if member.isfile():
            declared += member.size
            if declared > limit:
                raise _too_big(archive, member.name, limit)

        def opener(member: tarfile.TarInfo = member) -> IO[bytes]:
            stream = tf.extractfile(member)
            assert stream is not None  # a regular file always has a stream
            return stream

        plan.append((rel, member.isdir(), opener))
    return plan


class _Budget:
    """Counts the bytes written against the size limit (declared sizes can lie)."""

    def __init__(self, where: Path, limit: int, *, archive: bool = True) -> None:
        self.where, self.limit, self.used, self.archive = where, limit, 0, archive

    def copy(self, src: IO[bytes], dst: Path, member: str) -> None:
        with dst.open("xb") as out:
            while chunk := src.read(_CHUNK):
                self.used += len(chunk)
                if self.used > self.limit:
                    raise _too_big(self.where, member, self.limit, archive=self.archive)
                out.write(chunk)


def _write_plan(archive: Path, plan: _Plan, dest: Path, limit: int) -> None:
    budget = _Budget(archive, limit)
    for rel, is_dir, open_member in plan:
        target = dest.joinpath(*rel.parts)
        try:
            if is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with open_member() as src:
                budget.copy(src, target, str(rel))
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise ArenaError(
                f"{archive}: member '{rel}' clashes with another member of the same path; refused"
            ) from None


def _package_root(where: Path, folder: Path) -> Path:
    """The folder holding the manifest: ``folder`` or its single top-level folder."""
    if (folder / MANIFEST).is_file():
        return folder
    entries = [p for p in folder.iterdir() if p.name not in _IGNORED_TOP]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise ArenaError(
        f"{where}: no {MANIFEST} at the archive root or in its single top-level folder"
    )


def unpack_archive(archive: Path, *, max_bytes: int | None = None) -> Path:
    """Unpack a package archive into the cache and return the package folder.

    The cache entry is ``$ARENA_HOME/cache/<sha256 of the archive>/``; it is
    unpacked into a temporary sibling, checked, made read-only and renamed into
    place, so it is either complete or absent. An archive seen before is not
    unpacked again.

    Raises:
        ArenaError: not a valid archive, an unsafe member (absolute path, ``..``,
            a link, a device or fifo), more than the size limit unpacked, or no
            manifest at the root or in the single top-level folder.
    """
    limit = max_package_bytes(max_bytes)
    if not is_archive(archive):
        raise ArenaError(f"{archive}: not a .zip, .tar.gz or .tgz archive")
    cache = arena_home().absolute() / "cache"
    dest = cache / _file_sha256(archive)
    if not dest.is_dir():
        cache.mkdir(parents=True, exist_ok=True)

        def build(tmp: Path) -> None:
            _extract(archive, tmp, limit)
            _package_root(archive, tmp)

        _publish(cache, dest, build)
    return _package_root(archive, dest)


_BROKEN = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    gzip.BadGzipFile,
    EOFError,
    zlib.error,
)


def _extract(archive: Path, dest: Path, limit: int) -> None:
    label = "zip" if archive.name.lower().endswith(".zip") else "tar.gz"
    try:
        if label == "zip":
            with zipfile.ZipFile(archive) as zf:
                _write_plan(archive, _zip_plan(archive, zf, limit), dest, limit)
        else:
            with tarfile.open(archive, "r:gz") as tf:
                _write_plan(archive, _tar_plan(archive, tf, limit), dest, limit)
    except _BROKEN as exc:
        raise ArenaError(f"{archive}: not a valid .{label} archive: {exc}") from None
    except (NotImplementedError, RuntimeError, OSError) as exc:
        # zip: unknown compression or encrypted; a gzip error; a full disk
        raise ArenaError(f"{archive}: cannot unpack: {exc}") from None


# --- read-only trees and atomic publication -------------------------------------


def _make_read_only(tree: Path) -> None:
    for root, dirs, files in os.walk(tree, topdown=False):
        for name in [*files, *dirs]:
            path = Path(root) / name
            if not path.is_symlink():
                path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~0o222)
    tree.chmod(stat.S_IMODE(tree.stat().st_mode) & ~0o222)


def _remove_tree(tree: Path) -> None:
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


def _publish(parent: Path, dest: Path, build: Callable[[Path], None]) -> bool:
    """Build a folder in a temporary sibling of ``dest``, make it read-only, rename it in.

    Returns False when ``dest`` appeared meanwhile (a concurrent writer): the
    temporary folder is dropped and ``dest`` kept. On any error the temporary
    folder is removed, so ``dest`` is either complete or absent.
    """
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=parent))
    except OSError as exc:
        raise ArenaError(f"{dest}: cannot write: {exc}") from None
    try:
        tmp.chmod(0o755)
        build(tmp)
        _make_read_only(tmp)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
            _remove_tree(tmp)
            return False
        return True
    except OSError as exc:  # a full disk, a permission; ArenaErrors pass unchanged
        _remove_tree(tmp)
        raise ArenaError(f"{dest}: cannot write: {exc}") from None
    except BaseException:
        _remove_tree(tmp)
        raise


# --- folders ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    rel: PurePosixPath
    kind: str  # dir | file | dirlink
    source: Path  # the file to copy (a symlink's target for links)


def scan_folder(folder: Path, *, max_bytes: int | None = None) -> list[_Entry]:
    """What a package folder would store, checked: no links out, no devices, within the limit.

    Caches that ``content_hash`` ignores (``__pycache__``, ``.git``, ``.pyc``) are
    left out. A symlink is allowed when it resolves inside the folder: a linked
    file is stored as a copy, a linked folder as a relative link.

    Raises:
        ArenaError: a symlink that resolves outside the folder or nowhere, a device,
            fifo or socket, or more than the size limit in total.
    """
    limit = max_package_bytes(max_bytes)
    root = folder.resolve()
    entries: list[_Entry] = []
    used = 0
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        base = Path(current)
        for name in [*dirs, *sorted(names)]:
            path = base / name
            rel = PurePosixPath(path.relative_to(folder).as_posix())
            if name in names and name.endswith((".pyc", ".pyo")):
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
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
                mode = target.stat().st_mode
                if stat.S_ISDIR(mode):
                    entries.append(_Entry(rel, "dirlink", target))
                    continue
            if stat.S_ISDIR(mode):
                entries.append(_Entry(rel, "dir", path))
            elif stat.S_ISREG(mode):
                used += path.stat().st_size
                if used > limit:
                    raise _too_big(folder, str(rel), limit, archive=False)
                entries.append(_Entry(rel, "file", path))
            else:
                what = _SPECIAL.get(stat.S_IFMT(mode), "special file")
                raise _special_error(folder, str(rel), what, noun="entry")
    return entries


def _copy_entries(folder: Path, entries: list[_Entry], dest: Path, limit: int) -> None:
    root = folder.resolve()
    budget = _Budget(folder, limit, archive=False)
    for entry in entries:
        target = dest.joinpath(*entry.rel.parts)
        if entry.kind == "dir":
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.kind == "dirlink":
            inside = dest.joinpath(*entry.source.relative_to(root).parts)
            os.symlink(os.path.relpath(inside, target.parent), target)
        else:
            with entry.source.open("rb") as src:
                budget.copy(src, target, str(entry.rel))


# --- the registry ----------------------------------------------------------------


@dataclass
class SubmitReport:
    """What ``submit_package`` did: ``stored`` is False when it was already there."""

    name: str
    version: str
    content_hash: str
    path: Path
    stored: bool
    check: CheckReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "submitted" if self.stored else "already submitted",
            "name": self.name,
            "version": self.version,
            "hash": self.content_hash,
            "path": str(self.path),
            "check": self.check.to_dict(),
        }


def registry_dir() -> Path:
    """``$ARENA_HOME/packages``: ``<name>/<version>/`` folders of submitted packages."""
    return arena_home() / "packages"


def _conflict(name: str, version: str, stored: str, new: str) -> ArenaError:
    return ArenaError(
        f"{name} {version} is already submitted with different content "
        f"(stored {stored[:12]}, new {new[:12]}); bump the version"
    )


def submit_package(
    path: Path, *, db_url: str | None = None, max_bytes: int | None = None
) -> SubmitReport:
    """Check a package (folder or archive) and store an immutable copy in the registry.

    The copy lands in ``$ARENA_HOME/packages/<name>/<version>/`` (read-only, moved
    into place by one rename) and its content hash in the database with
    ``source = "registry"``. Submitting identical content again changes nothing.

    Raises:
        ArenaError: the package is unsafe or too big, fails ``check_package``, or
            its name and version are already stored with different content.
    """
    from arena.check import check_package  # plays matches: the runner, envs, agents

    limit = max_package_bytes(max_bytes)
    if path.is_file() and is_archive(path):
        folder = unpack_archive(path, max_bytes=limit)
    elif path.is_dir():
        folder = path
    else:
        raise ArenaError(f"{path}: not a package folder or a .zip / .tar.gz / .tgz archive")
    entries = scan_folder(folder, max_bytes=limit)
    check = check_package(folder)
    name, version, digest = check.name, check.version, check.content_hash
    dest = _version_folder(registry_dir() / name, version)

    sessions = session_factory(connect(db_url))
    with sessions() as session:
        for row in _registry_rows(session, name, version):
            if row.content_hash != digest:
                raise _conflict(name, version, row.content_hash, digest)

    stored = False
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)

        def build(tmp: Path) -> None:
            _copy_entries(folder, entries, tmp, limit)
            if content_hash(tmp) != digest:
                raise ArenaError(f"{path}: the package changed while it was being submitted")

        stored = _publish(dest.parent, dest, build)
    stored_hash = content_hash(dest)
    if stored_hash != digest:
        raise _conflict(name, version, stored_hash, digest)

    info = package_source(dest, source="registry").info
    with sessions.begin() as session:
        row = ensure_agent_version(session, info)
        if row.source != "registry":
            # The same content was played from a path before: the stored copy is now its home.
            row.source, row.path = "registry", info.path
    return SubmitReport(name, version, digest, dest, stored, check)


def _version_folder(root: Path, version: str) -> Path:
    """``root/version``, or an existing folder of an equal PEP 440 version (1.0 == 1.0.0)."""
    wanted = Version(version)
    if root.is_dir():
        for child in sorted(root.iterdir()):
            with contextlib.suppress(InvalidVersion):
                if Version(child.name) == wanted:
                    return child
    return root / version


def _registry_rows(session: Any, name: str, version: str) -> list[m.AgentVersion]:
    """Registry rows of ``name`` whose version equals ``version`` under PEP 440."""
    wanted = Version(version)
    rows = session.scalars(
        select(m.AgentVersion)
        .join(m.Agent)
        .where(m.Agent.name == name, m.AgentVersion.source == "registry")
    )
    return [row for row in rows if _version_key(row.version) == (0, wanted)]


@dataclass(frozen=True)
class PackageRow:
    """One submitted package version, for ``arena agent list``."""

    name: str
    version: str
    kind: str
    envs: tuple[str, ...]
    content_hash: str
    submitted_at: datetime
    path: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "envs": list(self.envs),
            "hash": self.content_hash,
            "submitted_at": self.submitted_at.isoformat(),
            "path": self.path,
        }


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def _stored_envs(path: str | None) -> tuple[str, ...]:
    if not path:
        return ()
    try:
        return load_manifest(Path(path)).envs
    except (ArenaError, OSError):
        return ()


def list_packages(*, db_url: str | None = None) -> list[PackageRow]:
    """Submitted package versions (``source = "registry"``), by name then PEP 440 version."""
    with session_factory(connect(db_url))() as session:
        found = session.execute(
            select(m.Agent.name, m.AgentVersion)
            .join(m.AgentVersion.agent)
            .where(m.AgentVersion.source == "registry")
        ).all()
    rows = [
        PackageRow(
            name=name,
            version=row.version,
            kind=row.kind,
            envs=_stored_envs(row.path),
            content_hash=row.content_hash,
            submitted_at=row.created_at,
            path=row.path or "",
        )
        for name, row in found
    ]
    return sorted(rows, key=lambda r: (r.name, _version_key(r.version)))
