"""Leaderboards: per env from the stored ratings, or per tournament by replaying it.

Rows are sorted by the conservative score ``mu - 3 sigma``: an agent ranks high
only once the arena is confident it is strong, not after two lucky games.

Each row also carries an offline Bradley-Terry rating (``bt``, Elo scale, mean
1000 over the env's agents) with its 95% bootstrap interval (``bt_low``,
``bt_high``), fitted per env to the rated matches in scope: all of the env's
matches, or the tournament's (:mod:`tournaments.bradley_terry`). They are None
when fewer than two agents of the env have rated games.

Cooperative envs (one team: simple_spread, speaker-listener...) have no
opponent, so their matches are stored but not rated. Their rows rank by mean
team return instead (``team_return``: the sum of the team's seat rewards, over
the env's matches where one agent version filled every seat), with a 95%
normal-approximation interval (``team_return_low``, ``team_return_high``); such
rows keep the initial rating (mu 25, sigma 25/3), which nothing has moved.
The three fields are None on other envs' rows.

Speed (``bench/leaderboard_scale.py``): the matches' seats are read in one pass
(:func:`arena.storage.queries.seats.match_seats`), and a tournament replay rates
1 vs 1 matches with TrueSkill's closed form instead of building a factor graph
per match (the same numbers, about 15x faster).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from arena.errors import ArenaError
from arena.rating import MuSigma, RatingSystem, conservative, fast_team_update, is_rated
from arena.storage.queries.agents import AgentVersionRow, agent_versions
from arena.storage.queries.ratings import ratings
from arena.storage.queries.seats import MatchSeats, RewardSeat, Seat, match_seats, seat_rewards
from arena.storage.queries.tournaments import find_tournament
from tournaments.bradley_terry import BTRating, fit_matches


@dataclass
class LeaderboardRow:
    rank: int
    env: str
    agent: str
    version: str
    hash: str
    kind: str
    learning_type: str
    mu: float
    sigma: float
    score: float
    games: int
    wins: int
    draws: int
    losses: int
    forfeits: int
    #: Bradley-Terry rating and its 95% bootstrap interval (None: under two agents).
    bt: float | None = None
    bt_low: float | None = None
    bt_high: float | None = None
    #: Cooperative envs only: mean team return and its 95% interval.
    team_return: float | None = None
    team_return_low: float | None = None
    team_return_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ranked(rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    by_env: dict[str, list[LeaderboardRow]] = {}
    for row in rows:
        by_env.setdefault(row.env, []).append(row)
    out = []
    for env in sorted(by_env):
        ordered = sorted(
            by_env[env],
            key=lambda r: (
                -(r.team_return if r.team_return is not None else -math.inf),
                -r.score,
                -r.mu,
                r.agent,
                r.version,
            ),
        )
        for i, row in enumerate(ordered, start=1):
            row.rank = i
            out.append(row)
    return out


def _row(
    env: str,
    version: AgentVersionRow,
    mu: float,
    sigma: float,
    counts: dict[str, int],
    bt: BTRating | None,
) -> LeaderboardRow:
    return LeaderboardRow(
        rank=0,
        env=env,
        agent=version.agent,
        version=version.version,
        hash=version.hash,
        kind=version.kind,
        learning_type=version.learning_type,
        mu=round(mu, 4),
        sigma=round(sigma, 4),
        score=round(conservative(mu, sigma), 4),
        games=counts["games"],
        wins=counts["wins"],
        draws=counts["draws"],
        losses=counts["losses"],
        forfeits=counts["forfeits"],
        bt=None if bt is None else _round(bt.rating),
        bt_low=None if bt is None else _round(bt.low),
        bt_high=None if bt is None else _round(bt.high),
    )


def _round(x: float) -> float | None:
    return round(x, 2) if math.isfinite(x) else None


def leaderboard(
    engine: Engine, *, env_id: str | None = None, tournament: str | None = None
) -> list[LeaderboardRow]:
    """Leaderboard rows, one per agent version and env, ranked within each env.

    Args:
        engine: the arena database.
        env_id: only this env.
        tournament: only matches of this tournament (all its runs), rated afresh
            from the initial rating in the order they were played.

    Raises:
        ArenaError: the tournament does not exist.
    """
    with engine.connect() as conn:  # one connection: every read sees one snapshot
        if tournament is not None:
            return _ranked(_tournament_rows(conn, tournament, env_id))
        stored = ratings(conn, env_id=env_id)
        versions = agent_versions(conn, {r.agent_version_id for r in stored})
        bt = {
            env: _bradley_terry(matches)
            for env, matches in _by_env(match_seats(conn, env_id=env_id, rated=True))
        }
        rows = [
            _row(
                r.env_id,
                versions[r.agent_version_id],
                r.mu,
                r.sigma,
                {
                    "games": r.games,
                    "wins": r.wins,
                    "draws": r.draws,
                    "losses": r.losses,
                    "forfeits": r.forfeits,
                },
                bt.get(r.env_id, {}).get(r.agent_version_id),
            )
            for r in stored
        ]
        rows += _team_return_rows(conn, env_id, rows)
        return _ranked(rows)


def _team_return_rows(
    conn: Connection, env_id: str | None, rated: list[LeaderboardRow]
) -> list[LeaderboardRow]:
    """Mean team return per (env, version) over single-team matches one version played alone.

    Fills ``team_return`` on rows already in ``rated`` and returns new rows for
    versions with no rating in that env.
    """
    returns: dict[tuple[str, int], list[float]] = {}
    by_match: dict[int, list[RewardSeat]] = {}
    envs = None if env_id is None else [env_id]
    for seat in seat_rewards(conn, rated=False, env_ids=envs):
        by_match.setdefault(seat.match_id, []).append(seat)
    for seats in by_match.values():
        if len({s.team for s in seats}) == 1 and len({s.agent_version_id for s in seats}) == 1:
            key = (seats[0].env_id, seats[0].agent_version_id)
            returns.setdefault(key, []).append(math.fsum(s.reward for s in seats))
    if not returns:
        return []
    existing = {(r.env, r.hash): r for r in rated}
    versions = agent_versions(conn, {vid for _, vid in returns})
    start = RatingSystem().initial()
    new: list[LeaderboardRow] = []
    for (env, vid), values in returns.items():
        version = versions[vid]
        found = existing.get((env, version.hash))
        if found is None:
            counts = {"games": len(values), "wins": 0, "draws": 0, "losses": 0, "forfeits": 0}
            found = _row(env, version, start.mu, start.sigma, counts, None)
            new.append(found)
        mean, low, high = mean_interval(values)
        found.team_return = round(mean, 3)
        found.team_return_low = None if low is None else round(low, 3)
        found.team_return_high = None if high is None else round(high, 3)
    return new


def mean_interval(values: list[float]) -> tuple[float, float | None, float | None]:
    """Mean and normal-approximation 95% interval (None under two values)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None, None
    half = 1.96 * math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)
    return mean, mean - half, mean + half


