"""``arena report --out DIR``: a static site that opens from the file system.

Layout (every link relative, no script, one shared stylesheet)::

    index.html                 Human vs AI, one section per env, forfeits, tournaments
    env-<env>.html             the env's matches, with links to their replays
    tournament-<id>.html       one per tournament: runs, its leaderboard, its matches
    replays/match-<id>.html    one per match of a text-rendered game: every move
    plots/*.svg                rating history and head-to-head heatmaps
    style.css

The site is built in a temp folder next to ``DIR`` and renamed into place, so a
failure leaves the previous report (or nothing) behind, never half a site.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.rating import RatingSystem, conservative
from arena.registry import env_specs
from arena.storage.queries.ratings import history_points
from arena.textsafe import clean_text
from tournaments.leaderboard import LeaderboardRow, leaderboard
from tournaments.report import data, plots
from tournaments.report.html import CSS, Markup, Num, esc, link, num, page, table
from tournaments.report.naming import Naming, naming
from tournaments.report.paths import env_page, replay_page, tournament_page
from tournaments.report.paths import slug as _slug
from tournaments.report.replay_pages import write_replays
from tournaments.report.structure import Timeline, run_structures
from tournaments.report.tournament_sections import run_sections

MARKER = ".arena-report"
TOP_PLOTTED = 10  # agents per rating-history plot
TOP_MATRIX = 12  # agents per head-to-head heatmap
#: how a role-asymmetric env is scored, on its section of the index
PAIR_SCORING = (
    "Scored in role-swapped pairs on the same seed: A's {first} vs B's {second}, "
    "then B's {first} vs A's {second}; see docs/organisers.md."
)
HUMAN_VS_AI_COLUMNS = (
    "Game",
    "Top Human Score",
    "Top Machine Score",
    "Best",
    "Best Machine",
    "Learning Type",
)


@dataclass
class ReportSummary:
    """What was written."""

    out: str
    envs: list[str] = field(default_factory=list)
    pages: int = 0
    replays: int = 0
    plots: int = 0
    replay_errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ArenaError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ArenaError(
            f"--out {out}: folder is not empty and holds no earlier report; "
            "choose a new or empty folder"
        )


def write_report(
    out: Path, *, db_url: str | None = None, max_replays: int | None = None
) -> ReportSummary:
    """Write the static report to ``out`` (replacing an earlier report there).

    Args:
        out: the site's folder; created, or replaced if it holds an earlier report.
        db_url: the database.
        max_replays: replay pages per env, newest matches first (default: all).

    Raises:
        ArenaError: ``out`` is a file or a folder holding something else, or
            cannot be written (a full disk, a read-only folder).
    """
    from arena.storage import connect

    out = Path(out)
    _check_out(out)
    engine = connect(db_url, read_only=True)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise ArenaError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    try:
        summary = _build(engine, tmp, max_replays)
        (tmp / MARKER).write_text("written by 'arena report'; replaced on the next run\n")
        tmp.chmod(0o755)
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tmp.name.rsplit('.', 1)[-1]}")
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:  # a full disk, a read-only folder: the earlier report stays
        shutil.rmtree(tmp, ignore_errors=True)
        raise ArenaError(f"--out {out}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.out = str(out)
    return summary


def _plot_names(rows: Sequence[LeaderboardRow], names: Naming) -> dict[str, str]:
    """Labels for plots (SVG text, not escaped by :func:`esc`): cleaned here."""
    return {r.hash: clean_text(names.label(r.hash, f"{r.agent} {r.version}")) for r in rows}


def _build(engine: Engine, root: Path, max_replays: int | None) -> ReportSummary:
    summary = ReportSummary(out=str(root))
    (root / "plots").mkdir()
    (root / "replays").mkdir()
    (root / "style.css").write_text(CSS)
    rows = leaderboard(engine)
    by_env: dict[str, list[LeaderboardRow]] = defaultdict(list)
    for r in rows:
        by_env[r.env].append(r)
    named = naming(engine)
    names = _plot_names(rows, named)
    all_matches = data.matches(engine)
    matches_by_env: dict[str, list[data.MatchLine]] = defaultdict(list)
    for line in all_matches:
        matches_by_env[line.env].append(line)
    envs = sorted(set(by_env) | set(matches_by_env))
    summary.envs = envs
    tournaments = data.tournaments(engine)
    tournament_names = {t.tournament_id: t.name for t in tournaments}

    replays: set[int] = set()
    for env in envs:
        made, errors = write_replays(
            engine, root, env, matches_by_env[env], max_replays, named, _write
        )
        replays |= made
        summary.replay_errors += errors
    summary.replays = len(replays)

    points = history_points(engine)
    history = data.rating_history(engine, points)
    first = RatingSystem().initial()
    start = conservative(first.mu, first.sigma)
    sections = []
    for env in envs:
        env_rows = by_env.get(env, [])
        figures = []
        if env in history and env_rows:
            order = [r.hash for r in env_rows[:TOP_PLOTTED]]
            path = f"plots/rating-{_slug(env)}.svg"
            plots.rating_history(history[env], names, order, root / path, initial=start)
            summary.plots += 1
            figures.append(_figure(path, env, "rating history", _history_alt(env, env_rows, names)))
        if len(env_rows) >= 2 and len(env_rows[0].hash) and _two_sided(env):
            h2h = data.head_to_head(engine, env, [r.hash for r in env_rows[:TOP_MATRIX]])
            if any(g for row in h2h.games for g in row):
                path = f"plots/h2h-{_slug(env)}.svg"
                plots.head_to_head(h2h, names, root / path)
                summary.plots += 1
                paired = data.is_asymmetric(env)
                what = "head-to-head win rates" + (" over role-swapped pairs" if paired else "")
                figures.append(
                    _figure(path, env, what, _h2h_alt(env, h2h, names))
                    + _h2h_table(env, h2h, names, "pairs" if paired else "games")
                )
        listed = matches_by_env[env]
        with_pages = sum(1 for line in listed if line.match_id in replays)
        scoring, roles = _role_boards(engine, env, named) if env_rows else ("", "")
        sections.append(
            _env_section(env, env_rows, figures, len(listed), with_pages, named, scoring, roles)
        )
        _write(
            root / env_page(env),
            page(
                f"{env}: matches",
                scoring
                + _match_table(
                    f"Matches of {env}, newest first", listed, replays, tournament_names, named
                ),
            ),
        )
        summary.pages += 1

    timeline = Timeline(points)
    for t in tournaments:
        _write(
            root / tournament_page(t.tournament_id),
            _tournament(engine, t, all_matches, replays, named, timeline),
        )
        summary.pages += 1

    vs = data.human_vs_ai_table(engine, rows, named.labels)
    forfeits = data.forfeits(engine)
    _write(root / "index.html", _index(vs, sections, forfeits, tournaments, summary, envs, named))
    summary.pages += 1 + summary.replays
    return summary


def _two_sided(env: str) -> bool:
    spec = env_specs().get(env)
    return spec is None or len(spec.teams) == 2


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _figure(path: str, env: str, what: str, alt: str) -> str:
    return (
        f'<figure><img src="{esc(path)}" alt="{esc(alt)}" loading="lazy">'
        f"<figcaption>{esc(env)}: {esc(what)}</figcaption></figure>"
    )


def _history_alt(env: str, rows: Sequence[LeaderboardRow], names: dict[str, str]) -> str:
    top = ", ".join(f"{names[r.hash]} at {r.score:.2f}" for r in rows[:3])
    return (
        f"Line chart of mu minus 3 sigma after each rated match of {env} for the top "
        f"{min(len(rows), TOP_PLOTTED)} agents; now leading: {top}."
    )


def _h2h_alt(env: str, h2h: data.HeadToHead, names: dict[str, str]) -> str:
    return (
        f"Heatmap of score rates between the top {len(h2h.hashes)} agents of {env}; "
        "green: the row agent wins, red: it loses; the same numbers are in the table below."
    )


def _h2h_table(env: str, h2h: data.HeadToHead, names: dict[str, str], unit: str = "games") -> str:
    labels = [names[h] for h in h2h.hashes]
    rows = [
        [labels[i]]
        + [
            Num("–" if v is None else f"{v:.2f} ({h2h.games[i][j]})")
            for j, v in enumerate(h2h.rate[i])
        ]
        for i in range(len(labels))
    ]
    return (
        "<details><summary>Head-to-head as a table</summary>"
        + table(
            f"{env}: score rate of the row agent against the column agent ({unit})",
            ["agent", *labels],
            rows,
            row_header=0,
        )
        + "</details>"
    )


def _leaderboard_table(caption: str, rows: Sequence[LeaderboardRow], names: Naming) -> str:
    body = []
    for r in rows:
        bt = "–" if r.bt is None else f"{r.bt:.0f} ({num(r.bt_low, 0)}–{num(r.bt_high, 0)})"
        body.append(
            [
                Num(r.rank),
                r.agent,
                names.version(r.version, r.hash),
                r.kind,
                Num(num(r.mu)),
                Num(num(r.sigma)),
                Num(num(r.score)),
                Num(bt),
                Num(f"{r.wins}/{r.draws}/{r.losses}"),
                Num(r.games),
            ]
        )
    headers = [
        "Rank",
        "Agent",
        "Version",
        "Kind",
        "mu",
        "sigma",
        "mu−3σ",
        "Bradley-Terry (95%)",
        "W/D/L",
        "Games",
    ]
    return table(caption, headers, body, row_header=1)


def _role_boards(engine: Engine, env: str, names: Naming) -> tuple[str, str]:
    """A role-asymmetric env's scoring line and its leaderboards per role (else both "")."""
    spec = env_specs().get(env)
    if spec is None or not data.is_asymmetric(env):
        return "", ""
    first, second = spec.roles[:2]  # side 0's role and side 1's
    line = f'<p class="scoring">{esc(PAIR_SCORING.format(first=first, second=second))}</p>'
    boards = []
    for role in spec.roles:
        rows = leaderboard(engine, env_id=env, role=role)
        if rows:
            caption = f"{env}: role {role}, leaderboard by mu−3σ over its role contests"
            boards.append(_leaderboard_table(caption, rows, names))
    return line, "".join(boards)


