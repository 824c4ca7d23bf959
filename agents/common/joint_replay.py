"""Replay of joint transitions (every seat's observation, action, reward), preallocated.

The tensors live on the training device from the start; a step's ``E``
transitions arrive as one host-to-device copy per field and a batch is sampled
with ``torch.randint`` on the device, so the learner never waits on the host.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class JointBatch(NamedTuple):
    """``B`` joint transitions: ``obs``/``next_obs`` ``[B, N, obs]``, ``act`` ``[B, N, act]``,
    ``rew`` and ``term`` ``[B, N]`` (``term`` is 1.0 only on a real termination)."""

    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    next_obs: torch.Tensor
    term: torch.Tensor


class JointReplay:
    """A ring buffer of ``capacity`` joint transitions on ``device``."""

    def __init__(
        self, capacity: int, n_agents: int, obs_dim: int, act_dim: int, device: str = "cpu"
    ) -> None:
        def zeros(*shape: int) -> torch.Tensor:
            return torch.zeros(capacity, *shape, device=device)

        self.capacity, self.device = capacity, device
        self.obs, self.next_obs = zeros(n_agents, obs_dim), zeros(n_agents, obs_dim)
        self.act = zeros(n_agents, act_dim)
        self.rew, self.term = zeros(n_agents), zeros(n_agents)
        self.pos, self.size = 0, 0

    def add(
        self,
        obs: np.ndarray,
        act: np.ndarray | torch.Tensor,
        rew: np.ndarray,
        next_obs: np.ndarray,
        term: np.ndarray,
    ) -> None:
        """Store ``E`` transitions (the leading dimension of every argument)."""
        n = obs.shape[0]
        idx = (self.pos + torch.arange(n)) % self.capacity
        idx = idx.to(self.device)
        term_seats = np.broadcast_to(np.asarray(term, np.float32)[:, None], rew.shape)
        for dest, value in (
            (self.obs, obs),
            (self.act, act),
            (self.rew, rew),
            (self.next_obs, next_obs),
            (self.term, term_seats),
        ):
            src = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
            dest[idx] = src.to(self.device, dtype=dest.dtype, non_blocking=True)
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int) -> JointBatch:
        idx = torch.randint(0, self.size, (batch_size,), device=self.device)
        return JointBatch(
            self.obs[idx], self.act[idx], self.rew[idx], self.next_obs[idx], self.term[idx]
        )
