"""Author notes for one env: seats, observations, actions, ranks and arguments.

The spaces (type, shape, dtype, n) are read from the env itself, built with the
spec's defaults; the prose comes from the spec's :class:`~arena.specs.EnvNotes`,
filled by ``envs/registry.py``. ``arena envs ENV`` prints :func:`text`, ``--json``
prints :func:`describe`, and docs/envs.md is :func:`markdown`::

    .venv/bin/python -m arena.env_notes > docs/envs.md

Envs of one family that share one notes object (the Atari games) are written
up once in the page, from the notes alone: the page never needs an optional
extra, and ``arena envs GAME`` reads that game's own spaces.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from arena.errors import ArenaError
from arena.registry import env_specs
from arena.specs import EnvNotes, EnvSpec, Part, RoleNotes

__all__ = ["describe", "markdown", "text"]

WIDTH = 80


def _spec(env_id: str) -> EnvSpec:
    spec = env_specs().get(env_id)
    if spec is None:
        raise ArenaError(f"unknown env '{env_id}' (see arena envs)")
    return spec


def _number(value: Any) -> str:
    number = float(value)
    if number == float("inf"):
        return "inf"
    if number == float("-inf"):
        return "-inf"
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _bounds(space: Any) -> str:
    import numpy as np

    low, high = np.asarray(space.low), np.asarray(space.high)
    if low.size == 0:
        return ""
    lo = _number(low.flat[0]) if (low == low.flat[0]).all() else "per entry"
    hi = _number(high.flat[0]) if (high == high.flat[0]).all() else "per entry"
    if "per entry" in (lo, hi):
        return f"{_number(low.min())}..{_number(high.max())} (bounds per entry)"
    return f"{lo}..{hi}"


def space_info(space: Any) -> dict[str, Any]:
    """A gymnasium space as plain data: type, shape, dtype, n (Discrete), bounds (Box)."""
    info: dict[str, Any] = {"type": type(space).__name__}
    if hasattr(space, "n"):
        info["n"] = int(space.n)
        info["start"] = int(getattr(space, "start", 0))
    shape = getattr(space, "shape", None)
    if shape is not None:
        info["shape"] = [int(d) for d in shape]
    dtype = getattr(space, "dtype", None)
    if dtype is not None:
        info["dtype"] = str(dtype)
    if hasattr(space, "low") and hasattr(space, "high"):
        info["bounds"] = _bounds(space)
    info["space"] = str(space)
    return info


def _space_text(info: dict[str, Any]) -> str:
    if "n" in info:
        first = info["start"]
        return f"Discrete({info['n']}), an int {first}-{first + info['n'] - 1}"
    shape = tuple(info.get("shape", ()))
    head = f"{info['type']} {shape} {info.get('dtype', '')}".rstrip()
    bounds = info.get("bounds")
    return f"{head}, values {bounds}" if bounds else head


def _read_spaces(spec: EnvSpec) -> tuple[Any, str | None]:
    """The env built with its defaults, or None and why it cannot be built here."""
    try:
        spec.require()
    except ArenaError as exc:
        return None, str(exc)
    with warnings.catch_warnings():
        # PettingZoo's deprecation notes are about its API, not this env's spaces.
        warnings.simplefilter("ignore")
        return spec.build(), None


def _parts(layout: tuple[Part, ...]) -> list[dict[str, Any]]:
    rows, first = [], 0
    for part in layout:
        rows.append({"first": first, "last": first + part.size - 1, "what": part.what})
        first += part.size
    return rows


def _turns(spec: EnvSpec, notes: EnvNotes) -> str:
    if spec.turn_based:
        head = "Turn-based: one seat acts at a time (PettingZoo AEC)."
    else:
        head = "Simultaneous: every seat acts at each step (PettingZoo parallel)."
    return f"{head} {notes.turns}".strip()


def _ranks(spec: EnvSpec) -> str:
    if len(spec.teams) > 1:
        return (
            f"A team's score is the {spec.team_score} of its seats' returns; the higher "
            "score ranks first, equal scores tie (a draw). A side that forfeits ranks last."
        )
    return (
        f"One team: a match is a shared result (the {spec.team_score} of the seats' "
        "returns), stored but not rated; the leaderboard ranks agents by team return. "
        "A side that forfeits ranks last."
    )


def _toml(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _kwargs(spec: EnvSpec, notes: EnvNotes) -> list[dict[str, Any]]:
    documented = {kw.name for kw in notes.kwargs}
    rows = [
        {"name": kw.name, "default": spec.kwargs.get(kw.name, kw.default), "meaning": kw.meaning}
        for kw in notes.kwargs
    ]
    # Defaults the arena sets on top of the env's, without a note of their own.
    for name, value in spec.kwargs.items():
        if name not in documented:
            rows.append({"name": name, "default": value, "meaning": "set by the arena"})
    return rows


def _role_seats(spec: EnvSpec) -> dict[str, list[str]]:
    seats: dict[str, list[str]] = {}
    for side in spec.sides:
        seats.setdefault(side.role, []).extend(side.seats)
    return seats


def _seat_entry(spec: EnvSpec, env: Any, role: str, seat: str, notes: RoleNotes) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "role": role,
        "seats": [seat],
        "observation": None,
        "action_mask": None,
        "observation_notes": notes.observation,
        "layout": _parts(notes.layout),
        "action": None,
        "action_notes": notes.actions,
        "action_names": None,
    }
    if env is None:
        return entry
    space = env.observation_space(seat)
    if spec.action_mask:
        entry["action_mask"] = space_info(space["action_mask"])
        space = space["observation"]
    entry["observation"] = space_info(space)
    entry["action"] = space_info(env.action_space(seat))
    base = spec.notes
    if base is not None and base.action_names is not None:
        entry["action_names"] = list(base.action_names(env, seat))
    return entry


def _roles(spec: EnvSpec, env: Any) -> list[dict[str, Any]]:
    """One entry per role, split where seats of a role see or do different things."""
    notes = spec.notes or EnvNotes()
    entries: list[dict[str, Any]] = []
    for role, seats in _role_seats(spec).items():
        groups: list[dict[str, Any]] = []
        for seat in seats:
            entry = _seat_entry(spec, env, role, seat, notes.for_seat(role, seat))
            same = next(
                (g for g in groups if {**g, "seats": None} == {**entry, "seats": None}), None
            )
            if same is None:
                groups.append(entry)
            else:
                same["seats"].append(seat)
        entries.extend(groups)
    return entries


def describe(env_id: str, *, build: bool = True) -> dict[str, Any]:
    """Everything an author needs about ``env_id``, as plain data (``arena envs ENV --json``).

    Args:
        env_id: a registered env id.
        build: read the spaces from a freshly built env; False gives the notes only.

    Raises:
        ArenaError: ``env_id`` is unknown.
    """
    spec = _spec(env_id)
    notes = spec.notes or EnvNotes()
    env, unavailable = _read_spaces(spec) if build else (None, None)
    try:
        roles = _roles(spec, env)
    finally:
        if env is not None:
            env.close()
    return {
        "env": spec.env_id,
        "family": spec.family,
        "description": spec.description,
        "version": spec.version,
        "available": not spec.missing(),
        "unavailable": unavailable,
        "sides": [{"role": s.role, "seats": list(s.seats), "team": s.team} for s in spec.sides],
        "turn_based": spec.turn_based,
        "turns": _turns(spec, notes),
        "action_mask": spec.action_mask,
        "roles": roles,
        "rewards": notes.rewards,
        "team_score": spec.team_score,
        "ranks": _ranks(spec),
        "kwargs": _kwargs(spec, notes),
        "reference": notes.reference,
    }


# --- the terminal -----------------------------------------------------------------


def _para(label: str, body: str, indent: str = "") -> list[str]:
    if not body:
        return []
    return textwrap.wrap(
        f"{label}{body}",
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
    )


def _index(row: dict[str, Any]) -> str:
    return str(row["first"]) if row["first"] == row["last"] else f"{row['first']}-{row['last']}"


def _layout_lines(entry: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for row in entry["layout"]:
        key = f"{indent}{_index(row):<8}"
        lines.extend(
            textwrap.wrap(
                row["what"],
                width=WIDTH,
                initial_indent=key,
                subsequent_indent=" " * len(key),
                break_on_hyphens=False,
            )
        )
    return lines


def _names(names: list[str]) -> str:
    return ", ".join(f"{i} {name}" for i, name in enumerate(names)) + "."


def _role_lines(entry: dict[str, Any]) -> list[str]:
    lines = [f"Role {entry['role']}: {', '.join(entry['seats'])}"]
    obs = entry["observation"]
    head = f"{_space_text(obs)}. " if obs else ""
    lines += _para("Observation: ", head + entry["observation_notes"], "  ")
    if entry["layout"]:
        shape = obs["shape"] if obs else []
        axis = "planes" if len(shape) >= 3 else "entries"
        lines.append(f"    {axis} (last axis):")
        lines += _layout_lines(entry, "    ")
    if entry["action_mask"]:
        mask = entry["action_mask"]
        lines += _para(
            "Action mask: ",
            f"{tuple(mask['shape'])} {mask['dtype']}, 1 = legal, passed to act() as "
            "action_mask; playing a masked action forfeits.",
            "  ",
        )
    act = entry["action"]
    head = f"{_space_text(act)}. " if act else ""
    lines += _para("Actions: ", head + entry["action_notes"], "  ")
    if entry["action_names"]:
        lines += _para("", _names(entry["action_names"]), "    ")
    return lines


def _side_text(side: dict[str, Any]) -> str:
    return f"{side['role']}: {', '.join(side['seats'])} (team {side['team']})"


def text(env_id: str) -> str:
    """The notes of ``env_id`` for the terminal, in lines of at most 80 columns."""
    info = describe(env_id)
    lines = _para("", f"{info['env']} ({info['family']}): {info['description']}")
    if info["version"]:
        lines += _para("", info["version"], "  ")
    lines.append("")
    lines.append("Sides, in the order arena match fills them:")
    lines += [f"  {n}. {_side_text(side)}" for n, side in enumerate(info["sides"], 1)]
    lines += _para("Turns: ", info["turns"])
    if info["unavailable"]:
        lines += _para("Spaces: not read here: ", info["unavailable"])
    for entry in info["roles"]:
        lines.append("")
        lines += _role_lines(entry)
    lines.append("")
    lines += _para("Rewards: ", info["rewards"])
    lines += _para("Ranks: ", info["ranks"])
    if info["kwargs"]:
        lines.append("Arguments a tournament may set ([tournament].env_kwargs), defaults:")
        for kw in info["kwargs"]:
            lines += _para("", f"{kw['name']} = {_toml(kw['default'])}: {kw['meaning']}", "  ")
    else:
        lines.append("Arguments a tournament may set: none.")
    lines += _para("Reference: ", info["reference"])
    return "\n".join(lines)


# --- docs/envs.md -----------------------------------------------------------------

_INTRO = """\
# Environments

