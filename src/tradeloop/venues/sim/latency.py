"""Latency models of the simulated venue: order entry and venue response, in nanoseconds.

- **entry latency**: from our ``SubmitOrder`` (or cancel/modify) to the venue's matching
  engine seeing it;
- **response latency**: from the venue's decision (accept, fill, cancel) to our receiving
  the event.

Each is one of the distributions below, configured in ``LatencyConfig`` (JSON or TOML), as in
hftbacktest's pluggable latency models. An integer is shorthand for a constant
(``entry_latency_ns=250_000``). Draws come from a seeded ``numpy.random.Generator``
(``core.make_rng``); ``LatencyModel`` spawns one child stream for entry and one for response
so that drawing one never shifts the other's sequence. The same seed gives the same latencies.

Distributions (every draw is rounded half-even to whole nanoseconds and is never negative):

- ``constant``: ``latency_ns``.
- ``uniform``: integers in ``[low_ns, high_ns]``, both included.
- ``truncated_normal``: normal ``(mean_ns, std_ns)`` conditioned on ``[low_ns, high_ns]``
  (``high_ns`` may be omitted), sampled by the inverse CDF; the window is mirrored into the
  lower tail first so that far-tail windows keep their precision.
- ``lognormal``: ``offset_ns + exp(N(log(median_ns), sigma**2))``: a floor (wire time) plus a
  right-skewed queueing part, the usual shape of measured order-entry latency.
- ``empirical``: uniform resampling (with replacement) of measured ``samples_ns``.
"""

from __future__ import annotations

import math
from typing import Final, TypeAlias

import msgspec
import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError

__all__ = [
    "ConstantLatency",
    "EmpiricalLatency",
    "LatencyConfig",
    "LatencyDistribution",
    "LatencyModel",
    "LogNormalLatency",
    "TruncatedNormalLatency",
    "UniformLatency",
    "sample_latency_ns",
]

_I64 = npt.NDArray[np.int64]
_MAX_NS: Final = 2**62  # far beyond any latency; keeps sums of timestamps inside int64


def _check_ns(kind: str, name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_NS:
        raise ConfigError(f"{kind} latency {name} {value} must be an integer in 0..2**62 ns")


class ConstantLatency(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="constant",
):
    """Always ``latency_ns``."""

    latency_ns: int

    def __post_init__(self) -> None:
        _check_ns("constant", "latency_ns", self.latency_ns)


class UniformLatency(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="uniform",
):
    """Uniform integers in ``[low_ns, high_ns]`` (both included)."""

    low_ns: int
    high_ns: int

    def __post_init__(self) -> None:
        _check_ns("uniform", "low_ns", self.low_ns)
        _check_ns("uniform", "high_ns", self.high_ns)
        if self.low_ns > self.high_ns:
            raise ConfigError(
                f"uniform latency low_ns {self.low_ns} is above high_ns {self.high_ns}"
            )


class TruncatedNormalLatency(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="truncated_normal",
):
    """Normal ``(mean_ns, std_ns)`` restricted to ``[low_ns, high_ns]`` (``None``: no upper)."""

    mean_ns: float
    std_ns: float
    low_ns: int = 0
    high_ns: int | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.mean_ns):
            raise ConfigError(f"truncated normal latency mean_ns {self.mean_ns} must be finite")
        if not math.isfinite(self.std_ns) or self.std_ns <= 0:
            raise ConfigError(
                f"truncated normal latency std_ns {self.std_ns} must be finite and positive"
            )
        _check_ns("truncated normal", "low_ns", self.low_ns)
        if self.high_ns is not None:
            _check_ns("truncated normal", "high_ns", self.high_ns)
            if self.high_ns <= self.low_ns:
                raise ConfigError(
                    f"truncated normal latency high_ns {self.high_ns} must be above "
                    f"low_ns {self.low_ns}"
                )
        lower, upper, _ = _standard_window(self)
        from scipy import special  # only truncated normals need it

        if not special.ndtr(upper) - special.ndtr(lower) > 0:
            raise ConfigError(
                f"truncated normal latency window [{self.low_ns}, {self.high_ns}] ns has no "
                f"probability under mean {self.mean_ns} ns and std {self.std_ns} ns"
            )


class LogNormalLatency(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="lognormal",
):
    """``offset_ns + exp(N(log(median_ns), sigma**2))``; ``sigma`` is the log-space std."""

    median_ns: float
    sigma: float
    offset_ns: int = 0

    def __post_init__(self) -> None:
        if not math.isfinite(self.median_ns) or self.median_ns <= 0:
            raise ConfigError(
                f"lognormal latency median_ns {self.median_ns} must be finite and positive"
            )
        if not math.isfinite(self.sigma) or self.sigma < 0:
            raise ConfigError(
                f"lognormal latency sigma {self.sigma} must be finite and non-negative"
            )
        _check_ns("lognormal", "offset_ns", self.offset_ns)


class EmpiricalLatency(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="empirical",
):
    """Resample measured latencies ``samples_ns`` uniformly with replacement."""

    samples_ns: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.samples_ns:
            raise ConfigError("empirical latency samples_ns must not be empty")
        for value in self.samples_ns:
            _check_ns("empirical", "sample", value)


