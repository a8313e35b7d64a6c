"""Opportunity cost of delay (pure functions): what waiting ``delay_ns`` before trading costs.

Model, in bps of the reference price, for a trade with expected gross alpha ``alpha_bps``:

    delay_bps = lost_alpha_bps + risk_bps
    lost_alpha_bps = max(alpha_bps, 0) * (1 - 2 ** (-delay_ns / alpha_half_life_ns))
    risk_bps = risk_penalty * sigma * sqrt(delay_ns / volatility_period_ns) * 10_000

- **Lost alpha (adverse drift).** The signal's edge decays exponentially with half-life
  ``alpha_half_life_ns``; the part that decays while we wait is realised by the market before
  we trade, i.e. the price drifts against us by that much. For short delays this is linear,
  ``alpha_bps * ln 2 * delay / half_life``: "alpha decay rate × delay". Without a half-life
  (``None``) the alpha is assumed not to decay and the term is 0.
- **Timing risk.** Over the delay the price moves with standard deviation
  ``sigma * sqrt(delay / period)`` (a random walk; ``sigma`` is the volatility per
  ``volatility_period_ns``, a calendar day by default; use 23,400 s for a US equity session).
  Its expectation is zero, so a risk-neutral trader charges nothing for it
  (``risk_penalty = 0``, the default). A positive ``risk_penalty`` charges that many standard
  deviations, the certainty-equivalent style of Almgren–Chriss (2000) and of Kissell and
  Glantz (2003), *Optimal Trading Strategies* ("timing risk").

Both terms are non-negative, so the delay cost is never a gain.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.time import NANOS_PER_DAY

__all__ = ["DelayCostConfig", "delay_cost_bps"]

_BPS: Final = 10_000.0  # basis points per unit


class DelayCostConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How waiting before trading is charged (see the module docstring).

    Attributes
    ----------
    alpha_half_life_ns : half-life of the signal's alpha; ``None`` means no decay.
    risk_penalty : standard deviations of the price move over the delay charged as cost
        (default 0: risk-neutral).
    volatility_period_ns : the period the daily volatility refers to (default one calendar
        day; 23,400 s for a US equity session).
    """

    alpha_half_life_ns: int | None = None
    risk_penalty: float = 0.0
    volatility_period_ns: int = NANOS_PER_DAY

    def __post_init__(self) -> None:
        if self.alpha_half_life_ns is not None and self.alpha_half_life_ns <= 0:
            raise ConfigError(f"alpha half-life {self.alpha_half_life_ns} ns must be positive")
        if not math.isfinite(self.risk_penalty) or self.risk_penalty < 0:
            raise ConfigError(
                f"delay risk penalty {self.risk_penalty} must be finite and non-negative"
            )
        if self.volatility_period_ns <= 0:
            raise ConfigError(f"volatility period {self.volatility_period_ns} ns must be positive")


def delay_cost_bps(
    delay_ns: int,
    gross_alpha_bps: float,
    daily_volatility: float,
    config: DelayCostConfig | None = None,
) -> float:
    """Return the expected opportunity cost in bps of waiting ``delay_ns`` before trading.

    Parameters
    ----------
    delay_ns : time from the decision to the execution, non-negative.
    gross_alpha_bps : the trade's expected gross alpha in bps (only a positive alpha decays).
    daily_volatility : sigma per ``config.volatility_period_ns`` as a fraction.
    config : half-life, risk penalty and volatility period (default: no decay, no penalty,
        so the cost is 0).

    Raises
    ------
    InvalidValueError
        If ``delay_ns`` or ``daily_volatility`` is negative, or an input is not finite.
    """
    settings = config if config is not None else DelayCostConfig()
    if delay_ns < 0:
        raise InvalidValueError(f"delay {delay_ns} ns must be non-negative")
    if not math.isfinite(gross_alpha_bps):
        raise InvalidValueError(f"gross alpha {gross_alpha_bps} bps must be finite")
    if not math.isfinite(daily_volatility) or daily_volatility < 0:
        raise InvalidValueError(
            f"daily volatility {daily_volatility} must be finite and non-negative"
        )
    if delay_ns == 0:
        return 0.0
    lost_alpha_bps = 0.0
    if settings.alpha_half_life_ns is not None and gross_alpha_bps > 0:
        # 1 - 2**(-x) without cancellation for short delays.
        decayed = -math.expm1(-math.log(2) * delay_ns / settings.alpha_half_life_ns)
        lost_alpha_bps = gross_alpha_bps * decayed
    risk_bps = (
        settings.risk_penalty
        * daily_volatility
        * math.sqrt(delay_ns / settings.volatility_period_ns)
        * _BPS
    )
    return lost_alpha_bps + risk_bps
