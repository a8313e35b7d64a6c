"""A Greeks hedging strategy: hold an option position and keep its delta (and optionally its
gamma or vega, with a second option) within bands, on the event loop.

At every instant (``on_step``, once all data of the instant is in) the hedger

1. opens ``option_quantity`` of ``option`` on its first instant with marks (a market order);
2. marks each option leg: the mid of its quote, the implied vol of that mid
   (Black-Scholes-Merton with the configured ``r`` and ``q``; the last good vol when a mid has
   no vega left), and its Greeks (``tradeloop.options.greeks``);
3. with a ``hedge_option``: trades it to the quantity that cancels the book's gamma (or vega,
   ``neutralize``) when what is left exceeds ``greek_band``;
4. trades the underlying to a net delta of zero when the net delta (in shares) exceeds
   ``delta_band``;
5. ``close_days_before_expiry`` days before expiry, closes every position.

Positions count the orders sent and not yet filled (so a hedge in flight is not sent twice).
Each evaluation is journaled as a ``GreeksHedged`` event (marks, Greeks, trades and why), which
``tradeloop explain`` uses to attribute the options' P&L. Costs are the venue's (spread,
commission per share or contract). American options are marked with European Greeks of their
implied vol (document your choice when it matters: deep in-the-money puts).
"""

from __future__ import annotations

import math

import msgspec

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.core.time import parse_time
from tradeloop.model.enums import OrderSide
from tradeloop.model.hedging import GreeksHedged, OptionMark
from tradeloop.options.european import greeks, implied_vol
from tradeloop.strategy.base import RunInputs, Strategy, StrategyConfig
from tradeloop.strategy.params import exact_quantity

_NS_PER_DAY = 86_400 * 1_000_000_000


