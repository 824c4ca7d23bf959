"""A tournament run as its format saw it: Swiss rounds, a knockout bracket, ladder rounds.

No scoring is re-implemented here. Points are the formats' own
(:func:`tournaments.formats.base.points`), Swiss points after each round and the
final order are :meth:`Swiss.standings` over the games of the rounds so far, and
the bracket's seeds and champion are :meth:`Knockout.bracket`'s. Each call gets
the ratings the runner would have passed at that moment: every entrant's rating
right after the last stored match of the rounds so far (``ratings_at``), which
is what the runner read when it drew the next round.

Input is the run's stored games (:class:`RunGame`): who sat where, the ranks,
keyed as the format keys its games.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from arena.errors import ArenaError
from tournaments.formats import Entrant, GameResult, GameSpec, Knockout, Ladder, Swiss
from tournaments.formats.base import Key, parse_key, pinned_pairs, points
from tournaments.formats.knockout import bracket_order

#: entrant index -> (mu, sigma) right after match ``match_id`` (0: before any match)
RatingsAt = Callable[[int], Mapping[int, tuple[float, float]]]

#: the words for Swiss' tie-break, as the standings table names it
SWISS_TIE_BREAK = "mu−3σ"


@dataclass(frozen=True)
class RunGame:
    """One stored game of a run."""

    key: str
    match_id: int
    entrants: tuple[int, ...]  # entrant indices in side order
    ranks: tuple[int, ...]  # one per side: 1 is best

    def result(self) -> GameResult:
        spec = GameSpec(key=self.key, round=0, entrants=self.entrants, seed_keys=())
        return GameResult(spec=spec, ranks=self.ranks)


@dataclass
class Pairing:
    """One board of a round: the two entrants (side 0 of the first game first), their points."""

    board: int
    first: int
    second: int
    first_points: float
    second_points: float
    games: int


@dataclass
class Round:
    """One round of a Swiss event or a ladder."""

    number: int
    pairings: list[Pairing]
    complete: bool  # every game of the round is stored
    byes: list[int] = field(default_factory=list)  # Swiss: a bye; ladder: sat the round out
    totals: dict[int, float] | None = None  # Swiss: points after the round (complete rounds)


@dataclass
class Standing:
    """A row of the Swiss standings."""

    rank: int
    entrant: int
    points: float
    byes: int
    rating: float  # mu - 3 sigma: the tie-break
    decided_by: str  # what put it below the row above: points, mu−3σ, file order ("" for #1)


@dataclass
class SwissTable:
    rounds: list[Round]
    standings: list[Standing]
    completed: int  # rounds complete
    total_rounds: int
    bye_points: int  # what a bye scores


def _entrants(
    n: int, ratings: Mapping[int, tuple[float, float]], start: tuple[float, float]
) -> list[Entrant]:
    return [Entrant(i, str(i), *ratings.get(i, start)) for i in range(n)]


def _by_round(games: Sequence[RunGame], fmt: str) -> dict[int, list[RunGame]]:
    rounds: dict[int, list[RunGame]] = defaultdict(list)
    for game in sorted(games, key=lambda g: g.key):
        rounds[parse_key(game.key, fmt).round].append(game)
    return dict(rounds)


def _pairings(games: Sequence[RunGame], fmt: str) -> list[Pairing]:
    """The boards of one round's games, with each entrant's points over the board's games."""
    boards = pinned_pairs([g.result() for g in games], fmt)
    score: dict[int, list[float]] = {board: [0.0, 0.0] for board in boards}
    count: dict[int, int] = dict.fromkeys(boards, 0)
    for game in games:
        board = parse_key(game.key, fmt).board
        first, _ = boards[board]
        pa, pb = points(game.result())
        a, _ = game.entrants
        mine, theirs = (pa, pb) if a == first else (pb, pa)
        score[board][0] += mine
        score[board][1] += theirs
        count[board] += 1
    return [
        Pairing(board, first, second, score[board][0], score[board][1], count[board])
        for board, (first, second) in sorted(boards.items())
    ]


def _complete(next_batch: list[GameSpec] | None, round_: int, fmt: str) -> bool:
    """Whether the format, given the rounds so far, has moved past ``round_``."""
    return next_batch is None or all(parse_key(g.key, fmt).round > round_ for g in next_batch)


def swiss_table(
    fmt: Swiss,
    n_entrants: int,
    games: Sequence[RunGame],
    ratings_at: RatingsAt,
    start: tuple[float, float],
) -> SwissTable:
    """Every round of a Swiss run and the standings after its last complete round.

    Raises:
        ArenaError: the games do not fit a Swiss run (keys, seating).
    """
    rounds = _by_round(games, fmt.name)
    total = fmt.total_rounds(n_entrants)
    done: list[RunGame] = []
    table: list[Round] = []
    byes: dict[int, int] = dict.fromkeys(range(n_entrants), 0)
    last_entrants = _entrants(n_entrants, ratings_at(0), start)
    completed = 0
    for number in range(1, total + 1):
        mine = rounds.get(number, [])
        if not mine:
            break
        done += mine
        entrants = _entrants(n_entrants, ratings_at(max(g.match_id for g in done)), start)
        history = [g.result() for g in done]
        pairings = _pairings(mine, fmt.name)
        round_ = Round(
            number, pairings, _complete(fmt.next_games(entrants, history), number, fmt.name)
        )
        table.append(round_)
        if not round_.complete:
            break
        completed, last_entrants = number, entrants
        playing = {e for p in pairings for e in (p.first, p.second)}
        round_.byes = [e for e in range(n_entrants) if e not in playing]
        for e in round_.byes:
            byes[e] += 1
        round_.totals = dict(fmt.standings(entrants, history))
    complete_games = [g for g in done if parse_key(g.key, fmt.name).round <= completed]
    order = fmt.standings(last_entrants, [g.result() for g in complete_games])
    rating = {e.index: e.score for e in last_entrants}
    standings: list[Standing] = []
    for rank, (entrant, score) in enumerate(order, 1):
        if not standings:
            why = ""
        elif standings[-1].points != score:
            why = "points"
        elif standings[-1].rating != rating[entrant]:
            why = SWISS_TIE_BREAK
        else:
            why = "file order"
        standings.append(Standing(rank, entrant, score, byes[entrant], rating[entrant], why))
    return SwissTable(table, standings, completed, total, fmt.games_per_pairing)


