"""API: the node's HTTP control plane (FastAPI): metrics, health, status and control."""

from tradeloop.api.app import create_app
from tradeloop.api.auth import ROLES, TOKEN_ENV, TokenStore, role_allows
from tradeloop.api.server import ApiServer, parse_address, serve_node

__all__ = [
    "ROLES",
    "TOKEN_ENV",
    "ApiServer",
    "TokenStore",
    "create_app",
    "parse_address",
    "role_allows",
    "serve_node",
]
