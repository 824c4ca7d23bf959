"""``arena match``: a series between named agents, every match stored and rated.

The series itself (seats, seeds, summary) is :mod:`arena.series`.

A resumable series (what ``arena match`` plays) is stored as a run, so Ctrl-C
never strands it: a ``tournaments`` row of format ``match`` named by the
series' key (a hash of the env and its version, the agents' content hashes,
the games, the seed, the limits and the device), and runs of it whose matches
have the game keys ``g0``, ``g1``, ... Interrupted, the run is marked
``interrupted`` and the same call resumes it: only the games not stored yet are
played, each with its own seats and seed, so the finished series is the one an
uninterrupted call stores. A finished series called again is played anew, as
the next run of its row (as before, the same seed plays the same games).

Role-asymmetric games are played in duplicate pairs, roles swapped
(:func:`arena.series.swaps_roles`); a pair cut by Ctrl-C is rated when the
resumed call stores its second game (the recorder's ``pair_key``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.result import AgentInfo, MatchResult, SeatResult
from arena.runner import Limits, play_match, side_owners, unique_labels
from arena.series import SeriesReport, play_series, relabel, series_plan, summarize, swaps_roles
from arena.sources import AgentSource
from arena.specs import EnvSpec
from arena.storage.queries.tournaments import SERIES_FORMAT

if TYPE_CHECKING:
    from arena.storage.queries.matches import RunGame



@dataclass
class MatchSeries(SeriesReport):
    """A series report, and where a resumable series is stored."""

    name: str | None = None  # the tournaments row of the series
    run: int | None = None  # its run number
    resumed: int = 0  # games an earlier, interrupted call had stored

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "series": self.name, "run": self.run, "resumed": self.resumed}


class SeriesInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a series; ``report`` sums up the games it kept (``done`` of ``planned``)."""

    def __init__(
        self, report: SeriesReport, done: int, planned: int, *, recorded: bool, resumable: bool
    ) -> None:
        super().__init__(f"{done}/{planned}")
        self.report, self.done, self.planned = report, done, planned
        self.recorded, self.resumable = recorded, resumable

    @property
    def message(self) -> str:
        """``interrupted: 385/500 stored; run the same command to resume``, or ``... played``."""
        count = f"interrupted: {self.done}/{self.planned}"
        if not self.recorded:
            return f"{count} played"
        if not self.resumable:
            return f"{count} stored"
        return f"{count} stored; run the same command to resume"


def play_and_record(
    env_id: str,
    agents: Sequence[str],
    *,
    games: int = 1,
    seed: int = 0,
    limits: Limits | None = None,
    db_url: str | None = None,
    record: bool = True,
    device: str = "cpu",
    on_result: Callable[[MatchResult], None] | None = None,
    resumable: bool = False,
) -> SeriesReport:
    """Resolve agents, play a series, store every match with its rating update.

    All input is checked (env, agents, their envs and roles, package imports)
    before the database is opened, so bad input writes nothing.

    With ``resumable`` (and ``record``) the series is stored as a run (see the
    module's doc): the same call resumes an interrupted one, and the report is a
    :class:`MatchSeries` summing up the whole series.

    Raises:
        ArenaError: one line naming the env or agent at fault.
        SeriesInterrupted: Ctrl-C (a ``KeyboardInterrupt``); the matches played
            to the end are stored, the one in progress is not.
    """
    from arena.registry import get_env
    from arena.sources import resolve_agent

    if games < 1:
        raise ArenaError(f"--games must be at least 1, got {games}")
    spec = get_env(env_id)
    spec.require()  # a missing optional dependency is bad input, reported before anything
    sources = [resolve_agent(a) for a in agents]
    owners = side_owners(spec, len(sources))
    for source, sides in zip(sources, owners, strict=True):
        if not source.supports(env_id):
            raise ArenaError(
                f"agent '{source.label}' does not declare env '{env_id}' "
                f"(its envs: {', '.join(source.envs or ())})"
            )
        for role in dict.fromkeys(spec.sides[i].role for i in sides):
            if not source.can_fill(role):
                raise ArenaError(
                    f"agent '{source.label}' cannot fill role '{role}' of {env_id} "
                    f"(its roles: {', '.join(source.roles or ())})"
                )
    resumable = resumable and record
    limits = limits or Limits()
    nothing = SeriesReport(env_id, games, seed, {}, [])
    with HostPool(limits) as hosts:
        try:
            # Packages are imported where they will play (the sandbox), never here.
            for source in sources:
                hosts.load(source)
        except KeyboardInterrupt:
            raise SeriesInterrupted(
                nothing, 0, games, recorded=record, resumable=resumable
            ) from None
        if not record:
            return _unrecorded(spec, sources, games, seed, limits, device, on_result, hosts)
        from arena.storage import connect

        engine = connect(db_url)
        if resumable:
            command = " ".join(["arena match", env_id, *agents, f"--games {games} --seed {seed}"])
            return _resumable(
                engine, spec, sources, games, seed, limits, device, on_result, hosts, command
            )
        return _recorded(engine, spec, sources, games, seed, limits, device, on_result, hosts)


