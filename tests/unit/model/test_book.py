from decimal import Decimal

import pytest

from tradeloop.core import DataIntegrityError, InvalidValueError, Price, Quantity
from tradeloop.model.book import (
    NULL_PRICE,
    BookActionCode,
    BookFlag,
    BookLevel,
    BookSideCode,
    L2Book,
    L3Book,
)
from tradeloop.model.data import OrderBookDelta
from tradeloop.model.enums import BookAction, BookSide, OrderSide

ADD, UPDATE, DELETE, CLEAR = 1, 2, 3, 4
CANCEL, FILL, TRADE = 5, 6, 7
BID, ASK = 1, 2


def hand_book() -> L2Book:
    # bids 100.00 x5, 99.50 x10, 99.00 x20; asks 100.50 x3, 101.00 x7, 102.00 x10
    book = L2Book("X.SIM", 2, 0)
    for side, price, size in (
        (BID, 10000, 5),
        (BID, 9950, 10),
        (BID, 9900, 20),
        (ASK, 10050, 3),
        (ASK, 10100, 7),
        (ASK, 10200, 10),
    ):
        book.apply_raw(ADD, side, price, size)
    return book


def test_codes_match_their_documented_values() -> None:
    assert [int(c) for c in BookActionCode] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert (int(BookSideCode.BID), int(BookSideCode.ASK)) == (BID, ASK)
    assert int(BookFlag.LAST) == 128
    assert int(BookFlag.SNAPSHOT) == 32


def test_hand_book_best_levels_spread_and_exact_mid() -> None:
    book = hand_book()
    assert book.best_bid_raw() == (10000, 5)
    assert book.best_ask_raw() == (10050, 3)
    assert book.best_bid_price() == Price.from_str("100.00")
    assert book.best_ask_size() == Quantity.from_int(3)
    assert book.spread() == Price.from_str("0.50")
    assert book.mid_price() == Price.from_str("100.250")
    assert book.bids(2) == [
        BookLevel(Price(10000, 2), Quantity(5, 0), 0),
        BookLevel(Price(9950, 2), Quantity(10, 0), 0),
    ]
    assert book.levels_raw(BookSide.ASK) == [(10050, 3), (10100, 7), (10200, 10)]
    assert not book.is_crossed()


def test_hand_book_microprice_leans_towards_the_thinner_side() -> None:
    # (100.00 * 3 + 100.50 * 5) / (5 + 3) = 100.3125, above the mid 100.25: the ask is thinner.
    assert hand_book().microprice() == 100.3125


def test_hand_book_imbalance_over_one_and_two_levels() -> None:
    book = hand_book()
    assert book.imbalance() == (5 - 3) / 8
    assert book.imbalance(2) == (15 - 10) / 25


def test_hand_book_depth_within_levels_and_within_a_distance_of_mid() -> None:
    book = hand_book()
    assert book.depth(BookSide.BID, levels=2) == Quantity.from_int(15)
    assert book.depth(BookSide.ASK) == Quantity.from_int(20)
    # mid 100.25: asks 100.50 (0.25 away) and 101.00 (0.75) are within 1.00; 102.00 is not.
    assert book.depth(BookSide.ASK, distance=Price.from_str("1.00")) == Quantity.from_int(10)
    assert book.depth(BookSide.BID, distance=Price.from_str("1")) == Quantity.from_int(15)
    # A distance finer than the book's precision is compared exactly: 0.749 excludes 101.00.
    assert book.depth(BookSide.ASK, distance=Price.from_str("0.749")) == Quantity.from_int(3)
    assert book.depth(BookSide.BID, levels=1, distance=Price.from_str("5")) == Quantity(5, 0)


def test_buy_of_8_walks_two_ask_levels_at_average_100_8125() -> None:
    estimate = hand_book().fill_estimate(OrderSide.BUY, Quantity.from_int(8))
    # 3 @ 100.50 + 5 @ 101.00 = 301.50 + 505.00 = 806.50
    assert estimate.is_complete
    assert estimate.filled == Quantity.from_int(8)
    assert estimate.notional == Decimal("806.50")
    assert estimate.average_price == Decimal("100.8125")
    assert estimate.levels_consumed == 2
    assert estimate.worst_price == Price.from_str("101.00")
    # against the mid 100.25: 806.50 - 8 * 100.25; against the best ask: 806.50 - 8 * 100.50
    assert estimate.cost_vs_mid == Decimal("4.50")
    assert estimate.cost_vs_best == Decimal("2.50")


