"""Venues: the simulated venue; one package per live venue comes later."""

from tradeloop.venues.sim import SimulatedVenue, SimVenueConfig

__all__ = ["SimVenueConfig", "SimulatedVenue"]
