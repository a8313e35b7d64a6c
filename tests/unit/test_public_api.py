"""Every package's public API is its ``__init__``: ``__all__`` is in sync with what it exports.

For each package under ``tradeloop`` (found by walking the source tree, so a new package is
checked without editing this test):

- ``__all__`` exists, has no duplicates, and every name in it resolves (lazy names load);
- every public name the ``__init__`` binds that comes from the package itself (its modules
  or subpackages; names without a ``__module__``, such as constants, count as its own) is
  listed in ``__all__``;
- a lazily exported name (``_LAZY``) is listed in ``__all__``.
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import tradeloop

PACKAGES = sorted(
    [tradeloop.__name__]
    + [
        info.name
        for info in pkgutil.walk_packages(tradeloop.__path__, prefix="tradeloop.")
        if info.ispkg
    ]
)


def test_the_walk_finds_every_layer() -> None:
    for name in ("tradeloop.core", "tradeloop.engine", "tradeloop.data.readers", "tradeloop.cli"):
        assert name in PACKAGES


def _exported_public_names(package: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
        and getattr(value, "__module__", package.__name__).startswith(package.__name__)
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_in_sync_with_the_package(name: str) -> None:
    package = importlib.import_module(name)
    assert hasattr(package, "__all__"), f"{name} has no __all__"
    exported = list(package.__all__)
    assert len(exported) == len(set(exported)), f"{name}.__all__ has duplicates"
    missing = [item for item in exported if not hasattr(package, item)]
    assert missing == [], f"{name}.__all__ lists names it does not have: {missing}"
    unlisted = _exported_public_names(package) - set(exported)
    assert unlisted == set(), f"{name} exports names missing from __all__: {sorted(unlisted)}"
    lazy = getattr(package, "_LAZY", {})
    assert set(lazy) <= set(exported), (
        f"{name} lazy names not in __all__: {set(lazy) - set(exported)}"
    )
