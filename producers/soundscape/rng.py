"""Stable, order-independent random streams.

Every random decision of the simulator draws from a generator derived from a tuple of keys
(seed, device id, session, chunk, purpose...) through BLAKE2b, never Python's salted ``hash()``.
So any chunk can be rendered on its own, in any order, on any machine, and give the same bits.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_words(*keys: object) -> list[int]:
    """Four 32-bit words from a BLAKE2b digest of the keys (type-tagged, so 1 != "1")."""
    text = "\x1f".join(f"{type(key).__name__}:{key}" for key in keys).encode("utf-8")
    digest = hashlib.blake2b(text, digest_size=16, person=b"fieldstream-snd").digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def derive_rng(*keys: object) -> np.random.Generator:
    """A PCG64 generator seeded only by ``keys``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(stable_words(*keys))))
