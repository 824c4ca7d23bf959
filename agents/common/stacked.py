"""Same-shaped per-agent networks stacked into one: a ``bmm`` per layer for all agents.

``N`` agents' MLPs with identical layer sizes hold their weights as
``[N, in, out]`` tensors, so one forward pass of ``x: [N, B, in]`` is a
``baddbmm`` per layer rather than ``N`` small matmuls and ``N`` Python calls.
One Adam over the stacked tensors is the same as one Adam per agent (Adam is
element-wise), so agents still learn independently; only gradient clipping
needs care, done per agent by :func:`clip_grad_norm_per_agent`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import torch
from torch import nn


class StackedMLP(nn.Module):
    """``N`` MLPs ``in -> hidden... -> out`` with ReLU between layers, evaluated together.

    Args:
        n: number of stacked networks (one per agent, or one per role when shared).
        sizes: layer widths, e.g. ``(obs, 64, 64, act)``.
        out_scale: scales the last layer's initial weights (small outputs at
            the start keep early policies near uniform / centred).
        seat_net: the network of each seat, to share parameters; ``None``: seat
            ``i`` has network ``i``.
    """

    def __init__(
        self,
        n: int,
        sizes: Sequence[int],
        *,
        out_scale: float = 1.0,
        seat_net: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.n, self.sizes = n, tuple(sizes)
        # Parameter sharing: seat s is evaluated by network seat_net[s] (e.g. its
        # role), so seats of one role pool their gradients into one set of weights.
        index = torch.as_tensor(list(seat_net) if seat_net is not None else range(n))
        self.shared = not torch.equal(index, torch.arange(n))
        self.register_buffer("seat_net", index, persistent=False)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for k, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            # nn.Linear's default initialisation, for each agent separately.
            bound = 1.0 / math.sqrt(fan_in)
            w = torch.empty(n, fan_in, fan_out).uniform_(-bound, bound)
            b = torch.empty(n, 1, fan_out).uniform_(-bound, bound)
            if k == len(sizes) - 2:
                w, b = w * out_scale, b * out_scale
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: [S, B, in] -> [S, B, out]``, one row per seat (``S = N`` unless shared)."""
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if self.shared:  # [N, ...] -> [S, ...]; the gather's backward sums per network
                w, b = w.index_select(0, self.seat_net), b.index_select(0, self.seat_net)
            x = torch.baddbmm(b, x, w)
            if k < last:
                x = torch.relu(x)
        return x


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging ``theta_target <- tau * theta + (1 - tau) * theta_target``."""
    torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


@torch.no_grad()
def clip_grad_norm_per_agent(params: Iterable[nn.Parameter], max_norm: float) -> None:
    """Clip each agent's gradient norm (over all its layers) to ``max_norm``.

    The stacked parameters' first dimension is the agent, so one agent's large
    gradient never shrinks another's step. No host synchronisation.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    sq = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0)  # [N]
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


def per_seat_state_dict(net: StackedMLP) -> dict[str, torch.Tensor]:
    """The weights as ``S`` per-seat networks (shared ones repeated), which is the
    layout the stand-alone players load whether or not training shared them."""
    return {
        name: value.index_select(0, net.seat_net) if net.shared else value
        for name, value in net.state_dict().items()
    }
