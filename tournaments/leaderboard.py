"""Leaderboards: per env from the stored ratings, or per tournament by replaying it.

Rows are sorted by the conservative score ``mu - 3 sigma``: an agent ranks high
only once the arena is confident it is strong, not after two lucky games.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arena.errors import ArenaError
from arena.storage import models as m
from arena.storage import session_factory
from arena.storage.recorder import MuSigma, is_rated, team_update
from tournaments.rating import RatingSystem


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ranked(rows: list[LeaderboardRow]) -> list[LeaderboardRow]:
    by_env: dict[str, list[LeaderboardRow]] = {}
    for row in rows:
        by_env.setdefault(row.env, []).append(row)
    out = []
    for env in sorted(by_env):
        ordered = sorted(by_env[env], key=lambda r: (-r.score, -r.mu, r.agent, r.version))
        for i, row in enumerate(ordered, start=1):
            row.rank = i
            out.append(row)
    return out


def _row(
    env: str, version: m.AgentVersion, mu: float, sigma: float, counts: dict[str, int]
) -> LeaderboardRow:
    return LeaderboardRow(
        rank=0,
        env=env,
        agent=version.agent.name,
        version=version.version,
        hash=version.content_hash,
        kind=version.kind,
        learning_type=version.learning_type,
        mu=round(mu, 4),
        sigma=round(sigma, 4),
        score=round(mu - 3 * sigma, 4),
        games=counts["games"],
        wins=counts["wins"],
        draws=counts["draws"],
        losses=counts["losses"],
        forfeits=counts["forfeits"],
    )


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
    with session_factory(engine)() as session:
        if tournament is not None:
            return _ranked(_tournament_rows(session, tournament, env_id))
        query = select(m.Rating).join(m.AgentVersion)
        if env_id is not None:
            query = query.where(m.Rating.env_id == env_id)
        rows = [
            _row(
                r.env_id,
                r.agent_version,
                r.mu,
                r.sigma,
                {
                    "games": r.games,
                    "wins": r.wins,
                    "draws": r.draws,
                    "losses": r.losses,
                    "forfeits": r.forfeits,
                },
            )
            for r in session.scalars(query)
        ]
        return _ranked(rows)


def _tournament_rows(session: Session, name: str, env_id: str | None) -> list[LeaderboardRow]:
    tournament = session.scalar(select(m.Tournament).where(m.Tournament.name == name))
    if tournament is None:
        raise ArenaError(f"unknown tournament '{name}' (run 'arena leaderboard' for all ratings)")
    if env_id is not None and tournament.env_id != env_id:
        return []
    rater = RatingSystem()
    start = rater.initial()
    current: dict[int, MuSigma] = {}
    counts: dict[int, dict[str, int]] = {}
    matches = session.scalars(
        select(m.Match).join(m.Run).where(m.Run.tournament_id == tournament.id).order_by(m.Match.id)
    )
    for match in matches:
        seats = [(p.agent_version_id, p.team, p.rank) for p in match.participants]
        if not is_rated([(vid, team) for vid, team, _ in seats]):
            continue
        for vid, _, _ in seats:
            current.setdefault(vid, MuSigma(start.mu, start.sigma))
        current.update(team_update(rater, seats, current))
        slots: dict[int, m.Participant] = {p.slot: p for p in match.participants}
        forfeited = {p.agent_version_id for p in match.participants if p.forfeit_reason}
        for p in slots.values():
            c = counts.setdefault(
                p.agent_version_id,
                {"games": 0, "wins": 0, "draws": 0, "losses": 0, "forfeits": 0},
            )
            c["games"] += 1
            c[{"win": "wins", "draw": "draws", "loss": "losses"}[p.outcome]] += 1
            c["forfeits"] += p.agent_version_id in forfeited
    versions = {
        v.id: v
        for v in session.scalars(select(m.AgentVersion).where(m.AgentVersion.id.in_(current)))
    }
    return [
        _row(tournament.env_id, versions[vid], ms.mu, ms.sigma, counts[vid])
        for vid, ms in current.items()
    ]
