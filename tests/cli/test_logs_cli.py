"""``arena logs MATCH_ID [AGENT]``: what each agent printed, read back from the stored match."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from arena.cli import app
from arena.hosts import HostPool
from arena.limits import Limits
from arena.registry import builtin_agents, get_env
from arena.runner import play_match
from arena.sources import builtin_source
from arena.storage import connect
from arena.storage.recorder import Recorder

runner = CliRunner()
TALKER = """\
import sys

import numpy as np


class Agent:
    def __init__(self, ctx):
        self.seat, self.moves = ctx.agent_id, 0

    def reset(self, *, seed=None):
        print(f"reset {self.seat}")

    def act(self, obs, *, action_mask=None):
        self.moves += 1
        print(f"move {self.moves} to stderr \\x1b]0;pwned\\x07", file=sys.stderr)
        return int(np.flatnonzero(action_mask)[0])


def make_agent(ctx):
    return Agent(ctx)
"""


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def talker(tmp_path: Path) -> Path:
    pkg = tmp_path / "talker"
    pkg.mkdir()
    (pkg / "agent.toml").write_text(
        '[agent]\nname = "talker"\nversion = "1.0"\nentry = "talk:make_agent"\n'
        'envs = ["tictactoe_v3"]\n'
    )
    (pkg / "talk.py").write_text(TALKER)
    for path in (pkg, *pkg.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the sandbox's user reads it
    tmp_path.chmod(0o755)
    return pkg


def match_ids(*args: str) -> list[int]:
    code, out, err = arena("match", *args, "--json")
    assert code == 0, err
    return list(json.loads(out)["match_ids"])


def test_logs_print_each_agents_output_under_its_label_and_seat(tmp_path: Path) -> None:
    [match_id] = match_ids("tictactoe_v3", str(talker(tmp_path)), "random", "--seed", "1")
    code, out, err = arena("logs", str(match_id))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:3] == [
        f"match {match_id} (tictactoe_v3)",
        "== talker (player_1) ==",
        "reset player_1",
    ]
    moves = [line for line in lines if line.startswith("move ")]
    assert moves[0] == "move 1 to stderr ]0;pwned"  # cleaned: no escape reaches the terminal
    assert lines[-1] == "== random (player_2): printed nothing =="
    assert "\x1b" not in out and "\x07" not in out

    for who in ("talker", "talker@1.0"):
        code, out, err = arena("logs", str(match_id), who)
        assert code == 0, err
        assert out.splitlines()[:2] == [
            f"match {match_id} (tictactoe_v3)",
            "== talker (player_1) ==",
        ]
        assert "random" not in out

    code, out, err = arena("logs", str(match_id), "random")
    assert (code, out) == (
        0,
        f"match {match_id} (tictactoe_v3): random (player_2) printed nothing\n",
    )

    code, out, err = arena("logs", str(match_id), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["match_id"], data["env"], data["note"]) == (match_id, "tictactoe_v3", None)
    [mine, theirs] = data["agents"]
    assert {k: mine[k] for k in ("label", "agent", "version", "seats", "roles", "forfeit")} == {
        "label": "talker",
        "agent": "talker",
        "version": "1.0",
        "seats": ["player_1"],
        "roles": ["player"],
        "forfeit": None,
    }
    assert mine["output"].startswith("reset player_1\nmove 1 to stderr ]0;pwned\n")
    assert (theirs["label"], theirs["output"]) == ("random", "")


def test_a_match_with_no_output_says_so() -> None:
    [match_id] = match_ids("tictactoe_v3", "random", "random")
    code, out, err = arena("logs", str(match_id))
    assert (code, out, err) == (
        0,
        f"match {match_id} (tictactoe_v3): no agent printed anything\n",
        "",
    )


def test_a_team_agent_is_one_log_over_its_seats() -> None:
    [match_id] = match_ids("simple_tag_v3", "random", "random")
    code, out, err = arena("logs", str(match_id), "--json")
    assert code == 0, err
    seats = {a["label"]: a["seats"] for a in json.loads(out)["agents"]}
    assert seats == {
        "random": ["adversary_0", "adversary_1", "adversary_2"],
        "random#2": ["agent_0"],
    }


def test_unknown_match_or_agent_is_one_line_and_exit_1() -> None:
    [match_id] = match_ids("tictactoe_v3", "random", "one-ply")
    code, out, err = arena("logs", str(match_id), "nobody")
    assert (code, out, err) == (
        1,
        "",
        f"error: match {match_id} has no agent 'nobody' (its agents: random, one-ply)\n",
    )
    code, out, err = arena("logs", "999")
    assert (code, out, err) == (1, "", "error: no match with id 999 in the database\n")


def test_the_arenas_note_is_shown_apart_from_the_agents() -> None:
    spec = get_env("tictactoe_v3")
    random = builtin_source(builtin_agents()["random"])
    with HostPool(Limits()) as hosts:
        result = play_match(spec, [random, random], seed=0, hosts=hosts)
    result.actions.append(["player_1", float("nan")])  # an action log JSON cannot hold
    match_id = Recorder(connect()).record(result)
    code, out, err = arena("logs", str(match_id))
    assert code == 0, err
    assert out.splitlines() == [
        f"match {match_id} (tictactoe_v3): no agent printed anything",
        "== the arena's note on this match ==",
        "action log not stored: it holds a non-finite number (nan)",
    ]
