"""Run configuration: typed, frozen, strict (unknown keys are errors), validated at startup.

A run is described by one TOML file::

    [run]
    name = "sma-demo"
    seed = 7
    starting_cash = "100000"
    base_currency = "USD"

    [[data]]
    dataset = "ORCL"                  # a bundled dataset (``tradeloop data list --bundled``)
    start = "2010-01-01"

    [[data]]                          # or a file of your own
    path = "mydata/aapl.csv"
    format = "yahoo"
    instrument_id = "AAPL.XNAS"

    [[instruments]]                   # instruments of your own files
    id = "AAPL.XNAS"
    kind = "equity"
    quote_currency = "USD"
    price_precision = 2
    size_precision = 0

    [venue]
    commission = { kind = "per_share", per_share = "0.005", minimum = "1" }

    [venues.BYBIT]                    # one venue's own settings: these keys replace [venue]'s
    commission = { kind = "bps", bps = 5.5 }
    fidelity = "quotes"

    [[strategies]]
    class = "SmaCross"
    params = { instrument_ids = ["ORCL.XNAS"], fast = 10, slow = 30, quantity = "100" }
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.risk.engine import RiskConfig
from tradeloop.venues.sim.config import SimVenueConfig


class RunSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Identity and money of a run.

    ``benchmark`` (an instrument id among the data) gives summaries and reports a buy-and-hold
    curve for alpha and beta; ``periods_per_year`` annualizes (252 trading days; 365 for
    markets open every day).
    """

    name: str = "run"
    seed: int = 0
    starting_cash: str = "100000"
    base_currency: str = "USD"
    output_dir: str = "runs"
    equity_sample_every: int = 1
    benchmark: str | None = None
    periods_per_year: float = 252.0


class DataSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One market data source: a bundled dataset, a file or a catalog entry.

    ``dataset`` names a bundled dataset; ``path`` + ``format`` a file (order books for
    fidelity level 4: ``binance-depth``, ``bybit-orderbook``, ``databento-mbo``, ``lobster``; or
    ``yahoo``, ``csv``,
    ``parquet``, ``binance_klines``, ``binance_trades``, ``binance_quotes``); ``catalog`` +
    ``instrument_id`` a Parquet catalog. ``start``/``end`` (ISO dates) clip the data.
    """

    dataset: str | None = None
    path: str | None = None
    format: str | None = None
    catalog: str | None = None
    instrument_id: str | None = None
    kind: str = "bars"
    start: str | None = None
    end: str | None = None
    options: dict[str, Any] = {}

    def __post_init__(self) -> None:
        given = [k for k in ("dataset", "path", "catalog") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError(
                "each [[data]] entry needs exactly one of dataset, path or catalog; "
                f"got {given or 'none'}"
            )
        if self.path is not None and (self.format is None or self.instrument_id is None):
            raise ConfigError(f"data path {self.path} needs a format and an instrument_id")
        if self.catalog is not None and self.instrument_id is None:
            raise ConfigError(f"data catalog {self.catalog} needs an instrument_id")


class InstrumentSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An instrument of user data (bundled datasets bring their own)."""

    id: str
    kind: str
    quote_currency: str
    base_currency: str | None = None
    price_precision: int
    size_precision: int = 0
    tick_size: str | None = None
    lot_size: str | None = None
    multiplier: str = "1"
    exchange_calendar: str | None = None


class StrategySection(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    rename={"class_path": "class"},
):
    """A strategy: its class (``SmaCross``, ``module:Class`` or ``file.py:Class``) and params."""

    class_path: str
    id: str | None = None
    params: dict[str, Any] = {}


class PluginSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Top-level packages strategies may be imported from (besides files next to the config)."""

    allow: list[str] = []


class RunConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A whole run.

    ``venue`` configures every simulated venue; ``venues.<CODE>`` gives one venue (the part
    of instrument ids after the dot) its own settings: the keys it lists replace those of
    ``venue`` (a table, such as ``commission`` or ``book``, is replaced whole).
    """

    run: RunSection = RunSection()
    data: list[DataSection] = []
    instruments: list[InstrumentSection] = []
    venue: SimVenueConfig = SimVenueConfig()
    venues: dict[str, dict[str, Any]] = {}
    risk: RiskConfig = RiskConfig()
    strategies: list[StrategySection] = []
    plugins: PluginSection = PluginSection()

    def __post_init__(self) -> None:
        if not self.data:
            raise ConfigError("the config has no [[data]] entry: a run needs market data")
        if not self.strategies:
            raise ConfigError("the config has no [[strategies]] entry: a run needs a strategy")
        self.venue_configs()  # every per-venue table is checked at load time

    def venue_configs(self) -> dict[str, SimVenueConfig]:
        """Return each ``venues.<CODE>`` table merged over ``venue``, by venue code.

        Raises
        ------
        ConfigError
            If a merged table is not a valid venue configuration.
        """
        base = msgspec.to_builtins(self.venue)
        configs = {}
        for code, override in sorted(self.venues.items()):
            try:
                configs[code] = msgspec.convert({**base, **override}, type=SimVenueConfig)
            except msgspec.ValidationError as error:
                raise ConfigError(f"[venues.{code}]: {error}") from None
            except ConfigError as error:
                raise ConfigError(f"[venues.{code}]: {error}") from None
        return configs


def config_hash(config: RunConfig) -> str:
    """Return the SHA-256 of the resolved config's canonical JSON (sorted keys)."""
    return hashlib.sha256(canonical_json(config)).hexdigest()


def canonical_json(config: RunConfig) -> bytes:
    """Return the resolved config as JSON with keys in a deterministic order.

    ``run.output_dir`` says where results go, not what the run is: it is left out, so the
    same run written to two places has the same hash and the same journal.
    """
    identity = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir="")
    )
    return msgspec.json.encode(identity, order="sorted")
