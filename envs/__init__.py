"""Arena environments: PettingZoo classic games, MPE (``mpe2``) and two-player Atari.

The specs live in :mod:`envs.registry` and reach the platform through the
``arena.plugins`` entry point. This package only offers thin helpers over the
registry; importing it never imports a game library.
"""

from __future__ import annotations

from typing import Any

from arena.errors import ArenaError
from arena.registry import get_env

__all__ = ["available", "make", "make_parallel", "missing_requirements"]


def missing_requirements(env_id: str) -> tuple[str, ...]:
    """Return the import names ``env_id`` needs that are not installed.

    Args:
        env_id: a registered env id, e.g. ``pong_v3``.

    Returns:
        The missing names from the spec's ``requires``, in order; empty when the
        env can be built.

    Raises:
        ArenaError: if ``env_id`` is unknown.
    """
    return get_env(env_id).missing()


def available(env_id: str) -> bool:
    """Return True when every module ``env_id`` requires can be imported.

    Args:
        env_id: a registered env id.

    Raises:
        ArenaError: if ``env_id`` is unknown.
    """
    return not missing_requirements(env_id)


def make(env_id: str, **kwargs: Any) -> Any:
    """Build a fresh PettingZoo AEC env.

    The env is exactly what the PettingZoo module's ``env(**kwargs)`` returns,
    standard wrappers included.

    Args:
        env_id: a registered env id, e.g. ``connect_four_v3``.
        **kwargs: passed to the env constructor, over the spec's default kwargs.

    Returns:
        A ``pettingzoo.AECEnv``.

    Raises:
        ArenaError: if ``env_id`` is unknown or its requirements are missing.
    """
    spec = get_env(env_id)
    spec.require()
    return spec.make_aec(**{**spec.kwargs, **kwargs})


def make_parallel(env_id: str, **kwargs: Any) -> Any:
    """Build a fresh PettingZoo parallel env for a simultaneous-move game.

    Args:
        env_id: a registered env id with ``turn_based=False``, e.g. ``pong_v3``.
        **kwargs: passed to the env constructor, over the spec's default kwargs.

    Returns:
        A ``pettingzoo.ParallelEnv``.

    Raises:
        ArenaError: if ``env_id`` is unknown, turn-based (no parallel form) or its
            requirements are missing.
    """
    spec = get_env(env_id)
    if spec.make_parallel is None:
        raise ArenaError(f"env '{env_id}' is turn-based and has no parallel API; use make()")
    spec.require()
    return spec.make_parallel(**{**spec.kwargs, **kwargs})
