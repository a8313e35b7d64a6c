"""Stages on hand-built cases, through a fake host (no engine): the risk stage's market hours
and price band."""

from __future__ import annotations

from typing import Any

from tradeloop.analytics.history import BarHistory
from tradeloop.core import TestClock, parse_time
from tradeloop.model import Bar, equity
from tradeloop.model.decisions import RiskReviewed, TargetPosition, TargetsProposed
from tradeloop.model.enums import TradingState
from tradeloop.model.events import Event
from tradeloop.pipeline import PipelineConfig
from tradeloop.pipeline.stages import RiskStage
from tradeloop.risk import RiskReviewConfig

ACME = equity("ACME", "XNAS")  # XNYS sessions


class FakeHost:
    """Just enough of the pipeline strategy for one stage."""

    def __init__(self, config: PipelineConfig, now: str) -> None:
        self.config = config
        self.history = BarHistory(10)
        self.clock = TestClock(parse_time(now))
        self.published: list[Event] = []
        self.handlers: dict[type[Event], Any] = {}

    def instrument(self, instrument_id: str) -> Any:
        return ACME

    def publish(self, event: Event) -> None:
        self.published.append(event)
        handler = self.handlers.get(type(event))
        if handler is not None:
            handler(event)

    def subscribe_decisions(self, event_type: type[Event], handler: Any) -> None:
        self.handlers[event_type] = handler

    def send(self, command: Any) -> None:
        raise AssertionError("not expected here")

    def subscribe_commands(self, command_type: type[Any], handler: Any) -> None:
        pass

    def now_ns(self) -> int:
        return self.clock.timestamp_ns()

    def equity_value(self) -> float:
        return 1_000_000.0

    def cash_value(self) -> float:
        return 1_000_000.0

    def held_qty(self, instrument_id: str) -> float:
        return 0.0

    def held_raw(self, instrument_id: str) -> int:
        return 0

    def average_entry(self, instrument_id: str) -> float:
        return 0.0

    def set_trading_state(self, state: TradingState, reason: str) -> None:
        raise AssertionError("not expected here")

    def close(self, day: str, price: float) -> None:
        ts = parse_time(day)
        raw = round(price * 100)
        self.history.update(Bar(ACME.id, raw, raw, raw, raw, 1_000, 2, 0, ts, ts))


def review_one(host: FakeHost, price: float) -> Any:
    stage = RiskStage(host)  # type: ignore[arg-type]
    target = TargetPosition(ACME.id, 0.01, 100.0, 0.0, 100.0, price, 10.0)
    stage.on_targets(
        TargetsProposed(
            rebalance_id="R-1",
            method="inverse_vol",
            regime=None,
            regime_multiplier=1.0,
            equity=1_000_000.0,
            gross_exposure=0.01,
            net_exposure=0.01,
            turnover=0.01,
            targets=(target,),
            ts_event=host.now_ns(),
            ts_init=host.now_ns(),
        )
    )
    [review] = [e for e in host.published if isinstance(e, RiskReviewed)]
    [decision] = review.decisions
    return decision


def config(**risk: Any) -> PipelineConfig:
    return PipelineConfig(universe=[ACME.id], risk=RiskReviewConfig(**risk))


def test_an_order_proposed_on_an_exchange_holiday_is_denied_naming_the_calendar() -> None:
    host = FakeHost(config(deny_outside_session=True), "2008-07-04T20:00Z")  # Independence Day
    host.close("2008-07-02T20:00Z", 100.0)
    host.close("2008-07-03T17:00Z", 100.0)
    decision = review_one(host, 100.0)
    assert decision.decision == "denied"
    assert decision.reasons == (
        "market is closed (XNYS has no session at 2008-07-04T20:00Z; next open "
        "2008-07-07T13:30Z) and deny_outside_session is set",
    )


def test_an_order_proposed_on_a_weekend_queues_for_monday_by_default() -> None:
    host = FakeHost(config(), "2008-06-21T16:00Z")  # a Saturday
    host.close("2008-06-19T20:00Z", 100.0)
    host.close("2008-06-20T20:00Z", 100.0)
    decision = review_one(host, 100.0)
    assert (decision.decision, decision.approved_qty) == ("approved", 100.0)
    assert decision.reasons == (
        "market closed (XNYS has no session at 2008-06-21T16:00Z; next open 2008-06-23T13:30Z): "
        "the order queues for the next session",
    )


def test_an_order_at_a_session_close_is_in_session() -> None:
    host = FakeHost(config(deny_outside_session=True), "2008-06-23T20:00Z")
    host.close("2008-06-20T20:00Z", 100.0)
    host.close("2008-06-23T20:00Z", 101.0)
    assert review_one(host, 101.0).decision == "approved"


def test_price_band_compares_the_decision_price_with_the_previous_close() -> None:
    host = FakeHost(config(price_band_pct=0.10), "2008-06-23T20:00Z")
    host.close("2008-06-20T20:00Z", 100.0)
    host.close("2008-06-23T20:00Z", 150.0)  # a bad print, or a 50 % jump
    decision = review_one(host, 150.0)
    assert decision.decision == "denied"
    assert decision.reasons == (
        "decision price 150 is 50.0% from the band reference price 100, beyond the 10% price "
        "band (a bad print or a disorderly market)",
    )