def _team_table(caption: str, rows: Sequence[LeaderboardRow], names: Naming) -> str:
    """Cooperative envs: no opponent, so no rating; ranked by mean team return."""
    scored = sorted(
        (r for r in rows if r.team_return is not None), key=lambda r: -(r.team_return or 0.0)
    )
    body = [
        [
            Num(i),
            r.agent,
            names.version(r.version, r.hash),
            r.kind,
            Num(num(r.team_return, 1)),
            Num(f"{num(r.team_return_low, 1)} to {num(r.team_return_high, 1)}"),
            Num(r.games),
        ]
        for i, r in enumerate(scored, 1)
    ]
    headers = ["Rank", "Agent", "Version", "Kind", "Mean team return", "95% interval", "Games"]
    return table(caption, headers, body, row_header=1)


def _env_section(
    env: str,
    rows: Sequence[LeaderboardRow],
    figures: list[str],
    n: int,
    with_pages: int,
    names: Naming,
    scoring: str = "",
    roles: str = "",
) -> str:
    """The env's section of the index: ``scoring`` says how an asymmetric env is
    scored, above the overall board; ``roles``, its per-role boards, below it."""
    spec = env_specs().get(env)
    about = f"<p>{esc(spec.description)}</p>" if spec is not None and spec.description else ""
    if with_pages and with_pages == n:
        pages = ", each with its replay page"
    elif with_pages:
        pages = f", the newest {with_pages} with replay pages"
    else:
        pages = ""
    matches = link(env_page(env), f"all {n} match(es) of {env}{pages}")
    cooperative = any(r.team_return is not None for r in rows)
    if cooperative:
        board = _team_table(f"{env}: cooperative, ranked by mean team return", rows, names)
    elif rows:
        board = _leaderboard_table(f"{env}: leaderboard by mu−3σ", rows, names)
    else:
        board = "<p>No rated matches yet.</p>"
    board = f"{scoring}{board}{roles}"
    return (
        f'<section id="{esc(_slug(env))}" aria-labelledby="h-{esc(_slug(env))}">'
        f'<h2 id="h-{esc(_slug(env))}">{esc(env)}</h2>{about}<p>{matches}</p>'
        f"{board}{''.join(figures)}</section>"
    )


