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
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arena.faults import AgentFault
from arena.limits import Limits
from arena.protocol import AgentContext
from arena.sandbox.channel import (
    HEADER,
    MAX_REPLY,
    MAX_TRACEBACK,
    ProtocolViolation,
    decode_action,
    parse_reply,
    send_message,
)
from arena.sandbox.isolation import PIDS_CGROUP, probe, warn_once, worker_command
from arena.sources import OUTPUT_LIMIT, AgentSource

END_GRACE_S = 2.0  # how long a match child may take to close its agents
WORKER_BOOT_S = 60.0  # a worker's own start-up, before the package is imported
_uids = itertools.count()
_seccomp_warned = False


def _seccomp_missing(boot: dict[str, Any]) -> str | None:
    """Why a worker has no unix-socket filter, or None; said once per process."""
    global _seccomp_warned
    reason = boot.get("seccomp")
    if not isinstance(reason, str):
        return None
    reason = " ".join(reason.split())[:300]
    if not _seccomp_warned:
        _seccomp_warned = True
        sys.stderr.write(f"sandbox: not applied: unix-socket filter: {reason}\n")
    return reason


def _next_uid() -> int:
    """A user id of its own for each worker, so workers cannot signal each other."""
    return 200_000 + (os.getpid() * 131 + next(_uids)) % 100_000


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class SandboxHost:
    """Runs one package in a sandboxed worker process tree."""

    def __init__(self, source: AgentSource, limits: Limits) -> None:
        assert source.manifest is not None and source.package_dir is not None
        self.source = source
        self.limits = limits
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.cgroup: Path | None = None
        self.load_fault: AgentFault | None = None
        self.seccomp_missing: str | None = None  # why the worker has no unix-socket filter
        self.child_pid: int | None = None
        self.in_match = False
        self._inbox = bytearray()
        self._output = bytearray()
        self._load_output = b""

    # -- process ---------------------------------------------------------------------

    def _start(self) -> None:
        isolation = probe()
        warn_once(isolation)
        parent, child = socket.socketpair()
        args = ["--fd", str(child.fileno()), "--memory-mb", str(self.limits.memory_mb)]
        if isolation.drop_uid and not isolation.pids_cgroup:
            args += ["--max-processes", str(self.limits.max_processes)]
        assert self.source.package_dir is not None
        command, extra_env = worker_command(
            isolation,
            args,
            uid=_next_uid(),
            package_dir=self.source.package_dir.resolve(),
            channel_fd=child.fileno(),
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            **extra_env,
        }
        if isolation.pids_cgroup:
            self.cgroup = PIDS_CGROUP / f"arena-{os.getpid()}-{next(_uids)}"
            self.cgroup.mkdir()
            (self.cgroup / "pids.max").write_text(str(self.limits.max_processes))
            env["ARENA_CGROUP"] = str(self.cgroup)
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=[child.fileno()],
            start_new_session=True,
            env=env,
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
            send_message(parent, {"op": "load", "package_dir": package, "entry": manifest.entry})
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
            status = self._kill()
            said = bytes(self._output).decode(errors="replace").strip()[-2000:]
            raise AgentFault(
                "crash",
                f"the worker died while {clock} ({status}{f': {exc}' if str(exc) else ''})"
                + (f"; it printed:\n{said}" if said else ""),
            ) from None
        self._load_output = bytes(self._output)
        if "error" in reply:
            summary = " ".join(str(reply.get("message", "")).splitlines())
            trace = str(reply["error"])[-MAX_TRACEBACK:]
            self.load_fault = AgentFault(
                "error", f"importing '{manifest.module}' failed: {summary}\n{trace}"
            )
        elif "crash" in reply:
            self.load_fault = AgentFault("crash", str(reply["crash"]))

    def _kill(self) -> str:
        """Kill the worker and everything it started; return how it ended."""
        status = "killed"
        if self.child_pid is not None and not probe().namespaces:
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
        if self.cgroup is not None:
            for _ in range(50):
                try:
                    self.cgroup.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
            self.cgroup = None
        self.proc = self.sock = None
        self.child_pid = None
        self.in_match = False
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
                    return parse_reply(payload)
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

    def _request(
        self, message: dict[str, Any], deadline: float, seat: str | None
    ) -> dict[str, Any]:
        """Send a request and wait; every failure becomes an AgentFault."""
        try:
            assert self.sock is not None
            send_message(self.sock, message)
            reply = self._reply(deadline)
        except _Timeout:
            self._kill()
            raise AgentFault("timeout", "no answer in time", seat=seat) from None
        except (_Closed, OSError):
            status = self._kill()
            raise AgentFault("crash", f"the agent's process died ({status})", seat=seat) from None
        except ProtocolViolation as exc:
            self._kill()
            raise AgentFault(
                "crash", f"the agent broke the sandbox protocol: {exc}", seat=seat
            ) from None
        if "crash" in reply:
            self.in_match = False
            raise AgentFault("crash", str(reply["crash"]), seat=seat)
        if "error" in reply:
            raise AgentFault(
                "error", str(reply["error"])[-MAX_TRACEBACK:], seat=str(reply.get("seat", seat))
            )
        return reply

    # -- Host protocol ---------------------------------------------------------------

    def load(self) -> None:
        if not self._alive():
            self._kill()
            self._start()
        if self.load_fault is not None:
            raise AgentFault(self.load_fault.reason, self.load_fault.message)

    def start_match(self, contexts: Sequence[AgentContext]) -> None:
        first = contexts[0].agent_id
        if not self._alive():
            self._kill()
            try:
                self._start()
            except AgentFault as fault:
                fault.seat = first
                raise
        if self.load_fault is not None:
            raise AgentFault(self.load_fault.reason, self.load_fault.message, seat=first)
        self._output[:] = self._load_output
        self._load_output = b""
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
        except (ProtocolViolation, ValueError, TypeError) as exc:
            self._kill()
            raise AgentFault(
                "crash", f"the agent broke the sandbox protocol: {exc}", seat=seat
            ) from None

    def end_match(self) -> str:
        if self.in_match and self._alive():
            try:
                self._request({"op": "end"}, time.monotonic() + END_GRACE_S, None)
            except AgentFault:
                self._kill()
        self.in_match = False
        self.child_pid = None
        if self._alive():
            self._drain()
        text = bytes(self._output).decode("utf-8", errors="replace")
        self._output.clear()
        return text

    def close(self) -> None:
        if self._alive() and self.sock is not None:
            with contextlib.suppress(OSError):
                send_message(self.sock, {"op": "quit"})
        self._kill()


def sandbox_summary() -> str:
    """One line saying how sandboxed packages run here (for ``arena agent check``)."""
    isolation = probe()
    if isolation.namespaces:
        applied = ["network, mount and PID namespaces", "read-only file system", "private /tmp"]
        applied.append("dropped user id" if isolation.drop_uid else "capabilities dropped")
        if isolation.pids_cgroup:
            applied.append("process cap (cgroup)")
        return "sandbox: " + ", ".join(applied)
    return "sandbox: resource limits and process-group cleanup only"
