"""Feature and label definitions: what a feature set computes, declared once.

A ``FeatureSpec`` names a kind (``KINDS``), its window (bars the value looks back over) and
its lag (bars it is shifted by: the value at bar ``t`` is the kind's value at ``t - lag``).
The market microstructure kinds (``MICRO_KINDS``) read quotes, trades or the order book,
sampled at each bar's close: only events whose ``ts_init`` is at or before the bar's
``ts_init`` exist for it (``features.micro``).
Every kind reads bars up to and including ``t`` only; a lag below 0 would read bar
``t + 1`` at ``t`` and is refused, as is a label kind used as a feature. Labels
(``LabelSpec``: forward returns, triple barrier) read the bars after ``t``: they exist only
in materialized training data, never online.

A ``FeatureSetConfig`` (the run config's ``[features]`` table) is hashed
(``definition_hash``): the hash stamps every materialized file and every model trained on
it, so data, model and run can be checked against each other at startup.
"""

from __future__ import annotations

import hashlib
from typing import Final

import msgspec

from tradeloop.core.errors import ConfigError

KINDS: Final[dict[str, str]] = {
    "log_return": "log(close_t / close_{t-window})",
    "sma_ratio": "close_t / SMA(close, window)_t - 1",
    "ema_ratio": "close_t / EMA(close, window)_t - 1",
    "rsi": "(RSI(close, window)_t - 50) / 50",
    "zscore": "z-score of close over window bars (population std)",
    "realized_vol": "std of the last window log returns (per bar, sample std)",
    "atr_pct": "ATR(window)_t / close_t",
    "volume_zscore": "z-score of volume over window bars (population std)",
    "range_pct": "(high_t - low_t) / close_t (window 1)",
    "external": "the last value of an external series published (ts_init) at or before bar t",
    "external_return": "log(x_t / x_{t-window}) of the external value x as of each bar",
}
"""Feature kinds and what each computes at bar ``t`` (before its lag)."""

MICRO_KINDS: Final[dict[str, tuple[str, str]]] = {
    "quoted_spread_bps": ("quotes", "10^4 * (ask - bid) / mid of the last quote (window 1)"),
    "mid_return": ("quotes", "log(mid_t / mid_{t-window}) of the last quote's mid at each close"),
    "microprice_bps": (
        "quotes",
        "10^4 * (microprice - mid) / mid, microprice = (bid * Q_ask + ask * Q_bid) / "
        "(Q_bid + Q_ask) of the last quote (window 1)",
    ),
    "quote_imbalance": ("quotes", "(Q_bid - Q_ask) / (Q_bid + Q_ask) of the last quote (window 1)"),
    "order_flow_imbalance": (
        "quotes",
        "sum of Cont-Kukanov-Stoikov order flow e_n over the quotes of the last window bars "
        "(in units of quantity)",
    ),
    "depth_imbalance": (
        "book",
        "(sum Q_bid - sum Q_ask) / (sum Q_bid + sum Q_ask) over the best `levels` levels of "
        "the book at the close (window 1)",
    ),
    "trade_imbalance": (
        "trades",
        "(V_buy - V_sell) / (V_buy + V_sell) by aggressor side over the last window bars",
    ),
    "trade_intensity": ("trades", "trades per bar over the last window bars"),
    "vwap_mid_bps": (
        "trades",
        "10^4 * (VWAP of the last window bars' trades / mid of the last quote - 1)",
    ),
    "trade_realized_var": (
        "trades",
        "sum of squared trade-to-trade log returns over the last window bars",
    ),
    "kyle_lambda": (
        "trades",
        "OLS slope of per-bar log return of the last trade price on per-bar signed volume "
        "over the last window bars",
    ),
}
"""Microstructure kinds: the data each reads (``quotes``, ``trades``, ``book``) and what it
computes at bar ``t`` from the events with ``ts_init`` at or before the bar's ``ts_init``."""

KINDS.update({name: text for name, (_, text) in MICRO_KINDS.items()})

_ALSO_READS: Final = {"vwap_mid_bps": ("quotes",)}
_STATE_KINDS: Final = ("quoted_spread_bps", "microprice_bps", "quote_imbalance", "depth_imbalance")

