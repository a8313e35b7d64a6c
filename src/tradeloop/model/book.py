"""Order books rebuilt from deltas: ``L2Book`` (market by price) and ``L3Book`` (market by order).

Prices and sizes are raw integers at the book's ``price_precision`` / ``size_precision``. A
delta is applied either as an ``OrderBookDelta`` record (``apply``) or as the integer codes of
the columnar delta stream (``apply_raw``, the hot path: no object is built per delta).

Integer codes of the columnar stream (``BookActionCode``, ``BookSideCode``, ``BookFlag``):

=========  ========================================  ==========================================
action     L2Book                                    L3Book
=========  ========================================  ==========================================
ADD        insert a level; error if it exists        insert an order; error if its id exists
UPDATE     set a level's size (inserted if absent)   modify an order's price and size; it loses
                                                     its queue priority if the price changes or
                                                     the size grows
DELETE     remove a level; error if absent           remove an order; error if unknown
CLEAR      empty one side, or both (side ``NONE``)   the same
CANCEL     error (L3 only)                           reduce an order by ``size``; gone at zero
FILL       error (L3 only)                           a resting order executed ``size``: reduce it
TRADE      no change (a print)                       no change (a print)
NONE       no change                                 no change
=========  ========================================  ==========================================

Integrity rules checked on every delta (``DataIntegrityError`` names the book, the sequence
number and the rule): sizes of ADD/UPDATE are positive; a DELETE, CANCEL or FILL names an
existing level or order (a DELETE flagged ``IGNORE_MISSING`` is a no-op when absent: Binance
documents such deletes as normal); a CANCEL or FILL never exceeds the order's size and, when it
gives a side and a price, they are the order's; ``sequence`` never decreases outside snapshot
records (``0`` means unsequenced; a CLEAR flagged ``SNAPSHOT`` starts a new numbering, as a
venue's resnapshot may). A crossed book is not an error inside an event (a venue may
move the bid before the ask): callers check ``is_crossed()`` at event boundaries (``LAST``).

Analytics read the book without changing it: best prices, top-N levels, spread, mid (exact,
one decimal more than the prices), microprice and imbalance (floats), depth within N levels or
within a distance of the mid, and ``fill_estimate``: the average price and cost of filling a
size by walking the book.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from enum import IntEnum, IntFlag
from typing import Final

import msgspec

from tradeloop.core.errors import DataIntegrityError, InvalidValueError, InvariantViolation
from tradeloop.core.fixed import Price, Quantity, format_raw, pow10
from tradeloop.model.data import OrderBookDelta
from tradeloop.model.enums import BookAction, BookSide, OrderSide

NULL_PRICE: Final = 2**63 - 1
"""Raw price meaning "no price": an empty side in top-of-book output, an undefined price."""


class BookActionCode(IntEnum):
    """Action of a delta in the columnar stream (see the module table)."""

    NONE = 0
    ADD = 1
    UPDATE = 2
    DELETE = 3
    CLEAR = 4
    CANCEL = 5
    FILL = 6
    TRADE = 7


class BookSideCode(IntEnum):
    """Side of a delta in the columnar stream."""

    NONE = 0
    BID = 1
    ASK = 2


class BookFlag(IntFlag):
    """Bits of a delta's ``flags``: Databento's DBN bits (0..7) plus tradeloop's (8..10)."""

    MAYBE_BAD_BOOK = 4
    BAD_TS_RECV = 8
    MBP = 16
    SNAPSHOT = 32
    TOP_OF_BOOK = 64
    LAST = 128
    IGNORE_MISSING = 256
    """A DELETE of an absent level or order is a no-op (the feed documents it as normal)."""
    UNSYNCED = 512
    """The book is not synchronised from a snapshot (rebuilt from diffs after a gap)."""
    RESTING_FILL = 1024
    """A TRADE print of the resting side (Databento ``F``), not the aggressor's (``T``)."""


# Plain ints for the hot paths (IntEnum attribute lookups cost more than module globals).
_NONE: Final = 0
_ADD: Final = 1
_UPDATE: Final = 2
_DELETE: Final = 3
_CLEAR: Final = 4
_CANCEL: Final = 5
_FILL: Final = 6
_TRADE: Final = 7
_BID: Final = 1
_ASK: Final = 2
_F_SNAPSHOT: Final = 32
_F_IGNORE_MISSING: Final = 256

