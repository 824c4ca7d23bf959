"""Q-networks: an MLP torso for vector observations, the Nature-DQN conv torso for
image observations, and heads that switch on dueling, noisy layers and C51.

Every head returns ``(B, A, atoms)`` logits when distributional and ``(B, A)``
Q-values otherwise. :func:`export_state_dict` turns noisy layers into plain
``Linear`` weights (their mean), which is what a package ships: the stand-alone
player (``agents/players/dqn_player.py``) builds the same modules with plain
layers and loads that state dict.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class NetSpec:
    """Everything needed to rebuild a network (written to ``network.json`` in a package).

    Attributes:
        obs_shape: observation shape; ``(C, H, W)`` images use the conv torso.
        n_actions: number of discrete actions.
        torso: ``mlp`` or ``conv``.
        hidden: MLP hidden sizes (``conv``: the size of the one dense layer).
        dueling: V(s) + A(s, a) - mean_a A(s, a) heads.
        noisy: the heads are noisy linear layers (exported as their mean).
        atoms: 1 for scalar Q-values; > 1 for a C51 distribution per action.
        v_min: lowest atom of the C51 support.
        v_max: highest atom of the C51 support.
        channels_last: image observations arrive ``(H, W, C)`` and are permuted.
    """

    obs_shape: tuple[int, ...]
    n_actions: int
    torso: str = "mlp"
    hidden: tuple[int, ...] = (256, 256)
    dueling: bool = False
    noisy: bool = False
    atoms: int = 1
    v_min: float = -10.0
    v_max: float = 10.0
    channels_last: bool = field(default=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["obs_shape"] = list(self.obs_shape)
        data["hidden"] = list(self.hidden)
        return data


class NoisyLinear(nn.Module):
    """Factorised Gaussian noisy layer (Fortunato et al., 2018).

    y = (μ_w + σ_w ⊙ ε_w) x + μ_b + σ_b ⊙ ε_b, with ε_w = f(ε_out) f(ε_in)ᵀ,
    f(x) = sign(x) √|x|. The noise is learned exploration: σ shrinks where the
    agent is sure. In eval mode the layer is its mean (ε = 0).
    """

    eps_in: torch.Tensor
    eps_out: torch.Tensor

    def __init__(self, in_features: int, out_features: int, sigma0: float = 0.5) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight_mu = nn.Parameter(
            torch.empty(out_features, in_features).uniform_(-bound, bound)
        )
        self.weight_sigma = nn.Parameter(torch.full((out_features, in_features), sigma0 * bound))
        self.bias_mu = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))
        self.bias_sigma = nn.Parameter(torch.full((out_features,), sigma0 * bound))
        self.register_buffer("eps_in", torch.zeros(in_features))
        self.register_buffer("eps_out", torch.zeros(out_features))
        self.row_noise: tuple[torch.Tensor, torch.Tensor] | None = None

    def reset_noise(self) -> None:
        """Draw fresh ε (from torch's global generator, seeded by the trainer)."""
        f = lambda x: x.sign() * x.abs().sqrt()  # noqa: E731
        self.eps_in.copy_(f(torch.randn(self.in_features, device=self.eps_in.device)))
        self.eps_out.copy_(f(torch.randn(self.out_features, device=self.eps_out.device)))

    def sample_row_noise(self, rows: int) -> None:
        """Draw an independent factorised ε for each of the next ``rows`` inputs.

        Until :meth:`clear_row_noise`, a forward pass (training mode) of a batch
        of exactly ``rows`` rows perturbs row i with its own ε_i:
        y_i = μ_w x_i + μ_b + (σ_w (x_i ⊙ f(ε_in,i))) ⊙ f(ε_out,i) + σ_b ⊙ f(ε_out,i).
        """
        f = lambda x: x.sign() * x.abs().sqrt()  # noqa: E731
        device = self.eps_in.device
        self.row_noise = (
            f(torch.randn(rows, self.in_features, device=device)),
            f(torch.randn(rows, self.out_features, device=device)),
        )

    def clear_row_noise(self) -> None:
        self.row_noise = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return F.linear(x, self.weight_mu, self.bias_mu)
        if self.row_noise is not None:
            eps_in, eps_out = self.row_noise
            noise = F.linear(x * eps_in, self.weight_sigma) * eps_out
            return F.linear(x, self.weight_mu, self.bias_mu) + noise + self.bias_sigma * eps_out
        weight = self.weight_mu + self.weight_sigma * torch.outer(self.eps_out, self.eps_in)
        bias = self.bias_mu + self.bias_sigma * self.eps_out
        return F.linear(x, weight, bias)


def mlp_torso(in_features: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """Linear + ReLU layers; the last hidden size is the feature size."""
    layers: list[nn.Module] = []
    for size in hidden:
        layers += [nn.Linear(in_features, size), nn.ReLU()]
        in_features = size
    return nn.Sequential(*layers)


def conv_torso(channels: int, height: int, width: int, dense: int) -> tuple[nn.Sequential, int]:
    """The Nature-DQN network (Mnih et al., 2015): 32x8x8/4, 64x4x4/2, 64x3x3/1, dense.

    Expects frames scaled to [0, 1] (SuperSuit's preprocessing gives uint8 frames;
    :class:`QNetwork` divides by 255 for ``conv``).
    """
    convs = nn.Sequential(
        nn.Conv2d(channels, 32, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        flat = convs(torch.zeros(1, channels, height, width)).shape[1]
    return nn.Sequential(*convs, nn.Linear(flat, dense), nn.ReLU()), dense


class QNetwork(nn.Module):
    """Torso + (dueling | plain) head, optionally noisy, optionally distributional.

    Dueling (Wang et al., 2016): Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a'),
    the mean making V and A identifiable. With C51 the same combination is
    applied to the logits of each atom before the softmax, as in Rainbow.
    """

    support: torch.Tensor

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        if spec.torso == "mlp":
            features = spec.hidden[-1] if spec.hidden else math.prod(spec.obs_shape)
            self.torso = mlp_torso(math.prod(spec.obs_shape), spec.hidden)
        elif spec.torso == "conv":
            c, h, w = _chw(spec)
            self.torso, features = conv_torso(c, h, w, spec.hidden[0] if spec.hidden else 512)
        else:
            raise ValueError(f"unknown torso '{spec.torso}' (mlp or conv)")
        layer = NoisyLinear if spec.noisy else nn.Linear
        self.advantage = layer(features, spec.n_actions * spec.atoms)
        self.value = layer(features, spec.atoms) if spec.dueling else None
        self.register_buffer("support", torch.linspace(spec.v_min, spec.v_max, spec.atoms))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Q-values (B, A), or C51 logits (B, A, atoms) when ``atoms > 1``."""
        x = obs.float()
        if self.spec.torso == "conv":
            if self.spec.channels_last:
                x = x.permute(0, 3, 1, 2)
            x = x / 255.0
        else:
            x = x.flatten(1)
        h = self.torso(x)
        a = self.advantage(h).view(-1, self.spec.n_actions, self.spec.atoms)
        if self.value is not None:
            v = self.value(h).view(-1, 1, self.spec.atoms)
            a = v + a - a.mean(1, keepdim=True)
        return a.squeeze(-1) if self.spec.atoms == 1 else a

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        """Expected Q-values (B, A) in either mode: E_z[Z] = Σ_j z_j p_j for C51."""
        out = self(obs)
        if self.spec.atoms == 1:
            return out
        return (out.softmax(-1) * self.support).sum(-1)

    def reset_noise(self) -> None:
        for module in self.modules():
            if isinstance(module, NoisyLinear):
                module.reset_noise()

    def sample_row_noise(self, rows: int | None) -> None:
        """Independent noise per input row for the next batch of ``rows`` (None: clear it)."""
        for module in self.modules():
            if isinstance(module, NoisyLinear):
                if rows is None:
                    module.clear_row_noise()
                else:
                    module.sample_row_noise(rows)


def _chw(spec: NetSpec) -> tuple[int, int, int]:
    if len(spec.obs_shape) != 3:
        raise ValueError(f"the conv torso needs image observations, got shape {spec.obs_shape}")
    if spec.channels_last:
        h, w, c = spec.obs_shape
    else:
        c, h, w = spec.obs_shape
    return c, h, w


def export_state_dict(net: QNetwork) -> dict[str, torch.Tensor]:
    """The network's weights with noisy layers as plain ``Linear`` (their mean), on the CPU.

    Keys ``x.weight_mu`` / ``x.bias_mu`` become ``x.weight`` / ``x.bias``; σ and
    ε are dropped: the greedy policy of a noisy net is its mean network.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in net.state_dict().items():
        if key.endswith(("_sigma", "eps_in", "eps_out")):
            continue
        key = key.replace("weight_mu", "weight").replace("bias_mu", "bias")
        out[key] = value.detach().to("cpu").clone()
    return out