Arena env ids are PettingZoo module names. `arena envs` lists them with their
sides; `arena envs ENV` prints one env's author notes (the ones below, with the
spaces read from the env itself) and `arena envs ENV --json` the same as JSON.

This page is generated from the env specs (`envs/registry.py`) by
`.venv/bin/python -m arena.env_notes > docs/envs.md`;
`tests/unit/test_env_notes.py` fails when it is out of date.

## Sides, roles and teams

A **side** is the set of seats one package fills in a match; `arena match ENV A B`
gives side 0 to A and side 1 to B. A **role** names what a side does
(`player`, `adversary`, `speaker`...); a package may restrict the roles it can
fill with `roles = [...]`. Sides on the same **team** share one result
(`simple_speaker_listener_v4`: the speaker and the listener are one team).

When you name one agent per team instead of one per side, that agent fills
every side of its team: `arena match simple_speaker_listener_v4 my-pair`.

## Scoring

A team's score is the sum (`team_score = sum`) or the mean (`mean`) of its
seats' returns over the episode; teams rank by score, higher is better, equal
scores tie. Zero-sum board and card games use the sum (one seat per side, so the
game's own +1/-1/0). The particle envs and Hanabi use the mean, so a team's
score does not grow with its size. A forfeiting team ranks last.

Decisions worth knowing:

- Envs with one team are cooperative: every match is a shared result, stored
  but not rated by TrueSkill; the leaderboard ranks them by team return.
  Here: {cooperative}.
- Competitive particle envs compare teams by mean return, which is a rough
  "who did better" on games that are not zero-sum.
- Keyword arguments that change the number of seats (`players` for Hanabi,
  `num_players` for the Pong variants, `N` for `simple_spread_v3`) break the
  sides above; tournaments must not use them. Symmetric one-seat-per-side games
  are the exception: hold'em with `num_players = 4` gets one side per seat.
- The four-player Atari games (foozpong, quadrapong, volleyball pong, warlords)
  are not registered.
- Atari needs the `atari` extra (`pip install -e '.[atari]'`); the ROMs ship
  inside `ale-py` and are passed as `auto_rom_install_path` automatically.

## What an agent receives

`act` gets its own seat's observation (docs/agent-protocol.md). Where an env
has an action mask, the observation below is the inner `observation` and the
mask comes as `action_mask` (int8, 1 = legal); playing a masked action forfeits.
A layout lists the observation's last axis in order (planes for boards,
entries for vectors), for the env's default arguments.

