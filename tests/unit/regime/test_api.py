"""The public API of ``tradeloop.regime``: ``__all__`` lists exactly the public names."""

from __future__ import annotations

import inspect

import tradeloop.regime as regime


def test_regime_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(regime).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert set(regime.__all__) == public
    assert len(regime.__all__) == len(set(regime.__all__))
