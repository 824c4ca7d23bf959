"""The sandboxed worker: imports one package, then serves its matches.

Started by :mod:`arena.sandbox.host` (inside namespaces where the OS allows it)
as ``python -m arena.sandbox.worker --fd N``. It imports the package once, before
any clock starts. For every match it forks a child in a session of its own that
builds the agents, answers ``act`` requests and exits; the worker then kills
whatever the child left behind. If the child dies, the worker reports how.

Messages in (pickled dicts): ``load``, ``match``, ``act``, ``end``.
Replies out (JSON): ``{"ok": ...}``, ``{"action": ...}``, ``{"error": ...}``,
``{"crash": ...}``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import resource
import signal
import socket
import sys
import time
import traceback
from typing import Any

from arena.sandbox.channel import (
    MAX_TRACEBACK,
    ChannelClosed,
    recv_message,
    send_action,
    send_reply,
)
from arena.sandbox.seccomp import install_filter

MEMORY_EXIT = 86  # the child ran out of memory (MemoryError under RLIMIT_AS)
QUIT_EXIT = 87  # a pre-forked child was told to quit, not to play
DONE_EXIT = 0


def _traceback() -> str:
    return traceback.format_exc()[-MAX_TRACEBACK:]


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux), so no level outlives the arena."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0))  # PR_SET_PDEATHSIG  # fmt: skip


def _set_limits(memory_mb: int, max_processes: int | None) -> None:
    # With a memory cgroup (memory_mb 0 here) the whole tree shares one budget;
    # RLIMIT_AS would only refuse the large virtual reservations some libraries make.
    if memory_mb > 0:
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if max_processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))


def _load(package_dir: str, entry: str) -> Any:
    module_name, _, attr = entry.partition(":")
    sys.path.insert(0, package_dir)
    module = importlib.import_module(module_name)
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise AttributeError(f"module '{module_name}' has no callable '{attr}'")
    return factory


def _serve_matches(
    chan: socket.socket, factory: Any, message: dict[str, Any], *, own_namespace: bool
) -> None:
    """In the match child: serve this match, and with ``reuse`` the next ones too.

    Reusing the child skips a fork per match (much faster for short games) at the
    price of module state surviving between matches; leftovers are still killed
    after every match when the worker owns a PID namespace.
    """
    while True:
        _serve_match(chan, factory, message, own_namespace=own_namespace)
        if not message.get("reuse"):
            return
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        message = recv_message(chan)
        if message["op"] != "match":
            return


def _serve_match(
    chan: socket.socket, factory: Any, message: dict[str, Any], *, own_namespace: bool
) -> None:
    """Build the match's agents, then answer until ``end``."""
    cpu = float(message["cpu_time_s"])
    if message.get("reuse"):
        # CPU seconds are cumulative in a reused process: the cap is this match's share.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime + cpu) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
    else:
        resource.setrlimit(resource.RLIMIT_CPU, (max(1, int(cpu)), max(1, int(cpu)) + 1))
    agents: dict[str, Any] = {}
    for ctx in message["contexts"]:
        try:
            agent = factory(ctx)
            agent.reset(seed=ctx.seed)
        except MemoryError:
            os._exit(MEMORY_EXIT)
        except BaseException:
            send_reply(chan, {"error": _traceback(), "seat": ctx.agent_id})
            return
        agents[ctx.agent_id] = agent
    send_reply(chan, {"ok": True, "pid": os.getpid()})
    while True:
        request = recv_message(chan)
        op = request["op"]
        if op == "act":
            try:
                action = agents[request["seat"]].act(
                    request["observation"], action_mask=request["mask"]
                )
            except MemoryError:
                os._exit(MEMORY_EXIT)
            except BaseException:
                send_reply(chan, {"error": _traceback()})
                continue
            send_action(chan, action)
        elif op == "end":
            for agent in agents.values():
                close = getattr(agent, "close", None)
                if callable(close):
                    with contextlib.suppress(BaseException):
                        close()
            if message.get("reuse") and own_namespace:
                # Before the answer: the arena freezes the sandbox once it has it.
                # Not PID 1, kill(-1) reaches every other process but ourselves and
                # the worker, so nothing the match started survives it.
                _kill_the_rest({os.getpid()})
            send_reply(chan, {"ok": True})
            return


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU:
            return "the agent's process exceeded its CPU time limit (SIGXCPU)"
        return f"the agent's process was killed by signal {name}"
    code = os.WEXITSTATUS(status)
    if code == MEMORY_EXIT:
        return "the agent's process ran out of memory (memory limit)"
    return f"the agent's process exited with code {code}"


