"""Options: European prices and Greeks to third order, implied volatility, American exercise,
option chains (the bundled SPX sample), raw SVI smiles and their no-arbitrage checks, an SSVI
surface and its report figures; portfolio risk (VaR/CVaR by four methods, stress tests).

Every function takes its arguments by keyword and broadcasts NumPy arrays; ``t`` is in years
(the caller's day count) and Greeks are in QuantLib's units (vega and rho per 1.00, theta per
year). See :mod:`tradeloop.options.european` for the conventions shared by the package.
"""

from tradeloop.options._inputs import OptionInputError, Reason
from tradeloop.options.american import AmericanGreeks, american_greeks, american_price
from tradeloop.options.chain import (
    ChainVols,
    OptionChain,
    chain_implied_vols,
    implied_forward,
    load_spx_sample,
    read_chain_csv,
    read_ivolatility_csv,
)
from tradeloop.options.european import Greeks, greeks, implied_vol, price
from tradeloop.options.plots import plot_smiles, plot_surface, plot_term_structure
from tradeloop.options.risk import (
    PositionRisk,
    RiskMarket,
    RiskPortfolio,
    RiskPosition,
    Sensitivities,
)
from tradeloop.options.ssvi import SSVISurface, fit_ssvi
from tradeloop.options.stress import (
    HISTORICAL_SCENARIOS,
    StressResult,
    StressScenario,
    historical_scenario,
    resolve_scenario,
    stress_test,
)
from tradeloop.options.svi import (
    ArbitrageViolation,
    SurfaceFit,
    SVIParams,
    SVISlice,
    butterfly_violations,
    calendar_violations,
    fit_surface,
    fit_svi,
    quote_violations,
)

__all__ = [
    "HISTORICAL_SCENARIOS",
    "AmericanGreeks",
    "ArbitrageViolation",
    "ChainVols",
    "Greeks",
    "OptionChain",
    "OptionInputError",
    "PositionRisk",
    "Reason",
    "RiskMarket",
    "RiskPortfolio",
    "RiskPosition",
    "SSVISurface",
    "SVIParams",
    "SVISlice",
    "Sensitivities",
    "StressResult",
    "StressScenario",
    "SurfaceFit",
    "american_greeks",
    "american_price",
    "butterfly_violations",
    "calendar_violations",
    "chain_implied_vols",
    "fit_ssvi",
    "fit_surface",
    "fit_svi",
    "greeks",
    "historical_scenario",
    "implied_forward",
    "implied_vol",
    "load_spx_sample",
    "plot_smiles",
    "plot_surface",
    "plot_term_structure",
    "price",
    "quote_violations",
    "read_chain_csv",
    "read_ivolatility_csv",
    "resolve_scenario",
    "stress_test",
]
