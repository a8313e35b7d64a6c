"""Training labels: forward returns and the triple barrier, computed in bulk only.

A label at bar ``t`` reads the bars after ``t`` (up to ``t + horizon``), so it exists only in
materialized training data: no online computation exists for it, and no feature may be a
label kind (``FeatureSpec`` refuses it). Each label carries ``label_end_ns``: the ``ts_init``
of the last bar it read, which purged cross-validation uses to drop training rows whose label
overlaps the test fold. The last ``horizon`` bars have no label (NaN).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tradeloop.analytics.indicators import realized_volatility
from tradeloop.features.compute import BarArrays
from tradeloop.features.definitions import LabelSpec

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def compute_label(spec: LabelSpec, bars: BarArrays) -> tuple[F64, I64]:
    """Return the label at every bar and the ``ts_init`` of the last bar each one read
    (``-1`` where there is no label)."""
    close = bars.close
    n = len(close)
    h = spec.horizon
    label = np.full(n, np.nan)
    end = np.full(n, -1, dtype=np.int64)
    if n <= h:
        return label, end
    if spec.kind == "forward_return":
        ratio = close[h:] / close[:-h]
        label[: n - h] = [math.log(x) for x in ratio.tolist()]
        end[: n - h] = bars.ts_init[h:]
        return label, end
    sigma = realized_volatility(close, spec.vol_window, 1.0) if n > spec.vol_window else None
    if sigma is None:
        return label, end
    for t in range(n - h):
        s = sigma[t]
        if not s > 0:
            continue
        up, down = spec.upper * s, -spec.lower * s
        outcome, last = 0.0, t + h
        for j in range(t + 1, t + h + 1):
            r = math.log(close[j] / close[t])
            if r >= up:
                outcome, last = 1.0, j
                break
            if r <= down:
                outcome, last = -1.0, j
                break
        label[t] = outcome
        end[t] = bars.ts_init[last]
    return label, end
