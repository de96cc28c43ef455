"""What a batch still needs: this shard's names that some step has work for.

One ``get_many`` per batch answers it for every name at once, from the
records the cache already holds; a name no step has work for is counted as
already cached and never reaches a worker. A real run hands the rest to the
workers, ``--dry-run`` only counts them.
"""

from __future__ import annotations

from ikstorage.prewarm.plan import Plan
from ikstorage.prewarm.sources import Batch, Stream
from ikstorage.prewarm.stats import Tally
from ikstorage.prewarm.steps import Item, Step, steps_for


def select(
    stream: Stream, batch: Batch, plan: Plan, steps: tuple[Step, ...], tally: Tally
) -> list[Item]:
    """This shard's names of ``batch`` that some step still has work for (one ``get_many``)."""
    names = [name for name in batch.names if name in plan.shard]
    tally.add("files_seen", len(names))
    target = stream.target
    # With --refresh too: a file that did not change keeps the renditions its record lists.
    cached = target.cached_records(names) if names else {}
    items = [
        Item(target, name, cached=cached.get(name), listed=batch.listed.get(name)) for name in names
    ]
    todo = [item for item in items if any(step.pending(item) for step in steps)]
    tally.add("already_cached", len(items) - len(todo))
    return todo


def dry_run(plan: Plan, streams: list[Stream], tally: Tally) -> None:
    """``--dry-run``: what a run would do, from the sources and the cache only."""
    steps = steps_for(refresh=plan.refresh, renditions=plan.renditions)
    record, renders = steps[0], steps[1:]
    for stream in streams:
        for batch in stream.batches(None, plan.batch_size):
            for item in select(stream, batch, plan, steps, tally):
                # A source whose record is cached but lacks renditions is only rendered.
                if record.pending(item):
                    tally.count("would_use_listing" if item.listed is not None else "would_probe")
                if any(step.pending(item) for step in renders):
                    tally.count("would_render")
