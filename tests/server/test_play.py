"""Browser play (issue 15): a whole game through the API, stored and rated as a person;
the errors (illegal move, someone else's game, a finished game, unknown opponent);
the idle forfeit; a shutdown that ends a game unrecorded; the /play page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from arena.storage import models as m
from arena.storage import session_factory
from server.play_api import games_of
from tests.server.server_helpers import Site, make_site
from tournaments.leaderboard import leaderboard

HOSTILE = "<script>alert(1)</script>"
TTT = "tictactoe_v3"


def _close(made: Site) -> None:
    games_of(made.client.app).close()  # type: ignore[arg-type]
    made.client.close()
    made.engine.dispose()


@pytest.fixture
def play_site(tmp_path: Path) -> Iterator[Site]:
    made = make_site(tmp_path)
    yield made
    _close(made)


def _start(site: Site, user: str = "ada", **body: Any) -> Any:
    return site.client.post(
        "/api/games", headers=site.auth(user), json={"env": TTT, "opponent": "minimax", **body}
    )


def _move(site: Site, game_id: int, action: Any, user: str = "ada") -> Any:
    return site.client.post(
        f"/api/games/{game_id}/moves", headers=site.auth(user), json={"action": action}
    )


def _play_out(site: Site, state: dict[str, Any]) -> dict[str, Any]:
    """Play the lowest legal cell until the game ends."""
    while not state["done"]:
        assert state["to_move"] == state["your_seat"] and state["legal"], state
        answer = _move(site, state["id"], min(state["legal"]))
        assert answer.status_code == 200, answer.text
        state = answer.json()
    return state


def _person(site: Site, match_id: int) -> tuple[str, str, str, str | None]:
    """The person's row of a stored match: agent name, kind, outcome, forfeit reason."""
    with session_factory(site.engine)() as session:
        row = session.execute(
            select(m.Agent.name, m.Agent.kind, m.Participant.outcome, m.Participant.forfeit_reason)
            .join(m.AgentVersion, m.AgentVersion.id == m.Participant.agent_version_id)
            .join(m.Agent, m.Agent.id == m.AgentVersion.agent_id)
            .where(m.Participant.match_id == match_id, m.Agent.kind == "human")
        ).one()
    return row[0], row[1], row[2], row[3]


def test_a_whole_game_through_the_api_is_stored_and_rated_as_a_person(play_site: Site) -> None:
    site = play_site
    started = _start(site)
    assert started.status_code == 201, started.text
    state = started.json()
    assert (state["your_seat"], state["to_move"], state["done"]) == ("player_1", "player_1", False)
    assert state["legal"] == list(range(9)) and state["player"] == "ada"
    assert state["board"]["kind"] == "tictactoe" and "|" in state["text"]
    state = _play_out(site, state)
    # minimax plays perfectly: the person cannot win.
    assert state["result"] in ("loss", "draw") and state["error"] is None
    match_id = state["match_id"]
    assert _person(site, match_id) == ("ada", "human", state["result"], None)
    shown = site.client.get(f"/api/games/{state['id']}", headers=site.auth("ada")).json()
    assert shown["match_id"] == match_id and shown["done"]
    rows = [r for r in leaderboard(site.engine, env_id=TTT) if r.agent == "ada"]
    assert [(r.kind, r.games) for r in rows] == [("human", 1)]
    assert rows[0].mu != 25.0  # rated against minimax in the same pool
    assert "minimax" in {r.agent for r in leaderboard(site.engine, env_id=TTT)}


def test_moving_second_the_opponent_opens_and_its_move_is_named(play_site: Site) -> None:
    state = _start(play_site, seat="second").json()
    assert (state["your_seat"], state["to_move"]) == ("player_2", "player_2")
    assert state["opponent_move"] is not None and len(state["legal"]) == 8


