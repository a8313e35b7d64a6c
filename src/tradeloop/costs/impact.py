"""Square-root market impact (pure functions).

The expected impact of a metaorder of ``Q`` units, as a fraction of price, is

    impact = Y * sigma * (Q / ADV) ** delta        (delta = 1/2: the "square-root law")

with ``sigma`` the daily volatility of returns (0.02 = 2 % a day), ``ADV`` the average daily
volume in the same units as ``Q``, and ``Y`` a dimensionless coefficient of order one.

Sources for the coefficient and the exponent:

- Tóth, Lempérière, Deremble, de Lataillade, Kockelkoren, Bouchaud (2011), "Anomalous price
  impact and the critical nature of liquidity in financial markets", Phys. Rev. X 1, 021006:
  delta ≈ 1/2 and Y of order 1 across futures (CFM's own trades).
- Bouchaud, Bonart, Donier, Gould (2018), *Trades, Quotes and Prices*, ch. 12: the square-root
  law holds over several decades of Q/ADV (up to a few percent), with Y of order one.
- Almgren, Thum, Hauptmann, Li (2005), "Direct estimation of equity market impact", Risk 18:
  on Citigroup's US equity orders they reject the square root for the temporary part in
  favour of ``eta * sigma * (X / (V T)) ** (3/5)``, plus a permanent part linear in size.
  Set ``exponent=0.6`` (and a coefficient fitted to your own fills) to use that shape.
- Grinold and Kahn (2000), *Active Portfolio Management*, ch. 16: the same square-root form
  as a rule of thumb for portfolio construction.

``Y = 1`` (the default) is deliberately conservative. The formula is used as the expected
cost per unit of the whole order relative to the arrival price; in latent-order-book models
the average cost paid is about 2/3 of the peak impact, so calibrated ``Y`` values fold that in.
"""

from __future__ import annotations

import math
from typing import Final

import msgspec

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.fixed import Quantity

__all__ = [
    "SquareRootImpactConfig",
    "quantity_for_impact_bps",
    "square_root_impact_bps",
]

_BPS: Final = 10_000.0  # basis points per unit


class SquareRootImpactConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Coefficients of the square-root impact model ``Y * sigma * (Q / ADV) ** delta``.

    Attributes
    ----------
    coefficient : Y, dimensionless, non-negative (default 1.0; see the module docstring).
    exponent : delta, in (0, 1] (default 0.5, the square-root law; 0.6 for Almgren et al.).
    """

    coefficient: float = 1.0
    exponent: float = 0.5

    def __post_init__(self) -> None:
        if not math.isfinite(self.coefficient) or self.coefficient < 0:
            raise ConfigError(
                f"impact coefficient {self.coefficient} must be finite and non-negative"
            )
        if not math.isfinite(self.exponent) or not 0 < self.exponent <= 1:
            raise ConfigError(f"impact exponent {self.exponent} must be in (0, 1]")


def _check_market(average_daily_volume: float, daily_volatility: float) -> None:
    if not math.isfinite(average_daily_volume) or average_daily_volume <= 0:
        raise InvalidValueError(
            f"average daily volume {average_daily_volume} must be finite and positive"
        )
    if not math.isfinite(daily_volatility) or daily_volatility < 0:
        raise InvalidValueError(
            f"daily volatility {daily_volatility} must be finite and non-negative"
        )


def square_root_impact_bps(
    quantity: Quantity | float,
    average_daily_volume: float,
    daily_volatility: float,
    config: SquareRootImpactConfig | None = None,
) -> float:
    """Return the expected impact ``Y * sigma * (Q / ADV) ** delta`` in bps of price.

    Parameters
    ----------
    quantity : order size Q (absolute), in the units of ``average_daily_volume``.
    average_daily_volume : ADV, positive.
    daily_volatility : sigma, the daily standard deviation of returns as a fraction.
    config : the coefficient Y and exponent delta (default Y = 1, delta = 0.5).

    Raises
    ------
    InvalidValueError
        If the quantity is negative, ADV is not positive or sigma is negative (or any is not
        finite).
    """
    settings = config if config is not None else SquareRootImpactConfig()
    size = float(quantity)
    if not math.isfinite(size) or size < 0:
        raise InvalidValueError(f"quantity {size} must be finite and non-negative")
    _check_market(average_daily_volume, daily_volatility)
    participation = size / average_daily_volume
    return float(settings.coefficient * daily_volatility * participation**settings.exponent * _BPS)


def quantity_for_impact_bps(
    impact_bps: float,
    average_daily_volume: float,
    daily_volatility: float,
    config: SquareRootImpactConfig | None = None,
) -> float | None:
    """Return the size whose expected impact is ``impact_bps`` (the inverse of the model).

    ``Q = ADV * (impact_bps / (Y * sigma * 10_000)) ** (1 / delta)``. Return ``None`` when
    the model has no impact (Y or sigma is 0): every size is within the budget.

    Raises
    ------
    InvalidValueError
        If ``impact_bps`` is negative or the market inputs are invalid.
    """
    settings = config if config is not None else SquareRootImpactConfig()
    if not math.isfinite(impact_bps) or impact_bps < 0:
        raise InvalidValueError(f"impact budget {impact_bps} bps must be finite and non-negative")
    _check_market(average_daily_volume, daily_volatility)
    scale_bps = settings.coefficient * daily_volatility * _BPS
    if scale_bps == 0:
        return None
    return float(average_daily_volume * (impact_bps / scale_bps) ** (1 / settings.exponent))
