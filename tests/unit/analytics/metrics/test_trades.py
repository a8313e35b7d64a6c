"""Round trips and the statistics over them (pyfolio's round-trip definitions)."""

from __future__ import annotations

import msgspec
import pytest

from tradeloop.analytics import metrics
from tradeloop.core.errors import InvalidValueError
from tradeloop.core.time import NANOS_PER_DAY, NANOS_PER_HOUR


def trip(pnl: float, fees: float = 0.0, held_days: float = 1.0, quantity: float = 10.0):
    return metrics.RoundTrip(
        instrument_id="SPY.ARCA",
        ts_entry=0,
        ts_exit=int(held_days * NANOS_PER_DAY),
        quantity=quantity,
        entry_price=100.0,
        exit_price=100.0 + pnl / quantity,
        pnl=pnl,
        fees=fees,
    )


TRADES = [
    trip(300.0, fees=10.0, held_days=2.0),  # net +290
    trip(-100.0, fees=10.0, held_days=1.0),  # net -110
    trip(150.0, fees=10.0, held_days=0.5, quantity=-5.0),  # a short, net +140
    trip(10.0, fees=10.0, held_days=0.5),  # net 0: break-even after fees
]


def test_trade_statistics_after_fees_follow_pyfolio_round_trip_definitions():
    stats = metrics.trade_statistics(TRADES)
    assert (stats.trade_count, stats.win_count, stats.loss_count) == (4, 2, 1)
    assert stats.is_net_of_fees
    assert stats.total_pnl == 320.0
    assert stats.total_fees == 40.0
    assert stats.gross_profit == 430.0
    assert stats.gross_loss == -110.0
    assert stats.win_rate == 0.5  # the break-even trade counts, but not as a win
    assert stats.profit_factor == pytest.approx(430.0 / 110.0, rel=1e-15)
    assert stats.average_win == 215.0
    assert stats.average_loss == -110.0
    assert stats.payoff_ratio == pytest.approx(215.0 / 110.0, rel=1e-15)
    assert stats.expectancy == 80.0
    assert stats.average_holding_period_days == 1.0


def test_expectancy_equals_win_rate_times_average_win_plus_loss_rate_times_average_loss():
    stats = metrics.trade_statistics(TRADES)
    loss_rate = stats.loss_count / stats.trade_count
    assert stats.expectancy == pytest.approx(
        stats.win_rate * stats.average_win + loss_rate * stats.average_loss, rel=1e-15
    )


def test_trade_statistics_before_fees_count_the_break_even_trade_as_a_win():
    stats = metrics.trade_statistics(TRADES, is_net_of_fees=False)
    assert (stats.win_count, stats.loss_count) == (3, 1)
    assert stats.total_pnl == 360.0
    assert stats.profit_factor == pytest.approx(460.0 / 100.0, rel=1e-15)


def test_trade_statistics_without_losing_trades_leave_profit_factor_undefined():
    stats = metrics.trade_statistics([trip(5.0), trip(7.0)])
    assert stats.profit_factor is None
    assert stats.average_loss is None
    assert stats.payoff_ratio is None
    assert stats.win_rate == 1.0


def test_trade_statistics_of_no_trades_have_zero_counts_and_no_ratios():
    stats = metrics.trade_statistics([])
    assert stats.trade_count == 0
    assert stats.total_pnl == 0.0
    assert stats.win_rate is None
    assert stats.expectancy is None
    assert stats.average_holding_period_days is None


def test_round_trip_net_pnl_and_holding_period():
    trade = metrics.RoundTrip(
        instrument_id="ES.CME",
        ts_entry=5 * NANOS_PER_HOUR,
        ts_exit=8 * NANOS_PER_HOUR,
        quantity=-2.0,
        entry_price=5000.0,
        exit_price=4990.0,
        pnl=1000.0,
        fees=4.2,
    )
    assert trade.net_pnl == 1000.0 - 4.2
    assert trade.holding_period_ns == 3 * NANOS_PER_HOUR


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ts_exit": -1}, "before ts_entry"),
        ({"quantity": 0.0}, "quantity 0"),
        ({"pnl": float("nan")}, "pnl nan"),
        ({"exit_price": float("inf")}, "exit_price inf"),
        ({"instrument_id": ""}, "instrument_id is empty"),
    ],
)
def test_invalid_round_trip_raises_invalid_value_error_naming_the_field(changes, message):
    fields = {
        "instrument_id": "SPY.ARCA",
        "ts_entry": 0,
        "ts_exit": 10,
        "quantity": 1.0,
        "entry_price": 1.0,
        "exit_price": 2.0,
        "pnl": 1.0,
    }
    with pytest.raises(InvalidValueError, match=message):
        metrics.RoundTrip(**{**fields, **changes})


def test_trade_statistics_reject_something_that_is_not_a_round_trip():
    with pytest.raises(InvalidValueError, match=r"trades\[1\] is a dict"):
        metrics.trade_statistics([TRADES[0], {"pnl": 1.0}])  # type: ignore[list-item]


def test_round_trip_and_statistics_round_trip_through_json():
    encoded = msgspec.json.encode(TRADES)
    assert msgspec.json.decode(encoded, type=list[metrics.RoundTrip]) == TRADES
    stats = metrics.trade_statistics(TRADES)
    assert msgspec.json.decode(msgspec.json.encode(stats), type=metrics.TradeStatistics) == stats
