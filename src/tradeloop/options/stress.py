"""Stress tests: historical scenarios (2008, March 2020) and user-defined shocks.

A :class:`StressScenario` moves every risk factor's spot by a return (one for all factors,
or one per factor), shifts every option's implied vol in parallel (``vol_shift`` in vol
units: +0.10 is ten vol points), shifts the rate (``rate_shift``, 0.01 = 100 bp) and takes
``days`` calendar days off every expiry. :func:`stress_test` revalues the book under it
(full revaluation, :class:`~tradeloop.options.risk.RiskPortfolio`).

Historical scenarios (``HISTORICAL_SCENARIOS``)
-----------------------------------------------
Each is a window between two US closes:

- the equity move is SPY's close-to-close return over the window, from the bundled
  ``spy_daily`` data (pandas-ta's ``SPY_D.csv``, unadjusted; a test recomputes every figure
  from that file);
- the vol shift is the change of the CBOE VIX close over the same window (published by CBOE;
  quoted, not bundled), in vol units;
- the rate shift is the change of the Federal Reserve's federal funds target (its midpoint
  for a range) decided inside the window.

:func:`resolve_scenario` turns one into per-factor moves for a given book: a factor whose own
price history covers the window moves as it really did; otherwise by its beta to the market
factor times the market's move (beta from the histories' daily returns), else by the market's
move itself (beta 1). Each factor's basis is kept for the report. A parallel vol shift is a
simplification: in a real crash the short-dated and low-strike vols rise more.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import InvalidValueError
from tradeloop.options.risk import RiskPortfolio

__all__ = [
    "HISTORICAL_SCENARIOS",
    "StressResult",
    "StressScenario",
    "historical_scenario",
    "resolve_scenario",
    "stress_test",
]


@dataclass(frozen=True, slots=True)
class StressScenario:
    """A set of shocks (module docstring). ``spot_returns`` overrides ``spot_return`` per
    factor; ``basis`` says where each factor's move came from (filled by
    :func:`resolve_scenario`); ``start``/``end`` are the window of a historical scenario."""

    name: str
    spot_return: float = 0.0
    vol_shift: float = 0.0
    rate_shift: float = 0.0
    days: float = 0.0
    spot_returns: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    start: str | None = None
    end: str | None = None
    basis: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in (("spot", self.spot_return), *self.spot_returns.items()):
            if not (math.isfinite(value) and value > -1.0):
                raise InvalidValueError(
                    f"scenario {self.name}: spot return {value} of {key} must be a finite "
                    "return above -1 (-100 %)"
                )
        for name in ("vol_shift", "rate_shift", "days"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidValueError(f"scenario {self.name}: {name} must be finite")
        if self.days < 0:
            raise InvalidValueError(f"scenario {self.name}: days {self.days} must be >= 0")

    def spot_move(self, factor: str) -> float:
        """Return the return ``factor`` takes in this scenario."""
        return float(self.spot_returns.get(factor, self.spot_return))

    @classmethod
    def parse(cls, text: str) -> StressScenario:
        """Parse a user shock: ``name=crash,spot=-0.2,vol=0.1,rate=-0.005,days=1``.

        Keys: ``name``, ``spot`` (a return for every factor: -0.2 is -20 %), ``spot.<ID>`` (one
        factor's return), ``vol`` (parallel vol shift in vol units), ``rate`` (rate shift,
        0.01 = 100 bp), ``days`` (calendar days of decay). Every key but one shock is optional.

        Raises
        ------
        InvalidValueError
            If a part is not ``key=value``, a key is unknown or a value is not a number.
        """
        fields: dict[str, float] = {}
        per_factor: dict[str, float] = {}
        name = None
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep:
                raise InvalidValueError(
                    f"shock {text!r}: {part!r} is not key=value (keys: name, spot, spot.<ID>, "
                    "vol, rate, days)"
                )
            if key == "name":
                name = value.strip()
                continue
            try:
                number = float(value)
            except ValueError:
                raise InvalidValueError(
                    f"shock {text!r}: {key}={value!r} is not a number"
                ) from None
            if key.startswith("spot."):
                per_factor[key[5:]] = number
            elif key in ("spot", "vol", "rate", "days"):
                fields[key] = number
            else:
                raise InvalidValueError(
                    f"shock {text!r}: unknown key {key!r} "
                    "(keys: name, spot, spot.<ID>, vol, rate, days)"
                )
        if not fields and not per_factor:
            raise InvalidValueError(f"shock {text!r} shocks nothing: give spot, vol, rate or days")
        return cls(
            name=name or text,
            spot_return=fields.get("spot", 0.0),
            vol_shift=fields.get("vol", 0.0),
            rate_shift=fields.get("rate", 0.0),
            days=fields.get("days", 0.0),
            spot_returns=per_factor,
            description="user-defined shock",
        )


def _spy(start_close: float, end_close: float) -> float:
    return end_close / start_close - 1.0


HISTORICAL_SCENARIOS: tuple[StressScenario, ...] = (
    StressScenario(
        name="lehman_week_2008",
        spot_return=_spy(126.20, 116.70),
        vol_shift=(36.22 - 25.66) / 100,
        rate_shift=0.0,
        days=5.0,
        description="Lehman Brothers' bankruptcy: close of Fri 2008-09-12 to Wed 2008-09-17 "
        "(SPY 126.20 -> 116.70, VIX 25.66 -> 36.22, Fed funds target held at 2 %)",
        start="2008-09-12",
        end="2008-09-17",
    ),
    StressScenario(
        name="october_2008",
        spot_return=_spy(110.21, 88.82),
        vol_shift=(69.95 - 45.14) / 100,
        rate_shift=-0.005,
        days=7.0,
        description="the week of 2008-10-06: close of 2008-10-03 to 2008-10-10 (SPY 110.21 -> "
        "88.82, VIX 45.14 -> 69.95, coordinated Fed cut 2.00 % -> 1.50 % on 10-08)",
        start="2008-10-03",
        end="2008-10-10",
    ),
    StressScenario(
        name="lehman_to_october_2008",
        spot_return=_spy(126.20, 88.82),
        vol_shift=(69.95 - 25.66) / 100,
        rate_shift=-0.005,
        days=28.0,
        description="2008-09-12 to 2008-10-10 (SPY 126.20 -> 88.82, VIX 25.66 -> 69.95, Fed "
        "funds 2.00 % -> 1.50 %)",
        start="2008-09-12",
        end="2008-10-10",
    ),
    StressScenario(
        name="covid_march_2020",
        spot_return=_spy(338.34, 222.95),
        vol_shift=(61.59 - 14.38) / 100,
        rate_shift=-0.015,
        days=33.0,
        description="2020-02-19 (the high) to 2020-03-23 (the low) (SPY 338.34 -> 222.95, VIX "
        "14.38 -> 61.59, Fed funds 1.50-1.75 % -> 0-0.25 %)",
        start="2020-02-19",
        end="2020-03-23",
    ),
)


def historical_scenario(name: str) -> StressScenario:
    """Return the historical scenario ``name``.

    Raises
    ------
    InvalidValueError
        If there is none of that name (the message lists them).
    """
    for scenario in HISTORICAL_SCENARIOS:
        if scenario.name == name:
            return scenario
    names = ", ".join(s.name for s in HISTORICAL_SCENARIOS)
    raise InvalidValueError(f"no historical scenario {name!r}; there are: {names}")


History = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def _close_on(history: History, day: str) -> float | None:
    ts, close = history
    if not len(ts):
        return None
    start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    lo = int(start.timestamp()) * 1_000_000_000
    hi = lo + 86_400 * 1_000_000_000
    index = int(np.searchsorted(ts, hi, side="left")) - 1
    if index < 0 or ts[index] < lo:
        return None
    return float(close[index])


def _beta(asset: History, market: History) -> float | None:
    ts = asset[0]
    at = np.searchsorted(market[0], ts, side="right") - 1
    keep = at >= 0
    if np.count_nonzero(keep) < 21:
        return None
    a = asset[1][keep]
    m = market[1][at[keep]]
    ra, rm = np.diff(a) / a[:-1], np.diff(m) / m[:-1]
    variance = float(np.var(rm, ddof=1))
    if not variance > 0:
        return None
    return float(np.cov(ra, rm, ddof=1)[0, 1] / variance)


def resolve_scenario(
    scenario: StressScenario,
    factors: tuple[str, ...] | list[str],
    histories: Mapping[str, History],
    market_factor: str | None = None,
) -> StressScenario:
    """Return ``scenario`` with a move per factor and its basis (module docstring).

    ``histories`` maps a factor to its ``(ts_ns, close)`` daily series; ``market_factor`` is
    the one whose beta the others take (e.g. the SPY instrument of the run).
    User-defined moves given per factor are kept as they are.
    """
    moves: dict[str, float] = {}
    basis: dict[str, str] = {}
    market = histories.get(market_factor) if market_factor else None
    for factor in factors:
        if factor in scenario.spot_returns:
            moves[factor] = scenario.spot_returns[factor]
            basis[factor] = "given"
            continue
        history = histories.get(factor)
        if scenario.start and scenario.end and history is not None:
            first, last = _close_on(history, scenario.start), _close_on(history, scenario.end)
            if first and last:
                moves[factor] = last / first - 1.0
                basis[factor] = f"own history {scenario.start}..{scenario.end}"
                continue
        if (
            scenario.start
            and history is not None
            and market is not None
            and factor != market_factor
        ):
            beta = _beta(history, market)
            if beta is not None:
                moves[factor] = max(beta * scenario.spot_return, -0.99)
                basis[factor] = f"beta {beta:.2f} to {market_factor} x market move"
                continue
        moves[factor] = scenario.spot_return
        if not scenario.start:
            basis[factor] = "scenario move"
        elif factor == market_factor:
            basis[factor] = "market move"
        else:
            basis[factor] = "market move (beta 1 assumed)"
    return replace(scenario, spot_returns=moves, basis=basis)


@dataclass(frozen=True, slots=True)
class StressResult:
    """The book under one scenario: value before and after, P&L in total and per position."""

    scenario: StressScenario
    value_before: float
    value_after: float
    pnl: float
    position_pnl: dict[str, float]


def stress_test(portfolio: RiskPortfolio, scenario: StressScenario) -> StressResult:
    """Return the book's P&L under ``scenario`` (full revaluation of every position)."""
    moves = np.array([[scenario.spot_move(f) for f in portfolio.factors]])
    base = portfolio.position_values()[0]
    after = portfolio.position_values(
        moves,
        vol_shift=scenario.vol_shift,
        rate_shift=scenario.rate_shift,
        days=scenario.days,
    )[0]
    per_position: dict[str, float] = {}
    for position, before, now in zip(portfolio.positions, base, after, strict=True):
        per_position[position.instrument_id] = per_position.get(
            position.instrument_id, 0.0
        ) + float(now - before)
    return StressResult(
        scenario=scenario,
        value_before=float(base.sum()),
        value_after=float(after.sum()),
        pnl=float((after - base).sum()),
        position_pnl=per_position,
    )
