"""The env catalogue shown by ``arena envs``."""

from __future__ import annotations

from typing import Any

from arena.registry import env_specs


def env_catalogue() -> list[dict[str, Any]]:
    """One dict per registered env: id, family, sides, turn model, availability."""
    rows = []
    for env_id, spec in sorted(env_specs().items()):
        rows.append(
            {
                "env": env_id,
                "family": spec.family,
                "sides": [
                    {"role": s.role, "seats": list(s.seats), "team": s.team} for s in spec.sides
                ],
                "roles": list(spec.roles),
                "turn_based": spec.turn_based,
                "action_mask": spec.action_mask,
                "team_score": spec.team_score,
                "version": spec.version,
                "available": not spec.missing(),
                "description": spec.description,
            }
        )
    return rows
