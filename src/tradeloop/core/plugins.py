"""Loading the user classes a config names: strategies, signal agents.

A class path is one of:

- ``package.module:Class`` where ``package`` is ``tradeloop`` or in the caller's allow-list;
- ``path/to/file.py:Class``, a file the config names explicitly: a relative path resolves
  against the config's directory (``base_dir``), never the working directory.

Anything else is a ``ConfigError`` naming the class path and the rule it broke: a config
never imports code nobody allowed. The engine decides when classes load (at startup, before a
run directory exists) and from which directory; this module is only the mechanism, low enough
in the layers for every layer that names user classes to share it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from tradeloop.core.errors import ConfigError
from tradeloop.core.paths import require_file

__all__ = ["load_class"]

T = TypeVar("T")


def _load_file(path: Path, class_name: str, kind: str) -> object:
    require_file(path, f"{kind} file")
    # A module name of the file's place: the same file is one module, whatever the process.
    tag = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"tradeloop_user_{path.stem}_{tag}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{kind} file {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise ConfigError(
            f"{kind} file {path} failed to import: {type(error).__name__}: {error}"
        ) from error
    if not hasattr(module, class_name):
        raise ConfigError(f"{kind} file {path} has no class {class_name}")
    return getattr(module, class_name)


def load_class(
    class_path: str,
    base_type: type[T],
    *,
    kind: str,
    allowed: Sequence[str],
    allow_hint: str,
    base_dir: Path | None,
) -> type[T]:
    """Return the subclass of ``base_type`` that ``class_path`` names (module docstring).

    Parameters
    ----------
    class_path : ``package.module:Class`` or ``path/to/file.py:Class``.
    base_type : the class it must derive from (``Strategy``, ``SignalAgent``).
    kind : what is loaded, for messages (``"strategy"``, ``"agent"``).
    allowed : top-level packages a ``module:Class`` may come from besides ``tradeloop``.
    allow_hint : where the user adds a package to ``allowed`` (``"[plugins] allow"``).
    base_dir : the directory relative file paths resolve against (the config's); ``None``
        accepts absolute file paths only.

    Raises
    ------
    ConfigError
        If the class path is malformed, its package is not allowed, the module or file cannot
        be imported, the class is missing, or it is not a ``base_type`` subclass.
    """
    target, sep, class_name = class_path.rpartition(":")
    if not sep or not target or not class_name:
        raise ConfigError(
            f"{kind} {class_path!r} is not of the form module:Class or path/to/file.py:Class"
        )
    cls: object
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_absolute():
            if base_dir is None:
                raise ConfigError(
                    f"{kind} file {target} is relative and no config directory is known to "
                    "resolve it; give an absolute path"
                )
            path = base_dir / path
        cls = _load_file(path, class_name, kind)
    else:
        package = target.split(".")[0]
        if package != "tradeloop" and package not in allowed:
            raise ConfigError(
                f"{kind} module {target} is not allowed; add {package!r} to {allow_hint} to "
                "import it"
            )
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as error:
            hint = ""
            if error.name is not None and target.startswith(error.name):
                # Not installed nor on sys.path: a file beside the config is named by its path.
                hint = (
                    f" (a module must be installed or on the Python path; for a file next to "
                    f"the config write {target.replace('.', '/')}.py:{class_name})"
                )
            raise ConfigError(
                f"{kind} module {target} cannot be imported: {error}{hint}"
            ) from error
        except Exception as error:
            raise ConfigError(
                f"{kind} module {target} failed to import: {type(error).__name__}: {error}"
            ) from error
        if not hasattr(module, class_name):
            raise ConfigError(f"{kind} module {target} has no class {class_name}")
        cls = getattr(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, base_type)):
        raise ConfigError(f"{kind} {class_path} is not a {base_type.__name__} subclass")
    return cls