def test_sell_of_30_walks_three_bid_levels_and_costs_27_50_against_mid() -> None:
    estimate = hand_book().fill_estimate(OrderSide.SELL, 30)
    # 5 @ 100.00 + 10 @ 99.50 + 15 @ 99.00 = 500 + 995 + 1485 = 2980
    assert estimate.notional == Decimal("2980.00")
    assert estimate.average_price == Decimal("2980") / Decimal("30")
    assert estimate.cost_vs_mid == Decimal("27.50")  # 30 * 100.25 - 2980
    assert estimate.cost_vs_best == Decimal("20.00")  # 30 * 100.00 - 2980


def test_buy_larger_than_the_ask_side_fills_partially() -> None:
    estimate = hand_book().fill_estimate(OrderSide.BUY, 25)
    assert not estimate.is_complete
    assert estimate.filled_raw == 20
    assert estimate.notional == Decimal("2028.50")  # 301.50 + 707.00 + 1020.00
    assert estimate.levels_consumed == 3


def test_limit_price_stops_the_walk_at_worse_levels() -> None:
    book = hand_book()
    buy = book.fill_estimate(OrderSide.BUY, 8, limit_price=Price.from_str("100.75"))
    assert buy.filled_raw == 3
    # A sell limit between two ticks admits only prices at or above it: 100.00 and 99.50.
    sell = book.fill_estimate(OrderSide.SELL, 30, limit_price=Price.from_str("99.499"))
    assert sell.filled_raw == 15


def test_fill_estimate_on_an_empty_side_fills_nothing() -> None:
    book = L2Book("X.SIM", 2, 0)
    estimate = book.fill_estimate(OrderSide.BUY, 1)
    assert estimate.filled_raw == 0
    assert estimate.average_price is None
    assert estimate.cost_vs_mid is None
    assert estimate.cost_vs_best == 0


def test_fill_estimate_rejects_sizes_finer_than_the_book() -> None:
    with pytest.raises(InvalidValueError, match="more decimals"):
        hand_book().fill_estimate(OrderSide.BUY, Quantity.from_str("1.5"))
    with pytest.raises(InvalidValueError, match="positive"):
        hand_book().fill_estimate(OrderSide.BUY, 0)


def test_analytics_of_a_one_sided_book_are_none() -> None:
    book = L2Book("X.SIM", 2, 0)
    book.apply_raw(ADD, BID, 100, 1)
    assert book.spread() is None
    assert book.mid_price() is None
    assert book.microprice() is None
    assert book.mid_price_raw() == NULL_PRICE
    assert book.depth(BookSide.BID, distance=Price.from_str("1")) == Quantity(0, 0)


def test_l2_update_sets_size_and_inserts_a_missing_level() -> None:
    book = hand_book()
    book.apply_raw(UPDATE, BID, 10000, 8)
    book.apply_raw(UPDATE, BID, 10010, 1)
    assert book.levels_raw(BookSide.BID, 2) == [(10010, 1), (10000, 8)]


def test_l2_add_of_an_existing_level_raises() -> None:
    with pytest.raises(DataIntegrityError, match="already in the book"):
        hand_book().apply_raw(ADD, BID, 10000, 1, sequence=7)


def test_l2_delete_of_a_missing_level_raises_naming_sequence_and_rule() -> None:
    with pytest.raises(DataIntegrityError, match=r"at sequence 9: DELETE of bid level 98\.00"):
        hand_book().apply_raw(DELETE, BID, 9800, 0, sequence=9)


def test_l2_delete_flagged_ignore_missing_is_a_counted_no_op() -> None:
    book = hand_book()
    book.apply_raw(DELETE, BID, 9800, 0, flags=int(BookFlag.IGNORE_MISSING))
    assert book.ignored_delete_count == 1
    assert book.bid_level_count == 3


def test_l2_update_to_zero_size_raises() -> None:
    with pytest.raises(DataIntegrityError, match="positive size"):
        hand_book().apply_raw(UPDATE, ASK, 10050, 0)


