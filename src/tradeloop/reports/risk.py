"""Portfolio risk of a run at any instant: VaR/CVaR, stress tests, cross-asset correlation.

``run_risk(inputs, at_ns=...)`` takes the positions the journal holds at the instant
(``JournalIndex.state_at``: the replay), values them at the run's market data as of that
instant, and measures them with :mod:`tradeloop.options.risk` and
:mod:`tradeloop.analytics.portfolio_var`:

- **History.** Each position's daily closes up to the instant (no look-ahead): bars are
  taken at their last close of each UTC day, so intraday data gives daily returns too. The
  returns of every held instrument are aligned on the days all of them have, and the last
  ``window`` of them (default 500: Hull's 501 days of data) are the scenarios and the
  covariance.
- **VaR/CVaR.** Historical simulation (full revaluation), delta-normal, delta-gamma
  (Cornish-Fisher) and Monte Carlo (full revaluation, ``paths`` draws from a generator seeded
  with ``seed``). A method the history is too short for is reported with the reason instead
  of a number; the others still run.
- **Options.** A held instrument of kind ``option`` is priced as an option (full revaluation,
  Greeks) with the terms, implied vol and rates of its latest ``GreeksHedged`` mark in the
  journal (a hedging run's), its underlying being a risk factor; without a mark it is a
  linear position in its own price, and a note says so.
- **Stress.** The historical scenarios (2008, March 2020) resolved per instrument (own
  history over the window, else beta to the benchmark times the market's move) and any
  user-defined shocks.
- **Correlation.** Full window, the latest rolling window (``corr_window`` days), and by
  regime: the run's own ``RegimeChanged`` labels when it journaled them, else a volatility
  regime (the benchmark's 20-day realised vol above or below its median over the window).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.correlation import (
    correlation,
    correlation_by_regime,
    rolling_correlation,
)
from tradeloop.analytics.portfolio_var import VarResult, check_confidence
from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.model.decisions import RegimeChanged
from tradeloop.model.enums import InstrumentKind
from tradeloop.model.hedging import GreeksHedged, OptionMark
from tradeloop.options.risk import RiskMarket, RiskPortfolio, RiskPosition, Sensitivities
from tradeloop.options.stress import (
    HISTORICAL_SCENARIOS,
    StressResult,
    StressScenario,
    resolve_scenario,
    stress_test,
)
from tradeloop.reports.run import RunInputs

F64 = npt.NDArray[np.float64]
_NS_PER_DAY = 86_400 * 1_000_000_000
MIN_COVARIANCE_DAYS = 20
"""Fewest daily returns the covariance-based methods (delta-normal, delta-gamma, Monte Carlo)
take: fewer give a covariance too noisy to mean anything."""


@dataclass(frozen=True, slots=True)
class HeldPosition:
    """One instrument held at the instant (summed over strategies)."""

    instrument_id: str
    quantity: float
    multiplier: float
    price: float
    value: float


@dataclass(frozen=True, slots=True)
class MethodOutcome:
    """A VaR method's result, or why it could not run."""

    method: str
    result: VarResult | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CorrelationView:
    """Correlation matrices over the window: full, latest rolling window, by regime."""

    instruments: tuple[str, ...]
    full: F64
    rolling_window: int
    rolling_latest: F64 | None
    regime_source: str
    by_regime: list[tuple[str, int, F64]]


@dataclass
class RunRisk:
    """Everything ``tradeloop risk`` prints for one instant."""

    run_id: str
    at_ns: int
    currency: str
    positions: list[HeldPosition]
    value: float
    confidence: float
    horizon_days: int
    window_days: int
    history_start_ns: int
    history_end_ns: int
    seed: int
    paths: int
    methods: list[MethodOutcome] = field(default_factory=list)
    stress: list[StressResult] = field(default_factory=list)
    correlation: CorrelationView | None = None
    sensitivities: Sensitivities | None = None
    notes: list[str] = field(default_factory=list)


