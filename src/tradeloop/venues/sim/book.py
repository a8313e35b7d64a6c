"""Level 4 of the simulated venue: an order book replayed from deltas, with queue position.

The venue keeps one ``BookMatcher`` per instrument: its own ``L2Book`` or ``L3Book`` rebuilt
from the data's deltas (the real market, without us), the queue position of each of our
resting limit orders, and the liquidity our marketable orders took from it. Raws are at the
instrument's precision. ``docs/execution.md`` works through examples of every rule.

Queue position (``QueueSlot.ahead``: the volume ahead of one of our resting orders):

1. **Joining.** A limit that rests at price ``p`` joins the back of the queue: ``ahead`` is
   the book's size at ``p`` on its side (L3: those orders, by id). Between our own orders at
   one price, the earlier one fills first.
2. **Prints.** An execution at our price on our side first consumes the volume ahead; only
   the rest fills us (partial fills, at our price, as maker). A print past our price (a sell
   below our bid) means our level was swept: nothing is ahead any more and we fill up to the
   print's size. Prints are shared out best price first, then in arrival order.

   - L2: prints are trade ticks (the aggressor's side says which side was hit; unknown:
     whichever of our orders the price reaches) and the stream's TRADE rows (aggressor side;
     rows flagged ``RESTING_FILL`` give the resting side).
   - L3: prints are the stream's executions of a named resting order: FILL rows (LOBSTER's
     visible executions) and TRADE rows flagged ``RESTING_FILL`` (Databento's ``F``). An
     execution of an order ahead of us shortens the queue; an execution of an order behind
     us (or unknown) is ours first, once nothing is ahead. Aggressor TRADE rows (Databento's
     ``T``, which duplicate the ``F`` records), hidden executions (LOBSTER type 5) and trade
     ticks do not move L3 queues.
3. **Cancellations.** L3 is exact: a cancel, delete or size decrease of an order ahead of us
   shortens the queue by that size (what a ``RESTING_FILL`` print already took is not counted
   twice); a modify that loses priority takes the order out of the queue ahead; orders added
   after us are behind. L2 shows only the level's size: a decrease not explained by the prints
   at that price since the last update is a cancellation, and ``BookConfig.queue_cancels``
   says whose: ``"behind"`` (default, conservative: it came from behind us; only prints move
   us up) or ``"pro_rata"`` (the share ``ahead / level`` of it came from ahead). In both,
   ``ahead`` never exceeds the level's size.

   b. **Late prints (L2).** Depth and trades can arrive on separate streams, and the depth
      may show a trade's size drop before the trade prints (``BookConfig.late_print_window_ns``
      says how long to wait for it). A decrease that no earlier print explains is kept with
      what it took off ``ahead`` (a cap or a pro-rata share); a print at that price within
      the window is netted against it: that volume already left the level, so what the
      decrease took off ``ahead`` is given back before the print consumes the queue — the
      volume is counted once. A slot that joins after such a decrease is not moved by its
      late print (the level it joined behind already showed it), and prints the level does
      not show yet explain its next decrease.
4. **Resnapshots.** After a CLEAR of our side, ``ahead`` is capped by the level's size at the
   first event end where the side has levels again (L3: the front orders of the level make up
   the volume ahead).
5. **Crossing.** At an event end, when the opposite side has come to or through the price of
   a resting order with nothing ahead, those incoming orders would have traded with us: we
   fill at our price, as maker, against their effective size (rule 7), consuming it.

Consumption (our marketable orders):

6. **Walking.** A taker order walks the opposite side best price first, up to its limit,
   taking each level's effective size; one fill per level, at the level's price.
7. **Memory.** What we took at each price is remembered; a level's effective size is its size
   minus our consumption there. Later deltas at that price: a decrease is assumed to be other
   liquidity (conservative) until the level falls below our consumption, which is then capped
   at the level's size (nothing left to take); an increase is new liquidity queued behind what
   we took; a delete of the level (the book moved past it) or a CLEAR of its side forgets the
   consumption.

Timing: rows are applied one at a time (queues and prints per row); takers, crossing checks
and resnapshot caps run at event ends, when the book is consistent (``end_event``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from tradeloop.core.fixed import Price
from tradeloop.model.book import NULL_PRICE, BookFlag, L2Book, L3Book
from tradeloop.venues.sim._working import WorkingOrder
from tradeloop.venues.sim.config import BookConfig

_ADD: Final = 1
_UPDATE: Final = 2
_DELETE: Final = 3
_CLEAR: Final = 4
_CANCEL: Final = 5
_FILL: Final = 6
_TRADE: Final = 7
_NONE: Final = 0
_BID: Final = 1
_ASK: Final = 2
_F_RESTING_FILL: Final = int(BookFlag.RESTING_FILL)
_F_SNAPSHOT: Final = int(BookFlag.SNAPSHOT)
_LEVEL_ACTIONS: Final = frozenset((_ADD, _UPDATE, _DELETE))
_SWEEP_AT: Final = 512  # prices with whole-book late-print records before old ones are swept

FillSink = Callable[[WorkingOrder, int, int, bool], None]
"""``fill(order, qty_raw, price_raw, is_maker)``: the venue books one fill."""


class QueueSlot:
    """Where one of our resting limit orders stands in the queue at its price."""

    __slots__ = (
        "ahead",
        "ahead_ids",
        "drops",
        "pending",
        "price",
        "resync",
        "side",
        "traded",
        "working",
    )

    def __init__(self, working: WorkingOrder, side: int, price: int) -> None:
        self.working = working
        self.side = side
        self.price = price
        self.ahead = 0  # volume ahead of us (raw)
        self.ahead_ids: dict[int, int] = {}  # L3: order id -> its size still counted ahead
        self.pending: dict[int, int] = {}  # L3: printed (RESTING_FILL) but still in the book
        self.traded = 0  # L2: prints at our price not yet seen as a level decrease
        # L2: recent level decreases no print explained yet, oldest first, as
        # [ts_ns, volume, credit]: ``credit`` is how much of ``ahead`` the decrease removed
        # (a cap or a pro-rata share), given back if a late print shows it was that trade.
        self.drops: list[list[int]] = []
        self.resync = False  # our side was cleared: cap at the next consistent event end


class BookMatcher:
    """One instrument's replayed book, our queue positions and our consumption.

    Parameters
    ----------
    instrument_id : the instrument.
    price_precision, size_precision : the instrument's (the rows are scaled to them).
    config : L2 or L3 book, cancellation rule.
    fill : called for every fill (it books the fill and reduces ``leaves_raw``).
    """

    def __init__(
        self,
        instrument_id: str,
        price_precision: int,
        size_precision: int,
        config: BookConfig,
        fill: FillSink,
    ) -> None:
        self.is_l3 = config.book_type == "l3"
        self.book: L2Book | L3Book = (
            L3Book(instrument_id, price_precision, size_precision)
            if self.is_l3
            else L2Book(instrument_id, price_precision, size_precision)
        )
        self._pro_rata = config.queue_cancels == "pro_rata"
        self._window_ns = 0 if self.is_l3 else config.late_print_window_ns
        self._fill = fill
        self.now_ns = 0  # ts_init of the record being applied (the venue sets it)
        # L2, whole book, by price (rule 3b): prints not yet seen as a level decrease
        # ([ts_ns, volume]) and level decreases no print explained yet ([[ts_ns, volume]]).
        self._printed: dict[int, list[int]] = {}
        self._drops: dict[int, list[list[int]]] = {}
        self._sweep_at = _SWEEP_AT
        self._slots: dict[str, QueueSlot] = {}  # client order id -> slot, in arrival order
        self._by_level: dict[tuple[int, int], list[QueueSlot]] = {}
        self._consumed: dict[tuple[int, int], int] = {}
        self.last_print_raw: int | None = None
        # "ok", "crossed" or "unsynced" at the last event end (the venue matches only on "ok").
        self.status = "ok"
        self.suspended_events = 0
        self.is_event_unsynced = False  # single-delta input: a row of this event was UNSYNCED

    # -- views -----------------------------------------------------------------------------------

    def _sizes(self, side: int) -> dict[int, int]:
        # The book's level sizes (model.book keeps them per side, keyed by raw price).
        return self.book._bid_sizes if side == _BID else self.book._ask_sizes

    def _prices(self, side: int) -> list[int]:
        # Ascending: the best bid is the last element, the best ask the first.
        return self.book._bid_prices if side == _BID else self.book._ask_prices

    def slot(self, client_order_id: str) -> QueueSlot | None:
        """Return the queue slot of a resting order, or ``None``."""
        return self._slots.get(client_order_id)

    def consumed_raw(self, side: int, price_raw: int) -> int:
        """Return what our takers consumed at a level (``side``: 1 bid, 2 ask)."""
        return self._consumed.get((side, price_raw), 0)

    def _walk(self, side: int) -> Iterator[tuple[int, int]]:
        # Levels of ``side`` best first with their effective size, lazily (walks stop early).
        sizes = self._sizes(side)
        prices = self._prices(side)
        consumed = self._consumed
        for price in reversed(prices) if side == _BID else prices:
            size = sizes[price] - consumed.get((side, price), 0) if consumed else sizes[price]
            if size > 0:
                yield price, size

    def effective_levels(self, side: int) -> list[tuple[int, int]]:
        """Return ``(price_raw, size_raw)`` of ``side``, best first, less our consumption."""
        return list(self._walk(side))

    def best_effective(self, side: int) -> int | None:
        """Return the best price of ``side`` with liquidity left after our consumption."""
        for price, _ in self._walk(side):
            return price
        return None

    def available_raw(self, is_buy: bool, limit_raw: int | None) -> int:
        """Return the effective size a taker could take, within ``limit_raw`` if given."""
        total = 0
        for price, size in self._walk(_ASK if is_buy else _BID):
            if limit_raw is not None and (price > limit_raw if is_buy else price < limit_raw):
                break
            total += size
        return total

    def is_marketable(self, is_buy: bool, limit_raw: int | None) -> bool:
        """Return whether an order would take liquidity now (a market order always would)."""
        if limit_raw is None:
            return True
        best = self.best_effective(_ASK if is_buy else _BID)
        if best is None:
            return False
        return best <= limit_raw if is_buy else best >= limit_raw

    def mid_price(self) -> Price | None:
        """Return the book's mid (one decimal more than the prices), or ``None``."""
        return self.book.mid_price()

    # -- our orders ------------------------------------------------------------------------------

    def join(self, working: WorkingOrder) -> QueueSlot:
        """Rest ``working`` at its limit, at the back of the queue (rule 1)."""
        assert working.limit_raw is not None
        side = _BID if working.is_buy else _ASK
        price = working.limit_raw
        slot = QueueSlot(working, side, price)
        if self.is_l3:
            book = self.book
            assert isinstance(book, L3Book)
            queue = (book._bid_orders if side == _BID else book._ask_orders).get(price, {})
            slot.ahead_ids = dict(queue)
            slot.ahead = sum(queue.values())
        else:
            slot.ahead = self._sizes(side).get(price, 0)
            if self._window_ns:
                # The level we join behind already shows these decreases: a late print of
                # one of them must not move us (credit = all of it), and prints the level
                # does not show yet will explain its next decrease.
                horizon = self.now_ns - self._window_ns
                recent = self._drops.get(price, ())
                slot.drops = [[ts, volume, volume] for ts, volume in recent if ts >= horizon]
                printed = self._printed.get(price)
                if printed is not None and printed[0] >= horizon:
                    slot.traded = printed[1]
        self._slots[working.init.client_order_id] = slot
        self._by_level.setdefault((side, price), []).append(slot)
        return slot

    def leave(self, client_order_id: str) -> None:
        """Forget the queue slot of an order that is no longer resting (no-op if none)."""
        slot = self._slots.pop(client_order_id, None)
        if slot is None:
            return
        key = (slot.side, slot.price)
        level = self._by_level[key]
        level.remove(slot)
        if not level:
            del self._by_level[key]

    def take(self, working: WorkingOrder, limit_raw: int | None) -> None:
        """Walk the opposite side for ``working`` up to ``limit_raw`` (rule 6)."""
        side = _ASK if working.is_buy else _BID
        # Lazy: a fill changes the consumption of the level just yielded, never of the next.
        for price, size in _first_until(self._walk(side), working.is_buy, limit_raw):
            if working.leaves_raw <= 0:
                break
            before = working.leaves_raw
            self._fill(working, min(before, size), price, False)
            taken = before - working.leaves_raw
            if taken <= 0:
                break  # the venue refused the fill (reduce-only, closed)
            key = (side, price)
            self._consumed[key] = self._consumed.get(key, 0) + taken

    def cross_resting(self) -> None:
        """Fill resting orders that the opposite side reached, nothing being ahead (rule 5)."""
        if not self._slots:
            return
        for slot in list(self._slots.values()):
            if slot.ahead > 0 or slot.working.leaves_raw <= 0:
                continue
            if slot.working.init.client_order_id not in self._slots:
                continue
            opposite = _ASK if slot.side == _BID else _BID
            for price, size in _first_until(self._walk(opposite), slot.side == _BID, slot.price):
                working = slot.working
                before = working.leaves_raw
                if before <= 0:
                    break
                self._fill(working, min(before, size), slot.price, True)
                taken = before - working.leaves_raw
                if taken <= 0:
                    break
                key = (opposite, price)
                self._consumed[key] = self._consumed.get(key, 0) + taken

    # -- rows ------------------------------------------------------------------------------------

    def apply_rows(
        self,
        action: list[int],
        side: list[int],
        price: list[int],
        size: list[int],
        order_id: list[int],
        flags: list[int],
        sequence: list[int],
    ) -> None:
        """Apply rows (columns of equal length) to the book, moving our queues as they go."""
        apply = self.book.apply_raw
        tracking = self._window_ns > 0
        bids, asks = self.book._bid_sizes, self.book._ask_sizes
        if not self._slots and not self._consumed and not tracking:
            for row in zip(action, side, price, size, order_id, flags, sequence, strict=True):
                apply(*row)
                if row[0] in (_TRADE, _FILL):
                    self.last_print_raw = row[2]
            return
        one = self.apply_row
        if self.is_l3:
            for row in zip(action, side, price, size, order_id, flags, sequence, strict=True):
                one(*row)
            return
        # L2: a level update at a price where we neither rest nor took liquidity only
        # changes the book (and the whole-book record of unexplained decreases).
        by_level, consumed = self._by_level, self._consumed
        for row in zip(action, side, price, size, order_id, flags, sequence, strict=True):
            key = (row[1], row[2])
            if row[0] in _LEVEL_ACTIONS and key not in by_level and key not in consumed:
                if tracking:
                    sizes = bids if row[1] == _BID else asks
                    old = sizes.get(row[2], 0)
                    apply(*row)
                    if sizes.get(row[2], 0) < old:
                        self._level_drop(row[2], old - sizes.get(row[2], 0))
                else:
                    apply(*row)
                continue
            one(*row)

    def apply_row(
        self,
        action: int,
        side: int,
        price: int,
        size: int,
        order_id: int = 0,
        flags: int = 0,
        sequence: int = 0,
    ) -> None:
        """Apply one row (``model.book`` codes, raws at the instrument's precision)."""
        if not self._slots and not self._consumed and not self._window_ns:
            self.book.apply_raw(action, side, price, size, order_id, flags, sequence)
            if action in (_TRADE, _FILL):
                self.last_print_raw = price
            return
        if self.is_l3:
            self._apply_l3(action, side, price, size, order_id, flags, sequence)
        else:
            self._apply_l2(action, side, price, size, order_id, flags, sequence)

    def _apply_l2(
        self, action: int, side: int, price: int, size: int, oid: int, flags: int, seq: int
    ) -> None:
        book = self.book
        if action in (_ADD, _UPDATE, _DELETE) and side in (_BID, _ASK):
            sizes = self._sizes(side)
            old = sizes.get(price, 0)
            book.apply_raw(action, side, price, size, oid, flags, seq)
            new = sizes.get(price, 0)
            if new != old:
                if new < old and self._window_ns:
                    self._level_drop(price, old - new)
                self._level_changed(side, price, old, new)
            return
        book.apply_raw(action, side, price, size, oid, flags, seq)
        if action == _CLEAR:
            self._cleared(side)
        elif action == _TRADE:
            if flags & _F_RESTING_FILL:
                resting = side
            else:
                resting = _ASK if side == _BID else _BID if side == _ASK else _NONE
            self.print_trade(price, size, resting)

    def _level_changed(self, side: int, price: int, old: int, new: int) -> None:
        key = (side, price)
        consumed = self._consumed.get(key)
        if consumed is not None:
            if new == 0:
                del self._consumed[key]
            elif new < consumed:
                self._consumed[key] = new
        if new >= old:
            return
        window = self._window_ns
        for slot in self._by_level.get(key, ()):
            decrease = old - new
            explained = min(decrease, slot.traded)
            slot.traded -= explained
            cancels = decrease - explained
            before = slot.ahead
            if self._pro_rata and cancels and slot.ahead:
                slot.ahead -= cancels * slot.ahead // old
            if slot.ahead > new:
                slot.ahead = new
            if cancels and window:
                drops = slot.drops
                horizon = self.now_ns - window
                while drops and drops[0][0] < horizon:
                    del drops[0]
                drops.append([self.now_ns, cancels, min(before - slot.ahead, cancels)])

    def _level_drop(self, price: int, decrease: int) -> None:
        # Whole book (rule 3b): a decrease the recent prints at ``price`` do not explain.
        horizon = self.now_ns - self._window_ns
        printed = self._printed.get(price)
        if printed is not None:
            if printed[0] >= horizon:
                used = min(decrease, printed[1])
                printed[1] -= used
                decrease -= used
            if printed[1] <= 0 or printed[0] < horizon:
                del self._printed[price]
        if decrease <= 0:
            return
        drops = self._drops.get(price)
        if drops is None:
            drops = self._drops[price] = []
            if len(self._drops) > self._sweep_at:
                self._sweep(horizon)
        else:
            while drops and drops[0][0] < horizon:
                del drops[0]
        drops.append([self.now_ns, decrease])

    def _level_print(self, price: int, size: int) -> None:
        # Whole book (rule 3b): net a print against recent unexplained decreases at its price;
        # the rest waits to explain the level's next decrease.
        horizon = self.now_ns - self._window_ns
        drops = self._drops.get(price)
        if drops:
            while drops and drops[0][0] < horizon:
                del drops[0]
            left = size
            while drops and left > 0:
                used = min(drops[0][1], left)
                drops[0][1] -= used
                left -= used
                if drops[0][1] <= 0:
                    del drops[0]
            if not drops:
                del self._drops[price]
            size = left
        if size <= 0:
            return
        printed = self._printed.get(price)
        if printed is None or printed[0] < horizon:
            self._printed[price] = [self.now_ns, size]
            if len(self._printed) > self._sweep_at:
                self._sweep(horizon)
        else:
            printed[0] = self.now_ns
            printed[1] += size

    def _sweep(self, horizon: int) -> None:
        # Forget whole-book records older than the window (keeps both maps small).
        for price in [p for p, d in self._drops.items() if not d or d[-1][0] < horizon]:
            del self._drops[price]
        for price in [p for p, v in self._printed.items() if v[0] < horizon]:
            del self._printed[price]
        # Amortized: the next sweep waits until the maps have doubled.
        self._sweep_at = max(_SWEEP_AT, 2 * max(len(self._drops), len(self._printed)))

    def _late_print(self, slot: QueueSlot, size: int) -> tuple[int, int]:
        # Net a print at ``slot``'s price against the slot's recent unexplained decreases,
        # oldest first: return (volume matched, credit given back to ``ahead``).
        drops = slot.drops
        horizon = self.now_ns - self._window_ns
        while drops and drops[0][0] < horizon:
            del drops[0]
        matched = credit = 0
        while drops and matched < size:
            drop = drops[0]
            used = min(drop[1], size - matched)
            back = min(drop[2], used)  # conservative: the credit first
            drop[1] -= used
            drop[2] -= back
            matched += used
            credit += back
            if drop[1] <= 0:
                del drops[0]
        return matched, credit

    def _cleared(self, side: int) -> None:
        for key in [k for k in self._consumed if side == _NONE or k[0] == side]:
            del self._consumed[key]
        for slot in self._slots.values():
            if side == _NONE or slot.side == side:
                slot.resync = True

    def _l3_order(self, order_id: int) -> tuple[int, int, int] | None:
        book = self.book
        assert isinstance(book, L3Book)
        found = book._orders.get(order_id)
        if found is None:
            return None
        side, price = found
        return (
            side,
            price,
            (book._bid_orders if side == _BID else book._ask_orders)[price][order_id],
        )

    def _apply_l3(
        self, action: int, side: int, price: int, size: int, oid: int, flags: int, seq: int
    ) -> None:
        book = self.book
        if flags & _F_SNAPSHOT and action in (_ADD, _CANCEL, _DELETE):
            self._l3_resnapshot(action, side, price, size, oid, flags, seq)
            return
        if action in (_CANCEL, _FILL, _DELETE, _UPDATE):
            before = self._l3_order(oid)
            book.apply_raw(action, side, price, size, oid, flags, seq)
            if before is None:
                return  # an ignored delete of an absent order
            order_side, order_price, order_size = before
            key = (order_side, order_price)
            self._consumption_after(order_side, order_price)
            if action == _FILL:
                self.print_trade(order_price, size, order_side, oid, changes_book=True)
                return
            slots = self._by_level.get(key)
            if not slots:
                return
            after = self._l3_order(oid)
            left_level = after is None or after[1] != order_price or after[2] > order_size
            reduction = order_size if after is None else order_size - after[2]
            for slot in slots:
                counted = slot.ahead_ids.get(oid)
                if counted is None:
                    continue
                if left_level:
                    del slot.ahead_ids[oid]
                    slot.pending.pop(oid, None)
                    slot.ahead -= counted
                    continue
                printed = slot.pending.get(oid, 0)
                used = min(printed, reduction)
                if used:
                    slot.pending[oid] = printed - used
                cut = min(reduction - used, counted)
                slot.ahead_ids[oid] = counted - cut
                slot.ahead -= cut
            return
        book.apply_raw(action, side, price, size, oid, flags, seq)
        if action == _CLEAR:
            self._cleared(side)
        elif action == _TRADE and flags & _F_RESTING_FILL:
            self.print_trade(price, size, side, oid)
        elif action == _TRADE:
            self.last_print_raw = price

    def _l3_resnapshot(
        self, action: int, side: int, price: int, size: int, oid: int, flags: int, seq: int
    ) -> None:
        # Rows that re-synchronise the book with a snapshot (LOBSTER: levels taken from the
        # order-book file, levels pushed out of its top N) are not market events: an order
        # added this way was there before us (it counts as ahead); one removed this way did
        # not trade or cancel, so the queue is re-capped from the level at the event end
        # (rule 4) instead of moving us forward.
        found = self._l3_order(oid) if action != _ADD else None
        self.book.apply_raw(action, side, price, size, oid, flags, seq)
        if action == _ADD:
            self._consumption_after(side, price)
            for slot in self._by_level.get((side, price), ()):
                if not slot.resync:
                    slot.ahead_ids[oid] = size
                    slot.ahead += size
            return
        if found is not None:
            self._consumption_after(found[0], found[1])
            for slot in self._by_level.get((found[0], found[1]), ()):
                slot.resync = True

    def _consumption_after(self, side: int, price: int) -> None:
        key = (side, price)
        consumed = self._consumed.get(key)
        if consumed is None:
            return
        level = self._sizes(side).get(price, 0)
        if level == 0:
            del self._consumed[key]
        elif level < consumed:
            self._consumed[key] = level

    # -- prints ----------------------------------------------------------------------------------

    def print_trade(
        self,
        price: int,
        size: int,
        resting_side: int,
        order_id: int = 0,
        *,
        changes_book: bool = False,
    ) -> None:
        """Apply an execution of ``size`` at ``price`` against ``resting_side`` (rule 2).

        ``resting_side`` 0 means unknown: the print reaches our bids at or above its price and
        our asks at or below it. ``order_id`` names the executed resting order (L3);
        ``changes_book`` says the row already took it out of the book (a FILL row).
        """
        self.last_print_raw = price
        if self._window_ns and size > 0:
            self._level_print(price, size)
        if not self._slots or size <= 0:
            return
        reached: list[QueueSlot] = []
        for slot in self._slots.values():
            if resting_side != _NONE and slot.side != resting_side:
                continue
            if (slot.side == _BID and slot.price >= price) or (
                slot.side == _ASK and slot.price <= price
            ):
                reached.append(slot)
        if not reached:
            return
        # Best price first (swept before the print's price), then arrival order.
        reached.sort(key=lambda s: -s.price if s.side == _BID else s.price)
        remaining = size
        blocked: set[tuple[int, int]] = set()
        for slot in reached:
            key = (slot.side, slot.price)
            working = slot.working
            if slot.price != price:
                slot.ahead = 0
                slot.ahead_ids.clear()
                slot.pending.clear()
                take = min(working.leaves_raw, remaining)
            elif self.is_l3:
                counted = slot.ahead_ids.get(order_id)
                if counted is not None:
                    cut = min(size, counted)
                    slot.ahead_ids[order_id] = counted - cut
                    slot.ahead -= cut
                    if not changes_book:
                        slot.pending[order_id] = slot.pending.get(order_id, 0) + cut
                    take = 0
                elif slot.ahead <= 0:
                    take = min(working.leaves_raw, remaining)
                else:
                    take = 0
            else:
                # A print the level already showed as a decrease (rule 3b) is counted once:
                # what that decrease took off ``ahead`` is given back before the print takes.
                matched, credit = self._late_print(slot, size) if slot.drops else (0, 0)
                before = slot.ahead + credit
                slot.ahead = max(0, before - size)
                level = self._sizes(slot.side).get(price, 0)
                if slot.ahead > level:
                    slot.ahead = level
                slot.traded += size - matched
                take = min(working.leaves_raw, max(0, remaining - before))
            if key in blocked:
                take = 0
            if take > 0:
                leaves = working.leaves_raw
                self._fill(working, take, slot.price, True)
                remaining -= leaves - working.leaves_raw
            if working.leaves_raw > 0:
                blocked.add(key)  # our later orders at this price wait for this one

    # -- event end -------------------------------------------------------------------------------

    def end_event(self) -> None:
        """Cap the queues of cleared sides once the side has levels again (rule 4)."""
        for slot in self._slots.values():
            if not slot.resync or not self._prices(slot.side):
                continue
            slot.resync = False
            level = self._sizes(slot.side).get(slot.price, 0)
            if slot.ahead <= level and not self.is_l3:
                continue
            target = min(slot.ahead, level)
            slot.ahead = target
            if self.is_l3:
                book = self.book
                assert isinstance(book, L3Book)
                queue = (book._bid_orders if slot.side == _BID else book._ask_orders).get(
                    slot.price, {}
                )
                slot.ahead_ids = {}
                slot.pending = {}
                left = target
                for oid, held in queue.items():
                    if left <= 0:
                        break
                    slot.ahead_ids[oid] = min(held, left)
                    left -= held


def _first_until(
    levels: Iterator[tuple[int, int]], is_buy: bool, limit_raw: int | None
) -> Iterator[tuple[int, int]]:
    # The levels a buy (sell) limited to ``limit_raw`` may take: stop at the first beyond it.
    for price, size in levels:
        if limit_raw is not None and (price > limit_raw if is_buy else price < limit_raw):
            return
        yield price, size


def scale_row_price(price: int, factor: int) -> int:
    """Return a row price scaled by ``factor`` (``NULL_PRICE`` stays undefined)."""
    return price if price == NULL_PRICE else price * factor
