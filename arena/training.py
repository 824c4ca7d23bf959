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

import json
import shutil
import sys
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from arena.config_check import PYTHON, check_table
from arena.errors import ArenaError
from arena.manifest import MANIFEST
from arena.registry import get_env, trainers
from arena.trainer import PACKAGE_FILES, TRAINING_DIR, TrainRequest, TrainSummary

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEVICES = ("auto", "cpu", "cuda")
# Neural trainers save torch checkpoints; the tabular ones NumPy archives.
CHECKPOINTS = ("checkpoint.pt", "checkpoint.npz")
NO_TORCH = ArenaError(
    "training needs PyTorch (the CPU build), which make demo does not install: "
    "run make install, or see docs/install.md"
)


def resolve_device(device: str) -> str:
    """``auto`` means CUDA when torch sees a GPU, else the CPU; chosen once per run."""
    if device not in DEVICES and not device.startswith("cuda:"):
        raise ArenaError(f"--device must be one of {', '.join(DEVICES)} (got '{device}')")
    if device == "cpu":
        return "cpu"
    try:
        import torch
    except ImportError:
        if device == "auto":
            return "cpu"  # the tabular trainers need no torch; the others say so
        raise NO_TORCH from None
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
    overwrite: bool = False,
    progress: bool = True,
    tensorboard: bool = False,
) -> TrainSummary:
    """Check the request, then run the trainer ``algo`` (the library side of ``arena train``).

    ``overwrite`` removes what an earlier run wrote in ``out`` and starts afresh.

    Raises:
        ArenaError: unknown algorithm or env, an env the algorithm cannot train
            on, a bad config file or key, an ``--out`` folder that holds
            something else, ``--resume`` without a checkpoint, or ``--overwrite``
            of a folder ``arena train`` did not write.
        TrainingInterrupted: Ctrl-C (or SIGTERM/SIGHUP) stopped the run.
    """
    known = trainers()
    if algo not in known:
        names = ", ".join(sorted(known)) or "none installed"
        raise ArenaError(f"unknown algorithm '{algo}' (choose from: {names})")
    trainer = known[algo]
    spec = get_env(env_id)
    spec.require()
    try:
        why = trainer.supports(spec)
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise NO_TORCH from None
        raise
    if why is not None:
        raise ArenaError(f"{algo} cannot train on {env_id}: {why}")
    if steps <= 0:
        raise ArenaError(f"--steps must be positive (got {steps})")
    config = load_config_file(config_path) if config_path is not None else {}
    check_out(out, resume=resume, overwrite=overwrite)
    if overwrite:
        clear_run(out)
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
    try:
        return trainer.run(request)
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise NO_TORCH from None
        raise


def is_run_folder(out: Path) -> bool:
    """``out`` was written by ``arena train``: it holds our ``training/config.json``."""
    try:
        return isinstance(json.loads((out / TRAINING_DIR / "config.json").read_text()), dict)
    except (OSError, ValueError):
        return False


def has_checkpoint(out: Path) -> bool:
    return any((out / TRAINING_DIR / name).is_file() for name in CHECKPOINTS)


def check_out(out: Path, *, resume: bool, overwrite: bool) -> None:
    """``--out`` must be new or empty, unless ``--resume`` continues its checkpoint or
    ``--overwrite`` starts a run of ours again; every refusal names the ways on."""
    if resume and overwrite:
        raise ArenaError("--resume continues a run and --overwrite starts it again: pass one")
    if out.exists() and not out.is_dir():
        raise ArenaError(f"--out {out} is a file, not a folder")
    empty = not out.exists() or not any(out.iterdir())
    ours = not empty and is_run_folder(out)
    no_checkpoint = (
        f"{out}: folder exists but holds no checkpoint (interrupted before the first save?); "
        "pass --overwrite to start again, or choose a new --out"
    )
    if resume and not has_checkpoint(out):
        if ours:
            raise ArenaError(no_checkpoint)
        raise ArenaError(f"--resume: no checkpoint at {out / TRAINING_DIR / CHECKPOINTS[0]}")
    if overwrite and not empty and not ours:
        raise ArenaError(
            f"--overwrite: {out} was not written by arena train (no "
            f"{TRAINING_DIR}/config.json); it is left as it is: choose another --out"
        )
    if resume or overwrite or empty:
        return
    if has_checkpoint(out):
        raise ArenaError(
            f"--out {out} holds a training run: pass --resume to continue it, "
            "or --overwrite to start again"
        )
    if ours:
        raise ArenaError(no_checkpoint)
    raise ArenaError(f"--out {out} already exists and is not empty (choose a new folder)")


def clear_run(out: Path) -> None:
    """Remove what ``arena train`` wrote in ``out``: ``training/`` and the package files
    it recorded there. Anything else in the folder stays."""
    if not out.exists():
        return
    training = out / TRAINING_DIR
    try:
        listed = json.loads((training / PACKAGE_FILES).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        listed = [MANIFEST]  # stopped before the package was written
    for name in listed:
        path = out / str(name)
        if path.parent == out and path.is_file():  # names only: never outside out
            path.unlink()
    if training.is_dir():
        shutil.rmtree(training)
