"""The on-policy run IPPO and MAPPO share on MPE: rollouts, resume, evaluation, package.

``agents/mappo.py`` owns the networks and the PPO update; this module owns
what is around them, shaped like :mod:`agents.common.pg_trainer` (the board
games' run) and reading MPE the way :mod:`agents.common.mpe_loop` does:

- **rollouts**: ``n_envs`` lockstep envs (:class:`~agents.common.vec_mpe.VecMPE`,
  Discrete actions) for ``rollout_steps`` steps, every seat acting from one
  batched forward pass. Each rollout starts from fresh episodes, reset with a
  seed that depends only on the run's seed and the rollout's number, so the
  env state at a rollout boundary is a function of the step count: a resumed
  run replays the uninterrupted one exactly (CPU), with no env state saved;
- **time limits**: MPE ends every episode at ``max_cycles`` steps, a
  truncation, not a real end. The step before it bootstraps from the value of
  the observation the episode ended on: ``r_t <- r_t + γ V(s_{t+1})``, then the
  episode counts as done (Pardo et al. 2018). The rollout's last step is
  treated the same way, so GAE never runs across a rollout boundary;
- the run folder ``OUT/training/``: ``config.json``, ``log.csv`` (and
  TensorBoard), ``checkpoint.pt`` at a rollout boundary every
  ``checkpoint_every`` steps, every ``checkpoint_minutes`` and on Ctrl-C;
- resume: the saved config is the base, a ``--config`` key may change only
  what is safe mid-run (:data:`SAFE_ON_RESUME`), another algorithm or env is
  one error line (the rule of docs/trainer-pieces.md);
- evaluation: greedy, on ``eval_games`` seeded episodes of a separate vector,
  the team return of bench/mpe_spread.py (:func:`agents.common.mpe_loop.evaluate`);
- the package: the team/role package MADDPG writes (``policy.pt`` one actor
  per seat, ``policy.json``, the stand-alone ``actor_player.py``).
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar

import numpy as np
import torch

from agents.common.checkpoint import load_checkpoint, save_checkpoint
from agents.common.interrupt import Checkpoints
from agents.common.logger import TrainLogger
from agents.common.mpe_loop import evaluate, role_returns, team_return
from agents.common.package import copy_player, default_name, default_version, write_manifest
from agents.common.vec_mpe import VecMPE
from arena.config_check import NON_NEGATIVE, POSITIVE
from arena.errors import ArenaError
from arena.registry import get_env, trainers
from arena.trainer import TrainRequest, TrainSummary
from arena.training import build_config

PLAYER = "actor_player"
CHECKPOINT = "checkpoint.pt"
EVAL_SEED_OFFSET = 1_000_003  # the evaluation episodes of mpe_loop and bench/mpe_spread.py


@dataclass
class MPEPGConfig:
    """The run's keys (rollouts, cadences); ``agents/mappo.py`` adds the algorithm's."""

    share: Literal["role", "none"] = "role"
    """``role``: the seats of one role share one actor and one critic, which see
    the seat's one-hot id too; ``none``: one actor and critic per seat."""
    n_envs: Annotated[int, POSITIVE] = 32
    """Envs stepped in lockstep (one batched forward pass per step for every seat)."""
    rollout_steps: Annotated[int, POSITIVE] = 50
    """Steps per env per rollout (n_envs x rollout_steps env steps); a multiple of
    max_cycles keeps whole episodes in each rollout."""
    max_cycles: Annotated[int, POSITIVE] = 25
    """Episode length: MPE's time limit (a truncation; the value bootstraps through it)."""
    hidden: Annotated[int, POSITIVE] = 64
    """Width of the two hidden layers of every actor and critic."""
    gamma: Annotated[float, NON_NEGATIVE] = 0.95
    """Discount per step (also of the bootstrap at the time limit). MADDPG's 0.95: on
    simple_spread MAPPO reached -40.0 at 1M with it, -46.5 with 0.99 (bench/RESULTS.md)."""
    log_every: Annotated[int, POSITIVE] = 10_000
    """Env steps between log rows."""
    eval_every: Annotated[int, NON_NEGATIVE] = 20_000
    """Env steps between greedy evaluations (0 = only at the end)."""
    eval_games: Annotated[int, POSITIVE] = 32
    """Seeded episodes per greedy evaluation."""
    checkpoint_every: Annotated[int, NON_NEGATIVE] = 100_000
    """Env steps between checkpoints (and one at the end)."""
    checkpoint_minutes: Annotated[float, NON_NEGATIVE] = 10.0
    """Also checkpoint at least this often (0 = off); Ctrl-C always saves one."""
    threads: Annotated[int, POSITIVE] = 1
    """torch threads (1: measured fastest on the shared 2-core machines)."""


