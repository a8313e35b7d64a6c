"""Config: run configuration schemas, TOML loading, hashing."""

from tradeloop.config.loader import load_config, parse_config
from tradeloop.config.schema import (
    DataSection,
    InstrumentSection,
    PluginSection,
    RunConfig,
    RunSection,
    StrategySection,
    canonical_json,
    config_hash,
)

__all__ = [
    "DataSection",
    "InstrumentSection",
    "PluginSection",
    "RunConfig",
    "RunSection",
    "StrategySection",
    "canonical_json",
    "config_hash",
    "load_config",
    "parse_config",
]
