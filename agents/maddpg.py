"""MADDPG (Lowe et al. 2017, arXiv 1706.02275) and independent DDPG on the particle envs.

Centralised training, decentralised execution: actor ``mu_i(o_i)`` sees only
its own observation; critic ``Q_i(o_1..o_N, a_1..a_N)`` sees every seat's
observation and action while learning, so the other agents' changing policies
do not make its world non-stationary. ``ddpg`` is the same module with each
critic given only ``(o_i, a_i)``: independent learners, the baseline.

Every seat has its own actor and critic (competitive envs train every role at
once), but the N networks are stacked (:mod:`agents.common.stacked`), so each
update is one batched pass for all agents.

Discrete actions use the Gumbel-softmax straight-through estimator: the
forward pass is a one-hot sample, the backward pass the soft sample's gradient.
Continuous (Box) actions use a tanh actor with Gaussian or Ornstein-Uhlenbeck
exploration noise.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from agents.common.centralised import JointCritic
from agents.common.joint_replay import JointBatch
from agents.common.mpe_loop import (
    SHARED_PRESET,
    LoopSettings,
    follow_lr_schedule,
    load_preset_config,
    run_loop,
    supports_mpe,
)
from agents.common.stacked import (
    StackedMLP,
    clip_grad_norm_per_agent,
    per_seat_state_dict,
    soft_update,
)
from agents.common.vec_mpe import VecMPE
from arena.config_check import NON_NEGATIVE
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary


@dataclass
class Config:
    """MADDPG hyperparameters. Unless said otherwise, the default is the reference
    implementation's for MPE (openai/maddpg, ``train.py``)."""

    preset: Literal["fast", "reference", "shared"] = "fast"
    """``fast`` (the default): the measured recipe below, 16 envs in lockstep, lr
    1e-3, one update per 16 env steps; it reaches the 200k simple_spread target.
    ``shared``: ``fast`` with ``share_parameters`` and 2x128 layers; it reaches the
    1M one. ``reference``: openai/maddpg's settings (1 env, lr 1e-2, one update
    per 100 steps). Keys set in the config file override the preset's."""
    actor_lr: float = 1e-3
    """Adam step size of the actors (reference 1e-2; 1e-2 diverged with 16 envs)."""
    critic_lr: float = 1e-3
    """Adam step size of the critics (reference 1e-2)."""
    final_lr_fraction: float = 1.0
    """The learning rates fall linearly to this fraction of ``actor_lr`` and
    ``critic_lr`` over the run's updates (1.0: constant, as in the reference)."""
    gamma: float = 0.95
    """Discount. Short (25-step) episodes want a short horizon."""
    tau: float = 0.01
    """Polyak rate of the target networks: ``target <- tau * online + (1 - tau) * target``."""
    hidden: int = 64
    """Width of the two hidden layers of every actor and critic (2x64 MLPs)."""
    batch_size: int = 1024
    """Joint transitions per update."""
    buffer_size: int = 1_000_000
    """Replay capacity in joint transitions (preallocated on the training device)."""
    learning_starts: int = 25_600
    """Random-action env steps before the first update (reference: batch x 25)."""
    train_every: int = 16
    """Env steps (over all envs) between updates; each update trains every agent
    once (reference 100 with one env)."""
    n_envs: int = 16
    """Envs stepped in lockstep (reference 1)."""
    max_cycles: int = 25
    """Episode length: MPE's time limit (a truncation; targets bootstrap through it)."""
    grad_clip: float = 0.5
    """Per-agent gradient-norm clip of critics and actors."""
    logit_reg: float = 1e-3
    """Weight of the squared pre-activation actor output in the actor loss."""
    share_parameters: bool = False
    """Seats of one role share one actor and one critic (a role's experience is
    pooled: on simple_spread each update trains the one network on 3x the
    samples). The critic still knows whose value it estimates: its input lists
    the seat's own observation and action first. Off: one network per seat, as
    in the paper."""
    gumbel_temperature: float = 1.0
    """Temperature of the Gumbel-softmax (discrete actions)."""
    continuous_actions: bool = False
    """Train on Box actions (tanh actor + noise). The arena plays MPE with Discrete
    actions, so such a package only plays envs built with ``continuous_actions=True``."""
    noise: Literal["gaussian", "ou"] = "gaussian"
    """Exploration noise for Box actions."""
    noise_scale: float = 0.1
    """Std of Gaussian noise, or sigma of the OU process, on the ``[-1, 1]`` action."""
    ou_theta: float = 0.15
    """Mean reversion of the OU process."""
    log_interval: int = 10_000
    """Env steps between CSV rows."""
    eval_interval: int = 20_000
    """Env steps between greedy evaluations."""
    eval_episodes: int = 32
    """Episodes per greedy evaluation."""
    checkpoint_interval: int = 100_000
    """Env steps between checkpoints (and one at the end)."""
    checkpoint_minutes: Annotated[float, NON_NEGATIVE] = 10.0
    """Also checkpoint at least this often (0 = off); Ctrl-C always saves one."""
    threads: int = 1
    """torch threads (1: on shared CPUs, two threads were 4-10x slower)."""


