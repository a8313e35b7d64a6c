"""A net position in one instrument, with an exact average-cost basis.

Quantities are signed integers at the instrument's size precision (long > 0, short < 0).
The cost basis of the open quantity is an exact money raw (9 decimals). Closing part of a
position releases the same fraction of the cost basis (average-cost method), rounded
half-even to 1e-9; realized P&L is the difference. Fees are tracked apart: realized P&L here
is before fees.
"""

from __future__ import annotations

from tradeloop.core.fixed import MONEY_PRECISION, Money, Quantity, notional_raw, pow10
from tradeloop.model.enums import OrderSide, PositionSide
from tradeloop.model.events import OrderFilled


def _div_round_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


class Position:
    """Net position of one strategy in one instrument."""

    __slots__ = (
        "commissions_raw",
        "cost_raw",
        "currency",
        "instrument_id",
        "last_trade_id",
        "multiplier_precision",
        "multiplier_raw",
        "realized_raw",
        "signed_raw",
        "size_precision",
        "strategy_id",
        "ts_last",
        "ts_opened",
    )

    def __init__(
        self,
        instrument_id: str,
        strategy_id: str,
        size_precision: int,
        currency: str,
        multiplier_raw: int = 1,
        multiplier_precision: int = 0,
    ) -> None:
        self.instrument_id = instrument_id
        self.strategy_id = strategy_id
        self.size_precision = size_precision
        self.currency = currency
        self.multiplier_raw = multiplier_raw
        self.multiplier_precision = multiplier_precision
        self.signed_raw = 0  # signed quantity at size_precision
        self.cost_raw = 0  # entry notional of the open quantity, money raw (always >= 0)
        self.realized_raw = 0  # cumulative realized P&L before fees, money raw
        self.commissions_raw = 0
        self.last_trade_id = ""
        self.ts_opened = 0
        self.ts_last = 0

    @property
    def side(self) -> PositionSide:
        """Return long, short or flat."""
        if self.signed_raw > 0:
            return PositionSide.LONG
        if self.signed_raw < 0:
            return PositionSide.SHORT
        return PositionSide.FLAT

    @property
    def quantity(self) -> Quantity:
        """Return the absolute open quantity."""
        return Quantity(abs(self.signed_raw), self.size_precision)

    @property
    def signed_qty(self) -> float:
        """Return the signed open quantity as a float (for analytics)."""
        return self.signed_raw / pow10(self.size_precision)

    @property
    def is_flat(self) -> bool:
        """Return whether nothing is open."""
        return self.signed_raw == 0

    @property
    def avg_px_open(self) -> float:
        """Return the average entry price of the open quantity (0.0 when flat)."""
        if self.signed_raw == 0:
            return 0.0
        mult = self.multiplier_raw / pow10(self.multiplier_precision)
        qty = abs(self.signed_raw) / pow10(self.size_precision)
        return self.cost_raw / pow10(MONEY_PRECISION) / qty / mult

    @property
    def realized_pnl(self) -> Money:
        """Return the cumulative realized P&L before fees."""
        return Money(self.realized_raw, self.currency)

    def market_value_raw(self, mark_raw: int, mark_precision: int) -> int:
        """Return signed quantity × mark × multiplier as a money raw."""
        scale = mark_precision + self.size_precision + self.multiplier_precision
        product = self.signed_raw * mark_raw * self.multiplier_raw
        if scale <= MONEY_PRECISION:
            return product * pow10(MONEY_PRECISION - scale)
        return _div_round_half_even(product, pow10(scale - MONEY_PRECISION))

    def unrealized_raw(self, mark_raw: int, mark_precision: int) -> int:
        """Return the unrealized P&L at ``mark`` as a money raw (before fees)."""
        if self.signed_raw == 0:
            return 0
        value = self.market_value_raw(mark_raw, mark_precision)
        return value - self.cost_raw if self.signed_raw > 0 else value + self.cost_raw

    def apply_fill(self, fill: OrderFilled) -> int:
        """Apply ``fill`` and return the realized P&L it produced (money raw, before fees)."""
        qty = fill.last_qty
        if qty.precision != self.size_precision:
            qty = qty.to_precision(self.size_precision)
        fill_notional = notional_raw(
            fill.last_px, qty, self.multiplier_raw, self.multiplier_precision
        )
        delta = qty.raw if fill.order_side is OrderSide.BUY else -qty.raw
        realized = 0
        if self.signed_raw == 0:
            self.ts_opened = fill.ts_event
        if self.signed_raw == 0 or (self.signed_raw > 0) == (delta > 0):
            self.cost_raw += fill_notional
            self.signed_raw += delta
        else:
            open_abs = abs(self.signed_raw)
            closing = min(qty.raw, open_abs)
            released = _div_round_half_even(self.cost_raw * closing, open_abs)
            closing_notional = _div_round_half_even(fill_notional * closing, qty.raw)
            if self.signed_raw > 0:
                realized = closing_notional - released
            else:
                realized = released - closing_notional
            self.cost_raw -= released
            self.signed_raw += delta
            opening = qty.raw - closing
            if opening:
                self.cost_raw = fill_notional - closing_notional
                self.ts_opened = fill.ts_event
            if self.signed_raw == 0:
                self.cost_raw = 0
        self.realized_raw += realized
        self.commissions_raw += fill.commission.raw
        self.last_trade_id = fill.trade_id
        self.ts_last = fill.ts_event
        return realized
