"""The sum tree and prioritised replay against brute force."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.common.sumtree import PrioritizedReplayBuffer, SumTree

priorities = st.lists(st.floats(0.01, 100.0), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(priorities, st.data())
def test_total_and_prefix_search_match_brute_force(
    values: list[float], data: st.DataObject
) -> None:
    tree = SumTree(len(values))
    tree.update(torch.arange(len(values)), torch.tensor(values, dtype=torch.float64))
    assert abs(float(tree.total) - sum(values)) < 1e-9 * max(1.0, sum(values))
    # Updating a few slots re-sums the tree.
    slots = data.draw(st.lists(st.integers(0, len(values) - 1), max_size=5, unique=True))
    for s in slots:
        values[s] = data.draw(st.floats(0.01, 100.0))
    if slots:
        tree.update(
            torch.tensor(slots), torch.tensor([values[s] for s in slots], dtype=torch.float64)
        )
    np.testing.assert_allclose(tree.leaves().numpy(), values)
    assert abs(float(tree.total) - sum(values)) < 1e-9 * max(1.0, sum(values))
    cumulative = np.cumsum(values)
    masses = data.draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=10))
    found = tree.find(torch.tensor(masses, dtype=torch.float64) * float(tree.total))
    for mass, slot in zip(masses, found.tolist(), strict=True):
        expect = int(np.searchsorted(cumulative, mass * cumulative[-1], side="right"))
        assert slot == min(expect, len(values) - 1)


def test_find_never_returns_a_zero_priority_slot() -> None:
    tree = SumTree(5)  # 8 leaves, 3 of them padding with zero priority
    tree.update(torch.arange(5), torch.tensor([0.0, 1.0, 0.0, 2.0, 0.0], dtype=torch.float64))
    found = tree.find(torch.linspace(0, 2.999999, 200, dtype=torch.float64))
    assert set(found.tolist()) == {1, 3}


def _buffer(capacity: int, alpha: float = 0.6) -> PrioritizedReplayBuffer:
    return PrioritizedReplayBuffer(
        alpha=alpha, eps=0.0, capacity=capacity, obs_shape=(2,), n_actions=3, seed=1
    )


def _fill(buffer: PrioritizedReplayBuffer, k: int) -> None:
    buffer.add(
        obs=np.arange(2 * k, dtype=np.float32).reshape(k, 2),
        actions=np.zeros(k, np.int64),
        rewards=np.arange(k, dtype=np.float32),
        next_obs=np.zeros((k, 2), np.float32),
        next_masks=np.ones((k, 3), bool),
        dones=np.zeros(k, np.float32),
        discounts=np.full(k, 0.99, np.float32),
    )


def test_sampling_frequencies_follow_priority_to_the_alpha() -> None:
    buffer = _buffer(4, alpha=0.6)
    _fill(buffer, 4)
    td = torch.tensor([1.0, 2.0, 4.0, 8.0])
    buffer.update_priorities(torch.arange(4), td)
    expect = td.numpy() ** 0.6 / (td.numpy() ** 0.6).sum()
    counts = np.zeros(4)
    for _ in range(400):
        counts += np.bincount(buffer.sample(64).indices.numpy(), minlength=4)
    freq = counts / counts.sum()
    np.testing.assert_allclose(freq, expect, atol=0.01)


def test_importance_weights_match_the_formula() -> None:
    buffer = _buffer(4, alpha=1.0)
    _fill(buffer, 4)
    buffer.update_priorities(torch.arange(4), torch.tensor([1.0, 2.0, 3.0, 4.0]))
    batch = buffer.sample(32, beta=0.5)
    probs = np.array([1.0, 2.0, 3.0, 4.0]) / 10.0
    raw = (4 * probs[batch.indices.numpy()]) ** -0.5
    np.testing.assert_allclose(batch.weights.numpy(), raw / raw.max(), rtol=1e-5)
    # The sampled rows are the stored ones.
    np.testing.assert_array_equal(batch.rewards.numpy(), batch.indices.numpy().astype(np.float32))


def test_new_transitions_get_the_largest_priority_so_far() -> None:
    buffer = _buffer(8, alpha=1.0)
    _fill(buffer, 2)
    buffer.update_priorities(torch.tensor([0, 1]), torch.tensor([5.0, 0.5]))
    _fill(buffer, 1)
    assert buffer.tree.leaves()[2].item() == 5.0
    assert float(buffer.tree.total) == 10.5
