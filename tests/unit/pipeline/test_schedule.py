"""ExecutionSchedule end to end on real Binance recordings: the smart order router over two
simulated venues with their own fidelity and fees, and the clock-driven POV and
limit-then-market at level 4 (no bars)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradeloop.cli.execution import run_tca
from tradeloop.config import load_config
from tradeloop.core import ConfigError
from tradeloop.data.books import read_binance_depth
from tradeloop.engine.runner import prepare_run, run_backtest
from tradeloop.journal import read_records
from tradeloop.model import OrderCanceled, OrderFilled, SubmitOrder
from tradeloop.model.decisions import ExecutionCompleted, ExecutionPlanned, ExecutionProgressed

BOOKS = Path(__file__).parents[2] / "data" / "books"
SPOT = BOOKS / "binance-spot-btcusdt-20240808-head.gz"
USDM = BOOKS / "binance-usdm-btcusdt-20240808-head.gz"

INSTRUMENTS = """
[[instruments]]
id = "BTCUSDT.BINANCE"
kind = "crypto_spot"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 2
size_precision = 6
tick_size = "0.01"
lot_size = "0.00001"

[[instruments]]
id = "BTCUSDT-PERP.BINANCE_USDM"
kind = "crypto_perpetual"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 1
size_precision = 3
"""

SOR_CONFIG = f"""
[run]
name = "sor"
base_currency = "USDT"
starting_cash = "10000000"
{INSTRUMENTS}
[[data]]
path = "{SPOT}"
format = "binance-depth"
instrument_id = "BTCUSDT.BINANCE"
end = "2024-08-08T23:54:40Z"

[[data]]
path = "{USDM}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"
end = "2024-08-08T23:54:40Z"

[venue]                       # spot: level 4, its L2 book; 10 bps taker
fidelity = "book"
commission = {{ kind = "bps", bps = 10 }}

[venues.BINANCE_USDM]         # the perpetual: level 2, its bookTicker quotes; 5 bps taker
fidelity = "quotes"
commission = {{ kind = "bps", bps = 5 }}

[risk]
max_leverage = 5.0

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]
instrument_id = "BTCUSDT.BINANCE"
side = "buy"
quantity = "14"
algorithm = "sor"
venues = ["BTCUSDT.BINANCE", "BTCUSDT-PERP.BINANCE_USDM"]
limit_price = "61833.10"
at = "2024-08-08T23:54:30Z"
interval_ns = 1000000000
timeout_ns = 5000000000
"""


def _run(tmp: Path, text: str) -> tuple[list[Any], Path]:
    path = tmp / "run.toml"
    path.write_text(text)
    config = load_config(path)
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(tmp))
    )
    result = run_backtest(prepare_run(config, tmp))
    return [r.record for r in read_records(result.journal_path)], result.run_dir


def test_sor_splits_over_two_venues_by_all_in_price_hand_checked(tmp_path: Path) -> None:
    records, run_dir = _run(tmp_path, SOR_CONFIG)
    # 23:54:30. Spot (book): asks 61833.10 x 4.28168, 61833.12 x 0.00936, ...; perp (its last
    # bookTicker, 23:54:29.999603450): ask 61811.40 x 8.190. All in: perp 61811.4 x 1.0005
    # = 61842.31, spot 61833.10 x 1.001 = 61894.93: the perp first, then spot's 61833.10
    # level (the next, 61833.12, is past the 61833.10 limit): 1.52832 unrouted.
    # 23:54:31: the perp shows 61809.60 x 5.360 (bookTicker of .974668939): 1.528 there (its
    # lot is 0.001); the last 0.00032 fits neither venue (spot above the limit, below the
    # perp's lot) until the plan times out at 23:54:35.
    notes = [
        (r.ts_event, r.note)
        for r in records
        if isinstance(r, ExecutionProgressed) and r.note.startswith("routed")
    ]
    t = 1723161270000000000
    assert notes[:3] == [
        (
            t,
            "routed round 1: BINANCE 4.281680 up to 61833.10, BINANCE_USDM 8.190000 up to "
            "61811.4; unrouted 1.528320",
        ),
        (
            t + 1_000_000_000,
            "routed round 2: BINANCE_USDM 1.528000 up to 61809.6; unrouted 0.000320",
        ),
        (t + 2_000_000_000, "routed round 3: nothing routable; unrouted 0.000320"),
    ]
    children = [r.order for r in records if isinstance(r, SubmitOrder)]
    assert [
        (c.instrument_id, str(c.quantity), str(c.price), c.time_in_force.value) for c in children
    ] == [
        ("BTCUSDT.BINANCE", "4.281680", "61833.10", "IOC"),
        ("BTCUSDT-PERP.BINANCE_USDM", "8.190", "61811.4", "IOC"),
        ("BTCUSDT-PERP.BINANCE_USDM", "1.528", "61809.6", "IOC"),
    ]
    fills = [r for r in records if isinstance(r, OrderFilled)]
    # Each venue charges its own fee: 10 bps on spot, 5 bps on the perpetual.
    assert [
        (f.instrument_id, str(f.last_qty), str(f.last_px), str(f.commission)) for f in fills
    ] == [
        ("BTCUSDT.BINANCE", "4.281680", "61833.10", "264.74954761 USDT"),
        ("BTCUSDT-PERP.BINANCE_USDM", "8.190", "61811.4", "253.11768300 USDT"),
        ("BTCUSDT-PERP.BINANCE_USDM", "1.528", "61809.6", "47.22253440 USDT"),
    ]
    (done,) = [r for r in records if isinstance(r, ExecutionCompleted)]
    assert (done.outcome, done.filled_qty) == ("timed out with 0.00032 unfilled", 13.99968)
    assert done.ts_event == t + 5_000_000_000
    # TCA groups the three children under their parent, across both venues, against the
    # parent's arrival (spot's mid at 23:54:30: 61833.095) until the plan's end.
    report, _, source = run_tca(run_dir)
    assert source == "mid"
    (parent,) = report.parents
    assert parent.child_order_ids == ("O-exec-1", "O-exec-2", "O-exec-3")
    assert parent.instruments == ("BTCUSDT-PERP.BINANCE_USDM", "BTCUSDT.BINANCE")
    assert parent.tca.arrival_price == pytest.approx(61833.095)
    assert parent.tca.filled_quantity == pytest.approx(13.99968)
    assert parent.tca.end_ts_ns == t + 5_000_000_000
    average = (4.28168 * 61833.10 + 8.19 * 61811.4 + 1.528 * 61809.6) / 13.99968
    assert parent.tca.average_fill_price == pytest.approx(average)


CLOCK_CONFIG = f"""
[run]
name = "clock-algos"
base_currency = "USDT"
starting_cash = "10000000"
{INSTRUMENTS}
[[data]]
path = "{USDM}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"

