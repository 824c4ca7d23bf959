"""Tabular control by self-play: Q-learning, SARSA, Expected SARSA, Monte Carlo control.

One table ``Q[key(observation)] -> values of every action`` is shared by every
seat. Observations are from the acting seat's point of view in the classic
games, so one table serves both seats and each game teaches both sides.

Two ways to back values up, chosen per env (``backup``):

``negamax`` (alternating two-player zero-sum games: tic-tac-toe, connect four).
    After the mover plays ``a`` in ``s`` the opponent moves in ``s'``, and what is
    good for the opponent is bad for the mover (values are for the side to move)::

        Q(s, a) <- Q(s, a) + alpha * (target - Q(s, a))
        q-learning:      target = r                      if the game ended
                         target = r - gamma * max_{a' legal} Q(s', a')
        sarsa:           target = r - gamma * Q(s', a'), a' the move actually played
        expected-sarsa:  target = r - gamma * sum_{a'} pi(a'|s') Q(s', a'),
                         pi epsilon-greedy over the legal moves

    Every move updates the table, whoever played it (a pool opponent's move too),
    so these are minimax backups and the greedy policy converges to perfect play.

``per-agent`` (any other keyable env: Leduc hold'em, rock-paper-scissors).
    Each seat's transition runs from one of its turns to its next one, with the
    reward accrued in between, ``Q(s, a) <- Q(s, a) + alpha * (r + gamma * V(s'') - Q(s, a))``,
    V as above without the minus sign; termination ends the bootstrap, a time
    limit (truncation) does not.

``mc-control`` (both cases): first-visit Monte Carlo control. After each game,
for the first visit of each (s, a) by a seat, ``Q(s, a) <- Q(s, a) + alpha * (G - Q(s, a))``
with ``G`` the seat's discounted return from that move on.

Illegal actions never enter a max, an expectation or an epsilon-greedy choice.
The pool: most games are pure self-play (both seats epsilon-greedy on the live
table); the rest put a frozen snapshot of the table (refreshed every
``snapshot_every`` steps), ``random`` or the built-in lookahead player in one seat.
Only the learner's seats pick moves from the live table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np

from agents.common.evaluate import Score, evaluate, policy_source
from agents.common.interrupt import Checkpoints
from agents.common.logger import TrainLogger
from agents.common.package import copy_player, default_name, default_version, write_manifest
from arena.config_check import NON_NEGATIVE
from arena.errors import ArenaError
from arena.protocol import AgentContext
from arena.registry import builtin_agents, get_env
from arena.specs import EnvSpec
from arena.trainer import TrainRequest, TrainSummary
from arena.training import build_config

ALGOS = ("q-learning", "sarsa", "expected-sarsa", "mc-control")
# Perfect-information games where players strictly alternate and one's gain is
# the other's loss: the negamax backup is exact there.
ALTERNATING_ZERO_SUM = ("tictactoe_v3", "connect_four_v3")
MAX_KEY_VALUES = 128  # observations with more values are not tabular material
CHECKPOINT = "checkpoint.npz"
TABLE = "table.npz"


@dataclass
class TabularConfig:
    """Hyperparameters; every key can be set in ``--config`` (a TOML file)."""

    initial_value: float = 0.0  # Q of an action never tried (0 is a draw in the classic games)
    alpha: float = 0.5  # step size; the classic games are deterministic, so large steps are safe
    alpha_end: float = 0.1  # step size reached at the end of the run (linear decay)
    gamma: float = 1.0  # discount; episodes are short and end, so undiscounted
    epsilon_start: float = 1.0  # exploration at step 0 ...
    epsilon_end: float = 0.05  # ... decaying linearly to this ...
    epsilon_decay_fraction: float = 0.6  # ... over this fraction of the steps, then held
    backup: Literal["auto", "negamax", "per-agent"] = "auto"  # auto: negamax where exact
    self_play: float = 0.7  # share of games with the live table in both seats
    snapshot: float = 0.1  # share with a frozen snapshot of the table in one seat
    random_opponent: float = 0.1  # share with `random` in one seat
    lookahead: float = 0.1  # share with the built-in lookahead player (`one-ply`) where it exists
    random_opening: int = 0  # exploring starts: each game opens with 0..N random moves
    snapshot_every: int = 20_000  # steps between refreshes of the frozen snapshot
    eval_every: int = 50_000  # steps between evaluations through the match runner (0: off)
    eval_games: int = 100  # games per evaluation opponent (seats alternate)
    log_every: int = 10_000  # steps between CSV rows
    checkpoint_every: int = 100_000  # steps between checkpoints for --resume
    checkpoint_minutes: Annotated[float, NON_NEGATIVE] = 10.0  # and at least this often (0: off)


def supports(algo: str, spec: EnvSpec) -> str | None:
    """Tabular methods need discrete actions and small observations to key a table."""
    import gymnasium

    env = spec.build()
    try:
        agent = env.possible_agents[0]
        action_space = env.action_space(agent)
        obs_space = env.observation_space(agent)
    finally:
        env.close()
    if isinstance(obs_space, gymnasium.spaces.Dict) and "observation" in obs_space.spaces:
        obs_space = obs_space["observation"]
    if not isinstance(action_space, gymnasium.spaces.Discrete):
        return "tabular methods need a discrete action space"
    if isinstance(obs_space, gymnasium.spaces.Discrete):
        return None
    low, high = getattr(obs_space, "low", None), getattr(obs_space, "high", None)
    if low is not None and high is not None and not np.all(np.isfinite([low, high])):
        return "its observations are continuous; a table cannot key them (try dqn or maddpg)"
    size = int(np.prod(obs_space.shape or (1,)))
    if size > MAX_KEY_VALUES:
        return (
            f"its observations hold {size} values; a table keyed by them would never fill "
            f"(limit {MAX_KEY_VALUES}; try dqn)"
        )
    return None


def observation_key(observation: Any) -> bytes:
    """The table key: the observation's values as float32 bytes (exact for the games' 0/1s)."""
    return np.asarray(observation, dtype=np.float32).tobytes()


class QTable:
    """``key -> float64[n_actions]``; an unseen state starts at ``initial``."""

    def __init__(self, n_actions: int, initial: float = 0.0) -> None:
        self.n_actions = n_actions
        self.initial = initial
        self.values: dict[bytes, np.ndarray] = {}

    def __getitem__(self, key: bytes) -> np.ndarray:
        row = self.values.get(key)
        if row is None:
            row = self.values[key] = np.full(self.n_actions, self.initial)
        return row

    def peek(self, key: bytes) -> np.ndarray | None:
        return self.values.get(key)

    def copy(self) -> QTable:
        other = QTable(self.n_actions, self.initial)
        other.values = {k: v.copy() for k, v in self.values.items()}
        return other

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Keys as a uint8 matrix and values as a float32 matrix, rows in sorted key order."""
        keys = sorted(self.values)
        width = len(keys[0]) if keys else 0
        key_matrix = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), width)
        values = np.stack([self.values[k] for k in keys]) if keys else np.zeros((0, 0))
        return key_matrix, values

    @classmethod
    def from_arrays(
        cls, n_actions: int, keys: np.ndarray, values: np.ndarray, initial: float = 0.0
    ) -> QTable:
        table = cls(n_actions, initial)
        table.values = {bytes(k): v.astype(np.float64) for k, v in zip(keys, values, strict=False)}
        return table


