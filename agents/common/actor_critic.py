"""The actor-critic network PPO and A2C train: one torso, a policy head and a value head.

``forward(obs) -> (logits, value)`` for board observations ``(B, rows, cols, 2)``
(0/1 planes: the mover's pieces, the opponent's). The torso is an MLP over the
flattened planes, or (``torso = "conv"``) two 3×3 convolutions that keep the
board's size followed by one dense layer. The stand-alone player
(``agents/players/pg_player.py``) builds the same modules under the same names,
so the trainer's state dict loads there unchanged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from agents.common import pg_math


@dataclass(frozen=True)
class ActorCriticSpec:
    """Everything needed to rebuild the network (``network.json`` in a package)."""

    obs_shape: tuple[int, ...]
    n_actions: int
    torso: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    channels: int = 64

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["obs_shape"] = list(self.obs_shape)
        data["hidden"] = list(self.hidden)
        return data


def _orthogonal(layer: nn.Linear | nn.Conv2d, gain: float) -> None:
    # CleanRL's initialisation: orthogonal weights, zero biases; a small gain on the
    # policy head starts the policy near uniform.
    nn.init.orthogonal_(layer.weight, gain)
    assert layer.bias is not None
    nn.init.zeros_(layer.bias)


class ActorCritic(nn.Module):
    """π(·|s) logits and V(s) from a shared torso."""

    def __init__(self, spec: ActorCriticSpec) -> None:
        super().__init__()
        self.spec = spec
        rows, cols, planes = spec.obs_shape
        layers: list[nn.Module] = []
        if spec.torso == "conv":
            c = spec.channels
            layers += [nn.Conv2d(planes, c, 3, padding=1), nn.ReLU()]
            layers += [nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Flatten()]
            size = c * rows * cols
            hidden = spec.hidden[-1:] if spec.hidden else ()
        else:
            size = math.prod(spec.obs_shape)
            hidden = spec.hidden
        for h in hidden:
            layers += [nn.Linear(size, h), nn.ReLU()]
            size = h
        self.torso = nn.Sequential(*layers)
        self.policy = nn.Linear(size, spec.n_actions)
        self.value = nn.Linear(size, 1)
        for module in self.torso:
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                _orthogonal(module, math.sqrt(2))
        _orthogonal(self.policy, 0.01)
        _orthogonal(self.value, 1.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = obs.float()
        if self.spec.torso == "conv":
            x = x.permute(0, 3, 1, 2)  # (B, rows, cols, planes) -> (B, planes, rows, cols)
        else:
            x = x.flatten(1)
        h = self.torso(x)
        return self.policy(h), self.value(h).squeeze(-1)


def evaluate_actions(
    net: ActorCritic, obs: torch.Tensor, masks: torch.Tensor, actions: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """log π(a|s), the entropy H[π(·|s)] over legal actions, and V(s), for a batch."""
    logits, values = net(obs)
    masked = pg_math.masked_logits(logits, masks)
    logp = pg_math.log_probs(masked).gather(1, actions[:, None]).squeeze(1)
    return logp, pg_math.entropy(masked), values


def gradient_step(
    net: ActorCritic, optimizer: torch.optim.Optimizer, loss: torch.Tensor, max_grad_norm: float
) -> None:
    """One optimiser step on ``loss``, the gradient's global norm clipped first (0 = off)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm > 0:
        nn.utils.clip_grad_norm_(net.parameters(), max_grad_norm)
    optimizer.step()
