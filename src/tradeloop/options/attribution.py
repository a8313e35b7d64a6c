"""Options P&L attribution: each step's mark-to-mark P&L split by Greek, with the residual.

For a position of ``n`` options (multiplier ``m``) marked at two instants with price ``P``,
spot ``S``, implied vol ``sigma``, time to expiry ``t`` and rate ``r``, the step's P&L
``n m (P_1 - P_0)`` is split with the Greeks of the step's start (a second-order Taylor
expansion in spot, first order in the rest):

- delta ``n m Delta_0 dS``, gamma ``n m Gamma_0 dS^2 / 2``, vega ``n m Vega_0 d sigma``,
- theta ``n m Theta_0 (t_0 - t_1)`` (theta per year of calendar time, the elapsed years),
- rho ``n m Rho_0 dr``,
- residual: the P&L less those five (cross terms such as vanna and volga, higher orders,
  and a change of dividend yield), so the six add up to the P&L exactly (to float rounding,
  computed as a difference).

Greeks in QuantLib's units (vega and rho per 1.00), as ``tradeloop.options.greeks`` gives them
and ``GreeksHedged`` journals them. A linear position (the hedge in the underlying) is all
delta: ``n m dS``, no residual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from tradeloop.core.errors import InvalidValueError
from tradeloop.model.hedging import OptionMark

COMPONENTS: tuple[str, ...] = ("delta", "gamma", "vega", "theta", "rho", "residual")
"""The parts of a step's P&L, in display order; they add up to its ``pnl``."""

__all__ = ["COMPONENTS", "GreekStep", "attribute_linear", "attribute_option", "totals"]


@dataclass(frozen=True, slots=True)
class GreekStep:
    """One step of one position: the quantity held over it, its P&L and the P&L's parts."""

    instrument_id: str
    ts_start: int
    ts_end: int
    quantity: float
    pnl: float
    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float
    residual: float

    def part(self, name: str) -> float:
        """Return the component ``name`` (one of ``COMPONENTS``)."""
        return float(getattr(self, name))


def attribute_option(
    marks: Sequence[tuple[int, OptionMark]], quantities: Sequence[float]
) -> list[GreekStep]:
    """Return the attribution of each step between consecutive ``marks`` of one option.

    ``marks`` are ``(ts_ns, mark)`` in time order; ``quantities[i]`` is the number of options
    held from mark ``i`` to mark ``i + 1`` (signed; ``len(marks) - 1`` of them).

    Raises
    ------
    InvalidValueError
        If the lengths do not match, the marks are of different instruments or out of order.
    """
    _check(marks, quantities)
    out = []
    for (ts0, a), (ts1, b), quantity in zip(marks, marks[1:], quantities, strict=False):
        units = quantity * a.multiplier
        d_spot = b.spot - a.spot
        pnl = units * (b.price - a.price)
        delta = units * a.delta * d_spot
        gamma = units * 0.5 * a.gamma * d_spot * d_spot
        vega = units * a.vega * (b.implied_vol - a.implied_vol)
        theta = units * a.theta * (a.t - b.t)
        rho = units * a.rho * (b.r - a.r)
        residual = pnl - (delta + gamma + vega + theta + rho)
        out.append(
            GreekStep(
                a.instrument_id, ts0, ts1, quantity, pnl, delta, gamma, vega, theta, rho, residual
            )
        )
    return out


def attribute_linear(
    instrument_id: str,
    ts: Sequence[int],
    prices: Sequence[float],
    quantities: Sequence[float],
    multiplier: float = 1.0,
) -> list[GreekStep]:
    """Return the steps of a linear position (the hedge): all delta, ``n m dS``."""
    if len(ts) != len(prices) or len(quantities) != max(len(ts) - 1, 0):
        raise InvalidValueError(
            f"attribution of {instrument_id}: {len(ts)} instants, {len(prices)} prices and "
            f"{len(quantities)} quantities (one fewer than instants) do not match"
        )
    out = []
    for i, quantity in enumerate(quantities):
        pnl = quantity * multiplier * (prices[i + 1] - prices[i])
        out.append(
            GreekStep(instrument_id, ts[i], ts[i + 1], quantity, pnl, pnl, 0.0, 0.0, 0.0, 0.0, 0.0)
        )
    return out


def totals(steps: Sequence[GreekStep]) -> dict[str, float]:
    """Return the sum of ``pnl`` and of each component over ``steps``."""
    out = {"pnl": sum(s.pnl for s in steps)}
    for name in COMPONENTS:
        out[name] = sum(s.part(name) for s in steps)
    return out


def _check(marks: Sequence[tuple[int, OptionMark]], quantities: Sequence[float]) -> None:
    if len(quantities) != max(len(marks) - 1, 0):
        raise InvalidValueError(
            f"attribution: {len(marks)} marks need {max(len(marks) - 1, 0)} quantities (one "
            f"per step); got {len(quantities)}"
        )
    ids = {m.instrument_id for _, m in marks}
    if len(ids) > 1:
        raise InvalidValueError(
            f"attribution: marks of several instruments ({', '.join(sorted(ids))})"
        )
    stamps = [ts for ts, _ in marks]
    if any(b < a for a, b in pairwise(stamps)):
        raise InvalidValueError("attribution: marks must be in time order")
