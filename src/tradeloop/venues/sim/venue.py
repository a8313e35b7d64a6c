"""The simulated venue: an ``ExecutionClient`` that matches orders against market data.

Level 1 (``fidelity="bars"``), per bar of an instrument with working orders:

1. **Open.** Market orders fill at the open (plus slippage). A limit order the open has
   already passed fills at the open (price improvement); a stop the open gapped through
   triggers and fills at the open (plus slippage). IOC and FOK orders get this one chance.
2. **Path.** The bar is walked open → nearer extreme → other extreme → close (the nearer
   extreme first; high first on a tie). On each segment, resting limits fill at their limit
   when the price goes beyond it by a tick (``limit_fill="through"``, default) or reaches it
   (``"touch"``); stops trigger when the price reaches the trigger and fill at the trigger
   plus slippage, never outside the bar's range; a triggered stop-limit rests as a limit.
3. **Participation.** With ``max_participation``, the fills of one bar are capped at that
   fraction of its volume, in arrival order; the rest waits for later bars.
4. **Expiry.** DAY orders expire at the close of their session (exchange calendar; UTC
   midnight for 24/7 instruments), GTD orders at their expire time.

Level 2 (``fidelity="quotes"``): marketable orders fill against the best bid/ask, up to the
displayed size; resting limits fill at their price when the opposite quote or a trade goes
through them; stops trigger on the quote or trade prices.

Level 3 (``impact``, on either): every taker fill pays, over its reference price, the half
spread (bars: ``half_spread_bps``), the slippage, and temporary impact from the configured
model, plus the permanent impact our earlier fills left; each fill reports the reference
price and what each component cost (``OrderFilled.costs``). A taker fill never prices
outside its bar's range: when the adjustments would push it out, they are scaled down
together.

Fills are ``OrderFilled`` events with trade ids ``T-<venue>-<n>``; every response goes to the
``emit`` sink given at construction (the kernel's deferred queue), never straight to callers.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Mapping
from typing import Any

import msgspec

from tradeloop.core.clock import Clock
from tradeloop.core.fixed import Price, Quantity, notional_raw, pow10
from tradeloop.core.ids import IdGenerator
from tradeloop.costs.fees import commission
from tradeloop.costs.impact import square_root_impact_bps
from tradeloop.costs.slippage import slipped_price
from tradeloop.execution.ports import EventSink
from tradeloop.model.commands import CancelOrder, ModifyOrder, SubmitOrder
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradeloop.model.events import (
    FillCosts,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
    OrderUpdated,
)
from tradeloop.model.instruments import Instrument
from tradeloop.venues.sim.config import SimVenueConfig

_DAY_NS = 86_400_000_000_000


class _MarketStats:
    """Rolling σ and volume of one instrument for the impact model (venue-side estimates)."""

    __slots__ = ("last_close", "log_returns", "permanent_bps", "volumes")

    def __init__(self, window: int) -> None:
        self.log_returns: deque[float] = deque(maxlen=window)
        self.volumes: deque[float] = deque(maxlen=window)
        self.last_close = 0.0
        self.permanent_bps = 0.0

    def update(self, bar: Bar, decay: float) -> None:
        close = bar.close_raw / pow10(bar.price_precision)
        if self.last_close > 0 and close > 0:
            self.log_returns.append(math.log(close / self.last_close))
        self.last_close = close
        self.volumes.append(bar.volume_raw / pow10(bar.volume_precision))
        self.permanent_bps *= decay


class _Working:
    """A working order as the venue sees it (raws at the instrument's precision)."""

    __slots__ = (
        "expire_ns",
        "init",
        "is_buy",
        "is_resting",
        "is_triggered",
        "leaves_raw",
        "limit_raw",
        "order_type",
        "trigger_raw",
        "venue_order_id",
    )

    def __init__(self, init: OrderInitialized, venue_order_id: str, expire_ns: int | None) -> None:
        self.init = init
        self.venue_order_id = venue_order_id
        self.is_buy = init.side is OrderSide.BUY
        self.order_type = init.order_type
        self.limit_raw = None if init.price is None else init.price.raw
        self.trigger_raw = None if init.trigger_price is None else init.trigger_price.raw
        self.leaves_raw = init.quantity.raw
        self.is_triggered = False
        self.is_resting = False  # True once it survived its arrival (it is then a maker)
        self.expire_ns = expire_ns

    @property
    def acts_as_limit(self) -> bool:
        return self.order_type is OrderType.LIMIT or (
            self.order_type is OrderType.STOP_LIMIT and self.is_triggered
        )

    @property
    def acts_as_market(self) -> bool:
        return self.order_type is OrderType.MARKET or (
            self.order_type is OrderType.STOP_MARKET and self.is_triggered
        )


@functools.lru_cache(maxsize=16)
def _calendar(code: str) -> Any:
    import exchange_calendars

    return exchange_calendars.get_calendar(code, start="1990-01-01")


class SimulatedVenue:
    """Level 1/2 simulated venue for all instruments of one venue code."""

    def __init__(
        self,
        venue: str,
        config: SimVenueConfig,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        emit: EventSink,
    ) -> None:
        self.venue = venue
        self.config = config
        self.clock = clock
        self.instruments = instruments
        self._emit = emit
        self._working: dict[str, list[_Working]] = {}
        self._by_id: dict[str, _Working] = {}
        self._last_bar: dict[str, Bar] = {}
        self._last_quote: dict[str, QuoteTick] = {}
        self._positions: dict[str, int] = {}
        self._venue_ids = IdGenerator("V", venue)
        self._trade_ids = IdGenerator("T", venue)
        self._through = config.limit_fill == "through"
        self._fill_at_close = config.market_fill == "close"
        self._quotes = config.fidelity == "quotes"
        self._budget_raw: int | None = None
        self._impact = config.impact
        self._stats: dict[str, _MarketStats] = {}
        self._decay = (
            0.5 ** (1.0 / config.impact.permanent_half_life_bars)
            if config.impact is not None
            else 1.0
        )

    # -- commands (ExecutionClient) -------------------------------------------------------------

    def submit_order(self, command: SubmitOrder) -> None:
        """Accept (or reject) a new order and match it if it can fill now."""
        init = command.order
        instrument = self.instruments.get(init.instrument_id)
        if instrument is None:
            self._reject(init, f"instrument {init.instrument_id} is not traded on {self.venue}")
            return
        if init.is_post_only and self._would_take(init):
            self._reject(init, f"post-only order at {init.price} would take liquidity")
            return
        working = _Working(init, self._venue_ids.next(), self._expiry(init, instrument))
        now = self.clock.timestamp_ns()
        self._emit(
            OrderAccepted(
                client_order_id=init.client_order_id,
                strategy_id=init.strategy_id,
                instrument_id=init.instrument_id,
                venue_order_id=working.venue_order_id,
                ts_event=now,
                ts_init=now,
            )
        )
        self._working.setdefault(init.instrument_id, []).append(working)
        self._by_id[init.client_order_id] = working
        if self._quotes:
            quote = self._last_quote.get(init.instrument_id)
            if quote is not None:
                self._match_quote(working, quote, instrument)
                self._finish_arrival(working)
        elif self._fill_at_close and init.order_type is OrderType.MARKET:
            bar = self._last_bar.get(init.instrument_id)
            if bar is not None:
                self._budget_raw = self._bar_budget(bar, instrument)
                self._fill(
                    working, working.leaves_raw, bar.close, bar, instrument, LiquiditySide.TAKER
                )
                self._finish_arrival(working)

    def cancel_order(self, command: CancelOrder) -> None:
        """Cancel a working order, or answer that it is not working."""
        working = self._by_id.get(command.client_order_id)
        now = self.clock.timestamp_ns()
        if working is None:
            self._emit(
                OrderCancelRejected(
                    client_order_id=command.client_order_id,
                    strategy_id=command.strategy_id,
                    instrument_id=command.instrument_id,
                    reason="order is not working at the venue",
                    ts_event=now,
                    ts_init=now,
                )
            )
            return
        self._close(working, "canceled")

    def modify_order(self, command: ModifyOrder) -> None:
        """Apply a modification to a working order (a modified order loses its arrival status)."""
        working = self._by_id.get(command.client_order_id)
        now = self.clock.timestamp_ns()
        ids: dict[str, Any] = {
            "client_order_id": command.client_order_id,
            "strategy_id": command.strategy_id,
            "instrument_id": command.instrument_id,
            "ts_event": now,
            "ts_init": now,
        }
        if working is None:
            self._emit(OrderModifyRejected(reason="order is not working at the venue", **ids))
            return
        filled_raw = working.init.quantity.raw - working.leaves_raw
        quantity = working.init.quantity if command.quantity is None else command.quantity
        if quantity.raw <= filled_raw:
            self._emit(
                OrderModifyRejected(
                    reason=f"new quantity {quantity} is not above the filled quantity", **ids
                )
            )
            return
        working.leaves_raw = quantity.raw - filled_raw
        if command.price is not None:
            working.limit_raw = command.price.raw
        if command.trigger_price is not None:
            working.trigger_raw = command.trigger_price.raw
        working.init = msgspec.structs.replace(
            working.init,
            quantity=quantity,
            price=command.price or working.init.price,
            trigger_price=command.trigger_price or working.init.trigger_price,
        )
        self._emit(
            OrderUpdated(
                venue_order_id=working.venue_order_id,
                quantity=quantity,
                price=command.price,
                trigger_price=command.trigger_price,
                **ids,
            )
        )

    # -- market data --------------------------------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        """Match working orders of ``bar.instrument_id`` against the bar (level 1)."""
        self._last_bar[bar.instrument_id] = bar
        if self._working.get(bar.instrument_id) and not self._quotes:
            self._process_bar(bar)
        if self._impact is not None:
            # After matching: this bar's fills are priced with statistics up to the last bar.
            stats = self._stats.get(bar.instrument_id)
            if stats is None:
                stats = self._stats[bar.instrument_id] = _MarketStats(self._impact.window)
            stats.update(bar, self._decay)

    def on_quote(self, quote: QuoteTick) -> None:
        """Match working orders against a new best bid/ask (level 2)."""
        self._last_quote[quote.instrument_id] = quote
        orders = self._working.get(quote.instrument_id)
        if orders and self._quotes:
            instrument = self.instruments[quote.instrument_id]
            for working in list(orders):
                self._match_quote(working, quote, instrument)
            self._expire(quote.instrument_id, quote.ts_event)

    def on_trade(self, trade: TradeTick) -> None:
        """Fill resting limits and trigger stops on a trade print (level 2)."""
        orders = self._working.get(trade.instrument_id)
        if orders and self._quotes:
            instrument = self.instruments[trade.instrument_id]
            for working in list(orders):
                self._match_trade(working, trade, instrument)
            self._expire(trade.instrument_id, trade.ts_event)

    def working_orders(self, instrument_id: str) -> list[str]:
        """Return the client order ids working on ``instrument_id``, in arrival order."""
        return [w.init.client_order_id for w in self._working.get(instrument_id, [])]

    # -- level 1: bars -----------------------------------------------------------------------------

    def _process_bar(self, bar: Bar) -> None:
        instrument = self.instruments[bar.instrument_id]
        orders = self._working[bar.instrument_id]
        self._budget_raw = self._bar_budget(bar, instrument)
        o, h, low, c = bar.open_raw, bar.high_raw, bar.low_raw, bar.close_raw
        for working in list(orders):
            self._match_open(working, o, bar, instrument)
        for working in list(orders):
            if working.init.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                self._close(working, "canceled", "IOC/FOK order not filled at the open")
        first, second = (h, low) if h - o <= o - low else (low, h)
        for start, end in ((o, first), (first, second), (second, c)):
            for working in list(orders):
                self._match_segment(working, start, end, bar, instrument)
        for working in orders:
            working.is_resting = True
        self._expire(bar.instrument_id, bar.ts_event)

    def _bar_budget(self, bar: Bar, instrument: Instrument) -> int | None:
        cap = self.config.max_participation
        if cap is None:
            return None
        volume = bar.volume_raw * pow10(instrument.size_precision) // pow10(bar.volume_precision)
        budget = int(volume * cap)
        return budget - budget % instrument.lot_size_raw

    def _match_open(self, w: _Working, o: int, bar: Bar, instrument: Instrument) -> None:
        if (
            w.init.time_in_force is TimeInForce.FOK
            and self._budget_raw is not None
            and self._budget_raw < w.leaves_raw
        ):
            return  # cannot fill completely: canceled after the open
        if w.order_type is OrderType.MARKET:
            self._fill(w, w.leaves_raw, bar.open, bar, instrument, LiquiditySide.TAKER)
            return
        if w.trigger_raw is not None and not w.is_triggered:
            if (o >= w.trigger_raw) if w.is_buy else (o <= w.trigger_raw):
                self._trigger(w)
                if w.order_type is OrderType.STOP_MARKET:
                    self._fill(w, w.leaves_raw, bar.open, bar, instrument, LiquiditySide.TAKER)
                    return
            else:
                return
        if w.acts_as_limit and w.limit_raw is not None and self._limit_reached(w, o, o):
            liquidity = LiquiditySide.MAKER if w.is_resting else LiquiditySide.TAKER
            self._fill(w, w.leaves_raw, bar.open, bar, instrument, liquidity, slip=False)

    def _match_segment(
        self, w: _Working, start: int, end: int, bar: Bar, instrument: Instrument
    ) -> None:
        if w.acts_as_market:
            return  # market orders fill only at an open; leftovers wait for the next bar
        low, high = (start, end) if start <= end else (end, start)
        if w.trigger_raw is not None and not w.is_triggered:
            reached = high >= w.trigger_raw if w.is_buy else low <= w.trigger_raw
            if not reached:
                return
            self._trigger(w)
            trigger = Price(w.trigger_raw, instrument.price_precision)
            if w.order_type is OrderType.STOP_MARKET:
                self._fill(w, w.leaves_raw, trigger, bar, instrument, LiquiditySide.TAKER)
                return
            # Stop-limit: marketable at the trigger when the limit is at or beyond it.
            assert w.limit_raw is not None
            if (w.limit_raw >= w.trigger_raw) if w.is_buy else (w.limit_raw <= w.trigger_raw):
                self._fill(
                    w, w.leaves_raw, trigger, bar, instrument, LiquiditySide.TAKER, slip=False
                )
                return
            # Otherwise it rests from the trigger point to the end of the segment.
            low, high = (w.trigger_raw, end) if w.trigger_raw <= end else (end, w.trigger_raw)
        if w.acts_as_limit and w.limit_raw is not None and self._limit_reached(w, low, high):
            price = Price(w.limit_raw, instrument.price_precision)
            self._fill(w, w.leaves_raw, price, bar, instrument, LiquiditySide.MAKER, slip=False)

    def _limit_reached(self, w: _Working, low: int, high: int) -> bool:
        limit = w.limit_raw
        assert limit is not None
        if w.is_buy:
            return low < limit if self._through else low <= limit
        return high > limit if self._through else high >= limit

    # -- level 2: quotes and trades ----------------------------------------------------------------

    def _match_quote(self, w: _Working, quote: QuoteTick, instrument: Instrument) -> None:
        ask, bid = quote.ask_price, quote.bid_price
        touch = ask if w.is_buy else bid
        size = quote.ask_size if w.is_buy else quote.bid_size
        if w.trigger_raw is not None and not w.is_triggered:
            if (touch.raw >= w.trigger_raw) if w.is_buy else (touch.raw <= w.trigger_raw):
                self._trigger(w)
            else:
                return
        available = self._displayed(size, instrument)
        if w.acts_as_market:
            self._fill(
                w, min(w.leaves_raw, available), touch, None, instrument, LiquiditySide.TAKER
            )
            return
        limit = w.limit_raw
        assert limit is not None
        crossed = touch.raw <= limit if w.is_buy else touch.raw >= limit
        if not crossed:
            return
        if w.is_resting:
            # The opposite side moved through our resting price: we were hit at our price.
            through = touch.raw < limit if w.is_buy else touch.raw > limit
            if through or not self._through:
                price = Price(limit, instrument.price_precision)
                self._fill(
                    w, w.leaves_raw, price, None, instrument, LiquiditySide.MAKER, slip=False
                )
        else:
            self._fill(
                w,
                min(w.leaves_raw, available),
                touch,
                None,
                instrument,
                LiquiditySide.TAKER,
                slip=False,
            )

    def _match_trade(self, w: _Working, trade: TradeTick, instrument: Instrument) -> None:
        px = trade.price.raw
        if w.trigger_raw is not None and not w.is_triggered:
            if (px >= w.trigger_raw) if w.is_buy else (px <= w.trigger_raw):
                self._trigger(w)
                quote = self._last_quote.get(trade.instrument_id)
                if quote is not None:
                    self._match_quote(w, quote, instrument)
            return
        if not w.acts_as_limit or not w.is_resting or w.limit_raw is None:
            return
        if self._limit_reached(w, px, px):
            size = trade.size.raw * pow10(instrument.size_precision) // pow10(trade.size.precision)
            price = Price(w.limit_raw, instrument.price_precision)
            self._fill(
                w, min(w.leaves_raw, size), price, None, instrument, LiquiditySide.MAKER, slip=False
            )

    def _displayed(self, size: Quantity, instrument: Instrument) -> int:
        if not self.config.use_quote_size:
            return 1 << 62
        return size.raw * pow10(instrument.size_precision) // pow10(size.precision)

    def _finish_arrival(self, w: _Working) -> None:
        if w.init.client_order_id not in self._by_id:
            return
        if w.init.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            self._close(w, "canceled", "IOC/FOK order not filled on arrival")
        else:
            w.is_resting = True

    # -- fills, triggers, closing ------------------------------------------------------------------

    def _fill(
        self,
        w: _Working,
        qty_raw: int,
        price: Price,
        bar: Bar | None,
        instrument: Instrument,
        liquidity: LiquiditySide,
        *,
        slip: bool = True,
    ) -> None:
        if self._budget_raw is not None and bar is not None:
            qty_raw = min(qty_raw, self._budget_raw)
        if w.init.is_reduce_only:
            position = self._positions.get(w.init.instrument_id, 0)
            reducible = -position if w.is_buy else position
            if reducible <= 0:
                self._close(w, "canceled", "reduce-only order: the position is already closed")
                return
            qty_raw = min(qty_raw, reducible)
        if qty_raw <= 0:
            return
        reference = price
        costs = None
        if slip:
            price, costs = self._adjust(price, qty_raw, w.is_buy, bar, instrument)
        quantity = Quantity(qty_raw, instrument.size_precision)
        now = self.clock.timestamp_ns()
        w.leaves_raw -= qty_raw
        if self._budget_raw is not None and bar is not None:
            self._budget_raw -= qty_raw
        signed = qty_raw if w.is_buy else -qty_raw
        self._positions[w.init.instrument_id] = (
            self._positions.get(w.init.instrument_id, 0) + signed
        )
        if w.leaves_raw == 0:
            self._remove(w)
        self._emit(
            OrderFilled(
                client_order_id=w.init.client_order_id,
                strategy_id=w.init.strategy_id,
                instrument_id=w.init.instrument_id,
                venue_order_id=w.venue_order_id,
                trade_id=self._trade_ids.next(),
                order_side=w.init.side,
                order_type=w.init.order_type,
                last_qty=quantity,
                last_px=price,
                commission=commission(self.config.commission, instrument, quantity, price),
                liquidity_side=liquidity,
                reference_px=reference,
                costs=costs,
                ts_event=now,
                ts_init=now,
            )
        )

    def _adjust(
        self, reference: Price, qty_raw: int, is_buy: bool, bar: Bar | None, instrument: Instrument
    ) -> tuple[Price, FillCosts]:
        """Return a taker fill's price and its cost components over ``reference``."""
        tick = instrument.tick_size_raw
        ref = reference.raw

        def ticks_for(bps: float) -> int:
            # Whole ticks, rounded away from the trader.
            return math.ceil(abs(ref) * bps / 10_000 / tick - 1e-9) * tick if bps > 0 else 0

        spread = ticks_for(self.config.half_spread_bps) if bar is not None else 0
        slipped = slipped_price(self.config.slippage, instrument, reference, is_buy)
        slippage = abs(slipped.raw - ref)
        impact = 0
        if self._impact is not None:
            impact = ticks_for(self._impact_bps(qty_raw, instrument, bar))
        parts = [spread, slippage, impact]
        total = spread + slippage + impact
        final = ref + total if is_buy else ref - total
        if bar is not None:
            clamped = min(max(final, bar.low_raw), bar.high_raw)
            if clamped != final:
                allowed = abs(clamped - ref)
                parts = [p * allowed // total for p in parts]
                parts[-1] += allowed - sum(parts)  # the rounding remainder goes to the last
                final = clamped
        mult_raw, mult_precision = instrument.multiplier_parts
        qty = Quantity(qty_raw, instrument.size_precision)
        money = [
            notional_raw(Price(part, reference.precision), qty, mult_raw, mult_precision)
            for part in parts
        ]
        return Price(final, reference.precision), FillCosts(money[0], money[1], money[2])

    def _impact_bps(self, qty_raw: int, instrument: Instrument, bar: Bar | None) -> float:
        config = self._impact
        assert config is not None
        stats = self._stats.get(instrument.id)
        if stats is None or len(stats.log_returns) < 2 or not stats.volumes:
            return 0.0
        returns = stats.log_returns
        mean = sum(returns) / len(returns)
        sigma = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
        sigma *= math.sqrt(config.bars_per_day)
        adv = sum(stats.volumes) / len(stats.volumes) * config.bars_per_day
        if adv <= 0:
            return 0.0
        quantity = qty_raw / pow10(instrument.size_precision)
        participation = quantity / adv
        if config.model == "square_root":
            temporary = square_root_impact_bps(quantity, adv, sigma, config.square_root)
        else:
            temporary = config.temporary_bps * participation
        permanent = stats.permanent_bps
        stats.permanent_bps += config.permanent_bps * participation
        return temporary + permanent

    def _trigger(self, w: _Working) -> None:
        w.is_triggered = True
        now = self.clock.timestamp_ns()
        self._emit(
            OrderTriggered(
                client_order_id=w.init.client_order_id,
                strategy_id=w.init.strategy_id,
                instrument_id=w.init.instrument_id,
                venue_order_id=w.venue_order_id,
                ts_event=now,
                ts_init=now,
            )
        )

    def _expire(self, instrument_id: str, ts_ns: int) -> None:
        for working in list(self._working.get(instrument_id, ())):
            if working.expire_ns is not None and working.expire_ns <= ts_ns:
                self._close(working, "expired")

    def _close(self, w: _Working, how: str, reason: str = "") -> None:
        self._remove(w)
        now = self.clock.timestamp_ns()
        init = w.init
        if how == "expired":
            self._emit(
                OrderExpired(
                    client_order_id=init.client_order_id,
                    strategy_id=init.strategy_id,
                    instrument_id=init.instrument_id,
                    venue_order_id=w.venue_order_id,
                    ts_event=now,
                    ts_init=now,
                )
            )
        else:
            self._emit(
                OrderCanceled(
                    client_order_id=init.client_order_id,
                    strategy_id=init.strategy_id,
                    instrument_id=init.instrument_id,
                    venue_order_id=w.venue_order_id,
                    reason=reason,
                    ts_event=now,
                    ts_init=now,
                )
            )

    def _remove(self, w: _Working) -> None:
        if self._by_id.pop(w.init.client_order_id, None) is not None:
            self._working[w.init.instrument_id].remove(w)

    def _reject(self, init: OrderInitialized, reason: str) -> None:
        now = self.clock.timestamp_ns()
        self._emit(
            OrderRejected(
                client_order_id=init.client_order_id,
                strategy_id=init.strategy_id,
                instrument_id=init.instrument_id,
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        )

    def _would_take(self, init: OrderInitialized) -> bool:
        assert init.price is not None
        is_buy = init.side is OrderSide.BUY
        quote = self._last_quote.get(init.instrument_id)
        if quote is not None:
            touch = quote.ask_price if is_buy else quote.bid_price
            return init.price >= touch if is_buy else init.price <= touch
        bar = self._last_bar.get(init.instrument_id)
        if bar is not None:
            close = bar.close
            return init.price >= close if is_buy else init.price <= close
        return False

    def _expiry(self, init: OrderInitialized, instrument: Instrument) -> int | None:
        if init.time_in_force is TimeInForce.GTD:
            return init.expire_time_ns
        if init.time_in_force is not TimeInForce.DAY:
            return None
        now = self.clock.timestamp_ns()
        if instrument.exchange_calendar is None:
            return (now // _DAY_NS + 1) * _DAY_NS
        import pandas as pd  # only DAY orders on calendar instruments need it

        calendar = _calendar(instrument.exchange_calendar)
        close = calendar.next_close(pd.Timestamp(now, unit="ns", tz="UTC"))
        return int(close.value)
