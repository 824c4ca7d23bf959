"""A package folder as the store takes it: what it holds, checked, and its copy.

``scan_folder`` lists what a folder (one given to ``arena agent submit``, or an
archive unpacked by :mod:`arena.archives`) would store; ``copy_folder`` writes
exactly those entries elsewhere. Both go by :func:`arena.home.package_entries`,
so what is copied is what ``content_hash`` hashed: caches left out, links out of
the folder, devices, fifos and sockets refused by name.
"""

from __future__ import annotations

import os
from pathlib import Path

from arena.home import Budget, Entry, max_package_bytes, open_regular, package_entries, too_big


def scan_folder(folder: Path, *, max_bytes: int | None = None) -> list[Entry]:
    """What a package folder would store, checked: no links out, no devices, within the limit.

    Caches that ``content_hash`` ignores (``__pycache__``, ``.git``, ``.pyc``) are
    left out. A symlink is allowed when it resolves inside the folder: a linked
    file is stored as a copy, a linked folder as a relative link.

    Raises:
        ArenaError: a symlink that resolves outside the folder or nowhere, a device,
            fifo or socket, or more than the size limit in total.
    """
    limit = max_package_bytes(max_bytes)
    entries = package_entries(folder)
    used = 0
    for entry in entries:
        if entry.kind == "file":
            used += entry.size
            if used > limit:
                raise too_big(folder, str(entry.rel), limit, archive=False)
    return entries


def copy_folder(folder: Path, entries: list[Entry], dest: Path, limit: int) -> None:
    """Write ``folder``'s ``entries`` (from :func:`scan_folder`) into the empty folder ``dest``.

    Files are copied (a linked file as its target's bytes), counting the bytes
    actually read against ``limit``: a file may have grown since it was scanned.
    A linked folder becomes a relative link to the same place inside ``dest``.

    Raises:
        ArenaError: a file is no longer regular, or more than ``limit`` bytes.
    """
    root = folder.resolve()
    budget = Budget(folder, limit, archive=False)
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
            with open_regular(entry.source, folder, str(entry.rel)) as src:
                budget.copy(src, target, str(entry.rel))
