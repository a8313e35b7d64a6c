from __future__ import annotations

import types

import pytest

import tradeloop.data
import tradeloop.data.bundled
import tradeloop.data.readers


@pytest.mark.parametrize(
    "package", [tradeloop.data, tradeloop.data.readers, tradeloop.data.bundled]
)
def test_all_lists_exactly_the_public_names(package: types.ModuleType) -> None:
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


def test_existing_column_exports_are_kept() -> None:
    for name in (
        "CHUNK_ROWS",
        "BarColumns",
        "Columns",
        "QuoteColumns",
        "TradeColumns",
        "excess_precision_mask",
        "floats_to_raw",
    ):
        assert name in tradeloop.data.__all__
