"""Which execution algorithm a change gets, and what that implies for its cost.

The cost stage chooses the algorithm of each approved change (``choose_algorithm``), costs it
with that algorithm's profile (``execution_profile``: ``costs.execution_profile`` with the
instrument's own inputs) and records the choice on ``CostAssessed``; the execution stage then
executes each change with the algorithm it was costed with. So the cost assessment always sees
the execution it pays for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
import numpy as np

from tradeloop.costs.execution_profile import (
    ExecutionProfile,
    algorithm_profile,
    limit_fill_probability,
)

if TYPE_CHECKING:
    from tradeloop.pipeline.stages import Host

__all__ = ["bar_interval_ns", "choose_algorithm", "execution_profile"]


def choose_algorithm(host: Host, instrument_id: str, quantity: float) -> str:
    """Return ``execution.large_algorithm`` for a change above ``large_participation`` of ADV
    (over ``costs.adv_window`` bars), else ``execution.algorithm``."""
    spec = host.config.execution
    volumes = host.history.volumes(instrument_id, host.config.costs.adv_window)
    adv = float(np.mean(volumes)) if len(volumes) else 0.0
    if adv > 0 and abs(quantity) / adv > spec.large_participation:
        return spec.large_algorithm
    return spec.algorithm


def bar_interval_ns(host: Host, instrument_id: str) -> int:
    """Return the instrument's mean bar spacing in calendar time over ``costs.fill_window``
    bars (weekends and holidays included: a daily bar is ~1.4 days), 0 before two bars."""
    times = host.history.timestamps(instrument_id, host.config.costs.fill_window)
    if len(times) < 2:
        return 0
    return int((int(times[-1]) - int(times[0])) // (len(times) - 1))


def execution_profile(
    host: Host, instrument_id: str, algorithm: str, quantity: float, *, passive_credit: bool = True
) -> ExecutionProfile:
    """Return the expected execution profile of a change of ``quantity`` (signed) with
    ``algorithm``: a limit's fill probability from the last ``costs.fill_window`` bars,
    POV's length from the mean bar volume over ``costs.adv_window`` bars.

    Without ``passive_credit`` a limit is assumed never to fill: everything goes at market
    after the timeout (an iceberg after one bar). Capacity is estimated so: at a capital where
    trades are a visible share of the volume, a passive fill cannot be counted on (the price
    path says nothing about the size that would have traded at the limit).
    """
    config = host.config
    spec = config.execution
    history = host.history
    probability = None
    if not passive_credit and algorithm in ("limit_then_market", "iceberg"):
        profile = algorithm_profile(
            "limit_then_market",
            delay_ns=config.costs.delay_ns,
            bar_interval_ns=bar_interval_ns(host, instrument_id),
            timeout_bars=1 if algorithm == "iceberg" else spec.timeout_bars,
            fill_probability=0.0,
        )
        return msgspec.structs.replace(profile, algorithm=algorithm)
    if algorithm in ("limit_then_market", "iceberg"):
        n = config.costs.fill_window
        tick = float(host.instrument(instrument_id).tick_size)
        probability = limit_fill_probability(
            history.opens(instrument_id, n),
            history.highs(instrument_id, n),
            history.lows(instrument_id, n),
            history.closes(instrument_id, n),
            is_buy=quantity > 0,
            bars=1 if algorithm == "iceberg" else spec.timeout_bars,
            offset=spec.offset_ticks * tick,
        )
    volumes = history.volumes(instrument_id, config.costs.adv_window)
    return algorithm_profile(
        algorithm,
        delay_ns=config.costs.delay_ns,
        bar_interval_ns=bar_interval_ns(host, instrument_id),
        slices=spec.slices,
        timeout_bars=spec.timeout_bars,
        fill_probability=probability,
        rate=spec.rate,
        quantity=abs(quantity),
        bar_volume=float(np.mean(volumes)) if len(volumes) else 0.0,
    )
