"""How the report names agent versions: one :class:`Naming` for every page.

The rule is :mod:`arena.labels`' (a short hash only where ``name@version`` is
shared by two contents); its scope here is every version in the database, so a
version reads the same on the index, the env and tournament pages, the plots
and the replays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from arena.labels import VersionName, hash_tags, version_label, version_text
from arena.storage.queries.agents import AgentVersionRow
from tournaments.report import reads
from tournaments.report.data import HUMAN_KIND


@dataclass(frozen=True)
class Naming:
    """Labels and hash tags by content hash, and every version by id."""

    labels: Mapping[str, str]  # hash -> "c4-center 0.1.0 #3fa2c1" (a person: the name)
    tags: Mapping[str, str]  # hash -> "#3fa2c1", or "" when name@version is unique
    versions: Mapping[int, AgentVersionRow]  # agent version id -> row

    def label(self, content_hash: str, fallback: str = "?") -> str:
        return self.labels.get(content_hash, fallback)

    def version(self, version: str, content_hash: str) -> str:
        """A version cell: ``0.1.0``, or ``0.1.0 #3fa2c1``."""
        return version_text(version, self.tags.get(content_hash, ""))

    def player(self, label: str, content_hash: str) -> str:
        """A match's player: its stored label, or its version's label when that needs a tag.

        Stored labels are unique in one match only (``c4-center``, ``c4-center#2``);
        a version that shares ``name@version`` is named by its version instead.
        """
        return self.labels[content_hash] if self.tags.get(content_hash) else label

    def hash_of(self, version_id: int | None) -> str:
        row = None if version_id is None else self.versions.get(version_id)
        return "" if row is None else row.hash


def naming(engine: Engine) -> Naming:
    """Every version in the database, named by :mod:`arena.labels`."""
    versions = reads.all_versions(engine)
    names = [
        VersionName(v.agent, v.version, v.hash, v.kind == HUMAN_KIND) for v in versions.values()
    ]
    tags = hash_tags(names)
    labels = {v.hash: version_label(v, tags[v.hash]) for v in names}
    return Naming(labels, tags, versions)
