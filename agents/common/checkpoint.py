"""Checkpoints for ``--resume``: tensors, numbers and strings only, loaded with
``weights_only=True`` so that opening one can never run code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (a crash mid-write keeps the previous checkpoint)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, device: str = "cpu") -> dict[str, Any]:
    import torch

    state: dict[str, Any] = torch.load(path, map_location=device, weights_only=True)
    return state
