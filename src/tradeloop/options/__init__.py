"""Options: European prices and Greeks to third order, implied volatility, American exercise,
option chains, smiles and their no-arbitrage checks.

Every function takes its arguments by keyword and broadcasts NumPy arrays; ``t`` is in years
(the caller's day count) and Greeks are in QuantLib's units (vega and rho per 1.00, theta per
year). See :mod:`tradeloop.options.european` for the conventions shared by the package.
"""

from tradeloop.options._inputs import OptionInputError, Reason
from tradeloop.options.american import AmericanGreeks, american_greeks, american_price
from tradeloop.options.european import Greeks, greeks, implied_vol, price

__all__ = [
    "AmericanGreeks",
    "Greeks",
    "OptionInputError",
    "Reason",
    "american_greeks",
    "american_price",
    "greeks",
    "implied_vol",
    "price",
]
