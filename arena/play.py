"""``arena match``: a series between named agents, every match stored and rated.

The series itself (seats, seeds, summary) is :mod:`arena.series`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.result import MatchResult
from arena.runner import Limits, side_owners
from arena.series import SeriesReport, play_series, summarize


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
) -> SeriesReport:
    """Resolve agents, play a series, store every match with its rating update.

    All input is checked (env, agents, their envs and roles, package imports)
    before the database is opened, so bad input writes nothing.

    Raises:
        ArenaError: one line naming the env or agent at fault.
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
    with HostPool(limits or Limits()) as hosts:
        # Packages are imported where they will play (the sandbox), never here.
        for source in sources:
            hosts.load(source)
        recorder = None
        if record:
            from arena.storage import connect
            from arena.storage.recorder import Recorder

            recorder = Recorder(connect(db_url))
        match_ids: list[int] = []

        def store(result: MatchResult) -> None:
            if recorder is not None:
                match_id = recorder.record(result)
                if match_id is not None:
                    match_ids.append(match_id)
            if on_result is not None:
                on_result(result)

        with recorder.batch() if recorder is not None else contextlib.nullcontext():
            results = play_series(
                spec,
                sources,
                games=games,
                seed=seed,
                limits=limits,
                device=device,
                on_result=store,
                hosts=hosts,
            )
    return SeriesReport(env_id, games, seed, summarize(results), match_ids)
