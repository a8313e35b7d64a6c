"""Transaction cost analysis (TCA): how well each order executed, and over a run.

Inputs are plain records and arrays, so the same code reads a backtest journal and live
fills: an order (side, quantity, arrival time and price, its fills as ``(ts, qty, price,
fee)``) and the market's prints over its life (``MarketPrints``: trade ticks, or bars with
a representative price such as their VWAP or close, stamped at their close).

Per order, with ``s = +1`` for a buy and ``-1`` for a sell, ``m`` the contract multiplier,
``Q`` the ordered and ``F`` the filled quantity, ``P0`` the arrival price and ``avg`` the
average fill price (every cost below is positive when it hurt us):

- **arrival price** ``P0``: given with the order, or the market's mid (``quotes``) or last
  trade (``prints``) at or before the arrival time (``arrival_source``);
- **slippage vs arrival** (bps) ``= s * (avg - P0) / P0 * 10_000``, fees excluded;
- **implementation shortfall** (Perold 1988, "The implementation shortfall: paper versus
  reality", J. Portfolio Management 14(3)): the paper portfolio trades all of ``Q`` at
  ``P0``; the real one pays
  ``execution = s * sum q_i (p_i - P0) m``, ``opportunity = s * (Q - F) (P_end - P0) m``
  (the unfilled rest valued at the market price at the end of the order's life) and the fees.
  In bps of the ordered notional ``Q P0 m``;
- **interval VWAP** ``= sum v_j p_j / sum v_j`` over prints with ``arrival <= ts <= end``,
  and slippage vs VWAP ``= s * (avg - VWAP) / VWAP * 10_000``;
- **interval TWAP**: the time average of the last price (a step function, as of each
  instant) over ``[arrival, end]``, starting from the last print at or before the arrival;
- **fill rate** ``F / Q``;
- **participation**: our share of the volume that would have traded in ``[arrival, end]``
  had we been there. In a simulation the recorded tape (volume ``V`` in the interval,
  ``market_volume``) never holds our hypothetical fills: what we took from the book
  (``F_taker``, fills without ``is_maker``) comes on top of it, while a resting (maker) fill
  was matched against a recorded print that ``V`` already counts. So
  ``participation_volume = max(V + F_taker, F)`` (never less than what we traded ourselves)
  and ``participation = F / participation_volume``, always within ``[0, 1]``; with taker
  fills only it is ``F / (V + F)``. ``volume_ratio = F / V`` is the raw ratio to the tape
  (above 1 when we took more than the market printed); it is the participation when the
  prints include our own fills, as a live venue's tape does.

The end of an order's life is ``end_ts_ns`` when given (its cancel or expiry), else its last
fill, else its arrival.

Over a run (``summarize_tca``), averages are notional-weighted: shortfall by ordered notional
(``sum shortfall / sum Q P0 m``, which is the weighted mean of the orders' bps), slippage,
VWAP and TWAP slippage, participation and volume ratio by filled notional at arrival
(``F P0 m``), fill
rate as filled over ordered notional. Money sums assume one quote currency.

**Parent orders** (``TcaParent``): an execution algorithm's children are also measured
together, as the one order the decision made: its quantity, its arrival (when the plan was
made) and the market price then, all its children's fills (on whichever venues they went),
and its end (the algorithm's completion, else its children's last end). The same formulas
apply; VWAP and TWAP are those of the parent's instrument, and the market volume behind
participation sums every instrument its children traded (a routed order's venues).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import DataIntegrityError, InvalidValueError
from tradeloop.model.enums import LiquiditySide, OrderSide
from tradeloop.model.events import OrderFilled

__all__ = [
    "ArrivalPriceSource",
    "MarketPrints",
    "MarketQuotes",
    "OrderTca",
    "ParentTca",
    "TcaFill",
    "TcaOrder",
    "TcaParent",
    "TcaReport",
    "TcaSummary",
    "arrival_price",
    "fills_from_events",
    "interval_twap",
    "interval_volume",
    "interval_vwap",
    "order_tca",
    "parent_tca",
    "summarize_tca",
    "tca_report",
]

_BPS: Final = 10_000.0  # basis points per unit
_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]


class ArrivalPriceSource(StrEnum):
    """Which market price stands for the arrival price when an order does not carry one."""

    MID = "mid"
    LAST = "last"


class TcaFill(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One fill: when, how much (positive), at what price, its fee in quote currency, and
    whether it was a resting order's (maker: matched against a market print) rather than
    one that took liquidity (taker, the default)."""

    ts_ns: int
    quantity: float
    price: float
    fee: float = 0.0
    is_maker: bool = False


