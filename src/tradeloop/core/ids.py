"""Deterministic identifiers: a tag and a counter, or a content hash.

No ``uuid4`` in the core: a replay of the same run must produce the same ids, so that the
journals of two runs compare byte for byte and duplicates can be recognised.
"""

from __future__ import annotations

import hashlib


class IdGenerator:
    """Return ``<prefix>-<tag>-<n>`` ids with a per-generator counter starting at 1.

    The run id scopes them: two runs never share a journal, so uniqueness within a run
    is enough, and leaving the clock out of the id keeps a backtest and a paper run of the
    same data producing the same ids.
    """

    __slots__ = ("_count", "_head")

    def __init__(self, prefix: str, tag: str) -> None:
        self._head = f"{prefix}-{tag}-"
        self._count = 0

    def next(self) -> str:
        """Return the next id."""
        self._count += 1
        return f"{self._head}{self._count}"

    @property
    def count(self) -> int:
        """Return how many ids were issued."""
        return self._count


def content_hash(*parts: bytes | str | int) -> str:
    """Return a short (16 hex digits) BLAKE2b hash of ``parts``, for ids that survive a replay."""
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        if isinstance(part, int):
            part = str(part)
        if isinstance(part, str):
            part = part.encode()
        digest.update(len(part).to_bytes(4, "little"))
        digest.update(part)
    return digest.hexdigest()


def file_hash(path: str, chunk_bytes: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest of a file's bytes (for data hashes in run manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
