"""ccxt venues: any exchange ccxt supports, for market data (ccxt.pro streams) and orders
(ccxt REST plus the user-data streams), each client on its own event-loop thread.

Build a connection from its ``[connections.<NAME>]`` table, then the clients::

    config = msgspec.convert(table, CcxtConnectionConfig)
    data = CcxtDataClient(config, "BINANCE", inbox, instruments)
    execution = CcxtExecutionClient(config, "BINANCE", inbox, instruments)

See ``docs/venues.md`` for the keys, the retry policy and what is supported.
"""

from tradeloop.venues.ccxt._config import (
    CcxtConnectionConfig,
    Credentials,
    SecretStr,
    check_real_money,
    is_loopback,
    resolve_credentials,
)
from tradeloop.venues.ccxt._data import CcxtDataClient, QuarantinedMessageError
from tradeloop.venues.ccxt._execution import CcxtExecutionClient
from tradeloop.venues.ccxt._instruments import (
    fetch_instruments,
    instrument_from_market,
    instruments_from_markets,
    resolve_symbols,
)

__all__ = [
    "CcxtConnectionConfig",
    "CcxtDataClient",
    "CcxtExecutionClient",
    "Credentials",
    "QuarantinedMessageError",
    "SecretStr",
    "check_real_money",
    "fetch_instruments",
    "instrument_from_market",
    "instruments_from_markets",
    "is_loopback",
    "resolve_credentials",
    "resolve_symbols",
]
