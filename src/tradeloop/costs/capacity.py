"""Tradability and capacity: how much of an instrument a signal can trade before costs eat it.

Both rest on the cost curve of ``costs.assessment`` (``cost_bps(Q)``: half spread + delay +
commission + square-root impact).

- **Largest size within a cost budget** ``B`` bps: the largest ``Q`` with
  ``cost_bps(Q) <= B``. Where the commission has no fixed part it is closed form,
  ``Q = ADV * ((B - half_spread - delay - rho) / (Y sigma 10_000)) ** (1 / delta)``
  (for the square-root law, ``ADV * (...)**2``); where a per-fill minimum binds, the cost is
  ``fixed + minimum / N + impact`` and the root is found numerically (Brent's method).
- **Capacity**: the size at which the expected net alpha per unit reaches zero, i.e. the
  largest size within a budget equal to the gross alpha. In money it is the trade notional;
  as **capital** it is that notional divided by the trade's share of the strategy's capital
  (``trade_fraction_of_capital``: target weight times turnover for a rebalance).
  Beyond capacity each trade loses money on average; the net alpha in money is largest well
  before it (for the square-root law with linear commission, at ``(2/3)**2 = 4/9`` of the
  capacity size).
- **Strategy capacity** (``strategy_capacity``): the capital ``C`` at which the expected net
  alpha of a typical rebalance, summed over its legs, reaches zero. Leg ``i`` trades
  ``f_i * C`` of notional (``f_i``: its typical trade as a fraction of capital) ``w_i`` times per
  rebalance on average, with gross alpha ``a_i`` (0 for a hedge or a reduction: pure cost):
  ``net(C) = sum_i w_i * net_alpha_amount_i(f_i C / (p_i m_i), a_i)``. Each term is concave in
  ``C`` (linear alpha, minus spread, delay, commission and a convex impact; only a commission
  cap at tiny sizes bends it), so the sum rises, peaks and falls: the capacity is its last
  root, bracketed by doubling ``C`` and solved by Brent's method.
"""

from __future__ import annotations

import math

import msgspec

from tradeloop.core.errors import InvalidValueError
from tradeloop.costs.assessment import CostAssessmentConfig, CostCurve, TradeIntent, cost_curve
from tradeloop.model.instruments import Instrument

__all__ = [
    "CapacityEstimate",
    "CapacityLeg",
    "TradabilityReport",
    "capacity_estimate",
    "max_quantity_within_cost",
    "strategy_capacity",
    "tradability_report",
]


