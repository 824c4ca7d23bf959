"""Running a tournament file: validate everything, then play its format round by round.

A run is keyed by a hash of what decides its games (env, format and options,
entrants' content hashes, seed). Each batch of games a format draws is stored as
planned games before any is played; every match is stored under ``(run, game
key)``. Run the same file again after a crash (``kill -9`` included) and the
unfinished run resumes: formats are deterministic given the games already
played, so they draw the same keys, and only what is missing is played. Once a
run is finished, running the file again starts the next run with fresh seeds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.rating import RatingSystem
from arena.registry import get_env
from arena.result import MatchResult
from arena.series import game_seed
from arena.sources import AgentSource, resolve_agent
from arena.specs import EnvSpec
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.models import utcnow
from arena.storage.recorder import Recorder
from tournaments.config import TournamentConfig, load_tournament
from tournaments.executor import Executor, MatchTask, agent_ref
from tournaments.formats import Entrant, Format, GameResult, GameSpec


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
                    "tournaments swap roles between games"
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


def check_env_fits(config: TournamentConfig, spec: EnvSpec, fmt: Format) -> None:
    """The format's players per game must be the env's sides, each its own team."""
    players = fmt.players_per_game(len(config.entrants))
    if len(spec.sides) != players or len(spec.teams) != players:
        raise ArenaError(
            f"{config.path}: [tournament].format: {config.format} seats {players} agents "
            f"per game, each on its own team; {spec.env_id} has {len(spec.sides)} side(s) "
            f"in {len(spec.teams)} team(s)"
        )


def _run_key(config: TournamentConfig, sources: list[AgentSource]) -> str:
    blob = json.dumps(
        {
            "env": config.env_id,
            "env_kwargs": config.env_kwargs,
            "format": config.format,
            "options": config.options,
            "entrants": [s.info.content_hash for s in sources],
            "seed": config.seed,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def run_tournament(
    path: Path,
    *,
    db_url: str | None = None,
    on_match: Callable[[MatchResult, int, int], None] | None = None,
    workers: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
) -> TournamentOutcome:
    """Validate ``path``, then play (or resume) its run and record every match.

    Args:
        path: the tournament file.
        db_url: SQLAlchemy URL; default ``$ARENA_DB`` or ``$ARENA_HOME/arena.db``.
        on_match: called after each stored match with ``(result, done, planned)``;
            ``planned`` grows as formats that pair by results draw new rounds.
        workers: processes playing matches at once. The pool spawns fresh
            interpreters, so a script calling this with ``workers > 1`` needs the
            usual ``if __name__ == "__main__":`` guard.
        backend: ``local`` or ``ray``.
        ray_address: a running Ray cluster; None starts a local one.
    """
    config = load_tournament(path)
    spec = get_env(config.env_id)
    executor = Executor(workers=workers, backend=backend, ray_address=ray_address)
    with HostPool(config.limits) as hosts, executor:
        return _run(path, config, spec, hosts, executor, db_url, on_match)


def _run(
    path: Path,
    config: TournamentConfig,
    spec: EnvSpec,
    hosts: HostPool,
    executor: Executor,
    db_url: str | None,
    on_match: Callable[[MatchResult, int, int], None] | None,
) -> TournamentOutcome:
    env = spec.build(**config.env_kwargs)
    spec = spec.for_env(env)
    fmt = config.make_format()
    check_env_fits(config, spec, fmt)
    sources = prepare_entrants(config, spec, hosts)
    executor.adopt(sources, hosts, env)

    engine = connect(db_url)
    run_id, run_number, resumed = _open_run(engine, path, config, sources)
    recorder = Recorder(engine, RatingSystem())
    refs = [agent_ref(s) for s in sources]
    by_hash = {s.info.content_hash: i for i, s in enumerate(sources)}
    played = forfeits = 0
    already = len(_stored_keys(engine, run_id))
    done = already
    while True:
        history = _history(engine, run_id, by_hash)
        batch = fmt.next_games(_entrants(engine, config, sources), history)
        if batch is None:
            break
        stored = _plan(engine, run_id, batch, config, run_number)
        planned = _count_planned(engine, run_id)
        tasks = [
            MatchTask(
                key=game.key,
                env_id=config.env_id,
                agents=tuple(refs[i] for i in game.entrants),
                seed=game_seed(config.seed, run_number, *game.seed_keys),
                limits=config.limits,
                env_kwargs=config.env_kwargs,
            )
            for game in batch
            if game.key not in stored
        ]
        if not tasks:
            raise ArenaError(f"{path}: format '{config.format}' drew no new game (a bug)")
        for task, result in executor.run(tasks):
            match_id = recorder.record(
                result, run_id=run_id, game_key=task.key, env_kwargs=task.env_kwargs
            )
            if match_id is not None:
                played += 1
                forfeits += len(result.forfeits)
            done += 1
            if on_match is not None:
                on_match(result, done, planned)

    with session_factory(engine).begin() as session:
        run = session.get_one(m.Run, run_id)
        run.status, run.finished_at = "finished", utcnow()
        run.planned = _count_planned(engine, run_id)
    engine.dispose()
    return TournamentOutcome(
        name=config.name,
        env_id=config.env_id,
        run=run_number,
        planned=done,
        played=played,
        already_stored=already,
        resumed=resumed,
        forfeits=forfeits,
    )


def _open_run(
    engine: Engine, path: Path, config: TournamentConfig, sources: list[AgentSource]
) -> tuple[int, int, bool]:
    """Resume the tournament's unfinished run with the same key, or start the next one."""
    key = _run_key(config, sources)
    with session_factory(engine).begin() as session:
        tournament = upsert_tournament(session, path, config)
        last = session.scalar(
            select(m.Run)
            .where(m.Run.tournament_id == tournament.id)
            .order_by(m.Run.number.desc())
            .limit(1)
        )
        if last is not None and last.status == "running":
            if last.plan_hash == key:
                return last.id, last.number, True
            # The file or an entrant changed under an unfinished run: its stored
            # matches stay, the new plan starts as a new run.
            last.status, last.finished_at = "abandoned", utcnow()
        number = 1 if last is None else last.number + 1
        run = m.Run(tournament_id=tournament.id, number=number, plan_hash=key, planned=0)
        session.add(run)
        session.flush()
        return run.id, number, False


