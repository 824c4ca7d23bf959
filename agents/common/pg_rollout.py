"""Rollouts for PPO and A2C: ``n_games`` lockstep board games for ``rollout_steps`` ticks.

Each tick plays one move in every game (:class:`agents.common.boards.Boards`).
Storage is ``(T, n)``, tick by game, on the training device; the step at
``(t, g)`` belongs to the seat that moved. That seat's next move in the same
game is at ``t + 2``, so a seat trajectory is the stride-2 sequence of one
game's column (:mod:`agents.common.pg_math` takes ``stride=2``). Rewards are
the game's result from each seat's side: +1 / -1 / 0 on the mover's last step
and on the other seat's last step (the one at ``t - 1``), both ``done``; no
sign flip is needed anywhere. Only the learner's own moves are trained on
(``learner``); the opponent's moves (league games, :mod:`agents.common.league`)
only drive the game.

Per tick: one host→device copy (observations, masks and who moves, packed
into one uint8 array), one batched forward pass per network that moves, and
one device→host copy of the chosen actions for the boards. Rewards and flags
are NumPy until the rollout ends, then copied once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from agents.common import pg_math
from agents.common.actor_critic import ActorCritic, evaluate_actions
from agents.common.boards import Boards
from agents.common.league import PAST, SCRIPTED, League

STRIDE = 2  # a seat moves every other tick
SCRIPTED_CODE = 255  # in the packed "who moves" column: a scripted opponent (host side)


@dataclass
class Rollout:
    """One rollout's tensors, (T, n) and on the device."""

    obs: torch.Tensor  # (T, n, rows, cols, 2) uint8
    masks: torch.Tensor  # (T, n, A) bool
    actions: torch.Tensor  # (T, n) int64
    logp: torch.Tensor  # (T, n) log π_old(a|s)
    values: torch.Tensor  # (T, n) V_old(s)
    rewards: torch.Tensor  # (T, n)
    dones: torch.Tensor  # (T, n) float, 1 on each seat's last step of a game
    learner: torch.Tensor  # (T, n) bool, the learner moved

    def trainable(self) -> torch.Tensor:
        """Learner steps that have a target: not cut off by the end of the rollout."""
        return self.learner & ~pg_math.truncated(self.dones, STRIDE)


