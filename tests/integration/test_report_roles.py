"""``arena report`` on a role-asymmetric env (simple_tag): scored by duplicate pairs.

A round robin of random against tag-chaser: the env's section says how it is
scored and shows the overall board and one per role; the head-to-head counts
are the pairs' overall comparisons, not single matches (whose predators always
win). A Swiss run's pages read each pair of matches ``KEY/d0``, ``KEY/d1`` as
one game.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arena.rating import Contest, compare_pair
from arena.storage import connect
from arena.storage.queries.agents import agent_versions
from arena.storage.queries.ratings import rated_pairs
from tests.integration.test_report import Page
from tournaments.leaderboard import leaderboard
from tournaments.report import write_report
from tournaments.run import run_tournament

ENV = "simple_tag_v3"
SCORING = (
    "Scored in role-swapped pairs on the same seed: A&#x27;s adversary vs B&#x27;s agent, "
    "then B&#x27;s adversary vs A&#x27;s agent; see docs/organisers.md."
)


def _file(folder: Path, name: str, options: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'[tournament]\nname = "{name}"\nenv = "{ENV}"\nseed = 1\n{options}\n'
        "env_kwargs = { max_cycles = 25 }\n"
        '[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "tag-chaser"\n'
    )
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("roles")
    url = f"sqlite:///{root / 'arena.db'}"
    run_tournament(_file(root, "tag rr", "games_per_pairing = 4"), db_url=url)
    out = root / "site"
    write_report(out, db_url=url)
    return out, url


def _section(out: Path) -> str:
    index = (out / "index.html").read_text(encoding="utf-8")
    start = index.index(f'<section id="{ENV}"')
    return index[start : index.index("</section>", start)]


def _table(html: str, caption: str) -> list[list[str]]:
    """The rows (header first) of the table whose caption starts with ``caption``."""
    found = re.search(r"<table[^>]*>\s*<caption>" + re.escape(caption) + r".*?</table>", html, re.S)
    assert found, f"no table '{caption}'"
    return next(iter(Page(found.group(0)).tables.values()))


def test_the_env_section_says_how_it_is_scored_and_shows_a_board_per_role(
    site: tuple[Path, str],
) -> None:
    out, url = site
    section = _section(out)
    captions = re.findall(r"<caption>(.*?)</caption>", section)
    assert captions[:3] == [
        f"{ENV}: leaderboard by mu−3σ",
        f"{ENV}: role adversary, leaderboard by mu−3σ over its role contests",
        f"{ENV}: role agent, leaderboard by mu−3σ over its role contests",
    ]
    assert section.index(SCORING) < section.index("<table")
    assert SCORING in (out / f"env-{ENV}.html").read_text(encoding="utf-8")
    engine = connect(url)
    for role in ("adversary", "agent"):
        rows = _table(section, f"{ENV}: role {role},")[1:]
        stored = leaderboard(engine, env_id=ENV, role=role)
        assert [r[1] for r in rows] == [r.agent for r in stored]
        assert [r[8] for r in rows] == [f"{r.wins}/{r.draws}/{r.losses}" for r in stored]
    adversaries = _table(section, f"{ENV}: role adversary,")[1:]
    assert adversaries[0][1] == "tag-chaser"
    assert [r[9] for r in adversaries] == ["4", "4"]  # one contest per pair


def _chaser_scores(url: str, contests: list[Contest]) -> list[float]:
    """tag-chaser's score (1, 0.5, 0) in each contest."""
    versions = agent_versions(connect(url), {v for c in contests for v in (c.a, c.b)})
    return [c.score_a if versions[c.a].agent == "tag-chaser" else 1 - c.score_a for c in contests]


def test_head_to_head_counts_the_pair_comparisons(site: tuple[Path, str]) -> None:
    out, url = site
    engine = connect(url)
    pairs = rated_pairs(engine, env_id=ENV)
    assert len(pairs) == 4
    overall = [c for p in pairs for c in compare_pair(p.first, p.second) if c.role == ""]
    scores = _chaser_scores(url, overall)
    chaser = sum(scores)
    h2h = _table(_section(out), f"{ENV}: score rate of the row agent against the column agent")
    header, *rows = h2h
    cell = {(row[0], header[j]): row[j] for row in rows for j in range(1, len(row))}
    chaser_rate, random_rate = chaser / 4, (4 - chaser) / 4
    assert cell[("tag-chaser 0.1.0", "random 0.1.0")] == f"{chaser_rate:.2f} (4)"
    assert cell[("random 0.1.0", "tag-chaser 0.1.0")] == f"{random_rate:.2f} (4)"
    board = _table(_section(out), f"{ENV}: leaderboard by mu−3σ")[1:]
    chaser_row = next(r for r in board if r[1] == "tag-chaser")
    wdl = (scores.count(1.0), scores.count(0.5), scores.count(0.0))
    assert chaser_row[8] == "/".join(map(str, wdl))


def test_a_swiss_run_reads_each_pair_as_one_game(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'arena.db'}"
    options = 'format = "swiss"\nrounds = 2\ngames_per_pairing = 1'
    run_tournament(_file(tmp_path, "tag swiss", options), db_url=url)
    out = tmp_path / "site"
    write_report(out, db_url=url)
    (page,) = out.glob("tournament-*.html")
    text = page.read_text(encoding="utf-8")
    assert "do not fit" not in text
    engine = connect(url)
    pairs = rated_pairs(engine, env_id=ENV)
    assert len(pairs) == 2  # two rounds, one game each: two pairs of matches
    overall = [c for p in pairs for c in compare_pair(p.first, p.second) if c.role == ""]
    chaser = sum(_chaser_scores(url, overall))
    points = {"random": len(overall) - chaser, "tag-chaser": chaser}
    standings = _table(text, "tag swiss, run 1: standings after round 2 of 2")[1:]
    assert {r[1]: float(r[2]) for r in standings} == {f"{k} 0.1.0": v for k, v in points.items()}
