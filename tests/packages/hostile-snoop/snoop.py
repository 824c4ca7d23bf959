"""A nosy entrant: what can it read, and can it get it out?

It looks for the arena's database (ARENA_HOME, ARENA_DB, ``.arena/arena.db``
relative to its cwd and to the checkout found from the ``arena`` module's
``__file__``), the checkout itself (README.md, .git, tests/), other entrants'
packages (siblings of its own folder, paths in /proc/*/cmdline, agent.toml files
found by walking ``/``), /proc/*/environ, /etc/shadow, /root and /home.

Everything it can open is listed as ``FOUND <what> <path>``. Contents are only
searched for secrets of one shape (``HOSTILE-SNOOP-SECRET-<hex>``, the ones a test
plants), reported as ``LEAK <secret>``; nothing else it reads is published.

It publishes through stdout (at import and in make_agent), through the error
text of an exception in its third act when it plays ``player_0``, and through
its moves: as any other seat it returns the first leak as a string action.
"""

import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET = re.compile(rb"HOSTILE-SNOOP-SECRET-[0-9a-f]{8,64}")
FOUND = {}  # path -> what
LEAKS = {}  # secret -> where
MAX_READ = 64 << 20


def _note(what, path):
    FOUND.setdefault(str(path), what)


def _scan(data, where):
    for match in SECRET.findall(data):
        LEAKS.setdefault(match.decode(), where)


