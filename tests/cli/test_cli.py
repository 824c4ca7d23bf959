"""The CLI through typer's CliRunner: exact messages, exit codes and JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import app
from tests.conftest import EXAMPLE_C4, ROOT

runner = CliRunner()


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    # The sandbox's one-time note about missing protections depends on the machine.
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def test_envs_json_lists_sides_and_roles() -> None:
    code, out, _ = arena("envs", "--json")
    assert code == 0
    rows = {r["env"]: r for r in json.loads(out)}
    assert {"tictactoe_v3", "connect_four_v3", "simple_tag_v3", "pong_v3"} <= set(rows)
    tag = rows["simple_tag_v3"]
    assert tag["roles"] == ["adversary", "agent"]
    assert [len(s["seats"]) for s in tag["sides"]] == [3, 1]
    assert rows["connect_four_v3"]["turn_based"] and rows["connect_four_v3"]["action_mask"]


def test_match_json_summary_and_stored(arena_home: Path) -> None:
    code, out, err = arena(
        "match", "connect_four_v3", "one-ply", "random", "--games", "10", "--seed", "3", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    summary = data["summary"]
    assert set(summary) == {"one-ply", "random"}
    for row in summary.values():
        assert set(row) >= {"wins", "draws", "losses", "forfeits", "mean_return"}
        assert row["wins"] + row["draws"] + row["losses"] == 10
    assert summary["one-ply"]["wins"] >= 8
    assert summary["one-ply"]["wins"] == summary["random"]["losses"]
    assert len(data["match_ids"]) == 10
    assert (arena_home / "arena.db").exists()


def test_same_agent_twice_gets_suffixed_label() -> None:
    code, out, _ = arena("match", "tictactoe_v3", "random", "random", "--games", "4", "--json")
    assert code == 0
    assert set(json.loads(out)["summary"]) == {"random", "random#2"}


def test_match_is_reproducible_from_its_seed() -> None:
    a = json.loads(
        arena(
            "match",
            "connect_four_v3",
            "random",
            "one-ply",
            "--games",
            "6",
            "--seed",
            "11",
            "--json",
            "--no-record",
        )[1]
    )
    b = json.loads(
        arena(
            "match",
            "connect_four_v3",
            "random",
            "one-ply",
            "--games",
            "6",
            "--seed",
            "11",
            "--json",
            "--no-record",
        )[1]
    )
    assert a["summary"] == b["summary"] and a["match_ids"] == b["match_ids"] == []


def test_team_match_on_simple_tag() -> None:
    code, out, err = arena("match", "simple_tag_v3", "random", "random", "--json")
    assert code == 0, err
    assert set(json.loads(out)["summary"]) == {"random", "random#2"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("match", "conect_four_v3", "random", "random"),
            "error: unknown env 'conect_four_v3' (run 'arena envs' for the list)\n",
        ),
        (
            ("match", "connect_four_v3", "random", "nobody"),
            "error: unknown agent 'nobody': not a built-in (heuristic, minimax, negamax-2, "
            "negamax-4, one-ply, random, tag-chaser), "
            "a package folder, or a submitted name[@version]\n",
        ),
        (
            ("match", "leduc_holdem_v4", "one-ply", "random"),
            "error: agent 'one-ply' does not declare env 'leduc_holdem_v4' "
            "(its envs: connect_four_v3, tictactoe_v3)\n",
        ),
        (
            ("match", "connect_four_v3", "random"),
            "error: connect_four_v3 needs 2 agents, one per side (player, player), got 1\n",
        ),
        (
            ("match", "connect_four_v3", "random", "random", "--games", "0"),
            "error: --games must be at least 1, got 0\n",
        ),
        (
            ("leaderboard", "--tournament", "nope"),
            "error: unknown tournament 'nope' (run 'arena leaderboard' for all ratings)\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: tuple[str, ...], message: str) -> None:
    code, out, err = arena(*args)
    assert (code, err) == (1, message)
    assert out == ""


def test_bad_input_writes_nothing(arena_home: Path) -> None:
    code, _, _ = arena("match", "connect_four_v3", "random", "nobody")
    assert code == 1
    assert not (arena_home / "arena.db").exists()


def _package(folder: Path, manifest: str, code: str) -> Path:
    folder.mkdir()
    (folder / "agent.toml").write_text(manifest)
    (folder / "mod.py").write_text(code)
    return folder


def test_manifest_typo_names_file_and_key(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path / "typo",
        '[agent]\nnmae="x"\nversion="1.0"\nentry="mod:make_agent"\nenvs=["connect_four_v3"]\n',
        "",
    )
    code, _, err = arena("match", "connect_four_v3", str(pkg), "random")
    assert code == 1
    assert err == (
        f"error: {pkg / 'agent.toml'}: [agent].nmae: unknown key (expected one of: name, "
        "version, entry, envs, kind, learning_type, description, authors, roles, "
        "python_requires, requires)\n"
    )


def test_import_failure_traceback_only_with_verbose(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path / "broken",
        '[agent]\nname="broken"\nversion="1.0"\nentry="mod:make_agent"\nenvs=["connect_four_v3"]\n',
        "raise ValueError('boom at import')\n",
    )
    code, _, err = arena("match", "connect_four_v3", str(pkg), "random")
    assert code == 1
    assert err == (
        f"error: agent 'broken' ({pkg}): importing 'mod' failed: ValueError: boom at import "
        "(run with -v for the traceback)\n"
    )
    code, _, err = arena("-v", "match", "connect_four_v3", str(pkg), "random")
    assert code == 1
    assert "Traceback (most recent call last)" in err and 'mod.py", line 1' in err


def test_agent_check_example_package() -> None:
    code, out, err = arena("agent", "check", str(EXAMPLE_C4), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["name"], report["version"], report["envs_checked"]) == (
        "c4-heuristic",
        "1.0.0",
        ["connect_four_v3"],
    )
    assert [s["role"] for s in report["smoke"]] == ["player", "player"]


def test_agent_check_reports_the_agents_error(tmp_path: Path) -> None:
    pkg = _package(
        tmp_path / "raiser",
        '[agent]\nname="raiser"\nversion="1.0"\nentry="mod:make_agent"\nenvs=["tictactoe_v3"]\n',
        "class A:\n    def reset(self, *, seed=None):\n        pass\n"
        "    def act(self, obs, *, action_mask=None):\n        raise KeyError('no move')\n"
        "def make_agent(ctx):\n    return A()\n",
    )
    code, _, err = arena("agent", "check", str(pkg))
    assert code == 1
    assert err == (
        "error: agent 'raiser' failed its smoke match on tictactoe_v3 as player "
        "(seat player_1): error: KeyError: 'no move'\n"
    )


def test_tournament_run_and_leaderboard_json(tmp_path: Path) -> None:
    toml = tmp_path / "t.toml"
    toml.write_text(
        '[tournament]\nname="cli-rr"\nenv="tictactoe_v3"\ngames_per_pairing=6\n'
        '[[entrants]]\nagent="random"\n[[entrants]]\nagent="one-ply"\n'
    )
    code, out, err = arena("tournament", "run", str(toml), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["name"], data["planned"], data["played"]) == ("cli-rr", 6, 6)
    code, out, _ = arena("leaderboard", "--env", "tictactoe_v3", "--json")
    rows = json.loads(out)
    keys = {
        "rank",
        "agent",
        "version",
        "kind",
        "mu",
        "sigma",
        "score",
        "games",
        "wins",
        "draws",
        "losses",
    }
    assert all(keys <= set(r) for r in rows)
    assert [r["rank"] for r in rows] == [1, 2]
    assert rows[0]["agent"] == "one-ply"
    assert rows[0]["games"] == 6


def test_demo_tournament_file_is_valid() -> None:
    from tournaments.config import load_tournament

    config = load_tournament(ROOT / "tournaments" / "demo.toml")
    assert config.env_id == "connect_four_v3" and len(config.entrants) == 3


def test_tournament_run_with_workers_then_status(tmp_path: Path) -> None:
    toml = tmp_path / "t.toml"
    toml.write_text(
        '[tournament]\nname="par"\nenv="tictactoe_v3"\ngames_per_pairing=4\n'
        '[[entrants]]\nagent="random"\n[[entrants]]\nagent="one-ply"\n'
    )
    code, out, err = arena("tournament", "run", str(toml), "--workers", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["played"] == 4
    code, out, _ = arena("tournament", "status", "par", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["run"], row["status"], row["played"], row["planned"]) == (1, "finished", 4, 4)
    code, _, err = arena("tournament", "status", "nope")
    assert (code, err) == (1, "error: unknown tournament 'nope' (run 'arena tournament status')\n")
    code, _, err = arena("tournament", "run", str(toml), "--backend", "spark")
    assert (code, err) == (1, "error: --backend: unknown backend 'spark' (expected: local, ray)\n")
