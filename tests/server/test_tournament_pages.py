"""Tournament pages, rating plots and scheduled tournaments over the API.

Tournaments are posted as an organiser and run by the worker (the real runner),
on tic-tac-toe between random, one-ply and minimax (perfect play: it never
loses, so it tops every format).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select, update

from arena.storage import models as m
from arena.storage import session_factory
from arena.storage.models import utcnow
from server.worker import Worker
from tests.server.server_helpers import Site, record_match, tar_gz

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
FIRST_LEGAL = (
    '[agent]\nname = "ttt-first"\nversion = "1.0.0"\nentry = "first:make_agent"\n'
    'envs = ["tictactoe_v3"]\nkind = "scripted"\n',
    "class Agent:\n"
    "    def reset(self, *, seed=None):\n        pass\n"
    "    def act(self, observation, *, action_mask=None):\n"
    "        return next(i for i, ok in enumerate(action_mask) if ok)\n"
    "def make_agent(ctx):\n    return Agent()\n",
)
ENTRANTS = "".join(f'[[entrants]]\nagent = "{a}"\n' for a in ("random", "one-ply", "minimax"))


def _toml(name: str, options: str, schedule: str = "") -> str:
    return (
        f'[tournament]\nname = "{name}"\nenv = "tictactoe_v3"\nseed = 1\n'
        f"games_per_pairing = 2\n{options}\n{schedule}{ENTRANTS}"
    )


def _run(site: Site, name: str, options: str) -> dict[str, Any]:
    posted = site.client.post(
        "/api/tournaments", content=_toml(name, options), headers=site.auth("prof")
    )
    assert posted.status_code == 202, posted.text
    assert site.work() == 1
    shown = site.client.get(f"/api/tournaments/by-name/{name}")
    assert shown.status_code == 200
    found: dict[str, Any] = shown.json()
    return found


def _text(html: str) -> str:
    """The page's text with tags dropped and spaces squeezed (what a reader sees)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_queued_tournament_has_a_page_before_it_runs(site: Site) -> None:
    toml = _toml("ttt-later", 'format = "round-robin"')
    assert (
        site.client.post("/api/tournaments", content=toml, headers=site.auth("prof")).status_code
        == 202
    )
    data = site.client.get("/api/tournaments/by-name/ttt-later").json()
    assert (data["status"], data["runs"], data["standings"]) == ("queued", [], [])
    text = _text(site.client.get("/tournaments/ttt-later").text)
    assert "queued" in text and "No rated matches yet." in text


def test_round_robin_page_shows_progress_and_standings(site: Site) -> None:
    data = _run(site, "ttt-rr", 'format = "round-robin"')
    assert (data["status"], data["played"], data["planned"]) == ("finished", 6, 6)
    assert [r["agent"] for r in data["standings"]] == ["minimax", "one-ply", "random"]
    assert [r["games"] for r in data["standings"]] == [4, 4, 4]
    assert data["structure"][0]["swiss"] is None and data["structure"][0]["bracket"] is None

    html = site.client.get("/tournaments/ttt-rr")
    assert html.status_code == 200
    assert 'data-live="match tournament"' in html.text
    assert '<link rel="stylesheet" href="/static/tournament.css">' in html.text
    text = _text(html.text)
    assert "6 of 6 games played" in text
    board = _text(html.text.split('id="standings"')[1].split("</table>")[0])
    assert board.index("minimax") < board.index("one-ply") < board.index("random")
    index = site.client.get("/tournaments").text
    assert '<a href="/tournaments/ttt-rr">ttt-rr</a>' in index


def test_swiss_page_shows_each_round_and_the_standings(site: Site) -> None:
    data = _run(site, "ttt-swiss", 'format = "swiss"\nrounds = 2')
    swiss = data["structure"][0]["swiss"]
    assert (swiss["completed"], swiss["total_rounds"]) == (2, 2)
    for played in swiss["rounds"]:  # three entrants: one board and one bye a round
        assert (len(played["pairings"]), len(played["byes"])) == (1, 1)
        assert played["complete"]
    top = swiss["standings"][0]
    assert top["entrant"] == "minimax 0.1.0"
    # The standings are the points after the last round: byes count as won pairings.
    assert top["points"] == swiss["rounds"][1]["totals"]["minimax 0.1.0"]
    assert [s["points"] for s in swiss["standings"]] == sorted(
        swiss["rounds"][1]["totals"].values(), reverse=True
    )

    html = site.client.get("/tournaments/ttt-swiss").text
    text = _text(html)
    assert "Round 1 of 2" in text and "Round 2 of 2" in text
    assert "Standings after round 2 of 2" in text
    standings = _text(html.split('id="run-1-standings"')[1].split("</table>")[0])
    expected = f"1 minimax 0.1.0 {top['points']:g} {top['byes']}"
    assert standings.split("placed by ")[1].startswith(expected)


