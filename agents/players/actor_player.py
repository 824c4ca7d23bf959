"""Stand-alone player for packages trained by ``arena train maddpg|ddpg|masac|sac``.

Copied into every such package; imports only NumPy and PyTorch (PyTorch only
to read the weights, safely, with ``weights_only=True``). The package holds one
actor per seat of the env it was trained on (``policy.pt``: the stacked actor
weights, ``[seats, in, out]`` per layer; ``policy.json``: which seat is which).
``make_agent(ctx)`` picks the actor of ``ctx.agent_id``, or, for a seat name it
never trained, the first actor of ``ctx.role``. Acting is greedy: the largest
logit for discrete actions, the deterministic (mean) action for continuous ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


class ActorPlayer:
    """One seat's actor as plain NumPy matrices (a forward pass costs microseconds)."""

    def __init__(self, ctx: Any) -> None:
        import torch

        package = Path(ctx.package_dir)
        meta = json.loads((package / "policy.json").read_text())
        state = torch.load(package / "policy.pt", map_location="cpu", weights_only=True)
        seats: list[str] = meta["seats"]
        if ctx.agent_id in seats:
            i = seats.index(ctx.agent_id)
        elif ctx.role in meta["roles"]:
            i = meta["roles"].index(ctx.role)
        else:
            raise ValueError(
                f"this package has no actor for seat {ctx.agent_id} (role {ctx.role}); "
                f"it was trained for seats {', '.join(seats)}"
            )
        continuous = bool(meta["continuous"])
        space_is_box = hasattr(ctx.action_space, "shape") and not hasattr(ctx.action_space, "n")
        if continuous != space_is_box:
            trained = "Box" if continuous else "Discrete"
            raise ValueError(
                f"this package was trained with {trained} actions but the seat's action "
                f"space is {ctx.action_space} (train with continuous_actions to match)"
            )
        n_layers = len(meta["hidden"]) + 1
        self.w = [state[f"weights.{k}"][i].numpy().astype(np.float64) for k in range(n_layers)]
        self.b = [state[f"biases.{k}"][i, 0].numpy().astype(np.float64) for k in range(n_layers)]
        self.obs_dim, self.obs_max = meta["obs_dims"][i], meta["obs_max"]
        self.act_dim = meta["act_dims"][i]
        self.head = meta["head"]
        self.continuous = continuous
        if continuous:
            self.low = np.asarray(ctx.action_space.low, np.float64)
            self.high = np.asarray(ctx.action_space.high, np.float64)
            self.dtype = ctx.action_space.dtype

    def reset(self, *, seed: int | None = None) -> None:
        pass  # greedy and stateless

    def act(self, observation: Any, *, action_mask: Any = None) -> Any:
        x = np.zeros(self.obs_max)
        x[: self.obs_dim] = np.asarray(observation, np.float64).reshape(-1)[: self.obs_dim]
        last = len(self.w) - 1
        for k, (w, b) in enumerate(zip(self.w, self.b, strict=True)):
            x = x @ w + b
            if k < last:
                x = np.maximum(x, 0.0)
        out = x[: self.act_dim]  # gaussian heads: the first half is the mean
        if not self.continuous:
            return int(np.argmax(out))
        a = np.tanh(out)
        return (self.low + (a + 1.0) * 0.5 * (self.high - self.low)).astype(self.dtype)


def make_agent(ctx: Any) -> ActorPlayer:
    return ActorPlayer(ctx)
