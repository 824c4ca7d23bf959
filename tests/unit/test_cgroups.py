"""The sandbox's cgroup files, on a fake /sys/fs/cgroup (v1 and v2) and on the real one.

The fake trees check what is written where (limits, freezing, killing) and how
readings are parsed, for both versions; the last test makes a real group on this
machine when it can and checks the kernel's own answers.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from arena.sandbox import cgroups


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "cgroup"
    root.mkdir()
    monkeypatch.setattr(cgroups, "ROOT", root)
    monkeypatch.setattr(cgroups, "_own_group", lambda controller: "/")
    cgroups.layout.cache_clear()
    yield root
    cgroups.layout.cache_clear()


def _v2(root: Path) -> None:
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("cpu memory pids\n")
    (root / "cgroup.procs").write_text("")


def test_v2_limits_freeze_and_readings(fake_root: Path) -> None:
    _v2(fake_root)
    found = cgroups.layout()
    assert found.version == 2 and found.missing == ()
    group = cgroups.SandboxGroup.create(memory_mb=256, cpus=0.5, max_processes=32)
    assert group is not None
    folder = fake_root / group.name
    assert group.name.startswith(f"arena-{os.getpid()}-")
    assert (folder / "memory.max").read_text() == str(256 * 1024 * 1024)
    assert (folder / "memory.swap.max").read_text() == "0"
    assert (folder / "cpu.max").read_text() == "50000 100000"
    assert (folder / "pids.max").read_text() == "32"
    assert group.procs_files() == [str(folder / "cgroup.procs")]
    group.freeze()
    assert (folder / "cgroup.freeze").read_text() == "1"
    group.thaw()
    assert (folder / "cgroup.freeze").read_text() == "0"
    (folder / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    assert group.cpu_seconds() == 2.5
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_kills() == 1
    group.kill()
    assert (folder / "cgroup.kill").read_text() == "1"


def test_v2_names_controllers_it_cannot_enable(fake_root: Path) -> None:
    (fake_root / "cgroup.controllers").write_text("memory pids\n")
    (fake_root / "cgroup.subtree_control").write_text("memory pids\n")
    found = cgroups.layout()
    assert found.version == 2
    assert found.missing == (
        f"cgroup v2 controller 'cpu': not enabled for the arena's group {fake_root}",
    )


def test_v1_one_folder_per_controller(fake_root: Path) -> None:
    for controller in cgroups.V1_CONTROLLERS:
        (fake_root / controller).mkdir()
        (fake_root / controller / "cgroup.procs").write_text("")
    found = cgroups.layout()
    assert found.version == 1 and found.missing == ()
    group = cgroups.SandboxGroup.create(memory_mb=100, cpus=2.0, max_processes=7)
    assert group is not None
    f = {c: fake_root / c / group.name for c in cgroups.V1_CONTROLLERS}
    assert (f["memory"] / "memory.limit_in_bytes").read_text() == str(100 << 20)
    assert (f["cpu"] / "cpu.cfs_quota_us").read_text() == "200000"
    assert (f["pids"] / "pids.max").read_text() == "7"
    group.freeze()
    assert (f["freezer"] / "freezer.state").read_text() == "FROZEN"
    (f["cpuacct"] / "cpuacct.usage").write_text("1500000000\n")
    assert group.cpu_seconds() == 1.5
    (f["memory"] / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert group.oom_kills() == 2


def test_v1_reports_a_missing_controller(fake_root: Path) -> None:
    for controller in ("memory", "cpu", "cpuacct", "pids"):
        (fake_root / controller).mkdir()
        (fake_root / controller / "cgroup.procs").write_text("")
    found = cgroups.layout()
    assert found.missing == ("cgroup v1 controller 'freezer': not mounted or not writable",)


def test_no_cgroup_file_system(fake_root: Path) -> None:
    found = cgroups.layout()
    assert found.version == 0
    assert cgroups.SandboxGroup.create(memory_mb=1, cpus=1, max_processes=1) is None


needs_real = pytest.mark.skipif(
    cgroups.layout().version == 0,
    reason="no writable cgroups here: " + "; ".join(cgroups.layout().missing),
)


@needs_real
def test_real_group_freezes_counts_and_kills() -> None:
    """On this machine: a busy process in a group is frozen (no CPU time passes),
    thawed (CPU time grows), killed, and the group removed."""
    group = cgroups.SandboxGroup.create(memory_mb=64, cpus=1.0, max_processes=8)
    assert group is not None
    if not group.can_freeze or group.cpu_seconds() is None:
        group.remove()
        pytest.skip("this machine's cgroups lack the freezer or CPU accounting")
    procs = " ".join(f'echo $$ > "{p}";' for p in group.procs_files())
    busy = subprocess.Popen(["/bin/sh", "-c", f"{procs} exec sh -c 'while :; do :; done'"])
    try:
        deadline = time.monotonic() + 5
        while busy.pid not in group.pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert busy.pid in group.pids()
        time.sleep(0.2)
        group.freeze()
        time.sleep(0.1)
        frozen_at = group.cpu_seconds()
        time.sleep(0.3)
        assert group.cpu_seconds() == frozen_at  # nothing ran while frozen
        group.thaw()
        time.sleep(0.3)
        assert (group.cpu_seconds() or 0) > (frozen_at or 0)
        group.freeze()
        folders = list(group.folders.values())
        group.remove()  # kills (and thaws so the kill lands), then removes
        assert busy.wait(timeout=5) == -9
        assert [f for f in folders if f.exists()] == []
    finally:
        if busy.poll() is None:
            busy.kill()
