"""Package archives, the size limit, folders and submission (``arena.archives``,
``arena.home``, ``arena.package_folder``, ``arena.packages``)."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from arena.archives import unpack_archive
from arena.check import CheckReport
from arena.errors import ArenaError
from arena.home import Budget, content_hash, max_package_bytes
from arena.package_folder import scan_folder
from arena.packages import list_packages, submit_package
from arena.result import AgentInfo
from arena.sources import package_source, resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import ensure_agent_version

GOOD = Path(__file__).resolve().parents[1] / "packages" / "good-c4"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


@pytest.fixture
def package(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "good-c4"
    shutil.copytree(GOOD, folder, ignore=SKIP)
    return folder


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (links not followed), relative."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def make_zip(folder: Path, out: Path, top: str | None = None) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.rglob("*")):
            rel = file.relative_to(folder).as_posix()
            zf.write(file, f"{top}/{rel}" if top else rel)
    return out


def make_tar(folder: Path, out: Path, top: str | None = None) -> Path:
    with tarfile.open(out, "w:gz") as tf:
        tf.add(folder, arcname=top or ".")
    return out


def add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def bad_tar(out: Path, member: tarfile.TarInfo) -> Path:
    """A tar.gz holding a valid manifest and one offending member."""
    with tarfile.open(out, "w:gz") as tf:
        add_bytes(tf, "agent.toml", (GOOD / "agent.toml").read_bytes())
        tf.addfile(member)
    return out


# --- good archives -----------------------------------------------------------------


@pytest.mark.parametrize("maker", [make_zip, make_tar], ids=["zip", "tar.gz"])
@pytest.mark.parametrize("top", [None, "good-c4-1.0.0"], ids=["root", "top-folder"])
def test_archive_resolves_with_the_folders_hash(
    package: Path, tmp_path: Path, arena_home: Path, maker, top: str | None
) -> None:
    suffix = ".zip" if maker is make_zip else ".tar.gz"
    archive = maker(package, tmp_path / f"good{suffix}", top)
    source = resolve_agent(str(archive))
    assert source.label == "good-c4"
    assert source.info.source == "path"
    assert source.info.content_hash == content_hash(package)
    assert source.package_dir is not None
    cache = arena_home / "cache"
    assert source.package_dir.is_relative_to(cache)
    assert len(list(cache.iterdir())) == 1  # one entry, no temporary leftovers
    assert (source.package_dir / "agent.toml").is_file()
    assert stat.S_IMODE((source.package_dir / "agent.toml").stat().st_mode) & 0o222 == 0
    # A second resolve reuses the cache entry.
    assert resolve_agent(str(archive)).package_dir == source.package_dir


def test_tgz_suffix_and_the_code_runs(package: Path, tmp_path: Path) -> None:
    archive = make_tar(package, tmp_path / "good.tgz")
    source = resolve_agent(str(archive))
    assert callable(source.factory())


def test_archive_without_manifest(tmp_path: Path, arena_home: Path) -> None:
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/agent.toml", "")
        zf.writestr("b/readme.txt", "")
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(archive))
    assert str(info.value) == (
        f"{archive}: no agent.toml at the archive root or in its single top-level folder"
    )
    assert list((arena_home / "cache").iterdir()) == []


def test_not_an_archive(tmp_path: Path) -> None:
    archive = tmp_path / "fake.zip"
    archive.write_text("not a zip")
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(archive))
    assert str(info.value) == f"{archive}: not a valid .zip archive: File is not a zip file"
    archive = tmp_path / "fake.tar.gz"
    archive.write_text("not a tar")
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(archive))
    assert str(info.value).startswith(f"{archive}: not a valid .tar.gz archive: ")


# --- unsafe archives ---------------------------------------------------------------


def refused(archive: Path, tmp_path: Path, arena_home: Path) -> str:
    """Resolve ``archive``; it must fail and leave every folder as it was."""
    before = tree(tmp_path)
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(archive))
    cache = arena_home / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []
    assert tree(tmp_path) - before <= {"arena-home", "arena-home/cache"}
    assert tree(tmp_path) >= before
    return str(info.value)


def test_zip_slip_is_refused(tmp_path: Path, arena_home: Path) -> None:
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("agent.toml", (GOOD / "agent.toml").read_bytes())
        zf.writestr("../evil.py", "print('pwned')\n")
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: member '../evil.py' points outside the package ('..' in its path); refused"
    )
    assert not (arena_home / "evil.py").exists() and not (tmp_path / "evil.py").exists()


def test_zip_symlink_is_refused(tmp_path: Path, arena_home: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("agent.toml", (GOOD / "agent.toml").read_bytes())
        link = zipfile.ZipInfo("passwd")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: member 'passwd' is a symbolic link (to '/etc/passwd'); "
        "archives may not contain links"
    )


def test_tar_absolute_path_is_refused(tmp_path: Path, arena_home: Path) -> None:
    target = tmp_path / "outside" / "evil.py"
    archive = tmp_path / "abs.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        add_bytes(tf, "agent.toml", (GOOD / "agent.toml").read_bytes())
        add_bytes(tf, str(target), b"print('pwned')\n")
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: member '{target}' has an absolute path; refused"
    )
    assert not target.exists()


def test_tar_symlink_to_etc_passwd_is_refused(tmp_path: Path, arena_home: Path) -> None:
    link = tarfile.TarInfo("pkg/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = bad_tar(tmp_path / "link.tar.gz", link)
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: member 'pkg/passwd' is a symbolic link (to '/etc/passwd'); "
        "archives may not contain links"
    )


def test_tar_hard_link_is_refused(tmp_path: Path, arena_home: Path) -> None:
    link = tarfile.TarInfo("shadow")
    link.type, link.linkname = tarfile.LNKTYPE, "/etc/shadow"
    archive = bad_tar(tmp_path / "hard.tar.gz", link)
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: member 'shadow' is a hard link (to '/etc/shadow'); "
        "archives may not contain links"
    )


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (tarfile.FIFOTYPE, "fifo"),
        (tarfile.CHRTYPE, "character device"),
        (tarfile.BLKTYPE, "block device"),
    ],
)
def test_tar_devices_and_fifos_are_refused(
    tmp_path: Path, arena_home: Path, kind: bytes, what: str
) -> None:
    member = tarfile.TarInfo("dev")
    member.type = kind
    archive = bad_tar(tmp_path / "dev.tar.gz", member)
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: member 'dev' is a {what}; only files and folders are allowed"
    )


def test_archive_over_the_limit_is_refused(
    package: Path, tmp_path: Path, arena_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (package / "weights.bin").write_bytes(b"\0" * 4000)  # compresses to almost nothing
    archive = make_zip(package, tmp_path / "big.zip")
    monkeypatch.setenv("ARENA_MAX_PACKAGE_MB", "0.002")  # 2097 bytes
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: unpacked size exceeds the limit of 2097 bytes at member 'weights.bin' "
        "(set ARENA_MAX_PACKAGE_MB to raise it)"
    )
    # The keyword wins over the environment; in MiB when it is whole.
    monkeypatch.setenv("ARENA_MAX_PACKAGE_MB", "bogus")
    with pytest.raises(ArenaError) as info:
        resolve_agent(str(archive))
    assert str(info.value) == "ARENA_MAX_PACKAGE_MB: expected a positive number of MiB, got 'bogus'"
    assert unpack_archive(archive, max_bytes=1024 * 1024).name != ""
    assert max_package_bytes(3 * 1024 * 1024) == 3 * 1024 * 1024
    monkeypatch.delenv("ARENA_MAX_PACKAGE_MB")
    assert max_package_bytes() == 256 * 1024 * 1024


def test_tar_over_the_limit_by_keyword(package: Path, tmp_path: Path, arena_home: Path) -> None:
    (package / "weights.bin").write_bytes(b"\0" * 4000)
    archive = make_tar(package, tmp_path / "big.tar.gz")
    with pytest.raises(ArenaError) as info:
        unpack_archive(archive, max_bytes=2000)
    assert str(info.value) == (
        f"{archive}: unpacked size exceeds the limit of 2000 bytes at member './weights.bin' "
        "(set ARENA_MAX_PACKAGE_MB to raise it)"
    )
    assert list((arena_home / "cache").iterdir()) == []


def test_zip_lying_about_its_size_is_refused(tmp_path: Path, arena_home: Path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("agent.toml", (GOOD / "agent.toml").read_bytes())
        zf.writestr("big.bin", b"\1" * 5000)
    data = bytearray(archive.read_bytes())
    size = (5000).to_bytes(4, "little")
    # Declare 10 bytes instead of 5000 in the local header and the central directory.
    for pos in [i for i in range(len(data) - 4) if data[i : i + 4] == size]:
        data[pos : pos + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    # zipfile stops at the declared size, then the checksum gives the lie away.
    assert refused(archive, tmp_path, arena_home) == (
        f"{archive}: not a valid .zip archive: Bad CRC-32 for file 'big.bin'"
    )


def test_bytes_are_counted_while_writing(tmp_path: Path) -> None:
    # Declared sizes are checked first; what is written is counted too.
    budget = Budget(tmp_path / "a.zip", 1000)
    with pytest.raises(ArenaError) as info:
        budget.copy(io.BytesIO(b"x" * 3 * 1024 * 1024), tmp_path / "out", "m.bin")
    assert str(info.value) == (
        f"{tmp_path / 'a.zip'}: unpacked size exceeds the limit of 1000 bytes at member 'm.bin' "
        "(set ARENA_MAX_PACKAGE_MB to raise it)"
    )


# --- folders -----------------------------------------------------------------------


def test_folder_over_the_limit_is_refused(package: Path, arena_home: Path) -> None:
    (package / "weights.bin").write_bytes(b"\0" * 4000)
    with pytest.raises(ArenaError) as info:
        submit_package(package, max_bytes=3000)
    assert str(info.value) == (
        f"{package}: size exceeds the limit of 3000 bytes at 'weights.bin' "
        "(set ARENA_MAX_PACKAGE_MB to raise it)"
    )
    assert not (arena_home / "packages").exists()


def test_folder_symlink_outside_is_refused(package: Path, arena_home: Path) -> None:
    (package / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(ArenaError) as info:
        submit_package(package)
    assert str(info.value) == (
        f"{package}: 'passwd' is a symbolic link to '/etc/passwd', outside the package; refused"
    )
    assert not (arena_home / "packages").exists()


def test_folder_fifo_is_refused(package: Path) -> None:
    os.mkfifo(package / "pipe")
    with pytest.raises(ArenaError) as info:
        scan_folder(package)
    assert str(info.value) == (
        f"{package}: entry 'pipe' is a fifo; only files and folders are allowed"
    )


# --- the registry ------------------------------------------------------------------


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the smoke matches of ``check_package`` by a manifest read; record calls."""
    calls: list[Path] = []

    def fake_check(path: Path, *, env_id: str | None = None, seed: int = 0) -> CheckReport:
        calls.append(path)
        info = package_source(path).info
        return CheckReport(info.name, info.version, info.content_hash)

    monkeypatch.setattr("arena.check.check_package", fake_check)
    return calls


