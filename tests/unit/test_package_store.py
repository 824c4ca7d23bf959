"""``arena.package_store``: one lookup of stored versions, PEP 440 equality everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from arena.errors import ArenaError
from arena.package_store import find, parse_version, put, registry_dir, same_version


def stored(*versions: str, name: str = "c4") -> dict[str, Path]:
    """Folders ``packages/<name>/<version>/`` as a submission leaves them (content unread)."""
    folders = {}
    for version in versions:
        folder = registry_dir() / name / version
        folder.mkdir(parents=True)
        folders[version] = folder
    return folders


@pytest.mark.parametrize("spec", ["1.0", "1.0.0", "1", "1.0.0.0", "v1.0"])
def test_an_equal_version_finds_the_stored_folder(spec: str) -> None:
    folders = stored("1.0.0", "1.10.0")
    assert find("c4", spec) == folders["1.0.0"]


def test_an_exactly_named_folder_wins_over_an_equal_one() -> None:
    folders = stored("1.0", "1.0.0")
    assert find("c4", "1.0.0") == folders["1.0.0"]
    assert find("c4", "1.0") == folders["1.0"]
    assert find("c4", "1") == folders["1.0"]  # first of the equal folders by name


def test_newest_wins_without_a_version(arena_home: Path) -> None:
    folders = stored("1.2.0", "1.10.0", "1.9")
    (registry_dir() / "c4" / "not-a-version").mkdir()
    (registry_dir() / "c4" / "9.0.0").write_text("a file, not a stored version\n")
    (registry_dir() / "c4" / ".2.0.0.tmp-host.1.2.ab12").mkdir()  # a writer's temporary folder
    assert find("c4") == folders["1.10.0"]  # not 1.9 or 1.2.0, which sort later as text


def test_a_pre_release_counts_as_newest() -> None:
    folders = stored("1.0.0", "2.0rc1")
    assert find("c4") == folders["2.0rc1"]
    assert find("c4", "2.0") is None  # 2.0rc1 < 2.0


def test_nothing_stored() -> None:
    assert find("c4") is None
    assert find("c4", "1.0") is None
    stored("1.0.0")
    assert find("c4", "2.0") is None
    assert find("other") is None
    (registry_dir() / "empty").mkdir()
    assert find("empty") is None


@pytest.mark.parametrize("version", ["latest", "1.0-beta-x", "", "1..0"])
def test_an_invalid_version_is_one_line_naming_it(version: str) -> None:
    stored("1.0.0")
    with pytest.raises(ArenaError) as info:
        find("c4", version)
    assert str(info.value) == f"c4@{version}: {version!r} is not a PEP 440 version (e.g. 1.0.0)"
    with pytest.raises(ArenaError) as info:
        parse_version("c4", version)
    assert str(info.value) == f"c4@{version}: {version!r} is not a PEP 440 version (e.g. 1.0.0)"


def test_same_version() -> None:
    assert same_version("1.0.0", Version("1"))
    assert same_version("1.0", Version("1.0.0"))
    assert not same_version("1.0.1", Version("1.0"))
    assert not same_version("1.0+cpu", Version("1.0"))
    assert not same_version("not-a-version", Version("1.0"))


def test_put_stores_once_and_finds_an_equal_version() -> None:
    calls: list[Path] = []

    def build(tmp: Path) -> None:
        calls.append(tmp)
        (tmp / "agent.toml").write_text("")

    dest, new = put("c4", "1.0.0", build)
    assert (dest, new) == (registry_dir() / "c4" / "1.0.0", True)
    assert (dest / "agent.toml").is_file()
    assert put("c4", "1.0", build) == (dest, False)  # equal version: not built again
    assert len(calls) == 1
    assert [p.name for p in dest.parent.iterdir()] == ["1.0.0"]
