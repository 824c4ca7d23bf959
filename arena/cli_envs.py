"""``arena envs``: the environments agents can play."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from arena.console import call, out, print_json


def register(app: typer.Typer) -> None:
    app.command("envs")(envs_command)


def envs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the environments agents can play."""
    from arena.catalogue import env_catalogue

    rows = call(env_catalogue)
    if as_json:
        print_json(rows)
        return
    table = Table(title="Environments")
    for col in ("env", "family", "sides", "turns", "mask", "available"):
        table.add_column(col)
    for r in rows:
        sides = " vs ".join(
            f"{s['role']}×{len(s['seats'])}" if len(s["seats"]) > 1 else s["role"]
            for s in r["sides"]
        )
        table.add_row(
            r["env"],
            r["family"],
            sides,
            "turn-based" if r["turn_based"] else "simultaneous",
            "yes" if r["action_mask"] else "",
            "yes" if r["available"] else "no (extra)",
        )
    out.print(table)
