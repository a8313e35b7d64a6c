"""What every command module shares: the consoles and the one-line user error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

from tradeloop.core.errors import TradeloopError

# Bars a benchmark series may have: beyond this, generating it alone needs gigabytes.
MAX_BENCH_BARS = 20_000_000

out = Console()
err = Console(stderr=True)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a tradeloop error into one line on stderr and exit status 2."""
    try:
        yield
    except TradeloopError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise _Exit(2) from None


def check_number(
    option: str,
    value: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
) -> None:
    """Check a numeric option's range; a value out of it is one ``ConfigError`` line.

    Raises
    ------
    ConfigError
        If ``value`` is not finite, not positive (``positive``), or outside
        ``minimum``..``maximum``; the message names the option, the value and the range.
    """
    import math

    from tradeloop.core.errors import ConfigError

    shown = f"{value:g}" if isinstance(value, float) else f"{value}"
    if not math.isfinite(value):
        raise ConfigError(f"{option} {shown} must be a finite number")
    if positive and not value > 0:
        raise ConfigError(f"{option} {shown} must be positive")
    too_low = minimum is not None and value < minimum
    too_high = maximum is not None and value > maximum
    if too_low or too_high:
        if minimum is not None and maximum is not None:
            raise ConfigError(f"{option} {shown} must be between {minimum:,} and {maximum:,}")
        if minimum is not None:
            raise ConfigError(f"{option} {shown} must be at least {minimum:,}")
        raise ConfigError(f"{option} {shown} must be at most {maximum:,}")