_ACTION_OF: Final = {
    BookAction.ADD: _ADD,
    BookAction.UPDATE: _UPDATE,
    BookAction.DELETE: _DELETE,
    BookAction.CLEAR: _CLEAR,
}
_SIDE_OF: Final = {BookSide.BID: _BID, BookSide.ASK: _ASK, BookSide.NONE: _NONE}
_SIDE_NAME: Final = {_BID: "bid", _ASK: "ask", _NONE: "no side"}
_ACTION_NAME: Final = {code.value: code.name for code in BookActionCode}


def action_name(action: int) -> str:
    """Return the name of an action code (``"ADD"``), or ``"action <n>"`` if unknown."""
    return _ACTION_NAME.get(action, f"action {action}")


class BookLevel(msgspec.Struct, frozen=True, gc=False):
    """One price level: its price, total size and number of orders (0 when unknown: L2)."""

    price: Price
    size: Quantity
    order_count: int


class FillEstimate(msgspec.Struct, frozen=True, gc=False):
    """What filling ``requested`` against the book would cost, walking it level by level.

    Raw fields use the book's precisions; ``notional_raw`` (sum of price × size) is at
    ``price_precision + size_precision``; ``mid_price_raw`` is at ``price_precision + 1``
    (``NULL_PRICE`` when a side is empty). The book is not changed.
    """

    order_side: OrderSide
    requested_raw: int
    filled_raw: int
    notional_raw: int
    levels_consumed: int
    best_price_raw: int
    worst_price_raw: int
    mid_price_raw: int
    price_precision: int
    size_precision: int

    @property
    def is_complete(self) -> bool:
        """Return whether the book (within the limit price, if any) holds the whole size."""
        return self.filled_raw == self.requested_raw

    @property
    def filled(self) -> Quantity:
        """Return the size that would fill."""
        return Quantity(self.filled_raw, self.size_precision)

    @property
    def notional(self) -> Decimal:
        """Return the exact sum of price × size over the fills."""
        return Decimal(self.notional_raw).scaleb(-(self.price_precision + self.size_precision))

    @property
    def average_price(self) -> Decimal | None:
        """Return notional / filled (28 significant digits), or ``None`` if nothing fills."""
        if self.filled_raw == 0:
            return None
        return self.notional / Decimal(self.filled_raw).scaleb(-self.size_precision)

    @property
    def worst_price(self) -> Price | None:
        """Return the last (worst) price reached, or ``None`` if nothing fills."""
        if self.filled_raw == 0:
            return None
        return Price(self.worst_price_raw, self.price_precision)

    def _cost_against(self, reference_raw: int, reference_precision: int) -> Decimal:
        # Exact: notional and reference x filled brought to one scale; positive = worse.
        scale = max(self.price_precision, reference_precision) + self.size_precision
        notional = self.notional_raw * pow10(scale - self.price_precision - self.size_precision)
        reference = (
            reference_raw
            * self.filled_raw
            * pow10(scale - reference_precision - self.size_precision)
        )
        signed = notional - reference if self.order_side is OrderSide.BUY else reference - notional
        return Decimal(signed).scaleb(-scale)

    @property
    def cost_vs_mid(self) -> Decimal | None:
        """Return the cost of the fills against the mid (price units × size; positive = paid).

        ``None`` when a side of the book is empty.
        """
        if self.mid_price_raw == NULL_PRICE:
            return None
        return self._cost_against(self.mid_price_raw, self.price_precision + 1)

    @property
    def cost_vs_best(self) -> Decimal:
        """Return the cost of the fills against the best price of the side walked."""
        if self.filled_raw == 0:
            return Decimal(0)
        return self._cost_against(self.best_price_raw, self.price_precision)


