"""Uniform experience replay in preallocated tensors on the training device.

Transitions arrive in batches (one per lockstep tick) and are written with one
host-to-device copy per field; sampling draws indices on the device with the
buffer's own generator, so a batch never leaves the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Batch:
    """A sampled batch, every field on the buffer's device.

    ``weights`` (importance-sampling corrections) are ones for uniform replay;
    ``indices`` let a prioritised buffer update the sampled priorities.
    """

    obs: torch.Tensor  # (B, *obs_shape) float32
    actions: torch.Tensor  # (B,) int64
    rewards: torch.Tensor  # (B,) float32, n-step discounted sums
    next_obs: torch.Tensor  # (B, *obs_shape) float32
    next_masks: torch.Tensor  # (B, A) bool, legal actions at next_obs
    dones: torch.Tensor  # (B,) float32, 1 when the episode ended within the horizon
    discounts: torch.Tensor  # (B,) float32, γ^k for a k-step horizon
    weights: torch.Tensor  # (B,) float32
    indices: torch.Tensor  # (B,) int64


class ReplayBuffer:
    """A ring buffer of ``capacity`` transitions.

    Args:
        capacity: transitions kept; the oldest are overwritten.
        obs_shape: shape of one observation.
        n_actions: size of the action mask.
        device: where the storage lives (``cpu`` or ``cuda``).
        seed: seed of the sampling generator.
        obs_dtype: storage type; board observations fit ``torch.uint8`` (4x smaller),
            converted to float32 when sampled.
    """

    def __init__(
        self,
        *,
        capacity: int,
        obs_shape: tuple[int, ...],
        n_actions: int,
        device: str = "cpu",
        seed: int = 0,
        obs_dtype: torch.dtype = torch.float32,
    ) -> None:
        self.capacity = capacity
        self.device = torch.device(device)
        self.obs = torch.zeros((capacity, *obs_shape), dtype=obs_dtype, device=self.device)
        self.next_obs = torch.zeros_like(self.obs)
        self.actions = torch.zeros(capacity, dtype=torch.int64, device=self.device)
        self.rewards = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.next_masks = torch.ones((capacity, n_actions), dtype=torch.bool, device=self.device)
        self.dones = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.discounts = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self.pos = 0  # next slot to write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        next_masks: np.ndarray,
        dones: np.ndarray,
        discounts: np.ndarray,
    ) -> torch.Tensor:
        """Append a batch (leading dimension k ≤ capacity); returns the slots written."""
        k = len(actions)
        slots = (torch.arange(k, device=self.device) + self.pos) % self.capacity
        put = {
            "obs": obs,
            "next_obs": next_obs,
            "actions": actions,
            "rewards": rewards,
            "next_masks": next_masks,
            "dones": dones,
            "discounts": discounts,
        }
        for name, values in put.items():
            store: torch.Tensor = getattr(self, name)
            store[slots] = torch.as_tensor(np.asarray(values)).to(self.device, store.dtype)
        self.pos = (self.pos + k) % self.capacity
        self.size = min(self.size + k, self.capacity)
        return slots

    def sample(self, batch_size: int) -> Batch:
        """Draw ``batch_size`` transitions uniformly, with replacement."""
        idx = torch.randint(
            0, self.size, (batch_size,), device=self.device, generator=self.generator
        )
        return self._gather(idx, torch.ones(batch_size, device=self.device))

    def _gather(self, idx: torch.Tensor, weights: torch.Tensor) -> Batch:
        return Batch(
            obs=self.obs[idx].float(),
            actions=self.actions[idx],
            rewards=self.rewards[idx],
            next_obs=self.next_obs[idx].float(),
            next_masks=self.next_masks[idx],
            dones=self.dones[idx],
            discounts=self.discounts[idx],
            weights=weights,
            indices=idx,
        )
