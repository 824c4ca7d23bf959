"""``agent.toml`` validation: exact one-line errors naming the file and the key.

The messages are part of the public contract (AGENT_PROTOCOL.md: "Every error
names the file, the key and what was expected"), so they are asserted whole.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest

from arena.errors import ArenaError
from arena.manifest import AGENT_KEYS, KINDS, NAME_RE, Manifest, check_requires, load_manifest
from arena.registry import env_specs

VALID = {
    "name": '"c4-test"',
    "version": '"1.0.0"',
    "entry": '"negamax:make_agent"',
    "envs": '["connect_four_v3"]',
}


def write(tmp_path: Path, body: str) -> Path:
    """Write ``body`` as ``tmp_path/agent.toml``; return the manifest path."""
    path = tmp_path / "agent.toml"
    path.write_text(body, encoding="utf-8")
    return path


def agent_toml(tmp_path: Path, *, top: str = "", drop: tuple[str, ...] = (), **keys: str) -> Path:
    """A manifest from VALID with ``keys`` (TOML literals) replacing or adding entries."""
    fields = {k: v for k, v in {**VALID, **keys}.items() if k not in drop}
    lines = [top, "[agent]", *(f"{k} = {v}" for k, v in fields.items())]
    return write(tmp_path, "\n".join(lines) + "\n")


def error_of(tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(ArenaError) as info:
        load_manifest(tmp_path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    return message


# --- a valid manifest --------------------------------------------------------------


def test_minimal_manifest_defaults(tmp_path: Path) -> None:
    path = agent_toml(tmp_path)
    m = load_manifest(tmp_path, known_envs=set(env_specs()))
    assert m == Manifest(
        path=path,
        name="c4-test",
        version="1.0.0",
        entry="negamax:make_agent",
        envs=("connect_four_v3",),
    )
    assert m.kind == "other"
    assert m.learning_type == "" and m.description == ""
    assert m.authors == () and m.requires == ()
    assert m.roles is None  # all roles
    assert m.python_requires is None
    assert m.protocol == 1
    assert (m.module, m.callable_name) == ("negamax", "make_agent")


def test_full_manifest(tmp_path: Path) -> None:
    body = """
