"""``manage.py ikstorage_prewarm``: fill the cache for files that already exist.

For a deploy on an empty cache, after a flush, or when ikstorage is added to
a site with millions of files: every record is learned with the backend's
cheapest call (one ranged GET per image on S3), and the renditions of the
storage's specs are made for the images that lack them, before the first
visitor asks.
Names come from the models' file fields, or from a walk of the storage
(``--prefix``). Work is split into shards by a hash of the name, run here on
threads or handed to the project's task workers (``--enqueue``). The options
are described in ``docs/prewarm.md``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ikstorage.management.arguments import add_sources, positive
from ikstorage.prewarm.plan import (
    DEFAULT_BATCH_SIZE,
    Plan,
    default_render_workers,
    default_workers,
)
from ikstorage.prewarm.report import progress_for, text
from ikstorage.prewarm.shards import Shard
from ikstorage.prewarm.sources import SourceError
from ikstorage.prewarm.stats import Summary

#: Exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


#: Caches whose contents no other process sees: a prewarm into them is lost on exit.
PROCESS_LOCAL = {
    "django.core.cache.backends.locmem.LocMemCache": "process-local memory",
    "django.core.cache.backends.dummy.DummyCache": "the dummy cache, which keeps nothing",
}


def refuse_process_local(streams: Any) -> None:
    """Raise ``CommandError`` if a stream's cache keeps records only in this process.

    Run as its own process (``manage.py ikstorage_prewarm``), the command would
    report every record written, and every one would be gone when it exits.
    """
    for stream in streams:
        alias = stream.target.cache.alias
        backend = settings.CACHES.get(alias, {}).get("BACKEND")
        if backend in PROCESS_LOCAL:
            raise CommandError(
                f"{stream.label}: the cache {alias!r} is {PROCESS_LOCAL[backend]} "
                f"({backend}): what this command writes there is gone when it exits, "
                "and the site's processes never see it. Point CACHES at a shared cache "
                "(Redis, Memcached, the database or the file cache; see the README)."
            )


class Command(BaseCommand):
    help = (
        "Fill ikstorage's cache (exists, size, modified time, dimensions) for existing files, "
        "and make the renditions of the storage's specs that images lack, from the models' "
        "file fields or a storage prefix, in parallel and in shards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_sources(parser)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--only-missing",
            dest="refresh",
            action="store_false",
            help="Skip names the cache already holds (the default).",
        )
        mode.add_argument(
            "--refresh",
            dest="refresh",
            action="store_true",
            help="Re-read every name and overwrite its record.",
        )
        parser.set_defaults(refresh=False)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; no probe, no write."
        )
        render = parser.add_mutually_exclusive_group()
        render.add_argument(
            "--renditions",
            dest="renditions",
            action="store_true",
            help="Render the renditions each image lacks, one download per image, on "
            "storages that declare specs (the default).",
        )
        render.add_argument(
            "--no-renditions",
            dest="renditions",
            action="store_false",
            help="Fill the records only; renditions are made when a page first asks.",
        )
        parser.set_defaults(renditions=True)
        parser.add_argument(
            "--render-workers",
            type=positive,
            default=None,
            metavar="N",
            help="Renders at once, each holding one decoded image (default: the CPU "
            f"cores, {default_render_workers()} on this machine).",
        )
        parser.add_argument(
            "--workers",
            type=positive,
            default=default_workers(),
            help="Threads making backend calls (default: %(default)s on this machine, "
            "8 per core: they wait on the network).",
        )
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=DEFAULT_BATCH_SIZE,
            help="Names per database query, listing page and cache lookup (default: %(default)s).",
        )
        parser.add_argument(
            "--shard", default="1/1", help="Run shard K of N (1-based, e.g. 3/8; default: all)."
        )
        parser.add_argument(
            "--enqueue",
            type=positive,
            metavar="N",
            help="Hand N shards to the task backend (django.tasks) instead of running here.",
        )
        parser.add_argument(
            "--task-backend",
            default="default",
            help="TASKS alias for --enqueue (default: %(default)s).",
        )
        parser.add_argument(
            "--queue", default="default", help="Queue name for --enqueue (default: %(default)s)."
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="With --enqueue: wait for the shards and print their combined summary.",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="Ignore the checkpoint of an interrupted run and start over.",
        )
        parser.add_argument(
            "--progress",
            choices=["auto", "bar", "lines", "none"],
            default="auto",
            help="auto: a bar on a terminal (tqdm), else a line every 10 s (default: auto).",
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    #: True when run as its own process (``manage.py``), not by ``call_command``.
    own_process = False

    def run_from_argv(self, argv: list[str]) -> None:
        self.own_process = True
        super().run_from_argv(argv)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            plan = Plan(
                fields=tuple(options["fields"]),
                prefix=options["prefix"],
                storage=options["storage"],
                shard=Shard.parse(options["shard"]),
                refresh=options["refresh"],
                dry_run=options["dry_run"],
                workers=options["workers"],
                batch_size=options["batch_size"],
                restart=options["restart"],
                renditions=options["renditions"],
                render_workers=options["render_workers"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["enqueue"]:
            if plan.shard.count != 1:
                raise CommandError("--enqueue N makes the shards itself; leave out --shard.")
            self._enqueue(plan, options)
            return
        if options["wait"]:
            raise CommandError("--wait goes with --enqueue.")
        self._run_here(plan, options)

    def _run_here(self, plan: Plan, options: Any) -> None:
        from ikstorage.prewarm.runner import run, streams_for

        mode = "none" if options["verbosity"] == 0 else options["progress"]
        try:
            # The raw stream: OutputWrapper ends each write with a newline, which a
            # progress bar redrawing its line with "\r" cannot have.
            out: TextIO = getattr(self.stderr, "_out", sys.stderr)
            progress = progress_for(out, mode=mode)
            streams = streams_for(plan)
        except (SourceError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if not streams:
            raise CommandError(
                "No file field of any installed model is stored on a CachedStorage; "
                "name fields (app_label.Model.field) or walk a storage with --prefix."
            )
        if self.own_process and not plan.dry_run:
            refuse_process_local(streams)
        summary = run(plan, progress=progress, streams=streams).as_dict()
        self._finish(summary, options)

    def _enqueue(self, plan: Plan, options: Any) -> None:
        try:
            from ikstorage.prewarm import tasks
        except ImportError as exc:
            raise CommandError(
                "--enqueue needs Django's Tasks framework: Django 6.0+, or "
                f"pip install 'ikstorage[tasks]' on Django 5.2 ({exc})."
            ) from None
        from ikstorage.prewarm.runner import streams_for

        try:
            # A bad label or alias fails here, not on every worker.
            streams = streams_for(plan)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        if self.own_process and not plan.dry_run:
            refuse_process_local(streams)
        results = tasks.enqueue(
            plan, options["enqueue"], backend=options["task_backend"], queue=options["queue"]
        )
        if not options["wait"]:
            ids = [str(result.id) for result in results]
            if options["json"]:
                self.stdout.write(json.dumps({"enqueued": ids}))
            else:
                self.stdout.write(f"Enqueued {len(ids)} shards: {', '.join(ids)}")
            return
        try:
            tasks.wait(results)
        except KeyboardInterrupt:
            raise CommandError(
                "Stopped waiting; the shards go on running on the workers (tasks "
                f"{', '.join(str(result.id) for result in results)}).",
                returncode=INTERRUPTED,
            ) from None
        outcomes = [tasks.outcome(result) for result in results]
        failed = [
            f"shard {k}/{len(outcomes)}: {o}"
            for k, o in enumerate(outcomes, 1)
            if isinstance(o, str)
        ]
        summaries = [o for o in outcomes if isinstance(o, dict)]
        summary = Summary.combine(summaries) if summaries else None
        if summary is not None:
            self._finish(summary, options, extra_failures=failed)
        if failed:
            raise CommandError("; ".join(failed))

    def _finish(
        self, summary: dict[str, Any], options: Any, extra_failures: list[str] | None = None
    ) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            self.stdout.write(text(summary), ending="")
        if extra_failures:
            return
        if summary["interrupted"]:
            raise CommandError(
                "Interrupted: what was written is kept; run the same command again to continue.",
                returncode=INTERRUPTED,
            )
        if summary["aborted"]:
            raise CommandError(f"Stopped: {summary['aborted']}")
        if summary["errors"]:
            raise CommandError(
                f"{summary['errors']:,} files had problems ({summary['failed']:,} not stored); "
                "each is listed above with the reason."
            )
