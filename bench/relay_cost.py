"""What a relay process would cost each act: direct socketpair versus one hop through a relay.

docs/sandbox.md weighs moving agent code out of the process that holds the
arena's channel: a trusted relay would forward each request to the agent's
process and each reply back. This measures the price of that extra hop on the
act path alone, with the sizes of a connect-four act (about 300 bytes out, 30
back), between real processes on this machine:

- **direct**: the arena's end <-> the agent's process (today's sandbox);
- **relay**: the arena's end <-> a relay process <-> the agent's process, the
  relay copying whole frames both ways with ``select`` (the least it could do).

Each row is the best of ``--repeats`` blocks of ``--rounds`` round trips,
interleaved, mean and p50 in microseconds, and the ratio relay / direct.

Usage::

    .venv/bin/python bench/relay_cost.py [--rounds 5000] [--repeats 3] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import select
import signal
import socket
import statistics
import time

from results import write_section  # bench/ is the script's folder, first on sys.path

REQUEST, REPLY = b"q" * 300, b"r" * 30


def _echo(sock: socket.socket) -> None:
    """The agent: answer every request with a reply, until the channel closes."""
    while True:
        data = sock.recv(1 << 16)
        if not data:
            os._exit(0)
        sock.sendall(REPLY)


def _relay(outer: socket.socket, inner: socket.socket) -> None:
    """Forward bytes both ways between the arena's end and the agent's."""
    while True:
        ready, _, _ = select.select([outer, inner], [], [])
        for src, dst in ((outer, inner), (inner, outer)):
            if src in ready:
                data = src.recv(1 << 16)
                if not data:
                    os._exit(0)
                dst.sendall(data)


def _spawn(target: object, *socks: socket.socket) -> int:
    pid = os.fork()
    if pid == 0:
        target(*socks)  # type: ignore[operator]
        os._exit(0)
    return pid


def _block(sock: socket.socket, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        sock.sendall(REQUEST)
        got = 0
        while got < len(REPLY):
            got += len(sock.recv(1 << 16))
        times.append(time.perf_counter() - t0)
    return times


def measure(rounds: int, repeats: int) -> dict[str, list[float]]:
    arena_d, agent_d = socket.socketpair()
    direct = [_spawn(_echo, agent_d)]
    agent_d.close()
    arena_r, relay_outer = socket.socketpair()
    relay_inner, agent_r = socket.socketpair()
    relayed = [_spawn(_echo, agent_r), _spawn(_relay, relay_outer, relay_inner)]
    for s in (relay_outer, relay_inner, agent_r):
        s.close()
    best: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, sock in (("direct", arena_d), ("relay", arena_r)):
            block = _block(sock, rounds)
            if name not in best or statistics.fmean(block) < statistics.fmean(best[name]):
                best[name] = block
    for pid in direct + relayed:  # they share each other's fds: no EOF to wait for
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    for sock in (arena_d, arena_r):
        sock.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="store the table in RESULTS.md")
    args = parser.parse_args()
    best = measure(args.rounds, args.repeats)
    base = statistics.fmean(best["direct"])
    lines = [
        f"{args.rounds} round trips of {len(REQUEST)} B / {len(REPLY)} B, best of "
        f"{args.repeats} interleaved blocks.",
        "",
        "| path | mean µs | p50 µs | x direct |",
        "| --- | --- | --- | --- |",
    ]
    for name, times in best.items():
        mean = statistics.fmean(times)
        p50 = statistics.median(times)
        lines.append(f"| {name} | {mean * 1e6:.1f} | {p50 * 1e6:.1f} | {mean / base:.2f} |")
    added = (statistics.fmean(best["relay"]) - base) * 1e6
    lines += ["", f"A relay adds {added:.1f} µs to every act."]
    body = "\n".join(lines)
    print(body)
    if args.write:
        machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
        write_section("relay cost", machine, body)


if __name__ == "__main__":
    main()