LatencyDistribution: TypeAlias = (
    int
    | ConstantLatency
    | UniformLatency
    | TruncatedNormalLatency
    | LogNormalLatency
    | EmpiricalLatency
)


class LatencyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Latencies of the simulated venue (an integer means a constant number of ns).

    Attributes
    ----------
    entry_latency_ns : from sending a command to the venue seeing it.
    response_latency_ns : from the venue's decision to our receiving the event.
    """

    entry_latency_ns: LatencyDistribution = 0
    response_latency_ns: LatencyDistribution = 0

    def __post_init__(self) -> None:
        for name, value in (
            ("entry_latency_ns", self.entry_latency_ns),
            ("response_latency_ns", self.response_latency_ns),
        ):
            if isinstance(value, int):
                _check_ns("constant", name, value)


def _standard_window(distribution: TruncatedNormalLatency) -> tuple[float, float, bool]:
    # The window in standard units, mirrored into the lower tail when it lies above the mean
    # (ndtr keeps relative precision there); the flag says whether draws must be negated.
    lower = (distribution.low_ns - distribution.mean_ns) / distribution.std_ns
    upper = (
        math.inf
        if distribution.high_ns is None
        else (distribution.high_ns - distribution.mean_ns) / distribution.std_ns
    )
    if lower > 0:
        return -upper, -lower, True
    return lower, upper, False


def _truncated_normal(
    distribution: TruncatedNormalLatency, rng: np.random.Generator, size: int
) -> npt.NDArray[np.float64]:
    lower, upper, mirrored = _standard_window(distribution)
    from scipy import special

    low_cdf, high_cdf = special.ndtr(lower), special.ndtr(upper)
    uniforms = rng.random(size)
    standard = special.ndtri(low_cdf + uniforms * (high_cdf - low_cdf))
    standard = np.clip(standard, lower, upper)
    if mirrored:
        standard = -standard
    values: npt.NDArray[np.float64] = distribution.mean_ns + distribution.std_ns * standard
    return values


def sample_latency_ns(
    distribution: LatencyDistribution, rng: np.random.Generator, size: int
) -> _I64:
    """Return ``size`` latencies in whole nanoseconds drawn from ``distribution``.

    A constant consumes no random numbers; every other distribution consumes a fixed number
    per draw, so a seed reproduces the same sequence.

    Raises
    ------
    ConfigError
        If ``size`` is negative.
    """
    if size < 0:
        raise ConfigError(f"latency sample size {size} must be non-negative")
    if isinstance(distribution, int):
        return np.full(size, distribution, dtype=np.int64)
    if isinstance(distribution, ConstantLatency):
        return np.full(size, distribution.latency_ns, dtype=np.int64)
    if isinstance(distribution, UniformLatency):
        return rng.integers(
            distribution.low_ns, distribution.high_ns, size=size, endpoint=True, dtype=np.int64
        )
    if isinstance(distribution, EmpiricalLatency):
        samples = np.asarray(distribution.samples_ns, dtype=np.int64)
        return samples[rng.integers(0, samples.size, size=size)]
    if isinstance(distribution, TruncatedNormalLatency):
        values = _truncated_normal(distribution, rng, size)
        low = distribution.low_ns
        high = _MAX_NS if distribution.high_ns is None else distribution.high_ns
        return np.clip(np.rint(values), low, high).astype(np.int64)
    draws = rng.lognormal(math.log(distribution.median_ns), distribution.sigma, size)
    values = distribution.offset_ns + draws
    return np.clip(np.rint(values), 0, _MAX_NS).astype(np.int64)


class LatencyModel:
    """Draws entry and response latencies for the simulated venue.

    Parameters
    ----------
    config : the two distributions.
    rng : a seeded generator (``make_rng(seed, "venue", "latency")``); two child streams are
        spawned from it, one for entry and one for response latencies.
    """

    __slots__ = ("_config", "_entry_rng", "_response_rng")

    def __init__(self, config: LatencyConfig, rng: np.random.Generator) -> None:
        self._config = config
        self._entry_rng, self._response_rng = rng.spawn(2)

    @property
    def config(self) -> LatencyConfig:
        """Return the configuration."""
        return self._config

    def entry_latency_ns(self) -> int:
        """Return the next order entry latency in nanoseconds."""
        return int(sample_latency_ns(self._config.entry_latency_ns, self._entry_rng, 1)[0])

    def response_latency_ns(self) -> int:
        """Return the next venue response latency in nanoseconds."""
        return int(sample_latency_ns(self._config.response_latency_ns, self._response_rng, 1)[0])

    def entry_latencies_ns(self, count: int) -> _I64:
        """Return the next ``count`` entry latencies (the same as ``count`` single draws)."""
        return sample_latency_ns(self._config.entry_latency_ns, self._entry_rng, count)

    def response_latencies_ns(self, count: int) -> _I64:
        """Return the next ``count`` response latencies (the same as ``count`` single draws)."""
        return sample_latency_ns(self._config.response_latency_ns, self._response_rng, count)