# Keys a --config may change on --resume: cadences, learning rates, evaluation.
SAFE_ON_RESUME = frozenset({
    "actor_lr", "critic_lr", "anneal_lr", "ent_coef", "log_every", "eval_every", "eval_games",
    "checkpoint_every", "checkpoint_minutes", "threads",
})  # fmt: skip


@dataclass
class Rollout:
    """One rollout on the training device; ``T`` steps, ``E`` envs, ``N`` seats.

    ``rewards`` already hold the bootstrap ``γ V(s')`` at truncated steps, and
    ``dones`` is 1 wherever an episode (or the rollout) ended.
    """

    obs: torch.Tensor  # [T, E, N, obs_max]
    actions: torch.Tensor  # [T, E, N] long
    logp: torch.Tensor  # [T, E, N] log π_old(a|o)
    values: torch.Tensor  # [T, E, N] V_old
    rewards: torch.Tensor  # [T, E, N]
    dones: torch.Tensor  # [T, E, N]


class Learner(Protocol):
    """What an on-policy MPE algorithm gives the run."""

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``obs [E, N, o]`` -> actions ``[E, N]``, their log π and V(o), each ``[E, N]``."""
        ...

    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs [E, N, o]`` -> the argmax actions ``[E, N]``."""
        ...

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V ``[E, N]`` (in return units) for the bootstrap at truncations."""
        ...

    def update(self, rollout: Rollout, progress: float) -> dict[str, torch.Tensor]:
        """Learn from one rollout; ``progress`` in [0, 1) is the run's fraction done."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """One actor per seat (the stacked layout actor_player reads) and its meta."""
        ...


C = TypeVar("C", bound=MPEPGConfig)


def make_config(cls: type[C], values: dict[str, Any], source: str) -> C:
    """Dataclass defaults < ``values`` (the --config file), every key checked."""
    return build_config(cls, values, source)


def resumed_values(saved: dict[str, Any], request: TrainRequest) -> dict[str, Any]:
    """The saved config with the --config keys that may change; else one error line."""
    if saved["algo"] != request.algo or saved["env_id"] != request.env_id:
        raise ArenaError(
            f"--resume: the checkpoint is {saved['algo']} on {saved['env_id']}, not "
            f"{request.algo} on {request.env_id} (choose a new --out)"
        )
    values: dict[str, Any] = json.loads(saved["config_json"])
    for key, value in request.config.items():
        if key in values and key not in SAFE_ON_RESUME and value != values[key]:
            raise ArenaError(
                f"{request.config_source}: key '{key}': cannot change on --resume "
                f"(the run was trained with {json.dumps(values[key])}); choose a new --out"
            )
    return {**values, **request.config}