class OptionLeg(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One option the hedger trades: its instrument and contract terms."""

    instrument_id: str
    strike: float
    expiry: str
    right: str
    exercise: str = "european"


class GreeksHedger(Strategy):
    """Hold an option position, hedge its delta (and gamma or vega) within bands."""

    class Config(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
        """Parameters (module docstring). Bands: ``delta_band`` in shares of the underlying,
        ``greek_band`` in the neutralised Greek's money units (gamma: shares per 1.00 of the
        underlying's price; vega: money per 1.00 of vol)."""

        underlying_id: str
        option: OptionLeg
        option_quantity: str = "10"
        option_side: str = "buy"
        r: float = 0.0
        q: float = 0.0
        delta_band: float = 50.0
        hedge_option: OptionLeg | None = None
        neutralize: str = "gamma"
        greek_band: float = 0.0
        close_days_before_expiry: float = 1.0
        days_per_year: float = 365.0

    def required_instruments(self) -> list[str]:
        """Return the underlying and every option leg."""
        config = self.config
        legs = [config.option.instrument_id]
        if config.hedge_option is not None:
            legs.append(config.hedge_option.instrument_id)
        return sorted({config.underlying_id, *legs})

    def check_run(self, run: RunInputs) -> None:
        """Check the legs' terms, the bands and the quantity before the run starts."""
        config = self.config
        legs = [config.option] + ([config.hedge_option] if config.hedge_option else [])
        for leg in legs:
            if leg.right not in ("call", "put"):
                raise ConfigError(
                    f"params: option {leg.instrument_id} right {leg.right!r} must be "
                    "'call' or 'put'"
                )
            if leg.exercise not in ("european", "american"):
                raise ConfigError(
                    f"params: option {leg.instrument_id} exercise {leg.exercise!r} must be "
                    "'european' or 'american'"
                )
            if not (math.isfinite(leg.strike) and leg.strike > 0):
                raise ConfigError(
                    f"params: option {leg.instrument_id} strike {leg.strike} must be > 0"
                )
            try:
                parse_time(leg.expiry)
            except InvalidValueError as error:
                raise ConfigError(f"params: option {leg.instrument_id} expiry: {error}") from None
        if config.option_side not in ("buy", "sell"):
            raise ConfigError(f"params: option_side {config.option_side!r} must be 'buy' or 'sell'")
        if config.neutralize not in ("gamma", "vega"):
            raise ConfigError(f"params: neutralize {config.neutralize!r} must be 'gamma' or 'vega'")
        for name in ("delta_band", "greek_band", "close_days_before_expiry"):
            value = getattr(config, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"params: {name} {value} must be a number >= 0")
        exact_quantity(
            run.instruments[config.option.instrument_id],
            config.option_quantity,
            "option_quantity",
            "params",
        )

    # -- the loop -------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe to the underlying's bars and quotes, the options' quotes and the steps."""
        config = self.config
        self._legs = [config.option] + ([config.hedge_option] if config.hedge_option else [])
        self._expiry_ns = {leg.instrument_id: parse_time(leg.expiry) for leg in self._legs}
        self._vols: dict[str, float] = {}
        self._is_opened = False
        self._is_closed = False
        self.subscribe_bars(config.underlying_id)
        self.subscribe_quotes(config.underlying_id)
        for leg in self._legs:
            self.subscribe_quotes(leg.instrument_id)
        self.subscribe_steps()

    def _held(self, instrument_id: str) -> float:
        # the signed position plus the signed leaves of this strategy's open orders
        position = self.position(instrument_id)
        held = 0.0 if position is None else position.signed_raw / 10**position.quantity.precision
        for order in self.open_orders(instrument_id):
            leaves = order.leaves_qty.as_float()
            held += leaves if order.side is OrderSide.BUY else -leaves
        return held

    def _trade(self, instrument_id: str, amount: float) -> float:
        size = round(abs(amount))
        if size == 0:
            return 0.0
        if amount > 0:
            self.buy(instrument_id, float(size))
        else:
            self.sell(instrument_id, float(size))
        return math.copysign(size, amount)

    def on_step(self, ts_ns: int) -> None:
        """Evaluate and hedge the book (module docstring)."""
        if self._is_closed:
            return
        config = self.config
        spot_mark = self.last_price(config.underlying_id)
        marks = {leg.instrument_id: self.last_price(leg.instrument_id) for leg in self._legs}
        if spot_mark is None or any(m is None for m in marks.values()):
            return
        days_left = min(self._expiry_ns.values()) - ts_ns
        is_closing = days_left <= config.close_days_before_expiry * _NS_PER_DAY
        if is_closing and not self._is_opened:
            self._is_closed = True
            return
        if not self._is_opened:
            side = 1.0 if config.option_side == "buy" else -1.0
            quantity = float(config.option_quantity)
            self._trade(config.option.instrument_id, side * quantity)
            self._is_opened = True
        spot = spot_mark.as_float()
        rows = []
        for leg in self._legs:
            mark = marks[leg.instrument_id]
            assert mark is not None
            rows.append(self._mark(leg, spot, mark.as_float(), ts_ns))
        if any(row is None for row in rows):
            return  # no vol yet for a leg (its mid has no time value): wait for one
        legs = [row for row in rows if row is not None]
        if is_closing:  # the last marks are journaled: attribution runs to the close
            shares = self._held(config.underlying_id)
            reason = f"closing {days_left / _NS_PER_DAY:.2f} days before expiry"
            self._publish(ts_ns, legs, shares, 0.0, 0.0, reason)
            self._close_all()
            return
        self._hedge(ts_ns, spot, legs)

    def _mark(self, leg: OptionLeg, spot: float, mid: float, ts_ns: int) -> OptionMark | None:
        config = self.config
        t = (self._expiry_ns[leg.instrument_id] - ts_ns) / (config.days_per_year * _NS_PER_DAY)
        vol = implied_vol(
            price=[mid],
            spot=spot,
            strike=leg.strike,
            t=t,
            r=config.r,
            q=config.q,
            option_type=leg.right,
        )[0]
        if math.isfinite(vol):
            self._vols[leg.instrument_id] = float(vol)
        sigma = self._vols.get(leg.instrument_id)
        if sigma is None:
            return None
        g = greeks(
            spot=spot,
            strike=leg.strike,
            t=t,
            r=config.r,
            q=config.q,
            sigma=sigma,
            option_type=leg.right,
            order=1,
        )
        instrument = self.instrument(leg.instrument_id)
        return OptionMark(
            instrument_id=leg.instrument_id,
            underlying_id=config.underlying_id,
            option_type=leg.right,
            strike=leg.strike,
            spot=spot,
            price=mid,
            implied_vol=sigma,
            t=t,
            r=config.r,
            q=config.q,
            quantity=self._held(leg.instrument_id),
            multiplier=float(instrument.multiplier),
            delta=g.delta,
            gamma=g.gamma,
            vega=g.vega,
            theta=g.theta,
            rho=g.rho,
        )

    def _hedge(self, ts_ns: int, spot: float, legs: list[OptionMark]) -> None:
        config = self.config
        units = {m.instrument_id: m.quantity * m.multiplier for m in legs}
        net_gamma = sum(units[m.instrument_id] * m.gamma for m in legs)
        net_vega = sum(units[m.instrument_id] * m.vega for m in legs)
        shares = self._held(config.underlying_id)
        reasons = []
        option_trade = 0.0
        if config.hedge_option is not None:
            main, other = legs[0], legs[1]
            greek = "gamma" if config.neutralize == "gamma" else "vega"
            left = net_gamma if greek == "gamma" else net_vega
            per_contract = getattr(other, greek) * other.multiplier
            if abs(left) > config.greek_band and per_contract > 0:
                target = -(units[main.instrument_id] * getattr(main, greek)) / per_contract
                option_trade = self._trade(other.instrument_id, target - other.quantity)
                if option_trade:
                    reasons.append(f"{greek} {left:+.4g} outside +/-{config.greek_band:g}")
            units[other.instrument_id] += option_trade * other.multiplier
        hedged_delta = shares + sum(units[m.instrument_id] * m.delta for m in legs)
        underlying_trade = 0.0
        if abs(hedged_delta) > config.delta_band:
            underlying_trade = self._trade(config.underlying_id, -hedged_delta)
            if underlying_trade:
                reasons.append(f"delta {hedged_delta:+.1f} shares outside +/-{config.delta_band:g}")
        reason = "; ".join(reasons) or "within bands"
        self._publish(ts_ns, legs, shares, underlying_trade, option_trade, reason)

    def _publish(
        self,
        ts_ns: int,
        legs: list[OptionMark],
        shares: float,
        underlying_trade: float,
        option_trade: float,
        reason: str,
    ) -> None:
        # ``shares`` and the legs' quantities are those before the trades
        underlying_id = self.config.underlying_id
        units = [m.quantity * m.multiplier for m in legs]
        self.publish(
            GreeksHedged(
                ts_event=ts_ns,
                ts_init=ts_ns,
                strategy_id=self.id,
                underlying_id=underlying_id,
                underlying_quantity=shares,
                marks=tuple(legs),
                net_delta=shares + sum(u * m.delta for u, m in zip(units, legs, strict=True)),
                net_gamma=sum(u * m.gamma for u, m in zip(units, legs, strict=True)),
                net_vega=sum(u * m.vega for u, m in zip(units, legs, strict=True)),
                underlying_trade=underlying_trade,
                option_trade=option_trade,
                reason=reason,
            )
        )

    def _close_all(self) -> None:
        self.cancel_all_orders()
        for instrument_id in self.required_instruments():
            self.close_position(instrument_id)
        self._is_closed = True
