"""MAPPO (Yu et al. 2022, arXiv 2103.01955) on the particle envs: PPO with a centralised critic.

Centralised training, decentralised execution, as in the seed's MADDPG:

- the **actor** π_i(a | o_i) of seat ``i`` sees only its own observation, so
  the package plays each seat alone (``agents/players/actor_player.py``);
- the **critic** V_i(o_i, o_-i) sees every seat's observation while learning,
  its own seat's first (:func:`critic_input`); it is thrown away at the end.

``share = "role"`` (the default) gives the seats of one role one actor and one
critic (simple_spread: one of each for the three agents; simple_tag and
simple_adversary: one per side, both sides trained at once). A shared network
also sees its seat's one-hot id, appended to its input, so seats can still
act differently. ``share = "none"``: one actor and one critic per seat. The
networks are stacked (:mod:`agents.common.stacked`): every seat's forward pass
is one ``bmm`` per layer. Actions are MPE's Discrete(5) (Discrete(3) for
simple_speaker_listener's speaker: padded actions get logit -inf).

One iteration (the run around it is :mod:`agents.common.mpe_pg`):

1. **Rollout.** ``n_envs`` x ``rollout_steps`` lockstep steps, a ~ π_old(·|o_i)
   for every seat, storing log π_old(a|o_i) and V_old. Every seat gets its own
   reward r_i (simple_spread: the shared cover term plus its own collisions).
2. **Advantages.** GAE(λ) per seat (``pg_math.gae``, stride 1); at MPE's time
   limit the reward carries the bootstrap γ V(s'):

       δ_t = r_t + γ (1 - d_t) V(s_{t+1}) - V(s_t),   Â_t = δ_t + γλ (1 - d_t) Â_{t+1},
       R_t = Â_t + V(s_t)

3. **Value normalisation** (``value_norm``): the critic predicts
   (V - μ_i) / σ_i, with μ_i, σ_i a running mean and std of seat i's returns
   R_t (updated before the epochs), as MAPPO's paper recommends.
4. **Epochs of minibatches.** ``epochs`` passes over the rollout in
   ``minibatches`` shuffled slices of env steps (every seat of a step in the
   same slice); for each seat, with Â normalised per seat and minibatch,

       L_π,i = -E[min(ρ Â, clip(ρ, 1-ε, 1+ε) Â)] - c_e H[π_i(·|o_i)],   ρ = π(a|o) / π_old(a|o)
       L_V,i = ½ E[(V - R)²]   (or, with ``clip_vloss``, the max of it and of
               V clipped to V_old ± ε: ``pg_math.value_loss``)

   summed over seats (a shared network gets the sum of its seats' gradients),
   one Adam step for the actors and one for the critics, each network's
   gradient norm clipped to ``max_grad_norm``.

``agents/ippo.py`` is this module with V_i(o_i): the critic sees its own
observation only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import torch

from agents.common import pg_math
from agents.common.centralised import own_first_order
from agents.common.mpe_loop import supports_mpe
from agents.common.mpe_pg import MPEPGConfig, Rollout, run_mpe_pg
from agents.common.stacked import StackedMLP, clip_grad_norm_per_agent, per_seat_state_dict
from agents.common.vec_mpe import VecMPE
from arena.config_check import NON_NEGATIVE, POSITIVE
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary


@dataclass
class Config(MPEPGConfig):
    """PPO's keys on top of the run's (docs/mappo.md lists them all). Defaults:
    MAPPO's paper for MPE (lr 7e-4, 10 epochs, ε 0.2, value normalisation),
    except the rollout size and minibatches, set for 1M-step runs on 2 cores,
    and γ = 0.95 (MADDPG's; measured better on simple_spread)."""

    gae_lambda: Annotated[float, NON_NEGATIVE] = 0.95
    """λ of GAE (0: one-step TD advantages, 1: Monte Carlo)."""
    clip_coef: Annotated[float, POSITIVE] = 0.2
    """ε of the clipped surrogate (and of the value clipping)."""
    clip_vloss: bool = True
    """Clip the value update to V_old ± clip_coef (the pessimistic max of both losses)."""
    norm_adv: bool = True
    """Normalise advantages per seat and minibatch."""
    value_norm: bool = True
    """The critic predicts returns normalised by a running mean and std per seat."""
    epochs: Annotated[int, POSITIVE] = 10
    """Passes over each rollout."""
    minibatches: Annotated[int, POSITIVE] = 2
    """Minibatches per pass."""
    actor_lr: Annotated[float, POSITIVE] = 7e-4
    """Adam step size of the actors."""
    critic_lr: Annotated[float, POSITIVE] = 7e-4
    """Adam step size of the critics."""
    anneal_lr: bool = False
    """Anneal both learning rates linearly to 0 at --steps."""
    ent_coef: Annotated[float, NON_NEGATIVE] = 0.01
    """Weight of the entropy bonus."""
    max_grad_norm: Annotated[float, NON_NEGATIVE] = 10.0
    """Clip each network's gradient norm (0 = off)."""


COLUMNS = ["policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac", "explained_variance"]


def supports(name: str, spec: EnvSpec) -> str | None:
    return supports_mpe(name, spec)


def critic_input(obs: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """MAPPO's critic input: ``obs [B, N, o]`` -> ``[N, B, N * o]``, row ``i`` is
    ``(o_i, o_-i)``, the other seats in seat order (``order = own_first_order(N)``)."""
    n, b = order.shape[0], obs.shape[0]
    return obs[:, order].transpose(0, 1).reshape(n, b, -1)


class RunningMeanStd:
    """Per-seat running mean and variance of the returns (Chan et al.'s parallel update)."""

    def __init__(self, n: int, device: str) -> None:
        self.mean = torch.zeros(n, device=device)
        self.var = torch.ones(n, device=device)
        self.count = torch.full((), 1e-4, device=device)

    def update(self, x: torch.Tensor) -> None:
        """``x [B, N]``: one batch of returns per seat."""
        b_mean, b_var, b_count = x.mean(0), x.var(0, unbiased=False), x.shape[0]
        delta, total = b_mean - self.mean, self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var, self.count = m2 / total, total

    def normalise(self, x: torch.Tensor) -> torch.Tensor:  # [..., N]
        return (x - self.mean) / (self.var.sqrt() + 1e-8)

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:  # [..., N]
        return x * (self.var.sqrt() + 1e-8) + self.mean

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"mean": self.mean, "var": self.var, "count": self.count}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.mean, self.var, self.count = state["mean"], state["var"], state["count"]


class MAPPO:
    """Stacked actors and critics for every seat (one per role when shared), and the update.

    Args:
        cfg: hyperparameters.
        vec: the training envs (seats, roles, sizes, action mask).
        centralised: critics see every seat's observation (MAPPO), else their own (IPPO).
        device: where the networks live.
    """

    def __init__(self, cfg: Config, vec: VecMPE, *, centralised: bool, device: str) -> None:
        n, o, a, h = vec.n_agents, vec.obs_max, vec.act_max, cfg.hidden
        self.cfg, self.n, self.obs_max, self.centralised = cfg, n, o, centralised
        roles = list(dict.fromkeys(vec.roles))
        self.shared = cfg.share == "role"
        seat_net = [roles.index(r) for r in vec.roles] if self.shared else None
        nets = len(roles) if self.shared else n
        extra = n if self.shared else 0  # the seat's one-hot id, for shared networks
        self.seat_id = torch.eye(n, device=device)
        # A small last layer starts the policy near uniform (CleanRL: gain 0.01).
        self.actor = StackedMLP(nets, (o + extra, h, h, a), out_scale=0.01, seat_net=seat_net)
        critic_in = (n * o if centralised else o) + extra
        self.critic = StackedMLP(nets, (critic_in, h, h, 1), seat_net=seat_net)
        self.actor.to(device)
        self.critic.to(device)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.actor_lr, eps=1e-5)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr, eps=1e-5)
        self.mask = torch.as_tensor(vec.action_mask(), device=device)[:, None, :]  # [N, 1, A]
        self.order = own_first_order(n, device)
        self.returns = RunningMeanStd(n, device)

    # --- the networks' inputs -------------------------------------------------

    def _with_id(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, B, in]`` -> ``[N, B, in + N]`` when shared: seat ``i``'s row gets e_i."""
        if not self.shared:
            return x
        return torch.cat([x, self.seat_id[:, None, :].expand(-1, x.shape[1], -1)], dim=-1)

    def actor_input(self, obs: torch.Tensor) -> torch.Tensor:
        """``obs [B, N, o]`` -> ``[N, B, o (+N)]``: each actor sees its own observation only."""
        return self._with_id(obs.transpose(0, 1))

    def critic_input(self, obs: torch.Tensor) -> torch.Tensor:
        """MAPPO: ``(o_i, o_-i)``; IPPO: ``o_i`` (each ``+ e_i`` when shared), ``[N, B, in]``."""
        x = critic_input(obs, self.order) if self.centralised else obs.transpose(0, 1)
        return self._with_id(x)

    def _masked_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """``[N, B, A]``; padded actions (shorter action spaces) are -inf."""
        logits = self.actor(self.actor_input(obs))
        return pg_math.masked_logits(logits, self.mask.expand_as(logits))

    def _critic_out(self, obs: torch.Tensor) -> torch.Tensor:
        """The critic's raw output ``[B, N]`` (normalised units with ``value_norm``)."""
        return self.critic(self.critic_input(obs)).squeeze(-1).T

    # --- acting (the run's Learner protocol) ----------------------------------

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        out = self._critic_out(obs)
        return self.returns.denormalise(out) if self.cfg.value_norm else out

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        masked = self._masked_logits(obs)  # [N, E, A]
        n, e, a = masked.shape
        action = pg_math.sample(masked.reshape(n * e, a)).view(n, e)
        logp = pg_math.log_probs(masked).gather(-1, action[..., None]).squeeze(-1)
        return action.T, logp.T, self.value(obs)

    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        return self._masked_logits(obs).argmax(-1).T

    # --- learning -------------------------------------------------------------

    def update(self, rollout: Rollout, progress: float) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        if cfg.anneal_lr:
            for opt, lr in ((self.actor_opt, cfg.actor_lr), (self.critic_opt, cfg.critic_lr)):
                for group in opt.param_groups:
                    group["lr"] = lr * (1.0 - progress)
        # GAE per seat over [T, E, N]; rewards carry the bootstrap at the time limit.
        advantages, returns = pg_math.gae(
            rollout.rewards, rollout.values, rollout.dones, gamma=cfg.gamma, lam=cfg.gae_lambda
        )
        t, e, n = advantages.shape
        obs = rollout.obs.reshape(t * e, n, -1)
        actions, old_logp = rollout.actions.reshape(t * e, n), rollout.logp.reshape(t * e, n)
        adv, ret, old_v = (x.reshape(t * e, n) for x in (advantages, returns, rollout.values))
        if cfg.value_norm:
            self.returns.update(ret)
            ret, old_v = self.returns.normalise(ret), self.returns.normalise(old_v)
        size = t * e
        mb_size = max(size // cfg.minibatches, 1)
        v_clip = cfg.clip_coef if cfg.clip_vloss else None
        sums = torch.zeros(5, device=obs.device)  # policy, value, entropy, kl, clipfrac
        count = 0
        for _epoch in range(cfg.epochs):
            for index in torch.randperm(size, device=obs.device).split(mb_size):
                mb_obs = obs[index]
                masked = self._masked_logits(mb_obs)  # [N, b, A]
                new_logp = pg_math.log_probs(masked).gather(-1, actions[index].T[..., None])
                new_logp = new_logp.squeeze(-1)  # [N, b]
                mb_adv = adv[index].T
                if cfg.norm_adv:  # per seat: predators and prey have different scales
                    mb_adv = torch.stack([pg_math.normalise(row) for row in mb_adv])
                # Each pg_math loss is a mean over seats and samples; x N sums the seats.
                policy_loss = pg_math.clipped_surrogate(
                    new_logp, old_logp[index].T, mb_adv, cfg.clip_coef
                )
                entropy = pg_math.entropy(masked).mean()
                actor_loss = n * (policy_loss - cfg.ent_coef * entropy)
                new_v = self._critic_out(mb_obs)  # [b, N]
                value_loss = pg_math.value_loss(new_v, old_v[index], ret[index], v_clip)
                for opt, net, loss in ((self.actor_opt, self.actor, actor_loss),
                                       (self.critic_opt, self.critic, n * value_loss)):  # fmt: skip
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if cfg.max_grad_norm > 0:
                        clip_grad_norm_per_agent(net.parameters(), cfg.max_grad_norm)
                    opt.step()
                with torch.no_grad():
                    log_ratio = new_logp - old_logp[index].T
                    ratio = log_ratio.exp()
                    approx_kl = ((ratio - 1) - log_ratio).mean()  # the k3 estimator
                    clipfrac = ((ratio - 1).abs() > cfg.clip_coef).float().mean()
                    sums += torch.stack([policy_loss, value_loss, entropy, approx_kl, clipfrac])
                count += 1
        means = sums / max(count, 1)
        return {
            "policy_loss": means[0], "value_loss": means[1], "entropy": means[2],
            "approx_kl": means[3], "clipfrac": means[4],
            "explained_variance": torch.tensor(pg_math.explained_variance(old_v, ret)),
        }  # fmt: skip

    # --- saving ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "actor_opt": self.actor_opt.state_dict(),
            "critic_opt": self.critic_opt.state_dict(),
            "returns": self.returns.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("actor", "critic", "actor_opt", "critic_opt", "returns"):
            getattr(self, key).load_state_dict(state[key])

    def export(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """One actor per seat in the layout ``actor_player`` reads. A shared actor's
        seat id is folded into its first bias: ``[o, e_i] @ W + b = o @ W[:o] + (b + W[o + i])``,
        so the packaged actor reads the plain observation."""
        weights = {k: v.detach().clone() for k, v in per_seat_state_dict(self.actor).items()}
        if self.shared:
            w0, o = weights["weights.0"], self.obs_max
            seats = torch.arange(self.n)
            weights["biases.0"] = weights["biases.0"] + w0[seats, o + seats][:, None, :]
            weights["weights.0"] = w0[:, :o, :]
        return weights, {"head": "logits", "hidden": [self.cfg.hidden] * 2}


def train(request: TrainRequest, *, centralised: bool, description: str) -> TrainSummary:
    """The run for ``mappo`` (``centralised``) and ``ippo``."""

    def make(cfg: Config, vec: VecMPE) -> MAPPO:
        return MAPPO(cfg, vec, centralised=centralised, device=request.device)

    return run_mpe_pg(request, Config, make, COLUMNS, description)


def run(request: TrainRequest) -> TrainSummary:
    """``arena train mappo``: every seat's actor with centralised critics, then the package."""
    return train(request, centralised=True, description="MAPPO (centralised critics)")
