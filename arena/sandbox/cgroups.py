"""One control group per sandbox: memory, CPU, processes and freezing for the whole tree.

Limits set with ``setrlimit`` hold per process: a package that forks four
children gets four times its memory, and busy children in sessions of their own
escape a per-process CPU cap. A cgroup counts the sandbox as one thing:

- **memory**: ``memory_mb`` for every process of the sandbox together, page
  cache, shmem, tmpfs files and memfd included (the kernel charges those pages
  to the cgroup that touched them; ``RLIMIT_AS`` never sees a memfd);
- **cpu**: a quota of ``cpus`` cores, so one entrant's busy processes cannot
  take the CPU an opponent (or another match) is thinking on;
- **cpuacct**: CPU seconds of the whole tree, read per match to enforce
  ``cpu_time_s`` (threads and children included);
- **pids**: ``max_processes`` processes and threads at once;
- **freezer**: between its matches a sandbox is frozen, so nothing an entrant
  started (an import-time thread, a child in its own session) runs while others
  play.

Both cgroup v1 (one hierarchy per controller, as on these machines) and v2
(one unified tree) are supported. Groups are made inside the arena's own group
of each hierarchy, so an arena that runs under a limit keeps its sandboxes
under it too. Their names carry the arena's pid: :func:`remove_stale` deletes
those of arenas that died without cleaning up.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer")
V2_CONTROLLERS = ("memory", "cpu", "pids")  # freezing and CPU time come with every v2 group
PREFIX = "arena-"
CPU_PERIOD_US = 100_000
_names = itertools.count()


@dataclass(frozen=True)
class Layout:
    """Where this arena may make sandbox groups.

    Attributes:
        version: 1 or 2; 0 when no usable cgroup file system is mounted.
        parents: controller -> folder to make groups in (v1); ``{"": folder}`` on v2.
        missing: one line per protection that cgroups cannot give here, and why.
    """

    version: int
    parents: dict[str, Path]
    missing: tuple[str, ...]


def _own_group(controller: str) -> str:
    """This process's group path in a v1 hierarchy (or the v2 tree with ``""``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path
    return "/"


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


@functools.cache
def layout() -> Layout:
    """Detect the cgroup layout once per process."""
    if os.geteuid() != 0 and not _writable(ROOT / _own_group("").lstrip("/")):
        return Layout(0, {}, ("per-sandbox cgroups: the arena is not running as root",))
    v1 = {c: ROOT / c for c in V1_CONTROLLERS if (ROOT / c / "cgroup.procs").exists()}
    if v1:
        parents: dict[str, Path] = {}
        missing: list[str] = []
        for controller in V1_CONTROLLERS:
            mount = v1.get(controller)
            parent = mount / _own_group(controller).lstrip("/") if mount else None
            if parent is not None and _writable(parent):
                parents[controller] = parent
            else:
                missing.append(f"cgroup v1 controller '{controller}': not mounted or not writable")
        return Layout(1, parents, tuple(missing))
    if (ROOT / "cgroup.controllers").exists():
        parent = ROOT / _own_group("").lstrip("/")
        try:
            enabled = set((parent / "cgroup.subtree_control").read_text().split())
            available = set((parent / "cgroup.controllers").read_text().split())
        except OSError:
            return Layout(0, {}, ("cgroup v2: the arena's own group cannot be read",))
        for controller in V2_CONTROLLERS:
            if controller in available and controller not in enabled:
                # Needs a group with no processes of its own; fails in a busy root.
                with contextlib.suppress(OSError):
                    (parent / "cgroup.subtree_control").write_text(f"+{controller}")
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        gaps = tuple(
            f"cgroup v2 controller '{c}': not enabled for the arena's group {parent}"
            for c in V2_CONTROLLERS
            if c not in enabled
        )
        if not _writable(parent):
            return Layout(0, {}, (f"cgroup v2: the arena's group {parent} is not writable",))
        return Layout(2, {"": parent}, gaps)
    return Layout(0, {}, ("per-sandbox cgroups: no cgroup file system under /sys/fs/cgroup",))


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


