"""``arena train``: the contract between the CLI and the trainers plugins provide.

A trainer (tabular, DQN family, MADDPG, SAC...) registers a :class:`Trainer`
through the ``arena.plugins`` entry point. ``train`` checks what the user asked
for, loads the ``--config`` file into the trainer's own config dataclass (every
unknown key or wrong type is one error naming the file and key), picks the
device once, and calls the trainer, which writes an agent package to ``--out``.

Layout of ``--out`` (decided here so every trainer agrees):

- ``agent.toml``, the player module and the weights: the package itself;
- ``training/``: ``config.json`` (the resolved config), ``log.csv`` (one row per
  log interval), ``checkpoint.pt`` or ``checkpoint.npz`` (networks or tables,
  optimisers and counters, for ``--resume``), and ``tensorboard/`` when
  TensorBoard is installed and asked for.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.config_check import PYTHON, check_table
from arena.errors import ArenaError
from arena.registry import get_env, trainers
from arena.trainer import TRAINING_DIR, TrainRequest, TrainSummary

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEVICES = ("auto", "cpu", "cuda")
# Neural trainers save torch checkpoints; the tabular ones NumPy archives.
CHECKPOINTS = ("checkpoint.pt", "checkpoint.npz")


def resolve_device(device: str) -> str:
    """``auto`` means CUDA when torch sees a GPU, else the CPU; chosen once per run."""
    if device not in DEVICES and not device.startswith("cuda:"):
        raise ArenaError(f"--device must be one of {', '.join(DEVICES)} (got '{device}')")
    if device == "cpu":
        return "cpu"
    try:
        import torch
    except ImportError:
        raise ArenaError(
            "training needs PyTorch: pip install 'torch==2.13.0' (CPU) or see pytorch.org"
        ) from None
    if torch.cuda.is_available():
        return "cuda" if device == "auto" else device
    if device == "auto":
        return "cpu"
    raise ArenaError(f"--device {device}: torch sees no CUDA device (use --device auto or cpu)")


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file; a ``[train]`` table is accepted as the root too."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ArenaError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArenaError(f"{path}: cannot read config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ArenaError(f"{path}: invalid TOML: {exc}") from None
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    return data


T = typing.TypeVar("T")


def build_config(cls: type[T], values: Mapping[str, Any], source: str = "--config") -> T:
    """Build the dataclass ``cls`` from ``values``, refusing unknown keys and wrong types.

    Each error is one line naming ``source`` (the file) and the key, because a
    typo in a hyperparameter must not silently train with the default.
    """
    return check_table(values, cls, source, wording=PYTHON)


def train(
    algo: str,
    env_id: str,
    *,
    steps: int,
    out: Path,
    seed: int = 0,
    device: str = "auto",
    config_path: Path | None = None,
    resume: bool = False,
    progress: bool = True,
    tensorboard: bool = False,
) -> TrainSummary:
    """Check the request, then run the trainer ``algo`` (the library side of ``arena train``).

    Raises:
        ArenaError: unknown algorithm or env, an env the algorithm cannot train
            on, a bad config file or key, an ``--out`` folder that holds
            something else, or ``--resume`` without a checkpoint.
    """
    known = trainers()
    if algo not in known:
        names = ", ".join(sorted(known)) or "none installed"
        raise ArenaError(f"unknown algorithm '{algo}' (choose from: {names})")
    trainer = known[algo]
    spec = get_env(env_id)
    spec.require()
    why = trainer.supports(spec)
    if why is not None:
        raise ArenaError(f"{algo} cannot train on {env_id}: {why}")
    if steps <= 0:
        raise ArenaError(f"--steps must be positive (got {steps})")
    config = load_config_file(config_path) if config_path is not None else {}
    checkpoints = [out / TRAINING_DIR / name for name in CHECKPOINTS]
    if resume and not any(c.is_file() for c in checkpoints):
        raise ArenaError(f"--resume: no checkpoint at {checkpoints[0]}")
    if not resume and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ArenaError(
            f"--out {out} already exists and is not empty "
            "(choose a new folder, or pass --resume to continue its training)"
        )
    request = TrainRequest(
        algo=algo,
        env_id=env_id,
        steps=steps,
        out=out,
        seed=seed,
        device=resolve_device(device),
        config=config,
        config_source=str(config_path) if config_path is not None else "--config",
        resume=resume,
        progress=progress,
        tensorboard=tensorboard,
    )
    return trainer.run(request)
