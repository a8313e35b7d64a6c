import math

import pytest

from tradeloop.core import NANOS_PER_DAY, NANOS_PER_SECOND, ConfigError, InvalidValueError
from tradeloop.costs.delay import DelayCostConfig, delay_cost_bps

HOUR = 3_600 * NANOS_PER_SECOND


def test_no_delay_costs_nothing_and_the_default_config_charges_nothing() -> None:
    config = DelayCostConfig(alpha_half_life_ns=HOUR, risk_penalty=1.0)
    assert delay_cost_bps(0, 50.0, 0.02, config) == 0.0
    assert delay_cost_bps(HOUR, 50.0, 0.02) == 0.0


def test_waiting_one_half_life_loses_half_the_alpha() -> None:
    config = DelayCostConfig(alpha_half_life_ns=HOUR)
    assert delay_cost_bps(HOUR, 40.0, 0.02, config) == pytest.approx(20.0, rel=1e-12)


def test_short_delay_loses_alpha_linearly_at_the_decay_rate() -> None:
    # alpha * ln 2 * delay / half-life for delay << half-life: 40 * ln 2 * 1e-6.
    config = DelayCostConfig(alpha_half_life_ns=HOUR)
    cost = delay_cost_bps(HOUR // 1_000_000, 40.0, 0.02, config)
    assert cost == pytest.approx(40.0 * math.log(2) * 1e-6, rel=1e-6)


def test_risk_term_charges_penalty_times_sigma_sqrt_delay() -> None:
    # 1 std of a quarter day at 2 % daily vol: 0.02 * sqrt(0.25) = 1 % = 100 bps.
    config = DelayCostConfig(risk_penalty=1.0)
    assert delay_cost_bps(NANOS_PER_DAY // 4, 0.0, 0.02, config) == pytest.approx(100.0)


def test_negative_alpha_does_not_turn_delay_into_a_gain() -> None:
    config = DelayCostConfig(alpha_half_life_ns=HOUR)
    assert delay_cost_bps(HOUR, -40.0, 0.02, config) == 0.0


def test_invalid_delay_inputs_are_rejected() -> None:
    with pytest.raises(ConfigError):
        DelayCostConfig(alpha_half_life_ns=0)
    with pytest.raises(ConfigError):
        DelayCostConfig(risk_penalty=-1.0)
    with pytest.raises(InvalidValueError, match="delay -1 ns"):
        delay_cost_bps(-1, 1.0, 0.02)
