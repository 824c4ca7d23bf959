"""The JSON API: leaderboards equal the CLI's, an accepted upload plays and ranks, match
replays, logs and error texts for owners only, organisers' tournaments, the event stream."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from arena.catalogue import env_catalogue
from arena.cli import app as cli
from arena.registry import get_env
from arena.storage import models as m
from arena.storage import session_factory
from arena.storage.accounts import AgentOwner, User
from server.events import Cursor, events_since, start_cursor
from tests.server.server_helpers import GOOD_C4, Site, package_copy, record_match, tar_gz

HOSTILE_RAISE = GOOD_C4.parent / "hostile-raise"


def test_leaderboard_json_equals_the_clis(site: Site) -> None:
    for seed in range(3):
        record_match(site.engine, "connect_four_v3", ["one-ply", "random"], seed)
        record_match(site.engine, "tictactoe_v3", ["random", "one-ply"], seed)
    for query, args in (
        ("", []),
        ("?env=connect_four_v3", ["--env", "connect_four_v3"]),
    ):
        result = CliRunner().invoke(cli, ["--db", site.db_url, "leaderboard", "--json", *args])
        assert result.exit_code == 0
        api = site.client.get(f"/api/leaderboard{query}")
        assert api.status_code == 200
        assert api.json() == json.loads(result.stdout)
        assert len(api.json()) == (4 if not args else 2)
    bad = site.client.get("/api/leaderboard?env=chess_v0")
    assert (bad.status_code, bad.json()) == (
        400,
        {"detail": "unknown env 'chess_v0' (see arena envs)"},
    )
    assert site.client.get("/api/envs").json() == env_catalogue()  # arena envs --json's rows


def test_an_accepted_upload_plays_and_reaches_the_leaderboard(site: Site, tmp_path: Path) -> None:
    site.upload("ada", "c4.tar.gz", tar_gz(package_copy(tmp_path), top="c4"))
    site.work()
    match_id = record_match(site.engine, "connect_four_v3", ["c4-heuristic@1.0.0", "random"])
    board = site.client.get("/api/leaderboard?env=connect_four_v3").json()
    assert [(r["agent"], r["games"]) for r in board] == [("c4-heuristic", 1), ("random", 1)]
    detail = site.client.get("/api/agents/c4-heuristic").json()
    assert (detail["owner"], [r["env"] for r in detail["ratings"]]) == ("ada", ["connect_four_v3"])
    assert [x["id"] for x in detail["matches"]] == [match_id]
    listed = site.client.get("/api/matches?agent=c4-heuristic&env=connect_four_v3").json()
    assert [(x["id"], [p["agent"] for p in x["players"]]) for x in listed] == [
        (match_id, ["c4-heuristic", "random"])
    ]
    assert site.client.get("/api/matches?env=tictactoe_v3").json() == []
    assert site.client.get("/api/agents/nobody").status_code == 404


def test_a_match_carries_what_a_replay_viewer_needs(site: Site) -> None:
    match_id = record_match(site.engine, "tictactoe_v3", ["one-ply", "random"], seed=5)
    data = site.client.get(f"/api/matches/{match_id}").json()
    assert (data["env"], data["seed"], data["replay_error"]) == ("tictactoe_v3", 5, None)
    assert [p["agent"] for p in data["players"]] == ["one-ply", "random"]
    assert len(data["frames"]) == len(data["actions"]) + 1
    spec = get_env("tictactoe_v3")
    env = spec.build()
    env.reset(seed=5)
    assert spec.render_text is not None and spec.render_board is not None
    assert data["frames"][0] == {
        "number": 0,
        "moves": [],
        "text": spec.render_text(env),
        "board": spec.render_board(env),
        "image": None,  # images are for MPE and Atari
    }
    assert data["frames"][1]["moves"][0][0] == "player_1"
    assert site.client.get("/api/matches/999").status_code == 404


def _own(site: Site, agent: str, user: str) -> None:
    with session_factory(site.engine).begin() as session:
        assert session.scalar(select(m.Agent.id).where(m.Agent.name == agent)) is not None
        owner = session.scalar(select(User.id).where(User.name == user))
        session.add(AgentOwner(agent_name=agent, user_id=owner))


def test_logs_and_error_texts_are_for_the_owner_and_organisers(site: Site) -> None:
    match_id = record_match(site.engine, "connect_four_v3", [str(GOOD_C4), str(HOSTILE_RAISE)])
    _own(site, "good-c4", "ada")
    _own(site, "hostile-raise", "bob")
    url = f"/api/matches/{match_id}/logs"

    assert site.client.get(url).status_code == 401
    organiser = site.client.get(url, headers=site.auth("prof")).json()
    assert {a["agent"] for a in organiser["agents"]} == {"good-c4", "hostile-raise"}

    mine = site.client.get(url, headers=site.auth("ada"))
    assert mine.status_code == 200
    [log] = mine.json()["agents"]
    assert log["agent"] == "good-c4" and "plays" in log["output"]
    assert mine.json()["note"] is None
    asked = site.client.get(f"{url}?agent=hostile-raise", headers=site.auth("ada"))
    assert asked.status_code == 403
    assert asked.json()["detail"] == "only an agent's owner and the organisers may read its logs"

    other = site.client.get(url, headers=site.auth("bob"))
    assert [a["agent"] for a in other.json()["agents"]] == ["hostile-raise"]

    def error_of(user: str | None) -> str | None:
        headers = site.auth(user) if user else {}
        players = site.client.get(f"/api/matches/{match_id}", headers=headers).json()["players"]
        [raiser] = [p for p in players if p["agent"] == "hostile-raise"]
        assert raiser["forfeit"] == "error"
        return raiser["error"]

    assert error_of(None) is None
    assert error_of("ada") is None
    assert "act blew up on purpose" in (error_of("bob") or "")
    assert "act blew up on purpose" in (error_of("prof") or "")


def test_only_organisers_queue_tournaments_and_the_worker_runs_them(site: Site) -> None:
    toml = (
        '[tournament]\nname = "ttt-class"\nenv = "tictactoe_v3"\ngames_per_pairing = 2\n'
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "one-ply"\n'
    )
    participant = site.client.post("/api/tournaments", content=toml, headers=site.auth("ada"))
    assert participant.status_code == 403
    assert site.client.post("/api/tournaments", content=toml).status_code == 401
    bad = site.client.post(
        "/api/tournaments",
        content=toml.replace("tictactoe_v3", "nope_v1"),
        headers=site.auth("prof"),
    )
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("tournament.toml: ")
    assert "nope_v1" in bad.json()["detail"]

    queued = site.client.post("/api/tournaments", content=toml, headers=site.auth("prof"))
    assert queued.status_code == 202
    assert {k: queued.json()[k] for k in ("tournament", "name", "status")} == {
        "tournament": 1,
        "name": "ttt-class",
        "status": "queued",
    }
    assert site.work() == 1
    done = site.client.get("/api/tournaments/1").json()
    assert (done["status"], done["run"], done["played"], done["planned"]) == ("finished", 1, 2, 2)
    board = site.client.get("/api/leaderboard?tournament=ttt-class").json()
    assert sorted(r["agent"] for r in board) == ["one-ply", "random"]
    assert [
        x["tournament"] for x in site.client.get("/api/matches?tournament=ttt-class").json()
    ] == [
        "ttt-class",
        "ttt-class",
    ]


def test_events_report_matches_submissions_and_tournaments(site: Site, tmp_path: Path) -> None:
    cursor = start_cursor(site.engine)
    match_id = record_match(site.engine, "tictactoe_v3", ["one-ply", "random"])
    site.upload("ada", "slip.tar.gz", tar_gz(package_copy(tmp_path), extra={"../x": b""}))
    site.work()
    events, after = events_since(site.engine, cursor)
    assert [e.kind for e in events] == ["match", "submission"]
    assert events[0].data["id"] == match_id
    assert events[1].data == {"submission": 1, "status": "refused"}  # no reason: it is ada's
    assert events_since(site.engine, after)[0] == []
    assert Cursor.parse(after.text()) == after

    stream = site.client.get("/api/events?follow=false", headers={"Last-Event-ID": cursor.text()})
    assert stream.headers["content-type"].startswith("text/event-stream")
    frames = [f for f in stream.text.split("\n\n") if f.startswith("id: ")]
    assert [f.split("\n")[1] for f in frames] == ["event: match", "event: submission"]
    assert json.loads(frames[0].split("\n")[2][len("data: ") :])["id"] == match_id
    with session_factory(site.engine)() as session:
        assert session.scalar(select(func.count()).select_from(m.Match)) == 1


def test_a_stopped_worker_leaves_the_tournament_interrupted_and_it_resumes(site: Site) -> None:
    from server.tournament_queue import run_request

    toml = (
        '[tournament]\nname = "ttt-stop"\nenv = "tictactoe_v3"\ngames_per_pairing = 4\n'
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "one-ply"\n'
    )
    queued = site.client.post("/api/tournaments", content=toml, headers=site.auth("prof"))
    assert queued.status_code == 202
    stopped = run_request(site.engine, site.settings, 1, should_stop=lambda: True)
    assert (stopped.status, stopped.played, stopped.planned) == ("interrupted", 1, 4)
    assert site.work() == 1  # an interrupted request is picked up again
    done = site.client.get("/api/tournaments/1").json()
    assert (done["status"], done["run"], done["played"], done["planned"]) == ("finished", 1, 4, 4)
    assert len(site.client.get("/api/matches?tournament=ttt-stop").json()) == 4
