"""``manage.py gallery_render``: render the gallery once and report its S3 calls.

``gallery_demo`` runs this in a brand-new process to show what a second web
worker pays: it shares nothing with the demo's process but the database, the
S3 bucket and the Django cache. It is also handy on its own.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gallery.demo import latency, measure
from gallery.demo.report import plural


class Command(BaseCommand):
    help = "Render the gallery page once and print its S3 calls and cache round trips."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", default="/gallery/", help="Page to render.")
        parser.add_argument(
            "--latency-ms",
            type=float,
            default=0.0,
            help="Simulated delay before each S3 request, in milliseconds.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        latency.simulate(options["latency_ms"])
        try:
            measure.warm_up(options["path"])
            result = measure.render(options["path"])
        except Exception as exc:
            raise CommandError(
                f"GET {options['path']} failed: {type(exc).__name__}: {exc}"
            ) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.to_json()))
            return
        ops = " ".join(f"{op}={n}" for op, n in result.s3.items())
        self.stdout.write(
            f"GET {options['path']} (HTTP {result.status}): "
            f"{plural(result.s3_total, 'S3 call')}{f' ({ops})' if ops else ''}, "
            f"{plural(result.round_trips, 'cache round trip')}, {result.duration_ms:.1f} ms"
        )
