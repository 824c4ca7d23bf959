"""Where an agent's code runs: in the arena's process, or in a sandboxed worker.

The runner talks to every agent through a host, and every failure comes back as
an :class:`AgentFault` carrying the protocol's reason (``error``, ``timeout``,
``crash``). Illegal actions are judged by the runner, not by hosts.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from arena.errors import ArenaError
from arena.faults import AgentFault
from arena.limits import Limits
from arena.protocol import AgentContext
from arena.sources import AgentLoadError, AgentSource, BoundedOutput


@runtime_checkable
class Pausable(Protocol):
    """A host whose agents can be stopped while matches it does not play run."""

    def pause(self) -> None: ...


class Host(Protocol):
    """The runner's view of one package (or built-in) during a series of matches."""

    def load(self) -> None:
        """Import the package's entry point (where it will run); AgentFault if it fails."""
        ...

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        """Create one agent per seat (``make_agent`` + ``reset``)."""
        ...

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        """The seat's raw action; raises AgentFault on error, timeout or crash."""
        ...

    def end_match(self) -> str:
        """Close the match's agents; return what the agent printed during it."""
        ...

    def close(self) -> None:
        """Release the host (kill its processes)."""
        ...


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()


class InProcessHost:
    """Runs a built-in (or a trusted package) inside the arena's process.

    A timeout is detected after ``act`` returns: in-process code cannot be
    interrupted. A package's prints are captured, never shown.
    """

    def __init__(self, source: AgentSource, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.agents: dict[str, Any] = {}
        self.sink = None if source.builtin is not None else BoundedOutput()

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.sink is None:
            return fn(*args, **kwargs)
        with (
            contextlib.redirect_stdout(self.sink),
            contextlib.redirect_stderr(self.sink),
            self.source.activated(),
        ):
            return fn(*args, **kwargs)

    def load(self) -> None:
        try:
            self.source.factory()
        except AgentLoadError as exc:
            raise AgentFault("error", f"{exc}\n{exc.detail}") from None

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        self.agents = {}
        if self.sink is not None:
            self.sink.seek(0)
            self.sink.truncate()
            self.sink.write(self.source.import_output)
        t0 = time.perf_counter()
        for ctx in contexts:
            try:
                make_agent = self.source.factory()
                agent = self._call(make_agent, ctx)
                self._call(agent.reset, seed=ctx.seed)
            except AgentLoadError as exc:
                raise AgentFault("error", f"{exc}\n{exc.detail}", seat=ctx.agent_id) from None
            except BaseException as exc:  # agent code may raise anything
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise AgentFault("error", format_exception(exc), seat=ctx.agent_id) from None
            self.agents[ctx.agent_id] = agent
        elapsed = time.perf_counter() - t0
        if elapsed > self.limits.init_timeout_s:
            raise AgentFault(
                "timeout",
                f"set-up took {elapsed:.2f}s, over {self.limits.init_timeout_s}s (init_timeout_s)",
                seat=contexts[-1].agent_id,
            )

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        t0 = time.perf_counter()
        try:
            if self.sink is None:
                action = self.agents[seat].act(observation, action_mask=mask)
            else:
                action = self._call(self.agents[seat].act, observation, action_mask=mask)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise AgentFault("error", format_exception(exc), seat=seat) from None
        elapsed = time.perf_counter() - t0
        if elapsed > timeout_s:
            raise AgentFault(
                "timeout", f"act took {elapsed:.3f}s, limit {timeout_s:.3f}s", seat=seat
            )
        return action

    def end_match(self) -> str:
        for agent in self.agents.values():
            close = getattr(agent, "close", None)
            if callable(close):
                with contextlib.suppress(BaseException):
                    self._call(close)
        self.agents = {}
        return self.sink.getvalue() if self.sink is not None else ""

    def close(self) -> None:
        self.agents = {}


class HostPool:
    """One host per agent source, kept for a series of matches, closed at the end.

    Sandboxed workers start once per pool (imports done before any clock starts)
    and give every match fresh agent instances in a fresh process.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._hosts: dict[tuple[int, int], Host] = {}

    def host(self, source: AgentSource, index: int = 0) -> Host:
        """The host of ``source``; ``index`` tells apart copies of it in one match."""
        key = (id(source), index)
        host = self._hosts.get(key)
        if host is None:
            if source.builtin is None and self.limits.sandbox:
                from arena.sandbox.host import SandboxHost

                host = SandboxHost(source, self.limits)
            else:
                host = InProcessHost(source, self.limits)
            self._hosts[key] = host
        return host

    def pause_except(self, active: Sequence[Host]) -> None:
        """Freeze every sandbox of the pool that does not play the coming match."""
        for host in self._hosts.values():
            if isinstance(host, Pausable) and not any(host is a for a in active):
                host.pause()

    def attach(self, source: AgentSource, host: Host) -> None:
        """Serve ``source`` from ``host`` (e.g. a person at the terminal) instead of
        a host chosen by trust."""
        self._hosts[(id(source), 0)] = host

    def load(self, source: AgentSource) -> None:
        """Import ``source`` where it will play, before any match or database write.

        Raises:
            ArenaError: the import failed; the message's first line says why and
                ``detail`` holds the package's traceback.
        """
        try:
            self.host(source).load()
        except AgentFault as fault:
            first, _, _ = fault.message.partition("\n")
            raise ArenaError(
                f"agent '{source.label}' ({source.package_dir}): {first} "
                "(run with -v for the traceback)",
                detail=fault.message,
            ) from None

    def close(self) -> None:
        for host in self._hosts.values():
            with contextlib.suppress(Exception):
                host.close()
        self._hosts.clear()

    def __enter__(self) -> HostPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
