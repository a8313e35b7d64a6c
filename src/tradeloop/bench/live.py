"""``tradeloop bench live``: the live node's loop, measured.

Three figures, each in its own setting:

1. **Inbox throughput**: a producer thread publishes ``messages`` trade ticks into the inbox
   (each stamped by it, as a feed's are) while the kernel thread drains them through
   ``engine.live.run_live`` — dispatch, portfolio marks, a strategy that reads every tick, and
   every record journaled (``MarketDataReceived``, to a real SQLite journal and its writer
   process). Messages per second, from the first publish to the end of the drain.
2. **Tick to order, in process**: the same loop, with a strategy that submits an order on
   every ``order_every``-th tick; for each order, the wall time from the tick's ``ts_init``
   (stamped by the inbox) to the moment the command reaches the execution client — the
   strategy, the order factory, the risk checks and the journal (durable: the command is on
   disk before it is handed over) included. p50 and p99.
3. **Round trip to the venue** (``--emulator``): against a Binance emulator on loopback,
   through the ccxt adapter: from ``submit_order`` to the venue's acknowledgement arriving in
   the inbox. p50 and p99.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from tradeloop import __version__
from tradeloop.bus.inbox import Inbox
from tradeloop.core.clock import LiveClock
from tradeloop.core.fixed import Money, Price, Quantity
from tradeloop.data import bundled
from tradeloop.engine.kernel import Kernel
from tradeloop.engine.live import FEED_ENDED, run_live
from tradeloop.journal.manifest import RunManifest
from tradeloop.journal.store import SqliteJournal
from tradeloop.model.commands import CancelOrder, Command, ModifyOrder, SubmitOrder
from tradeloop.model.data import TradeTick
from tradeloop.model.enums import AggressorSide
from tradeloop.model.events import Event
from tradeloop.model.instruments import Instrument
from tradeloop.risk.engine import RiskConfig
from tradeloop.strategy.base import Strategy, StrategyConfig
from tradeloop.venues.sim.config import SimVenueConfig


class _Reader(Strategy):
    """Reads every tick; every ``order_every``-th one submits a small limit order."""

    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str
        order_every: int = 0

    def on_start(self) -> None:
        self.subscribe_trades(self.config.instrument_id)
        self.seen = 0
        self.last_px = 0
        self.entered: list[int] = []

    def on_trade(self, trade: TradeTick) -> None:
        self.seen += 1
        self.last_px = trade.price.raw
        every = self.config.order_every
        if every and self.seen % every == 0:
            self.entered.append(time.time_ns())  # the tick reached the strategy
            # far below the market: it rests (the probe client never fills it)
            price = Price(max(1, trade.price.raw // 2), trade.price.precision)
            self.buy(self.config.instrument_id, Quantity(1000, 6), price)


class _ProbeClient:
    """An execution client that notes when each command reached it (wall ns)."""

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.arrivals: list[tuple[str, int]] = []

    def submit_order(self, command: SubmitOrder) -> None:
        self.arrivals.append((command.order.client_order_id, time.time_ns()))

    def cancel_order(self, command: CancelOrder) -> None:
        """Nothing to cancel at a probe."""

    def modify_order(self, command: ModifyOrder) -> None:
        """Nothing to modify at a probe."""


class _TimedJournal:
    """The run's journal, with the time of each durable append (the command on disk before
    it is sent) noted."""

    def __init__(self, inner: SqliteJournal) -> None:
        self.inner = inner
        self.durable_ns: list[int] = []

    def append(self, record: Event | Command, durable: bool = False) -> int:
        if not durable:
            return self.inner.append(record)
        start = time.perf_counter_ns()
        seq = self.inner.append(record, durable=True)
        self.durable_ns.append(time.perf_counter_ns() - start)
        return seq

    def flush(self) -> None:
        self.inner.flush()

    def sync(self) -> None:
        self.inner.sync()

    def close(self) -> None:
        self.inner.close()


def _kernel(
    instrument: Instrument, journal: _TimedJournal, order_every: int
) -> tuple[Kernel, _Reader]:
    strategy = _Reader(_Reader.Config(instrument_id=instrument.id, order_every=order_every))
    kernel = Kernel(
        clock=LiveClock(),
        journal=journal,
        instruments={instrument.id: instrument},
        starting_cash=Money.from_str("100000000", instrument.quote_currency),
        venue_config=SimVenueConfig(),
        risk_config=RiskConfig(),
        strategies=[strategy],
    )
    return kernel, strategy


def _manifest(name: str) -> RunManifest:
    return RunManifest(
        run_id=f"bench-live-{name}",
        mode="paper",
        config_hash="bench",
        config_json="{}",
        seed=0,
        code_version=__version__,
    )


def _run_loop(
    messages: int, order_every: int, directory: Path, name: str
) -> tuple[float, Kernel, _Reader, list[int], _ProbeClient, _TimedJournal]:
    instrument = bundled.instrument("btcusdt_trades")
    journal = _TimedJournal(
        SqliteJournal(directory / f"{name}.sqlite", _manifest(name), durable_commands=True)
    )
    kernel, strategy = _kernel(instrument, journal, order_every)
    probe = _ProbeClient(instrument.venue)
    kernel.use_execution_client(probe)
    inbox = Inbox(kernel.clock, max_items=100_000)
    stamps: list[int] = []
    iid, precision = instrument.id, instrument.price_precision

    def produce() -> None:
        for n in range(messages):
            raw = 6_000_000 + (n % 1000)
            if order_every and (n + 1) % order_every == 0:
                # the tick that makes an order finds the inbox empty and this thread asleep:
                # the figure is the kernel's own work, not time queued behind a burst or
                # spent waiting for the GIL held by a publisher
                while not inbox.empty():
                    time.sleep(0.0002)
                time.sleep(0.001)

            def build(ts: int, raw: int = raw, n: int = n) -> TradeTick:
                return TradeTick(
                    instrument_id=iid,
                    price=Price(raw, precision),
                    size=Quantity(1000, 6),
                    aggressor_side=AggressorSide.BUYER,
                    trade_id=str(n),
                    ts_event=ts,
                    ts_init=ts,
                )

            stamps.append(inbox.publish(build).ts_init)
            if order_every and (n + 1) % order_every == 0:
                # and nothing else runs until the order is out
                wanted = (n + 1) // order_every
                deadline = time.monotonic() + 5
                while len(probe.arrivals) < wanted and time.monotonic() < deadline:
                    time.sleep(0.0002)
        inbox.put_control(FEED_ENDED)

    kernel.start()
    producer = threading.Thread(target=produce, name="bench-producer", daemon=True)
    start = time.perf_counter()
    producer.start()
    run_live(kernel, inbox, journal_market_data=True)
    seconds = time.perf_counter() - start
    producer.join()
    journal.close()
    return seconds, kernel, strategy, stamps, probe, journal


def bench_live(messages: int = 200_000, orders: int = 2_000) -> dict[str, Any]:
    """Return the live loop's figures (module docstring, 1 and 2) as one JSON-able record."""
    with tempfile.TemporaryDirectory(prefix="tradeloop-bench-live-") as tmp:
        seconds, kernel, strategy, _, _, _ = _run_loop(messages, 0, Path(tmp), "throughput")
        throughput = {
            "messages": messages,
            "seconds": round(seconds, 4),
            "messages_per_s": round(messages / seconds),
            "dispatched": kernel.records_processed,
            "strategy_saw": strategy.seen,
        }
        every = 50
        ticks = orders * every
        _, kernel, strategy, stamps, probe, journal = _run_loop(ticks, every, Path(tmp), "latency")
        ticked = [stamps[int(cid.rsplit("-", 1)[1]) * every - 1] for cid, _ in probe.arrivals]
        arrived = [at for _, at in probe.arrivals]
        latencies = np.array(arrived, dtype=np.float64) - np.array(ticked, dtype=np.float64)
        count = min(len(arrived), len(strategy.entered), len(journal.durable_ns))
        entered = np.array(strategy.entered[:count], dtype=np.float64)
        durable = np.array(journal.durable_ns[:count], dtype=np.float64)
        # Where the time goes: the tick waiting for the kernel thread (wake-up, the journal
        # hand-over of an idle loop), the kernel's own work (strategy, order, risk, order
        # manager) and the durable journal write of the command.
        breakdown = {
            "wait_for_kernel": entered - np.array(ticked[:count], dtype=np.float64),
            "kernel_work": np.array(arrived[:count], dtype=np.float64) - entered - durable,
            "journal_durable": durable,
        }
    result: dict[str, Any] = {
        "engine": "tradeloop",
        "version": __version__,
        "inbox": throughput,
        "tick_to_order": {
            "orders": len(probe.arrivals),
            "p50_us": round(float(np.percentile(latencies, 50)) / 1e3, 1),
            "p99_us": round(float(np.percentile(latencies, 99)) / 1e3, 1),
            "max_us": round(float(latencies.max()) / 1e3, 1),
            "parts": {
                name: {
                    "p50_us": round(float(np.percentile(values, 50)) / 1e3, 1),
                    "p99_us": round(float(np.percentile(values, 99)) / 1e3, 1),
                }
                for name, values in breakdown.items()
            },
        },
    }
    return result


