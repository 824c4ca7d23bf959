"""The static HTML report (``arena report``): leaderboards, Human vs AI, plots, replays."""

from tournaments.report.site import ReportSummary, write_report

__all__ = ["ReportSummary", "write_report"]
