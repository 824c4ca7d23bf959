"""``arena agent check`` takes the archives ``submit`` takes, and shows what a failing agent
printed in its smoke match."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import app
from tests.conftest import EXAMPLE_C4, ROOT

runner = CliRunner()
TYPO = ROOT / "tests" / "packages" / "typo-key"
CHATTY_FAILER = """\
class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, obs, *, action_mask=None):
        for i in range(25):
            print(f"thinking {i}")
        raise KeyError("no move")


def make_agent(ctx):
    return Agent()
"""


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def zipped(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if "__pycache__" not in path.parts:
                zf.write(path, Path(folder.name) / path.relative_to(folder))
    return dest


def tarred(folder: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tf:
        tf.add(folder, arcname=".", filter=lambda t: None if "__pycache__" in t.name else t)
    return dest


def chatty(tmp_path: Path) -> Path:
    pkg = tmp_path / "chatty"
    pkg.mkdir()
    (pkg / "agent.toml").write_text(
        '[agent]\nname = "chatty"\nversion = "1.0"\nentry = "mod:make_agent"\n'
        'envs = ["tictactoe_v3"]\n'
    )
    (pkg / "mod.py").write_text(CHATTY_FAILER)
    for path in (tmp_path, pkg, *pkg.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the sandbox's user reads it
    return pkg


@pytest.mark.parametrize("pack", [zipped, tarred], ids=["zip", "tar.gz"])
def test_check_takes_an_archive_and_reports_the_folders_hash(
    pack: Callable[[Path, Path], Path], tmp_path: Path
) -> None:
    code, folder_out, err = arena("agent", "check", str(EXAMPLE_C4))
    assert code == 0, err
    archive = pack(EXAMPLE_C4, tmp_path / ("c4.zip" if pack is zipped else "c4.tar.gz"))
    code, out, err = arena("agent", "check", str(archive))
    assert (code, err) == (0, "")
    assert out == folder_out  # same name, version, hash and smoke matches
    assert out.startswith("ok: c4-heuristic 1.0.0 (")


def test_an_archives_errors_name_the_archive(tmp_path: Path) -> None:
    code, _, folder_err = arena("agent", "check", str(TYPO))
    assert code == 1 and folder_err.startswith(f"error: {TYPO}/agent.toml: [agent].nmae: ")
    archive = zipped(TYPO, tmp_path / "typo.zip")
    code, out, err = arena("agent", "check", str(archive))
    assert (code, out) == (1, "")
    assert err == folder_err.replace(str(TYPO), str(archive))

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.py", "x = 1\n")
    code, _, err = arena("agent", "check", str(evil))
    assert (code, err) == (
        1,
        f"error: {evil}: member '../escape.py' points outside the package ('..' in its path); "
        "refused\n",
    )
    not_one = tmp_path / "notes.txt"
    not_one.write_text("hi")
    code, _, err = arena("agent", "check", str(not_one))
    assert (code, err) == (
        1,
        f"error: {not_one}: not a package folder or a .zip / .tar.gz / .tgz archive\n",
    )


def test_a_failed_smoke_match_shows_the_agents_last_lines(tmp_path: Path) -> None:
    pkg = chatty(tmp_path)
    failure = (
        "error: agent 'chatty' failed its smoke match on tictactoe_v3 as player "
        "(seat player_1): error: KeyError: 'no move'\n"
    )
    tail = "".join(f"  | thinking {i}\n" for i in range(5, 25))
    code, out, err = arena("agent", "check", str(pkg))
    assert (code, out) == (1, "")
    assert err == (
        "agent 'chatty' printed in the smoke match (last 20 of 25 lines):\n" + tail + failure
    )

    archive = tarred(pkg, tmp_path / "chatty.tgz")
    shutil.rmtree(pkg)
    code, _, err = arena("agent", "check", str(archive))
    assert code == 1
    assert err.endswith(tail + f"error: {archive}: " + failure.removeprefix("error: "))

    code, _, err = arena("-v", "agent", "check", str(archive))
    assert f'File "{archive}/mod.py", line 8, in act' in err  # not the folder it unpacked to


def test_an_archive_member_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        manifest = tarfile.TarInfo("agent.toml")
        data = b'[agent]\nname="x"\nversion="1"\nentry="m:f"\nenvs=["tictactoe_v3"]\n'
        manifest.size = len(data)
        tf.addfile(manifest, io.BytesIO(data))
        link = tarfile.TarInfo("m.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    code, _, err = arena("agent", "check", str(archive))
    assert (code, err) == (
        1,
        f"error: {archive}: member 'm.py' is a symbolic link (to '/etc/passwd'); "
        "archives may not contain links\n",
    )
