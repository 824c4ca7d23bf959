"""The lockstep MPE vector matches PettingZoo's parallel API step for step."""

from __future__ import annotations

import numpy as np
import pytest

from agents.common.vec_mpe import VecMPE
from arena.registry import get_env


@pytest.mark.parametrize(
    "env_id", ["simple_spread_v3", "simple_tag_v3", "simple_speaker_listener_v4"]
)
@pytest.mark.parametrize("continuous", [False, True])
def test_same_observations_and_rewards_as_the_parallel_env(env_id: str, continuous: bool) -> None:
    spec = get_env(env_id)
    vec = VecMPE(spec, 1, seed=3, continuous=continuous)
    env = spec.make_parallel(continuous_actions=continuous)
    obs_v = vec.reset()
    obs_p, _ = env.reset(seed=3 * 10_007)
    rng = np.random.default_rng(0)
    episodes = 0
    totals = np.zeros(vec.n_agents)
    for _ in range(60):  # crosses two time limits, so resets match too
        if continuous:
            act = rng.uniform(-0.2, 1.2, (1, vec.n_agents, vec.act_max)).astype(np.float32)
            joint = {s: act[0, i, : vec.act_dims[i]] for i, s in enumerate(vec.seats)}
        else:
            act = np.array([[rng.integers(0, d) for d in vec.act_dims]])
            joint = {s: int(act[0, i]) for i, s in enumerate(vec.seats)}
        for i, seat in enumerate(vec.seats):
            np.testing.assert_array_equal(obs_v[0, i, : vec.obs_dims[i]], obs_p[seat])
        step = vec.step(act)
        totals += step.rewards[0]
        obs_p, rew_p, _, _, _ = env.step(joint)
        for i, seat in enumerate(vec.seats):
            np.testing.assert_array_equal(step.next_obs[0, i, : vec.obs_dims[i]], obs_p[seat])
            assert step.rewards[0, i] == pytest.approx(rew_p[seat])
        assert bool(step.done[0]) == (not env.agents)
        assert not step.terminated[0]  # MPE's limit is a truncation
        if step.done[0]:
            episodes += 1
            np.testing.assert_allclose(step.finished[0], totals, rtol=1e-5)
            totals[:] = 0.0
            obs_p, _ = env.reset()
        obs_v = step.obs
    assert episodes == 2


def test_padding_and_masks() -> None:
    vec = VecMPE(get_env("simple_speaker_listener_v4"), 2, seed=0)
    assert vec.seats == ["speaker_0", "listener_0"]
    assert vec.act_dims == [3, 5] and vec.act_max == 5
    assert vec.action_mask().tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    obs = vec.reset()
    assert obs.shape == (2, 2, max(vec.obs_dims))
    assert np.all(obs[:, 0, vec.obs_dims[0] :] == 0)