def _by_env(matches: Iterable[MatchSeats]) -> Iterator[tuple[str, list[list[Seat]]]]:
    by_env: dict[str, list[list[Seat]]] = {}
    for match in matches:
        by_env.setdefault(match.env_id, []).append(match.seats)
    yield from by_env.items()


def _bradley_terry(matches: Sequence[Sequence[Seat]]) -> dict[int, BTRating]:
    """The env's Bradley-Terry ratings by agent version; empty under two agents."""
    rated = [
        [(s.vid, s.team, s.rank) for s in seats]
        for seats in matches
        if is_rated([(s.vid, s.team) for s in seats])
    ]
    fitted = fit_matches(rated)
    return fitted if len(fitted) >= 2 else {}


def _tournament_rows(conn: Connection, name: str, env_id: str | None) -> list[LeaderboardRow]:
    tournament = find_tournament(conn, name)
    if tournament is None:
        raise ArenaError(f"unknown tournament '{name}' (run 'arena leaderboard' for all ratings)")
    if env_id is not None and tournament.env_id != env_id:
        return []
    rater = RatingSystem()
    start = rater.initial()
    current: dict[int, MuSigma] = {}
    counts: dict[int, dict[str, int]] = {}
    rated: list[list[Seat]] = []
    for _, _, seats in match_seats(conn, tournament_id=tournament.id):
        ranked = [(s.vid, s.team, s.rank) for s in seats]
        if not is_rated([(vid, team) for vid, team, _ in ranked]):
            continue
        rated.append(seats)
        for vid, _, _ in ranked:
            if vid not in current:
                current[vid] = MuSigma(start.mu, start.sigma)
        current.update(fast_team_update(rater, ranked, current))
        # As the recorder counts: games and outcomes per slot, a forfeit once per version.
        slots = {s.slot: s for s in seats}
        for s in slots.values():
            c = counts.get(s.vid)
            if c is None:
                c = counts[s.vid] = {"games": 0, "wins": 0, "draws": 0, "losses": 0, "forfeits": 0}
            c["games"] += 1
            c[_OUTCOME[s.outcome]] += 1
        for vid in {s.vid for s in seats if s.forfeit}:
            counts[vid]["forfeits"] += 1
    versions = agent_versions(conn, current)
    bt = _bradley_terry(rated)
    return [
        _row(tournament.env_id, versions[vid], ms.mu, ms.sigma, counts[vid], bt.get(vid))
        for vid, ms in current.items()
    ]


_OUTCOME = {"win": "wins", "draw": "draws", "loss": "losses"}
