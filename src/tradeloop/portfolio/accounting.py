"""Portfolio accounting: cash, net positions, average price, realized and unrealized P&L,
fees and the equity curve, across many instruments, in one base currency.

Cash accounts (equities, crypto spot) pay the full notional of a buy and receive it on a
sale; margin accounts (futures, perpetuals, FX) settle only realized P&L. Either way, at the
fill price the equity before a fill equals the equity after it plus the fee: cash plus
marked positions, less fees, is conserved (a property test checks it on random fills).

Amounts in another currency than the base go through an ``FxConverter`` (the FX hook); a
run whose instruments need one and have none stops at startup with a ``ConfigError``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tradeloop.bus.bus import MessageBus
from tradeloop.bus.topics import ACCOUNT_EVENTS, position_events_topic
from tradeloop.core.clock import Clock
from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Money, Price, notional_raw, pow10
from tradeloop.journal.store import Journal
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.enums import AccountType, OrderSide
from tradeloop.model.events import AccountStateChanged, OrderFilled, PositionChanged
from tradeloop.model.instruments import Instrument
from tradeloop.model.position import Position


class FxConverter(Protocol):
    """The FX hook: the rate that converts one unit of ``from_currency`` into ``to_currency``."""

    def rate(self, from_currency: str, to_currency: str, ts_ns: int) -> Decimal:
        """Return the conversion rate at ``ts_ns``."""
        ...


class Portfolio:
    """Positions and one cash account in ``base_currency``."""

    def __init__(
        self,
        clock: Clock,
        bus: MessageBus,
        journal: Journal,
        instruments: Mapping[str, Instrument],
        starting_cash: Money,
        account_id: str = "SIM-001",
        fx: FxConverter | None = None,
    ) -> None:
        self.clock = clock
        self.bus = bus
        self.journal = journal
        self.instruments = instruments
        self.base_currency = starting_cash.currency
        self.account_id = account_id
        self.starting_cash = starting_cash
        self._fx = fx
        for instrument in instruments.values():
            if instrument.quote_currency != self.base_currency and fx is None:
                raise ConfigError(
                    f"instrument {instrument.id} is quoted in {instrument.quote_currency} but the "
                    f"account's base currency is {self.base_currency}; configure an FX converter"
                )
        self.cash = starting_cash.raw
        # Per-venue accounts (``use_venue_accounts``): each venue's cash, base currency raw.
        self.venue_cash: dict[str, int] | None = None
        self.fees = 0
        # What fill prices paid over their reference prices, by kind (base currency, money raw):
        # with ``fees`` these make gross P&L = net P&L + costs.
        self.price_costs: dict[str, int] = {"spread": 0, "slippage": 0, "impact": 0}
        self.realized = 0
        self.positions: dict[tuple[str, str], Position] = {}
        self.net_raw: dict[str, int] = {}
        # The latest price of each instrument: a bar (its close, read on demand: no object per
        # bar) or a Price. Read it through ``mark_price``.
        self.marks: dict[str, Price | Bar] = {}
        self._open: dict[tuple[str, str], Position] = {}
        self._instrument_info: dict[str, tuple[Instrument, bool, bool]] = {}
        self._position_topics: dict[str, str] = {}
        # (position, float factor) of open positions of every instrument, for the equity curve.
        self._curve_terms: list[tuple[Position, float, bool]] = []
        self._curve_terms_stale = False
        self.equity_ts: array[int] = array("q")
        self.equity_values: array[float] = array("d")
        # Aligned with the equity curve: gross exposure (Σ |position value|), cumulative costs
        # (fees + spread + slippage + impact: equity + costs is the curve before costs) and the
        # notional traded since the previous point.
        self.gross_values: array[float] = array("d")
        self.cost_values: array[float] = array("d")
        self.traded_values: array[float] = array("d")
        self._traded_since = 0.0
        # One exact entry per fill: (ts, instrument id, net signed qty, net cost, cash, cumulative
        # costs, fill notional) raws. A backtest rebuilds its curves from it and the marks
        # (``rebuild_equity_curve``).
        self.state_log: list[tuple[int, str, int, int, int, int, int]] = []
        self.fill_count = 0
        # Called with every fill once it is applied (a live node's venue ledger).
        self.fill_observers: list[Callable[[OrderFilled], None]] = []

    # -- market data ------------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Mark ``bar.instrument_id`` at the bar's close."""
        self.marks[bar.instrument_id] = bar

    def on_quote(self, quote: QuoteTick) -> None:
        """Mark at the mid price (one extra decimal keeps it exact)."""
        bid, ask = quote.bid_price, quote.ask_price
        self.marks[quote.instrument_id] = Price((bid.raw + ask.raw) * 5, bid.precision + 1)

    def on_trade(self, trade: TradeTick) -> None:
        """Mark at the last trade price."""
        self.marks[trade.instrument_id] = trade.price

    def mark_price(self, instrument_id: str) -> Price | None:
        """Return the latest mark of ``instrument_id`` (None before its first price)."""
        mark = self.marks.get(instrument_id)
        if type(mark) is Bar:
            return Price(mark.close_raw, mark.price_precision)
        return mark  # type: ignore[return-value]

    # -- fills -------------------------------------------------------------------------------------

    def on_order_event(self, event: object) -> None:
        """Apply fills (other order events do not move money)."""
        if type(event) is OrderFilled:
            self.apply_fill(event)

    def _info(self, instrument_id: str) -> tuple[Instrument, bool, bool]:
        info = self._instrument_info.get(instrument_id)
        if info is None:
            instrument = self.instruments[instrument_id]
            info = (
                instrument,
                instrument.account_type is AccountType.CASH,
                instrument.quote_currency == self.base_currency,
            )
            self._instrument_info[instrument_id] = info
        return info

    def apply_fill(self, fill: OrderFilled) -> None:
        """Update the position, cash and fees for ``fill`` and publish what changed."""
        instrument_id = fill.instrument_id
        instrument, is_cash, is_base = self._info(instrument_id)
        key = (fill.strategy_id, instrument_id)
        position = self.positions.get(key)
        if position is None:
            mult_raw, mult_precision = instrument.multiplier_parts
            position = Position(
                instrument_id,
                fill.strategy_id,
                instrument.size_precision,
                instrument.quote_currency,
                mult_raw,
                mult_precision,
            )
            self.positions[key] = position
        before_raw = position.signed_raw
        realized = position.apply_fill(fill)
        after_raw = position.signed_raw
        net_raw = self.net_raw
        net_raw[instrument_id] = net = net_raw.get(instrument_id, 0) + after_raw - before_raw
        quote = instrument.quote_currency
        base = self.base_currency
        ts = fill.ts_event
        commission = fill.commission
        fee = (
            commission.raw
            if commission.currency == base
            else self._to_base(commission.raw, commission.currency, ts)
        )
        # The fill's notional in the quote currency: cash moves by it in a cash account, and
        # it is what the fill traded (turnover).
        traded = notional_raw(
            fill.last_px, fill.last_qty, position.multiplier_raw, position.multiplier_precision
        )
        cash_before = self.cash
        if is_base:
            fill_value = traded
            if is_cash:
                self.cash += -traded if fill.order_side is OrderSide.BUY else traded
            else:
                self.cash += realized
            self.realized += realized
        else:
            fill_value = self._to_base(traded, quote, ts)
            if is_cash:
                signed_value = -traded if fill.order_side is OrderSide.BUY else traded
                self.cash += self._to_base(signed_value, quote, ts)
            else:
                self.cash += self._to_base(realized, quote, ts)
            self.realized += self._to_base(realized, quote, ts)
        self.cash -= fee
        self.fees += fee
        if self.venue_cash is not None:
            self.venue_cash[instrument.venue] += self.cash - cash_before
        costs = fill.costs
        if costs is not None and (costs.spread or costs.slippage or costs.impact):
            price_costs = self.price_costs
            price_costs["spread"] += self._to_base(costs.spread, quote, ts)
            price_costs["slippage"] += self._to_base(costs.slippage, quote, ts)
            price_costs["impact"] += self._to_base(costs.impact, quote, ts)
        self.fill_count += 1
        net_cost = 0
        for (_, held_instrument), held in self._open.items():
            if held_instrument == instrument_id and held is not position:
                net_cost += held.cost_raw if held.signed_raw > 0 else -held.cost_raw
        if after_raw:
            net_cost += position.cost_raw if after_raw > 0 else -position.cost_raw
        self._traded_since += fill_value / 1e9
        self.state_log.append(
            (ts, instrument_id, net, net_cost, self.cash, self.total_costs_raw(), fill_value)
        )
        is_open = after_raw != 0
        if is_open != (before_raw != 0):
            if is_open:
                self._open[key] = position
            else:
                del self._open[key]
            self._curve_terms_stale = True  # rebuilt by the next snapshot (paper/live only)
        now = self.clock.timestamp_ns()
        changed = PositionChanged(
            instrument_id=instrument_id,
            strategy_id=fill.strategy_id,
            side=position.side,
            quantity=position.quantity,
            signed_qty_raw=after_raw,
            avg_px_open=position.avg_px_open,
            realized_pnl=Money(position.realized_raw, quote),
            last_trade_id=fill.trade_id,
            ts_event=ts,
            ts_init=now,
        )
        journal_append = self.journal.append
        journal_append(changed)
        topic = self._position_topics.get(fill.strategy_id)
        if topic is None:
            topic = self._position_topics[fill.strategy_id] = position_events_topic(
                fill.strategy_id
            )
        publish = self.bus.publish
        publish(topic, changed)
        state = AccountStateChanged(
            account_id=self.account_id,
            cash=Money(self.cash, base),
            fees_total=Money(self.fees, base),
            realized_pnl=Money(self.realized, base),
            ts_event=ts,
            ts_init=now,
        )
        journal_append(state)
        publish(ACCOUNT_EVENTS, state)
        for observer in self.fill_observers:
            observer(fill)

    def _to_base(self, raw: int, currency_code: str, ts_ns: int) -> int:
        if currency_code == self.base_currency or raw == 0:
            return raw
        if self._fx is None:
            raise ConfigError(
                f"amount in {currency_code} needs an FX converter to {self.base_currency}"
            )
        rate = self._fx.rate(currency_code, self.base_currency, ts_ns)
        return int((Decimal(raw) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))

    # -- valuation (AccountView for risk) ----------------------------------------------------------

    def total_costs_raw(self) -> int:
        """Return fees plus spread, slippage and impact paid so far (money raw, base currency)."""
        return self.fees + sum(self.price_costs.values())

    def cash_raw(self) -> int:
        """Return cash in the base currency (money raw)."""
        return self.cash

    def use_venue_accounts(self, starting: dict[str, int]) -> None:
        """Keep one cash account per venue, starting at ``starting`` (venue -> money raw,
        base currency; they must add up to the starting cash).

        Raises
        ------
        ConfigError
            If the accounts do not add up to the starting cash, or a venue of an instrument
            has none.
        """
        total = sum(starting.values())
        if total != self.starting_cash.raw:
            raise ConfigError(
                f"the venue accounts add up to {total / 1e9:,.2f} {self.base_currency} but the "
                f"run's starting_cash is {self.starting_cash.raw / 1e9:,.2f}: make them equal"
            )
        missing = sorted({i.venue for i in self.instruments.values()} - set(starting))
        if missing:
            raise ConfigError(
                f"venue {', '.join(missing)} trades instruments but has no [accounts.<VENUE>] "
                "table (with accounts, every venue needs one)"
            )
        self.venue_cash = dict(starting)

    def venue_cash_raw(self, venue: str) -> int | None:
        """Return the cash of ``venue``'s account (None without per-venue accounts)."""
        return None if self.venue_cash is None else self.venue_cash.get(venue, 0)

    def position_raw(self, instrument_id: str) -> int:
        """Return the net signed position in ``instrument_id`` over all strategies."""
        return self.net_raw.get(instrument_id, 0)

    def position(self, instrument_id: str, strategy_id: str) -> Position | None:
        """Return one strategy's position in ``instrument_id`` (None if it never traded it)."""
        return self.positions.get((strategy_id, instrument_id))

    def open_positions(self) -> list[Position]:
        """Return the non-flat positions, ordered by (strategy id, instrument id)."""
        return [self._open[key] for key in sorted(self._open)]

    def _position_value_raw(self, position: Position) -> int:
        mark = self.mark_price(position.instrument_id)
        if mark is None:
            # No mark yet: value at cost (the fill is the only price seen).
            return position.cost_raw if position.signed_raw > 0 else -position.cost_raw
        return position.market_value_raw(mark.raw, mark.precision)

    def equity_raw(self) -> int:
        """Return cash plus marked positions in the base currency (money raw)."""
        total = self.cash
        now = self.clock.timestamp_ns()
        for position in self._open.values():
            instrument = self.instruments[position.instrument_id]
            if instrument.account_type is AccountType.CASH:
                value = self._position_value_raw(position)
            else:
                mark = self.mark_price(position.instrument_id)
                value = 0 if mark is None else position.unrealized_raw(mark.raw, mark.precision)
            total += self._to_base(value, instrument.quote_currency, now)
        return total

    def unrealized_raw(self) -> int:
        """Return the unrealized P&L of all open positions (money raw, base currency)."""
        total = 0
        now = self.clock.timestamp_ns()
        for position in self._open.values():
            mark = self.mark_price(position.instrument_id)
            if mark is not None:
                value = position.unrealized_raw(mark.raw, mark.precision)
                total += self._to_base(value, position.currency, now)
        return total

    def gross_exposure_raw(self) -> int:
        """Return the sum of absolute marked position values (money raw, base currency)."""
        total = 0
        now = self.clock.timestamp_ns()
        for position in self._open.values():
            value = abs(self._position_value_raw(position))
            total += abs(self._to_base(value, position.currency, now))
        return total

    def equity(self) -> Money:
        """Return equity as ``Money`` in the base currency."""
        return Money(self.equity_raw(), self.base_currency)

    # -- equity curve -----------------------------------------------------------------------------

    def rebuild_equity_curve(
        self,
        timestamps: npt.NDArray[np.int64],
        marks: Mapping[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]],
    ) -> None:
        """Fill the equity curve at ``timestamps`` from the fill log and mark series.

        ``marks`` maps each instrument to (ts_init, mark) arrays in kernel order (the last
        mark at a timestamp wins). The equity at ``t`` is the cash after every fill at or
        before ``t`` plus each position marked at its last mark at or before ``t`` — the same
        numbers ``snapshot`` takes record by record, computed in bulk after a backtest.

        Raises
        ------
        ConfigError
            If an instrument is quoted in another currency than the base: that needs the FX
            hook at every point, so such runs keep ``snapshot`` per record.
        """
        ts_points = np.asarray(timestamps, dtype=np.int64)
        log = self.state_log
        log_ts = np.array([entry[0] for entry in log], dtype=np.int64)
        cash = (
            np.array([self.starting_cash.raw] + [entry[4] for entry in log], dtype=np.float64) / 1e9
        )
        series: list[
            tuple[
                npt.NDArray[np.int64],
                npt.NDArray[np.float64],
                npt.NDArray[np.float64],
                npt.NDArray[np.int64] | None,
                npt.NDArray[np.float64],
                bool,
            ]
        ] = []
        for instrument_id in sorted({entry[1] for entry in log}):
            instrument, is_cash, is_base = self._info(instrument_id)
            if not is_base:
                raise ConfigError(
                    f"{instrument_id} needs FX conversion: build the curve record by record"
                )
            rows = [entry for entry in log if entry[1] == instrument_id]
            mult_raw, mult_precision = instrument.multiplier_parts
            factor = mult_raw / pow10(mult_precision + instrument.size_precision)
            pos_ts = np.array([r[0] for r in rows], dtype=np.int64)
            # Index 0 is "before the first fill": flat, no cost basis.
            qty = np.array([0] + [r[2] for r in rows], dtype=np.float64) * factor
            cost = np.array([0] + [r[3] for r in rows], dtype=np.float64) / 1e9
            mark_ts, mark_values = marks[instrument_id]
            # One source whose timestamps are the curve's: its marks line up, no search needed.
            aligned = len(mark_ts) == len(ts_points) and bool(np.array_equal(mark_ts, ts_points))
            padded = np.concatenate(([0.0], mark_values))
            series.append((pos_ts, qty, cost, None if aligned else mark_ts, padded, is_cash))
        costs = np.array([0] + [entry[5] for entry in log], dtype=np.float64) / 1e9
        # Notional traded up to and including each fill (index 0: before the first fill).
        traded_upto = np.concatenate(([0.0], np.cumsum([entry[6] / 1e9 for entry in log])))
        size = len(ts_points)
        equity = np.empty(size, dtype=np.float64)
        gross = np.zeros(size, dtype=np.float64)
        cost_curve = np.empty(size, dtype=np.float64)
        traded = np.empty(size, dtype=np.float64)
        block = 65_536  # bounded temporaries: memory stays flat however long the run
        previous_upto = 0.0
        for lo in range(0, size, block):
            hi = min(lo + block, size)
            points = ts_points[lo:hi]
            at = np.searchsorted(log_ts, points, side="right")
            values = equity[lo:hi]
            np.take(cash, at, out=values)
            np.take(costs, at, out=cost_curve[lo:hi])
            upto = traded_upto[at]
            traded[lo:hi] = np.diff(upto, prepend=previous_upto)
            previous_upto = float(upto[-1]) if len(upto) else previous_upto
            exposure = gross[lo:hi]
            for pos_ts, qty, cost, series_ts, series_marks, is_cash in series:
                k = np.searchsorted(pos_ts, points, side="right")
                if series_ts is None:
                    mark = series_marks[lo + 1 : hi + 1]
                else:
                    mark = series_marks[np.searchsorted(series_ts, points, side="right")]
                held = qty[k] * mark
                values += held if is_cash else held - cost[k]
                exposure += np.abs(held)
        # NumPy arrays serve the buffer protocol like ``array.array``: kept without a copy.
        self.equity_ts = ts_points  # type: ignore[assignment]
        self.equity_values = equity  # type: ignore[assignment]
        self.gross_values = gross  # type: ignore[assignment]
        self.cost_values = cost_curve  # type: ignore[assignment]
        self.traded_values = traded  # type: ignore[assignment]

    def _rebuild_curve_terms(self) -> None:
        terms: list[tuple[Position, float, bool]] = []
        for key in sorted(self._open):
            position = self._open[key]
            instrument = self.instruments[position.instrument_id]
            mult_raw, mult_precision = instrument.multiplier_parts
            factor = mult_raw / pow10(mult_precision + position.size_precision)
            if instrument.quote_currency != self.base_currency:
                terms = []  # FX-converted valuation: use the exact path
                self._curve_terms = [(position, -1.0, False)]
                return
            terms.append((position, factor, instrument.account_type is AccountType.CASH))
        self._curve_terms = terms

    def snapshot(self, ts_ns: int) -> None:
        """Append the equity at ``ts_ns`` to the equity curve (floats, for analytics)."""
        if self._curve_terms_stale:
            self._rebuild_curve_terms()
            self._curve_terms_stale = False
        equity = self.cash / 1e9
        for position, factor, is_cash in self._curve_terms:
            if factor < 0:
                equity = self.equity_raw() / 1e9
                break
            mark = self.mark_price(position.instrument_id)
            if mark is None:
                continue
            value = position.signed_raw * mark.raw * factor / pow10(mark.precision)
            if is_cash:
                equity += value
            else:
                cost = position.cost_raw / 1e9
                equity += value - cost if position.signed_raw > 0 else value + cost
        self.equity_ts.append(ts_ns)
        self.equity_values.append(equity)
        self.gross_values.append(self.gross_exposure_raw() / 1e9 if self._open else 0.0)
        self.cost_values.append(self.total_costs_raw() / 1e9)
        self.traded_values.append(self._traded_since)
        self._traded_since = 0.0
