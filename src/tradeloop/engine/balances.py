"""The venue's balances and positions against the run's: a baseline plus the run's fills.

A spot account holds more than a run trades (and a fee paid in the base asset moves the base
balance, not the quote), so the venue's balances cannot be compared with the node's cash and
positions as they are. Steps:

1. **Baseline.** At a live run's first start, once its startup reconciliation is done, each
   venue's balances (every currency, ``total`` = free + locked) and positions are read and
   journaled as ``VenueBaselineRecorded`` (durable). A resumed run reads it back from its
   journal; a run that has none (started before this existed, or killed before it was written,
   which is before any strategy traded) gets one derived from the venue's values less the
   run's fills, journaled with that reason.
2. **Ledger.** ``VenueLedger`` adds up, per venue and currency, what each fill the node
   counts moves at the venue: for crypto spot ``+qty`` of the base asset and ``-qty × price``
   of the quote on a buy (the reverse on a sell); for other cash instruments (equities,
   options) the quote leg only (the shares are a position); the commission in its own
   currency, the base asset included. Margin instruments (perpetuals, futures, FX), and every
   instrument of a venue whose client trades derivatives (``trades_derivatives``: a ccxt
   connection with ``market_type = "swap"``), move a wallet by realized P&L and funding, not
   by fills: their positions are compared instead.
3. **Comparison** (``engine.reconcile``, step 4): the expected balance of each currency the
   run touches is the baseline plus the ledger; a venue balance further from it than
   ``balance_tolerance`` (a fraction of the expected balance, and at least that many units:
   1e-6 by default, for dust and rounding) is a ``ReconciliationBreak`` of kind ``balance``
   with both values. A position (instruments that are not spot pairs) is compared exactly:
   the venue's less its baseline against the node's.
4. **A consistent read.** Balances move with every fill, so a read that races a fill would
   report a false break. ``read_with_fills`` reads the holdings, then the fills since the
   given time, then the holdings again, and keeps the pair only when both reads agree (no
   fill landed in between, so the fills read include every fill the balances show); it tries
   ``READ_ATTEMPTS`` times, then leaves the holdings out of this pass (the next check
   compares them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from tradeloop.execution.ports import LiveExecutionClient
from tradeloop.model.enums import AccountType, InstrumentKind, OrderSide
from tradeloop.model.events import OrderFilled, VenueBaselineRecorded
from tradeloop.model.instruments import Instrument
from tradeloop.model.reports import FillReport

READ_ATTEMPTS = 3
"""How many times ``read_with_fills`` reads before it gives up on a consistent pair."""

_SPOT_PAIRS = frozenset({InstrumentKind.CRYPTO_SPOT, InstrumentKind.FX_SPOT})


@dataclass(frozen=True)
class Holdings:
    """What a venue holds: ``balances`` (currency -> total) and ``positions`` (instrument id
    -> signed quantity) of the instruments the node trades there."""

    balances: dict[str, Decimal]
    positions: dict[str, Decimal]


def read_holdings(client: LiveExecutionClient, position_ids: Iterable[str]) -> Holdings:
    """Return ``client``'s venue's balances and the positions of ``position_ids`` (a position
    the venue does not list is flat).

    Raises
    ------
    VenueError
        If the venue cannot answer.
    """
    balances = {b.currency: b.total.as_decimal() for b in client.balances()}
    wanted = sorted(position_ids)
    positions = dict.fromkeys(wanted, Decimal(0))
    if wanted:
        for report in client.positions():
            if report.instrument_id in positions:
                size = report.signed_qty.as_decimal()
                positions[report.instrument_id] += -size if report.is_short else size
    return Holdings(balances=balances, positions=positions)


def read_with_fills(
    client: LiveExecutionClient, position_ids: Iterable[str], since_ns: int | None
) -> tuple[list[FillReport], Holdings | None]:
    """Return the venue's fills since ``since_ns`` (none when None) and holdings consistent
    with them, or None for the holdings when every read raced a fill (module docstring,
    step 4).

    Raises
    ------
    VenueError
        If the venue cannot answer.
    """
    ids = sorted(position_ids)
    first = read_holdings(client, ids)
    fills: list[FillReport] = []
    for _ in range(READ_ATTEMPTS):
        fills = [] if since_ns is None else client.fills_since(since_ns)
        second = read_holdings(client, ids)
        if second == first:
            return fills, second
        first = second
    return fills, None


@dataclass
class VenueLedger:
    """Per venue: its baseline and what the run's fills moved there (module docstring)."""

    instruments: Mapping[str, Instrument]
    venues: frozenset[str]
    derivative_venues: frozenset[str] = frozenset()
    baselines: dict[str, VenueBaselineRecorded] = field(default_factory=dict)
    flows: dict[str, dict[str, Decimal]] = field(default_factory=dict)

    def on_fill(self, fill: OrderFilled) -> None:
        """Add what ``fill`` moves at its venue (a ``Portfolio.fill_observers`` callback)."""
        instrument = self.instruments.get(fill.instrument_id)
        if instrument is None or instrument.venue not in self.venues:
            return
        if not self._is_cash(instrument):
            return  # a margin wallet moves by realized P&L and funding: positions compared
        flows = self.flows.setdefault(instrument.venue, {})
        sign = 1 if fill.order_side is OrderSide.BUY else -1
        quantity = fill.last_qty.as_decimal()
        notional = quantity * fill.last_px.as_decimal() * Decimal(instrument.multiplier)
        if self._is_pair(instrument) and instrument.base_currency:
            base = instrument.base_currency
            flows[base] = flows.get(base, Decimal(0)) + sign * quantity
        quote = instrument.quote_currency
        flows[quote] = flows.get(quote, Decimal(0)) - sign * notional
        commission = fill.commission
        if commission.raw:
            fee = commission.currency
            flows[fee] = flows.get(fee, Decimal(0)) - commission.as_decimal()

    def _is_cash(self, instrument: Instrument) -> bool:
        return (
            instrument.account_type is AccountType.CASH
            and instrument.venue not in self.derivative_venues
        )

    def _is_pair(self, instrument: Instrument) -> bool:
        return instrument.kind in _SPOT_PAIRS and instrument.venue not in self.derivative_venues

    def _of(self, venue: str) -> list[Instrument]:
        return [i for _, i in sorted(self.instruments.items()) if i.venue == venue]

    def position_ids(self, venue: str) -> list[str]:
        """Return the instruments of ``venue`` whose holdings are positions (not spot pairs)."""
        return [i.id for i in self._of(venue) if not self._is_pair(i)]

    def currencies(self, venue: str) -> list[str]:
        """Return the currencies whose balances the run moves at ``venue``."""
        found: set[str] = set(self.flows.get(venue, {}))
        for instrument in self._of(venue):
            if not self._is_cash(instrument):
                continue
            found.add(instrument.quote_currency)
            if self._is_pair(instrument) and instrument.base_currency:
                found.add(instrument.base_currency)
        return sorted(found)

    def has_baseline(self, venue: str) -> bool:
        """Return whether ``venue`` has its baseline."""
        return venue in self.baselines

    def expected_balances(self, venue: str) -> dict[str, Decimal]:
        """Return the baseline plus the run's flows of each currency the run moves at
        ``venue`` (empty without a baseline)."""
        baseline = self.baselines.get(venue)
        if baseline is None:
            return {}
        start = {currency: Decimal(amount) for currency, amount in baseline.balances}
        flows = self.flows.get(venue, {})
        return {
            currency: start.get(currency, Decimal(0)) + flows.get(currency, Decimal(0))
            for currency in self.currencies(venue)
        }

    def run_positions(self, venue: str, holdings: Holdings) -> dict[str, int]:
        """Return the venue's positions less their baseline (raw at each instrument's size
        precision): what the node's positions should be."""
        baseline = self.baselines.get(venue)
        start = {} if baseline is None else dict(baseline.positions)
        result: dict[str, int] = {}
        for instrument_id, size in holdings.positions.items():
            run_size = size - Decimal(start.get(instrument_id, "0"))
            precision = self.instruments[instrument_id].size_precision
            result[instrument_id] = int(run_size.scaleb(precision).to_integral_value())
        return result

    def baseline_of(
        self,
        venue: str,
        holdings: Holdings,
        ts_ns: int,
        *,
        reason: str,
        node_positions: Mapping[str, Decimal] | None = None,
    ) -> VenueBaselineRecorded:
        """Return (and keep) ``venue``'s baseline from ``holdings`` less what the run has moved
        so far (its flows, and ``node_positions``: nothing on a new run)."""
        flows = self.flows.get(venue, {})
        balances = dict(holdings.balances)
        for currency, amount in flows.items():
            balances[currency] = balances.get(currency, Decimal(0)) - amount
        positions = dict(holdings.positions)
        for instrument_id, size in (node_positions or {}).items():
            if instrument_id in positions:
                positions[instrument_id] -= size
        event = VenueBaselineRecorded(
            venue=venue,
            balances=tuple((c, f"{v.normalize():f}") for c, v in sorted(balances.items())),
            positions=tuple((i, f"{v.normalize():f}") for i, v in sorted(positions.items())),
            reason=reason,
            ts_event=ts_ns,
            ts_init=ts_ns,
        )
        self.baselines[venue] = event
        return event


def within_tolerance(expected: Decimal, venue: Decimal, tolerance: float) -> bool:
    """Return whether ``venue`` is within ``tolerance`` of ``expected`` (a fraction of the
    larger magnitude, and at least ``tolerance`` units)."""
    allowed = Decimal(repr(tolerance)) * max(Decimal(1), abs(expected), abs(venue))
    return abs(venue - expected) <= allowed


__all__ = [
    "READ_ATTEMPTS",
    "Holdings",
    "VenueLedger",
    "read_holdings",
    "read_with_fills",
    "within_tolerance",
]
