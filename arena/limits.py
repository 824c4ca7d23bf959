"""Per-match limits, from the tournament file's ``[limits]`` or ``arena match`` options."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What an agent may use in one match.

    Attributes:
        move_timeout_s: wall-clock limit for one ``act`` call.
        init_timeout_s: wall-clock limit for set-up: importing the package, then
            ``make_agent`` and the first ``reset`` of every seat.
        time_bank_s: extra seconds per match, drawn when an ``act`` call runs
            over ``move_timeout_s`` (Kaggle's "overage time"); 0 disables it.
        memory_mb: memory of a sandboxed agent, in MiB: for its whole process tree
            (page cache, shmem and memfd included) with cgroups, else the
            address space of each process.
        cpu_time_s: CPU seconds a sandboxed agent may use in one match (all its
            processes and threads together, where cgroups allow).
        cpus: CPU cores a sandboxed agent may use at once (a cgroup quota), so
            its busy processes cannot slow its opponent or other matches.
        max_processes: processes and threads a sandboxed agent may run at once.
        max_steps: safety cap on env steps; a match reaching it ends as it stands.
        sandbox: run packages in sandboxed worker processes (built-ins always run
            in-process). Turn off only for packages you trust, e.g. to debug one.
        reuse_process: play a series' matches in one sandboxed process instead
            of a fresh fork per match: several times faster for short games, but
            an agent's module state survives from one match to the next and its
            CPU cap is per match only by accounting. Processes it starts are
            still killed after every match.
    """

    move_timeout_s: float = 1.0
    init_timeout_s: float = 30.0
    time_bank_s: float = 0.0
    memory_mb: int = 2048
    cpu_time_s: float = 600.0
    cpus: float = 1.0
    max_processes: int = 64
    max_steps: int = 1_000_000
    sandbox: bool = True
    reuse_process: bool = False
