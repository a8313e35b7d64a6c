"""The public API of ``tradeloop.reports``: ``__all__`` lists exactly the lazily exported names."""

import tradeloop.reports as reports


def test_all_lists_every_lazy_export_once_and_each_resolves() -> None:
    assert sorted(reports.__all__) == sorted(reports._LAZY)
    assert len(reports.__all__) == len(set(reports.__all__))
    for name in reports.__all__:
        assert getattr(reports, name) is not None
