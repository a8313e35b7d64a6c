"""The simulated venue (fidelity levels 1 and 2) and its latency models."""

from tradeloop.venues.sim.config import (
    FIDELITY_LEVELS,
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
    "FIDELITY_LEVELS",
    "ConstantLatency",
    "EmpiricalLatency",
    "LatencyConfig",
    "LatencyDistribution",
    "LatencyModel",
    "LogNormalLatency",
    "SimVenueConfig",
    "SimulatedVenue",
    "TruncatedNormalLatency",
    "UniformLatency",
    "sample_latency_ns",
]
