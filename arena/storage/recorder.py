"""The single writer: a match and its rating update land in one transaction.

Workers return :class:`~arena.result.MatchResult` objects; only the process that
owns a :class:`Recorder` writes. A match's rows, its participants, the rating
updates and their history commit together or not at all.

Every string a match carries (labels, error texts, outputs, strings in the
action log) is cleaned (:func:`~arena.textsafe.clean_text`) and cut to its
column's length before it is written, and the action log and the env's
keyword arguments are turned into plain JSON (numpy values unwrapped, tuples as
lists). One that cannot be (a NaN, an object of another type, nesting past 64
levels) is dropped and the match is stored without it, with a note under the
``"(arena)"`` key of its outputs. If the database still refuses a match's
content, it is stored once more with only its result (outcomes, ranks, ratings)
and the note; so one match's content never stops a tournament.

Role-asymmetric envs (two roles or more on two teams or more, as simple_tag)
are rated in duplicate pairs, never match by match: one match measures the
role as much as the agent. A match is stored unrated; when the other match of
its pair is stored, the pair is compared (:func:`arena.rating.compare_pair`)
and rated in the same transaction: the overall rating (role ``""``) from the
pair's overall result and each role's rating from its role contest, and both
matches turn ``rated`` and get the pair's ``duplicate_id``. A tournament names
the partner by its game key (``pair_key``); outside a run, a match pairs with
the previous one this recorder stored when it mirrors it (same env, seed and
env kwargs, the two versions' roles swapped), which is what ``arena match``
plays. A match that never gets its pair stays stored and unrated.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from arena.rating import (
    Contest,
    MuSigma,
    PairSeat,
    Rater,
    RatingSystem,
    asymmetric,
    compare_pair,
    contest_seats,
    is_rated,
    team_update,
)
from arena.result import AgentInfo, MatchResult
from arena.storage import models as m
from arena.storage.db import session_factory
from arena.storage.models import utcnow
from arena.textsafe import TEXT_LIMIT, clean_text

NOTE_KEY = "(arena)"  # the outputs key of the arena's own note (no agent or person has it)
_MAX_DEPTH = 64


def _length(column: Any) -> int | None:
    return getattr(column.type, "length", None)


_AGENT_NAME = _length(m.Agent.__table__.c.name)
_VERSION = {
    key: _length(m.AgentVersion.__table__.c[key])
    for key in ("version", "content_hash", "kind", "learning_type", "source")
}
_PARTICIPANT = {
    key: _length(m.Participant.__table__.c[key])
    for key in ("label", "seat", "role", "forfeit_reason")
}
_MATCH = {key: _length(m.Match.__table__.c[key]) for key in ("env_id", "env_version")}


def storable_text(value: Any, length: int | None = None) -> str:
    """``value`` as text any database stores: cleaned, and cut to ``length`` characters."""
    if type(value) is str and value.isprintable() and len(value) <= (length or TEXT_LIMIT):
        return value  # the common case: nothing to clean (isprintable is False for controls)
    text = clean_text(value)
    return text[:length] if length is not None else text


class Unstorable(ValueError):
    """A value that has no faithful JSON form."""


def plain_json(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON values: strings cleaned, numpy values and tuples unwrapped.

    Raises:
        Unstorable: a NaN or infinity, an object of another type, a key that is
            not a string, or nesting past 64 levels (a cycle).
    """
    kind = type(value)
    if kind is int or kind is bool or value is None:
        return value
    if kind is str:
        return storable_text(value)
    if kind is float:
        if not math.isfinite(value):
            raise Unstorable(f"a non-finite number ({value!r})")
        return value
    if depth >= _MAX_DEPTH:
        raise Unstorable(f"values nested deeper than {_MAX_DEPTH} levels")
    if kind is list or kind is tuple:
        return [plain_json(v, depth + 1) for v in value]
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise Unstorable(f"a key of type {type(key).__name__}")
            out[storable_text(key)] = plain_json(item, depth + 1)
        return out
    if hasattr(value, "dtype") and callable(getattr(value, "tolist", None)):
        return plain_json(value.tolist(), depth + 1)  # numpy scalars and arrays
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        return plain_json(float(value), depth)
    if isinstance(value, str):
        return storable_text(str(value))
    raise Unstorable(f"a value of type {type(value).__name__}")


