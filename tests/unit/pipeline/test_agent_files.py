"""A user agent in a file next to the config: loaded by its path, part of the run's identity,
and every mistake in naming it is one line at startup, before a run directory exists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tradeloop.cli.main import main
from tradeloop.config import load_config
from tradeloop.engine.runner import prepare_run
from tradeloop.journal import read_records
from tradeloop.model.decisions import AgentFailed, EnsembleScored, SignalsEmitted

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "pipeline_custom_agent.toml"
AGENT = ROOT / "examples" / "agents" / "overnight.py"


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["tradeloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def _project(tmp_path: Path, agents_line: str | None = None) -> Path:
    # The example copied into a fresh directory: its config, and its agent file beside it.
    project = tmp_path / "project"
    (project / "agents").mkdir(parents=True)
    shutil.copy(AGENT, project / "agents" / "overnight.py")
    text = EXAMPLE.read_text().replace("[run]\n", f'[run]\noutput_dir = "{tmp_path / "runs"}"\n', 1)
    if agents_line is not None:
        start = text.index("agents = [")
        end = text.index("]\n", text.index("agents/overnight.py", start)) + 2
        text = text[:start] + agents_line + "\n" + text[end:]
    config = project / "custom.toml"
    config.write_text(text)
    return config


def test_an_agent_file_next_to_the_config_runs_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # neither the config's directory nor on sys.path
    code, _, err = run_main(["backtest", str(config), "--quiet"], monkeypatch, capsys)
    assert code == 0, err
    (run_dir,) = (tmp_path / "runs").iterdir()
    records = [r.record for r in read_records(run_dir / "journal.sqlite")]
    assert not [r for r in records if isinstance(r, AgentFailed)]
    emitted = [r for r in records if isinstance(r, SignalsEmitted)]
    assert len(emitted) > 100
    overnight = [s for r in emitted for s in r.signals if s.agent_id == "overnight"]
    assert {s.instrument_id for s in overnight} == {"ORCL.XNAS", "NVDA.XNAS", "YHOO.XNAS"}
    assert all(s.reason.startswith("mean overnight gap ") for s in overnight)
    assert all(r.agent_versions["overnight"].startswith("1+") for r in emitted)
    scored = [r for r in records if isinstance(r, EnsembleScored)]
    assert any("overnight" in s.contributions for r in scored for s in r.scores)


def test_the_agent_file_content_is_part_of_the_run_id(tmp_path: Path) -> None:
    config = _project(tmp_path)
    first = prepare_run(load_config(config), config.parent).run_id
    assert prepare_run(load_config(config), config.parent).run_id == first
    agent = config.parent / "agents" / "overnight.py"
    agent.write_text(agent.read_text().replace('version = "1"', 'version = "2"'))
    assert prepare_run(load_config(config), config.parent).run_id != first


def test_a_module_agent_still_loads_from_an_allowed_package(tmp_path: Path) -> None:
    config = _project(
        tmp_path,
        'allow_agent_modules = ["tests"]\nagents = [{ type = "mean_reversion" }, '
        '{ type = "tests.unit.pipeline.test_isolation:Exploding", id = "exploding" }]',
    )
    prepared = prepare_run(load_config(config), config.parent)
    (pipeline,) = prepared.strategies
    assert [type(a).__name__ for a in pipeline._agents or []] == ["MeanReversion", "Exploding"]


@pytest.mark.parametrize(
    ("agents", "message"),
    [
        (
            '{ type = "agents/nope.py:Overnight" }',
            "agent file {project}/agents/nope.py does not exist",
        ),
        (
            '{ type = "agents/overnight.py:Nope" }',
            "agent file {project}/agents/overnight.py has no class Nope",
        ),
        (
            '{ type = "agents/overnight.py:np" }',
            "agent agents/overnight.py:np is not a SignalAgent subclass",
        ),
        (
            '{ type = "agents/overnight.py:BarHistory" }',
            "agent agents/overnight.py:BarHistory is not a SignalAgent subclass",
        ),
        (
            '{ type = "agents.overnight:Overnight" }',
            "agent module agents.overnight is not allowed; add 'agents' to "
            "allow_agent_modules to import it",
        ),
        (
            '{ type = "agents/overnight.py:Overnight", params = { session = 3 } }',
            "agent agents/overnight.py:Overnight params {{'session': 3}}: "
            "got an unexpected keyword argument 'session'",
        ),
    ],
)
def test_a_bad_agent_is_one_line_at_startup_and_leaves_no_run_directory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    agents: str,
    message: str,
) -> None:
    config = _project(tmp_path, f'agents = [{{ type = "ts_momentum" }}, {agents}]')
    code, out, err = run_main(["backtest", str(config)], monkeypatch, capsys)
    assert code == 2
    expected = message.format(project=config.parent)
    assert err == f"error: strategies[0] (Pipeline): agents[1]: {expected}\n"
    assert out == ""
    assert not (tmp_path / "runs").exists()


def test_the_documented_agent_is_the_example_file_and_its_config_entry_the_examples() -> None:
    docs = (ROOT / "docs" / "pipeline.md").read_text()
    section = docs.split("### Writing an agent", 1)[1].split("\n## ", 1)[0]
    python = section.split("```python\n", 1)[1].split("```", 1)[0]
    toml = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert python == AGENT.read_text()
    example = EXAMPLE.read_text()
    for line in toml.splitlines()[1:]:  # every line after the section header
        assert line in example.splitlines(), line
