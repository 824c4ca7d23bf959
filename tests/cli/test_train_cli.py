"""``arena train``: bad input is one line naming the file, key or flag, exit code 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from arena.cli import app

runner = CliRunner()


def _train(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["train", *args])
    return result.exit_code, result.stderr if result.exit_code else result.stdout


def test_unknown_algorithm_lists_the_choices(tmp_path: Path) -> None:
    code, err = _train(
        "q-lerning", "--env", "tictactoe_v3", "--steps", "10", "--out", str(tmp_path / "o")
    )
    assert code == 1
    assert err.startswith(
        "error: unknown algorithm 'q-lerning' (choose from: a2c, ddpg, double-dqn,"
    )
    assert not (tmp_path / "o").exists()


def test_unknown_config_key_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "hp.toml"
    config.write_text("alpha = 0.3\nepsilon_ned = 0.1\n")
    out = tmp_path / "o"
    code, err = _train(
        "q-learning", "--env", "tictactoe_v3", "--steps", "10", "--out", str(out),
        "--config", str(config),
    )  # fmt: skip
    assert code == 1
    assert err.startswith(f"error: {config}: unknown key 'epsilon_ned' (known keys: alpha,")
    assert err.count("\n") == 1
    assert not out.exists()  # nothing half-written


def test_wrong_config_type_and_bad_toml(tmp_path: Path) -> None:
    config = tmp_path / "hp.toml"
    config.write_text('alpha = "fast"\n')
    args = ["q-learning", "--env", "tictactoe_v3", "--steps", "10", "--out", str(tmp_path / "o")]
    code, err = _train(*args, "--config", str(config))
    assert (code, err) == (1, f"error: {config}: key 'alpha': expected float, got 'fast'\n")
    config.write_text("alpha = \n")
    code, err = _train(*args, "--config", str(config))
    assert code == 1 and err.startswith(f"error: {config}: invalid TOML:")


def test_env_the_algorithm_cannot_train_on(tmp_path: Path) -> None:
    code, err = _train("sarsa", "--env", "chess_v6", "--steps", "10", "--out", str(tmp_path / "o"))
    assert (code, err) == (
        1,
        "error: sarsa cannot train on chess_v6: its observations hold 7104 values; a table "
        "keyed by them would never fill (limit 128; try dqn)\n",
    )


def test_out_folder_must_be_new_unless_resuming(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["q-learning", "--env", "tictactoe_v3", "--steps", "10", "--out", str(out)]
    code, err = _train(*args)
    assert (code, err) == (
        1,
        f"error: --out {out} already exists and is not empty (choose a new folder)\n",
    )
    code, err = _train(*args, "--resume")
    assert (code, err) == (1, f"error: --resume: no checkpoint at {out}/training/checkpoint.pt\n")
    assert (out / "notes.txt").read_text() == "mine"


def test_bad_device_and_steps(tmp_path: Path) -> None:
    args = ["q-learning", "--env", "tictactoe_v3", "--out", str(tmp_path / "o")]
    assert _train(*args, "--steps", "0") == (1, "error: --steps must be positive (got 0)\n")
    code, err = _train(*args, "--steps", "5", "--device", "tpu")
    assert (code, err) == (1, "error: --device must be one of auto, cpu, cuda (got 'tpu')\n")


def test_resume_must_continue_the_same_algorithm(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, _ = _train("q-learning", "--env", "tictactoe_v3", "--steps", "2000", "--out", str(out),
                     "--no-progress")  # fmt: skip
    assert code == 0
    code, err = _train("sarsa", "--env", "tictactoe_v3", "--steps", "4000", "--out", str(out),
                       "--resume")  # fmt: skip
    assert (code, err) == (
        1,
        f"error: --resume: {out}/training/config.json was trained with algo 'q-learning', "
        "not 'sarsa'\n",
    )
