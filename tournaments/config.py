"""The tournament file: parsed and validated completely before any match is played.

Every error is one line naming the file and the key, e.g.
``demo.toml: [tournament].env: unknown env 'conect_four_v3' (run 'arena envs' for the list)``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.errors import ArenaError
from arena.registry import env_specs
from arena.runner import Limits
from tournaments.formats import FORMATS, OPTION_KEYS, Format, make_format

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOP_KEYS = ("tournament", "limits", "schedule", "entrants")
BASE_KEYS = ("name", "env", "format", "seed", "description", "env_kwargs")
TOURNAMENT_KEYS = BASE_KEYS + tuple(k for k in OPTION_KEYS if k not in BASE_KEYS)
LIMIT_KEYS = (
    "move_timeout_s",
    "init_timeout_s",
    "time_bank_s",
    "memory_mb",
    "cpu_time_s",
    "max_processes",
    "cpus",
    "reuse_process",
)
SCHEDULE_KEYS = ("every", "cron")
ENTRANT_KEYS = ("agent",)
EVERY_RE = re.compile(r"^\d+(\.\d+)?\s*[smhd]$")


@dataclass(frozen=True)
class TournamentConfig:
    """A validated tournament file. Entrant strings are resolved by the runner."""

    path: Path
    name: str
    env_id: str
    format: str
    games_per_pairing: int
    seed: int
    entrants: tuple[str, ...]
    limits: Limits
    rounds: int | None = None
    description: str = ""
    schedule: dict[str, str] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def make_format(self) -> Format:
        """The configured pairing format (options validated at load time)."""
        return make_format(self.format, self.options)

    @property
    def base_dir(self) -> Path:
        """Folder that relative entrant paths are relative to."""
        return self.path.parent


def _unknown(path: Path, where: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ArenaError(
                f"{path}: {where}{key}: unknown key (expected one of: {', '.join(allowed)})"
            )


def _int(path: Path, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArenaError(f"{path}: {key}: expected an integer >= {minimum}, got {value!r}")
    return value


def _positive(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ArenaError(f"{path}: {key}: expected a positive number, got {value!r}")
    return float(value)


def _bool(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArenaError(f"{path}: {key}: expected true or false, got {value!r}")
    return value


def _non_negative(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ArenaError(f"{path}: {key}: expected a number >= 0, got {value!r}")
    return float(value)


def load_tournament(path: Path) -> TournamentConfig:
    """Read and validate a tournament file (not its entrants' packages).

    Raises:
        ArenaError: the file is missing, not TOML, or a key is wrong.
    """
    if not path.is_file():
        raise ArenaError(f"{path}: tournament file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArenaError(f"{path}: not valid TOML: {exc}") from None
    _unknown(path, "", data, TOP_KEYS)

    table = data.get("tournament")
    if not isinstance(table, dict):
        raise ArenaError(f"{path}: missing [tournament] table")
    _unknown(path, "[tournament].", table, TOURNAMENT_KEYS)
    for key in ("name", "env"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ArenaError(f"{path}: [tournament].{key}: missing required string")
    env_id = table["env"]
    if env_id not in env_specs():
        raise ArenaError(
            f"{path}: [tournament].env: unknown env '{env_id}' (run 'arena envs' for the list)"
        )
    fmt = table.get("format", "round-robin")
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ArenaError(
            f"{path}: [tournament].format: unknown format {fmt!r} (available: {', '.join(FORMATS)})"
        )
    games = _int(path, "[tournament].games_per_pairing", table.get("games_per_pairing", 2), 1)
    options = {k: table[k] for k in OPTION_KEYS if k in table}
    options["games_per_pairing"] = games
    seed = _int(path, "[tournament].seed", table.get("seed", 0), 0)
    rounds = options.get("rounds")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise ArenaError(f"{path}: [tournament].description: expected a string")
    env_kwargs = table.get("env_kwargs", {})
    if not isinstance(env_kwargs, dict):
        raise ArenaError(f"{path}: [tournament].env_kwargs: expected a table")

    limits_table = data.get("limits", {})
    if not isinstance(limits_table, dict):
        raise ArenaError(f"{path}: [limits]: expected a table")
    _unknown(path, "[limits].", limits_table, LIMIT_KEYS)
    defaults = Limits()
    limits = Limits(
        move_timeout_s=_positive(
            path,
            "[limits].move_timeout_s",
            limits_table.get("move_timeout_s", defaults.move_timeout_s),
        ),
        init_timeout_s=_positive(
            path,
            "[limits].init_timeout_s",
            limits_table.get("init_timeout_s", defaults.init_timeout_s),
        ),
        time_bank_s=_non_negative(
            path, "[limits].time_bank_s", limits_table.get("time_bank_s", defaults.time_bank_s)
        ),
        memory_mb=_int(
            path, "[limits].memory_mb", limits_table.get("memory_mb", defaults.memory_mb), 16
        ),
        cpu_time_s=_positive(
            path, "[limits].cpu_time_s", limits_table.get("cpu_time_s", defaults.cpu_time_s)
        ),
        max_processes=_int(
            path,
            "[limits].max_processes",
            limits_table.get("max_processes", defaults.max_processes),
            1,
        ),
        cpus=_positive(path, "[limits].cpus", limits_table.get("cpus", defaults.cpus)),
        reuse_process=_bool(
            path,
            "[limits].reuse_process",
            limits_table.get("reuse_process", defaults.reuse_process),
        ),
    )

    schedule = data.get("schedule", {})
    if not isinstance(schedule, dict):
        raise ArenaError(f"{path}: [schedule]: expected a table")
    _unknown(path, "[schedule].", schedule, SCHEDULE_KEYS)
    if len(schedule) > 1:
        raise ArenaError(f"{path}: [schedule]: give either 'every' or 'cron', not both")
    if "every" in schedule and (
        not isinstance(schedule["every"], str) or not EVERY_RE.match(schedule["every"])
    ):
        raise ArenaError(
            f'{path}: [schedule].every: expected a duration like "30m", "24h" or "7d", '
            f"got {schedule['every']!r}"
        )
    if "cron" in schedule and (
        not isinstance(schedule["cron"], str) or len(schedule["cron"].split()) != 5
    ):
        raise ArenaError(
            f'{path}: [schedule].cron: expected five cron fields like "0 3 * * *", '
            f"got {schedule['cron']!r}"
        )

    entrants_table = data.get("entrants")
    if not isinstance(entrants_table, list) or not entrants_table:
        raise ArenaError(f"{path}: [[entrants]]: missing (a tournament needs at least two)")
    entrants = []
    for i, entrant in enumerate(entrants_table, start=1):
        if not isinstance(entrant, dict):
            raise ArenaError(f"{path}: entrants[{i}]: expected a table with 'agent'")
        _unknown(path, f"entrants[{i}].", entrant, ENTRANT_KEYS)
        agent = entrant.get("agent")
        if not isinstance(agent, str) or not agent.strip():
            raise ArenaError(f"{path}: entrants[{i}].agent: missing required string")
        entrants.append(agent)
    if len(entrants) < 2:
        raise ArenaError(f"{path}: [[entrants]]: a tournament needs at least two, got 1")
    if "challenger" in options:
        challenger = options["challenger"]
        if challenger not in entrants:
            raise ArenaError(
                f"{path}: [tournament].challenger: {challenger!r} is not one of the entrants "
                "(use the same text as its [[entrants]] agent)"
            )
        options["challenger"] = entrants.index(challenger)
    try:
        make_format(fmt, options).check(len(entrants))
    except ArenaError as exc:
        raise ArenaError(f"{path}: {exc}") from None

    return TournamentConfig(
        path=path,
        name=table["name"],
        env_id=env_id,
        format=fmt,
        games_per_pairing=games,
        seed=seed,
        entrants=tuple(entrants),
        limits=limits,
        rounds=rounds,
        description=description,
        schedule=dict(schedule),
        env_kwargs=dict(env_kwargs),
        raw=data,
        options=options,
    )
