"""The tournament file: parsed and validated completely before any match is played.

Every error is one line naming the file and the key, e.g.
``demo.toml: [tournament].env: unknown env 'conect_four_v3' (run 'arena envs' for the list)``.

A role contest (role-asymmetric envs only) sets ``[tournament].role`` and gives
the other roles' agents in ``[background]``, one array per role::

    [tournament]
    env = "simple_tag_v3"
    role = "adversary"

    [background]
    agent = ["random", "tag-chaser"]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, ClassVar

from arena.config_check import NON_NEGATIVE, POSITIVE, Check, Prose, at_least, check_table
from arena.errors import ArenaError
from arena.limits import Limits
from arena.rating import asymmetric
from arena.registry import env_specs
from tournaments.formats import FORMATS, OPTION_KEYS, Format, make_format

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EVERY_RE = re.compile(r"^\d+(\.\d+)?\s*[smhd]$")
# Tournament files have always said "missing required string" for a missing name.
WORDING = Prose(missing="missing required {noun}")
DEFAULT_LIMITS = Limits()

# A blank name is as good as none.
REQUIRED_TEXT = Check(lambda v: bool(v.strip()), says=lambda _: "missing required string")
KNOWN_ENV = Check(
    lambda v: v in env_specs(),
    says=lambda v: f"unknown env '{v}' (run 'arena envs' for the list)",
)
KNOWN_FORMAT = Check(
    lambda v: v in FORMATS,
    says=lambda v: f"unknown format {v!r} (available: {', '.join(FORMATS)})",
)
DURATION = Check(lambda v: EVERY_RE.match(v) is not None, 'a duration like "30m", "24h" or "7d"')
CRON = Check(lambda v: len(v.split()) == 5, 'five cron fields like "0 3 * * *"')


@dataclass(frozen=True, kw_only=True)
class TournamentTable:
    """The ``[tournament]`` table. The format's options are checked by the format."""

    other_keys: ClassVar[tuple[str, ...]] = OPTION_KEYS

    name: Annotated[str, REQUIRED_TEXT]
    env: Annotated[str, REQUIRED_TEXT, KNOWN_ENV]
    format: Annotated[str, KNOWN_FORMAT] = "round-robin"
    seed: Annotated[int, at_least(0)] = 0
    description: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    games_per_pairing: Annotated[int, at_least(1)] = 2
    role: str = ""


@dataclass(frozen=True)
class LimitsTable:
    """The ``[limits]`` table: the :class:`~arena.limits.Limits` a tournament file may set."""

    move_timeout_s: Annotated[float, POSITIVE] = DEFAULT_LIMITS.move_timeout_s
    init_timeout_s: Annotated[float, POSITIVE] = DEFAULT_LIMITS.init_timeout_s
    time_bank_s: Annotated[float, NON_NEGATIVE] = DEFAULT_LIMITS.time_bank_s
    memory_mb: Annotated[int, at_least(16)] = DEFAULT_LIMITS.memory_mb
    cpu_time_s: Annotated[float, POSITIVE] = DEFAULT_LIMITS.cpu_time_s
    max_processes: Annotated[int, at_least(1)] = DEFAULT_LIMITS.max_processes
    cpus: Annotated[float, POSITIVE] = DEFAULT_LIMITS.cpus
    reuse_process: bool = DEFAULT_LIMITS.reuse_process

    def limits(self) -> Limits:
        return Limits(**{f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True)
class ScheduleTable:
    """The ``[schedule]`` table: when ``arena scheduler`` runs the tournament."""

    every: Annotated[str, DURATION] | None = None
    cron: Annotated[str, CRON] | None = None


@dataclass(frozen=True)
class EntrantTable:
    """One ``[[entrants]]`` table."""

    agent: Annotated[str, REQUIRED_TEXT]


@dataclass(frozen=True, kw_only=True)
class TournamentFile:
    """The whole tournament file."""

    tournament: TournamentTable
    limits: LimitsTable = field(default_factory=LimitsTable)
    schedule: ScheduleTable = field(default_factory=ScheduleTable)
    background: dict[str, list[str]] = field(default_factory=dict)
    entrants: tuple[EntrantTable, ...] = ()


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
    #: A role contest: the role every entrant plays ("" = entrants play every role).
    role: str = ""
    #: A role contest's background agents, by the other roles (in the env's role order).
    background: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def make_format(self) -> Format:
        """The configured pairing format (options validated at load time)."""
        return make_format(self.format, self.options)

    @property
    def base_dir(self) -> Path:
        """Folder that relative entrant paths are relative to."""
        return self.path.parent


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
    checked = check_table(data, TournamentFile, path, wording=WORDING)
    table = checked.tournament
    options = {k: data["tournament"][k] for k in OPTION_KEYS if k in data["tournament"]}
    options["games_per_pairing"] = table.games_per_pairing
    schedule = {k: v for k, v in vars(checked.schedule).items() if v is not None}
    if len(schedule) > 1:
        raise ArenaError(f"{path}: [schedule]: give either 'every' or 'cron', not both")
    entrants = [entrant.agent for entrant in checked.entrants]
    if not entrants:
        raise ArenaError(f"{path}: [[entrants]]: missing (a tournament needs at least two)")
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
        make_format(table.format, options).check(len(entrants))
    except ArenaError as exc:
        raise ArenaError(f"{path}: {exc}") from None
    background = _role_contest(path, table, checked.background)

    return TournamentConfig(
        path=path,
        name=table.name,
        env_id=table.env,
        format=table.format,
        games_per_pairing=table.games_per_pairing,
        seed=table.seed,
        entrants=tuple(entrants),
        limits=checked.limits.limits(),
        rounds=options.get("rounds"),
        description=table.description,
        schedule=schedule,
        env_kwargs=table.env_kwargs,
        raw=data,
        options=options,
        role=table.role,
        background=background,
    )


def _role_contest(
    path: Path, table: TournamentTable, background: dict[str, list[str]]
) -> dict[str, tuple[str, ...]]:
    """Check ``[tournament].role`` and ``[background]`` against the env; the background pool."""
    spec = env_specs()[table.env]
    roles = spec.roles
    if not table.role:
        if background:
            raise ArenaError(
                f"{path}: [background]: only for a role contest (set [tournament].role)"
            )
        return {}
    if not asymmetric((side.role, side.team) for side in spec.sides):
        raise ArenaError(
            f"{path}: [tournament].role: env '{table.env}' is not role-asymmetric "
            "(a role contest needs two roles on two teams)"
        )
    if table.role not in roles:
        raise ArenaError(
            f"{path}: [tournament].role: env '{table.env}' has roles {', '.join(roles)}; "
            f"got '{table.role}'"
        )
    others = [role for role in roles if role != table.role]
    for role in background:
        if role == table.role:
            raise ArenaError(
                f"{path}: [background].{role}: the contest's own role; background agents "
                f"fill the other roles ({', '.join(others)})"
            )
        if role not in roles:
            raise ArenaError(
                f"{path}: [background].{role}: env '{table.env}' has roles {', '.join(roles)}"
            )
    for role in others:
        agents = background.get(role)
        if agents is None:
            raise ArenaError(
                f"{path}: [background].{role}: missing (a contest of role '{table.role}' "
                f"needs background agents for role '{role}')"
            )
        if not agents or not all(agent.strip() for agent in agents):
            raise ArenaError(
                f'{path}: [background].{role}: expected a list of agents, like ["random"]'
            )
    return {role: tuple(background[role]) for role in others}
