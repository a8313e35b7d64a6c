import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.agents import (
    AdaptiveLevels,
    AgentContext,
    AgentHost,
    CrossSectionalMomentum,
    Ensemble,
    EnsembleConfig,
    MeanReversion,
    SignalAgent,
    TimeSeriesMomentum,
    VetoRule,
    VolatilityFilter,
)
from tradeloop.analytics.history import BarHistory
from tradeloop.core import ConfigError, InvalidValueError
from tradeloop.model import Bar
from tradeloop.model.decisions import Signal


def history_of(series: dict[str, list[float]], volume: int = 1000) -> BarHistory:
    history = BarHistory(600)
    length = max(len(v) for v in series.values())
    for i in range(length):
        for instrument_id, closes in series.items():
            if i < len(closes):
                c = round(closes[i] * 100)
                history.update(Bar(instrument_id, c, c + 50, c - 50, c, volume, 2, 0, i, i))
    return history


def context(universe: list[str], benchmark: str | None = None) -> AgentContext:
    return AgentContext(ts_ns=0, regime=None, universe=tuple(universe), benchmark_id=benchmark)


def test_time_series_momentum_is_positive_on_an_uptrend_and_negative_on_a_downtrend() -> None:
    rng = np.random.default_rng(1)
    up = list(100 * np.exp(np.cumsum(0.002 + rng.normal(0, 0.01, 300))))
    down = list(100 * np.exp(np.cumsum(-0.002 + rng.normal(0, 0.01, 300))))
    agent = TimeSeriesMomentum(lookback=252, skip=21)
    signals = {
        s.instrument_id: s
        for s in agent.score_all(history_of({"UP.X": up, "DN.X": down}), context(["UP.X", "DN.X"]))
    }
    assert signals["UP.X"].score > 0.3
    assert signals["DN.X"].score < -0.3
    assert 0 <= signals["UP.X"].confidence <= 1


def test_cross_sectional_momentum_ranks_best_plus_one_worst_minus_one_and_skips_the_benchmark() -> (
    None
):
    series = {f"S{i}.X": [100 * (1 + 0.001 * i) ** t for t in range(200)] for i in range(3)}
    series["B.X"] = [100.0] * 200
    agent = CrossSectionalMomentum(lookback=126, skip=21)
    signals = {
        s.instrument_id: s.score
        for s in agent.score_all(history_of(series), context([*series], "B.X"))
    }
    assert signals == {"S0.X": -1.0, "S1.X": 0.0, "S2.X": 1.0}


def test_mean_reversion_fades_a_two_sigma_move_and_abstains_inside_the_band() -> None:
    closes = [100.0] * 19 + [110.0]
    agent = MeanReversion(window=20, entry_z=1.0)
    [signal] = agent.score_all(history_of({"A.X": closes}), context(["A.X"]))
    z = (110 - np.mean(closes)) / np.std(closes)
    assert signal.score == pytest.approx(-math.tanh(z / 2))
    quiet = [100.0, 100.2] * 10  # the last close is one standard deviation above the mean
    assert (
        MeanReversion(window=20, entry_z=1.5).score_all(
            history_of({"A.X": quiet}), context(["A.X"])
        )
        == []
    )


def test_adaptive_levels_signal_a_breakout_above_the_last_swing_high() -> None:
    base = [100 + 5 * math.sin(i / 4) for i in range(60)]
    agent = AdaptiveLevels(swing=3, lookback=50, atr_window=10)
    history = history_of({"A.X": [*base, 130.0]})
    [signal] = agent.score_all(history, context(["A.X"]))
    assert signal.score > 0
    assert "above resistance" in signal.reason


def test_volatility_filter_stands_aside_when_volatility_is_extreme() -> None:
    rng = np.random.default_rng(3)
    calm = list(100 * np.exp(np.cumsum(rng.normal(0, 0.005, 300))))
    wild = calm + list(calm[-1] * np.exp(np.cumsum(rng.normal(0, 0.06, 25))))
    agent = VolatilityFilter(window=20, history=252, threshold=0.9)
    [calm_signal] = agent.score_all(history_of({"A.X": calm}), context(["A.X"]))
    [wild_signal] = agent.score_all(history_of({"A.X": wild}), context(["A.X"]))
    assert calm_signal.score > -0.5
    assert wild_signal.score <= -0.9  # vol at its 99.6th percentile of the last year


class Broken(SignalAgent):
    lookback = 1

    def score(self, instrument_id: str, history: Any, context: Any) -> Signal | None:
        raise RuntimeError("boom")


