"""``tradeloop soak kills``: a live node against the Binance emulator, killed with SIGKILL at
seeded random moments and resumed each time; then its journal is audited against the venue.

Steps of ``soak_kills``:

1. Start a Binance emulator (``tradeloop.testing``) in this process, on a free loopback port;
   its order log (``GET /_emulator/orders``, by client order id) is the venue's truth.
2. Write a config for ``tradeloop live`` with ``Churn`` (``CHURN_SOURCE``), a strategy that
   trades on every few prints: market orders that flip the position, and limit orders away
   from the touch that it cancels a few prints later (so kills land mid-submit, between an
   acknowledgement and a fill, mid-cancel, and during the startup reconciliation).
3. ``runs`` times: start the node (``python -m tradeloop.cli live``; after the first run with
   ``--resume`` of its run directory), wait a seeded random time from its start, SIGKILL it,
   note the journal's last record (the moment the kill hit) and verify the journal's chain.
4. Resume once more for a few seconds and let it stop cleanly (open orders cancelled).
5. Audit (``audit``): every order at the venue has its ``SubmitOrder`` in the journal and
   the same final status and filled quantity there; no client order id reached the venue
   twice; the position and the cash flows of the fills the node counted equal the venue's;
   the emulator's balances equal its starting balances plus those flows, per currency
   (``balance_mismatches``), and the journal's baseline (``VenueBaselineRecorded``) equals
   the starting balances. Every resume also compared the balances itself (a difference is a
   ``ReconciliationBreak``, counted in ``reconciliation_breaks``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tradeloop.core.errors import InvariantViolation, OrderStateError
from tradeloop.journal.integrity import verify_journal
from tradeloop.journal.store import read_records
from tradeloop.model.commands import SubmitOrder
from tradeloop.model.enums import OrderSide, OrderStatus
from tradeloop.model.events import (
    ExternalFillRecorded,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    ReconciliationBreak,
    VenueBaselineRecorded,
)
from tradeloop.model.orders import Order

CHURN_SOURCE = '''
"""Trades on every few prints: market flips, and limit orders it cancels soon after."""

from tradeloop.model import OrderSide, TradeTick
from tradeloop.strategy import Strategy, StrategyConfig


class Churn(Strategy):
    class Config(StrategyConfig, frozen=True, kw_only=True):
        instrument_id: str
        quantity: str = "0.001"
        every: int = 2
        cancel_after: int = 3

    def on_start(self) -> None:
        self.count = 0
        self.placed = {}
        self.subscribe_trades(self.config.instrument_id)

    def on_trade(self, trade: TradeTick) -> None:
        self.count += 1
        iid = self.config.instrument_id
        for order in self.open_orders(iid):
            placed = self.placed.setdefault(order.client_order_id, self.count)
            if self.count - placed >= self.config.cancel_after:
                self.cancel_order(order, "churn: resting too long")
        if self.count % self.config.every or self.open_orders(iid):
            return
        if (self.count // self.config.every) % 3 == 2:
            price = self.price(iid, float(trade.price.as_decimal()) * 0.995)
            order = self.order_factory.limit(
                iid, OrderSide.BUY, self.quantity(iid, self.config.quantity), price
            )
            self.placed[order.client_order_id] = self.count
            self.submit_order(order)
        elif self.is_flat(iid):
            self.buy(iid, self.config.quantity)
        elif self.is_long(iid):
            self.close_position(iid)
'''

CONFIG = """
[run]
name = "soak-kills"
starting_cash = "100000"
base_currency = "USDT"
output_dir = "{output}"

[connections.BINANCE]
kind = "ccxt"
exchange = "binance"
base_url = "{url}"
api_key_env = "BINANCE_API_KEY"
secret_env = "BINANCE_SECRET"

[[feeds]]
connection = "BINANCE"
instrument_id = "BTCUSDT.BINANCE"
kinds = ["trades"]

[live]
on_stop = "cancel_all"

[deployment]
stage = "pilot"