PRESETS: dict[str, dict[str, Any]] = {
    "fast": {},
    "reference": {
        "actor_lr": 1e-2,
        "critic_lr": 1e-2,
        "n_envs": 1,
        "train_every": 100,
    },
    "shared": SHARED_PRESET,
}


def load_config(values: dict[str, Any], source: str) -> Config:
    """The preset's values, overridden by the file's (each checked by ``build_config``)."""
    return load_preset_config(Config, PRESETS, values, source)


def supports(name: str, spec: EnvSpec) -> str | None:
    return supports_mpe(name, spec)


class MADDPG:
    """N stacked actors and critics, their targets and optimisers.

    Args:
        cfg: hyperparameters.
        vec: the training envs (sizes, action mask, discrete or continuous).
        centralised: critics see the joint observation-action (MADDPG), else
            only their own (independent DDPG).
        device: where the networks live.
    """

    def __init__(
        self,
        cfg: Config,
        vec: VecMPE,
        *,
        centralised: bool,
        device: str,
        total_updates: int = 1,
    ) -> None:
        n, o, a, h = vec.n_agents, vec.obs_max, vec.act_max, cfg.hidden
        self.cfg, self.n, self.centralised = cfg, n, centralised
        self.total_updates = total_updates
        self.continuous = vec.continuous
        roles = list(dict.fromkeys(vec.roles))
        seat_net = [roles.index(r) for r in vec.roles] if cfg.share_parameters else None
        nets = len(roles) if cfg.share_parameters else n
        self.actor = StackedMLP(nets, (o, h, h, a), seat_net=seat_net).to(device)
        critic_in = n * (o + a) if centralised else o + a
        self.critic = StackedMLP(nets, (critic_in, h, h, 1), seat_net=seat_net).to(device)
        self.actor_target = copy.deepcopy(self.actor)
        self.critic_target = copy.deepcopy(self.critic)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr)
        self.mask = torch.as_tensor(vec.action_mask(), device=device)  # [N, A]
        self.joint = JointCritic(n, o, a, device=device)  # critic i reads its own seat first
        self.ou = torch.zeros(vec.n_envs, n, a, device=device)
        self.updates = 0

    # --- acting ---------------------------------------------------------------

    def _logits(self, actor: StackedMLP, obs: torch.Tensor) -> torch.Tensor:
        """``obs [B, N, o] -> [N, B, a]``; padded action entries can never be chosen."""
        out = actor(obs.transpose(0, 1))
        if self.continuous:
            return out
        return out.masked_fill(self.mask[:, None, :] == 0, -1e9)

    def _greedy(self, out: torch.Tensor) -> torch.Tensor:
        if self.continuous:
            return torch.tanh(out) * self.mask[:, None, :]
        return F.one_hot(out.argmax(-1), out.shape[-1]).float()

    @torch.no_grad()
    def act(self, obs: torch.Tensor, *, explore: bool) -> torch.Tensor:
        out = self._logits(self.actor, obs)
        if not explore:
            action = self._greedy(out)
        elif not self.continuous:
            action = F.gumbel_softmax(out, tau=self.cfg.gumbel_temperature, hard=True)
        else:
            noise = self._noise(obs.shape[0]).transpose(0, 1)
            action = (torch.tanh(out) + noise).clamp(-1.0, 1.0) * self.mask[:, None, :]
        return action.transpose(0, 1)

    def _noise(self, n_envs: int) -> torch.Tensor:
        cfg = self.cfg
        if cfg.noise == "gaussian" or self.ou.shape[0] != n_envs:
            return cfg.noise_scale * torch.randn(n_envs, *self.ou.shape[1:], device=self.ou.device)
        # Ornstein-Uhlenbeck: dx = -theta x dt + sigma dW (dt = 1), temporally correlated.
        self.ou += -cfg.ou_theta * self.ou + cfg.noise_scale * torch.randn_like(self.ou)
        return self.ou

    def episodes_ended(self, done: np.ndarray) -> None:
        if done.any():
            self.ou[torch.as_tensor(done, device=self.ou.device)] = 0.0

    # --- learning -------------------------------------------------------------

    def q(
        self,
        critic: StackedMLP,
        obs: torch.Tensor,
        act: torch.Tensor,
        own: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Critic values ``[N, B]`` of ``obs [B, N, o]`` and ``act [B, N, a]``.

        ``own [N, B, a]``, if given, is each critic's own seat's action in place
        of the one in ``act`` (the actor update). MADDPG: every observation, then
        every action, seat ``i``'s first (``o_i, o_-i, a_i, a_-i``), so a critic
        shared by several seats knows whose value it gives; DDPG: ``(o_i, a_i)``.
        """
        if self.centralised:
            return self.joint(critic, obs, act, own).squeeze(-1)
        own_act = act.transpose(0, 1) if own is None else own
        return critic(torch.cat([obs.transpose(0, 1), own_act], dim=-1)).squeeze(-1)

    def update(self, batch: JointBatch) -> None:
        cfg = self.cfg
        obs, act, rew, next_obs, term = batch
        follow_lr_schedule(self)

        # Critic: y_i = r_i + gamma (1 - d) Q'_i(o', mu'_1(o'_1), ..., mu'_N(o'_N)).
        with torch.no_grad():
            next_act = self._greedy(self._logits(self.actor_target, next_obs)).transpose(0, 1)
            q_next = self.q(self.critic_target, next_obs, next_act)
            y = rew.T + cfg.gamma * (1.0 - term.T) * q_next
        critic_loss = (self.q(self.critic, obs, act) - y).pow(2).mean(1).sum()
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        clip_grad_norm_per_agent(self.critic.parameters(), cfg.grad_clip)
        self.critic_opt.step()

        # Actor: maximise Q_i(o, a_1..mu_i(o_i)..a_N), the other seats' actions as stored.
        out = self._logits(self.actor, obs)
        if self.continuous:
            mine = torch.tanh(out) * self.mask[:, None, :]
        else:
            # Straight-through: one-hot forward, soft-sample gradient backward.
            mine = F.gumbel_softmax(out, tau=cfg.gumbel_temperature, hard=True)
        reg = (out * self.mask[:, None, :]).pow(2).mean(dim=(1, 2)).sum()
        self.critic.requires_grad_(False)
        actor_loss = -self.q(self.critic, obs, act, own=mine).mean(1).sum() + cfg.logit_reg * reg
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.critic.requires_grad_(True)
        clip_grad_norm_per_agent(self.actor.parameters(), cfg.grad_clip)
        self.actor_opt.step()

        soft_update(self.critic_target, self.critic, cfg.tau)
        soft_update(self.actor_target, self.actor, cfg.tau)
        self.updates += 1

    # --- saving ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "actor_target": self.actor_target.state_dict(),
            "critic_target": self.critic_target.state_dict(),
            "actor_opt": self.actor_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(),
            "updates": self.updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("actor", "critic", "actor_target", "critic_target", "actor_opt", "critic_opt"):
            getattr(self, key).load_state_dict(state[key])
        self.updates = int(state["updates"])

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        head = "tanh" if self.continuous else "logits"
        return per_seat_state_dict(self.actor), {"head": head, "hidden": [self.cfg.hidden] * 2}


def run(request: TrainRequest) -> TrainSummary:
    """``arena train maddpg|ddpg``: train every seat of the env, write the package."""
    cfg = load_config(dict(request.config), request.config_source)
    centralised = request.algo != "ddpg"
    settings = LoopSettings.from_config(cfg)
    what = "MADDPG (centralised critics)" if centralised else "independent DDPG learners"
    return run_loop(
        request,
        settings=settings,
        config=cfg,
        make_learner=lambda vec: MADDPG(
            cfg,
            vec,
            centralised=centralised,
            device=request.device,
            total_updates=settings.updates(request.steps),
        ),
        kind="maddpg",
        description=f"{what}, {request.steps} env steps on {request.env_id}",
    )