def collect(
    learner: Learner, vec: VecMPE, steps: int, gamma: float, device: str
) -> tuple[Rollout, list[np.ndarray]]:
    """``steps`` lockstep steps of ``vec`` from fresh episodes; the rollout and the
    seat returns of the episodes that ended. One host-to-device copy of the
    observations and one device-to-host copy of the actions per step."""
    e, n, o = vec.n_envs, vec.n_agents, vec.obs_max
    obs_buf = torch.zeros(steps, e, n, o, device=device)
    actions = torch.zeros(steps, e, n, dtype=torch.long, device=device)
    logp = torch.zeros(steps, e, n, device=device)
    values = torch.zeros(steps, e, n, device=device)
    rewards = torch.zeros(steps, e, n, device=device)
    dones = torch.zeros(steps, e, n, device=device)
    finished: list[np.ndarray] = []
    obs = torch.as_tensor(vec.reset(), device=device)
    with torch.no_grad():
        for t in range(steps):
            a, lp, v = learner.sample(obs)
            result = vec.step(a.cpu().numpy())
            reward = torch.as_tensor(result.rewards, device=device)
            ended = result.done.copy()
            if t == steps - 1:
                ended[:] = True  # the rollout's end: cut every episode here
            truncated = ended & ~result.terminated  # host flags: no device read
            if truncated.any():
                cut = torch.as_tensor(truncated, device=device)
                v_next = learner.value(torch.as_tensor(result.next_obs, device=device))
                reward = reward + gamma * v_next * cut[:, None]
            obs_buf[t], actions[t], logp[t], values[t] = obs, a, lp, v
            rewards[t] = reward
            dones[t] = torch.as_tensor(ended, device=device, dtype=torch.float32)[:, None]
            finished.extend(result.finished)
            obs = torch.as_tensor(result.obs, device=device)
    return Rollout(obs_buf, actions, logp, values, rewards, dones), finished


