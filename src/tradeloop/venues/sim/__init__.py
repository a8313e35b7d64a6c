"""The simulated venue (fidelity levels 1 and 2)."""

from tradeloop.venues.sim.config import FIDELITY_LEVELS, SimVenueConfig
from tradeloop.venues.sim.venue import SimulatedVenue

__all__ = ["FIDELITY_LEVELS", "SimVenueConfig", "SimulatedVenue"]