[venue]
fidelity = "book"

[risk]
max_leverage = 5.0

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]       # 2 % of the printed volume, every second
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"
side = "buy"
quantity = "5"
algorithm = "pov"
rate = 0.02
interval_ns = 1000000000
at = "2024-08-08T23:54:20Z"

[[strategies.params.orders]]       # a passive bid 5 ticks under the mid; market after 3 s
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"
side = "buy"
quantity = "0.5"
algorithm = "limit_then_market"
offset_ticks = 5
timeout_ns = 3000000000
at = "2024-08-08T23:54:40Z"
"""


def test_clock_driven_pov_and_limit_then_market_run_on_a_book_without_bars(
    tmp_path: Path,
) -> None:
    records, _ = _run(tmp_path, CLOCK_CONFIG)
    plans = {r.parent_order_id: r for r in records if isinstance(r, ExecutionPlanned)}
    assert sorted(plans) == ["P-exec-1", "P-exec-2"]
    children = [r.order for r in records if isinstance(r, SubmitOrder)]
    pov = [c for c in children if c.parent_order_id == "P-exec-1"]
    # The schedule, from the recording's own trades: at each second after 23:54:20 the
    # cumulative child quantity is floor(2 % of the volume printed since the start), in lots.
    trades = read_binance_depth(USDM).trades
    start = 1723161260000000000
    expected = []
    sent = 0
    for k in range(1, 60):
        at = start + k * 1_000_000_000
        if at > int(trades.ts_init[-1]):
            break
        printed = sum(
            int(z)
            for ts, z in zip(trades.ts_init.tolist(), trades.size.tolist(), strict=True)
            if start < ts <= at
        )
        target = math.floor(printed * 2 / 100)  # raws at 3 decimals
        if target - sent >= 1 and sent < 5000:
            want = min(target, 5000) - sent
            expected.append((at, want))
            sent += want
    assert [(c.ts_init, c.quantity.raw) for c in pov] == expected
    assert all(c.order_type.value == "MARKET" for c in pov)
    # Limit-then-market: one limit at the arrival mid less 5 ticks, canceled at 23:54:43 and
    # the unfilled rest sent at market then.
    ltm = [c for c in children if c.parent_order_id == "P-exec-2"]
    limit, market = ltm
    arrival = plans["P-exec-2"].arrival_price
    assert limit.order_type.value == "LIMIT"
    assert float(limit.price) == pytest.approx(math.floor(arrival * 10) / 10 - 0.5)
    cancel = next(
        r
        for r in records
        if isinstance(r, OrderCanceled) and r.client_order_id == limit.client_order_id
    )
    assert cancel.ts_event == 1723161283000000000
    limit_fills = sum(
        r.last_qty.raw
        for r in records
        if isinstance(r, OrderFilled) and r.client_order_id == limit.client_order_id
    )
    assert (market.order_type.value, market.ts_init, market.quantity.raw) == (
        "MARKET",
        1723161283000000000,
        500 - limit_fills,
    )


def test_per_venue_settings_must_name_a_traded_venue_and_be_valid(tmp_path: Path) -> None:
    bad_code = SOR_CONFIG.replace("[venues.BINANCE_USDM]", "[venues.BYBIT]")
    with pytest.raises(ConfigError, match="venue settings for BYBIT, where no instrument trades"):
        _run(tmp_path, bad_code)
    bad_value = SOR_CONFIG.replace('fidelity = "quotes"', 'fidelity = "ticks"')
    path = tmp_path / "bad.toml"
    path.write_text(bad_value)
    with pytest.raises(ConfigError, match=r"\[venues.BINANCE_USDM\]: venue fidelity 'ticks'"):
        load_config(path)


# -- config errors stop startup, never a running session --------------------------------------

CHECK_BASE = f"""
[run]
name = "check"
base_currency = "USDT"
starting_cash = "10000000"
{INSTRUMENTS}
[[instruments]]
id = "BTCUSDT-PERP2.BINANCE_USDM"
kind = "crypto_perpetual"
quote_currency = "USDT"
base_currency = "BTC"
price_precision = 1
size_precision = 3

