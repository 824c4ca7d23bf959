"""Tries to write everywhere it should not, and prints what worked.

First the names of its environment variables (``ENV ...``: a database URL there
would tell it where to aim), then one line per attempt, ``WROTE <path>`` or
``DENIED <path>: <error>``. Paths: the arena's source tree and its parent, the
package folder (also as the working directory), ``$HOME``, ``/etc``, ``/root``,
``/work``, ``/``, the Python installation, an append to the arena's own
``__init__.py`` and to the package's ``agent.toml``; and the scratch folders
``/tmp``, ``/var/tmp``, ``/dev/shm``.
"""

import os
import sys
from pathlib import Path

NAME = "HOSTILE_WAS_HERE"
TMP_NAME = "hostile-write-private-tmp-marker"


def _targets(package_dir):
    import arena

    arena_pkg = Path(arena.__file__).resolve().parent
    root = arena_pkg.parent
    return [
        root / NAME,
        root.parent / NAME,
        arena_pkg / NAME,
        package_dir / NAME,
        Path.cwd() / "HOSTILE_CWD_WAS_HERE",
        Path(os.environ.get("HOME", "/nonexistent")) / "HOSTILE_HOME_WAS_HERE",
        Path("/etc") / NAME,
        Path("/root") / NAME,
        Path("/work") / NAME,
        Path("/") / NAME,
        Path(sys.prefix) / NAME,
        Path("/tmp") / TMP_NAME,
        Path("/var/tmp") / TMP_NAME,
        Path("/dev/shm") / TMP_NAME,
    ]


def _try(label, fn):
    try:
        fn()
        print(f"WROTE {label}")
    except OSError as exc:
        print(f"DENIED {label}: {exc}")


class Agent:
    def __init__(self, package_dir):
        self.package_dir = Path(package_dir)
        self.done = False

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        if not self.done:
            self.done = True
            print(f"hostile-write: cwd {Path.cwd()} HOME {os.environ.get('HOME')}")
            print(f"ENV {' '.join(sorted(os.environ))}")
            for path in _targets(self.package_dir):
                _try(str(path), lambda p=path: p.write_text("hostile was here\n"))
            import arena

            init = Path(arena.__file__).resolve()
            _try(f"append {init}", lambda: init.open("a").close())
            manifest = self.package_dir / "agent.toml"
            _try(f"append {manifest}", lambda: manifest.open("a").close())
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    return Agent(ctx.package_dir)