def bench_round_trip(orders: int = 200) -> dict[str, Any]:
    """Return the round trip to a Binance emulator on loopback (module docstring, 3): from
    ``submit_order`` on the ccxt adapter to the venue's acknowledgement in the inbox.

    Each order is a small limit buy far below the market (0.02 BTC at 1,000 USDT: above the
    venue's minimum notional, so it rests: every order is acknowledged and none fills) at an
    emulator of its own, stopped at the end.
    """
    import os
    import queue

    from tradeloop.core.fixed import Price, Quantity
    from tradeloop.model.commands import SubmitOrder
    from tradeloop.model.enums import OrderSide, OrderType
    from tradeloop.model.events import OrderAccepted, OrderInitialized, OrderRejected
    from tradeloop.testing import (
        DEFAULT_API_KEY,
        DEFAULT_SECRET,
        BinanceEmulatorConfig,
        start_binance_emulator,
    )
    from tradeloop.venues.ccxt import CcxtConnectionConfig, CcxtExecutionClient

    instrument = bundled.instrument("btcusdt_trades")
    os.environ.setdefault("TRADELOOP_BENCH_KEY", DEFAULT_API_KEY)
    os.environ.setdefault("TRADELOOP_BENCH_SECRET", DEFAULT_SECRET)
    from tradeloop.testing.emulators._binance_auth import RateLimits

    # The figure is the round trip, not Binance's 100 orders per 10 s: the bench's own
    # emulator lifts its limits (the adapter's handling of them is tested elsewhere).
    limits = RateLimits(weight_per_minute=10**9, orders_per_10s=10**9, orders_per_day=10**9)
    with start_binance_emulator(BinanceEmulatorConfig(limits=limits)) as emulator:
        config = CcxtConnectionConfig(
            exchange="binance",
            base_url=emulator.url,
            api_key_env="TRADELOOP_BENCH_KEY",
            secret_env="TRADELOOP_BENCH_SECRET",
        )
        inbox = Inbox(LiveClock())
        client = CcxtExecutionClient(config, instrument.venue, inbox, {instrument.id: instrument})
        client.connect()
        latencies: list[float] = []
        try:
            for n in range(orders):
                now = inbox.now_ns()
                init = OrderInitialized(
                    client_order_id=f"O-bench-{now % 10**9}-{n}",
                    strategy_id="bench",
                    instrument_id=instrument.id,
                    side=OrderSide.BUY,
                    order_type=OrderType.LIMIT,
                    quantity=Quantity.from_str("0.020000", instrument.size_precision),
                    price=Price.from_str("1000.00", instrument.price_precision),
                    ts_event=now,
                    ts_init=now,
                )
                sent = time.perf_counter_ns()
                client.submit_order(SubmitOrder(strategy_id="bench", ts_init=now, order=init))
                deadline = time.monotonic() + 10
                while True:
                    try:
                        item = inbox.get(max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        raise TimeoutError(
                            f"no acknowledgement of {init.client_order_id}"
                        ) from None
                    if type(item) is OrderRejected:
                        raise TimeoutError(f"the emulator refused the bench's order: {item.reason}")
                    if type(item) is OrderAccepted and item.client_order_id == init.client_order_id:
                        latencies.append((time.perf_counter_ns() - sent) / 1e3)
                        break
        finally:
            client.disconnect()  # the resting orders go with the emulator, which is the bench's
    values = np.array(latencies)
    return {
        "orders": len(latencies),
        "p50_us": round(float(np.percentile(values, 50)), 1),
        "p99_us": round(float(np.percentile(values, 99)), 1),
        "max_us": round(float(values.max()), 1),
    }
