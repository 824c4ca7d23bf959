"""Plays slowly and leaves sleepers: one at import, one per make_agent.

Sleepers are ``sleep`` renamed ``<marker>-sleeper-*`` in a session of their own
(``marker.txt`` next to this file).
"""

import shutil
import subprocess
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
MARKER = (
    (_HERE / "marker.txt").read_text().strip()
    if (_HERE / "marker.txt").exists()
    else "hostile-linger-marker"
)
SLEEP = shutil.which("sleep") or "/bin/sleep"


def sleeper(tag):
    subprocess.Popen([f"{MARKER}-sleeper-{tag}", "10000"], executable=SLEEP, start_new_session=True)


sleeper("import")


class Agent:
    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        time.sleep(0.5)
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    sleeper("match")
    return Agent()
