"""The simulated venue (fidelity levels 1 to 4), its latency models and its book replay."""

from tradeloop.venues.sim.book import BookMatcher, QueueSlot
from tradeloop.venues.sim.config import (
    BOOK_TYPES,
    FIDELITY_LEVELS,
    QUEUE_CANCEL_RULES,
    BookConfig,
    ImpactConfig,
    SimVenueConfig,
)
from tradeloop.venues.sim.latency import (
    ConstantLatency,
    EmpiricalLatency,
    LatencyConfig,
    LatencyDistribution,
    LatencyModel,
    LogNormalLatency,
    TruncatedNormalLatency,
    UniformLatency,
    sample_latency_ns,
)
from tradeloop.venues.sim.venue import (
    SimulatedVenue,
)

__all__ = [
    "BOOK_TYPES",
    "FIDELITY_LEVELS",
    "QUEUE_CANCEL_RULES",
    "BookConfig",
    "BookMatcher",
    "ConstantLatency",
    "EmpiricalLatency",
    "ImpactConfig",
    "LatencyConfig",
    "LatencyDistribution",
    "LatencyModel",
    "LogNormalLatency",
    "QueueSlot",
    "SimVenueConfig",
    "SimulatedVenue",
    "TruncatedNormalLatency",
    "UniformLatency",
    "sample_latency_ns",
]
