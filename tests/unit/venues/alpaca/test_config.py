"""The Alpaca connection config: defaults, the URL mapping, credentials from the environment or
a 0600 file, real money only when confirmed, and secrets never shown."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from tradeloop.core.errors import ConfigError
from tradeloop.venues.alpaca import (
    AlpacaConfigError,
    AlpacaConnectionConfig,
    alpaca_urls,
    is_loopback,
    load_credentials,
)

KEY, SECRET = "PKTESTKEY1234567890", "sEcReT-do-not-show-0987654321"


def test_defaults_are_the_paper_account_on_iex() -> None:
    config = AlpacaConnectionConfig()
    assert config.paper
    assert config.feed == "iex"
    assert not is_loopback(config)
    assert alpaca_urls(config).trading == "https://paper-api.alpaca.markets"
    assert alpaca_urls(config).trading_stream == "wss://paper-api.alpaca.markets/stream"
    assert alpaca_urls(config).data_stream == "wss://stream.data.alpaca.markets/v2/iex"


def test_base_url_replaces_scheme_and_host_of_every_api() -> None:
    config = AlpacaConnectionConfig(base_url="http://127.0.0.1:8766", feed="sip")
    urls = alpaca_urls(config)
    assert urls.trading == urls.data == "http://127.0.0.1:8766"
    assert urls.trading_stream == "ws://127.0.0.1:8766/stream"
    assert urls.data_stream == "ws://127.0.0.1:8766/v2/sip"
    assert is_loopback(config)
    assert alpaca_urls(
        AlpacaConnectionConfig(base_url="https://proxy.example:443")
    ).trading_stream == ("wss://proxy.example:443/stream")


def test_the_toml_table_decodes_and_mistakes_are_config_errors() -> None:
    table = {"kind": "alpaca", "paper": True, "base_url": "http://127.0.0.1:8766",
             "api_key_env": "APCA_API_KEY_ID", "secret_env": "APCA_API_SECRET_KEY"}  # fmt: skip
    assert msgspec.convert(table, AlpacaConnectionConfig).base_url == "http://127.0.0.1:8766"
    with pytest.raises(msgspec.ValidationError, match="feed"):
        msgspec.convert(table | {"feed": "otc"}, AlpacaConnectionConfig)
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert(table | {"api_key": KEY}, AlpacaConnectionConfig)
    with pytest.raises(ConfigError, match="path"):
        AlpacaConnectionConfig(base_url="http://127.0.0.1:8766/v2")


def test_a_live_account_needs_confirm_real_money_unless_it_is_an_emulator() -> None:
    with pytest.raises(AlpacaConfigError, match="confirm_real_money"):
        AlpacaConnectionConfig(paper=False)
    assert not AlpacaConnectionConfig(paper=False, confirm_real_money=True).paper
    assert alpaca_urls(AlpacaConnectionConfig(paper=False, confirm_real_money=True)).trading == (
        "https://api.alpaca.markets"
    )
    assert not AlpacaConnectionConfig(paper=False, base_url="http://localhost:1").paper


def test_credentials_come_from_the_named_environment_variables() -> None:
    config = AlpacaConnectionConfig(api_key_env="MY_KEY", secret_env="MY_SECRET")
    credentials = load_credentials(config, {"MY_KEY": KEY, "MY_SECRET": SECRET})
    assert credentials.api_key.reveal() == KEY
    assert credentials.secret.reveal() == SECRET
    with pytest.raises(AlpacaConfigError, match="MY_SECRET") as missing:
        load_credentials(config, {"MY_KEY": KEY})
    assert KEY not in str(missing.value)


def test_a_secrets_file_must_be_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "alpaca.secrets"
    path.write_text(f"# Alpaca paper keys\napi_key={KEY}\nsecret = {SECRET}\n")
    config = AlpacaConnectionConfig(secrets_file=str(path))
    os.chmod(path, 0o644)
    with pytest.raises(AlpacaConfigError, match="0644") as loose:
        load_credentials(config)
    os.chmod(path, 0o600)
    credentials = load_credentials(config)
    assert credentials.secret.reveal() == SECRET
    path.write_text(f"api_key={KEY}\npassword={SECRET}\n")
    with pytest.raises(AlpacaConfigError, match="line 2") as wrong_line:
        load_credentials(config)
    with pytest.raises(AlpacaConfigError, match="cannot be read"):
        load_credentials(AlpacaConnectionConfig(secrets_file=str(tmp_path / "missing")))
    for error in (loose.value, wrong_line.value):
        assert SECRET not in str(error)
        assert KEY not in str(error)


def test_secrets_never_appear_in_reprs() -> None:
    config = AlpacaConnectionConfig()
    credentials = load_credentials(config, {"APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET})
    shown = " ".join([repr(config), repr(credentials), str(credentials.secret), f"{credentials}"])
    assert SECRET not in shown
    assert KEY not in shown
    assert "********" in shown
