"""The inspection commands: replay, explain, diff and report from the command line."""

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import typer
from typer.testing import CliRunner

from tradeloop.cli.inspect import register

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"

app = typer.Typer()
register(app)
runner = CliRunner()


def _helpers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_runs", DATA / "runs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _helpers().run_pipeline(tmp_path_factory.mktemp("cli"))


def test_replay_prints_one_json_state_per_instant(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app, ["replay", str(run.run_dir), "--at", "2010-09-01", "--at", "end", "--json"]
    )
    assert result.exit_code == 0, result.output
    states = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(states) == 2
    assert states[1]["open_orders"]
    assert "TargetsProposed" in states[0]["decisions"]


def test_replay_with_rerun_confirms_the_journal_prefix(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app, ["replay", str(run.run_dir), "--at", "2010-09-01", "--rerun", "--base-dir", str(DATA)]
    )
    assert result.exit_code == 0, result.output
    assert "re-run matches" in result.stdout
    assert "internals of MiniPipeline" in result.stdout


def test_replay_with_a_bad_time_is_one_line_and_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["replay", str(run.run_dir), "--at", "yesterday"])
    assert result.exit_code == 2
    assert "is not an ISO date or time" in result.output


def test_explain_prints_the_chain_and_the_decomposition(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["explain", str(run.run_dir), "T-XNAS-2", "--base-dir", str(DATA)])
    assert result.exit_code == 0, result.output
    for title in (
        "data seen",
        "agents",
        "ensemble",
        "risk review",
        "execution plan",
        "fills",
        "P&L decomposition",
    ):
        assert title in result.stdout


def test_explain_of_an_unknown_trade_is_one_line_and_exit_2(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["explain", str(run.run_dir), "O-nobody-9"])
    assert result.exit_code == 2
    assert "is not a client order id, trade id or parent order id" in result.output


def test_diff_of_a_run_with_itself_says_identical(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["diff", str(run.run_dir), str(run.journal_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["is_identical"] is True


def test_diff_of_runs_whose_data_changed_no_decision_says_so(tmp_path: Path) -> None:
    helpers = _helpers()
    data = helpers.write_orcl_file(tmp_path / "orcl.txt")
    run_a = helpers.run_file_sma(data, tmp_path / "a")
    lines = data.read_text().splitlines()
    cells = lines[5].split(",")
    cells[6] = str(int(cells[6]) + 1)  # one volume: no decision depends on it
    lines[5] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n")
    run_b = helpers.run_file_sma(data, tmp_path / "b")
    result = runner.invoke(app, ["diff", str(run_a.run_dir), str(run_b.run_dir)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "data differs, decisions identical" in text
    assert "every decision, order and fill is identical" in text
    assert "first divergence after the data records" not in text


def test_report_writes_the_html_and_the_metrics(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app, ["report", str(run.run_dir), "--out", str(tmp_path), "--base-dir", str(DATA)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").stat().st_size > 1_000_000  # plotly inlined
    metrics = json.loads((tmp_path / "report-metrics.json").read_text())
    assert metrics["net"]["sharpe_ratio"] is not None


def test_replay_every_day_with_rerun_scrubs_every_instant_with_one_rerun(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app,
        [
            "replay",
            str(run.run_dir),
            "--every",
            "1d",
            "--from",
            "2010-09-01",
            "--to",
            "2010-09-10",
            "--rerun",
            "--json",
            "--base-dir",
            str(DATA),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    states, scrub = lines[:-1], lines[-1]
    assert len(states) == 10
    assert [i["at_ns"] for i in scrub["instants"]] == [s["at_ns"] for s in states]
    assert scrub["check"]["is_identical"]
    assert all("MiniPipeline" in i["internals"] for i in scrub["instants"])


def test_replay_needs_an_instant_or_a_step(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["replay", str(run.run_dir)])
    assert result.exit_code == 2
    assert "--every" in result.output


@pytest.mark.parametrize(
    ("text", "ns"), [("1d", 86_400 * 10**9), ("4h", 4 * 3_600 * 10**9), ("30m", 1_800 * 10**9)]
)
def test_durations_parse_to_nanoseconds(text: str, ns: int) -> None:
    from tradeloop.cli.inspect import parse_duration

    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["0d", "1y", "day", "-1d"])
def test_a_bad_duration_is_a_config_error(text: str) -> None:
    from tradeloop.cli.inspect import parse_duration
    from tradeloop.core import ConfigError

    with pytest.raises(ConfigError, match="is not a positive duration"):
        parse_duration(text)


def test_report_open_without_a_display_says_so_and_prints_the_path(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    result = runner.invoke(
        app,
        ["report", str(run.run_dir), "--out", str(tmp_path), "--base-dir", str(DATA), "--open"],
    )
    assert result.exit_code == 0, result.output
    uri = (tmp_path / "report.html").resolve().as_uri()
    assert " ".join(result.stderr.split()) == (
        f"no browser or display found to open the report (--open): open {uri} in a browser yourself"
    )


def test_open_in_browser_is_false_when_no_browser_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    from tradeloop.cli.inspect import open_in_browser

    opened: list[str] = []
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "open", lambda uri: opened.append(uri) or False)
    assert open_in_browser("file:///tmp/report.html") is False
    assert opened == ["file:///tmp/report.html"]
    monkeypatch.setattr(webbrowser, "open", lambda uri: True)
    assert open_in_browser("file:///tmp/report.html") is True


@pytest.mark.parametrize(
    ("at", "note"),
    [
        ("1990-01-01", "is before the run's first record"),
        ("2100-01-01", "is after the run's last record"),
    ],
)
def test_replay_outside_the_run_says_which_side_and_what_is_shown(  # type: ignore[no-untyped-def]
    run, at: str, note: str
) -> None:
    result = runner.invoke(app, ["replay", str(run.run_dir), "--at", at])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"note: {at}T00:00:00.000000000Z {note}" in text
    shown = (
        "shown is the state before anything happened"
        if "before" in note
        else "shown is the run's final state, as of its last record"
    )
    assert shown in text
    as_json = runner.invoke(app, ["replay", str(run.run_dir), "--at", at, "--json"])
    assert as_json.exit_code == 0
    assert note in " ".join(as_json.stderr.split())
    state = json.loads(next(line for line in as_json.stdout.splitlines() if line.startswith("{")))
    assert (state["records_applied"] == 0) == ("before" in note)


def test_replay_inside_the_run_has_no_note(run) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["replay", str(run.run_dir), "--at", "start", "--at", "end"])
    assert result.exit_code == 0, result.output
    assert "note:" not in result.stdout
