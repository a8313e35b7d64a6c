"""Decision events of options hedging: the Greeks a hedger saw and what it traded.

A hedger (``tradeloop.hedging.GreeksHedger``) publishes one ``GreeksHedged`` per instant it
evaluates its book: each option leg's mark, implied vol and Greeks (QuantLib units: vega and
rho per 1.00, theta per year) and the hedge it decided. The journal keeps them, so the
position's P&L can be explained step by step into delta, gamma, vega, theta and rho
(``tradeloop.options.attribution``) from the journal alone. Amounts are floats (analytics);
the orders are exact.
"""

from __future__ import annotations

import msgspec

from tradeloop.model.events import Event


class OptionMark(msgspec.Struct, frozen=True, gc=False):
    """One option leg at an instant: the mark, its inputs and its Greeks per option."""

    instrument_id: str
    underlying_id: str
    option_type: str
    strike: float
    spot: float
    price: float
    implied_vol: float
    t: float
    r: float
    q: float
    quantity: float
    multiplier: float
    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


class GreeksHedged(Event, frozen=True, kw_only=True):
    """A hedger evaluated its book: the Greeks before, the trades it sent, why.

    ``underlying_quantity`` and the legs' ``quantity`` include orders sent and not yet filled;
    ``net_delta`` is in units of the underlying (shares), ``net_gamma`` in shares per unit of
    the underlying's price, ``net_vega`` money per 1.00 of vol, all before the trades;
    ``underlying_trade`` (shares) and ``option_trade`` (contracts of the hedge option) are what
    it sent (0: within the bands).
    """

    strategy_id: str
    underlying_id: str
    underlying_quantity: float
    marks: tuple[OptionMark, ...]
    net_delta: float
    net_gamma: float
    net_vega: float
    underlying_trade: float
    option_trade: float
    reason: str
