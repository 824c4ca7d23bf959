"""The run around a policy-gradient update: config, run folder, loop, resume, evaluation, package.

``agents/ppo.py`` and ``agents/a2c.py`` each give :func:`run_pg` their config
class and their ``update(net, optimizer, rollout, config) -> stats``; the rest is
here, shaped like the DQN family's run (``agents/dqn.py``):

- config: dataclass defaults < ``--config`` file, checked by
  :func:`arena.training.build_config` (unknown key, wrong type: one line naming
  the file and key), then the league's shares (:func:`agents.common.league.check_shares`);
- the run folder ``OUT/training/``: ``config.json``, ``log.csv`` (and
  TensorBoard) through :class:`~agents.common.logger.TrainLogger`,
  ``checkpoint.pt``; checkpoints every ``checkpoint_every`` steps, every
  ``checkpoint_minutes``, and on Ctrl-C (:class:`~agents.common.interrupt.Checkpoints`),
  always at the end of a rollout;
- resume (the one rule of docs/trainer-pieces.md): the saved config is the
  base; a ``--config`` key may change only what is safe mid-run
  (:data:`SAFE_ON_RESUME`); another algorithm or env is one error line. The
  checkpoint holds the games in progress and every generator's state, so a
  resumed CPU run is the uninterrupted one;
- evaluation through the arena's match runner (:mod:`agents.common.evaluate`),
  greedy, against ``eval_opponents``;
- the package: ``agent.toml``, ``pg_player.py``, ``weights.pt``, ``network.json``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
import torch

from agents.common import pg_math
from agents.common.actor_critic import ActorCritic, ActorCriticSpec
from agents.common.boards import Boards
from agents.common.checkpoint import load_checkpoint, save_checkpoint
from agents.common.evaluate import evaluate, policy_source
from agents.common.interrupt import Checkpoints
from agents.common.league import League, check_shares
from agents.common.logger import TrainLogger
from agents.common.package import copy_player, default_name, write_manifest
from agents.common.pg_rollout import Rollout, SelfPlayRollouts
from arena.config_check import NON_NEGATIVE, POSITIVE
from arena.errors import ArenaError
from arena.protocol import AgentContext
from arena.registry import trainers
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary
from arena.training import build_config

SELF_PLAY_ENVS = ("tictactoe_v3", "connect_four_v3")
PLAYER_MODULE = "pg_player"
WEIGHTS_FILE = "weights.pt"
NETWORK_FILE = "network.json"
CHECKPOINT = "checkpoint.pt"


def default_opponents() -> dict[str, float]:
    return {"self": 0.5, "past": 0.3, "heuristic": 0.1, "random": 0.1}


@dataclass
class PGConfig:
    """What PPO and A2C share; each adds its own keys."""

    # -- rollouts and the league
    n_games: Annotated[int, POSITIVE] = 64
    """Games stepped in lockstep (one batched forward pass per tick)."""
    rollout_steps: Annotated[int, POSITIVE] = 64
    """Ticks per rollout (a tick is one move in every game): n_games x rollout_steps steps."""
    opponents: dict[str, float] = field(default_factory=default_opponents)
    """Shares of new games by opponent: self, past, random, one-ply, heuristic (sum 1)."""
    pool_size: Annotated[int, POSITIVE] = 8
    """Past selves kept for `past` games (the oldest leaves)."""
    snapshot_every: Annotated[int, POSITIVE] = 50_000
    """Env steps between snapshots of the learner into the pool."""
    mirror: bool = True
    """Train on each move's left-right mirror image too (both games are symmetric)."""

    # -- the objective and the optimiser
    gamma: Annotated[float, NON_NEGATIVE] = 0.99
    """Discount per move of the seat (a seat trajectory steps over the reply)."""
    lr: Annotated[float, POSITIVE] = 2.5e-4
    """Adam learning rate."""
    anneal_lr: bool = False
    """Anneal the learning rate linearly to 0 at --steps."""
    ent_coef: Annotated[float, NON_NEGATIVE] = 0.01
    """Weight of the entropy bonus."""
    vf_coef: Annotated[float, NON_NEGATIVE] = 0.5
    """Weight of the value loss."""
    max_grad_norm: Annotated[float, NON_NEGATIVE] = 0.5
    """Clip the gradient's global norm (0 = off)."""

    # -- the network
    torso: Literal["mlp", "conv"] = "mlp"
    """mlp over the flattened planes, or two 3x3 convolutions then one dense layer."""
    hidden: tuple[int, ...] = (256, 256)
    """MLP hidden sizes (conv: the last is the dense layer)."""
    channels: Annotated[int, POSITIVE] = 64
    """Convolution channels (conv torso)."""
    sample: bool = False
    """The package samples its policy instead of playing the argmax."""

    # -- bookkeeping
    log_every: Annotated[int, POSITIVE] = 20_000
    """Env steps between log rows."""
    eval_every: Annotated[int, NON_NEGATIVE] = 100_000
    """Env steps between evaluations (0 = only at the end)."""
    eval_games: Annotated[int, POSITIVE] = 40
    """Games per opponent in each evaluation during training (seats alternate)."""
    final_eval_games: Annotated[int, NON_NEGATIVE] = 100
    """Games per opponent in the final evaluation (0 = none)."""
    eval_opponents: tuple[str, ...] = ("random", "one-ply", "heuristic")
    """Built-ins the learner is scored against (greedy, through the match runner)."""
    checkpoint_every: Annotated[int, NON_NEGATIVE] = 100_000
    """Env steps between checkpoints (and one at the end)."""
    checkpoint_minutes: Annotated[float, NON_NEGATIVE] = 10.0
    """Also checkpoint at least this often (0 = off); Ctrl-C always saves one."""
    threads: Annotated[int, POSITIVE] = 1
    """torch.set_num_threads (1 measured fastest on the shared 2-core machines)."""


