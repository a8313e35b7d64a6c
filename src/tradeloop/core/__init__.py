"""Core: nanosecond time, clocks, fixed-point values, ids, seeded randomness, errors.

Everything but the errors loads on first use: the command line imports
``tradeloop.core.errors`` at startup, and that must not bring msgspec or NumPy.
"""

import importlib
import typing

from tradeloop.core.errors import (
    ConfigError,
    DataIntegrityError,
    InvalidValueError,
    InvariantViolation,
    OrderStateError,
    StrategyError,
    TradeloopError,
    TransientVenueError,
    VenueError,
    VenueRejectedError,
)

if typing.TYPE_CHECKING:
    from tradeloop.core.clock import NEVER_NS, Clock, LiveClock, TestClock, TimeEvent, TimerCallback
    from tradeloop.core.fixed import (
        CURRENCIES,
        MONEY_PRECISION,
        Currency,
        Money,
        Price,
        Quantity,
        currency,
        format_raw,
        notional_raw,
        pow10,
        rescale_raw,
    )
    from tradeloop.core.ids import IdGenerator, content_hash, file_hash
    from tradeloop.core.paths import (
        require_dir,
        require_file,
        require_output_dir,
        require_output_file,
    )
    from tradeloop.core.rng import make_rng
    from tradeloop.core.time import (
        NANOS_PER_DAY,
        NANOS_PER_HOUR,
        NANOS_PER_MICRO,
        NANOS_PER_MILLI,
        NANOS_PER_MINUTE,
        NANOS_PER_SECOND,
        dt_to_ns,
        ns_to_dt,
        ns_to_iso,
        parse_time,
    )

_LAZY: dict[str, str] = {
    "NEVER_NS": "tradeloop.core.clock",
    "Clock": "tradeloop.core.clock",
    "LiveClock": "tradeloop.core.clock",
    "TestClock": "tradeloop.core.clock",
    "TimeEvent": "tradeloop.core.clock",
    "TimerCallback": "tradeloop.core.clock",
    "CURRENCIES": "tradeloop.core.fixed",
    "MONEY_PRECISION": "tradeloop.core.fixed",
    "Currency": "tradeloop.core.fixed",
    "Money": "tradeloop.core.fixed",
    "Price": "tradeloop.core.fixed",
    "Quantity": "tradeloop.core.fixed",
    "currency": "tradeloop.core.fixed",
    "format_raw": "tradeloop.core.fixed",
    "notional_raw": "tradeloop.core.fixed",
    "pow10": "tradeloop.core.fixed",
    "rescale_raw": "tradeloop.core.fixed",
    "IdGenerator": "tradeloop.core.ids",
    "content_hash": "tradeloop.core.ids",
    "file_hash": "tradeloop.core.ids",
    "make_rng": "tradeloop.core.rng",
    "require_dir": "tradeloop.core.paths",
    "require_file": "tradeloop.core.paths",
    "require_output_dir": "tradeloop.core.paths",
    "require_output_file": "tradeloop.core.paths",
    "NANOS_PER_DAY": "tradeloop.core.time",
    "NANOS_PER_HOUR": "tradeloop.core.time",
    "NANOS_PER_MICRO": "tradeloop.core.time",
    "NANOS_PER_MILLI": "tradeloop.core.time",
    "NANOS_PER_MINUTE": "tradeloop.core.time",
    "NANOS_PER_SECOND": "tradeloop.core.time",
    "dt_to_ns": "tradeloop.core.time",
    "ns_to_dt": "tradeloop.core.time",
    "ns_to_iso": "tradeloop.core.time",
    "parse_time": "tradeloop.core.time",
}


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module tradeloop.core has no attribute {name}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CURRENCIES",
    "MONEY_PRECISION",
    "NANOS_PER_DAY",
    "NANOS_PER_HOUR",
    "NANOS_PER_MICRO",
    "NANOS_PER_MILLI",
    "NANOS_PER_MINUTE",
    "NANOS_PER_SECOND",
    "NEVER_NS",
    "Clock",
    "ConfigError",
    "Currency",
    "DataIntegrityError",
    "IdGenerator",
    "InvalidValueError",
    "InvariantViolation",
    "LiveClock",
    "Money",
    "OrderStateError",
    "Price",
    "Quantity",
    "StrategyError",
    "TestClock",
    "TimeEvent",
    "TimerCallback",
    "TradeloopError",
    "TransientVenueError",
    "VenueError",
    "VenueRejectedError",
    "content_hash",
    "currency",
    "dt_to_ns",
    "file_hash",
    "format_raw",
    "make_rng",
    "notional_raw",
    "ns_to_dt",
    "ns_to_iso",
    "parse_time",
    "pow10",
    "require_dir",
    "require_file",
    "require_output_dir",
    "require_output_file",
    "rescale_raw",
]
