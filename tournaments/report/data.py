"""What the report shows, read from the database: no HTML here.

The Human vs AI table puts the best person next to the best machine for every
game. A game's score is the conservative TrueSkill rating ``mu - 3 sigma``,
except for the envs that keep score (:data:`SCORE_FAMILIES`: Atari and MPE,
whose returns are points or distances), where it is the mean episode score: the
agent's side return per rated match (sum, or mean over a team's seats, as the
env ranks teams), averaged over its rated matches. A person is an agent of
kind ``human``; everyone else is a machine.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from arena.rating import compare_pair, conservative
from arena.registry import env_specs
from arena.series import asymmetric
from arena.storage.queries.agents import agent_versions
from arena.storage.queries.ratings import HistoryPoint, history_points, rated_pairs
from arena.storage.queries.seats import rated_outcomes, seat_rewards
from arena.storage.queries.tournaments import run_rows, tournament_rows
from tournaments.leaderboard import LeaderboardRow
from tournaments.report import reads

SCORE_FAMILIES = ("atari", "mpe")
HUMAN_KIND = "human"


@dataclass
class Entry:
    """One agent version's score on one game."""

    env: str
    agent: str
    version: str
    kind: str
    learning_type: str
    score: float
    mu: float = 0.0
    hash: str = ""

    @property
    def human(self) -> bool:
        return self.kind == HUMAN_KIND

    @property
    def title(self) -> str:
        return self.agent if self.human else f"{self.agent} {self.version}"


@dataclass
class HumanVsAIRow:
    """One row of the Human vs AI table.

    ``best`` is ``Human`` only when the top person scores strictly more than the
    top machine (or no machine has played); otherwise ``Machine``.
    """

    game: str
    measure: str  # "mu-3sigma" or "mean score"
    top_human: float | None
    top_human_name: str | None
    top_machine: float | None
    best: str
    best_machine: str | None
    learning_type: str


def has_scores(env_id: str) -> bool:
    """Whether the report scores ``env_id`` by mean episode score instead of rating."""
    spec = env_specs().get(env_id)
    return spec is not None and spec.family in SCORE_FAMILIES


def mean_scores(engine: Engine, env_ids: Sequence[str]) -> list[Entry]:
    """Mean episode score of every agent version over its rated matches of ``env_ids``."""
    if not env_ids:
        return []
    specs = env_specs()
    sides: dict[tuple[str, int, int, int], list[float]] = defaultdict(list)
    with engine.connect() as conn:
        for seat in seat_rewards(conn, rated=True, env_ids=env_ids):
            key = (seat.env_id, seat.match_id, seat.slot, seat.agent_version_id)
            sides[key].append(float(seat.reward))
        per_version: dict[tuple[str, int], list[float]] = defaultdict(list)
        for (env, _, _, vid), rewards in sides.items():
            spec = specs.get(env)
            mean = spec is not None and spec.team_score == "mean"
            total = math.fsum(rewards)
            per_version[(env, vid)].append(total / len(rewards) if mean else total)
        versions = agent_versions(conn, {vid for _, vid in per_version})
    entries = []
    for (env, vid), scores in per_version.items():
        v = versions[vid]
        score = math.fsum(scores) / len(scores)
        entries.append(Entry(env, v.agent, v.version, v.kind, v.learning_type, score, hash=v.hash))
    return entries


def rating_entries(rows: Sequence[LeaderboardRow]) -> list[Entry]:
    return [
        Entry(r.env, r.agent, r.version, r.kind, r.learning_type, r.score, r.mu, r.hash)
        for r in rows
    ]


def human_vs_ai(
    entries: Sequence[Entry],
    measures: dict[str, str],
    labels: Mapping[str, str] | None = None,
) -> list[HumanVsAIRow]:
    """The Human vs AI table, one row per game (sorted by game id).

    Args:
        entries: every agent version's score per game.
        measures: the measure named for each game (``mu-3sigma`` or ``mean score``).
        labels: display label per content hash (:func:`version_labels`); default the title.
    """
    labels = labels or {}
    by_env: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_env[e.env].append(e)
    table = []
    for env in sorted(by_env):
        # Ties: the higher mu, then the name, so the table is stable.
        ordered = sorted(by_env[env], key=lambda e: (-e.score, -e.mu, e.agent, e.version))
        human = next((e for e in ordered if e.human), None)
        machine = next((e for e in ordered if not e.human), None)
        human_wins = human is not None and (machine is None or human.score > machine.score)
        table.append(
            HumanVsAIRow(
                game=env,
                measure=measures.get(env, "mu-3sigma"),
                top_human=None if human is None else human.score,
                top_human_name=None if human is None else human.agent,
                top_machine=None if machine is None else machine.score,
                best="Human" if human_wins else "Machine",
                best_machine=None if machine is None else labels.get(machine.hash, machine.title),
                learning_type="" if machine is None else machine.learning_type,
            )
        )
    return table


