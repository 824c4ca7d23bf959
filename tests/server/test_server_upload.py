"""Uploads: checking -> accepted, names owned by their first submitter, hostile archives,
the size limits (while streaming), the rate limit, and the CLI client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arena.storage import session_factory
from arena.storage.accounts import AgentOwner, Submission
from tests.conftest import EXAMPLE_C4
from tests.server.server_helpers import Site, make_site, package_copy, serving, tar_gz


def _c4(tmp_path: Path, name: str | None = None) -> bytes:
    return tar_gz(package_copy(tmp_path, name=name), top="c4")


def _count(site: Site) -> int:
    with session_factory(site.engine)() as session:
        return session.scalar(select(func.count()).select_from(Submission)) or 0


def test_upload_is_checked_then_accepted_and_listed(site: Site, tmp_path: Path) -> None:
    answer = site.upload("ada", "c4.tar.gz", _c4(tmp_path))
    assert (answer.status_code, answer.json()) == (202, {"submission": 1, "status": "checking"})
    waiting = site.submission("ada", 1).json()
    assert (waiting["status"], waiting["agent"], waiting["version"]) == (
        "checking",
        "c4-heuristic",
        "1.0.0",
    )

    assert site.work() == 1
    done = site.submission("ada", 1).json()
    assert {k: done[k] for k in ("status", "agent", "version", "reason")} == {
        "status": "accepted",
        "agent": "c4-heuristic",
        "version": "1.0.0",
        "reason": None,
    }
    agents = {a["name"]: a for a in site.client.get("/api/agents").json()}
    assert agents["c4-heuristic"]["owner"] == "ada"
    assert [v["source"] for v in agents["c4-heuristic"]["versions"]] == ["registry"]
    # The same content again is accepted and says so.
    site.upload("ada", "c4.tar.gz", _c4(tmp_path))
    site.work()
    again = site.submission("ada", 2).json()
    assert again["status"] == "accepted"
    assert again["reason"].startswith("already submitted: c4-heuristic 1.0.0 (sha256 ")


def test_another_users_agent_name_is_403(site: Site, tmp_path: Path) -> None:
    site.upload("ada", "c4.tar.gz", _c4(tmp_path))
    site.work()
    answer = site.upload("bob", "mine.tar.gz", _c4(tmp_path))
    assert answer.status_code == 403
    assert answer.json() == {
        "submission": 2,
        "status": "refused",
        "detail": "agent name 'c4-heuristic' belongs to another user; choose another name",
    }
    assert site.submission("bob", 2).json()["status"] == "refused"
    assert site.work() == 0  # nothing left to check
    # An organiser may still submit a new version under it; the name stays ada's.
    assert site.upload("prof", "c4.tar.gz", _c4(tmp_path)).status_code == 202
    with session_factory(site.engine)() as session:
        owners = session.execute(select(AgentOwner.agent_name, AgentOwner.user_id)).all()
    assert len(owners) == 1 and owners[0][0] == "c4-heuristic"


def test_a_name_claimed_while_both_wait_goes_to_the_first(site: Site, tmp_path: Path) -> None:
    assert site.upload("ada", "a.tar.gz", _c4(tmp_path)).status_code == 202
    assert site.upload("bob", "b.tar.gz", _c4(tmp_path)).status_code == 202
    assert site.work() == 2
    assert site.submission("ada", 1).json()["status"] == "accepted"
    second = site.submission("bob", 2).json()
    assert (second["status"], second["reason"]) == (
        "refused",
        "agent name 'c4-heuristic' belongs to another user; choose another name",
    )


def test_the_arenas_own_names_are_not_for_participants(site: Site, tmp_path: Path) -> None:
    from tests.server.server_helpers import record_match

    record_match(site.engine, "connect_four_v3", ["one-ply", "random"])
    answer = site.upload("ada", "x.tar.gz", _c4(tmp_path, name="one-ply"))
    assert answer.status_code == 403
    assert answer.json()["detail"] == (
        "agent name 'one-ply' is taken by an agent of the arena's own; choose another name"
    )


def test_path_traversal_is_refused_with_its_reason(site: Site, tmp_path: Path) -> None:
    data = tar_gz(package_copy(tmp_path), top="c4", extra={"c4/../evil.py": b"print('x')\n"})
    assert site.upload("ada", "slip.tar.gz", data).status_code == 202
    site.work()
    refused = site.submission("ada", 1).json()
    assert refused["status"] == "refused"
    assert refused["reason"] == (
        "slip.tar.gz: member 'c4/../evil.py' points outside the package ('..' in its path); refused"
    )
    assert refused["agent"] is None
    assert site.client.get("/api/agents").json() == []


def test_unpacked_size_over_the_package_limit_is_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path, max_package_bytes=64 * 1024)
    folder = package_copy(tmp_path)
    (folder / "weights.bin").write_bytes(b"\0" * 100_000)
    assert site.upload("ada", "big.tar.gz", tar_gz(folder, top="c4")).status_code == 202
    site.work()
    refused = site.submission("ada", 1).json()
    assert refused["status"] == "refused"
    assert refused["reason"] == (
        "big.tar.gz: unpacked size exceeds the limit of 65536 bytes at member 'c4/weights.bin' "
        "(set ARENA_MAX_PACKAGE_MB to raise it)"
    )


def _chunked_body(boundary: str, chunks: int, sent: list[int]) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="package"; '
        'filename="big.zip"\r\n\r\n'
    ).encode()
    for _ in range(chunks):
        sent.append(1)
        yield b"\0" * 65_536
    yield f"\r\n--{boundary}--\r\n".encode()


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(tmp_path: Path) -> None:
    site = make_site(tmp_path, max_upload_bytes=100_000)
    boundary = "xyzzy"
    answer = site.client.post(  # no Content-Length: the limit is counted while reading
        "/api/agents",
        headers={**site.auth("ada"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=_chunked_body(boundary, 100, []),
    )
    assert answer.status_code == 413
    assert answer.json()["detail"] == (
        "package: the upload exceeds the limit of 100000 bytes (the server's ARENA_MAX_UPLOAD_MB)"
    )
    assert _count(site) == 0
    assert list(site.settings.uploads.iterdir()) == []  # the partial file and its folder are gone

    declared = site.upload("ada", "big.zip", b"\0" * 200_000)  # Content-Length says it at once
    assert declared.status_code == 413


def test_the_reader_stops_at_the_limit_not_at_the_end(tmp_path: Path) -> None:
    import asyncio

    from server.uploads import UploadError, receive_package

    sent: list[int] = []

    async def stream() -> AsyncIterator[bytes]:
        for chunk in _chunked_body("b0", 100, sent):  # 6.4 MB if it were all read
            yield chunk

    with pytest.raises(UploadError) as refused:
        asyncio.run(
            receive_package(
                "multipart/form-data; boundary=b0", None, stream(), tmp_path, limit=100_000
            )
        )
    assert refused.value.status == 413
    assert len(sent) == 2  # the second 64 KiB chunk crossed the limit: nothing more was read
    assert list(tmp_path.iterdir()) == []


def test_bad_file_names_and_missing_files_are_400(site: Site) -> None:
    answer = site.upload("ada", "../../etc/c4.exe", b"x")
    assert answer.status_code == 400
    assert answer.json()["detail"] == (
        "package: name the file NAME.zip, NAME.tar.gz or NAME.tgz (letters, digits, '.', '_', '-')"
    )
    empty = site.client.post("/api/agents", headers=site.auth("ada"), data={"x": "1"})
    assert empty.status_code == 400


def test_uploads_are_rate_limited_per_user(tmp_path: Path) -> None:
    site = make_site(tmp_path, uploads_per_hour=2)
    data = _c4(tmp_path)
    assert [site.upload("ada", "c4.tar.gz", data).status_code for _ in range(2)] == [202, 202]
    third = site.upload("ada", "c4.tar.gz", data)
    assert third.status_code == 429
    assert third.json()["detail"].startswith("at most 2 uploads an hour; try again in ")
    assert 0 < int(third.headers["Retry-After"]) <= 3601
    assert site.upload("bob", "c4.tar.gz", data).status_code == 202  # a limit of his own
    assert site.upload("prof", "c4.tar.gz", data).status_code == 202  # organisers: no limit


def test_a_submission_is_its_uploaders_and_the_organisers(site: Site, tmp_path: Path) -> None:
    site.upload("ada", "c4.tar.gz", _c4(tmp_path))
    assert site.submission("bob", 1).status_code == 404
    assert site.submission("prof", 1).status_code == 200
    assert site.client.get("/api/submissions/1").status_code == 401


def test_the_cli_client_uploads_to_a_running_server(tmp_path: Path) -> None:
    from arena.errors import ArenaError
    from arena.remote_submit import submit_remote
    from server.worker import Worker

    site = make_site(tmp_path, poll_s=0.1)
    with serving(site) as url:
        state = submit_remote(url, site.tokens["ada"], EXAMPLE_C4, wait=False)
        assert (state["status"], state["agent"], state["version"]) == (
            "checking",
            "c4-heuristic",
            "1.0.0",
        )
        site.work()
        worker = Worker(site.engine, site.settings)  # as arena serve runs it: a thread
        worker.start()
        try:
            done = submit_remote(
                url, site.tokens["ada"], EXAMPLE_C4, wait=True, poll_s=0.1, timeout_s=60
            )
        finally:
            worker.stop()
        assert (done["status"], done["reason"][:18]) == ("accepted", "already submitted:")
        with pytest.raises(ArenaError, match=r"upload refused \(401\): the token is unknown"):
            submit_remote(url, "not-a-token", EXAMPLE_C4, wait=False)


def test_arena_agent_submit_with_server_and_token(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from arena.cli import app
    from server.worker import Worker

    site = make_site(tmp_path, poll_s=0.1)
    runner = CliRunner()
    with serving(site) as url:
        sent = runner.invoke(
            app,
            ["agent", "submit", str(EXAMPLE_C4), "--server", url, "--no-wait"],
            env={"ARENA_TOKEN": site.tokens["ada"], "COLUMNS": "80"},
        )
        assert sent.exit_code == 0, sent.output
        assert sent.output.strip().startswith("checking: c4-heuristic 1.0.0 (submission 1)")
        site.work()
        worker = Worker(site.engine, site.settings)  # checks the waited-for upload
        worker.start()
        try:
            waited = runner.invoke(
                app,
                [
                    "agent",
                    "submit",
                    str(EXAMPLE_C4),
                    "--server",
                    url,
                    "--token",
                    site.tokens["ada"],
                ],
            )
        finally:
            worker.stop()
        assert waited.exit_code == 0, waited.output
        assert "accepted: c4-heuristic 1.0.0 (submission 2)" in waited.output
        taken = runner.invoke(
            app,
            ["agent", "submit", str(EXAMPLE_C4), "--server", url, "--token", site.tokens["bob"]],
        )
        assert taken.exit_code == 1
        assert "refused: c4-heuristic 1.0.0 (submission 3)" in taken.output
        no_token = runner.invoke(
            app, ["agent", "submit", str(EXAMPLE_C4), "--server", url], env={"ARENA_TOKEN": ""}
        )
        assert no_token.exit_code == 1
        assert "--server needs --token TOKEN (or ARENA_TOKEN)" in no_token.output
    # Nothing was stored in the local package store: the upload went to the server.
    assert not (tmp_path / "home" / "packages").exists()
