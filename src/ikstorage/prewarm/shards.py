"""Splitting the names into shards: deterministic, so any machine computes the same split.

A name belongs to shard ``K`` of ``N`` when a hash of the name, modulo ``N``,
is ``K - 1``. The hash is BLAKE2b of the UTF-8 name (not Python's ``hash``,
which is salted per process), so every worker, on any machine, in any order,
agrees on which shard holds a name, and the shards together hold every name
exactly once. Hashing the name rather than a row id sends one file named by
two rows, or seen both in a model and in a listing, to the same shard.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def bucket(name: str, count: int) -> int:
    """The 0-based shard of ``name`` among ``count``."""
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``; ``Shard(1, 1)`` is all the names."""

    index: int = 1
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(
                f"shard {self.index}/{self.count}: need 1 <= K <= N (K/N, e.g. 1/8 ... 8/8)"
            )

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"3/8"`` -> ``Shard(3, 8)``; anything else raises ``ValueError``."""
        match = _SPEC.match(text)
        if match is None:
            raise ValueError(f"shard {text!r}: expected K/N, e.g. 1/8 ... 8/8")
        return cls(int(match.group(1)), int(match.group(2)))

    def __contains__(self, name: object) -> bool:
        if self.count == 1:
            return True
        return isinstance(name, str) and bucket(name, self.count) == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def all(self) -> list[Shard]:
        """Every shard of this split, 1/N to N/N."""
        return [Shard(k, self.count) for k in range(1, self.count + 1)]
