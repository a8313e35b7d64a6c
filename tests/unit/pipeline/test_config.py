"""The pipeline's config: every execution plan it can make is checked at startup, so a setting
an algorithm would reject (at the first rebalance, mid-session) stops the run before it starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradeloop.config import load_config
from tradeloop.core import ConfigError
from tradeloop.costs.almgren_chriss import almgren_chriss_rule_of_thumb, optimal_trajectory
from tradeloop.engine.runner import prepare_run
from tradeloop.pipeline.config import PIPELINE_ALGORITHMS, CostSpec, ExecutionSpec, PipelineConfig

from .conftest import DEMO


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"algorithm": "vwapp"}, r"execution algorithm 'vwapp' is not one of immediate, twap"),
        ({"large_algorithm": "sor"}, r"execution large_algorithm 'sor' routes over several venues"),
        ({"slices": 0}, r"execution slices 0 and timeout_bars 1 must be at least 1"),
        ({"timeout_bars": 0}, r"execution slices 3 and timeout_bars 0 must be at least 1"),
        ({"rate": 0.0}, r"execution rate 0.0 must be in \(0, 1\]"),
        ({"rate": 1.5}, r"execution rate 1.5 must be in \(0, 1\]"),
        ({"display_fraction": -0.2}, r"execution display_fraction -0.2 must be in \(0, 1\]"),
        ({"large_participation": -0.01}, r"execution large_participation -0.01 must be finite"),
        ({"risk_aversion": -1e-6}, r"execution risk_aversion -1e-06 must be finite and >= 0"),
        ({"horizon_days": 0.0}, r"execution horizon_days 0.0 must be positive"),
        (
            {"large_algorithm": "implementation_shortfall", "horizon_days": 60.0, "slices": 3},
            r"execution implementation_shortfall over horizon_days 60.0 in 3 slices has no "
            r"Almgren-Chriss trajectory",
        ),
    ],
)
def test_an_execution_setting_no_plan_could_use_is_a_config_error(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        ExecutionSpec(**settings)


def test_every_algorithm_but_sor_is_available_to_the_pipeline() -> None:
    assert "sor" not in PIPELINE_ALGORITHMS
    for name in PIPELINE_ALGORITHMS:
        assert ExecutionSpec(algorithm=name, large_algorithm=name).algorithm == name


@pytest.mark.parametrize(("spread", "adv"), [(0.01, 1e3), (0.03, 1e6), (5.0, 2e7)])
def test_the_shortfall_check_holds_for_any_spread_and_volume(spread: float, adv: float) -> None:
    # The rule-of-thumb coefficients have eta = 10 gamma whatever the spread and ADV: the
    # trajectory exists exactly when an interval is shorter than 20 days, as the check says.
    model = almgren_chriss_rule_of_thumb(spread, adv, 1e-6)
    ExecutionSpec(algorithm="implementation_shortfall", horizon_days=59.9, slices=3)
    optimal_trajectory(1_000.0, 59.9, 3, spread * 10, model)
    with pytest.raises(ConfigError):
        ExecutionSpec(algorithm="implementation_shortfall", horizon_days=60.0, slices=3)
    with pytest.raises(Exception, match="for the cost to be convex"):
        optimal_trajectory(1_000.0, 60.0, 3, spread * 10, model)


def test_shortfall_needs_a_positive_spread_for_its_coefficients() -> None:
    shortfall = ExecutionSpec(large_algorithm="implementation_shortfall")
    with pytest.raises(ConfigError, match=r"costs default_spread_bps must be positive"):
        PipelineConfig(
            universe=["A.XNAS"], execution=shortfall, costs=CostSpec(default_spread_bps=0.0)
        )
    with pytest.raises(ConfigError, match=r"costs spread_bps\['B.XNAS'\] must be positive"):
        PipelineConfig(
            universe=["A.XNAS"],
            execution=shortfall,
            costs=CostSpec(spread_bps={"A.XNAS": 2.0, "B.XNAS": 0.0}),
        )
    # Without implementation shortfall a zero spread is a valid cost assumption.
    PipelineConfig(universe=["A.XNAS"], costs=CostSpec(default_spread_bps=0.0))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"default_spread_bps": -1.0}, r"costs default_spread_bps -1.0 must be finite and >= 0"),
        ({"spread_bps": {"A.XNAS": float("nan")}}, r"costs spread_bps\['A.XNAS'\] nan must be"),
        ({"adv_window": 1}, r"costs adv_window 1 and fill_window 60 must be at least 2 bars"),
        ({"delay_ns": -1}, r"costs delay_ns -1 must be >= 0"),
    ],
)
def test_a_cost_setting_the_assessment_would_reject_is_a_config_error(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        CostSpec(**settings)


def test_the_demo_with_a_routing_algorithm_stops_at_startup_and_writes_nothing(
    tmp_path: Path,
) -> None:
    config = load_config(DEMO)
    section = config.strategies[0]
    params = {**section.params, "execution": {**section.params["execution"], "algorithm": "sor"}}
    config = msgspec.structs.replace(
        config,
        run=msgspec.structs.replace(config.run, output_dir=str(tmp_path / "runs")),
        strategies=[msgspec.structs.replace(section, params=params)],
    )
    with pytest.raises(ConfigError, match="execution algorithm 'sor' routes over several venues"):
        prepare_run(config, DEMO.parent)
    assert not (tmp_path / "runs").exists()


def _config(**sections: object) -> PipelineConfig:
    return msgspec.convert({"universe": ["ORCL.XNAS"], **sections}, type=PipelineConfig)


def test_an_unknown_execution_algorithm_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as error:
        _config(execution={"algorithm": "limit_than_market"})
    assert str(error.value) == (
        "execution algorithm 'limit_than_market' is not one of " + ", ".join(PIPELINE_ALGORITHMS)
    )


def test_negative_limit_offset_and_short_cost_windows_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="offset_ticks -1 must be >= 0"):
        _config(execution={"offset_ticks": -1})
    with pytest.raises(ConfigError, match="fill_window 1 must be at least 2 bars"):
        _config(costs={"fill_window": 1})
    with pytest.raises(ConfigError, match="delay_ns -1 must be >= 0"):
        _config(costs={"delay_ns": -1})


def test_the_example_demo_config_is_the_demo_but_for_its_name() -> None:
    from importlib.resources import files

    demo = load_config(Path(str(files("tradeloop.cli").joinpath("demo.toml"))))
    example = load_config(Path(__file__).parents[3] / "examples" / "pipeline_demo.toml")
    assert (demo.run.name, example.run.name) == ("demo", "pipeline-demo")
    renamed = msgspec.structs.replace(
        example, run=msgspec.structs.replace(example.run, name="demo")
    )
    assert msgspec.to_builtins(renamed) == msgspec.to_builtins(demo)
    assert demo.strategies[0].params["execution"]["algorithm"] == "limit_then_market"