def _human_vs_ai(rows: Sequence[data.HumanVsAIRow]) -> str:
    body = []
    for r in rows:
        body.append(
            [
                r.game,
                Num(num(r.top_human)),
                Num(num(r.top_machine)),
                Markup(f'<span class="best">{esc(r.best)}</span>'),
                r.best_machine or "–",
                r.learning_type or "–",
            ]
        )
    scored = sorted({r.game for r in rows if r.measure == "mean score"})
    humans = [f"{r.game}: {r.top_human_name}" for r in rows if r.top_human_name]
    note = (
        "<p>Scores are the conservative rating mu−3σ"
        + (f", except the mean episode score for {esc(', '.join(scored))}" if scored else "")
        + ". Best is Human only when the top person scores strictly more than the top machine.</p>"
    )
    if humans:
        note += f"<p>Top humans: {esc('; '.join(humans))}.</p>"
    return (
        '<section id="human-vs-ai" aria-labelledby="h-human-vs-ai">'
        '<h2 id="h-human-vs-ai">Human vs AI</h2>'
        + table(
            "Human vs AI: the best person and the best machine in every game",
            HUMAN_VS_AI_COLUMNS,
            body,
            row_header=0,
            css_id="human-vs-ai-table",
        )
        + note
        + "</section>"
    )


