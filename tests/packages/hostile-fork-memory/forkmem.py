"""Splits a big allocation over forked children, each under a per-process cap.

In reset (set-up time, not a move's) it forks ``N`` (4) children; each fills 0.6 x memory_mb MiB
(``memory_mb.txt`` next to this file, default 512) and holds it, sleeping. The
agent waits until they say so (or die) and plays on.
"""

import os
import select
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
MEMORY_MB = (
    int((_HERE / "memory_mb.txt").read_text()) if (_HERE / "memory_mb.txt").exists() else 512
)
N = 4
EACH = int(0.6 * MEMORY_MB) << 20
STARTED = []


def _child(w):
    try:
        block = bytearray(b"\x5a") * EACH  # written, so every page is touched
        os.write(w, b"+")
        while True:
            time.sleep(1)
            block[0] ^= 1
    except MemoryError:
        os.write(w, b"m")
    finally:
        os._exit(0)


class Agent:
    def act(self, observation, *, action_mask=None):
        return next(i for i, ok in enumerate(action_mask) if ok)

    def reset(self, *, seed=None):
        if not STARTED:
            r, w = os.pipe()
            for _ in range(N):
                pid = os.fork()
                if pid == 0:
                    os.close(r)
                    _child(w)
                STARTED.append(pid)
            os.close(w)
            said = b""
            deadline = time.monotonic() + 20
            while len(said) < N and time.monotonic() < deadline:
                ready, _, _ = select.select([r], [], [], 0.5)
                if ready:
                    chunk = os.read(r, 16)
                    if not chunk:
                        break
                    said += chunk
            print(
                f"hostile-fork-memory: {said.count(b'+')} of {N} children hold "
                f"{EACH >> 20} MiB each; {said.count(b'm')} got MemoryError"
            )


def make_agent(ctx):
    return Agent()
