"""VWAP plans of the pipeline follow the intraday volume profile of real CME minute bars."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import msgspec
import pytest

from tradeloop.config import load_config
from tradeloop.core.time import ns_to_iso
from tradeloop.data import bundled
from tradeloop.engine.runner import prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import SubmitOrder
from tradeloop.model.decisions import ExecutionPlanned

pytestmark = pytest.mark.slow

CONFIG = """
[run]
name = "vwap"
seed = 3
starting_cash = "100000000"

[[data]]
dataset = "6eh4_1m"
end = "2024-01-03T00:30:00Z"

[venue]
commission = { kind = "per_share", per_share = "1.0" }

[[strategies]]
class = "Pipeline"
id = "pipeline"

[strategies.params]
universe = ["6EH4.XCME"]
rebalance_every = 30

[strategies.params.construction]
method = "inverse_vol"
max_weight = 1.0
max_gross_exposure = 1.0
alpha_bps_per_score = 500.0

[strategies.params.execution]
algorithm = "vwap"
large_algorithm = "vwap"
slices = 5
"""

DAY = 86_400_000_000_000
MINUTE = 60_000_000_000
BUCKET = 5 * MINUTE  # ExecutionSpec.volume_bucket_ns default


def _expected_weights(start: int, slices: int) -> tuple[float, ...] | None:
    # The definition, computed independently from the raw bars: per past UTC day, the volume
    # of each 5-minute bucket of closes; a bucket counts for a day inside the day's span.
    bars = bundled.load("6eh4_1m").clean
    volume: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    span: dict[int, list[int]] = {}
    for ts, raw in zip(bars.ts_init.tolist(), bars.volume.tolist(), strict=True):
        if ts > start:
            break
        day, offset = divmod(ts - 1, DAY)
        bucket = offset // BUCKET
        volume[day][bucket] += raw / 10**bars.volume_precision
        span.setdefault(day, [bucket, bucket])[1] = bucket
    today = (start - 1) // DAY
    weights = []
    for k in range(slices):
        offset = (start + k * MINUTE) % DAY  # a one-minute slice lies in one bucket
        bucket = offset // BUCKET
        days = [d for d in span if d < today and span[d][0] <= bucket <= span[d][1]]
        mean = sum(volume[d][bucket] for d in days) / len(days) if days else 0.0
        weights.append(mean / 5)
    return tuple(weights) if sum(weights) > 0 else None


@pytest.fixture(scope="module")
def vwap_records(tmp_path_factory: pytest.TempPathFactory) -> list[object]:
    tmp = tmp_path_factory.mktemp("vwap")
    path = tmp / "vwap.toml"
    path.write_text(CONFIG)
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp))
    )
    result = run_backtest(prepare_run(config, Path(tmp)))
    return [r.record for r in read_records(result.journal_path)]


def test_vwap_plans_carry_the_profile_of_past_days(vwap_records: list[object]) -> None:
    plans = [r for r in vwap_records if isinstance(r, ExecutionPlanned)]
    assert plans
    assert all(p.algorithm == "vwap" for p in plans)
    for plan in plans:
        expected = _expected_weights(plan.ts_event, plan.slices)
        assert plan.weights == (() if expected is None else expected), ns_to_iso(plan.ts_event)
    # Jan 2: the only past day (Jan 1, from 23:01) has no volume at these times: equal
    # slices. From Jan 3 the profile of Jan 2 shapes them.
    assert any(p.weights for p in plans)
    assert all(not p.weights for p in plans if p.ts_event < 1704240000000000000)


def test_vwap_children_follow_the_weights_hand_checked(vwap_records: list[object]) -> None:
    # 2024-01-03 00:17 UTC: buy 113 in five one-minute slices. Slices 1-3 trade in
    # (00:17, 00:20], bucket 00:15-00:20; slices 4-5 in bucket 00:20-00:25. The one past day
    # that observed them, Jan 2, had bars 00:16..00:20 of 3, 32, 48, 4, 21 (108: 21.6 a
    # minute) and 00:21..00:25 of 16, 92, 23, 38, 77 (246: 49.2 a minute).
    start = 1704241020000000000
    plan = next(r for r in vwap_records if isinstance(r, ExecutionPlanned) and r.ts_event == start)
    assert plan.quantity == 113.0
    assert plan.weights == (21.6, 21.6, 21.6, 49.2, 49.2)
    children = [
        r.order.quantity.raw
        for r in vwap_records
        if isinstance(r, SubmitOrder) and plan.parent_order_id == r.order.parent_order_id
    ]
    # Cumulative floor(113 x share of 163.2): 14.96 -> 14, 29.91 -> 29, 44.87 -> 44,
    # 78.93 -> 78, 113.
    assert children == [14, 15, 15, 34, 35]