def test_errors_illegal_move_anothers_game_finished_game_unknown_opponent(
    play_site: Site,
) -> None:
    site = play_site
    state = _start(site, seat="second").json()
    taken = next(a for a in range(9) if a not in state["legal"])
    illegal = _move(site, state["id"], taken)
    legal = ", ".join(str(a) for a in state["legal"])
    assert illegal.status_code == 400
    assert illegal.json()["detail"] == f"action {taken} is not legal here (legal: {legal})"
    assert _move(site, state["id"], True).status_code == 422  # a bool is not an action
    theirs = _move(site, state["id"], state["legal"][0], user="bob")
    assert (
        theirs.status_code == 403 and theirs.json()["detail"] == f"game {state['id']} is not yours"
    )
    peek = site.client.get(f"/api/games/{state['id']}", headers=site.auth("bob"))
    assert peek.status_code == 403
    assert (
        site.client.get(f"/api/games/{state['id']}", headers=site.auth("prof")).status_code == 200
    )
    final = _play_out(site, state)
    over = _move(site, final["id"], 0)
    assert over.status_code == 409 and over.json()["detail"] == f"game {final['id']} is over"

    unknown = _start(site, opponent="nobody")
    assert unknown.status_code == 400
    assert unknown.json()["detail"].startswith("unknown agent 'nobody': not a built-in (")
    path = _start(site, opponent="/etc")
    assert path.status_code == 400 and "name a built-in or a submitted agent" in path.text
    bad_env = _start(site, env="chess_v0")
    assert bad_env.status_code == 400 and "chess_v0" in bad_env.json()["detail"]
    unsupported = _start(site, opponent="tag-chaser")
    assert unsupported.status_code == 400
    assert unsupported.json()["detail"].startswith("agent 'tag-chaser' does not declare env")
    assert (
        site.client.post("/api/games", json={"env": TTT, "opponent": "random"}).status_code == 401
    )


def test_running_games_are_capped_per_person(tmp_path: Path) -> None:
    site = make_site(tmp_path, games_per_user=1)
    try:
        assert _start(site).status_code == 201
        again = _start(site)
        assert again.status_code == 429 and "at most 1 running games each" in again.text
        assert _start(site, user="bob").status_code == 201
    finally:
        _close(site)


def test_an_idle_game_is_forfeited_and_recorded(tmp_path: Path) -> None:
    site = make_site(tmp_path, game_idle_s=0.05)
    try:
        state = _start(site).json()
        game = games_of(site.client.app).get(state["id"], _user(site, "ada"))  # type: ignore[arg-type]
        game.thread.join(30)
        state = site.client.get(f"/api/games/{state['id']}", headers=site.auth("ada")).json()
        assert (state["done"], state["result"], state["forfeit"]) == (True, "loss", "timeout")
        assert _person(site, state["match_id"]) == ("ada", "human", "loss", "timeout")
        assert _move(site, state["id"], 0).status_code == 409
    finally:
        _close(site)


def _user(site: Site, name: str) -> Any:
    from server.users import user_by_token

    return user_by_token(site.engine, site.tokens[name])


def test_a_shutdown_ends_a_running_game_unrecorded_and_joins_it(play_site: Site) -> None:
    site = play_site
    state = _start(site).json()
    games = games_of(site.client.app)  # type: ignore[arg-type]
    game = games.get(state["id"], _user(site, "ada"))
    games.close()
    assert not game.thread.is_alive()
    after = game.view()
    assert after["done"] and after["match_id"] is None
    assert after["error"] == "the server stopped; this game was not recorded"
    with session_factory(site.engine)() as session:
        assert session.scalars(select(m.Match.id)).all() == []
    assert _start(site).status_code == 503


def _login(site: Site, user: str) -> str:
    """Sign in through the form; the session's CSRF token (from the play page)."""
    page = site.client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    site.client.post("/login", data={"csrf": csrf.group(1), "token": site.tokens[user]})
    play = site.client.get(f"/play/{TTT}")
    token = re.search(r'data-csrf="([^"]+)"', play.text)
    assert token is not None
    return token.group(1)


