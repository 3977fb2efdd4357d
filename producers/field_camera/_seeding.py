"""Stable seeding: turn (seed, device id, purpose, index...) into RNG seeds and uniforms.

Python's ``hash()`` is salted per process, so everything random in the simulator is keyed through
BLAKE2b instead: the same parts give the same numbers on every machine and every run.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

_MASK64 = (1 << 64) - 1


def stable_key(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts`` (their ``repr``), never on the process."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def rng_for(*parts: object) -> np.random.Generator:
    """A numpy generator seeded from ``parts``."""
    return np.random.default_rng(stable_key(*parts))


def uniforms(*parts: object, n: int = 4) -> tuple[float, ...]:
    """``n`` (at most 8) uniforms in [0, 1) derived from ``parts``; cheaper than building a generator."""
    if not 1 <= n <= 8:
        raise ValueError("n must be in 1..8")
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8 * n).digest()
    return tuple((v >> 11) * (1.0 / (1 << 53)) for v in struct.unpack(f"<{n}Q", digest))


def mix64(a: int, b: int) -> int:
    """SplitMix64-style mix of two integers (fast, for per-frame offsets)."""
    z = (a * 0x9E3779B97F4A7C15 + b + 0x632BE59BD9B4E019) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
