"""Monitoring: the node's metrics (Prometheus), health checks, snapshots and control actions.

``NodeMonitor`` attaches to a live-clock run (the engine's ``Operations`` hook), counts its
events from the bus without blocking the loop, and runs control actions on the kernel thread.
"""

from tradeloop.monitoring.control import ACTIONS, Actor, ControlDeniedError, ControlSurface
from tradeloop.monitoring.metrics import NodeMetrics
from tradeloop.monitoring.monitor import KernelBusyError, NodeMonitor, NodeNotRunningError
from tradeloop.monitoring.snapshot import FeedHealth, NodeSnapshot, take_snapshot
from tradeloop.monitoring.subscriber import MetricsSubscriber

__all__ = [
    "ACTIONS",
    "Actor",
    "ControlDeniedError",
    "ControlSurface",
    "FeedHealth",
    "KernelBusyError",
    "MetricsSubscriber",
    "NodeMetrics",
    "NodeMonitor",
    "NodeNotRunningError",
    "NodeSnapshot",
    "take_snapshot",
]
