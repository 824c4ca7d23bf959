"""The C51 projection (Bellemare et al., 2017).

The target distribution of ``r + γ^k Z(s', a*)`` lives on shifted atoms
``Tz_j = r + γ^k (1 - done) z_j`` (clipped to ``[v_min, v_max]``); its mass
is split between the two nearest atoms of the fixed support:

    b_j = (Tz_j - v_min) / Δz,   l = ⌊b_j⌋,   u = ⌈b_j⌉,
    m_l += p_j (u - b_j),        m_u += p_j (b_j - l),

with the whole of ``p_j`` going to ``l`` when ``b_j`` is an integer (l = u).
"""

from __future__ import annotations

import torch


def project(
    next_probs: torch.Tensor,
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    dones: torch.Tensor,
    support: torch.Tensor,
) -> torch.Tensor:
    """Project ``r + γ^k (1 - done) z`` weighted by ``next_probs`` (B, atoms) onto ``support``."""
    atoms = support.numel()
    v_min, v_max = support[0], support[-1]
    delta = (v_max - v_min) / (atoms - 1)
    tz = rewards[:, None] + (discounts * (1 - dones))[:, None] * support[None, :]
    b = ((tz.clamp(v_min, v_max) - v_min) / delta).clamp(0, atoms - 1)
    lower, upper = b.floor().long(), b.ceil().long()
    # l == u: put the whole mass on l (u - b = 0 and b - l = 0 would lose it).
    same = (lower == upper).to(next_probs.dtype)
    m = torch.zeros_like(next_probs)
    m.scatter_add_(1, lower, next_probs * (upper.to(b.dtype) - b + same))
    m.scatter_add_(1, upper, next_probs * (b - lower.to(b.dtype)))
    return m
