"""Bus: the in-process message bus and topic names."""

from tradeloop.bus.bus import Handler, MessageBus
from tradeloop.bus.topics import (
    ACCOUNT_EVENTS,
    ALERTS,
    RISK_EVENTS,
    STEP_TOPIC,
    bars_topic,
    book_topic,
    order_events_topic,
    position_events_topic,
    quotes_topic,
    trades_topic,
    venue_events_topic,
)

__all__ = [
    "ACCOUNT_EVENTS",
    "ALERTS",
    "RISK_EVENTS",
    "STEP_TOPIC",
    "Handler",
    "MessageBus",
    "bars_topic",
    "book_topic",
    "order_events_topic",
    "position_events_topic",
    "quotes_topic",
    "trades_topic",
    "venue_events_topic",
]
