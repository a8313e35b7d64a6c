"""A feature set over one instrument's bars: in bulk (``compute_features``) and bar by bar
(``OnlineFeatures``), from the same definitions, with the same values bit for bit.

Microstructure kinds (``features.micro``) read the instrument's quotes, trades and book
deltas besides its bars: in bulk from ``MicroData``; online from ``on_quote``, ``on_trade``
and ``on_book`` as the kernel delivers them, summed up when the instrument's bar arrives.

``check_causal`` proves the bulk values causal on the data at hand: it recomputes them on
prefixes of the bars and of the events (what was known at each cut) and requires every value
up to the cut to be unchanged. A kind whose value at bar ``t`` moves when later bars arrive
reads the future; materialization refuses it (``ConfigError``) before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError
from tradeloop.data.columns import BarColumns
from tradeloop.features import definitions
from tradeloop.features.compute import NAN, BarArrays, OnlineFeature, bulk_feature
from tradeloop.features.definitions import FeatureSetConfig, FeatureSpec
from tradeloop.features.external import ExternalSeries
from tradeloop.features.micro import MicroData, MicroFeature, MicroState
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick

F64 = npt.NDArray[np.float64]

BulkKind = Callable[[FeatureSpec, BarArrays, Any], F64]
OnlineKind = Callable[[FeatureSpec], Any]
_CUSTOM: dict[str, tuple[BulkKind, OnlineKind]] = {}
_READS: Final = ("bars", "quotes", "trades", "book")


def register_kind(
    name: str, description: str, bulk: BulkKind, online: OnlineKind, reads: str = "bars"
) -> None:
    """Add a feature kind: a bulk function and a factory of its bar-by-bar twin.

    A kind that ``reads`` bars gets ``bulk(spec, bars, external values or None)`` and
    ``online(spec)`` returns an ``OnlineFeature``; one that reads ``quotes``, ``trades`` or
    ``book`` gets ``bulk(spec, bars, MicroData)`` and ``online(spec)`` returns a
    ``MicroFeature``. A registered kind is held to the same rules as the built-in ones:
    materialization checks it is causal (``check_causal``, on bars and events) and the parity
    of its two forms is the user's to test.

    Raises
    ------
    ConfigError
        If the kind exists already or ``reads`` is not one of bars, quotes, trades, book.
    """
    if name in definitions.KINDS or name in definitions.LABEL_KINDS:
        raise ConfigError(f"feature kind {name!r} exists already")
    if reads not in _READS:
        raise ConfigError(f"feature kind {name}: reads {reads!r} is not one of {_READS}")
    definitions.KINDS[name] = description
    if reads != "bars":
        definitions.MICRO_KINDS[name] = (reads, description)
    _CUSTOM[name] = (bulk, online)


def unregister_kind(name: str) -> None:
    """Remove a kind ``register_kind`` added."""
    if _CUSTOM.pop(name, None) is not None:
        del definitions.KINDS[name]
        definitions.MICRO_KINDS.pop(name, None)


def bar_arrays(bars: BarColumns) -> BarArrays:
    """Return ``bars`` as floats, converted as the indicators convert a ``Bar``."""
    price = 10**bars.price_precision
    volume = 10**bars.volume_precision
    return BarArrays(
        bars.ts_event.copy(),
        bars.ts_init.copy(),
        bars.high / price,
        bars.low / price,
        bars.close / price,
        bars.volume / volume,
    )


def external_values(
    config: FeatureSetConfig, bars: BarArrays, externals: Mapping[str, ExternalSeries]
) -> dict[str, F64]:
    """Return each external (source, column) as of every bar, keyed ``source.column``."""
    out: dict[str, F64] = {}
    for spec in config.definitions:
        if spec.source is None or spec.column is None:
            continue
        key = f"{spec.source}.{spec.column}"
        if key not in out:
            series = externals.get(spec.source)
            if series is None:
                raise ConfigError(
                    f"feature {spec.feature_name}: external series {spec.source} is not loaded"
                )
            out[key] = series.asof_many(spec.column, bars.ts_init)
    return out


def depth_levels(config: FeatureSetConfig) -> tuple[int, ...]:
    """Return the book depths (levels per side) the feature set's depth kinds read."""
    return tuple(sorted({d.levels for d in config.definitions if d.levels is not None}))


