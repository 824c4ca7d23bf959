"""MADDPG / DDPG: critic and actor inputs, Gumbel-softmax gradients, soft updates, learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agents.common.centralised import joint_critic_input, own_first_order  # noqa: E402
from agents.common.joint_replay import JointReplay  # noqa: E402
from agents.common.mpe_loop import evaluate, team_return  # noqa: E402
from agents.common.stacked import StackedMLP, clip_grad_norm_per_agent, soft_update  # noqa: E402
from agents.common.vec_mpe import VecMPE  # noqa: E402
from agents.maddpg import MADDPG, Config, load_config  # noqa: E402
from arena.errors import ArenaError  # noqa: E402
from arena.registry import get_env  # noqa: E402
from arena.trainer import TrainRequest  # noqa: E402


def _learner(
    env_id: str, *, centralised: bool, continuous: bool = False, share: bool = False
) -> tuple[MADDPG, VecMPE]:
    vec = VecMPE(get_env(env_id), 2, seed=0, continuous=continuous)
    cfg = Config(share_parameters=share)
    return MADDPG(cfg, vec, centralised=centralised, device="cpu"), vec


def _batch(vec: VecMPE, b: int = 8) -> tuple[torch.Tensor, ...]:
    replay = JointReplay(64, vec.n_agents, vec.obs_max, vec.act_max)
    obs = vec.reset()
    for _ in range(b // vec.n_envs):
        act = np.eye(vec.act_max, dtype=np.float32)[np.zeros((vec.n_envs, vec.n_agents), int)]
        step = vec.step(vec.to_env_actions(act))
        replay.add(obs, act, step.rewards, step.next_obs, step.terminated)
        obs = step.obs
    return tuple(replay.sample(b))


def test_centralised_critic_sees_joint_obs_action_and_actor_only_its_own() -> None:
    # simple_tag: predators see 16 numbers, the prey 14; all have 5 actions; 4 seats.
    learner, vec = _learner("simple_tag_v3", centralised=True)
    n, o, a = 4, 16, 5
    assert (vec.n_agents, vec.obs_max, vec.act_max) == (n, o, a)
    assert learner.actor.weights[0].shape == (n, o, 64)  # each actor: its own observation
    assert learner.critic.weights[0].shape == (n, n * (o + a), 64)  # each critic: everything
    obs, act, *_ = _batch(vec)
    x = joint_critic_input(obs, act.unsqueeze(0).expand(n, *act.shape), own_first_order(n))
    assert x.shape == (n, 8, n * (o + a))
    # Every critic gets all observations, then all actions, its own seat's first.
    assert torch.equal(x[0, :, : n * o], obs.reshape(8, -1))
    assert torch.equal(x[0, :, n * o :], act.reshape(8, -1))
    order = [2, 0, 1, 3]
    assert torch.equal(x[2, :, : n * o], obs[:, order].reshape(8, -1))
    assert torch.equal(x[2, :, n * o :], act[:, order].reshape(8, -1))
    assert learner.act(obs, explore=True).shape == (8, n, a)


def test_shared_parameters_one_network_per_role_trained_by_every_seat() -> None:
    # simple_tag: 3 predators ("adversary") and 1 prey ("agent"): two networks each.
    learner, vec = _learner("simple_tag_v3", centralised=True, share=True)
    assert learner.actor.weights[0].shape == (2, 16, 64)
    assert learner.critic.weights[0].shape == (2, 4 * (16 + 5), 64)
    obs, act, *_ = _batch(vec)
    # The predators' shared actor gives the same action to the same observation.
    same = obs[:, :1].expand(-1, 4, -1)
    logits = learner._logits(learner.actor, same)
    assert torch.equal(logits[0], logits[2]) and not torch.equal(logits[0], logits[3])
    # A shared critic still tells seats apart: their inputs put their own seat first.
    q = learner.q(learner.critic, obs, act)
    assert not torch.allclose(q[0], q[1])
    before = [w.detach().clone() for w in learner.actor.weights]
    learner.update(tuple(_batch(vec, 16)))  # type: ignore[arg-type]
    moved = zip(before, learner.actor.weights, strict=True)
    assert all(bool((w1.detach() != w0).any()) for w0, w1 in moved)
    # The package holds one actor per seat, so the stand-alone player needs no change.
    weights, _ = learner.export()
    assert weights["weights.0"].shape == (4, 16, 64)
    assert torch.equal(weights["weights.0"][0], weights["weights.0"][2])
    assert torch.equal(weights["weights.0"][3], learner.actor.weights[0][1])


def test_independent_critic_sees_only_its_own_obs_action() -> None:
    learner, vec = _learner("simple_tag_v3", centralised=False)
    assert learner.critic.weights[0].shape == (4, 16 + 5, 64)
    obs, act, *_ = _batch(vec)
    own = torch.randn(4, 8, 5)
    q = learner.q(learner.critic, obs, act, own=own)
    mine = torch.cat([obs.transpose(0, 1), own], dim=-1)
    assert torch.equal(q, learner.critic(mine).squeeze(-1))


def test_padded_actions_are_never_chosen() -> None:
    # simple_speaker_listener: the speaker has 3 actions, the listener 5.
    learner, vec = _learner("simple_speaker_listener_v4", centralised=True)
    obs = torch.randn(256, vec.n_agents, vec.obs_max)
    speaker = vec.seats.index("speaker_0")
    for explore in (True, False):
        chosen = learner.act(obs, explore=explore)[:, speaker].argmax(-1)
        assert int(chosen.max()) < 3


def test_gumbel_softmax_straight_through_gradients_reach_every_actor() -> None:
    learner, vec = _learner("simple_spread_v3", centralised=True)
    before = [w.detach().clone() for w in learner.actor.weights]
    learner.update(tuple(_batch(vec, 16)))  # type: ignore[arg-type]
    # One update moved each of the three stacked actors.
    for w0, w1 in zip(before, learner.actor.weights, strict=True):
        moved = (w1.detach() - w0).flatten(1).abs().sum(1)
        assert bool((moved > 0).all())
    # And the estimator itself: hard one-hot forward, non-zero gradient backward.
    logits = torch.randn(3, 4, 5, requires_grad=True)
    sample = torch.nn.functional.gumbel_softmax(logits, hard=True)
    assert set(sample.detach().unique().tolist()) == {0.0, 1.0}
    (sample * torch.arange(5.0)).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0


def test_soft_update_moves_weights_by_exactly_tau() -> None:
    source, target = StackedMLP(3, (4, 8, 2)), StackedMLP(3, (4, 8, 2))
    old = [p.detach().clone() for p in target.parameters()]
    soft_update(target, source, 0.01)
    for t0, t1, s in zip(old, target.parameters(), source.parameters(), strict=True):
        torch.testing.assert_close(t1 - t0, 0.01 * (s - t0), rtol=1e-5, atol=1e-7)


def test_stacked_mlp_equals_separate_mlps() -> None:
    net = StackedMLP(3, (4, 8, 2))
    x = torch.randn(3, 5, 4)
    out = net(x)
    for i in range(3):
        h = torch.relu(x[i] @ net.weights[0][i] + net.biases[0][i])
        torch.testing.assert_close(out[i], h @ net.weights[1][i] + net.biases[1][i])


def test_gradient_clip_is_per_agent() -> None:
    net = StackedMLP(2, (3, 2))
    net.weights[0].grad = torch.stack([torch.full((3, 2), 10.0), torch.full((3, 2), 1e-3)])
    net.biases[0].grad = torch.zeros(2, 1, 2)
    clip_grad_norm_per_agent(net.parameters(), 1.0)
    norms = net.weights[0].grad.flatten(1).norm(dim=1)
    torch.testing.assert_close(norms, torch.tensor([1.0, 6**0.5 * 1e-3]), rtol=1e-4, atol=1e-6)


def test_continuous_actions_stay_in_bounds() -> None:
    learner, vec = _learner("simple_spread_v3", centralised=True, continuous=True)
    obs = torch.randn(64, vec.n_agents, vec.obs_max)
    act = learner.act(obs, explore=True)
    assert float(act.abs().max()) <= 1.0
    env_act = vec.to_env_actions(act.numpy())
    assert env_act.min() >= 0.0 and env_act.max() <= 1.0
    learner.update(tuple(_batch(vec, 16)))  # type: ignore[arg-type]


def test_config_errors_name_the_file_and_key() -> None:
    with pytest.raises(ArenaError, match=r"^cfg.toml: unknown key 'lr' \(known keys: actor_lr"):
        load_config({"lr": 0.1}, "cfg.toml")
    with pytest.raises(ArenaError, match=r"^cfg.toml: key 'gamma': expected float, got 'x'$"):
        load_config({"gamma": "x"}, "cfg.toml")
    with pytest.raises(ArenaError, match=r"^cfg.toml: key 'preset': expected one of"):
        load_config({"preset": "slow"}, "cfg.toml")


def test_presets_fill_defaults_and_file_keys_win() -> None:
    assert load_config({}, "f").actor_lr == 1e-3
    ref = load_config({"preset": "reference"}, "f")
    assert (ref.actor_lr, ref.n_envs, ref.train_every) == (1e-2, 1, 100)
    assert load_config({"preset": "reference", "n_envs": 4}, "f").n_envs == 4
    shared = load_config({"preset": "shared"}, "f")
    assert (shared.share_parameters, shared.hidden, shared.actor_lr) == (True, 128, 1e-3)


@pytest.mark.parametrize("algo", ["maddpg", "masac"])
def test_summary_splits_the_run_time_by_part(algo: str, tmp_path: Path) -> None:
    from agents import maddpg, sac

    request = TrainRequest(
        algo=algo,
        env_id="simple_spread_v3",
        steps=1200,
        out=tmp_path / "pkg",
        seed=0,
        config={
            "n_envs": 4,
            "learning_starts": 400,
            "batch_size": 64,
            "buffer_size": 5000,
            "hidden": 16,
            "eval_episodes": 4,
            "eval_interval": 800,
        },
        progress=False,
    )
    summary = (maddpg if algo == "maddpg" else sac).run(request)
    parts = ["env", "act", "learn", "buffer", "eval", "other"]
    split = {p: summary.metrics[f"seconds_{p}"] for p in parts}
    assert all(v >= 0 for v in split.values())
    assert all(split[p] > 0 for p in ("env", "act", "learn", "buffer", "eval"))
    # The parts add up to the run (other: logging, checkpoints, the package).
    assert sum(split.values()) == pytest.approx(summary.seconds, rel=1e-6)


@pytest.mark.learning
@pytest.mark.slow  # about 70 s of CPU, several minutes on a shared machine
def test_short_maddpg_run_beats_random_on_simple_spread(tmp_path: Path) -> None:
    from agents.maddpg import run

    spec = get_env("simple_spread_v3")
    vec = VecMPE(spec, 16, seed=99)
    rng = np.random.default_rng(0)
    random_return = team_return(vec, evaluate(vec, lambda o: rng.integers(0, 5, o.shape[:2]), 64))
    request = TrainRequest(
        algo="maddpg",
        env_id="simple_spread_v3",
        steps=60_000,
        out=tmp_path / "pkg",
        seed=1,
        config={"learning_starts": 10_000, "eval_episodes": 64, "eval_interval": 60_000},
        progress=False,
    )
    summary = run(request)
    # Random play scores about -79 (greedy untrained actors are worse, about -117).
    assert float(random_return.mean()) < -70
    assert summary.metrics["eval_team_return"] > float(random_return.mean()) + 10


def test_learning_rates_fall_linearly_to_the_final_fraction() -> None:
    vec = VecMPE(get_env("simple_spread_v3"), 2, seed=0)
    cfg = Config(final_lr_fraction=0.1)
    learner = MADDPG(cfg, vec, centralised=True, device="cpu", total_updates=4)
    batch = tuple(_batch(vec, 16))
    seen = []
    for _ in range(6):
        learner.update(batch)  # type: ignore[arg-type]
        seen.append(learner.actor_opt.param_groups[0]["lr"] / cfg.actor_lr)
    # Update k runs at 1 - 0.9 k / 4, then stays at 0.1.
    assert seen == pytest.approx([1.0, 0.775, 0.55, 0.325, 0.1, 0.1])
    assert learner.critic_opt.param_groups[0]["lr"] == pytest.approx(0.1 * cfg.critic_lr)


@pytest.mark.learning
@pytest.mark.slow  # about 3 CPU minutes
def test_shared_preset_passes_minus_40_within_100k_steps(tmp_path: Path) -> None:
    # Per-seat networks (the default) are near -50 at 100k; bench/RESULTS.md, mpe_spread.
    from agents.maddpg import run

    request = TrainRequest(
        algo="maddpg",
        env_id="simple_spread_v3",
        steps=100_000,
        out=tmp_path / "pkg",
        seed=0,
        config={"preset": "shared", "eval_episodes": 64, "eval_interval": 100_000},
        progress=False,
    )
    assert run(request).metrics["eval_team_return"] > -40
