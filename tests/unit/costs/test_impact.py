import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeloop.core import ConfigError, InvalidValueError, Quantity
from tradeloop.costs.impact import (
    SquareRootImpactConfig,
    quantity_for_impact_bps,
    square_root_impact_bps,
)


def test_one_percent_of_adv_at_two_percent_volatility_costs_twenty_bps() -> None:
    # Y * sigma * sqrt(Q / ADV) = 1 * 0.02 * sqrt(0.01) = 0.002 = 20 bps.
    assert square_root_impact_bps(10_000, 1_000_000.0, 0.02) == pytest.approx(20.0, rel=1e-12)
    assert square_root_impact_bps(Quantity(10_000, 0), 1_000_000.0, 0.02) == pytest.approx(20.0)


def test_four_times_the_size_doubles_the_impact_in_bps() -> None:
    small = square_root_impact_bps(2_500, 1_000_000.0, 0.015)
    large = square_root_impact_bps(10_000, 1_000_000.0, 0.015)
    assert large == pytest.approx(2 * small, rel=1e-12)


def test_coefficient_scales_linearly_and_exponent_sets_the_shape() -> None:
    half = SquareRootImpactConfig(coefficient=0.5)
    assert square_root_impact_bps(10_000, 1e6, 0.02, half) == pytest.approx(10.0, rel=1e-12)
    almgren = SquareRootImpactConfig(exponent=0.6)
    ratio = square_root_impact_bps(20_000, 1e6, 0.02, almgren) / square_root_impact_bps(
        10_000, 1e6, 0.02, almgren
    )
    assert ratio == pytest.approx(2**0.6, rel=1e-12)


def test_quantity_for_impact_inverts_the_model() -> None:
    size = quantity_for_impact_bps(20.0, 1_000_000.0, 0.02)
    assert size == pytest.approx(10_000.0, rel=1e-12)
    assert quantity_for_impact_bps(20.0, 1_000_000.0, 0.0) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"coefficient": -1.0}, {"exponent": 0.0}, {"exponent": 1.5}, {"coefficient": math.nan}],
)
def test_invalid_impact_config_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        SquareRootImpactConfig(**kwargs)


def test_invalid_market_inputs_are_rejected_with_the_value() -> None:
    with pytest.raises(InvalidValueError, match="average daily volume 0"):
        square_root_impact_bps(1.0, 0.0, 0.02)
    with pytest.raises(InvalidValueError, match="quantity -1"):
        square_root_impact_bps(-1.0, 1.0, 0.02)


@given(
    st.floats(0, 1e7),
    st.floats(0, 1e7),
    st.floats(1.0, 1e9),
    st.floats(0, 0.2),
    st.floats(0.1, 1.0),
)
def test_impact_is_non_negative_and_monotone_in_size(
    a: float, b: float, adv: float, sigma: float, exponent: float
) -> None:
    config = SquareRootImpactConfig(exponent=exponent)
    low, high = sorted((a, b))
    small = square_root_impact_bps(low, adv, sigma, config)
    large = square_root_impact_bps(high, adv, sigma, config)
    assert 0 <= small <= large
