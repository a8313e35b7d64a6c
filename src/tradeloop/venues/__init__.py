"""Venues: the simulated venue; one package per live venue comes later."""

from tradeloop.venues.sim import (
    BookConfig,
    ImpactConfig,
    LatencyConfig,
    SimulatedVenue,
    SimVenueConfig,
)

__all__ = ["BookConfig", "ImpactConfig", "LatencyConfig", "SimVenueConfig", "SimulatedVenue"]
