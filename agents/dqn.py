"""The DQN family by self-play: ``dqn``, ``double-dqn``, ``dueling-dqn``, ``per-dqn``, ``rainbow``.

One learner with independent switches (Hessel et al. 2018 call them the Rainbow
components); the algorithm name only picks which are on:

| name        | double | dueling | prioritised | n-step | noisy | C51 |
| ----------- | ------ | ------- | ----------- | ------ | ----- | --- |
| dqn         |        |         |             | 1      |       |     |
| double-dqn  | yes    |         |             | 1      |       |     |
| dueling-dqn | yes    | yes     |             | 1      |       |     |
| per-dqn     | yes    |         | yes         | 1      |       |     |
| rainbow     | yes    | yes     | yes         | 3      | yes   | 51  |

A ``--config`` file may set any switch, and per-env presets (:data:`PRESETS`)
tune the budget-sensitive numbers for the board games. Order of precedence:
dataclass defaults < algorithm switches < env preset < ``--config`` file.

Self-play (two-player zero-sum turn-based games): ``n_games`` games run in
lockstep on a NumPy board (:mod:`agents.common.boards`). Each game is either
self-play (the learner moves for both seats and learns from both) or the
learner against a pool opponent in one seat: the one-ply lookahead player,
uniform random, or a frozen snapshot of the learner. A transition is taken
from one seat's point of view, from its move to its next turn:

    (s_t, a_t, r, s_{t+1}),  s_{t+1} = the seat's next observation, after the reply,

with r = +1 / -1 / 0 at the end of the game (for the winner, the loser, a draw)
and 0 otherwise, so the target needs no sign flip and works whatever policy
the opponent follows.

Module layout: config, algorithm switches and presets, the target maths
(masking, TD and C51 targets), acting, the update, the self-play loop, the package.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from agents.common.boards import Boards, random_choice
from agents.common.checkpoint import load_checkpoint, save_checkpoint
from agents.common.distributional import project
from agents.common.evaluate import Score, evaluate, policy_source
from agents.common.interrupt import Checkpoints
from agents.common.logger import TrainLogger
from agents.common.networks import NetSpec, QNetwork, export_state_dict
from agents.common.nstep import NStepAccumulator
from agents.common.package import copy_player, default_name, write_manifest
from agents.common.replay import Batch, ReplayBuffer
from agents.common.schedules import schedule
from agents.common.sumtree import PrioritizedReplayBuffer
from arena.config_check import NON_NEGATIVE
from arena.protocol import AgentContext
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary
from arena.training import build_config

SELF_PLAY_ENVS = ("tictactoe_v3", "connect_four_v3")
PLAYER_MODULE = "dqn_player"
WEIGHTS_FILE = "weights.pt"
NETWORK_FILE = "network.json"


# --------------------------------------------------------------------------- config


@dataclass
class Config:
    """Hyperparameters; the defaults are the common teaching DQN recipe."""

    # -- the Rainbow switches (the algorithm name sets them; a config file may too)
    double: bool = False
    """Double DQN: the online net picks argmax_a' Q(s', a'), the target net evaluates it."""
    dueling: bool = False
    """Dueling heads: Q = V(s) + A(s, a) - mean_a A(s, a)."""
    prioritized: bool = False
    """Proportional prioritised replay, P(i) ∝ (|δ_i| + ε)^alpha, with importance weights."""
    n_step: int = 1
    """Horizon of the bootstrapped return (1 = one-step Q-learning)."""
    noisy: bool = False
    """Noisy linear heads (learned exploration; epsilon still applies unless set to 0).

    Rainbow gets epsilon 0 (the paper's pure noisy exploration) except on
    connect four, whose preset keeps epsilon-greedy too (:data:`NOISY_KEEPS_EPSILON`).
    """
    noise_per_game: bool = False
    """Noisy acting: each lockstep game draws its own noise (false: one draw per tick for all)."""
    atoms: int = 1
    """1 = scalar Q-values; > 1 = C51 distribution over this many atoms (51 in the paper)."""
    v_min: float = -10.0
    """Lowest C51 atom (board games pay ±1: their presets use -1)."""
    v_max: float = 10.0
    """Highest C51 atom."""

    # -- the teaching recipe
    buffer_size: int = 10_000
    """Replay capacity in transitions; the oldest are overwritten."""
    batch_size: int = 64
    """Transitions per gradient step."""
    gamma: float = 0.99
    """Discount factor."""
    lr: float = 1e-4
    """Adam learning rate."""
    learn_every: int = 4
    """One gradient step per this many env steps (all games and seats together)."""
    tau: float = 1e-3
    """Soft target update after every gradient step: θ⁻ ← τ θ + (1 - τ) θ⁻."""
    learning_starts: int = 1_000
    """Env steps of pure collection before the first gradient step."""
    hidden: tuple[int, ...] = (64, 64)
    """MLP hidden sizes (the teaching 64-64 network)."""
    loss: Literal["mse", "huber"] = "mse"
    """TD loss for scalar Q (C51 always uses the cross-entropy)."""
    grad_clip: float = 10.0
    """Clip the gradient's global norm (0 = off)."""

    # -- exploration and prioritised-replay schedules
    epsilon_start: float = 1.0
    """Epsilon-greedy: first epsilon."""
    epsilon_end: float = 0.01
    """Epsilon-greedy: final epsilon."""
    epsilon_fraction: float = 0.2
    """Fraction of --steps over which epsilon moves from start to end."""
    epsilon_schedule: Literal["linear", "exponential"] = "exponential"
    """Shape of the decay (exponential: the teaching 'multiply by a constant')."""
    alpha: float = 0.6
    """Prioritisation exponent (0 = uniform)."""
    beta_start: float = 0.4
    """Importance-sampling exponent at the start; annealed linearly to 1 at --steps."""
    priority_eps: float = 1e-6
    """Added to |δ| so that no transition becomes unsampleable."""

    # -- self-play
    n_games: int = 16
    """Games stepped in lockstep (one batched forward pass per tick)."""
    mix_one_ply: float = 0.3
    """Share of new games where the one-ply lookahead player takes one seat."""
    mix_random: float = 0.05
    """Share of new games against the uniform random player."""
    mix_snapshot: float = 0.15
    """Share of new games against a frozen snapshot of the learner (the rest is pure self-play)."""
    snapshot_every: int = 25_000
    """Env steps between snapshots added to the pool."""
    snapshot_pool: int = 4
    """Snapshots kept (the oldest is dropped)."""
    opponent_epsilon: float = 0.05
    """Epsilon of snapshot opponents (some variety in their games)."""
    mirror: bool = False
    """Also store each transition's left-right mirror image (both games are symmetric)."""

    # -- bookkeeping
    log_every: int = 10_000
    """Env steps between log rows."""
    eval_every: int = 50_000
    """Env steps between evaluations (0 = only at the end)."""
    eval_games: int = 50
    """Games per opponent (random, one-ply) in each evaluation during training."""
    final_eval_games: int = 200
    """Games per opponent in the final evaluation (reported in the summary)."""
    checkpoint_every: int = 50_000
    """Env steps between checkpoints (and one at the end)."""
    threads: int = 1
    """torch.set_num_threads: 1 measured faster than 2 on the shared 2-core machines."""
    checkpoint_minutes: Annotated[float, NON_NEGATIVE] = 10.0
    """Also checkpoint at least this often (0 = off); Ctrl-C always saves one."""


