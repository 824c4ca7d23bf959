"""``arena report``: the Human vs AI table from a fixture database, cell by cell; plots;
links; escaping; and the page as a real browser (Debian's chromium, headless) renders it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from arena.cli import app
from arena.human import play_human
from arena.rating import RatingSystem
from arena.registry import get_env
from arena.series import play_series
from arena.sources import resolve_agent
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.recorder import Recorder
from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tournaments.report import write_report
from tournaments.run import run_tournament

EVIL = "evil<script>alert(1)</script>"
HUMAN_VS_AI = [
    "Game",
    "Top Human Score",
    "Top Machine Score",
    "Best",
    "Best Machine",
    "Learning Type",
]
EXPECTED_ROWS = [
    ["chess_v6", "–", "22.00", "Machine", f"{EVIL} 0.1", "Tree <search>"],
    ["connect_four_v3", "11.00", "24.00", "Machine", "c4-dqn 1.2.0", "Q-gradient"],
    ["leduc_holdem_v4", "21.00", "–", "Human", "–", "–"],
    # Mean episode score, not rating: the person scores more though rated lower.
    ["pong_v3", "4.00", "-1.00", "Human", "pong-ppo 2.0", "Policy-gradient"],
    ["tictactoe_v3", "24.00", "22.00", "Human", "one-ply 0.1.0", "One-ply lookahead"],
]


class Page(HTMLParser):
    """Collects what the tests look at: tables, links, images, ids."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "link" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag == "img":
            self.images.append(a)
        if tag == "table":
            self._table = str(a.get("id") or f"table-{len(self.tables)}")
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._row = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _add_agent(
    session: Any,
    env: str,
    name: str,
    version: str,
    kind: str,
    learning: str,
    mu: float,
    sigma: float,
) -> int:
    agent = session.scalar(select(m.Agent).where(m.Agent.name == name))
    if agent is None:
        agent = m.Agent(name=name, kind=kind)
        session.add(agent)
    row = m.AgentVersion(
        agent=agent,
        version=version,
        content_hash=f"{kind}:{name}:{version}",
        kind=kind,
        learning_type=learning,
        source="human" if kind == "human" else "path",
    )
    session.add(row)
    session.flush()
    session.add(m.Rating(agent_version_id=row.id, env_id=env, mu=mu, sigma=sigma, games=2))
    return int(row.id)


def _pong_match(session: Any, rewards: list[tuple[int, float]], rated: bool = True) -> None:
    match = m.Match(
        env_id="pong_v3", env_version="x", seed=0, steps=1, duration_s=0.0, rated=rated, actions=[]
    )
    session.add(match)
    session.flush()
    for slot, (vid, reward) in enumerate(rewards):
        session.add(
            m.Participant(
                match_id=match.id,
                agent_version_id=vid,
                slot=slot,
                label="x",
                seat=("first_0", "second_0")[slot],
                role="player",
                team=slot,
                reward=reward,
                rank=1,
                outcome="win",
            )
        )


