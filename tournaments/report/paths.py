"""Where each page of the report lives, relative to the report's top folder."""

from __future__ import annotations

import re


def slug(text: str) -> str:
    """``text`` as a file-name and anchor part: letters, digits, ``_ . -``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def env_page(env: str) -> str:
    return f"env-{slug(env)}.html"


def replay_page(match_id: int) -> str:
    return f"replays/match-{match_id}.html"


def tournament_page(tournament_id: int) -> str:
    return f"tournament-{tournament_id}.html"
