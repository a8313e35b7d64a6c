"""The market data cache: the one place strategies' market views come from.

The kernel hands every record it dispatches to the cache first. The cache keeps the last
quote, trade and bar of each instrument, and the order book of each instrument whose venue is
not simulated (a live venue: its book is the market's, built here from the feed's deltas).

Where a venue is simulated, the simulator must keep the book itself (its orders rest in it and
take from it), so the cache reads that venue's book through the ``BookView`` the kernel
registers for it: what a taker would see there, less what the simulated orders took. Either
way strategies ask the cache, never a venue, and a live session needs no simulator for its
market views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tradeloop.core.fixed import Price, Quantity
from tradeloop.model.data import Bar, OrderBookDelta, QuoteTick, TradeTick
from tradeloop.model.enums import BookAction, BookSide

if TYPE_CHECKING:  # the book package loads numba: only runs with books import it
    from tradeloop.data.books.columns import BookDeltaColumns


class BookView(Protocol):
    """A book kept elsewhere (a simulated venue's): levels and mid of one instrument."""

    def displayed_levels(
        self, instrument_id: str, side: BookSide, depth: int | None = None
    ) -> list[tuple[Price, Quantity]]:
        """Return the liquidity on ``side``, best first (at most ``depth`` levels)."""
        ...

    def book_mid(self, instrument_id: str) -> Price | None:
        """Return the book's mid price, if it has both sides."""
        ...


class L2Book:
    """An aggregated book built from deltas: price level -> size per side (L3 deltas are
    aggregated by order id)."""

    __slots__ = ("asks", "bids", "orders", "price_precision", "sequence", "size_precision")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.orders: dict[int, tuple[BookSide, int, int]] = {}
        self.price_precision = 0
        self.size_precision = 0
        self.sequence = 0

    def apply(self, delta: OrderBookDelta) -> None:
        """Apply one delta (``CLEAR`` empties the book, or one side of it)."""
        self.price_precision = delta.price.precision
        self.size_precision = delta.size.precision
        self.sequence = delta.sequence
        if delta.action is BookAction.CLEAR:
            if delta.side in (BookSide.BID, BookSide.NONE):
                self.bids.clear()
            if delta.side in (BookSide.ASK, BookSide.NONE):
                self.asks.clear()
            if delta.side is BookSide.NONE:
                self.orders.clear()
            else:
                self.orders = {k: v for k, v in self.orders.items() if v[0] is not delta.side}
            return
        levels = self.bids if delta.side is BookSide.BID else self.asks
        price, size = delta.price.raw, delta.size.raw
        if delta.order_id:
            old = self.orders.pop(delta.order_id, None)
            if old is not None:
                old_levels = self.bids if old[0] is BookSide.BID else self.asks
                _add(old_levels, old[1], -old[2])
            if delta.action is not BookAction.DELETE and size > 0:
                self.orders[delta.order_id] = (delta.side, price, size)
                _add(levels, price, size)
            return
        if delta.action is BookAction.DELETE or size <= 0:
            levels.pop(price, None)
        else:
            levels[price] = size

    def levels(self, side: BookSide, depth: int | None = None) -> list[tuple[Price, Quantity]]:
        """Return ``side``'s levels, best first."""
        if side is BookSide.BID:
            prices = sorted(self.bids, reverse=True)
            levels = self.bids
        elif side is BookSide.ASK:
            prices = sorted(self.asks)
            levels = self.asks
        else:
            return []
        if depth is not None:
            prices = prices[:depth]
        p, z = self.price_precision, self.size_precision
        return [(Price(px, p), Quantity(levels[px], z)) for px in prices]

    def mid(self) -> Price | None:
        """Return the mid of the best bid and ask (None when a side is empty or crossed)."""
        if not self.bids or not self.asks:
            return None
        bid, ask = max(self.bids), min(self.asks)
        if bid >= ask:
            return None
        return Price((bid + ask) // 2, self.price_precision)


def _add(levels: dict[int, int], price: int, size: int) -> None:
    total = levels.get(price, 0) + size
    if total > 0:
        levels[price] = total
    else:
        levels.pop(price, None)


class MarketDataCache:
    """Last quote, trade and bar of every instrument; books of instruments with no simulator;
    the simulated venues' books through their ``BookView`` (module docstring)."""

    def __init__(self) -> None:
        self.quotes: dict[str, QuoteTick] = {}
        self.trades: dict[str, TradeTick] = {}
        self.bars: dict[str, Bar] = {}
        self.books: dict[str, L2Book] = {}
        self._views: dict[str, BookView] = {}

    def use_book_view(self, instrument_id: str, view: BookView) -> None:
        """Read ``instrument_id``'s book from ``view`` (a simulated venue keeps it)."""
        self._views[instrument_id] = view

    def drop_book_view(self, instrument_id: str) -> None:
        """Keep ``instrument_id``'s book here from now on (its venue is live)."""
        self._views.pop(instrument_id, None)

    def keeps_book(self, instrument_id: str) -> bool:
        """Return whether the cache builds ``instrument_id``'s book itself."""
        return instrument_id not in self._views

    def on_delta(self, delta: OrderBookDelta) -> None:
        """Apply a book delta of an instrument whose book the cache keeps."""
        book = self.books.get(delta.instrument_id)
        if book is None:
            book = self.books[delta.instrument_id] = L2Book()
        book.apply(delta)

    def on_book_rows(self, columns: BookDeltaColumns, start: int, stop: int) -> None:
        """Apply rows ``start:stop`` of ``columns`` (one venue event) to the cached book."""
        for delta in columns.take(slice(start, stop)).iter_deltas():
            self.on_delta(delta)

    def last_quote(self, instrument_id: str) -> QuoteTick | None:
        """Return the latest quote of ``instrument_id``."""
        return self.quotes.get(instrument_id)

    def last_trade(self, instrument_id: str) -> TradeTick | None:
        """Return the latest trade print of ``instrument_id``."""
        return self.trades.get(instrument_id)

    def last_bar(self, instrument_id: str) -> Bar | None:
        """Return the latest bar of ``instrument_id``."""
        return self.bars.get(instrument_id)

    def book_levels(
        self, instrument_id: str, side: BookSide, depth: int | None = None
    ) -> list[tuple[Price, Quantity]]:
        """Return the liquidity on ``side`` of ``instrument_id``, best first: from its book
        (kept here or by its simulated venue), else its last quote's best level, else none."""
        view = self._views.get(instrument_id)
        if view is not None:
            return view.displayed_levels(instrument_id, side, depth)
        book = self.books.get(instrument_id)
        if book is not None and (book.bids or book.asks):
            return book.levels(side, depth)
        quote = self.quotes.get(instrument_id)
        if quote is None or side is BookSide.NONE or depth == 0:
            return []
        if side is BookSide.ASK:
            return [(quote.ask_price, quote.ask_size)]
        return [(quote.bid_price, quote.bid_size)]

    def book_mid(self, instrument_id: str) -> Price | None:
        """Return the book's mid price of ``instrument_id`` (None without both sides)."""
        view = self._views.get(instrument_id)
        if view is not None:
            return view.book_mid(instrument_id)
        book = self.books.get(instrument_id)
        return None if book is None else book.mid()
