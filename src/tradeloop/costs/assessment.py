"""Pre-trade cost assessment: gross alpha to net alpha, and trade, shrink or skip.

Expected cost of trading ``Q`` units at reference price ``p`` (notional ``N = Q p m``, ``m``
the contract multiplier), in bps of the notional:

    cost_bps(Q) = half_spread_bps + delay_bps + commission(Q) / N * 10_000 + impact_bps(Q)
    impact_bps(Q) = Y * sigma * (Q / ADV) ** delta * 10_000        (``costs.impact``)

- half spread: ``spread_bps / 2`` (``costs.spread``);
- delay: the opportunity cost of waiting ``delay_ns`` (``costs.delay``);
- commission: ``costs.fees.commission`` of one fill of the whole quantity. As a function of
  the notional it is ``min(max(r N, minimum), cap N)``: piecewise linear, with a rate ``r``
  in bps (``bps``, or ``per_share / (p m)``), a per-fill minimum and a cap of
  ``maximum_pct`` of the notional;
- impact: the square-root law (``costs.impact``).

**Execution.** How the trade will be executed scales these (``costs.execution_profile``):
only the ``taker_fraction`` expected to execute at market pays the half spread and impact;
an order worked in ``slices`` equal children, one per bar, pays impact per child
(``Y sigma (Q / (slices ADV)) ** delta``) and a commission per child (the minimum counts
``slices`` times); ``delay_ns`` is the expected delay of the execution. The defaults (1, 1)
are one market order for the whole quantity.

Net alpha is ``gross_alpha_bps - cost_bps(Q)``, in money ``N * net_bps / 10_000``.

**Shrinking.** The size that maximises the expected net alpha in money solves, on each
piece where the commission is ``rho N + k`` (``a = alpha - half_spread - delay``, ``b = Y
sigma 10_000``, ``c0 = a - rho`` in bps):

    net(Q) = p m / 10_000 * (Q c0 - b Q**(1 + delta) / ADV**delta) - k
    net'(Q) = 0  =>  Q* = ADV * (c0 / ((1 + delta) b)) ** (1 / delta)

which for the square-root law (delta = 1/2) is ``Q* = ADV * (c0 / (1.5 b))**2``, where the
net alpha per unit is ``c0 / 3``. ``net`` is concave on each piece, so the optimum is the
best of the clamped per-piece optima: closed form, no search. ``Q*`` is capped at the
intended size (a cost model never argues for trading more than the signal asked) and
rounded down to the lot size.

**Decision.**

1. skip when no size up to the intended one has a positive expected net alpha (after the
   optional ``hurdle_bps``, a margin for model error that is charged as an extra cost when
   deciding);
2. shrink when the best size is below the intended one (and ``allow_shrink``);
3. trade the intended size otherwise.

Capacity and the largest size within a cost budget are in ``costs.capacity``.
"""

from __future__ import annotations

import itertools
import math
from decimal import ROUND_DOWN
from enum import StrEnum
from typing import Final

import msgspec

from tradeloop.core.errors import InvalidValueError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.costs.delay import DelayCostConfig, delay_cost_bps
from tradeloop.costs.fees import CommissionConfig, commission
from tradeloop.costs.impact import SquareRootImpactConfig
from tradeloop.costs.spread import half_spread_bps
from tradeloop.model.enums import OrderSide
from tradeloop.model.instruments import Instrument

__all__ = [
    "CostAssessment",
    "CostAssessmentConfig",
    "CostBreakdown",
    "CostCurve",
    "CostDecision",
    "TradeIntent",
    "assess_trade",
    "cost_curve",
    "estimate_cost",
]

_BPS: Final = 10_000.0  # basis points per unit
_SIZE_TOLERANCE: Final = 1e-12  # relative: an optimum this close to the intended size is it
# Brent's method to machine precision: the smallest relative tolerance scipy accepts, and no
# absolute floor (sizes range from 1e-8 BTC to 1e9 shares).
_ROOT_RTOL: Final = 4 * 2.220446049250313e-16
_ROOT_XTOL: Final = 1e-300


class CostDecision(StrEnum):
    """What the cost assessment recommends."""

    TRADE = "TRADE"
    SHRINK = "SHRINK"
    SKIP = "SKIP"


