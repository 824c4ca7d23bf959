"""The off-policy loop MADDPG and SAC share on the particle envs, and the package they write.

One iteration: every seat of ``E`` lockstep envs acts (one batched forward
pass), the ``E`` joint transitions go into the device replay, and every
``train_every`` env steps the learner makes one update of all agents at once.
Episodes end at MPE's 25-step time limit, a truncation: the replay marks only
real terminations, so targets bootstrap through the time limit.

The loop owns logging (CSV + rich bar), greedy evaluation, checkpoints for
``--resume`` and the package written at the end; the algorithm modules own
their networks and losses (:class:`Learner`). It also keeps where the time
went (:class:`LoopTimes`: env, act, learn, buffer, eval), reported as
``seconds_*`` in the summary's metrics.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import torch

from agents.common.checkpoint import load_checkpoint, save_checkpoint
from agents.common.interrupt import Checkpoints
from agents.common.joint_replay import JointBatch, JointReplay
from agents.common.logger import TrainLogger
from agents.common.package import copy_player, default_name, default_version, write_manifest
from agents.common.schedules import decay_learning_rates
from agents.common.vec_mpe import VecMPE
from arena.registry import get_env
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary
from arena.training import build_config

COOPERATIVE = ("simple_spread_v3", "simple_speaker_listener_v4", "simple_reference_v3")
PLAYER = "actor_player"


class Learner(Protocol):
    """What an algorithm gives the loop."""

    def act(self, obs: torch.Tensor, *, explore: bool) -> torch.Tensor:
        """``[E, N, obs] -> [E, N, act]``: one-hot (discrete) or in ``[-1, 1]`` (continuous)."""
        ...

    def update(self, batch: JointBatch) -> None: ...

    def episodes_ended(self, done: np.ndarray) -> None:
        """Called with the ``[E]`` done flags after each step (resets OU noise)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The stacked actor's ``state_dict`` and what the player needs to know."""
        ...


