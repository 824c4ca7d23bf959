"""Plays a policy-gradient (PPO, A2C) agent package written by ``arena train``.

Stand-alone: imports torch and numpy only (never the arena), so the package runs
wherever those are installed. It rebuilds the actor-critic network from
``network.json``, loads ``weights.pt`` with ``torch.load(weights_only=True)``
(a state dict: no code can run on load) and plays the argmax of the policy
over the legal actions; with ``"sample": true`` in ``network.json`` it samples
the masked policy instead (seeded by the arena's ``reset(seed=...)``). The
module names match ``agents/common/actor_critic.py``, so the trainer's state
dict loads here unchanged.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

NETWORK_FILE = "network.json"
WEIGHTS_FILE = "weights.pt"


class ActorCritic(nn.Module):
    """MLP or conv torso, then a policy head and a value head (the value is unused here)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self.spec = spec
        rows, cols, planes = (int(d) for d in spec["obs_shape"])
        hidden = [int(h) for h in spec["hidden"]]
        layers: list[nn.Module] = []
        if spec["torso"] == "conv":
            c = int(spec["channels"])
            layers += [nn.Conv2d(planes, c, 3, padding=1), nn.ReLU()]
            layers += [nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Flatten()]
            size = c * rows * cols
            hidden = hidden[-1:]
        else:
            size = rows * cols * planes
        for h in hidden:
            layers += [nn.Linear(size, h), nn.ReLU()]
            size = h
        self.torso = nn.Sequential(*layers)
        self.policy = nn.Linear(size, int(spec["n_actions"]))
        self.value = nn.Linear(size, 1)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float()
        x = x.permute(0, 3, 1, 2) if self.spec["torso"] == "conv" else x.flatten(1)
        out: torch.Tensor = self.policy(self.torso(x))
        return out


def load_network(package_dir: Path) -> ActorCritic:
    """Build the network from ``network.json`` and load ``weights.pt`` (weights only)."""
    spec = json.loads((package_dir / NETWORK_FILE).read_text())
    net = ActorCritic(spec)
    state = torch.load(package_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval()


class PolicyAgent:
    """The argmax (or a sample) of π(·|s) over the legal actions."""

    def __init__(self, net: ActorCritic, sample: bool) -> None:
        self.net = net
        self.sample = sample
        self.rng = np.random.default_rng(0)

    def reset(self, *, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        obs = torch.as_tensor(np.asarray(observation)[None])
        with torch.no_grad():
            logits = self.net.logits(obs)[0].double().numpy()
        if action_mask is not None:
            legal = np.asarray(action_mask).astype(bool)
            if legal.any():
                logits = np.where(legal, logits, -math.inf)  # illegal actions: probability 0
        if not self.sample:
            return int(np.argmax(logits))
        p = np.exp(logits - logits.max())
        return int(self.rng.choice(len(p), p=p / p.sum()))


def make_agent(ctx: Any) -> PolicyAgent:
    """Entry point (``pg_player:make_agent``): one agent per seat."""
    torch.set_num_threads(1)  # one small forward pass per move; threads only add overhead
    net = load_network(Path(ctx.package_dir))
    return PolicyAgent(net, bool(net.spec.get("sample", False)))
