"""The risk review: every proposed change is approved, resized or denied, with reasons.

Pre-trade, per change (in this order; each may shrink the change, never grow it):

0. binding exits — an instrument with a risk exit this bar (stop-loss, take-profit, trailing
   stop, liquidation) is held out of the rebalance: every change to it is denied, naming the
   exit's decision id (the exit is never cancelled or topped up by the same bar's rebalance);
1. trading state — HALTED denies every change, REDUCING denies what adds exposure;
2. price band (fat finger) — the decision price (``reference_price``, what the change was
   sized with) must be within ``price_band_pct`` of an independent reference
   (``band_reference_price``: the pipeline passes the previous close), else the change is
   denied: the price is a bad print or the market moved too far to trust the sizing;
3. volatility — an instrument whose annualized volatility exceeds ``max_volatility`` may
   only reduce;
4. position — |target value| ≤ ``max_position_pct`` × equity and ≤ ``max_position_notional``;
   without ``allow_short``, no change may leave a position below zero;
5. order size — |change| ≤ ``max_order_notional`` (and ``max_order_quantity``);
6. market hours — ``is_session_open`` says whether the decision instant lies in a session of
   the instrument's exchange calendar (the pipeline computes it with
   ``data.calendars``); outside the session an order queues for the next open, which is
   recorded; ``deny_outside_session`` denies instead;
7. across the changes: buys of cash instruments fit in free cash plus the proceeds of the
   sales, and gross exposure after the changes ≤ ``max_gross_leverage`` × equity (additions
   are scaled down pro rata).

The portfolio limits (daily loss, drawdown pause, kill switch) are the kernel's
(``risk.limits``, the run config's ``[risk]``), for every strategy: the reviewer follows the
kernel's trading state in ``state`` (``kill`` engages the kill switch on demand, ``resume``
releases it).

During the trade, per position on each bar: stop-loss (loss from the average entry beyond
``stop_loss_pct``), partial take-profit (``take_profit_fraction`` of the position once the
gain passes ``take_profit_pct``), trailing stop (a fall of ``trailing_stop_pct`` from the best
price since entry). Each returns an exit the pipeline sends at once.

All quantities are rounded toward zero to the instrument's lot size, so a resize never
exceeds a limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.model.decisions import RiskDecision
from tradeloop.model.enums import AccountType, TradingState
from tradeloop.model.instruments import Instrument

_MOVED = (
    "daily_loss_limit_pct",
    "drawdown_pause_pct",
    "drawdown_pause_bars",
    "kill_switch_drawdown_pct",
)


class RiskReviewConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Limits of the risk review (fractions: 0.25 = 25 %). ``None`` disables a rule."""

    max_position_pct: float = 0.25
    max_position_notional: float | None = None
    max_order_notional: float | None = None
    max_order_quantity: dict[str, float] = {}
    max_gross_leverage: float = 1.0
    allow_short: bool = True
    price_band_pct: float = 0.10
    max_volatility: float | None = None
    deny_outside_session: bool = False
    # Moved to the run config's [risk] (the kernel's portfolio limits): set here, an error.
    daily_loss_limit_pct: float | None = None
    drawdown_pause_pct: float | None = None
    drawdown_pause_bars: int | None = None
    kill_switch_drawdown_pct: float | None = None
    stop_loss_pct: float | None = 0.15
    take_profit_pct: float | None = None
    take_profit_fraction: float = 0.5
    trailing_stop_pct: float | None = None

    def __post_init__(self) -> None:
        for name in _MOVED:
            if getattr(self, name) is not None:
                raise ConfigError(
                    f"risk review {name} moved to the run config's [risk] section: the "
                    "portfolio limits are the kernel's, for every strategy (docs/operations.md)"
                )
        for name in ("max_position_pct", "max_gross_leverage", "price_band_pct"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"risk review {name} must be positive")
        if not 0 < self.take_profit_fraction <= 1:
            raise ConfigError("risk review take_profit_fraction must be in (0, 1]")


