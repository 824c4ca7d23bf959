"""Masking in the greedy action and in the targets (scalar and C51); the C51 projection;
the networks' shapes and the exported weights the stand-alone player loads."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.common.distributional import project
from agents.common.networks import NetSpec, QNetwork, export_state_dict
from agents.common.replay import Batch
from agents.dqn import c51_target, greedy_actions, masked_argmax, masked_max, td_target

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(2, 9), st.integers(0, 10_000))
def test_masked_argmax_and_max_never_pick_an_illegal_action(b: int, a: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, a, generator=g) * 10
    mask = torch.rand(b, a, generator=g) < 0.4
    mask[torch.arange(b), torch.randint(0, a, (b,), generator=g)] = True  # ≥ 1 legal per row
    q[~mask] += 100  # illegal actions look best
    best = masked_argmax(q, mask)
    assert mask[torch.arange(b), best].all()
    expect = torch.tensor([q[i][mask[i]].max().item() for i in range(b)])
    torch.testing.assert_close(masked_max(q, mask), expect)


def test_a_row_without_legal_actions_counts_all_as_legal() -> None:
    q = torch.tensor([[1.0, 3.0, 2.0]])
    assert masked_argmax(q, torch.zeros(1, 3, dtype=torch.bool)).item() == 1


def _batch(b: int, a: int, obs_dim: int, seed: int) -> Batch:
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(b, a, generator=g) < 0.5
    mask[:, 0] = True
    return Batch(
        obs=torch.randn(b, obs_dim, generator=g),
        actions=torch.randint(0, a, (b,), generator=g),
        rewards=torch.randn(b, generator=g).clamp(-1, 1),
        next_obs=torch.randn(b, obs_dim, generator=g),
        next_masks=mask,
        dones=(torch.rand(b, generator=g) < 0.3).float(),
        discounts=torch.full((b,), 0.9),
        weights=torch.ones(b),
        indices=torch.arange(b),
    )


class _Fixed(QNetwork):
    """A network whose output is a fixed table (rows = batch), to pin targets down."""

    def __init__(self, spec: NetSpec, table: torch.Tensor) -> None:
        super().__init__(spec)
        self.table = table

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.table


@pytest.mark.parametrize("double", [False, True])
def test_td_target_bootstraps_only_from_legal_actions(double: bool) -> None:
    b, a = 32, 7
    batch = _batch(b, a, 5, seed=1)
    spec = NetSpec(obs_shape=(5,), n_actions=a)
    q_target = torch.randn(b, a)
    q_online = torch.randn(b, a)
    q_target[~batch.next_masks] = 1e6  # an illegal max would blow the target up
    q_online[~batch.next_masks] = 1e6
    y = td_target(_Fixed(spec, q_online), _Fixed(spec, q_target), batch, double=double)
    picker = q_online if double else q_target
    for i in range(b):
        legal = torch.nonzero(batch.next_masks[i]).flatten()
        best = legal[picker[i, legal].argmax()]
        expect = batch.rewards[i] + 0.9 * (1 - batch.dones[i]) * q_target[i, best]
        torch.testing.assert_close(y[i], expect)


@pytest.mark.parametrize("double", [False, True])
def test_c51_target_picks_a_legal_action_and_is_a_distribution(double: bool) -> None:
    b, a, atoms = 16, 7, 11
    batch = _batch(b, a, 5, seed=2)
    spec = NetSpec(obs_shape=(5,), n_actions=a, atoms=atoms, v_min=-1, v_max=1)
    logits_t = torch.randn(b, a, atoms)
    logits_o = torch.randn(b, a, atoms)
    # Illegal actions put all their mass on the top atom: the best expected value.
    logits_t[~batch.next_masks] = torch.linspace(-50, 50, atoms)
    logits_o[~batch.next_masks] = torch.linspace(-50, 50, atoms)
    online, target = _Fixed(spec, logits_o), _Fixed(spec, logits_t)
    m = c51_target(online, target, batch, double=double)
    torch.testing.assert_close(m.sum(-1), torch.ones(b))
    support = torch.linspace(-1, 1, atoms)
    chooser = (logits_o if double else logits_t).softmax(-1) @ support
    for i in range(b):
        legal = torch.nonzero(batch.next_masks[i]).flatten()
        best = legal[chooser[i, legal].argmax()]
        p = logits_t[i, best].softmax(-1)[None]
        one = project(p, batch.rewards[i : i + 1], batch.discounts[i : i + 1],
                      batch.dones[i : i + 1], support)  # fmt: skip
        torch.testing.assert_close(m[i], one[0])


def _project_brute(p: np.ndarray, r: float, gamma: float, support: np.ndarray) -> np.ndarray:
    v_min, v_max, dz = support[0], support[-1], support[1] - support[0]
    m = np.zeros_like(p)
    for j, z in enumerate(support):
        tz = min(max(r + gamma * z, v_min), v_max)
        bj = (tz - v_min) / dz
        lo, hi = int(np.floor(bj + 1e-9)), int(np.ceil(bj - 1e-9))
        if lo == hi:
            m[lo] += p[j]
        else:
            m[lo] += p[j] * (hi - bj)
            m[hi] += p[j] * (bj - lo)
    return m


@settings(max_examples=50, deadline=None)
@given(st.floats(-3, 3), st.sampled_from([0.0, 0.5, 0.9, 1.0]), st.booleans(), st.integers(0, 99))
def test_c51_projection_matches_brute_force(r: float, gamma: float, done: bool, seed: int) -> None:
    support = np.linspace(-2, 2, 9)
    p = np.random.default_rng(seed).dirichlet(np.ones(9))
    m = project(
        torch.tensor(p[None]),
        torch.tensor([r], dtype=torch.float64),
        torch.tensor([gamma], dtype=torch.float64),
        torch.tensor([float(done)], dtype=torch.float64),
        torch.tensor(support),
    )
    expect = _project_brute(p, r, 0.0 if done else gamma, support)
    np.testing.assert_allclose(m[0].numpy(), expect, atol=1e-9)


def test_greedy_action_is_legal_and_best() -> None:
    net = QNetwork(NetSpec(obs_shape=(6, 7, 2), n_actions=7, hidden=(16,)))
    obs = torch.randint(0, 2, (50, 6, 7, 2)).float()
    mask = torch.rand(50, 7) < 0.5
    mask[:, 3] = True
    acts = greedy_actions(net, obs, mask)
    q = net.q_values(obs).detach()
    assert mask[torch.arange(50), acts].all()
    assert torch.equal(acts, masked_argmax(q, mask))


@pytest.mark.parametrize(
    ("spec", "out_shape"),
    [
        (NetSpec(obs_shape=(6, 7, 2), n_actions=7), (3, 7)),
        (NetSpec(obs_shape=(6, 7, 2), n_actions=7, dueling=True, noisy=True), (3, 7)),
        (NetSpec(obs_shape=(6, 7, 2), n_actions=7, atoms=51, dueling=True), (3, 7, 51)),
        (NetSpec(obs_shape=(4, 84, 84), n_actions=6, torso="conv", hidden=(512,)), (3, 6)),
        (
            NetSpec(
                obs_shape=(84, 84, 4),
                n_actions=18,
                torso="conv",
                hidden=(512,),
                channels_last=True,
                atoms=51,
                dueling=True,
                noisy=True,
            ),
            (3, 18, 51),
        ),
    ],
)
def test_network_shapes_and_the_player_loads_the_export(
    spec: NetSpec, out_shape: tuple[int, ...]
) -> None:
    """MLP and Nature conv torsos (SuperSuit frames: 84x84x4 uint8), every head."""
    torch.manual_seed(0)
    net = QNetwork(spec)
    obs = torch.randint(0, 255 if spec.torso == "conv" else 2, (3, *spec.obs_shape))
    assert net(obs).shape == out_shape
    assert net.q_values(obs).shape == (3, spec.n_actions)
    sys.path.insert(0, str(ROOT / "agents" / "players"))
    try:
        import dqn_player
    finally:
        sys.path.pop(0)
    player_spec = spec.to_json() | {"noisy": False}
    player = dqn_player.QNetwork(player_spec)
    player.load_state_dict(export_state_dict(net))  # strict: same names, same shapes
    mean_net = copy.deepcopy(net).eval()  # noisy layers at their mean
    with torch.no_grad():
        torch.testing.assert_close(player.eval().q_values(obs), mean_net.q_values(obs))


def test_row_noise_gives_each_row_its_own_factorised_draw() -> None:
    from agents.common.networks import NoisyLinear

    torch.manual_seed(0)
    layer = NoisyLinear(5, 3)
    layer.train()
    x = torch.randn(4, 5)
    layer.sample_row_noise(4)
    assert layer.row_noise is not None
    eps_in, eps_out = layer.row_noise
    batched = layer(x)
    for i in range(4):  # row i = the shared-noise formula with row i's ε
        weight = layer.weight_mu + layer.weight_sigma * torch.outer(eps_out[i], eps_in[i])
        bias = layer.bias_mu + layer.bias_sigma * eps_out[i]
        assert torch.allclose(batched[i], torch.nn.functional.linear(x[i], weight, bias), atol=1e-6)
    layer.clear_row_noise()
    layer.eval()
    assert torch.equal(layer(x), torch.nn.functional.linear(x, layer.weight_mu, layer.bias_mu))


def test_rainbow_keeps_epsilon_on_connect_four_only() -> None:
    from agents.dqn import make_config

    c4 = make_config("rainbow", "connect_four_v3", {}, "test")
    assert c4.noisy and (c4.epsilon_start, c4.epsilon_end) == (1.0, 0.05)
    ttt = make_config("rainbow", "tictactoe_v3", {}, "test")
    assert ttt.noisy and (ttt.epsilon_start, ttt.epsilon_end) == (0.0, 0.0)
    paper = {"epsilon_start": 0.0, "epsilon_end": 0.0}
    pure = make_config("rainbow", "connect_four_v3", paper, "test")
    assert (pure.epsilon_start, pure.epsilon_end) == (0.0, 0.0)  # the paper's pure noisy nets
