"""The ``arena train`` command, added to the CLI through the ``arena.commands`` entry point."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from agents.common.numbers import format_metrics, format_number
from arena.console import call, cell, out, print_json
from arena.trainer import TrainingInterrupted


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
    overwrite: Annotated[
        bool, typer.Option(help="Remove what an earlier run wrote in OUT and start again.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    tensorboard: Annotated[
        bool, typer.Option(help="Also log to OUT/training/tensorboard (needs tensorboard).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train an agent by self-play and write it as an agent package.

    ALGO: q-learning, sarsa, expected-sarsa, mc-control (tabular); dqn, double-dqn,
    dueling-dqn, per-dqn, rainbow; a2c, ppo (policy gradient, board games);
    maddpg, ddpg, masac, sac, ippo, mappo (the particle envs).
    """
    from arena.training import train

    try:
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
                overwrite=overwrite,
                progress=progress and sys.stderr.isatty(),
                tensorboard=tensorboard,
            )
        )
    except TrainingInterrupted as stop:
        again = [algo, "--env", env, "--steps", str(steps), "--out", str(out_dir)]
        again += [] if seed == 0 else ["--seed", str(seed)]
        again += [] if device == "auto" else ["--device", device]
        again += [] if config is None else ["--config", str(config)]
        again += [] if progress else ["--no-progress"]
        again += ["--tensorboard"] if tensorboard else []
        again += ["--json"] if as_json else []
        sys.stderr.write(interrupted_line(stop, again) + "\n")
        raise typer.Exit(130) from None
    if as_json:
        print_json(summary.to_dict())
        return
    metrics = format_metrics(summary.metrics.items())
    out.print(
        cell(
            f"trained {algo} on {env} for {format_number(summary.steps)} steps "
            f"in {summary.seconds:.0f} s" + (f": {metrics}" if metrics else "")
        )
    )
    out.print(
        cell(f"package: {summary.package_dir} (try: arena agent check {summary.package_dir})")
    )


def interrupted_line(stop: TrainingInterrupted, args: list[str]) -> str:
    """The one line ``arena train`` prints on Ctrl-C: where it stopped and the command
    that goes on (``args``: the run's own arguments, without --resume/--overwrite)."""
    step = f"{stop.step:,}"
    if stop.saved:
        command = shlex.join(["arena", "train", *args, "--resume"])
        return f"interrupted at step {step}: checkpoint saved; resume with: {command}"
    if stop.checkpoint is not None:
        command = shlex.join(["arena", "train", *args, "--resume"])
        return (
            f"interrupted in the middle of an update: the checkpoint of step {step} is kept; "
            f"resume with: {command}"
        )
    command = shlex.join(["arena", "train", *args, "--overwrite"])
    return (
        f"interrupted at step {step} in the middle of an update, before any checkpoint; "
        f"start again with: {command}"
    )
