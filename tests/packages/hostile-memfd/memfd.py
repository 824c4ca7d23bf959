"""Fills a memfd with 3 GiB (``mib.txt`` overrides) in reset (set-up time), then plays.

write() into a memfd needs no address space, so RLIMIT_AS never notices; the
pages live in shared memory until the fd closes.
"""

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
MIB = int((_HERE / "mib.txt").read_text()) if (_HERE / "mib.txt").exists() else 3072
CHUNK = b"\xa5" * (16 << 20)
KEEP = []


class Agent:
    def reset(self, *, seed=None):
        if not KEEP:
            fd = os.memfd_create("hostile-memfd")
            KEEP.append(fd)
            written = 0
            while written < MIB << 20:
                written += os.write(fd, CHUNK)
            print(f"hostile-memfd: wrote {written >> 20} MiB into a memfd and survived")

    def act(self, observation, *, action_mask=None):
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
