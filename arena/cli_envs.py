"""``arena envs [ENV]``: the environments agents can play, and one env's author notes."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from arena.console import call, out, print_json, write
from arena.console import table as console_table

# Below this many columns the table drops the family and mask columns and shortens
# the turn model, so it fits an 80-column terminal.
WIDE = 100


def register(app: typer.Typer) -> None:
    app.command("envs")(envs_command)


def envs_command(
    env: Annotated[
        str | None,
        typer.Argument(help="Env id: print its seats, observations, actions and scoring."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the environments agents can play, or describe one (ENV)."""
    if env is not None:
        _describe(env, as_json)
        return
    from arena.catalogue import env_catalogue

    rows = call(env_catalogue)
    if as_json:
        print_json(rows)
        return
    out.print(_table(rows, wide=out.width >= WIDE))


def _describe(env_id: str, as_json: bool) -> None:
    from arena import env_notes

    if as_json:
        print_json(call(lambda: env_notes.describe(env_id)))
        return
    write(call(lambda: env_notes.text(env_id)))


def _sides(row: dict[str, Any]) -> str:
    return " vs ".join(
        f"{s['role']}×{len(s['seats'])}" if len(s["seats"]) > 1 else s["role"] for s in row["sides"]
    )


def _table(rows: list[dict[str, Any]], *, wide: bool) -> Table:
    table = console_table("Environments", caption="arena envs ENV: one env's observations, actions")
    columns: tuple[str, ...] = ("env", "family", "sides", "turns", "mask", "available")
    if not wide:
        columns = ("env", "sides", "moves", "available")
    for col in columns:
        table.add_column(col)
    for r in rows:
        cells = {
            "env": r["env"],
            "family": r["family"],
            "sides": _sides(r),
            "turns": "turn-based" if r["turn_based"] else "simultaneous",
            "moves": "in turn" if r["turn_based"] else "at once",
            "mask": "yes" if r["action_mask"] else "",
            "available": "yes" if r["available"] else "no (extra)",
        }
        table.add_row(*(cells[col] for col in columns))
    return table