# Keys a --config may change on --resume: cadences, learning rates, evaluation.
SAFE_ON_RESUME = frozenset({
    "lr", "anneal_lr", "ent_coef", "log_every", "eval_every", "eval_games", "final_eval_games",
    "eval_opponents", "checkpoint_every", "checkpoint_minutes", "threads",
})  # fmt: skip

C = TypeVar("C", bound=PGConfig)
Update = Callable[[ActorCritic, torch.optim.Optimizer, Rollout, Any, Boards], dict[str, Any]]


# PPO's per-env presets, between the dataclass defaults and the --config file (A2C
# has none: its defaults are what was measured). Tic-tac-toe
# is short: smaller, more frequent rollouts and a faster Adam; and a learner that
# meets random play in 30% of its games learns to punish it (with the default league
# it learned to draw against itself and scored 0.64-0.94 against random at 60k-150k
# steps; with this one 0.95-0.98 at 100k, docs/policy-gradients.md).
# Connect four: rollouts of 32 ticks, and a league with a quarter of the games against
# the heuristic and a quarter against random (bench/RESULTS.md, ppo_connect_four).
PRESETS: dict[str, dict[str, Any]] = {
    "connect_four_v3": {
        "rollout_steps": 32,
        "opponents": {"self": 0.3, "past": 0.2, "heuristic": 0.25, "random": 0.25},
    },
    "tictactoe_v3": {
        "n_games": 32,
        "rollout_steps": 32,
        "lr": 1e-3,
        "opponents": {"self": 0.4, "past": 0.2, "random": 0.3, "one-ply": 0.1},
    },
}


def make_config(cls: type[C], preset: dict[str, Any], values: dict[str, Any], source: str) -> C:
    """Dataclass defaults < the env's ``preset`` < ``values`` (the --config file), all checked."""
    config = build_config(cls, {**preset, **values}, source)
    check_shares(config.opponents, source)
    return config


def supports(name: str, spec: EnvSpec) -> str | None:
    if spec.env_id not in SELF_PLAY_ENVS:
        return f"{name} self-plays on fast boards for {', '.join(SELF_PLAY_ENVS)} only"
    return None


def _json_safe(config: PGConfig) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(config)))


def resumed_values(saved: dict[str, Any], request: TrainRequest) -> dict[str, Any]:
    """The saved config with the --config keys that may change; else one error line."""
    if saved["algo"] != request.algo or saved["env_id"] != request.env_id:
        raise ArenaError(
            f"--resume: the checkpoint is {saved['algo']} on {saved['env_id']}, not "
            f"{request.algo} on {request.env_id} (choose a new --out)"
        )
    values: dict[str, Any] = json.loads(saved["config_json"])
    for key, value in request.config.items():
        if key in values and key not in SAFE_ON_RESUME:
            before = values[key]
            if json.loads(json.dumps(value)) != before:
                raise ArenaError(
                    f"{request.config_source}: key '{key}': cannot change on --resume "
                    f"(the run was trained with {json.dumps(before)}); choose a new --out"
                )
    values.update(request.config)
    for key in ("hidden", "eval_opponents"):
        values[key] = tuple(values[key])
    return values


