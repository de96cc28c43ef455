"""What one prewarm run does, as plain values: the command builds it, a task carries it.

A ``Plan`` names its sources (model fields, or a prefix of one storage), the
shard, and how to treat names already cached. It turns into JSON and back
unchanged, so ``--enqueue`` hands each worker exactly the run the command
would have made, with only the shard changed.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ikstorage.prewarm.shards import Shard

#: Names per batch: one ``get_many`` checks them, and S3 lists at most 1,000 keys per call.
DEFAULT_BATCH_SIZE = 1000


def default_workers() -> int:
    """Threads for the backend calls: each spends most of its time waiting on the network.

    Eight per core, at most 32: with S3 20 ms away one thread makes about 40
    probes a second and uses about 2 ms of CPU for each, so a core is busy
    with roughly eight of them; more only queue for the interpreter.
    """
    return min(32, 8 * (os.cpu_count() or 1))


def default_render_workers() -> int:
    """Renders at once: the CPU cores this process may run on.

    A render is CPU work (decode, resize, encode), and each holds a decoded
    source in memory (up to the ``max_pixels`` budget of ``docs/limits.md``):
    more renders than cores only queue for the CPU while their images add up
    in memory.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Plan:
    """One run: sources, shard and mode. See ``docs/prewarm.md`` for every option."""

    #: ``app_label.Model.field`` or ``app_label.Model`` labels; empty: every file field
    #: of every installed model whose storage is a ``CachedStorage`` (unless ``prefix``).
    fields: tuple[str, ...] = ()
    #: Walk this prefix of ``storage`` instead of reading models (``""``: everything).
    prefix: str | None = None
    #: The ``STORAGES`` alias walked with ``prefix``.
    storage: str = "default"
    shard: Shard = field(default_factory=Shard)
    #: Re-read every name and overwrite its record (``--refresh``); else fill only what is missing.
    refresh: bool = False
    #: Count what would be done; no probe, no record written.
    dry_run: bool = False
    workers: int = field(default_factory=default_workers)
    batch_size: int = DEFAULT_BATCH_SIZE
    #: Ignore (and drop) the checkpoint an interrupted run left, and start over.
    restart: bool = False
    #: Also render the renditions each source lacks, on storages that declare specs
    #: (the default; ``--no-renditions`` turns it off).
    renditions: bool = True
    #: Renders at once (``--render-workers``); ``None``: the cores of the machine
    #: running the shard (:func:`default_render_workers`), so a task worker sizes its own.
    render_workers: int | None = None

    def __post_init__(self) -> None:
        if self.fields and self.prefix is not None:
            raise ValueError("name model fields or a prefix, not both")
        if self.workers < 1:
            raise ValueError(f"workers must be 1 or more, not {self.workers}")
        if self.render_workers is not None and self.render_workers < 1:
            raise ValueError(f"render workers must be 1 or more, not {self.render_workers}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be 1 or more, not {self.batch_size}")

    @property
    def render_slots(self) -> int:
        """How many renders may run at once in this process."""
        return self.render_workers or default_render_workers()

    def for_shard(self, shard: Shard) -> Plan:
        return replace(self, shard=shard)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = list(self.fields)
        data["shard"] = str(self.shard)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        values = dict(data)
        values["fields"] = tuple(values.get("fields", ()))
        values["shard"] = Shard.parse(str(values.get("shard", "1/1")))
        return cls(**values)
