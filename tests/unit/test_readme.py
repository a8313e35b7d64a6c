"""README.md stays true: its strategy example runs, its commands name things that exist."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import msgspec
import pytest

from tradeloop.config import load_config
from tradeloop.data import bundled
from tradeloop.engine.runner import prepare_run, run_backtest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _blocks(language: str, section: str) -> list[str]:
    text = README.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_the_strategy_example_runs_a_short_backtest(tmp_path: Path) -> None:
    (python,) = _blocks("python", "Writing a strategy")
    (toml,) = _blocks("toml", "Writing a strategy")
    (tmp_path / "my_strategies.py").write_text(python)
    # The README shows the [[strategies]] entry; a run also needs data and a place to write.
    config = tmp_path / "config.toml"
    config.write_text(
        f'[run]\nname = "readme"\noutput_dir = "{tmp_path / "runs"}"\n\n'
        '[[data]]\ndataset = "orcl_daily"\nstart = "2012-01-01"\nend = "2014-12-31"\n\n' + toml
    )
    prepared = prepare_run(load_config(config), config.parent)
    result = run_backtest(prepared)
    assert result.summary["fills"] > 5
    assert result.summary["orders_denied"] == 0
    assert result.summary["buys"] >= result.summary["sells"] > 0


def test_the_commands_name_existing_examples_and_datasets() -> None:
    (commands,) = _blocks("bash", "Commands")
    for line in commands.splitlines():
        words = shlex.split(line.split("#", 1)[0])
        if not words or words[0] != "tradeloop":
            continue
        for word in words:
            if word.endswith(".toml"):
                assert (ROOT / word).is_file(), word
        if "--replay" in words:
            assert words[words.index("--replay") + 1] in bundled.names()


def test_the_paper_command_replays_what_the_backtest_runs() -> None:
    from tradeloop.cli.main import _replace_data

    (commands,) = _blocks("bash", "Commands")
    (paper,) = [line for line in commands.splitlines() if line.startswith("tradeloop paper")]
    words = shlex.split(paper.split("#", 1)[0])
    config_path = ROOT / words[2]
    config = load_config(config_path)
    replayed = _replace_data(config, words[words.index("--replay") + 1], config_path.parent)
    assert msgspec.json.encode(replayed) == msgspec.json.encode(config)


# Lines of the Commands block left out of the pasted run: the same runs as others, only
# longer (the pipeline configs, the benchmarks).
_PASTE_SKIP = ("tradeloop backtest examples/pipeline", "tradeloop bench", "make bench")


@pytest.mark.slow
def test_the_commands_work_when_pasted_into_a_shell_after_make_demo(tmp_path: Path) -> None:
    # A user's checkout after `make demo`: the repository's files and environment; runs/ and
    # catalog/ are written here, in the working directory, as the README's commands do.
    venv = ROOT / ".venv"
    if not (venv / "bin" / "activate").is_file():
        pytest.skip("no .venv: make install has not run in this checkout")
    for name in ("examples", "tests", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    (commands,) = _blocks("bash", "Commands")
    lines = [
        line for line in commands.splitlines() if line.strip() and not line.startswith(_PASTE_SKIP)
    ]
    assert lines[0].startswith("source .venv/bin/activate")
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "DISPLAY")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # no tradeloop on it until the block says so
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "the journal follows the standard" in done.stdout
    assert "the journals are identical record for record" in done.stdout
    assert (tmp_path / "run.jsonl").is_file()


@pytest.mark.slow
def test_the_live_trading_commands_work_when_pasted(tmp_path: Path) -> None:
    # As written, with two changes a test needs: a free port instead of 8765 (another test
    # may hold it) and sessions of a few seconds instead of 30.
    import socket

    venv = ROOT / ".venv"
    if not (venv / "bin" / "activate").is_file():
        pytest.skip("no .venv: make install has not run in this checkout")
    for name in ("examples", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    (block,) = _blocks("bash", "Live trading on this machine")
    script = block.replace("8765", port).replace("--for 30s", "--for 4s")
    # the example configs point at 8765: the copies the session reads point at the free port
    live = tmp_path / "live"
    live.mkdir()
    (tmp_path / "examples").unlink()
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "live").symlink_to(live)
    (live / "strategies").symlink_to(ROOT / "examples" / "live" / "strategies")
    for config in (ROOT / "examples" / "live").glob("*.toml"):
        (live / config.name).write_text(config.read_text().replace("8765", port))
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert '[[instruments]]\nid = "BTCUSDT.BINANCE"' in done.stdout
    assert "O-" in done.stdout  # the venue's order log lists the node's client order ids
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert [r.split("-")[1] for r in runs].count("paper") >= 1
    assert any("-from-" in r for r in runs), (runs, done.stdout[-1500:])
