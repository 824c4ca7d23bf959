"""Writing the agent package a trainer produces (``agent.toml`` plus its files)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from arena.manifest import MANIFEST, load_manifest
from arena.trainer import PACKAGE_FILES, TRAINING_DIR

# The player modules live beside the trainers; a package gets a copy, so it runs
# wherever PyTorch and NumPy are installed, without the arena's own code.
PLAYERS_DIR = Path(__file__).resolve().parent.parent / "players"


def _toml_value(value: str | Sequence[str]) -> str:
    # JSON strings are valid TOML basic strings (same escapes).
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(json.dumps(v) for v in value) + "]"


def write_manifest(
    out: Path,
    *,
    name: str,
    version: str,
    entry: str,
    envs: Sequence[str],
    kind: str,
    learning_type: str,
    description: str,
    files: Sequence[str],
    roles: Sequence[str] | None = None,
    requires: Sequence[str] = ("numpy>=1.24",),
) -> Path:
    """Write ``out/agent.toml`` and check it with the arena's own validator.

    ``files`` are the package's other files (player module, weights), recorded
    with the manifest in ``training/files.json``: what ``--overwrite`` removes.
    """
    fields: list[tuple[str, str | Sequence[str]]] = [
        ("name", name),
        ("version", version),
        ("entry", entry),
        ("envs", list(envs)),
        ("kind", kind),
        ("learning_type", learning_type),
        ("description", description),
        ("authors", ["arena train"]),
    ]
    if roles is not None:
        fields.append(("roles", list(roles)))
    fields.append(("requires", list(requires)))
    lines = ["protocol = 1", "", "[agent]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in fields]
    path = out / MANIFEST
    path.write_text("\n".join(lines) + "\n")
    load_manifest(out)  # a trainer must never write a package the arena refuses
    record = out / TRAINING_DIR / PACKAGE_FILES
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"files": sorted({MANIFEST, *files})}, indent=2) + "\n")
    return path


def copy_player(out: Path, module: str, extra: Mapping[str, str] | None = None) -> None:
    """Copy ``agents/players/<module>.py`` (and ``extra`` {source: dest}) into the package."""
    shutil.copyfile(PLAYERS_DIR / f"{module}.py", out / f"{module}.py")
    for source, dest in (extra or {}).items():
        shutil.copyfile(PLAYERS_DIR / source, out / dest)


def default_name(algo: str, env_id: str) -> str:
    """``dqn`` on ``connect_four_v3`` gives ``connect-four-dqn``."""
    game = env_id.rsplit("_v", 1)[0].replace("_", "-")
    return f"{game}-{algo}"


def default_version(steps: int, seed: int) -> str:
    """``1.0.0+steps400000.seed0``: a PEP 440 local version that tells runs apart,
    so a re-trained package is a new version rather than a clash in the registry."""
    return f"1.0.0+steps{steps}.seed{seed}"
