"""ccxt clients pointed at a local emulator.

The mapping keeps every path of ccxt's API URLs and replaces scheme and host:
``https://api.binance.com/api/v3`` becomes ``http://127.0.0.1:8765/api/v3``,
``https://api.binance.com/sapi/v1`` becomes ``http://127.0.0.1:8765/sapi/v1``,
``https://fapi.binance.com/fapi/v1`` becomes ``http://127.0.0.1:8765/fapi/v1``,
``wss://stream.binance.com:9443/ws`` becomes ``ws://127.0.0.1:8765/ws`` and
``wss://ws-api.binance.com:443/ws-api/v3`` becomes ``ws://127.0.0.1:8765/ws-api/v3``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def repoint_urls(urls: Any, base_url: str) -> Any:
    """Return a copy of ccxt's ``urls['api']`` (a string or nested dict) with scheme and host
    of every URL replaced by ``base_url`` (``http://host:port``); WebSocket URLs get
    ``ws://``."""
    if isinstance(urls, dict):
        return {key: repoint_urls(value, base_url) for key, value in urls.items()}
    if not isinstance(urls, str) or "://" not in urls:
        return urls
    parts = urlsplit(urls)
    base = urlsplit(base_url)
    scheme = "ws" if parts.scheme in ("ws", "wss") else base.scheme
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{base.netloc}{parts.path}{query}"


def ccxt_binance(
    base_url: str,
    api_key: str | None = None,
    secret: str | None = None,
    *,
    pro: bool = False,
    config: dict[str, Any] | None = None,
) -> Any:
    """Return an unmodified ccxt (``ccxt.async_support``, or ``ccxt.pro`` with ``pro``)
    Binance client whose API URLs point at the emulator at ``base_url``.

    Parameters
    ----------
    base_url : the emulator's ``http://host:port``.
    api_key, secret : the credentials the emulator accepts (``None``: public calls only).
    pro : return a ``ccxt.pro.binance`` (WebSocket ``watch_*`` methods) instead of a
        ``ccxt.async_support.binance``.
    config : extra ccxt options merged into the constructor's config. The client loads the
        markets of its ``defaultType`` only (spot by default; ``{"options": {"defaultType":
        "swap"}}`` for the USD-M perpetual) unless ``options.fetchMarkets`` is given.
    """
    if pro:
        import ccxt.pro as ccxt_module
    else:
        import ccxt.async_support as ccxt_module
    settings: dict[str, Any] = {"enableRateLimit": False}
    if api_key is not None:
        settings["apiKey"] = api_key
    if secret is not None:
        settings["secret"] = secret
    settings.update(config or {})
    exchange = ccxt_module.binance(settings)
    exchange.urls["api"] = repoint_urls(exchange.urls["api"], base_url)
    if "fetchMarkets" not in (config or {}).get("options", {}):
        # One host serves spot and USD-M: ccxt.pro tells their streams apart by host
        # (stream. vs fstream.binance.com), so load only the markets of the default type,
        # which keeps the id BTCUSDT unambiguous (spot pair or perpetual).
        swap = exchange.options.get("defaultType") in ("swap", "future", "linear")
        exchange.options["fetchMarkets"]["types"] = ["linear"] if swap else ["spot"]
    return exchange
