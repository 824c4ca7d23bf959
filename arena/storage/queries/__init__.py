"""The read side of storage: the SQL and the row shapes, no business logic.

Each function takes a :data:`~arena.storage.queries.connection.Bind` (an engine,
or a connection when several reads must see one snapshot) and returns plain
typed rows. Ratings maths, ranking and presentation stay with the callers
(``tournaments/leaderboard.py``, ``tournaments/report/data.py``,
``tournaments/status.py``, ``arena/human.py``, ``arena/replay.py``).

- :mod:`.agents`: agent versions and agent names.
- :mod:`.ratings`: stored ratings and their history.
- :mod:`.seats`: the seats of matches (outcomes, ranks, rewards, forfeits).
- :mod:`.matches`: one match with what replays it, and the match list.
- :mod:`.tournaments`: tournaments, their runs and the runs' progress.

The recorder (:mod:`arena.storage.recorder`) is the write side.
"""
