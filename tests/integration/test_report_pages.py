"""``arena report``'s structure pages, checked against the stored rows.

Swiss rounds and standings, a knockout bracket and ladder rounds from real
tournament runs; a replay page for every match (MPE: the action log); agents'
captured output behind a fold; and two packages both called
``c4-heuristic 1.0.0`` told apart by a short hash on every page.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from arena.play import play_and_record
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import NOTE_KEY
from tests.conftest import EXAMPLE_C4
from tests.integration.test_report import Page
from tournaments.report import write_report
from tournaments.run import run_tournament

ENTRANTS = ("random", "one-ply", "minimax")  # file order
LABEL = {name: f"{name} 0.1.0" for name in ENTRANTS}
POINTS = {"win": 1.0, "draw": 0.5, "loss": 0.0}


def _tournament(folder: Path, name: str, options: str) -> Path:
    path = folder / f"{name}.toml"
    entrants = "".join(f'[[entrants]]\nagent = "{a}"\n' for a in ENTRANTS)
    path.write_text(
        f'[tournament]\nname = "{name}"\nenv = "tictactoe_v3"\nseed = 5\n'
        f"games_per_pairing = 2\n{options}\n{entrants}"
    )
    return path


def _twin_packages(folder: Path) -> tuple[Path, Path]:
    """Two packages both called c4-heuristic 1.0.0; the second prints when it starts."""
    a, b = folder / "twin-a", folder / "twin-b"
    shutil.copytree(EXAMPLE_C4, a)
    shutil.copytree(EXAMPLE_C4, b)
    code = (b / "heuristic.py").read_text()
    marker = "    return HeuristicAgent(seed=ctx.seed)"
    assert marker in code
    printing = '    print("hello <b>\\x1b[31mred</b>")\n    print("second line")\n'
    (b / "heuristic.py").write_text(code.replace(marker, printing + marker))
    return a, b


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{root / 'arena.db'}"
    run_tournament(_tournament(root, "swiss cup", 'format = "swiss"\nrounds = 3'), db_url=url)
    run_tournament(_tournament(root, "knockout cup", 'format = "knockout"'), db_url=url)
    run_tournament(_tournament(root, "ladder cup", 'format = "ladder"\nrounds = 2'), db_url=url)
    play_and_record("simple_tag_v3", ["random", "tag-chaser"], games=2, seed=0, db_url=url)
    a, b = _twin_packages(root)
    play_and_record("connect_four_v3", [str(a), str(b)], games=1, seed=0, db_url=url)
    out = root / "site"
    write_report(out, db_url=url)
    return out, url


def _tournament_file(out: Path, name: str) -> Path:
    for path in out.glob("tournament-*.html"):
        if f"<title>Tournament {name}</title>" in path.read_text(encoding="utf-8"):
            return path
    raise AssertionError(f"no page for {name}")


def _tournament_page(out: Path, name: str) -> Page:
    return Page(_tournament_file(out, name).read_text(encoding="utf-8"))


def _games(url: str, tournament: str) -> list[dict[str, Any]]:
    """The tournament's stored games: key, match id and (agent, outcome) per slot."""
    with session_factory(connect(url))() as s:
        query = (
            select(
                m.Match.id,
                m.Match.game_key,
                m.Participant.slot,
                m.Agent.name,
                m.Participant.outcome,
            )
            .join(m.Run, m.Run.id == m.Match.run_id)
            .join(m.Tournament, m.Tournament.id == m.Run.tournament_id)
            .join(m.Participant, m.Participant.match_id == m.Match.id)
            .join(m.AgentVersion, m.AgentVersion.id == m.Participant.agent_version_id)
            .join(m.Agent, m.Agent.id == m.AgentVersion.agent_id)
            .where(m.Tournament.name == tournament)
            .order_by(m.Match.id, m.Participant.slot)
        )
        games: dict[int, dict[str, Any]] = {}
        for mid, key, _slot, name, outcome in s.execute(query):
            games.setdefault(mid, {"id": mid, "key": key, "seats": []})["seats"].append(
                (name, outcome)
            )
    return list(games.values())


def _key(key: str) -> tuple[int, int, int]:
    """(round, board, game) of ``r{round}-p{board}-g{game}``."""
    r, p, g = key.split("-")
    return int(r[1:]), int(p[1:]), int(g[1:])


