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

Role-asymmetric envs (simple_tag...) are rated in duplicate pairs, compared
like with like (:func:`arena.rating.compare_pair`): each row has a ``role``,
``""`` for the overall rating and the role's name for a role's rating (only
these envs have role rows). ``role=None`` shows the overall rows, except that a
role contest's tournament shows its contest role. Their Bradley-Terry ratings
come from the same comparisons: the pairs' overall results for the overall
rows, the role contests for a role's rows (plus, for the overall rows, any
match rated alone before pairs existed).

Speed (``bench/leaderboard_scale.py``): the matches' seats are read in one pass
(:func:`arena.storage.queries.seats.match_seats`), and a tournament replay rates
1 vs 1 matches with TrueSkill's closed form instead of building a factor graph
per match (the same numbers, about 15x faster).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from arena.errors import ArenaError
from arena.rating import (
    MuSigma,
    RatingSystem,
    asymmetric,
    compare_pair,
    conservative,
    contest_seats,
    fast_team_update,
    is_rated,
)
from arena.registry import env_specs
from arena.specs import EnvSpec
from arena.storage.queries.agents import AgentVersionRow, agent_versions
from arena.storage.queries.ratings import RatedPair, rated_pairs, ratings
from arena.storage.queries.seats import RewardSeat, Seat, match_seats, seat_rewards
from arena.storage.queries.tournaments import TournamentRef, find_tournament, tournament_config
from tournaments.bradley_terry import BTRating, fit_matches

#: ``(agent version, team, rank)`` per seat: a match as ratings read it.
Seats = list[tuple[int, int, int]]


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
    #: "" for the overall rating; a role's name for its rating (role-asymmetric envs).
    role: str = ""

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
    role: str = "",
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
        role=role,
    )


def _round(x: float) -> float | None:
    return round(x, 2) if math.isfinite(x) else None


def leaderboard(
    engine: Engine,
    *,
    env_id: str | None = None,
    tournament: str | None = None,
    role: str | None = None,
) -> list[LeaderboardRow]:
    """Leaderboard rows, one per agent version, env and role, ranked within each env.

    Args:
        engine: the arena database.
        env_id: only this env.
        tournament: only matches of this tournament (all its runs), rated afresh
            from the initial rating in the order they were played.
        role: only this role's ratings (role-asymmetric envs); ``""`` the overall
            ones. None: the overall ones, or a role contest's role.

    Raises:
        ArenaError: an unknown env, tournament or role, e.g.
            ``env 'simple_tag_v3' has roles adversary, agent; got 'x'``.
    """
    specs = env_specs()
    if env_id is not None and env_id not in specs:
        raise ArenaError(f"unknown env '{env_id}' (see arena envs)")
    with engine.connect() as conn:  # one connection: every read sees one snapshot
        if tournament is not None:
            ref = find_tournament(conn, tournament)
            if ref is None:
                raise ArenaError(
                    f"unknown tournament '{tournament}' (run 'arena leaderboard' for all ratings)"
                )
            if env_id is not None and ref.env_id != env_id:
                return []
            wanted = _role(specs, ref.env_id, role, _contest_role(conn, ref))
            return _ranked(_tournament_rows(conn, ref, specs.get(ref.env_id), wanted))
        wanted = _role(specs, env_id, role, "")
        stored = ratings(conn, env_id=env_id, role=wanted)
        versions = agent_versions(conn, {r.agent_version_id for r in stored})
        bt = _env_bradley_terry(conn, specs, env_id, wanted)
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
                r.role,
            )
            for r in stored
        ]
        if not wanted:
            rows += _team_return_rows(conn, env_id, rows)
        return _ranked(rows)


def _is_asymmetric(spec: EnvSpec | None) -> bool:
    return spec is not None and asymmetric((side.role, side.team) for side in spec.sides)


def _role(specs: dict[str, EnvSpec], env_id: str | None, role: str | None, default: str) -> str:
    """The role to show: ``role`` once checked against the env, else ``default``."""
    if role is None:
        return default
    if role == "":
        return role
    if env_id is None:
        if not any(_is_asymmetric(spec) and role in spec.roles for spec in specs.values()):
            raise ArenaError(f"no role-asymmetric env has role '{role}'")
        return role
    spec = specs.get(env_id)
    if not _is_asymmetric(spec):
        raise ArenaError(
            f"env '{env_id}' has no role ratings (it is not role-asymmetric); got '{role}'"
        )
    assert spec is not None
    if role not in spec.roles:
        raise ArenaError(f"env '{env_id}' has roles {', '.join(spec.roles)}; got '{role}'")
    return role


def _contest_role(conn: Connection, ref: TournamentRef) -> str:
    """The role of a role contest's tournament ([tournament].role of its stored file)."""
    config = tournament_config(conn, ref.id)
    table = config.get("tournament") if isinstance(config, dict) else None
    role = table.get("role") if isinstance(table, dict) else None
    return role if isinstance(role, str) else ""


