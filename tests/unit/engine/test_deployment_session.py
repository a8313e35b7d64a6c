"""Capital stages end to end: sessions against the Binance emulator, their gates measured
(with the live replay on the simulator), promotions recorded by who approved them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeloop.cli.main import main
from tradeloop.config import load_config
from tradeloop.core import ConfigError
from tradeloop.engine.deployment import promote, read_ledger, resolve_stage, stage_status
from tradeloop.engine.runner import RunResult, prepare_run
from tradeloop.testing import (
    DEFAULT_API_KEY,
    DEFAULT_SECRET,
    BinanceEmulatorConfig,
    start_binance_emulator,
)

pytest.importorskip("tradeloop.venues.ccxt")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
FLIPPER = ROOT / "examples" / "live" / "strategies" / "flipper.py"

CONFIG = """
[run]
name = "ladder"
starting_cash = "100000"
base_currency = "USDT"
output_dir = "{out}"

[connections.BINANCE]
kind = "ccxt"
exchange = "binance"
base_url = "{url}"
api_key_env = "BINANCE_API_KEY"
secret_env = "BINANCE_SECRET"

[[feeds]]
connection = "BINANCE"
instrument_id = "BTCUSDT.BINANCE"
kinds = ["trades", "quotes"]

[venue]
fidelity = "quotes"
commission = {{ kind = "bps", bps = 10.0 }}

[[strategies]]
class = "{flipper}:Flipper"
params = {{ instrument_id = "BTCUSDT.BINANCE", quantity = "0.001", every = 5 }}

[deployment]
stage = "paper"

[[deployment.stages]]
name = "paper"
live = false
fraction = 1.0
min_days = 0
max_drawdown = 0.2
max_tracking_error = 0.001

[[deployment.stages]]
name = "shadow"
live = false
fraction = 1.0
min_days = 5
max_slippage_gap_bps = 50

[[deployment.stages]]
name = "pilot"
live = true
fraction = 0.1
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with start_binance_emulator(BinanceEmulatorConfig()) as running:
        yield running.url


@pytest.fixture
def config(tmp_path: Path, emulator: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BINANCE_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("BINANCE_SECRET", DEFAULT_SECRET)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ladder.toml"
    path.write_text(CONFIG.format(out="runs", url=emulator, flipper=FLIPPER))
    return path


def _session(path: Path, mode: str) -> RunResult:
    from tradeloop.engine.session import run_session

    config = resolve_stage(load_config(path))
    return run_session(prepare_run(config, path.parent), mode, duration_s=4.0)


def _cli(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def test_a_deployment_walks_its_ladder_only_through_gates_that_hold(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    paper = _session(config, "paper")
    status = stage_status(paper.run_dir)
    assert (status.stage, status.next_stage, status.run_state) == ("paper", "shadow", "completed")
    gates = {gate.name: gate for gate in status.gates}
    assert set(gates) == {"min_days", "max_drawdown", "max_tracking_error"}
    assert all(gate.holds for gate in status.gates), status.gates
    # A paper session replays on the simulator as it ran: no tracking error to speak of.
    assert gates["max_tracking_error"].value is not None
    assert gates["max_tracking_error"].value < 1e-6

    code, output = _cli(["stage", "promote", str(paper.run_dir)], monkeypatch, capsys)
    assert code == 2
    assert "add --approve to record it" in output
    assert not (config.parent / "runs" / "deployments").exists()

    code, output = _cli(["stage", "status", str(paper.run_dir), "--json"], monkeypatch, capsys)
    assert code == 0, output
    assert json.loads(output)["ready"] is True

    code, output = _cli(
        ["stage", "promote", str(paper.run_dir), "--approve", "--by", "ana"], monkeypatch, capsys
    )
    assert code == 0, output
    assert "promoted paper → shadow, approved by ana" in output
    (promotion,) = read_ledger(config.parent / "runs" / "deployments" / "ladder.jsonl")
    assert (promotion.from_stage, promotion.to_stage, promotion.approved_by) == (
        "paper",
        "shadow",
        "ana",
    )
    assert [g.name for g in promotion.gates] == [g.name for g in status.gates]

    # The next session runs at the stage the ledger says; the config file is untouched.
    assert 'stage = "paper"' in config.read_text()
    shadow = _session(config, "shadow")
    status = stage_status(shadow.run_dir)
    assert status.stage == "shadow"
    gates = {gate.name: gate for gate in status.gates}
    assert gates["max_slippage_gap_bps"].holds
    assert not gates["min_days"].holds  # five days in shadow are not over
    with pytest.raises(ConfigError, match=r"cannot move to 'pilot': min_days: 0\.00 days"):
        promote(shadow.run_dir, approved_by="ana")
    assert len(read_ledger(config.parent / "runs" / "deployments" / "ladder.jsonl")) == 1
    # The paper run no longer speaks for the deployment.
    with pytest.raises(ConfigError, match="the deployment is at 'shadow' now"):
        stage_status(paper.run_dir)
    # And live stays closed at a simulated stage.
    with pytest.raises(ConfigError, match="stage 'shadow' does not trade real orders"):
        _session(config, "live")