[[strategies]]
class = "{strategy}:Churn"
params = {{ instrument_id = "BTCUSDT.BINANCE", quantity = "0.001", every = 2 }}
"""

_CLOSED_AT_VENUE = {
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}


def venue_orders(url: str) -> list[dict[str, Any]]:
    """Return the emulator's order log (every order it received, by client order id)."""
    with urllib.request.urlopen(f"{url}/_emulator/orders", timeout=30) as answer:
        body = json.loads(answer.read())
    orders = body["orders"] if isinstance(body, dict) else body
    return list(orders)


def venue_balances(url: str) -> dict[str, Decimal]:
    """Return the emulator's spot balances (total = free + locked, by asset)."""
    with urllib.request.urlopen(f"{url}/_emulator/balances", timeout=30) as answer:
        body = json.loads(answer.read())
    return {
        str(b["asset"]): Decimal(str(b["free"])) + Decimal(str(b["locked"])) for b in body["spot"]
    }


def _final_orders(
    journal: Path,
) -> tuple[dict[str, Order], list[OrderFilled], list[str], list[VenueBaselineRecorded]]:
    # Every order of the journal with its final state, the fills the node counted, its breaks
    # and its baselines.
    orders: dict[str, Order] = {}
    counted: list[OrderFilled] = []
    breaks: list[str] = []
    baselines: list[VenueBaselineRecorded] = []
    for row in read_records(journal):
        record = row.record
        if isinstance(record, VenueBaselineRecorded):
            baselines.append(record)
        elif isinstance(record, ReconciliationBreak):
            breaks.append(
                f"break {record.kind} {record.subject}: node {record.local}, "
                f"venue {record.venue} ({record.reason})"
            )
        elif isinstance(record, SubmitOrder):
            orders.setdefault(record.order.client_order_id, Order(record.order))
        elif isinstance(record, OrderInitialized):
            orders.setdefault(record.client_order_id, Order(record))
        elif isinstance(record, ExternalFillRecorded):
            if not record.reason.startswith("duplicate"):
                counted.append(record.fill)
        elif isinstance(record, OrderEvent):
            order = orders.get(record.client_order_id)
            if order is None:
                continue
            try:
                order.apply(record)
            except OrderStateError:
                continue
            if type(record) is OrderFilled:
                counted.append(record)
    return orders, counted, breaks, baselines


def audit(
    journal: Path,
    orders_at_venue: list[dict[str, Any]],
    balances: tuple[dict[str, Decimal], dict[str, Decimal]] | None = None,
) -> dict[str, Any]:
    """Compare a run's journal with the venue's order log (module docstring, step 5);
    ``balances`` are the venue's (starting, final) balances by asset."""
    orders, counted, breaks, baselines = _final_orders(journal)
    by_client = Counter(str(o.get("clientOrderId")) for o in orders_at_venue)
    duplicates = sum(n - 1 for n in by_client.values() if n > 1)
    lost: list[str] = []
    venue_position = Decimal(0)
    venue_flows: dict[str, Decimal] = defaultdict(Decimal)
    for placed in orders_at_venue:
        cid = str(placed.get("clientOrderId"))
        executed = Decimal(str(placed.get("executedQty", "0")))
        sign = 1 if placed.get("side") == "BUY" else -1
        venue_position += sign * executed
        for fill in placed.get("fills") or []:
            venue_flows["USDT"] -= sign * Decimal(fill["qty"]) * Decimal(fill["price"])
            venue_flows["fee " + fill["commissionAsset"]] += Decimal(fill["commission"])
        order = orders.get(cid)
        if order is None:
            lost.append(f"{cid}: at the venue, not in the journal")
            continue
        status = _CLOSED_AT_VENUE.get(str(placed.get("status")))
        if status is None and order.is_closed:
            lost.append(f"{cid}: open at the venue, {order.status} in the journal")
        elif status is not None and order.is_open:
            lost.append(f"{cid}: {status} at the venue, still {order.status} in the journal")
        if order.filled_qty.as_decimal() != executed:
            lost.append(f"{cid}: filled {executed} at the venue, {order.filled_qty} in the journal")
    at_venue = set(by_client)
    for cid, order in orders.items():
        if cid not in at_venue and order.filled_raw:
            lost.append(f"{cid}: fills in the journal, unknown to the venue")
        elif cid not in at_venue and order.is_open:
            lost.append(f"{cid}: open in the journal, unknown to the venue")
    local_position = Decimal(0)
    local_flows: dict[str, Decimal] = defaultdict(Decimal)
    for fill in counted:
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        local_position += sign * fill.last_qty.as_decimal()
        local_flows["USDT"] -= sign * fill.last_qty.as_decimal() * fill.last_px.as_decimal()
        local_flows["fee " + fill.commission.currency] += fill.commission.as_decimal()
    cash_mismatches = sum(
        1
        for key in sorted(set(venue_flows) | set(local_flows))
        if venue_flows[key] != local_flows[key]
    )
    balance_problems = _balance_problems(counted, baselines, balances)
    return {
        "orders_sent": sum(1 for o in orders.values() if o.status is not OrderStatus.DENIED),
        "orders_at_venue": len(orders_at_venue),
        "fills": len(counted),
        "lost_orders": len(lost),
        "duplicate_orders": duplicates,
        "position_mismatches": int(venue_position != local_position),
        "cash_mismatches": cash_mismatches,
        "reconciliation_breaks": len(breaks),
        "balance_mismatches": len(balance_problems),
        "problems": (lost + breaks + balance_problems)[:20],
    }


