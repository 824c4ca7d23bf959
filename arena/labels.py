"""How an agent version is named wherever people see it: tables, legends, pages.

A version is ``name version`` (a person: the name alone). Two packages may both
say ``c4-center 0.1.0`` with different content, and then those words name two
different agents; every version whose ``name@version`` is shared by another
content hash gets a short hash after it (``c4-center 0.1.0 #3fa2c1``), and
unique ones stay as they are. The short hash is the shortest prefix (6
characters at least) that tells the group apart; ids that are not hex digests
(built-ins ``builtin:random@0.1.0``, people ``human:ada``) show their kind
(``#builtin``), or the whole id if even that is shared.

Which versions count as "shared" is the caller's scope: pass every version the
output can show (the report passes every version in the database, so a version
is named the same on every page).
"""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

MIN_HASH = 6  # characters of a short hash, at least

_HEX = frozenset(string.hexdigits)


class VersionName(NamedTuple):
    """What names a version: its agent's name, version and content hash."""

    name: str
    version: str
    hash: str  # the content hash: the version's identity
    human: bool = False  # a person: shown by name alone


def _short(content_hash: str, length: int) -> str:
    if content_hash and set(content_hash) <= _HEX:
        return content_hash[:length]
    if length == MIN_HASH and ":" in content_hash:
        return content_hash.split(":", 1)[0]
    return content_hash


def hash_tags(versions: Iterable[VersionName]) -> dict[str, str]:
    """Content hash -> ``#3fa2c1`` for versions whose ``name@version`` another hash shares.

    Versions with a ``name@version`` of their own get ``""``.
    """
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for v in versions:
        groups[(v.name, v.version)].add(v.hash)
    tags: dict[str, str] = {}
    for hashes in groups.values():
        if len(hashes) == 1:
            tags.update(dict.fromkeys(hashes, ""))
            continue
        length, longest = MIN_HASH, max(len(h) for h in hashes)
        while len({_short(h, length) for h in hashes}) < len(hashes) and length < longest:
            length += 1  # at full length distinct hashes are distinct
        tags.update({h: "#" + _short(h, length) for h in hashes})
    return tags


def version_text(version: str, tag: str) -> str:
    """The version column's text: ``0.1.0``, or ``0.1.0 #3fa2c1`` when it needs a tag."""
    return f"{version} {tag}" if tag else version


def version_label(v: VersionName, tag: str) -> str:
    """``name version`` (a person: ``name``), then the tag if there is one."""
    text = v.name if v.human else f"{v.name} {v.version}"
    return f"{text} {tag}" if tag else text


def distinct_labels(versions: Iterable[VersionName]) -> dict[str, str]:
    """Content hash -> the version's label, a short hash added where names are shared."""
    listed = list(versions)
    tags = hash_tags(listed)
    return {v.hash: version_label(v, tags[v.hash]) for v in listed}