class GreedyAgent:
    """The learner as an arena agent for evaluation: argmax of the masked policy."""

    def __init__(self, net: ActorCritic, device: str) -> None:
        self.net = net
        self.device = device

    def reset(self, *, seed: int | None = None) -> None:
        return None

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        obs = torch.as_tensor(np.asarray(observation)[None], device=self.device)
        n = self.net.spec.n_actions
        legal = np.ones(n, bool) if action_mask is None else np.asarray(action_mask, bool)
        with torch.no_grad():
            logits, _ = self.net(obs)
            masked = pg_math.masked_logits(logits, torch.as_tensor(legal[None], device=self.device))
        return int(masked.argmax(-1)[0])


def evaluate_net(
    net: ActorCritic, env_id: str, device: str, opponents: tuple[str, ...], games: int, seed: int
) -> dict[str, float]:
    """Score (win 1, draw ½) against each opponent, through the arena's match runner."""
    frozen = copy.deepcopy(net).eval()

    def factory(ctx: AgentContext) -> GreedyAgent:
        return GreedyAgent(frozen, device)

    source = policy_source("pg-training", factory, kind="policy-gradient")
    scores: dict[str, float] = {}
    with torch.random.fork_rng(devices=[]):  # evaluation never moves the run's generators
        for i, name in enumerate(opponents):
            result = evaluate(env_id, source, name, games=games, seed=seed + i)
            scores[f"score_vs_{name}"] = result.score
            scores[f"win_vs_{name}"] = result.win_rate
    return scores


