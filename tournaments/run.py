"""Running a tournament file: validate everything, then play its format round by round.

A run is keyed by a hash of what decides its games (env, format and options,
entrants' content hashes, seed). Each batch of games a format draws is stored as
planned games before any is played; every match is stored under ``(run, game
key)``. Run the same file again after a crash (``kill -9`` included) and the
unfinished run resumes: formats are deterministic given the games already
played, so they draw the same keys, and only what is missing is played. Once a
run is finished, running the file again starts the next run with fresh seeds.
Ctrl-C (or SIGTERM, which the CLI turns into one) marks the run ``interrupted``
and raises :class:`RunInterrupted`; the same command resumes it.

In role-asymmetric envs each format game is a duplicate pair of matches (or,
in a role contest, one pair per background set) stored under sub-keys of the
game's key and scored by comparing like with like: :mod:`tournaments.duplicates`.
Symmetric and cooperative envs are played exactly as before (same keys, seeds
and run keys).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.rating import PairSeat, RatingSystem
from arena.registry import get_env
from arena.result import MatchResult
from arena.series import asymmetric, game_seed
from arena.sources import AgentSource, resolve_agent
from arena.specs import EnvSpec
from arena.storage import connect, session_factory
from arena.storage import models as m
from arena.storage.models import utcnow
from arena.storage.recorder import Recorder
from tournaments.config import TournamentConfig, load_tournament
from tournaments.duplicates import Duplicates, background_code, parent_key
from tournaments.executor import Executor, MatchTask, agent_ref
from tournaments.formats import Entrant, Format, GameResult, GameSpec


class RunInterrupted(Exception):
    """Ctrl-C (or SIGTERM) stopped a run; it is marked ``interrupted`` and resumes when rerun.

    Attributes:
        stored: matches of the run stored so far.
        planned: matches planned so far (formats that pair by results plan as they go).
    """

    def __init__(self, stored: int, planned: int) -> None:
        super().__init__(f"interrupted: {stored}/{planned} stored; run the same command to resume")
        self.stored = stored
        self.planned = planned


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
    named: dict[tuple[str, str], tuple[int, str]] = {}
    roles = (config.role,) if config.role else spec.roles
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
        for role in roles:
            if not source.can_fill(role):
                why = (
                    f"the contest is role '{role}' ([tournament].role)"
                    if config.role
                    else "tournaments swap roles between games"
                )
                raise ArenaError(
                    f"{where}: agent '{source.label}' cannot fill role '{role}' of "
                    f"{spec.env_id} (its roles: {', '.join(source.roles or ())}); {why}"
                )
        content = source.info.content_hash
        if content in seen:
            raise ArenaError(f"{where}: '{text}' is the same agent as entrants[{seen[content]}]")
        seen[content] = i
        name = (source.info.name, source.info.version)
        if name in named:
            j, other = named[name]
            raise ArenaError(
                f"{where}: '{text}' is {name[0]}@{name[1]} ({content[:8]}) like entrants[{j}] "
                f"({other[:8]}), with other content; give one of them another version"
            )
        named[name] = (i, content)
        try:
            hosts.load(source)  # imported where it will play: the sandbox
        except ArenaError as exc:
            raise ArenaError(f"{where}: {exc}", detail=exc.detail) from None
        sources.append(source)
    return sources


def prepare_background(
    config: TournamentConfig, spec: EnvSpec, hosts: HostPool
) -> list[AgentSource]:
    """Resolve a role contest's background agents (``[background]``), all roles in file order.

    Raises:
        ArenaError: naming the file, the role's array and the agent at fault.
    """
    sources: list[AgentSource] = []
    for role, agents in config.background.items():
        for i, text in enumerate(agents, start=1):
            where = f"{config.path}: [background].{role}[{i}]"
            try:
                source = resolve_agent(text, base_dir=config.base_dir)
            except ArenaError as exc:
                raise ArenaError(f"{where}: {exc}", detail=exc.detail) from None
            if not source.supports(spec.env_id):
                raise ArenaError(
                    f"{where}: agent '{source.label}' does not declare env '{spec.env_id}' "
                    f"(its envs: {', '.join(source.envs or ())})"
                )
            if not source.can_fill(role):
                raise ArenaError(
                    f"{where}: agent '{source.label}' cannot fill role '{role}' of "
                    f"{spec.env_id} (its roles: {', '.join(source.roles or ())})"
                )
            try:
                hosts.load(source)
            except ArenaError as exc:
                raise ArenaError(f"{where}: {exc}", detail=exc.detail) from None
            sources.append(source)
    return sources


def _duplicates(config: TournamentConfig, spec: EnvSpec) -> Duplicates | None:
    """Duplicate scoring for a role-asymmetric env (None for every other env)."""
    if not asymmetric(spec):
        return None
    pools: dict[str, list[int]] = {}
    k = 0
    for role, agents in config.background.items():
        pools[role] = list(range(k, k + len(agents)))
        k += len(agents)
    return Duplicates(spec, config.role, pools)


def check_env_fits(config: TournamentConfig, spec: EnvSpec, fmt: Format) -> None:
    """The format's players per game must be the env's sides, each its own team."""
    players = fmt.players_per_game(len(config.entrants))
    if len(spec.sides) != players or len(spec.teams) != players:
        raise ArenaError(
            f"{config.path}: [tournament].format: {config.format} seats {players} agents "
            f"per game, each on its own team; {spec.env_id} has {len(spec.sides)} side(s) "
            f"in {len(spec.teams)} team(s)"
        )


def _run_key(
    config: TournamentConfig,
    sources: list[AgentSource],
    background: Sequence[AgentSource] = (),
    duplicate: bool = False,
) -> str:
    what: dict[str, object] = {
        "env": config.env_id,
        "env_kwargs": config.env_kwargs,
        "format": config.format,
        "options": config.options,
        "entrants": [s.info.content_hash for s in sources],
        "seed": config.seed,
    }
    if duplicate:  # only then: other envs keep the run keys they always had
        what["scoring"] = "duplicate"
        what["role"] = config.role
        what["background"] = [s.info.content_hash for s in background]
    blob = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def run_tournament(
    path: Path,
    *,
    db_url: str | None = None,
    on_match: Callable[[MatchResult, int, int], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    workers: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
) -> TournamentOutcome:
    """Validate ``path``, then play (or resume) its run and record every match.

    Args:
        path: the tournament file.
        db_url: SQLAlchemy URL; default ``$ARENA_DB`` or ``$ARENA_HOME/arena.db``.
        on_plan: called with ``(done, planned)`` whenever a batch is planned, before
            its first match is played (progress bars know their total from the start);
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
        return _run(path, config, spec, hosts, executor, db_url, on_match, on_plan)