def daily_closes(
    ts: npt.NDArray[np.int64], close: F64, until_ns: int
) -> tuple[npt.NDArray[np.int64], F64]:
    """Return the last close of each UTC day at or before ``until_ns`` (stamped as it was)."""
    keep = ts <= until_ns
    ts, close = ts[keep], close[keep]
    if not len(ts):
        return ts, close
    day = ts // _NS_PER_DAY
    last = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    return ts[last], close[last]


def _aligned_returns(
    histories: dict[str, tuple[npt.NDArray[np.int64], F64]], order: Sequence[str]
) -> tuple[npt.NDArray[np.int64], F64]:
    days = None
    for instrument in order:
        d = histories[instrument][0] // _NS_PER_DAY
        days = d if days is None else np.intersect1d(days, d)
    assert days is not None
    columns = []
    for instrument in order:
        ts, close = histories[instrument]
        index = np.searchsorted(ts // _NS_PER_DAY, days)
        columns.append(close[index])
    prices = np.column_stack(columns)
    return days[1:] * _NS_PER_DAY, prices[1:] / prices[:-1] - 1.0


def held_positions(inputs: RunInputs, at_ns: int) -> list[HeldPosition]:
    """Return the instruments held at ``at_ns`` with their price and value then.

    Raises
    ------
    ConfigError
        If a held instrument has no market data at or before the instant.
    """
    state = inputs.index.state_at(at_ns)
    quantities: dict[str, float] = {}
    for position in state.positions:
        quantity = position.signed_qty_raw / 10**position.size_precision
        quantities[position.instrument_id] = quantities.get(position.instrument_id, 0.0) + quantity
    held = []
    for instrument_id in sorted(quantities):
        quantity = quantities[instrument_id]
        if quantity == 0.0:
            continue
        mark = inputs.price_at(instrument_id, at_ns)
        if mark is None:
            note = inputs.market_data_note(instrument_id) or (
                f"{instrument_id} has no price at or before the instant"
            )
            raise ConfigError(f"cannot value {instrument_id} at the instant: {note}")
        multiplier = float(inputs.multiplier_of(instrument_id))
        price = float(mark)
        held.append(
            HeldPosition(instrument_id, quantity, multiplier, price, quantity * multiplier * price)
        )
    return held


def _latest_marks(inputs: RunInputs, at_ns: int) -> dict[str, tuple[int, OptionMark]]:
    # the latest journaled mark (GreeksHedged) of each option at or before the instant
    found: dict[str, tuple[int, OptionMark]] = {}
    for row in inputs.index.records_until(at_ns):
        if isinstance(row.record, GreeksHedged):
            for mark in row.record.marks:
                found[mark.instrument_id] = (row.ts_init, mark)
    return found


def _risk_positions(
    inputs: RunInputs, held: list[HeldPosition], at_ns: int, rate: float, notes: list[str]
) -> tuple[list[RiskPosition], dict[str, float], float]:
    # Stocks are linear positions; an option (kind "option") is priced as one with the terms,
    # implied vol and rates of its latest GreeksHedged mark, its time to expiry run down to
    # the instant; an option with no mark is linear in its own price (and a note says so).
    marks: dict[str, tuple[int, OptionMark]] | None = None
    positions: list[RiskPosition] = []
    spots: dict[str, float] = {}
    rates: list[float] = []
    for p in held:
        instrument = inputs.instruments.get(p.instrument_id)
        if instrument is not None and instrument.kind is InstrumentKind.OPTION:
            if marks is None:
                marks = _latest_marks(inputs, at_ns)
            found = marks.get(p.instrument_id)
            if found is not None:
                ts, mark = found
                underlying = inputs.price_at(mark.underlying_id, at_ns)
                if underlying is not None:
                    t = mark.t - (at_ns - ts) / (365.0 * _NS_PER_DAY)
                    positions.append(
                        RiskPosition(
                            p.instrument_id,
                            p.quantity,
                            p.multiplier,
                            mark.underlying_id,
                            mark.option_type,
                            mark.strike,
                            t,
                            mark.implied_vol,
                        )
                    )
                    spots[mark.underlying_id] = float(underlying)
                    rates.append(mark.r)
                    continue
            notes.append(
                f"{p.instrument_id} is an option with no GreeksHedged mark (terms and implied "
                "vol) in the journal: it is measured as a linear position in its own price"
            )
        positions.append(RiskPosition(p.instrument_id, p.quantity, p.multiplier))
        spots[p.instrument_id] = p.price
    if rates and rate == 0.0:
        rate = rates[0]
    return positions, spots, rate


def _regime_labels(
    inputs: RunInputs, days_ns: npt.NDArray[np.int64]
) -> tuple[str, list[str]] | None:
    changes: dict[str, list[tuple[int, str]]] = {}
    for row in inputs.index.rows:
        if isinstance(row.record, RegimeChanged):
            changes.setdefault(row.record.detector_id, []).append((row.ts_init, row.record.label))
    if not changes:
        return None
    detector = sorted(changes)[0]
    ts = np.array([t for t, _ in changes[detector]], dtype=np.int64)
    labels = [label for _, label in changes[detector]]
    # a day's return is labelled by the regime in force at its close (the end of that day)
    at = np.searchsorted(ts, days_ns + _NS_PER_DAY - 1, side="right") - 1
    return f"journal RegimeChanged of {detector}", [
        labels[i] if i >= 0 else "before first regime" for i in at
    ]


def _vol_regimes(returns: F64) -> list[str]:
    vol = np.full(len(returns), np.nan)
    for end in range(20, len(returns) + 1):
        vol[end - 1] = returns[end - 20 : end].std(ddof=1)
    median = float(np.nanmedian(vol)) if np.isfinite(vol).any() else math.nan
    return [
        "warm-up (<20 days)" if math.isnan(v) else ("high_vol" if v > median else "low_vol")
        for v in vol
    ]


def run_risk(
    inputs: RunInputs,
    *,
    at_ns: int,
    confidence: float = 0.99,
    horizon_days: int = 1,
    window: int = 500,
    paths: int = 20_000,
    seed: int = 0,
    shocks: Sequence[StressScenario] = (),
    corr_window: int = 60,
    r: float = 0.0,
) -> RunRisk:
    """Return the risk of the run's portfolio at ``at_ns`` (module docstring).

    Raises
    ------
    InvalidValueError
        For a confidence outside (0, 1), a horizon, window or path count below 1.
    ConfigError
        If a held instrument cannot be valued at the instant.
    """
    c = check_confidence(confidence)
    if horizon_days < 1:
        raise InvalidValueError(f"--horizon-days {horizon_days} must be >= 1")
    if window < 2:
        raise InvalidValueError(f"--window {window} must be >= 2 daily returns")
    if paths < 100:
        raise InvalidValueError(f"--paths {paths} must be >= 100")
    if corr_window < 3:
        raise InvalidValueError(f"--corr-window {corr_window} must be >= 3 days")
    held = held_positions(inputs, at_ns)
    report = RunRisk(
        run_id=inputs.manifest.run_id,
        at_ns=at_ns,
        currency=inputs.index.currency,
        positions=held,
        value=sum(p.value for p in held),
        confidence=c,
        horizon_days=horizon_days,
        window_days=0,
        history_start_ns=0,
        history_end_ns=0,
        seed=seed,
        paths=paths,
    )
    if not held:
        report.notes.append("no open positions at the instant: nothing is at risk")
        return report
    positions, spots, rate = _risk_positions(inputs, held, at_ns, r, report.notes)
    order = sorted({p.factor for p in positions})
    histories: dict[str, tuple[npt.NDArray[np.int64], F64]] = {}
    for instrument_id in order:
        series = inputs.price_series(instrument_id)
        if series is None:
            raise ConfigError(
                f"no price history for {instrument_id}: "
                + (inputs.market_data_note(instrument_id) or "it is not in the run's data")
            )
        histories[instrument_id] = daily_closes(series[0], series[1], at_ns)
    benchmark = inputs.benchmark_id
    if benchmark is not None and benchmark not in histories:
        series = inputs.price_series(benchmark)
        if series is not None:
            histories[benchmark] = daily_closes(series[0], series[1], at_ns)
    days, returns = _aligned_returns(histories, order)
    days, returns = days[-window:], returns[-window:]
    report.window_days = len(returns)
    if len(days):
        report.history_start_ns, report.history_end_ns = int(days[0]), int(days[-1])
    book = RiskPortfolio(positions, RiskMarket(spots=spots, r=rate))
    report.sensitivities = book.sensitivities()
    # the book's factors are its sorted factor ids, as ``order``
    report.methods = _methods(book, returns, c, horizon_days, paths, seed)
    market = benchmark if benchmark in histories else None
    for scenario in (*HISTORICAL_SCENARIOS, *shocks):
        resolved = resolve_scenario(scenario, book.factors, histories, market)
        report.stress.append(stress_test(book, resolved))
    report.correlation = _correlation(
        inputs, order, days, returns, corr_window, histories, benchmark
    )
    if len(returns) < window:
        report.notes.append(
            f"the history holds {len(returns)} daily returns common to every position, fewer "
            f"than the window of {window}"
        )
    return report


def _methods(
    book: RiskPortfolio, returns: F64, confidence: float, horizon: int, paths: int, seed: int
) -> list[MethodOutcome]:
    out = []
    try:
        out.append(
            MethodOutcome(
                "historical", book.historical_var(returns, confidence, horizon_days=horizon)
            )
        )
    except InvalidValueError as error:
        out.append(MethodOutcome("historical", None, str(error)))
    if len(returns) < MIN_COVARIANCE_DAYS:
        why = (
            f"needs at least {MIN_COVARIANCE_DAYS} daily returns for a covariance; the history "
            f"has {len(returns)}"
        )
        return [
            *out,
            *(MethodOutcome(m, None, why) for m in ("parametric", "delta_gamma", "monte_carlo")),
        ]
    cov = np.atleast_2d(np.cov(returns.T, ddof=1))
    out.append(
        MethodOutcome("parametric", book.parametric_var(cov, confidence, horizon_days=horizon))
    )
    out.append(
        MethodOutcome("delta_gamma", book.delta_gamma_var(cov, confidence, horizon_days=horizon))
    )
    try:
        result = book.monte_carlo_var(
            cov, confidence, rng=np.random.default_rng(seed), paths=paths, horizon_days=horizon
        )
        out.append(MethodOutcome("monte_carlo", result))
    except InvalidValueError as error:
        out.append(MethodOutcome("monte_carlo", None, str(error)))
    return out


def _correlation(
    inputs: RunInputs,
    order: list[str],
    days: npt.NDArray[np.int64],
    returns: F64,
    corr_window: int,
    histories: dict[str, tuple[npt.NDArray[np.int64], F64]],
    benchmark: str | None,
) -> CorrelationView | None:
    if len(returns) < 3:
        return None
    full = correlation(returns)
    latest = rolling_correlation(returns, corr_window)[-1] if len(returns) >= corr_window else None
    labelled = _regime_labels(inputs, days)
    if labelled is None:
        # the market's own daily returns (all its days), each labelled, then looked up per day
        market = benchmark if benchmark in histories else order[0]
        market_days, market_returns = _aligned_returns(histories, [market])
        market_labels = _vol_regimes(market_returns[-len(returns) - 19 :, 0])
        market_days = market_days[-len(market_labels) :]
        at = np.searchsorted(market_days, days, side="right") - 1
        labels = [market_labels[i] if i >= 0 else "warm-up (<20 days)" for i in at]
        source = f"volatility regime of {market} (20-day realised vol vs its median)"
    else:
        source, labels = labelled
    regimes = [(g.regime, g.observations, g.matrix) for g in correlation_by_regime(returns, labels)]
    return CorrelationView(tuple(order), full, corr_window, latest, source, regimes)