def _note(notes: list[str], outputs: dict[str, str]) -> dict[str, str]:
    if notes:
        outputs = {**outputs, NOTE_KEY: "; ".join(notes)}
    return outputs


def _content_error(exc: BaseException) -> bool:
    """Whether the database (or its driver) refused a value, not the connection or the disk."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return True  # a bind processor (the JSON serializer, an encoder) failed
    return isinstance(exc, ValueError | TypeError | OverflowError)


def ensure_agent_version(session: Session, info: AgentInfo) -> m.AgentVersion:
    """Get or create the rows for an agent version (by content hash).

    Texts are stored cleaned and cut to their columns (a manifest's
    ``learning_type`` is free text).
    """
    found = session.scalar(
        select(m.AgentVersion).where(m.AgentVersion.content_hash == info.content_hash)
    )
    if found is not None:
        return found
    name = storable_text(info.name, _AGENT_NAME)
    kind = storable_text(info.kind, _VERSION["kind"])
    agent = session.scalar(select(m.Agent).where(m.Agent.name == name))
    if agent is None:
        agent = m.Agent(name=name, kind=kind)
        session.add(agent)
    version = m.AgentVersion(
        agent=agent,
        version=storable_text(info.version, _VERSION["version"]),
        content_hash=info.content_hash,  # the identity: arena-made, never altered
        kind=kind,
        learning_type=storable_text(info.learning_type, _VERSION["learning_type"]),
        source=storable_text(info.source, _VERSION["source"]),
        path=None if info.path is None else storable_text(info.path),
    )
    session.add(version)
    session.flush()
    return version


# Statements built once: constructing them per match cost more than running them.
_RATING = cast(Table, m.Rating.__table__)
_INSERT_MATCH = insert(m.Match)
_INSERT_PARTICIPANT = insert(m.Participant)
_INSERT_RATING = insert(_RATING)
_INSERT_HISTORY = insert(m.RatingHistory)
# FOR UPDATE keeps concurrent writers on PostgreSQL from losing an update; SQLite
# serialises writers itself and ignores it.
_SELECT_RATINGS = (
    select(_RATING)
    .where(
        _RATING.c.agent_version_id.in_(bindparam("vids", expanding=True)),
        _RATING.c.env_id == bindparam("env"),
        _RATING.c.role == bindparam("role"),
    )
    .with_for_update()
)
_UPDATE_RATING = (
    update(_RATING)
    .where(_RATING.c.id == bindparam("rid"))
    .values(
        mu=bindparam("new_mu"),
        sigma=bindparam("new_sigma"),
        games=bindparam("new_games"),
        wins=bindparam("new_wins"),
        draws=bindparam("new_draws"),
        losses=bindparam("new_losses"),
        forfeits=bindparam("new_forfeits"),
        updated_at=bindparam("now"),
    )
)
_MATCH_EXISTS = select(m.Match.id).where(
    m.Match.run_id == bindparam("run"), m.Match.game_key == bindparam("key")
)
_PAIR_SEATS = (
    select(
        m.Participant.match_id,
        m.Participant.agent_version_id,
        m.Participant.role,
        m.Participant.team,
        m.Participant.reward,
        m.Participant.forfeit_reason,
    )
    .where(m.Participant.match_id.in_(bindparam("ids", expanding=True)))
    .order_by(m.Participant.match_id, m.Participant.id)
)
_MARK_PAIR = (
    update(m.Match)
    .where(m.Match.id.in_(bindparam("ids", expanding=True)))
    .values(duplicate_id=bindparam("first"), rated=bindparam("is_rated"))
)
_BLANK_COUNTS = {"games": 0, "wins": 0, "draws": 0, "losses": 0, "forfeits": 0}


def _finite(x: float) -> float:
    """A NaN would reach SQLite as NULL (refused by NOT NULL): 0.0; infinities store as they are."""
    return 0.0 if x != x else x


def _error_text(error: str | None, bare: str | None) -> str | None:
    if error is None:
        return None
    return storable_text(error) if bare is None else f"not stored ({NOTE_KEY} output says why)"


def _ascii(text: str, bare: str | None, length: int | None) -> str:
    """Cleaned text; in a bare record, ASCII only (whatever the database refused is gone)."""
    if bare is not None:
        text = str(text).encode("ascii", "replace").decode()
    return storable_text(text, length)


class _Where(NamedTuple):
    """What places a match: its run and game key, the env it was played on, its pair."""

    run_id: int | None
    game_key: str | None
    env_kwargs: Mapping[str, Any]
    pair_key: str | None = None


class _Mirror(NamedTuple):
    """What an unpaired asymmetric match outside a run must share with its pair."""

    env_id: str
    seed: int
    env_kwargs: str
    players: dict[str, int]  # role -> agent version


def _mirror(result: MatchResult, version_ids: list[int], where: _Where) -> _Mirror:
    players: dict[str, int] = {}
    for seat in result.seats:
        players.setdefault(seat.role, version_ids[seat.side])
    return _Mirror(result.env_id, result.seed, repr(sorted(where.env_kwargs.items())), players)


def _mirrors(a: _Mirror, b: _Mirror) -> bool:
    """The same game with the same two versions, each role played by the other one."""
    return (
        a[:3] == b[:3]
        and a.players.keys() == b.players.keys()
        and set(a.players.values()) == set(b.players.values())
        and len(set(a.players.values())) == 2
        and all(a.players[role] != b.players[role] for role in a.players)
    )


class Recorder:
    """Writes matches and rating updates; the arena's only database writer.

    The hot path runs prepared SQLAlchemy Core statements on one connection, a
    handful per match in one transaction, so recording stays cheap next to
    playing (see ``bench/RESULTS.md``).
    """

    def __init__(self, engine: Engine, rater: Rater | None = None) -> None:
        """``rater``: TrueSkill with its default parameters (`RatingSystem`) if omitted."""
        self._engine = engine
        self._sessions = session_factory(engine)
        self._rater = rater if rater is not None else RatingSystem()
        self._version_ids: dict[str, int] = {}
        self._batch: tuple[int, float] | None = None
        self._conn: Connection | None = None
        self._pending = 0
        self._batch_deadline = 0.0
        # The last asymmetric match stored outside a run, waiting for its mirror.
        self._open_pair: tuple[int, _Mirror] | None = None

    def _version_ids_for(self, infos: Sequence[AgentInfo]) -> list[int]:
        missing = [i for i in infos if i.content_hash not in self._version_ids]
        if missing:
            with self._sessions.begin() as session:
                for info in missing:
                    if info.content_hash not in self._version_ids:
                        version = ensure_agent_version(session, info)
                        self._version_ids[info.content_hash] = version.id
        return [self._version_ids[i.content_hash] for i in infos]

    def record(
        self,
        result: MatchResult,
        *,
        run_id: int | None = None,
        game_key: str | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
        pair_key: str | None = None,
    ) -> int | None:
        """Store one match with its rating update; return the match id.

        ``env_kwargs``: what the match's env was built with (default none), stored
        on the match as plain JSON so a replay rebuilds the same env.

        ``pair_key``: in a run, the game key of the other match of this match's
        duplicate pair (role-asymmetric envs); once both are stored, the pair
        is rated (see the module docstring).

        A match whose ``(run_id, game_key)`` is already stored is not stored twice:
        the call returns None and changes nothing (a resumed run replaying a game).
        Inside :meth:`batch`, the match commits with the rest of its batch.
        """
        where = _Where(run_id, game_key, env_kwargs or {}, pair_key)
        if self._batch is not None and any(
            info.content_hash not in self._version_ids for info in result.agents
        ):
            # New agent versions are written on their own connection: commit the
            # open batch first, or SQLite would make that connection wait for it.
            self.flush()
        version_ids = self._version_ids_for(result.agents)
        if self._batch is not None:
            conn = self._batch_connection()
            match_id = self._record_new(conn, result, version_ids, where)
            self._pending += 1
            if self._pending >= self._batch[0] or time.monotonic() >= self._batch_deadline:
                self.flush()
            return match_id
        open_pair = self._open_pair
        try:
            try:
                with self._engine.begin() as conn:
                    return self._record_new(conn, result, version_ids, where)
            except BaseException:
                self._open_pair = open_pair  # a rolled-back match is nobody's pair
                raise
        except IntegrityError:
            # Another writer stored the same game first; the unique key kept it single.
            if run_id is None:
                raise
            return None
        except Exception as exc:
            if not _content_error(exc):
                raise
            # The database refused something the cleaning let through: store the
            # result alone (outcomes, ranks, ratings) with a note saying why.
            inner = getattr(exc, "orig", None) or exc  # not SQLAlchemy's SQL and parameters
            reason = " ".join(storable_text(f"{type(inner).__name__}: {inner}").split())[:300]
            note = f"match content refused by the database ({reason}); stored without it"
            with self._engine.begin() as conn:
                return self._record_new(conn, result, version_ids, where, bare=note)

    def _record_new(
        self,
        conn: Connection,
        result: MatchResult,
        version_ids: list[int],
        where: _Where,
        bare: str | None = None,
    ) -> int | None:
        if where.run_id is not None and conn.scalar(
            _MATCH_EXISTS, {"run": where.run_id, "key": where.game_key}
        ):
            return None
        match_id = self._record(conn, result, version_ids, where, bare)
        if asymmetric((s.role, s.team) for s in result.seats):
            self._pair(conn, result, match_id, version_ids, where)
        return match_id

    def _pair(
        self,
        conn: Connection,
        result: MatchResult,
        match_id: int,
        version_ids: list[int],
        where: _Where,
    ) -> None:
        """Rate the match's duplicate pair if the other match is stored (else wait for it)."""
        partner: int | None = None
        if where.run_id is not None:
            if where.pair_key is not None:
                partner = conn.scalar(_MATCH_EXISTS, {"run": where.run_id, "key": where.pair_key})
        else:
            mirror = _mirror(result, version_ids, where)
            if self._open_pair is not None and _mirrors(self._open_pair[1], mirror):
                partner, self._open_pair = self._open_pair[0], None
            else:
                self._open_pair = (match_id, mirror)
        if partner is not None:
            self._rate_pair(conn, result.env_id, min(partner, match_id), max(partner, match_id))

    def _rate_pair(self, conn: Connection, env: str, first: int, second: int) -> None:
        """Compare the pair's matches, mark them, and apply each contest to its role's ratings."""
        seats: dict[int, list[PairSeat]] = {first: [], second: []}
        for match_id, vid, role, team, reward, forfeit in conn.execute(
            _PAIR_SEATS, {"ids": [first, second]}
        ):
            seats[match_id].append(PairSeat(vid, role, team, reward, forfeit is not None))
        contests = compare_pair(seats[first], seats[second])
        conn.execute(
            _MARK_PAIR, {"ids": [first, second], "first": first, "is_rated": bool(contests)}
        )
        forfeited = {s.vid for s in (*seats[first], *seats[second]) if s.forfeit}
        for contest in contests:
            self._rate_contest(conn, env, contest, forfeited, second)

    def _rate_contest(
        self, conn: Connection, env: str, contest: Contest, forfeited: set[int], match_id: int
    ) -> None:
        """One contest as a 1 vs 1 game in its role's ratings (overall for role "")."""
        vids = [contest.a, contest.b]
        rows = self._rating_rows(conn, vids, env, contest.role)
        current = {vid: MuSigma(rows[vid].mu, rows[vid].sigma) for vid in vids}
        updated = team_update(self._rater, contest_seats(contest), current)
        outcome = {1.0: "win", 0.5: "draw", 0.0: "loss"}
        counts = {
            contest.a: {outcome[contest.score_a]: 1},
            contest.b: {outcome[1.0 - contest.score_a]: 1},
        }
        self._write_ratings(conn, rows, updated, counts, forfeited, match_id)

    @contextlib.contextmanager
    def batch(self, *, max_matches: int = 100, max_seconds: float = 0.5) -> Iterator[None]:
        """Commit matches in groups: fewer commits when a series records thousands.

        Each match still lands with its rating update in the same transaction; a
        crash loses at most the open batch, never half a match.
        """
        self._batch = (max_matches, max_seconds)
        try:
            yield
            self.flush()
        finally:
            if self._conn is not None:  # an exception left the batch open: drop it
                self._conn.rollback()
                self._conn.close()
                self._conn = None
            self._batch = None

    def _batch_connection(self) -> Connection:
        if self._conn is None:
            assert self._batch is not None
            self._conn = self._engine.connect()
            self._conn.begin()
            self._batch_deadline = time.monotonic() + self._batch[1]
            self._pending = 0
        return self._conn

    def flush(self) -> None:
        """Commit the open batch, if any."""
        if self._conn is not None:
            self._conn.commit()
            self._conn.close()
            self._conn = None
            self._pending = 0

    def _record(
        self,
        conn: Connection,
        result: MatchResult,
        version_ids: list[int],
        where: _Where,
        bare: str | None = None,
    ) -> int:
        """Insert the rows; with ``bare`` (a note), the result alone and the note."""
        # A role-asymmetric match is rated with its pair (_pair), never alone.
        rated = is_rated([(version_ids[s.side], s.team) for s in result.seats]) and not asymmetric(
            (s.role, s.team) for s in result.seats
        )
        notes: list[str] = []
        env_kwargs: dict[str, Any] = {}
        if bare is not None:
            actions: list[Any] = []
            outputs = _note([bare], {})
        else:
            try:
                actions = plain_json(result.actions)
            except (Unstorable, RecursionError) as exc:
                actions = []
                notes.append(f"action log not stored: it holds {exc}")
            try:
                env_kwargs = plain_json(dict(where.env_kwargs))
            except (Unstorable, RecursionError) as exc:
                notes.append(f"env kwargs not stored: they hold {exc}")
            outputs = _note(
                notes,
                {
                    storable_text(label, _PARTICIPANT["label"]): storable_text(text)
                    for label, text in (result.outputs or {}).items()
                },
            )
        match = {
            "run_id": where.run_id,
            "game_key": where.game_key,
            "env_id": storable_text(result.env_id, _MATCH["env_id"]),
            "env_version": storable_text(result.env_version, _MATCH["env_version"]),
            "seed": result.seed,
            "steps": result.steps,
            "duration_s": _finite(result.duration_s),
            "rated": rated,
            "actions": actions,
            "env_kwargs": env_kwargs,
            "outputs": outputs,
            "created_at": utcnow(),
        }
        key = conn.execute(_INSERT_MATCH, match).inserted_primary_key
        assert key is not None
        match_id = int(key[0])
        outcomes = [result.outcome(i) for i in range(len(result.agents))]
        participants = [
            {
                "match_id": match_id,
                "agent_version_id": version_ids[seat.side],
                "slot": seat.side,
                "label": _ascii(seat.label, bare, _PARTICIPANT["label"]),
                "seat": _ascii(seat.seat, bare, _PARTICIPANT["seat"]),
                "role": _ascii(seat.role, bare, _PARTICIPANT["role"]),
                "team": seat.team,
                "reward": _finite(seat.reward),
                "rank": seat.rank,
                "outcome": outcomes[seat.side],
                "forfeit_reason": None
                if seat.forfeit is None
                else _ascii(seat.forfeit, bare, _PARTICIPANT["forfeit_reason"]),
                "error_text": _error_text(seat.error, bare),
            }
            for seat in result.seats
        ]
        conn.execute(_INSERT_PARTICIPANT, participants)
        if rated:
            self._rate(conn, result, match_id, version_ids, outcomes)
        return match_id

    def _rate(
        self,
        conn: Connection,
        result: MatchResult,
        match_id: int,
        version_ids: list[int],
        outcomes: list[str],
    ) -> None:
        vids = list(dict.fromkeys(version_ids))
        rows = self._rating_rows(conn, vids, result.env_id, "")
        seats = [(version_ids[s.side], s.team, s.rank) for s in result.seats]
        current = {vid: MuSigma(rows[vid].mu, rows[vid].sigma) for vid in vids}
        updated = team_update(self._rater, seats, current)

        counts = {vid: {"win": 0, "draw": 0, "loss": 0} for vid in vids}
        for slot, vid in enumerate(version_ids):
            counts[vid][outcomes[slot]] += 1
        forfeited = {version_ids[s.side] for s in result.seats if s.forfeit}
        self._write_ratings(conn, rows, updated, counts, forfeited, match_id)

    def _rating_rows(
        self, conn: Connection, vids: list[int], env: str, role: str
    ) -> dict[int, Any]:
        """The rating rows of ``vids`` in ``env`` and ``role``, created at the initial rating."""
        where = {"vids": vids, "env": env, "role": role}
        rows = {r.agent_version_id: r for r in conn.execute(_SELECT_RATINGS, where)}
        fresh = [vid for vid in vids if vid not in rows]
        if fresh:
            start, now = self._rater.initial(), utcnow()
            conn.execute(
                _INSERT_RATING,
                [
                    {
                        "agent_version_id": vid,
                        "env_id": env,
                        "role": role,
                        "mu": start.mu,
                        "sigma": start.sigma,
                        "updated_at": now,
                        **_BLANK_COUNTS,
                    }
                    for vid in fresh
                ],
            )
            rows.update(
                (r.agent_version_id, r)
                for r in conn.execute(_SELECT_RATINGS, {**where, "vids": fresh})
            )
        return rows

    def _write_ratings(
        self,
        conn: Connection,
        rows: dict[int, Any],
        updated: dict[int, MuSigma],
        counts: dict[int, dict[str, int]],
        forfeited: set[int],
        match_id: int,
    ) -> None:
        """Store the new ratings, their game counts and their history point."""
        now = utcnow()
        conn.execute(
            _UPDATE_RATING,
            [
                {
                    "rid": rows[vid].id,
                    "new_mu": updated[vid].mu,
                    "new_sigma": updated[vid].sigma,
                    "new_games": rows[vid].games + sum(counts[vid].values()),
                    "new_wins": rows[vid].wins + counts[vid].get("win", 0),
                    "new_draws": rows[vid].draws + counts[vid].get("draw", 0),
                    "new_losses": rows[vid].losses + counts[vid].get("loss", 0),
                    "new_forfeits": rows[vid].forfeits + (vid in forfeited),
                    "now": now,
                }
                for vid in counts
            ],
        )
        history = [
            {
                "rating_id": rows[vid].id,
                "match_id": match_id,
                "mu": updated[vid].mu,
                "sigma": updated[vid].sigma,
            }
            for vid in counts
        ]
        conn.execute(_INSERT_HISTORY, history)