def greedy(q: np.ndarray, legal: np.ndarray) -> int:
    """The legal action of highest value; ties go to the lowest index (as the player does)."""
    masked = np.where(legal, q, -np.inf)
    return int(np.argmax(masked))


def epsilon_greedy(
    q: np.ndarray, legal: np.ndarray, epsilon: float, rng: np.random.Generator
) -> int:
    if rng.random() < epsilon:
        return int(rng.choice(np.flatnonzero(legal)))
    return greedy(q, legal)


def state_value(
    algo: str, q: np.ndarray, legal: np.ndarray, epsilon: float, next_action: int | None
) -> float:
    """V(s') as each algorithm defines it; only legal actions count."""
    if algo == "sarsa":
        assert next_action is not None
        return float(q[next_action])
    best = float(np.max(q[legal]))
    if algo == "q-learning":
        return best
    # expected-sarsa: epsilon spread over the legal moves, the rest on the greedy one
    n = int(legal.sum())
    probs = np.where(legal, epsilon / n, 0.0)
    probs[greedy(q, legal)] += 1.0 - epsilon
    return float(probs @ q)


def linear(start: float, end: float, fraction: float) -> float:
    return start + (end - start) * min(max(fraction, 0.0), 1.0)


@dataclass
class _Pending:
    """A seat's last move, waiting for what follows it."""

    key: bytes
    action: int
    reward: float = 0.0