class _LevelBook:
    """Price levels of both sides and the analytics on them (shared by L2Book and L3Book)."""

    __slots__ = (
        "_ask_prices",
        "_ask_sizes",
        "_bid_prices",
        "_bid_sizes",
        "_sequence",
        "ignored_delete_count",
        "instrument_id",
        "price_precision",
        "size_precision",
        "ts_last",
        "update_count",
    )

    def __init__(self, instrument_id: str, price_precision: int, size_precision: int) -> None:
        for value, what in ((price_precision, "price"), (size_precision, "size")):
            if not 0 <= value <= 16:
                raise InvalidValueError(f"{what} precision {value} is outside 0..16")
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        # Both price lists ascend: the best bid is the last element, the best ask the first.
        self._bid_prices: list[int] = []
        self._ask_prices: list[int] = []
        self._bid_sizes: dict[int, int] = {}
        self._ask_sizes: dict[int, int] = {}
        self._sequence = 0
        self.ts_last = 0
        self.update_count = 0
        self.ignored_delete_count = 0

    # -- errors ------------------------------------------------------------------------------

    def _error(self, sequence: int, what: str, rule: str) -> DataIntegrityError:
        return DataIntegrityError(
            f"order book {self.instrument_id} at sequence {sequence}: {what} (rule: {rule})"
        )

    def _price_text(self, raw: int) -> str:
        return "undefined" if raw == NULL_PRICE else format_raw(raw, self.price_precision)

    def _check_sequence(self, sequence: int, flags: int) -> None:
        if sequence:
            if flags & _F_SNAPSHOT:
                if sequence > self._sequence:
                    self._sequence = sequence
            elif sequence < self._sequence:
                raise self._error(
                    sequence,
                    f"update arrived after sequence {self._sequence}",
                    "sequence numbers never decrease outside snapshot records (out of order)",
                )
            else:
                self._sequence = sequence

    def _side_tables(self, side: int, sequence: int) -> tuple[list[int], dict[int, int]]:
        if side == _BID:
            return self._bid_prices, self._bid_sizes
        if side == _ASK:
            return self._ask_prices, self._ask_sizes
        raise self._error(sequence, f"delta has {_SIDE_NAME.get(side, side)}", "side is BID or ASK")

    def _clear_levels(self, side: int) -> None:
        if side != _ASK:
            self._bid_prices.clear()
            self._bid_sizes.clear()
        if side != _BID:
            self._ask_prices.clear()
            self._ask_sizes.clear()

    # -- state -------------------------------------------------------------------------------

    @property
    def sequence(self) -> int:
        """Return the last sequence number applied (0 before any sequenced delta)."""
        return self._sequence

    @property
    def bid_level_count(self) -> int:
        """Return the number of bid levels."""
        return len(self._bid_prices)

    @property
    def ask_level_count(self) -> int:
        """Return the number of ask levels."""
        return len(self._ask_prices)

    def best_bid_raw(self) -> tuple[int, int] | None:
        """Return ``(price_raw, size_raw)`` of the best bid, or ``None`` if there is none."""
        if not self._bid_prices:
            return None
        price = self._bid_prices[-1]
        return price, self._bid_sizes[price]

    def best_ask_raw(self) -> tuple[int, int] | None:
        """Return ``(price_raw, size_raw)`` of the best ask, or ``None`` if there is none."""
        if not self._ask_prices:
            return None
        price = self._ask_prices[0]
        return price, self._ask_sizes[price]

    def best_bid_price(self) -> Price | None:
        """Return the best bid price, or ``None``."""
        return Price(self._bid_prices[-1], self.price_precision) if self._bid_prices else None

    def best_ask_price(self) -> Price | None:
        """Return the best ask price, or ``None``."""
        return Price(self._ask_prices[0], self.price_precision) if self._ask_prices else None

    def best_bid_size(self) -> Quantity | None:
        """Return the size at the best bid, or ``None``."""
        if not self._bid_prices:
            return None
        return Quantity(self._bid_sizes[self._bid_prices[-1]], self.size_precision)

    def best_ask_size(self) -> Quantity | None:
        """Return the size at the best ask, or ``None``."""
        if not self._ask_prices:
            return None
        return Quantity(self._ask_sizes[self._ask_prices[0]], self.size_precision)

    def levels_raw(self, side: BookSide, depth: int | None = None) -> list[tuple[int, int]]:
        """Return ``(price_raw, size_raw)`` of the best ``depth`` levels of ``side``, best first.

        ``depth=None`` returns every level.
        """
        if side is BookSide.BID:
            prices = self._bid_prices
            chosen = prices[::-1] if depth is None else prices[: -depth - 1 : -1]
            sizes = self._bid_sizes
        elif side is BookSide.ASK:
            chosen = self._ask_prices if depth is None else self._ask_prices[:depth]
            sizes = self._ask_sizes
        else:
            raise InvalidValueError("levels_raw needs side BID or ASK")
        return [(price, sizes[price]) for price in chosen]

    def _order_count(self, side: int, price: int) -> int:
        return 0

    def levels(self, side: BookSide, depth: int | None = None) -> list[BookLevel]:
        """Return the best ``depth`` levels of ``side`` (all if ``None``), best first."""
        code = _SIDE_OF[side]
        p, s = self.price_precision, self.size_precision
        return [
            BookLevel(Price(price, p), Quantity(size, s), self._order_count(code, price))
            for price, size in self.levels_raw(side, depth)
        ]

    def bids(self, depth: int | None = None) -> list[BookLevel]:
        """Return the best ``depth`` bid levels (all if ``None``), best first."""
        return self.levels(BookSide.BID, depth)

    def asks(self, depth: int | None = None) -> list[BookLevel]:
        """Return the best ``depth`` ask levels (all if ``None``), best first."""
        return self.levels(BookSide.ASK, depth)

    def is_crossed(self) -> bool:
        """Return whether the best bid is at or above the best ask (a locked book counts)."""
        return bool(self._bid_prices and self._ask_prices) and (
            self._bid_prices[-1] >= self._ask_prices[0]
        )

    # -- analytics ---------------------------------------------------------------------------

    def spread(self) -> Price | None:
        """Return best ask minus best bid, or ``None`` if a side is empty."""
        if not self._bid_prices or not self._ask_prices:
            return None
        return Price(self._ask_prices[0] - self._bid_prices[-1], self.price_precision)

    def mid_price_raw(self) -> int:
        """Return the mid at ``price_precision + 1`` (exact), or ``NULL_PRICE``."""
        if not self._bid_prices or not self._ask_prices:
            return NULL_PRICE
        # (bid + ask) / 2 has at most one more decimal: * 10 / 2 is exact.
        return (self._bid_prices[-1] + self._ask_prices[0]) * 5

    def mid_price(self) -> Price | None:
        """Return the exact mid price (one decimal more than the book), or ``None``."""
        raw = self.mid_price_raw()
        return None if raw == NULL_PRICE else Price(raw, self.price_precision + 1)

    def microprice(self) -> float | None:
        """Return the size-weighted mid of the touch, or ``None`` if a side is empty.

        ``(bid × ask_size + ask × bid_size) / (bid_size + ask_size)``: the price leans to the
        side with less size, which is the side more likely to be taken next.
        """
        if not self._bid_prices or not self._ask_prices:
            return None
        bid, ask = self._bid_prices[-1], self._ask_prices[0]
        bid_size, ask_size = self._bid_sizes[bid], self._ask_sizes[ask]
        weighted = bid * ask_size + ask * bid_size
        return weighted / ((bid_size + ask_size) * pow10(self.price_precision))

    def imbalance(self, depth: int = 1) -> float | None:
        """Return ``(bid size - ask size) / (bid size + ask size)`` over the top ``depth`` levels.

        In -1..1; ``None`` when both sides are empty.
        """
        if depth < 1:
            raise InvalidValueError(f"imbalance depth {depth} must be at least 1")
        bid = sum(self._bid_sizes[p] for p in self._bid_prices[: -depth - 1 : -1])
        ask = sum(self._ask_sizes[p] for p in self._ask_prices[:depth])
        total = bid + ask
        return None if total == 0 else (bid - ask) / total

    def depth(
        self, side: BookSide, *, levels: int | None = None, distance: Price | None = None
    ) -> Quantity:
        """Return the total size of ``side`` within ``levels`` levels and/or ``distance`` of mid.

        ``distance`` keeps the levels whose price is within ``distance`` of the mid price
        (inclusive, exact); with both arguments a level must satisfy both. With neither, the
        whole side is summed. A distance on a book with an empty side gives zero.

        Raises
        ------
        InvalidValueError
            If ``levels`` is below 1 or ``distance`` is negative.
        """
        if levels is not None and levels < 1:
            raise InvalidValueError(f"depth levels {levels} must be at least 1")
        rows = self.levels_raw(side, levels)
        if distance is not None:
            if distance.raw < 0:
                raise InvalidValueError(f"depth distance {distance} must not be negative")
            mid10 = self.mid_price_raw()
            if mid10 == NULL_PRICE:
                return Quantity(0, self.size_precision)
            # Compare at price_precision + 1 + distance's precision, all integers.
            extra = max(distance.precision - self.price_precision, 0)
            scale_book = pow10(1 + extra)
            scale_mid = pow10(extra)
            limit = distance.raw * pow10(self.price_precision + 1 + extra - distance.precision)
            rows = [r for r in rows if abs(r[0] * scale_book - mid10 * scale_mid) <= limit]
        return Quantity(sum(size for _, size in rows), self.size_precision)

    def fill_estimate(
        self,
        order_side: OrderSide,
        size: Quantity | int,
        *,
        limit_price: Price | None = None,
    ) -> FillEstimate:
        """Return the average price and cost of filling ``size``, walking the opposite side.

        A buy takes asks from the best up, a sell takes bids from the best down; with
        ``limit_price`` the walk stops at levels worse than the limit. ``size`` is a
        ``Quantity`` or a raw integer at the book's size precision. The book is not changed.

        Raises
        ------
        InvalidValueError
            If ``size`` is not positive or has more decimals than the book's size precision.
        """
        if isinstance(size, Quantity):
            if size.precision > self.size_precision and size.raw % pow10(
                size.precision - self.size_precision
            ):
                raise InvalidValueError(
                    f"fill size {size} has more decimals than size precision {self.size_precision}"
                )
            wanted = size.to_precision(self.size_precision).raw
        else:
            wanted = size
        if wanted <= 0:
            raise InvalidValueError(f"fill size raw {wanted} must be positive")
        limit_raw: int | None = None
        if limit_price is not None:
            limit_raw = _limit_to_book(limit_price, self.price_precision, order_side)
        if order_side is OrderSide.BUY:
            prices: list[int] = self._ask_prices
            sizes = self._ask_sizes
            walk = iter(prices)
        else:
            prices = self._bid_prices
            sizes = self._bid_sizes
            walk = reversed(prices)
        remaining = wanted
        notional = 0
        used = 0
        best = worst = NULL_PRICE
        for price in walk:
            if limit_raw is not None and (
                price > limit_raw if order_side is OrderSide.BUY else price < limit_raw
            ):
                break
            take = min(remaining, sizes[price])
            if used == 0:
                best = price
            worst = price
            used += 1
            notional += take * price
            remaining -= take
            if remaining == 0:
                break
        return FillEstimate(
            order_side=order_side,
            requested_raw=wanted,
            filled_raw=wanted - remaining,
            notional_raw=notional,
            levels_consumed=used,
            best_price_raw=best,
            worst_price_raw=worst,
            mid_price_raw=self.mid_price_raw(),
            price_precision=self.price_precision,
            size_precision=self.size_precision,
        )

    # -- shared delta plumbing ---------------------------------------------------------------

    def _delta_raws(self, delta: OrderBookDelta) -> tuple[int, int, int, int]:
        if delta.instrument_id != self.instrument_id:
            raise DataIntegrityError(
                f"order book {self.instrument_id} at sequence {delta.sequence}: delta of "
                f"{delta.instrument_id} (rule: a book applies only its own instrument's deltas)"
            )
        action = _ACTION_OF[delta.action]
        price = _to_precision(delta.price.raw, delta.price.precision, self.price_precision, "price")
        size = _to_precision(delta.size.raw, delta.size.precision, self.size_precision, "size")
        return action, _SIDE_OF[delta.side], price, size