protocol = 1
[agent]
name = "c4.negamax_2"
version = "2.0.0rc1"
entry = "pkg.search:make_agent"
envs = ["connect_four_v3", "tictactoe_v3"]
kind = "search"
learning_type = "Tree search"
description = "Depth-4 negamax"
authors = ["A. Person <a@example.org>"]
roles = ["player"]
python_requires = ">=3.10"
requires = ["numpy>=1.24", "tomli>=2; python_version < '3.11'"]
"""
    write(tmp_path, body)
    m = load_manifest(tmp_path, known_envs=set(env_specs()))
    assert m.name == "c4.negamax_2" and m.version == "2.0.0rc1"
    assert (m.module, m.callable_name) == ("pkg.search", "make_agent")
    assert m.envs == ("connect_four_v3", "tictactoe_v3")
    assert m.kind == "search" and m.learning_type == "Tree search"
    assert m.description == "Depth-4 negamax"
    assert m.authors == ("A. Person <a@example.org>",)
    assert m.roles == ("player",)
    assert m.python_requires == ">=3.10"
    assert m.requires == ("numpy>=1.24", "tomli>=2; python_version < '3.11'")


@pytest.mark.parametrize("kind", KINDS)
def test_every_contract_kind_is_accepted(tmp_path: Path, kind: str) -> None:
    agent_toml(tmp_path, kind=f'"{kind}"')
    assert load_manifest(tmp_path).kind == kind


def test_contract_keys_are_the_known_keys() -> None:
    # AGENT_PROTOCOL.md lists exactly these [agent] keys and these kinds.
    assert list(AGENT_KEYS) == [
        "name", "version", "entry", "envs", "kind", "learning_type", "description",
        "authors", "roles", "python_requires", "requires",
    ]  # fmt: skip
    assert KINDS == (
        "tabular", "dqn", "maddpg", "sac", "policy-gradient", "search", "scripted", "human",
        "other",
    )  # fmt: skip


def test_known_envs_none_skips_the_env_check(tmp_path: Path) -> None:
    agent_toml(tmp_path, envs='["not_an_env_v0"]')
    assert load_manifest(tmp_path).envs == ("not_an_env_v0",)


# --- errors ------------------------------------------------------------------------


def test_no_manifest(tmp_path: Path) -> None:
    assert error_of(tmp_path) == (f"{tmp_path}: no agent.toml found (an agent package needs one)")


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[agent]\nname = \n")
    assert error_of(tmp_path).startswith(f"{path}: not valid TOML: ")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = agent_toml(tmp_path, top="protocl = 1")
    assert error_of(tmp_path) == (
        f"{path}: unknown key 'protocl' (expected one of: protocol, agent)"
    )


def test_misspelt_agent_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[agnet]\nname = "x"\n')
    assert error_of(tmp_path) == (f"{path}: unknown key 'agnet' (expected one of: protocol, agent)")


def test_missing_agent_table(tmp_path: Path) -> None:
    path = write(tmp_path, "protocol = 1\n")
    assert error_of(tmp_path) == f"{path}: missing [agent] table"


@pytest.mark.parametrize("value", ["2", "0", "true", '"1"'])
def test_unsupported_protocol(tmp_path: Path, value: str) -> None:
    path = agent_toml(tmp_path, top=f"protocol = {value}")
    shown = {"2": "2", "0": "0", "true": "True", '"1"': "'1'"}[value]
    assert error_of(tmp_path) == f"{path}: protocol: expected one of [1], got {shown}"


def test_unknown_agent_key_typo(tmp_path: Path) -> None:
    # A typo must not pass silently, and is reported as a typo rather than as
    # the missing key it hides.
    path = agent_toml(tmp_path, drop=("name",), nmae='"c4-test"')
    assert error_of(tmp_path) == (
        f"{path}: [agent].nmae: unknown key (expected one of: name, version, entry, envs, "
        "kind, learning_type, description, authors, roles, python_requires, requires)"
    )


def test_typo_key_fixture_package() -> None:
    package = Path(__file__).resolve().parents[1] / "packages" / "typo-key"
    with pytest.raises(ArenaError, match=r"\[agent\]\.nmae: unknown key") as info:
        load_manifest(package)
    assert str(info.value).startswith(f"{package / 'agent.toml'}: ")


@pytest.mark.parametrize(
    ("key", "expected"),
    [("name", "string"), ("version", "string"), ("entry", "string"), ("envs", "list of strings")],
)
def test_missing_required_key(tmp_path: Path, key: str, expected: str) -> None:
    path = agent_toml(tmp_path, drop=(key,))
    assert error_of(tmp_path) == f"{path}: [agent].{key}: missing required key ({expected})"


@pytest.mark.parametrize(
    ("key", "literal", "expected"),
    [
        ("envs", '"connect_four_v3"', "a list of strings, got str 'connect_four_v3'"),
        ("envs", '["connect_four_v3", 3]', "a list of strings, got list ['connect_four_v3', 3]"),
        ("name", "7", "a string, got int 7"),
        ("version", "1.0", "a string, got float 1.0"),
        ("authors", '"A. Person"', "a list of strings, got str 'A. Person'"),
        ("roles", '"player"', "a list of strings, got str 'player'"),
        ("requires", '"numpy"', "a list of strings, got str 'numpy'"),
        ("kind", '["search"]', "a string, got list ['search']"),
    ],
)
def test_wrong_type(tmp_path: Path, key: str, literal: str, expected: str) -> None:
    path = agent_toml(tmp_path, **{key: literal})
    assert error_of(tmp_path) == f"{path}: [agent].{key}: expected {expected}"


@pytest.mark.parametrize("name", ["C4-Agent", "-c4", "c4 agent", "", "a" * 64, "c4/agent"])
def test_bad_name(tmp_path: Path, name: str) -> None:
    path = agent_toml(tmp_path, name=f'"{name}"')
    assert error_of(tmp_path) == (
        f"{path}: [agent].name: {name!r} must match ^[a-z0-9][a-z0-9._-]{{0,62}}$ "
        "(lower-case letters, digits, '.', '_', '-')"
    )


def test_longest_name_is_accepted(tmp_path: Path) -> None:
    agent_toml(tmp_path, name=f'"{"a" * 63}"')
    assert load_manifest(tmp_path).name == "a" * 63


def test_name_with_trailing_newline_is_rejected(tmp_path: Path) -> None:
    # re.match with '$' accepts "c4-test\n"; the name becomes a registry folder name.
    path = agent_toml(tmp_path, name='"c4-test\\n"')
    assert error_of(tmp_path) == (
        f"{path}: [agent].name: 'c4-test\\n' must match {NAME_RE.pattern} "
        "(lower-case letters, digits, '.', '_', '-')"
    )


@pytest.mark.parametrize("version", ["one", "1.0.0-beta-x", "latest", ""])
def test_bad_version(tmp_path: Path, version: str) -> None:
    path = agent_toml(tmp_path, version=f'"{version}"')
    assert error_of(tmp_path) == (
        f"{path}: [agent].version: {version!r} is not a PEP 440 version (e.g. 1.0.0)"
    )


@pytest.mark.parametrize(
    "entry",
    ["negamax.make_agent", "negamax", "negamax:", ":make_agent", "nega-max:make_agent",
     "negamax:make_agent:x", "negamax:make_agent\\n"],
)  # fmt: skip
def test_bad_entry(tmp_path: Path, entry: str) -> None:
    path = agent_toml(tmp_path, entry=f'"{entry}"')
    shown = repr(entry.replace("\\n", "\n"))
    assert error_of(tmp_path) == (
        f"{path}: [agent].entry: {shown} must be 'module:callable' (e.g. 'negamax:make_agent')"
    )


def test_empty_envs(tmp_path: Path) -> None:
    path = agent_toml(tmp_path, envs="[]")
    assert error_of(tmp_path) == f"{path}: [agent].envs: must name at least one env"


def test_unknown_env(tmp_path: Path) -> None:
    path = agent_toml(tmp_path, envs='["connect_four_v3", "connect_five_v1"]')
    assert error_of(tmp_path, known_envs=set(env_specs())) == (
        f"{path}: [agent].envs: unknown env 'connect_five_v1' (run 'arena envs' for the list)"
    )


def test_unknown_kind(tmp_path: Path) -> None:
    path = agent_toml(tmp_path, kind='"genetic"')
    assert error_of(tmp_path) == (
        f"{path}: [agent].kind: 'genetic' is not one of: tabular, dqn, maddpg, sac, "
        "policy-gradient, search, scripted, human, other"
    )


def test_python_requires_excluding_this_python(tmp_path: Path) -> None:
    path = agent_toml(tmp_path, python_requires='"<3"')
    running = ".".join(map(str, sys.version_info[:3]))
    assert error_of(tmp_path) == (
        f"{path}: [agent].python_requires: '<3' excludes the arena's Python {running}"
    )


def test_python_requires_including_this_python(tmp_path: Path) -> None:
    agent_toml(tmp_path, python_requires=f'">={sys.version_info[0]}.{sys.version_info[1]}"')
    load_manifest(tmp_path)


def test_python_requires_not_a_specifier(tmp_path: Path) -> None:
    path = agent_toml(tmp_path, python_requires='"3.10+"')
    assert error_of(tmp_path) == (
        f"{path}: [agent].python_requires: '3.10+' is not a version specifier"
    )


@pytest.mark.parametrize("req", ["numpy >>= 1.0", "numpy=1.24", "-numpy"])
def test_bad_requires(tmp_path: Path, req: str) -> None:
    path = agent_toml(tmp_path, requires=f'["numpy>=1.24", "{req}"]')
    assert error_of(tmp_path) == f"{path}: [agent].requires: {req!r} is not a PEP 508 requirement"


# --- check_requires ----------------------------------------------------------------


def manifest_requiring(tmp_path: Path, *reqs: str) -> Manifest:
    listed = ", ".join(f'"{r}"' for r in reqs)
    agent_toml(tmp_path, requires=f"[{listed}]")
    return load_manifest(tmp_path)


def test_check_requires_satisfied(tmp_path: Path) -> None:
    check_requires(manifest_requiring(tmp_path, "numpy>=1.0", "NumPy", "packaging"))


def test_check_requires_skips_a_false_marker(tmp_path: Path) -> None:
    m = manifest_requiring(tmp_path, "no-such-dist-for-arena-tests; python_version < '3'")
    check_requires(m)


def test_check_requires_missing_distribution(tmp_path: Path) -> None:
    m = manifest_requiring(tmp_path, "numpy", "no-such-dist-for-arena-tests>=1.0")
    with pytest.raises(ArenaError) as info:
        check_requires(m)
    assert str(info.value) == (
        f"{m.path}: [agent].requires: 'no-such-dist-for-arena-tests' is not installed in the "
        "arena (the arena installs nothing; ask the organiser)"
    )


def test_check_requires_version_mismatch(tmp_path: Path) -> None:
    m = manifest_requiring(tmp_path, "numpy<1")
    with pytest.raises(ArenaError) as info:
        check_requires(m)
    assert str(info.value) == (
        f"{m.path}: [agent].requires: 'numpy<1' but the arena has numpy {dist_version('numpy')}"
    )


def fake_distribution(monkeypatch: pytest.MonkeyPatch, root: Path, name: str, ver: str) -> None:
    """Make ``importlib.metadata`` see an installed distribution ``name`` at ``ver``."""
    info = root / f"{name.replace('-', '_')}-{ver}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n")
    monkeypatch.syspath_prepend(str(root))


def test_check_requires_reads_installed_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distribution(monkeypatch, tmp_path / "site", "arena-fake-dist", "1.5.0")
    check_requires(manifest_requiring(tmp_path, "arena-fake-dist>=1.2,<2"))
    m = manifest_requiring(tmp_path, "arena_fake_dist>=2")
    with pytest.raises(ArenaError) as info:
        check_requires(m)
    assert str(info.value) == (
        f"{m.path}: [agent].requires: 'arena_fake_dist>=2' but the arena has arena_fake_dist 1.5.0"
    )


def test_check_requires_accepts_an_installed_prerelease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip (and `pip check`) count an installed 2.0.0rc1 as satisfying '>=1.0';
    # SpecifierSet.__contains__ excludes pre-releases unless told otherwise.
    fake_distribution(monkeypatch, tmp_path / "site", "arena-fake-pre", "2.0.0rc1")
    check_requires(manifest_requiring(tmp_path, "arena-fake-pre>=1.0"))


def test_messages_name_the_file_and_key(tmp_path: Path) -> None:
    # One sweep over the per-key errors: file path first, then [agent].<key>.
    cases = {
        "name": {"name": '"Bad Name"'},
        "version": {"version": '"x"'},
        "entry": {"entry": '"x"'},
        "envs": {"envs": '"x"'},
        "kind": {"kind": '"x"'},
        "python_requires": {"python_requires": '"x"'},
        "requires": {"requires": '["-x"]'},
        "roles": {"roles": "1"},
    }
    for key, change in cases.items():
        path = agent_toml(tmp_path, **change)
        message = error_of(tmp_path)
        assert re.match(rf"{re.escape(str(path))}: \[agent\]\.{key}: ", message), message
