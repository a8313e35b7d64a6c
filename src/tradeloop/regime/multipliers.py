"""Regime-conditional sizing multipliers: a validated map from regime label to multiplier.

Sizing multiplies target exposure by the multiplier of the current regime
(``multiplier_for``) or by the probability-weighted multiplier (``expected_multiplier``),
which moves smoothly as the filter's confidence changes. Every label of the detector must
have a multiplier, and none may exceed ``max_multiplier`` (1.0 unless raised on purpose, so
that a regime can only reduce risk by default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tradeloop.core.errors import ConfigError, InvalidValueError
from tradeloop.regime.records import RegimeEstimate

__all__ = ["RegimeMultipliers"]


class RegimeMultipliers:
    """A multiplier per regime label, checked against the detector's labels.

    Parameters
    ----------
    labels
        Every label the detector can output.
    multipliers
        Multiplier per label, each finite and within ``[0, max_multiplier]``.
    max_multiplier
        Largest multiplier allowed (finite, > 0).

    Raises
    ------
    ConfigError
        If a label has no multiplier, a multiplier names an unknown label, or a value is out
        of range.
    """

    __slots__ = ("_multipliers", "labels", "max_multiplier")

    labels: tuple[str, ...]
    max_multiplier: float

    def __init__(
        self,
        labels: tuple[str, ...],
        multipliers: Mapping[str, float],
        *,
        max_multiplier: float = 1.0,
    ) -> None:
        if not 0.0 < max_multiplier < math.inf:
            raise ConfigError(f"max_multiplier {max_multiplier!r} must be a finite number above 0")
        missing = [label for label in labels if label not in multipliers]
        unknown = sorted(set(multipliers) - set(labels))
        if missing or unknown:
            raise ConfigError(
                f"regime multipliers must cover exactly the labels {labels}; "
                f"missing: {missing}, unknown: {unknown}"
            )
        values: dict[str, float] = {}
        for label in labels:
            value = float(multipliers[label])
            if not 0.0 <= value <= max_multiplier:
                raise ConfigError(
                    f"regime multiplier {value!r} of {label} is outside [0, {max_multiplier}]"
                )
            values[label] = value
        self.labels = tuple(labels)
        self.max_multiplier = float(max_multiplier)
        self._multipliers = values

    def __repr__(self) -> str:
        return f"RegimeMultipliers({self._multipliers!r}, max_multiplier={self.max_multiplier})"

    def as_dict(self) -> dict[str, float]:
        """Return the multipliers, in label order."""
        return dict(self._multipliers)

    def multiplier_for(self, label: str) -> float:
        """Return the multiplier of ``label``.

        Raises
        ------
        InvalidValueError
            If ``label`` is unknown.
        """
        try:
            return self._multipliers[label]
        except KeyError:
            raise InvalidValueError(
                f"regime {label!r} has no multiplier; known regimes: {self.labels}"
            ) from None

    def expected_multiplier(self, estimate: RegimeEstimate) -> float:
        """Return the probability-weighted multiplier ``sum(p * multiplier)`` of ``estimate``.

        Raises
        ------
        InvalidValueError
            If the estimate's labels differ from these multipliers' labels.
        """
        if estimate.labels != self.labels:
            raise InvalidValueError(
                f"estimate labels {estimate.labels} differ from the multipliers' {self.labels}"
            )
        total = 0.0
        for label, probability in zip(estimate.labels, estimate.probabilities, strict=True):
            total += probability * self._multipliers[label]
        return min(total, self.max_multiplier)
