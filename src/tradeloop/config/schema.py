"""Run configuration: typed, frozen, strict (unknown keys are errors), validated at startup.

A run is described by one TOML file (this example is parsed by
``tests/unit/config/test_schema_docs.py``; relative paths resolve next to the config)::

    [run]
    name = "sma-demo"
    seed = 7
    starting_cash = "100000"
    base_currency = "USD"

    [[data]]
    dataset = "orcl_daily"            # a bundled dataset (``tradeloop data list``)
    start = "2010-01-01"

    [[data]]                          # or a file of your own
    path = "mydata/aapl.csv"
    format = "yahoo"                  # yahoo, ohlcv, binance-klines, trades, quotes
    instrument_id = "AAPL.XNAS"

    [[data]]                          # or a catalog written by ``tradeloop data import``
    catalog = "catalog"
    instrument_id = "BTCUSDT.BINANCE"
    kind = "bars"

    [[instruments]]                   # instruments of your own files
    id = "AAPL.XNAS"
    kind = "equity"
    quote_currency = "USD"
    price_precision = 2
    size_precision = 0
    tick_size = "0.01"
    exchange_calendar = "XNYS"

    [venue]
    commission = { kind = "per_share", per_share = "0.005", minimum = "1" }

    [venues.BYBIT]                    # one venue's own settings: these keys replace [venue]'s
    commission = { kind = "bps", bps = 5.5 }
    fidelity = "quotes"

    [[strategies]]
    class = "SmaCross"
    params = { instrument_ids = ["ORCL.XNAS", "AAPL.XNAS"], fast = 10, slow = 30, quantity = "100" }
"""

from __future__ import annotations

import hashlib
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from tradeloop.config.operations import (
    AlertRuleSection,
    ApprovalsSection,
    DriftSection,
    NotificationsSection,
    check_alert_names,
)
from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.fixed import Money, decimal_to_raw
from tradeloop.core.time import parse_time
from tradeloop.features.definitions import FeatureSetConfig
from tradeloop.model.enums import InstrumentKind
from tradeloop.model.instruments import Instrument
from tradeloop.models.spec import ModelSpec
from tradeloop.risk.engine import RiskConfig
from tradeloop.risk.stages import DeploymentConfig
from tradeloop.venues.sim.config import SimVenueConfig


class RunSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Identity and money of a run.

    ``benchmark`` (an instrument id among the data) gives summaries and reports a buy-and-hold
    curve for alpha and beta; ``periods_per_year`` annualizes (252 trading days; 365 for
    markets open every day).

    ``trading_start`` (ISO date or datetime) ends the warm-up: data before it reaches the
    strategies (histories, indicators, models fill up) but the risk engine denies every order
    ("warm-up: trading starts at ..."), and the equity curve, the summary's metrics (net,
    gross, benchmark) and the report start at the last equity point at or before it. Set it
    where every instrument is tradeable and the models are warm, so that the measured period
    is not padded with a flat start. Default: no warm-up, measured from the first record.
    """

    name: str = "run"
    seed: int = 0
    starting_cash: str = "100000"
    base_currency: str = "USD"
    output_dir: str = "runs"
    equity_sample_every: int = 1
    benchmark: str | None = None
    periods_per_year: float = 252.0
    trading_start: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ConfigError(
                f"run name {self.name!r} is not a plain name: use letters, digits, '.', '_' and "
                "'-' (it names the run's directory), starting with a letter or digit"
            )
        amount = _positive_decimal(self.starting_cash, "run starting_cash")
        try:
            Money.from_str(str(amount), self.base_currency)
        except InvalidValueError as error:
            raise ConfigError(f"run starting_cash/base_currency: {error}") from None
        if self.seed < 0:
            raise ConfigError(f"run seed {self.seed} must be zero or positive")
        if self.equity_sample_every < 1:
            raise ConfigError(
                f"run equity_sample_every {self.equity_sample_every} must be 1 or more "
                "(1 keeps every equity point)"
            )
        if not (math.isfinite(self.periods_per_year) and self.periods_per_year > 0):
            raise ConfigError(
                f"run periods_per_year {self.periods_per_year} must be a positive number "
                "(252 trading days, 365 for markets open every day)"
            )
        if self.trading_start is not None:
            try:
                parse_time(self.trading_start)
            except InvalidValueError as error:
                raise ConfigError(f"run trading_start: {error}") from None

    @property
    def trading_start_ns(self) -> int | None:
        """Return ``trading_start`` in nanoseconds (``None``: no warm-up)."""
        if self.trading_start is None:
            return None
        return parse_time(self.trading_start)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _positive_decimal(text: str, what: str) -> Decimal:
    # A decimal setting that must be a finite number above zero: "-5", "0", "nan", "1e999"
    # and "ten" are config errors at load time, never a run that fails at its end.
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise ConfigError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"{what} {text} must be a positive number")
    return value


class DataSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One market data source: a bundled dataset, a file or a catalog entry.

    ``dataset`` names a bundled dataset (``tradeloop data list``); ``path`` + ``format`` +
    ``instrument_id`` a file, whose ``format`` is one of ``yahoo``, ``ohlcv`` (CSV or Parquet),
    ``binance-klines``, ``trades``, ``quotes`` (the ``--format`` values of ``tradeloop data``),
    or an order book recording for fidelity level 4 (``binance-depth``, ``bybit-orderbook``,
    ``databento-mbo``, ``lobster``); ``options`` are the format's reader options (for ``ohlcv``, the
    fields of ``OhlcvFormat``, e.g. ``{ timestamp = "date", volume = "" }``; columns not given
    are detected from the header; every file format takes ``sort = true`` to read a file not
    written in time order). ``catalog`` + ``instrument_id`` (+ ``kind``) a Parquet
    catalog written by ``tradeloop data import``. ``start``/``end`` (ISO dates or times) clip
    the data; a catalog or file whose instrument is not bundled needs an ``[[instruments]]``
    entry unless the catalog stores its definition.
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
        name = self.dataset or self.path or self.catalog
        bounds = {}
        for key in ("start", "end"):
            text = getattr(self, key)
            if text is None:
                continue
            try:
                bounds[key] = parse_time(text)
            except InvalidValueError as error:
                raise ConfigError(f"data {name}: {key}: {error}") from None
        if "start" in bounds and "end" in bounds and bounds["start"] > bounds["end"]:
            raise ConfigError(f"data {name}: start {self.start} is after end {self.end}")


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

    def to_instrument(self) -> Instrument:
        """Return the instrument this section defines.

        Raises
        ------
        ConfigError
            If the kind is unknown or a value breaks an instrument rule (the message names the
            instrument and the value).
        """
        try:
            kind = InstrumentKind(self.kind)
        except ValueError:
            known = ", ".join(k.value for k in InstrumentKind)
            raise ConfigError(
                f"instrument {self.id}: kind {self.kind!r} is not one of {known}"
            ) from None
        try:
            tick = (
                1
                if self.tick_size is None
                else _size_raw(self.tick_size, self.price_precision, "tick size")
            )
            lot = (
                1
                if self.lot_size is None
                else _size_raw(self.lot_size, self.size_precision, "lot size")
            )
            if self.exchange_calendar is not None:
                from tradeloop.data.calendars import check_calendar  # exchange-calendars is heavy

                check_calendar(self.exchange_calendar)
            return Instrument(
                id=self.id,
                kind=kind,
                quote_currency=self.quote_currency,
                base_currency=self.base_currency,
                price_precision=self.price_precision,
                size_precision=self.size_precision,
                tick_size_raw=tick,
                lot_size_raw=lot,
                multiplier=self.multiplier,
                exchange_calendar=self.exchange_calendar,
            )
        except InvalidValueError as error:
            message = str(error)
            prefix = (
                "" if message.startswith(f"instrument {self.id}") else f"instrument {self.id}: "
            )
            raise ConfigError(f"{prefix}{message}") from None


def _size_raw(text: str, precision: int, what: str) -> int:
    # A tick or lot size must be exact at the instrument's precision: 0.005 at 2 decimals is
    # an error, not 0.01.
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidValueError(f"{what} {text!r} is not a decimal number") from None
    raw = decimal_to_raw(value, precision, what)
    if Decimal(raw).scaleb(-precision) != value:
        raise InvalidValueError(f"{what} {text} has more decimals than precision {precision}")
    return raw


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


CONNECTION_KINDS = ("sim", "ccxt", "alpaca")
"""How a venue is reached: simulated, a crypto exchange through ccxt, Alpaca."""

FEED_KINDS = ("trades", "quotes", "bars", "book")


class FeedSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A live market data subscription: ``kinds`` of ``instrument_id`` from a connection.

    ``connection`` names a ``[connections.<NAME>]`` table (its API endpoints and keys);
    ``kinds`` are ``trades``, ``quotes``, ``bars`` (the venue's bars, or built from its
    trades) and ``book``. ``backups`` name connections to fail over to, in order, when the
    active one has been stale or disconnected for ``fail_after_s`` (``venues.feed_group``).
    """

    connection: str
    instrument_id: str
    kinds: list[str] = msgspec.field(default_factory=lambda: ["trades"])
    backups: list[str] = msgspec.field(default_factory=list)
    fail_after_s: float = 5.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.fail_after_s) and self.fail_after_s > 0):
            raise ConfigError(
                f"feed of {self.instrument_id}: fail_after_s {self.fail_after_s} must be positive"
            )
        self._check_kinds()

    def _check_kinds(self) -> None:
        unknown = [k for k in self.kinds if k not in FEED_KINDS]
        if unknown or not self.kinds:
            raise ConfigError(
                f"feed of {self.instrument_id}: kinds {self.kinds} must be some of "
                f"{', '.join(FEED_KINDS)}"
            )


class LiveSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How live-clock runs (paper, shadow, live) behave.

    ``on_stop``: what happens to open orders when the run ends (``--for``, Ctrl-C, a stop):
    ``cancel_all`` (default; every cancel journaled) or ``leave``.
    """

    on_stop: str = "cancel_all"

    def __post_init__(self) -> None:
        if self.on_stop not in ("cancel_all", "leave"):
            raise ConfigError(f"live on_stop {self.on_stop!r} is not cancel_all or leave")


class ReconciliationSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a live-clock node reconciles with its venues (``engine.reconcile``).

    ``on_break``: the trading state a ``ReconciliationBreak`` sets, ``halted`` (default: no
    new orders) or ``reducing`` (only orders that reduce a position). ``claim_external_orders``:
    the strategy id that adopts open orders only the venue knows ("" leaves them alone).
    ``inflight_check_s``: a submitted order with no answer this long is queried by client order
    id, up to ``inflight_retries`` times, then resolved from the venue's answer.
    ``open_check_interval_s`` / ``position_check_interval_s``: how often open orders and
    positions are compared with the venue while running (0 turns a check off).
    ``balance_tolerance``: how far a venue balance may differ from the run's baseline plus its
    fills before it is a break, as a fraction of the expected balance and at least that many
    units of the currency (dust, rounding); positions are compared exactly.
    """

    on_break: str = "halted"
    claim_external_orders: str = ""
    inflight_check_s: float = 5.0
    inflight_retries: int = 3
    open_check_interval_s: float = 60.0
    position_check_interval_s: float = 300.0
    balance_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        if not 0 <= self.balance_tolerance <= 0.01:
            raise ConfigError(
                f"reconciliation balance_tolerance {self.balance_tolerance} must be between 0 "
                "and 0.01 (a fraction of the expected balance)"
            )
        if self.on_break not in ("halted", "reducing"):
            raise ConfigError(
                f"reconciliation on_break {self.on_break!r} is not halted or reducing"
            )
        for name in ("inflight_check_s", "open_check_interval_s", "position_check_interval_s"):
            value = getattr(self, name)
            if not 0 <= value <= 86_400:
                raise ConfigError(f"reconciliation {name} {value} must be between 0 and 86400")
        if not 0 <= self.inflight_retries <= 100:
            raise ConfigError(
                f"reconciliation inflight_retries {self.inflight_retries} must be between 0 and 100"
            )


class AccountSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[accounts.<VENUE>]``: one venue's own cash account.

    Without accounts, every venue trades from the run's one account. With them, each venue
    that trades an instrument needs one; its buys spend its own cash (the risk engine checks
    the venue's free cash), and the accounts' ``starting_cash`` must add up to the run's.
    """

    starting_cash: str

    def __post_init__(self) -> None:
        _positive_decimal(self.starting_cash, "accounts starting_cash")


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
    connections: dict[str, dict[str, Any]] = {}
    feeds: list[FeedSection] = []
    live: LiveSection = LiveSection()
    reconciliation: ReconciliationSection = ReconciliationSection()
    deployment: DeploymentConfig | None = None
    accounts: dict[str, AccountSection] = {}
    features: FeatureSetConfig | None = None
    models: list[ModelSpec] = []
    alerts: list[AlertRuleSection] = []
    notifications: NotificationsSection = NotificationsSection()
    approvals: ApprovalsSection = ApprovalsSection()
    drift: DriftSection = DriftSection()

    def __post_init__(self) -> None:
        check_alert_names(self.alerts)
        if not self.data and not self.feeds:
            raise ConfigError(
                "the config has no [[data]] entry and no [[feeds]]: a run needs market data"
            )
        for name, table in sorted(self.connections.items()):
            kind = table.get("kind")
            if kind not in CONNECTION_KINDS:
                raise ConfigError(
                    f"[connections.{name}] kind {kind!r} is not one of "
                    f"{', '.join(CONNECTION_KINDS)}"
                )
        for feed in self.feeds:
            for backup in feed.backups:
                if backup not in self.connections or backup == feed.connection:
                    raise ConfigError(
                        f"feed of {feed.instrument_id}: backup {backup!r} must be another "
                        f"[connections.<NAME>] table"
                    )
            if feed.connection not in self.connections:
                known = ", ".join(sorted(self.connections)) or "none"
                raise ConfigError(
                    f"feed of {feed.instrument_id} names connection {feed.connection!r}, which "
                    f"is not a [connections.<NAME>] table (connections: {known})"
                )
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
    if identity.features is None and not identity.models:
        # A run without models hashes as it did before the sections existed.
        document = msgspec.to_builtins(identity, order="sorted")
        del document["features"], document["models"]
        return msgspec.json.encode(document, order="sorted")
    return msgspec.json.encode(identity, order="sorted")
