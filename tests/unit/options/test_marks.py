"""Model quotes from a fitted surface: mid at the surface's vol, bid/ask on the tick grid."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloop.core.errors import InvalidValueError
from tradeloop.model.enums import AccountType, InstrumentKind
from tradeloop.model.instruments import Instrument
from tradeloop.options import chain_implied_vols, fit_ssvi, fit_surface, load_spx_sample, price
from tradeloop.options.marks import surface_quotes


@pytest.fixture(scope="module")
def surface():  # type: ignore[no-untyped-def]
    return fit_ssvi(fit_surface(chain_implied_vols(load_spx_sample())))


def test_quotes_bracket_the_model_mid_on_the_tick_grid(surface) -> None:  # type: ignore[no-untyped-def]
    spot = np.array([120.0, 127.0, 135.0])
    t = np.array([0.45, 0.3, 0.1])
    quotes = surface_quotes(
        surface,
        spot=spot,
        t=t,
        strike=127.0,
        r=0.001,
        q=0.02,
        option_type="put",
        half_spread_vol=0.006,
    )
    k = np.log(127.0 / (spot * np.exp((0.001 - 0.02) * t)))
    np.testing.assert_allclose(quotes.vol, surface.implied_vol(k, t))
    mid = price(spot=spot, strike=127.0, t=t, r=0.001, q=0.02, sigma=quotes.vol, option_type="put")
    np.testing.assert_allclose(quotes.mid, mid)
    assert np.all(quotes.bid <= quotes.mid)
    assert np.all(quotes.mid <= quotes.ask)
    np.testing.assert_allclose(quotes.bid * 100, np.round(quotes.bid * 100), atol=1e-9)
    np.testing.assert_allclose(quotes.ask * 100, np.round(quotes.ask * 100), atol=1e-9)


def test_quotes_past_expiry_are_refused(surface) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValueError, match="t > 0"):
        surface_quotes(
            surface,
            spot=[127.0],
            t=[0.0],
            strike=127.0,
            r=0.0,
            q=0.0,
            option_type="call",
            half_spread_vol=0.01,
        )


def test_an_option_instrument_pays_its_premium_in_cash() -> None:
    option = Instrument(
        id="SPY110618P127.OPRA",
        kind=InstrumentKind.OPTION,
        quote_currency="USD",
        price_precision=2,
        size_precision=0,
        multiplier="100",
    )
    assert option.account_type is AccountType.CASH
