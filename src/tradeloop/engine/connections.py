"""Building the live adapters a config names: one place that knows the venue kinds.

``[connections.<NAME>]`` tables say how a venue is reached (``kind`` = ``ccxt`` or
``alpaca``, endpoints, the names of the environment variables that hold its keys);
``[[feeds]]`` say what market data to take from which connection. This module turns them
into the adapters' own config objects at startup (a bad key or value is a ``ConfigError``
naming the table, before anything is written) and builds their data and execution clients,
importing each adapter package only when a config uses it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from tradeloop.bus.inbox import Inbox, InboxPort
from tradeloop.config.schema import RunConfig
from tradeloop.core.errors import ConfigError, TradeloopError
from tradeloop.data.ports import DataClient
from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.model.instruments import Instrument

# kind -> (module, config class, data client class, execution client class)
_ADAPTERS: dict[str, tuple[str, str, str, str]] = {
    "ccxt": (
        "tradeloop.venues.ccxt",
        "CcxtConnectionConfig",
        "CcxtDataClient",
        "CcxtExecutionClient",
    ),
    "alpaca": (
        "tradeloop.venues.alpaca",
        "AlpacaConnectionConfig",
        "AlpacaDataClient",
        "AlpacaExecutionClient",
    ),
}


@dataclass(frozen=True)
class Connection:
    """One ``[connections.<NAME>]`` table, converted to its adapter's config."""

    name: str
    kind: str
    config: Any

    def _classes(self) -> tuple[type[Any], type[Any]]:
        module_name, _, data_name, exec_name = _ADAPTERS[self.kind]
        module = importlib.import_module(module_name)
        return getattr(module, data_name), getattr(module, exec_name)

    def data_client(self, inbox: InboxPort, instruments: Mapping[str, Instrument]) -> DataClient:
        """Return a data client of this connection feeding ``inbox``."""
        data_cls, _ = self._classes()
        listed = sorted(instruments.values(), key=lambda i: i.id)
        client: DataClient = data_cls(self.config, self.name, inbox, listed)
        return client

    def execution_client(
        self, venue: str, inbox: Inbox, instruments: Mapping[str, Instrument]
    ) -> LiveExecutionClient:
        """Return an execution client of this connection for ``venue``, answering into
        ``inbox``."""
        _, exec_cls = self._classes()
        members = sorted((i for i in instruments.values() if i.venue == venue), key=lambda i: i.id)
        client: LiveExecutionClient = exec_cls(self.config, venue, inbox, members)
        return client

    @property
    def is_loopback(self) -> bool:
        """Return whether every endpoint of the connection is on this machine."""
        module = importlib.import_module(_ADAPTERS[self.kind][0])
        return bool(module.is_loopback(self.config))


def load_connections(config: RunConfig) -> dict[str, Connection]:
    """Return every ``[connections.<NAME>]`` of ``config``, converted and checked.

    Raises
    ------
    ConfigError
        If a table has an unknown kind or key, a wrong value, or names an adapter whose
        library is not installed.
    """
    connections: dict[str, Connection] = {}
    for name, table in sorted(config.connections.items()):
        kind = str(table.get("kind"))
        if kind == "sim":
            continue
        if kind not in _ADAPTERS:
            raise ConfigError(f"[connections.{name}] kind {kind!r} has no adapter")
        module_name, config_name, _, _ = _ADAPTERS[kind]
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ConfigError(
                f"[connections.{name}] kind {kind} needs {module_name}, which cannot be "
                f"imported: {error}"
            ) from None
        config_cls = getattr(module, config_name)
        try:
            converted = msgspec.convert(table, type=config_cls)
        except msgspec.ValidationError as error:
            text = str(error).replace("Object contains unknown field", "unknown key")
            raise ConfigError(f"[connections.{name}]: {text}") from None
        except TradeloopError as error:
            raise ConfigError(f"[connections.{name}]: {error}") from None
        connections[name] = Connection(name, kind, converted)
    return connections


def venue_connections(
    config: RunConfig, connections: Mapping[str, Connection], instruments: Mapping[str, Instrument]
) -> dict[str, Connection]:
    """Return the connection of each venue the run trades on, by venue code.

    A connection serves the venue of its own name (``[connections.BINANCE]`` trades the
    instruments ``*.BINANCE``).

    Raises
    ------
    ConfigError
        If a venue the strategies trade has no connection.
    """
    venues = sorted({i.venue for i in instruments.values()})
    found = {venue: connections[venue] for venue in venues if venue in connections}
    traded = sorted({feed.instrument_id.rpartition(".")[2] for feed in config.feeds})
    missing = [venue for venue in traded if venue not in found]
    if missing:
        raise ConfigError(
            f"live trading needs a [connections.<VENUE>] table for each venue it trades: "
            f"{', '.join(missing)} has none (connections: {', '.join(sorted(connections))})"
        )
    return found


def venue_instruments(
    connection: Connection, symbols: list[str] | None = None
) -> tuple[list[Instrument], dict[str, str]]:
    """Return the instruments ``connection``'s venue lists (its markets or assets), and the
    ones it could not convert with the reason (nothing is dropped unsaid).

    Raises
    ------
    ConfigError
        If a requested symbol is unknown to the venue or cannot become an instrument.
    VenueError
        If the venue cannot be reached.
    """
    skipped: dict[str, str] = {}
    if connection.kind == "ccxt":
        from tradeloop.venues.ccxt import fetch_instruments

        listed = fetch_instruments(connection.config, connection.name, symbols, skipped)
        return listed, skipped
    from tradeloop.venues.alpaca import fetch_assets

    assets = fetch_assets(connection.config, venue=connection.name)
    by_symbol = {asset.symbol: asset.instrument for asset in assets}
    if symbols is None:
        return sorted(by_symbol.values(), key=lambda i: i.id), skipped
    unknown = [symbol for symbol in symbols if symbol not in by_symbol]
    if unknown:
        raise ConfigError(f"Alpaca lists no tradable asset {', '.join(unknown)}")
    return [by_symbol[symbol] for symbol in symbols], skipped
