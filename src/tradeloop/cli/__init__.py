"""Command line: ``tradeloop demo | backtest | paper | data | bench``."""

from tradeloop.cli.main import app, main

__all__ = ["app", "main"]