GONE_S = 2.0  # how long killed leftovers may take to exit


def _others_running(keep: set[int]) -> bool:
    """Whether a process other than ``keep`` still runs in our PID namespace (zombies aside)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in keep:
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in (b"Z", b"X"):
                return True
    return False


def _kill_the_rest(keep: set[int]) -> None:
    """SIGKILL every process of our PID namespace but ``keep`` (and PID 1), and wait
    until they are gone: the arena freezes the sandbox next, and in a frozen
    cgroup a pending SIGKILL would not land until the next match."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    deadline = time.monotonic() + GONE_S
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if not _others_running(keep | {1}):
            return
        time.sleep(0.001)


def _reap_everything(child: int) -> None:
    """Kill whatever the match left running, then collect it."""
    if os.getpid() == 1:
        # PID 1 of our own PID namespace: kill(-1) reaches every other process in
        # it, including children that left the match's session.
        _kill_the_rest({1})
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child, signal.SIGKILL)
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--max-processes", type=int, default=None)
    args = parser.parse_args(argv)
    chan = socket.socket(fileno=args.fd)
    _set_limits(args.memory_mb, args.max_processes)
    _die_with_parent()
    # The kernel surface shrinks from here on, in every thread and child (see seccomp.py).
    seccomp = install_filter()
    # Contexts carry gymnasium spaces: import it now, before any clock starts.
    import gymnasium  # noqa: F401

    send_reply(chan, {"ok": "ready", "seccomp": seccomp})
    # Agents must not get the arena's signals (Ctrl-C goes to the arena only).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    factory = None
    while factory is None:
        try:
            message = recv_message(chan)
        except (EOFError, ConnectionError, OSError, ChannelClosed):
            return
        if not message or message["op"] != "load":
            return
        try:
            os.chdir(message["package_dir"])
            factory = _load(message["package_dir"], message["entry"])
            send_reply(chan, {"ok": True})
        except MemoryError:
            send_reply(chan, {"crash": "the agent's process ran out of memory while importing"})
            return
        except BaseException as exc:
            summary = f"{type(exc).__name__}: {exc}"[:500]
            send_reply(chan, {"error": _traceback(), "message": summary})
    _serve_forever(chan, factory)


def _serve_forever(chan: socket.socket, factory: Any) -> None:
    """Fork the next match's child ahead of time, let it serve the match, clean up, repeat.

    The child is forked as soon as the previous match is cleaned up, so its cost
    (copying a Python process with numpy and the package loaded: milliseconds)
    overlaps with the arena's own work between matches instead of delaying the
    next match. The child reads the next message itself: ``match`` starts it,
    anything else (``quit``) ends the worker.
    """
    own_namespace = os.getpid() == 1
    while True:
        done_r, done_w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(done_r)
            os.setsid()
            _die_with_parent()
            try:
                message = recv_message(chan)
            except BaseException:
                os._exit(QUIT_EXIT)
            if not message or message.get("op") != "match":
                os._exit(QUIT_EXIT)
            try:
                _serve_matches(chan, factory, message, own_namespace=own_namespace)
                os.write(done_w, b"d")
            finally:
                os._exit(DONE_EXIT)
        os.close(done_w)
        _, status = os.waitpid(child, 0)
        finished = os.read(done_r, 1) == b"d"
        os.close(done_r)
        _reap_everything(child)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == QUIT_EXIT and not finished:
            return
        # Said after the reaping: the arena may freeze the sandbox once it has this.
        send_reply(chan, {"ended": True} if finished else {"crash": _describe(status)})


if __name__ == "__main__":
    main()