class OutOfRange(SignalAgent):
    lookback = 1

    def score(self, instrument_id: str, history: Any, context: Any) -> Signal | None:
        return self.signal(instrument_id, 1.5, 1.0, "too strong")


def test_broken_agents_are_isolated_then_disabled_and_the_others_still_score() -> None:
    history = history_of({"A.X": [100.0] * 30})
    host = AgentHost(
        [Broken("broken"), OutOfRange("loud"), MeanReversion(window=20, entry_z=0.0)],
        max_failures=2,
    )
    signals, failures = host.run(history, context(["A.X"]))
    assert signals == []  # flat prices: mean reversion abstains (zero dispersion)
    errors = {f.agent_id: f.error for f in failures}
    # with the agent's own line, relative to its file's directory
    assert errors["broken"] == (
        'RuntimeError: boom (at test_agents.py:109 in score: raise RuntimeError("boom"))'
    )
    assert "score 1.5 for A.X is outside [-1.0, 1.0]" in errors["loud"]
    assert not any(f.is_disabled for f in failures)
    _, failures = host.run(history, context(["A.X"]))
    assert all(f.is_disabled for f in failures)
    assert host.disabled == {"broken", "loud"}
    _, failures = host.run(history, context(["A.X"]))
    assert failures == []


class Raw(SignalAgent):
    """Builds ``Signal`` records itself (skipping ``self.signal``'s checks)."""

    lookback = 1

    def __init__(self, rows: list[tuple[str, float, float]], agent_id: str = "raw") -> None:
        super().__init__(agent_id)
        self.rows = rows

    def score_all(self, history: Any, context: Any) -> list[Signal]:
        return [Signal(self.id, i, score, confidence, "raw") for i, score, confidence in self.rows]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            [("A.X", math.nan, 0.5)],
            "agent raw signal for A.X: score nan is not a finite number in [-1, 1]",
        ),
        (
            [("A.X", 0.5, 1.5)],
            "agent raw signal for A.X: confidence 1.5 is not a finite number in [0, 1]",
        ),
        (
            [("A.X", -math.inf, 0.5)],
            "agent raw signal for A.X: score -inf is not a finite number in [-1, 1]",
        ),
        ([("ZZ.X", 0.5, 0.5)], "agent raw signal for ZZ.X: instrument is not in the universe"),
        (
            [("A.X", 0.5, 0.5), ("A.X", 0.2, 0.5)],
            "agent raw signal for A.X: a second signal for the same instrument",
        ),
    ],
)
def test_an_invalid_signal_isolates_its_agent_naming_instrument_value_and_rule(
    rows: list[tuple[str, float, float]], problem: str
) -> None:
    history = history_of({"A.X": [100.0] * 30, "B.X": [100.0] * 30})
    good = Raw([("A.X", 0.3, 0.9), ("B.X", -0.2, 0.5)], agent_id="good")
    host = AgentHost([Raw(rows), good], max_failures=2)
    signals, failures = host.run(history, context(["A.X", "B.X"]))
    # Nothing of the bad agent passes (a NaN never reaches the ensemble); the loop goes on.
    assert [s.agent_id for s in signals] == ["good", "good"]
    [failure] = failures
    assert (failure.agent_id, failure.error, failure.is_disabled) == (
        "raw",
        f"invalid signals: {problem}",
        False,
    )
    _, failures = host.run(history, context(["A.X", "B.X"]))
    assert [f.is_disabled for f in failures] == [True]


def test_a_filter_scoring_above_zero_is_invalid() -> None:
    class Gate(Raw):
        is_filter = True

    host = AgentHost([Gate([("A.X", 0.5, 1.0)], agent_id="gate")])
    _, [failure] = host.run(history_of({"A.X": [100.0] * 5}), context(["A.X"]))
    assert failure.error == (
        "invalid signals: agent gate signal for A.X: score 0.5 is not a finite number in [-1, 0]"
    )


def test_agent_ids_must_be_unique() -> None:
    with pytest.raises(ConfigError, match="unique"):
        AgentHost([MeanReversion(), MeanReversion()])


def test_invalid_agent_parameters_are_clear_errors() -> None:
    with pytest.raises(InvalidValueError, match="entry_z"):
        MeanReversion(entry_z=-1)
    with pytest.raises(InvalidValueError, match="threshold"):
        VolatilityFilter(threshold=1.5)


scores = st.floats(-1, 1, allow_nan=False)
confidences = st.floats(0, 1, allow_nan=False)


