from pathlib import Path

import pytest

from tradeloop.config import config_hash, load_config, parse_config
from tradeloop.core import ConfigError

BASE = {"data": [{"dataset": "orcl_daily"}], "strategies": [{"class": "SmaCross", "params": {}}]}


def test_unknown_key_names_the_file_and_the_path() -> None:
    with pytest.raises(ConfigError, match=r"demo.toml: unknown key `fidelty` at venue"):
        parse_config({**BASE, "venue": {"fidelty": "bars"}}, "demo.toml")


def test_wrong_type_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"Expected `int`, got `str` at run.seed"):
        parse_config({**BASE, "run": {"seed": "seven"}}, "demo.toml")


def test_section_rule_violation_is_reported_with_the_source() -> None:
    with pytest.raises(
        ConfigError, match=r"demo.toml: venue fidelity 'ticks' is not one of bars, quotes"
    ):
        parse_config({**BASE, "venue": {"fidelity": "ticks"}}, "demo.toml")
    with pytest.raises(ConfigError, match="exactly one of dataset, path or catalog"):
        parse_config({**BASE, "data": [{"dataset": "x", "path": "y"}]}, "demo.toml")


def test_a_run_needs_data_and_a_strategy() -> None:
    with pytest.raises(ConfigError, match="no \\[\\[data\\]\\]"):
        parse_config({"strategies": BASE["strategies"]})
    with pytest.raises(ConfigError, match="no \\[\\[strategies\\]\\]"):
        parse_config({"data": BASE["data"]})


def test_missing_file_and_bad_toml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nname=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_hash_ignores_the_output_directory_but_not_the_seed() -> None:
    a = parse_config({**BASE, "run": {"output_dir": "a"}})
    b = parse_config({**BASE, "run": {"output_dir": "b"}})
    c = parse_config({**BASE, "run": {"output_dir": "a", "seed": 1}})
    assert config_hash(a) == config_hash(b) != config_hash(c)