def test_knockout_page_draws_the_bracket_with_its_champion(site: Site) -> None:
    data = _run(site, "ttt-ko", 'format = "knockout"')
    bracket = data["structure"][0]["bracket"]
    assert bracket["champion"] == "minimax 0.1.0"
    # Unrated entrants are seeded in file order: random is seed 1 and waits (a bye).
    assert bracket["seeds"] == {"random 0.1.0": 1, "one-ply 0.1.0": 2, "minimax 0.1.0": 3}
    first, final = bracket["rounds"]
    assert [tie["bye"] for tie in first] == [True, False]
    semi = [(line["name"], line["won"]) for line in first[1]["lines"]]
    assert semi == [("one-ply 0.1.0", False), ("minimax 0.1.0", True)]
    assert [(line["name"], line["won"]) for line in final[0]["lines"]] == [
        ("random 0.1.0", False),
        ("minimax 0.1.0", True),
    ]

    html = site.client.get("/tournaments/ttt-ko").text
    assert '<strong id="run-1-champion">minimax 0.1.0</strong>' in html
    drawn = html.split('id="run-1-bracket"')[1].split(">", 1)[1].split("</section>")[0]
    assert drawn.count('class="round"') == 2 and len(re.findall(r'class="tie[ "]', drawn)) == 3
    assert _text(drawn).startswith("Round 1 (1) random 0.1.0 bye")
    won = re.findall(r'class="line won">\s*<span class="seed">\((\d)\)</span>', drawn)
    assert won == ["1", "3", "3"]  # random's bye, minimax's semi-final and final


def test_names_on_tournament_pages_are_escaped(site: Site) -> None:
    _run(site, "ttt-ko", 'format = "knockout"')
    with session_factory(site.engine).begin() as session:
        session.execute(update(m.Agent).where(m.Agent.name == "random").values(name=HOSTILE))
        session.execute(
            update(m.Tournament).where(m.Tournament.name == "ttt-ko").values(name=f"ko{HOSTILE}")
        )
    for page in (f"/tournaments/{quote('ko' + HOSTILE, safe='')}", "/tournaments"):
        html = site.client.get(page)
        assert html.status_code == 200, page
        assert HOSTILE not in html.text, page
        assert ESCAPED in html.text, page
    assert site.client.get("/tournaments/nope").status_code == 404
    assert site.client.get("/api/tournaments/by-name/nope").json() == {
        "detail": "no tournament 'nope'"
    }


def test_the_agent_page_plots_one_point_per_rated_match(site: Site) -> None:
    for seed in range(5):
        record_match(site.engine, "tictactoe_v3", ["one-ply", "random"], seed)
    record_match(site.engine, "connect_four_v3", ["one-ply", "random"])
    html = site.client.get("/agents/one-ply").text
    plots = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(plots) == 2  # one per env
    ttt = next(p for p in plots if "tictactoe_v3" in p)
    assert '<title id="plot-tictactoe_v3">Rating history on tictactoe_v3' in ttt
    assert 'data-points="5"' in ttt
    line = re.search(r'<polyline class="mu" stroke="[^"]+" points="([^"]+)"', ttt)
    assert line is not None and len(line.group(1).split()) == 5
    assert "rated match" in ttt and "mu ± σ" in ttt  # axis labels
    c4 = next(p for p in plots if "connect_four_v3" in p)
    assert 'data-points="1"' in c4 and "<circle" in c4  # one point: a dot, not an empty line