class TradeIntent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A trade the pipeline intends to make, with the market inputs of its cost.

    Attributes
    ----------
    instrument_id : the instrument (``SYMBOL.VENUE``).
    side : buy or sell (costs are symmetric; the side is reported).
    quantity : the intended size (positive).
    reference_price : the decision price (mid or last), positive.
    daily_volatility : sigma, the daily standard deviation of returns as a fraction (0.02).
    average_daily_volume : ADV in units of quantity, positive.
    spread_bps : the quoted (full) spread in bps of the mid; a taker pays half of it.
    gross_alpha_bps : the expected gross return over the holding horizon in the trade's
        direction, in bps (negative means the signal expects a loss).
    delay_ns : expected time between the decision and the execution (0 by default).
    taker_fraction : expected share of the quantity executed by marketable orders, which pay
        the half spread and impact (1 by default; ``costs.execution_profile``).
    slices : equal child orders the quantity is executed in, one per bar (1 by default).
    """

    instrument_id: str
    side: OrderSide
    quantity: Quantity
    reference_price: Price
    daily_volatility: float
    average_daily_volume: float
    spread_bps: float
    gross_alpha_bps: float
    delay_ns: int = 0
    taker_fraction: float = 1.0
    slices: int = 1

    def __post_init__(self) -> None:
        if self.quantity.raw <= 0:
            raise InvalidValueError(f"intended quantity {self.quantity} must be positive")
        if self.reference_price.raw <= 0:
            raise InvalidValueError(f"reference price {self.reference_price} must be positive")
        if not math.isfinite(self.daily_volatility) or self.daily_volatility < 0:
            raise InvalidValueError(
                f"daily volatility {self.daily_volatility} must be finite and non-negative"
            )
        if not math.isfinite(self.average_daily_volume) or self.average_daily_volume <= 0:
            raise InvalidValueError(
                f"average daily volume {self.average_daily_volume} must be finite and positive"
            )
        if not math.isfinite(self.spread_bps) or self.spread_bps < 0:
            raise InvalidValueError(f"spread {self.spread_bps} bps must be finite and >= 0")
        if not math.isfinite(self.gross_alpha_bps):
            raise InvalidValueError(f"gross alpha {self.gross_alpha_bps} bps must be finite")
        if self.delay_ns < 0:
            raise InvalidValueError(f"delay {self.delay_ns} ns must be non-negative")
        if not (math.isfinite(self.taker_fraction) and 0.0 <= self.taker_fraction <= 1.0):
            raise InvalidValueError(f"taker fraction {self.taker_fraction} must be in [0, 1]")
        if self.slices < 1:
            raise InvalidValueError(f"slices {self.slices} must be at least 1")


class CostAssessmentConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How costs are estimated and how the decision is made.

    Attributes
    ----------
    commission : the venue's commission model (``costs.fees``).
    impact : the square-root impact coefficients (``costs.impact``).
    delay : the opportunity cost of waiting (``costs.delay``).
    hurdle_bps : extra cost charged when deciding (a margin for model error); not reported
        as a cost. Default 0.
    allow_shrink : whether the decision may reduce the size (default ``True``).
    """

    commission: CommissionConfig = CommissionConfig()
    impact: SquareRootImpactConfig = SquareRootImpactConfig()
    delay: DelayCostConfig = DelayCostConfig()
    hurdle_bps: float = 0.0
    allow_shrink: bool = True

    def __post_init__(self) -> None:
        if not math.isfinite(self.hurdle_bps) or self.hurdle_bps < 0:
            raise InvalidValueError(f"hurdle {self.hurdle_bps} bps must be finite and >= 0")