class TabularTrainer:
    """Runs games on the PettingZoo AEC env and updates the shared table."""

    def __init__(self, algo: str, spec: EnvSpec, config: TabularConfig, seed: int) -> None:
        self.algo = algo
        self.spec = spec
        self.config = config
        # The bare env, without PettingZoo's checking wrappers: the trainer only ever
        # plays legal moves, and the wrappers' attribute forwarding cost half the time.
        self.env = spec.build().unwrapped
        agent = self.env.possible_agents[0]
        self.n_actions = int(self.env.action_space(agent).n)
        self.table = QTable(self.n_actions, config.initial_value)
        self.snapshot = QTable(self.n_actions, config.initial_value)
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.step = 0
        self.episode = 0
        self.backup = config.backup
        if self.backup == "auto":
            self.backup = "negamax" if spec.env_id in ALTERNATING_ZERO_SUM else "per-agent"
        self.opponents = self._opponents()

    # -- the pool -------------------------------------------------------------

    def _opponents(self) -> list[tuple[str, float, Callable[[str], Any] | None]]:
        """(name, share, factory(seat) -> Agent) of the games' second seat."""
        cfg = self.config
        pool: list[tuple[str, float, Callable[[str], Any] | None]] = [
            ("self", cfg.self_play, None),
            ("snapshot", cfg.snapshot, None),
        ]
        builtins = builtin_agents()
        for name, share in (("random", cfg.random_opponent), ("one-ply", cfg.lookahead)):
            builtin = builtins.get(name)
            if share > 0 and builtin is not None and builtin.supports(self.spec.env_id):
                pool.append((name, share, self._builtin_factory(builtin.factory)))
        return [p for p in pool if p[1] > 0]

    def _builtin_factory(self, factory: Callable[[Any], Any]) -> Callable[[str], Any]:
        def make(seat: str) -> Any:
            ctx = AgentContext(
                env_id=self.spec.env_id,
                agent_id=seat,
                role=self.spec.seat_side()[seat].role,
                observation_space=_inner_space(self.env.observation_space(seat)),
                action_space=self.env.action_space(seat),
                package_dir=None,
                seed=int(self.rng.integers(2**31)),
            )
            agent = factory(ctx)
            agent.reset(seed=int(self.rng.integers(2**31)))
            return agent

        return make

    def _draw_opponent(self) -> tuple[str, Callable[[str], Any] | None]:
        shares = np.array([p[1] for p in self.opponents])
        i = int(self.rng.choice(len(shares), p=shares / shares.sum()))
        return self.opponents[i][0], self.opponents[i][2]

    # -- one game -------------------------------------------------------------

    def epsilon(self, total: int) -> float:
        cfg = self.config
        return linear(
            cfg.epsilon_start,
            cfg.epsilon_end,
            self.step / max(cfg.epsilon_decay_fraction * total, 1.0),
        )

    def alpha(self, total: int) -> float:
        return linear(self.config.alpha, self.config.alpha_end, self.step / max(total, 1))

    def play_game(self, total: int) -> None:
        """One episode: choose the seating, play it out, back values up."""
        env = self.env
        env.reset(seed=int(self.rng.integers(2**31)))
        seats = list(env.possible_agents)
        opponent, factory = self._draw_opponent()
        other_seat = seats[int(self.rng.integers(len(seats)))] if opponent != "self" else None
        fixed = factory(other_seat) if factory is not None and other_seat else None
        eps, alpha, gamma = self.epsilon(total), self.alpha(total), self.config.gamma
        pending: dict[str, _Pending] = {}
        last_move: _Pending | None = None  # negamax: the previous move, by whichever seat
        episode: dict[str, list[tuple[bytes, int, float]]] = {s: [] for s in seats}
        learns = {s: s != other_seat for s in seats}
        opening = int(self.rng.integers(self.config.random_opening + 1))

        for seat in env.agent_iter():
            observation, reward, terminated, truncated, _ = env.last()
            obs, mask = _split(observation, self.n_actions)
            done = terminated or truncated
            key = observation_key(obs)
            action: int | None = None
            if not done:
                if opening > 0:  # exploring start: a uniformly random legal move
                    opening -= 1
                    action = int(self.rng.choice(np.flatnonzero(mask)))
                elif seat == other_seat and opponent == "snapshot":
                    row = self.snapshot.peek(key)
                    blank = np.full(self.n_actions, self.config.initial_value)
                    action = greedy(row if row is not None else blank, mask)
                elif seat == other_seat and fixed is not None:
                    action = int(fixed.act(obs, action_mask=mask.astype(np.int8)))
                else:
                    action = epsilon_greedy(self.table[key], mask, eps, self.rng)

            if self.algo == "mc-control":
                if episode[seat]:
                    k, a, r = episode[seat][-1]
                    episode[seat][-1] = (k, a, r + reward)
            elif self.backup == "negamax":
                if last_move is not None and not done:
                    # The previous mover's move led here, to the opponent's turn.
                    v = state_value(self.algo, self.table[key], mask, eps, action)
                    self._update(last_move, -gamma * v, alpha)
                    last_move = None
                elif last_move is not None and done and pending.get(seat) is last_move:
                    # The game ended after this seat's own move: its final reward.
                    self._update(last_move, reward, alpha)
                    last_move = None
            else:
                move = pending.pop(seat, None)
                if move is not None and learns[seat]:
                    target = reward
                    if not terminated:  # a time limit is not the end: bootstrap through it
                        # After a truncation no next move exists; SARSA takes the expectation.
                        algo = "expected-sarsa" if action is None else self.algo
                        target += gamma * state_value(algo, self.table[key], mask, eps, action)
                    self._update(move, target, alpha)

            env.step(action)
            if action is not None:
                self.step += 1
                if self.step >= total:
                    return  # the budget is spent: stop mid-game, learn nothing more
                move = _Pending(key, action)
                pending[seat] = move
                last_move = move
                if learns[seat]:
                    episode[seat].append((key, action, 0.0))
        if self.algo == "mc-control":
            self._monte_carlo(episode, learns, alpha, gamma)
        self.episode += 1

    def _update(self, move: _Pending, target: float, alpha: float) -> None:
        row = self.table[move.key]
        row[move.action] += alpha * (target - row[move.action])

    def _monte_carlo(
        self,
        episode: dict[str, list[tuple[bytes, int, float]]],
        learns: dict[str, bool],
        alpha: float,
        gamma: float,
    ) -> None:
        for seat, moves in episode.items():
            if not learns[seat]:
                continue
            returns = []
            g = 0.0
            for _, _, r in reversed(moves):  # G_t = r_t + gamma * G_{t+1}
                g = r + gamma * g
                returns.append(g)
            returns.reverse()
            seen: set[tuple[bytes, int]] = set()
            for (key, action, _), g in zip(moves, returns, strict=False):
                if (key, action) in seen:
                    continue  # first visit only
                seen.add((key, action))
                row = self.table[key]
                row[action] += alpha * (g - row[action])

    # -- checkpoints ----------------------------------------------------------

    def save(self, path: Path) -> None:
        keys, values = self.table.arrays()
        snap_keys, snap_values = self.snapshot.arrays()
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(
            tmp,
            keys=keys,
            values=values,
            snapshot_keys=snap_keys,
            snapshot_values=snap_values,
            counters=np.array([self.step, self.episode], dtype=np.int64),
            rng=np.array(json.dumps(self.rng.bit_generator.state)),
        )
        tmp.replace(path)

    def load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            init = self.config.initial_value
            self.table = QTable.from_arrays(self.n_actions, data["keys"], data["values"], init)
            self.snapshot = QTable.from_arrays(
                self.n_actions, data["snapshot_keys"], data["snapshot_values"], init
            )
            self.step, self.episode = (int(x) for x in data["counters"])
            self.rng.bit_generator.state = json.loads(str(data["rng"]))


