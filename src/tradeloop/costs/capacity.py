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
"""

from __future__ import annotations

import math

import msgspec

from tradeloop.core.errors import InvalidValueError
from tradeloop.costs.assessment import CostAssessmentConfig, TradeIntent, cost_curve
from tradeloop.model.instruments import Instrument

__all__ = [
    "CapacityEstimate",
    "TradabilityReport",
    "capacity_estimate",
    "max_quantity_within_cost",
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