def _to_precision(raw: int, precision: int, target: int, what: str) -> int:
    if precision == target:
        return raw
    if precision < target:
        return raw * pow10(target - precision)
    divisor = pow10(precision - target)
    if raw % divisor:
        raise InvalidValueError(
            f"delta {what} {format_raw(raw, precision)} has more decimals than the book's "
            f"precision {target}"
        )
    return raw // divisor


def _limit_to_book(limit: Price, precision: int, order_side: OrderSide) -> int:
    # A limit between two ticks admits only the ticks on its passive side.
    if limit.precision <= precision:
        return limit.raw * pow10(precision - limit.precision)
    divisor = pow10(limit.precision - precision)
    quotient, remainder = divmod(limit.raw, divisor)
    if remainder and order_side is OrderSide.SELL:
        quotient += 1
    return quotient


class L2Book(_LevelBook):
    """A market-by-price book: one size per price level.

    Parameters
    ----------
    instrument_id : the instrument whose deltas this book applies.
    price_precision, size_precision : decimals of the raw prices and sizes.

    Attributes
    ----------
    update_count : deltas applied.
    ignored_delete_count : DELETEs flagged ``IGNORE_MISSING`` that named an absent level.
    ts_last : ``ts_event`` of the last ``OrderBookDelta`` applied with ``apply``.
    """

    __slots__ = ()

    def apply(self, delta: OrderBookDelta) -> None:
        """Apply one ``OrderBookDelta`` (ADD, UPDATE, DELETE or CLEAR).

        Raises
        ------
        DataIntegrityError
            If the delta breaks a rule of the module table.
        """
        action, side, price, size = self._delta_raws(delta)
        self.apply_raw(action, side, price, size, delta.order_id, delta.flags, delta.sequence)
        self.ts_last = delta.ts_event

    def apply_raw(
        self,
        action: int,
        side: int,
        price: int,
        size: int,
        order_id: int = 0,
        flags: int = 0,
        sequence: int = 0,
    ) -> None:
        """Apply one delta given as integer codes and raws (the columnar stream's row).

        Raises
        ------
        DataIntegrityError
            If the delta breaks a rule of the module table.
        """
        if action == _CLEAR and flags & _F_SNAPSHOT:
            self._sequence = 0
        self._check_sequence(sequence, flags)
        self.update_count += 1
        if action == _UPDATE:
            prices, sizes = self._side_tables(side, sequence)
            if size <= 0 or price == NULL_PRICE:
                raise self._error(
                    sequence,
                    f"UPDATE of {_SIDE_NAME[side]} level {self._price_text(price)} to size {size}",
                    "an update sets a defined price and a positive size; a DELETE removes a level",
                )
            if price not in sizes:
                bisect.insort(prices, price)
            sizes[price] = size
        elif action == _DELETE:
            prices, sizes = self._side_tables(side, sequence)
            if sizes.pop(price, None) is None:
                if flags & _F_IGNORE_MISSING:
                    self.ignored_delete_count += 1
                    return
                raise self._error(
                    sequence,
                    f"DELETE of {_SIDE_NAME[side]} level {self._price_text(price)} "
                    "that is not in the book",
                    "a delete names an existing level",
                )
            del prices[bisect.bisect_left(prices, price)]
        elif action == _ADD:
            prices, sizes = self._side_tables(side, sequence)
            if price in sizes:
                raise self._error(
                    sequence,
                    f"ADD of {_SIDE_NAME[side]} level {self._price_text(price)} that "
                    "is already in the book",
                    "an add creates a new level; use UPDATE to resize",
                )
            if size <= 0 or price == NULL_PRICE:
                raise self._error(
                    sequence,
                    f"ADD of {_SIDE_NAME[side]} level {self._price_text(price)} with size {size}",
                    "an add has a defined price and a positive size",
                )
            bisect.insort(prices, price)
            sizes[price] = size
        elif action == _CLEAR:
            self._clear_levels(side)
        elif action in (_TRADE, _NONE):
            return
        else:
            raise self._error(
                sequence,
                f"{action_name(action)} delta on a market-by-price book",
                "L2 books apply ADD, UPDATE, DELETE, CLEAR, TRADE and NONE",
            )

    def truncate(self, depth: int) -> int:
        """Remove the levels beyond the best ``depth`` of each side; return how many went."""
        removed = 0
        excess = len(self._bid_prices) - depth
        if excess > 0:
            for price in self._bid_prices[:excess]:
                del self._bid_sizes[price]
            del self._bid_prices[:excess]
            removed += excess
        excess = len(self._ask_prices) - depth
        if excess > 0:
            for price in self._ask_prices[depth:]:
                del self._ask_sizes[price]
            del self._ask_prices[depth:]
            removed += excess
        return removed


