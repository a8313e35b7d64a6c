"""Cross-asset correlation: equal to numpy.corrcoef, causal rolling windows, by regime."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.analytics.correlation import (
    correlation,
    correlation_by_regime,
    rolling_correlation,
)
from tradeloop.core.errors import InvalidValueError


def _returns(n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(11)
    base = rng.standard_normal((n, 1))
    return np.hstack(
        [base, 0.6 * base + 0.8 * rng.standard_normal((n, 1)), rng.standard_normal((n, 1))]
    )


def test_full_sample_correlation_equals_numpy() -> None:
    values = _returns()
    np.testing.assert_allclose(correlation(values), np.corrcoef(values.T), atol=1e-12)


def test_rolling_correlation_uses_only_the_trailing_window() -> None:
    values = _returns()
    rolled = rolling_correlation(values, 60)
    assert np.isnan(rolled[:59]).all()
    np.testing.assert_allclose(rolled[59], np.corrcoef(values[:60].T), atol=1e-12)
    np.testing.assert_allclose(rolled[-1], np.corrcoef(values[-60:].T), atol=1e-12)


def test_correlation_by_regime_splits_the_observations_and_keeps_small_regimes() -> None:
    values = _returns(100)
    labels = ["calm"] * 60 + ["stress"] * 38 + ["rare"] * 2
    found = {r.regime: r for r in correlation_by_regime(values, labels)}
    assert [found[k].observations for k in ("calm", "rare", "stress")] == [60, 2, 38]
    np.testing.assert_allclose(found["calm"].matrix, np.corrcoef(values[:60].T), atol=1e-12)
    assert np.isnan(found["rare"].matrix).all()


def test_a_constant_column_gives_nan_not_zero() -> None:
    values = _returns(50)
    values[:, 2] = 0.01
    matrix = correlation(values)
    assert np.isnan(matrix[2]).all()
    assert np.isnan(matrix[:, 2]).all()
    assert matrix[0, 0] == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="window 2 must be >= 3"):
        rolling_correlation(_returns(), 2)
    with pytest.raises(InvalidValueError, match="at least 400 observations; got 300"):
        rolling_correlation(_returns(), 400)
    with pytest.raises(InvalidValueError, match="3 labels for 300"):
        correlation_by_regime(_returns(), ["a", "b", "c"])
    bad = _returns()
    bad[5, 1] = np.nan
    with pytest.raises(InvalidValueError, match=r"returns\[5, 1\] is nan"):
        correlation(bad)