class TradabilityReport(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """How costly an instrument is to trade at the intended size, and how much fits a budget.

    Attributes
    ----------
    quantity, notional : the intended size and its notional.
    participation : quantity / (ADV * execution horizon in days).
    cost_bps : total expected cost at the intended size, bps of notional.
    cost_per_unit : total expected cost in money per unit of quantity.
    marginal_cost_bps : cost of the next unit, bps of its notional.
    fixed_cost_bps : the size-independent part (half spread + delay).
    impact_bps_at_one_percent_adv : the impact of a trade of 1 % of ADV (how steep the curve is).
    cost_budget_bps : the budget asked about.
    max_quantity_within_budget, max_notional_within_budget, max_participation_within_budget :
        the largest size with ``cost_bps <= budget`` (``None``: unbounded, no impact; 0: none).
    method : ``"closed_form"`` or ``"numeric"``.
    """

    instrument_id: str
    currency: str
    quantity: float
    notional: float
    participation: float
    cost_bps: float
    cost_per_unit: float
    marginal_cost_bps: float
    fixed_cost_bps: float
    impact_bps_at_one_percent_adv: float
    cost_budget_bps: float
    max_quantity_within_budget: float | None
    max_notional_within_budget: float | None
    max_participation_within_budget: float | None
    method: str


class CapacityEstimate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where the expected net alpha of a trade reaches zero.

    Attributes
    ----------
    capacity_quantity, capacity_notional : the trade size (units, money) at which expected
        net alpha is 0 (``None``: unbounded; 0: no size has a positive net alpha).
    capacity_capital : ``capacity_notional / trade_fraction_of_capital``.
    optimal_quantity, optimal_net_alpha_amount : the size with the largest expected net
        alpha in money, and that amount (``None`` when unbounded or when none is positive).
    method : ``"closed_form"`` or ``"numeric"`` (how the capacity root was found).
    """

    instrument_id: str
    currency: str
    gross_alpha_bps: float
    trade_fraction_of_capital: float
    capacity_quantity: float | None
    capacity_notional: float | None
    capacity_capital: float | None
    optimal_quantity: float | None
    optimal_net_alpha_amount: float | None
    method: str


def max_quantity_within_cost(
    intent: TradeIntent,
    instrument: Instrument,
    config: CostAssessmentConfig,
    cost_budget_bps: float,
) -> tuple[float | None, str]:
    """Return the largest size whose expected cost is at most ``cost_budget_bps``, and how.

    Returns ``(quantity, method)`` with ``quantity`` ``None`` when every size fits (the model
    has no impact) and 0 when none does; ``method`` is ``"closed_form"`` or ``"numeric"``.

    Raises
    ------
    InvalidValueError
        If the budget is not finite or the intent is for another instrument.
    """
    if not math.isfinite(cost_budget_bps):
        raise InvalidValueError(f"cost budget {cost_budget_bps} bps must be finite")
    return cost_curve(intent, instrument, config).max_quantity_within_cost(cost_budget_bps)


def tradability_report(
    intent: TradeIntent,
    instrument: Instrument,
    config: CostAssessmentConfig,
    cost_budget_bps: float,
    execution_horizon_days: float = 1.0,
) -> TradabilityReport:
    """Return the tradability of ``intent``'s instrument at its size and within a cost budget.

    Raises
    ------
    InvalidValueError
        If the budget is not finite, the horizon is not positive, or the intent is for
        another instrument.
    """
    if not math.isfinite(execution_horizon_days) or execution_horizon_days <= 0:
        raise InvalidValueError(
            f"execution horizon {execution_horizon_days} days must be finite and positive"
        )
    curve = cost_curve(intent, instrument, config)
    limit, method = max_quantity_within_cost(intent, instrument, config, cost_budget_bps)
    size = float(intent.quantity)
    volume = intent.average_daily_volume * execution_horizon_days
    return TradabilityReport(
        instrument_id=intent.instrument_id,
        currency=instrument.quote_currency,
        quantity=size,
        notional=size * curve.notional_per_unit,
        participation=size / volume,
        cost_bps=curve.cost_bps(size),
        cost_per_unit=curve.cost_amount(size) / size,
        marginal_cost_bps=curve.marginal_cost_bps(size),
        fixed_cost_bps=curve.fixed_bps,
        impact_bps_at_one_percent_adv=curve.impact_bps(0.01 * intent.average_daily_volume),
        cost_budget_bps=cost_budget_bps,
        max_quantity_within_budget=limit,
        max_notional_within_budget=None if limit is None else limit * curve.notional_per_unit,
        max_participation_within_budget=None if limit is None else limit / volume,
        method=method,
    )


def capacity_estimate(
    intent: TradeIntent,
    instrument: Instrument,
    config: CostAssessmentConfig,
    trade_fraction_of_capital: float = 1.0,
) -> CapacityEstimate:
    """Return the size and capital at which ``intent``'s expected net alpha reaches zero.

    Parameters
    ----------
    intent : the trade, with its gross alpha and market inputs (its quantity is not used).
    instrument : the instrument (multiplier, currency).
    config : the cost model (the hurdle is not applied: capacity is where net alpha is 0).
    trade_fraction_of_capital : the trade's notional as a fraction of the strategy's
        capital, in (0, inf) (1.0: capital = trade notional).

    Raises
    ------
    InvalidValueError
        If ``trade_fraction_of_capital`` is not positive or the intent is for another
        instrument.
    """
    if not math.isfinite(trade_fraction_of_capital) or trade_fraction_of_capital <= 0:
        raise InvalidValueError(
            f"trade fraction of capital {trade_fraction_of_capital} must be finite and positive"
        )
    curve = cost_curve(intent, instrument, config)
    alpha = intent.gross_alpha_bps
    capacity, method = curve.max_quantity_within_cost(alpha)
    notional = None if capacity is None else capacity * curve.notional_per_unit
    optimum = curve.optimal_quantity(alpha)
    optimal_quantity: float | None = None
    optimal_net: float | None = None
    if not math.isinf(optimum) and optimum > 0:
        net = curve.net_alpha_amount(optimum, alpha)
        if net > 0:
            optimal_quantity, optimal_net = optimum, net
    return CapacityEstimate(
        instrument_id=intent.instrument_id,
        currency=instrument.quote_currency,
        gross_alpha_bps=alpha,
        trade_fraction_of_capital=trade_fraction_of_capital,
        capacity_quantity=capacity,
        capacity_notional=notional,
        capacity_capital=None if notional is None else notional / trade_fraction_of_capital,
        optimal_quantity=optimal_quantity,
        optimal_net_alpha_amount=optimal_net,
        method=method,
    )


class CapacityLeg(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One instrument's part of a typical rebalance (see ``strategy_capacity``).

    Attributes
    ----------
    curve : its cost curve (``costs.assessment.cost_curve``) at current market inputs.
    gross_alpha_bps : the expected gross alpha of its typical trade (0: pure cost).
    trade_fraction_of_capital : its typical trade's notional as a fraction of capital, > 0.
    trades_per_rebalance : how often it trades per rebalance on average, > 0.
    """

    curve: CostCurve
    gross_alpha_bps: float
    trade_fraction_of_capital: float
    trades_per_rebalance: float = 1.0

    def __post_init__(self) -> None:
        for name in ("gross_alpha_bps", "trade_fraction_of_capital", "trades_per_rebalance"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise InvalidValueError(f"capacity leg {name} {value} must be finite")
        if self.trade_fraction_of_capital <= 0 or self.trades_per_rebalance <= 0:
            raise InvalidValueError(
                "capacity leg trade_fraction_of_capital and trades_per_rebalance must be positive"
            )

    def net_alpha_amount(self, capital: float) -> float:
        """Return this leg's expected net alpha in money per rebalance at ``capital``."""
        quantity = self.trade_fraction_of_capital * capital / self.curve.notional_per_unit
        return self.trades_per_rebalance * self.curve.net_alpha_amount(
            quantity, self.gross_alpha_bps
        )


_MAX_DOUBLINGS = 400  # from 1 to 2**400: far beyond any capital


def strategy_capacity(legs: list[CapacityLeg]) -> float | None:
    """Return the capital at which the legs' summed expected net alpha reaches zero.

    ``None`` when the net alpha never turns negative (no leg has market impact) and 0 when no
    capital has a positive expected net alpha.

    Raises
    ------
    InvalidValueError
        If ``legs`` is empty.
    """
    if not legs:
        raise InvalidValueError("strategy capacity needs at least one leg")

    def net(capital: float) -> float:
        return math.fsum(leg.net_alpha_amount(capital) for leg in legs)

    capital, best = 1.0, -math.inf
    for _ in range(_MAX_DOUBLINGS):
        value = net(capital)
        if value < 0 and best > 0:
            break  # concave: past the peak, the net alpha only falls from here
        best = max(best, value)
        capital *= 2
    else:
        return None if best > 0 else 0.0
    from scipy import optimize

    root = optimize.brentq(net, capital / 2, capital, xtol=1e-300, rtol=4 * 2.220446049250313e-16)
    return float(root)
