"""The package store: submitted packages on disk, ``$ARENA_HOME/packages/<name>/<version>/``.

One read-only folder per stored version, made visible by one atomic rename
(:func:`arena.home.publish`), so a version is either complete or absent.
:func:`find` is the one lookup: an agent spec ``name[@version]``
(:func:`arena.sources.resolve_agent`) and submission (:mod:`arena.packages`)
both go through it, so they cannot disagree about which folder a version is.

Versions are compared as PEP 440 versions (``packaging.version.Version``), never
as text. A release is a tuple of integers compared after padding the shorter
one with zeros, so ``1 == 1.0 == 1.0.0`` (``(1, 0, 0)`` each) and
``1.10.0 > 1.2.0`` (10 > 2, where text order says the opposite). Around a
release, ``1.0.dev1 < 1.0rc1 < 1.0 < 1.0.post1``; a local label counts
(``1.0+cpu != 1.0``). Folders whose names are not versions (the temporary
folders of writers, strays) are never a match.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from arena.errors import ArenaError
from arena.home import STORE_DIR, arena_home, publish


def registry_dir() -> Path:
    """``$ARENA_HOME/packages``: ``<name>/<version>/`` folders of submitted packages."""
    return arena_home() / STORE_DIR


def parse_version(name: str, version: str) -> Version:
    """``version`` as a PEP 440 version.

    Raises:
        ArenaError: one line naming ``name@version`` and the text that is not a version.
    """
    try:
        return Version(version)
    except InvalidVersion:
        raise ArenaError(
            f"{name}@{version}: {version!r} is not a PEP 440 version (e.g. 1.0.0)"
        ) from None


def version_key(text: str) -> tuple[int, Version | str]:
    """Sort key: PEP 440 versions in version order, then any other text in text order."""
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def same_version(stored: str, wanted: Version) -> bool:
    """Whether the stored version text equals ``wanted`` under PEP 440 (``1.0 == 1.0.0``)."""
    return version_key(stored) == (0, wanted)


def _stored(name: str) -> list[tuple[Version, Path]]:
    """``name``'s stored version folders with their versions, in folder-name order."""
    root = registry_dir() / name
    found: list[tuple[Version, Path]] = []
    with contextlib.suppress(OSError):  # no such name (or not a folder): nothing stored
        for child in sorted(root.iterdir()):
            with contextlib.suppress(InvalidVersion):
                if child.is_dir():
                    found.append((Version(child.name), child))
    return found


def find(name: str, version: str | None = None) -> Path | None:
    """The folder of ``name`` at a version equal to ``version``, or the newest; None if none.

    With a version, a folder named exactly so wins; else the first (by name) of
    the folders of an equal version: ``find("c4", "1.0")`` finds ``c4/1.0.0/``.
    Without one, the greatest version stored wins (a pre-release counts).

    Raises:
        ArenaError: ``version`` is not a PEP 440 version (one line naming it).
    """
    stored = _stored(name)
    if version is None:
        return max(stored)[1] if stored else None
    wanted = parse_version(name, version)
    equal = [folder for v, folder in stored if v == wanted]
    for folder in equal:
        if folder.name == version:
            return folder
    return equal[0] if equal else None


def put(name: str, version: str, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """Store ``name`` ``version``, written by ``build`` into an empty folder; return where.

    The second value is False when a version equal to ``version`` was stored
    already (``build`` is not called, the folder found is returned) or a
    concurrent writer stored it first.

    Raises:
        ArenaError: whatever ``build`` raises, or the store cannot be written.
    """
    dest = find(name, version) or registry_dir() / name / version
    if dest.exists():
        return dest, False
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest, publish(dest.parent, dest, build)