def test_l2_market_by_order_action_raises() -> None:
    with pytest.raises(DataIntegrityError, match="CANCEL delta on a market-by-price book"):
        hand_book().apply_raw(CANCEL, ASK, 10050, 1)


def test_l2_trade_rows_leave_the_book_unchanged() -> None:
    book = hand_book()
    book.apply_raw(TRADE, BID, 10000, 5)
    assert book.best_bid_raw() == (10000, 5)


def test_sequence_going_backwards_raises_out_of_order() -> None:
    book = hand_book()
    book.apply_raw(UPDATE, BID, 10000, 6, sequence=10)
    with pytest.raises(DataIntegrityError, match="out of order"):
        book.apply_raw(UPDATE, BID, 10000, 7, sequence=9)


def test_snapshot_rows_are_exempt_and_a_snapshot_clear_restarts_numbering() -> None:
    book = hand_book()
    book.apply_raw(UPDATE, BID, 10000, 6, sequence=10)
    book.apply_raw(UPDATE, BID, 10000, 6, flags=int(BookFlag.SNAPSHOT), sequence=3)
    book.apply_raw(CLEAR, 0, NULL_PRICE, 0, flags=int(BookFlag.SNAPSHOT), sequence=1)
    book.apply_raw(ADD, BID, 10000, 1, sequence=2)
    assert book.sequence == 2
    assert book.ask_level_count == 0


def test_clear_of_one_side_keeps_the_other() -> None:
    book = hand_book()
    book.apply_raw(CLEAR, ASK, NULL_PRICE, 0)
    assert book.ask_level_count == 0
    assert book.bid_level_count == 3


def test_locked_book_counts_as_crossed() -> None:
    book = hand_book()
    book.apply_raw(ADD, BID, 10050, 1)
    assert book.is_crossed()


def test_truncate_keeps_the_best_levels() -> None:
    book = hand_book()
    assert book.truncate(2) == 2
    assert book.levels_raw(BookSide.BID) == [(10000, 5), (9950, 10)]
    assert book.levels_raw(BookSide.ASK) == [(10050, 3), (10100, 7)]


def delta(
    action: BookAction, side: BookSide, price: str, size: str, **fields: int
) -> OrderBookDelta:
    return OrderBookDelta(
        "X.SIM",
        action,
        side,
        Price.from_str(price),
        Quantity.from_str(size),
        fields.get("order_id", 0),
        fields.get("flags", 0),
        fields.get("sequence", 0),
        fields.get("ts_event", 1),
        fields.get("ts_init", 1),
    )


def test_l2_apply_record_rescales_exact_prices_and_rejects_lossy_ones() -> None:
    book = L2Book("X.SIM", 2, 0)
    book.apply(delta(BookAction.ADD, BookSide.BID, "100.5000", "3", ts_event=5))
    assert book.best_bid_raw() == (10050, 3)
    assert book.ts_last == 5
    with pytest.raises(InvalidValueError, match="more decimals"):
        book.apply(delta(BookAction.UPDATE, BookSide.BID, "100.505", "3"))


def test_apply_record_of_another_instrument_raises() -> None:
    other = OrderBookDelta(
        "Y.SIM", BookAction.ADD, BookSide.BID, Price(1, 0), Quantity(1, 0), 0, 0, 0, 1, 1
    )
    with pytest.raises(DataIntegrityError, match="own instrument"):
        L2Book("X.SIM", 0, 0).apply(other)


def l3_book() -> L3Book:
    book = L3Book("X.SIM", 2, 0)
    for order_id, size in ((1, 5), (2, 3), (3, 2)):
        book.apply_raw(ADD, BID, 10000, size, order_id)
    book.apply_raw(ADD, ASK, 10050, 4, 10)
    return book


def test_l3_level_sums_orders_and_keeps_arrival_order() -> None:
    book = l3_book()
    assert book.best_bid_raw() == (10000, 10)
    assert book.bids() == [BookLevel(Price(10000, 2), Quantity(10, 0), 3)]
    assert book.level_orders(BookSide.BID, 10000) == [(1, 5), (2, 3), (3, 2)]
    assert book.queue_ahead(3) == (2, 8)
    book.check_invariants()


