"""Order-book feeds: raw venue files to columnar delta streams, exact rebuilds, fast replay.

Each feed module reads a venue's raw file into ``BookDeltaColumns`` (int64 columns in apply
order) with the venue's own sequencing rules, and checks the rebuilt book against what the
data itself guarantees:

- ``binance``: diff-depth recordings (spot, USD-M) with REST snapshots, bookTicker, trades;
- ``bybit``: ``orderbook.<depth>`` snapshot + delta streams;
- ``lobster``: LOBSTER message files, rebuilt and compared with their order-book files, and
  as a stream seeded from the order-book file that a run can replay;
- ``databento``: CME market-by-order CSVs, and MBP-1 as quotes + trades.

``replay_l2`` applies a market-by-price stream with a numba kernel; ``apply_deltas`` applies
any stream to a ``model.book`` ``L2Book`` or ``L3Book``.
"""

from tradeloop.data.books._build import CrossedPolicy, GapPolicy
from tradeloop.data.books.binance import (
    BinanceBookCheck,
    BinanceFeed,
    BinanceMarket,
    BinanceSyncReport,
    check_binance_book,
    read_binance_depth,
)
from tradeloop.data.books.bybit import (
    BybitBookCheck,
    BybitFeed,
    BybitSyncReport,
    check_bybit_book,
    read_bybit_orderbook,
)
from tradeloop.data.books.columns import DELTA_FIELDS, BookDeltaColumns
from tradeloop.data.books.databento import (
    DatabentoMbp1,
    MboCheck,
    check_databento_mbo,
    mbo_book,
    read_databento_mbo,
    read_databento_mbp1,
    snapshot_length,
)
from tradeloop.data.books.lobster import (
    LobsterReconstruction,
    LobsterStream,
    default_orderbook_path,
    read_lobster_messages,
    read_lobster_orderbook,
    read_lobster_stream,
    reconstruct_lobster,
)
from tradeloop.data.books.replay import (
    DEFAULT_MAX_SLOTS,
    L2Replay,
    apply_deltas,
    book_prints,
    replay_l2,
    top_of_book,
)

__all__ = [
    "DEFAULT_MAX_SLOTS",
    "DELTA_FIELDS",
    "BinanceBookCheck",
    "BinanceFeed",
    "BinanceMarket",
    "BinanceSyncReport",
    "BookDeltaColumns",
    "BybitBookCheck",
    "BybitFeed",
    "BybitSyncReport",
    "CrossedPolicy",
    "DatabentoMbp1",
    "GapPolicy",
    "L2Replay",
    "LobsterReconstruction",
    "LobsterStream",
    "MboCheck",
    "apply_deltas",
    "book_prints",
    "check_binance_book",
    "check_bybit_book",
    "check_databento_mbo",
    "default_orderbook_path",
    "mbo_book",
    "read_binance_depth",
    "read_bybit_orderbook",
    "read_databento_mbo",
    "read_databento_mbp1",
    "read_lobster_messages",
    "read_lobster_orderbook",
    "read_lobster_stream",
    "reconstruct_lobster",
    "replay_l2",
    "snapshot_length",
    "top_of_book",
]