def _forfeits(rows: Sequence[data.ForfeitCount], names: Naming) -> str:
    if not rows:
        return '<section id="forfeits"><h2>Forfeits by reason</h2><p>No forfeits.</p></section>'
    totals: Counter[tuple[str, str]] = Counter()
    for r in rows:
        totals[(r.env, r.reason)] += r.count
    summary = table(
        "Forfeited matches by env and reason",
        ["Env", "Reason", "Matches"],
        [[env, reason, Num(n)] for (env, reason), n in sorted(totals.items())],
    )
    detail = table(
        "Forfeited matches by agent",
        ["Env", "Agent", "Version", "Reason", "Matches"],
        [[r.env, r.agent, names.version(r.version, r.hash), r.reason, Num(r.count)] for r in rows],
        row_header=1,
    )
    return (
        '<section id="forfeits" aria-labelledby="h-forfeits">'
        f'<h2 id="h-forfeits">Forfeits by reason</h2>{summary}{detail}</section>'
    )


def _index(
    vs: Sequence[data.HumanVsAIRow],
    sections: Sequence[str],
    forfeits: Sequence[data.ForfeitCount],
    tournaments: Sequence[data.TournamentInfo],
    summary: ReportSummary,
    envs: Sequence[str],
    names: Naming,
) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    contents = [link("#human-vs-ai", "Human vs AI")]
    contents += [link(f"#{_slug(env)}", env) for env in envs]
    contents += [link("#forfeits", "Forfeits"), link("#tournaments", "Tournaments")]
    toc = (
        '<nav aria-label="contents"><ul>'
        + "".join(f"<li>{c}</li>" for c in contents)
        + "</ul></nav>"
    )
    if tournaments:
        items = "".join(
            f"<li>{link(tournament_page(t.tournament_id), t.name)} ({esc(t.env)}, "
            f"{esc(t.format)}, {len(t.runs)} run(s))</li>"
            for t in tournaments
        )
        tlist = f"<ul>{items}</ul>"
    else:
        tlist = "<p>No tournaments yet.</p>"
    body = (
        f"<p>Generated {esc(when)} from the arena database: {len(envs)} env(s), "
        f"{summary.replays} replay(s).</p>"
        + toc
        + _human_vs_ai(vs)
        + "".join(sections)
        + _forfeits(forfeits, names)
        + '<section id="tournaments" aria-labelledby="h-tournaments">'
        + f'<h2 id="h-tournaments">Tournaments</h2>{tlist}</section>'
    )
    return page("Arena report", body)


def _match_table(
    caption: str,
    lines: Sequence[data.MatchLine],
    replays: set[int],
    tournament_names: dict[int, str],
    names: Naming,
) -> str:
    if not lines:
        return "<p>No matches.</p>"
    body = []
    for line in lines:
        players = "; ".join(
            f"{names.player(p.label, p.hash)}: {p.outcome}"
            + (f" ({p.forfeit})" if p.forfeit else "")
            for p in line.players
        )
        tournament: Any = "–"
        if line.tournament_id is not None:
            tournament = link(
                tournament_page(line.tournament_id),
                tournament_names.get(line.tournament_id, "?"),
            )
        replay: Any = (
            link(replay_page(line.match_id), f"replay {line.match_id}")
            if line.match_id in replays
            else "–"
        )
        body.append([Num(line.match_id), line.created_at, tournament, players, replay])
    return table(caption, ["Match", "Played (UTC)", "Tournament", "Players", "Replay"], body)


def _tournament(
    engine: Engine,
    t: data.TournamentInfo,
    all_matches: Sequence[data.MatchLine],
    replays: set[int],
    names: Naming,
    timeline: Timeline,
) -> str:
    runs = table(
        f"Runs of {t.name}",
        ["Run", "Status", "Played", "Planned", "Started (UTC)"],
        [
            [Num(r["number"]), r["status"], Num(r["played"]), Num(r["planned"]), r["started"]]
            for r in t.runs
        ],
    )
    rows = leaderboard(engine, tournament=t.name)
    board = (
        _leaderboard_table(
            f"{t.name}: leaderboard, rated from this tournament's matches", rows, names
        )
        if rows
        else "<p>No rated matches yet.</p>"
    )
    structures = run_structures(
        engine,
        tournament_id=t.tournament_id,
        env=t.env,
        format_name=t.format,
        config=t.config,
        timeline=timeline,
        labels=names.labels,
    )
    mine = [line for line in all_matches if line.tournament_id == t.tournament_id]
    about = f"<p>{esc(t.description)}</p>" if t.description else ""
    body = (
        f"{about}<p>Env {link(env_page(t.env), t.env)}, format {esc(t.format)}.</p>"
        + runs
        + run_sections(t.name, structures)
        + board
        + _match_table(
            f"Matches of {t.name}, newest first", mine, replays, {t.tournament_id: t.name}, names
        )
    )
    return page(f"Tournament {t.name}", body)
