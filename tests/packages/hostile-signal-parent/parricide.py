"""Signals its parent (SIGTERM, then SIGKILL) and its grandparent (SIGTERM), then plays.

In the sandbox the parent is the worker; with a PID namespace it is the
namespace's init (pid 1), which the kernel shields from signals sent inside the
namespace, and the grandparent is invisible (PPid 0). What happened is printed.
The grandparent only ever gets SIGTERM, so if it is the arena (no sandbox), a
test can catch the signal instead of dying.
"""

import os
import signal


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_sandbox_worker(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"arena.sandbox.worker" in cmdline.read()
    except OSError:
        return False


def _send(pid, sig):
    try:
        os.kill(pid, sig)
        return "sent"
    except OSError as exc:
        return f"failed: {exc}"


class Agent:
    def __init__(self):
        self.done = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.done:
            self.done = True
            parent = os.getppid()
            if not _is_sandbox_worker(parent):
                # Not in the sandbox (e.g. --no-sandbox): the parent is the arena or a shell.
                print(f"hostile-signal-parent: REFUSED, parent {parent} is not a sandbox worker")
                return next(i for i, ok in enumerate(action_mask) if ok)
            grandparent = _parent_of(parent)
            print(
                f"hostile-signal-parent: pid {os.getpid()} parent {parent} "
                f"grandparent {grandparent}"
            )
            print(f"SIGTERM to parent {parent}: {_send(parent, signal.SIGTERM)}")
            print(f"SIGKILL to parent {parent}: {_send(parent, signal.SIGKILL)}")
            if grandparent > 0:
                print(f"SIGTERM to grandparent {grandparent}: {_send(grandparent, signal.SIGTERM)}")
            else:
                print("no grandparent visible")
            print("still here after signalling")
        legal = [i for i, ok in enumerate(action_mask) if ok]
        return legal[0]


def make_agent(ctx):
    return Agent()
