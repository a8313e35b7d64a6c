"""Monitoring: the node's metrics (Prometheus), health checks, snapshots and control actions.

``NodeMonitor`` attaches to a live-clock run (the engine's ``Operations`` hook), counts its
events from the bus without blocking the loop, and runs control actions on the kernel thread.
"""

from tradeloop.monitoring.alerts import DECISIONS, AlertEvaluator
from tradeloop.monitoring.control import ACTIONS, Actor, ControlDeniedError, ControlSurface
from tradeloop.monitoring.metrics import NodeMetrics
from tradeloop.monitoring.monitor import (
    KernelBusyError,
    NodeMonitor,
    NodeNotRunningError,
    monitor_for,
)
from tradeloop.monitoring.notify import Message, Notifier
from tradeloop.monitoring.snapshot import FeedHealth, NodeSnapshot, take_snapshot
from tradeloop.monitoring.subscriber import MetricsSubscriber

__all__ = [
    "ACTIONS",
    "DECISIONS",
    "Actor",
    "AlertEvaluator",
    "ControlDeniedError",
    "ControlSurface",
    "FeedHealth",
    "KernelBusyError",
    "Message",
    "MetricsSubscriber",
    "NodeMetrics",
    "NodeMonitor",
    "NodeNotRunningError",
    "NodeSnapshot",
    "Notifier",
    "monitor_for",
    "take_snapshot",
]
