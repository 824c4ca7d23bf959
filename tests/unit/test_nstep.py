"""n-step returns on a hand-made trajectory."""

from __future__ import annotations

import pytest

from agents.common.nstep import NStepAccumulator


def _push(acc: NStepAccumulator, stream: int, t: int, reward: float, done: bool = False) -> list:
    return acc.push(stream, f"s{t}", t, reward, f"s{t + 1}", f"m{t + 1}", done)


def test_three_step_returns_with_the_episode_ending_inside_the_window() -> None:
    gamma = 0.5
    acc = NStepAccumulator(3, gamma)
    assert _push(acc, 0, 0, 1.0) == []
    assert _push(acc, 0, 1, 2.0) == []
    (t0,) = _push(acc, 0, 2, 4.0)
    # G_0 = 1 + 0.5*2 + 0.25*4 = 3, bootstrapped from s3 with 0.5^3.
    assert (t0.obs, t0.action, t0.reward, t0.next_obs, t0.next_mask) == ("s0", 0, 3.0, "s3", "m3")
    assert (t0.done, t0.discount) == (False, 0.125)
    (t1,) = _push(acc, 0, 3, 8.0)
    assert (t1.obs, t1.reward, t1.next_obs) == ("s1", 2 + 0.5 * 4 + 0.25 * 8, "s4")
    # The episode ends at step 4: starts 2, 3 and 4 are flushed with horizons 3, 2, 1.
    flushed = _push(acc, 0, 4, 16.0, done=True)
    assert [t.obs for t in flushed] == ["s2", "s3", "s4"]
    assert [t.reward for t in flushed] == [4 + 0.5 * 8 + 0.25 * 16, 8 + 0.5 * 16, 16.0]
    assert [t.discount for t in flushed] == [0.125, 0.25, 0.5]
    assert all(t.done and t.next_obs == "s5" for t in flushed)
    # A new episode on the same stream starts from scratch.
    assert _push(acc, 0, 10, 1.0) == []


def test_streams_do_not_mix_and_short_episodes_flush_whole() -> None:
    acc = NStepAccumulator(3, 1.0)
    assert _push(acc, 1, 0, 1.0) == []
    assert _push(acc, 2, 0, 5.0) == []
    flushed = _push(acc, 1, 1, -1.0, done=True)
    assert [(t.obs, t.reward, t.discount) for t in flushed] == [("s0", 0.0, 1.0), ("s1", -1.0, 1.0)]
    (first,) = [*_push(acc, 2, 1, 0.0), *_push(acc, 2, 2, 0.0)]
    assert (first.obs, first.reward) == ("s0", 5.0)


def test_one_step_passes_through() -> None:
    acc = NStepAccumulator(1, 0.9)
    (t,) = _push(acc, 0, 0, 2.0)
    assert (t.reward, t.discount, t.next_obs) == (2.0, 0.9, "s1")
    with pytest.raises(ValueError):
        NStepAccumulator(0, 0.9)
