"""The policy-gradient maths PPO and A2C share: returns, advantages, losses, masked policies.

**Seat trajectories.** In a two-player alternating game stepped in lockstep
(:mod:`agents.common.pg_rollout`), tick ``t`` of game ``g`` holds one move of
the seat to move. That seat's next move in the same game is at tick ``t + 2``
(the opponent replies at ``t + 1``), unless the game ended. So every function
here takes a ``stride``: the successor of step ``t`` is step ``t + stride``
(1 for an ordinary single-agent rollout, 2 for a seat trajectory). A step that
is not ``done`` and whose successor lies beyond the rollout is *truncated*: its
value bootstraps its predecessor, but it has no target of its own.

**GAE(λ)** (Schulman et al. 2016), from each step's own point of view (no sign flip):

    δ_t = r_t + γ (1 - d_t) V(s_{t+s}) - V(s_t)
    Â_t = δ_t + γ λ (1 - d_t) Â_{t+s}          (Â of a truncated step = 0)
    target for V: R_t = Â_t + V(s_t)

**n-step returns** (A2C, Mnih et al. 2016):

    G^(0)_t = V(s_t)
    G^(k)_t = r_t + γ (1 - d_t) G^(k-1)_{t+s}   (a truncated step keeps G = V(s_t))

so G^(n)_t sums up to n rewards and bootstraps from the value n moves later.

**Masked policies.** Illegal logits are set to -inf, so softmax gives them
probability exactly 0; the entropy sums p·log p over legal actions only, which
keeps it finite (0·(-inf) would be NaN).
"""

from __future__ import annotations

import math

import torch


def truncated(dones: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """(T, ...) bool: steps that did not end the game and whose successor is past the rollout."""
    cut = torch.zeros_like(dones, dtype=torch.bool)
    cut[-stride:] = dones[-stride:] == 0
    return cut


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    *,
    gamma: float,
    lam: float,
    stride: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE(λ) advantages and value targets for (T, ...) rollouts; see the module docstring.

    Returns ``(advantages, returns)``; both are 0 / V at truncated steps (leave
    those out of the loss with :func:`truncated`).
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(values)
    not_done = 1.0 - dones.to(values.dtype)
    # The last ``stride`` steps have no successor: only a finished game gives them a target.
    tail = slice(max(steps - stride, 0), steps)
    advantages[tail] = (rewards[tail] - values[tail]) * (1.0 - not_done[tail])
    for t in reversed(range(steps - stride)):
        nxt = t + stride
        delta = rewards[t] + gamma * not_done[t] * values[nxt] - values[t]
        advantages[t] = delta + gamma * lam * not_done[t] * advantages[nxt]
    return advantages, advantages + values


def nstep_returns(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    *,
    gamma: float,
    n: int,
    stride: int = 1,
) -> torch.Tensor:
    """n-step returns G^(n) for (T, ...) rollouts; a truncated step's return is its value."""
    not_done = 1.0 - dones.to(values.dtype)
    cut = truncated(dones, stride)
    ret = values.clone()
    for _ in range(n):
        ahead = torch.zeros_like(values)  # a done step never reads it
        ahead[:-stride] = ret[stride:]
        ret = torch.where(cut, values, rewards + gamma * not_done * ahead)
    return ret


def masked_logits(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Illegal actions get -inf; a row without a legal action counts every action as legal."""
    mask = mask.bool()
    mask = mask | ~mask.any(-1, keepdim=True)
    return logits.masked_fill(~mask, -math.inf)


def log_probs(masked: torch.Tensor) -> torch.Tensor:
    """log π(·|s) from masked logits (-inf at illegal actions)."""
    return torch.log_softmax(masked, -1)


def entropy(masked: torch.Tensor) -> torch.Tensor:
    """H = -Σ_a π(a) log π(a) over legal actions only (finite, 0 for one legal action)."""
    logp = log_probs(masked)
    # Fill -inf with 0 before the product: 0 * (-inf) is NaN, in the value and in the gradient.
    finite = logp.masked_fill(~torch.isfinite(logp), 0.0)
    return -(logp.exp() * finite).sum(-1)


def sample(masked: torch.Tensor) -> torch.Tensor:
    """One action per row from π(·|s) (illegal actions have probability 0)."""
    return torch.multinomial(torch.softmax(masked, -1), 1).squeeze(-1)


def clipped_surrogate(
    new_logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, clip: float
) -> torch.Tensor:
    """PPO's policy loss L = -E[min(r Â, clip(r, 1-ε, 1+ε) Â)], r = π_new(a|s) / π_old(a|s)."""
    ratio = (new_logp - old_logp).exp()
    unclipped = ratio * advantages
    clipped = ratio.clamp(1.0 - clip, 1.0 + clip) * advantages
    return -torch.min(unclipped, clipped).mean()


def value_loss(
    new_values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    clip: float | None,
) -> torch.Tensor:
    """½ E[(V - R)²]; with ``clip`` the pessimistic max of it and of V clipped to old ± clip."""
    plain = (new_values - returns) ** 2
    if clip is None:
        return 0.5 * plain.mean()
    clipped_v = old_values + (new_values - old_values).clamp(-clip, clip)
    return 0.5 * torch.max(plain, (clipped_v - returns) ** 2).mean()


def normalise(advantages: torch.Tensor) -> torch.Tensor:
    """(Â - mean) / (std + 1e-8), per minibatch (one sample: centred only)."""
    if advantages.numel() < 2:
        return advantages - advantages.mean()
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)


def explained_variance(values: torch.Tensor, returns: torch.Tensor) -> float:
    """1 - Var[R - V] / Var[R]: 1 is a perfect critic, 0 no better than a constant."""
    var = returns.var()
    if var.item() == 0:
        return float("nan")
    return float(1 - (returns - values).var() / var)