# The algorithm names only switch components on.
ALGORITHMS: dict[str, dict[str, Any]] = {
    "dqn": {},
    "double-dqn": {"double": True},
    "dueling-dqn": {"double": True, "dueling": True},
    "per-dqn": {"double": True, "prioritized": True},
    "rainbow": {
        "double": True,
        "dueling": True,
        "prioritized": True,
        "n_step": 3,
        "noisy": True,
        "atoms": 51,
        "epsilon_start": 0.0,  # noisy nets explore; the paper drops epsilon (not on connect four)
        "epsilon_end": 0.0,
    },
}

# Per-env presets. The teaching defaults learn too slowly for connect four in
# 300k steps: a bigger net and buffer, a faster Adam, 3-step returns for every
# variant, and 64 games in lockstep (docs/dqn.md has the measurements).
PRESETS: dict[str, dict[str, Any]] = {
    "connect_four_v3": {
        "buffer_size": 100_000,
        "batch_size": 128,
        "lr": 2.5e-4,
        "hidden": (256, 256),
        "gamma": 0.9,  # 0.99 left a win now and a win later nearly equal: it missed wins
        "n_step": 3,
        "n_games": 64,
        "mirror": True,
        "learning_starts": 5_000,
        "epsilon_start": 1.0,
        "epsilon_end": 0.05,
        "epsilon_fraction": 0.3,
        "epsilon_schedule": "linear",  # rainbow keeps it too (NOISY_KEEPS_EPSILON)
        "v_min": -1.0,
        "v_max": 1.0,
        "tau": 2e-3,
    },
    "tictactoe_v3": {
        "buffer_size": 50_000,
        "lr": 5e-4,
        "hidden": (128, 128),
        "n_games": 32,
        "epsilon_start": 1.0,
        "epsilon_end": 0.05,
        "epsilon_fraction": 0.5,
        "epsilon_schedule": "linear",
        "v_min": -1.0,
        "v_max": 1.0,
        "learning_starts": 2_000,
        "tau": 5e-3,
        "mix_one_ply": 0.2,
        "mix_random": 0.2,
    },
}


