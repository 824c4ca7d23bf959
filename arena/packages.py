"""Submission: ``arena agent submit`` and ``arena agent list``.

``submit_package`` checks a package (a folder, or an archive unpacked by
:mod:`arena.archives`), stores an immutable copy in the package store
(:mod:`arena.package_store`, ``$ARENA_HOME/packages/<name>/<version>/``) and
records it in the database with ``source = "registry"``; ``list_packages``
reads those rows back. What a folder holds and how it is copied is
:mod:`arena.package_folder`.

A version is the same version under PEP 440 (``1.0`` is ``1.0.0``) on disk and
in the database alike, so content submitted under either is guarded by the
other. Refusals are one line naming the folder and the offending entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from arena import package_store
from arena.archives import is_archive, unpack_archive
from arena.errors import ArenaError
from arena.home import content_hash, max_package_bytes, sweep_store
from arena.manifest import load_manifest
from arena.package_folder import copy_folder, scan_folder
from arena.sources import package_source
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import ensure_agent_version

if TYPE_CHECKING:
    from arena.check import CheckReport


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

    Temporary folders that crashed writers left in the store are removed first.

    Raises:
        ArenaError: the package is unsafe or too big, fails ``check_package``, or
            its name and version are already stored with different content.
    """
    from arena.check import check_package  # plays matches: the runner, envs, agents

    limit = max_package_bytes(max_bytes)
    sweep_store()  # leftovers of writers that crashed (never a live writer's)
    if path.is_file() and is_archive(path):
        folder = unpack_archive(path, max_bytes=limit)
    elif path.is_dir():
        folder = path
    else:
        raise ArenaError(f"{path}: not a package folder or a .zip / .tar.gz / .tgz archive")
    entries = scan_folder(folder, max_bytes=limit)
    check = check_package(folder)
    name, version, digest = check.name, check.version, check.content_hash

    sessions = session_factory(connect(db_url))
    with sessions() as session:
        for row in _registry_rows(session, name, version):
            if row.content_hash != digest:
                raise _conflict(name, version, row.content_hash, digest)

    def build(tmp: Path) -> None:
        copy_folder(folder, entries, tmp, limit)
        if content_hash(tmp) != digest:
            raise ArenaError(f"{path}: the package changed while it was being submitted")

    dest, stored = package_store.put(name, version, build)
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


def _registry_rows(session: Any, name: str, version: str) -> list[m.AgentVersion]:
    """Registry rows of ``name`` whose version equals ``version`` under PEP 440."""
    wanted = package_store.parse_version(name, version)
    rows = session.scalars(
        select(m.AgentVersion)
        .join(m.Agent)
        .where(m.Agent.name == name, m.AgentVersion.source == "registry")
    )
    return [row for row in rows if package_store.same_version(row.version, wanted)]


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


def _stored_envs(path: str | None) -> tuple[str, ...]:
    if not path:
        return ()
    try:
        return load_manifest(Path(path)).envs
    except (ArenaError, OSError):
        return ()


def list_packages(*, db_url: str | None = None) -> list[PackageRow]:
    """Submitted package versions (``source = "registry"``), by name then PEP 440 version."""
    with session_factory(connect(db_url, read_only=True))() as session:
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
    return sorted(rows, key=lambda r: (r.name, package_store.version_key(r.version)))
