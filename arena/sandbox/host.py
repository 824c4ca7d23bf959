"""The arena's side of a sandboxed package: start the worker, talk to it, kill it.

One worker per package per series of matches: it starts (and imports the
package) once, and each match runs in a fresh child process of it. While waiting
for a reply the host also drains the agent's stdout and stderr, keeping the
first 64 KiB of each match, so an agent that floods its output never blocks.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from arena.faults import AgentFault
from arena.limits import Limits
from arena.protocol import AgentContext
from arena.sandbox import cgroups
from arena.sandbox.channel import (
    HEADER,
    MAX_REPLY,
    MAX_TRACEBACK,
    ChannelClosed,
    ChannelTimeout,
    ProtocolViolation,
    decode_action,
    parse_frame,
    send_message_by,
)
from arena.sandbox.isolation import (
    UID_BASE,
    UID_SPAN,
    in_cgroups_command,
    probe,
    say_missing,
    unreadable_for_others,
    warn_once,
    worker_command,
    worker_env,
)
from arena.sources import OUTPUT_LIMIT, AgentSource
from arena.textsafe import clean_text

END_GRACE_S = 2.0  # how long a match child may take to close its agents
WORKER_BOOT_S = 60.0  # a worker's own start-up, before the package is imported
CPU_CHECK_S = 0.25  # how often a match's CPU time is read from the cgroup
_uids = itertools.count()
_stale_removed = False


def _seccomp_missing(boot: dict[str, Any]) -> str | None:
    """Why a worker has no unix-socket filter, or None; said once per process."""
    reason = boot.get("seccomp")
    if not isinstance(reason, str):
        return None
    reason = clean_text(" ".join(reason.split()), limit=300)
    say_missing([f"unix-socket filter: {reason}"])
    return reason


def _next_uid() -> int:
    """A user id of its own for each worker, so workers cannot signal each other."""
    return UID_BASE + (os.getpid() * 131 + next(_uids)) % UID_SPAN


def _remove_stale_once() -> None:
    """At the first sandbox of this process, delete cgroups that dead arenas left."""
    global _stale_removed
    if not _stale_removed:
        _stale_removed = True
        with contextlib.suppress(OSError):
            cgroups.remove_stale()


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class SandboxHost:
    """Runs one package in a sandboxed worker process tree.

    The trust boundary: this host believes nothing the worker says except the
    answer to the request it just made, for one of its own seats. A fault is
    charged to the seat it asked about (or, during set-up, to one of its own
    seats), never to a seat the reply names; every reply is parsed
    defensively and every text from it is cleaned before it goes anywhere.
    """

    def __init__(self, source: AgentSource, limits: Limits) -> None:
        assert source.manifest is not None and source.package_dir is not None
        self.source = source
        self.limits = limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.group: cgroups.SandboxGroup | None = None
        self.load_fault: AgentFault | None = None
        self.seccomp_missing: str | None = None  # why the worker has no seccomp filter
        self.child_pid: int | None = None
        self.in_match = False
        self.seats: tuple[str, ...] = ()
        self._end_pending = False  # the worker's "ended" for the last match is still to read
        self._cpu_start: float | None = None
        self._cpu_checked = 0.0
        self._oom_start = 0
        self._inbox = bytearray()
        self._output = bytearray()
        self._load_output = b""

    # -- process ---------------------------------------------------------------------

    def _start(self) -> None:
        isolation = probe()
        warn_once(isolation)
        _remove_stale_once()
        assert self.source.package_dir is not None
        if isolation.drop_uid:
            closed = unreadable_for_others(self.source.package_dir)
            if closed is not None:
                raise AgentFault(
                    "error",
                    f"'{closed[0]}' in {self.source.package_dir} is not readable by other users "
                    f"(mode {closed[1]:o}); sandboxed agents run under a user id of their own: "
                    f"chmod -R o+rX {self.source.package_dir}",
                )
        parent, child = socket.socketpair()
        if isolation.cgroups:
            self.group = cgroups.SandboxGroup.create(
                memory_mb=self.limits.memory_mb,
                cpus=self.limits.cpus,
                max_processes=self.limits.max_processes,
            )
        accounted = self.group is not None and self.group.accounts_memory
        memory = 0 if accounted else self.limits.memory_mb
        args = ["--fd", str(child.fileno()), "--memory-mb", str(memory)]
        if self.group is None:
            args += ["--max-processes", str(self.limits.max_processes)]
        assert self.source.package_dir is not None
        command = worker_command(
            isolation, args, uid=_next_uid(), package_dir=self.source.package_dir.resolve()
        )
        if self.group is not None:
            command = in_cgroups_command(self.group.procs_files(), command)
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=[child.fileno()],
            start_new_session=True,
            env=worker_env({}),
            cwd="/",
        )
        child.close()
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        clock = "starting up"
        self.sock = parent
        self._inbox.clear()
        self._output.clear()
        manifest = self.source.manifest
        assert manifest is not None
        try:
            # The worker's own start-up (Python, numpy, gymnasium) is not the agent's time.
            boot = self._reply(time.monotonic() + WORKER_BOOT_S)
            self.seccomp_missing = _seccomp_missing(boot)
            clock = "importing the package"
            deadline = time.monotonic() + self.limits.init_timeout_s
            package = str(self.source.package_dir)
            self._send({"op": "load", "package_dir": package, "entry": manifest.entry}, deadline)
            reply = self._reply(deadline)
        except _Timeout:
            self._kill()
            limit = (
                f"{WORKER_BOOT_S}s"
                if clock == "starting up"
                else (f"{self.limits.init_timeout_s}s (init_timeout_s)")
            )
            raise AgentFault("timeout", f"{clock} took over {limit}") from None
        except (_Closed, ProtocolViolation, OSError) as exc:
            note = self._memory_note()
            status = self._kill()
            said = clean_text(bytes(self._output)).strip()[-2000:]
            raise AgentFault(
                "crash",
                f"the worker died while {clock} ({status}{f': {exc}' if str(exc) else ''})"
                + note
                + (f"; it printed:\n{said}" if said else ""),
            ) from None
        self._load_output = bytes(self._output)
        if "error" in reply:
            summary = " ".join(clean_text(reply.get("message", ""), limit=500).splitlines())
            trace = clean_text(reply["error"], limit=MAX_TRACEBACK)
            self.load_fault = AgentFault(
                "error", f"importing '{manifest.module}' failed: {summary}\n{trace}"
            )
        elif "crash" in reply:
            self.load_fault = AgentFault("crash", clean_text(reply["crash"]) + self._memory_note())

    def _settle(self) -> None:
        """Read the worker's word that the last match is cleaned up (its child and
        everything it started are gone); a worker that does not say so is killed."""
        if not self._end_pending:
            return
        self._end_pending = False
        try:
            self._reply(time.monotonic() + END_GRACE_S)
        except (_Timeout, _Closed, ProtocolViolation, OSError):
            self._kill()

    def pause(self) -> None:
        """Freeze the sandbox while matches it does not play run (where cgroups allow).

        Called by the host pool when a match starts without this host, so nothing
        an entrant started (an import-time thread, a child in its own session)
        runs during other entrants' matches.
        """
        if self._alive() and self.group is not None:
            self._settle()
            if self.group is not None:
                self.group.freeze()

    def _resume(self) -> None:
        if self.group is not None:
            self.group.thaw()

    def _memory_note(self) -> str:
        """``; it ran out of memory ...`` when the kernel killed something here for memory."""
        if self.group is not None and self.group.oom_kills() > self._oom_start:
            return (
                f"; it ran out of memory (memory_mb = {self.limits.memory_mb} MiB "
                "for all its processes together)"
            )
        return ""

    def _kill(self) -> str:
        """Kill the worker and everything it started; return how it ended."""
        status = "killed"
        if self.group is not None:
            self.group.kill()
        elif self.child_pid is not None and not probe().namespaces:
            # Without a PID namespace the match child has a session of its own.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.child_pid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout=10)
                status = f"exit status {code}"
            if self.proc.stdout is not None:
                self._drain()
                self.proc.stdout.close()
        if self.sock is not None:
            self.sock.close()
        if self.group is not None:
            self.group.remove()
            self.group = None
        self.proc = self.sock = None
        self.child_pid = None
        self.in_match = False
        self._end_pending = False
        return status

    def _alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- channel ---------------------------------------------------------------------

    def _drain(self) -> None:
        """Read what the agent printed; keep the first OUTPUT_LIMIT bytes of a match."""
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            except (BlockingIOError, ValueError, OSError):
                return
            if not chunk:
                return
            room = OUTPUT_LIMIT - len(self._output)
            if room > 0:
                self._output += chunk[:room]

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        assert self.sock is not None
        try:
            send_message_by(self.sock, message, deadline)
        except ChannelTimeout:
            raise _Timeout from None
        except ChannelClosed:
            raise _Closed from None

    def _reply(self, deadline: float) -> dict[str, Any]:
        """The worker's next reply, draining its output while waiting."""
        assert self.sock is not None and self.proc is not None and self.proc.stdout is not None
        out_fd = self.proc.stdout.fileno()
        watch: list[Any] = [self.sock, out_fd]
        while True:
            if len(self._inbox) >= HEADER.size:
                (size,) = HEADER.unpack_from(self._inbox)
                if size > MAX_REPLY:
                    raise ProtocolViolation(f"frame of {size} bytes exceeds {MAX_REPLY}")
                if len(self._inbox) >= HEADER.size + size:
                    payload = bytes(self._inbox[HEADER.size : HEADER.size + size])
                    del self._inbox[: HEADER.size + size]
                    return parse_frame(payload)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            ready, _, _ = select.select(watch, [], [], remaining)
            if out_fd in ready:
                self._drain()
            if self.sock in ready:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise _Closed
                self._inbox += chunk

    def _request(self, message: dict[str, Any], deadline: float, seat: str) -> dict[str, Any]:
        """Send a request about ``seat`` and wait; every failure is that seat's AgentFault."""
        try:
            self._send(message, deadline)
            reply = self._reply(deadline)
        except _Timeout:
            self._kill()
            raise AgentFault("timeout", "no answer in time", seat=seat) from None
        except (_Closed, OSError):
            memory = self._memory_note()
            status = self._kill()
            raise AgentFault(
                "crash", f"the agent's process died ({status}){memory}", seat=seat
            ) from None
        except ProtocolViolation as exc:
            self._kill()
            raise AgentFault(
                "crash", f"the agent broke the sandbox protocol: {exc}", seat=seat
            ) from None
        if "crash" in reply:
            self.in_match = False
            self._end_pending = False
            text = clean_text(reply["crash"], limit=2000) + self._memory_note()
            raise AgentFault("crash", text, seat=seat)
        if "error" in reply:
            raise AgentFault("error", clean_text(reply["error"], limit=MAX_TRACEBACK), seat=seat)
        self._check_budget(seat)
        return reply

    def _check_budget(self, seat: str) -> None:
        """The whole tree against its budgets, from the cgroup: CPU time in this match
        against ``cpu_time_s``, and no process of it killed for memory (a forked
        child counts as much as the agent's own process)."""
        if self.group is None or self._cpu_start is None:
            return
        # Reading the cgroup costs tens of microseconds: look at most every CPU_CHECK_S.
        now = time.monotonic()
        if now - self._cpu_checked < CPU_CHECK_S:
            return
        self._cpu_checked = now
        used = self.group.cpu_seconds()
        if used is not None and used - self._cpu_start > self.limits.cpu_time_s:
            self._kill()
            raise AgentFault(
                "crash",
                f"the agent's processes used {used - self._cpu_start:.1f} CPU seconds in this "
                f"match, over cpu_time_s = {self.limits.cpu_time_s}",
                seat=seat,
            )
        if self.group.oom_kills() > self._oom_start:
            self._kill()
            raise AgentFault(
                "crash",
                f"a process of the agent was killed for memory: memory_mb = "
                f"{self.limits.memory_mb} MiB is for all its processes together",
                seat=seat,
            )

    # -- Host protocol ---------------------------------------------------------------

    def load(self) -> None:
        if not self._alive():
            self._kill()
            self._start()
        if self.load_fault is not None:
            raise AgentFault(self.load_fault.reason, self.load_fault.message)

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        first = contexts[0].agent_id
        self.seats = tuple(ctx.agent_id for ctx in contexts)
        if not self._alive():
            self._kill()
            try:
                self._start()
            except AgentFault as fault:
                fault.seat = first
                raise
        if self.load_fault is not None:
            raise AgentFault(self.load_fault.reason, self.load_fault.message, seat=first)
        self._resume()
        self._settle()
        if not self._alive():
            return self.start_match(contexts)  # the last match's clean-up failed: a new worker
        self._output[:] = self._load_output
        self._load_output = b""
        if self.group is not None:
            self._cpu_start = self.group.cpu_seconds()
            self._oom_start = self.group.oom_kills()
            self._cpu_checked = 0.0  # check at the set-up's answer and the first act
        deadline = time.monotonic() + self.limits.init_timeout_s
        message = {
            "op": "match",
            "contexts": list(contexts),
            "cpu_time_s": self.limits.cpu_time_s,
            "reuse": self.limits.reuse_process,
        }
        try:
            reply = self._request(message, deadline, first)
        except AgentFault as fault:
            if fault.reason == "timeout":
                fault.message = f"set-up took over {self.limits.init_timeout_s}s (init_timeout_s)"
            raise
        self.in_match = True
        pid = reply.get("pid")
        self.child_pid = pid if isinstance(pid, int) and pid > 1 else None

    def act(self, seat: str, observation: Any, mask: Any, timeout_s: float) -> Any:
        if seat not in self.seats:
            raise AgentFault("crash", f"seat {seat!r} is not played by this sandbox", seat=seat)
        deadline = time.monotonic() + timeout_s
        message = {"op": "act", "seat": seat, "observation": observation, "mask": mask}
        try:
            reply = self._request(message, deadline, seat)
        except AgentFault as fault:
            if fault.reason == "timeout":
                fault.message = f"act took over {timeout_s:.3f}s (the move time limit)"
            raise
        if "action" not in reply:
            self._kill()
            raise AgentFault("crash", "the agent broke the sandbox protocol: no action", seat=seat)
        try:
            return decode_action(reply["action"])
        except ProtocolViolation as exc:
            self._kill()
            raise AgentFault(
                "crash", f"the agent broke the sandbox protocol: {exc}", seat=seat
            ) from None

    def end_match(self) -> str:
        if self.in_match and self._alive() and self.seats:
            try:
                self._request({"op": "end"}, time.monotonic() + END_GRACE_S, self.seats[0])
                # The worker says so once the match child and its leftovers are gone;
                # read at the next start or pause, so the clean-up overlaps other work.
                self._end_pending = not self.limits.reuse_process
            except AgentFault:
                self._kill()
        self.in_match = False
        self.child_pid = None
        self._cpu_start = None
        if self._alive():
            self._drain()
        text = clean_text(bytes(self._output), limit=OUTPUT_LIMIT)
        self._output.clear()
        return text

    def close(self) -> None:
        if self._alive() and self.sock is not None:
            self._resume()
            with contextlib.suppress(_Timeout, _Closed, OSError):
                self._send({"op": "quit"}, time.monotonic() + 0.5)
        self._kill()


def sandbox_summary() -> str:
    """One line saying how sandboxed packages run here (for ``arena agent check``)."""
    isolation = probe()
    if isolation.namespaces:
        applied = ["a root of its own (bubblewrap)", "no network", "PID namespace"]
        applied.append("dropped user id" if isolation.drop_uid else "capabilities dropped")
        if isolation.cgroups:
            applied.append("memory, CPU and process caps per sandbox, frozen between matches")
        return "sandbox: " + ", ".join(applied)
    return "sandbox: resource limits and process-group cleanup only"