[[instruments]]
id = "ETHUSDT-PERP.BYBIT"
kind = "crypto_perpetual"
quote_currency = "USDT"
base_currency = "ETH"
price_precision = 1
size_precision = 3

[[data]]
path = "{SPOT}"
format = "binance-depth"
instrument_id = "BTCUSDT.BINANCE"

[[data]]
path = "{USDM}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"

[[data]]
path = "{USDM}"
format = "binance-depth"
instrument_id = "BTCUSDT-PERP2.BINANCE_USDM"

[[data]]
path = "{USDM}"
format = "binance-depth"
instrument_id = "ETHUSDT-PERP.BYBIT"

[venue]
fidelity = "book"

[[strategies]]
class = "ExecutionSchedule"
id = "exec"

[[strategies.params.orders]]
instrument_id = "BTCUSDT-PERP.BINANCE_USDM"
side = "buy"
quantity = "1"
at = "2024-08-08T23:54:20Z"
"""

# The recordings end at 23:56:12.992 (spot); the perpetual's lot is 0.001 and its tick 0.1.
PERP = 'instrument_id = "BTCUSDT-PERP.BINANCE_USDM"\nside = "buy"\nat = "2024-08-08T23:54:20Z"\n'
AC = "almgren_chriss = { permanent_impact = 0.1, temporary_impact = 0.5, risk_aversion = 1e-6 }"


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (
            f'{PERP}quantity = "1"\nalgorithm = "implementation_shortfall"\nslices = 4\n'
            "interval_ns = 1000000000\nvolatility = 500.0\nhorizon_days = 0.0001",
            r"scheduled order 2 \(implementation_shortfall buy BTCUSDT-PERP.BINANCE_USDM\): "
            r"execution plan P-exec-2: implementation_shortfall needs almgren_chriss",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "implementation_shortfall"\nslices = 2\n'
            "interval_ns = 1000000000\nhorizon_days = 1.0\n"
            "almgren_chriss = { permanent_impact = 10.0, temporary_impact = 0.5 }",
            r"scheduled order 2 .*: no Almgren-Chriss trajectory: temporary impact 0.5 must "
            r"exceed permanent impact 10.0",
        ),
        (
            f'{PERP}quantity = "0.0005"',
            r"scheduled order 2 .*: quantity 0.0005 is not a positive multiple of "
            r"BTCUSDT-PERP.BINANCE_USDM's lot size 0.001",
        ),
        (
            f'{PERP}quantity = "1.0005"',
            r"quantity 1.0005 is not a positive multiple of .* lot size 0.001",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "iceberg"\ndisplay_quantity = "lots"',
            r"scheduled order 2 .*: display_quantity 'lots' is not a decimal number",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "iceberg"\ndisplay_quantity = "0.0004"',
            r"display_quantity 0.0004 is not a positive multiple of .* lot size 0.001",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "iceberg"\ndisplay_quantity = "0.1"\n'
            'limit_price = "61811.45"',
            r"limit_price 61811.45 is not a positive multiple of .* tick size 0.1",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "vwap"\nslices = 3\nweights = [1.0, 2.0]\n'
            "interval_ns = 1000000000",
            r"scheduled order 2 .*: vwap weights need one non-negative weight per slice",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "pov"\nrate = 0.0\ninterval_ns = 1000000000',
            r"rate in \(0, 1\]",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "twap"\nslices = 3',
            r"scheduled order 2 .*: with interval_ns 0 its slices follow "
            r"BTCUSDT-PERP.BINANCE_USDM's bars and the run has none: set interval_ns",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "pov"',
            r"with interval_ns 0 it follows each of .* bars and the run has none",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "limit_then_market"',
            r"with timeout_ns 0 it converts after timeout_bars of .* bars and the run has none",
        ),
        (
            'instrument_id = "BTCUSDT-PERP.BINANCE_USDM"\nside = "buy"\nquantity = "1"\n'
            'at = "2024-08-08T23:57:00Z"',
            r"scheduled order 2 .*: starts at 2024-08-08T23:57:00(\.0+)?Z, after the run's last "
            r"market data at 2024-08-08T23:56:12.99176838\d*Z: it would never start",
        ),
        (
            'instrument_id = "BTCUSDT-PERP.BINANCE_USDM"\nside = "buy"\nquantity = "1"\n'
            "delay_ns = 180000000000",  # after the first instant, 23:54:14.087891268
            r"starts at 2024-08-08T23:57:14.087891268Z, .*: it would never start",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "twap"\n'
            'venues = ["BTCUSDT-PERP.BINANCE_USDM", "BTCUSDT.BINANCE"]',
            r"scheduled order 2 .*: venues are routed over by sor only",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "sor"\ninterval_ns = 1000000000\n'
            'venues = ["BTCUSDT-PERP.BINANCE_USDM", "BTCUSDT.OKX"]',
            r"strategies\[0\] \(ExecutionSchedule\): instrument BTCUSDT.OKX is unknown",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "sor"\ninterval_ns = 1000000000\n'
            'venues = ["BTCUSDT-PERP.BINANCE_USDM", "BTCUSDT-PERP2.BINANCE_USDM"]',
            r"venues BTCUSDT-PERP.BINANCE_USDM and BTCUSDT-PERP2.BINANCE_USDM are both on "
            r"venue BINANCE_USDM; sor routes over one instrument per venue",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "sor"\ninterval_ns = 1000000000\n'
            'venues = ["BTCUSDT-PERP.BINANCE_USDM", "ETHUSDT-PERP.BYBIT"]',
            r"trade different assets \(BTC, ETH\); sor routes one asset over several venues",
        ),
        (
            f'{PERP}quantity = "1"\nalgorithm = "sor"\n'
            'venues = ["BTCUSDT-PERP.BINANCE_USDM", "BTCUSDT.BINANCE"]',
            r"with interval_ns 0 it routes again on each bar of its venues and the run has no "
            r"bars of BTCUSDT-PERP.BINANCE_USDM, BTCUSDT.BINANCE: set interval_ns",
        ),
    ],
)
def test_a_scheduled_order_that_cannot_run_stops_prepare_run_before_anything_is_written(
    tmp_path: Path, order: str, message: str
) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        CHECK_BASE.replace("[run]\n", f'[run]\noutput_dir = "{tmp_path / "runs"}"\n')
        + f"\n[[strategies.params.orders]]\n{order}\n"
    )
    config = load_config(path)
    with pytest.raises(ConfigError, match=message):
        prepare_run(config, tmp_path)
    assert not (tmp_path / "runs").exists()


def test_the_valid_base_of_those_checks_prepares(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(CHECK_BASE + f'\n[[strategies.params.orders]]\n{PERP}quantity = "2"\n')
    prepared = prepare_run(load_config(path), tmp_path)
    assert prepared.strategies[0].required_instruments() == ["BTCUSDT-PERP.BINANCE_USDM"]


def test_a_shortfall_order_without_coefficients_exits_2_in_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The reviewer's case: it used to start, journal fills of the orders before it, then die
    # at 23:54:30 with a partial journal and no summary.
    from tradeloop.cli.main import main

    path = tmp_path / "run.toml"
    path.write_text(
        CHECK_BASE.replace("[run]\n", f'[run]\noutput_dir = "{tmp_path / "runs"}"\n')
        + f"\n[[strategies.params.orders]]\n{PERP}"
        'quantity = "1"\nalgorithm = "implementation_shortfall"\nslices = 4\n'
        "interval_ns = 2000000000\nvolatility = 500.0\nhorizon_days = 0.0001\n"
    )
    monkeypatch.setattr("sys.argv", ["tradeloop", "backtest", str(path)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1
    assert "scheduled order 2 (implementation_shortfall buy BTCUSDT-PERP.BINANCE_USDM)" in err
    assert "needs almgren_chriss impact coefficients" in err
    assert not (tmp_path / "runs").exists()
