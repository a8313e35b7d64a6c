"""Round trips (closed trades) and statistics over them, as pyfolio's round-trip tables define them.

A ``RoundTrip`` is one position from entry to full exit. Statistics follow pyfolio
``round_trips`` (``PNL_STATS``, ``SUMMARY_STATS``): a trade wins when its P&L is above 0 and
loses when below 0; a break-even trade is neither but counts in the total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
import numpy as np

from tradeloop.analytics.metrics._checks import F64
from tradeloop.core.errors import InvalidValueError
from tradeloop.core.time import NANOS_PER_DAY


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True):
    """A closed position: entered at ``ts_entry``, fully exited at ``ts_exit``.

    ``quantity`` is signed (above 0 long, below 0 short). ``pnl`` is the realized P&L before
    fees in the account currency (multiplier included); ``fees`` are the fees of every fill of
    the trade, negative for a net rebate. Prices are floats for analytics; the exact values
    live in the fills.

    Raises
    ------
    InvalidValueError
        If ``instrument_id`` is empty, ``ts_exit`` is before ``ts_entry``, ``quantity`` is 0,
        or a number is NaN or infinite.
    """

    instrument_id: str
    ts_entry: int
    ts_exit: int
    quantity: float
    entry_price: float
    exit_price: float
    pnl: float
    fees: float = 0.0

    def __post_init__(self) -> None:
        if not self.instrument_id:
            raise InvalidValueError("round trip instrument_id is empty; name the instrument")
        if self.ts_exit < self.ts_entry:
            raise InvalidValueError(
                f"round trip in {self.instrument_id} exits at ts_exit {self.ts_exit}, before "
                f"ts_entry {self.ts_entry}; a trade cannot close before it opens"
            )
        for name in ("quantity", "entry_price", "exit_price", "pnl", "fees"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise InvalidValueError(
                    f"round trip in {self.instrument_id} has {name} {value}; it must be finite"
                )
        if self.quantity == 0.0:
            raise InvalidValueError(
                f"round trip in {self.instrument_id} has quantity 0; a trade holds a position"
            )

    @property
    def net_pnl(self) -> float:
        """Return the P&L after fees: ``pnl - fees``."""
        return self.pnl - self.fees

    @property
    def holding_period_ns(self) -> int:
        """Return the time from entry to exit in nanoseconds."""
        return self.ts_exit - self.ts_entry


class TradeStatistics(msgspec.Struct, frozen=True, kw_only=True):
    """Statistics of a set of round trips (see ``trade_statistics``).

    Money fields are in the account currency, on the P&L basis chosen (after fees by
    default). A field is None where it is undefined: every ratio and average without trades,
    ``average_win`` without a winning trade, ``average_loss`` (a negative number) without a
    losing one, ``profit_factor`` and ``payoff_ratio`` without a losing trade.
    """

    trade_count: int
    win_count: int
    loss_count: int
    is_net_of_fees: bool
    total_pnl: float
    total_fees: float
    gross_profit: float
    gross_loss: float
    win_rate: float | None
    profit_factor: float | None
    average_win: float | None
    average_loss: float | None
    payoff_ratio: float | None
    expectancy: float | None
    average_holding_period_days: float | None


def _mean_or_none(values: F64) -> float | None:
    return float(np.mean(values)) if len(values) else None


def trade_statistics(trades: Sequence[RoundTrip], is_net_of_fees: bool = True) -> TradeStatistics:
    """Return win rate, profit factor, average win and loss, expectancy and holding period.

    Definitions (pyfolio ``round_trips``), with ``x`` the P&L of each trade (``net_pnl`` when
    ``is_net_of_fees``, else ``pnl``):

    - ``win_rate`` = ``count(x > 0) / count(x)`` ("percent profitable");
    - ``profit_factor`` = ``sum(x[x > 0]) / abs(sum(x[x < 0]))``;
    - ``average_win`` = ``mean(x[x > 0])``, ``average_loss`` = ``mean(x[x < 0])``;
    - ``payoff_ratio`` = ``average_win / abs(average_loss)`` (pyfolio's "ratio avg. win:avg.
      loss");
    - ``expectancy`` = ``mean(x)``, the average P&L per trade, equal to
      ``win_rate * average_win + loss_rate * average_loss``;
    - ``average_holding_period_days`` = mean of ``ts_exit - ts_entry`` over trades, in days.

    An empty sequence gives counts of 0 and None for every ratio and average.

    Raises
    ------
    InvalidValueError
        If an item is not a ``RoundTrip``.
    """
    for index, trade in enumerate(trades):
        if not isinstance(trade, RoundTrip):
            raise InvalidValueError(
                f"trade_statistics trades[{index}] is a {type(trade).__name__}, not a RoundTrip"
            )
    gross = np.array([trade.pnl for trade in trades], dtype=np.float64)
    fees = np.array([trade.fees for trade in trades], dtype=np.float64)
    pnl = gross - fees if is_net_of_fees else gross

    wins, losses = pnl[pnl > 0.0], pnl[pnl < 0.0]
    gross_profit, gross_loss = float(np.sum(wins)), float(np.sum(losses))
    average_win, average_loss = _mean_or_none(wins), _mean_or_none(losses)
    count = len(pnl)
    # Integer nanoseconds summed exactly, divided once.
    held_ns = sum(trade.holding_period_ns for trade in trades)
    return TradeStatistics(
        trade_count=count,
        win_count=len(wins),
        loss_count=len(losses),
        is_net_of_fees=is_net_of_fees,
        total_pnl=float(np.sum(pnl)),
        total_fees=float(np.sum(fees)),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        win_rate=len(wins) / count if count else None,
        profit_factor=gross_profit / abs(gross_loss) if len(losses) else None,
        average_win=average_win,
        average_loss=average_loss,
        payoff_ratio=(
            average_win / abs(average_loss)
            if average_win is not None and average_loss is not None
            else None
        ),
        expectancy=_mean_or_none(pnl),
        average_holding_period_days=held_ns / (count * NANOS_PER_DAY) if count else None,
    )
