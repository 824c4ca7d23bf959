"""SAC / MASAC: critic inputs, the squashed-Gaussian log-probability, temperature tuning."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agents.common.joint_replay import JointReplay  # noqa: E402
from agents.common.vec_mpe import VecMPE  # noqa: E402
from agents.sac import SAC, Config, load_config  # noqa: E402
from arena.errors import ArenaError  # noqa: E402
from arena.registry import get_env  # noqa: E402
from arena.training import build_config  # noqa: E402


def _sac(env_id: str, *, centralised: bool, continuous: bool, **cfg: float) -> tuple[SAC, VecMPE]:
    vec = VecMPE(get_env(env_id), 2, seed=0, continuous=continuous)
    return SAC(Config(**cfg), vec, centralised=centralised, device="cpu"), vec  # type: ignore[arg-type]


def _batch(sac: SAC, vec: VecMPE, b: int = 16) -> tuple[torch.Tensor, ...]:
    replay = JointReplay(64, vec.n_agents, vec.obs_max, vec.act_max)
    obs = vec.reset()
    for _ in range(b // vec.n_envs):
        act = sac.act(torch.as_tensor(obs), explore=True).numpy()
        step = vec.step(vec.to_env_actions(act))
        replay.add(obs, act, step.rewards, step.next_obs, step.terminated)
        obs = step.obs
    return tuple(replay.sample(b))


@pytest.mark.parametrize("continuous", [False, True])
def test_masac_twin_critics_see_joint_input_actors_local(continuous: bool) -> None:
    sac, vec = _sac("simple_tag_v3", centralised=True, continuous=continuous)
    n, o, a = 4, 16, 5
    assert sac.actor.weights[0].shape == (n, o, 64)
    assert sac.critic.weights[0].shape == (2 * n, n * (o + a), 64)  # twins, joint input
    obs, act, *_ = _batch(sac, vec)
    q = sac.q(sac.critic, obs, act)
    assert q.shape == ((2, n, 16) if continuous else (2, n, 16, a))


def test_discrete_critic_never_sees_its_own_action() -> None:
    sac, vec = _sac("simple_spread_v3", centralised=True, continuous=False)
    obs, act, *_ = _batch(sac, vec)
    changed = act.clone()
    changed[:, 1] = torch.roll(changed[:, 1], 1, dims=-1)  # seat 1's action
    before, after = sac.q(sac.critic, obs, act), sac.q(sac.critic, obs, changed)
    torch.testing.assert_close(before[:, 1], after[:, 1])  # critic 1 does not read it
    assert not torch.allclose(before[:, 0], after[:, 0])  # critic 0 does


def test_independent_sac_critic_sees_own_observation_only() -> None:
    sac, _ = _sac("simple_spread_v3", centralised=False, continuous=False)
    assert sac.critic.weights[0].shape == (6, 18, 64)
    sac, _ = _sac("simple_spread_v3", centralised=False, continuous=True)
    assert sac.critic.weights[0].shape == (6, 18 + 5, 64)


def test_squashed_gaussian_log_prob_is_exact() -> None:
    # log pi(tanh(u)) = log N(u; mean, std) - log(1 - tanh(u)^2), checked in float64.
    torch.manual_seed(1)
    sac, vec = _sac("simple_spread_v3", centralised=True, continuous=True)
    obs = 3 * torch.randn(256, vec.n_agents, vec.obs_max)
    torch.manual_seed(0)
    action, logp = sac.sample(obs)
    mean, log_std = (t.detach().double() for t in sac.policy(obs))
    torch.manual_seed(0)
    u = mean + log_std.exp() * torch.randn(mean.shape).double()  # the same draws as sample()
    normal = torch.distributions.Normal(mean, log_std.exp())
    expected = (normal.log_prob(u) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
    torch.testing.assert_close(action.double(), torch.tanh(u), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(logp.detach().double(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("continuous", [False, True])
def test_temperature_falls_when_the_policy_is_more_random_than_the_target(
    continuous: bool,
) -> None:
    # A near-uniform (discrete) or wide (continuous) new policy has more entropy
    # than a low target, so alpha must shrink; every network moves.
    sac, vec = _sac(
        "simple_spread_v3", centralised=True, continuous=continuous, target_entropy_scale=0.05
    )
    batch = _batch(sac, vec)
    alpha0 = sac.log_alpha.detach().clone()
    actor0 = sac.actor.weights[0].detach().clone()
    sac.update(batch)  # type: ignore[arg-type]
    assert bool((sac.log_alpha.detach() < alpha0).all())
    assert not torch.equal(actor0, sac.actor.weights[0])
    assert math.isfinite(float(sac.log_alpha.detach().sum()))


def test_greedy_discrete_actions_are_one_hot_and_legal() -> None:
    sac, vec = _sac("simple_speaker_listener_v4", centralised=True, continuous=False)
    act = sac.act(torch.randn(128, 2, vec.obs_max), explore=True)
    assert torch.equal(act.sum(-1), torch.ones(128, 2))
    assert int(act[:, 0].argmax(-1).max()) < 3  # the speaker has 3 actions
    np.testing.assert_array_equal(vec.to_env_actions(act.numpy()), act.argmax(-1).numpy())


def test_config_error_names_file_and_key() -> None:
    with pytest.raises(ArenaError, match=r"^sac.toml: key 'tau': expected float, got \[1\]$"):
        build_config(Config, {"tau": [1]}, "sac.toml")


def test_masac_shared_parameters_pool_each_role() -> None:
    vec = VecMPE(get_env("simple_tag_v3"), 2, seed=0)
    learner = SAC(Config(share_parameters=True), vec, centralised=True, device="cpu")
    # Two roles: two actors, and two pairs of twin critics, for four seats.
    assert learner.actor.weights[0].shape[0] == 2
    assert learner.critic.weights[0].shape[0] == 4
    obs = torch.randn(8, 4, vec.obs_max)
    act = torch.nn.functional.one_hot(torch.randint(0, 5, (8, 4)), 5).float()
    q = learner.q(learner.critic, obs, act)
    assert q.shape == (2, 4, 8, 5)
    # The predators share a critic, yet see themselves first, so their values differ.
    assert not torch.allclose(q[0, 0], q[0, 1])
    weights, _ = learner.export()
    assert weights["weights.0"].shape[0] == 4
    assert torch.equal(weights["weights.0"][0], weights["weights.0"][1])


def test_shared_preset_and_file_keys_win() -> None:
    cfg = load_config({"preset": "shared"}, "f")
    assert (cfg.share_parameters, cfg.hidden) == (True, 128)
    assert load_config({"preset": "shared", "hidden": 64}, "f").hidden == 64
    assert load_config({}, "f").share_parameters is False
    with pytest.raises(ArenaError, match=r"^f: key 'preset': expected one of"):
        load_config({"preset": "reference"}, "f")
