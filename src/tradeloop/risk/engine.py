"""Pre-trade risk checks and the trading state.

Every order passes ``RiskEngine.check_submit`` before a venue sees it. The checks, in order:

0. warm-up: before the run's ``trading_start`` every order is denied (the data before it only
   warms up indicators and models);
1. trading state: HALTED (the kill switch) denies every order except a **reduce-only** order
   that reduces an existing position without flipping it — the emergency liquidation must be
   able to execute while nothing can add exposure; REDUCING denies orders that do not reduce a
   position (reduce-only or not);
2. instrument known;
3. order shape: the prices its type needs, post-only only on limits, GTD needs a future expiry;
4. quantity precision, lot size, min/max of the instrument; price precision and tick size;
5. ``max_order_quantity`` and ``max_order_notional``;
6. reduce-only orders may not increase or flip a position;
7. cash accounts: buys need free cash (cash less open buy orders) for notional + a fee reserve
   (with per-venue accounts, the cash of the instrument's venue less its open buys), and
   sells may not exceed the position unless ``allow_short_cash``;
   margin accounts: gross exposure after the order may not exceed equity × ``max_leverage``;
8. a capital stage below full (``risk.stages``): an order that does not reduce a position may
   not take the gross exposure above the stage's fraction × equity.

A denial is a reason string that becomes an ``OrderDenied`` event; the engine never raises
for a bad order. The portfolio limits (daily loss, drawdown pause, kill switch) set the
trading state: ``risk.limits``, checked by the kernel at every instant. The pipeline's risk
review (position sizing, stops) builds on this seam.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Protocol

import msgspec

from tradeloop.core.clock import Clock
from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import MONEY_PRECISION, Price, format_raw
from tradeloop.core.time import ns_to_iso
from tradeloop.model.enums import (
    AccountType,
    OrderSide,
    OrderType,
    TimeInForce,
    TradingState,
)
from tradeloop.model.events import OrderInitialized
from tradeloop.model.instruments import Instrument
from tradeloop.risk.limits import PortfolioLimits


class AccountView(Protocol):
    """What risk reads from the portfolio."""

    def cash_raw(self) -> int:
        """Return cash in the base currency, money raw."""
        ...

    def equity_raw(self) -> int:
        """Return equity (cash + marked positions) in the base currency, money raw."""
        ...

    def position_raw(self, instrument_id: str) -> int:
        """Return the net signed position at the instrument's size precision."""
        ...

    def mark_price(self, instrument_id: str) -> Price | None:
        """Return the latest known price of the instrument, if any."""
        ...

    def gross_exposure_raw(self) -> int:
        """Return the sum of absolute position values in the base currency, money raw."""
        ...

    def venue_cash_raw(self, venue: str) -> int | None:
        """Return the cash of ``venue``'s own account (None: one account for all venues)."""
        ...


class OrdersView(Protocol):
    """What risk reads from the order manager."""

    def open_buy_notional_raw(self, venue: str | None = None) -> int:
        """Return the estimated notional of open buy orders (money raw), reserved from cash,
        of one venue's instruments or of all."""
        ...

    def open_quantity_raw(self, instrument_id: str, side: OrderSide) -> int:
        """Return the open (unfilled) quantity of working orders on one side of an instrument."""
        ...


class RiskConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits of the basic pre-trade checks. Amounts are decimal strings in the base currency.

    ``max_order_quantity`` maps instrument ids to a maximum quantity (decimal string);
    ``fee_reserve_bps`` is added to a buy's notional when checking free cash.

    The portfolio limits (``risk.limits``; fractions, 0.10 = 10 %, each off unless set):
    ``daily_loss_limit_pct`` of the day's opening equity (days start at ``day_start_utc``),
    ``drawdown_pause_pct`` from the run's high-water mark (REDUCING for
    ``drawdown_pause_bars`` instants), ``kill_switch_drawdown_pct`` (HALTED, flatten).
    """

    max_order_notional: str | None = None
    max_order_quantity: dict[str, str] = {}
    fee_reserve_bps: float = 10.0
    allow_short_cash: bool = False
    max_leverage: float = 1.0
    daily_loss_limit_pct: float | None = None
    drawdown_pause_pct: float | None = None
    drawdown_pause_bars: int = 20
    kill_switch_drawdown_pct: float | None = None
    day_start_utc: str = "00:00"

    def portfolio_limits(self) -> PortfolioLimits | None:
        """Return a fresh state machine of the portfolio limits, or None when none is set."""
        limits = PortfolioLimits(
            daily_loss_limit_pct=self.daily_loss_limit_pct,
            drawdown_pause_pct=self.drawdown_pause_pct,
            drawdown_pause_bars=self.drawdown_pause_bars,
            kill_switch_drawdown_pct=self.kill_switch_drawdown_pct,
            day_start_utc=self.day_start_utc,
        )
        return limits if limits.is_enabled else None

    def __post_init__(self) -> None:
        limits = [("max_order_notional", self.max_order_notional)]
        limits += [
            (f"max_order_quantity.{k}", v) for k, v in sorted(self.max_order_quantity.items())
        ]
        for key, text in limits:
            if text is None:
                continue
            try:
                value = Decimal(text)
            except (InvalidOperation, TypeError):
                raise ConfigError(f"risk {key} {text!r} is not a decimal number") from None
            if not value.is_finite() or value <= 0:
                raise ConfigError(f"risk {key} {text} must be a positive number")
        if not (math.isfinite(self.fee_reserve_bps) and self.fee_reserve_bps >= 0):
            raise ConfigError(f"risk fee_reserve_bps {self.fee_reserve_bps} must be zero or more")
        if not (math.isfinite(self.max_leverage) and self.max_leverage > 0):
            raise ConfigError(f"risk max_leverage {self.max_leverage} must be a positive number")
        self.portfolio_limits()  # validates the limits (ConfigError naming the value)


class RiskEngine:
    """Run the pre-trade checks and hold the trading state."""

    def __init__(
        self,
        config: RiskConfig,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        account: AccountView,
        orders: OrdersView,
        trading_start_ns: int | None = None,
        capital_fraction: float = 1.0,
        stage: str = "",
    ) -> None:
        self.config = config
        self.capital_fraction = capital_fraction
        self.stage = stage
        self.trading_start_ns = trading_start_ns
        self.clock = clock
        self.instruments = instruments
        self.account = account
        self.orders = orders
        self.trading_state = TradingState.ACTIVE
        self._max_notional_raw = (
            None
            if config.max_order_notional is None
            else int(Decimal(config.max_order_notional).scaleb(MONEY_PRECISION))
        )
        # Parsed once: the check runs on every order.
        self._max_quantity_raw = {
            instrument_id: instruments[instrument_id].make_quantity(limit).raw
            for instrument_id, limit in config.max_order_quantity.items()
            if instrument_id in instruments
        }

    def set_trading_state(self, state: TradingState) -> None:
        """Set the trading state (the caller publishes ``TradingStateChanged``)."""
        self.trading_state = state

    def check_submit(self, order: OrderInitialized) -> str | None:
        """Return why ``order`` must be denied, or ``None`` when it may go to the venue."""
        if self.trading_start_ns is not None and self.clock.timestamp_ns() < self.trading_start_ns:
            return f"warm-up: trading starts at {ns_to_iso(self.trading_start_ns)}"
        instrument = self.instruments.get(order.instrument_id)
        if instrument is None:
            return f"instrument {order.instrument_id} is unknown"
        position = self.account.position_raw(order.instrument_id)
        signed = order.quantity.raw if order.side is OrderSide.BUY else -order.quantity.raw
        reduces = position != 0 and (position > 0) != (signed > 0) and abs(signed) <= abs(position)
        if self.trading_state is TradingState.HALTED and not (order.is_reduce_only and reduces):
            return (
                "trading is halted: no new orders "
                "(only reduce-only orders that reduce a position may liquidate)"
            )
        if self.trading_state is TradingState.REDUCING and not reduces:
            return (
                "trading is reducing only: "
                f"order would not reduce the {order.instrument_id} position"
            )
        reason = self._check_shape(order) or self._check_values(order, instrument)
        if reason:
            return reason
        price = self._reference_price(order)
        if price is None:
            return f"no price known for {order.instrument_id} to check the order's notional"
        notional_raw = instrument.notional(order.quantity, price).raw
        if self._max_notional_raw is not None and notional_raw > self._max_notional_raw:
            limit = format_raw(self._max_notional_raw, MONEY_PRECISION)
            notional = format_raw(notional_raw, MONEY_PRECISION)
            return f"order notional {notional} exceeds max_order_notional {limit}"
        if order.is_reduce_only:
            if position == 0 or (position > 0) == (signed > 0):
                return (
                    f"reduce-only order would open or increase the {order.instrument_id} position"
                )
            if abs(signed) > abs(position):
                return (
                    f"reduce-only order quantity {order.quantity} "
                    f"exceeds the position in {order.instrument_id}"
                )
        if self.capital_fraction < 1.0 and not reduces:
            reason = self._check_stage(notional_raw)
            if reason:
                return reason
        if instrument.account_type is AccountType.CASH:
            return self._check_cash(order, instrument, notional_raw, position)
        return None if reduces else self._check_margin(notional_raw)

    # -- checks ---------------------------------------------------------------------------------

    @staticmethod
    def _check_shape(order: OrderInitialized) -> str | None:
        kind = order.order_type
        if kind is OrderType.MARKET:
            if order.price is not None or order.trigger_price is not None:
                return "MARKET order must not carry a price"
        else:
            if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.price is None:
                return f"{kind} order needs a limit price"
            if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and (
                order.trigger_price is None
            ):
                return f"{kind} order needs a trigger price"
        if order.is_post_only:
            if kind is not OrderType.LIMIT:
                return f"post-only applies to LIMIT orders, not {kind}"
            if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                return f"post-only order cannot be {order.time_in_force}"
        if order.time_in_force is TimeInForce.GTD:
            if order.expire_time_ns is None:
                return "GTD order needs an expire time"
            if order.expire_time_ns <= order.ts_init:
                return "GTD order expire time is not in the future"
        return None

    def _check_values(self, order: OrderInitialized, instrument: Instrument) -> str | None:
        reason = instrument.quantity_error(order.quantity)
        if reason:
            return reason
        for price in (order.price, order.trigger_price):
            if price is not None:
                reason = instrument.price_error(price)
                if reason:
                    return reason
        limit_raw = self._max_quantity_raw.get(order.instrument_id)
        if limit_raw is not None and order.quantity.raw > limit_raw:
            limit = self.config.max_order_quantity[order.instrument_id]
            return (
                f"quantity {order.quantity} exceeds max_order_quantity {limit} "
                f"for {order.instrument_id}"
            )
        return None

    def _reference_price(self, order: OrderInitialized) -> Price | None:
        if order.price is not None:
            return order.price
        if order.trigger_price is not None:
            return order.trigger_price
        return self.account.mark_price(order.instrument_id)

    def _check_cash(
        self, order: OrderInitialized, instrument: Instrument, notional_raw: int, position: int
    ) -> str | None:
        if order.side is OrderSide.BUY:
            needed = notional_raw + int(notional_raw * self.config.fee_reserve_bps / 10_000)
            venue_cash = self.account.venue_cash_raw(instrument.venue)
            if venue_cash is None:
                free = self.account.cash_raw() - self.orders.open_buy_notional_raw()
                where = ""
            else:  # per-venue accounts: a venue's buys spend its own cash
                free = venue_cash - self.orders.open_buy_notional_raw(instrument.venue)
                where = f" in the {instrument.venue} account"
            if needed > free:
                return (
                    f"buy of {order.quantity} {order.instrument_id} needs "
                    f"{format_raw(needed, MONEY_PRECISION)} {instrument.quote_currency} "
                    f"but free cash{where} is {format_raw(free, MONEY_PRECISION)}"
                )
            return None
        if self.config.allow_short_cash:
            return None
        pending = self.orders.open_quantity_raw(order.instrument_id, OrderSide.SELL)
        available = position - pending
        if order.quantity.raw > available:
            return (
                f"sell of {order.quantity} {order.instrument_id} exceeds the sellable position "
                f"{format_raw(max(available, 0), instrument.size_precision)} in a cash account"
            )
        return None

    def _check_stage(self, notional_raw: int) -> str | None:
        budget = int(self.account.equity_raw() * self.capital_fraction)
        gross_after = self.account.gross_exposure_raw() + notional_raw
        if gross_after > budget:
            scale = 10**MONEY_PRECISION
            return (
                f"gross exposure after the order {gross_after / scale:,.2f} "
                f"exceeds the capital of stage {self.stage or '?'} "
                f"({self.capital_fraction:g} × equity = {budget / scale:,.2f})"
            )
        return None

    def _check_margin(self, notional_raw: int) -> str | None:
        equity = self.account.equity_raw()
        gross_after = self.account.gross_exposure_raw() + notional_raw
        allowed = int(equity * self.config.max_leverage)
        if gross_after > allowed:
            return (
                f"gross exposure after the order {format_raw(gross_after, MONEY_PRECISION)} "
                f"exceeds equity × max_leverage {format_raw(allowed, MONEY_PRECISION)}"
            )
        return None
