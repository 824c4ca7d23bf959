"""Every browser game of one server: started, found, capped and closed here.

Board and card games are :class:`server.games.WebGame`; MPE and Atari are
:class:`server.realtime.RealtimeGame`. One :class:`Games` per app
(:func:`server.play_api.games_of`), closed when the app shuts down.
"""

from __future__ import annotations

import itertools
import threading
from time import monotonic
from typing import Any

from sqlalchemy import Engine

from arena.errors import ArenaError
from arena.human import prepare_play, prepare_realtime, realtime_envs
from arena.limits import Limits
from server.access import RateLimiter
from server.games import NOWHERE, GameError, Seat, WebGame, opponent_text, person_name
from server.realtime import RealtimeGame
from server.settings import Settings
from server.users import UserInfo


class Games:
    """Every browser game of one server, by id."""

    def __init__(self, engine: Engine, settings: Settings, limits: Limits | None = None) -> None:
        self.engine, self.settings = engine, settings
        self.limits = limits or Limits()
        self._games: dict[int, WebGame] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        self._starts = RateLimiter(settings.games_per_hour, 3600.0)

    def _prune(self) -> None:
        now = monotonic()
        keep = self.settings.game_keep_s
        for game_id, game in list(self._games.items()):
            if game.finished_at is not None and now - game.finished_at > keep:
                del self._games[game_id]

    def start(self, user: UserInfo, env_id: str, opponent: str, seat: Seat) -> dict[str, Any]:
        """Start a game of ``user`` against ``opponent``; its state once the person is to move.

        Raises:
            GameError: 400 a bad env or opponent (the CLI's own message), 409 a
                person's name that cannot be used, 429 too many running games or
                too many started this hour, 503 the server is stopping.
        """
        text = opponent_text(opponent)
        try:
            name = person_name(user, self.engine)
        except ArenaError as exc:
            raise GameError(409, str(exc)) from None
        with self._lock:
            if self._closed:
                raise GameError(503, "the server is stopping")
            self._prune()
            running = [g for g in self._games.values() if not g.done]
            if sum(1 for g in running if g.user_id == user.id) >= self.settings.games_per_user:
                raise GameError(
                    429,
                    f"at most {self.settings.games_per_user} running games each; "
                    "finish one (or let it time out) first",
                )
            if len(running) >= self.settings.games_total:
                raise GameError(429, "the server is busy with other games; try again later")
            if not self._starts.allow(str(user.id)):
                raise GameError(
                    429,
                    f"at most {self.settings.games_per_hour} new games an hour each; "
                    "try again later",
                )
            realtime = env_id in realtime_envs()
            try:
                if realtime:
                    setup = prepare_realtime(
                        env_id, text, name, self.engine, first=seat == "first", base_dir=NOWHERE
                    )
                else:
                    setup = prepare_play(env_id, text, name, self.engine, base_dir=NOWHERE)
            except ArenaError as exc:
                raise GameError(400, str(exc)) from None
            kind = RealtimeGame if realtime else WebGame
            game = kind(next(self._ids), user, setup, seat, self.engine, self.settings, self.limits)
            self._games[game.id] = game
        return game.first_position()

    def get(self, game_id: int, user: UserInfo) -> WebGame:
        """The game, for its player and the organisers.

        Raises:
            GameError: 404 no such game, 403 someone else's.
        """
        with self._lock:
            game = self._games.get(game_id)
        if game is None:
            raise GameError(404, f"no game {game_id}")
        if game.user_id != user.id and not user.organiser:
            raise GameError(403, f"game {game_id} is not yours")
        return game

    def move(self, game_id: int, user: UserInfo, action: int) -> dict[str, Any]:
        with self._lock:
            game = self._games.get(game_id)
        if game is None:
            raise GameError(404, f"no game {game_id}")
        return game.move(user, action)

    def close(self) -> None:
        """End every running game unrecorded, close the opponents, join the threads."""
        with self._lock:
            self._closed = True
            games = list(self._games.values())
        for game in games:
            game.stop()
        for game in games:
            if game.thread.is_alive():
                game.thread.join(game.reply_wait_s())