def _run(
    path: Path,
    config: TournamentConfig,
    spec: EnvSpec,
    hosts: HostPool,
    executor: Executor,
    db_url: str | None,
    on_match: Callable[[MatchResult, int, int], None] | None,
    on_plan: Callable[[int, int], None] | None = None,
) -> TournamentOutcome:
    env = spec.build(**config.env_kwargs)
    spec = spec.for_env(env)
    fmt = config.make_format()
    check_env_fits(config, spec, fmt)
    duplicates = _duplicates(config, spec)
    sources = prepare_entrants(config, spec, hosts)
    background = prepare_background(config, spec, hosts)
    executor.adopt([*sources, *background], hosts, env)

    engine = connect(db_url)
    key = _run_key(config, sources, background, duplicates is not None)
    run_id, run_number, resumed = _open_run(engine, path, config, key)
    recorder = Recorder(engine, RatingSystem())
    refs = [agent_ref(s) for s in sources]
    background_refs = [agent_ref(s) for s in background]
    by_hash = {s.info.content_hash: i for i, s in enumerate(sources)}
    played = forfeits = 0
    already = len(_stored_keys(engine, run_id))
    done = already
    try:
        while True:
            if duplicates is None:
                history = _history(engine, run_id, by_hash)
            else:
                history = _duplicate_history(engine, run_id, duplicates)
            batch = fmt.next_games(_entrants(engine, config, sources), history)
            if batch is None:
                break
            matches = _matches(batch, config, run_number, duplicates)
            stored = _plan(engine, run_id, matches)
            planned = _count_planned(engine, run_id)
            if on_plan is not None:
                on_plan(done, planned)
            tasks = [
                MatchTask(
                    key=match.key,
                    env_id=config.env_id,
                    agents=tuple(
                        refs[a] if a >= 0 else background_refs[background_code(a)]
                        for a in match.agents
                    ),
                    seed=match.seed,
                    limits=config.limits,
                    env_kwargs=config.env_kwargs,
                )
                for match in matches
                if match.key not in stored
            ]
            if not tasks:
                raise ArenaError(f"{path}: format '{config.format}' drew no new game (a bug)")
            pair_keys = {match.key: match.pair_key for match in matches}
            for task, result in executor.run(tasks):
                match_id = recorder.record(
                    result,
                    run_id=run_id,
                    game_key=task.key,
                    env_kwargs=task.env_kwargs,
                    pair_key=pair_keys[task.key],
                )
                if match_id is not None:
                    played += 1
                    forfeits += len(result.forfeits)
                done += 1
                if on_match is not None:
                    on_match(result, done, planned)
    except KeyboardInterrupt:
        stored_now, planned_now = len(_stored_keys(engine, run_id)), _count_planned(engine, run_id)
        _set_status(engine, run_id, "interrupted", planned_now)
        engine.dispose()
        raise RunInterrupted(stored_now, planned_now) from None

    _set_status(engine, run_id, "finished", _count_planned(engine, run_id))
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