def _rating_after(url: str, agent: str, match_id: int) -> float:
    """mu - 3 sigma of ``agent`` on tictactoe right after ``match_id`` (from its history)."""
    with session_factory(connect(url))() as s:
        mu, sigma = s.execute(
            select(m.RatingHistory.mu, m.RatingHistory.sigma)
            .join(m.Rating, m.Rating.id == m.RatingHistory.rating_id)
            .join(m.AgentVersion, m.AgentVersion.id == m.Rating.agent_version_id)
            .join(m.Agent, m.Agent.id == m.AgentVersion.agent_id)
            .where(m.Agent.name == agent, m.Rating.env_id == "tictactoe_v3")
            .where(m.RatingHistory.match_id <= match_id)
            .order_by(m.RatingHistory.match_id.desc())
            .limit(1)
        ).one()
    return float(mu - 3 * sigma)


def test_swiss_rounds_show_pairings_points_and_byes(site: tuple[Path, str]) -> None:
    out, url = site
    page = _tournament_page(out, "swiss cup")
    games = _games(url, "swiss cup")
    assert len(games) == 3 * 2  # three rounds of one pairing (three entrants: one bye each)
    total: dict[str, float] = dict.fromkeys(ENTRANTS, 0.0)
    tables = {k: v for k, v in page.tables.items() if v[0][:2] == ["Board", "Entrant"]}
    assert len(tables) == 3
    for number, rows in enumerate(tables.values(), 1):
        mine = sorted((g for g in games if _key(g["key"])[0] == number), key=lambda g: g["key"])
        first, second = mine[0]["seats"][0][0], mine[0]["seats"][1][0]  # side 0 of game 0 first
        got = defaultdict(float)
        for game in mine:
            for name, outcome in game["seats"]:
                got[name] += POINTS[outcome]
        (bye,) = set(ENTRANTS) - {first, second}
        for name in (first, second):
            total[name] += got[name]
        total[bye] += 2  # a bye scores games_per_pairing
        assert rows[0] == [
            "Board",
            "Entrant",
            "Opponent",
            "Points this round",
            "Points after the round",
        ]
        assert rows[1:] == [
            ["1", LABEL[first], LABEL[second], f"{got[first]:g} of 2", f"{total[first]:g}"],
            ["1", LABEL[second], LABEL[first], f"{got[second]:g} of 2", f"{total[second]:g}"],
            ["bye", LABEL[bye], "–", "bye: +2", f"{total[bye]:g}"],
        ]
    last = max(g["id"] for g in games)
    rating = {name: _rating_after(url, name, last) for name in ENTRANTS}
    order = sorted(ENTRANTS, key=lambda e: (-total[e], -rating[e], ENTRANTS.index(e)))
    (standings,) = [v for v in page.tables.values() if v[0][0] == "Rank" and "Byes" in v[0]]
    assert standings[0] == ["Rank", "Entrant", "Points", "Byes", "mu−3σ (tie-break)", "Placed by"]
    expected = []
    for rank, name in enumerate(order, 1):
        above = order[rank - 2] if rank > 1 else None
        if above is None:
            why = "–"
        elif total[above] != total[name]:
            why = "points"
        elif round(rating[above], 4) != round(rating[name], 4):
            why = "mu−3σ"
        else:
            why = "file order"
        expected.append(
            [str(rank), LABEL[name], f"{total[name]:g}", "1", f"{rating[name]:.2f}", why]
        )
    assert standings[1:] == expected


def test_knockout_bracket_shows_seeds_ties_and_the_champion(site: tuple[Path, str]) -> None:
    out, url = site
    page = _tournament_page(out, "knockout cup")
    games = _games(url, "knockout cup")
    first_round = [g for g in games if _key(g["key"])[0] == 1]
    final = [g for g in games if _key(g["key"])[0] == 2]
    high, low = (
        first_round[0]["seats"][0][0],
        first_round[0]["seats"][1][0],
    )  # g0: higher seed first
    (top,) = set(ENTRANTS) - {high, low}  # three entrants: seed 1 has the bye
    seed = {top: 1, high: 2, low: 3}
    points: dict[int, dict[str, float]] = {1: defaultdict(float), 2: defaultdict(float)}
    for game in games:
        for name, outcome in game["seats"]:
            points[_key(game["key"])[0]][name] += POINTS[outcome]
    semi = max((high, low), key=lambda e: (points[1][e], -seed[e]))
    finalists = {name for name, _ in final[0]["seats"]}
    assert finalists == {top, semi}
    champion = max(finalists, key=lambda e: (points[2][e], -seed[e]))

    def s(name: str) -> str:
        return f"({seed[name]}) {LABEL[name]}"

    tables = [v for v in page.tables.values() if v[0][0] == "Tie"]
    assert len(tables) == 2
    assert tables[0][1:] == [
        ["1", s(top), "bye", "–", "–", "0", s(top)],
        [
            "2",
            s(high),
            s(low),
            f"{points[1][high]:g}",
            f"{points[1][low]:g}",
            str(len(first_round))
            + (f" ({(len(first_round) - 2) // 2} tie-break(s))" if len(first_round) > 2 else ""),
            s(semi),
        ],
    ]
    final_high, final_low = sorted(finalists, key=seed.__getitem__)
    assert tables[1][1][:5] == [
        "1",
        s(final_high),
        s(final_low),
        f"{points[2][final_high]:g}",
        f"{points[2][final_low]:g}",
    ]
    assert tables[1][1][6] == s(champion)
    text = _tournament_file(out, "knockout cup").read_text(encoding="utf-8")
    assert f"<p>Champion: <strong>{s(champion)}</strong>.</p>" in text


