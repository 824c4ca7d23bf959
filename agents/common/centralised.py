"""What a centralised critic sees: every seat's observation and action, its own seat's first.

Critic ``i`` of MADDPG or MASAC reads ``(o_i, o_-i, a_i, a_-i)``, the other
seats in seat order. For one critic per seat the order is only a fixed
permutation of its inputs; for a critic shared by the seats of one role
(``share_parameters``) it is what tells the critic whose value it estimates.

The critics do not build that input. A linear layer applied to a permuted
input is the layer with its weight rows permuted applied to the unpermuted
one: ``x[perm] @ W == x @ W[inverse(perm)]``. So :class:`JointCritic` builds
the joint input once, in seat order, for every critic, and gives critic ``i``
its first-layer weights with the rows in seat order (one gather of a small
``[S, in, hidden]`` tensor per forward pass). The stored weights keep the
own-seat-first layout, so checkpoints are unchanged; :func:`joint_critic_input`
spells that layout out (the tests compare the two paths).
"""

from __future__ import annotations

import torch

from agents.common.stacked import StackedMLP


def own_first_order(n: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """``[N, N]``: row ``i`` is ``(i, the other seats in order)``."""
    return torch.as_tensor([[i, *(j for j in range(n) if j != i)] for i in range(n)], device=device)


def joint_critic_input(
    obs: torch.Tensor, joint_act: torch.Tensor, order: torch.Tensor
) -> torch.Tensor:
    """``obs [B, N, o]`` and ``joint_act [N, B, N, a]`` (critic ``i``'s view of the
    joint action) to each critic's input ``[N, B, N * (o + a)]``, own seat first."""
    n, b = order.shape[0], obs.shape[0]
    joint_obs = obs[:, order].transpose(0, 1).reshape(n, b, -1)
    acts = joint_act.gather(2, order[:, None, :, None].expand_as(joint_act)).reshape(n, b, -1)
    return torch.cat([joint_obs, acts], dim=-1)


def seat_order_rows(n: int, obs_dim: int, act_dim: int) -> torch.Tensor:
    """``[N, N * (o + a)]``: entry ``[i, r]`` is the row of critic ``i``'s own-first
    weights that multiplies entry ``r`` of the joint input in seat order."""
    rows = []
    for order in own_first_order(n).tolist():
        place = [order.index(s) for s in range(n)]  # where seat s sits in critic i's input
        obs_rows = [place[s] * obs_dim + f for s in range(n) for f in range(obs_dim)]
        act_rows = [n * obs_dim + place[s] * act_dim + f for s in range(n) for f in range(act_dim)]
        rows.append(obs_rows + act_rows)
    return torch.as_tensor(rows)


class JointCritic:
    """The centralised critics' forward pass on the joint input in seat order.

    Args:
        n, obs_dim, act_dim: seats and their (padded) sizes.
        copies: critic seat rows per seat (2 for SAC's twins: the critic's
            ``seat_net`` lists every seat's first twin, then every seat's second).
        own_action: ``False`` when a critic never reads its own seat's action
            (discrete SAC: the action is the index of its output), so those
            weight rows are zeroed, which is what a zeroed input slot did.
    """

    def __init__(
        self,
        n: int,
        obs_dim: int,
        act_dim: int,
        *,
        copies: int = 1,
        own_action: bool = True,
        device: str | torch.device = "cpu",
    ) -> None:
        self.n, self.obs_dim, self.act_dim = n, obs_dim, act_dim
        rows = seat_order_rows(n, obs_dim, act_dim).repeat(copies, 1)
        self.rows = rows.to(device)[:, :, None]  # [S, in, 1], expanded per layer width
        self.own = slice(n * obs_dim, n * obs_dim + act_dim)  # own action, own-first layout
        keep = torch.ones(1, n * (obs_dim + act_dim), 1, device=device)
        if not own_action:
            keep[:, self.own] = 0.0
        self.keep = None if own_action else keep

    def __call__(
        self,
        critic: StackedMLP,
        obs: torch.Tensor,
        act: torch.Tensor,
        own: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Critic outputs ``[S, B, out]`` for ``obs [B, N, o]`` and ``act [B, N, a]``.

        ``own [S, B, a]``, if given, replaces critic ``i``'s own seat's action
        (the actor update's fresh action) and leaves the others as in ``act``:
        being linear, the first layer only adds ``(own_i - act_i) @ W_own``.
        """
        b = obs.shape[0]
        x = torch.cat([obs.reshape(b, -1), act.reshape(b, -1)], dim=-1)  # once for all critics
        w, bias = critic.weights[0], critic.biases[0]
        if critic.shared:
            w, bias = w.index_select(0, critic.seat_net), bias.index_select(0, critic.seat_net)
        if self.keep is not None:
            w = w * self.keep
        seat_w = w.gather(1, self.rows.expand(-1, -1, w.shape[-1]))
        s = seat_w.shape[0]
        h = torch.baddbmm(bias, x.expand(s, -1, -1), seat_w)
        if own is not None:
            seats = torch.arange(s, device=act.device) % self.n
            stored = act[:, seats].transpose(0, 1)  # [S, B, a]: critic i's seat's stored action
            h = h + torch.bmm(own - stored, w[:, self.own])
        return later_layers(critic, h)


def later_layers(net: StackedMLP, h: torch.Tensor) -> torch.Tensor:
    """The rest of ``net``'s forward pass from its first layer's pre-activation ``h``."""
    for w, b in list(zip(net.weights, net.biases, strict=True))[1:]:
        if net.shared:
            w, b = w.index_select(0, net.seat_net), b.index_select(0, net.seat_net)
        # In place: no layer's backward needs its own output but ReLU's, and a fresh
        # [S, B, hidden] buffer per activation cost as much as the ReLU itself.
        h = torch.baddbmm(b, h.relu_(), w)
    return h
