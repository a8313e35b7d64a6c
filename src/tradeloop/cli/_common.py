"""What every command module shares: the consoles and the one-line user error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

from tradeloop.core.errors import TradeloopError

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
        for note in getattr(error, "__notes__", ()):  # e.g. where a failed run was marked
            err.print(escape(note), highlight=False, soft_wrap=True)
        raise _Exit(2) from None
