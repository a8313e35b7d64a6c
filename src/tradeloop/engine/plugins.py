"""Loading strategy classes named in a config, from an allow-list.

A strategy's ``class`` is one of:

- a built-in name: ``SmaCross``;
- ``package.module:Class`` where ``package`` is ``tradeloop`` or listed in ``[plugins] allow``;
- ``path/to/file.py:Class``, a file the config names explicitly (resolved next to the config).

Anything else is a ``ConfigError``: a config never imports code nobody allowed. The loading
itself is ``core.plugins.load_class``, shared with the pipeline's signal agents.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from tradeloop.config.schema import RunConfig, StrategySection
from tradeloop.core.errors import ConfigError
from tradeloop.core.plugins import load_class
from tradeloop.pipeline.schedule import ExecutionSchedule
from tradeloop.pipeline.strategy import Pipeline
from tradeloop.strategy.base import Strategy
from tradeloop.strategy.sma_cross import SmaCross

BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {
    "SmaCross": SmaCross,
    "Pipeline": Pipeline,
    "ExecutionSchedule": ExecutionSchedule,
}


def resolve_strategy_class(class_path: str, allowed: list[str], base_dir: Path) -> type[Strategy]:
    """Return the strategy class named by ``class_path`` (see the module docstring).

    Raises
    ------
    ConfigError
        If the name is not allowed, cannot be imported, or is not a ``Strategy`` subclass.
    """
    if class_path in BUILTIN_STRATEGIES:
        return BUILTIN_STRATEGIES[class_path]
    if ":" not in class_path:
        known = ", ".join(sorted(BUILTIN_STRATEGIES))
        raise ConfigError(
            f"strategy class {class_path!r} is neither a built-in ({known}) "
            "nor of the form module:Class or file.py:Class"
        )
    return load_class(
        class_path,
        Strategy,
        kind="strategy",
        allowed=allowed,
        allow_hint="[plugins] allow",
        base_dir=base_dir,
    )


def build_strategy(
    section: StrategySection, config: RunConfig, base_dir: Path, index: int
) -> Strategy:
    """Return the strategy of one ``[[strategies]]`` entry, with its params validated.

    Raises
    ------
    ConfigError
        If the class cannot be loaded or a parameter is unknown or of the wrong type.
    """
    cls = resolve_strategy_class(section.class_path, config.plugins.allow, base_dir)
    try:
        params = msgspec.convert(section.params, type=cls.Config)
    except msgspec.ValidationError as error:
        text = str(error).replace("Object contains unknown field", "unknown parameter")
        raise ConfigError(f"strategies[{index}] ({section.class_path}) params: {text}") from None
    strategy_id = section.id or (
        cls.__name__ if len(config.strategies) == 1 else f"{cls.__name__}-{index}"
    )
    return cls(params, strategy_id=strategy_id)
