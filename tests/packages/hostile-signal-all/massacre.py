"""os.kill(-1, SIGKILL): every process the caller may signal, then plays on.

Only fires inside the arena sandbox's own PID namespace (its parent is pid 1 and
that is the sandbox worker); anywhere else, run as root, it would kill every
process on the machine, so it prints a refusal instead.
"""

import os
import signal


def _in_sandbox_namespace():
    try:
        with open("/proc/1/cmdline", "rb") as cmdline:
            init = cmdline.read()
    except OSError:
        return False
    return os.getppid() == 1 and b"arena.sandbox.worker" in init


class Agent:
    def __init__(self):
        self.done = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.done:
            self.done = True
            if _in_sandbox_namespace():
                try:
                    os.kill(-1, signal.SIGKILL)
                    print("hostile-signal-all: kill(-1, SIGKILL) sent")
                except OSError as exc:
                    print(f"hostile-signal-all: kill(-1, SIGKILL) failed: {exc}")
            else:
                print("hostile-signal-all: REFUSED, not inside the sandbox's PID namespace")
        legal = [i for i, ok in enumerate(action_mask) if ok]
        return legal[0]


def make_agent(ctx):
    return Agent()