LABEL_KINDS: Final[dict[str, str]] = {
    "forward_return": "log(close_{t+horizon} / close_t)",
    "triple_barrier": (
        "+1 / -1 if close first crosses close_t * exp(+upper * sigma) / exp(-lower * sigma) "
        "within horizon bars (sigma: realized_vol over vol_window up to t), else 0"
    ),
}
"""Label kinds: each reads bars after ``t``, so none can be a feature."""

_EXTERNAL_KINDS: Final = ("external", "external_return")
RESERVED_COLUMNS: Final = ("ts_event", "ts_init", "label", "label_end_ns")
"""Columns of a materialized table that are not features."""


class FeatureSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One feature: ``kind`` over ``window`` bars, shifted by ``lag`` bars.

    ``source`` and ``column`` name the external series and its value column (external kinds
    only); ``levels`` the book levels per side of ``depth_imbalance`` (only). ``name``
    defaults to ``<kind>_<window>`` (``<kind>_<levels>`` for ``depth_imbalance``;
    ``_lag<lag>`` when lagged, the source first for external kinds).
    """

    kind: str
    window: int = 1
    lag: int = 0
    source: str | None = None
    column: str | None = None
    name: str | None = None
    levels: int | None = None

    def __post_init__(self) -> None:
        label = self.name or self.kind
        if self.kind in LABEL_KINDS:
            raise ConfigError(
                f"feature {label}: {self.kind} is a label kind (it reads bars after t: "
                f"{LABEL_KINDS[self.kind]}); a feature may not see the future. Put it under "
                "[features.label]"
            )
        if self.kind not in KINDS:
            raise ConfigError(
                f"feature {label}: kind {self.kind!r} is unknown; kinds: {', '.join(KINDS)}"
            )
        if self.lag < 0:
            raise ConfigError(
                f"feature {label}: lag {self.lag} would read bar t{self.lag:+d} ahead of t "
                "(look-ahead); a lag is a whole number of bars >= 0"
            )
        if self.window < 1:
            raise ConfigError(f"feature {label}: window {self.window} must be at least 1 bar")
        if self.name in RESERVED_COLUMNS:
            raise ConfigError(
                f"feature name {self.name!r} is reserved for the materialized table's "
                f"{'label' if self.name.startswith('label') else 'timestamps'}"
            )
        minimum = 2 if self.kind in ("realized_vol", "zscore", "volume_zscore", "rsi") else 1
        if self.window < minimum:
            raise ConfigError(f"feature {label}: {self.kind} needs a window of at least {minimum}")
        is_external = self.kind in _EXTERNAL_KINDS
        if is_external and (self.source is None or self.column is None):
            raise ConfigError(f"feature {label}: {self.kind} needs source and column")
        if not is_external and (self.source is not None or self.column is not None):
            raise ConfigError(f"feature {label}: source and column are for external kinds only")
        if self.kind == "depth_imbalance":
            if self.levels is None or self.levels < 1:
                raise ConfigError(
                    f"feature {label}: depth_imbalance needs levels >= 1 (book levels per "
                    f"side), got {self.levels}"
                )
        elif self.levels is not None:
            raise ConfigError(f"feature {label}: levels is for depth_imbalance only")
        if self.kind in _STATE_KINDS and self.window != 1:
            raise ConfigError(
                f"feature {label}: {self.kind} is the state at the bar's close: its window is "
                f"1, not {self.window} (lag it to see an earlier close)"
            )
        if self.kind == "kyle_lambda" and self.window < 2:
            raise ConfigError(f"feature {label}: kyle_lambda needs a window of at least 2 bars")

    @property
    def data_kind(self) -> str:
        """Return what the kind reads: ``bars`` (and external series), ``quotes``,
        ``trades`` or ``book``."""
        micro = MICRO_KINDS.get(self.kind)
        return "bars" if micro is None else micro[0]

    @property
    def data_kinds(self) -> tuple[str, ...]:
        """Return every kind of event data the feature reads (``vwap_mid_bps`` reads the
        trades and the last quote's mid)."""
        return (self.data_kind, *_ALSO_READS.get(self.kind, ()))

    @property
    def feature_name(self) -> str:
        """Return the feature's column name."""
        if self.name is not None:
            return self.name
        base = f"{self.kind}_{self.levels if self.levels is not None else self.window}"
        if self.source is not None:
            base = f"{self.source}.{self.column}.{base}"
        return base + (f"_lag{self.lag}" if self.lag else "")


class LabelSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The training target: ``kind`` over the ``horizon`` bars after ``t``."""

    kind: str = "forward_return"
    horizon: int = 5
    upper: float = 1.0
    lower: float = 1.0
    vol_window: int = 20

    def __post_init__(self) -> None:
        if self.kind not in LABEL_KINDS:
            raise ConfigError(
                f"label kind {self.kind!r} is unknown; kinds: {', '.join(LABEL_KINDS)}"
            )
        if self.horizon < 1:
            raise ConfigError(f"label horizon {self.horizon} must be at least 1 bar")
        if not (self.upper > 0 and self.lower > 0):
            raise ConfigError(
                f"triple-barrier widths upper {self.upper} and lower {self.lower} must be > 0"
            )
        if self.vol_window < 2:
            raise ConfigError(f"label vol_window {self.vol_window} must be at least 2")


class ExternalSeriesSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A timestamped series from outside the run's market data, joined as of each bar.

    Either ``dataset`` (a bundled bar dataset, its columns ``open`` … ``volume`` as floats)
    or ``path`` (CSV or Parquet) with ``time_column`` (the source's timestamp, ISO-8601 or
    integer ns) and, if the source says when each value became known, ``ts_init_column``;
    otherwise a value is known ``publication_delay_s`` after its timestamp. A bar at
    ``ts_init`` sees the last value whose ``ts_init`` is at or before it.
    """

    name: str
    dataset: str | None = None
    path: str | None = None
    time_column: str = "ts_event"
    ts_init_column: str | None = None
    publication_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if (self.dataset is None) == (self.path is None):
            raise ConfigError(f"external series {self.name}: give exactly one of dataset, path")
        if self.publication_delay_s < 0:
            raise ConfigError(
                f"external series {self.name}: publication_delay_s {self.publication_delay_s} "
                "must be >= 0 (a value is never known before its timestamp)"
            )


class FeatureSetConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The run config's ``[features]`` table: a named feature set, its label and its store.

    ``store`` is the directory (relative to the config file) that holds materialized
    features and the model registry.
    """

    name: str
    definitions: list[FeatureSpec]
    label: LabelSpec = LabelSpec()
    external: list[ExternalSeriesSpec] = []
    store: str = "store"

    def __post_init__(self) -> None:
        if not self.definitions:
            raise ConfigError(f"feature set {self.name} has no definitions")
        names = [d.feature_name for d in self.definitions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"feature set {self.name}: duplicate feature names {duplicates}")
        sources = [s.name for s in self.external]
        if len(set(sources)) != len(sources):
            raise ConfigError(f"feature set {self.name}: external series names repeat")
        for spec in self.definitions:
            if spec.source is not None and spec.source not in sources:
                raise ConfigError(
                    f"feature {spec.feature_name}: source {spec.source!r} is not an "
                    f"[[features.external]] series (series: {', '.join(sources) or 'none'})"
                )

    @property
    def feature_names(self) -> list[str]:
        """Return the feature columns, in definition order."""
        return [d.feature_name for d in self.definitions]

    @property
    def micro_data(self) -> tuple[str, ...]:
        """Return the event data the feature set reads besides bars, sorted (``book``,
        ``quotes``, ``trades``)."""
        kinds = {kind for d in self.definitions for kind in d.data_kinds}
        return tuple(sorted(kinds - {"bars"}))

    @property
    def warmup_bars(self) -> int:
        """Return the bars before every feature can have a value (window + lag + 1)."""
        return max(d.window + d.lag + 1 for d in self.definitions)

    def definition_hash(self) -> str:
        """Return the SHA-256 of the features' definitions (names, kinds, windows, lags,
        external series), which is what a model trained on them depends on. The label and
        the store are left out: the same features with another label are the same features.
        """
        # ``levels`` came after version 1: hashed only where set, so that feature sets
        # without it keep the hash their materialized files and models carry.
        definitions = [
            {k: v for k, v in msgspec.to_builtins(d).items() if k != "levels" or v is not None}
            for d in self.definitions
        ]
        identity = {
            "definitions": definitions,
            "external": self.external,
            "version": FEATURE_CODE_VERSION,
        }
        return hashlib.sha256(msgspec.json.encode(identity, order="sorted")).hexdigest()


FEATURE_CODE_VERSION: Final = "1"
"""Bumped whenever a kind's computation changes: materialized files and models of an older
version no longer match."""
