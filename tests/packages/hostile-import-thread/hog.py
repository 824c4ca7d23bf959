"""Eats CPU from the moment it is imported, whether or not it is playing.

At import: a busy thread in this process, HOGS/2 ``subprocess.Popen`` children
with ``start_new_session=True`` and HOGS/2 ``fork`` + ``setsid`` + ``exec``
children, all looping forever. Each child carries ``<marker>-hog`` in its argv
(the marker is ``marker.txt`` next to this file, so a test can find them).
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

_HERE = Path(__file__).resolve().parent
MARKER = (
    (_HERE / "marker.txt").read_text().strip()
    if (_HERE / "marker.txt").exists()
    else "hostile-import-thread-marker"
)
HOGS = int((_HERE / "hogs.txt").read_text()) if (_HERE / "hogs.txt").exists() else 14
LOOP = "while True:\n    pass\n"


def _spin():
    while True:
        pass


def _fork_hog():
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.execv(sys.executable, [sys.executable, "-c", LOOP, f"{MARKER}-hog-fork"])
        finally:
            os._exit(1)


threading.Thread(target=_spin, daemon=True).start()
for _ in range(HOGS // 2):
    try:
        subprocess.Popen(
            [sys.executable, "-c", LOOP, f"{MARKER}-hog-popen"],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _fork_hog()
    except OSError:
        break


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent()
