"""arena.labels: a short hash only where two contents share name@version."""

from __future__ import annotations

from arena.labels import VersionName, distinct_labels, hash_tags, version_text

A = "3fa2c1" + "0" * 58
B = "9b7e00" + "1" * 58


def test_unique_versions_keep_their_names() -> None:
    versions = [VersionName("c4-center", "0.1.0", A), VersionName("c4-edge", "0.1.0", B)]
    assert distinct_labels(versions) == {A: "c4-center 0.1.0", B: "c4-edge 0.1.0"}
    assert hash_tags(versions) == {A: "", B: ""}


def test_a_shared_name_and_version_gets_a_six_character_hash() -> None:
    versions = [
        VersionName("c4-center", "0.1.0", A),
        VersionName("c4-center", "0.1.0", B),
        VersionName("c4-center", "0.2.0", "c" * 64),  # another version: unique
    ]
    assert distinct_labels(versions) == {
        A: "c4-center 0.1.0 #3fa2c1",
        B: "c4-center 0.1.0 #9b7e00",
        "c" * 64: "c4-center 0.2.0",
    }
    assert version_text("0.1.0", hash_tags(versions)[A]) == "0.1.0 #3fa2c1"
    assert version_text("0.2.0", "") == "0.2.0"


def test_the_hash_grows_until_it_tells_the_versions_apart() -> None:
    a, b = "3fa2c1d" + "0" * 57, "3fa2c1e" + "0" * 57
    versions = [VersionName("x", "1", a), VersionName("x", "1", b)]
    assert hash_tags(versions) == {a: "#3fa2c1d", b: "#3fa2c1e"}


def test_built_ins_and_people() -> None:
    versions = [
        VersionName("random", "0.1.0", "builtin:random@0.1.0"),
        VersionName("random", "0.1.0", A),  # a package that calls itself random 0.1.0
        VersionName("ada", "1", "human:ada", human=True),
    ]
    assert distinct_labels(versions) == {
        "builtin:random@0.1.0": "random 0.1.0 #builtin",
        A: "random 0.1.0 #3fa2c1",
        "human:ada": "ada",
    }
