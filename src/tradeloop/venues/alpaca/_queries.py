"""The reconciliation queries of the Alpaca execution client: one order by client order id,
the open orders, the fills since a time (account activities ``FILL``), the positions and the
cash, each through alpaca-py's ``TradingClient`` with the client's retries."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from alpaca.common.enums import Sort
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from tradeloop.core.errors import TransientVenueError
from tradeloop.model.instruments import Instrument
from tradeloop.model.reports import BalanceReport, FillReport, OrderStatusReport, PositionReport
from tradeloop.venues.alpaca._rest import AlpacaRejectedError, RetryPolicy, with_retries
from tradeloop.venues.alpaca._translate import (
    cash_report,
    fill_report,
    order_report,
    position_report,
    rfc3339,
)

T = TypeVar("T")
_PAGE = 100


class VenueQueries:
    """What reconciliation asks Alpaca (see ``AlpacaExecutionClient``)."""

    def __init__(
        self,
        venue: str,
        client: TradingClient,
        instruments: Mapping[str, Instrument],
        policy: RetryPolicy,
        stop: threading.Event,
        on_retry: Callable[[int, TransientVenueError, float], None],
        alert: Callable[[str, str], None],
        now_ns: Callable[[], int],
    ) -> None:
        self.venue = venue
        self._client = client
        self._by_id = dict(instruments)
        self._by_symbol = {i.symbol: i for i in self._by_id.values()}
        self._policy = policy
        self._stop = stop
        self._on_retry = on_retry
        self._alert = alert
        self._now_ns = now_ns
        self._lock = threading.Lock()  # one request at a time on this client's session
        self._ids_lock = threading.Lock()
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id

    def remember(self, venue_order_id: str, client_order_id: str) -> None:
        """Note which client order id an Alpaca order id belongs to."""
        with self._ids_lock:
            self._client_ids[venue_order_id] = client_order_id

    def _query(self, what: str, request: Callable[[], T]) -> T:
        with self._lock:
            return with_retries(what, request, self._policy, self._stop, self._on_retry)

    def _instrument_of(self, symbol: Any) -> Instrument | None:
        return self._by_symbol.get(str(symbol))

    def query_order(self, client_order_id: str, instrument_id: str) -> OrderStatusReport | None:
        """Return Alpaca's report of the order with this client order id (None: unknown).

        Raises
        ------
        VenueError
            If Alpaca cannot answer after the retries, or refuses.
        """
        client = self._client
        try:
            order: Any = self._query(
                f"query order client_order_id={client_order_id}",
                lambda: client.get_order_by_client_id(client_order_id),
            )
        except AlpacaRejectedError as error:
            if error.status == 404:
                return None
            raise
        instrument = self._instrument_of(order.get("symbol")) or self._by_id.get(instrument_id)
        return None if instrument is None else order_report(self.venue, order, instrument)

    def open_orders(self, instrument_id: str | None = None) -> list[OrderStatusReport]:
        """Return Alpaca's open orders (of one instrument, or all), oldest first."""
        symbols = None
        if instrument_id is not None:
            known = self._by_id.get(instrument_id)
            if known is None:
                return []
            symbols = [known.symbol]
        request = GetOrdersRequest(
            status=QueryOrderStatus.OPEN, limit=500, symbols=symbols, direction=Sort.ASC
        )
        client = self._client
        orders: Any = self._query("list open orders", lambda: client.get_orders(request))
        reports = []
        for order in orders:
            instrument = self._instrument_of(order.get("symbol"))
            if instrument is not None:
                reports.append(order_report(self.venue, order, instrument))
        return reports

    def fills_since(self, ts_ns: int, instrument_id: str | None = None) -> list[FillReport]:
        """Return Alpaca's fills at or after ``ts_ns`` (account activities ``FILL``), oldest
        first, with the same trade ids as the stream's fills."""
        client = self._client
        after = rfc3339(max(0, ts_ns - 1_000))  # Alpaca's "after" is exclusive, microseconds
        reports: list[FillReport] = []
        seen: set[str] = set()
        token: str | None = None
        while True:
            params: dict[str, Any] = {"after": after, "direction": "asc", "page_size": _PAGE}
            if token is not None:
                params["page_token"] = token
            page: Any = self._query(
                "list fill activities",
                functools.partial(client.get, "/account/activities/FILL", params),
            )
            fresh = [a for a in page if isinstance(a, Mapping) and str(a.get("id")) not in seen]
            for activity in fresh:
                seen.add(str(activity.get("id")))
                instrument = self._instrument_of(activity.get("symbol"))
                if instrument is None or (
                    instrument_id is not None and instrument.id != instrument_id
                ):
                    continue
                report = fill_report(
                    self.venue, activity, self._client_id_of(str(activity["order_id"])), instrument
                )
                if report.ts_event >= ts_ns:
                    reports.append(report)
            if len(page) < _PAGE or not fresh:
                break
            token = str(fresh[-1].get("id"))
        reports.sort(key=lambda report: (report.ts_event, report.trade_id))
        return reports

    def _client_id_of(self, venue_order_id: str) -> str:
        with self._ids_lock:
            known = self._client_ids.get(venue_order_id)
        if known is not None:
            return known
        client = self._client
        order: Any = self._query(
            f"query order {venue_order_id}", lambda: client.get_order_by_id(venue_order_id)
        )
        client_id = str(order["client_order_id"])
        self.remember(venue_order_id, client_id)
        return client_id

    def positions(self) -> list[PositionReport]:
        """Return Alpaca's positions (US equities; ``is_short`` for short ones)."""
        client = self._client
        rows: Any = self._query("list positions", client.get_all_positions)
        reports = []
        for row in rows:
            instrument = self._instrument_of(row.get("symbol"))
            if instrument is None:
                self._alert("warning", f"position in untracked symbol {row.get('symbol')} left out")
                continue
            reports.append(position_report(self.venue, row, instrument))
        return [
            PositionReport(
                venue=r.venue,
                instrument_id=r.instrument_id,
                signed_qty=r.signed_qty,
                is_short=r.is_short,
                avg_px=r.avg_px,
                ts_last=self._now_ns(),
            )
            for r in reports
        ]

    def balances(self) -> list[BalanceReport]:
        """Return the account's cash as one USD balance."""
        client = self._client
        account: Any = self._query("read account", client.get_account)
        return [cash_report(self.venue, account, self._now_ns())]
