"""Tournament formats: pure pairing logic behind one interface.

``make_format(name, options)`` builds a format from the ``[tournament]`` table's
format options; ``fmt.next_games(entrants, history)`` then yields batch after batch of
`GameSpec`\\ s until it returns None. See `tournaments.formats.base` for the contract
between a format and the runner, and each module for its format's rules:

- ``round-robin`` (`RoundRobin`): every pair; optional SPRT head-to-head.
- ``gauntlet`` (`Gauntlet`): one challenger against everyone else.
- ``swiss`` (`Swiss`): rounds pairing equal scores, no rematches.
- ``knockout`` (`Knockout`): single elimination, seeded bracket, tie-breaks.
- ``ladder`` (`Ladder`): matchmaking rounds by TrueSkill match quality.
- ``free-for-all`` (`FreeForAll`): N-player groups with rotating seats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from arena.errors import ArenaError
from tournaments.formats.base import Entrant, Format, FormatBase, GameResult, GameSpec
from tournaments.formats.free_for_all import FreeForAll
from tournaments.formats.gauntlet import Gauntlet
from tournaments.formats.knockout import Knockout
from tournaments.formats.ladder import Ladder
from tournaments.formats.round_robin import RoundRobin
from tournaments.formats.sprt import SprtConfig, sprt_bounds, sprt_llr
from tournaments.formats.swiss import Swiss

__all__ = [
    "FORMATS",
    "OPTION_KEYS",
    "Entrant",
    "Format",
    "FormatBase",
    "FreeForAll",
    "GameResult",
    "GameSpec",
    "Gauntlet",
    "Knockout",
    "Ladder",
    "RoundRobin",
    "SprtConfig",
    "Swiss",
    "make_format",
    "sprt_bounds",
    "sprt_llr",
]

#: Format name (the ``[tournament].format`` value) -> class.
FORMATS: dict[str, type[FormatBase]] = {
    cls.name: cls for cls in (RoundRobin, Gauntlet, Swiss, Knockout, Ladder, FreeForAll)
}

#: Every ``[tournament]`` key that is a format option of some format.
OPTION_KEYS: tuple[str, ...] = tuple(
    sorted({key for cls in FORMATS.values() for key in cls.OPTIONS})
)


def make_format(name: str, options: Mapping[str, Any] | None = None) -> Format:
    """The format ``name`` configured with ``options`` (keyword arguments of its class).

    Options whose value is None count as not given, so a caller may pass every format
    option it knows about. An option another format uses is refused by name.

    Raises:
        ArenaError: an unknown format, an option this format does not take, or a bad
            value, e.g. ``[tournament].rounds: not used by format 'round-robin'``.
    """
    cls = FORMATS.get(name)
    if cls is None:
        raise ArenaError(
            f"[tournament].format: unknown format {name!r} (available: {', '.join(FORMATS)})"
        )
    kwargs: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if value is None:
            continue
        if key not in cls.OPTIONS:
            if key in OPTION_KEYS:
                raise ArenaError(f"[tournament].{key}: not used by format '{name}'")
            raise ArenaError(
                f"[tournament].{key}: unknown format option (format '{name}' takes: "
                f"{', '.join(cls.OPTIONS)})"
            )
        kwargs[key] = value
    return cast(Format, cls(**kwargs))
