"""The web service's commands of ``arena`` (added through the ``arena.commands`` entry point)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to the ``arena`` app."""