def _balance_problems(
    counted: list[OrderFilled],
    baselines: list[VenueBaselineRecorded],
    balances: tuple[dict[str, Decimal], dict[str, Decimal]] | None,
) -> list[str]:
    # The venue's final balances = its starting ones + the flows of the fills the node
    # counted (the base asset bought and sold, the quote paid and received, every fee in its
    # own currency); the run's one baseline = the starting balances.
    if balances is None:
        return []
    start, final = balances
    problems: list[str] = []
    if len(baselines) != 1:
        problems.append(f"{len(baselines)} baselines in the journal, not 1")
    for baseline in baselines[:1]:
        recorded = {c: Decimal(v) for c, v in baseline.balances}
        for asset in sorted(set(recorded) | set(start)):
            if recorded.get(asset, Decimal(0)) != start.get(asset, Decimal(0)):
                problems.append(
                    f"baseline {asset} {recorded.get(asset, 0)}, venue started with "
                    f"{start.get(asset, 0)}"
                )
    expected = dict(start)
    for fill in counted:
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        base, quote = "BTC", "USDT"  # the soak trades BTCUSDT
        quantity = fill.last_qty.as_decimal()
        expected[base] = expected.get(base, Decimal(0)) + sign * quantity
        expected[quote] = expected.get(quote, Decimal(0)) - sign * quantity * (
            fill.last_px.as_decimal()
        )
        fee = fill.commission.currency
        expected[fee] = expected.get(fee, Decimal(0)) - fill.commission.as_decimal()
    for asset in sorted(set(expected) | set(final)):
        if expected.get(asset, Decimal(0)) != final.get(asset, Decimal(0)):
            problems.append(
                f"balance {asset}: start + the node's fills {expected.get(asset, 0)}, "
                f"venue {final.get(asset, 0)}"
            )
    return problems


