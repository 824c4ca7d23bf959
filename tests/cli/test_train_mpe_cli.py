"""``arena train maddpg|ddpg|masac|sac`` end to end: packages check, play both roles, resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import app

pytest.importorskip("torch")

runner = CliRunner()

TINY = """
n_envs = 4
learning_starts = 400
batch_size = 64
buffer_size = 5000
eval_episodes = 4
log_interval = 400
eval_interval = 800
checkpoint_interval = 800
"""


def arena(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    err = "".join(
        line for line in result.stderr.splitlines(keepends=True) if not line.startswith("sandbox:")
    )
    return result.exit_code, result.stdout, err


def train_tiny_spread(algo: str, tmp_path: Path, *extra: str) -> Path:
    """Train ``algo`` on simple_spread for 1,200 steps with the tiny config; the package."""
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "pkg"
    code, _, err = arena(
        "train", algo, "--env", "simple_spread_v3", "--steps", "1200",
        "--out", str(out), "--config", str(config), "--no-progress", *extra,
    )  # fmt: skip
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def tag_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tag")
    (root / "tiny.toml").write_text(TINY)
    out = root / "pkg"
    result = runner.invoke(
        app,
        [
            "train",
            "maddpg",
            "--env",
            "simple_tag_v3",
            "--steps",
            "1600",
            "--out",
            str(out),
            "--config",
            str(root / "tiny.toml"),
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_trained_package_passes_agent_check(tag_package: Path) -> None:
    code, out, err = arena("agent", "check", str(tag_package))
    assert code == 0, out + err
    assert out.startswith("ok: simple-tag-maddpg 1.0.0")
    manifest = (tag_package / "agent.toml").read_text()
    assert 'kind = "maddpg"' in manifest
    assert 'learning_type = "Actor-critic"' in manifest
    assert 'roles = ["adversary", "agent"]' in manifest
    assert 'entry = "actor_player:make_agent"' in manifest
    player = (tag_package / "actor_player.py").read_text()
    assert "import arena" not in player and "from arena" not in player
    assert "from agents" not in player
    meta = json.loads((tag_package / "policy.json").read_text())
    assert meta["seats"] == ["adversary_0", "adversary_1", "adversary_2", "agent_0"]


@pytest.mark.parametrize("order", ["package-predators", "package-prey"])
def test_package_plays_either_role_of_simple_tag(tag_package: Path, order: str) -> None:
    agents = [str(tag_package), "random"]
    if order == "package-prey":
        agents.reverse()
    code, out, err = arena("match", "simple_tag_v3", *agents, "--games", "2", "--json")
    assert code == 0, err
    summary = json.loads(out)["summary"]
    assert summary["simple-tag-maddpg"]["forfeits"] == {}
    assert (
        summary["simple-tag-maddpg"]["wins"]
        + summary["simple-tag-maddpg"]["losses"]
        + summary["simple-tag-maddpg"]["draws"]
        == 2
    )


def test_package_against_itself_fills_both_roles(tag_package: Path) -> None:
    code, out, err = arena(
        "match", "simple_tag_v3", str(tag_package), str(tag_package), "--json", "--no-record"
    )
    assert code == 0, err
    summary = json.loads(out)["summary"]
    assert set(summary) == {"simple-tag-maddpg", "simple-tag-maddpg#2"}
    assert all(row["forfeits"] == {} for row in summary.values())


def test_resume_continues_from_the_checkpoint(tag_package: Path, tmp_path: Path) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    # A copy, so the module's package stays as trained.
    import shutil

    out = tmp_path / "pkg"
    shutil.copytree(tag_package, out)
    code, _, err = arena(
        "train",
        "maddpg",
        "--env",
        "simple_tag_v3",
        "--steps",
        "2400",
        "--out",
        str(out),
        "--config",
        str(config),
        "--resume",
        "--no-progress",
    )
    assert code == 0, err
    with (out / "training" / "log.csv").open() as f:
        steps = [int(row["step"]) for row in csv.DictReader(f)]
    assert steps[:4] == [400, 800, 1200, 1600]  # the first run's rows are kept
    assert steps[-1] == 2400 and steps == sorted(steps)


@pytest.mark.parametrize("algo", ["masac", "sac", "ddpg"])
def test_other_algorithms_write_packages_that_check(algo: str, tmp_path: Path) -> None:
    out = train_tiny_spread(algo, tmp_path)
    code, out_text, err = arena("agent", "check", str(out))
    assert code == 0, out_text + err
    kind = "sac" if "sac" in algo else "maddpg"
    assert f'kind = "{kind}"' in (out / "agent.toml").read_text()


def test_config_error_is_one_line_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("lr = 0.1\n")
    code, _, err = arena(
        "train",
        "maddpg",
        "--env",
        "simple_spread_v3",
        "--steps",
        "100",
        "--out",
        str(tmp_path / "o"),
        "--config",
        str(config),
    )
    assert code == 1
    assert err.startswith(f"error: {config}: unknown key 'lr' (known keys: actor_lr, ")
    assert err.count("\n") == 1


def test_non_mpe_env_is_refused() -> None:
    code, _, err = arena("train", "masac", "--env", "tictactoe_v3", "--steps", "10", "--out", "x")
    assert code == 1
    assert err == (
        "error: masac cannot train on tictactoe_v3: masac trains on the MPE particle envs "
        "only (family 'mpe', got 'classic')\n"
    )


def test_crossplay_mixes_seats_of_one_team() -> None:
    code, out, err = arena(
        "crossplay", "simple_spread_v3", "random", "tag-chaser", "--games", "2", "--json"
    )
    # tag-chaser does not declare simple_spread: refused before anything is played.
    assert code == 1 and "does not declare env 'simple_spread_v3'" in err
    code, out, err = arena(
        "crossplay", "simple_spread_v3", "random", "random", "--games", "2", "--json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [r["lineup"] for r in rows[:2]] == ["A A A", "B B B"]
    assert len(rows) == 8 and sum(r["mixed"] for r in rows) == 6
    assert rows[0]["team_return"] == rows[1]["team_return"]  # same seeds, same agent
    assert rows[2]["seats"] == {"agent_0": "A", "agent_1": "A", "agent_2": "B"}


def test_crossplay_refuses_competitive_envs() -> None:
    code, _, err = arena("crossplay", "simple_tag_v3", "random", "random")
    assert code == 1
    assert err == (
        "error: cross-play mixes seats of one team; simple_tag_v3 has 2 teams "
        "(use arena match for competitive envs)\n"
    )


def test_leaderboard_shows_cooperative_team_return_with_interval() -> None:
    assert arena("match", "simple_spread_v3", "random", "--games", "4")[0] == 0
    code, out, err = arena("leaderboard", "--json", "--env", "simple_spread_v3")
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["agent"] == "random" and row["games"] == 4
    assert row["team_return_low"] < row["team_return"] < row["team_return_high"]
    assert row["team_return"] < -40  # random play on simple_spread
    code, out, _ = arena("leaderboard", "--env", "simple_spread_v3")
    assert "team return" in out


def test_tensorboard_scalars_match_the_csv(tmp_path: Path) -> None:
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    out = train_tiny_spread("maddpg", tmp_path, "--tensorboard")
    with (out / "training" / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    events = event_accumulator.EventAccumulator(str(out / "training" / "tensorboard"))
    events.Reload()
    logged = events.Tags()["scalars"]
    assert {"team_return", "eval_team_return", "steps_per_s"} <= set(logged)
    team = events.Scalars("eval_team_return")
    assert [e.step for e in team] == [int(r["step"]) for r in rows if r["eval_team_return"]]
    assert [round(e.value, 3) for e in team] == [
        round(float(r["eval_team_return"]), 3) for r in rows if r["eval_team_return"]
    ]