class TcaOrder(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An order as TCA sees it.

    Attributes
    ----------
    order_id, instrument_id, side : identify the order.
    quantity : ordered quantity (positive).
    arrival_ts_ns : when the order arrived (the decision or submission time).
    fills : its fills.
    arrival_price : the benchmark price at arrival; ``None``: from the market data.
    end_ts_ns : end of the order's life (cancel, expiry); ``None``: last fill or arrival.
    end_price : market price at the end (values the unfilled rest); ``None``: from the
        market data, as of ``end_ts_ns``, by the same source as the arrival price.
    multiplier : contract multiplier (1 for spot).
    """

    order_id: str
    instrument_id: str
    side: OrderSide
    quantity: float
    arrival_ts_ns: int
    fills: tuple[TcaFill, ...] = ()
    arrival_price: float | None = None
    end_ts_ns: int | None = None
    end_price: float | None = None
    multiplier: float = 1.0
    parent_order_id: str | None = None


class TcaParent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A parent order (an execution plan) and its children, as TCA sees them.

    Attributes
    ----------
    order : the parent as one order: its quantity, arrival (the plan's time), every child's
        fill, and its end (completion, else the children's last end).
    algorithm : the execution algorithm.
    child_order_ids : its children, in submit order.
    instruments : every instrument its children traded (market volume is summed over them).
    """

    order: TcaOrder
    algorithm: str
    child_order_ids: tuple[str, ...]
    instruments: tuple[str, ...]


class OrderTca(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """TCA of one order (see the module docstring for the formulas and signs).

    Optional fields are ``None`` when undefined: no fills (no average price or slippage),
    no market volume in the interval (no VWAP or volume ratio; no participation either unless
    we filled), no print at or before the end (no TWAP), or no market price at the end (no
    end price; allowed when all filled). ``market_volume`` is the tape's volume over the
    order's life, ``participation_volume`` the volume had we been there and
    ``participation`` our share of it (in ``[0, 1]``), ``volume_ratio`` our fills over the
    tape's volume (see the module docstring).
    """

    order_id: str
    instrument_id: str
    side: OrderSide
    multiplier: float
    ordered_quantity: float
    filled_quantity: float
    fill_rate: float
    arrival_ts_ns: int
    end_ts_ns: int
    arrival_price: float
    end_price: float | None
    average_fill_price: float | None
    ordered_notional: float
    filled_notional: float
    fees_amount: float
    execution_cost_amount: float
    opportunity_cost_amount: float
    shortfall_amount: float
    shortfall_bps: float
    slippage_bps: float | None
    vwap: float | None
    vwap_slippage_bps: float | None
    twap: float | None
    twap_slippage_bps: float | None
    market_volume: float
    participation_volume: float | None
    participation: float | None
    volume_ratio: float | None
    parent_order_id: str | None = None


class ParentTca(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """TCA of a parent order: its children measured together against its arrival."""

    tca: OrderTca
    algorithm: str
    child_order_ids: tuple[str, ...]
    instruments: tuple[str, ...]


class TcaSummary(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """TCA aggregated over orders (notional-weighted; ``None`` when nothing to weigh)."""

    order_count: int
    filled_order_count: int
    ordered_notional: float
    filled_notional: float
    fill_rate: float | None
    fees_amount: float
    execution_cost_amount: float
    opportunity_cost_amount: float
    shortfall_amount: float
    shortfall_bps: float | None
    slippage_bps: float | None
    vwap_slippage_bps: float | None
    twap_slippage_bps: float | None
    participation: float | None
    volume_ratio: float | None = None


class TcaReport(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Per-order TCA and its summary; parent orders and theirs (empty without parents)."""

    orders: tuple[OrderTca, ...]
    summary: TcaSummary
    parents: tuple[ParentTca, ...] = ()
    parent_summary: TcaSummary | None = None


def _column(values: npt.ArrayLike, what: str) -> _F64:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise DataIntegrityError(f"{what} must be a one-dimensional array")
    if not np.all(np.isfinite(array)):
        raise DataIntegrityError(f"{what} contains a value that is not finite")
    return array


def _timestamps(values: npt.ArrayLike, what: str) -> _I64:
    array = np.ascontiguousarray(values, dtype=np.int64)
    if array.ndim != 1:
        raise DataIntegrityError(f"{what} must be a one-dimensional array")
    if array.size > 1 and np.any(np.diff(array) < 0):
        raise DataIntegrityError(f"{what} must be sorted in time (non-decreasing)")
    return array


class MarketPrints:
    """Market trades (or bars) of one instrument as columns: ``ts_ns``, ``price``, ``volume``.

    Raises
    ------
    DataIntegrityError
        If the columns differ in length, the times are not sorted, a price is not positive
        or a volume is negative (or any value is not finite).
    """

    __slots__ = ("price", "ts_ns", "volume")

    def __init__(self, ts_ns: npt.ArrayLike, price: npt.ArrayLike, volume: npt.ArrayLike) -> None:
        self.ts_ns = _timestamps(ts_ns, "print times")
        self.price = _column(price, "print prices")
        self.volume = _column(volume, "print volumes")
        if not self.ts_ns.size == self.price.size == self.volume.size:
            raise DataIntegrityError(
                f"print columns differ in length: {self.ts_ns.size} times, "
                f"{self.price.size} prices, {self.volume.size} volumes"
            )
        if np.any(self.price <= 0):
            raise DataIntegrityError("print prices must be positive")
        if np.any(self.volume < 0):
            raise DataIntegrityError("print volumes must not be negative")


class MarketQuotes:
    """Best bid and ask of one instrument as columns: ``ts_ns``, ``bid``, ``ask``.

    Raises
    ------
    DataIntegrityError
        If the columns differ in length, the times are not sorted, a quote is crossed or a
        price is not positive (or any value is not finite).
    """

    __slots__ = ("ask", "bid", "ts_ns")

    def __init__(self, ts_ns: npt.ArrayLike, bid: npt.ArrayLike, ask: npt.ArrayLike) -> None:
        self.ts_ns = _timestamps(ts_ns, "quote times")
        self.bid = _column(bid, "quote bids")
        self.ask = _column(ask, "quote asks")
        if not self.ts_ns.size == self.bid.size == self.ask.size:
            raise DataIntegrityError(
                f"quote columns differ in length: {self.ts_ns.size} times, "
                f"{self.bid.size} bids, {self.ask.size} asks"
            )
        if np.any(self.bid <= 0) or np.any(self.bid > self.ask):
            raise DataIntegrityError("quotes must have positive bids at or below their asks")


def _last_index_at_or_before(ts_ns: _I64, at_ns: int) -> int:
    return int(np.searchsorted(ts_ns, at_ns, side="right")) - 1


def arrival_price(
    at_ns: int,
    source: ArrivalPriceSource,
    prints: MarketPrints | None = None,
    quotes: MarketQuotes | None = None,
) -> float | None:
    """Return the market price at or before ``at_ns``: the quote mid or the last print.

    Returns ``None`` when the chosen data is missing or has nothing at or before ``at_ns``.
    """
    if source == ArrivalPriceSource.MID:
        if quotes is None:
            return None
        index = _last_index_at_or_before(quotes.ts_ns, at_ns)
        if index < 0:
            return None
        return float((quotes.bid[index] + quotes.ask[index]) / 2)
    if prints is None:
        return None
    index = _last_index_at_or_before(prints.ts_ns, at_ns)
    return None if index < 0 else float(prints.price[index])


def _window(prints: MarketPrints, start_ns: int, end_ns: int) -> slice:
    if end_ns < start_ns:
        raise InvalidValueError(f"interval end {end_ns} ns is before its start {start_ns} ns")
    first = int(np.searchsorted(prints.ts_ns, start_ns, side="left"))
    stop = int(np.searchsorted(prints.ts_ns, end_ns, side="right"))
    return slice(first, stop)


def interval_volume(prints: MarketPrints, start_ns: int, end_ns: int) -> float:
    """Return the market volume of prints with ``start_ns <= ts <= end_ns``.

    Raises
    ------
    InvalidValueError
        If ``end_ns`` is before ``start_ns``.
    """
    return float(prints.volume[_window(prints, start_ns, end_ns)].sum())


def interval_vwap(prints: MarketPrints, start_ns: int, end_ns: int) -> float | None:
    """Return the volume-weighted average price of prints with ``start_ns <= ts <= end_ns``.

    Returns ``None`` when the interval has no volume.

    Raises
    ------
    InvalidValueError
        If ``end_ns`` is before ``start_ns``.
    """
    window = _window(prints, start_ns, end_ns)
    volume = prints.volume[window]
    total = float(volume.sum())
    if total <= 0:
        return None
    return float(np.dot(volume, prints.price[window]) / total)


def interval_twap(prints: MarketPrints, start_ns: int, end_ns: int) -> float | None:
    """Return the time-weighted average of the last price over ``[start_ns, end_ns]``.

    The price at an instant is the last print at or before it. The average starts at
    ``start_ns`` with the last print at or before it, or, if there is none, at the first
    print inside the interval. A zero-length interval returns the price as of its end.
    Returns ``None`` when there is no price at or before ``end_ns``.

    Raises
    ------
    InvalidValueError
        If ``end_ns`` is before ``start_ns``.
    """
    if end_ns < start_ns:
        raise InvalidValueError(f"interval end {end_ns} ns is before its start {start_ns} ns")
    ts, price = prints.ts_ns, prints.price
    last = _last_index_at_or_before(ts, end_ns)
    if last < 0:
        return None
    before = _last_index_at_or_before(ts, start_ns)
    first_inside = before + 1
    if before >= 0:
        times = np.concatenate(([start_ns], ts[first_inside : last + 1], [end_ns]))
        levels = price[before : last + 1]
    else:
        times = np.concatenate((ts[first_inside : last + 1], [end_ns]))
        levels = price[first_inside : last + 1]
    durations = np.diff(times).astype(np.float64)
    total = float(durations.sum())
    if total <= 0:
        return float(price[last])
    return float(np.dot(durations, levels) / total)


def fills_from_events(events: Iterable[OrderFilled]) -> tuple[TcaFill, ...]:
    """Return TCA fills from ``OrderFilled`` events (quantity, price and fee as floats).

    Duplicate trade ids are dropped (the first is kept), as the portfolio does.
    """
    seen: set[str] = set()
    fills = []
    for event in events:
        if event.trade_id in seen:
            continue
        seen.add(event.trade_id)
        fills.append(
            TcaFill(
                ts_ns=event.ts_event,
                quantity=float(event.last_qty),
                price=float(event.last_px),
                fee=float(event.commission),
                is_maker=event.liquidity_side is LiquiditySide.MAKER,
            )
        )
    return tuple(fills)


def _participation(
    fills: Sequence[TcaFill], filled: float, volume: float | None
) -> tuple[float | None, float | None, float | None]:
    # (participation volume, participation, volume ratio): see the module docstring; all
    # None without a tape to measure the market's volume on.
    if volume is None:
        return None, None, None
    taken = math.fsum(fill.quantity for fill in fills if not fill.is_maker)
    with_us = max(volume + taken, filled)
    participation = filled / with_us if with_us > 0 else None
    return with_us, participation, filled / volume if volume > 0 else None


def _check_order(order: TcaOrder) -> None:
    if not math.isfinite(order.quantity) or order.quantity <= 0:
        raise InvalidValueError(
            f"order {order.order_id} quantity {order.quantity} must be finite and positive"
        )
    if not math.isfinite(order.multiplier) or order.multiplier <= 0:
        raise InvalidValueError(
            f"order {order.order_id} multiplier {order.multiplier} must be finite and positive"
        )
    for fill in order.fills:
        if not (math.isfinite(fill.quantity) and fill.quantity > 0):
            raise DataIntegrityError(
                f"order {order.order_id} fill quantity {fill.quantity} must be positive"
            )
        if not (math.isfinite(fill.price) and fill.price > 0 and math.isfinite(fill.fee)):
            raise DataIntegrityError(
                f"order {order.order_id} fill price {fill.price} must be positive and its fee "
                f"{fill.fee} finite"
            )
        if fill.ts_ns < order.arrival_ts_ns:
            raise DataIntegrityError(
                f"order {order.order_id} fill at {fill.ts_ns} ns is before its arrival at "
                f"{order.arrival_ts_ns} ns"
            )


def order_tca(
    order: TcaOrder,
    prints: MarketPrints | None = None,
    quotes: MarketQuotes | None = None,
    arrival_source: ArrivalPriceSource = ArrivalPriceSource.MID,
) -> OrderTca:
    """Return the TCA of one order against the market data over its life.

    Parameters
    ----------
    order : the order and its fills.
    prints : market trades or bars of the order's instrument (for VWAP, TWAP, volume, and
        the last price).
    quotes : market quotes (for the mid).
    arrival_source : which market price is the arrival price when the order carries none,
        and the end price when it carries none.

    Raises
    ------
    InvalidValueError
        If the order's quantity or multiplier is not positive.
    DataIntegrityError
        If a fill is before the arrival or after the end, the fills exceed the order, or a
        needed arrival or end price is not available.
    """
    _check_order(order)
    side = 1.0 if order.side == OrderSide.BUY else -1.0
    fill_times = [fill.ts_ns for fill in order.fills]
    end_ns = order.end_ts_ns
    if end_ns is None:
        end_ns = max(fill_times, default=order.arrival_ts_ns)
    if end_ns < order.arrival_ts_ns or any(ts > end_ns for ts in fill_times):
        raise DataIntegrityError(
            f"order {order.order_id} ends at {end_ns} ns, before its arrival or a fill"
        )
    filled = math.fsum(fill.quantity for fill in order.fills)
    if filled > order.quantity * (1 + 1e-12):
        raise DataIntegrityError(
            f"order {order.order_id} filled {filled}, more than its quantity {order.quantity}"
        )
    start_price = order.arrival_price
    if start_price is None:
        start_price = arrival_price(order.arrival_ts_ns, arrival_source, prints, quotes)
    if start_price is None or not (math.isfinite(start_price) and start_price > 0):
        raise DataIntegrityError(
            f"order {order.order_id} has no positive arrival price: none given and no "
            f"{arrival_source.value} price at or before {order.arrival_ts_ns} ns"
        )
    remaining = max(order.quantity - filled, 0.0)
    end_price = order.end_price
    if end_price is None:
        end_price = arrival_price(end_ns, arrival_source, prints, quotes)
    if remaining > 0 and end_price is None:
        raise DataIntegrityError(
            f"order {order.order_id} has {remaining} unfilled and no {arrival_source.value} "
            f"price at or before its end at {end_ns} ns to value it"
        )

    multiplier = order.multiplier
    fill_value = math.fsum(fill.quantity * fill.price for fill in order.fills)
    fees = math.fsum(fill.fee for fill in order.fills)
    average = fill_value / filled if filled > 0 else None
    execution = side * (fill_value - filled * start_price) * multiplier
    opportunity = 0.0
    if remaining > 0 and end_price is not None:
        opportunity = side * remaining * (end_price - start_price) * multiplier
    shortfall = execution + opportunity + fees
    ordered_notional = order.quantity * start_price * multiplier

    def slippage(benchmark: float | None) -> float | None:
        if average is None or benchmark is None:
            return None
        return side * (average - benchmark) / benchmark * _BPS

    vwap = twap = tape_volume = None
    if prints is not None:
        vwap = interval_vwap(prints, order.arrival_ts_ns, end_ns)
        twap = interval_twap(prints, order.arrival_ts_ns, end_ns)
        tape_volume = interval_volume(prints, order.arrival_ts_ns, end_ns)
    with_us, participation, volume_ratio = _participation(order.fills, filled, tape_volume)
    return OrderTca(
        order_id=order.order_id,
        instrument_id=order.instrument_id,
        side=order.side,
        multiplier=multiplier,
        ordered_quantity=order.quantity,
        filled_quantity=filled,
        fill_rate=filled / order.quantity,
        arrival_ts_ns=order.arrival_ts_ns,
        end_ts_ns=end_ns,
        arrival_price=start_price,
        end_price=end_price,
        average_fill_price=average,
        ordered_notional=ordered_notional,
        filled_notional=fill_value * multiplier,
        fees_amount=fees,
        execution_cost_amount=execution,
        opportunity_cost_amount=opportunity,
        shortfall_amount=shortfall,
        shortfall_bps=shortfall / ordered_notional * _BPS,
        slippage_bps=slippage(start_price),
        vwap=vwap,
        vwap_slippage_bps=slippage(vwap),
        twap=twap,
        twap_slippage_bps=slippage(twap),
        market_volume=tape_volume or 0.0,
        participation_volume=with_us,
        participation=participation,
        volume_ratio=volume_ratio,
        parent_order_id=order.parent_order_id,
    )


def parent_tca(
    parent: TcaParent,
    prints: Mapping[str, MarketPrints] | None = None,
    quotes: Mapping[str, MarketQuotes] | None = None,
    arrival_source: ArrivalPriceSource = ArrivalPriceSource.MID,
) -> ParentTca:
    """Return the TCA of a parent order (see the module docstring).

    Raises
    ------
    InvalidValueError, DataIntegrityError
        As ``order_tca``.
    """
    order = parent.order
    own = None if prints is None else prints.get(order.instrument_id)
    result = order_tca(
        order,
        own,
        None if quotes is None else quotes.get(order.instrument_id),
        arrival_source,
    )
    others = [i for i in parent.instruments if i != order.instrument_id and i in (prints or {})]
    if prints is not None and others:
        # The market's volume on every venue the children went to (a tape on at least one).
        volume = result.market_volume + math.fsum(
            interval_volume(prints[i], result.arrival_ts_ns, result.end_ts_ns) for i in others
        )
        with_us, participation, volume_ratio = _participation(
            order.fills, result.filled_quantity, volume
        )
        result = msgspec.structs.replace(
            result,
            market_volume=volume,
            participation_volume=with_us,
            participation=participation,
            volume_ratio=volume_ratio,
        )
    return ParentTca(
        tca=result,
        algorithm=parent.algorithm,
        child_order_ids=parent.child_order_ids,
        instruments=parent.instruments,
    )


def _weighted(pairs: list[tuple[float, float | None]]) -> float | None:
    # Weighted mean over the pairs whose value is defined; None if no weight is left.
    usable = [(weight, value) for weight, value in pairs if value is not None and weight > 0]
    total = math.fsum(weight for weight, _ in usable)
    if total <= 0:
        return None
    return math.fsum(weight * value for weight, value in usable) / total


def summarize_tca(results: Sequence[OrderTca]) -> TcaSummary:
    """Return the notional-weighted aggregate of per-order TCA (see the module docstring)."""
    ordered = math.fsum(r.ordered_notional for r in results)
    filled_at_arrival = [r.filled_quantity * r.arrival_price * r.multiplier for r in results]
    filled_weight = math.fsum(filled_at_arrival)
    execution = math.fsum(r.execution_cost_amount for r in results)
    opportunity = math.fsum(r.opportunity_cost_amount for r in results)
    fees = math.fsum(r.fees_amount for r in results)
    shortfall = math.fsum(r.shortfall_amount for r in results)
    return TcaSummary(
        order_count=len(results),
        filled_order_count=sum(1 for r in results if r.filled_quantity > 0),
        ordered_notional=ordered,
        filled_notional=math.fsum(r.filled_notional for r in results),
        fill_rate=filled_weight / ordered if ordered > 0 else None,
        fees_amount=fees,
        execution_cost_amount=execution,
        opportunity_cost_amount=opportunity,
        shortfall_amount=shortfall,
        shortfall_bps=shortfall / ordered * _BPS if ordered > 0 else None,
        slippage_bps=_weighted(
            [(w, r.slippage_bps) for w, r in zip(filled_at_arrival, results, strict=True)]
        ),
        vwap_slippage_bps=_weighted(
            [(w, r.vwap_slippage_bps) for w, r in zip(filled_at_arrival, results, strict=True)]
        ),
        twap_slippage_bps=_weighted(
            [(w, r.twap_slippage_bps) for w, r in zip(filled_at_arrival, results, strict=True)]
        ),
        participation=_weighted(
            [(w, r.participation) for w, r in zip(filled_at_arrival, results, strict=True)]
        ),
        volume_ratio=_weighted(
            [(w, r.volume_ratio) for w, r in zip(filled_at_arrival, results, strict=True)]
        ),
    )


def tca_report(
    orders: Iterable[TcaOrder],
    prints: Mapping[str, MarketPrints] | None = None,
    quotes: Mapping[str, MarketQuotes] | None = None,
    arrival_source: ArrivalPriceSource = ArrivalPriceSource.MID,
    parents: Iterable[TcaParent] = (),
) -> TcaReport:
    """Return the TCA of every order (in the given order) and their summary, and of every
    parent order and theirs.

    ``prints`` and ``quotes`` map instrument ids to that instrument's market data.

    Raises
    ------
    InvalidValueError, DataIntegrityError
        As ``order_tca``.
    """
    results = tuple(
        order_tca(
            order,
            None if prints is None else prints.get(order.instrument_id),
            None if quotes is None else quotes.get(order.instrument_id),
            arrival_source,
        )
        for order in orders
    )
    parent_results = tuple(parent_tca(p, prints, quotes, arrival_source) for p in parents)
    return TcaReport(
        orders=results,
        summary=summarize_tca(results),
        parents=parent_results,
        parent_summary=summarize_tca([p.tca for p in parent_results]) if parent_results else None,
    )
