"""Tries to make the arena believe the opponent failed.

It lists /proc/self/fd, keeps every socket and pipe, and writes to each frames
in the shapes a sandbox protocol probably uses (4-byte big-endian length + JSON,
and newline-delimited JSON) claiming an error, a crash or a timeout of the other
seat(s). Then it plays the first legal move.

When it does this is in ``phase.txt`` next to this file: a comma-separated list
of ``import``, ``make``, ``reset``, ``act`` (default ``make,reset,act``).
"""

import json
import os
import select
import socket
import stat
from pathlib import Path

_PHASE_FILE = Path(__file__).resolve().with_name("phase.txt")
PHASES = set(
    (_PHASE_FILE.read_text() if _PHASE_FILE.exists() else "make,reset,act").strip().split(",")
)
SEATS = ("player_0", "player_1", "player_2")


def _fds():
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            mode = os.fstat(int(name)).st_mode
        except OSError:
            continue
        if stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode):
            found.append((int(name), stat.S_ISSOCK(mode)))
    return found


def _frames(victims):
    frames = []
    for victim in victims:
        for message in (
            {"error": f"FORGED-BY-HOSTILE: {victim} raised", "seat": victim},
            {"crash": f"FORGED-BY-HOSTILE: {victim} crashed", "seat": victim},
            {"error": "FORGED-BY-HOSTILE", "message": "FORGED-BY-HOSTILE", "seat": victim},
            {"timeout": "FORGED-BY-HOSTILE", "seat": victim},
            {"forfeit": "crash", "reason": "crash", "seat": victim, "agent_id": victim},
        ):
            body = json.dumps(message).encode()
            frames.append(len(body).to_bytes(4, "big") + body)
    for victim in victims:
        body = json.dumps({"crash": "FORGED-BY-HOSTILE", "seat": victim}).encode()
        frames.append(body + b"\n")
    return frames


def forge(victims):
    """Write every forged frame to every fd that takes it without blocking."""
    wrote = 0
    for fd, is_socket in _fds():
        for frame in _frames(victims):
            try:
                if is_socket:
                    sock = socket.socket(fileno=os.dup(fd))
                    try:
                        sock.send(frame, socket.MSG_DONTWAIT)
                    finally:
                        sock.close()
                else:
                    _, ready, _ = select.select([], [fd], [], 0)
                    if not ready:
                        break
                    os.write(fd, frame)
                wrote += 1
            except OSError:
                break
    return wrote


if "import" in PHASES:
    forge(SEATS)


class Agent:
    def __init__(self, ctx):
        self.victims = [s for s in SEATS if s != ctx.agent_id]

    def reset(self, *, seed=None):
        if "reset" in PHASES:
            forge(self.victims)

    def act(self, observation, *, action_mask=None):
        if "act" in PHASES:
            forge(self.victims)
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    agent = Agent(ctx)
    if "make" in PHASES:
        forge(agent.victims)
    return agent
