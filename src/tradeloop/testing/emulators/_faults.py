"""Fault injection shared by the emulators: seeded, so a run with the same seed and the same
sequence of requests and messages meets the same faults."""

from __future__ import annotations

from typing import Any

import msgspec

from tradeloop.core.rng import make_rng

_PROBABILITIES = (
    "rate_limit_probability",
    "ban_probability",
    "server_error_probability",
    "timeout_probability",
    "reject_probability",
    "ws_disconnect_probability",
    "ws_drop_probability",
    "ws_duplicate_probability",
    "ws_reorder_probability",
)


class FaultConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Faults an emulator injects (all off by default).

    Attributes
    ----------
    latency_ms : added delay before every REST answer and every WebSocket message.
    latency_jitter_ms : uniform extra delay in ``[0, latency_jitter_ms)`` on top.
    rate_limit_probability : chance a REST request is answered 429 (with ``Retry-After``).
    ban_probability : chance a REST request is answered 418 (IP ban, with ``Retry-After``).
    server_error_probability : chance a REST request is answered with a 5xx.
    timeout_probability : chance an order request (new or cancel) is carried out and then
        never answered (the connection stays open until the client gives up).
    reject_probability : chance a new order is rejected by the venue.
    ws_disconnect_probability : chance, per WebSocket message, that the server closes the
        connection instead of sending it.
    ws_drop_probability : chance a WebSocket message is not sent.
    ws_duplicate_probability : chance a WebSocket message is sent twice.
    ws_reorder_probability : chance a WebSocket message is held back and sent after the next.
    partial_fills : orders fill at most the displayed size of each quote (the rest waits for
        later quotes), so market and marketable limit orders fill in parts.
    seed : seed of the fault draws.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    rate_limit_probability: float = 0.0
    ban_probability: float = 0.0
    server_error_probability: float = 0.0
    timeout_probability: float = 0.0
    reject_probability: float = 0.0
    ws_disconnect_probability: float = 0.0
    ws_drop_probability: float = 0.0
    ws_duplicate_probability: float = 0.0
    ws_reorder_probability: float = 0.0
    partial_fills: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} {value} must be in [0, 1]")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0:
            raise ValueError(
                f"fault latency_ms {self.latency_ms} and latency_jitter_ms "
                f"{self.latency_jitter_ms} must not be negative"
            )


def replace_faults(config: FaultConfig, changes: dict[str, Any]) -> FaultConfig:
    """Return ``config`` with ``changes`` applied, validated like a new config.

    Raises
    ------
    ValueError
        If a field is unknown or a value is out of range.
    """
    merged = msgspec.structs.asdict(config) | changes
    try:
        return msgspec.convert(merged, FaultConfig)
    except msgspec.ValidationError as error:
        raise ValueError(str(error)) from error


class Faults:
    """The live fault settings and their seeded draws."""

    def __init__(self, config: FaultConfig, venue: str) -> None:
        self.venue = venue
        self.config = config
        self._rng = make_rng(config.seed, "emulator", venue, "faults")

    def update(self, config: FaultConfig) -> None:
        """Switch to ``config``; a new seed restarts the draws."""
        if config.seed != self.config.seed:
            self._rng = make_rng(config.seed, "emulator", self.venue, "faults")
        self.config = config

    def roll(self, name: str) -> bool:
        """Return whether the fault ``name`` (a probability field) happens now."""
        probability: float = getattr(self.config, name)
        if probability <= 0.0:
            return False
        return bool(self._rng.random() < probability)

    def delay_s(self) -> float:
        """Return the delay to add before an answer or message, in seconds."""
        config = self.config
        jitter = config.latency_jitter_ms * self._rng.random() if config.latency_jitter_ms else 0.0
        return (config.latency_ms + jitter) / 1000.0