## Text renderers

{renderers}
"""


def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def _table(rows: Iterable[dict[str, Any]]) -> list[str]:
    lines = [
        "| env | family | sides (role: seats, team) | turns | mask | team score |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        sides = "; ".join(_side_text(s) for s in r["sides"])
        turns = "turn-based" if r["turn_based"] else "simultaneous"
        mask = "yes" if r["action_mask"] else "no"
        lines.append(
            f"| `{r['env']}` | {r['family']} | {sides} | {turns} | {mask} | {r['team_score']} |"
        )
    return lines


def _md_para(label: str, body: str) -> list[str]:
    return [f"{label}{body}", ""] if body else []


def _md_kwargs(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["**Arguments** a tournament may set: none.", ""]
    lines = [
        "**Arguments** a tournament may set (`[tournament].env_kwargs`):",
        "",
        "| argument | default | meaning |",
        "| --- | --- | --- |",
    ]
    for kw in rows:
        lines.append(f"| `{kw['name']}` | `{_toml(kw['default'])}` | {_cell(kw['meaning'])} |")
    return [*lines, ""]


def _md_role(entry: dict[str, Any]) -> list[str]:
    seats = ", ".join(entry["seats"])
    lines = [f"**Role `{entry['role']}`** ({seats})", ""]
    obs = entry["observation"]
    head = f"`{_space_text(obs)}`. " if obs else ""
    lines += _md_para("Observation: ", head + entry["observation_notes"])
    if entry["layout"]:
        axis = "planes" if obs and len(obs["shape"]) >= 3 else "entries"
        lines += [f"| {axis} | what |", "| --- | --- |"]
        lines += [f"| {_index(row)} | {_cell(row['what'])} |" for row in entry["layout"]]
        lines.append("")
    if entry["action_mask"]:
        mask = entry["action_mask"]
        lines += _md_para("Action mask: ", f"`{tuple(mask['shape'])} {mask['dtype']}`.")
    act = entry["action"]
    head = f"`{_space_text(act)}`. " if act else ""
    lines += _md_para("Actions: ", head + entry["action_notes"])
    if entry["action_names"]:
        lines += _md_para("", _names(entry["action_names"]))
    return lines


def _md_env(env_id: str) -> list[str]:
    info = describe(env_id)
    lines = [f"#### `{env_id}`", "", f"{info['description']}.", ""]
    sides = "; ".join(_side_text(s) for s in info["sides"])
    lines += [f"- **Sides:** {sides}", f"- **Turns:** {info['turns']}"]
    if info["unavailable"]:
        lines.append(f"- **Spaces:** not read: {info['unavailable']}")
    lines.append("")
    for entry in info["roles"]:
        lines += _md_role(entry)
    lines += _md_para("**Rewards:** ", info["rewards"])
    lines += _md_para("**Ranks:** ", info["ranks"])
    lines += _md_kwargs(info["kwargs"])
    lines += _md_para("Reference: ", f"<{info['reference']}>" if info["reference"] else "")
    return lines


def _md_shared(specs: list[EnvSpec]) -> list[str]:
    """One write-up for envs that share their notes, from the notes alone."""
    infos = [describe(spec.env_id, build=False) for spec in specs]
    first = infos[0]
    lines = [
        f"These {len(specs)} games share one note. Run `arena envs GAME` for a game's "
        "frame shape and the names of its actions, read from the env.",
        "",
        "| env | description | team score |",
        "| --- | --- | --- |",
    ]
    for info in infos:
        score = info["team_score"] if len({s["team"] for s in info["sides"]}) > 1 else "one team"
        lines.append(f"| `{info['env']}` | {_cell(info['description'])} | {score} |")
    lines += ["", f"- **Turns:** {first['turns']}", ""]
    for entry in first["roles"]:
        lines += _md_role(entry)
    lines += _md_para("**Rewards:** ", first["rewards"])
    ranks: dict[str, list[str]] = {}
    for info in infos:
        ranks.setdefault(info["ranks"], []).append(info["env"])
    if len(ranks) == 1:
        lines += _md_para("**Ranks:** ", first["ranks"])
    else:
        # The usual rule for the other games, the exceptions by name.
        usual, *rest = sorted(ranks.items(), key=lambda item: -len(item[1]))
        lines += ["**Ranks:**", ""]
        for line, ids in rest:
            lines.append(f"- {', '.join(f'`{i}`' for i in ids)}: {line}")
        lines += [f"- the other games: {usual[0]}", ""]
    lines += _md_kwargs(first["kwargs"])
    lines += _md_para("Reference: ", f"<{first['reference']}>" if first["reference"] else "")
    return lines


def _families(specs: Iterable[EnvSpec]) -> Iterator[tuple[str, list[EnvSpec]]]:
    families: dict[str, list[EnvSpec]] = {}
    for spec in specs:
        families.setdefault(spec.family, []).append(spec)
    yield from families.items()


def markdown() -> str:
    """docs/envs.md: sides and scoring, the table, then every env's author notes."""
    from arena.catalogue import env_catalogue

    specs = env_specs()
    cooperative = [s.env_id for s in specs.values() if len(s.teams) == 1]
    renderers = [s.env_id for s in specs.values() if s.render_text is not None]
    lines = [
        _INTRO.format(
            cooperative=", ".join(f"`{i}`" for i in sorted(cooperative)) or "none",
            renderers=textwrap.fill(
                f"{', '.join(f'`{i}`' for i in renderers) or 'No envs'} have text "
                "renderers for the terminal (`arena play`, replays).",
                width=WIDTH,
                break_on_hyphens=False,
            ),
        ),
        "## The table",
        "",
        *_table(env_catalogue()),
        "",
        "## Author notes",
        "",
    ]
    for family, members in _families(specs.values()):
        lines += [f"### The {family} envs", ""]
        shared = len(members) > 1 and all(m.notes is members[0].notes for m in members)
        if shared:
            lines += _md_shared(members)
            continue
        for spec in members:
            lines += _md_env(spec.env_id)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())