def grab(path, what):
    """Read a file (found), search it; None if it cannot be read."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_READ)
    except OSError:
        return None
    _note(what, path)
    _scan(data, str(path))
    return data


def listing(path, what):
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return None
    _note(what, path)
    return names


def read_tree(top, what, limit=400):
    """Read every small file under ``top``."""
    count = 0
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git")]
        for name in files:
            path = os.path.join(root, name)
            if count >= limit:
                return
            count += 1
            try:
                if os.path.getsize(path) > MAX_READ:
                    continue
            except OSError:
                continue
            grab(path, what)


def is_mine(path):
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):
        return False
    return resolved == HERE or HERE in resolved.parents


def db_guesses():
    bases = [os.environ.get("ARENA_HOME"), os.getcwd() + "/.arena", os.path.expanduser("~/.arena")]
    db = os.environ.get("ARENA_DB", "")
    if db.startswith("sqlite:///"):
        grab(db[len("sqlite:///") :], "db-env")
    try:
        import arena

        checkout = Path(arena.__file__).resolve().parents[1]
        bases.append(str(checkout / ".arena"))
        for name in ("README.md", "pyproject.toml", ".git/HEAD", ".git/config", "Makefile"):
            grab(checkout / name, "checkout")
        for name in ("tests", "tests/packages", ".git", "docs", "tournaments"):
            if listing(checkout / name, "checkout") is not None:
                read_tree(checkout / name, "checkout", limit=50)
    except Exception:
        pass
    for parent in list(HERE.parents)[:6]:
        bases.append(str(parent / ".arena"))
        grab(parent / "arena.db", "db-guess")
    for base in bases:
        if base:
            for name in ("arena.db", "arena.db-wal", "arena.db-journal"):
                grab(os.path.join(base, name), "db-guess")


def proc_snoop():
    packages = set()
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    print(f"SNOOP {len(pids)} processes visible")
    for pid in pids:
        if int(pid) == os.getpid():
            continue
        cmdline = b""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                cmdline = file.read()
        except OSError:
            pass
        _scan(cmdline, f"/proc/{pid}/cmdline")
        for arg in cmdline.split(b"\0"):
            if b"/" in arg and (b"packages" in arg or b"agent" in arg):
                packages.add(arg.decode(errors="replace"))
        try:
            with open(f"/proc/{pid}/environ", "rb") as file:
                _scan(file.read(), f"/proc/{pid}/environ")
        except OSError:
            pass
        for link in ("cwd", "root"):
            grab(f"/proc/{pid}/{link}/.arena/arena.db", "proc-db")
    for path in sorted(packages):
        if os.path.isdir(path) and not is_mine(path):
            _note("proc-package", path)
            read_tree(path, "proc-package", limit=50)


def siblings():
    try:
        names = sorted(os.listdir(HERE.parent))
    except OSError:
        return
    if set(names) - {HERE.name}:
        _note("siblings-list", HERE.parent)
    for name in names:
        path = HERE.parent / name
        if path.is_dir() and not is_mine(path):
            _note("sibling", path)
            read_tree(path, "sibling", limit=50)


def host_files():
    for path in ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/root/.bash_history",
                 "/root/.ssh/id_rsa", "/root/.ssh/authorized_keys"):  # fmt: skip
        if grab(path, "host") is not None:
            print(f"FOUND host {path}")  # the content itself is never printed
    for folder in ("/root", "/home", "/tmp", "/work", "/srv", "/var/lib"):
        names = listing(folder, "host-list")
        if names is not None:
            print(f"LS {folder}: {' '.join(names[:40])}")


def walk_root(seconds=8.0, max_entries=60_000):
    """agent.toml and *.db files anywhere: likely places first, then all of ``/``."""
    deadline = time.monotonic() + seconds
    seen = 0
    skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin"}
    tops = ["/tmp", "/var/tmp", "/work", "/home", "/root", "/srv", "/opt", "/var", "/mnt", "/"]
    done = set()
    for top in tops:
        for root, dirs, files in os.walk(top):
            if root in done or root in skip:
                dirs[:] = []
                continue
            done.add(root)
            dirs[:] = [
                d
                for d in dirs
                if d not in ("__pycache__", "site-packages", "node_modules")
                and (not d.startswith(".") or d == ".arena")
            ]
            seen += len(dirs) + len(files)
            if seen > max_entries or time.monotonic() > deadline:
                print(f"SNOOP walk stopped after {seen} entries")
                return
            for name in files:
                path = os.path.join(root, name)
                if is_mine(path):
                    continue
                if name == "agent.toml":
                    _note("walk-package", root)
                    read_tree(root, "walk-package", limit=50)
                elif name.endswith((".db", ".sqlite", ".db-wal")):
                    grab(path, "walk")


def environment():
    print("ENV " + " ".join(sorted(os.environ)))
    for value in os.environ.values():
        _scan(value.encode(errors="replace"), "environ")
    grab("/proc/self/cmdline", "self")


def snoop(stage):
    start = time.monotonic()
    for step in (environment, db_guesses, proc_snoop, siblings, host_files, walk_root):
        try:
            step()
        except Exception as exc:  # keep going: the next place may work
            print(f"SNOOP {step.__name__} failed: {type(exc).__name__}: {exc}")
    print(f"SNOOP {stage}: {len(FOUND)} paths, {len(LEAKS)} leaks, {time.monotonic() - start:.1f}s")
    sys.stdout.write(summary())
    print("SNOOP done")
    sys.stdout.flush()


def summary():
    lines = [f"LEAK {secret} from {where}" for secret, where in LEAKS.items()]
    interesting = [(p, w) for p, w in FOUND.items() if w not in ("self",)]
    lines += [f"FOUND {what} {path}" for path, what in interesting[:400]]
    return "".join(line + "\n" for line in lines)


snoop("import")


class Agent:
    def __init__(self, seat):
        self.seat = seat
        self.moves = 0

    def reset(self, *, seed=None):
        pass

    def act(self, observation, *, action_mask=None):
        self.moves += 1
        if self.moves == 3:
            if self.seat == "player_0":
                raise RuntimeError("SNOOP report\n" + summary()[:15000] + "SNOOP end")
            return "LEAK " + (next(iter(LEAKS)) if LEAKS else "nothing")
        return next(i for i, ok in enumerate(action_mask) if ok)


def make_agent(ctx):
    snoop("make_agent")
    return Agent(ctx.agent_id)
