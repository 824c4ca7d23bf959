"""Leaves processes behind: one from import time, three from the first act.

- at import (in the worker itself): a ``sleep`` renamed ``hostile-marker-xyz-import``;
- in act: a ``sleep`` renamed ``hostile-marker-xyz-child`` (a plain child);
- a Python child in a session of its own, ``hostile-marker-xyz-session`` in argv;
- a double-forked daemon (fork, setsid, fork, exec) that ignores SIGTERM and
  SIGHUP, ``hostile-marker-xyz-daemon`` in argv.

Every later act counts the marker processes it can see and prints the count.
The marker is ``hostile-marker-xyz``, or the text of ``marker.txt`` in the
package folder (a test writes a unique one).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

_MARKER_FILE = Path(__file__).resolve().with_name("marker.txt")
MARKER = _MARKER_FILE.read_text().strip() if _MARKER_FILE.exists() else "hostile-marker-xyz"
SLEEP = shutil.which("sleep") or "/bin/sleep"
DAEMON = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
    "while True:\n"
    "    time.sleep(1)\n"
)

subprocess.Popen([f"{MARKER}-import", "1000"], executable=SLEEP)


def _daemon():
    # The pipe closes on exec: once it reads EOF, the daemon runs under its own name.
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", DAEMON, f"{MARKER}-daemon"])
        os._exit(0)
    os.close(ready_w)
    os.read(ready_r, 1)
    os.close(ready_r)
    os.waitpid(pid, 0)


def _markers():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    text = cmdline.read()
            except OSError:
                continue
            for arg in text.split(b"\0"):
                if arg.startswith(MARKER.encode()):
                    found.append(arg.decode()[len(MARKER) + 1 :])
    return found


class Agent:
    def __init__(self):
        self.spawned = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.spawned:
            self.spawned = True
            subprocess.Popen([f"{MARKER}-child", "1000"], executable=SLEEP)
            subprocess.Popen(
                [sys.executable, "-c", DAEMON, f"{MARKER}-session"], start_new_session=True
            )
            _daemon()
            print("hostile-children: spawned")
        else:
            running = " ".join(sorted(_markers()))
            print(f"hostile-children: marker processes running: {running}")
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