class CostBreakdown(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Expected cost of one size, by kind, in bps of the notional and in quote-currency money."""

    quantity: float
    notional: float
    currency: str
    commission_bps: float
    spread_bps: float
    impact_bps: float
    delay_bps: float
    total_bps: float
    commission_amount: float
    spread_amount: float
    impact_amount: float
    delay_amount: float
    total_amount: float


class CostAssessment(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The cost assessment of one intended trade (published as ``CostAssessed``).

    Attributes
    ----------
    cost, net_alpha_bps, net_alpha_amount : at the intended size.
    decision, reason : what to do and why, in words.
    recommended_quantity : the size to trade (the intended one, a smaller one, or 0 to skip).
    recommended_cost, recommended_net_alpha_bps, recommended_net_alpha_amount : at the
        recommended size (``None`` when skipping).
    optimal_quantity : the size that maximises the expected net alpha in money (after the
        hurdle), not capped by the intended size (``None``: unbounded, the model has no
        impact; 0: no size pays).
    capacity_quantity : the size at which the expected net alpha per unit reaches 0
        (``None``: unbounded).
    """

    instrument_id: str
    side: OrderSide
    currency: str
    intended_quantity: Quantity
    reference_price: Price
    gross_alpha_bps: float
    cost: CostBreakdown
    net_alpha_bps: float
    net_alpha_amount: float
    decision: CostDecision
    reason: str
    recommended_quantity: Quantity
    recommended_cost: CostBreakdown | None
    recommended_net_alpha_bps: float | None
    recommended_net_alpha_amount: float | None
    optimal_quantity: float | None
    capacity_quantity: float | None


class CostCurve(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The expected cost of one intent as a function of the size ``Q`` (a float, in units).

    Build it with ``cost_curve``. Commission here is the continuous model
    ``min(max(r N, minimum), cap N)``; it equals ``costs.fees.commission`` up to that
    function's rounding to 1e-9 (and to cents when ``round_to_currency`` is set).

    Attributes
    ----------
    notional_per_unit : price times multiplier.
    fixed_bps : the taker fraction of the half spread plus the delay cost, in bps
        (independent of the size).
    commission_rate_bps : r, the linear commission rate in bps of notional.
    commission_minimum : the per-fill minimum in money (0 if none).
    commission_cap_bps : the cap ``maximum_pct`` in bps of notional (``None`` if none).
    impact_scale_bps : ``b = taker_fraction * Y * sigma * 10_000``.
    impact_exponent : delta.
    average_daily_volume : ADV in units.
    slices : equal child orders, one per bar: impact per child against ADV, one commission
        (and its minimum) per child.
    """

    notional_per_unit: float
    fixed_bps: float
    commission_rate_bps: float
    commission_minimum: float
    commission_cap_bps: float | None
    impact_scale_bps: float
    impact_exponent: float
    average_daily_volume: float
    slices: int = 1

    @property
    def impact_volume(self) -> float:
        """Return the volume impact is measured against: ``slices * ADV`` (a child of
        ``Q / slices`` against one day's volume)."""
        return self.average_daily_volume * self.slices

    @property
    def minimum_per_order(self) -> float:
        """Return the commission minimum of the whole order: one per child."""
        return self.commission_minimum * self.slices

    # -- evaluation ---------------------------------------------------------------------------

    def commission_amount(self, quantity: float) -> float:
        """Return the commission in money of ``quantity`` (one fill per child)."""
        if quantity <= 0:
            return 0.0
        notional = quantity * self.notional_per_unit
        fee = max(self.commission_rate_bps * notional / _BPS, self.minimum_per_order)
        if self.commission_cap_bps is not None:
            fee = min(fee, self.commission_cap_bps * notional / _BPS)
        return fee

    def impact_bps(self, quantity: float) -> float:
        """Return the square-root impact in bps at ``quantity``."""
        if quantity <= 0:
            return 0.0
        return float(
            self.impact_scale_bps * (quantity / self.impact_volume) ** self.impact_exponent
        )

    def cost_bps(self, quantity: float) -> float:
        """Return the total expected cost in bps of the notional at ``quantity`` (> 0).

        Raises
        ------
        InvalidValueError
            If ``quantity`` is not positive.
        """
        if not quantity > 0:
            raise InvalidValueError(f"quantity {quantity} must be positive for a cost in bps")
        commission_bps = self.commission_amount(quantity) / (quantity * self.notional_per_unit)
        return self.fixed_bps + commission_bps * _BPS + self.impact_bps(quantity)

    def cost_amount(self, quantity: float) -> float:
        """Return the total expected cost in money at ``quantity`` (0 at 0)."""
        if quantity <= 0:
            return 0.0
        notional = quantity * self.notional_per_unit
        variable_bps = self.fixed_bps + self.impact_bps(quantity)
        return notional * variable_bps / _BPS + self.commission_amount(quantity)

    def net_alpha_amount(self, quantity: float, gross_alpha_bps: float) -> float:
        """Return the expected net alpha in money of trading ``quantity`` (0 at 0)."""
        if quantity <= 0:
            return 0.0
        gross = quantity * self.notional_per_unit * gross_alpha_bps / _BPS
        return gross - self.cost_amount(quantity)

    def marginal_cost_bps(self, quantity: float) -> float:
        """Return ``d cost_amount / d notional`` in bps at ``quantity`` (the next unit's cost).

        On a commission piece ``rho N + k``: ``fixed + rho + (1 + delta) * impact_bps(Q)``.
        """
        rate, _ = self._piece_at(max(quantity, 0.0) * self.notional_per_unit)
        return self.fixed_bps + rate + (1 + self.impact_exponent) * self.impact_bps(quantity)

    # -- commission pieces ----------------------------------------------------------------------

    def _piece_at(self, notional: float) -> tuple[float, float]:
        # (rate_bps, intercept_money) of the commission piece active at ``notional``.
        rate, intercept = self.commission_rate_bps, 0.0
        if self.commission_rate_bps * notional / _BPS < self.minimum_per_order:
            rate, intercept = 0.0, self.minimum_per_order
        if self.commission_cap_bps is not None:
            capped = self.commission_cap_bps * notional / _BPS
            if capped < rate * notional / _BPS + intercept:
                rate, intercept = self.commission_cap_bps, 0.0
        return rate, intercept

    def _pieces(self) -> list[tuple[float, float, float, float]]:
        # (low_quantity, high_quantity, rate_bps, intercept_money), ascending, covering (0, inf).
        breaks: set[float] = set()
        minimum = self.minimum_per_order
        if minimum > 0:
            for rate in (self.commission_rate_bps, self.commission_cap_bps):
                if rate is not None and rate > 0:
                    breaks.add(minimum * _BPS / rate / self.notional_per_unit)
        edges = [0.0, *sorted(breaks), math.inf]
        pieces = []
        for low, high in itertools.pairwise(edges):
            probe = 2 * low + 1.0 if math.isinf(high) else (low + high) / 2
            rate, intercept = self._piece_at(probe * self.notional_per_unit)
            pieces.append((low, high, rate, intercept))
        return pieces

    # -- sizing -------------------------------------------------------------------------------

    def optimal_quantity(self, gross_alpha_bps: float, upper: float = math.inf) -> float:
        """Return the size in ``(0, upper]`` with the largest ``net_alpha_amount``.

        Closed form per commission piece (see the module docstring), no search. Return
        ``math.inf`` when ``upper`` is infinite and the net alpha grows without bound (no
        impact), and 0 when no piece has a positive candidate. The net alpha at the returned
        size may be negative: the caller checks its sign.
        """
        best_quantity, best_net = 0.0, -math.inf
        beta, scale = self.impact_exponent, self.impact_scale_bps
        for low, high, rate, _ in self._pieces():
            if low >= upper:
                break
            high = min(high, upper)
            edge = gross_alpha_bps - self.fixed_bps - rate
            if edge <= 0:
                candidate = low  # the net falls on this piece: its left end is its best
            elif scale == 0:
                candidate = high  # no impact: the net rises on this piece
            else:
                unconstrained = self.impact_volume * (edge / ((1 + beta) * scale)) ** (1 / beta)
                candidate = min(max(unconstrained, low), high)
            if math.isinf(candidate):
                return math.inf
            if candidate <= 0:
                continue
            net = self.net_alpha_amount(candidate, gross_alpha_bps)
            if net > best_net:
                best_quantity, best_net = candidate, net
        return best_quantity

    def max_quantity_within_cost(self, budget_bps: float) -> tuple[float | None, str]:
        """Return the largest size whose expected cost is at most ``budget_bps``, and how.

        Returns ``(quantity, method)``: ``method`` is ``"closed_form"`` when the answer lies on
        a commission piece without a fixed part, ``Q = ADV * ((budget - fixed - rho) / b) **
        (1 / delta)``; ``"numeric"`` when a per-fill minimum makes the cost
        ``fixed + minimum / N + impact`` there, solved by Brent's method (``scipy.optimize.
        brentq``) between the piece's cost minimum and its upper end. ``quantity`` is
        ``None`` when every size is within the budget (no impact) and 0 when none is.
        """
        beta, scale, adv = self.impact_exponent, self.impact_scale_bps, self.impact_volume
        for low, high, rate, intercept in reversed(self._pieces()):
            edge = budget_bps - self.fixed_bps - rate
            fixed_bps_times_quantity = intercept * _BPS / self.notional_per_unit

            def slack(
                quantity: float, edge: float = edge, k: float = fixed_bps_times_quantity
            ) -> float:
                return float(edge - k / quantity - scale * (quantity / adv) ** beta)

            if scale == 0:
                if math.isinf(high):
                    if edge > 0 or (edge == 0 and fixed_bps_times_quantity == 0):
                        return None, "closed_form"
                    continue
                if slack(high) >= 0:
                    return high, "closed_form"
                continue
            if fixed_bps_times_quantity == 0:
                if edge <= 0:
                    continue
                root = adv * (edge / scale) ** (1 / beta)
                if root < low:
                    continue
                return min(root, high), "closed_form"
            # slack rises then falls; its peak: k / Q**2 = b delta Q**(delta - 1) / ADV**delta.
            peak = (fixed_bps_times_quantity * adv**beta / (scale * beta)) ** (1 / (1 + beta))
            left = max(peak, low)
            if left >= high or slack(left) < 0:
                continue
            right = high
            if math.isinf(right):
                right = 2 * max(left, adv)
                while slack(right) >= 0:
                    right *= 2
            elif slack(right) >= 0:
                return right, "numeric"
            from scipy import optimize  # only minimum-commission roots need it

            root = optimize.brentq(slack, left, right, xtol=_ROOT_XTOL, rtol=_ROOT_RTOL)
            return float(root), "numeric"
        return 0.0, "closed_form"


def cost_curve(
    intent: TradeIntent, instrument: Instrument, config: CostAssessmentConfig
) -> CostCurve:
    """Return the expected cost of ``intent`` as a function of its size.

    Raises
    ------
    InvalidValueError
        If the intent is for another instrument.
    """
    if intent.instrument_id != instrument.id:
        raise InvalidValueError(
            f"trade intent instrument {intent.instrument_id} is not instrument {instrument.id}"
        )
    price = float(intent.reference_price)
    mult_raw, mult_precision = instrument.multiplier_parts
    notional_per_unit = price * mult_raw / 10**mult_precision
    fees = config.commission
    rate_bps = 0.0
    minimum = 0.0
    cap_bps: float | None = None
    if fees.kind != "none":
        rate_bps = (
            fees.bps if fees.kind == "bps" else float(fees.per_share) / notional_per_unit * _BPS
        )
        minimum = float(fees.minimum)
        cap_bps = None if fees.maximum_pct is None else fees.maximum_pct * 100
    taker = intent.taker_fraction
    fixed_bps = taker * half_spread_bps(intent.spread_bps) + delay_cost_bps(
        intent.delay_ns, intent.gross_alpha_bps, intent.daily_volatility, config.delay
    )
    return CostCurve(
        notional_per_unit=notional_per_unit,
        fixed_bps=fixed_bps,
        commission_rate_bps=rate_bps,
        commission_minimum=minimum,
        commission_cap_bps=cap_bps,
        impact_scale_bps=taker * config.impact.coefficient * intent.daily_volatility * _BPS,
        impact_exponent=config.impact.exponent,
        average_daily_volume=intent.average_daily_volume,
        slices=intent.slices,
    )


def _breakdown(
    curve: CostCurve, intent: TradeIntent, currency: str, size: float, commission_amount: float
) -> CostBreakdown:
    notional = size * curve.notional_per_unit
    spread_bps = intent.taker_fraction * half_spread_bps(intent.spread_bps)
    delay_bps = curve.fixed_bps - spread_bps
    impact_bps = curve.impact_bps(size)
    commission_bps = commission_amount / notional * _BPS if notional > 0 else 0.0
    spread_amount = notional * spread_bps / _BPS
    impact_amount = notional * impact_bps / _BPS
    delay_amount = notional * delay_bps / _BPS
    return CostBreakdown(
        quantity=size,
        notional=notional,
        currency=currency,
        commission_bps=commission_bps,
        spread_bps=spread_bps,
        impact_bps=impact_bps,
        delay_bps=delay_bps,
        total_bps=commission_bps + spread_bps + impact_bps + delay_bps,
        commission_amount=commission_amount,
        spread_amount=spread_amount,
        impact_amount=impact_amount,
        delay_amount=delay_amount,
        total_amount=commission_amount + spread_amount + impact_amount + delay_amount,
    )


def estimate_cost(
    intent: TradeIntent,
    instrument: Instrument,
    config: CostAssessmentConfig,
    quantity: Quantity | float | None = None,
) -> CostBreakdown:
    """Return the expected cost of ``intent`` at ``quantity`` (default: its own), by kind.

    A ``Quantity`` of a one-slice intent gets its commission from ``costs.fees.commission``
    (exact, one fill); a float size (for curves and solvers), or an intent in several slices,
    from the continuous model of ``CostCurve`` (one minimum per child).

    Raises
    ------
    InvalidValueError
        If the intent is for another instrument or the quantity is negative.
    """
    curve = cost_curve(intent, instrument, config)
    size_value = intent.quantity if quantity is None else quantity
    if isinstance(size_value, Quantity) and intent.slices == 1:
        size = float(size_value)
        fee = float(commission(config.commission, instrument, size_value, intent.reference_price))
    else:
        size = float(size_value)
        if not math.isfinite(size) or size < 0:
            raise InvalidValueError(f"quantity {size} must be finite and non-negative")
        fee = curve.commission_amount(size)
    if size == 0:
        fee = 0.0
    return _breakdown(curve, intent, instrument.quote_currency, size, fee)


def _net(breakdown: CostBreakdown, gross_alpha_bps: float) -> tuple[float, float]:
    net_bps = gross_alpha_bps - breakdown.total_bps
    return net_bps, breakdown.notional * gross_alpha_bps / _BPS - breakdown.total_amount


def assess_trade(
    intent: TradeIntent, instrument: Instrument, config: CostAssessmentConfig | None = None
) -> CostAssessment:
    """Return the expected cost, net alpha and decision (trade, shrink, skip) for ``intent``.

    See the module docstring for the cost model and the decision rules. The reason names the
    numbers behind the decision.

    Raises
    ------
    InvalidValueError
        If the intent is for another instrument.
    """
    settings = config if config is not None else CostAssessmentConfig()
    curve = cost_curve(intent, instrument, settings)
    alpha = intent.gross_alpha_bps
    deciding_alpha = alpha - settings.hurdle_bps
    intended = float(intent.quantity)
    cost = estimate_cost(intent, instrument, settings)
    net_bps, net_amount = _net(cost, alpha)
    optimum = curve.optimal_quantity(deciding_alpha)
    capacity, _ = curve.max_quantity_within_cost(alpha)
    best = curve.optimal_quantity(deciding_alpha, upper=intended)
    hurdle = f" plus hurdle {settings.hurdle_bps:g} bps" if settings.hurdle_bps else ""
    zero = Quantity.zero(instrument.size_precision)

    decision = CostDecision.SKIP
    recommended = zero
    if best <= 0 or curve.net_alpha_amount(best, deciding_alpha) <= 0:
        reason = (
            f"expected cost {cost.total_bps:.2f} bps{hurdle} exceeds gross alpha {alpha:.2f} bps "
            f"at {intent.quantity} and no smaller size has a positive expected net alpha"
        )
    elif best >= intended * (1 - _SIZE_TOLERANCE) or not settings.allow_shrink:
        if curve.net_alpha_amount(intended, deciding_alpha) > 0:
            decision, recommended = CostDecision.TRADE, intent.quantity
            reason = (
                f"expected net alpha {net_bps:.2f} bps (gross {alpha:.2f} - cost "
                f"{cost.total_bps:.2f}{hurdle}) is positive at {intent.quantity}"
            )
        else:
            reason = (
                f"expected cost {cost.total_bps:.2f} bps{hurdle} exceeds gross alpha "
                f"{alpha:.2f} bps at {intent.quantity} and shrinking is not allowed"
            )
    else:
        shrunk = instrument.make_quantity(best, ROUND_DOWN)
        error = instrument.quantity_error(shrunk)
        if error is not None:
            reason = f"the best size {best:.6g} is not tradable: {error}"
        else:
            decision, recommended = CostDecision.SHRINK, shrunk
            reason = (
                f"expected net alpha in money is largest at {best:.6g} (cost "
                f"{curve.cost_bps(best):.2f} bps{hurdle}); shrink from {intent.quantity} "
                f"(cost {cost.total_bps:.2f} bps) to {shrunk}"
            )

    recommended_cost: CostBreakdown | None = None
    recommended_bps: float | None = None
    recommended_amount: float | None = None
    if decision != CostDecision.SKIP:
        recommended_cost = estimate_cost(intent, instrument, settings, recommended)
        recommended_bps, recommended_amount = _net(recommended_cost, alpha)
    return CostAssessment(
        instrument_id=intent.instrument_id,
        side=intent.side,
        currency=instrument.quote_currency,
        intended_quantity=intent.quantity,
        reference_price=intent.reference_price,
        gross_alpha_bps=alpha,
        cost=cost,
        net_alpha_bps=net_bps,
        net_alpha_amount=net_amount,
        decision=decision,
        reason=reason,
        recommended_quantity=recommended,
        recommended_cost=recommended_cost,
        recommended_net_alpha_bps=recommended_bps,
        recommended_net_alpha_amount=recommended_amount,
        optimal_quantity=None if math.isinf(optimum) else optimum,
        capacity_quantity=capacity,
    )