@given(scores, confidences, st.floats(0.01, 10))
def test_ensemble_of_one_agent_equals_that_agent(
    score: float, confidence: float, weight: float
) -> None:
    ensemble = Ensemble(EnsembleConfig(weights={"a": weight}), ["a"])
    [combined] = ensemble.combine([Signal("a", "X.Y", score, confidence, "")], None, ["X.Y"])
    assert combined.score == pytest.approx(score, abs=1e-12)
    assert combined.confidence == pytest.approx(confidence, abs=1e-12)


@given(st.lists(st.tuples(scores, confidences), min_size=1, max_size=5))
def test_ensemble_score_stays_within_the_agents_scores(rows: list[tuple[float, float]]) -> None:
    ids = [f"a{i}" for i in range(len(rows))]
    ensemble = Ensemble(EnsembleConfig(), ids)
    signals = [Signal(i, "X.Y", s, c, "") for i, (s, c) in zip(ids, rows, strict=True)]
    [combined] = ensemble.combine(signals, None, ["X.Y"])
    if sum(c for _, c in rows) > 0:
        assert min(s for s, _ in rows) - 1e-12 <= combined.score <= max(s for s, _ in rows) + 1e-12


def test_ensemble_uses_regime_weights_filters_gate_and_vetoes_zero_the_score() -> None:
    config = EnsembleConfig(
        weights={"mom": 1.0, "rev": 1.0},
        regime_weights={"high_volatility": {"mom": 0.0, "rev": 1.0}},
        vetoes=[VetoRule(agent="vol", below=-0.9, side="long")],
    )
    ensemble = Ensemble(config, ["mom", "rev", "vol"], ["vol"])
    signals = [
        Signal("mom", "X.Y", 0.8, 1.0, ""),
        Signal("rev", "X.Y", -0.2, 1.0, ""),
        Signal("vol", "X.Y", -0.5, 1.0, ""),
    ]
    [calm] = ensemble.combine(signals, "low_volatility", ["X.Y"])
    assert calm.score == pytest.approx((0.8 - 0.2) / 2 * 0.5)  # mean of the two, gated by 1 - 0.5
    [stormy] = ensemble.combine(signals, "high_volatility", ["X.Y"])
    assert stormy.score == pytest.approx(-0.2 * 0.5)
    vetoing = [*signals[:2], Signal("vol", "X.Y", -0.95, 1.0, "")]
    [vetoed] = ensemble.combine(vetoing, "low_volatility", ["X.Y"])
    assert vetoed.score == 0.0  # the gated score (+0.015) was long, and longs are vetoed
    assert vetoed.vetoes == ("vol score -0.95 vetoes long",)
    short_signals = [Signal("mom", "X.Y", -0.8, 1.0, ""), Signal("vol", "X.Y", -0.95, 1.0, "")]
    [kept] = ensemble.combine(short_signals, "low_volatility", ["X.Y"])
    assert kept.score < 0  # a long-only veto leaves shorts alone
    assert kept.vetoes == ()


# -- versions ---------------------------------------------------------------------------------


def test_an_agents_version_is_its_class_version_and_a_hash_of_its_parameters() -> None:
    default = TimeSeriesMomentum()
    assert default.parameters() == {"lookback": 252, "skip": 21}
    assert default.agent_version.startswith(f"{TimeSeriesMomentum.version}+")
    assert TimeSeriesMomentum(lookback=252, skip=21).agent_version == default.agent_version
    assert TimeSeriesMomentum(agent_id="other").agent_version == default.agent_version
    assert TimeSeriesMomentum(lookback=200).agent_version != default.agent_version
    assert MeanReversion(window=20).agent_version != MeanReversion(window=21).agent_version


def test_a_subclass_records_the_outermost_constructors_parameters() -> None:
    class Tuned(MeanReversion):
        version = "7"

        def __init__(self, threshold: float = 2.0, **options: Any) -> None:
            super().__init__(entry_z=threshold, **options)

    agent = Tuned(threshold=1.5, window=10)
    assert agent.parameters() == {"threshold": 1.5, "window": 10}
    assert agent.agent_version.startswith("7+")
    assert agent.agent_version != Tuned(threshold=1.6, window=10).agent_version


def test_the_ensembles_model_version_changes_with_its_weights() -> None:
    base = Ensemble(EnsembleConfig(weights={"a": 1.0}), ["a", "b"])
    same = Ensemble(EnsembleConfig(weights={"a": 1.0}), ["b", "a"])
    other = Ensemble(EnsembleConfig(weights={"a": 2.0}), ["a", "b"])
    assert base.model_version == same.model_version
    assert base.model_version != other.model_version