def _check_micro(config: FeatureSetConfig, instrument: str, micro: MicroData | None) -> None:
    for spec in config.definitions:
        for kind in spec.data_kinds:
            if kind != "bars" and (micro is None or getattr(micro, kind) is None):
                raise ConfigError(
                    f"feature {spec.feature_name} reads {kind} and the data has none for "
                    f"{instrument}: add its {kind} to the run's [[data]]"
                )


def _lagged(values: F64, lag: int) -> F64:
    if lag == 0:
        return values
    out = np.full(len(values), NAN)
    if len(values) > lag:
        out[lag:] = values[: len(values) - lag]
    return out


def compute_features(
    config: FeatureSetConfig,
    bars: BarArrays,
    externals: Mapping[str, ExternalSeries],
    micro: MicroData | None = None,
    instrument_id: str = "the instrument",
) -> dict[str, F64]:
    """Return every feature of ``config`` at every bar, by feature name (definition order).

    ``micro`` holds the instrument's quotes, trades and book deltas, needed by the
    microstructure kinds (``ConfigError`` naming the feature and the data without them).
    """
    joined = external_values(config, bars, externals)
    arrays = None
    if config.micro_data:
        from tradeloop.features.micro_bulk import MicroArrays

        _check_micro(config, instrument_id, micro)
        assert micro is not None
        arrays = MicroArrays(bars.ts_init, micro, depth_levels(config))
    out: dict[str, F64] = {}
    for spec in config.definitions:
        external = None if spec.source is None else joined[f"{spec.source}.{spec.column}"]
        custom = _CUSTOM.get(spec.kind)
        if custom is not None:
            given = micro if spec.data_kind != "bars" else external
            out[spec.feature_name] = np.asarray(custom[0](spec, bars, given), dtype=np.float64)
        elif arrays is not None and spec.data_kind != "bars":
            from tradeloop.features.micro_bulk import micro_feature

            out[spec.feature_name] = _lagged(micro_feature(spec, arrays), spec.lag)
        else:
            out[spec.feature_name] = bulk_feature(spec, bars, external)
    return out


def _same(a: F64, b: F64) -> npt.NDArray[np.bool_]:
    # Bit for bit, any NaN equal to any NaN.
    same: npt.NDArray[np.bool_] = (a.view(np.int64) == b.view(np.int64)) | (
        np.isnan(a) & np.isnan(b)
    )
    return same


PROBES: Final = 4


def check_causal(
    config: FeatureSetConfig,
    bars: BarArrays,
    externals: Mapping[str, ExternalSeries],
    full: Mapping[str, F64] | None = None,
    probes: int = PROBES,
    micro: MicroData | None = None,
) -> None:
    """Check that no feature's value at a bar changes when later bars or events become known.

    The features are recomputed on ``probes`` prefixes of the bars (cut after the warm-up,
    spread over the data), with the events known at the last bar of each prefix (``micro``:
    ``ts_init`` at or before it), and compared, bit for bit, with the values on the whole
    data.

    Raises
    ------
    ConfigError
        Naming the first feature whose value at a bar depends on a later bar.
    """
    n = len(bars)
    values = compute_features(config, bars, externals, micro) if full is None else full
    start = min(n - 1, config.warmup_bars + 1)
    if n < 3 or start < 1:
        return
    cuts = sorted({int(c) for c in np.linspace(start, n - 1, probes)})
    for cut in cuts:
        known = None if micro is None else micro.head(int(bars.ts_init[cut - 1]))
        head = compute_features(config, bars.head(cut), externals, known)
        for name, prefix in head.items():
            differs = np.flatnonzero(~_same(prefix, values[name][:cut]))
            if differs.size:
                index = int(differs[0])
                raise ConfigError(
                    f"feature {name} is not causal: its value at bar {index} is "
                    f"{prefix[index]!r} with the bars known then and {values[name][index]!r} "
                    f"once bar {cut} and later are known (look-ahead); it is refused"
                )


