"""Shared pieces of the book readers: the row builder, exact decimal text to raws, precision."""

from __future__ import annotations

import gzip
import io
import os
import re
import zipfile
from typing import IO, Final, Literal

import numpy as np
import numpy.typing as npt

from tradeloop.core.errors import ConfigError, DataIntegrityError
from tradeloop.core.fixed import pow10
from tradeloop.core.paths import require_file
from tradeloop.data.books.columns import DELTA_FIELDS
from tradeloop.model.book import BookFlag

I64 = npt.NDArray[np.int64]

GapPolicy = Literal["raise", "resync"]
"""What a reader does at a sequence gap: raise ``DataIntegrityError``, or resynchronise."""
CrossedPolicy = Literal["raise", "count"]
"""What a check does with a crossed book at an event boundary: raise, or count it."""

_DECIMAL: Final = re.compile(r"-?[0-9]+(\.[0-9]*)?")
_LAST: Final = int(BookFlag.LAST)


class DeltaBuilder:
    """Rows appended one at a time by a reader, returned as int64 arrays."""

    __slots__ = DELTA_FIELDS

    def __init__(self) -> None:
        self.ts_event: list[int] = []
        self.ts_init: list[int] = []
        self.action: list[int] = []
        self.side: list[int] = []
        self.price: list[int] = []
        self.size: list[int] = []
        self.order_id: list[int] = []
        self.flags: list[int] = []
        self.sequence: list[int] = []

    def __len__(self) -> int:
        return len(self.action)

    def append(
        self,
        ts_event: int,
        ts_init: int,
        action: int,
        side: int,
        price: int,
        size: int,
        order_id: int,
        flags: int,
        sequence: int,
    ) -> None:
        self.ts_event.append(ts_event)
        self.ts_init.append(ts_init)
        self.action.append(action)
        self.side.append(side)
        self.price.append(price)
        self.size.append(size)
        self.order_id.append(order_id)
        self.flags.append(flags)
        self.sequence.append(sequence)

    def set_last(self) -> None:
        self.flags[-1] |= _LAST

    def arrays(self) -> list[I64]:
        return [np.asarray(getattr(self, name), dtype=np.int64) for name in DELTA_FIELDS]


def decimal_raw(text: str, precision: int, what: str) -> int:
    """Return the decimal ``text`` as a raw integer at ``precision``, exactly.

    Raises
    ------
    DataIntegrityError
        If ``text`` is not a plain decimal or needs more than ``precision`` decimals.
    """
    if _DECIMAL.fullmatch(text) is None:
        raise DataIntegrityError(f"{what} {text!r} is not a decimal number")
    whole, _, frac = text.partition(".")
    if len(frac) > precision:
        if frac[precision:].strip("0"):
            raise DataIntegrityError(f"{what} {text} has more than {precision} decimals")
        frac = frac[:precision]
    return int(whole + frac.ljust(precision, "0"))


class RawCache(dict[str, int]):
    """Decimal text -> raw at one precision, memoised (feeds repeat the same prices)."""

    __slots__ = ("precision", "what")

    def __init__(self, precision: int, what: str) -> None:
        super().__init__()
        self.precision = precision
        self.what = what

    def __missing__(self, text: str) -> int:
        raw = decimal_raw(text, self.precision, self.what)
        self[text] = raw
        return raw


def reduce_precision(
    arrays: list[I64], working: int, wanted: int | None, what: str, *, null: int | None = None
) -> tuple[list[I64], int]:
    """Return ``arrays`` (raws at ``working`` decimals) at ``wanted`` decimals, and that precision.

    ``wanted=None`` picks the fewest decimals that keep every value exact. Values equal to
    ``null`` (``NULL_PRICE``) are left alone.

    Raises
    ------
    DataIntegrityError
        If a value needs more decimals than ``wanted``.
    """
    values = [a if null is None else a[a != null] for a in arrays]
    nonzero = [v[v != 0] for v in values]
    if wanted is None:
        wanted = working
        while wanted > 0 and all(
            not np.any(v % pow10(working - wanted + 1)) for v in nonzero if len(v)
        ):
            wanted -= 1
    if wanted > working:
        factor = pow10(wanted - working)
        return [_scale(a, factor, null, multiply=True) for a in arrays], wanted
    divisor = pow10(working - wanted)
    for v in nonzero:
        if len(v) and np.any(v % divisor):
            bad = int(v[np.flatnonzero(v % divisor)[0]])
            raise DataIntegrityError(
                f"{what} {bad / pow10(working)} needs more than {wanted} decimals"
            )
    return [_scale(a, divisor, null, multiply=False) for a in arrays], wanted


def _scale(a: I64, factor: int, null: int | None, *, multiply: bool) -> I64:
    if factor == 1:
        return a
    out = a * factor if multiply else a // factor
    if null is not None:
        out[a == null] = null
    return out.astype(np.int64)


def open_text(path: str | os.PathLike[str], what: str) -> IO[str]:
    """Open a text file, a ``.gz`` or a one-member ``.zip`` for reading.

    Raises
    ------
    ConfigError
        If the file does not exist.
    """
    file = require_file(path, f"{what} file")
    if file.suffix == ".gz":
        return gzip.open(file, "rt", encoding="utf-8")
    if file.suffix == ".zip":
        with zipfile.ZipFile(file) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise ConfigError(f"{what} archive {file} holds {len(names)} files, not one")
            data = archive.read(names[0])
        return io.StringIO(data.decode("utf-8"))
    return open(file, encoding="utf-8")