def ladder_rounds(
    fmt: Ladder,
    n_entrants: int,
    games: Sequence[RunGame],
    ratings_at: RatingsAt,
    start: tuple[float, float],
) -> list[Round]:
    """Every round of a ladder run: its pairings with points, and who sat it out."""
    rounds = _by_round(games, fmt.name)
    done: list[RunGame] = []
    table = []
    for number in sorted(rounds):
        mine = rounds[number]
        done += mine
        entrants = _entrants(n_entrants, ratings_at(max(g.match_id for g in done)), start)
        pairings = _pairings(mine, fmt.name)
        batch = fmt.next_games(entrants, [g.result() for g in done])
        round_ = Round(number, pairings, _complete(batch, number, fmt.name))
        if round_.complete:
            playing = {e for p in pairings for e in (p.first, p.second)}
            round_.byes = [e for e in range(n_entrants) if e not in playing]
        table.append(round_)
    return table


@dataclass
class Tie:
    """One tie of a knockout bracket."""

    round: int
    slot: int
    high: int | None  # the higher seed (None: an empty line, so the other has a bye)
    low: int | None
    high_points: float = 0.0
    low_points: float = 0.0
    games: int = 0
    tiebreaks: int = 0  # tie-breaks of two games played
    winner: int | None = None  # None: not decided yet

    @property
    def bye(self) -> bool:
        return self.high is None or self.low is None


@dataclass
class Bracket:
    rounds: list[list[Tie]]  # drawn rounds, in order (a later round appears once drawn)
    total_rounds: int
    seeds: dict[int, int]  # entrant -> seed (1 = best)
    champion: int | None


def knockout_bracket(
    fmt: Knockout,
    n_entrants: int,
    games: Sequence[RunGame],
    ratings_at: RatingsAt,
    start: tuple[float, float],
) -> Bracket:
    """The bracket of a knockout run: its ties round by round, with points and winners."""
    last = max((g.match_id for g in games), default=0)
    entrants = _entrants(n_entrants, ratings_at(last), start)
    history = [g.result() for g in games]
    drawn = fmt.bracket(entrants, history)
    total = math.ceil(math.log2(n_entrants))
    by_seed = {seed: e for e, seed in drawn.seeds.items()}
    lines: list[int | None] = [by_seed.get(seed) for seed in bracket_order(2**total)]
    keyed = [(parse_key(g.key, fmt.name), g) for g in games]
    batch = [(parse_key(g.key, fmt.name), g) for g in drawn.games or []]
    rounds: list[list[Tie]] = []
    for number in range(1, total + 1):
        ties = []
        for slot in range(len(lines) // 2):
            a, b = lines[2 * slot], lines[2 * slot + 1]
            if a is None or b is None:
                ties.append(
                    Tie(number, slot, a if b is None else b, None, winner=a if b is None else b)
                )
                continue
            high, low = (a, b) if drawn.seeds[a] < drawn.seeds[b] else (b, a)
            tie = Tie(number, slot, high, low)
            for key, game in keyed:
                if (key.round, key.board) != (number, slot):
                    continue
                pa, pb = points(game.result())
                first, _ = game.entrants
                tie.high_points += pa if first == high else pb
                tie.low_points += pb if first == high else pa
                tie.games += 1
                tie.tiebreaks = max(tie.tiebreaks, key.tiebreak)
            tie.winner = _winner(tie, number, total, keyed, batch, drawn.champion)
            ties.append(tie)
        rounds.append(ties)
        if any(t.winner is None for t in ties):
            break
        lines = [t.winner for t in ties]
    return Bracket(rounds, total, dict(drawn.seeds), drawn.champion)


def _winner(
    tie: Tie,
    number: int,
    total: int,
    keyed: list[tuple[Key, RunGame]],
    batch: list[tuple[Key, GameSpec]],
    champion: int | None,
) -> int | None:
    """Who the format sent on: the one of the tie seated in the next round (or the champion)."""
    if number == total:
        return champion
    seated = [g.entrants for k, g in keyed if (k.round, k.board) == (number + 1, tie.slot // 2)]
    seated += [g.entrants for k, g in batch if (k.round, k.board) == (number + 1, tie.slot // 2)]
    onward = {e for entrants in seated for e in entrants}
    found = [e for e in (tie.high, tie.low) if e in onward]
    return found[0] if len(found) == 1 else None


def check_fits(fmt: str, games: Sequence[RunGame]) -> None:
    """Raise ArenaError unless every game is a two-player game keyed as ``fmt`` keys games."""
    for game in games:
        parse_key(game.key, fmt)
        if len(game.entrants) != 2 or len(game.ranks) != 2:
            raise ArenaError(f"game {game.key} is not a two-player game")
