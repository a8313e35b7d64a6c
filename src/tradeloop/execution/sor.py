"""Smart order routing: split one order across venues by price, fees and displayed liquidity.

``route_order`` plans the split; ``submit_route`` sends it (one IOC limit per venue, through
the strategy's gateway, so every child passes risk). Each venue offers its displayed
liquidity as ``VenueLiquidity``: levels best first, from its book (``liquidity_from_book``:
an ``L2Book``/``L3Book``, or a simulated venue's effective levels) or its best quote
(``liquidity_from_quote``), with its taker fee in bps of notional.

Routing steps:

1. Every displayed level of every venue becomes a candidate with its all-in price: the price
   plus the taker fee for a buy (``price × (1 + fee_bps / 10,000)``), minus it for a sell.
   Levels past ``limit_price`` (compared before fees) are left out.
2. Candidates are taken best all-in price first; ties go to the larger displayed size, then
   to the venue name (a fixed order, so a replay routes the same way).
3. Each candidate takes what it displays, up to what is left to route.
4. Per venue, the allocation is rounded down to the instrument's lot; its child is an IOC
   limit at the worst price taken there, so it cannot walk beyond the plan.
5. What the displayed liquidity (within the limit) cannot cover is ``unrouted``.

All arithmetic is exact (raws and ``Decimal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.core.fixed import Price, Quantity
from tradeloop.execution.ports import OrderGateway
from tradeloop.model.book import L2Book, L3Book
from tradeloop.model.data import QuoteTick
from tradeloop.model.enums import BookSide, OrderSide, TimeInForce
from tradeloop.model.instruments import Instrument
from tradeloop.model.orders import Order

__all__ = [
    "LiquiditySource",
    "RouteAllocation",
    "RoutePlan",
    "VenueLiquidity",
    "liquidity_from_book",
    "liquidity_from_quote",
    "route_order",
    "submit_route",
]

_BPS = Decimal(10_000)


class VenueLiquidity(msgspec.Struct, frozen=True, kw_only=True):
    """What one venue displays on the side an order would take.

    Attributes
    ----------
    venue : the venue code.
    instrument_id : the instrument traded there (``SYMBOL.VENUE``).
    levels : ``(price, displayed size)`` best first.
    taker_fee_bps : the fee a taker pays, in bps of notional.
    lot_size : the instrument's lot (allocations are rounded down to it); ``None``: the
        size's last decimal.
    """

    venue: str
    instrument_id: str
    levels: tuple[tuple[Price, Quantity], ...]
    taker_fee_bps: float = 0.0
    lot_size: Quantity | None = None

    def __post_init__(self) -> None:
        if not self.taker_fee_bps >= 0:
            raise ConfigError(
                f"venue {self.venue} taker_fee_bps {self.taker_fee_bps} must be non-negative"
            )


class LiquiditySource(Protocol):
    """What a router sees of its venues: displayed liquidity and the instruments traded.

    A strategy implements it from the market data it receives (in a backtest, the simulated
    venues' replayed books or quotes, less what our own orders took).
    """

    def venue_liquidity(self, instrument_id: str, side: OrderSide) -> VenueLiquidity:
        """Return what ``instrument_id``'s venue displays to a taker on ``side``, with its fee."""
        ...

    def instrument(self, instrument_id: str) -> Instrument:
        """Return the instrument ``instrument_id``."""
        ...


class RouteAllocation(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's share of a routed order.

    Attributes
    ----------
    venue, instrument_id : where it goes.
    quantity : the size to send there.
    limit_price : the worst price taken there (the child's IOC limit).
    notional : sum of price × size over the levels taken.
    fee : ``notional × taker_fee_bps / 10,000``.
    """

    venue: str
    instrument_id: str
    quantity: Quantity
    limit_price: Price
    notional: Decimal
    fee: Decimal

    @property
    def average_price(self) -> Decimal:
        """Return notional / quantity (before fees)."""
        return self.notional / self.quantity.as_decimal()


class RoutePlan(msgspec.Struct, frozen=True, kw_only=True):
    """The split of one order: allocations in venue name order, and what is left."""

    side: OrderSide
    requested: Quantity
    allocations: tuple[RouteAllocation, ...]
    unrouted: Quantity

    @property
    def routed(self) -> Quantity:
        """Return the total size allocated."""
        total = sum(a.quantity.raw for a in self.allocations)
        return Quantity(total, self.requested.precision)

    @property
    def all_in_average_price(self) -> Decimal | None:
        """Return (notional ± fees) / routed size (fees added for buys, taken for sells)."""
        routed = self.routed
        if routed.raw == 0:
            return None
        notional = sum((a.notional for a in self.allocations), Decimal(0))
        fees = sum((a.fee for a in self.allocations), Decimal(0))
        signed = notional + fees if self.side is OrderSide.BUY else notional - fees
        return signed / routed.as_decimal()


def liquidity_from_quote(
    venue: str,
    quote: QuoteTick,
    side: OrderSide,
    *,
    taker_fee_bps: float = 0.0,
    lot_size: Quantity | None = None,
) -> VenueLiquidity:
    """Return the liquidity a taker on ``side`` sees in a best bid/ask quote."""
    if side is OrderSide.BUY:
        level = (quote.ask_price, quote.ask_size)
    else:
        level = (quote.bid_price, quote.bid_size)
    return VenueLiquidity(
        venue=venue,
        instrument_id=quote.instrument_id,
        levels=(level,) if level[1].raw > 0 else (),
        taker_fee_bps=taker_fee_bps,
        lot_size=lot_size,
    )


def liquidity_from_book(
    venue: str,
    book: L2Book | L3Book,
    side: OrderSide,
    *,
    taker_fee_bps: float = 0.0,
    depth: int | None = None,
    lot_size: Quantity | None = None,
) -> VenueLiquidity:
    """Return the opposite side of ``book`` (asks for a buy), best first, ``depth`` levels."""
    book_side = BookSide.ASK if side is OrderSide.BUY else BookSide.BID
    p, s = book.price_precision, book.size_precision
    return VenueLiquidity(
        venue=venue,
        instrument_id=book.instrument_id,
        levels=tuple(
            (Price(price, p), Quantity(size, s))
            for price, size in book.levels_raw(book_side, depth)
        ),
        taker_fee_bps=taker_fee_bps,
        lot_size=lot_size,
    )


def route_order(
    side: OrderSide,
    quantity: Quantity,
    venues: Sequence[VenueLiquidity],
    *,
    limit_price: Price | None = None,
) -> RoutePlan:
    """Split ``quantity`` across ``venues`` (see the module docstring for the steps).

    Raises
    ------
    ConfigError
        If the quantity is not positive, a venue appears twice, or a level's size has more
        decimals than the order's quantity.
    """
    if quantity.raw <= 0:
        raise ConfigError(f"routed quantity {quantity} must be positive")
    names = [v.venue for v in venues]
    if len(set(names)) != len(names):
        raise ConfigError(f"route venues must be distinct, got {names}")
    is_buy = side is OrderSide.BUY
    precision = quantity.precision
    candidates: list[tuple[Decimal, int, str, int, Price]] = []
    for venue in venues:
        fee = Decimal(repr(venue.taker_fee_bps)) / _BPS
        factor = 1 + fee if is_buy else 1 - fee
        for index, (price, size) in enumerate(venue.levels):
            if limit_price is not None and (price > limit_price if is_buy else price < limit_price):
                break
            if size.precision > precision and size.raw % 10 ** (size.precision - precision):
                raise ConfigError(
                    f"venue {venue.venue} level size {size} has more decimals than the order "
                    f"quantity {quantity}"
                )
            size_raw = size.to_precision(precision).raw
            if size_raw <= 0:
                continue
            all_in = price.as_decimal() * factor
            rank = all_in if is_buy else -all_in
            candidates.append((rank, -size_raw, venue.venue, index, price))
    candidates.sort(key=lambda c: (c[0], c[1], c[2], c[3]))
    left = quantity.raw
    taken: dict[str, list[tuple[Price, int]]] = {}
    for _, negative_size, name, _, price in candidates:
        if left <= 0:
            break
        take = min(left, -negative_size)
        taken.setdefault(name, []).append((price, take))
        left -= take
    by_name = {v.venue: v for v in venues}
    allocations = []
    for name in sorted(taken):
        venue = by_name[name]
        fills = taken[name]
        total = sum(q for _, q in fills)
        lot = 1 if venue.lot_size is None else venue.lot_size.to_precision(precision).raw
        rounded = total - total % max(lot, 1)
        if rounded <= 0:
            continue
        # Rounding takes the excess off the worst (last) levels.
        kept: list[tuple[Price, int]] = []
        budget = rounded
        for price, q in fills:
            use = min(q, budget)
            if use > 0:
                kept.append((price, use))
            budget -= use
        scale = Decimal(1).scaleb(-precision)
        notional = sum((p.as_decimal() * q * scale for p, q in kept), Decimal(0))
        fee = notional * Decimal(repr(venue.taker_fee_bps)) / _BPS
        allocations.append(
            RouteAllocation(
                venue=name,
                instrument_id=venue.instrument_id,
                quantity=Quantity(rounded, precision),
                limit_price=kept[-1][0],
                notional=notional,
                fee=fee,
            )
        )
    routed = sum(a.quantity.raw for a in allocations)
    return RoutePlan(
        side=side,
        requested=quantity,
        allocations=tuple(allocations),
        unrouted=Quantity(quantity.raw - routed, precision),
    )


def submit_route(
    plan: RoutePlan,
    gateway: OrderGateway,
    *,
    parent_order_id: str | None = None,
    tags: tuple[str, ...] = ("algo:sor",),
    reduce_only: bool = False,
) -> list[Order]:
    """Send one IOC limit per allocation (at its limit price) through ``gateway``.

    Returns the child orders in allocation order (some may be denied by risk).
    """
    factory = gateway.order_factory
    children = []
    for allocation in plan.allocations:
        init = factory.limit(
            allocation.instrument_id,
            plan.side,
            allocation.quantity,
            allocation.limit_price,
            time_in_force=TimeInForce.IOC,
            reduce_only=reduce_only,
            parent_order_id=parent_order_id,
            tags=tags,
        )
        children.append(gateway.submit_order(init))
    return children
