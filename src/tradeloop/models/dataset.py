"""Training rows from materialized features, cut to explicit windows, and purged k-fold
cross-validation with an embargo.

``TrainingSet.window(fit_start_ns, fit_end_ns)`` is the ``fit(fit_start, fit_end)``
contract of the regime detector applied to models: the rows stamped inside the window
whose label ended inside it too (a label that reads past ``fit_end_ns`` would carry the
future into the fit). Rows with a missing feature or label are left out.

``purged_kfold`` (López de Prado, *Advances in Financial Machine Learning*, ch. 7) splits
the distinct timestamps into contiguous folds; for each test fold it trains on the rows
whose label ended before the fold began, or that start after both the fold's last label
and an embargo of ``embargo_bars`` timestamps after the fold.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError
from tradeloop.features.store import FeatureTable

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class TrainingSet:
    """Feature rows, labels, their timestamps, label ends and instruments (time order)."""

    def __init__(
        self,
        features: F64,
        label: F64,
        ts_ns: I64,
        label_end_ns: I64,
        instruments: npt.NDArray[np.str_],
        feature_names: list[str],
    ) -> None:
        order = np.lexsort((instruments, ts_ns))
        self.features, self.label = features[order], label[order]
        self.ts_ns, self.label_end_ns = ts_ns[order], label_end_ns[order]
        self.instruments = instruments[order]
        self.feature_names = feature_names

    def __len__(self) -> int:
        return len(self.label)

    @classmethod
    def from_tables(cls, tables: Mapping[str, FeatureTable], names: list[str]) -> TrainingSet:
        """Stack the instruments' rows that have every feature and a label."""
        parts: list[tuple[F64, F64, I64, I64, npt.NDArray[np.str_]]] = []
        for instrument_id in sorted(tables):
            table = tables[instrument_id]
            matrix = np.column_stack([table.features[n] for n in names])
            keep = np.isfinite(matrix).all(axis=1) & np.isfinite(table.label)
            keep &= table.label_end_ns >= 0
            parts.append(
                (
                    matrix[keep],
                    table.label[keep],
                    table.ts_init[keep],
                    table.label_end_ns[keep],
                    np.full(int(keep.sum()), instrument_id),
                )
            )
        if not parts:
            raise ConfigError("no instrument to train on")
        return cls(
            np.vstack([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
            np.concatenate([p[4] for p in parts]),
            names,
        )

    def select(self, mask: npt.NDArray[np.bool_]) -> TrainingSet:
        """Return the rows of ``mask``."""
        return TrainingSet(
            self.features[mask],
            self.label[mask],
            self.ts_ns[mask],
            self.label_end_ns[mask],
            self.instruments[mask],
            self.feature_names,
        )

    def window(self, fit_start_ns: int, fit_end_ns: int) -> TrainingSet:
        """Return the rows a fit on ``[fit_start_ns, fit_end_ns]`` may see."""
        mask = (self.ts_ns >= fit_start_ns) & (self.ts_ns <= fit_end_ns)
        return self.select(mask & (self.label_end_ns <= fit_end_ns))


def purged_kfold(
    ts_ns: I64, label_end_ns: I64, folds: int, embargo_bars: int
) -> Iterator[tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]]:
    """Yield ``(train_mask, test_mask)`` for each fold (see the module docstring).

    Raises
    ------
    ConfigError
        If there are fewer distinct timestamps than folds.
    """
    stamps = np.unique(ts_ns)
    if len(stamps) < folds:
        raise ConfigError(f"{len(stamps)} distinct timestamps cannot make {folds} folds")
    for block in np.array_split(np.arange(len(stamps)), folds):
        first, last = stamps[block[0]], stamps[block[-1]]
        test = (ts_ns >= first) & (ts_ns <= last)
        label_end = int(label_end_ns[test].max())
        after = block[-1] + embargo_bars
        embargo_end = stamps[min(after, len(stamps) - 1)] if embargo_bars else last
        if after >= len(stamps):
            embargo_end = stamps[-1]
        before = label_end_ns < first
        later = (ts_ns > label_end) & (ts_ns > embargo_end)
        yield before | later, test
