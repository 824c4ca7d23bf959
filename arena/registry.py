"""Registries for envs and built-in agents, filled by plugins through entry points.

``arena`` never imports ``envs`` or ``agents``: they register themselves from the
``arena.plugins`` entry-point group (see ``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from arena.errors import ArenaError
from arena.specs import EnvSpec

_ENVS: dict[str, EnvSpec] = {}
_BUILTINS: dict[str, BuiltinAgent] = {}
_SERVICES: dict[str, Any] = {}
_TRAINERS: dict[str, Any] = {}  # name -> arena.training.Trainer
_loaded = False


@dataclass(frozen=True)
class BuiltinAgent:
    """A trusted agent shipped with the arena.

    Attributes:
        name: the name users type, e.g. ``random``.
        factory: ``make_agent(ctx) -> Agent``.
        envs: env ids it supports; None means every env.
        kind: manifest kind (``scripted``, ``search``...).
        learning_type: shown in reports.
        description: one line for listings.
    """

    name: str
    factory: Callable[[Any], Any]
    envs: tuple[str, ...] | None = None
    kind: str = "scripted"
    learning_type: str = "Scripted"
    description: str = ""

    def supports(self, env_id: str) -> bool:
        return self.envs is None or env_id in self.envs


def register_env(spec: EnvSpec) -> None:
    _ENVS[spec.env_id] = spec


def register_builtin(agent: BuiltinAgent) -> None:
    _BUILTINS[agent.name] = agent


def load_plugins() -> None:
    """Load every ``arena.plugins`` entry point once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for ep in entry_points(group="arena.plugins"):
        ep.load()()


def env_specs() -> dict[str, EnvSpec]:
    load_plugins()
    return dict(_ENVS)


def get_env(env_id: str) -> EnvSpec:
    """Return the spec of ``env_id`` or raise an error listing the known ids."""
    load_plugins()
    try:
        return _ENVS[env_id]
    except KeyError:
        raise ArenaError(f"unknown env '{env_id}' (run 'arena envs' for the list)") from None


def builtin_agents() -> dict[str, BuiltinAgent]:
    load_plugins()
    return dict(_BUILTINS)


def register_trainer(trainer: Any) -> None:
    """Offer an ``arena train`` algorithm (an :class:`arena.training.Trainer`)."""
    _TRAINERS[trainer.name] = trainer


def trainers() -> dict[str, Any]:
    """Every installed trainer by name."""
    load_plugins()
    return dict(_TRAINERS)


def register_service(name: str, provider: Any) -> None:
    """Offer a named service (e.g. ``rater``, ``tournament.run``) to the platform."""
    _SERVICES[name] = provider


def get_service(name: str) -> Any:
    """Return a service a plugin registered, or explain which plugin is missing."""
    load_plugins()
    try:
        return _SERVICES[name]
    except KeyError:
        raise ArenaError(
            f"no installed plugin provides '{name}' (is the 'tournaments' package installed?)"
        ) from None
