"""A sum tree over priorities, and the proportional prioritised replay built on it.

Schaul et al. (2016), proportional variant: transition ``i`` is sampled with

    P(i) = p_i^α / Σ_k p_k^α,        p_i = |δ_i| + ε,

and its loss is weighted by the importance-sampling correction

    w_i = (N · P(i))^(-β) / max_j w_j,

with β annealed from β0 (0.4) to 1 over training, so the bias of
non-uniform sampling vanishes as learning converges. New transitions get the
largest priority seen so far, so each is replayed at least once soon.

The tree is a flat tensor on the device: leaves at ``[size, 2·size)``, node
``i`` holds ``tree[2i] + tree[2i+1]``, the total sits at ``tree[1]``. Sampling
and updates are vectorised over the batch (one pass per tree level), so
nothing leaves the device.
"""

from __future__ import annotations

import numpy as np
import torch

from agents.common.replay import Batch, ReplayBuffer


class SumTree:
    """Priorities of ``capacity`` slots with O(log n) batched update and prefix-sum search.

    Args:
        capacity: number of leaves (rounded up to a power of two internally).
        device: where the tree lives.
    """

    def __init__(self, capacity: int, device: str | torch.device = "cpu") -> None:
        self.capacity = capacity
        self.size = 1 << max(capacity - 1, 1).bit_length()  # leaves, a power of two
        self.depth = self.size.bit_length() - 1
        # float64: sums of many small priorities must not drift away from the leaves.
        self.tree = torch.zeros(2 * self.size, dtype=torch.float64, device=device)

    @property
    def total(self) -> torch.Tensor:
        """Sum of all priorities (a 0-d tensor, stays on the device)."""
        return self.tree[1]

    def leaves(self) -> torch.Tensor:
        """Priorities of slots ``0..capacity-1``."""
        return self.tree[self.size : self.size + self.capacity]

    def update(self, slots: torch.Tensor, priorities: torch.Tensor) -> None:
        """Set the priorities of ``slots`` (a repeated slot repeats its priority); re-sum."""
        nodes = slots.to(torch.int64) + self.size
        self.tree[nodes] = priorities.to(self.tree.dtype)
        for _ in range(self.depth):
            nodes = nodes // 2  # repeated parents recompute the same sum: harmless
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]

    def find(self, mass: torch.Tensor) -> torch.Tensor:
        """Slot ``i`` with ``prefix(i) <= mass < prefix(i) + p_i`` for each entry of ``mass``."""
        nodes = torch.ones_like(mass, dtype=torch.int64)
        mass = mass.to(self.tree.dtype)
        for _ in range(self.depth):
            left = self.tree[2 * nodes]
            go_right = mass >= left
            mass = torch.where(go_right, mass - left, mass)
            nodes = 2 * nodes + go_right.to(torch.int64)
        return nodes - self.size


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritised replay (same storage as :class:`ReplayBuffer`).

    Args:
        alpha: how much prioritisation is used (0 = uniform; 0.6 in the paper).
        eps: added to |δ| so no transition's probability is ever zero.
        **kwargs: as for :class:`ReplayBuffer`.
    """

    def __init__(self, *, alpha: float = 0.6, eps: float = 1e-6, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.alpha = alpha
        self.eps = eps
        self.tree = SumTree(self.capacity, self.device)
        self.max_priority = torch.ones((), dtype=torch.float64, device=self.device)

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
        slots = super().add(obs, actions, rewards, next_obs, next_masks, dones, discounts)
        self.tree.update(slots, self.max_priority.expand(len(slots)))
        return slots

    def sample(self, batch_size: int, beta: float = 0.4) -> Batch:  # type: ignore[override]
        """Draw ``batch_size`` slots with P(i) ∝ p_i^α, stratified over equal slices of the mass."""
        total = self.tree.total
        u = torch.rand(
            batch_size, device=self.device, generator=self.generator, dtype=torch.float64
        )
        mass = (torch.arange(batch_size, device=self.device) + u) * (total / batch_size)
        idx = self.tree.find(mass).clamp_(0, self.size - 1)
        probs = self.tree.tree[idx + self.tree.size] / total
        # w_i = (N P(i))^-β, normalised by the batch maximum (a common, stable choice).
        weights = (self.size * probs).clamp_min(1e-12) ** (-beta)
        weights = (weights / weights.max()).float()
        return self._gather(idx, weights)

    def update_priorities(self, slots: torch.Tensor, td_errors: torch.Tensor) -> None:
        """Set p_i = (|δ_i| + ε)^α for the sampled slots (tensors stay on the device)."""
        priorities = (td_errors.detach().abs().to(torch.float64) + self.eps) ** self.alpha
        self.tree.update(slots, priorities)
        self.max_priority = torch.maximum(self.max_priority, priorities.max())
