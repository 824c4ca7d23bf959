"""The ``arena train`` command, added to the CLI through the ``arena.commands`` entry point."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from arena.console import call, cell, out, print_json


def register(app: typer.Typer) -> None:
    """Add ``arena train`` to the ``arena`` app."""
    app.command("train")(train_command)


def train_command(
    algo: Annotated[str, typer.Argument(help="Algorithm, e.g. q-learning, dqn, maddpg.")],
    env: Annotated[str, typer.Option(help="Env id to train on, e.g. tictactoe_v3.")],
    steps: Annotated[int, typer.Option(help="Env steps to train for (all seats together).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the agent package it writes.")],
    seed: Annotated[int, typer.Option(help="Same seed, same package (on CPU).")] = 0,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    config: Annotated[
        Path | None, typer.Option(help="TOML file of hyperparameters (keys of the trainer).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/training/checkpoint.pt.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    tensorboard: Annotated[
        bool, typer.Option(help="Also log to OUT/training/tensorboard (needs tensorboard).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train an agent by self-play and write it as an agent package.

    ALGO: q-learning, sarsa, expected-sarsa, mc-control (tabular); dqn, double-dqn,
    dueling-dqn, per-dqn, rainbow; maddpg, ddpg, masac, sac.
    """
    from arena.training import train

    summary = call(
        lambda: train(
            algo,
            env,
            steps=steps,
            out=out_dir,
            seed=seed,
            device=device,
            config_path=config,
            resume=resume,
            progress=progress and sys.stderr.isatty(),
            tensorboard=tensorboard,
        )
    )
    if as_json:
        print_json(summary.to_dict())
        return
    metrics = ", ".join(f"{k} {v:.3g}" for k, v in summary.metrics.items())
    out.print(
        cell(
            f"trained {algo} on {env} for {summary.steps} steps in {summary.seconds:.0f} s"
            + (f": {metrics}" if metrics else "")
        )
    )
    out.print(
        cell(f"package: {summary.package_dir} (try: arena agent check {summary.package_dir})")
    )