def _unrecorded(
    spec: EnvSpec,
    sources: list[AgentSource],
    games: int,
    seed: int,
    limits: Limits,
    device: str,
    on_result: Callable[[MatchResult], None] | None,
    hosts: HostPool,
) -> SeriesReport:
    results: list[MatchResult] = []

    def keep(result: MatchResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    try:
        play_series(
            spec,
            sources,
            games=games,
            seed=seed,
            limits=limits,
            device=device,
            on_result=keep,
            hosts=hosts,
            swap_roles=True,  # arena match: asymmetric games in duplicate pairs
        )
    except KeyboardInterrupt:
        report = SeriesReport(spec.env_id, games, seed, summarize(results), [])
        raise SeriesInterrupted(
            report, len(results), games, recorded=False, resumable=False
        ) from None
    return SeriesReport(spec.env_id, games, seed, summarize(results), [])


def _recorded(
    engine: Engine,
    spec: EnvSpec,
    sources: list[AgentSource],
    games: int,
    seed: int,
    limits: Limits,
    device: str,
    on_result: Callable[[MatchResult], None] | None,
    hosts: HostPool,
) -> SeriesReport:
    """A series stored match by match, with no run (placement's batches, the library)."""
    from arena.storage.recorder import Recorder

    recorder = Recorder(engine)
    results: list[MatchResult] = []
    match_ids: list[int] = []

    def store(result: MatchResult) -> None:
        with _held_signals():  # never half a match in the open batch
            match_id = recorder.record(result)
            if match_id is not None:
                match_ids.append(match_id)
            results.append(result)
            if on_result is not None:
                on_result(result)

    interrupted = False
    with recorder.batch():
        try:
            play_series(
                spec,
                sources,
                games=games,
                seed=seed,
                limits=limits,
                device=device,
                on_result=store,
                hosts=hosts,
                swap_roles=True,  # arena match: asymmetric games in duplicate pairs
            )
        except KeyboardInterrupt:
            interrupted = True
        with _held_signals(redeliver=False):
            recorder.flush()  # the matches played to the end are kept
    report = SeriesReport(spec.env_id, games, seed, summarize(results), match_ids)
    if interrupted and len(results) < games:
        raise SeriesInterrupted(report, len(match_ids), games, recorded=True, resumable=False)
    return report


def series_key(
    spec: EnvSpec,
    sources: Sequence[AgentSource],
    *,
    games: int,
    seed: int,
    limits: Limits,
    device: str,
    env_kwargs: dict[str, Any] | None = None,
) -> str:
    """The sha256 that names a series: the same call has the same key, and resumes it."""
    payload = {
        "env": spec.env_id,
        "env_version": spec.version,
        "env_kwargs": env_kwargs or {},
        "agents": [s.info.content_hash for s in sources],
        "games": games,
        "seed": seed,
        "limits": asdict(limits),
        "device": device,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def series_name(key: str, env_id: str, labels: Sequence[str]) -> str:
    """The tournaments row of a series: its key first (unique), then what it plays."""
    return f"match {key[:12]} {env_id}: {' vs '.join(labels)}"[:128]


@dataclass
class _Run:
    id: int
    number: int
    name: str
    resumed: bool


def _open_series(
    engine: Engine, key: str, spec: EnvSpec, labels: list[str], games: int, command: str
) -> _Run:
    """The series' unfinished run, to resume, or its next run."""
    from arena.storage import models as m
    from arena.storage import session_factory

    name = series_name(key, spec.env_id, labels)
    with session_factory(engine).begin() as session:
        row = session.scalar(select(m.Tournament).where(m.Tournament.name == name))
        if row is None:
            row = m.Tournament(
                name=name,
                env_id=spec.env_id,
                format=SERIES_FORMAT,
                config={"tournament": {"description": command}, "match": {"key": key}},
                source_path=None,
            )
            session.add(row)
            session.flush()
        elif row.format != SERIES_FORMAT:
            raise ArenaError(f"tournament '{name}' is not a match series; rename that tournament")
        last = session.scalar(
            select(m.Run)
            .where(m.Run.tournament_id == row.id)
            .order_by(m.Run.number.desc())
            .limit(1)
        )
        if last is not None and last.status != "finished" and last.plan_hash == key:
            last.status = "running"  # interrupted, or its process was killed
            return _Run(last.id, last.number, name, True)
        number = 1 if last is None else last.number + 1
        run = m.Run(tournament_id=row.id, number=number, plan_hash=key, planned=games)
        session.add(run)
        session.flush()
        return _Run(run.id, number, name, False)


def _resumable(
    engine: Engine,
    spec: EnvSpec,
    sources: list[AgentSource],
    games: int,
    seed: int,
    limits: Limits,
    device: str,
    on_result: Callable[[MatchResult], None] | None,
    hosts: HostPool,
    command: str,
) -> MatchSeries:
    from arena.storage import models as m
    from arena.storage import session_factory
    from arena.storage.queries.matches import run_games
    from arena.storage.recorder import Recorder

    labels = unique_labels([s.label for s in sources])
    env = spec.build()
    spec = spec.for_env(env)
    key = series_key(spec, sources, games=games, seed=seed, limits=limits, device=device)
    run = _open_series(engine, key, spec, labels, games, command)
    stored = {g.game_key for g in run_games(engine, run.id)} if run.resumed else set()
    recorder = Recorder(engine)

    def store(result: MatchResult, game_key: str, pair_key: str | None) -> None:
        with _held_signals():  # never half a match in the open batch
            recorder.record(result, run_id=run.id, game_key=game_key, pair_key=pair_key)
            if on_result is not None:
                on_result(result)

    swap = swaps_roles(spec, sources)  # asymmetric games in duplicate pairs, as play_series
    with recorder.batch():
        try:
            for number, game in enumerate(
                series_plan(spec, len(sources), seed, games, swap_roles=swap)
            ):
                if f"g{number}" in stored:
                    continue
                result = play_match(
                    spec,
                    [sources[i] for i in game.order],
                    seed=game.seed,
                    limits=limits,
                    device=device,
                    env=env,
                    hosts=hosts,
                )
                relabel(result, [labels[i] for i in game.order])
                # The pair is rated when its second match is stored, in this call or a later one.
                store(result, f"g{number}", None if game.pair is None else f"g{game.pair}")
        except KeyboardInterrupt:
            pass  # what is stored tells
        with _held_signals(redeliver=False):
            recorder.flush()  # the matches played to the end are kept
    with _held_signals(redeliver=False):
        kept = sorted(run_games(engine, run.id), key=lambda g: _game_number(g.game_key))
        with session_factory(engine).begin() as session:
            row = session.get_one(m.Run, run.id)
            if len(kept) >= games:
                row.status, row.finished_at = "finished", m.utcnow()
            else:
                row.status = "interrupted"
    report = MatchSeries(
        spec.env_id,
        games,
        seed,
        summarize([_stored_result(g, len(sources)) for g in kept]),
        [g.match_id for g in kept],
        name=run.name,
        run=run.number,
        resumed=len(stored),
    )
    if len(kept) < games:
        raise SeriesInterrupted(report, len(kept), games, recorded=True, resumable=True)
    return report


def _game_number(game_key: str) -> int:
    return int(game_key[1:]) if game_key[1:].isdigit() else -1


def _stored_result(game: RunGame, n_agents: int) -> MatchResult:
    """A stored match as much of a result as :func:`arena.series.summarize` reads."""
    seats = [
        SeatResult(
            seat=s.seat,
            side=s.slot,
            team=s.team,
            role=s.role,
            label=s.label,
            reward=s.reward,
            rank=s.rank,
            forfeit=s.forfeit_reason,
        )
        for s in game.seats
    ]
    labels, ranks = [""] * n_agents, [1] * n_agents
    for s in seats:
        labels[s.side], ranks[s.side] = s.label, s.rank
    return MatchResult(
        env_id=game.env_id,
        env_version=game.env_version,
        seed=game.seed,
        agents=[AgentInfo(name=label, version="", content_hash="", kind="") for label in labels],
        labels=labels,
        seats=seats,
        side_ranks=ranks,
        steps=game.steps,
    )


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # what the CLI turns into Ctrl-C


@contextlib.contextmanager
def _held_signals(*, redeliver: bool = True) -> Iterator[None]:
    """Hold Ctrl-C (and the stops the CLI treats alike) until the block ends.

    A match is stored whole or not at all: an exception halfway through its rows
    would leave half a match in the open batch, which the interrupted series
    then commits. A signal that came is handed to its handler after the block
    (``redeliver``), or dropped (the block was the series' last work).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    came: list[int] = []
    previous: dict[int, Any] = {}
    for number in _HELD:
        handler = signal.getsignal(number)
        if callable(handler):  # a Python handler raises; SIG_DFL ends the process anyway
            previous[number] = signal.signal(number, lambda n, _frame: came.append(n))
    try:
        yield
    finally:
        for held, kept in previous.items():
            signal.signal(held, kept)
    if came and redeliver:
        previous[came[0]](came[0], None)
