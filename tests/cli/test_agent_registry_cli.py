"""``arena agent submit`` and ``arena agent list``: exact lines, exit codes, JSON."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.home import content_hash
from tests.conftest import EXAMPLE_C4

runner = CliRunner()


def arena(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr; the sandbox's one-time notice is left out of stderr."""
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox: ")
    )
    return result.exit_code, result.stdout, err


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "c4-heuristic"
    shutil.copytree(EXAMPLE_C4, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return folder


def test_submit_resubmit_and_refuse_changed_content(package: Path, arena_home: Path) -> None:
    digest = content_hash(package)
    dest = arena_home / "packages" / "c4-heuristic" / "1.0.0"

    code, out, err = arena("agent", "submit", str(package))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"ok: c4-heuristic 1.0.0 ({digest[:12]})"
    assert [line.split(":")[0] for line in lines[1:-1]] == [
        "  smoke match on connect_four_v3 as player",
        "  smoke match on connect_four_v3 as player",
    ]
    assert lines[-1] == f"submitted: c4-heuristic 1.0.0 (sha256 {digest[:12]}) to {dest}"
    assert content_hash(dest) == digest

    code, out, err = arena("agent", "submit", str(package))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"already submitted: c4-heuristic 1.0.0 (sha256 {digest[:12]})"

    with (package / "README.md").open("a") as f:
        f.write("\nOne more line.\n")
    new = content_hash(package)
    code, out, err = arena("agent", "submit", str(package))
    assert (code, out) == (1, "")
    assert err == (
        f"error: c4-heuristic 1.0.0 is already submitted with different content "
        f"(stored {digest[:12]}, new {new[:12]}); bump the version\n"
    )
    assert content_hash(dest) == digest


def test_submit_json_then_list_json_and_table(package: Path, arena_home: Path) -> None:
    code, out, err = arena("agent", "list", "--json")
    assert (code, out, err) == (0, "[]\n", "")
    code, out, _ = arena("agent", "list")
    assert (code, out) == (0, "no submitted packages yet (arena agent submit PATH)\n")

    code, out, err = arena("agent", "submit", str(package), "--json")
    assert code == 0, err
    report = json.loads(out)
    dest = arena_home / "packages" / "c4-heuristic" / "1.0.0"
    assert report["status"] == "submitted"
    assert (report["name"], report["version"], report["path"]) == (
        "c4-heuristic",
        "1.0.0",
        str(dest),
    )
    assert report["hash"] == content_hash(package)
    assert report["check"]["envs_checked"] == ["connect_four_v3"]
    code, out, _ = arena("agent", "submit", str(package), "--json")
    assert (code, json.loads(out)["status"]) == (0, "already submitted")

    code, out, err = arena("agent", "list", "--json")
    assert code == 0, err
    [row] = json.loads(out)
    assert {k: row[k] for k in ("name", "version", "kind", "envs", "hash", "path")} == {
        "name": "c4-heuristic",
        "version": "1.0.0",
        "kind": "scripted",
        "envs": ["connect_four_v3"],
        "hash": content_hash(package),
        "path": str(dest),
    }
    assert row["submitted_at"].startswith("20")

    code, out, _ = arena("agent", "list")
    assert code == 0
    assert "Submitted packages" in out
    assert "c4-heuristic" in out and content_hash(package)[:12] in out


def test_submitted_package_plays_by_name_and_version(package: Path) -> None:
    assert arena("agent", "submit", str(package))[0] == 0
    # The stored 1.0.0 under every PEP 440 spelling of it, and as the newest.
    for spec in ("c4-heuristic", "c4-heuristic@1.0.0", "c4-heuristic@1.0", "c4-heuristic@1"):
        code, out, err = arena(
            "match", "connect_four_v3", spec, "random", "--games", "2", "--no-record", "--json"
        )
        assert code == 0, err
        assert set(json.loads(out)["summary"]) == {"c4-heuristic", "random"}

    code, out, err = arena("match", "connect_four_v3", "c4-heuristic@1.1", "random")
    assert (code, out) == (1, "")
    assert err == (
        "error: unknown agent 'c4-heuristic@1.1': not a built-in (heuristic, minimax, negamax-2, "
        "negamax-4, one-ply, random, tag-chaser), a package folder, or a submitted name[@version]\n"
    )
    code, out, err = arena("match", "connect_four_v3", "c4-heuristic@latest", "random")
    assert (code, out) == (1, "")
    assert err == "error: c4-heuristic@latest: 'latest' is not a PEP 440 version (e.g. 1.0.0)\n"


def test_submit_an_archive(package: Path, tmp_path: Path, arena_home: Path) -> None:
    archive = tmp_path / "c4.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(package, arcname="c4-heuristic")
    code, out, err = arena("agent", "submit", str(archive))
    assert (code, err) == (0, "")
    dest = arena_home / "packages" / "c4-heuristic" / "1.0.0"
    digest = content_hash(package)
    assert out.splitlines()[-1] == f"submitted: c4-heuristic 1.0.0 (sha256 {digest[:12]}) to {dest}"
    assert content_hash(dest) == digest


def test_zip_slip_is_refused(tmp_path: Path, arena_home: Path) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(EXAMPLE_C4 / "agent.toml", "agent.toml")
        zf.writestr("../evil.py", "print('pwned')\n")
    code, out, err = arena("agent", "submit", str(archive))
    assert (code, out) == (1, "")
    assert err == (
        f"error: {archive}: member '../evil.py' points outside the package "
        "('..' in its path); refused\n"
    )
    assert not (arena_home / "packages").exists()
    assert list((arena_home / "cache").iterdir()) == []


def test_not_a_package(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = arena("agent", "submit", str(missing))
    assert (code, out) == (1, "")
    assert err == f"error: {missing}: not a package folder or a .zip / .tar.gz / .tgz archive\n"


def test_a_package_that_fails_its_check_is_not_stored(tmp_path: Path, arena_home: Path) -> None:
    pkg = tmp_path / "raiser"
    pkg.mkdir()
    (pkg / "agent.toml").write_text(
        '[agent]\nname="raiser"\nversion="1.0"\nentry="mod:make_agent"\nenvs=["tictactoe_v3"]\n'
    )
    (pkg / "mod.py").write_text(
        "class A:\n    def reset(self, *, seed=None):\n        pass\n"
        "    def act(self, obs, *, action_mask=None):\n        raise KeyError('no move')\n"
        "def make_agent(ctx):\n    return A()\n"
    )
    code, out, err = arena("agent", "submit", str(pkg))
    assert (code, out) == (1, "")
    assert err == (
        "error: agent 'raiser' failed its smoke match on tictactoe_v3 as player "
        "(seat player_1): error: KeyError: 'no move'\n"
    )
    assert not (arena_home / "packages").exists()
    assert arena("agent", "list", "--json")[1] == "[]\n"