def test_ladder_rounds_show_pairings_and_who_sat_out(site: tuple[Path, str]) -> None:
    out, url = site
    page = _tournament_page(out, "ladder cup")
    games = _games(url, "ladder cup")
    text = _tournament_file(out, "ladder cup").read_text(encoding="utf-8")
    tables = [
        v for v in page.tables.values() if v[0][:3] == ["Board", "Entrant", "Entrant's points"]
    ]
    assert len(tables) == 2
    for number, rows in enumerate(tables, 1):
        mine = sorted((g for g in games if _key(g["key"])[0] == number), key=lambda g: g["key"])
        first, second = mine[0]["seats"][0][0], mine[0]["seats"][1][0]
        got: dict[str, float] = defaultdict(float)
        for game in mine:
            for name, outcome in game["seats"]:
                got[name] += POINTS[outcome]
        assert rows[1:] == [
            ["1", LABEL[first], f"{got[first]:g}", LABEL[second], f"{got[second]:g}", "2"]
        ]
        (out_,) = set(ENTRANTS) - {first, second}
        assert f"<p>Sat round {number} out: {LABEL[out_]}.</p>" in text


def test_every_listed_match_links_its_replay_page(site: tuple[Path, str]) -> None:
    out, url = site
    with session_factory(connect(url))() as s:
        by_env: dict[str, set[int]] = defaultdict(set)
        for mid, env in s.execute(select(m.Match.id, m.Match.env_id)):
            by_env[env].add(mid)
    assert set(by_env) == {"tictactoe_v3", "simple_tag_v3", "connect_four_v3"}
    index = (out / "index.html").read_text(encoding="utf-8")
    for env, ids in by_env.items():
        page = Page((out / f"env-{env}.html").read_text(encoding="utf-8"))
        assert {h for h in page.links if h.startswith("replays/")} == {
            f"replays/match-{i}.html" for i in ids
        }
        assert f"all {len(ids)} match(es) of {env}, each with its replay page</a>" in index
    for path in out.glob("tournament-*.html"):
        for href in Page(path.read_text(encoding="utf-8")).links:
            assert (out / href.partition("#")[0]).exists(), (path, href)


def test_an_mpe_replay_page_shows_the_action_log(site: tuple[Path, str]) -> None:
    out, url = site
    with session_factory(connect(url))() as s:
        mid, actions = s.execute(
            select(m.Match.id, m.Match.actions)
            .where(m.Match.env_id == "simple_tag_v3")
            .order_by(m.Match.id)
            .limit(1)
        ).one()
    page = Page((out / f"replays/match-{mid}.html").read_text(encoding="utf-8"))
    (log,) = [v for v in page.tables.values() if v[0][0] == "Step"]
    seats = ["adversary_0", "adversary_1", "adversary_2", "agent_0"]
    assert log[0] == ["Step", *seats]
    assert len(log) - 1 == len(actions) > 0
    for i, step in enumerate(actions, 1):
        joint = dict((seat, action) for seat, action in step)
        assert log[i] == [str(i), *(str(joint[seat]) for seat in seats)]
    players = page.tables["table-0"]
    assert [row[0] for row in players[1:]] == ["random", "tag-chaser"]