# Envs whose preset epsilon schedule is kept for noisy variants (rainbow). This
# departs from the Rainbow paper, where noisy nets replace epsilon-greedy: on
# connect four the noisy heads alone explored too little in self-play (seed 0:
# 0.945 / 0.480 at 300k vs random / one-ply, against dqn's 0.960 / 0.547);
# with the preset's epsilon (1 -> 0.05 over the first 30%) kept on top of the
# noisy heads, rainbow reached 0.990 / 0.640 (bench/RESULTS.md, dqn_connect_four).
# Elsewhere a preset's epsilon is for plain nets and noisy variants get 0.
NOISY_KEEPS_EPSILON: frozenset[str] = frozenset({"connect_four_v3"})


def make_config(algo: str, env_id: str, values: dict[str, Any], source: str) -> Config:
    """Layer the defaults, the algorithm switches, the env preset and the user's file."""
    base = {**ALGORITHMS[algo], **PRESETS.get(env_id, {})}
    if ALGORITHMS[algo].get("noisy") and env_id in PRESETS and env_id not in NOISY_KEEPS_EPSILON:
        base.update(epsilon_start=0.0, epsilon_end=0.0)  # a preset's epsilon is for plain nets
    base_config = build_config(Config, base, f"preset for {algo} on {env_id}")
    user = build_config(Config, values, source)  # refuses unknown keys, naming the file
    merged = {**asdict(base_config), **{k: getattr(user, k) for k in values}}
    config = Config(**merged)
    _check(config, source)
    return config


def _check(config: Config, source: str) -> None:
    from arena.errors import ArenaError

    rules = [
        ("n_step", config.n_step >= 1, "must be at least 1"),
        ("atoms", config.atoms == 1 or config.atoms >= 2, "must be 1 or at least 2"),
        ("v_max", config.v_max > config.v_min, "must be greater than v_min"),
        ("batch_size", 1 <= config.batch_size, "must be positive"),
        ("buffer_size", config.buffer_size >= config.batch_size, "must hold one batch"),
        ("n_games", config.n_games >= 1, "must be positive"),
        ("learn_every", config.learn_every >= 1, "must be positive"),
        ("tau", 0 < config.tau <= 1, "must be in (0, 1]"),
        ("mix_one_ply", config.mix_one_ply + config.mix_random + config.mix_snapshot <= 1,
         "mix_one_ply + mix_random + mix_snapshot must not exceed 1"),
    ]  # fmt: skip
    for key, ok, why in rules:
        if not ok:
            raise ArenaError(f"{source}: key '{key}': {why}")


def supports(name: str, spec: EnvSpec) -> str | None:
    """Self-play on the NumPy boards: tic-tac-toe and connect four."""
    if name not in ALGORITHMS:
        return f"unknown DQN variant '{name}'"
    if spec.env_id not in SELF_PLAY_ENVS:
        return (
            f"the DQN trainers self-play on fast boards for {', '.join(SELF_PLAY_ENVS)} only "
            "(the conv Q-network exists for Atari, but its training loop is not built yet)"
        )
    return None


# --------------------------------------------------------------------------- target maths


