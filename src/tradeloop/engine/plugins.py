"""Loading strategy classes named in a config, from an allow-list.

A strategy's ``class`` is one of:

- a built-in name: ``SmaCross``;
- ``package.module:Class`` where ``package`` is ``tradeloop`` or listed in ``[plugins] allow``;
- ``path/to/file.py:Class``, a file the config names explicitly (resolved next to the config).

Anything else is a ``ConfigError``: a config never imports code nobody allowed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import msgspec

from tradeloop.config.schema import RunConfig, StrategySection
from tradeloop.core.errors import ConfigError
from tradeloop.pipeline.schedule import ExecutionSchedule
from tradeloop.pipeline.strategy import Pipeline
from tradeloop.strategy.base import Strategy
from tradeloop.strategy.sma_cross import SmaCross

BUILTIN_STRATEGIES: dict[str, type[Strategy]] = {
    "SmaCross": SmaCross,
    "Pipeline": Pipeline,
    "ExecutionSchedule": ExecutionSchedule,
}


def _load_file(path: Path, class_name: str) -> Any:
    if not path.is_file():
        raise ConfigError(f"strategy file {path} does not exist")
    module_name = f"tradeloop_user_{path.stem}_{abs(hash(str(path.resolve()))) % 10**8}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"strategy file {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise ConfigError(
            f"strategy file {path} failed to import: {type(error).__name__}: {error}"
        ) from error
    return getattr(module, class_name, None)


def resolve_strategy_class(class_path: str, allowed: list[str], base_dir: Path) -> type[Strategy]:
    """Return the strategy class named by ``class_path`` (see the module docstring).

    Raises
    ------
    ConfigError
        If the name is not allowed, cannot be imported, or is not a ``Strategy`` subclass.
    """
    if class_path in BUILTIN_STRATEGIES:
        return BUILTIN_STRATEGIES[class_path]
    target, sep, class_name = class_path.rpartition(":")
    if not sep or not target or not class_name:
        known = ", ".join(sorted(BUILTIN_STRATEGIES))
        raise ConfigError(
            f"strategy class {class_path!r} is neither a built-in ({known}) "
            "nor of the form module:Class or file.py:Class"
        )
    if target.endswith(".py"):
        path = Path(target)
        cls = _load_file(path if path.is_absolute() else base_dir / path, class_name)
    else:
        package = target.split(".")[0]
        if package != "tradeloop" and package not in allowed:
            raise ConfigError(
                f"strategy module {target} is not allowed; "
                f"add {package!r} to [plugins] allow to import it"
            )
        try:
            module = importlib.import_module(target)
        except ImportError as error:
            raise ConfigError(f"strategy module {target} cannot be imported: {error}") from error
        cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise ConfigError(f"{class_path} is not a tradeloop Strategy subclass")
    return cls


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
