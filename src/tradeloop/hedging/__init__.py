"""Hedging strategies that combine the options library with the strategy API.

``tradeloop.options`` (pricing) and ``tradeloop.strategy`` (the strategy API) are independent
stages; a strategy that prices options lives here, one layer above both. In a config:
``class = "tradeloop.hedging:GreeksHedger"``.
"""

from tradeloop.hedging.greeks_hedger import GreeksHedger, OptionLeg

__all__ = ["GreeksHedger", "OptionLeg"]
