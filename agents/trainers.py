"""Registers the ``arena train`` algorithms (the ``arena.plugins`` entry point).

Nothing heavy is imported here: each trainer's module (and PyTorch) loads when
that algorithm runs. ``module:run`` trains; ``module:supports`` says whether an
env can be trained on.
"""

from __future__ import annotations

import importlib
from typing import Any

from arena.registry import register_trainer
from arena.specs import EnvSpec
from arena.trainer import Trainer, TrainRequest, TrainSummary

# name -> (module, kind, learning type, description)
ALGORITHMS: dict[str, tuple[str, str, str, str]] = {
    "q-learning": ("agents.tabular", "tabular", "Tabular", "Tabular Q-learning (Sarsamax)"),
    "sarsa": ("agents.tabular", "tabular", "Tabular", "Tabular SARSA"),
    "expected-sarsa": ("agents.tabular", "tabular", "Tabular", "Tabular Expected SARSA"),
    "mc-control": ("agents.tabular", "tabular", "Tabular", "First-visit Monte Carlo control"),
    "dqn": ("agents.dqn", "dqn", "Q-gradient", "DQN: replay and a soft-updated target"),
    "double-dqn": ("agents.dqn", "dqn", "Q-gradient", "Double DQN"),
    "dueling-dqn": ("agents.dqn", "dqn", "Q-gradient", "Dueling Double DQN"),
    "per-dqn": ("agents.dqn", "dqn", "Q-gradient", "Double DQN with prioritised replay"),
    "rainbow": ("agents.dqn", "dqn", "Q-gradient", "Rainbow: n-step, noisy, C51, PER"),
    "a2c": ("agents.a2c", "policy-gradient", "Policy gradient", "A2C: n-step actor-critic"),
    "ppo": ("agents.ppo", "policy-gradient", "Policy gradient", "PPO: clipped surrogate, GAE"),
    "ippo": ("agents.ippo", "policy-gradient", "Policy gradient", "Independent PPO on MPE"),
    "mappo": ("agents.mappo", "policy-gradient", "Policy gradient", "MAPPO, centralised critics"),
    "maddpg": ("agents.maddpg", "maddpg", "Actor-critic", "MADDPG, centralised critics"),
    "ddpg": ("agents.maddpg", "maddpg", "Actor-critic", "Independent DDPG learners"),
    "masac": ("agents.sac", "sac", "Actor-critic", "Multi-agent SAC, centralised critics"),
    "sac": ("agents.sac", "sac", "Actor-critic", "Independent SAC learners"),
}


def _trainer(name: str, module: str, kind: str, learning_type: str, text: str) -> Trainer:
    def run(request: TrainRequest) -> TrainSummary:
        summary: TrainSummary = importlib.import_module(module).run(request)
        return summary

    def supports(spec: EnvSpec) -> str | None:
        try:
            mod: Any = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == "torch":
                raise  # `arena train` names the fix (arena.training.NO_TORCH)
            return f"its module {module} cannot be imported ({exc})"
        except ImportError as exc:
            return f"its module {module} cannot be imported ({exc})"
        reason: str | None = mod.supports(name, spec)
        return reason

    return Trainer(name, run, supports, kind, learning_type, text)


def register() -> None:
    for name, (module, kind, learning_type, text) in ALGORITHMS.items():
        register_trainer(_trainer(name, module, kind, learning_type, text))