def _set_status(engine: Engine, run_id: int, status: str, planned: int) -> None:
    with session_factory(engine).begin() as session:
        run = session.get_one(m.Run, run_id)
        run.status, run.planned = status, planned
        if status == "finished":
            run.finished_at = utcnow()


@dataclass(frozen=True)
class _Planned:
    """One match to play: its key, agent codes in side order, seed and pair."""

    key: str
    round: int
    agents: tuple[int, ...]
    seed: int
    pair_key: str | None


def _matches(
    batch: list[GameSpec], config: TournamentConfig, run_number: int, duplicates: Duplicates | None
) -> list[_Planned]:
    """The batch's matches: one per game, or each game's duplicate matches."""
    if duplicates is None:
        return [
            _Planned(
                game.key,
                game.round,
                game.entrants,
                game_seed(config.seed, run_number, *game.seed_keys),
                None,
            )
            for game in batch
        ]
    out = []
    for game in batch:
        seed = duplicates.seed(config.seed, run_number, game)
        for sub in duplicates.expand(game):
            out.append(_Planned(sub.key, game.round, sub.agents, seed, sub.pair_key))
    return out


def _open_run(
    engine: Engine, path: Path, config: TournamentConfig, key: str
) -> tuple[int, int, bool]:
    """Resume the tournament's unfinished run with the same key, or start the next one."""
    with session_factory(engine).begin() as session:
        tournament = upsert_tournament(session, path, config)
        last = session.scalar(
            select(m.Run)
            .where(m.Run.tournament_id == tournament.id)
            .order_by(m.Run.number.desc())
            .limit(1)
        )
        if last is not None and last.status in ("running", "interrupted"):
            if last.plan_hash == key:
                last.status = "running"
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


def _plan(engine: Engine, run_id: int, matches: list[_Planned]) -> set[str]:
    """Store the batch's matches that are not planned yet; return the keys already played."""
    with session_factory(engine).begin() as session:
        known = set(
            session.scalars(select(m.PlannedGame.game_key).where(m.PlannedGame.run_id == run_id))
        )
        session.add_all(
            m.PlannedGame(
                run_id=run_id,
                game_key=match.key,
                round=match.round,
                entrants=list(match.agents),
                seed=match.seed,
            )
            for match in matches
            if match.key not in known
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


def _duplicate_history(engine: Engine, run_id: int, duplicates: Duplicates) -> list[GameResult]:
    """The run's complete format games, each scored from its stored duplicate matches."""
    p = m.Participant
    query = (
        select(m.Match.game_key, p.slot, p.role, p.team, p.reward, p.forfeit_reason)
        .join(p, p.match_id == m.Match.id)
        .where(m.Match.run_id == run_id)
        .order_by(m.Match.id, p.id)
    )
    planned = select(m.PlannedGame.game_key, m.PlannedGame.entrants).where(
        m.PlannedGame.run_id == run_id
    )
    with engine.connect() as conn:
        agents = {str(key): tuple(codes) for key, codes in conn.execute(planned)}
        seats: dict[str, list[PairSeat]] = {}
        for key, slot, role, team, reward, forfeit in conn.execute(query):
            codes = agents[str(key)]
            seats.setdefault(str(key), []).append(
                PairSeat(codes[slot], role, team, reward, forfeit is not None)
            )
    games: dict[str, dict[str, tuple[tuple[int, ...], list[PairSeat]]]] = {}
    for key, match_seats in seats.items():
        suffix = key[len(parent_key(key)) + 1 :]
        games.setdefault(parent_key(key), {})[suffix] = (agents[key], match_seats)
    history = []
    for key, matches in games.items():
        result = duplicates.result(key, matches)
        if result is not None:
            history.append(result)
    return history


def _entrants(
    engine: Engine, config: TournamentConfig, sources: list[AgentSource]
) -> list[Entrant]:
    """Entrants with their current ratings on the env (for seeding and matchmaking).

    The overall rating, or in a role contest the contest role's.
    """
    start = RatingSystem().initial()
    query = (
        select(m.AgentVersion.content_hash, m.Rating.mu, m.Rating.sigma)
        .join(m.Rating, m.Rating.agent_version_id == m.AgentVersion.id)
        .where(m.Rating.env_id == config.env_id, m.Rating.role == config.role)
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
