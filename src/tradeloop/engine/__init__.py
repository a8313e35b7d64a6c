"""Engine: the kernel (composition root and event loop), data merging, runners per mode,
plugin loading."""

from tradeloop.engine.feed import KIND_PRIORITY, iter_records, merge
from tradeloop.engine.kernel import Kernel, ProgressCallback
from tradeloop.engine.paper import ReplayFeed, run_paper
from tradeloop.engine.plugins import BUILTIN_STRATEGIES, build_strategy, resolve_strategy_class

__all__ = [
    "BUILTIN_STRATEGIES",
    "KIND_PRIORITY",
    "Kernel",
    "ProgressCallback",
    "ReplayFeed",
    "build_strategy",
    "iter_records",
    "merge",
    "resolve_strategy_class",
    "run_paper",
]