def masked_argmax(q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """argmax over legal actions only; a row without legal actions counts all as legal."""
    mask = mask | ~mask.any(-1, keepdim=True)
    return q.masked_fill(~mask, -math.inf).argmax(-1)


def masked_max(q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """max over legal actions only (illegal actions never enter the max)."""
    return q.gather(-1, masked_argmax(q, mask).unsqueeze(-1)).squeeze(-1)


def td_target(online: QNetwork, target: QNetwork, batch: Batch, *, double: bool) -> torch.Tensor:
    """y = R + γ^k (1 - done) Q⁻(s', a*), the max taken over legal actions of s'.

    DQN:        a* = argmax_a Q⁻(s', a)     (the target net picks and evaluates)
    Double DQN: a* = argmax_a Q(s', a)      (the online net picks, the target evaluates)
    """
    with torch.no_grad():
        next_q = target(batch.next_obs)
        if double:
            best = masked_argmax(online(batch.next_obs), batch.next_masks)
            bootstrap = next_q.gather(1, best.unsqueeze(1)).squeeze(1)
        else:
            bootstrap = masked_max(next_q, batch.next_masks)
        return batch.rewards + batch.discounts * (1 - batch.dones) * bootstrap


def c51_target(online: QNetwork, target: QNetwork, batch: Batch, *, double: bool) -> torch.Tensor:
    """The projected target distribution m (B, atoms) of R + γ^k (1 - done) Z⁻(s', a*).

    a* maximises the expected value E[Z(s', a)] = Σ_j z_j p_j(s', a) over legal
    actions, from the online net's distribution when ``double`` (as in Rainbow).
    """
    support = target.support
    with torch.no_grad():
        next_probs = target(batch.next_obs).softmax(-1)  # (B, A, atoms)
        chooser = online(batch.next_obs).softmax(-1) if double else next_probs
        best = masked_argmax((chooser * support).sum(-1), batch.next_masks)
        chosen = next_probs[torch.arange(len(best), device=best.device), best]
        return project(chosen, batch.rewards, batch.discounts, batch.dones, support)


# --------------------------------------------------------------------------- acting


def greedy_actions(net: QNetwork, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """argmax_a Q(s, a) over legal actions, for a batch."""
    with torch.no_grad():
        return masked_argmax(net.q_values(obs), mask)


class TrainingAgent:
    """The learner as an arena agent (evaluation through the match runner): greedy, masked."""

    def __init__(self, net: QNetwork, device: str) -> None:
        self.net = net
        self.device = device

    def reset(self, *, seed: int | None = None) -> None:
        return None

    def act(self, observation: Any, *, action_mask: Any = None) -> int:
        obs = torch.as_tensor(np.asarray(observation)[None], device=self.device)
        n = self.net.spec.n_actions
        legal = np.ones(n, bool) if action_mask is None else np.asarray(action_mask, bool)
        mask = torch.as_tensor(legal[None], device=self.device)
        return int(greedy_actions(self.net, obs, mask)[0])


# --------------------------------------------------------------------------- the update


class Learner:
    """Online and target networks, the optimiser, the replay buffer and the update."""

    def __init__(self, config: Config, spec: NetSpec, device: str, seed: int) -> None:
        self.config = config
        self.device = device
        self.online = QNetwork(spec).to(device)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=config.lr)
        buffer_args: dict[str, Any] = {
            "capacity": config.buffer_size,
            "obs_shape": spec.obs_shape,
            "n_actions": spec.n_actions,
            "device": device,
            "seed": seed,
            "obs_dtype": torch.uint8,  # board planes are 0/1
        }
        self.buffer: ReplayBuffer = (
            PrioritizedReplayBuffer(alpha=config.alpha, eps=config.priority_eps, **buffer_args)
            if config.prioritized
            else ReplayBuffer(**buffer_args)
        )
        self.updates = 0
        # Sums on the device, read only at log time (no per-step host round trip).
        self.loss_sum = torch.zeros((), device=device)
        self.loss_count = 0
        self.time_buffer = 0.0
        self.time_network = 0.0

    def update(self, beta: float) -> None:
        """One gradient step on a sampled batch."""
        cfg = self.config
        t0 = time.perf_counter()
        if isinstance(self.buffer, PrioritizedReplayBuffer):
            batch = self.buffer.sample(cfg.batch_size, beta=beta)
        else:
            batch = self.buffer.sample(cfg.batch_size)
        t1 = time.perf_counter()
        if cfg.noisy:  # fresh noise for this step, independently in online and target
            self.online.reset_noise()
            self.target.reset_noise()
        rows = torch.arange(cfg.batch_size, device=self.device)
        if cfg.atoms == 1:
            # L = E_w[ℓ(y - Q(s, a))], y from td_target; w = importance weights (1 if uniform)
            y = td_target(self.online, self.target, batch, double=cfg.double)
            q = self.online(batch.obs)[rows, batch.actions]
            per_sample = (
                F.mse_loss(q, y, reduction="none")
                if cfg.loss == "mse"
                else F.smooth_l1_loss(q, y, reduction="none")
            )
            priority = (y - q).detach()
        else:
            # L = E_w[-Σ_j m_j log p_j(s, a)], the cross-entropy to the projected target
            m = c51_target(self.online, self.target, batch, double=cfg.double)
            log_p = self.online(batch.obs)[rows, batch.actions].log_softmax(-1)
            per_sample = -(m * log_p).sum(-1)
            priority = per_sample.detach()  # Rainbow prioritises by the KL (= CE up to a constant)
        loss = (batch.weights * per_sample).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.online.parameters(), cfg.grad_clip)
        self.optimizer.step()
        # θ⁻ ← τ θ + (1 - τ) θ⁻
        with torch.no_grad():
            torch._foreach_lerp_(
                list(self.target.parameters()), list(self.online.parameters()), cfg.tau
            )
        self.loss_sum += loss.detach()
        self.loss_count += 1
        self.updates += 1
        t2 = time.perf_counter()
        if isinstance(self.buffer, PrioritizedReplayBuffer):
            self.buffer.update_priorities(batch.indices, priority)
        t3 = time.perf_counter()
        self.time_buffer += (t1 - t0) + (t3 - t2)
        self.time_network += t2 - t1

    def take_loss(self) -> float | None:
        """Mean loss since the last call (the one host read per log row)."""
        if self.loss_count == 0:
            return None
        mean = float(self.loss_sum.item()) / self.loss_count
        self.loss_sum.zero_()
        self.loss_count = 0
        return mean


# --------------------------------------------------------------------------- self-play

SELF, ONE_PLY, RANDOM, SNAPSHOT = 0, 1, 2, 3
# (game, seat, obs, action, reward, next_obs, next_mask, done): one seat's 1-step transition
_Step = tuple[Any, Any, np.ndarray, Any, float, np.ndarray, np.ndarray, bool]


class SelfPlay:
    """``n_games`` games in lockstep and the transitions they produce for the learner.

    Args:
        env_id: a game with a fast board.
        config: the trainer's config (mixes, n-step, gamma, epsilon of opponents).
        rng: the run's generator (opponent choice, exploration, random moves).
    """

    def __init__(self, env_id: str, config: Config, rng: np.random.Generator) -> None:
        n = config.n_games
        self.config = config
        self.rng = rng
        self.boards = Boards(env_id, n)
        self.obs_dim = math.prod(self.boards.obs_shape)
        self.kind = np.zeros(n, np.int64)
        self.learner_seat = np.zeros(n, np.int64)
        self.snapshot = np.zeros(n, np.int64)
        self.pending_obs = np.zeros((n, 2, *self.boards.obs_shape), np.int8)
        self.pending_action = np.zeros((n, 2), np.int64)
        self.pending = np.zeros((n, 2), bool)
        self.nstep = NStepAccumulator(config.n_step, config.gamma)
        self.snapshots: list[QNetwork] = []
        self.games = 0
        self.time_env = 0.0
        self.time_act = 0.0
        self._assign(np.arange(n))

    def _assign(self, games: np.ndarray) -> None:
        """Pick each new game's opponent and the learner's seat."""
        cfg = self.config
        u = self.rng.random(len(games))
        kind = np.full(len(games), SELF)
        kind[u < cfg.mix_one_ply + cfg.mix_random + cfg.mix_snapshot] = SNAPSHOT
        kind[u < cfg.mix_one_ply + cfg.mix_random] = RANDOM
        kind[u < cfg.mix_one_ply] = ONE_PLY
        if not self.snapshots:
            kind[kind == SNAPSHOT] = SELF
        self.kind[games] = kind
        self.learner_seat[games] = self.rng.integers(0, 2, len(games))
        self.snapshot[games] = self.rng.integers(0, max(len(self.snapshots), 1), len(games))
        self.pending[games] = False

    def tick(self, net: QNetwork, epsilon: float, device: str) -> tuple[dict[str, np.ndarray], int]:
        """One move in every game. Returns the finished transitions and the env steps taken."""
        t0 = time.perf_counter()
        b = self.boards
        n = b.n
        obs, mask = b.observe()
        seat = b.to_move.astype(np.int64)
        learner = (self.kind == SELF) | (seat == self.learner_seat)
        games = np.arange(n)
        out: list[_Step] = []
        # The learner is to move again: close its previous move's transition (reward 0).
        closing = learner & self.pending[games, seat]
        for g in np.flatnonzero(closing):
            s = seat[g]
            out.append((g, s, self.pending_obs[g, s].copy(), self.pending_action[g, s], 0.0,
                        obs[g], mask[g], False))  # fmt: skip
        actions = np.zeros(n, np.int64)
        t1 = time.perf_counter()
        idx = np.flatnonzero(learner)
        if idx.size:
            actions[idx] = self._policy_actions(net, obs[idx], mask[idx], epsilon, device)
        t2 = time.perf_counter()
        self._opponent_actions(actions, obs, mask, learner, device)
        self.pending_obs[idx, seat[idx]] = obs[idx]
        self.pending_action[idx, seat[idx]] = actions[idx]
        self.pending[idx, seat[idx]] = True
        done, won = b.step(actions)
        ended = np.flatnonzero(done)
        for g in ended:
            for s in (0, 1):
                if self.pending[g, s]:
                    reward = 0.0 if not won[g] else (1.0 if s == seat[g] else -1.0)
                    out.append((g, s, self.pending_obs[g, s], self.pending_action[g, s], reward,
                                obs[g], np.ones_like(mask[g]), True))  # fmt: skip
        if ended.size:
            b.reset(ended)
            self._assign(ended)
            self.games += ended.size
        batch = self._transitions(out)
        self.time_env += (t1 - t0) + (time.perf_counter() - t2)
        self.time_act += t2 - t1
        return batch, n

    def _policy_actions(
        self, net: QNetwork, obs: np.ndarray, mask: np.ndarray, epsilon: float, device: str
    ) -> np.ndarray:
        """Epsilon-greedy over legal actions with one batched forward pass."""
        per_game = net.spec.noisy and net.training and self.config.noise_per_game
        if per_game:
            net.sample_row_noise(len(obs))
        elif net.spec.noisy and net.training:
            net.reset_noise()
        greedy = (
            greedy_actions(net, torch.from_numpy(obs).to(device), torch.from_numpy(mask).to(device))
            .cpu()
            .numpy()
        )
        if per_game:
            net.sample_row_noise(None)
        if epsilon > 0:
            explore = self.rng.random(len(obs)) < epsilon
            greedy = np.where(explore, random_choice(mask, self.rng), greedy)
        return greedy

    def _opponent_actions(
        self,
        actions: np.ndarray,
        obs: np.ndarray,
        mask: np.ndarray,
        learner: np.ndarray,
        device: str,
    ) -> None:
        other = ~learner
        if not other.any():
            return
        kinds = self.kind
        if (other & (kinds == ONE_PLY)).any():
            pick = other & (kinds == ONE_PLY)
            actions[pick] = self.boards.one_ply_actions(self.rng)[pick]
        pick = other & (kinds == RANDOM)
        if pick.any():
            actions[pick] = random_choice(mask[pick], self.rng)
        for k, snap in enumerate(self.snapshots):
            pick = other & (kinds == SNAPSHOT) & (self.snapshot == k)
            if pick.any():
                actions[pick] = self._policy_actions(
                    snap, obs[pick], mask[pick], self.config.opponent_epsilon, device
                )

    def _transitions(self, out: list[_Step]) -> dict[str, np.ndarray]:
        """1-step transitions → n-step ones (stream = game and seat) → arrays for the buffer."""
        rows = []
        for g, s, obs, action, reward, next_obs, next_mask, done in out:
            stream = int(g) * 2 + int(s)
            rows += self.nstep.push(stream, obs, int(action), reward, next_obs, next_mask, done)
        if not rows:
            return {}
        batch = {
            "obs": np.stack([t.obs for t in rows]),
            "actions": np.array([t.action for t in rows], np.int64),
            "rewards": np.array([t.reward for t in rows], np.float32),
            "next_obs": np.stack([t.next_obs for t in rows]),
            "next_masks": np.stack([t.next_mask for t in rows]),
            "dones": np.array([t.done for t in rows], np.float32),
            "discounts": np.array([t.discount for t in rows], np.float32),
        }
        if self.config.mirror:
            obs, actions, _ = self.boards.mirror(
                batch["obs"], batch["actions"], batch["next_masks"]
            )
            next_obs, _, next_masks = self.boards.mirror(
                batch["next_obs"], batch["actions"], batch["next_masks"]
            )
            mirrored = {"obs": obs, "actions": actions, "next_obs": next_obs,
                        "next_masks": next_masks}  # fmt: skip
            batch = {k: np.concatenate([v, mirrored.get(k, v)]) for k, v in batch.items()}
        return batch

    def add_snapshot(self, net: QNetwork, pool: int) -> None:
        """Freeze a copy of ``net`` as a pool opponent (mean weights: eval mode)."""
        frozen = copy.deepcopy(net).eval()
        frozen.requires_grad_(False)
        self.snapshots.append(frozen)
        if len(self.snapshots) > pool:
            self.snapshots.pop(0)
            # Games against the dropped snapshot shift to their neighbour's index.
            self.snapshot = np.maximum(self.snapshot - 1, 0)


# --------------------------------------------------------------------------- the run


def evaluate_net(
    net: QNetwork, env_id: str, device: str, games: int, seed: int
) -> tuple[Score, Score]:
    """Greedy play through the arena's match runner, against random and one-ply."""
    frozen = copy.deepcopy(net).eval()

    def factory(ctx: AgentContext) -> TrainingAgent:
        return TrainingAgent(frozen, device)

    source = policy_source("dqn-training", factory, kind="dqn")
    vs_random = evaluate(env_id, source, "random", games=games, seed=seed)
    vs_one_ply = evaluate(env_id, source, "one-ply", games=games, seed=seed + 1)
    return vs_random, vs_one_ply


def run(request: TrainRequest) -> TrainSummary:
    """Train ``request.algo`` by self-play on ``request.env_id`` and write the package."""
    started = time.perf_counter()
    checkpoint_path = request.training_dir / "checkpoint.pt"
    saved: dict[str, Any] | None = None
    values = dict(request.config)
    if request.resume:
        saved = load_checkpoint(checkpoint_path, request.device)
        values = {**json.loads(saved["config_json"]), **values}
        values["hidden"] = tuple(values["hidden"])
    config = make_config(request.algo, request.env_id, values, request.config_source)
    torch.set_num_threads(config.threads)
    torch.manual_seed(request.seed)
    rng = np.random.default_rng(request.seed)
    device = request.device

    play = SelfPlay(request.env_id, config, rng)
    spec = NetSpec(
        obs_shape=play.boards.obs_shape,
        n_actions=play.boards.n_actions,
        hidden=config.hidden,
        dueling=config.dueling,
        noisy=config.noisy,
        atoms=config.atoms,
        v_min=config.v_min,
        v_max=config.v_max,
    )
    learner = Learner(config, spec, device, request.seed)
    step = 0
    next_snapshot = config.snapshot_every
    last: dict[str, float] = {}
    if saved is not None:
        learner.online.load_state_dict(saved["online"])
        learner.target.load_state_dict(saved["target"])
        learner.optimizer.load_state_dict(saved["optimizer"])
        for state in saved["snapshots"]:
            snap = QNetwork(spec).to(device)
            snap.load_state_dict(state)
            play.add_snapshot(snap, config.snapshot_pool)
        step, learner.updates, play.games = saved["step"], saved["updates"], saved["games"]
        next_snapshot = saved["next_snapshot"]
        rng.bit_generator.state = json.loads(saved["rng_json"])
        torch.set_rng_state(saved["torch_rng"])
        last = dict(saved["last"])

    request.training_dir.mkdir(parents=True, exist_ok=True)
    (request.training_dir / "config.json").write_text(
        json.dumps({"algo": request.algo, **asdict(config)}, indent=2) + "\n"
    )
    columns = ["epsilon", "loss", "updates", "updates_per_s", "games", "buffer",
               "win_vs_random", "score_vs_one_ply"]  # fmt: skip
    logger = TrainLogger(
        request.training_dir,
        request.steps,
        columns,
        progress=request.progress,
        tensorboard=request.tensorboard,
        start_step=step,
        description=f"{request.algo} {request.env_id}",
    )
    start_step, start_updates = step, learner.updates
    next_log = (step // config.log_every + 1) * config.log_every
    next_eval = (step // config.eval_every + 1) * config.eval_every if config.eval_every else -1
    time_eval = 0.0
    last_log_time, last_log_updates = time.perf_counter(), learner.updates

    def save() -> int:
        save_checkpoint(
            checkpoint_path,
            {
                "config_json": json.dumps(asdict(config)),
                "online": learner.online.state_dict(),
                "target": learner.target.state_dict(),
                "optimizer": learner.optimizer.state_dict(),
                "snapshots": [s.state_dict() for s in play.snapshots],
                "step": step,
                "updates": learner.updates,
                "games": play.games,
                "next_snapshot": next_snapshot,
                "rng_json": json.dumps(rng.bit_generator.state),
                "torch_rng": torch.get_rng_state(),
                "last": last,
            },
        )
        return step

    checkpoints = Checkpoints(
        save,
        checkpoint_path,
        step=step,
        every_steps=config.checkpoint_every,
        every_minutes=config.checkpoint_minutes,
    )
    try:
        with checkpoints:
            while step < request.steps:
                duration = int(config.epsilon_fraction * request.steps)
                epsilon = schedule(
                    config.epsilon_schedule, config.epsilon_start, config.epsilon_end, duration,
                    step,
                )  # fmt: skip
                with checkpoints.update():  # Ctrl-C waits for the end of the tick
                    batch, taken = play.tick(learner.online, epsilon, device)
                    step += taken
                    if batch:
                        t0 = time.perf_counter()
                        learner.buffer.add(**batch)
                        learner.time_buffer += time.perf_counter() - t0
                    # Gradient steps owed: one per learn_every env steps after learning_starts.
                    owed = (step - config.learning_starts) // config.learn_every - learner.updates
                    if len(learner.buffer) >= config.batch_size:
                        beta = config.beta_start + (1 - config.beta_start) * min(
                            step / request.steps, 1
                        )
                        for _ in range(max(owed, 0)):
                            learner.update(beta)
                    if step >= next_snapshot:
                        play.add_snapshot(learner.online, config.snapshot_pool)
                        next_snapshot += config.snapshot_every
                final = step >= request.steps
                if (next_eval > 0 and step >= next_eval) or final:
                    t0 = time.perf_counter()
                    games = config.final_eval_games if final else config.eval_games
                    vs_random, vs_one_ply = evaluate_net(
                        learner.online, request.env_id, device, games, request.seed + step
                    )
                    last = {
                        "win_vs_random": vs_random.win_rate,
                        "score_vs_one_ply": vs_one_ply.score,
                    }
                    time_eval += time.perf_counter() - t0
                    while next_eval > 0 and next_eval <= step:
                        next_eval += config.eval_every
                if step >= next_log or final:
                    now = time.perf_counter()
                    logger.log(
                        step,
                        epsilon=round(epsilon, 4),
                        loss=learner.take_loss(),
                        updates=learner.updates,
                        updates_per_s=round(
                            (learner.updates - last_log_updates) / max(now - last_log_time, 1e-9),
                            1,
                        ),
                        games=play.games,
                        buffer=len(learner.buffer),
                        **last,
                    )
                    last_log_time, last_log_updates = now, learner.updates
                    while next_log <= step:
                        next_log += config.log_every
                else:
                    logger.advance(step)
                checkpoints.reached(step)
            checkpoints.save()
            with checkpoints.update():  # a package is never half-written
                package = write_package(request, config, learner.online)
    finally:
        logger.close()

    seconds = time.perf_counter() - started
    loop = max(seconds - time_eval, 1e-9)
    busy = play.time_env + play.time_act + learner.time_network + learner.time_buffer
    metrics = {
        **last,
        "minutes": seconds / 60,
        "steps_per_s": (step - start_step) / loop,
        "updates_per_s": (learner.updates - start_updates) / loop,
        "share_env": play.time_env / max(busy, 1e-9),
        "share_network": (play.time_act + learner.time_network) / max(busy, 1e-9),
        "share_buffer": learner.time_buffer / max(busy, 1e-9),
        "eval_seconds": time_eval,
        "updates": learner.updates,
        "games": play.games,
    }
    return TrainSummary(request.algo, request.env_id, step, seconds, package, metrics)


# --------------------------------------------------------------------------- the package


def write_package(request: TrainRequest, config: Config, net: QNetwork) -> Path:
    """agent.toml, the stand-alone player, weights.pt (a state dict) and network.json."""
    out = request.out
    torch.save(export_state_dict(net), out / WEIGHTS_FILE)
    spec_json = net.spec.to_json()
    spec_json["noisy"] = False  # exported as the mean network
    (out / NETWORK_FILE).write_text(json.dumps(spec_json, indent=2, sort_keys=True) + "\n")
    copy_player(out, PLAYER_MODULE)
    switches = [f.name for f in fields(Config)][:8]
    description = f"{request.algo} by self-play, {request.steps} steps, seed {request.seed} (" + (
        ", ".join(f"{k}={getattr(config, k)}" for k in switches) + ")"
    )
    write_manifest(
        out,
        name=default_name(request.algo, request.env_id),
        version="1.0.0",
        entry=f"{PLAYER_MODULE}:make_agent",
        files=[WEIGHTS_FILE, NETWORK_FILE, f"{PLAYER_MODULE}.py"],
        envs=[request.env_id],
        kind="dqn",
        learning_type="Q-gradient",
        description=description,
        requires=("numpy>=1.24", "torch>=2.0"),
    )
    return out