def test_l3_size_decrease_keeps_priority_and_increase_loses_it() -> None:
    book = l3_book()
    book.apply_raw(UPDATE, BID, 10000, 4, 1)
    assert book.queue_ahead(2) == (1, 4)
    book.apply_raw(UPDATE, BID, 10000, 6, 2)
    assert [oid for oid, _ in book.level_orders(BookSide.BID, 10000)] == [1, 3, 2]
    assert book.best_bid_raw() == (10000, 12)
    book.check_invariants()


def test_l3_price_change_moves_the_order_to_the_back_of_the_new_level() -> None:
    book = l3_book()
    book.apply_raw(ADD, BID, 9990, 1, 4)
    book.apply_raw(UPDATE, BID, 9990, 5, 1)
    assert book.level_orders(BookSide.BID, 9990) == [(4, 1), (1, 5)]
    assert book.best_bid_raw() == (10000, 5)
    book.check_invariants()


def test_l3_cancel_and_fill_reduce_and_remove_at_zero() -> None:
    book = l3_book()
    book.apply_raw(CANCEL, BID, 10000, 1, 2)
    book.apply_raw(FILL, BID, 10000, 2, 3)
    assert book.order(2) == (BookSide.BID, 10000, 2)
    assert not book.has_order(3)
    assert book.best_bid_raw() == (10000, 7)
    book.apply_raw(DELETE, ASK, 10050, 0, 10)
    assert book.best_ask_raw() is None
    book.check_invariants()


def test_l3_cancel_of_more_than_the_order_holds_raises() -> None:
    with pytest.raises(DataIntegrityError, match="up to the order's size"):
        l3_book().apply_raw(CANCEL, BID, 10000, 6, 1)


def test_l3_cancel_of_an_unknown_order_raises() -> None:
    with pytest.raises(DataIntegrityError, match="order 99 that is not in the book"):
        l3_book().apply_raw(CANCEL, BID, 10000, 1, 99)


def test_l3_cancel_on_the_wrong_side_or_price_raises() -> None:
    with pytest.raises(DataIntegrityError, match="names its order's side"):
        l3_book().apply_raw(CANCEL, ASK, 10000, 1, 1)
    with pytest.raises(DataIntegrityError, match="names its order's price"):
        l3_book().apply_raw(FILL, BID, 9999, 1, 1)


def test_l3_add_of_an_existing_order_id_raises() -> None:
    with pytest.raises(DataIntegrityError, match="new order id"):
        l3_book().apply_raw(ADD, ASK, 10100, 1, 1)


def test_l3_clear_of_one_side_forgets_its_orders() -> None:
    book = l3_book()
    book.apply_raw(CLEAR, BID, NULL_PRICE, 0)
    assert book.order_count == 1
    assert not book.has_order(1)
    book.check_invariants()


def test_l3_analytics_equal_those_of_an_l2_book_with_the_same_levels() -> None:
    l3 = L3Book("X.SIM", 2, 0)
    for order_id, (side, price, size) in enumerate(
        ((BID, 10000, 2), (BID, 10000, 3), (BID, 9950, 10), (ASK, 10050, 3), (ASK, 10100, 7))
    ):
        l3.apply_raw(ADD, side, price, size, order_id + 1)
    l2 = hand_book()
    l2.truncate(2)
    assert l3.fill_estimate(OrderSide.SELL, 12) == l2.fill_estimate(OrderSide.SELL, 12)
    assert l3.microprice() == l2.microprice()


def test_l3_apply_records_add_modify_and_delete_orders() -> None:
    book = L3Book("X.SIM", 2, 0)
    book.apply(delta(BookAction.ADD, BookSide.ASK, "1.00", "2", order_id=7))
    book.apply(delta(BookAction.UPDATE, BookSide.ASK, "1.01", "2", order_id=7))
    assert book.order(7) == (BookSide.ASK, 101, 2)
    book.apply(delta(BookAction.DELETE, BookSide.ASK, "1.01", "0", order_id=7))
    assert book.order_count == 0


def test_l3_truncate_removes_the_orders_of_dropped_levels() -> None:
    book = l3_book()
    book.apply_raw(ADD, BID, 9900, 1, 20)
    assert book.truncate(1) == 1
    assert not book.has_order(20)
    book.check_invariants()