def run_mpe_pg(
    request: TrainRequest,
    cls: type[C],
    make_learner: Callable[[C, VecMPE], Learner],
    columns: list[str],
    description: str,
) -> TrainSummary:
    """Train ``make_learner(config, vec)`` and write the package."""
    started = time.perf_counter()
    checkpoint_path = request.training_dir / CHECKPOINT
    saved: dict[str, Any] | None = None
    values = dict(request.config)
    if request.resume:
        saved = load_checkpoint(checkpoint_path, request.device)
        values = resumed_values(saved, request)
    config = make_config(cls, values, request.config_source)
    torch.set_num_threads(config.threads)
    torch.manual_seed(request.seed)
    device = request.device
    spec = get_env(request.env_id)
    env_kwargs = {"max_cycles": config.max_cycles}
    vec = VecMPE(spec, config.n_envs, seed=request.seed, env_kwargs=env_kwargs)
    eval_vec = VecMPE(spec, min(config.eval_games, 16), seed=request.seed + EVAL_SEED_OFFSET,
                      env_kwargs=env_kwargs)  # fmt: skip
    per_rollout = config.n_envs * config.rollout_steps
    total_rollouts = max(1, -(-request.steps // per_rollout))
    learner = make_learner(config, vec)
    step = rollouts = episodes = 0
    last_eval: dict[str, float] = {}
    if saved is not None:
        learner.load_state_dict(saved["learner"])
        step, rollouts, episodes = saved["step"], saved["rollouts"], saved["episodes"]
        torch.set_rng_state(saved["torch_rng"])
        last_eval = dict(saved["last_eval"])

    request.training_dir.mkdir(parents=True, exist_ok=True)
    config_json = json.dumps(asdict(config))
    (request.training_dir / "config.json").write_text(
        json.dumps({"algo": request.algo, **asdict(config)}, indent=2) + "\n"
    )
    roles = list(dict.fromkeys(vec.roles))
    returns_columns = ["episodes", "team_return", *(f"return_{r}" for r in roles),
                       "eval_team_return", *(f"eval_return_{r}" for r in roles)]  # fmt: skip
    logger = TrainLogger(
        request.training_dir, request.steps, [*returns_columns, *columns],
        progress=request.progress, tensorboard=request.tensorboard, start_step=step,
        description=f"{request.algo} {request.env_id}",
    )  # fmt: skip
    recent: deque[np.ndarray] = deque(maxlen=100)
    start_step = step
    next_log = (step // config.log_every + 1) * config.log_every
    next_eval = (step // config.eval_every + 1) * config.eval_every if config.eval_every else -1
    time_env_act = time_learn = time_eval = 0.0
    stats: dict[str, torch.Tensor] = {}

    def greedy(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return learner.greedy(torch.as_tensor(obs, device=device)).cpu().numpy()

    def eval_now() -> dict[str, float]:
        with torch.random.fork_rng(devices=[]):  # evaluation never moves the run's generator
            returns = evaluate(eval_vec, greedy, config.eval_games)
        row = {"eval_team_return": float(team_return(vec, returns).mean())}
        row.update({f"eval_return_{r}": v for r, v in role_returns(vec, returns).items()})
        return row

    def save() -> int:
        save_checkpoint(checkpoint_path, {
            "algo": request.algo, "env_id": request.env_id, "config_json": config_json,
            "learner": learner.state_dict(), "step": step, "rollouts": rollouts,
            "episodes": episodes, "torch_rng": torch.get_rng_state(), "last_eval": last_eval,
        })  # fmt: skip
        return step

    checkpoints = Checkpoints(save, checkpoint_path, step=step,
                              every_steps=config.checkpoint_every,
                              every_minutes=config.checkpoint_minutes)  # fmt: skip
    try:
        with checkpoints:
            while step < request.steps:
                with checkpoints.update():  # Ctrl-C waits for the end of the rollout and update
                    t0 = time.perf_counter()
                    # Fresh episodes from a seed of (run seed, rollout number): see the docstring.
                    vec.seed = request.seed * 100_003 + rollouts
                    rollout, finished = collect(learner, vec, config.rollout_steps, config.gamma,
                                                device)  # fmt: skip
                    t1 = time.perf_counter()
                    stats = learner.update(rollout, rollouts / total_rollouts)
                    time_learn += time.perf_counter() - t1
                    time_env_act += t1 - t0
                    rollouts += 1
                    step += per_rollout
                    recent.extend(finished)
                    episodes += len(finished)
                final = step >= request.steps
                if (next_eval > 0 and step >= next_eval) or final:
                    t0 = time.perf_counter()
                    last_eval = eval_now()
                    time_eval += time.perf_counter() - t0
                    while 0 < next_eval <= step:
                        next_eval += config.eval_every
                if step >= next_log or final:
                    row: dict[str, Any] = {k: float(v) for k, v in stats.items()}  # one read a row
                    if recent:
                        seats = np.stack(recent)
                        row["team_return"] = float(team_return(vec, seats).mean())
                        row.update({f"return_{r}": v for r, v in role_returns(vec, seats).items()})
                    logger.log(step, episodes=episodes, **row, **last_eval)
                    while next_log <= step:
                        next_log += config.log_every
                else:
                    logger.advance(step)
                checkpoints.reached(step)
            checkpoints.save()
            with checkpoints.update():  # a package is never half-written
                write_package(request, learner, vec, description)
    finally:
        logger.close()
    seconds = time.perf_counter() - started
    metrics = {
        **last_eval,
        "steps_per_s": (step - start_step) / max(seconds - time_eval, 1e-9),
        "seconds_env_act": time_env_act,
        "seconds_learn": time_learn,
        "seconds_eval": time_eval,
        "rollouts": rollouts,
        "episodes": episodes,
    }
    return TrainSummary(request.algo, request.env_id, step, seconds, request.out, metrics)


def write_package(request: TrainRequest, learner: Learner, vec: VecMPE, description: str) -> Path:
    """The package MADDPG writes (policy.pt, policy.json, actor_player.py), so the same
    stand-alone player and bench/mpe_spread.py's package evaluation read it."""
    out = request.out
    weights, meta = learner.export()
    torch.save({k: v.detach().cpu().contiguous() for k, v in weights.items()}, out / "policy.pt")
    meta = {
        **meta, "algo": request.algo, "env": request.env_id, "seats": vec.seats,
        "roles": vec.roles, "obs_dims": vec.obs_dims, "obs_max": vec.obs_max,
        "act_dims": vec.act_dims, "continuous": False,
    }  # fmt: skip
    (out / "policy.json").write_text(json.dumps(meta, indent=2) + "\n")
    copy_player(out, PLAYER)
    trainer = trainers()[request.algo]  # kind and learning type are stated once, there
    write_manifest(
        out,
        name=default_name(request.algo, request.env_id),
        version=default_version(request.steps, request.seed),
        entry=f"{PLAYER}:make_agent",
        files=["policy.pt", "policy.json", f"{PLAYER}.py"],
        envs=[request.env_id],
        kind=trainer.kind,
        learning_type=trainer.learning_type,
        description=f"{description}, {request.steps} env steps on {request.env_id}",
        roles=list(dict.fromkeys(vec.roles)),
        requires=("numpy>=1.24", "torch>=2.2"),
    )
    return out
