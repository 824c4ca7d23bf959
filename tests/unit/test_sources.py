"""``resolve_agent``: built-ins, package folders, the registry; ``content_hash``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from arena.errors import ArenaError
from arena.home import content_hash
from arena.registry import builtin_agents
from arena.sources import AgentLoadError, resolve_agent

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
GOOD = PACKAGES / "good-c4"


def unknown_message(spec: str) -> str:
    known = ", ".join(sorted(builtin_agents()))
    return (
        f"unknown agent '{spec}': not a built-in ({known}), a package folder, "
        "or a submitted name[@version]"
    )


# --- built-ins and paths -----------------------------------------------------------


@pytest.mark.parametrize("name", ["random", "one-ply"])
def test_builtin(name: str) -> None:
    source = resolve_agent(name)
    assert source.label == name
    assert source.builtin is builtin_agents()[name]
    assert source.info.source == "builtin"
    assert source.info.content_hash.startswith(f"builtin:{name}@")
    assert source.manifest is None and source.package_dir is None
    assert source.roles is None


def test_one_ply_supports_only_its_games() -> None:
    source = resolve_agent("one-ply")
    assert source.supports("connect_four_v3") and source.supports("tictactoe_v3")
    assert not source.supports("simple_tag_v3")
    assert resolve_agent("random").supports("simple_tag_v3")


def test_relative_path_with_base_dir() -> None:
    source = resolve_agent("good-c4", base_dir=PACKAGES)
    assert source.label == "good-c4"
    assert source.info.version == "1.0.0"
    assert source.info.source == "path"
    assert source.info.kind == "scripted"
    assert source.info.learning_type == "Scripted"
    assert source.info.path == str(GOOD)
    assert source.info.content_hash == content_hash(GOOD)
    assert source.envs == ("connect_four_v3", "tictactoe_v3")
    assert source.roles is None and source.can_fill("player")
    assert source.supports("tictactoe_v3") and not source.supports("simple_tag_v3")
    assert source.manifest is not None and source.manifest.entry == "first_legal:make_agent"


def test_relative_path_from_the_current_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PACKAGES)
    source = resolve_agent("./good-c4")
    assert source.label == "good-c4"
    assert source.info.path == str(GOOD)


def test_base_dir_is_ignored_for_absolute_paths(tmp_path: Path) -> None:
    assert resolve_agent(str(GOOD), base_dir=tmp_path).label == "good-c4"


def test_path_to_the_manifest_file() -> None:
    source = resolve_agent(str(GOOD / "agent.toml"))
    assert source.label == "good-c4"
    assert source.package_dir == GOOD


def test_file_that_is_not_the_manifest() -> None:
    spec = str(GOOD / "first_legal.py")
    with pytest.raises(ArenaError) as info:
        resolve_agent(spec)
    assert str(info.value) == (
        f"agent '{spec}': {spec} is a file; pass the package folder that holds agent.toml"
    )


def test_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(tmp_path))
    assert str(info.value) == f"{tmp_path}: no agent.toml found (an agent package needs one)"


def test_invalid_manifest_is_reported() -> None:
    package = PACKAGES / "typo-key"
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(package))
    assert str(info.value).startswith(f"{package / 'agent.toml'}: [agent].nmae: unknown key")


@pytest.mark.parametrize("spec", ["no-such-agent", "no-such-agent@1.0.0", "./no/such/folder"])
def test_unknown_agent(spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARENA_HOME", str(tmp_path))
    with pytest.raises(ArenaError) as info:
        resolve_agent(spec)
    assert str(info.value) == unknown_message(spec)


def test_resolving_does_not_import_the_code() -> None:
    # The manifest is read; the module (which raises at import) is not imported yet.
    source = resolve_agent(str(PACKAGES / "import-fails"))
    with pytest.raises(AgentLoadError) as info:
        source.factory()
    assert str(info.value) == (
        "importing 'broken' failed: RuntimeError: import-fails: deliberate failure at import"
    )
    assert "Traceback (most recent call last)" in info.value.detail
    assert "broken.py" in info.value.detail


def test_missing_callable() -> None:
    source = resolve_agent(str(PACKAGES / "no-callable"))
    with pytest.raises(AgentLoadError) as info:
        source.factory()
    assert str(info.value) == "module 'nocall' has no callable 'make_agent'"
    manifest = PACKAGES / "no-callable" / "agent.toml"
    assert info.value.detail == f"{manifest}: entry = 'nocall:make_agent'"


def test_importing_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # AGENT_PROTOCOL.md: "What an agent prints does not reach the match protocol";
    # `arena match --json` imports packages before it plays (check_import).
    resolve_agent(str(PACKAGES / "prints-on-import")).factory()
    captured = capsys.readouterr()
    assert "prints-on-import" not in captured.out
    assert "prints-on-import" not in captured.err


def test_import_leaves_no_trace_in_sys_path_or_modules() -> None:
    import sys

    path_before = list(sys.path)
    factory = resolve_agent(str(PACKAGES / "same-module-a")).factory()
    assert sys.path == path_before
    assert "agent" not in sys.modules and "strategy" not in sys.modules
    assert factory.__module__ == "agent"


# --- the registry under $ARENA_HOME/packages/<name>/<version>/ ----------------------


def submit(home: Path, name: str, version: str) -> Path:
    """Store a copy of good-c4 as ``name`` ``version``, as ``arena agent submit`` would."""
    folder = home / "packages" / name / version
    shutil.copytree(GOOD, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = folder / "agent.toml"
    text = manifest.read_text().replace('name = "good-c4"', f'name = "{name}"')
    manifest.write_text(text.replace('version = "1.0.0"', f'version = "{version}"'))
    return folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    submit(home, "reg-agent", "1.2.0")
    submit(home, "reg-agent", "1.10.0")
    (home / "packages" / "reg-agent" / "not-a-version").mkdir()
    monkeypatch.setenv("ARENA_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def test_registry_latest_is_pep440_ordered(home: Path) -> None:
    source = resolve_agent("reg-agent")
    assert source.info.version == "1.10.0"  # not 1.2.0, which sorts later as text
    assert source.info.source == "registry"
    assert source.package_dir == home / "packages" / "reg-agent" / "1.10.0"
    assert source.info.path == str(home / "packages" / "reg-agent" / "1.10.0")


def test_registry_pinned_version(home: Path) -> None:
    source = resolve_agent("reg-agent@1.2.0")
    assert source.info.version == "1.2.0"
    assert source.info.source == "registry"
    assert source.package_dir == home / "packages" / "reg-agent" / "1.2.0"


@pytest.mark.parametrize("spec", ["reg-agent@1.2", "reg-agent@1.2.0", "reg-agent@1.2.0.0"])
def test_registry_version_is_pep440_equal(home: Path, spec: str) -> None:
    source = resolve_agent(spec)  # the stored 1.2.0, whichever way it is spelt
    assert source.info.version == "1.2.0"
    assert source.package_dir == home / "packages" / "reg-agent" / "1.2.0"


def test_registry_major_only(home: Path) -> None:
    submit(home, "one-agent", "1.0.0")
    assert resolve_agent("one-agent@1").package_dir == home / "packages" / "one-agent" / "1.0.0"


def test_registry_invalid_version(home: Path) -> None:
    with pytest.raises(ArenaError) as info:
        resolve_agent("reg-agent@not-a-version")  # a folder of that name exists: not a version
    assert str(info.value) == (
        "reg-agent@not-a-version: 'not-a-version' is not a PEP 440 version (e.g. 1.0.0)"
    )


def test_registry_unknown_version(home: Path) -> None:
    with pytest.raises(ArenaError) as info:
        resolve_agent("reg-agent@9.9.9")
    assert str(info.value) == unknown_message("reg-agent@9.9.9")


def test_registry_name_without_versions(home: Path) -> None:
    (home / "packages" / "empty-agent").mkdir()
    with pytest.raises(ArenaError) as info:
        resolve_agent("empty-agent")
    assert str(info.value) == unknown_message("empty-agent")


def test_builtin_wins_over_registry(home: Path) -> None:
    submit(home, "random", "9.0.0")
    assert resolve_agent("random").info.source == "builtin"


def test_folder_wins_over_registry(home: Path) -> None:
    shutil.copytree(GOOD, home.parent / "reg-agent")  # ./reg-agent in the current folder
    assert resolve_agent("reg-agent").info.source == "path"


def test_registry_home_defaults_to_dot_arena(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARENA_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    submit(tmp_path / ".arena", "reg-agent", "2.0.0")
    assert resolve_agent("reg-agent").info.version == "2.0.0"


# --- content_hash ------------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "pkg"
    shutil.copytree(GOOD, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_hash_is_stable(package: Path) -> None:
    first = content_hash(package)
    assert len(first) == 64 and int(first, 16) >= 0
    assert content_hash(package) == first


def test_hash_ignores_location(package: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "other-name"
    shutil.copytree(package, copy)
    assert content_hash(copy) == content_hash(package)


def test_hash_ignores_caches(package: Path) -> None:
    before = content_hash(package)
    cache = package / "__pycache__"
    cache.mkdir()
    (cache / "first_legal.cpython-311.pyc").write_bytes(b"\x00compiled")
    (package / "stray.pyc").write_bytes(b"\x00compiled")
    (package / "stray.pyo").write_bytes(b"\x00compiled")
    (package / ".pytest_cache").mkdir()
    (package / ".pytest_cache" / "v").write_text("x")
    assert content_hash(package) == before


def test_hash_ignores_caches_after_running(package: Path) -> None:
    before = content_hash(package)
    resolve_agent(str(package)).factory()  # may write __pycache__
    assert content_hash(package) == before


def test_hash_changes_when_a_file_changes(package: Path) -> None:
    before = content_hash(package)
    (package / "greeting.txt").write_text("hello, changed\n")
    assert content_hash(package) != before


def test_hash_changes_when_a_file_is_renamed(package: Path) -> None:
    before = content_hash(package)
    (package / "greeting.txt").rename(package / "greeting2.txt")
    assert content_hash(package) != before


def test_hash_changes_when_a_file_moves_to_a_subfolder(package: Path) -> None:
    before = content_hash(package)
    (package / "data").mkdir()
    (package / "greeting.txt").rename(package / "data" / "greeting.txt")
    assert content_hash(package) != before


def test_hash_changes_when_a_file_is_added(package: Path) -> None:
    before = content_hash(package)
    (package / "weights.bin").write_bytes(b"")
    assert content_hash(package) != before
