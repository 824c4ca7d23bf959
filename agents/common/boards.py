"""Many tic-tac-toe or connect-four games stepped in lockstep with NumPy.

Self-play spends most of its time moving pieces, and PettingZoo's AEC loop
moves one piece of one game per Python call. These boards hold ``n`` games in
one array and play one move in each per :meth:`Boards.step`, so a trainer can
act for all of them with one batched forward pass.

They reproduce PettingZoo 1.27 exactly (``tests/unit/test_boards.py`` plays
random games side by side and compares every observation, mask and reward):

- cells hold 0 (empty), 1 (the first seat's pieces) or 2 (the second seat's),
  flattened row-major: tic-tac-toe action ``a`` is cell ``a``; connect-four
  action ``c`` drops a piece in column ``c``, landing on the lowest empty row
  (row 0 is the top);
- the observation of the seat to move is ``(rows, cols, 2)`` int8: plane 0 its
  own pieces, plane 1 the opponent's;
- the action mask is 1 for legal moves (empty cells; columns whose top cell is
  empty);
- a win pays +1 to the mover and -1 to the other seat; a full board without a
  line is a draw (0, 0).
"""

from __future__ import annotations

import numpy as np

# Tic-tac-toe lines as flat cell indices.
_TTT_LINES = np.array(
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]]
)


def _c4_wins(pieces: np.ndarray) -> np.ndarray:
    """``pieces`` (n, 6, 7) bool → (n,) True where some four-in-a-row exists."""
    p = pieces
    h = p[:, :, :-3] & p[:, :, 1:-2] & p[:, :, 2:-1] & p[:, :, 3:]
    v = p[:, :-3, :] & p[:, 1:-2, :] & p[:, 2:-1, :] & p[:, 3:, :]
    d = p[:, :-3, :-3] & p[:, 1:-2, 1:-2] & p[:, 2:-1, 2:-1] & p[:, 3:, 3:]
    a = p[:, 3:, :-3] & p[:, 2:-1, 1:-2] & p[:, 1:-2, 2:-1] & p[:, :-3, 3:]
    return np.asarray(h.any((1, 2)) | v.any((1, 2)) | d.any((1, 2)) | a.any((1, 2)))


def _ttt_wins(pieces: np.ndarray) -> np.ndarray:
    """``pieces`` (n, 3, 3) bool → (n,) True where some line is complete."""
    flat = pieces.reshape(len(pieces), 9)
    return np.asarray(flat[:, _TTT_LINES].all(-1).any(-1))


class Boards:
    """``n`` games of one env in lockstep.

    Args:
        env_id: ``tictactoe_v3`` or ``connect_four_v3``.
        n: number of games.

    Attributes:
        cells: (n, rows*cols) int8, 0 empty, 1 first seat, 2 second seat.
        to_move: (n,) int8 seat index (0 or 1) of the player to move.
    """

    def __init__(self, env_id: str, n: int) -> None:
        if env_id == "connect_four_v3":
            self.rows, self.cols, self.n_actions = 6, 7, 7
        elif env_id == "tictactoe_v3":
            self.rows, self.cols, self.n_actions = 3, 3, 9
        else:
            raise ValueError(f"no fast board for '{env_id}'")
        self.env_id = env_id
        self.n = n
        self.cells = np.zeros((n, self.rows * self.cols), dtype=np.int8)
        self.to_move = np.zeros(n, dtype=np.int8)
        self._all = np.arange(n)

    @property
    def obs_shape(self) -> tuple[int, int, int]:
        return (self.rows, self.cols, 2)

    def reset(self, games: np.ndarray | None = None) -> None:
        """Empty the given games (all when None); the first seat moves first."""
        idx = self._all if games is None else games
        self.cells[idx] = 0
        self.to_move[idx] = 0

    def observe(self) -> tuple[np.ndarray, np.ndarray]:
        """Observation (n, rows, cols, 2) int8 and mask (n, actions) bool of the seat to move."""
        own = (self.cells == (self.to_move[:, None] + 1)).astype(np.int8)
        opp = (self.cells == (2 - self.to_move[:, None])).astype(np.int8)
        obs = np.stack([own, opp], axis=-1).reshape(self.n, self.rows, self.cols, 2)
        return obs, self.legal()

    def legal(self) -> np.ndarray:
        """(n, actions) bool: empty cells, or columns with an empty top cell."""
        return self.cells[:, : self.n_actions] == 0 if self.is_c4 else self.cells == 0

    @property
    def is_c4(self) -> bool:
        return self.env_id == "connect_four_v3"

    def _target_cells(self, actions: np.ndarray) -> np.ndarray:
        """Flat cell that each (legal) action fills."""
        if not self.is_c4:
            return actions
        column = self.cells.reshape(self.n, self.rows, self.cols)[self._all, :, actions]
        filled = (column != 0).sum(1)  # pieces stack from the bottom row up
        return (self.rows - 1 - filled) * self.cols + actions

    def _wins(self, pieces: np.ndarray) -> np.ndarray:
        shaped = pieces.reshape(len(pieces), self.rows, self.cols)
        return _c4_wins(shaped) if self.is_c4 else _ttt_wins(shaped)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Play ``actions`` (n,) in every game (all must be legal).

        Returns:
            ``(done, won)``, both (n,) bool: the game ended; the mover won it.
            Ended games keep their final position until :meth:`reset`.
        """
        cells = self._target_cells(actions)
        piece = self.to_move + 1
        self.cells[self._all, cells] = piece
        won = self._wins(self.cells == piece[:, None])
        full = (self.cells != 0).all(1)
        self.to_move = (1 - self.to_move).astype(np.int8)
        return won | full, won

    def mirror(
        self, obs: np.ndarray, actions: np.ndarray, masks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The left-right mirror image of observations (k, rows, cols, 2), actions and masks.

        Both games are symmetric under this reflection, so a mirrored transition
        is as real as the one played (free data for the learner).
        """
        flipped = obs[:, :, ::-1, :]
        if self.is_c4:
            return flipped, self.cols - 1 - actions, masks[:, ::-1]
        row, col = np.divmod(actions, self.cols)
        grid = masks.reshape(len(masks), self.rows, self.cols)[:, :, ::-1]
        return flipped, row * self.cols + (self.cols - 1 - col), grid.reshape(len(masks), -1)

    def winning_moves(self, seat_of: np.ndarray) -> np.ndarray:
        """(n, actions) bool: legal moves that would complete a line for seat ``seat_of``."""
        legal = self.legal()
        out = np.zeros_like(legal)
        piece = (seat_of + 1).astype(np.int8)
        for a in range(self.n_actions):
            ok = legal[:, a]
            if not ok.any():
                continue
            trial = self.cells.copy()
            trial[self._all, self._target_cells(np.full(self.n, a))] = piece
            out[:, a] = ok & self._wins(trial == piece[:, None])
        return out

    def one_ply_actions(self, rng: np.random.Generator) -> np.ndarray:
        """The built-in one-ply player's choice in every game, vectorised.

        Same rule as ``agents.one_ply``: win now if possible, else block the
        opponent's immediate win, else a uniformly random legal move.
        """
        legal = self.legal()
        wins = self.winning_moves(self.to_move)
        blocks = self.winning_moves(1 - self.to_move)
        choice = np.where(
            wins.any(1, keepdims=True), wins, np.where(blocks.any(1, keepdims=True), blocks, legal)
        )
        return random_choice(choice, rng)


def random_choice(allowed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random True column per row of ``allowed`` (n, k) bool."""
    scores = (rng.random(allowed.shape) + 1e-6) * allowed
    return scores.argmax(1)