def test_a_scheduled_tournament_is_listed_and_the_worker_runs_it_when_due(site: Site) -> None:
    toml = _toml("ttt-nightly", 'format = "round-robin"', '[schedule]\nevery = "24h"\n')
    refused = site.client.post("/api/tournaments", content=toml, headers=site.auth("ada"))
    assert refused.status_code == 403
    assert site.client.get("/api/schedules").json() == []

    posted = site.client.post("/api/tournaments", content=toml, headers=site.auth("prof"))
    assert posted.status_code == 202
    assert posted.json()["status"] == "scheduled"
    listed = site.client.get("/api/schedules").json()
    assert [(s["tournament"], s["every"], s["every_s"]) for s in listed] == [
        ("ttt-nightly", "1d", 86400.0)
    ]
    assert "source_path" not in listed[0]  # the server's folders stay private

    assert site.work() == 1  # a new schedule is due at once
    data = site.client.get("/api/tournaments/by-name/ttt-nightly").json()
    assert [(r["run"], r["status"], r["played"]) for r in data["runs"]] == [(1, "finished", 6)]
    request = site.client.get(f"/api/tournaments/{posted.json()['tournament']}").json()
    assert (request["status"], request["run"], request["played"]) == ("scheduled", 1, 6)
    assert site.work() == 0  # the next run is a day away

    tomorrow = Worker(
        site.engine, site.settings, clock=lambda: utcnow() + timedelta(days=1, minutes=1)
    )
    assert tomorrow.step() and not tomorrow.step()
    data = site.client.get("/api/tournaments/by-name/ttt-nightly").json()
    assert [r["run"] for r in data["runs"]] == [2, 1]
    assert data["schedule"]["last_run_at"] is not None
    with session_factory(site.engine)() as session:
        assert session.scalar(select(func.count()).select_from(m.Match)) == 12
    html = site.client.get("/tournaments/ttt-nightly").text
    assert "Scheduled every 1d" in _text(html)


def test_reposting_a_schedule_replaces_the_older_request(site: Site) -> None:
    first = _toml("ttt-weekly", 'format = "round-robin"', '[schedule]\nevery = "7d"\n')
    assert (
        site.client.post("/api/tournaments", content=first, headers=site.auth("prof")).status_code
        == 202
    )
    second = first.replace('"7d"', '"12h"')
    assert (
        site.client.post("/api/tournaments", content=second, headers=site.auth("prof")).status_code
        == 202
    )
    statuses = [r["status"] for r in site.client.get("/api/tournaments").json()]
    assert statuses == ["scheduled", "replaced"]  # newest first
    assert [s["every"] for s in site.client.get("/api/schedules").json()] == ["12h"]
    bad = site.client.post(
        "/api/tournaments",
        content=first.replace('"7d"', '"soon"'),
        headers=site.auth("prof"),
    )
    assert bad.status_code == 400 and bad.json()["detail"].startswith("tournament.toml: ")


def test_a_stopped_worker_leaves_the_schedule_due_and_the_next_resumes_the_run(
    site: Site,
) -> None:
    toml = _toml("ttt-stopped", 'format = "round-robin"', '[schedule]\nevery = "24h"\n')
    assert (
        site.client.post("/api/tournaments", content=toml, headers=site.auth("prof")).status_code
        == 202
    )
    stopping = Worker(site.engine, site.settings)
    stopping.stopping.set()  # as after Ctrl-C: the run stops after its first match
    assert stopping.step()
    data = site.client.get("/api/tournaments/by-name/ttt-stopped").json()
    assert [(r["status"], r["played"]) for r in data["runs"]] == [("interrupted", 1)]
    assert data["schedule"]["last_run_at"] is None  # still due

    assert site.work() == 1
    data = site.client.get("/api/tournaments/by-name/ttt-stopped").json()
    assert [(r["run"], r["status"], r["played"]) for r in data["runs"]] == [(1, "finished", 6)]
    assert data["schedule"]["last_run_at"] is not None


def test_an_accepted_upload_gets_placement_matches_against_a_scheduled_ladder(
    site: Site, tmp_path: Path
) -> None:
    toml = (
        '[tournament]\nname = "ttt-ladder"\nenv = "tictactoe_v3"\nformat = "ladder"\n'
        'rounds = 1\ngames_per_pairing = 2\n[schedule]\nevery = "24h"\n'
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "one-ply"\n'
    )
    assert (
        site.client.post("/api/tournaments", content=toml, headers=site.auth("prof")).status_code
        == 202
    )
    assert site.work() == 1  # the ladder's first run
    folder = tmp_path / "ttt-first"  # plays the first legal cell: a sure loser, quickly placed
    folder.mkdir()
    (folder / "agent.toml").write_text(FIRST_LEGAL[0])
    (folder / "first.py").write_text(FIRST_LEGAL[1])
    sent = site.upload("ada", "ttt.tar.gz", tar_gz(folder))
    assert sent.status_code == 202
    assert site.work() == 1  # the check, then placement in the same step
    assert site.submission("ada", sent.json()["submission"]).json()["status"] == "accepted"
    placed = site.client.get("/api/matches?agent=ttt-first").json()
    assert placed and all(x["tournament"] is None for x in placed)  # rated games, no run
    opponents = {p["agent"] for x in placed for p in x["players"]} - {"ttt-first"}
    assert opponents <= {"random", "one-ply"} and opponents
    board = site.client.get("/api/leaderboard?env=tictactoe_v3").json()
    assert [r["games"] for r in board if r["agent"] == "ttt-first"] == [len(placed)]
