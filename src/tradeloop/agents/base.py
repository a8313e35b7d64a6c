"""The signal agent API: subclass ``SignalAgent`` and implement ``score``.

An agent looks at the causal bar history and returns, per instrument, a score in [-1, 1]
(negative: expect a fall, positive: a rise) with a confidence in [0, 1] and a one-line
reason, or ``None`` to abstain. It must not keep references to the history's arrays
between calls and must not read anything but its arguments (the engine feeds it causal
data; it never sees a bar after the clock).

Example::

    class Overnight(SignalAgent):
        version = "1"
        lookback = 21

        def score(self, instrument_id, history, context):
            opens, closes = history.opens(instrument_id, 21), history.closes(instrument_id, 21)
            gap = float(np.mean(opens[1:] / closes[:-1] - 1))
            return self.signal(
                instrument_id, np.tanh(gap * 200), min(1.0, abs(gap) * 500), f"mean gap {gap:.4%}"
            )

A broken agent (one that raises or returns an invalid score) is isolated by the host: its
signals are left out with an ``AgentFailed`` event, and after ``max_failures`` in a row it is
disabled; the loop goes on.

**Versions.** ``version`` is the class's own version (bump it when the code changes);
``agent_version`` is that plus a hash of the agent's parameters — the arguments its
constructor was called with, defaults included, ``agent_id`` left out (``parameters``) — so
the same class with a changed parameter is a different agent version in the journal
(``SignalsEmitted.agent_versions``). An agent configured otherwise (class attributes set after
construction) overrides ``parameters``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
from typing import Any, ClassVar

import msgspec

from tradeloop.analytics.history import BarHistory
from tradeloop.core.errors import InvalidValueError
from tradeloop.model.data import Bar, QuoteTick, TradeTick
from tradeloop.model.decisions import Signal
from tradeloop.model.events import Event


class AgentContext(msgspec.Struct, frozen=True, kw_only=True):
    """What an agent knows besides the history: time, regime, universe, benchmark."""

    ts_ns: int
    regime: str | None
    universe: tuple[str, ...]
    benchmark_id: str | None


class SignalAgent:
    """Base class of signal agents (see the module docstring)."""

    version: ClassVar[str] = "1"
    lookback: int = 20
    market_data: tuple[str, ...] = ()
    """Event data the agent takes besides bars (``quotes``, ``trades``, ``book``): the
    pipeline subscribes to them for its universe and passes them to ``on_quote``,
    ``on_trade`` and ``on_book``."""
    is_filter: ClassVar[bool] = False
    """A filter's score is in [-1, 0]: -1 means stand aside; the ensemble uses it as a gate."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_records_parameters", False):
            cls.__init__ = _recording_parameters(init)  # type: ignore[method-assign]

    def __init__(self, agent_id: str | None = None) -> None:
        self.id = agent_id or type(self).__name__

    def parameters(self) -> dict[str, Any]:
        """Return the agent's parameters: its constructor's arguments (module docstring)."""
        return dict(getattr(self, "_parameters", {}))

    @property
    def agent_version(self) -> str:
        """Return ``<class version>+<12 hex digits of the SHA-256 of the parameters>``.

        The hashed content is the class's qualified name and its parameters as canonical JSON
        (keys sorted; values that are not JSON by their ``repr``).
        """
        content = msgspec.json.encode(
            {"class": type(self).__qualname__, "parameters": self.parameters()},
            order="sorted",
            enc_hook=repr,
        )
        return f"{self.version}+{hashlib.sha256(content).hexdigest()[:12]}"

    def score(
        self, instrument_id: str, history: BarHistory, context: AgentContext
    ) -> Signal | None:
        """Return this agent's signal for ``instrument_id``, or ``None`` to abstain."""
        raise NotImplementedError

    def score_all(self, history: BarHistory, context: AgentContext) -> list[Signal]:
        """Return signals for the whole universe (override for cross-sectional agents)."""
        signals = []
        for instrument_id in context.universe:
            if history.count(instrument_id) < self.lookback:
                continue
            signal = self.score(instrument_id, history, context)
            if signal is not None:
                signals.append(signal)
        return signals

    def on_bar(self, bar: Bar) -> None:
        """Take each bar of the run as it arrives, before any rebalance that follows it.

        The default does nothing; an agent with state kept bar by bar (online features)
        overrides it. An error here is the agent's failure at the next rebalance.
        """

    def on_quote(self, quote: QuoteTick) -> None:
        """Take each quote of the universe (with ``"quotes"`` in ``market_data``)."""

    def on_trade(self, trade: TradeTick) -> None:
        """Take each trade print of the universe (with ``"trades"`` in ``market_data``)."""

    def on_book(self, record: Any) -> None:
        """Take each order-book record of the universe (with ``"book"`` in ``market_data``):
        an ``OrderBookDelta`` or an ``engine.feed.BookEvent``."""

    def check_run(self, run: Any) -> None:
        """Check and load what the agent needs from the run at startup (``run`` is the
        strategy's ``RunInputs``); raise ``ConfigError`` to stop the run before it starts.
        The default checks nothing."""

    def drain_events(self, rebalance_id: str, ts_ns: int) -> list[Event]:
        """Return the decision events of the last ``score_all`` for the journal (model
        predictions, fallbacks), stamped with the rebalance; the default has none."""
        return []

    def signal(self, instrument_id: str, score: float, confidence: float, reason: str) -> Signal:
        """Return a checked ``Signal`` of this agent.

        Raises
        ------
        InvalidValueError
            If the score is outside [-1, 1] (or [-1, 0] for a filter) or the confidence outside
            [0, 1], or either is NaN.
        """
        low = -1.0
        high = 0.0 if self.is_filter else 1.0
        if not (math.isfinite(score) and low <= score <= high):
            raise InvalidValueError(
                f"agent {self.id} score {score} for {instrument_id} is outside [{low}, {high}]"
            )
        if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            raise InvalidValueError(
                f"agent {self.id} confidence {confidence} for {instrument_id} is outside [0, 1]"
            )
        return Signal(self.id, instrument_id, float(score), float(confidence), reason)


def _recording_parameters(init: Any) -> Any:
    # Wrap a subclass's __init__ so that the outermost call records its bound arguments.
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording(self: SignalAgent, *args: Any, **kwargs: Any) -> None:
        if "_parameters" not in vars(self):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            parameters: dict[str, Any] = {}
            for name, value in list(bound.arguments.items())[1:]:
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    parameters.update(value)
                elif name != "agent_id":
                    parameters[name] = list(value) if isinstance(value, tuple) else value
            parameters.pop("agent_id", None)
            vars(self)["_parameters"] = parameters
        init(self, *args, **kwargs)

    recording._records_parameters = True  # type: ignore[attr-defined]
    return recording
