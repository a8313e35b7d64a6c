"""The ccxt connection config: a TOML table converts whole, credentials are named and
masked, secrets files must be private, real money needs a confirmation."""

from __future__ import annotations

import os
import pickle
import tomllib
from pathlib import Path

import msgspec
import pytest

from tradeloop.bus.inbox import Inbox
from tradeloop.core.clock import LiveClock
from tradeloop.core.errors import ConfigError
from tradeloop.venues.ccxt import (
    CcxtConnectionConfig,
    CcxtExecutionClient,
    SecretStr,
    check_real_money,
    is_loopback,
    resolve_credentials,
)

KEY = "k3y-DO-NOT-LEAK-1234567890"
SECRET = "s3cret-DO-NOT-LEAK-0987654321"

TABLE = """
[connections.BINANCE]
kind = "ccxt"
exchange = "binance"
base_url = "http://127.0.0.1:8765"
api_key_env = "BINANCE_API_KEY"
secret_env = "BINANCE_SECRET"
"""


def test_the_documented_toml_table_converts_whole() -> None:
    table = tomllib.loads(TABLE)["connections"]["BINANCE"]
    config = msgspec.convert(table, CcxtConnectionConfig)
    assert config.kind == "ccxt"
    assert config.exchange == "binance"
    assert config.market_type == "spot"
    assert is_loopback(config)
    check_real_money(config)  # loopback: no confirmation needed


def test_unknown_keys_and_bad_values_are_refused_with_the_rule() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `api_key`"):
        msgspec.convert({"exchange": "binance", "api_key": KEY}, CcxtConnectionConfig)
    with pytest.raises(ConfigError, match="'binanse' is not a ccxt exchange id"):
        CcxtConnectionConfig(exchange="binanse")
    with pytest.raises(ConfigError, match="must look like http://host:port"):
        CcxtConnectionConfig(exchange="binance", base_url="127.0.0.1:8765")
    with pytest.raises(ConfigError, match="both api_key_env and secret_env"):
        CcxtConnectionConfig(exchange="binance", api_key_env="K")
    with pytest.raises(ConfigError, match="give one of them"):
        CcxtConnectionConfig(exchange="binance", api_key_env="K", secret_env="S", secrets_file="f")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"exchange": "binance", "market_type": "future"}, CcxtConnectionConfig)


def test_real_money_needs_the_confirmation() -> None:
    real = CcxtConnectionConfig(exchange="binance", api_key_env="K", secret_env="S")
    remote = CcxtConnectionConfig(exchange="binance", base_url="https://api.example.com")
    assert not is_loopback(real)
    assert not is_loopback(remote)
    with pytest.raises(ConfigError, match="confirm_real_money = true"):
        check_real_money(real)
    with pytest.raises(ConfigError, match="can trade real money"):
        CcxtExecutionClient(real, "BINANCE", Inbox(LiveClock()), [])
    check_real_money(msgspec.structs.replace(real, confirm_real_money=True))
    assert is_loopback(CcxtConnectionConfig(exchange="binance", base_url="http://localhost:1"))
    assert is_loopback(CcxtConnectionConfig(exchange="binance", base_url="http://[::1]:1"))


def test_credentials_from_the_environment_are_masked_everywhere() -> None:
    config = CcxtConnectionConfig(exchange="binance", api_key_env="K_ENV", secret_env="S_ENV")
    credentials = resolve_credentials(config, {"K_ENV": KEY, "S_ENV": SECRET})
    assert credentials is not None
    assert credentials.api_key.get_secret_value() == KEY
    for text in (repr(credentials), str(credentials.api_key), repr(credentials.secret)):
        assert KEY not in text
        assert SECRET not in text
    assert credentials.scrub(f"error with {KEY} and {SECRET}") == (
        "error with ********** and **********"
    )
    with pytest.raises(TypeError):
        pickle.dumps(SecretStr(SECRET))
    with pytest.raises(ConfigError, match="environment variable K_ENV") as error:
        resolve_credentials(config, {"S_ENV": SECRET})
    assert SECRET not in str(error.value)
    assert resolve_credentials(CcxtConnectionConfig(exchange="binance")) is None


def test_a_secrets_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "binance.secrets"
    path.write_text(f"# binance\napi_key = {KEY}\nsecret={SECRET}\n")
    config = CcxtConnectionConfig(exchange="binance", secrets_file=str(path))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=r"mode 0644; .* \(chmod 600 ") as error:
        resolve_credentials(config)
    assert KEY not in str(error.value)
    os.chmod(path, 0o600)
    credentials = resolve_credentials(config)
    assert credentials is not None
    assert credentials.secret.get_secret_value() == SECRET
    assert credentials.source == f"secrets_file {path}"
    path.write_text(f"api_key={KEY}\npassword=x\n")
    with pytest.raises(ConfigError, match="line 2 is not 'api_key=") as error:
        resolve_credentials(config)
    assert KEY not in str(error.value)
    path.write_text(f"api_key={KEY}\n")
    with pytest.raises(ConfigError, match="has no secret line"):
        resolve_credentials(config)
    with pytest.raises(ConfigError, match="cannot be read"):
        resolve_credentials(msgspec.structs.replace(config, secrets_file=str(tmp_path / "none")))