def test_replay_pages_fold_each_agents_output_and_show_the_arenas_note(
    site: tuple[Path, str],
) -> None:
    out, url = site
    with session_factory(connect(url))() as s:
        mid = s.scalar(select(m.Match.id).where(m.Match.env_id == "connect_four_v3"))
        outputs = s.scalar(select(m.Match.outputs).where(m.Match.id == mid))
    # The first game seats twin-a first (label c4-heuristic), twin-b second.
    assert outputs == {"c4-heuristic#2": "hello <b>[31mred</b>\nsecond line\n"}
    text = (out / f"replays/match-{mid}.html").read_text(encoding="utf-8")
    assert "<p>c4-heuristic printed nothing.</p>" in text
    assert (
        '<details class="output"><summary>c4-heuristic#2: what it printed (2 lines)</summary>'
        "<pre>hello &lt;b&gt;[31mred&lt;/b&gt;\nsecond line\n</pre></details>"
    ) in text
    assert "The arena's note" not in text  # none stored for this match


def test_the_arenas_note_and_hostile_output_are_cleaned_and_escaped(
    site: tuple[Path, str], tmp_path: Path
) -> None:
    _, shared = site
    db = tmp_path / "copy.db"
    shutil.copy(shared.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    with session_factory(connect(url)).begin() as s:
        mid = s.scalar(select(m.Match.id).where(m.Match.env_id == "tictactoe_v3").limit(1))
        labels = s.scalars(select(m.Participant.label).where(m.Participant.match_id == mid)).all()
        s.execute(
            update(m.Match)
            .where(m.Match.id == mid)
            .values(
                outputs={
                    labels[0]: "</pre><script>alert(1)</script>\x1b[2J\u202eend",
                    NOTE_KEY: "output over 65536 characters: cut <here>",
                }
            )
        )
    out = tmp_path / "site"
    write_report(out, db_url=url)
    text = (out / f"replays/match-{mid}.html").read_text(encoding="utf-8")
    assert "<script" not in text and "\x1b" not in text and "\u202e" not in text
    assert "<pre>&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;[2Jend</pre>" in text
    assert (
        '<h2 id="h-note">The arena\'s note</h2>'
        '<p class="note">output over 65536 characters: cut &lt;here&gt;</p>'
    ) in text


def test_twin_packages_are_told_apart_by_a_short_hash(site: tuple[Path, str]) -> None:
    out, url = site
    with session_factory(connect(url))() as s:
        hashes = sorted(
            s.scalars(
                select(m.AgentVersion.content_hash)
                .join(m.Agent)
                .where(m.Agent.name == "c4-heuristic")
            )
        )
    assert len(hashes) == 2 and hashes[0][:6] != hashes[1][:6]
    tags = [f"#{h[:6]}" for h in hashes]
    labels = [f"c4-heuristic 1.0.0 {t}" for t in tags]
    index = Page((out / "index.html").read_text(encoding="utf-8"))
    (board,) = [
        v
        for v in index.tables.values()
        if v[0][:3] == ["Rank", "Agent", "Version"] and any(r[1] == "c4-heuristic" for r in v[1:])
    ]
    assert sorted(r[2] for r in board[1:]) == [f"1.0.0 {t}" for t in tags]
    # Unique versions keep their names: the tic-tac-toe board has no hash.
    assert all(
        "#" not in r[2]
        for v in index.tables.values()
        for r in v[1:]
        if v[0][:3] == ["Rank", "Agent", "Version"] and r[1] in ENTRANTS
    )
    (h2h,) = [v for v in index.tables.values() if v[0][0] == "agent" and "c4" in v[0][1]]
    assert sorted(h2h[0][1:]) == labels
    for plot in ("rating", "h2h"):
        svg = (out / f"plots/{plot}-connect_four_v3.svg").read_text(encoding="utf-8")
        assert all(label in svg for label in labels), plot
    env_page = (out / "env-connect_four_v3.html").read_text(encoding="utf-8")
    assert all(f"{label}: " in env_page for label in labels)
    with session_factory(connect(url))() as s:
        mid = s.scalar(select(m.Match.id).where(m.Match.env_id == "connect_four_v3"))
    replay = Page((out / f"replays/match-{mid}.html").read_text(encoding="utf-8"))
    assert sorted(r[2] for r in replay.tables["table-0"][1:]) == [f"1.0.0 {t}" for t in tags]


def test_max_replays_says_how_many_matches_have_pages(
    site: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = site
    out = tmp_path / "site"
    write_report(out, db_url=url, max_replays=1)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "all 2 match(es) of simple_tag_v3, the newest 1 with replay pages</a>" in index
    assert "all 1 match(es) of connect_four_v3, each with its replay page</a>" in index
