"""Package archives: ``.zip`` / ``.tar.gz`` / ``.tgz`` unpacked into the cache.

``unpack_archive`` turns an archive into a read-only folder under
``$ARENA_HOME/cache/<sha256 of the archive>/``. Nothing is written outside a
fresh temporary folder, and the cache entry becomes visible only by one atomic
rename, once it is complete and read-only. Refusals are one line naming the
archive and the offending member: an absolute path, ``..``, a link, a device,
fifo or socket, more than the size limit, no manifest.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO

from arena.errors import ArenaError
from arena.home import (
    SPECIAL_KINDS,
    Budget,
    arena_home,
    max_package_bytes,
    not_regular,
    open_regular,
    publish,
    special_kind,
    sweep_store,
    too_big,
)
from arena.manifest import MANIFEST

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
_CHUNK = 1024 * 1024
_IGNORED_TOP = {"__MACOSX"}  # resource forks macOS adds next to a zipped folder


def is_archive(path: Path) -> bool:
    """Whether ``path`` is named like an archive the arena unpacks."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, path.parent, path.name) as f:
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


def _special_error(archive: Path, name: str, what: str) -> ArenaError:
    return not_regular(archive, name, what, noun="member")


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
            raise _special_error(archive, info.filename, SPECIAL_KINDS.get(fmt, "special file"))
        if rel is None:
            continue
        is_dir = info.is_dir() or fmt == stat.S_IFDIR
        if not is_dir:
            declared += info.file_size
            if declared > limit:
                raise too_big(archive, info.filename, limit)
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
                raise too_big(archive, member.name, limit)

        def opener(member: tarfile.TarInfo = member) -> IO[bytes]:
            stream = tf.extractfile(member)
            assert stream is not None  # a regular file always has a stream
            return stream

        plan.append((rel, member.isdir(), opener))
    return plan


def _write_plan(archive: Path, plan: _Plan, dest: Path, limit: int) -> None:
    budget = Budget(archive, limit)
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
        ArenaError: not a regular file or not a valid archive, an unsafe member
            (absolute path, ``..``, a link, a device, fifo or socket), more than
            the size limit unpacked, or no manifest at the root or in the single
            top-level folder.
    """
    limit = max_package_bytes(max_bytes)
    if not is_archive(archive):
        raise ArenaError(f"{archive}: not a .zip, .tar.gz or .tgz archive")
    mode = archive.stat().st_mode  # a fifo named x.zip would block the first read
    if not stat.S_ISREG(mode):
        raise ArenaError(f"{archive}: is a {special_kind(mode)}, not a regular file")
    home = arena_home().absolute()
    cache = home / "cache"
    dest = cache / _file_sha256(archive)
    if not dest.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        sweep_store(home)

        def build(tmp: Path) -> None:
            _extract(archive, tmp, limit)
            _package_root(archive, tmp)

        publish(cache, dest, build)
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
