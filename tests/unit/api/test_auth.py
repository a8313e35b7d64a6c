"""API tokens: roles, the environment's admin token, the 0600 tokens file, clear refusals."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tradeloop.api.auth import TokenStore, role_allows
from tradeloop.api.server import parse_address, serve_node
from tradeloop.core.errors import ConfigError
from tradeloop.monitoring import Actor

LONG = "0123456789abcdef-long"


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "tokens.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_environment_token_is_one_admin_and_others_are_refused() -> None:
    store = TokenStore.load({"TRADELOOP_API_TOKEN": LONG}, None)
    assert store.actor(LONG) == Actor("admin", "admin")
    assert store.actor(LONG + "x") is None
    assert store.actor("") is None
    assert store.actor(None) is None
    assert len(TokenStore.load({}, None)) == 0


def test_a_tokens_file_gives_named_roles(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        f'[[tokens]]\nname = "vera"\nrole = "viewer"\ntoken = "{LONG}-v"\n'
        f'[[tokens]]\nname = "otto"\nrole = "operator"\ntoken = "{LONG}-o"\n',
    )
    store = TokenStore.load({}, path)
    assert store.actor(f"{LONG}-v") == Actor("vera", "viewer")
    assert store.actor(f"{LONG}-o") == Actor("otto", "operator")
    assert role_allows("admin", "operator")
    assert role_allows("operator", "viewer")
    assert not role_allows("viewer", "operator")
    assert not role_allows("operator", "admin")


@pytest.mark.parametrize(
    ("text", "mode", "message"),
    [
        (f'[[tokens]]\nname = "a"\nrole = "viewer"\ntoken = "{LONG}"\n', 0o644, "chmod 600"),
        ('[[tokens]]\nname = "a"\nrole = "viewer"\ntoken = "short"\n', 0o600, "at least 16"),
        (f'[[tokens]]\nname = "a"\nrole = "boss"\ntoken = "{LONG}"\n', 0o600, "role 'boss'"),
        (f'[[tokens]]\nname = "a"\nrole = "viewer"\ntokn = "{LONG}"\n', 0o600, "unknown keys"),
        ("tokens = 3\n", 0o600, "no [[tokens]]"),
        ("[[tokens]\n", 0o600, "not valid TOML"),
    ],
)
def test_a_bad_tokens_file_is_a_clear_startup_error(
    tmp_path: Path, text: str, mode: int, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        TokenStore.load({}, _file(tmp_path, text, mode))


def test_bad_api_addresses_are_clear_errors() -> None:
    assert parse_address("127.0.0.1:8780") == ("127.0.0.1", 8780)
    assert parse_address("8780") == ("127.0.0.1", 8780)
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_address("127.0.0.1:http")
    with pytest.raises(ConfigError, match="between 0 and 65535"):
        parse_address("127.0.0.1:70000")
    with (
        pytest.raises(ConfigError, match="beyond this machine"),
        serve_node("0.0.0.0:0", "paper", env={}),
    ):
        pass
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with (
            pytest.raises(ConfigError, match="cannot listen"),
            serve_node(f"127.0.0.1:{port}", "paper", env={}),
        ):
            pass
