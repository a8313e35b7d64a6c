"""``tradeloop models train`` on an RL environment's config: a ``[[models]]`` entry of kind
``rl`` trains a policy and registers it (with the rl extra), which a backtest then serves;
an environment whose data runs past ``train_end`` is refused before any training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradeloop.cli.main import app

from .test_env import short_config  # noqa: F401 (fixture)


def rl_config(base: Path, folder: Path, train_end: str, params: str) -> Path:
    text = base.read_text().split("\n[[models]]")[0]
    text += (
        f'\n[[models]]\nname = "ppo-short"\nkind = "rl"\ntrain_end = "{train_end}"\n'
        f"seed = 3\nparams = {params}\n"
    )
    path = folder / "rl.toml"
    path.write_text(text)
    return path


def test_an_rl_model_whose_environment_runs_past_train_end_is_refused(
    short_config: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    config = rl_config(short_config, tmp_path, "2008-06-30", "{ timesteps = 64 }")
    result = CliRunner().invoke(app, ["models", "train", str(config)])
    assert result.exit_code != 0
    assert "outside the model's train_start/train_end" in result.output
    assert not (tmp_path / "store" / "models").exists()
    bad = rl_config(short_config, tmp_path, "2009-01-01", '{ algorithm = "SAC", timesteps = 64 }')
    result = CliRunner().invoke(app, ["models", "train", str(bad)])
    assert "params.algorithm 'SAC' is not one of PPO, A2C, DQN" in result.output


@pytest.mark.slow
def test_models_train_registers_a_policy_that_a_backtest_serves(
    short_config: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("stable_baselines3")
    monkeypatch.chdir(tmp_path)
    params = "{ timesteps = 128, n_steps = 64, batch_size = 32, n_epochs = 1, max_steps = 64 }"
    config = rl_config(short_config, tmp_path, "2009-01-01", params)
    result = CliRunner().invoke(app, ["models", "train", str(config), "--json"])
    assert result.exit_code == 0, result.output
    [card] = json.loads(result.stdout)
    assert (card["name"], card["version"], card["stage"], card["kind"]) == (
        "ppo-short",
        1,
        "staging",
        "rl",
    )
    assert card["metrics"]["episodes"] == 2.0  # two episodes truncated at 64 steps
    served = tmp_path / "served.toml"
    text = config.read_text().split("[[strategies]]")[0]
    served.write_text(
        text + '[[strategies]]\nclass = "tradeloop.rl:ServedPolicy"\nid = "policy"\n\n'
        '[strategies.params]\ninstrument_id = "ORCL.XNAS"\nmodel = "ppo-short"\n'
        'version = "staging"\n'
    )
    ran = CliRunner().invoke(app, ["backtest", str(served), "--json"])
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout.strip().splitlines()[-1])
    assert summary["strategies"]["policy"]["model_version"] == "1"
    assert summary["strategies"]["policy"]["decisions"] > 300