def _contests(pairs: list[RatedPair], role: str) -> list[Seats]:
    """The pairs' contests in ``role`` ("" = their overall results) as 1 vs 1 matches."""
    return [
        contest_seats(contest)
        for pair in pairs
        for contest in compare_pair(pair.first, pair.second)
        if contest.role == role
    ]


def _env_bradley_terry(
    conn: Connection, specs: dict[str, EnvSpec], env_id: str | None, role: str
) -> dict[str, dict[int, BTRating]]:
    """Bradley-Terry ratings by env and agent version, in ``role`` for asymmetric envs."""
    by_env: dict[str, list[Seats]] = {}
    paired: set[int] = set()
    pairs: dict[str, list[RatedPair]] = {}
    for pair in rated_pairs(conn, env_id=env_id):
        if _is_asymmetric(specs.get(pair.env_id)):
            pairs.setdefault(pair.env_id, []).append(pair)
            paired.update((pair.first_id, pair.second_id))
    for env, env_pairs in pairs.items():
        by_env[env] = _contests(env_pairs, role)
    if not role:  # matches rated alone: every match of other envs, old ones of asymmetric envs
        for match in match_seats(conn, env_id=env_id, rated=True):
            if match.match_id not in paired:
                seats = [(s.vid, s.team, s.rank) for s in match.seats]
                by_env.setdefault(match.env_id, []).append(seats)
    return {env: _fit(matches) for env, matches in by_env.items()}


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


def _bradley_terry(matches: Sequence[Sequence[Seat]]) -> dict[int, BTRating]:
    """The env's Bradley-Terry ratings by agent version; empty under two agents."""
    return _fit([[(s.vid, s.team, s.rank) for s in seats] for seats in matches])


def _fit(matches: Sequence[Seats]) -> dict[int, BTRating]:
    """Bradley-Terry ratings of matches given as seats; empty under two agents."""
    rated = [seats for seats in matches if is_rated([(vid, team) for vid, team, _ in seats])]
    fitted = fit_matches(rated)
    return fitted if len(fitted) >= 2 else {}


def _tournament_rows(
    conn: Connection, tournament: TournamentRef, spec: EnvSpec | None, role: str
) -> list[LeaderboardRow]:
    """The tournament's matches rated afresh, in the order they were rated.

    In a role-asymmetric env a duplicate pair is rated when its second match is
    stored, each of its contests in ``role`` as a 1 vs 1 game; matches rated
    alone (before pairs existed) count in the overall rows only.
    """
    rater = RatingSystem()
    start = rater.initial()
    current: dict[int, MuSigma] = {}
    counts: dict[int, dict[str, int]] = {}
    rated: list[Seats] = []

    def rate(seats: Seats) -> None:
        rated.append(seats)
        for vid, _, _ in seats:
            if vid not in current:
                current[vid] = MuSigma(start.mu, start.sigma)
        current.update(fast_team_update(rater, seats, current))

    def counted(vid: int) -> dict[str, int]:
        if vid not in counts:
            counts[vid] = {"games": 0, "wins": 0, "draws": 0, "losses": 0, "forfeits": 0}
        return counts[vid]

    pairs = rated_pairs(conn, tournament_id=tournament.id) if _is_asymmetric(spec) else []
    paired = {i for pair in pairs for i in (pair.first_id, pair.second_id)}
    by_second = {pair.second_id: pair for pair in pairs}
    for match_id, _, seats in match_seats(conn, tournament_id=tournament.id):
        pair = by_second.get(match_id)
        if pair is not None:
            forfeited = {s.vid for s in (*pair.first, *pair.second) if s.forfeit}
            for contest in compare_pair(pair.first, pair.second):
                if contest.role != role:
                    continue
                rate(contest_seats(contest))
                for vid, score in ((contest.a, contest.score_a), (contest.b, 1 - contest.score_a)):
                    c = counted(vid)
                    c["games"] += 1
                    c["wins" if score == 1 else "draws" if score == 0.5 else "losses"] += 1
                    c["forfeits"] += vid in forfeited
            continue
        if match_id in paired or role:
            continue
        ranked = [(s.vid, s.team, s.rank) for s in seats]
        if not is_rated([(vid, team) for vid, team, _ in ranked]):
            continue
        rate(ranked)
        # As the recorder counts: games and outcomes per slot, a forfeit once per version.
        slots = {s.slot: s for s in seats}
        for s in slots.values():
            c = counted(s.vid)
            c["games"] += 1
            c[_OUTCOME[s.outcome]] += 1
        for vid in {s.vid for s in seats if s.forfeit}:
            counts[vid]["forfeits"] += 1
    versions = agent_versions(conn, current)
    bt = _fit(rated)
    return [
        _row(tournament.env_id, versions[vid], ms.mu, ms.sigma, counts[vid], bt.get(vid), role)
        for vid, ms in current.items()
    ]


_OUTCOME = {"win": "wins", "draw": "draws", "loss": "losses"}