class L3Book(_LevelBook):
    """A market-by-order book: every resting order with its queue priority.

    Same parameters and attributes as ``L2Book``.

    The level sizes and order counts are kept with every change, so the L2 analytics of
    ``_LevelBook`` (spread, depth, ``fill_estimate`` …) cost the same as on an ``L2Book``.
    Within a level, orders keep their arrival order (the queue).
    """

    __slots__ = ("_ask_orders", "_bid_orders", "_orders")

    def __init__(self, instrument_id: str, price_precision: int, size_precision: int) -> None:
        super().__init__(instrument_id, price_precision, size_precision)
        self._orders: dict[int, tuple[int, int]] = {}  # order id -> (side, price)
        self._bid_orders: dict[int, dict[int, int]] = {}  # price -> {order id: size}, in queue
        self._ask_orders: dict[int, dict[int, int]] = {}

    @property
    def order_count(self) -> int:
        """Return the number of resting orders."""
        return len(self._orders)

    def has_order(self, order_id: int) -> bool:
        """Return whether ``order_id`` is resting in the book."""
        return order_id in self._orders

    def order(self, order_id: int) -> tuple[BookSide, int, int] | None:
        """Return ``(side, price_raw, size_raw)`` of a resting order, or ``None``."""
        found = self._orders.get(order_id)
        if found is None:
            return None
        side, price = found
        queue = (self._bid_orders if side == _BID else self._ask_orders)[price]
        return (BookSide.BID if side == _BID else BookSide.ASK), price, queue[order_id]

    def queue_ahead(self, order_id: int) -> tuple[int, int]:
        """Return ``(orders, size_raw)`` resting ahead of ``order_id`` at its price.

        Raises
        ------
        InvalidValueError
            If the order is not in the book.
        """
        found = self._orders.get(order_id)
        if found is None:
            raise InvalidValueError(f"order {order_id} is not in book {self.instrument_id}")
        side, price = found
        queue = (self._bid_orders if side == _BID else self._ask_orders)[price]
        orders = ahead = 0
        for oid, size in queue.items():
            if oid == order_id:
                break
            orders += 1
            ahead += size
        return orders, ahead

    def level_orders(self, side: BookSide, price_raw: int) -> list[tuple[int, int]]:
        """Return ``(order_id, size_raw)`` of the orders at a level, in queue order."""
        table = self._bid_orders if side is BookSide.BID else self._ask_orders
        return list(table.get(price_raw, {}).items())

    def orders_by_level(self, side: BookSide) -> list[tuple[int, list[tuple[int, int]]]]:
        """Return every level of ``side`` best first, each with its queue of orders."""
        table = self._bid_orders if side is BookSide.BID else self._ask_orders
        return [(price, list(table[price].items())) for price, _ in self.levels_raw(side)]

    def _order_count(self, side: int, price: int) -> int:
        table = self._bid_orders if side == _BID else self._ask_orders
        return len(table.get(price, ()))

    def check_invariants(self) -> None:
        """Check that level sizes, order counts and the order index agree.

        Raises
        ------
        InvariantViolation
            If they do not (a bug: deltas are validated as they are applied).
        """
        seen = 0
        for side, prices, sizes, table in (
            (_BID, self._bid_prices, self._bid_sizes, self._bid_orders),
            (_ASK, self._ask_prices, self._ask_sizes, self._ask_orders),
        ):
            if sorted(sizes) != prices or set(table) != set(sizes):
                raise InvariantViolation(f"book {self.instrument_id}: level index out of sync")
            for price, queue in table.items():
                if not queue or sum(queue.values()) != sizes[price]:
                    raise InvariantViolation(
                        f"book {self.instrument_id}: {_SIDE_NAME[side]} level "
                        f"{self._price_text(price)} size differs from its orders"
                    )
                for oid in queue:
                    if self._orders.get(oid) != (side, price):
                        raise InvariantViolation(f"book {self.instrument_id}: order {oid} index")
                seen += len(queue)
        if seen != len(self._orders):
            raise InvariantViolation(f"book {self.instrument_id}: order index has stale orders")

    def apply(self, delta: OrderBookDelta) -> None:
        """Apply one ``OrderBookDelta``: ADD, UPDATE (modify), DELETE or CLEAR of orders.

        Raises
        ------
        DataIntegrityError
            If the delta breaks a rule of the module table.
        """
        action, side, price, size = self._delta_raws(delta)
        self.apply_raw(action, side, price, size, delta.order_id, delta.flags, delta.sequence)
        self.ts_last = delta.ts_event

    def _insert(self, side: int, price: int, order_id: int, size: int) -> None:
        table = self._bid_orders if side == _BID else self._ask_orders
        queue = table.get(price)
        if queue is None:
            table[price] = {order_id: size}
            bisect.insort(self._bid_prices if side == _BID else self._ask_prices, price)
            (self._bid_sizes if side == _BID else self._ask_sizes)[price] = size
        else:
            queue[order_id] = size
            (self._bid_sizes if side == _BID else self._ask_sizes)[price] += size
        self._orders[order_id] = (side, price)

    def _remove(self, side: int, price: int, order_id: int) -> None:
        table = self._bid_orders if side == _BID else self._ask_orders
        queue = table[price]
        size = queue.pop(order_id)
        del self._orders[order_id]
        sizes = self._bid_sizes if side == _BID else self._ask_sizes
        if queue:
            sizes[price] -= size
        else:
            del table[price]
            del sizes[price]
            prices = self._bid_prices if side == _BID else self._ask_prices
            del prices[bisect.bisect_left(prices, price)]

    def _find(self, action: int, side: int, price: int, order_id: int, sequence: int) -> int:
        found = self._orders.get(order_id)
        if found is None:
            raise self._error(
                sequence,
                f"{action_name(action)} of order {order_id} that is not in the book",
                "cancels, fills, modifies and deletes name a resting order",
            )
        order_side, order_price = found
        if side != _NONE and side != order_side:
            raise self._error(
                sequence,
                f"{action_name(action)} of order {order_id} on the {_SIDE_NAME[side]} "
                f"side; the order is a {_SIDE_NAME[order_side]}",
                "a delta names its order's side",
            )
        if action != _UPDATE and price != NULL_PRICE and price != order_price:
            raise self._error(
                sequence,
                f"{action_name(action)} of order {order_id} at price "
                f"{self._price_text(price)}; the order rests at {self._price_text(order_price)}",
                "a cancel, fill or delete names its order's price",
            )
        return order_side

    def apply_raw(
        self,
        action: int,
        side: int,
        price: int,
        size: int,
        order_id: int = 0,
        flags: int = 0,
        sequence: int = 0,
    ) -> None:
        """Apply one delta given as integer codes and raws (the columnar stream's row).

        Raises
        ------
        DataIntegrityError
            If the delta breaks a rule of the module table.
        """
        if action == _CLEAR and flags & _F_SNAPSHOT:
            self._sequence = 0
        self._check_sequence(sequence, flags)
        self.update_count += 1
        if action == _ADD:
            if side != _BID and side != _ASK:
                raise self._error(
                    sequence, f"ADD of order {order_id} without a side", "side is BID or ASK"
                )
            if order_id in self._orders:
                raise self._error(
                    sequence,
                    f"ADD of order {order_id} that is already in the book",
                    "an add names a new order id",
                )
            if size <= 0 or price == NULL_PRICE:
                raise self._error(
                    sequence,
                    f"ADD of order {order_id} at {self._price_text(price)} with size {size}",
                    "an add has a defined price and a positive size",
                )
            self._insert(side, price, order_id, size)
        elif action in (_CANCEL, _FILL):
            order_side = self._find(action, side, price, order_id, sequence)
            order_price = self._orders[order_id][1]
            table = self._bid_orders if order_side == _BID else self._ask_orders
            queue = table[order_price]
            resting = queue[order_id]
            if size <= 0 or size > resting:
                raise self._error(
                    sequence,
                    f"{action_name(action)} of {size} from order {order_id} holding {resting}",
                    "a cancel or fill takes a positive size up to the order's size",
                )
            if size == resting:
                self._remove(order_side, order_price, order_id)
            else:
                queue[order_id] = resting - size
                (self._bid_sizes if order_side == _BID else self._ask_sizes)[order_price] -= size
        elif action == _UPDATE:
            order_side = self._find(action, side, price, order_id, sequence)
            if size <= 0 or price == NULL_PRICE:
                raise self._error(
                    sequence,
                    f"modify of order {order_id} to {self._price_text(price)} with size {size}",
                    "a modify sets a defined price and a positive size; "
                    "removing an order is a CANCEL or DELETE",
                )
            order_price = self._orders[order_id][1]
            table = self._bid_orders if order_side == _BID else self._ask_orders
            queue = table[order_price]
            resting = queue[order_id]
            if price == order_price and size <= resting:
                # Keeps its queue priority: a same-price size decrease.
                queue[order_id] = size
                sizes = self._bid_sizes if order_side == _BID else self._ask_sizes
                sizes[price] -= resting - size
            else:
                self._remove(order_side, order_price, order_id)
                self._insert(order_side, price, order_id, size)
        elif action == _DELETE:
            if order_id not in self._orders and flags & _F_IGNORE_MISSING:
                self.ignored_delete_count += 1
                return
            order_side = self._find(action, side, price, order_id, sequence)
            self._remove(order_side, self._orders[order_id][1], order_id)
        elif action == _CLEAR:
            self._clear_levels(side)
            if side != _ASK:
                for oid in [o for t in self._bid_orders.values() for o in t]:
                    del self._orders[oid]
                self._bid_orders.clear()
            if side != _BID:
                for oid in [o for t in self._ask_orders.values() for o in t]:
                    del self._orders[oid]
                self._ask_orders.clear()
        elif action in (_TRADE, _NONE):
            return
        else:
            raise self._error(
                sequence, f"unknown {action_name(action)}", "actions are the BookActionCode values"
            )

    def truncate(self, depth: int) -> int:
        """Remove the levels beyond the best ``depth`` of each side; return the orders removed."""
        removed = 0
        for side, book_side in ((_BID, BookSide.BID), (_ASK, BookSide.ASK)):
            levels = self.levels_raw(book_side)
            table = self._bid_orders if side == _BID else self._ask_orders
            for price, _ in levels[depth:]:
                for oid in list(table[price]):
                    self._remove(side, price, oid)
                    removed += 1
        return removed