class ProposedChange(msgspec.Struct, frozen=True, kw_only=True):
    """One change the portfolio stage asks for (float quantities, signed).

    ``reference_price`` is the price the change was sized with; ``band_reference_price`` an
    independent price it is checked against (the previous close; ``None`` skips the price
    band); ``is_session_open`` whether the decision instant lies in a session of the
    instrument's exchange calendar, with ``session_note`` saying which calendar and when it
    opens next.
    """

    instrument_id: str
    current_qty: float
    delta_qty: float
    reference_price: float
    band_reference_price: float | None = None
    annual_volatility: float | None = None
    is_session_open: bool = True
    session_note: str = ""
    is_hedge: bool = False


class ExitInstruction(msgspec.Struct, frozen=True, kw_only=True):
    """An exit risk orders during a trade: close ``quantity`` (signed change) for ``rule``."""

    instrument_id: str
    delta_qty: float
    rule: str
    value: float
    limit: float


def _lot_floor(instrument: Instrument, quantity: float) -> float:
    """Return ``quantity`` rounded toward zero to whole lots (exact through Decimal)."""
    sign = -1.0 if quantity < 0 else 1.0
    lots = Decimal(repr(abs(quantity))) / Decimal(instrument.lot_size_raw).scaleb(
        -instrument.size_precision
    )
    whole = lots.to_integral_value(rounding=ROUND_DOWN)
    return sign * float(whole * Decimal(instrument.lot_size_raw).scaleb(-instrument.size_precision))


