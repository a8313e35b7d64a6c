"""What every stage needs from the pipeline strategy (``Host``), the commands the risk stage
gives the execution stage, and the helpers several stages share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import numpy as np

from tradeloop.analytics.history import BarHistory
from tradeloop.core.clock import Clock
from tradeloop.core.errors import InvariantViolation
from tradeloop.model.enums import TradingState
from tradeloop.model.events import Event
from tradeloop.model.instruments import Instrument
from tradeloop.model.orders import Order
from tradeloop.pipeline.config import PipelineConfig

if TYPE_CHECKING:
    from tradeloop.model.order_factory import OrderFactory


class ExitPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Risk → execution: send ``delta_qty`` of ``instrument_id`` at once, reduce-only, as the
    exit ``decision_id`` (journaled as ``RiskLimitBreached``) decided."""

    instrument_id: str
    delta_qty: float
    reason: str
    decision_id: str


class CancelExecutions(msgspec.Struct, frozen=True, kw_only=True):
    """Risk → execution: cancel every running algorithm (emergency liquidation)."""

    reason: str


class Host(Protocol):
    """What stages need from the pipeline strategy.

    Stages talk to each other only through the host: decision events (``publish`` /
    ``subscribe_decisions``, journaled) and the risk stage's commands to the execution stage
    (``send`` / ``subscribe_commands``, in process: the decision behind each is journaled).
    """

    config: PipelineConfig
    history: BarHistory

    @property
    def clock(self) -> Clock: ...

    def instrument(self, instrument_id: str) -> Instrument: ...
    def publish(self, event: Event) -> None: ...
    def subscribe_decisions(self, event_type: type[Event], handler: Any) -> None: ...
    def send(self, command: ExitPosition | CancelExecutions) -> None: ...
    def subscribe_commands(self, command_type: type[Any], handler: Any) -> None: ...
    def now_ns(self) -> int: ...
    def equity_value(self) -> float: ...
    def cash_value(self) -> float: ...
    def held_qty(self, instrument_id: str) -> float: ...
    def held_raw(self, instrument_id: str) -> int: ...
    def average_entry(self, instrument_id: str) -> float: ...
    def set_trading_state(self, state: TradingState, reason: str) -> None: ...
    @property
    def order_factory(self) -> OrderFactory: ...
    def submit_order(self, order: Any) -> Order: ...
    def cancel_order(self, order: Order | str, reason: str = "") -> bool: ...


class CommandRouter:
    """Deliver each command to the handlers subscribed to its type, at once, in order of
    subscription (the host's ``send`` / ``subscribe_commands``)."""

    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Any]] = {}

    def subscribe(self, command_type: type[Any], handler: Any) -> None:
        """Call ``handler(command)`` for every command of ``command_type``."""
        self._handlers.setdefault(command_type, []).append(handler)

    def send(self, command: object) -> None:
        """Deliver ``command``.

        Raises
        ------
        InvariantViolation
            If no stage handles commands of its type (a pipeline wired without its
            execution stage).
        """
        handlers = self._handlers.get(type(command))
        if not handlers:
            raise InvariantViolation(
                f"no pipeline stage handles {type(command).__name__} (the execution stage "
                "subscribes to the risk stage's commands): the pipeline is wired wrong"
            )
        for handler in handlers:
            handler(command)


def _log_returns(history: BarHistory, instrument_id: str, n: int) -> np.ndarray[Any, Any]:
    closes = history.closes(instrument_id, n + 1)
    return np.diff(np.log(closes)) if len(closes) > 1 else np.empty(0)


def daily_sigma(history: BarHistory, instrument_id: str, n: int) -> float | None:
    """Return the standard deviation of the last ``n`` log returns (None if too short)."""
    returns = _log_returns(history, instrument_id, n)
    return float(np.std(returns, ddof=1)) if len(returns) >= 2 else None
