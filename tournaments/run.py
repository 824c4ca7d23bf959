"""Running a tournament file: validate everything, fix the plan, play what is missing.

A run stores its plan's hash before the first match; every match is keyed by
``(run, game key)``. Run the same file again after a crash and the unfinished run
resumes, playing only the games that are not stored yet. Once a run is finished,
running the file again starts the next run with fresh seeds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.registry import get_env
from arena.result import MatchResult
from arena.runner import play_match
from arena.sources import AgentSource, resolve_agent
from arena.specs import EnvSpec
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.models import utcnow
from arena.storage.recorder import Recorder
from tournaments.config import TournamentConfig, load_tournament
from tournaments.rating import RatingSystem
from tournaments.round_robin import PlannedGame, round_robin


@dataclass
class TournamentOutcome:
    """What one ``arena tournament run`` did."""

    name: str
    env_id: str
    run: int
    planned: int
    played: int
    already_stored: int
    resumed: bool
    forfeits: int


def prepare_entrants(config: TournamentConfig, spec: EnvSpec, hosts: HostPool) -> list[AgentSource]:
    """Resolve every entrant and check it can play; all errors before any match.

    Raises:
        ArenaError: naming the file, the entrant and what is wrong (with the
            package's traceback in ``detail`` when its import fails).
    """
    sources: list[AgentSource] = []
    seen: dict[str, int] = {}
    for i, text in enumerate(config.entrants, start=1):
        where = f"{config.path}: entrants[{i}]"
        try:
            source = resolve_agent(text, base_dir=config.base_dir)
        except ArenaError as exc:
            raise ArenaError(f"{where}.agent: {exc}", detail=exc.detail) from None
        if not source.supports(spec.env_id):
            raise ArenaError(
                f"{where}: agent '{source.label}' does not declare env '{spec.env_id}' "
                f"(its envs: {', '.join(source.envs or ())})"
            )
        for role in spec.roles:
            if not source.can_fill(role):
                raise ArenaError(
                    f"{where}: agent '{source.label}' cannot fill role '{role}' of "
                    f"{spec.env_id} (its roles: {', '.join(source.roles or ())}); "
                    "round-robin swaps roles between games"
                )
        if source.info.content_hash in seen:
            raise ArenaError(
                f"{where}: '{text}' is the same agent as entrants[{seen[source.info.content_hash]}]"
            )
        seen[source.info.content_hash] = i
        try:
            hosts.load(source)  # imported where it will play: the sandbox
        except ArenaError as exc:
            raise ArenaError(f"{where}: {exc}", detail=exc.detail) from None
        sources.append(source)
    return sources


def plan_for(config: TournamentConfig, spec: EnvSpec, run: int) -> list[PlannedGame]:
    if len(spec.teams) != 2 or len(spec.sides) != 2:
        raise ArenaError(
            f"{config.path}: [tournament].format: round-robin needs a two-sided env; "
            f"{spec.env_id} has {len(spec.sides)} side(s) in {len(spec.teams)} team(s)"
        )
    return round_robin(len(config.entrants), config.games_per_pairing, seed=config.seed, run=run)


def _plan_hash(
    config: TournamentConfig, sources: list[AgentSource], plan: list[PlannedGame]
) -> str:
    blob = json.dumps(
        {
            "env": config.env_id,
            "env_kwargs": config.env_kwargs,
            "format": config.format,
            "entrants": [s.info.content_hash for s in sources],
            "games": [[g.key, list(g.entrants), g.seed] for g in plan],
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def run_tournament(
    path: Path,
    *,
    db_url: str | None = None,
    on_match: Callable[[MatchResult, int, int], None] | None = None,
) -> TournamentOutcome:
    """Validate ``path``, then play (or resume) its run and record every match.

    Args:
        path: the tournament file.
        db_url: SQLAlchemy URL; default ``$ARENA_DB`` or ``$ARENA_HOME/arena.db``.
        on_match: called after each stored match with ``(result, done, total)``.
    """
    config = load_tournament(path)
    spec = get_env(config.env_id)
    with HostPool(config.limits) as hosts:
        return _run(path, config, spec, hosts, db_url, on_match)


def _run(
    path: Path,
    config: TournamentConfig,
    spec: EnvSpec,
    hosts: HostPool,
    db_url: str | None,
    on_match: Callable[[MatchResult, int, int], None] | None,
) -> TournamentOutcome:
    sources = prepare_entrants(config, spec, hosts)
    plan_for(config, spec, 1)  # format errors surface before the database is touched
    env = spec.build(**config.env_kwargs)

    engine = connect(db_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        tournament = session.scalar(select(m.Tournament).where(m.Tournament.name == config.name))
        if tournament is None:
            tournament = m.Tournament(
                name=config.name,
                env_id=config.env_id,
                format=config.format,
                config=config.raw,
                source_path=str(path.resolve()),
            )
            session.add(tournament)
            session.flush()
        elif tournament.env_id != config.env_id:
            raise ArenaError(
                f"{path}: [tournament].name: '{config.name}' already exists on env "
                f"{tournament.env_id}; choose another name"
            )
        tournament.config, tournament.format = config.raw, config.format
        last = session.scalar(
            select(m.Run)
            .where(m.Run.tournament_id == tournament.id)
            .order_by(m.Run.number.desc())
            .limit(1)
        )
        resumed = False
        if last is not None and last.status == "running":
            plan = plan_for(config, spec, last.number)
            if last.plan_hash == _plan_hash(config, sources, plan):
                run, resumed = last, True
            else:
                # The file or an entrant changed under an unfinished run: its stored
                # matches stay, the new plan starts as a new run.
                last.status = "abandoned"
                last.finished_at = utcnow()
        if not resumed:
            number = 1 if last is None else last.number + 1
            plan = plan_for(config, spec, number)
            run = m.Run(
                tournament_id=tournament.id,
                number=number,
                plan_hash=_plan_hash(config, sources, plan),
                planned=len(plan),
            )
            session.add(run)
            session.flush()
        run_id, run_number = run.id, run.number
        stored = set(session.scalars(select(m.Match.game_key).where(m.Match.run_id == run_id)))

    recorder = Recorder(engine, RatingSystem())
    played = forfeits = 0
    done = len(stored)
    for game in plan:
        if game.key in stored:
            continue
        result = play_match(
            spec,
            [sources[i] for i in game.entrants],
            seed=game.seed,
            limits=config.limits,
            env=env,
            hosts=hosts,
        )
        if recorder.record(result, run_id=run_id, game_key=game.key) is not None:
            played += 1
            forfeits += len(result.forfeits)
        done += 1
        if on_match is not None:
            on_match(result, done, len(plan))

    with sessions.begin() as session:
        run = session.get_one(m.Run, run_id)
        run.status, run.finished_at = "finished", utcnow()
    engine.dispose()
    return TournamentOutcome(
        name=config.name,
        env_id=config.env_id,
        run=run_number,
        planned=len(plan),
        played=played,
        already_stored=len(stored),
        resumed=resumed,
        forfeits=forfeits,
    )
