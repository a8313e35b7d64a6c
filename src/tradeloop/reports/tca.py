"""Transaction cost analysis of a run for its report: per order and aggregated.

``run_report_tca`` is ``tradeloop tca``'s analysis on an opened run (``RunInputs``), with
the journal's own arrival prices:

1. one ``analytics.tca.TcaOrder`` per order the run sent (``execution.tca.tca_orders``: fills,
   end of life; orders denied by risk are left out);
2. each order's arrival price is the one it was journaled with
   (``OrderInitialized.arrival_price``, the mark when it was created); an order without one
   takes the market's (the quote mid when every traded instrument has quotes, else the last
   print or bar close at or before its arrival), as ``tradeloop tca`` does;
3. ``analytics.tca.tca_report`` against the run's market data (trades, else bar closes with
   their volume, for VWAP, TWAP and participation; quotes for the mid): slippage vs arrival,
   implementation shortfall (execution, opportunity, fees), fill rate, participation, and
   their notional-weighted aggregate.

Each order is linked to its trade (``trade_key``: its parent order, else itself), so the
report's TCA table opens the trade's explanation.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tradeloop.analytics.tca import (
    ArrivalPriceSource,
    MarketPrints,
    MarketQuotes,
    OrderTca,
    TcaSummary,
    tca_report,
)
from tradeloop.core.errors import TradeloopError
from tradeloop.data.books import BookDeltaColumns, book_prints, top_of_book
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.engine.feed import AnyColumns
from tradeloop.execution.tca import tca_orders
from tradeloop.journal.store import JournalRecord
from tradeloop.reports.run import RunInputs


class TcaRow(msgspec.Struct, frozen=True, kw_only=True):
    """One order's TCA and the trade it belongs to."""

    trade_key: str
    arrival_from_journal: bool
    tca: OrderTca


class ReportTca(msgspec.Struct, frozen=True, kw_only=True):
    """The run's TCA: per order, aggregated, and where arrival prices came from."""

    arrival_source: str
    orders: tuple[TcaRow, ...]
    summary: TcaSummary


def market_series(
    sources: Iterable[AnyColumns],
) -> tuple[dict[str, MarketPrints], dict[str, MarketQuotes]]:
    """Return the market data TCA measures orders against, per instrument: ``(prints, quotes)``.

    Prints are the instrument's trades, else its bar closes with their volume; quotes its best
    bid and ask. A run of book deltas alone (LOBSTER, Databento MBO) is measured against its
    book: the best bid and ask at every event end where it is two-sided and not crossed, and
    the book's own executions as the tape (they beat bar closes, never a trade file).
    """
    sources = list(sources)
    prints: dict[str, MarketPrints] = {}
    quotes: dict[str, MarketQuotes] = {}
    book_quotes: dict[str, MarketQuotes] = {}
    book_trades: dict[str, MarketPrints] = {}
    with_trades = {c.instrument_id for c in sources if isinstance(c, TradeColumns)}
    for columns in sources:
        iid = columns.instrument_id
        if isinstance(columns, BookDeltaColumns):
            scale = 10.0**columns.price_precision
            ts, bid, ask = top_of_book(columns)
            book_quotes[iid] = MarketQuotes(ts, bid / scale, ask / scale)
            ts, price, size = book_prints(columns)
            if len(ts):
                book_trades[iid] = MarketPrints(
                    ts, price / scale, size / 10.0**columns.size_precision
                )
        elif isinstance(columns, QuoteColumns):
            scale = 10.0**columns.price_precision
            quotes[iid] = MarketQuotes(
                columns.ts_init, columns.bid_price / scale, columns.ask_price / scale
            )
        elif isinstance(columns, TradeColumns):
            prints[iid] = MarketPrints(
                columns.ts_init,
                columns.price / 10.0**columns.price_precision,
                columns.size / 10.0**columns.size_precision,
            )
        elif isinstance(columns, BarColumns) and iid not in prints:
            prints[iid] = MarketPrints(
                columns.ts_init,
                columns.close / 10.0**columns.price_precision,
                columns.volume / 10.0**columns.volume_precision,
            )
    for iid, book in book_quotes.items():
        quotes.setdefault(iid, book)
    for iid, book_print in book_trades.items():
        if iid not in with_trades:
            prints[iid] = book_print
    return prints, quotes


def run_report_tca(inputs: RunInputs) -> ReportTca | None:
    """Return the TCA of every order of the run (module docstring); None, with a note in
    ``inputs.notes``, when it cannot be computed (an order with no arrival price at all)."""
    records = [
        JournalRecord(r.seq, r.ts_event, r.ts_init, r.kind, r.type, r.record)
        for r in inputs.index.rows
        if r.record is not None
    ]
    multipliers = {iid: float(inputs.multiplier_of(iid)) for iid in inputs.instruments}
    orders = tca_orders(records, multipliers)
    if not orders:
        return None
    book = inputs.book
    from_journal: list[bool] = []
    with_arrival = []
    for order in orders:
        arrival = book.orders[order.order_id].arrival_price
        from_journal.append(arrival is not None)
        if arrival is not None:
            order = msgspec.structs.replace(order, arrival_price=float(arrival))
        with_arrival.append(order)
    prepared = inputs.prepared
    prints, quotes = (
        ({}, {}) if prepared is None else market_series(src.columns for src in prepared.sources)
    )
    traded = {order.instrument_id for order in orders}
    market = (
        ArrivalPriceSource.MID
        if traded and all(iid in quotes for iid in traded)
        else ArrivalPriceSource.LAST
    )
    try:
        report = tca_report(with_arrival, prints, quotes, market)
    except TradeloopError as error:
        inputs.notes.append(f"TCA not computed: {error}")
        return None
    if all(from_journal):
        source = "journal (each order's arrival_price: the mark when it was created)"
    elif not any(from_journal):
        source = f"market data ({market.value} at or before each order's submission)"
    else:
        source = (
            "journal where the order carries an arrival_price, else market data "
            f"({market.value} at or before its submission)"
        )
    rows = tuple(
        TcaRow(
            trade_key=book.orders[result.order_id].parent_order_id or result.order_id,
            arrival_from_journal=journaled,
            tca=result,
        )
        for result, journaled in zip(report.orders, from_journal, strict=True)
    )
    return ReportTca(arrival_source=source, orders=rows, summary=report.summary)
