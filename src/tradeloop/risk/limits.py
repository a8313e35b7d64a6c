"""Portfolio-level limits of the kernel's risk layer: daily loss, drawdown pause, kill switch.

The kernel checks them once per instant (before the strategies' ``on_step``) with the account's
equity, for every strategy of the run, whatever it is (``[risk]`` of the run config):

1. **kill switch**: a drawdown of ``kill_switch_drawdown_pct`` from the run's high-water
   mark (the highest equity since the run started, or since the last resume) HALTS
   trading; the kernel cancels every open order and flattens every position with
   reduce-only market orders. Nothing else releases it: only a ``resume`` (which, through the
   API, waits for an admin's approval) sets the state back, and the limits start afresh;
2. **drawdown pause**: a drawdown of ``drawdown_pause_pct`` from the high-water mark sets
   REDUCING for ``drawdown_pause_bars`` instants; when the pause is over, the pause's own mark
   restarts at the equity of that instant (the next pause is measured from there, so a pause
   does not fire again at once; the kill switch still measures from the run's mark);
3. **daily loss**: a loss of ``daily_loss_limit_pct`` of the day's opening equity (the equity
   at the day's boundary: the last one before it, so a day's first bar counts; the run's
   first equity on its first day) sets REDUCING until the next day. Days start at
   ``day_start_utc`` (``HH:MM``, UTC; ``"00:00"`` by default).

The limits ask for a state (``PortfolioLimits.state``: the strictest of what is breached);
each breach is returned as a ``PortfolioBreach``, which the kernel journals as
``RiskLimitBreached`` before it changes the trading state (``TradingStateChanged``).
Drawdown and loss are ratios of equity (money raw), computed in floats (analytics): a limit of
0.10 is hit at a fall of 10 % or more.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeloop.core.errors import ConfigError
from tradeloop.model.enums import TradingState

DAY_NS = 86_400_000_000_000


@dataclass(frozen=True, slots=True)
class PortfolioBreach:
    """A portfolio limit hit and the trading state it leads to."""

    rule: str
    value: float
    limit: float
    state: TradingState
    action: str


def parse_day_start(text: str) -> int:
    """Return the offset of ``text`` (``HH:MM``, UTC) from midnight in nanoseconds.

    Raises
    ------
    ConfigError
        If ``text`` is not a time of day ``HH:MM``.
    """
    parts = text.split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ConfigError(f"risk day_start_utc {text!r} is not a time of day HH:MM (UTC)")
    hours, minutes = int(parts[0]), int(parts[1])
    if hours > 23 or minutes > 59:
        raise ConfigError(f"risk day_start_utc {text!r} is not a time of day HH:MM (UTC)")
    return (hours * 60 + minutes) * 60_000_000_000


def check_limit_fraction(name: str, value: float | None) -> None:
    """Raise ``ConfigError`` unless ``value`` is None or a fraction in (0, 1]."""
    if value is not None and not 0 < value <= 1:
        raise ConfigError(f"risk {name} {value} must be a fraction above 0 and at most 1")


class PortfolioLimits:
    """The state machine of the portfolio limits (module docstring)."""

    def __init__(
        self,
        *,
        daily_loss_limit_pct: float | None = None,
        drawdown_pause_pct: float | None = None,
        drawdown_pause_bars: int = 20,
        kill_switch_drawdown_pct: float | None = None,
        day_start_utc: str = "00:00",
    ) -> None:
        check_limit_fraction("daily_loss_limit_pct", daily_loss_limit_pct)
        check_limit_fraction("drawdown_pause_pct", drawdown_pause_pct)
        check_limit_fraction("kill_switch_drawdown_pct", kill_switch_drawdown_pct)
        if drawdown_pause_bars < 1:
            raise ConfigError(f"risk drawdown_pause_bars {drawdown_pause_bars} must be 1 or more")
        self.daily_loss_limit_pct = daily_loss_limit_pct
        self.drawdown_pause_pct = drawdown_pause_pct
        self.drawdown_pause_bars = drawdown_pause_bars
        self.kill_switch_drawdown_pct = kill_switch_drawdown_pct
        self.day_offset_ns = parse_day_start(day_start_utc)
        self.state = TradingState.ACTIVE
        self.peak_equity: int | None = None
        self.pause_peak_equity: int | None = None
        self.day: int | None = None
        self.day_start_equity = 0
        self.is_daily_stopped = False
        self.pause_bars_left = 0
        self.last_equity = 0
        self.breaches = 0

    @property
    def is_enabled(self) -> bool:
        """Return whether any limit is set."""
        return (
            self.daily_loss_limit_pct is not None
            or self.drawdown_pause_pct is not None
            or self.kill_switch_drawdown_pct is not None
        )

    def day_of(self, ts_ns: int) -> int:
        """Return the number of the limits' day that ``ts_ns`` falls in."""
        return (ts_ns - self.day_offset_ns) // DAY_NS

    def drawdown(self) -> float:
        """Return the fall of the latest equity from the high-water mark (a fraction)."""
        peak = self.peak_equity
        return 1.0 - self.last_equity / peak if peak else 0.0

    def pause_drawdown(self) -> float:
        """Return the fall of the latest equity from the pause's mark (a fraction)."""
        peak = self.pause_peak_equity
        return 1.0 - self.last_equity / peak if peak else 0.0

    def daily_loss(self) -> float:
        """Return the loss of the latest equity from the day's opening equity (a fraction)."""
        start = self.day_start_equity
        return 1.0 - self.last_equity / start if start > 0 else 0.0

    def on_equity(self, ts_ns: int, equity_raw: int) -> list[PortfolioBreach]:
        """Check the limits with the equity at an instant; return what was breached."""
        breaches: list[PortfolioBreach] = []
        previous = self.last_equity if self.peak_equity is not None else equity_raw
        self.last_equity = equity_raw
        if self.peak_equity is None or self.pause_peak_equity is None:
            self.peak_equity = self.pause_peak_equity = equity_raw
        day = self.day_of(ts_ns)
        if day != self.day:
            # The day opens with the equity at its boundary: the last one seen before it.
            self.day, self.day_start_equity, self.is_daily_stopped = day, previous, False
        self.peak_equity = max(self.peak_equity, equity_raw)
        self.pause_peak_equity = max(self.pause_peak_equity, equity_raw)
        if self.state is TradingState.HALTED:
            return breaches
        drawdown = self.drawdown()
        kill = self.kill_switch_drawdown_pct
        if kill is not None and drawdown >= kill:
            self.state = TradingState.HALTED
            breaches.append(
                PortfolioBreach(
                    rule="kill_switch_drawdown",
                    value=drawdown,
                    limit=kill,
                    state=TradingState.HALTED,
                    action="kill switch: flatten every position and halt trading",
                )
            )
            self.breaches += 1
            return breaches
        pause = self.drawdown_pause_pct
        if self.pause_bars_left > 0:
            self.pause_bars_left -= 1
            if self.pause_bars_left == 0:
                self.pause_peak_equity = equity_raw  # the next pause is measured from here
        elif pause is not None and self.pause_drawdown() >= pause:
            self.pause_bars_left = self.drawdown_pause_bars
            breaches.append(
                PortfolioBreach(
                    rule="drawdown_pause",
                    value=self.pause_drawdown(),
                    limit=pause,
                    state=TradingState.REDUCING,
                    action=f"pause new exposure for {self.pause_bars_left} bars",
                )
            )
        limit = self.daily_loss_limit_pct
        daily_loss = self.daily_loss()
        if limit is not None and not self.is_daily_stopped and daily_loss >= limit:
            self.is_daily_stopped = True
            breaches.append(
                PortfolioBreach(
                    rule="daily_loss_limit",
                    value=daily_loss,
                    limit=limit,
                    state=TradingState.REDUCING,
                    action="reduce only until the next day",
                )
            )
        self.breaches += len(breaches)
        self.state = (
            TradingState.REDUCING
            if (self.pause_bars_left > 0 or self.is_daily_stopped)
            else TradingState.ACTIVE
        )
        return breaches

    def kill(self) -> None:
        """Engage the kill switch from outside (an operator's or a strategy's kill)."""
        self.state = TradingState.HALTED

    def resume(self) -> None:
        """Release the kill switch: the limits start afresh from the next equity."""
        self.state = TradingState.ACTIVE
        self.peak_equity = self.pause_peak_equity = None
        self.pause_bars_left = 0
        self.is_daily_stopped = False

    def status(self, money_scale: int) -> dict[str, object]:
        """Return the limits and where the portfolio stands against them, for the API."""
        return {
            "state": str(self.state),
            "daily_loss_limit_pct": self.daily_loss_limit_pct,
            "drawdown_pause_pct": self.drawdown_pause_pct,
            "drawdown_pause_bars": self.drawdown_pause_bars,
            "kill_switch_drawdown_pct": self.kill_switch_drawdown_pct,
            "daily_loss": round(self.daily_loss(), 6),
            "drawdown": round(self.drawdown(), 6),
            "high_water_mark": None if self.peak_equity is None else self.peak_equity / money_scale,
            "day_start_equity": self.day_start_equity / money_scale,
            "is_daily_stopped": self.is_daily_stopped,
            "pause_bars_left": self.pause_bars_left,
            "breaches": self.breaches,
        }