class SandboxGroup:
    """The cgroups of one sandbox (one worker and everything it starts)."""

    def __init__(self, layout_: Layout, name: str) -> None:
        self.layout = layout_
        self.name = name
        self.folders: dict[str, Path] = {}

    @classmethod
    def create(cls, *, memory_mb: int, cpus: float, max_processes: int) -> SandboxGroup | None:
        """Make the groups and set their limits; None where cgroups are unusable."""
        found = layout()
        if found.version == 0:
            return None
        group = cls(found, f"{PREFIX}{os.getpid()}-{next(_names)}")
        for controller, parent in found.parents.items():
            folder = parent / group.name
            try:
                folder.mkdir()
            except OSError:
                continue
            group.folders[controller] = folder
        limit = str(memory_mb * 1024 * 1024)
        quota = str(max(1000, int(cpus * CPU_PERIOD_US)))
        if found.version == 1:
            f = group.folders
            if "memory" in f:
                _write(f["memory"] / "memory.limit_in_bytes", limit)
                # Swap must not extend the budget (the file exists only with swap accounting).
                _write(f["memory"] / "memory.memsw.limit_in_bytes", limit)
            if "cpu" in f:
                _write(f["cpu"] / "cpu.cfs_period_us", str(CPU_PERIOD_US))
                _write(f["cpu"] / "cpu.cfs_quota_us", quota)
            if "pids" in f:
                _write(f["pids"] / "pids.max", str(max_processes))
        else:
            unified = group.folders.get("")
            if unified is not None:
                _write(unified / "memory.max", limit)
                _write(unified / "memory.swap.max", "0")
                _write(unified / "cpu.max", f"{quota} {CPU_PERIOD_US}")
                _write(unified / "pids.max", str(max_processes))
        if not group.folders:
            return None
        return group

    # -- membership ----------------------------------------------------------------

    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a new process writes its pid to, to join."""
        return [str(folder / "cgroup.procs") for folder in self.folders.values()]

    def pids(self) -> set[int]:
        """Every process in the sandbox, as host pids."""
        found: set[int] = set()
        for folder in self.folders.values():
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        return found

    # -- readings ------------------------------------------------------------------

    def cpu_seconds(self) -> float | None:
        """CPU time used by the whole tree so far, or None when not accounted."""
        try:
            if self.layout.version == 1 and "cpuacct" in self.folders:
                ns = int((self.folders["cpuacct"] / "cpuacct.usage").read_text())
                return ns / 1e9
            if self.layout.version == 2 and "" in self.folders:
                for line in (self.folders[""] / "cpu.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "usage_usec":
                        return int(value) / 1e6
        except (OSError, ValueError):
            pass
        return None

    def oom_kills(self) -> int:
        """How many times the kernel killed a process here for memory (or hit the limit)."""
        if self.layout.version == 1:
            folder = self.folders.get("memory")
            name = "memory.oom_control"
        else:
            folder = self.folders.get("")
            name = "memory.events"
        if folder is None:
            return 0
        try:
            lines = (folder / name).read_text().splitlines()
        except OSError:
            return 0
        counts = dict(line.split(" ", 1) for line in lines if " " in line)
        return int(counts.get("oom_kill", "0"))

    @property
    def accounts_memory(self) -> bool:
        return ("memory" if self.layout.version == 1 else "") in self.folders

    # -- freezing and killing ------------------------------------------------------

    def _freezer(self) -> tuple[Path, str, str] | None:
        if self.layout.version == 1 and "freezer" in self.folders:
            return self.folders["freezer"] / "freezer.state", "FROZEN", "THAWED"
        if self.layout.version == 2 and "" in self.folders:
            return self.folders[""] / "cgroup.freeze", "1", "0"
        return None

    @property
    def can_freeze(self) -> bool:
        return self._freezer() is not None

    def freeze(self) -> None:
        """Stop every process of the sandbox until :meth:`thaw`."""
        spec = self._freezer()
        if spec is not None:
            _write(spec[0], spec[1])

    def thaw(self) -> None:
        spec = self._freezer()
        if spec is not None:
            _write(spec[0], spec[2])

    def kill(self) -> None:
        """SIGKILL every process of the sandbox, then thaw so the kills land."""
        if self.layout.version == 2 and "" in self.folders:
            if _write(self.folders[""] / "cgroup.kill", "1"):
                self.thaw()
                return
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.thaw()  # v1: a frozen task only dies once thawed

    def remove(self, timeout_s: float = 2.0) -> None:
        """Kill what is left and delete the groups (a group with processes cannot go)."""
        deadline = time.monotonic() + timeout_s
        self.kill()
        for folder in list(self.folders.values()):
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill()
                    time.sleep(0.01)
        self.folders.clear()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> int:
    """Delete the groups of arenas that died without cleaning up; return how many.

    A group named ``arena-PID-N`` whose PID no longer runs is emptied (its
    processes are killed) and removed. Groups of live arenas are left alone.
    """
    found = layout()
    removed = 0
    for parent in found.parents.values():
        with contextlib.suppress(OSError):
            for folder in parent.iterdir():
                name = folder.name
                if not (folder.is_dir() and name.startswith(PREFIX)):
                    continue
                pid_text = name[len(PREFIX) :].partition("-")[0]
                if not pid_text.isdigit() or _alive(int(pid_text)):
                    continue
                stale = SandboxGroup(found, name)
                stale.folders = {"x": folder}
                if found.version == 1 and (folder / "freezer.state").exists():
                    stale.folders = {"freezer": folder}
                elif found.version == 2:
                    stale.folders = {"": folder}
                stale.remove(timeout_s=1.0)
                removed += 1
    return removed
