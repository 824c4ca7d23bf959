"""Registers the tournament services the platform's CLI calls (``arena.plugins``)."""

from __future__ import annotations

from arena.registry import register_service


def register() -> None:
    """Offer the tournament runner, leaderboard, report and scheduler to ``arena``.

    Imports happen on first use so ``arena --help`` stays fast.
    """

    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.run import run_tournament

        return run_tournament(*args, **kwargs)

    def board(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.leaderboard import leaderboard

        return leaderboard(*args, **kwargs)

    def schedule(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.schedule import schedule_tournament

        return schedule_tournament(*args, **kwargs)

    def scheduler(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.schedule import run_scheduler

        return run_scheduler(*args, **kwargs)

    def status(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.status import tournament_status

        return tournament_status(*args, **kwargs)

    def report(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.report import write_report

        return write_report(*args, **kwargs)

    def crossplay(*args, **kwargs):  # type: ignore[no-untyped-def]
        from tournaments.crossplay import crossplay

        return crossplay(*args, **kwargs)

    register_service("report", report)
    register_service("crossplay", crossplay)
    register_service("tournament.status", status)
    register_service("tournament.run", run)
    register_service("leaderboard", board)
    register_service("tournament.schedule", schedule)
    register_service("scheduler.run", scheduler)