def _inner_space(space: Any) -> Any:
    spaces = getattr(space, "spaces", None)
    if isinstance(spaces, dict) and "observation" in spaces:
        return spaces["observation"]
    return space


def _split(observation: Any, n_actions: int) -> tuple[Any, np.ndarray]:
    """(observation, boolean legal mask); envs without masks allow every action."""
    if isinstance(observation, dict) and "action_mask" in observation:
        return observation["observation"], np.asarray(observation["action_mask"], dtype=bool)
    return observation, np.ones(n_actions, dtype=bool)


# -- the package --------------------------------------------------------------


def write_package(trainer: TabularTrainer, out: Path, algo: str) -> None:
    """``agent.toml``, ``table.npz`` (no pickle) and the stand-alone player."""
    keys, values = trainer.table.arrays()
    np.savez_compressed(out / TABLE, keys=keys, values=values.astype(np.float32))
    copy_player(out, "tabular_player")
    write_manifest(
        out,
        name=default_name(algo, trainer.spec.env_id),
        version=default_version(trainer.step, trainer.seed),
        entry="tabular_player:make_agent",
        files=[TABLE, "tabular_player.py"],
        envs=[trainer.spec.env_id],
        kind="tabular",
        learning_type="Tabular",
        description=f"{algo} by self-play, {trainer.step} steps, seed {trainer.seed}",
    )


