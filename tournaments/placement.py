"""Placement matches: new submissions of a ladder's env play its field until rated.

``place_new_submissions`` looks for submitted packages (agent versions with
``source = "registry"``) that declare a ladder tournament's env and whose rating
on that env is missing or still uncertain (``sigma > sigma_target``), and gives
each one batches of games against the ladder's entrants:

- **Opponent**: before each batch, the entrant with the highest TrueSkill match
  quality against the newcomer on the current ratings (``RatingSystem().quality``);
  the previous batch's opponent is passed over while another entrant is left, so
  placement rotates through the well-matched part of the field. Ties go to the
  earlier entrant in the file.
- **Games**: ``batch`` games per opponent through :func:`arena.play.play_and_record`
  (seats alternate; the agents' order also alternates from batch to batch), each
  stored with its rating update like an ``arena match`` game (no tournament run).
- **Stop**: once sigma is at most ``sigma_target``, or once the version has played
  ``max_games`` rated games on the env, whichever comes first. ``max_games`` counts
  every rated game on the env, earlier ones included, so calling this again (the
  scheduler does, after every ladder run) never plays more than ``max_games`` in
  all for a version that does not settle; the last batch is shortened to fit.
- **Seeds**: batch seeds derive from the version's content hash, the file's
  ``seed`` and the number of games it had played, so placement is reproducible
  and a placement resumed after an interruption plays fresh deals.

Submissions are placed oldest first. One that cannot play (its stored copy was
changed or deleted, an import fails, it cannot fill a role) gets a report with
``status = "error"``; the others are placed as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.manifest import load_manifest
from arena.play import play_and_record
from arena.rating import Rating, RatingSystem
from arena.registry import get_env
from arena.runner import unique_labels
from arena.series import game_seed
from arena.sources import AgentSource, package_source
from arena.storage import connect, default_url, session_factory
from arena.storage import models as m
from tournaments.config import TournamentConfig, load_tournament
from tournaments.executor import agent_ref
from tournaments.run import prepare_entrants

__all__ = ["PlacementBatch", "PlacementReport", "pick_opponent", "place_new_submissions"]


@dataclass
class PlacementBatch:
    """One batch of placement games against one opponent."""

    opponent: str  # the entrant's label
    games: int
    seed: int
    wins: int  # the newcomer's results
    draws: int
    losses: int
    match_ids: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "opponent": self.opponent,
            "games": self.games,
            "seed": self.seed,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
            "match_ids": list(self.match_ids),
        }


@dataclass
class PlacementReport:
    """What placement did for one submitted version.

    ``status``: ``settled`` (sigma reached the target), ``max_games`` (the cap was
    reached first), ``no_opponent`` (every entrant is this same version) or
    ``error`` (see ``error``; the games already played stay recorded).
    """

    tournament: str
    env_id: str
    agent: str
    version: str
    content_hash: str
    status: str
    games: int  # placement games played by this call
    total_games: int  # rated games on the env afterwards
    start_mu: float | None  # None: no rating before
    start_sigma: float | None
    mu: float
    sigma: float
    batches: list[PlacementBatch] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tournament": self.tournament,
            "env": self.env_id,
            "agent": self.agent,
            "version": self.version,
            "hash": self.content_hash,
            "status": self.status,
            "games": self.games,
            "total_games": self.total_games,
            "start_mu": self.start_mu,
            "start_sigma": self.start_sigma,
            "mu": self.mu,
            "sigma": self.sigma,
            "batches": [b.to_dict() for b in self.batches],
            "error": self.error,
        }


@dataclass(frozen=True)
class _Candidate:
    version_id: int
    name: str
    version: str
    content_hash: str
    path: str


@dataclass
class _Standing:
    mu: float
    sigma: float
    games: int
    rated: bool


def place_new_submissions(
    engine_or_db_url: Engine | str | None = None,
    *,
    tournament_path: Path | None = None,
    config: TournamentConfig | None = None,
    sigma_target: float = 2.5,
    max_games: int = 30,
    batch: int = 4,
) -> list[PlacementReport]:
    """Play placement games for the ladder's unsettled submissions; see the module doc.

    Args:
        engine_or_db_url: the database (an engine, a URL, or None for the default);
            games are recorded through its URL, so not an in-memory SQLite engine.
        tournament_path: the ladder's tournament file; or pass ``config``.
        config: the loaded file, instead of ``tournament_path``.
        sigma_target: a rating with sigma at most this is settled.
        max_games: the most rated games on the env a version plays through placement.
        batch: games per opponent before the opponent is chosen again.

    Returns:
        One report per version that needed placement, oldest submission first
        (versions already settled, or of another env, are left out).

    Raises:
        ArenaError: the file is not a ladder, is invalid or sets ``env_kwargs``, the
            env is not a two-team game, or (once a version needs placement) an
            entrant is broken.
    """
    if not sigma_target > 0:
        raise ArenaError(f"placement: sigma_target must be positive, got {sigma_target}")
    if max_games < 1 or batch < 1:
        raise ArenaError(
            f"placement: max_games and batch must be at least 1, got {max_games} and {batch}"
        )
    if config is None:
        if tournament_path is None:
            raise ArenaError("placement: pass tournament_path or config")
        config = load_tournament(tournament_path)
    if config.format != "ladder":
        raise ArenaError(
            f"{config.path}: [tournament].format: placement matches are for ladder "
            f"tournaments, not '{config.format}'"
        )
    if config.env_kwargs:
        raise ArenaError(
            f"{config.path}: [tournament].env_kwargs: placement games play "
            f"{config.env_id} with its default settings, so a ladder that sets "
            "env_kwargs gets no placement"
        )
    spec = get_env(config.env_id)
    if len(spec.sides) != 2 or len(spec.teams) != 2:
        raise ArenaError(
            f"{config.path}: placement pairs two agents; {config.env_id} has "
            f"{len(spec.sides)} side(s) in {len(spec.teams)} team(s)"
        )
    if isinstance(engine_or_db_url, Engine):
        engine, owned = engine_or_db_url, False
        db_url = engine.url.render_as_string(hide_password=False)
    else:
        db_url = engine_or_db_url or default_url()
        engine, owned = connect(db_url), True
    try:
        reports = []
        entrants: list[AgentSource] | None = None  # resolved once someone needs placement
        for candidate in _candidates(engine, config.env_id):
            standing = _standing(engine, candidate.version_id, config.env_id)
            if standing.rated and (standing.sigma <= sigma_target or standing.games >= max_games):
                continue  # settled, or placed as far as placement goes
            source, error = _load(candidate, config.env_id, spec.roles)
            if source is None:
                if error is None:
                    continue  # another env's package
                reports.append(_report(config, candidate, standing, standing, "error", error))
                continue
            if entrants is None:
                with HostPool(config.limits) as hosts:
                    entrants = prepare_entrants(config, spec, hosts)
            reports.append(
                _place(
                    engine,
                    db_url,
                    config,
                    candidate,
                    source,
                    entrants,
                    standing,
                    sigma_target=sigma_target,
                    max_games=max_games,
                    batch=batch,
                )
            )
        return reports
    finally:
        if owned:
            engine.dispose()


def _candidates(engine: Engine, env_id: str) -> list[_Candidate]:
    """Submitted versions, oldest first, whose stored manifest declares ``env_id``.

    A version whose stored folder or manifest is gone cannot say which envs it
    plays, so it is left out.
    """
    query = (
        select(m.AgentVersion.id, m.Agent.name, m.AgentVersion.version)
        .add_columns(m.AgentVersion.content_hash, m.AgentVersion.path)
        .join(m.Agent, m.Agent.id == m.AgentVersion.agent_id)
        .where(m.AgentVersion.source == "registry")
        .order_by(m.AgentVersion.created_at, m.AgentVersion.id)
    )
    with session_factory(engine)() as session:
        rows = session.execute(query).all()
    found = []
    for vid, name, version, digest, path in rows:
        if not path:
            continue
        try:
            envs = load_manifest(Path(path)).envs
        except (ArenaError, OSError):
            continue
        if env_id in envs:
            found.append(_Candidate(vid, name, version, digest, path))
    return found


def _load(
    candidate: _Candidate, env_id: str, roles: Sequence[str]
) -> tuple[AgentSource | None, str | None]:
    """The candidate's source, or ``(None, why)`` when it cannot play here."""
    try:
        source = package_source(Path(candidate.path), source="registry")
    except ArenaError as exc:
        return None, str(exc)
    if not source.supports(env_id):  # pragma: no cover - the manifest said it does
        return None, None
    if source.info.content_hash != candidate.content_hash:
        return None, (
            f"{candidate.path}: the stored package no longer matches its hash "
            f"{candidate.content_hash[:12]} (changed by hand?)"
        )
    for role in roles:
        if not source.can_fill(role):
            return None, (
                f"agent '{source.label}' cannot fill role '{role}' of {env_id} "
                f"(its roles: {', '.join(source.roles or ())}); placement swaps roles"
            )
    return source, None


