"""Topic names. Dotted, general to specific."""

from __future__ import annotations


def bars_topic(instrument_id: str) -> str:
    """Return the topic of bars of ``instrument_id``."""
    return f"data.bars.{instrument_id}"


def quotes_topic(instrument_id: str) -> str:
    """Return the topic of quote ticks of ``instrument_id``."""
    return f"data.quotes.{instrument_id}"


def trades_topic(instrument_id: str) -> str:
    """Return the topic of trade ticks of ``instrument_id``."""
    return f"data.trades.{instrument_id}"


def book_topic(instrument_id: str) -> str:
    """Return the topic of order-book deltas of ``instrument_id``."""
    return f"data.book.{instrument_id}"


def venue_events_topic(venue: str) -> str:
    """Return the topic of a simulated venue's own events (``BookStatusChanged``)."""
    return f"events.venue.{venue}"


def order_events_topic(strategy_id: str) -> str:
    """Return the topic of order events of ``strategy_id``."""
    return f"events.order.{strategy_id}"


def position_events_topic(strategy_id: str) -> str:
    """Return the topic of position events of ``strategy_id``."""
    return f"events.position.{strategy_id}"


ACCOUNT_EVENTS = "events.account"
STEP_TOPIC = "events.clock.step"
RISK_EVENTS = "events.risk"
ALERTS = "events.alert"
