"""ccxt's errors typed for tradeloop (transient or rejected, with the venue's code and text)
and the URL mapping to a base URL."""

from __future__ import annotations

import ccxt
import pytest
from tests.unit.venues.ccxt.helpers import connection

from tradeloop.core.errors import TransientVenueError, VenueRejectedError
from tradeloop.venues.ccxt import Credentials, SecretStr
from tradeloop.venues.ccxt._exchange import backoff_s, repoint, to_venue_error, venue_error_text
from tradeloop.venues.ccxt._translate import client_id_error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ccxt.RequestTimeout("binance POST /api/v3/order"), TransientVenueError),
        (ccxt.RateLimitExceeded('binance {"code":-1003,"msg":"Too many requests"}'),
         TransientVenueError),
        (ccxt.DDoSProtection("binance 418"), TransientVenueError),
        (ccxt.ExchangeNotAvailable("binance 503"), TransientVenueError),
        (ccxt.ExchangeError('binance {"code": -1008, "msg": "Server is busy"}'),
         TransientVenueError),
        (ccxt.InvalidOrder('binance {"code":-2010,"msg":"New order rejected."}'),
         VenueRejectedError),
        (ccxt.InsufficientFunds("binance Account has insufficient balance"), VenueRejectedError),
        (ccxt.BadRequest('binance {"code":-1102,"msg":"Mandatory parameter"}'),
         VenueRejectedError),
        (ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key"}'),
         VenueRejectedError),
        (ccxt.ExchangeError('binance {"code":-2011,"msg":"Unknown order sent."}'),
         VenueRejectedError),
    ],
)  # fmt: skip
def test_ccxt_errors_become_transient_or_rejected(error: Exception, kind: type) -> None:
    assert isinstance(to_venue_error("binance", error, None), kind)


def test_error_texts_name_the_venue_code_and_message() -> None:
    error = ccxt.InvalidOrder('binance {"code":-2010,"msg":"New order rejected."}')
    assert venue_error_text("binance", error) == "binance -2010: New order rejected."
    bybit = ccxt.InvalidOrder('bybit {"retCode":170131,"retMsg":"Insufficient balance."}')
    assert venue_error_text("bybit", bybit) == "bybit 170131: Insufficient balance."
    kraken = ccxt.InvalidOrder('kraken {"error":["EOrder:Insufficient funds"]}')
    assert venue_error_text("kraken", kraken) == "kraken: EOrder:Insufficient funds"
    # ccxt words some errors itself: the code comes from the body it quotes
    worded = ccxt.InsufficientFunds(
        "binance Account has insufficient balance for requested action."
    )
    body = '{"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    assert venue_error_text("binance", worded, body) == (
        "binance -2010: Account has insufficient balance for requested action."
    )
    other_body = '{"code":-1121,"msg":"Invalid symbol."}'  # a stale body is not borrowed
    assert venue_error_text("binance", worded, other_body).startswith("binance InsufficientFunds:")


def test_error_texts_never_carry_the_credentials() -> None:
    credentials = Credentials(api_key=SecretStr("KEY123456"), secret=SecretStr("SECRET98765"),
                              source="test")  # fmt: skip
    error = ccxt.AuthenticationError("binance apiKey KEY123456 secret SECRET98765 refused")
    text = str(to_venue_error("binance", error, credentials))
    assert "KEY123456" not in text
    assert "SECRET98765" not in text


def test_urls_keep_their_paths_on_the_base_url() -> None:
    urls = {
        "public": "https://api.binance.com/api/v3",
        "ws": {"spot": "wss://stream.binance.com:9443/ws"},
    }
    assert repoint(urls, "http://127.0.0.1:8765") == {
        "public": "http://127.0.0.1:8765/api/v3", "ws": {"spot": "ws://127.0.0.1:8765/ws"},
    }  # fmt: skip
    assert repoint(urls, "https://gateway.example:443")["ws"]["spot"] == (
        "wss://gateway.example:443/ws"
    )


def test_backoff_doubles_and_is_capped() -> None:
    config = connection("http://127.0.0.1:1", retry_base_s=0.5, retry_max_s=8.0)
    assert [backoff_s(config, n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_client_order_ids_follow_the_venue_rule() -> None:
    assert client_id_error("binance", "O-momentum-12") is None
    assert client_id_error("binance", "a:b/c.d_e-f") is None
    assert client_id_error("binance", "x" * 36) is None
    assert "breaks binance's rule" in (client_id_error("binance", "x" * 37) or "")
    assert "breaks binance's rule" in (client_id_error("binance", "with space") or "")
    assert "breaks bybit's rule" in (client_id_error("bybit", "a:b") or "")
