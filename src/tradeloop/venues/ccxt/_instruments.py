"""Instruments from ccxt's markets, and the instrument id ↔ ccxt symbol map.

ccxt describes a market's grid in one of its precision modes: ``TICK_SIZE`` (the price and
amount precision are the tick and the step, e.g. 0.01), ``DECIMAL_PLACES`` (numbers of
decimals, e.g. 2) or ``SIGNIFICANT_DIGITS`` (not a grid; refused). The instrument's tick
size, lot size (the amount step), precisions and quantity bounds come from there. The model
has no minimum notional: a market's ``limits.cost.min`` is not carried.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import ccxt

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.fixed import decimal_to_raw
from tradeloop.model.enums import InstrumentKind
from tradeloop.model.instruments import Instrument, split_instrument_id
from tradeloop.venues.ccxt._exchange import to_decimal


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _grid(value: Any, precision_mode: int, what: str) -> tuple[Decimal, int]:
    # Return (step, decimals) of one precision entry of a market.
    number = to_decimal(value)
    if number is None:
        raise InvalidValueError(f"has no {what} precision")
    if precision_mode == ccxt.DECIMAL_PLACES:
        digits = int(number)
        return Decimal(1).scaleb(-digits), max(0, digits)
    if precision_mode == ccxt.TICK_SIZE:
        if number <= 0:
            raise InvalidValueError(f"{what} tick {number} is not positive")
        return number, _decimals(number)
    raise InvalidValueError("uses significant-digit precision, which is not a price grid")


def market_kind(market: dict[str, Any]) -> InstrumentKind | None:
    """Return the instrument kind of a ccxt market (``None``: not spot or a linear perpetual)."""
    if market.get("spot"):
        return InstrumentKind.CRYPTO_SPOT
    if market.get("swap") and market.get("linear"):
        return InstrumentKind.CRYPTO_PERPETUAL
    return None


def instrument_from_market(market: dict[str, Any], venue: str, precision_mode: int) -> Instrument:
    """Return the ``Instrument`` of one ccxt market, id ``<market id>.<venue>``.

    Raises
    ------
    InvalidValueError
        If the market has no usable grid, an unknown quote currency or is neither spot nor a
        linear perpetual.
    """
    kind = market_kind(market)
    if kind is None:
        raise InvalidValueError(
            f"is a market of type {market.get('type')} (only spot and linear swaps are supported)"
        )
    precision = market.get("precision") or {}
    tick, price_precision = _grid(precision.get("price"), precision_mode, "price")
    step, size_precision = _grid(precision.get("amount"), precision_mode, "amount")
    price_precision = max(price_precision, _decimals(tick))
    limits = (market.get("limits") or {}).get("amount") or {}
    minimum, maximum = to_decimal(limits.get("min")), to_decimal(limits.get("max"))
    if minimum is not None:
        size_precision = max(size_precision, _decimals(minimum))
    multiplier = None
    if kind is not InstrumentKind.CRYPTO_SPOT:
        multiplier = to_decimal(market.get("contractSize"))
    return Instrument(
        id=f"{market['id']}.{venue}",
        kind=kind,
        quote_currency=str(market.get("quote")),
        base_currency=str(market.get("base")),
        price_precision=price_precision,
        size_precision=size_precision,
        tick_size_raw=decimal_to_raw(tick, price_precision, "tick size"),
        lot_size_raw=decimal_to_raw(step, size_precision, "lot size"),
        multiplier=str(multiplier.normalize()) if multiplier else "1",
        min_quantity_raw=None
        if not minimum
        else decimal_to_raw(minimum, size_precision, "minimum quantity"),
        max_quantity_raw=None
        if not maximum
        else decimal_to_raw(maximum, size_precision, "maximum quantity"),
    )


def instruments_from_markets(
    exchange: Any,
    venue: str,
    *,
    market_type: str | None = "spot",
    symbols: Iterable[str] | None = None,
    skipped: dict[str, str] | None = None,
) -> list[Instrument]:
    """Return the instruments of a ccxt client's loaded markets, sorted by id.

    Parameters
    ----------
    exchange : a ccxt client whose markets are loaded (``load_markets`` or ``set_markets``).
    venue : the venue part of the instrument ids (``"BINANCE"``).
    market_type : ``"spot"`` or ``"swap"``: keep only that type (``None``: both, whose ids may
        clash: Binance's spot and perpetual BTCUSDT are both ``BTCUSDT``).
    symbols : ccxt symbols to convert (``None``: every market).
    skipped : filled with ccxt symbol → why a market could not become an instrument
        (an unknown quote currency, an inverse contract …); nothing is dropped unsaid.

    Raises
    ------
    ConfigError
        If a requested symbol is not a market of the exchange, or cannot be converted.
    """
    markets: dict[str, Any] = exchange.markets or {}
    mode = int(exchange.precisionMode)
    wanted = sorted(markets) if symbols is None else list(symbols)
    result: list[Instrument] = []
    for symbol in wanted:
        market = markets.get(symbol)
        if market is None:
            raise ConfigError(f"{exchange.id} has no market {symbol!r}")
        if market_type is not None and market.get("type") != market_type:
            if symbols is not None:
                raise ConfigError(f"{exchange.id} market {symbol} is not a {market_type} market")
            continue
        try:
            result.append(instrument_from_market(market, venue, mode))
        except InvalidValueError as error:
            if symbols is not None:
                raise ConfigError(f"{exchange.id} market {symbol}: {error}") from None
            if skipped is not None:
                skipped[symbol] = str(error)
    return sorted(result, key=lambda instrument: instrument.id)


def resolve_symbols(
    exchange: Any, instrument_ids: Iterable[str], configured: dict[str, str], market_type: str
) -> dict[str, str]:
    """Return instrument id → ccxt symbol: the configured map, else the market of
    ``market_type`` whose venue id is the instrument's symbol (``BTCUSDT.BINANCE`` → the
    market with id ``BTCUSDT``).

    Raises
    ------
    ConfigError
        If an instrument has no market.
    """
    markets: dict[str, Any] = exchange.markets or {}
    result: dict[str, str] = {}
    for instrument_id in instrument_ids:
        if instrument_id in configured:
            symbol = configured[instrument_id]
            if symbol not in markets:
                raise ConfigError(
                    f"connection symbols maps {instrument_id} to {symbol!r}, "
                    f"which is not a market of {exchange.id}"
                )
            result[instrument_id] = symbol
            continue
        venue_symbol = split_instrument_id(instrument_id)[0]
        found = sorted(
            symbol
            for symbol, market in markets.items()
            if market.get("id") == venue_symbol and market.get("type") == market_type
        )
        if not found:
            raise ConfigError(
                f"instrument {instrument_id}: {exchange.id} has no {market_type} market with id "
                f"{venue_symbol!r}; map it in the connection's symbols table"
            )
        result[instrument_id] = found[0]
    return result


def fetch_instruments(
    config: Any,
    venue: str,
    symbols: Iterable[str] | None = None,
    skipped: dict[str, str] | None = None,
) -> list[Instrument]:
    """Load the exchange's markets (public endpoints, no key) and return them as instruments
    (``instruments_from_markets``), for ``tradeloop venue instruments``.

    ``config`` is a ``CcxtConnectionConfig``.

    Raises
    ------
    ConfigError
        If a requested symbol is not a market of the exchange or cannot be converted.
    """
    import asyncio

    from tradeloop.venues.ccxt._exchange import make_exchange

    async def load() -> list[Instrument]:
        exchange = make_exchange(config, None)
        try:
            await exchange.load_markets()
            return instruments_from_markets(
                exchange, venue, market_type=config.market_type, symbols=symbols, skipped=skipped
            )
        finally:
            await exchange.close()

    return asyncio.run(load())
