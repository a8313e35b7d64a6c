"""Alpaca's assets as instruments: US equities with a cent tick, whole-share lots and the
XNYS calendar, ids by listing exchange, fractionable assets noted."""

from __future__ import annotations

import pytest
from tests.unit.venues.alpaca.conftest import CREDENTIALS, connection

from tradeloop.core.errors import DataIntegrityError
from tradeloop.model.enums import InstrumentKind
from tradeloop.testing import EmulatorThread
from tradeloop.venues.alpaca import assets_from_alpaca, fetch_assets, instruments_from_assets

# the shape of Alpaca's GET /v2/assets records (docs.alpaca.markets, Assets)
AAPL = {"id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415", "class": "us_equity", "exchange": "NASDAQ",
        "symbol": "AAPL", "name": "Apple Inc. Common Stock", "status": "active",
        "tradable": True, "marginable": True, "shortable": True, "easy_to_borrow": True,
        "fractionable": True}  # fmt: skip
BTC = {"id": "276e2673-764b-4ab6-a611-caf665ca6340", "class": "crypto", "exchange": "CRYPTO",
       "symbol": "BTC/USD", "status": "active", "tradable": True, "fractionable": True}  # fmt: skip


def test_us_equities_become_cent_tick_whole_share_instruments() -> None:
    delisted = AAPL | {"symbol": "ZZZZ", "status": "inactive"}
    [instrument] = instruments_from_assets([BTC, delisted, AAPL])
    assert instrument.id == "AAPL.XNAS"
    assert instrument.kind is InstrumentKind.EQUITY
    assert instrument.price_precision == 2
    assert str(instrument.tick_size) == "0.01"
    assert str(instrument.lot_size) == "1"
    assert instrument.exchange_calendar == "XNYS"
    assert instrument.quote_currency == "USD"
    [asset] = assets_from_alpaca([AAPL], venue="ALPACA")
    assert asset.instrument.id == "AAPL.ALPACA"
    assert asset.is_fractionable
    assert asset.is_shortable
    with pytest.raises(DataIntegrityError, match="no symbol"):
        instruments_from_assets([AAPL | {"symbol": None}])


def test_the_emulators_assets_through_alpaca_py(alpaca: EmulatorThread) -> None:
    assets = fetch_assets(connection(alpaca.url), CREDENTIALS)
    assert [a.instrument.id for a in assets] == ["GOOG.XNAS", "SPY.ARCX"]
    assert [a.instrument.price_precision for a in assets] == [2, 4]  # its price_increment
    assert not any(a.is_fractionable for a in assets)
