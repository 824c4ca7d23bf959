"""How often a DQN package misses an immediate win or a needed block at connect four.

Plays the package's greedy policy (loaded exactly as ``dqn_player.py`` loads it)
against uniform random on the NumPy boards, ``--games`` games with seats
alternating, and counts the positions where the learner could win at once
(or had to block the opponent's immediate win) and did not. This is the
diagnosis that moved the connect-four preset from γ 0.99 to 0.9.

    python bench/dqn_tactics.py /tmp/dqn-bench/dqn-s0-300000 [--games 400]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "agents" / "players"))

from agents.common.boards import Boards, random_choice  # noqa: E402


def tactics(package: Path, games: int, seed: int = 0) -> dict[str, float]:
    import dqn_player

    torch.set_num_threads(1)
    net = dqn_player.load_network(package)
    rng = np.random.default_rng(seed)
    boards = Boards("connect_four_v3", games)
    learner = np.arange(games) % 2
    over = np.zeros(games, bool)
    result = np.zeros(games, int)
    wins_seen = wins_missed = blocks_seen = blocks_missed = 0
    rows = np.arange(games)
    while not over.all():
        obs, mask = boards.observe()
        with torch.no_grad():
            q = net.q_values(torch.as_tensor(obs)).numpy()
        greedy = np.where(mask, q, -np.inf).argmax(1)
        mine = (boards.to_move == learner) & ~over
        win = boards.winning_moves(boards.to_move)
        block = boards.winning_moves(1 - boards.to_move)
        can_win = mine & win.any(1)
        must_block = mine & ~win.any(1) & block.any(1)
        wins_seen += int(can_win.sum())
        wins_missed += int((can_win & ~win[rows, greedy]).sum())
        blocks_seen += int(must_block.sum())
        blocks_missed += int((must_block & ~block[rows, greedy]).sum())
        actions = np.where(mine, greedy, random_choice(mask, rng))
        saved_cells, saved_turn = boards.cells.copy(), boards.to_move.copy()
        seat = boards.to_move.astype(np.int64)
        done, won = boards.step(actions)
        # Finished games stay frozen: undo the dummy move played in them.
        boards.cells[over], boards.to_move[over] = saved_cells[over], saved_turn[over]
        ended = done & ~over
        result[ended & won & (seat == learner)] = 1
        result[ended & won & (seat != learner)] = -1
        over |= ended
    return {
        "win_rate": float((result == 1).mean()),
        "loss_rate": float((result == -1).mean()),
        "wins_missed": wins_missed / max(wins_seen, 1),
        "wins_seen": wins_seen,
        "blocks_missed": blocks_missed / max(blocks_seen, 1),
        "blocks_seen": blocks_seen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="+", type=Path)
    parser.add_argument("--games", type=int, default=400)
    args = parser.parse_args()
    print("| package | vs random win | loss | immediate wins missed | blocks missed |")
    print("| --- | --- | --- | --- | --- |")
    for package in args.packages:
        t = tactics(package, args.games)
        print(
            f"| {package.name} | {t['win_rate']:.3f} | {t['loss_rate']:.3f} "
            f"| {t['wins_missed']:.0%} of {t['wins_seen']} | "
            f"{t['blocks_missed']:.0%} of {t['blocks_seen']} |"
        )


if __name__ == "__main__":
    main()
