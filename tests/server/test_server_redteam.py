"""The web service attacked as a clever participant would (docs/server.md, "Threat model").

Each test is one attack and the exact refusal: bodies too big for the calls
that take JSON or a form, ids past what the database can hold, a flood of
event streams, a spoofed client address, and a session cookie kept after
signing out.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette's notice that httpx2 exists
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from server.guards import MAX_BODY_BYTES, MAX_ID, SlotStream, StreamSlots
from server.play_api import games_of
from server.settings import UPLOAD_ATTEMPTS_PER_UPLOAD
from server.tournament_queue import HIDDEN_ERROR
from server.uploads import MAX_PARTS
from tests.server.server_helpers import Site, make_site, record_match

HUGE = "9" * 30  # past any database integer


def _json(site: Site, url: str, body: bytes, user: str = "ada") -> object:
    return site.client.post(
        url, content=body, headers={**site.auth(user), "content-type": "application/json"}
    )


@pytest.mark.parametrize("url", ["/api/games", "/api/games/1/moves"])
def test_a_json_body_over_the_limit_is_413_before_it_is_read(site: Site, url: str) -> None:
    # 1 MiB of env name: it used to be read whole and echoed back in the 400's message.
    body = b'{"env": "' + b"x" * 2**20 + b'", "opponent": "random", "action": 1}'
    answer = _json(site, url, body)
    assert answer.status_code == 413  # type: ignore[attr-defined]
    assert answer.json() == {  # type: ignore[attr-defined]
        "detail": f"the request body is over {MAX_BODY_BYTES // 1024} KiB"
    }


def test_a_body_over_the_limit_without_a_length_is_413_too(site: Site) -> None:
    def chunks():  # a chunked body declares no Content-Length
        for _ in range(20):
            yield b" " * 8192

    answer = site.client.post(
        "/api/games",
        content=chunks(),
        headers={**site.auth("ada"), "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert "over" in answer.json()["detail"]


def test_a_huge_sign_in_or_sign_out_form_is_413(site: Site) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    big = b"token=" + b"a" * (MAX_BODY_BYTES + 1)
    for url in ("/login", "/logout"):
        answer = site.client.post(url, content=big, headers=form)
        assert answer.status_code == 413
        assert answer.text == f"the request body is over {MAX_BODY_BYTES // 1024} KiB"
        assert answer.headers["x-frame-options"] == "DENY"  # still the site's headers


def test_a_small_body_still_works_and_deep_nesting_is_a_400(site: Site) -> None:
    started = site.client.post(
        "/api/games", json={"env": "tictactoe_v3", "opponent": "random"}, headers=site.auth("ada")
    )
    assert started.status_code == 201
    deep = b"[" * 30_000 + b"]" * 30_000  # under the size limit, deeper than any parser's stack
    answer = _json(site, f"/api/games/{started.json()['id']}/moves", deep)
    assert answer.status_code == 400  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/matches/{HUGE}",
        f"/matches/{HUGE}",
        f"/api/submissions/{HUGE}",
        f"/api/tournaments/{HUGE}",
        f"/api/matches/{HUGE}/logs",
        f"/api/matches/{HUGE}/frames/0.png",
        f"/api/matches/1/frames/{HUGE}.png",
        f"/api/games/{HUGE}",
        f"/api/matches/{MAX_ID + 1}",
    ],
)
def test_an_id_past_the_databases_integers_is_a_422_not_a_500(site: Site, url: str) -> None:
    client = TestClient(site.client.app, raise_server_exceptions=False)
    answer = client.get(url, headers=site.auth("ada"))
    assert answer.status_code == 422
    assert "less than or equal to" in answer.text
    assert "Traceback" not in answer.text


def test_an_id_at_the_limit_is_a_plain_404(site: Site) -> None:
    answer = site.client.get(f"/api/matches/{MAX_ID}")
    assert answer.status_code == 404
    assert answer.json() == {"detail": f"no match with id {MAX_ID} in the database"}


def test_event_streams_are_capped_per_client_and_in_all(site: Site) -> None:
    slots = site.client.app.state.arena.streams  # type: ignore[attr-defined]
    assert site.client.get("/api/events?follow=false").status_code == 200
    assert slots.open() == 0  # a finished stream gives its slot back
    taken = [slots.take("testclient") for _ in range(slots.per_client)]
    assert all(taken)
    refused = site.client.get("/api/events?follow=false")
    assert refused.status_code == 503
    assert refused.json() == {
        "detail": f"at most {slots.per_client} event streams per client; close one"
    }
    assert refused.headers["retry-after"] == "30"
    for _ in taken:
        slots.give("testclient")
    others = [slots.take(f"10.0.0.{i}") for i in range(slots.total)]
    assert all(others)
    busy = site.client.get("/api/events?follow=false")
    assert busy.status_code == 503
    assert busy.json() == {"detail": "the server has too many event streams open; try later"}


def test_a_spoofed_forwarded_address_does_not_reset_the_sign_in_limit(site: Site) -> None:
    limit = site.settings.logins_per_minute
    answers = []
    for i in range(limit + 2):
        page = site.client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        answers.append(
            site.client.post(
                "/login",
                data={"csrf": csrf.group(1), "token": "wrong"},
                headers={"X-Forwarded-For": f"10.1.2.{i}", "X-Real-IP": f"10.1.3.{i}"},
                follow_redirects=False,
            ).status_code
        )
    assert answers[:limit] == [401] * limit
    assert answers[limit:] == [429, 429]


def test_a_cookie_kept_after_sign_out_signs_nobody_in(site: Site) -> None:
    page = site.client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    site.client.post("/login", data={"csrf": csrf.group(1), "token": site.tokens["ada"]})
    kept = site.client.cookies.get("arena_session")
    assert kept
    signed = re.search(r'name="csrf" value="([^"]+)"', site.client.get("/submit").text)
    assert signed is not None
    site.client.post("/logout", data={"csrf": signed.group(1)})
    site.client.cookies.set("arena_session", kept)
    assert '<span class="who">' not in site.client.get("/submit").text
    answer = site.client.post(
        "/api/games",
        json={"env": "tictactoe_v3", "opponent": "random"},
        headers={"X-CSRF-Token": signed.group(1)},
    )
    assert answer.status_code == 401


SCHEDULED = (
    '[tournament]\nname = "ttt-nightly"\nenv = "tictactoe_v3"\nseed = 1\n'
    'games_per_pairing = 2\nformat = "round-robin"\n[schedule]\nevery = "24h"\n'
    + "".join(f'[[entrants]]\nagent = "{a}"\n' for a in ("random", "one-ply"))
)


def test_a_tournaments_json_never_shows_the_servers_folders(site: Site) -> None:
    posted = site.client.post("/api/tournaments", content=SCHEDULED, headers=site.auth("prof"))
    assert posted.status_code == 202
    folder = str(site.settings.folder)
    for user in (None, "ada"):  # an anonymous visitor, another participant
        headers = {} if user is None else site.auth(user)
        data = site.client.get("/api/tournaments/by-name/ttt-nightly", headers=headers)
        assert data.status_code == 200
        assert data.json()["schedule"]["every"] == "1d"
        assert "source_path" not in data.json()["schedule"]
        assert folder not in data.text
        for url in ("/api/schedules", "/api/tournaments", "/tournaments/ttt-nightly"):
            assert folder not in site.client.get(url, headers=headers).text


def test_a_realtime_game_takes_one_socket_at_a_time(site: Site) -> None:
    # Each socket holds a worker thread while it waits for frames: many sockets on
    # one's own game would starve every other request of threads.
    from starlette.websockets import WebSocketDisconnect

    try:
        state = site.client.post(
            "/api/games",
            json={"env": "simple_tag_v3", "opponent": "random"},
            headers=site.auth("ada"),
        ).json()
        url = f"/api/games/{state['id']}/ws"
        with site.client.websocket_connect(url, headers=site.auth("ada")) as first:
            assert first.receive_json()["id"] == state["id"]
            with pytest.raises(WebSocketDisconnect) as refused:
                with site.client.websocket_connect(url, headers=site.auth("ada")) as second:
                    second.receive_json()
            assert refused.value.code == 1008
            assert refused.value.reason == f"game {state['id']} is open on another page; close it"
        # Closed: the game takes a socket again.
        with site.client.websocket_connect(url, headers=site.auth("ada")) as again:
            assert again.receive_json()["id"] == state["id"]
    finally:
        games_of(site.client.app).close()  # type: ignore[arg-type]


def test_a_failed_tournaments_error_text_is_for_the_organisers(site: Site, tmp_path: Path) -> None:
    # The error names an entrant's folder on the server and its import error.
    folder = tmp_path / "private-entrant"
    folder.mkdir()
    (folder / "agent.toml").write_text(
        '[agent]\nname = "x"\nversion = "1"\nentry = "nope:make_agent"\nenvs = ["tictactoe_v3"]\n'
    )
    toml = (
        '[tournament]\nname = "broken"\nenv = "tictactoe_v3"\nseed = 1\n'
        'games_per_pairing = 1\nformat = "round-robin"\n'
        f'[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "{folder}"\n'
    )
    posted = site.client.post("/api/tournaments", content=toml, headers=site.auth("prof"))
    assert posted.status_code == 202
    site.work()
    request_id = posted.json()["tournament"]
    full = site.client.get(f"/api/tournaments/{request_id}", headers=site.auth("prof")).json()
    assert full["status"] == "failed" and str(folder) in full["error"]
    for headers in ({}, site.auth("ada")):
        one = site.client.get(f"/api/tournaments/{request_id}", headers=headers).json()
        assert one["status"] == "failed"
        assert one["error"] == HIDDEN_ERROR
        listed = site.client.get("/api/tournaments", headers=headers).json()
        assert [r["error"] for r in listed] == [HIDDEN_ERROR]
        page_json = site.client.get("/api/tournaments/by-name/broken", headers=headers)
        assert [r["error"] for r in page_json.json()["requests"]] == [HIDDEN_ERROR]
        for url in ("/api/tournaments", "/tournaments/broken", "/api/tournaments/by-name/broken"):
            text = site.client.get(url, headers=headers).text
            assert str(folder) not in text and "nope" not in text
    page = site.client.get("/tournaments/broken", headers=site.auth("prof")).text
    assert str(folder) in page  # the organisers still read why


def test_a_multipart_upload_with_many_parts_is_refused_at_the_first_too_many(site: Site) -> None:
    # Parts without a name all landed on one field, so the field count never grew:
    # a 20 MiB body of tiny parts cost seconds of parsing, and refused uploads are
    # not counted by the hourly limit.
    nameless = b"--B\r\n\r\nv\r\n" * 50_000 + b"--B--\r\n"
    named = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i for i in range(50)
    )
    for body, detail in (
        (nameless, f"too many form parts (at most {MAX_PARTS})"),
        (named + b"--B--\r\n", "too many form fields"),
    ):
        answer = site.client.post(
            "/api/agents",
            content=body,
            headers={**site.auth("ada"), "content-type": "multipart/form-data; boundary=B"},
        )
        assert answer.status_code == 400
        assert answer.json() == {"detail": detail}


def test_game_starts_are_limited_per_person_per_hour(tmp_path: Path) -> None:
    # Running games are capped, but a finished game frees its place at once: a quick
    # tic-tac-toe loop would otherwise store and rate games without end.
    site = make_site(tmp_path, games_per_user=5, games_per_hour=2)
    body = {"env": "tictactoe_v3", "opponent": "random"}
    try:
        started = [
            site.client.post("/api/games", json=body, headers=site.auth("ada")).status_code
            for _ in range(3)
        ]
        assert started == [201, 201, 429]
        refused = site.client.post("/api/games", json=body, headers=site.auth("ada"))
        assert refused.json() == {"detail": "at most 2 new games an hour each; try again later"}
        assert (
            site.client.post("/api/games", json=body, headers=site.auth("bob")).status_code == 201
        )
    finally:
        games_of(site.client.app).close()  # type: ignore[arg-type]
        site.client.close()
        site.engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "/api/agents/a%00b",
        "/agents/a%00b",
        "/api/matches?agent=a%00b",
        "/api/leaderboard?env=tictactoe%00",
        "/tournaments/t%1b",
        "/envs/tictactoe_v3%0d%0aX-Injected:%201",
    ],
)
def test_control_characters_in_a_path_and_a_nul_in_a_query_are_a_400(site: Site, url: str) -> None:
    # PostgreSQL refuses a NUL in a string: it was a 500 there, and no name holds one.
    answer = site.client.get(url)
    assert answer.status_code == 400
    assert "control character" in answer.text
    assert "X-Injected" not in answer.headers


def test_json_in_a_pages_data_block_cannot_close_the_script() -> None:
    from server.pages import make_templates

    block = make_templates().from_string(
        '<script type="application/json">{{ x | tojson }}</script>'
    )
    html = block.render(x={"move": "</script><script>alert(1)</script>", "q": "'\"&"})
    assert html.count("</script>") == 1
    assert "\\u003c/script\\u003e" in html and "\\u0026" in html


def test_frames_of_another_match_wait_for_no_render(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Drawing a match's images takes seconds and every waiting request holds a server
    # thread: requests for other matches during a render are turned away, not queued.
    import threading

    from server import views

    first, second = (
        record_match(site.engine, "simple_spread_v3", ["random"], seed=s) for s in (1, 2)
    )
    drawing, release = threading.Event(), threading.Event()
    real = views.rebuild

    def slow(*args: object, **kwargs: object) -> object:
        drawing.set()
        release.wait(30)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(views, "rebuild", slow)
    monkeypatch.setattr(views, "FRAMES", views.FrameCache())
    waiter = threading.Thread(target=site.client.get, args=(f"/api/matches/{first}/frames/0.png",))
    waiter.start()
    try:
        assert drawing.wait(30)
        busy = site.client.get(f"/api/matches/{second}/frames/0.png")
        assert busy.status_code == 503
        assert busy.json() == {"detail": views.FRAMES_BUSY}
        assert busy.headers["retry-after"] == "5"
    finally:
        release.set()
        waiter.join(60)
    monkeypatch.setattr(views, "rebuild", real)
    assert site.client.get(f"/api/matches/{second}/frames/0.png").status_code == 200


def test_a_replay_is_rebuilt_once_and_other_matches_wait_for_no_rebuild(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rebuilding an Atari match for GET /api/matches/ID took ~5 s each time, for
    # anyone: a few requests a second kept every server thread busy.
    import threading

    from server import views

    first, second = (
        record_match(site.engine, "simple_spread_v3", ["random"], seed=s) for s in (1, 2)
    )
    calls: list[int] = []
    drawing, release = threading.Event(), threading.Event()
    real = views.rebuild

    def counted(spec: object, record: object, **kwargs: object) -> object:
        calls.append(record.match_id)  # type: ignore[attr-defined]
        drawing.set()
        release.wait(30)
        return real(spec, record, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(views, "rebuild", counted)
    monkeypatch.setattr(views, "REPLAYS", views.ReplayCache())
    waiter = threading.Thread(target=site.client.get, args=(f"/api/matches/{first}",))
    waiter.start()
    try:
        assert drawing.wait(30)
        busy = site.client.get(f"/api/matches/{second}")
        assert busy.status_code == 503
        assert busy.json() == {"detail": views.REPLAYS_BUSY}
        page = site.client.get(f"/matches/{second}")
        assert page.status_code == 503 and "try again in a few seconds" in page.text
    finally:
        release.set()
        waiter.join(60)
    again = [site.client.get(f"/api/matches/{first}") for _ in range(3)]
    assert [a.status_code for a in again] == [200, 200, 200]
    assert again[0].json()["frames"] == again[2].json()["frames"]
    assert calls == [first]  # drawn once, served from the cache since


def test_an_opponents_failure_text_is_for_its_owner_and_the_organisers(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A package that fails to load reports its folder on the server and its own
    # output: the person playing it (not its owner) reads only that it failed.
    from arena.errors import ArenaError
    from server import games

    secret = "agent 'x' (/srv/arena/packages/x-1): importing 'nope' failed: No module 'nope'"

    def failing(*args: object, **kwargs: object) -> None:
        raise ArenaError(secret)

    monkeypatch.setattr(games, "play_series", failing)
    body = {"env": "tictactoe_v3", "opponent": "random"}
    try:
        for user, shown in (("ada", games.OPPONENT_FAILED), ("prof", secret)):
            state = site.client.post("/api/games", json=body, headers=site.auth(user)).json()
            assert state["done"] is True
            assert state["error"] == shown
            again = site.client.get(f"/api/games/{state['id']}", headers=site.auth(user))
            assert again.json()["error"] == shown
    finally:
        games_of(site.client.app).close()  # type: ignore[arg-type]


def test_an_event_stream_gives_its_slot_back_even_when_it_never_started() -> None:
    # A client gone before the first byte: the body's generator never runs, so a
    # release in its `finally` would leak the slot, and leaked slots refuse everyone.
    import asyncio

    from starlette.requests import ClientDisconnect

    slots = StreamSlots(per_client=1, total=1)
    assert slots.take("10.0.0.1")

    async def body() -> AsyncIterator[str]:
        yield "never sent"

    async def gone(message: object) -> None:
        raise OSError("the client went away")

    async def nothing() -> dict[str, str]:
        return {"type": "http.disconnect"}

    response = SlotStream(body(), slots, "10.0.0.1", media_type="text/event-stream")
    scope = {"type": "http", "asgi": {"spec_version": "2.4"}}
    with pytest.raises(ClientDisconnect):
        asyncio.run(response(scope, nothing, gone))
    assert slots.open() == 0


def test_refused_uploads_count_towards_an_hourly_attempt_limit(tmp_path: Path) -> None:
    # Only stored submissions counted: a body refused while streaming (a bad name,
    # too big, malformed) could be sent again and again, each read to the end.
    site = make_site(tmp_path, uploads_per_hour=1)
    try:
        bad = [site.upload("ada", "not-an-archive.exe", b"x" * 1000) for _ in range(5)]
        attempts = UPLOAD_ATTEMPTS_PER_UPLOAD * 1
        assert [b.status_code for b in bad] == [400] * attempts + [429] * (5 - attempts)
        assert bad[-1].json() == {
            "detail": f"at most {attempts} upload attempts an hour, refused ones included; "
            "try again later"
        }
        assert bad[-1].headers["retry-after"] == "3600"
        assert site.upload("prof", "not-an-archive.exe", b"x").status_code == 400  # organisers
        assert site.upload("bob", "not-an-archive.exe", b"x").status_code == 400
    finally:
        site.client.close()
        site.engine.dispose()


def test_a_huge_or_deep_key_message_closes_the_socket(site: Site) -> None:
    # A key is {"action": N}: a socket message of megabytes (uvicorn takes 16 MiB)
    # or of deep nesting is parsed for nothing.
    try:
        state = site.client.post(
            "/api/games",
            json={"env": "simple_tag_v3", "opponent": "random"},
            headers=site.auth("ada"),
        ).json()
        url = f"/api/games/{state['id']}/ws"
        for message in ('{"action": "' + "x" * 100_000 + '"}', "[" * 5000):
            with site.client.websocket_connect(url, headers=site.auth("ada")) as ws:
                assert ws.receive_json()["id"] == state["id"]
                ws.send_text(message)
                received = ws.receive()
                while received["type"] != "websocket.close":  # frames sent meanwhile
                    received = ws.receive()
                assert (received["code"], received["reason"]) == (1009, 'a key is {"action": N}')
    finally:
        games_of(site.client.app).close()  # type: ignore[arg-type]
