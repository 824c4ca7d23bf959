"""The policy-gradient maths against hand-computed values: GAE, n-step returns, the clipped
surrogate, value clipping, masked policies; and the league's opponent draw."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from agents.common import pg_math
from agents.common.league import League, check_shares
from arena.errors import ArenaError


def t(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_gae_on_a_four_step_game_that_is_won() -> None:
    # γ = 0.9, λ = 0.8, rewards 0 0 0 1 (won on the last move), V = 0.1 0.2 0.3 0.4.
    # δ_3 = 1 - 0.4 = 0.6                          (done: no bootstrap)
    # δ_2 = 0 + 0.9·0.4 - 0.3 = 0.06
    # δ_1 = 0 + 0.9·0.3 - 0.2 = 0.07
    # δ_0 = 0 + 0.9·0.2 - 0.1 = 0.08
    # Â_3 = 0.6
    # Â_2 = 0.06 + 0.72·0.6     = 0.492            (γλ = 0.72)
    # Â_1 = 0.07 + 0.72·0.492   = 0.42424
    # Â_0 = 0.08 + 0.72·0.42424 = 0.3854528
    adv, ret = pg_math.gae(t([0, 0, 0, 1]), t([0.1, 0.2, 0.3, 0.4]), t([0, 0, 0, 1]),
                           gamma=0.9, lam=0.8)  # fmt: skip
    assert adv.tolist() == pytest.approx([0.3854528, 0.42424, 0.492, 0.6])
    assert ret.tolist() == pytest.approx([0.4854528, 0.62424, 0.792, 1.0])  # Â + V


def test_gae_truncated_trajectory_bootstraps_and_has_no_target_at_the_cut() -> None:
    # Not done at the end: the last step only bootstraps its predecessor.
    # Â_3 = 0 (no target); Â_2 = δ_2 = 0 + 0.9·0.4 - 0.3 = 0.06
    # Â_1 = 0.07 + 0.72·0.06 = 0.1132; Â_0 = 0.08 + 0.72·0.1132 = 0.161504
    dones = t([0, 0, 0, 0])
    adv, _ = pg_math.gae(t([0, 0, 0, 0]), t([0.1, 0.2, 0.3, 0.4]), dones, gamma=0.9, lam=0.8)
    assert adv.tolist() == pytest.approx([0.161504, 0.1132, 0.06, 0.0])
    assert pg_math.truncated(dones).tolist() == [False, False, False, True]


def test_gae_stride_two_keeps_the_two_seats_apart() -> None:
    # Ticks 0..3 alternate seats A, B, A, B of one game; A wins at tick 2, so B's
    # move at tick 1 is B's last (reward -1, done) and tick 3 is the next game.
    # γ = 1, λ = 1: Â = return - V along each seat's own moves.
    # A: ticks 0, 2: Â_2 = 1 - 0.5 = 0.5; Â_0 = (0 + 0.5 - 0.2) + 0.5 = 0.8 (= 1 - 0.2)
    # B: tick 1: Â_1 = -1 - (-0.3) = -0.7; tick 3: cut (not done, no successor) → 0
    rewards, values, dones = t([0, -1, 1, 0]), t([0.2, -0.3, 0.5, 0.1]), t([0, 1, 1, 0])
    adv, _ = pg_math.gae(rewards, values, dones, gamma=1.0, lam=1.0, stride=2)
    assert adv.tolist() == pytest.approx([0.8, -0.7, 0.5, 0.0])
    assert pg_math.truncated(dones, 2).tolist() == [False, False, False, True]


def test_nstep_returns_by_hand() -> None:
    # γ = 0.9, n = 2, rewards 0 0 0 1, V = 0.1 0.2 0.3 0.4, done at the end:
    # G_3 = 1                                   (done)
    # G_2 = 0 + 0.9·1 = 0.9                     (the game ends inside the window)
    # G_1 = 0 + 0.9·0 + 0.81·V_3 = 0.81·0.4 = 0.324
    # G_0 = 0 + 0.9·0 + 0.81·V_2 = 0.81·0.3 = 0.243
    rewards, values = t([0, 0, 0, 1]), t([0.1, 0.2, 0.3, 0.4])
    ret = pg_math.nstep_returns(rewards, values, t([0, 0, 0, 1]), gamma=0.9, n=2)
    assert ret.tolist() == pytest.approx([0.243, 0.324, 0.9, 1.0])
    # Truncated instead: G_3 = V_3 = 0.4; G_2 = 0.9·0.4 = 0.36; G_1 = 0.81·0.4 = 0.324
    cut = pg_math.nstep_returns(rewards * 0, values, t([0, 0, 0, 0]), gamma=0.9, n=2)
    assert cut.tolist() == pytest.approx([0.243, 0.324, 0.36, 0.4])


def test_clipped_surrogate_by_hand() -> None:
    # ε = 0.2. ratio r, advantage Â → min(r Â, clip(r) Â):
    #   r = 1.5, Â = +1 → min(1.5, 1.2)  = 1.2   (gain capped)
    #   r = 0.5, Â = +1 → min(0.5, 0.8)  = 0.5   (the pessimistic unclipped term)
    #   r = 0.5, Â = -1 → min(-0.5, -0.8) = -0.8 (loss capped)
    #   r = 1.5, Â = -1 → min(-1.5, -1.2) = -1.5
    # L = -mean(1.2, 0.5, -0.8, -1.5) = -(-0.6)/4 = 0.15
    ratios = t([1.5, 0.5, 0.5, 1.5])
    old = t([-1.0, -1.0, -1.0, -1.0])
    loss = pg_math.clipped_surrogate(old + ratios.log(), old, t([1, 1, -1, -1]), 0.2)
    assert float(loss) == pytest.approx(0.15)


def test_value_clipping_takes_the_pessimistic_loss() -> None:
    # V_old = 0, V_new = 1, R = 1, clip 0.2: plain (1-1)² = 0, clipped (0.2-1)² = 0.64;
    # ½·max = 0.32. Without clipping: ½·0 = 0.
    new, old, ret = t([1.0]), t([0.0]), t([1.0])
    assert float(pg_math.value_loss(new, old, ret, 0.2)) == pytest.approx(0.32)
    assert float(pg_math.value_loss(new, old, ret, None)) == 0.0


def test_masked_logits_give_illegal_actions_zero_probability_and_finite_entropy() -> None:
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 9.0]], requires_grad=True)
    mask = torch.tensor([[True, False, True], [True, True, False]])
    masked = pg_math.masked_logits(logits, mask)
    probs = masked.softmax(-1)
    assert probs[0, 1] == 0 and probs[1, 2] == 0
    # Row 1: two equal legal logits → uniform over them, entropy log 2.
    ent = pg_math.entropy(masked)
    assert float(ent[1].detach()) == pytest.approx(math.log(2))
    assert torch.isfinite(ent).all()
    ent.sum().backward()  # the gradient stays finite too (no 0·(-inf))
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert set(pg_math.sample(masked.detach()).tolist()) <= {0, 1, 2}
    for _ in range(20):
        drawn = pg_math.sample(masked.detach())
        assert bool(mask[0, drawn[0]]) and bool(mask[1, drawn[1]])


def test_a_row_with_one_legal_action() -> None:
    masked = pg_math.masked_logits(torch.tensor([[3.0, -1.0, 0.0]]), torch.tensor([[0, 1, 0]]))
    assert pg_math.log_probs(masked)[0, 1] == 0.0  # probability 1
    assert float(pg_math.entropy(masked)[0]) == 0.0
    assert int(pg_math.sample(masked)[0]) == 1


def test_league_draw_follows_the_shares_in_written_order() -> None:
    rng = np.random.default_rng(0)
    league = League({"random": 0.25, "self": 0.75}, n_games=4000, pool_size=2, rng=rng)
    league.assign(np.arange(4000))
    drawn = [league.names[k] for k in league.kind]
    assert drawn.count("random") / 4000 == pytest.approx(0.25, abs=0.03)
    # Same generator state → same draw: u < 0.25 is random, else self.
    u = np.random.default_rng(0).random(4000)
    assert drawn == ["random" if x < 0.25 else "self" for x in u]


def test_league_plays_past_games_as_self_until_the_pool_has_a_snapshot() -> None:
    league = League({"past": 1.0}, n_games=8, pool_size=2, rng=np.random.default_rng(1))
    league.assign(np.arange(8))
    assert {league.names[k] for k in league.kind} == {"self"}
    league.add_snapshot(torch.nn.Linear(1, 1))
    league.assign(np.arange(8))
    assert {league.names[k] for k in league.kind} == {"past"}


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({"self": 0.5, "random": 0.4}, "cfg.toml: key 'opponents': shares must sum to 1 (got 0.9)"),
        ({"self": 0.5, "negamax-9": 0.5},
         "cfg.toml: key 'opponents.negamax-9': unknown opponent (choose from: self, past, random, "
         "one-ply, heuristic)"),
        ({"self": 1.5, "random": -0.5},
         "cfg.toml: key 'opponents.random': share must not be negative"),
    ],
)  # fmt: skip
def test_bad_shares_are_one_line_naming_file_and_key(
    shares: dict[str, float], message: str
) -> None:
    with pytest.raises(ArenaError) as err:
        check_shares(shares, "cfg.toml")
    assert str(err.value) == message