class OnlineFeatures:
    """A feature set updated bar by bar for each instrument (``update``, ``latest``).

    A set with microstructure kinds also takes each instrument's events as they arrive
    (``on_quote``, ``on_trade``, ``on_book``), before the bar that closes over them.
    """

    def __init__(self, config: FeatureSetConfig, externals: Mapping[str, ExternalSeries]) -> None:
        self.config = config
        self.names = tuple(config.feature_names)
        self._externals = dict(externals)
        for spec in config.definitions:
            if spec.source is not None and spec.source not in self._externals:
                raise ConfigError(
                    f"feature {spec.feature_name}: external series {spec.source} is not loaded"
                )
        self._features: dict[str, list[OnlineFeature | MicroFeature]] = {}
        self._latest: dict[str, tuple[float, ...]] = {}
        self._ts: dict[str, int] = {}
        self.micro_data = config.micro_data
        self._levels = depth_levels(config)
        self._micro: dict[str, MicroState] = {}

    def _make(self) -> list[OnlineFeature | MicroFeature]:
        out: list[OnlineFeature | MicroFeature] = []
        for spec in self.config.definitions:
            custom = _CUSTOM.get(spec.kind)
            if custom is not None:
                out.append(custom[1](spec))
            elif spec.data_kind != "bars":
                out.append(MicroFeature(spec))
            else:
                out.append(OnlineFeature(spec))
        return out

    def _state(self, instrument_id: str) -> MicroState:
        state = self._micro.get(instrument_id)
        if state is None:
            state = self._micro[instrument_id] = MicroState(self._levels)
        return state

    def on_quote(self, quote: QuoteTick) -> None:
        """Take a quote of an instrument (microstructure kinds)."""
        if "quotes" in self.micro_data:
            self._state(quote.instrument_id).on_quote(quote)

    def on_trade(self, trade: TradeTick) -> None:
        """Take a trade print of an instrument (microstructure kinds)."""
        if "trades" in self.micro_data:
            self._state(trade.instrument_id).on_trade(trade)

    def on_book(self, record: Any) -> None:
        """Take an order-book record: one ``OrderBookDelta``, or a delta stream's venue event
        (``engine.feed.BookEvent``: rows ``start:stop`` of its ``columns``)."""
        if "book" not in self.micro_data:
            return
        state = self._state(record.instrument_id)
        if isinstance(record, OrderBookDelta):
            state.on_book_delta(record)
        else:
            state.on_book_rows(record.columns, record.start, record.stop)

    def update(self, bar: Bar) -> tuple[float, ...]:
        """Take ``bar``; return every feature's value at it (definition order)."""
        features = self._features.get(bar.instrument_id)
        if features is None:
            features = self._features[bar.instrument_id] = self._make()
        price = 10**bar.price_precision
        high, low = bar.high_raw / price, bar.low_raw / price
        close = bar.close_raw / price
        volume = bar.volume_raw / 10**bar.volume_precision
        snapshot = self._state(bar.instrument_id).close() if self.micro_data else None
        row = []
        for feature in features:
            if isinstance(feature, MicroFeature):
                assert snapshot is not None
                row.append(feature.update(snapshot))
                continue
            spec = feature.spec
            external = NAN
            if spec.source is not None and spec.column is not None:
                external = self._externals[spec.source].asof(spec.column, bar.ts_init)
            row.append(feature.update(high, low, close, volume, external))
        values = tuple(row)
        self._latest[bar.instrument_id] = values
        self._ts[bar.instrument_id] = bar.ts_init
        return values

    def latest(self, instrument_id: str) -> tuple[float, ...] | None:
        """Return the values at the instrument's last bar (None before its first)."""
        return self._latest.get(instrument_id)

    def latest_ts(self, instrument_id: str) -> int | None:
        """Return the ``ts_init`` of the instrument's last bar."""
        return self._ts.get(instrument_id)

    def missing(self, instrument_id: str) -> list[str]:
        """Return the features without a finite value at the instrument's last bar."""
        row = self._latest.get(instrument_id)
        if row is None:
            return list(self.names)
        return [n for n, v in zip(self.names, row, strict=True) if not math.isfinite(v)]
