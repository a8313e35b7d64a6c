from __future__ import annotations

import types

import tradeloop.data.books


def test_all_lists_exactly_the_public_names_of_the_books_package() -> None:
    package: types.ModuleType = tradeloop.data.books
    exported = set(package.__all__)
    assert len(exported) == len(package.__all__)
    for name in exported:
        assert hasattr(package, name), name
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
        and getattr(value, "__module__", package.__name__).startswith(package.__name__)
    }
    assert public - exported == set()