def test_the_play_page_needs_a_sign_in_and_the_api_its_csrf_header(play_site: Site) -> None:
    site = play_site
    out = site.client.get(f"/play/{TTT}", follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, f"/login?next=/play/{TTT}")
    csrf = _login(site, "ada")
    page = site.client.get(f"/play/{TTT}")
    assert page.status_code == 200
    assert 'id="start"' in page.text and 'id="board"' in page.text and 'id="status"' in page.text
    assert '<option value="minimax">minimax</option>' in page.text
    assert "tag-chaser" not in page.text  # it does not play tic-tac-toe
    assert '<script src="/static/play.js" defer></script>' in page.text
    assert site.client.get("/static/play.js").status_code == 200
    body = {"env": TTT, "opponent": "one-ply"}
    forged = site.client.post("/api/games", json=body)
    assert forged.status_code == 403 and "X-CSRF-Token" in forged.text
    started = site.client.post("/api/games", json=body, headers={"X-CSRF-Token": csrf})
    assert started.status_code == 201 and started.json()["player"] == "ada"
    assert site.client.get("/play/rps_v1").status_code == 404
    assert '<a href="/play">Play</a>' in site.client.get("/").text
    env_page = site.client.get(f"/envs/{TTT}").text
    assert f'<a href="/play/{TTT}">' in env_page
    assert '<a href="/play/simple_tag_v3">' in site.client.get("/envs/simple_tag_v3").text
    assert "/play/simple_spread_v3" not in site.client.get("/envs/simple_spread_v3").text
    realtime = site.client.get("/play/simple_tag_v3").text
    assert 'data-realtime="1"' in realtime
    assert '<option value="second">agent (agent_0)</option>' in realtime
    assert '<option value="tag-chaser">tag-chaser</option>' in realtime
    assert site.client.get("/play/simple_spread_v3").status_code == 404
    listing = site.client.get("/play").text
    assert f'<a href="/play/{TTT}">' in listing and "/play/chess_v6" in listing


