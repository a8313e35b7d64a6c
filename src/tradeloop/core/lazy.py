"""Lazy imports for heavy optional machinery (numba kernels, pandas/Arrow/DuckDB readers).

A process that only runs the event loop should not pay the memory and start-up time of
libraries it never calls: importing numba alone costs about 50 MB. ``lazy_module`` returns
a module object whose code runs on first attribute access.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """Return module ``name``, executed only when one of its attributes is first read."""
    existing = sys.modules.get(name)
    if existing is not None:
        return existing
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"module {name} cannot be found")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