def _set_rating(session: Any, name: str, env: str, mu: float, sigma: float) -> None:
    vid = session.scalar(select(m.AgentVersion.id).join(m.Agent).where(m.Agent.name == name))
    session.execute(
        update(m.Rating)
        .where(m.Rating.agent_version_id == vid, m.Rating.env_id == env)
        .values(mu=mu, sigma=sigma)
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{root / 'arena.db'}"
    engine = connect(url)
    # Real matches (replayable) and a real tournament.
    recorder = Recorder(engine, RatingSystem())
    sources = [resolve_agent("random"), resolve_agent("one-ply")]
    play_series(get_env("tictactoe_v3"), sources, games=3, seed=1, on_result=recorder.record)
    toml = root / "ttt.toml"
    toml.write_text(
        '[tournament]\nname = "ttt <cup>"\nenv = "tictactoe_v3"\nformat = "round-robin"\n'
        'description = "noughts & crosses"\n'
        'games_per_pairing = 2\n[[entrants]]\nagent = "random"\n[[entrants]]\nagent = "one-ply"\n'
    )
    run_tournament(toml, db_url=url)
    moves = iter(["4", "resign"])
    play_human(
        "tictactoe_v3",
        "one-ply",
        ask=lambda _: next(moves),
        show=lambda _: None,
        name="zoe",
        seed=2,
        db_url=url,
    )
    # Ratings set by hand, so every cell of the Human vs AI table is known.
    with session_factory(engine)() as session:
        _set_rating(session, "one-ply", "tictactoe_v3", 28.0, 2.0)  # 22.00
        _set_rating(session, "random", "tictactoe_v3", 20.0, 5.0)  # 5.00
        _set_rating(session, "zoe", "tictactoe_v3", 30.0, 2.0)  # 24.00
        _add_agent(session, "tictactoe_v3", "alice", "1", "human", "Human", 20.0, 1.0)
        _add_agent(session, "connect_four_v3", "carol", "1", "human", "Human", 20.0, 3.0)
        _add_agent(session, "connect_four_v3", "c4-dqn", "1.2.0", "dqn", "Q-gradient", 30.0, 2.0)
        _add_agent(session, "connect_four_v3", "c4-old", "1.0.0", "tabular", "Tabular", 26.0, 3.0)
        _add_agent(session, "chess_v6", EVIL, "0.1", "search", "Tree <search>", 25.0, 1.0)
        _add_agent(session, "leduc_holdem_v4", "bea", "1", "human", "Human", 27.0, 2.0)
        dave = _add_agent(session, "pong_v3", "dave", "1", "human", "Human", 25.0, 8.0)
        ppo = _add_agent(session, "pong_v3", "pong-ppo", "2.0", "sac", "Policy-gradient", 40.0, 1.0)
        _pong_match(session, [(dave, 3.0), (ppo, -3.0)])
        _pong_match(session, [(ppo, 1.0), (dave, 5.0)])
        _pong_match(session, [(ppo, 100.0), (dave, -100.0)], rated=False)  # not counted
        session.add(
            m.Participant(
                match_id=1,
                agent_version_id=ppo,
                slot=9,
                label=EVIL,
                seat="x",
                role="player",
                team=0,
                reward=0.0,
                rank=2,
                outcome="loss",
                forfeit_reason="timeout",
                error_text="<img src=x onerror=alert(1)>",
            )
        )
        session.commit()
    out = root / "site"
    write_report(out, db_url=url)
    return out, url


def _page(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def test_human_vs_ai_table_cell_by_cell(site: tuple[Path, str]) -> None:
    out, _ = site
    rows = _page(out / "index.html").tables["human-vs-ai-table"]
    assert rows[0] == HUMAN_VS_AI
    assert rows[1:] == EXPECTED_ROWS


def test_plots_are_present_with_alt_text(site: tuple[Path, str]) -> None:
    out, _ = site
    index = _page(out / "index.html")
    sources = {str(img["src"]) for img in index.images}
    assert {"plots/rating-tictactoe_v3.svg", "plots/h2h-tictactoe_v3.svg"} <= sources
    for img in index.images:
        assert img.get("alt"), img
        svg = out / str(img["src"])
        assert ET.parse(svg).getroot().tag.endswith("svg")


def test_every_link_and_replay_resolves(site: tuple[Path, str]) -> None:
    out, url = site
    pages = sorted(out.rglob("*.html"))
    for path in pages:
        page = _page(path)
        for href in page.links:
            assert "://" not in href and not href.startswith("/"), (path, href)
            target, _, fragment = href.partition("#")
            file = (path.parent / target).resolve() if target else path
            assert file.exists(), (path, href)
            if fragment and file.suffix == ".html":
                assert fragment in _page(file).ids, (path, href)
    with session_factory(connect(url))() as session:
        ttt = session.scalars(select(m.Match.id).where(m.Match.env_id == "tictactoe_v3")).all()
    env_page = _page(out / "env-tictactoe_v3.html")
    replays = {h for h in env_page.links if h.startswith("replays/")}
    assert replays == {f"replays/match-{i}.html" for i in ttt}
    assert len(ttt) == 3 + 2 + 1
    replay = _page(out / f"replays/match-{ttt[0]}.html")
    assert {"ply-0", "ply-1"} <= replay.ids  # one anchor per move, stepped through by links
    (tournament_page,) = out.glob("tournament-*.html")
    # The file's [tournament].description is shown, escaped.
    assert "<p>noughts &amp; crosses</p>" in tournament_page.read_text()


def test_user_strings_are_escaped(site: tuple[Path, str]) -> None:
    out, _ = site
    for path in out.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text and "<img src=x" not in text, path
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "evil&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "ttt &lt;cup&gt;" in index


def test_pages_are_accessible_basics(site: tuple[Path, str]) -> None:
    out, _ = site
    for path in out.rglob("*.html"):
        page = _page(path)
        tags = [t for t, _ in page.tags]
        assert ("html", {"lang": "en"}) in page.tags, path
        assert tags.count("table") == tags.count("caption"), path
        assert "script" not in tags
        for tag, attrs in page.tags:
            if tag == "th":
                assert attrs.get("scope") in ("col", "row"), path


def test_report_never_overwrites_a_foreign_folder(tmp_path: Path, site: tuple[Path, str]) -> None:
    _, url = site
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep")
    result = CliRunner().invoke(app, ["--db", url, "report", "--out", str(foreign)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --out {foreign}: folder is not empty and holds no earlier report; "
        "choose a new or empty folder\n"
    )
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]  # no temp folder left behind
    fresh = tmp_path / "site"
    for _ in range(2):  # the second run replaces the first report
        result = CliRunner().invoke(app, ["--db", url, "report", "--out", str(fresh)])
        assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {fresh}/index.html: 5 env(s), ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "site"]


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing: apt-get install -y chromium (.ci/run installs it)",
)
def test_index_renders_in_headless_chromium(site: tuple[Path, str], tmp_path: Path) -> None:
    from PIL import Image

    out, _ = site
    shot = tmp_path / "index.png"
    profile = tempfile.mkdtemp(prefix="arena-chromium-")
    flags = [
        str(CHROMIUM),
        "--headless",
        *CHROMIUM_ARGS,
        f"--user-data-dir={profile}",
        "--window-size=1280,2000",
    ]
    url = (out / "index.html").as_uri()
    try:
        subprocess.run(
            [*flags, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=120
        )
        dom = subprocess.run(
            [*flags, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120
        ).stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.size == (1280, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # text, tables and plots, not blank
    page = Page(dom)
    assert page.tables["human-vs-ai-table"][1:] == EXPECTED_ROWS
    assert len(page.tables) >= 6  # Human vs AI, four leaderboards, forfeits...
    assert page.images
    for img in page.images:  # no broken image: every source is a file that parses as SVG
        svg = out / str(img["src"])
        assert svg.is_file() and ET.parse(svg).getroot().tag.endswith("svg"), img


def test_cooperative_env_is_ranked_by_team_return(tmp_path: Path) -> None:
    """simple_spread has one team and no opponent: the report shows mean team return."""
    from arena.play import play_and_record
    from tournaments.leaderboard import leaderboard
    from tournaments.report import write_report

    url = f"sqlite:///{tmp_path / 'coop.db'}"
    report = play_and_record("simple_spread_v3", ["random"], games=3, seed=0, db_url=url)
    out = tmp_path / "site"
    write_report(out, db_url=url)
    page = (out / "index.html").read_text()
    assert "<caption>simple_spread_v3: cooperative, ranked by mean team return" in page
    from arena.storage.db import connect

    (row,) = [r for r in leaderboard(connect(url)) if r.env == "simple_spread_v3"]
    assert row.team_return is not None and row.games == len(report.match_ids) == 3
    assert f'<td class="num">{row.team_return:.1f}</td>' in page