def run_pg(
    request: TrainRequest,
    cls: type[C],
    update: Update,
    columns: list[str],
    presets: dict[str, dict[str, Any]],
) -> TrainSummary:
    """Train by self-play with ``update`` after every rollout, and write the package."""
    started = time.perf_counter()
    checkpoint_path = request.training_dir / CHECKPOINT
    saved: dict[str, Any] | None = None
    values = dict(request.config)
    if request.resume:
        saved = load_checkpoint(checkpoint_path, request.device)
        values = resumed_values(saved, request)
    config = make_config(cls, presets.get(request.env_id, {}), values, request.config_source)
    torch.set_num_threads(config.threads)
    torch.manual_seed(request.seed)
    rng = np.random.default_rng(request.seed)
    device = request.device

    boards = Boards(request.env_id, config.n_games)
    league = League(config.opponents, config.n_games, config.pool_size, rng)
    play = SelfPlayRollouts(boards, league, config.rollout_steps, rng, device)
    spec = ActorCriticSpec(boards.obs_shape, boards.n_actions, config.torso, config.hidden,
                           config.channels)  # fmt: skip
    net = ActorCritic(spec).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, eps=1e-5)
    step, updates = 0, 0
    next_snapshot = config.snapshot_every
    last: dict[str, float] = {}
    if saved is not None:
        net.load_state_dict(saved["net"])
        optimizer.load_state_dict(saved["optimizer"])
        for group in optimizer.param_groups:
            group["lr"] = config.lr  # a safe key the resume may have changed
        for state in saved["pool"]:
            past = ActorCritic(spec).to(device)
            past.load_state_dict(state)
            league.add_snapshot(past)
        play.load_state(saved["play"])
        step, updates, next_snapshot = saved["step"], saved["updates"], saved["next_snapshot"]
        rng.bit_generator.state = json.loads(saved["rng_json"])
        torch.set_rng_state(saved["torch_rng"])
        last = dict(saved["last"])

    request.training_dir.mkdir(parents=True, exist_ok=True)
    (request.training_dir / "config.json").write_text(
        json.dumps({"algo": request.algo, **_json_safe(config)}, indent=2) + "\n"
    )
    score_columns = [f"{k}_vs_{o}" for o in config.eval_opponents for k in ("score", "win")]
    logger = TrainLogger(
        request.training_dir, request.steps, [*columns, "lr", "updates", "games", *score_columns],
        progress=request.progress, tensorboard=request.tensorboard, start_step=step,
        description=f"{request.algo} {request.env_id}",
    )  # fmt: skip
    start_step = step
    next_log = (step // config.log_every + 1) * config.log_every
    next_eval = (step // config.eval_every + 1) * config.eval_every if config.eval_every else -1
    time_eval = time_learn = 0.0
    stats: dict[str, Any] = {}

    def save() -> int:
        save_checkpoint(checkpoint_path, {
            "algo": request.algo, "env_id": request.env_id,
            "config_json": json.dumps(_json_safe(config)),
            "net": net.state_dict(), "optimizer": optimizer.state_dict(),
            "pool": league.pool_states(), "play": play.state(),
            "step": step, "updates": updates, "next_snapshot": next_snapshot,
            "rng_json": json.dumps(rng.bit_generator.state),
            "torch_rng": torch.get_rng_state(), "last": last,
        })  # fmt: skip
        return step

    checkpoints = Checkpoints(save, checkpoint_path, step=step,
                              every_steps=config.checkpoint_every,
                              every_minutes=config.checkpoint_minutes)  # fmt: skip
    try:
        with checkpoints:
            while step < request.steps:
                with checkpoints.update():  # Ctrl-C waits for the end of the rollout and update
                    if config.anneal_lr:
                        lr = config.lr * max(1.0 - step / request.steps, 0.0)
                        for group in optimizer.param_groups:
                            group["lr"] = lr
                    rollout = play.collect(net)
                    step += config.n_games * config.rollout_steps
                    t0 = time.perf_counter()
                    stats = update(net, optimizer, rollout, config, boards)
                    time_learn += time.perf_counter() - t0
                    updates += 1
                    if step >= next_snapshot:
                        league.add_snapshot(net)
                        next_snapshot += config.snapshot_every
                final = step >= request.steps
                if (next_eval > 0 and step >= next_eval) or (final and config.final_eval_games):
                    t0 = time.perf_counter()
                    games = config.final_eval_games if final else config.eval_games
                    last = evaluate_net(net, request.env_id, device, config.eval_opponents,
                                        games, request.seed + step)  # fmt: skip
                    time_eval += time.perf_counter() - t0
                    while 0 < next_eval <= step:
                        next_eval += config.eval_every
                if step >= next_log or final:
                    row = {k: float(v) for k, v in stats.items()}  # the one host read per row
                    logger.log(step, **row, lr=optimizer.param_groups[0]["lr"], updates=updates,
                               games=play.games, **last)  # fmt: skip
                    while next_log <= step:
                        next_log += config.log_every
                else:
                    logger.advance(step)
                checkpoints.reached(step)
            checkpoints.save()
            with checkpoints.update():  # a package is never half-written
                package = write_package(request, config, net)
    finally:
        logger.close()

    seconds = time.perf_counter() - started
    loop = max(seconds - time_eval, 1e-9)
    busy = max(play.time_env + play.time_act + time_learn, 1e-9)
    metrics = {
        **last,
        "minutes": seconds / 60,
        "steps_per_s": (step - start_step) / loop,
        "share_env": play.time_env / busy,
        "share_act": play.time_act / busy,
        "share_learn": time_learn / busy,
        "eval_seconds": time_eval,
        "updates": updates,
        "games": play.games,
    }
    return TrainSummary(request.algo, request.env_id, step, seconds, package, metrics)


def write_package(request: TrainRequest, config: PGConfig, net: ActorCritic) -> Path:
    """agent.toml, the stand-alone player, weights.pt (a state dict) and network.json."""
    out = request.out
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    torch.save(state, out / WEIGHTS_FILE)
    network = {**net.spec.to_json(), "sample": config.sample}
    (out / NETWORK_FILE).write_text(json.dumps(network, indent=2, sort_keys=True) + "\n")
    copy_player(out, PLAYER_MODULE)
    trainer = trainers()[request.algo]  # kind and learning type are stated once, there
    shares = ", ".join(f"{k} {v:g}" for k, v in config.opponents.items())
    description = (
        f"{request.algo} by self-play, {request.steps} steps, seed {request.seed} "
        f"({config.torso} {list(config.hidden)}, league: {shares})"
    )
    write_manifest(
        out,
        name=default_name(request.algo, request.env_id),
        version="1.0.0",
        entry=f"{PLAYER_MODULE}:make_agent",
        files=[WEIGHTS_FILE, NETWORK_FILE, f"{PLAYER_MODULE}.py"],
        envs=[request.env_id],
        kind=trainer.kind,
        learning_type=trainer.learning_type,
        description=description,
        requires=("numpy>=1.24", "torch>=2.0"),
    )
    return out