def test_names_on_the_play_page_are_escaped(
    play_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.play_api

    monkeypatch.setattr(server.play_api, "opponents_for", lambda _engine, _env: [HOSTILE])
    _login(play_site, "ada")
    html = play_site.client.get(f"/play/{TTT}").text
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_person_whose_name_is_taken_by_a_machine_plays_as_name_human(
    play_site: Site,
) -> None:
    from server.users import add_user

    token = add_user(play_site.engine, "minimax")[1]  # a user named like a built-in
    play_site.tokens["minimax"] = token
    state = _start(play_site, user="minimax").json()
    assert state["player"] == "minimax human"


def test_the_name_a_person_plays_under_is_theirs_and_no_package_takes_it(
    play_site: Site, tmp_path: Path
) -> None:
    from tests.server.server_helpers import package_copy, tar_gz

    game = _start(play_site).json()  # ada plays as "ada": the name is hers from the start
    named_ada = tar_gz(package_copy(tmp_path, name="ada"), top="ada")
    early = play_site.upload("bob", "ada.tar.gz", named_ada)  # before any game is stored
    assert early.status_code == 403
    assert early.json()["detail"] == "agent name 'ada' belongs to another user; choose another name"
    _play_out(play_site, game)
    person = "agent name 'ada' is a person's (the name they play under); choose another name"
    for user in ("bob", "ada", "prof"):  # nobody, organisers and ada included, mixes the kinds
        late = play_site.upload(user, "ada.tar.gz", named_ada)
        assert (late.status_code, late.json()["detail"]) == (403, person)
    # bob, whose name ada's upload took first, plays under "bob human".
    sent = play_site.upload(
        "ada", "bob.tar.gz", tar_gz(package_copy(tmp_path, name="bob"), top="bob")
    )
    play_site.work()  # checked and accepted: "bob" is ada's package now
    assert play_site.submission("ada", sent.json()["submission"]).json()["status"] == "accepted"
    assert _start(play_site, user="bob").json()["player"] == "bob human"


def _person_actions(site: Site, match_id: int, seat: str) -> list[int]:
    actions = site.client.get(f"/api/matches/{match_id}").json()["actions"]
    return [action for step in actions for s, action in step if s == seat]


def test_a_realtime_mpe_game_streams_frames_takes_keys_and_is_rated_as_a_pair(
    play_site: Site,
) -> None:
    from starlette.websockets import WebSocketDisconnect

    site = play_site
    started = _start(site, env="simple_tag_v3", opponent="random", seat="second")
    assert started.status_code == 201, started.text
    state = started.json()
    assert (state["realtime"], state["your_seat"], state["legal"]) == (
        True,
        "agent_0",
        [0, 1, 2, 3, 4],
    )
    assert state["keys"] == {"ArrowLeft": 1, "ArrowRight": 2, "ArrowDown": 3, "ArrowUp": 4}
    assert (state["game"], state["of"]) == (1, 2)  # role-asymmetric: a duplicate pair
    assert _move(site, state["id"], 1).status_code == 409  # keys go over the socket
    url = f"/api/games/{state['id']}/ws"
    with pytest.raises(WebSocketDisconnect):  # someone else's game
        with site.client.websocket_connect(url, headers=site.auth("bob")) as ws:
            ws.receive_json()
    frames: list[int] = [0]
    texts: list[dict[str, Any]] = []
    with site.client.websocket_connect(url, headers=site.auth("ada")) as ws:
        assert ws.receive_json()["id"] == state["id"]
        while not (texts and texts[-1].get("done")):
            message = ws.receive()
            if message.get("bytes"):
                assert message["bytes"].startswith(b"\x89PNG")
                frames[-1] += 1
                if frames == [3]:
                    ws.send_json({"action": 99})  # not an action: refused, the key stays
                    ws.send_json({"action": 2})  # right arrow, held from now on
            else:
                texts.append(json.loads(message["text"]))
                if texts[-1].get("game") == 2 and not texts[-1]["done"]:
                    frames.append(0)
    errors = [t["error"] for t in texts if "id" not in t]
    assert errors == ["action 99 is not legal here (legal: 0-4)"]
    states = [t for t in texts if "id" in t]
    assert [(s["your_seat"], s["done"]) for s in states] == [
        ("adversary_0", False),
        ("adversary_0", True),
    ]
    final = states[-1]
    assert final["result"] in ("win", "loss", "draw")
    first, second = final["games"]
    assert (first["seat"], second["seat"]) == ("agent_0", "adversary_0")
    # Each game: every step's position, and the last one.
    steps = [
        len(site.client.get(f"/api/matches/{g['match_id']}").json()["actions"])
        for g in final["games"]
    ]
    assert frames == [n + 1 for n in steps]
    moves = _person_actions(site, first["match_id"], "agent_0")
    # Nothing held at first, the right arrow once pressed, never anything else.
    assert moves[0] == 0 and moves[-1] == 2 and moves == sorted(moves)
    assert set(moves) == {0, 2}
    assert _person(site, first["match_id"])[:2] == ("ada", "human")
    rows = [r for r in leaderboard(site.engine, env_id="simple_tag_v3") if r.agent == "ada"]
    assert [(r.kind, r.games) for r in rows] == [("human", 1)]  # one rated pair


def test_a_realtime_game_streams_over_a_real_servers_websocket(play_site: Site) -> None:
    # uvicorn refuses WebSocket upgrades unless a WebSocket library is installed
    # (the [server] extra's websockets): the test client alone would not notice.
    from websockets.sync.client import connect

    from tests.server.server_helpers import serving

    state = _start(play_site, env="simple_tag_v3", opponent="random", seat="second").json()
    with serving(play_site) as url:
        socket_url = url.replace("http://", "ws://") + f"/api/games/{state['id']}/ws"
        with connect(socket_url, additional_headers=play_site.auth("ada"), open_timeout=30) as ws:
            assert json.loads(ws.recv(timeout=30))["id"] == state["id"]
            frame = ws.recv(timeout=30)
            assert isinstance(frame, bytes) and frame.startswith(b"\x89PNG")


def test_a_realtime_socket_needs_this_sites_page_or_a_token(play_site: Site) -> None:
    from starlette.websockets import WebSocketDisconnect

    site = play_site
    state = _start(site, env="simple_tag_v3", opponent="random").json()
    url = f"/api/games/{state['id']}/ws"
    _login(site, "ada")
    with pytest.raises(WebSocketDisconnect):  # the cookie from another site's page
        with site.client.websocket_connect(url, headers={"Origin": "https://evil.example"}) as ws:
            ws.receive_json()
    with site.client.websocket_connect(url, headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["your_seat"] == "adversary_0"


def test_ctrl_c_of_arena_serve_ends_running_games_unrecorded(tmp_path: Path) -> None:
    import httpx

    from tests.e2e.live_server import add_user, start_server, stop_server

    db_url = f"sqlite:///{tmp_path / 'arena.db'}"
    token = add_user(db_url, tmp_path, "ada")
    server = start_server(db_url, tmp_path)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        for env in (TTT, "simple_tag_v3"):  # one waits for a click, one for its socket
            body = {"env": env, "opponent": "random"}
            answer = httpx.post(f"{server.url}/api/games", headers=headers, json=body, timeout=60)
            assert answer.status_code == 201, answer.text
    finally:
        code = stop_server(server, timeout=60)  # killed (and the test fails) if it hangs
    assert code == 0, server.log_text()
    assert server.log_text().rstrip().endswith("server stopped")
    from arena.storage import connect

    with session_factory(connect(db_url))() as session:  # no game was recorded
        assert session.scalars(select(m.Match.id)).all() == []
