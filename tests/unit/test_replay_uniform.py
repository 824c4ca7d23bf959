"""The uniform replay buffer: ring order, wrap-around, sampling range."""

from __future__ import annotations

import numpy as np
import torch

from agents.common.replay import ReplayBuffer


def _add(buffer: ReplayBuffer, start: int, k: int) -> torch.Tensor:
    values = np.arange(start, start + k)
    return buffer.add(
        obs=np.stack([values, values], 1).astype(np.float32),
        actions=values % 3,
        rewards=values.astype(np.float32),
        next_obs=np.zeros((k, 2), np.float32),
        next_masks=np.eye(3, dtype=bool)[values % 3],
        dones=(values % 2).astype(np.float32),
        discounts=np.full(k, 0.9, np.float32),
    )


def test_ring_buffer_overwrites_the_oldest_and_samples_only_stored_rows() -> None:
    buffer = ReplayBuffer(capacity=5, obs_shape=(2,), n_actions=3, seed=0)
    assert _add(buffer, 0, 3).tolist() == [0, 1, 2]
    assert len(buffer) == 3
    assert _add(buffer, 3, 4).tolist() == [3, 4, 0, 1]  # wraps: 5 and 6 replace 0 and 1
    assert len(buffer) == 5
    assert sorted(buffer.rewards.tolist()) == [2, 3, 4, 5, 6]
    batch = buffer.sample(500)
    assert set(batch.rewards.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}
    # Every field of a row stays together.
    np.testing.assert_array_equal(batch.obs[:, 0].numpy(), batch.rewards.numpy())
    np.testing.assert_array_equal(batch.actions.numpy(), batch.rewards.numpy().astype(int) % 3)
    assert batch.next_masks[torch.arange(500), batch.actions].all()
    assert (batch.weights == 1).all()


def test_uint8_storage_returns_float_observations() -> None:
    buffer = ReplayBuffer(capacity=4, obs_shape=(2,), n_actions=3, obs_dtype=torch.uint8)
    _add(buffer, 1, 2)
    batch = buffer.sample(8)
    assert batch.obs.dtype == torch.float32
    assert set(batch.obs[:, 0].tolist()) <= {1.0, 2.0}


def test_same_seed_same_samples() -> None:
    a = ReplayBuffer(capacity=50, obs_shape=(2,), n_actions=3, seed=4)
    b = ReplayBuffer(capacity=50, obs_shape=(2,), n_actions=3, seed=4)
    _add(a, 0, 50)
    _add(b, 0, 50)
    assert a.sample(16).indices.tolist() == b.sample(16).indices.tolist()