def _standing(engine: Engine, version_id: int, env_id: str) -> _Standing:
    with engine.connect() as conn:
        row = conn.execute(
            select(m.Rating.mu, m.Rating.sigma, m.Rating.games).where(
                m.Rating.agent_version_id == version_id,
                m.Rating.env_id == env_id,
                m.Rating.role == "",  # the overall rating (role-asymmetric envs rate roles too)
            )
        ).first()
    if row is None:
        start = RatingSystem().initial()
        return _Standing(start.mu, start.sigma, 0, rated=False)
    return _Standing(float(row.mu), float(row.sigma), int(row.games), rated=True)


def _entrant_ratings(engine: Engine, env_id: str, entrants: Sequence[AgentSource]) -> list[Rating]:
    start = RatingSystem().initial()
    hashes = [s.info.content_hash for s in entrants]
    query = (
        select(m.AgentVersion.content_hash, m.Rating.mu, m.Rating.sigma)
        .join(m.Rating, m.Rating.agent_version_id == m.AgentVersion.id)
        .where(
            m.Rating.env_id == env_id,
            m.Rating.role == "",
            m.AgentVersion.content_hash.in_(hashes),
        )
    )
    with engine.connect() as conn:
        found = {h: Rating(float(mu), float(sigma)) for h, mu, sigma in conn.execute(query)}
    return [found.get(h, start) for h in hashes]


