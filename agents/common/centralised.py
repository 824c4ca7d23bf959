"""What a centralised critic sees: every seat's observation and action, its own seat's first.

Critic ``i`` of MADDPG or MASAC reads ``(o_i, o_-i, a_i, a_-i)``, the other
seats in seat order. For one critic per seat the order is only a fixed
permutation of its inputs; for a critic shared by the seats of one role
(``share_parameters``) it is what tells the critic whose value it estimates.
"""

from __future__ import annotations

import torch


def own_first_order(n: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """``[N, N]``: row ``i`` is ``(i, the other seats in order)``."""
    return torch.as_tensor([[i, *(j for j in range(n) if j != i)] for i in range(n)], device=device)


def joint_critic_input(
    obs: torch.Tensor, joint_act: torch.Tensor, order: torch.Tensor
) -> torch.Tensor:
    """``obs [B, N, o]`` and ``joint_act [N, B, N, a]`` (critic ``i``'s view of the
    joint action) to each critic's input ``[N, B, N * (o + a)]``."""
    n, b = order.shape[0], obs.shape[0]
    joint_obs = obs[:, order].transpose(0, 1).reshape(n, b, -1)
    acts = joint_act.gather(2, order[:, None, :, None].expand_as(joint_act)).reshape(n, b, -1)
    return torch.cat([joint_obs, acts], dim=-1)
