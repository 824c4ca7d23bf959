"""relabel gives a match the series' labels: seats and captured output alike."""

from __future__ import annotations

from arena.result import MatchResult
from arena.series import relabel


def test_output_follows_its_agent_when_seats_swap() -> None:
    # Game 2 of a series of twins: play_match labelled the seats in its own order
    # ("c4", "c4#2"); in the series the agent on side 0 is the second entrant.
    result = MatchResult(
        env_id="connect_four_v3",
        env_version="1",
        seed=0,
        agents=[],
        labels=["c4", "c4#2"],
        seats=[],
        side_ranks=[1, 2],
        outputs={"c4": "printed by side 0", "c4#2": "printed by side 1", "(arena)": "note"},
    )
    relabel(result, ["c4#2", "c4"])
    assert result.labels == ["c4#2", "c4"]
    assert result.outputs == {
        "c4#2": "printed by side 0",
        "c4": "printed by side 1",
        "(arena)": "note",
    }
