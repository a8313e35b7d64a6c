"""The pipeline's config: execution and cost settings are checked when the config is read."""

from __future__ import annotations

import msgspec
import pytest

from tradeloop.core import ConfigError
from tradeloop.pipeline.config import PIPELINE_ALGORITHMS, PipelineConfig


def _config(**sections: object) -> PipelineConfig:
    return msgspec.convert({"universe": ["ORCL.XNAS"], **sections}, type=PipelineConfig)


def test_an_unknown_execution_algorithm_is_a_config_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as error:
        _config(execution={"algorithm": "limit_than_market"})
    assert str(error.value) == (
        "execution algorithm 'limit_than_market' is not one of " + ", ".join(PIPELINE_ALGORITHMS)
    )
    with pytest.raises(ConfigError, match="execution large_algorithm 'sor' is not one of"):
        _config(execution={"large_algorithm": "sor"})


@pytest.mark.parametrize(
    ("execution", "message"),
    [
        ({"timeout_bars": 0}, "timeout_bars 0 must be at least 1"),
        ({"slices": 0}, "execution slices 0"),
        ({"rate": 0.0}, "rate 0.0 in \\(0, 1\\]"),
        ({"offset_ticks": -1}, "offset_ticks -1 must be >= 0"),
    ],
)
def test_execution_settings_out_of_range_are_config_errors(
    execution: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(execution=execution)


def test_cost_windows_and_delay_out_of_range_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="fill_window 1 must be at least 2 bars"):
        _config(costs={"fill_window": 1})
    with pytest.raises(ConfigError, match="delay_ns -1 must be non-negative"):
        _config(costs={"delay_ns": -1})


def test_every_pipeline_algorithm_is_accepted() -> None:
    for name in PIPELINE_ALGORITHMS:
        assert _config(execution={"algorithm": name}).execution.algorithm == name


def test_the_example_demo_config_is_the_demo_but_for_its_name() -> None:
    from importlib.resources import files
    from pathlib import Path

    from tradeloop.config import load_config

    demo = load_config(Path(str(files("tradeloop.cli").joinpath("demo.toml"))))
    example = load_config(Path(__file__).parents[3] / "examples" / "pipeline_demo.toml")
    assert (demo.run.name, example.run.name) == ("demo", "pipeline-demo")
    renamed = msgspec.structs.replace(
        example, run=msgspec.structs.replace(example.run, name="demo")
    )
    assert msgspec.to_builtins(renamed) == msgspec.to_builtins(demo)
    assert demo.strategies[0].params["execution"]["algorithm"] == "limit_then_market"