class RiskReviewer:
    """Apply ``RiskReviewConfig`` (see the module docstring)."""

    def __init__(self, config: RiskReviewConfig, instruments: Mapping[str, Instrument]) -> None:
        self.config = config
        self.instruments = instruments
        # The kernel's trading state, as the pipeline last heard it (``TradingStateChanged``).
        self.state = TradingState.ACTIVE
        self._entry_best: dict[str, float] = {}
        self._took_profit: set[str] = set()

    # -- trading state ----------------------------------------------------------------------------

    def kill(self) -> None:
        """Engage the kill switch: halt (the pipeline flattens every position)."""
        self.state = TradingState.HALTED

    def resume(self) -> None:
        """Release the kill switch: trade again."""
        self.state = TradingState.ACTIVE

    # -- in-trade ----------------------------------------------------------------------------------

    def check_position(
        self, instrument_id: str, quantity: float, average_entry: float, price: float
    ) -> ExitInstruction | None:
        """Return the exit a held position needs at ``price``, or ``None``."""
        config = self.config
        if quantity == 0 or average_entry <= 0:
            self._entry_best.pop(instrument_id, None)
            self._took_profit.discard(instrument_id)
            return None
        direction = 1.0 if quantity > 0 else -1.0
        gain = direction * (price / average_entry - 1.0)
        best = self._entry_best.get(instrument_id)
        best = price if best is None else (max(best, price) if direction > 0 else min(best, price))
        self._entry_best[instrument_id] = best
        if config.stop_loss_pct is not None and gain <= -config.stop_loss_pct:
            return ExitInstruction(
                instrument_id=instrument_id,
                delta_qty=-quantity,
                rule="stop_loss",
                value=gain,
                limit=-config.stop_loss_pct,
            )
        if config.trailing_stop_pct is not None:
            retrace = direction * (1.0 - price / best)
            if retrace >= config.trailing_stop_pct:
                return ExitInstruction(
                    instrument_id=instrument_id,
                    delta_qty=-quantity,
                    rule="trailing_stop",
                    value=retrace,
                    limit=config.trailing_stop_pct,
                )
        if (
            config.take_profit_pct is not None
            and gain >= config.take_profit_pct
            and instrument_id not in self._took_profit
        ):
            instrument = self.instruments[instrument_id]
            part = _lot_floor(instrument, quantity * config.take_profit_fraction)
            if part != 0:
                self._took_profit.add(instrument_id)
                return ExitInstruction(
                    instrument_id=instrument_id,
                    delta_qty=-part,
                    rule="take_profit",
                    value=gain,
                    limit=config.take_profit_pct,
                )
        return None

    # -- pre-trade -------------------------------------------------------------------------------

    def review(
        self,
        changes: Sequence[ProposedChange],
        equity: float,
        cash: float,
        binding_exits: Mapping[str, str] | None = None,
    ) -> list[RiskDecision]:
        """Return a decision for every change (same order).

        ``binding_exits`` maps instruments with a risk exit this bar to why (the exit's
        decision id and rule): their changes are denied (rule 0 of the module docstring).
        """
        config = self.config
        exits = binding_exits or {}
        approved: list[float] = []
        reasons: list[list[str]] = []
        for change in changes:
            exit_reason = exits.get(change.instrument_id)
            if exit_reason is not None:
                qty, why = (
                    0.0,
                    [
                        f"{exit_reason} is binding on {change.instrument_id} this bar: "
                        "the rebalance may not cancel it or trade the instrument"
                    ],
                )
            else:
                qty, why = self._review_one(change, equity)
            approved.append(qty)
            reasons.append(why)
        self._fit_cash(changes, approved, reasons, cash)
        self._fit_gross(changes, approved, reasons, equity, config.max_gross_leverage)
        decisions = []
        for change, qty, why in zip(changes, approved, reasons, strict=True):
            if qty == 0 and change.delta_qty != 0:
                decision = "denied"
            elif qty != change.delta_qty:
                decision = "resized"
            else:
                decision = "approved"
            decisions.append(
                RiskDecision(change.instrument_id, decision, change.delta_qty, qty, tuple(why))
            )
        return decisions

    def _review_one(self, change: ProposedChange, equity: float) -> tuple[float, list[str]]:
        config = self.config
        instrument = self.instruments.get(change.instrument_id)
        if instrument is None:
            return 0.0, [f"instrument {change.instrument_id} is unknown"]
        delta = change.delta_qty
        current = change.current_qty
        target = current + delta
        adds = abs(target) > abs(current) or (
            target != 0 and current != 0 and (target > 0) != (current > 0)
        )
        why: list[str] = []
        if self.state is TradingState.HALTED:
            return 0.0, ["trading is halted"]
        if self.state is TradingState.REDUCING and adds:
            # Only the reducing part of the change may go.
            reducing = -current if (target > 0) != (current > 0) and current != 0 else 0.0
            if reducing == 0.0:
                return 0.0, ["trading is reducing only: the change adds exposure"]
            why.append("trading is reducing only: kept the reducing part")
            return reducing, why
        band = change.band_reference_price
        if band is not None and band > 0:
            distance = abs(change.reference_price / band - 1.0)
            if not distance <= config.price_band_pct:
                return 0.0, [
                    f"decision price {change.reference_price:.6g} is {distance:.1%} from the "
                    f"band reference price {band:.6g}, beyond the {config.price_band_pct:.0%} "
                    "price band (a bad print or a disorderly market)"
                ]
        if (
            config.max_volatility is not None
            and change.annual_volatility is not None
            and change.annual_volatility > config.max_volatility
            and adds
        ):
            return 0.0, [
                f"volatility {change.annual_volatility:.0%} above {config.max_volatility:.0%}: "
                "only reductions"
            ]
        price = change.reference_price
        mult = float(Decimal(instrument.multiplier))
        limit_value = config.max_position_pct * equity
        if config.max_position_notional is not None:
            limit_value = min(limit_value, config.max_position_notional)
        if abs(target) * price * mult > limit_value and adds:
            allowed = math.copysign(limit_value / (price * mult), target)
            new_target = _lot_floor(instrument, allowed)
            outcome = "resized"
            if abs(new_target) < abs(current) and (new_target > 0) == (current > 0):
                # Already beyond the limit: do not add, do not force a sale here.
                new_target = current
                outcome = "the position is already beyond it, nothing is added"
            why.append(
                f"position {abs(target) * price * mult:,.0f} above the limit "
                f"{limit_value:,.0f}: {outcome}"
            )
            delta = new_target - current
        max_order = config.max_order_notional
        if max_order is not None and abs(delta) * price * mult > max_order:
            delta = _lot_floor(instrument, math.copysign(max_order / (price * mult), delta))
            why.append(f"order notional above max_order_notional {max_order:,.0f}: resized")
        max_qty = config.max_order_quantity.get(change.instrument_id)
        if max_qty is not None and abs(delta) > max_qty:
            delta = _lot_floor(instrument, math.copysign(max_qty, delta))
            why.append(f"order quantity above max_order_quantity {max_qty:g}: resized")
        if not config.allow_short and current + delta < 0:
            delta = -max(current, 0.0)
            why.append("short positions are not allowed: resized to close the position only")
        if not change.is_session_open:
            note = f" ({change.session_note})" if change.session_note else ""
            if config.deny_outside_session:
                return 0.0, [f"market is closed{note} and deny_outside_session is set"]
            why.append(f"market closed{note}: the order queues for the next session")
        return _lot_floor(instrument, delta), why

    def _fit_cash(
        self,
        changes: Sequence[ProposedChange],
        approved: list[float],
        reasons: list[list[str]],
        cash: float,
    ) -> None:
        buys, proceeds = 0.0, 0.0
        for change, qty in zip(changes, approved, strict=True):
            instrument = self.instruments.get(change.instrument_id)
            if instrument is None or instrument.account_type is not AccountType.CASH:
                continue
            value = qty * change.reference_price
            if value > 0:
                buys += value
            else:
                proceeds += -value
        available = cash + proceeds
        if buys <= available or buys <= 0:
            return
        scale = max(0.0, available) / buys
        for i, change in enumerate(changes):
            instrument = self.instruments.get(change.instrument_id)
            if (
                instrument is None
                or instrument.account_type is not AccountType.CASH
                or approved[i] <= 0
            ):
                continue
            approved[i] = _lot_floor(instrument, approved[i] * scale)
            reasons[i].append(
                f"buys of {buys:,.0f} exceed cash plus sales {available:,.0f}: "
                f"scaled by {scale:.3f}"
            )

    def _fit_gross(
        self,
        changes: Sequence[ProposedChange],
        approved: list[float],
        reasons: list[list[str]],
        equity: float,
        max_leverage: float,
    ) -> None:
        mults = [
            float(Decimal(self.instruments[c.instrument_id].multiplier))
            if c.instrument_id in self.instruments
            else 1.0
            for c in changes
        ]

        def gross(quantities: list[float]) -> float:
            return sum(
                abs(c.current_qty + q) * c.reference_price * m
                for c, q, m in zip(changes, quantities, mults, strict=True)
            )

        limit = max_leverage * equity
        after = gross(approved)
        if after <= limit:
            return
        additions = [
            i
            for i, c in enumerate(changes)
            if abs(c.current_qty + approved[i]) > abs(c.current_qty)
        ]
        if not additions:
            return

        def scaled(scale: float) -> list[float]:
            out = list(approved)
            for i in additions:
                out[i] = _lot_floor(self.instruments[changes[i].instrument_id], approved[i] * scale)
            return out

        # Gross exposure grows with the scale of the additions: bisect for the largest that fits.
        low, high = 0.0, 1.0
        for _ in range(40):
            middle = (low + high) / 2
            if gross(scaled(middle)) <= limit:
                low = middle
            else:
                high = middle
        fitted = scaled(low)
        for i in additions:
            approved[i] = fitted[i]
            reasons[i].append(
                f"gross exposure {after:,.0f} above {max_leverage:g}x equity {limit:,.0f}: "
                f"additions scaled by {low:.3f}"
            )
