"""Alpaca (US equities) through the unmodified alpaca-py library: the connection config, the
market data client (``StockDataStream``), the execution client (``TradingClient`` and
``TradingStream``) and Alpaca's assets as instruments. See docs/venues-alpaca.md."""

from tradeloop.venues.alpaca._rest import AlpacaRejectedError, AlpacaTransientError, RetryPolicy
from tradeloop.venues.alpaca._translate import fill_trade_id
from tradeloop.venues.alpaca.config import (
    FEEDS,
    AlpacaConfigError,
    AlpacaConnectionConfig,
    AlpacaCredentials,
    AlpacaUrls,
    Secret,
    alpaca_urls,
    is_loopback,
    load_credentials,
)
from tradeloop.venues.alpaca.data import AlpacaDataClient, MalformedMessageError
from tradeloop.venues.alpaca.execution import AlpacaExecutionClient
from tradeloop.venues.alpaca.instruments import (
    EXCHANGE_MICS,
    AlpacaAsset,
    assets_from_alpaca,
    fetch_assets,
    instruments_from_assets,
)

__all__ = [
    "EXCHANGE_MICS",
    "FEEDS",
    "AlpacaAsset",
    "AlpacaConfigError",
    "AlpacaConnectionConfig",
    "AlpacaCredentials",
    "AlpacaDataClient",
    "AlpacaExecutionClient",
    "AlpacaRejectedError",
    "AlpacaTransientError",
    "AlpacaUrls",
    "MalformedMessageError",
    "RetryPolicy",
    "Secret",
    "alpaca_urls",
    "assets_from_alpaca",
    "fetch_assets",
    "fill_trade_id",
    "instruments_from_assets",
    "is_loopback",
    "load_credentials",
]
