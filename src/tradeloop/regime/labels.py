"""Regime labels: one vocabulary shared by the HMM and the rule-based classifier.

Labels name what a regime *is* (its volatility, and with four states its trend), never a
fitted state number, so a refit that permutes the HMM's internal states keeps the names.
Each detector reports its labels as a tuple in a fixed order (calmest first); the
probabilities of a ``RegimeEstimate`` are aligned with that tuple.
"""

from __future__ import annotations

from typing import Final

from tradeloop.core.errors import ConfigError

__all__ = [
    "BEAR_HIGH_VOLATILITY",
    "BEAR_LOW_VOLATILITY",
    "BULL_HIGH_VOLATILITY",
    "BULL_LOW_VOLATILITY",
    "HIGH_VOLATILITY",
    "LOW_VOLATILITY",
    "NORMAL_VOLATILITY",
    "TREND_VOLATILITY_LABELS",
    "hmm_state_labels",
]

LOW_VOLATILITY: Final = "low_volatility"
NORMAL_VOLATILITY: Final = "normal_volatility"
HIGH_VOLATILITY: Final = "high_volatility"
BULL_LOW_VOLATILITY: Final = "bull_low_volatility"
BEAR_LOW_VOLATILITY: Final = "bear_low_volatility"
BULL_HIGH_VOLATILITY: Final = "bull_high_volatility"
BEAR_HIGH_VOLATILITY: Final = "bear_high_volatility"

TREND_VOLATILITY_LABELS: Final[tuple[str, str, str, str]] = (
    BULL_LOW_VOLATILITY,
    BEAR_LOW_VOLATILITY,
    BULL_HIGH_VOLATILITY,
    BEAR_HIGH_VOLATILITY,
)
"""The four trend × volatility labels, calm first, bull before bear within a volatility."""

_HMM_LABELS: Final[dict[int, tuple[str, ...]]] = {
    2: (LOW_VOLATILITY, HIGH_VOLATILITY),
    3: (LOW_VOLATILITY, NORMAL_VOLATILITY, HIGH_VOLATILITY),
    4: TREND_VOLATILITY_LABELS,
}


def hmm_state_labels(n_states: int) -> tuple[str, ...]:
    """Return the labels of an HMM with ``n_states`` states, in state order (calmest first).

    Two and three states are named by volatility only. Four states are two volatility pairs,
    each split by mean return into bull (higher) and bear (lower).

    Raises
    ------
    ConfigError
        If ``n_states`` is not 2, 3 or 4.
    """
    try:
        return _HMM_LABELS[n_states]
    except (KeyError, TypeError):
        raise ConfigError(
            f"HMM n_states {n_states!r} is unsupported; choose 2, 3 or 4 states"
        ) from None
