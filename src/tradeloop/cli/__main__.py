"""``python -m tradeloop.cli``: the same as the ``tradeloop`` script."""

from tradeloop.cli.main import main

main()
