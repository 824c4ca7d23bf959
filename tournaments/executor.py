"""Where a tournament's matches are played: in this process, a local process pool, or Ray.

Matches are independent tasks. Workers play and return :class:`MatchResult`
objects; only the driver (the single writer) stores them, as they arrive. Each
worker process keeps its agents' hosts (sandboxed workers) and envs between
tasks, so a package's sandbox starts once per worker, not once per match.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from arena.errors import ArenaError
from arena.hosts import HostPool
from arena.limits import Limits
from arena.registry import get_env
from arena.result import MatchResult
from arena.runner import play_match
from arena.sources import AgentSource, resolve_agent

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class MatchTask:
    """One match to play, described so that any worker process can rebuild it.

    Attributes:
        key: the game key within its run.
        env_id: the env to play.
        agents: in side order, built-in names or absolute package folders.
        seed: the match seed.
        limits: time and resource limits.
        env_kwargs: passed to the env factory.
    """

    key: str
    env_id: str
    agents: tuple[str, ...]
    seed: int
    limits: Limits
    env_kwargs: dict[str, Any] = field(default_factory=dict)


def agent_ref(source: AgentSource) -> str:
    """How a worker names an agent: a built-in's name or the package's absolute folder."""
    return source.info.name if source.builtin is not None else str(source.package_dir)


class _WorkerState:
    """Per-process caches: resolved agents, envs and the host pool."""

    def __init__(self, hosts: HostPool | None = None) -> None:
        self.sources: dict[str, AgentSource] = {}
        self.envs: dict[tuple[str, str], Any] = {}
        self.hosts: dict[Limits, HostPool] = {}
        self.shared = hosts  # the driver's pool, closed by the driver
        self.pending_env: Any = None

    def env_for(self, env: Any) -> None:
        self.pending_env = env

    def play(self, task: MatchTask) -> MatchResult:
        spec = get_env(task.env_id)
        sources = []
        for ref in task.agents:
            if ref not in self.sources:
                self.sources[ref] = resolve_agent(ref)
            sources.append(self.sources[ref])
        env_key = (task.env_id, repr(sorted(task.env_kwargs.items())))
        if env_key not in self.envs:
            if self.pending_env is not None:
                self.envs[env_key], self.pending_env = self.pending_env, None
            else:
                self.envs[env_key] = spec.build(**task.env_kwargs)
        if self.shared is not None:
            hosts = self.shared
        else:
            hosts = self.hosts.setdefault(task.limits, HostPool(task.limits))
        return play_match(
            spec, sources, seed=task.seed, limits=task.limits, env=self.envs[env_key], hosts=hosts
        )

    def close(self) -> None:
        for pool in self.hosts.values():
            pool.close()
        self.hosts.clear()


_state: _WorkerState | None = None


def _worker_init() -> None:
    global _state
    # Two processes sharing two cores: one thread each (see MEASUREMENTS.md).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _state = _WorkerState()
    atexit.register(_state.close)  # no sandboxed worker outlives its pool process


def _worker_play(task: MatchTask) -> MatchResult:
    global _state
    if _state is None:
        _worker_init()
    assert _state is not None
    return _state.play(task)


class Executor:
    """Plays match tasks and yields ``(task, result)`` as each finishes.

    Args:
        workers: processes to play in; 1 plays in this process.
        backend: ``local`` (this machine) or ``ray`` (a Ray cluster).
        ray_address: address of a running Ray cluster; None starts a local one
            with ``workers`` CPUs.
    """

    def __init__(
        self, *, workers: int = 1, backend: str = "local", ray_address: str | None = None
    ) -> None:
        if backend not in BACKENDS:
            raise ArenaError(f"--backend: unknown backend {backend!r} (expected: local, ray)")
        if workers < 1:
            raise ArenaError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.backend = backend
        self.ray_address = ray_address
        self._local: _WorkerState | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._ray: Any = None
        self._ray_play: Any = None
        self._started_ray = False

    def adopt(self, sources: Sequence[AgentSource], hosts: HostPool, env: Any) -> None:
        """Play in-process matches with the driver's own agents, hosts and env.

        The sandboxed workers that validated the entrants then play their games
        too, instead of starting again.
        """
        if self.backend == "local" and self.workers == 1:
            self._local = _WorkerState(hosts=hosts)
            for source in sources:
                self._local.sources[agent_ref(source)] = source
            if sources:
                self._local.env_for(env)

    def run(self, tasks: Iterable[MatchTask]) -> Iterator[tuple[MatchTask, MatchResult]]:
        if self.backend == "ray":
            yield from self._run_ray(list(tasks))
        elif self.workers == 1:
            if self._local is None:
                self._local = _WorkerState()
            for task in tasks:
                yield task, self._local.play(task)
        else:
            yield from self._run_pool(list(tasks))

    def _run_pool(self, tasks: list[MatchTask]) -> Iterator[tuple[MatchTask, MatchResult]]:
        import multiprocessing

        if self._pool is None:
            # spawn: a clean interpreter, not a fork of one holding database connections.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
            )
        pending: dict[Future[MatchResult], MatchTask] = {}
        queue = iter(tasks)
        # Keep a few tasks per worker in flight: enough to stay busy, few enough
        # that results stream back in roughly plan order.
        for task in queue:
            pending[self._pool.submit(_worker_play, task)] = task
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                yield task, future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending[self._pool.submit(_worker_play, nxt)] = nxt

    def _run_ray(self, tasks: list[MatchTask]) -> Iterator[tuple[MatchTask, MatchResult]]:
        if self._ray is None:
            try:
                import ray
            except ImportError:
                raise ArenaError(
                    "--backend ray: the 'ray' package is not installed (pip install 'arena[ray]')"
                ) from None
            if not ray.is_initialized():
                self._started_ray = True
                if self.ray_address:
                    ray.init(address=self.ray_address, log_to_driver=False)
                else:
                    ray.init(num_cpus=self.workers, log_to_driver=False, include_dashboard=False)
            self._ray = ray
            self._ray_play = ray.remote(_worker_play)
        ray = self._ray
        refs = {self._ray_play.remote(task): task for task in tasks}
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                task = refs.pop(ref)
                yield task, ray.get(ref)

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._ray is not None and self._started_ray:
            # A cluster we started (and its sandboxed workers) ends with the run.
            self._ray.shutdown()
            self._ray, self._started_ray = None, False

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
