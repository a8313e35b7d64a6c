"""Alpaca's assets (``GET /v2/assets``) as tradeloop instruments.

US equities only (``class`` ``us_equity``): price precision 2, tick 0.01 (or the asset's
``price_increment`` when Alpaca states one), lot 1 (whole shares: this adapter sends
whole-share orders; fractionable assets are noted, not traded in fractions), calendar XNYS.
The instrument id is ``<symbol>.<MIC>`` of the listing exchange (``SPY.ARCX``,
``AAPL.XNAS``), or ``<symbol>.<venue>`` when a venue name is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from tradeloop.core.errors import DataIntegrityError
from tradeloop.model.instruments import Instrument, equity
from tradeloop.venues.alpaca._rest import call, trading_client
from tradeloop.venues.alpaca.config import (
    AlpacaConnectionConfig,
    AlpacaCredentials,
    load_credentials,
)

EXCHANGE_MICS = {
    "NASDAQ": "XNAS",
    "NYSE": "XNYS",
    "ARCA": "ARCX",
    "NYSEARCA": "ARCX",
    "AMEX": "XASE",
    "BATS": "BATS",
    "OTC": "OTCM",
}
"""Alpaca's exchange names and the ISO 10383 MIC used in instrument ids."""
_CENT = Decimal("0.01")


class AlpacaAsset(msgspec.Struct, frozen=True, kw_only=True):
    """One tradable Alpaca asset: its instrument and what Alpaca says about it."""

    instrument: Instrument
    symbol: str
    name: str
    exchange: str
    is_fractionable: bool
    is_shortable: bool
    is_marginable: bool


def assets_from_alpaca(
    assets: Iterable[Mapping[str, Any]], *, venue: str | None = None, tradable_only: bool = True
) -> list[AlpacaAsset]:
    """Return Alpaca's asset records (raw ``/v2/assets`` JSON) as ``AlpacaAsset``s, by symbol.

    Assets of other classes (crypto, options) and, with ``tradable_only``, inactive or
    untradable ones are left out.

    Raises
    ------
    DataIntegrityError
        If a us_equity record lacks its symbol or exchange.
    """
    found: list[AlpacaAsset] = []
    for record in assets:
        if record.get("class", record.get("asset_class")) != "us_equity":
            continue
        if tradable_only and (record.get("status") != "active" or not record.get("tradable")):
            continue
        symbol, exchange = record.get("symbol"), record.get("exchange")
        if not isinstance(symbol, str) or not symbol or not isinstance(exchange, str):
            raise DataIntegrityError(
                f"Alpaca asset {record.get('id')!r} has no symbol or exchange: {dict(record)}"
            )
        where = venue or EXCHANGE_MICS.get(exchange, exchange)
        tick = _tick(record)
        exponent = tick.as_tuple().exponent
        precision = max(2, -exponent) if isinstance(exponent, int) else 2
        found.append(
            AlpacaAsset(
                instrument=equity(
                    symbol, where, price_precision=precision, tick_size=f"{tick:f}", calendar="XNYS"
                ),
                symbol=symbol,
                name=str(record.get("name") or symbol),
                exchange=exchange,
                is_fractionable=bool(record.get("fractionable")),
                is_shortable=bool(record.get("shortable")),
                is_marginable=bool(record.get("marginable")),
            )
        )
    found.sort(key=lambda asset: asset.symbol)
    return found


def _tick(record: Mapping[str, Any]) -> Decimal:
    text = record.get("price_increment")
    try:
        tick = Decimal(str(text)) if text not in (None, "") else _CENT
    except ArithmeticError:
        return _CENT
    return tick.normalize() if tick.is_finite() and 0 < tick <= 1 else _CENT


def instruments_from_assets(
    assets: Iterable[Mapping[str, Any]], *, venue: str | None = None, tradable_only: bool = True
) -> list[Instrument]:
    """Return the instruments of Alpaca's asset records (``assets_from_alpaca``), by symbol."""
    return [
        a.instrument for a in assets_from_alpaca(assets, venue=venue, tradable_only=tradable_only)
    ]


def fetch_assets(
    config: AlpacaConnectionConfig,
    credentials: AlpacaCredentials | None = None,
    *,
    venue: str | None = None,
) -> list[AlpacaAsset]:
    """Return Alpaca's tradable US equities (``GET /v2/assets``) for ``tradeloop venue
    instruments``.

    Raises
    ------
    AlpacaConfigError
        If the credentials cannot be read.
    VenueRejectedError
        If Alpaca refuses the credentials.
    TransientVenueError
        If Alpaca cannot be reached.
    """
    client = trading_client(config, credentials or load_credentials(config))
    records: Any = call("list the Alpaca assets", client.get_all_assets)
    if not isinstance(records, list):
        raise DataIntegrityError(
            f"Alpaca's /v2/assets answered {type(records).__name__}, not a list"
        )
    return assets_from_alpaca(records, venue=venue)