def human_vs_ai_table(
    engine: Engine, rows: Sequence[LeaderboardRow], labels: Mapping[str, str] | None = None
) -> list[HumanVsAIRow]:
    """The Human vs AI table from the leaderboard rows and, for scored envs, the matches."""
    envs = sorted({r.env for r in rows})
    scored = [e for e in envs if has_scores(e)]
    entries = [e for e in rating_entries(rows) if e.env not in scored]
    entries += mean_scores(engine, scored)
    measures = {e: ("mean score" if e in scored else "mu-3sigma") for e in envs}
    return human_vs_ai(entries, measures, labels)


@dataclass
class History:
    """Per agent version (by hash): the conservative score after each rated match."""

    env: str
    match_order: list[int]  # the env's rated match ids, in order
    series: dict[str, list[tuple[int, float]]]  # hash -> [(match index, mu - 3 sigma)]


def rating_history(
    engine: Engine, stored: Sequence[HistoryPoint] | None = None
) -> dict[str, History]:
    """Per env, every version's conservative score after each rated match.

    Args:
        stored: the history points if already read (:func:`history_points`).
    """
    points: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    for p in history_points(engine) if stored is None else stored:
        if getattr(p, "role", "") == "":  # per-role rows (asymmetric envs) are not plotted
            points[p.env_id].append((p.hash, p.match_id, conservative(p.mu, p.sigma)))
    out = {}
    for env, rows in points.items():
        order = sorted({match_id for _, match_id, _ in rows})
        index = {match_id: i + 1 for i, match_id in enumerate(order)}
        series: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for hash_, match_id, score in rows:
            series[hash_].append((index[match_id], score))
        out[env] = History(env, order, dict(series))
    return out


@dataclass
class HeadToHead:
    """Win rates between the env's agent versions in two-agent rated matches.

    ``rate[i][j]`` is row agent i's score against column agent j (win 1, draw
    0.5), None when they never met; ``games[i][j]`` how many games they played.
    """

    env: str
    hashes: list[str]
    rate: list[list[float | None]]
    games: list[list[int]]


def is_asymmetric(env: str) -> bool:
    """Whether ``env`` is rated in role-swapped duplicate pairs (simple_tag and the like)."""
    spec = env_specs().get(env)
    return spec is not None and asymmetric(spec)


def head_to_head(engine: Engine, env: str, hashes: Sequence[str]) -> HeadToHead:
    """Pairwise results among ``hashes`` (agent versions, in display order).

    In a role-asymmetric env one match measures the role (predators win), so
    each result is a duplicate pair's overall comparison instead.
    """
    if is_asymmetric(env):
        return pair_head_to_head(engine, env, hashes)
    slots: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
    for match_id, slot, hash_, outcome in rated_outcomes(engine, env):
        slots[match_id][slot] = (hash_, outcome)
    where = {h: i for i, h in enumerate(hashes)}
    n = len(hashes)
    points = [[0.0] * n for _ in range(n)]
    games = [[0] * n for _ in range(n)]
    value = {"win": 1.0, "draw": 0.5, "loss": 0.0}
    for seats in slots.values():
        if len(seats) != 2:
            continue
        (ha, oa), (hb, ob) = seats[min(seats)], seats[max(seats)]
        if ha not in where or hb not in where:
            continue
        a, b = where[ha], where[hb]
        games[a][b] += 1
        games[b][a] += 1
        points[a][b] += value.get(oa, 0.0)
        points[b][a] += value.get(ob, 0.0)
    rate: list[list[float | None]] = [
        [points[i][j] / games[i][j] if games[i][j] else None for j in range(n)] for i in range(n)
    ]
    return HeadToHead(env, list(hashes), rate, games)