def node_environment(work: Path) -> dict[str, str]:
    """Return the environment of the soak's nodes: this one, with Python's bytecode cached in
    ``work`` (a node start that compiles some 1,600 modules from source, as it does under
    ``PYTHONDONTWRITEBYTECODE=1`` without .pyc files, spends about 7 s of CPU on it)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def _node(
    config: Path, resume: Path | None, log: Path, seconds: str, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tradeloop.cli", "live", str(config), "-q", "--for", seconds]
    if resume is not None:
        command += ["--resume", str(resume)]
    with log.open("ab") as handle:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=handle, env=env)


def _count(run_dir: Path | None) -> int:
    import sqlite3

    if run_dir is None or not (run_dir / "journal.sqlite").is_file():
        return 0
    try:
        conn = sqlite3.connect(f"file:{run_dir / 'journal.sqlite'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT MAX(seq) FROM records").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def _last_type(journal: Path) -> str:
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT type FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return "unreadable"
    return "empty" if row is None else str(row[0])


def soak_kills(
    runs: int,
    seed: int,
    *,
    min_s: float = 0.0,
    max_s: float = 2.0,
    progress: Callable[[int, str], None] | None = None,
) -> dict[str, Any]:
    """Run the kill soak (module docstring); return its figures."""
    from tradeloop.testing import (
        DEFAULT_API_KEY,
        DEFAULT_SECRET,
        BinanceEmulatorConfig,
        start_binance_emulator,
    )

    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    phases: Counter[str] = Counter()
    verify_failures = 0
    startup_failures: list[str] = []
    os.environ.setdefault("BINANCE_API_KEY", DEFAULT_API_KEY)
    os.environ.setdefault("BINANCE_SECRET", DEFAULT_SECRET)
    with (
        tempfile.TemporaryDirectory(prefix="tradeloop-soak-kills-") as tmp,
        start_binance_emulator(BinanceEmulatorConfig()) as emulator,
    ):
        work = Path(tmp)
        strategy = work / "churn.py"
        strategy.write_text(CHURN_SOURCE)
        config = work / "soak.toml"
        output = work / "runs"
        config.write_text(CONFIG.format(output=output, url=emulator.url, strategy=strategy))
        log = work / "node.log"
        start_balances = venue_balances(emulator.url)
        env = node_environment(work)
        run_dir: Path | None = None
        for kill in range(runs):
            before = _count(run_dir)
            node = _node(config, run_dir, log, "600s", env)
            # a fifth of the kills hit the startup (rebuild, reconciliation); the others a
            # random moment once the node trades
            at_startup = bool(rng.random() < 0.2)
            delay = 0.0 if at_startup else float(rng.uniform(min_s, max_s))
            wanted = before + (1 if at_startup else 3)
            limit = time.monotonic() + 120
            while node.poll() is None and time.monotonic() < limit:
                found = sorted(output.glob("*/journal.sqlite")) if output.is_dir() else []
                if found and _count(found[0].parent) >= wanted:
                    break
                time.sleep(0.01)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and node.poll() is None:
                time.sleep(0.01)
            if node.poll() is not None:
                startup_failures.append(f"kill {kill}: the node exited {node.returncode} early")
            node.send_signal(signal.SIGKILL)
            node.wait(timeout=60)
            found = sorted(output.glob("*/journal.sqlite")) if output.is_dir() else []
            if found:
                run_dir = found[0].parent
                phases[_last_type(found[0])] += 1
                if not verify_journal(found[0]).ok:
                    verify_failures += 1
            else:
                phases["before the journal existed"] += 1
            if progress is not None:
                where = "at startup" if at_startup else f"{delay:.2f} s after trading began"
                progress(kill + 1, f"kill {kill + 1}/{runs} {where}")
        # the last start runs to its end: open orders cancelled, RunEnded written
        final = _node(config, run_dir, log, "4s", env)
        code = final.wait(timeout=300)
        if code != 0:
            startup_failures.append(f"final resume exited {code}")
        found = sorted(output.glob("*/journal.sqlite")) if output.is_dir() else []
        if not found:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise InvariantViolation(
                "soak kills: the node never started a run; its last words: " + " | ".join(tail)
            )
        journal = found[0]
        if not verify_journal(journal).ok:
            verify_failures += 1
        final_balances = venue_balances(emulator.url)
        figures = audit(journal, venue_orders(emulator.url), (start_balances, final_balances))
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
    return {
        "kills": runs,
        "orders_sent": figures["orders_sent"],
        "lost_orders": figures["lost_orders"],
        "duplicate_orders": figures["duplicate_orders"],
        "position_mismatches": figures["position_mismatches"],
        "cash_mismatches": figures["cash_mismatches"],
        "journal_verify_failures": verify_failures,
        "reconciliation_breaks": figures["reconciliation_breaks"],
        "balance_mismatches": figures["balance_mismatches"],
        "seconds": round(time.perf_counter() - started, 1),
        "seed": seed,
        "orders_at_venue": figures["orders_at_venue"],
        "fills": figures["fills"],
        "kill_phases": dict(sorted(phases.items())),
        "problems": figures["problems"] + startup_failures,
        "node_log_tail": tail if startup_failures else [],
    }
