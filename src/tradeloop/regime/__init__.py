"""Regime detection with explicit fit windows: features, a Gaussian HMM, rules, hysteresis.

- ``features``: causal log return and (log) realized volatility per bar
- ``hmm``: ``GaussianHMMRegimeModel.fit(features, ts_ns, fit_start_ns, fit_end_ns)`` and the
  causal forward filter of a ``FittedGaussianHMM``
- ``walk_forward``: refit on a schedule (trailing or expanding window), filter in between
- ``rules``: a trend × volatility classifier with the same output
- ``records``: ``RegimeEstimate`` (per bar) and ``RegimeSeries`` (columnar), ``FitWindow``
- ``changes``: publish only on change, with a minimum dwell and confidence
- ``multipliers``: validated regime → sizing multiplier
- ``labels``: the shared label vocabulary
"""

from tradeloop.regime.changes import RegimeChangeConfig, RegimeChangeFilter
from tradeloop.regime.features import (
    MIN_VOLATILITY,
    REGIME_FEATURE_NAMES,
    RegimeFeatureBuilder,
    regime_features,
)
from tradeloop.regime.hmm import (
    CovarianceType,
    FittedGaussianHMM,
    ForwardFilter,
    GaussianHMMConfig,
    GaussianHMMRegimeModel,
    RegimeFitError,
)
from tradeloop.regime.labels import (
    BEAR_HIGH_VOLATILITY,
    BEAR_LOW_VOLATILITY,
    BULL_HIGH_VOLATILITY,
    BULL_LOW_VOLATILITY,
    HIGH_VOLATILITY,
    LOW_VOLATILITY,
    NORMAL_VOLATILITY,
    TREND_VOLATILITY_LABELS,
    hmm_state_labels,
)
from tradeloop.regime.multipliers import RegimeMultipliers
from tradeloop.regime.records import FitWindow, RegimeEstimate, RegimeSeries
from tradeloop.regime.rules import (
    TrendVolatilityClassifier,
    TrendVolatilityConfig,
    classify_trend_volatility,
)
from tradeloop.regime.walk_forward import (
    WalkForwardConfig,
    WalkForwardHMMDetector,
    walk_forward_regimes,
)

__all__ = [
    "BEAR_HIGH_VOLATILITY",
    "BEAR_LOW_VOLATILITY",
    "BULL_HIGH_VOLATILITY",
    "BULL_LOW_VOLATILITY",
    "HIGH_VOLATILITY",
    "LOW_VOLATILITY",
    "MIN_VOLATILITY",
    "NORMAL_VOLATILITY",
    "REGIME_FEATURE_NAMES",
    "TREND_VOLATILITY_LABELS",
    "CovarianceType",
    "FitWindow",
    "FittedGaussianHMM",
    "ForwardFilter",
    "GaussianHMMConfig",
    "GaussianHMMRegimeModel",
    "RegimeChangeConfig",
    "RegimeChangeFilter",
    "RegimeEstimate",
    "RegimeFeatureBuilder",
    "RegimeFitError",
    "RegimeMultipliers",
    "RegimeSeries",
    "TrendVolatilityClassifier",
    "TrendVolatilityConfig",
    "WalkForwardConfig",
    "WalkForwardHMMDetector",
    "classify_trend_volatility",
    "hmm_state_labels",
    "regime_features",
    "walk_forward_regimes",
]
