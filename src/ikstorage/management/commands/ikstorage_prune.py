"""``manage.py ikstorage_prune``: remove renditions of specs this configuration does not declare.

During a rolling deploy, processes with different specs serve the same
files, and a page view never removes a rendition it does not know: it is
another process's (``docs/renditions.md``, "Rolling deploys"). Once every
process runs the new configuration, this command finds in the cached records
the renditions that none of its specs makes (a spec removed, declared
differently, or whose ``match`` no longer takes the file). A dry run is the
default: it counts them. ``--delete`` drops them from each record, under the
source's lease, then deletes their files, one ``DeleteObjects`` per batch on
S3. Names come from the models' file fields or a walk of the storage
(``--prefix``), read as ``ikstorage_prewarm`` reads them. The options are
described in ``docs/commands.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ikstorage.management.arguments import add_sources, positive
from ikstorage.metrics import count_calls
from ikstorage.prewarm.plan import DEFAULT_BATCH_SIZE, Plan
from ikstorage.prewarm.runner import streams_for
from ikstorage.prewarm.sources import SourceError, Stream
from ikstorage.records import RenditionInfo
from ikstorage.renditions.binding import Renditions, renditions_of

#: Rendition files named in an error message, at most (the JSON summary lists them all).
SHOWN = 10


@dataclass
class Tally:
    """What a run found and did."""

    dry_run: bool
    sources: int = 0
    not_cached: int = 0
    with_undeclared: int = 0
    renditions: int = 0
    bytes: int = 0
    by_spec: Counter[str] = field(default_factory=Counter)
    removed: int = 0
    #: Sources whose lease another writer kept: left as they were (a rerun finds them).
    busy: list[str] = field(default_factory=list)
    #: Rendition files no record lists any more whose delete failed, and why.
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def found(self, gone: list[RenditionInfo]) -> None:
        self.with_undeclared += 1
        self.renditions += len(gone)
        self.bytes += sum(info.size for info in gone)
        self.by_spec.update(f"{info.spec} ({info.fingerprint[:8]})" for info in gone)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "sources": self.sources,
            "not_cached": self.not_cached,
            "with_undeclared": self.with_undeclared,
            "renditions": self.renditions,
            "bytes": self.bytes,
            "by_spec": dict(sorted(self.by_spec.items())),
            "removed": self.removed,
            "busy": self.busy,
            "failed": self.failed,
            "errors": self.errors,
        }


class Command(BaseCommand):
    help = (
        "Find (dry run, the default) or remove (--delete) the renditions that no spec of this "
        "configuration makes, listed in the cached records of the files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_sources(parser)
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Remove them: drop them from the records, then delete their files.",
        )
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=DEFAULT_BATCH_SIZE,
            help="Names per database query, listing page, cache lookup and delete call "
            "(default: %(default)s).",
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = Plan(
                fields=tuple(options["fields"]),
                prefix=options["prefix"],
                storage=options["storage"],
                batch_size=options["batch_size"],
                workers=1,
            )
            streams = streams_for(plan)
        except (SourceError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if not streams:
            raise CommandError(
                "No file field of any installed model is stored on a CachedStorage; "
                "name fields (app_label.Model.field) or walk a storage with --prefix."
            )
        tally = Tally(dry_run=not options["delete"])
        with count_calls() as calls:
            for stream in streams:
                _prune(stream, tally, size=plan.batch_size)
        summary = {**tally.as_dict(), "s3": calls.s3}
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            self.stdout.write(_text(summary), ending="")
        problems = []
        if tally.busy:
            problems.append(
                f"{len(tally.busy):,} sources were being written and were left as they were "
                "(run the command again)"
            )
        if tally.failed:
            shown = ", ".join(tally.failed[:SHOWN])
            problems.append(
                f"{len(tally.failed):,} rendition files could not be deleted and no record "
                f"lists them any more ({'; '.join(tally.errors)}): {shown}"
            )
        if problems:
            raise CommandError("; ".join(problems))


def _prune(stream: Stream, tally: Tally, *, size: int) -> None:
    """Check every name of ``stream`` against its record; with ``--delete``, remove."""
    target = stream.target
    renditions: Renditions | None = renditions_of(target)
    if renditions is None:  # pragma: no cover - every CachedStorage has them
        return
    made_here = renditions.settings.prefix
    for batch in stream.batches(None, size):
        # A walk of the whole storage lists the renditions too: they are no sources.
        names = [name for name in batch.names if not name.startswith(made_here)]
        records = target.cached_records(names)
        going: list[str] = []
        for name in names:
            tally.sources += 1
            record = records.get(name)
            if record is None:
                tally.not_cached += 1  # nothing lists its renditions: nothing to find
                continue
            gone: list[RenditionInfo] | None = renditions.undeclared(target.canonical(name), record)
            if gone and not tally.dry_run:
                gone = renditions.drop_undeclared(name)
                if gone is None:
                    tally.busy.append(name)
                    continue
                going += [info.name for info in gone]
            if gone:
                tally.found(gone)
        if going:
            try:
                renditions.delete_files(going)
            except Exception as exc:
                tally.failed += going
                tally.errors.append(f"{type(exc).__name__}: {exc}")
            else:
                tally.removed += len(going)


def _text(summary: dict[str, Any]) -> str:
    """The summary, for people."""
    head = (
        "dry run: nothing removed (--delete removes them)"
        if summary["dry_run"]
        else "removed from the records, then deleted"
    )
    rows: list[tuple[str, str]] = [
        ("sources checked", f"{summary['sources']:,}"),
        ("not in the cache", f"{summary['not_cached']:,}"),
        ("with undeclared renditions", f"{summary['with_undeclared']:,}"),
        ("undeclared renditions", f"{summary['renditions']:,} ({summary['bytes']:,} bytes)"),
    ]
    rows += [(f"  {spec}", f"{count:,}") for spec, count in summary["by_spec"].items()]
    if not summary["dry_run"]:
        rows.append(("files deleted", f"{summary['removed']:,}"))
    s3 = ", ".join(f"{op} {n:,}" for op, n in sorted(summary["s3"].items()))
    rows.append(("S3 calls", s3 or "none"))
    width = max(len(label) for label, _ in rows)
    return head + "\n" + "".join(f"  {label:<{width}}  {value}\n" for label, value in rows)
