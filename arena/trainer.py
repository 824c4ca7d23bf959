"""The trainer contract: what a plugin's trainer is given, returns, and how it is offered.

A trainer (tabular, DQN family, MADDPG, SAC...) registers a :class:`Trainer`
through the ``arena.plugins`` entry point (:func:`arena.registry.register_trainer`);
``arena.training.train`` checks a request and calls it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena.specs import EnvSpec

# The run folder inside ``--out``: config.json, log.csv, the checkpoint, tensorboard/.
TRAINING_DIR = "training"
# In the run folder: the package files the run wrote beside it (what --overwrite removes).
PACKAGE_FILES = "files.json"


class TrainingInterrupted(KeyboardInterrupt):
    """A trainer stopped on Ctrl-C (or SIGTERM/SIGHUP); ``arena train`` says how to go on.

    A ``KeyboardInterrupt``, so code that catches ``Exception`` lets it through.

    Attributes:
        step: the step the run stopped at (the checkpoint's when one was saved).
        saved: a checkpoint of ``step`` was written on the way out.
        checkpoint: the checkpoint file, or None when the run has none at all (it
            was stopped in the middle of an update before its first save).
    """

    def __init__(self, step: int, *, saved: bool, checkpoint: Path | None) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step
        self.saved = saved
        self.checkpoint = checkpoint


@dataclass(frozen=True)
class TrainRequest:
    """What the user asked ``arena train`` for, already checked."""

    algo: str
    env_id: str
    steps: int
    out: Path
    seed: int = 0
    device: str = "cpu"  # resolved: "cpu" or "cuda[:N]", never "auto"
    config: Mapping[str, Any] = field(default_factory=dict)
    config_source: str = "--config"  # names the file in config errors
    resume: bool = False
    progress: bool = True  # rich progress bar on stderr
    tensorboard: bool = False

    @property
    def training_dir(self) -> Path:
        return self.out / TRAINING_DIR


@dataclass
class TrainSummary:
    """What a trainer reports when it is done."""

    algo: str
    env_id: str
    steps: int
    seconds: float
    package_dir: Path
    # Counts are ints (printed 51,700), rates and scores floats (printed 0.85).
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["package_dir"] = str(self.package_dir)
        return data


@dataclass(frozen=True)
class Trainer:
    """A training algorithm offered by a plugin.

    Attributes:
        name: what users type after ``arena train``, e.g. ``q-learning``.
        run: ``run(request) -> TrainSummary``; imports torch lazily.
        supports: ``supports(spec) -> str | None``: None when the env can be
            trained on, else the reason it cannot (shown to the user).
        kind: the manifest kind of the packages it writes.
        learning_type: shown in reports (``Tabular``, ``Q-gradient``...).
        description: one line for ``arena train --help``.
    """

    name: str
    run: Callable[[TrainRequest], TrainSummary]
    supports: Callable[[EnvSpec], str | None]
    kind: str
    learning_type: str
    description: str = ""
