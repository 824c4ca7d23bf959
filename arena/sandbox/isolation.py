"""Which protections this machine allows, and the command that applies them.

On Linux as root, a worker starts inside new network, mount, PID, IPC and UTS
namespaces (util-linux ``unshare``). A short shell step then makes every mount
read-only (``/proc/sys`` included), replaces ``/dev`` with a minimal one, mounts
a private ``/tmp`` (and ``/var/tmp``, ``/dev/shm``, ``/run``), joins a
pids cgroup that caps processes, and ``setpriv`` drops every capability (and
the user id, when the Python installation is readable by other users) before
Python starts. The package folder is bound in read-only, even under ``/tmp``.
Elsewhere the worker still gets resource limits and is killed
with its process group; :func:`probe` says exactly what is missing.
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

PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
# New network, mount, PID, IPC and UTS namespaces; the worker dies with unshare.
UNSHARE = (
    "unshare", "--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
    "--mount-proc", "--propagation", "private",
)  # fmt: skip
TMPFS = "size=64m,mode=1777,nosuid,nodev"

# Runs as root inside the new namespaces, before the agent's interpreter starts.
SETUP = r"""
set -e
if [ -n "$ARENA_CGROUP" ]; then echo $$ > "$ARENA_CGROUP/cgroup.procs"; fi
for m in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
  case "$m" in /proc|/proc/*|/dev|/dev/pts) continue;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
# Kernel knobs stay read-only: /proc/sys/kernel/core_pattern would run a program
# as root outside every namespace.
for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
  if [ -e "$p" ]; then mount --bind "$p" "$p"; mount -o remount,bind,ro "$p"; fi
done
# Folders that must stay visible (read-only) even under the fresh tmpfs mounts
# below: the package, and Python and the arena when they live under /tmp.
# ARENA_KEEP is "fd=path:fd=path" with single-digit fds the worker does not use.
IFS=:
for k in $ARENA_KEEP; do eval "exec ${k%%=*}<\"\${k#*=}\""; done
unset IFS
# A minimal /dev instead of the host's devices (kmsg, kvm, loop...).
mount -t tmpfs -o nosuid,noexec,mode=755,size=64k arena-dev /dev
for n in null:3 zero:5 full:7 random:8 urandom:9; do
  mknod -m 666 "/dev/${n%%:*}" c 1 "${n##*:}"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mkdir /dev/shm
# Private scratch space; /run hides the host's daemon sockets (docker, postgres).
for t in /tmp /var/tmp /dev/shm /run; do
  if [ -d "$t" ]; then mount -t tmpfs -o "$ARENA_TMPFS" tmpfs "$t"; fi
done
IFS=:
for k in $ARENA_KEEP; do
  mkdir -p "${k#*=}"
  mount --no-canonicalize --bind "/proc/self/fd/${k%%=*}" "${k#*=}"
  mount -o remount,bind,ro "${k#*=}"
  eval "exec ${k%%=*}<&-"
done
unset IFS
ip link set lo down 2>/dev/null || true
exec setpriv $ARENA_SETPRIV -- "$@"
"""


@dataclass(frozen=True)
class Isolation:
    """What the sandbox can apply on this machine.

    Attributes:
        namespaces: new network, mount, PID, IPC and UTS namespaces; read-only
            file system with a private /tmp; capabilities dropped.
        drop_uid: the worker runs under an unprivileged user id.
        pids_cgroup: a cgroup caps the worker's processes.
        missing: one line per protection that is not applied, and why.
    """

    namespaces: bool
    drop_uid: bool
    pids_cgroup: bool
    missing: tuple[str, ...]


def _readable_by_others(path: Path) -> bool:
    """True when every folder above ``path`` can be traversed by any user."""
    path = path.resolve()
    for folder in [path, *path.parents]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


@functools.cache
def probe() -> Isolation:
    """Detect the protections available here (once per process)."""
    missing = []
    namespaces = drop_uid = pids = False
    if not sys.platform.startswith("linux"):
        missing.append("namespaces (network, file system, processes): Linux only")
    elif os.geteuid() != 0:
        missing.append(
            "namespaces (network, file system, processes) and a dropped user id: "
            "the arena is not running as root"
        )
    elif not (shutil.which("unshare") and shutil.which("setpriv")):
        missing.append("namespaces: util-linux 'unshare' and 'setpriv' are not installed")
    else:
        probe_cmd = [*UNSHARE, "true"]
        ok = subprocess.run(probe_cmd, capture_output=True, timeout=30).returncode == 0
        if ok:
            namespaces = True
        else:
            missing.append("namespaces: 'unshare' is not permitted here (a container?)")
    if namespaces:
        arena_root = Path(__file__).resolve().parents[2]
        roots = [Path(sys.base_prefix), Path(sys.prefix), arena_root]
        drop_uid = all(_readable_by_others(p) for p in roots)
        if not drop_uid:
            missing.append(
                "a dropped user id: the Python installation or the arena "
                f"({', '.join(str(p) for p in roots if not _readable_by_others(p))}) is not "
                "readable by other users; the worker keeps uid 0 with every capability "
                "dropped, in a read-only file system and its own PID namespace"
            )
        pids = os.access(PIDS_CGROUP, os.W_OK)
        if not pids:
            missing.append(
                "a process cap: no writable pids cgroup"
                + (" (RLIMIT_NPROC applies instead)" if drop_uid else "")
            )
    return Isolation(namespaces, drop_uid, pids, tuple(missing))


_warned = False


def warn_once(isolation: Isolation) -> None:
    """Tell the operator, once per process, which protections are missing."""
    global _warned
    if _warned or not isolation.missing:
        return
    _warned = True
    for line in isolation.missing:
        sys.stderr.write(f"sandbox: not applied: {line}\n")


COVERED = ("/tmp", "/var/tmp", "/dev", "/run")  # replaced by fresh mounts in a worker


def kept_paths(package_dir: Path) -> list[str]:
    """Folders re-bound into a worker: the package, plus Python and the arena
    when a fresh mount would hide them (a checkout or venv under /tmp)."""
    arena_root = Path(__file__).resolve().parents[2]
    keep = [str(package_dir)]
    for path in (Path(sys.prefix), Path(sys.base_prefix), arena_root):
        resolved = str(path.resolve())
        hidden = any(resolved == c or resolved.startswith(c + "/") for c in COVERED)
        if hidden and resolved not in keep and ":" not in resolved:
            keep.append(resolved)
    return keep


def _keep_spec(package_dir: Path, channel_fd: int) -> str:
    # dash only redirects single-digit fds; skip the one carrying the channel.
    fds = [fd for fd in range(3, 10) if fd != channel_fd]
    paths = kept_paths(package_dir)[: len(fds)]
    return ":".join(f"{fd}={path}" for fd, path in zip(fds, paths, strict=False))


def worker_command(
    isolation: Isolation, worker_args: list[str], *, uid: int, package_dir: Path, channel_fd: int
) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment that start one worker."""
    python = [sys.executable, "-m", "arena.sandbox.worker", *worker_args]
    if not isolation.namespaces:
        return python, {}
    setpriv = "--inh-caps=-all --bounding-set=-all --no-new-privs"
    if isolation.drop_uid:
        setpriv = f"--reuid={uid} --regid={uid} --clear-groups " + setpriv
    command = [
        *UNSHARE,
        "sh",
        "-c",
        SETUP,
        "arena-sandbox",
        *python,
    ]
    env = {
        "ARENA_SETPRIV": setpriv,
        "ARENA_TMPFS": TMPFS,
        "ARENA_KEEP": _keep_spec(package_dir, channel_fd),
    }
    return command, env
