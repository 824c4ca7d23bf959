"""The typed registries: envs, built-in agents, trainers and commands.

``arena`` never imports ``envs``, ``agents`` or ``tournaments``: they offer their
parts through two entry-point groups (see ``pyproject.toml``):

- ``arena.plugins``: ``register() -> None`` fills the tables below through
  :func:`register_env`, :func:`register_builtin` and :func:`register_trainer`;
- ``arena.commands``: ``register(app: typer.Typer) -> None`` adds a feature's
  commands to the ``arena`` CLI (:func:`command_registrars`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import typer

from arena.errors import ArenaError
from arena.specs import EnvSpec
from arena.trainer import Trainer

_ENVS: dict[str, EnvSpec] = {}
_BUILTINS: dict[str, BuiltinAgent] = {}
_TRAINERS: dict[str, Trainer] = {}
_loaded = False

# What an ``arena.commands`` entry point loads: adds its commands to the CLI.
CommandRegistrar = Callable[[typer.Typer], None]


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


def register_trainer(trainer: Trainer) -> None:
    """Offer an ``arena train`` algorithm."""
    _TRAINERS[trainer.name] = trainer


def trainers() -> dict[str, Trainer]:
    """Every installed trainer by name."""
    load_plugins()
    return dict(_TRAINERS)


def command_registrars() -> list[CommandRegistrar]:
    """Every ``arena.commands`` entry point, loaded, in name order (a stable help page)."""
    found = sorted(entry_points(group="arena.commands"), key=lambda ep: ep.name)
    return [ep.load() for ep in found]

