"""Config: run configuration schemas, TOML loading, hashing."""

from tradeloop.config.loader import load_config, parse_config
from tradeloop.config.schema import (
    DataSection,
    FeedSection,
    InstrumentSection,
    LiveSection,
    PluginSection,
    RunConfig,
    RunSection,
    StrategySection,
    canonical_json,
    config_hash,
)

__all__ = [
    "DataSection",
    "FeedSection",
    "InstrumentSection",
    "LiveSection",
    "PluginSection",
    "RunConfig",
    "RunSection",
    "StrategySection",
    "canonical_json",
    "config_hash",
    "load_config",
    "parse_config",
]
