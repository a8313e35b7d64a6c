"""Replaying a live-clock session as a backtest: ``tradeloop backtest --from-journal RUN``.

A session on live feeds journals every market data record its inbox stamped
(``MarketDataReceived``). ``prepare_from_journal`` rebuilds the run from its journal alone:

1. the config stored in the manifest (the same strategies, params, risk, venue settings);
2. the journaled records as the run's data, one source per instrument and kind, in
   ``ts_init`` order (the inbox stamped them monotonically), with a content hash of them
   (order-book deltas become a delta stream whose venue events end at the deltas flagged
   ``LAST``, as the live loop grouped them);
3. the same client order id scope as the session (derived from its start), so the orders of
   the replay carry the session's ids;
4. the session's own output directory: the replay is written beside it;
5. the session's end: with ``[live] on_stop = "cancel_all"`` the replay cancels the orders
   still open after its last record, as the session did when it stopped.

``run_backtest`` then runs it on the test clock: each record reaches the strategies at the
``ts_init`` it had live, so the decisions are the session's (``tradeloop diff SESSION REPLAY
--ignore-timestamps`` finds no divergence for a paper or shadow session). A session that sent
orders to a real venue got its fills from the venue; its replay fills them with the
simulated venue, so it matches up to the first fill that differs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import msgspec
import numpy as np

from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError
from tradeloop.data.books.columns import BookDeltaColumns
from tradeloop.data.columns import BarColumns, QuoteColumns, TradeColumns
from tradeloop.engine.loading import LoadedSource
from tradeloop.engine.runner import PreparedRun, prepare_run
from tradeloop.engine.session import session_scope
from tradeloop.journal.manifest import read_base_dir
from tradeloop.journal.replay import journal_path
from tradeloop.journal.store import _open_readonly, read_manifest
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import AggressorSide
from tradeloop.model.events import MarketDataReceived

_AGGRESSOR_CODES = {AggressorSide.NONE: 0, AggressorSide.BUYER: 1, AggressorSide.SELLER: 2}


def prepare_from_journal(run: str | os.PathLike[str]) -> tuple[PreparedRun, str]:
    """Return the session at ``run`` prepared as a backtest, and its order id scope.

    Raises
    ------
    ConfigError
        If ``run`` is not a run, its stored config no longer loads, or its journal holds no
        ``MarketDataReceived`` record (a backtest or a replayed paper run: rerun its config).
    """
    path = journal_path(run)
    manifest = read_manifest(path)
    try:
        config = msgspec.json.decode(manifest.config_json, type=RunConfig)
    except (msgspec.ValidationError, ConfigError) as error:
        raise ConfigError(f"run {run}: its stored config does not load: {error}") from None
    decoder = msgspec.json.Decoder(MarketDataReceived)
    digest = hashlib.sha256()
    bars: dict[str, list[Bar]] = {}
    quotes: dict[str, list[QuoteTick]] = {}
    trades: dict[str, list[TradeTick]] = {}
    deltas: dict[str, list[OrderBookDelta]] = {}
    conn = _open_readonly(path)
    try:
        rows = conn.execute(
            "SELECT payload FROM records WHERE type = 'MarketDataReceived' ORDER BY seq"
        )
        for (payload,) in rows:
            digest.update(payload.encode())
            received = decoder.decode(payload)
            if received.bar is not None:
                bars.setdefault(received.bar.instrument_id, []).append(received.bar)
            elif received.quote is not None:
                quotes.setdefault(received.quote.instrument_id, []).append(received.quote)
            elif received.trade is not None:
                trades.setdefault(received.trade.instrument_id, []).append(received.trade)
            elif received.delta is not None:
                deltas.setdefault(received.delta.instrument_id, []).append(received.delta)
    finally:
        conn.close()
    if not (bars or quotes or trades or deltas):
        raise ConfigError(
            f"run {run} journaled no live market data (MarketDataReceived): only sessions on "
            "live feeds replay from their journal; rerun a backtest or a replay from its config"
        )
    # The stored config leaves out where results go (not part of a run's identity): the
    # replay is written beside the session it replays.
    config = msgspec.structs.replace(
        config, run=msgspec.structs.replace(config.run, output_dir=str(Path(path).parent.parent))
    )
    base_dir = read_base_dir(Path(path).parent, manifest) or Path.cwd()
    prepared = prepare_run(config, base_dir)
    origin = str(path)
    content = digest.hexdigest()
    sources: list[LoadedSource] = []
    for instrument_id, records in sorted(bars.items()):
        first = records[0]
        columns = BarColumns(
            instrument_id,
            first.price_precision,
            first.volume_precision,
            [r.ts_event for r in records],
            [r.ts_init for r in records],
            [r.open_raw for r in records],
            [r.high_raw for r in records],
            [r.low_raw for r in records],
            [r.close_raw for r in records],
            [r.volume_raw for r in records],
        )
        sources.append(
            LoadedSource(f"journal:bars:{instrument_id}", columns, None, content, origin)
        )
    for instrument_id, quote_list in sorted(quotes.items()):
        head = quote_list[0]
        quote_columns = QuoteColumns(
            instrument_id,
            head.bid_price.precision,
            head.bid_size.precision,
            [q.ts_event for q in quote_list],
            [q.ts_init for q in quote_list],
            [q.bid_price.raw for q in quote_list],
            [q.ask_price.raw for q in quote_list],
            [q.bid_size.raw for q in quote_list],
            [q.ask_size.raw for q in quote_list],
        )
        sources.append(
            LoadedSource(f"journal:quotes:{instrument_id}", quote_columns, None, content, origin)
        )
    for instrument_id, trade_list in sorted(trades.items()):
        lead = trade_list[0]
        trade_columns = TradeColumns(
            instrument_id,
            lead.price.precision,
            lead.size.precision,
            [t.ts_event for t in trade_list],
            [t.ts_init for t in trade_list],
            [t.price.raw for t in trade_list],
            [t.size.raw for t in trade_list],
            np.array([_AGGRESSOR_CODES[t.aggressor_side] for t in trade_list], dtype=np.int8),
            [t.trade_id for t in trade_list],
        )
        sources.append(
            LoadedSource(f"journal:trades:{instrument_id}", trade_columns, None, content, origin)
        )
    for instrument_id, delta_list in sorted(deltas.items()):
        book_columns = BookDeltaColumns.from_deltas(delta_list)
        sources.append(
            LoadedSource(f"journal:deltas:{instrument_id}", book_columns, None, content, origin)
        )
    prepared.sources = sources
    # The session cancelled its open orders on the way out unless told to leave them.
    prepared.cancel_open_orders_at_end = config.live.on_stop == "cancel_all"
    prepared.run_id = f"{config.run.name}-from-{manifest.run_id[-12:]}-{content[:8]}"
    started = manifest.started_wall_ns
    return prepared, "" if started is None else session_scope(started)
