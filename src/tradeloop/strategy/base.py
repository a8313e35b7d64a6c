"""The strategy API: what a user subclasses to trade.

A strategy subscribes to market data, keeps indicators, submits and cancels orders and reads
its positions and the account. The same class runs unchanged in backtest, paper and live
mode: the engine gives it a ``StrategyContext`` and never tells it which mode is running.

Example::

    class SmaCross(Strategy):
        class Config(StrategyConfig):
            instrument_id: str
            fast: int = 10
            slow: int = 30
            quantity: str = "10"

        def on_start(self) -> None:
            self.fast = SMA(self.config.fast)
            self.slow = SMA(self.config.slow)
            self.register_indicator(self.config.instrument_id, self.fast)
            self.register_indicator(self.config.instrument_id, self.slow)
            self.subscribe_bars(self.config.instrument_id)

        def on_bar(self, bar: Bar) -> None:
            if not self.slow.initialized:
                return
            if self.fast.value > self.slow.value and self.is_flat(bar.instrument_id):
                self.buy(bar.instrument_id, self.config.quantity)
            elif self.fast.value < self.slow.value and self.is_long(bar.instrument_id):
                self.close_position(bar.instrument_id)

Hooks (override what you need): ``on_start``, ``on_stop``, ``on_bar``, ``on_quote``,
``on_trade``, ``on_book``, ``on_order_event`` (every event of this strategy's orders), ``on_fill``,
``on_position_changed``, ``on_step``, ``on_trading_state_changed``. An exception raised by a
hook becomes a ``StrategyError`` that names the strategy.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol

import msgspec

from tradeloop.bus.bus import Handler
from tradeloop.bus.topics import (
    RISK_EVENTS,
    STEP_TOPIC,
    bars_topic,
    book_topic,
    order_events_topic,
    position_events_topic,
    quotes_topic,
    trades_topic,
)
from tradeloop.core.clock import Clock, TimeEvent, TimerCallback
from tradeloop.core.errors import InvalidValueError, InvariantViolation, StrategyError
from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.enums import BookSide, OrderSide, TimeInForce, TradingState
from tradeloop.model.events import (
    Event,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    PositionChanged,
    TradingStateChanged,
)
from tradeloop.model.instruments import Instrument
from tradeloop.model.order_factory import OrderFactory
from tradeloop.model.orders import Order
from tradeloop.model.position import Position


class BarIndicator(Protocol):
    """Anything the engine can update with each bar (every indicator in ``analytics``)."""

    def handle_bar(self, bar: Bar) -> None:
        """Update with ``bar``."""
        ...


class StrategyContext(Protocol):
    """What the engine gives a strategy: the clock, subscriptions, orders and the account."""

    clock: Clock
    instruments: dict[str, Instrument]

    def subscribe(self, topic: str, handler: Handler) -> None:
        """Call ``handler`` for each message on ``topic``."""
        ...

    def submit(self, order: OrderInitialized) -> Order:
        """Send an order through risk to its venue."""
        ...

    def cancel(self, client_order_id: str, reason: str = "") -> bool:
        """Cancel an open order (``reason`` is carried back on ``OrderCanceled``)."""
        ...

    def modify(
        self,
        client_order_id: str,
        quantity: Quantity | None,
        price: Price | None,
        trigger_price: Price | None,
    ) -> bool:
        """Modify an open order."""
        ...

    def open_orders(self, instrument_id: str | None, strategy_id: str) -> list[Order]:
        """Return a strategy's open orders."""
        ...

    def order(self, client_order_id: str) -> Order | None:
        """Return an order by id."""
        ...

    def position(self, instrument_id: str, strategy_id: str) -> Position | None:
        """Return a strategy's position."""
        ...

    def cash(self) -> Money:
        """Return account cash."""
        ...

    def equity(self) -> Money:
        """Return account equity."""
        ...

    def mark_price(self, instrument_id: str) -> Price | None:
        """Return the latest price of an instrument."""
        ...

    def publish_event(self, event: Event) -> None:
        """Journal an event and publish it on ``events.decisions.<EventType>``."""
        ...

    def book_levels(
        self, instrument_id: str, side: BookSide, depth: int | None
    ) -> list[tuple[Price, Quantity]]:
        """Return the liquidity displayed on ``side`` of an instrument's market, best first."""
        ...

    def last_quote(self, instrument_id: str) -> QuoteTick | None:
        """Return the latest quote of an instrument (the market data cache's)."""
        ...

    def last_trade(self, instrument_id: str) -> TradeTick | None:
        """Return the latest trade print of an instrument (the market data cache's)."""
        ...

    def taker_fee_bps(self, instrument_id: str, price: Price) -> float:
        """Return the taker commission of an instrument's venue in bps of notional."""
        ...

    def set_trading_state(self, state: TradingState, reason: str) -> None:
        """Change the trading state the risk engine enforces (the kill switch halts)."""
        ...


class StrategyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of strategy parameters. Subclass it as ``Config`` inside your strategy."""


class RunInputs(msgspec.Struct, frozen=True, kw_only=True):
    """What a run offers its strategies, for ``Strategy.check_run`` before it starts.

    Attributes
    ----------
    instruments : every instrument of the run, by id.
    data_kinds : each instrument with market data -> the kinds it has, sorted (``"bars"``,
        ``"book"``, ``"quotes"``, ``"trades"``).
    first_ts_ns, last_ts_ns : the first and the last instant of the run's market data.
    features : the run config's feature set (``features.FeatureSetConfig``), or None.
    base_dir : the directory paths in the config are relative to.
    """

    instruments: dict[str, Instrument]
    data_kinds: dict[str, tuple[str, ...]]
    first_ts_ns: int
    last_ts_ns: int
    features: Any = None
    base_dir: str = ""


def _instrument_fields(value: object) -> list[str]:
    # Strings in fields named like instrument ids, walking nested structs, lists and dicts.
    found: list[str] = []
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            field = getattr(value, name)
            if name == "instrument_id" or name.endswith("_instrument_id"):
                if isinstance(field, str):
                    found.append(field)
            elif name == "instrument_ids" or name.endswith("_instrument_ids"):
                if isinstance(field, list | tuple):
                    found.extend(item for item in field if isinstance(item, str))
            else:
                found.extend(_instrument_fields(field))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(_instrument_fields(item))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(_instrument_fields(item))
    return found


class Strategy:
    """Base class of user strategies (see the module docstring for an example)."""

    Config: ClassVar[type[StrategyConfig]] = StrategyConfig

    def __init__(
        self, config: StrategyConfig | None = None, strategy_id: str | None = None
    ) -> None:
        self.config: Any = self.Config() if config is None else config
        self.id = strategy_id or type(self).__name__
        self.log = logging.getLogger(f"tradeloop.strategy.{self.id}")
        self._ctx: StrategyContext | None = None
        self._factory: OrderFactory | None = None
        self._bar_indicators: dict[str, list[BarIndicator]] = {}
        self._wants_order_events = False
        self._wants_fills = False

    # -- engine side ------------------------------------------------------------------------------

    def attach(self, ctx: StrategyContext) -> None:
        """Connect the strategy to an engine (called once by the kernel, before ``on_start``)."""
        if self._ctx is not None:
            raise InvariantViolation(f"strategy {self.id} is already attached to an engine")
        self._ctx = ctx
        self._factory = OrderFactory(
            self.id, ctx.clock, ctx.mark_price, getattr(ctx, "order_id_scope", "")
        )
        # Hooks a subclass does not override are never called (saves a call per event).
        cls = type(self)
        self._wants_order_events = cls.on_order_event is not Strategy.on_order_event
        self._wants_fills = cls.on_fill is not Strategy.on_fill
        if self._wants_order_events or self._wants_fills:
            ctx.subscribe(order_events_topic(self.id), self._handle_order_event)
        if cls.on_position_changed is not Strategy.on_position_changed:
            ctx.subscribe(position_events_topic(self.id), self._handle_position_event)
        if cls.on_trading_state_changed is not Strategy.on_trading_state_changed:
            ctx.subscribe(RISK_EVENTS, self._handle_risk_event)

    @property
    def ctx(self) -> StrategyContext:
        """Return the engine context (raises if the strategy is not attached yet)."""
        if self._ctx is None:
            raise InvariantViolation(f"strategy {self.id} is not attached to an engine yet")
        return self._ctx

    def required_instruments(self) -> list[str]:
        """Return the ids of the instruments this strategy will use.

        The engine checks them against the run's instruments before the run starts, so a typo
        is a config error, not a failure in ``on_start``. The default collects the strings in
        config fields named ``instrument_id`` or ``instrument_ids`` (or ending in
        ``_instrument_id``/``_instrument_ids``), nested configs included; override it when a
        strategy names its instruments otherwise.
        """
        return sorted(set(_instrument_fields(self.config)))

    def check_run(self, run: RunInputs) -> None:
        """Check the config against the run's instruments and data before the run starts.

        The engine calls it before anything is written, after the ``required_instruments``
        were found known and with data, so that a setting only the run's instruments or data
        can judge (a quantity below the lot size, an order timed after the data's end) is a
        config error at startup, never in the middle of a session. The default checks nothing.

        Raises
        ------
        ConfigError
            If the config cannot run with these instruments and data.
        """

    def load_plugins(self, base_dir: Path) -> list[type[Any]]:
        """Load the user classes the config names besides the strategy's own (the pipeline's
        signal agents) and return them.

        The engine calls it once at startup, before anything is written, with the directory
        the config's relative paths resolve against (``core.plugins.load_class`` does the
        loading), so a missing file or class stops the run with a config error instead of
        failing in ``on_start``. The source files of the returned classes from outside
        tradeloop are code of the run: they are part of its identity, like a strategy file.
        The default loads nothing.
        """
        return []

    def start(self) -> None:
        """Run ``on_start`` (engine side)."""
        self._guard(self.on_start)

    def stop(self) -> None:
        """Run ``on_stop`` (engine side)."""
        self._guard(self.on_stop)

    def _guard(self, hook: Any, *args: Any) -> None:
        try:
            hook(*args)
        except StrategyError:
            raise
        except Exception as error:
            raise StrategyError(
                self.id, f"{hook.__name__} raised {type(error).__name__}: {error}", error
            ) from error

    def _handle_bar(self, bar: Bar) -> None:
        indicators = self._bar_indicators.get(bar.instrument_id)
        try:
            if indicators:
                for indicator in indicators:
                    indicator.handle_bar(bar)
            self.on_bar(bar)
        except StrategyError:
            raise
        except Exception as error:
            raise StrategyError(
                self.id, f"on_bar raised {type(error).__name__}: {error}", error
            ) from error

    def _handle_quote(self, quote: QuoteTick) -> None:
        self._guard(self.on_quote, quote)

    def _handle_trade(self, trade: TradeTick) -> None:
        self._guard(self.on_trade, trade)

    def _handle_book(self, record: Any) -> None:
        self._guard(self.on_book, record)

    def _handle_order_event(self, event: OrderEvent) -> None:
        if self._wants_order_events:
            self._guard(self.on_order_event, event)
        if self._wants_fills and type(event) is OrderFilled:
            self._guard(self.on_fill, event)

    def _handle_position_event(self, event: PositionChanged) -> None:
        self._guard(self.on_position_changed, event)

    def _handle_risk_event(self, event: Event) -> None:
        if type(event) is TradingStateChanged:
            self._guard(self.on_trading_state_changed, event)

    # -- hooks -------------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe to data and create indicators here."""

    def on_stop(self) -> None:
        """Called once when the run ends."""

    def run_summary(self) -> dict[str, Any]:
        """Return what this strategy adds to the run's summary (JSON types), after ``on_stop``.

        The runner puts it in ``summary.json`` under ``strategies.<id>``; empty adds nothing.
        """
        return {}

    def on_bar(self, bar: Bar) -> None:
        """Called for each subscribed bar, after registered indicators were updated."""

    def on_quote(self, quote: QuoteTick) -> None:
        """Called for each subscribed quote tick."""

    def on_trade(self, trade: TradeTick) -> None:
        """Called for each subscribed trade tick."""

    def on_book(self, record: Any) -> None:
        """Called for each subscribed order-book record: an ``OrderBookDelta`` (a live feed's)
        or an ``engine.feed.BookEvent`` (rows ``start:stop`` of a delta stream, one venue
        event), as the kernel applied it to the market's book."""

    def on_order_event(self, event: OrderEvent) -> None:
        """Called for every event of this strategy's orders (accepted, denied, filled, …)."""

    def on_fill(self, fill: OrderFilled) -> None:
        """Called for each fill of this strategy's orders."""

    def on_position_changed(self, event: PositionChanged) -> None:
        """Called when a fill changed one of this strategy's positions."""

    def on_step(self, ts_ns: int) -> None:
        """Called once every record of instant ``ts_ns`` was processed (``subscribe_steps``)."""

    def on_trading_state_changed(self, event: TradingStateChanged) -> None:
        """Called when the engine's trading state changes (whoever changed it, this strategy
        included): HALTED is the kill switch."""

    # -- data --------------------------------------------------------------------------------------

    def subscribe_bars(self, instrument_id: str) -> None:
        """Receive bars of ``instrument_id`` in ``on_bar``."""
        self._check_instrument(instrument_id)
        self.ctx.subscribe(bars_topic(instrument_id), self._handle_bar)

    def subscribe_quotes(self, instrument_id: str) -> None:
        """Receive quote ticks of ``instrument_id`` in ``on_quote``."""
        self._check_instrument(instrument_id)
        self.ctx.subscribe(quotes_topic(instrument_id), self._handle_quote)

    def subscribe_trades(self, instrument_id: str) -> None:
        """Receive trade ticks of ``instrument_id`` in ``on_trade``."""
        self._check_instrument(instrument_id)
        self.ctx.subscribe(trades_topic(instrument_id), self._handle_trade)

    def subscribe_book(self, instrument_id: str) -> None:
        """Receive the order-book records of ``instrument_id`` in ``on_book``."""
        self._check_instrument(instrument_id)
        self.ctx.subscribe(book_topic(instrument_id), self._handle_book)

    def subscribe_steps(self) -> None:
        """Receive ``on_step(ts_ns)`` once all records of each instant were processed.

        A decision over several instruments belongs here: at ``on_step`` every bar of the
        instant has been seen, whatever order they arrived in.
        """
        self.ctx.subscribe(STEP_TOPIC, self._handle_step)

    def _handle_step(self, ts_ns: int) -> None:
        self._guard(self.on_step, ts_ns)

    def publish(self, event: Event) -> None:
        """Journal ``event`` and publish it on ``events.decisions.<EventType>``."""
        self.ctx.publish_event(event)

    def set_trading_state(self, state: TradingState, reason: str) -> None:
        """Set the trading state (``HALTED`` is the kill switch) and record why."""
        self.ctx.set_trading_state(state, reason)

    def register_indicator(self, instrument_id: str, indicator: BarIndicator) -> None:
        """Update ``indicator`` with every bar of ``instrument_id`` before ``on_bar`` runs."""
        self._check_instrument(instrument_id)
        self._bar_indicators.setdefault(instrument_id, []).append(indicator)

    def _check_instrument(self, instrument_id: str) -> None:
        if instrument_id not in self.ctx.instruments:
            known = ", ".join(sorted(self.ctx.instruments)) or "none"
            raise StrategyError(
                self.id, f"instrument {instrument_id} is unknown; known instruments: {known}"
            )

    # -- time --------------------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """Return the engine clock (the only source of time for a strategy)."""
        return self.ctx.clock

    def set_timer(self, name: str, interval_ns: int, callback: TimerCallback) -> None:
        """Call ``callback`` every ``interval_ns`` nanoseconds of engine time."""
        self.clock.set_timer(f"{self.id}.{name}", interval_ns, self._guarded_timer(callback))

    def set_time_alert(self, name: str, alert_time_ns: int, callback: TimerCallback) -> None:
        """Call ``callback`` once at ``alert_time_ns``."""
        self.clock.set_time_alert(f"{self.id}.{name}", alert_time_ns, self._guarded_timer(callback))

    def _guarded_timer(self, callback: TimerCallback) -> TimerCallback:
        def fire(event: TimeEvent) -> None:
            self._guard(callback, event)

        return fire

    # -- instruments and values --------------------------------------------------------------------

    def instrument(self, instrument_id: str) -> Instrument:
        """Return the instrument ``instrument_id``."""
        self._check_instrument(instrument_id)
        return self.ctx.instruments[instrument_id]

    def quantity(self, instrument_id: str, value: float | str | Decimal | int) -> Quantity:
        """Return ``value`` as a quantity of ``instrument_id`` (its precision and lot size).

        A float (a computed size) is rounded to the nearest lot. A string, ``Decimal`` or
        ``int`` is a quantity someone wrote down (a config value): it must be a positive
        multiple of the lot size, exactly: ``"10.5"`` of a whole-share stock is an error, not
        10 shares.

        Raises
        ------
        InvalidValueError
            If a written quantity is not a positive multiple of the lot size, or ``value`` is
            not a finite non-negative number.
        """
        instrument = self.instrument(instrument_id)
        quantity = instrument.make_quantity(value)
        if not isinstance(value, float) and (
            quantity.raw <= 0 or quantity.as_decimal() != Decimal(str(value).strip())
        ):
            raise InvalidValueError(
                f"quantity {value} is not a positive multiple of {instrument_id}'s lot size "
                f"{instrument.lot_size} (pass a float to round a computed size to the lot)"
            )
        return quantity

    def price(self, instrument_id: str, value: float | str | Decimal | int) -> Price:
        """Return ``value`` as a price of ``instrument_id`` (its precision and tick size)."""
        return self.instrument(instrument_id).make_price(value)

    # -- orders ------------------------------------------------------------------------------------

    @property
    def order_factory(self) -> OrderFactory:
        """Return the factory that builds this strategy's orders (deterministic ids)."""
        if self._factory is None:
            raise InvariantViolation(f"strategy {self.id} is not attached to an engine yet")
        return self._factory

    def submit_order(self, order: OrderInitialized) -> Order:
        """Send ``order`` through risk to its venue; a denial arrives as ``OrderDenied``."""
        return self.ctx.submit(order)

    def buy(
        self,
        instrument_id: str,
        quantity: Quantity | float | str | int,
        price: Price | float | str | None = None,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        post_only: bool = False,
    ) -> Order:
        """Buy ``quantity``: a market order, or a limit order at ``price``."""
        return self._side_order(
            OrderSide.BUY, instrument_id, quantity, price, time_in_force, reduce_only, post_only
        )

    def sell(
        self,
        instrument_id: str,
        quantity: Quantity | float | str | int,
        price: Price | float | str | None = None,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        post_only: bool = False,
    ) -> Order:
        """Sell ``quantity``: a market order, or a limit order at ``price``."""
        return self._side_order(
            OrderSide.SELL, instrument_id, quantity, price, time_in_force, reduce_only, post_only
        )

    def _side_order(
        self,
        side: OrderSide,
        instrument_id: str,
        quantity: Quantity | float | str | int,
        price: Price | float | str | None,
        time_in_force: TimeInForce,
        reduce_only: bool,
        post_only: bool,
    ) -> Order:
        qty = quantity if isinstance(quantity, Quantity) else self.quantity(instrument_id, quantity)
        factory = self.order_factory
        if price is None:
            init = factory.market(
                instrument_id, side, qty, time_in_force=time_in_force, reduce_only=reduce_only
            )
        else:
            px = price if isinstance(price, Price) else self.price(instrument_id, price)
            init = factory.limit(
                instrument_id,
                side,
                qty,
                px,
                time_in_force=time_in_force,
                reduce_only=reduce_only,
                post_only=post_only,
            )
        return self.submit_order(init)

    def close_position(self, instrument_id: str) -> Order | None:
        """Send a reduce-only market order that flattens this strategy's position (None if flat)."""
        position = self.position(instrument_id)
        if position is None or position.is_flat:
            return None
        side = OrderSide.SELL if position.signed_raw > 0 else OrderSide.BUY
        init = self.order_factory.market(instrument_id, side, position.quantity, reduce_only=True)
        return self.submit_order(init)

    def cancel_order(self, order: Order | str, reason: str = "") -> bool:
        """Cancel an open order (by object or client order id); False if it is not open.

        ``reason`` (who cancels it and why) is journaled on the command and carried back on
        the venue's ``OrderCanceled``.
        """
        client_order_id = order if isinstance(order, str) else order.client_order_id
        return self.ctx.cancel(client_order_id, reason)

    def cancel_all_orders(self, instrument_id: str | None = None) -> int:
        """Cancel this strategy's open orders (optionally on one instrument); return how many."""
        return sum(self.ctx.cancel(o.client_order_id) for o in self.open_orders(instrument_id))

    def modify_order(
        self,
        order: Order | str,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> bool:
        """Change quantity, price or trigger price of an open order."""
        client_order_id = order if isinstance(order, str) else order.client_order_id
        return self.ctx.modify(client_order_id, quantity, price, trigger_price)

    def open_orders(self, instrument_id: str | None = None) -> list[Order]:
        """Return this strategy's open orders, oldest first."""
        return self.ctx.open_orders(instrument_id, self.id)

    def order(self, client_order_id: str) -> Order | None:
        """Return one of the run's orders by client order id."""
        return self.ctx.order(client_order_id)

    # -- positions and account ---------------------------------------------------------------------

    def position(self, instrument_id: str) -> Position | None:
        """Return this strategy's position in ``instrument_id`` (None before its first fill)."""
        return self.ctx.position(instrument_id, self.id)

    def position_qty(self, instrument_id: str) -> Quantity:
        """Return the absolute open quantity in ``instrument_id`` (zero when flat)."""
        position = self.position(instrument_id)
        if position is None:
            return Quantity(0, self.instrument(instrument_id).size_precision)
        return position.quantity

    def is_flat(self, instrument_id: str) -> bool:
        """Return whether this strategy holds nothing in ``instrument_id``."""
        position = self.position(instrument_id)
        return position is None or position.signed_raw == 0

    def is_long(self, instrument_id: str) -> bool:
        """Return whether this strategy is long ``instrument_id``."""
        position = self.position(instrument_id)
        return position is not None and position.signed_raw > 0

    def is_short(self, instrument_id: str) -> bool:
        """Return whether this strategy is short ``instrument_id``."""
        position = self.position(instrument_id)
        return position is not None and position.signed_raw < 0

    @property
    def cash(self) -> Money:
        """Return the account's cash."""
        return self.ctx.cash()

    @property
    def equity(self) -> Money:
        """Return the account's equity (cash plus marked positions)."""
        return self.ctx.equity()

    def last_price(self, instrument_id: str) -> Price | None:
        """Return the latest price seen for ``instrument_id``."""
        return self.ctx.mark_price(instrument_id)

    def book_levels(
        self, instrument_id: str, side: BookSide, depth: int | None = None
    ) -> list[tuple[Price, Quantity]]:
        """Return the liquidity displayed on ``side`` of ``instrument_id``, best first.

        From the market data cache: a live venue's book as its feed built it; a simulated
        venue's book when the run replays one (less what our own orders took, as a live book
        would show; nothing while the book is crossed or unsynced); else the best bid or ask
        of the last quote; empty without either (bars only).
        """
        self._check_instrument(instrument_id)
        return self.ctx.book_levels(instrument_id, side, depth)

    def last_quote(self, instrument_id: str) -> QuoteTick | None:
        """Return the latest quote of ``instrument_id`` (None before the first)."""
        self._check_instrument(instrument_id)
        return self.ctx.last_quote(instrument_id)

    def last_trade(self, instrument_id: str) -> TradeTick | None:
        """Return the latest trade print of ``instrument_id`` (None before the first)."""
        self._check_instrument(instrument_id)
        return self.ctx.last_trade(instrument_id)

    def taker_fee_bps(self, instrument_id: str, price: Price) -> float:
        """Return the commission a taker pays on ``instrument_id``'s venue, in bps at ``price``."""
        self._check_instrument(instrument_id)
        return self.ctx.taker_fee_bps(instrument_id, price)