def pick_opponent(
    new: Rating, opponents: Sequence[Rating | None], previous: int | None
) -> int | None:
    """Index of the best-quality opponent in ``opponents`` (None entries cannot play).

    ``previous`` is passed over while another opponent is left; ties go to the
    lower index. None when nobody can play.
    """
    system = RatingSystem()
    options = [i for i, r in enumerate(opponents) if r is not None]
    if not options:
        return None
    if previous in options and len(options) > 1:
        options.remove(previous)

    def quality(i: int) -> float:
        rating = opponents[i]
        assert rating is not None
        return system.quality([[new], [rating]])

    return max(options, key=lambda i: (quality(i), -i))


def _place(
    engine: Engine,
    db_url: str,
    config: TournamentConfig,
    candidate: _Candidate,
    source: AgentSource,
    entrants: Sequence[AgentSource],
    start: _Standing,
    *,
    sigma_target: float,
    max_games: int,
    batch: int,
) -> PlacementReport:
    new_ref = str(source.package_dir)
    root = int(candidate.content_hash[:8], 16)
    standing, played, previous = start, 0, None
    batches: list[PlacementBatch] = []
    status, error = "max_games", None
    while True:
        if standing.rated and standing.sigma <= sigma_target:
            status = "settled"
            break
        room = max_games - (start.games + played)
        if room <= 0:
            break
        ratings = _entrant_ratings(engine, config.env_id, entrants)
        opponents = [
            None if s.info.content_hash == candidate.content_hash else r
            for s, r in zip(entrants, ratings, strict=True)
        ]
        pick = pick_opponent(Rating(standing.mu, standing.sigma), opponents, previous)
        if pick is None:
            status = "no_opponent"
            break
        opponent = entrants[pick]
        seated = [(new_ref, source.label), (agent_ref(opponent), opponent.label)]
        if len(batches) % 2 == 1:  # the first seat alternates from batch to batch
            seated.reverse()
        refs = [ref for ref, _ in seated]
        # The series' labels, as play_and_record makes them (a clash gets "#2").
        new_label = unique_labels([label for _, label in seated])[refs.index(new_ref)]
        games = min(batch, room)
        seed = game_seed(root, config.seed, start.games + played)
        try:
            series = play_and_record(
                config.env_id,
                refs,
                games=games,
                seed=seed,
                limits=config.limits,
                db_url=db_url,
            )
        except ArenaError as exc:
            status, error = "error", str(exc)
            break
        mine = series.summary.get(new_label, {})
        batches.append(
            PlacementBatch(
                opponent=opponent.label,
                games=games,
                seed=seed,
                wins=int(mine.get("wins", 0)),
                draws=int(mine.get("draws", 0)),
                losses=int(mine.get("losses", 0)),
                match_ids=list(series.match_ids),
            )
        )
        played += games
        previous = pick
        standing = _standing(engine, candidate.version_id, config.env_id)
    report = _report(config, candidate, start, standing, status, error)
    report.games, report.batches = played, batches
    return report


def _report(
    config: TournamentConfig,
    candidate: _Candidate,
    start: _Standing,
    end: _Standing,
    status: str,
    error: str | None,
) -> PlacementReport:
    return PlacementReport(
        tournament=config.name,
        env_id=config.env_id,
        agent=candidate.name,
        version=candidate.version,
        content_hash=candidate.content_hash,
        status=status,
        games=0,
        total_games=end.games,
        start_mu=start.mu if start.rated else None,
        start_sigma=start.sigma if start.rated else None,
        mu=end.mu,
        sigma=end.sigma,
        error=error,
    )
