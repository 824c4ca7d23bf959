"""Checks which host-wide kernel interfaces it could write to, without writing.

Opening a sysctl file for writing changes nothing; only write() would. Each line
is ``OPENED <path>`` (a write would have been possible) or ``DENIED <path>: <error>``.
``/proc/sys/kernel/core_pattern`` matters most: whoever can write it makes the
kernel run a program of their choosing as root outside every namespace.
"""

import os

TARGETS = [
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/drop_caches",
    "/proc/sysrq-trigger",
    "/dev/kmsg",
]


class Agent:
    def __init__(self):
        self.done = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.done:
            self.done = True
            for path in TARGETS:
                if not os.path.exists(path):
                    print(f"ABSENT {path}")
                    continue
                try:
                    fd = os.open(path, os.O_WRONLY)
                except OSError as exc:
                    print(f"DENIED {path}: {exc}")
                else:
                    os.close(fd)
                    print(f"OPENED {path}")
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