def registry_rows() -> list[m.AgentVersion]:
    with session_factory(connect())() as session:
        return list(session.scalars(select(m.AgentVersion)))


def test_submit_stores_a_read_only_copy(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    report = submit_package(package)
    dest = arena_home / "packages" / "good-c4" / "1.0.0"
    assert (report.name, report.version, report.path, report.stored) == (
        "good-c4",
        "1.0.0",
        dest,
        True,
    )
    assert checks == [package]
    assert report.content_hash == content_hash(package) == content_hash(dest)
    assert tree(dest) == tree(package)
    for path in [dest, *dest.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0, path
    assert [p.name for p in dest.parent.iterdir()] == ["1.0.0"]  # no temporary folder left
    [row] = registry_rows()
    assert (row.version, row.content_hash, row.source, row.path) == (
        "1.0.0",
        report.content_hash,
        "registry",
        str(dest.resolve()),
    )


def test_resubmitting_identical_content_is_a_no_op(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    first = submit_package(package)
    again = submit_package(package)
    assert again.stored is False and again.content_hash == first.content_hash
    assert len(registry_rows()) == 1


def test_changed_content_under_the_same_version_is_refused(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    first = submit_package(package)
    (package / "greeting.txt").write_text("changed\n")
    new = content_hash(package)
    with pytest.raises(ArenaError) as info:
        submit_package(package)
    assert str(info.value) == (
        f"good-c4 1.0.0 is already submitted with different content "
        f"(stored {first.content_hash[:12]}, new {new[:12]}); bump the version"
    )
    assert content_hash(first.path) == first.content_hash
    assert len(registry_rows()) == 1


def test_database_guards_a_version_whose_folder_is_gone(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    first = submit_package(package)
    first.path.chmod(0o755)
    for file in first.path.iterdir():
        file.unlink()
    first.path.rmdir()
    (package / "greeting.txt").write_text("changed\n")
    with pytest.raises(ArenaError) as info:
        submit_package(package)
    assert str(info.value).startswith("good-c4 1.0.0 is already submitted with different content")
    assert not first.path.exists()


def test_name_and_name_at_version_resolve_to_the_stored_copy(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    manifest = package / "agent.toml"
    first = submit_package(package)
    manifest.write_text(manifest.read_text().replace('"1.0.0"', '"1.10.0"'))
    latest = submit_package(package)
    manifest.write_text(manifest.read_text().replace('"1.10.0"', '"1.2.0"'))
    submit_package(package)
    source = resolve_agent("good-c4")
    assert source.info.version == "1.10.0"  # PEP 440, not text order
    assert source.package_dir == latest.path
    assert (source.info.source, source.info.content_hash) == ("registry", latest.content_hash)
    pinned = resolve_agent("good-c4@1.0.0")
    assert pinned.package_dir == first.path
    assert pinned.info.content_hash == first.content_hash
    assert pinned.info.path == str(first.path.resolve())


def test_list_returns_registry_rows_only(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    with session_factory(connect()).begin() as session:  # played from a path, not submitted
        ensure_agent_version(
            session, AgentInfo("other", "0.1", "sha-other", "scripted", source="path", path="x")
        )
    manifest = package / "agent.toml"
    submit_package(package)
    manifest.write_text(manifest.read_text().replace('"1.0.0"', '"1.10.0"'))
    submit_package(package)
    manifest.write_text(manifest.read_text().replace('"1.10.0"', '"1.2.0"'))
    submit_package(package)
    rows = list_packages()
    assert [(r.name, r.version) for r in rows] == [
        ("good-c4", "1.0.0"),
        ("good-c4", "1.2.0"),
        ("good-c4", "1.10.0"),
    ]
    row = rows[0].to_dict()
    assert set(row) == {"name", "version", "kind", "envs", "hash", "submitted_at", "path"}
    assert row["kind"] == "scripted"
    assert row["envs"] == ["connect_four_v3", "tictactoe_v3"]
    assert len(row["hash"]) == 64 and row["submitted_at"][:2] == "20"


def test_submitting_content_played_before_from_a_path(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    info = package_source(package).info
    with session_factory(connect()).begin() as session:
        ensure_agent_version(session, info)
    report = submit_package(package)
    [row] = registry_rows()
    assert (row.content_hash, row.source, row.path) == (
        info.content_hash,
        "registry",
        str(report.path.resolve()),
    )
    assert [r.version for r in list_packages()] == ["1.0.0"]


def test_submit_an_archive(
    package: Path, tmp_path: Path, arena_home: Path, checks: list[Path]
) -> None:
    archive = make_tar(package, tmp_path / "good.tar.gz", "good-c4")
    report = submit_package(archive)
    assert report.stored and report.content_hash == content_hash(package)
    assert content_hash(report.path) == content_hash(package)
    assert submit_package(make_zip(package, tmp_path / "good.zip")).stored is False


def test_folder_symlink_inside_is_stored_as_a_copy(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    (package / "data").mkdir()
    (package / "data" / "w.txt").write_text("weights\n")
    (package / "w-link.txt").symlink_to("data/w.txt")
    (package / "data-link").symlink_to("data")
    report = submit_package(package)
    assert report.content_hash == content_hash(package) == content_hash(report.path)
    assert not (report.path / "w-link.txt").is_symlink()
    assert (report.path / "w-link.txt").read_text() == "weights\n"
    assert os.readlink(report.path / "data-link") == "data"


def test_a_failed_check_stores_nothing(tmp_path: Path, arena_home: Path) -> None:
    bad = tmp_path / "typo-key"
    shutil.copytree(GOOD.parent / "typo-key", bad, ignore=SKIP)
    with pytest.raises(ArenaError) as info:
        submit_package(bad)
    assert str(info.value).startswith(f"{bad / 'agent.toml'}: [agent].nmae: unknown key")
    assert not (arena_home / "packages").exists()


def test_not_a_package(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("")
    with pytest.raises(ArenaError) as info:
        submit_package(path)
    assert str(info.value) == f"{path}: not a package folder or a .zip / .tar.gz / .tgz archive"


def test_an_equal_pep440_version_counts_as_the_same_version(
    package: Path, arena_home: Path, checks: list[Path]
) -> None:
    first = submit_package(package)
    manifest = package / "agent.toml"
    manifest.write_text(manifest.read_text().replace('"1.0.0"', '"1.0"'))
    with pytest.raises(ArenaError) as info:
        submit_package(package)
    assert str(info.value) == (
        f"good-c4 1.0 is already submitted with different content "
        f"(stored {first.content_hash[:12]}, new {content_hash(package)[:12]}); bump the version"
    )
    assert [p.name for p in first.path.parent.iterdir()] == ["1.0.0"]
