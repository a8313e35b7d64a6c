"""Publish a regime only when it changes, with a minimum dwell and a confidence threshold.

``RegimeChangeFilter.update(estimate)`` returns the estimate to publish (as a
``RegimeChanged`` event) or ``None``:

- the first estimate whose confidence reaches ``min_confidence`` is published (the initial
  regime);
- an estimate with the published label resets any pending switch;
- another label becomes a candidate; the candidate is published once it has been the
  estimate's label, with confidence at least ``min_confidence``, for ``min_dwell_bars``
  consecutive bars. A bar below the confidence threshold resets the candidate.

``min_dwell_bars=1, min_confidence=0`` publishes every change at once; a longer dwell and a
higher threshold trade delay for fewer flips (hysteresis).
"""

from __future__ import annotations

import msgspec

from tradeloop.core.errors import ConfigError
from tradeloop.regime.records import RegimeEstimate

__all__ = ["RegimeChangeConfig", "RegimeChangeFilter"]


class RegimeChangeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Hysteresis of ``RegimeChangeFilter``.

    Attributes
    ----------
    min_dwell_bars : consecutive bars a new label must hold before it is published.
    min_confidence : confidence (0 to 1) a bar needs to count towards a switch.
    """

    min_dwell_bars: int = 1
    min_confidence: float = 0.0

    def __post_init__(self) -> None:
        value = self.min_dwell_bars
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"regime change min_dwell_bars {value!r} must be an integer >= 1")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError(
                f"regime change min_confidence {self.min_confidence!r} must be within [0, 1]"
            )


class RegimeChangeFilter:
    """Decide which regime estimates to publish (see the module docstring).

    Parameters
    ----------
    config
        Minimum dwell and confidence of a switch.
    """

    __slots__ = ("_candidate", "_candidate_bars", "config", "current")

    config: RegimeChangeConfig
    current: RegimeEstimate | None

    def __init__(self, config: RegimeChangeConfig) -> None:
        self.config = config
        self.reset()

    def __repr__(self) -> str:
        label = None if self.current is None else self.current.label
        return f"RegimeChangeFilter({self.config!r}, current={label!r})"

    def reset(self) -> None:
        """Forget the published regime and any pending switch."""
        self.current = None
        self._candidate: str | None = None
        self._candidate_bars = 0

    def update(self, estimate: RegimeEstimate) -> RegimeEstimate | None:
        """Return ``estimate`` if it changes the published regime, else ``None``."""
        confident = estimate.confidence >= self.config.min_confidence
        current = self.current
        if current is None:
            if not confident:
                return None
            self.current = estimate
            return estimate
        if estimate.label == current.label:
            self._candidate = None
            self._candidate_bars = 0
            return None
        if not confident:
            self._candidate = None
            self._candidate_bars = 0
            return None
        if estimate.label == self._candidate:
            self._candidate_bars += 1
        else:
            self._candidate = estimate.label
            self._candidate_bars = 1
        if self._candidate_bars < self.config.min_dwell_bars:
            return None
        self._candidate = None
        self._candidate_bars = 0
        self.current = estimate
        return estimate
