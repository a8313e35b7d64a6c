"""The report's TCA: every order sent, against its journaled arrival price, linked to its trade."""

import json
from pathlib import Path

import msgspec
import pytest

from tradeloop.analytics.tca import summarize_tca
from tradeloop.model import OrderDenied, OrderFilled, OrderSide, SubmitOrder
from tradeloop.reports.run import RunInputs
from tradeloop.reports.tca import run_report_tca
from tradeloop.reports.tearsheet import anchor, build_report

DATA = Path(__file__).resolve().parents[2] / "data" / "reports"


def test_every_sent_order_is_analysed_against_its_journaled_arrival_price(pipeline_run) -> None:  # type: ignore[no-untyped-def]
    inputs = RunInputs(pipeline_run.run_dir, base_dir=DATA)
    tca = run_report_tca(inputs)
    assert tca is not None
    records = [r.record for r in inputs.index.rows]
    denied = {r.client_order_id for r in records if isinstance(r, OrderDenied)}
    sent = [r.order for r in records if isinstance(r, SubmitOrder)]
    assert [row.tca.order_id for row in tca.orders] == [
        o.client_order_id for o in sent if o.client_order_id not in denied
    ]
    assert tca.arrival_source.startswith("journal")
    by_id = {o.client_order_id: o for o in sent}
    fills: dict[str, list[OrderFilled]] = {}
    for record in records:
        if isinstance(record, OrderFilled):
            fills.setdefault(record.client_order_id, []).append(record)
    for row in tca.orders:
        init = by_id[row.tca.order_id]
        assert init.arrival_price is not None
        assert row.arrival_from_journal
        assert row.tca.arrival_price == float(init.arrival_price)
        assert row.trade_key == (init.parent_order_id or init.client_order_id)
        own = fills.get(row.tca.order_id, [])
        if not own:
            continue
        # Slippage vs arrival recomputed from the fills: s (avg - arrival) / arrival in bps.
        quantity = sum(float(f.last_qty) for f in own)
        average = sum(float(f.last_qty) * float(f.last_px) for f in own) / quantity
        side = 1 if init.side is OrderSide.BUY else -1
        arrival = float(init.arrival_price)
        assert row.tca.slippage_bps == pytest.approx(side * (average - arrival) / arrival * 1e4)
        assert row.tca.fill_rate == pytest.approx(quantity / float(init.quantity))
    assert tca.summary == summarize_tca([row.tca for row in tca.orders])


def test_the_report_shows_the_tca_and_links_each_order_to_its_trade(
    pipeline_run, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    files, analysis = build_report(RunInputs(pipeline_run.run_dir, base_dir=DATA), tmp_path)
    assert analysis.tca is not None
    page = Path(files.html).read_text()
    assert "Execution: transaction cost analysis" in page
    for row in analysis.tca.orders:
        assert f'href="#{anchor(row.trade_key)}"' in page
        assert f'id="{anchor(row.trade_key)}"' in page  # the explain section it opens
    stored = json.loads(Path(files.metrics_json).read_text())["tca"]
    assert stored == json.loads(msgspec.json.encode(analysis.tca))
    summary = analysis.tca.summary
    assert summary.slippage_bps is not None
    assert summary.shortfall_bps is not None
    assert f"{summary.slippage_bps:,.2f}" in page
    assert f"{summary.shortfall_bps:,.2f}" in page