def upsert_tournament(session: Session, path: Path, config: TournamentConfig) -> m.Tournament:
    """The tournament row for ``config.name``, created or brought up to date.

    Raises:
        ArenaError: the name is already used on another env.
    """
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
    return tournament


def _stored_keys(engine: Engine, run_id: int) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(m.Match.game_key).where(m.Match.run_id == run_id))
        return {str(key) for (key,) in rows}


def _count_planned(engine: Engine, run_id: int) -> int:
    with engine.connect() as conn:
        rows = conn.execute(select(m.PlannedGame.id).where(m.PlannedGame.run_id == run_id))
        return len(rows.all())


def _plan(
    engine: Engine, run_id: int, batch: list[GameSpec], config: TournamentConfig, run_number: int
) -> set[str]:
    """Store the batch's games that are not planned yet; return the keys already played."""
    with session_factory(engine).begin() as session:
        known = set(
            session.scalars(select(m.PlannedGame.game_key).where(m.PlannedGame.run_id == run_id))
        )
        session.add_all(
            m.PlannedGame(
                run_id=run_id,
                game_key=game.key,
                round=game.round,
                entrants=list(game.entrants),
                seed=game_seed(config.seed, run_number, *game.seed_keys),
            )
            for game in batch
            if game.key not in known
        )
    return _stored_keys(engine, run_id)


def _history(engine: Engine, run_id: int, by_hash: dict[str, int]) -> list[GameResult]:
    """The run's played games as the format sees them: who sat where, and ranks."""
    query = (
        select(
            m.Match.game_key, m.Participant.slot, m.Participant.rank, m.AgentVersion.content_hash
        )
        .join(m.Participant, m.Participant.match_id == m.Match.id)
        .join(m.AgentVersion, m.AgentVersion.id == m.Participant.agent_version_id)
        .where(m.Match.run_id == run_id)
    )
    games: dict[str, dict[int, tuple[int, int]]] = {}
    with engine.connect() as conn:
        for key, slot, rank, content_hash in conn.execute(query):
            games.setdefault(str(key), {})[slot] = (by_hash[content_hash], rank)
    history = []
    for key, slots in games.items():
        ordered = [slots[s] for s in sorted(slots)]
        spec = GameSpec(key=key, round=0, entrants=tuple(e for e, _ in ordered), seed_keys=())
        history.append(GameResult(spec=spec, ranks=tuple(r for _, r in ordered)))
    return history


def _entrants(
    engine: Engine, config: TournamentConfig, sources: list[AgentSource]
) -> list[Entrant]:
    """Entrants with their current ratings on the env (for seeding and matchmaking)."""
    start = RatingSystem().initial()
    query = (
        select(m.AgentVersion.content_hash, m.Rating.mu, m.Rating.sigma)
        .join(m.Rating, m.Rating.agent_version_id == m.AgentVersion.id)
        .where(m.Rating.env_id == config.env_id)
    )
    with engine.connect() as conn:
        ratings = {h: (mu, sigma) for h, mu, sigma in conn.execute(query)}
    return [
        Entrant(
            index=i,
            label=s.label,
            mu=ratings.get(s.info.content_hash, (start.mu, start.sigma))[0],
            sigma=ratings.get(s.info.content_hash, (start.mu, start.sigma))[1],
        )
        for i, s in enumerate(sources)
    ]
