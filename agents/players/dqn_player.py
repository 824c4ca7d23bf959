"""Plays a DQN-family agent package written by ``arena train``.

Stand-alone: imports torch and numpy only (never the arena), so the package runs
wherever those are installed. It rebuilds the Q-network from ``network.json``,
loads ``weights.pt`` with ``torch.load(weights_only=True)`` (a state dict: no
code can run on load) and plays the greedy action among the legal ones.
The module names match ``agents/common/networks.py``, so the trainer's exported
state dict loads here unchanged.
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


class QNetwork(nn.Module):
    """MLP or Nature-DQN conv torso, plain or dueling head, scalar or C51 output."""

    support: torch.Tensor

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self.spec = spec
        n_actions, atoms = int(spec["n_actions"]), int(spec["atoms"])
        hidden = [int(h) for h in spec["hidden"]]
        obs_shape = [int(d) for d in spec["obs_shape"]]
        layers: list[nn.Module] = []
        if spec["torso"] == "mlp":
            size = math.prod(obs_shape)
            for h in hidden:
                layers += [nn.Linear(size, h), nn.ReLU()]
                size = h
        else:
            if spec.get("channels_last"):
                height, width, channels = obs_shape
            else:
                channels, height, width = obs_shape
            convs: list[nn.Module] = [
                nn.Conv2d(channels, 32, 8, stride=4),
                nn.ReLU(),
                nn.Conv2d(32, 64, 4, stride=2),
                nn.ReLU(),
                nn.Conv2d(64, 64, 3, stride=1),
                nn.ReLU(),
                nn.Flatten(),
            ]
            with torch.no_grad():
                flat = nn.Sequential(*convs)(torch.zeros(1, channels, height, width)).shape[1]
            size = hidden[0] if hidden else 512
            layers = [*convs, nn.Linear(flat, size), nn.ReLU()]
        self.torso = nn.Sequential(*layers)
        self.advantage = nn.Linear(size, n_actions * atoms)
        self.value = nn.Linear(size, atoms) if spec["dueling"] else None
        self.register_buffer(
            "support", torch.linspace(float(spec["v_min"]), float(spec["v_max"]), atoms)
        )

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        """Q(s, ·) for a batch; for C51 the expectation Σ_j z_j p_j."""
        n_actions, atoms = int(self.spec["n_actions"]), int(self.spec["atoms"])
        x = obs.float()
        if self.spec["torso"] == "mlp":
            x = x.flatten(1)
        else:
            if self.spec.get("channels_last"):
                x = x.permute(0, 3, 1, 2)
            x = x / 255.0
        h = self.torso(x)
        a = self.advantage(h).view(-1, n_actions, atoms)
        if self.value is not None:
            a = self.value(h).view(-1, 1, atoms) + a - a.mean(1, keepdim=True)
        if atoms == 1:
            return a.squeeze(-1)
        return (a.softmax(-1) * self.support).sum(-1)


def load_network(package_dir: Path) -> QNetwork:
    """Build the network from ``network.json`` and load ``weights.pt`` (weights only)."""
    spec = json.loads((package_dir / NETWORK_FILE).read_text())
    net = QNetwork(spec)
    state = torch.load(package_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval()


class DQNAgent:
    """Greedy with respect to Q over the legal actions (deterministic)."""

    def __init__(self, net: QNetwork) -> None:
        self.net = net
        self.n_actions = int(net.spec["n_actions"])

    def reset(self, *, seed: int | None = None) -> None:
        return None

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        obs = torch.as_tensor(np.asarray(observation)[None])
        with torch.no_grad():
            q = self.net.q_values(obs)[0].numpy()
        if action_mask is not None:
            legal = np.asarray(action_mask).astype(bool)
            if legal.any():
                q = np.where(legal, q, -np.inf)  # illegal actions never win the argmax
        return int(np.argmax(q))


def make_agent(ctx: Any) -> DQNAgent:
    """Entry point (``dqn_player:make_agent``): one greedy agent per seat."""
    torch.set_num_threads(1)  # one small forward pass per move; threads only add overhead
    return DQNAgent(load_network(Path(ctx.package_dir)))