@dataclass
class Batch:
    """Flat training samples (one row per trainable learner move)."""

    obs: torch.Tensor
    masks: torch.Tensor
    actions: torch.Tensor
    logp: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    def rows(self, index: torch.Tensor) -> Batch:
        return Batch(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def flatten(rollout: Rollout, advantages: torch.Tensor, returns: torch.Tensor) -> Batch:
    """The trainable steps of ``rollout`` with their advantages and value targets."""
    keep = rollout.trainable()
    return Batch(
        rollout.obs[keep], rollout.masks[keep], rollout.actions[keep], rollout.logp[keep],
        rollout.values[keep], advantages[keep], returns[keep],
    )  # fmt: skip


def mirror_permutation(boards: Boards, device: str) -> torch.Tensor:
    """Action a → its left-right mirror image (an involution), from :meth:`Boards.mirror`."""
    actions = np.arange(boards.n_actions)
    dummy_obs = np.zeros((boards.n_actions, *boards.obs_shape), np.int8)
    dummy_masks = np.ones((boards.n_actions, boards.n_actions), bool)
    _, mirrored, _ = boards.mirror(dummy_obs, actions, dummy_masks)
    return torch.as_tensor(mirrored, device=device)


def mirrored(batch: Batch, perm: torch.Tensor, net: ActorCritic) -> Batch:
    """``batch`` and its mirror image (both games are left-right symmetric).

    A mirrored move keeps its advantage and return (the mirrored game is worth
    the same); its old log-probability is the current policy's on the mirrored
    board (computed once, before the update changes the network), so PPO's
    ratio starts at 1 for it as for the played moves.
    """
    obs = batch.obs.flip(2)  # (B, rows, cols, 2): reverse the columns
    masks = batch.masks[:, perm]
    actions = perm[batch.actions]
    with torch.no_grad():
        logp, _, values = evaluate_actions(net, obs, masks, actions)
    flipped = Batch(obs, masks, actions, logp, values, batch.advantages, batch.returns)
    return Batch(*(torch.cat([getattr(batch, f), getattr(flipped, f)])
                   for f in batch.__dataclass_fields__))  # fmt: skip


class SelfPlayRollouts:
    """The games, the league, and the collection of rollouts.

    Args:
        boards: ``n`` lockstep games.
        league: who the learner plays in each game.
        rollout_steps: ticks per rollout.
        rng: the run's generator (league draws, scripted moves).
        device: where the rollout tensors live.
    """

    def __init__(self, boards: Boards, league: League, rollout_steps: int,
                 rng: np.random.Generator, device: str) -> None:  # fmt: skip
        self.boards = boards
        self.league = league
        self.steps = rollout_steps
        self.rng = rng
        self.device = device
        self.games = 0
        self.time_env = 0.0
        self.time_act = 0.0
        self.obs_dim = int(np.prod(boards.obs_shape))
        league.assign(np.arange(boards.n))

    def _movers(self, learner: np.ndarray) -> np.ndarray:
        """(n,) uint8: 0 the learner moves, 1 + k past self k, 255 a scripted opponent."""
        lg = self.league
        code = np.full(self.boards.n, SCRIPTED_CODE, np.uint8)
        past = lg.index(PAST)
        if past >= 0:
            on_past = (lg.kind == past) & ~learner
            code[on_past] = 1 + lg.past[on_past]
        code[learner] = 0
        return code

    def collect(self, net: ActorCritic) -> Rollout:
        """Play ``rollout_steps`` ticks with ``net`` (sampling) and the league's opponents."""
        b, lg, n, dev = self.boards, self.league, self.boards.n, self.device
        shape = (self.steps, n)
        obs_all = torch.zeros((*shape, *b.obs_shape), dtype=torch.uint8, device=dev)
        masks_all = torch.zeros((*shape, b.n_actions), dtype=torch.bool, device=dev)
        actions_all = torch.zeros(shape, dtype=torch.int64, device=dev)
        logp_all = torch.zeros(shape, device=dev)
        values_all = torch.zeros(shape, device=dev)
        rewards = np.zeros(shape, np.float32)
        dones = np.zeros(shape, np.float32)
        learner_all = np.zeros(shape, bool)
        for t in range(self.steps):
            t0 = time.perf_counter()
            obs, mask = b.observe()
            learner = lg.learner_moves(b.to_move)
            code = self._movers(learner)
            parts = [obs.reshape(n, -1).view(np.uint8), mask.view(np.uint8), code[:, None]]
            packed = np.concatenate(parts, 1)
            t1 = time.perf_counter()
            on_dev = torch.from_numpy(packed).to(dev)  # the tick's one host→device copy
            obs_t = on_dev[:, : self.obs_dim].view(n, *b.obs_shape)
            mask_t = on_dev[:, self.obs_dim : -1].bool()
            who = on_dev[:, -1]
            with torch.no_grad():
                logits, value = net(obs_t)
                masked = pg_math.masked_logits(logits, mask_t)
                action = pg_math.sample(masked)
                logp = pg_math.log_probs(masked).gather(1, action[:, None]).squeeze(1)
                for k, past_net in enumerate(lg.pool):  # past selves sample their policy too
                    if not (code == k + 1).any():
                        continue
                    past_logits, _ = past_net(obs_t)
                    past_action = pg_math.sample(pg_math.masked_logits(past_logits, mask_t))
                    action = torch.where(who == k + 1, past_action, action)
            obs_all[t], masks_all[t], actions_all[t] = obs_t, mask_t, action
            logp_all[t], values_all[t] = logp, value
            actions = action.cpu().numpy()  # the tick's one device→host copy
            t2 = time.perf_counter()
            scripted = np.flatnonzero(code == SCRIPTED_CODE)
            if scripted.size:
                for name, play in SCRIPTED.items():
                    games = scripted[lg.kind[scripted] == lg.index(name)]
                    if games.size:
                        actions[games] = play(b, obs, mask, self.rng, games)
            learner_all[t] = learner
            done, won = b.step(actions)
            ended = np.flatnonzero(done)
            if ended.size:
                result = won[ended].astype(np.float32)  # the mover's side: +1 win, 0 draw
                rewards[t, ended] = result
                dones[t, ended] = 1.0
                if t >= 1:  # the other seat's last move was the tick before
                    rewards[t - 1, ended] = -result
                    dones[t - 1, ended] = 1.0
                b.reset(ended)
                lg.assign(ended)
                self.games += ended.size
            self.time_env += (t1 - t0) + (time.perf_counter() - t2)
            self.time_act += t2 - t1
        return Rollout(
            obs_all, masks_all, actions_all, logp_all, values_all,
            torch.from_numpy(rewards).to(dev), torch.from_numpy(dones).to(dev),
            torch.from_numpy(learner_all).to(dev),
        )  # fmt: skip

    def state(self) -> dict[str, object]:
        """What resume needs to continue the games exactly."""
        lg = self.league
        return {
            "cells": torch.from_numpy(self.boards.cells.copy()),
            "to_move": torch.from_numpy(self.boards.to_move.copy()),
            "kind": torch.from_numpy(lg.kind.copy()),
            "learner_seat": torch.from_numpy(lg.learner_seat.copy()),
            "past": torch.from_numpy(lg.past.copy()),
            "games": self.games,
        }

    def load_state(self, state: dict[str, object]) -> None:
        lg = self.league
        for target, key in ((self.boards.cells, "cells"), (self.boards.to_move, "to_move"),
                            (lg.kind, "kind"), (lg.learner_seat, "learner_seat"),
                            (lg.past, "past")):  # fmt: skip
            value = state[key]
            assert isinstance(value, torch.Tensor)
            target[...] = value.numpy()
        games = state["games"]
        assert isinstance(games, int)
        self.games = games
