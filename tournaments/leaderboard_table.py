"""The leaderboard as a terminal table that fits the terminal.

Columns fold as the width shrinks, in this order (the rank order, ``mu-3σ``,
never goes):

- from 100 columns: every column, ``W``, ``D``, ``L`` apart;
- under 100: the Bradley-Terry rating and its interval share one column, kind
  goes, ``mu ± σ`` share one, and wins, draws and losses read ``W-D-L``;
- ``env`` shows only when one table holds several envs (the CLI prints one table
  per env, the env in its title), ``role`` only when it holds several roles.

Every column is named in a legend under the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from arena.console import WIDE, cell
from arena.console import table as console_table
from arena.labels import VersionName, hash_tags

if TYPE_CHECKING:
    from tournaments.leaderboard import LeaderboardRow

LEGEND = (
    "mu-3σ: TrueSkill's conservative rating (mu minus three sigma), the rank order. "
    "BT: Bradley-Terry rating on the Elo scale, [95% bootstrap interval]. "
    "W-D-L: wins, draws, losses."
)
TEAM_LEGEND = " team return: mean return of the team, [95% interval]."


def number(value: float, digits: int = 2) -> str:
    """A number as people write it: fixed decimals and thousands separators, no exponent."""
    return f"{value:,.{digits}f}"


def count(value: int) -> str:
    """An integer with thousands separators (``51,700``)."""
    return f"{value:,}"


def agent_labels(rows: Sequence[LeaderboardRow]) -> list[str]:
    """``name@version`` per row, the form tournaments and ``arena match`` take, with the
    short hash of :mod:`arena.labels` where two different contents share it."""
    tags = hash_tags(VersionName(r.agent, r.version, r.hash) for r in rows)
    return [f"{r.agent}@{r.version} {tags[r.hash]}".rstrip() for r in rows]


def leaderboard_table(
    rows: Sequence[LeaderboardRow], title: str, width: int, *, legend: bool = True
) -> Table:
    """The rows as a rich table that fits ``width`` columns (see the module's rules);
    ``legend``: the line naming the columns under it."""
    wide = width >= WIDE
    envs = Counter(r.env for r in rows)
    roles = Counter(r.role for r in rows)
    show_env = len(envs) > 1
    show_role = len(roles) > 1
    team = any(r.team_return is not None for r in rows)
    caption = LEGEND + (TEAM_LEGEND if team else "") if legend else None
    table = console_table(title, caption=caption)
    left = {"env", "agent", "kind", "role"}
    columns = ["#"]
    if show_env:
        columns.append("env")
    columns.append("agent")
    if show_role:
        columns.append("role")
    if wide:
        columns.append("kind")
    columns.append("mu-3σ")
    columns += ["mu", "σ"] if wide else ["mu ± σ"]
    columns += ["BT", "BT 95%"] if wide else ["BT [95%]"]
    columns.append("games")
    columns += ["W", "D", "L"] if wide else ["W-D-L"]
    if team:
        columns.append("team return [95%]")
    for col in columns:
        table.add_column(
            col,
            justify="left" if col in left else "right",
            overflow="fold",
            no_wrap=col not in left,
        )
    for r, label in zip(rows, agent_labels(rows), strict=True):
        bt = "-" if r.bt is None else f"{r.bt:.0f}"
        interval = "-"
        if r.bt_low is not None and r.bt_high is not None:
            interval = f"{r.bt_low:.0f}-{r.bt_high:.0f}"
        values = [str(r.rank)]
        if show_env:
            values.append(cell(r.env))
        values.append(cell(label))
        if show_role:
            values.append(cell(r.role or "all"))
        if wide:
            values.append(cell(r.kind))
        values.append(number(r.score))
        if wide:
            values += [number(r.mu), number(r.sigma)]
        else:
            values.append(f"{number(r.mu, 1)} ± {number(r.sigma, 1)}")
        if wide:
            values += [bt, interval]
        else:
            values.append(bt if interval == "-" else f"{bt} [{interval}]")
        values.append(count(r.games))
        if wide:
            values += [count(r.wins), count(r.draws), count(r.losses)]
        else:
            values.append(f"{r.wins}-{r.draws}-{r.losses}")
        if team:
            low, high = r.team_return_low, r.team_return_high
            shown = "-" if r.team_return is None else number(r.team_return, 1)
            if low is not None and high is not None:
                shown += f" [{number(low, 1)}, {number(high, 1)}]"
            values.append(shown)
        table.add_row(*values)
    return table