def _evaluate(trainer: TabularTrainer, games: int, seed: int) -> dict[str, Score]:
    """The package as it stands, against random and the strongest built-in for the env."""
    from agents.players.tabular_player import TabularPlayer

    keys, values = trainer.table.arrays()
    lookup = {bytes(k): v for k, v in zip(keys, values, strict=False)}

    def make(ctx: AgentContext) -> Any:
        return TabularPlayer(lookup, ctx)

    learner = policy_source("learner", make, kind="tabular")
    scores = {}
    builtins = builtin_agents()
    for name in ("random", "one-ply", "minimax"):
        builtin = builtins.get(name)
        if builtin is not None and builtin.supports(trainer.spec.env_id):
            scores[name] = evaluate(trainer.spec.env_id, learner, name, games=games, seed=seed)
    return scores


def run(request: TrainRequest) -> TrainSummary:
    """``arena train q-learning|sarsa|expected-sarsa|mc-control``."""
    if request.algo not in ALGOS:
        raise ArenaError(f"agents.tabular does not train '{request.algo}'")
    config = build_config(TabularConfig, request.config, request.config_source)
    shares = (config.self_play, config.snapshot, config.random_opponent, config.lookahead)
    if min(shares) < 0 or sum(shares) <= 0:
        raise ArenaError(
            f"{request.config_source}: opponent shares must be >= 0 with a positive sum"
        )
    spec = get_env(request.env_id)
    trainer = TabularTrainer(request.algo, spec, config, request.seed)
    out, training = request.out, request.training_dir
    checkpoint = training / CHECKPOINT
    if request.resume:
        _check_resume(training, checkpoint, request)
        trainer.load(checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    training.mkdir(exist_ok=True)
    (training / "config.json").write_text(
        json.dumps(
            {
                "algo": request.algo,
                "env": request.env_id,
                "seed": request.seed,
                "steps": request.steps,
                **asdict(config),
                "backup": trainer.backup,  # what "auto" resolved to
            },
            indent=2,
        )
    )
    columns = ["episode", "epsilon", "alpha", "states", *_eval_columns(spec)]
    start = time.perf_counter()
    with TrainLogger(
        training,
        request.steps,
        columns,
        progress=request.progress,
        tensorboard=request.tensorboard,
        start_step=trainer.step,
        description=f"{request.algo} {request.env_id}",
    ) as log:
        with Checkpoints(
            lambda: _save(trainer, checkpoint),
            checkpoint,
            step=trainer.step,
            every_steps=config.checkpoint_every,
            every_minutes=config.checkpoint_minutes,
        ) as checkpoints:
            final = _train(trainer, config, request, log, checkpoints)
            log.log(trainer.step, **_row(trainer, request.steps, final))
    metrics: dict[str, float] = {"states": len(trainer.table.values), "episodes": trainer.episode}
    for name, score in final.items():
        metrics[f"score_vs_{name}"] = score.score
        metrics[f"losses_vs_{name}"] = score.losses
    return TrainSummary(
        algo=request.algo,
        env_id=request.env_id,
        steps=trainer.step,
        seconds=time.perf_counter() - start,
        package_dir=out,
        metrics=metrics,
    )


def _train(
    trainer: TabularTrainer,
    config: TabularConfig,
    request: TrainRequest,
    log: TrainLogger,
    checkpoints: Checkpoints,
) -> dict[str, Score]:
    """Play games up to ``request.steps``, write the package; the final evaluation."""
    next_log = trainer.step + config.log_every
    next_eval = trainer.step + config.eval_every if config.eval_every else None
    # On the multiples of snapshot_every, as in a run that was never stopped.
    next_snapshot = (trainer.step // config.snapshot_every + 1) * config.snapshot_every
    scores: dict[str, Score] = {}
    while trainer.step < request.steps:
        with checkpoints.update():  # Ctrl-C waits for the end of the game
            trainer.play_game(request.steps)
            if trainer.step >= next_snapshot:
                trainer.snapshot = trainer.table.copy()
                next_snapshot += config.snapshot_every
        evaluated = next_eval is not None and trainer.step >= next_eval
        if evaluated:
            scores = _evaluate(trainer, config.eval_games, request.seed + trainer.episode)
            next_eval = (next_eval or 0) + config.eval_every
        if trainer.step >= next_log or evaluated:
            log.log(trainer.step, **_row(trainer, request.steps, scores if evaluated else {}))
            next_log = trainer.step + config.log_every
        checkpoints.reached(trainer.step)
        log.advance(trainer.step)
    checkpoints.save()
    with checkpoints.update():  # a package is never half-written
        write_package(trainer, request.out, request.algo)
    return _evaluate(trainer, max(config.eval_games, 200), request.seed + 7919)


def _save(trainer: TabularTrainer, path: Path) -> int:
    trainer.save(path)
    return trainer.step


def _check_resume(training: Path, checkpoint: Path, request: TrainRequest) -> None:
    """A resumed run must continue the same algorithm on the same env."""
    if not checkpoint.is_file():
        raise ArenaError(f"--resume: no tabular checkpoint at {checkpoint}")
    try:
        before = json.loads((training / "config.json").read_text())
    except (OSError, ValueError):
        return  # an older or hand-made folder: the checkpoint is all we need
    for key, now in (("algo", request.algo), ("env", request.env_id)):
        if before.get(key) != now:
            raise ArenaError(
                f"--resume: {training / 'config.json'} was trained with {key} "
                f"'{before.get(key)}', not '{now}'"
            )


def _eval_columns(spec: EnvSpec) -> list[str]:
    columns = []
    for name, builtin in builtin_agents().items():
        if name in ("random", "one-ply", "minimax") and builtin.supports(spec.env_id):
            columns += [f"win_vs_{name}", f"loss_vs_{name}"]
    return columns


def _row(trainer: TabularTrainer, total: int, scores: dict[str, Score]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "episode": trainer.episode,
        "epsilon": trainer.epsilon(total),
        "alpha": trainer.alpha(total),
        "states": len(trainer.table.values),
    }
    for name, score in scores.items():
        row[f"win_vs_{name}"] = score.win_rate
        row[f"loss_vs_{name}"] = score.losses / score.games
    return row