def pair_head_to_head(engine: Engine, env: str, hashes: Sequence[str]) -> HeadToHead:
    """Pairwise results among ``hashes``, one per rated duplicate pair (its overall contest)."""
    with engine.connect() as conn:
        pairs = rated_pairs(conn, env_id=env)
        contests = [
            c for pair in pairs for c in compare_pair(pair.first, pair.second) if c.role == ""
        ]
        versions = agent_versions(conn, {v for c in contests for v in (c.a, c.b)})
    where = {h: i for i, h in enumerate(hashes)}
    n = len(hashes)
    points = [[0.0] * n for _ in range(n)]
    games = [[0] * n for _ in range(n)]
    for c in contests:
        ha, hb = versions[c.a].hash, versions[c.b].hash
        if ha not in where or hb not in where:
            continue
        a, b = where[ha], where[hb]
        games[a][b] += 1
        games[b][a] += 1
        points[a][b] += c.score_a
        points[b][a] += 1.0 - c.score_a
    rate: list[list[float | None]] = [
        [points[i][j] / games[i][j] if games[i][j] else None for j in range(n)] for i in range(n)
    ]
    return HeadToHead(env, list(hashes), rate, games)


@dataclass
class ForfeitCount:
    env: str
    agent: str
    version: str
    reason: str
    count: int
    hash: str = ""


def forfeits(engine: Engine) -> list[ForfeitCount]:
    """Forfeited matches per env, agent version and reason (most first)."""
    with engine.connect() as conn:
        counts = reads.forfeits_by_version(conn)
        versions = agent_versions(conn, {r.agent_version_id for r in counts})
    rows = [
        ForfeitCount(
            r.env_id,
            versions[r.agent_version_id].agent,
            versions[r.agent_version_id].version,
            r.reason,
            r.matches,
            versions[r.agent_version_id].hash,
        )
        for r in counts
    ]
    return sorted(rows, key=lambda r: (r.env, -r.count, r.reason, r.agent, r.version, r.hash))


@dataclass
class Player:
    """One agent of a listed match."""

    label: str  # as stored with the match (unique in it)
    outcome: str
    forfeit: str | None
    hash: str  # its agent version


@dataclass
class MatchLine:
    """A match as listed on an env or tournament page."""

    match_id: int
    env: str
    created_at: str
    tournament_id: int | None
    players: list[Player]


def matches(engine: Engine) -> list[MatchLine]:
    """Every match, newest first, with its players."""
    with engine.connect() as conn:
        seats = reads.listed_seats(conn)
        versions = reads.all_versions(conn)
    lines: dict[int, MatchLine] = {}
    seen: dict[int, set[int]] = defaultdict(set)
    for s in seats:
        line = lines.get(s.match_id)
        if line is None:
            created = f"{s.created_at:%Y-%m-%d %H:%M}"
            line = lines[s.match_id] = MatchLine(s.match_id, s.env_id, created, s.tournament_id, [])
        if s.slot in seen[s.match_id]:  # a team's further seats: one line per agent
            if s.forfeit_reason and line.players[-1].forfeit is None:
                line.players[-1].forfeit = s.forfeit_reason
            continue
        seen[s.match_id].add(s.slot)
        version = versions.get(s.agent_version_id)
        line.players.append(
            Player(s.label, s.outcome, s.forfeit_reason, "" if version is None else version.hash)
        )
    return list(lines.values())


@dataclass
class TournamentInfo:
    tournament_id: int
    name: str
    env: str
    format: str
    description: str
    runs: list[dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)  # the tournament file as stored


def _description(config: dict[str, Any] | None) -> str:
    """The file's ``[tournament].description`` (the stored config is the whole file)."""
    table = (config or {}).get("tournament")
    return str(table.get("description", "")) if isinstance(table, dict) else ""


def tournaments(engine: Engine) -> list[TournamentInfo]:
    """Every tournament with its runs (number, status, planned, played, dates)."""
    with engine.connect() as conn:  # one snapshot: every run's tournament is listed
        infos = {
            t.id: TournamentInfo(
                t.id, t.name, t.env_id, t.format, _description(t.config), [], dict(t.config or {})
            )
            for t in tournament_rows(conn)
        }
        for run in run_rows(conn):
            infos[run.tournament_id].runs.append(
                {
                    "number": run.number,
                    "status": run.status,
                    "planned": run.planned,
                    "played": run.played,
                    "started": f"{run.started_at:%Y-%m-%d %H:%M}",
                }
            )
    return list(infos.values())