@dataclass(frozen=True)
class LoopSettings:
    """The loop's part of an algorithm's config (see the fields' docs there)."""

    n_envs: int
    buffer_size: int
    batch_size: int
    learning_starts: int
    train_every: int
    max_cycles: int
    continuous_actions: bool
    log_interval: int
    eval_interval: int
    eval_episodes: int
    checkpoint_interval: int
    checkpoint_minutes: float

    @classmethod
    def from_config(cls, config: Any) -> LoopSettings:
        """Take the loop's fields from an algorithm's config (they share the names)."""
        return cls(**{f.name: getattr(config, f.name) for f in fields(cls)})

    def updates(self, steps: int) -> int:
        """How many updates a run of ``steps`` env steps makes (learning-rate schedules)."""
        return max(1, (steps - self.learning_starts) // self.train_every)


@dataclass
class LoopTimes:
    """Seconds the loop spent in each part (``perf_counter`` sums; the parts are
    what ``bench/mpe_speed.py`` reports). ``act`` includes the host-device
    copies of observations and actions; ``buffer`` adding and sampling."""

    env: float = 0.0
    act: float = 0.0
    learn: float = 0.0
    buffer: float = 0.0
    eval: float = 0.0

    def metrics(self, total: float) -> dict[str, float]:
        """``seconds_<part>`` for each part, and ``seconds_other`` (logging, checkpoints)."""
        parts = {f"seconds_{k}": v for k, v in asdict(self).items()}
        return {**parts, "seconds_other": max(total - sum(parts.values()), 0.0)}


C = TypeVar("C")

SHARED_PRESET: dict[str, Any] = {"share_parameters": True, "hidden": 128}
"""The ``shared`` preset of maddpg and masac: one actor and critic per role, 2x128
layers. On simple_spread it reached the 1M-step target that per-seat 2x64
networks missed (bench/RESULTS.md, section mpe_spread)."""


def load_preset_config(
    config_class: type[C], presets: dict[str, dict[str, Any]], values: dict[str, Any], source: str
) -> C:
    """The config file's ``preset`` values, overridden by the file's own keys (all
    checked by ``build_config``: an unknown key or a wrong type names the file and key)."""
    checked = build_config(config_class, values, source)
    preset: str = checked.preset  # type: ignore[attr-defined]
    return build_config(config_class, {**presets[preset], **values}, source)


def follow_lr_schedule(learner: Any) -> None:
    """Before update ``learner.updates`` of ``learner.total_updates``: set the actor
    and critic learning rates by ``learner.cfg.final_lr_fraction`` (linear decay)."""
    cfg = learner.cfg
    if cfg.final_lr_fraction != 1.0:
        decay_learning_rates(
            [(learner.actor_opt, cfg.actor_lr), (learner.critic_opt, cfg.critic_lr)],
            cfg.final_lr_fraction,
            learner.updates,
            learner.total_updates,
        )


def supports_mpe(name: str, spec: EnvSpec) -> str | None:
    """These trainers play the particle envs, which have no action masks."""
    if spec.family != "mpe":
        return f"{name} trains on the MPE particle envs only (family 'mpe', got '{spec.family}')"
    return None


def make_vec(request: TrainRequest, settings: LoopSettings, n_envs: int, seed: int) -> VecMPE:
    spec = get_env(request.env_id)
    return VecMPE(
        spec,
        n_envs,
        seed=seed,
        continuous=settings.continuous_actions,
        env_kwargs={"max_cycles": settings.max_cycles},
    )


def team_return(vec: VecMPE, seat_returns: np.ndarray) -> np.ndarray:
    """Sum over the seats of the first team (every seat in a cooperative env); ``[..., N]``."""
    first = np.asarray([t == vec.teams[0] for t in vec.teams])
    return seat_returns[..., first].sum(-1)


def role_returns(vec: VecMPE, seat_returns: np.ndarray) -> dict[str, float]:
    """Mean episode return of one seat of each role."""
    out = {}
    for role in dict.fromkeys(vec.roles):
        cols = [i for i, r in enumerate(vec.roles) if r == role]
        out[role] = float(seat_returns[:, cols].mean())
    return out


def evaluate(vec: VecMPE, policy: Callable[[np.ndarray], np.ndarray], episodes: int) -> np.ndarray:
    """Seat returns ``[episodes, N]`` of ``policy(obs [E, N, obs]) -> env actions``.

    The vector is reset with its seed first, so the same policy always sees the
    same episodes.
    """
    obs = vec.reset()
    done_returns: list[np.ndarray] = []
    while len(done_returns) < episodes:
        step = vec.step(policy(obs))
        done_returns.extend(step.finished)
        obs = step.obs
    return np.stack(done_returns[:episodes])


def run_loop(
    request: TrainRequest,
    *,
    settings: LoopSettings,
    config: Any,
    make_learner: Callable[[VecMPE], Learner],
    kind: str,
    description: str,
) -> TrainSummary:
    """Train ``make_learner(vec)`` for ``request.steps`` env steps and write the package."""
    torch.set_num_threads(getattr(config, "threads", 1))
    torch.manual_seed(request.seed)
    device = request.device
    vec = make_vec(request, settings, settings.n_envs, request.seed)
    eval_vec = make_vec(
        request, settings, min(settings.eval_episodes, 16), request.seed + 1_000_003
    )
    learner = make_learner(vec)
    replay = JointReplay(settings.buffer_size, vec.n_agents, vec.obs_max, vec.act_max, device)
    tdir = request.training_dir
    tdir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = tdir / "checkpoint.pt"
    step = episodes = 0
    if request.resume:
        state = load_checkpoint(checkpoint_path, device)
        learner.load_state_dict(state["learner"])
        step, episodes = int(state["step"]), int(state["episodes"])
        torch.set_rng_state(state["torch_rng"].cpu())
        vec.seed = request.seed + step  # fresh episodes, not a replay of the first ones
    (tdir / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    roles = list(dict.fromkeys(vec.roles))
    columns = [
        "episodes",
        "team_return",
        *(f"return_{r}" for r in roles),
        "eval_team_return",
        *(f"eval_return_{r}" for r in roles),
    ]
    recent: deque[np.ndarray] = deque(maxlen=100)
    mask = torch.as_tensor(vec.action_mask(), device=device)
    started = time.perf_counter()
    start_step = step
    warm_until = step + settings.learning_starts
    last_eval: dict[str, float] = {}
    times = LoopTimes()

    def greedy(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = learner.act(torch.as_tensor(obs, device=device), explore=False)
        return vec.to_env_actions(out.cpu().numpy())

    def eval_now() -> dict[str, float]:
        returns = evaluate(eval_vec, greedy, settings.eval_episodes)
        row = {"eval_team_return": float(team_return(vec, returns).mean())}
        row.update({f"eval_return_{r}": v for r, v in role_returns(vec, returns).items()})
        return row

    def save() -> int:
        save_checkpoint(
            checkpoint_path,
            {
                "learner": learner.state_dict(),
                "step": step,
                "episodes": episodes,
                "torch_rng": torch.get_rng_state(),
            },
        )
        return step

    name = default_name(request.algo, request.env_id)
    with (
        TrainLogger(
            tdir,
            request.steps,
            columns,
            progress=request.progress,
            tensorboard=request.tensorboard,
            start_step=start_step,
            description=f"{request.algo} {request.env_id}",
        ) as log,
        Checkpoints(
            save,
            checkpoint_path,
            step=step,
            every_steps=settings.checkpoint_interval,
            every_minutes=settings.checkpoint_minutes,
        ) as checkpoints,
    ):
        obs = vec.reset()
        next_log = step + settings.log_interval
        next_eval = step + settings.eval_interval
        since_update = 0
        while step < request.steps:
            with checkpoints.update():  # Ctrl-C waits for the end of the round
                t0 = time.perf_counter()
                obs_t = torch.as_tensor(obs, device=device)
                if step < warm_until and not request.resume:
                    actions = _random_actions(vec, mask, obs_t.shape[0])
                else:
                    with torch.no_grad():
                        actions = learner.act(obs_t, explore=True)
                actions_np = actions.cpu().numpy()
                env_actions = vec.to_env_actions(actions_np)
                t1 = time.perf_counter()
                result = vec.step(env_actions)
                t2 = time.perf_counter()
                replay.add(obs, actions_np, result.rewards, result.next_obs, result.terminated)
                t3 = time.perf_counter()
                learner.episodes_ended(result.done)
                obs = result.obs
                step += vec.n_envs
                since_update += vec.n_envs
                for seat_returns in result.finished:
                    recent.append(seat_returns)
                    episodes += 1
                times.act += t1 - t0
                times.env += t2 - t1
                times.buffer += t3 - t2
                if step >= warm_until and replay.size >= settings.batch_size:
                    while since_update >= settings.train_every:
                        t0 = time.perf_counter()
                        batch = replay.sample(settings.batch_size)
                        t1 = time.perf_counter()
                        learner.update(batch)
                        times.buffer += t1 - t0
                        times.learn += time.perf_counter() - t1
                        since_update -= settings.train_every
                else:
                    since_update = 0
            if step >= next_eval or step >= request.steps:
                next_eval += settings.eval_interval
                t0 = time.perf_counter()
                last_eval = eval_now()
                times.eval += time.perf_counter() - t0
            if step >= next_log or step >= request.steps:
                next_log += settings.log_interval
                row: dict[str, Any] = {"episodes": episodes, **last_eval}
                if recent:
                    seats = np.stack(recent)
                    row["team_return"] = float(team_return(vec, seats).mean())
                    row.update({f"return_{r}": v for r, v in role_returns(vec, seats).items()})
                log.log(step, **row)
            else:
                log.advance(step)
            checkpoints.reached(step)
        checkpoints.save()
        t0 = time.perf_counter()
        final = eval_now()
        times.eval += time.perf_counter() - t0
        with checkpoints.update():  # a package is never half-written
            _write_package(request, learner, vec, kind=kind, name=name, description=description)
    seconds = time.perf_counter() - started
    metrics = {
        "eval_team_return": final["eval_team_return"],
        "steps_per_s": (step - start_step) / max(seconds, 1e-9),
        **{k: v for k, v in final.items() if k != "eval_team_return"},
        **times.metrics(seconds),
    }
    return TrainSummary(request.algo, request.env_id, step, seconds, request.out, metrics)


def _random_actions(vec: VecMPE, mask: torch.Tensor, n_envs: int) -> torch.Tensor:
    """Uniform random actions in the learner's format, for the warm-up steps."""
    n, a = mask.shape
    if vec.continuous:
        return (torch.rand(n_envs, n, a, device=mask.device) * 2 - 1) * mask
    logits = torch.where(mask > 0, 0.0, -1e9).expand(n_envs, n, a)
    index = torch.distributions.Categorical(logits=logits).sample()
    return torch.nn.functional.one_hot(index, a).float()


def _write_package(
    request: TrainRequest,
    learner: Learner,
    vec: VecMPE,
    *,
    kind: str,
    name: str,
    description: str,
) -> Path:
    out = request.out
    weights, meta = learner.export()
    torch.save({k: v.detach().cpu() for k, v in weights.items()}, out / "policy.pt")
    meta = {
        **meta,
        "algo": request.algo,
        "env": request.env_id,
        "seats": vec.seats,
        "roles": vec.roles,
        "obs_dims": vec.obs_dims,
        "obs_max": vec.obs_max,
        "act_dims": vec.act_dims,
        "continuous": vec.continuous,
    }
    (out / "policy.json").write_text(json.dumps(meta, indent=2) + "\n")
    copy_player(out, PLAYER)
    write_manifest(
        out,
        name=name,
        version=default_version(request.steps, request.seed),
        entry=f"{PLAYER}:make_agent",
        files=["policy.pt", "policy.json", f"{PLAYER}.py"],
        envs=[request.env_id],
        kind=kind,
        learning_type="Actor-critic",
        description=description,
        roles=list(dict.fromkeys(vec.roles)),
        requires=("numpy>=1.24", "torch>=2.2"),
    )
    return out
