"""Seeded randomness. Every random draw in tradeloop comes from a generator made here.

``make_rng(seed, "venue", "latency")`` gives an independent, reproducible stream per
component: adding a new consumer does not shift the draws of the others.
"""

from __future__ import annotations

import hashlib

import numpy as np


def make_rng(seed: int, *stream: str) -> np.random.Generator:
    """Return a PCG64 generator for ``seed`` and the named ``stream``."""
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    for name in stream:
        digest = hashlib.sha256(name.encode()).digest()
        words.append(int.from_bytes(digest[:4], "little"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))
