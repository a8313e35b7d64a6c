import math
from collections.abc import Callable

import msgspec
import numpy as np
import pytest
from scipy import stats

from tradeloop.core import ConfigError, make_rng
from tradeloop.venues.sim.latency import (
    ConstantLatency,
    EmpiricalLatency,
    LatencyConfig,
    LatencyDistribution,
    LatencyModel,
    LogNormalLatency,
    TruncatedNormalLatency,
    UniformLatency,
    sample_latency_ns,
)

DISTRIBUTIONS: list[LatencyDistribution] = [
    250_000,
    ConstantLatency(latency_ns=100),
    UniformLatency(low_ns=1_000, high_ns=2_000),
    TruncatedNormalLatency(mean_ns=300_000, std_ns=80_000, low_ns=100_000, high_ns=600_000),
    LogNormalLatency(median_ns=200_000, sigma=0.6, offset_ns=50_000),
    EmpiricalLatency(samples_ns=(120_000, 130_000, 180_000, 900_000)),
]


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=repr)
def test_same_seed_gives_the_same_latencies_and_batches_equal_single_draws(
    distribution: LatencyDistribution,
) -> None:
    first = sample_latency_ns(distribution, make_rng(7, "venue", "latency"), 500)
    second = sample_latency_ns(distribution, make_rng(7, "venue", "latency"), 500)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.int64
    rng = make_rng(7, "venue", "latency")
    singles = [int(sample_latency_ns(distribution, rng, 1)[0]) for _ in range(500)]
    assert singles == first.tolist()


def test_different_seeds_give_different_latencies() -> None:
    uniform = UniformLatency(low_ns=0, high_ns=10**9)
    a = sample_latency_ns(uniform, make_rng(1), 100)
    b = sample_latency_ns(uniform, make_rng(2), 100)
    assert not np.array_equal(a, b)


def test_model_entry_and_response_streams_do_not_shift_each_other() -> None:
    config = LatencyConfig(
        entry_latency_ns=UniformLatency(low_ns=0, high_ns=10**6),
        response_latency_ns=LogNormalLatency(median_ns=1e5, sigma=1.0),
    )
    quiet = LatencyModel(config, make_rng(3, "venue", "latency"))
    entries = [quiet.entry_latency_ns() for _ in range(50)]
    busy = LatencyModel(config, make_rng(3, "venue", "latency"))
    interleaved = []
    for _ in range(50):
        busy.response_latency_ns()
        interleaved.append(busy.entry_latency_ns())
        busy.response_latency_ns()
    assert interleaved == entries
    again = LatencyModel(config, make_rng(3, "venue", "latency"))
    np.testing.assert_array_equal(again.entry_latencies_ns(50), entries)


def test_uniform_latency_stays_within_and_reaches_both_bounds() -> None:
    draws = sample_latency_ns(UniformLatency(low_ns=10, high_ns=13), make_rng(0), 2_000)
    assert set(draws.tolist()) == {10, 11, 12, 13}


def test_truncated_normal_stays_in_its_window_and_has_the_truncated_mean() -> None:
    distribution = TruncatedNormalLatency(
        mean_ns=300_000, std_ns=80_000, low_ns=200_000, high_ns=350_000
    )
    draws = sample_latency_ns(distribution, make_rng(11), 20_000)
    assert draws.min() >= 200_000
    assert draws.max() <= 350_000
    a, b = (200_000 - 300_000) / 80_000, (350_000 - 300_000) / 80_000
    expected = stats.truncnorm.mean(a, b, loc=300_000, scale=80_000)
    assert draws.mean() == pytest.approx(expected, rel=2e-3)


def test_truncated_normal_far_in_the_upper_tail_keeps_its_window() -> None:
    # A window 30 to 31 standard deviations above the mean: the inverse CDF is taken in
    # the mirrored lower tail, where it keeps its precision.
    distribution = TruncatedNormalLatency(mean_ns=0, std_ns=1_000, low_ns=30_000, high_ns=31_000)
    draws = sample_latency_ns(distribution, make_rng(5), 1_000)
    assert draws.min() >= 30_000
    assert draws.max() <= 31_000
    assert draws.mean() < 30_100  # the mass sits at the window's lower edge


def test_lognormal_latency_has_its_floor_and_median() -> None:
    distribution = LogNormalLatency(median_ns=200_000, sigma=0.5, offset_ns=50_000)
    draws = sample_latency_ns(distribution, make_rng(9), 20_000)
    assert draws.min() >= 50_000
    assert float(np.median(draws)) == pytest.approx(250_000, rel=0.02)


def test_empirical_latency_only_returns_measured_values() -> None:
    samples = (120_000, 130_000, 180_000, 900_000)
    draws = sample_latency_ns(EmpiricalLatency(samples_ns=samples), make_rng(4), 1_000)
    assert set(draws.tolist()) == set(samples)


def test_constant_latency_consumes_no_randomness() -> None:
    rng = make_rng(1)
    np.testing.assert_array_equal(sample_latency_ns(5, rng, 3), [5, 5, 5])
    np.testing.assert_array_equal(sample_latency_ns(ConstantLatency(latency_ns=5), rng, 2), [5, 5])
    assert rng.random() == make_rng(1).random()


def test_config_decodes_from_json_with_kinds_and_integer_shorthand() -> None:
    text = (
        b'{"entry_latency_ns": {"kind": "lognormal", "median_ns": 200000, "sigma": 0.5},'
        b' "response_latency_ns": 1000}'
    )
    config = msgspec.json.decode(text, type=LatencyConfig)
    assert config.entry_latency_ns == LogNormalLatency(median_ns=200_000, sigma=0.5)
    assert config.response_latency_ns == 1_000
    assert msgspec.json.decode(msgspec.json.encode(config), type=LatencyConfig) == config
    assert LatencyModel(config, make_rng(0)).response_latency_ns() == 1_000
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"entry_latency": 5}', type=LatencyConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(
            b'{"entry_latency_ns": {"kind": "uniform", "low_ns": 1, "high_ns": 2, "x": 0}}',
            type=LatencyConfig,
        )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: UniformLatency(low_ns=5, high_ns=4), "above high_ns"),
        (lambda: TruncatedNormalLatency(mean_ns=1.0, std_ns=0.0), "std_ns 0.0"),
        (lambda: TruncatedNormalLatency(mean_ns=0, std_ns=1, low_ns=10**6), "no probability"),
        (lambda: LogNormalLatency(median_ns=0.0, sigma=1.0), "median_ns 0.0"),
        (lambda: EmpiricalLatency(samples_ns=()), "must not be empty"),
        (lambda: EmpiricalLatency(samples_ns=(1, -1)), "sample -1"),
        (lambda: LatencyConfig(entry_latency_ns=-5), "entry_latency_ns -5"),
        (lambda: ConstantLatency(latency_ns=math.inf), "latency_ns inf"),
        (lambda: ConstantLatency(latency_ns=1.5), "latency_ns 1.5"),
    ],
)
def test_invalid_latency_config_is_rejected_with_the_value(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build()
