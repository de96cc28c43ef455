"""``manage.py gallery_serve``: the gallery in a browser, on the embedded S3.

Django's development server and the S3 the photos live on, in one process:
the embedded moto S3 (started when the settings load, see
``gallery_project.embedded_s3``) runs as long as the server does, and the
browser loads the photos and their renditions straight from it (the objects
are public-read, the URLs unsigned). The bucket the last demo (or the last
``gallery_serve``) left in ``var/s3-snapshot/`` is restored first, and what
the bucket holds when the server stops (uploads made through the form, their
renditions) is copied back there, so the next run shows them too.

No autoreloader: it would run the server in a child process and restart it
on every code change, and the copy of the bucket is made by the process that
owns the S3. For exact per-request numbers in the footer, load one page at a
time (counting is process-wide).
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.core.management.commands.runserver import Command as RunserverCommand
from django.core.servers.basehttp import WSGIServer

from gallery.demo import served
from gallery.models import Photo
from gallery_project import embedded_s3

DEFAULT_ADDRESS = "127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Serve the gallery for a browser (upload form, thumbnails, each request's S3 calls "
        "in the footer) on the embedded S3; Ctrl-C stops both."
    )
    requires_system_checks = []  # runserver runs them

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport",
            nargs="?",
            default=DEFAULT_ADDRESS,
            help=f"Address and port to serve on (default {DEFAULT_ADDRESS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        self._check_photos_load()
        self._log_requests()
        address = options["addrport"]
        host = address.rpartition(":")[0] or "127.0.0.1"
        port = address.rpartition(":")[2]
        where = "the embedded S3" if embedded_s3.is_embedded() else "S3"
        self.stdout.write(
            f"Gallery: http://{host}:{port}/gallery/ ({Photo.objects.count()} photos; "
            f"images load from {where} at {settings.S3_ENDPOINT}/{embedded_s3.BUCKET}/)."
        )
        # SIGTERM ends the server as Ctrl-C does, so the bucket is still copied.
        signal.signal(signal.SIGTERM, _exit)
        try:
            runserver = RunserverCommand()
            runserver.server_cls = _ClosingServer
            call_command(runserver, address, use_reloader=False, use_threading=True)
        finally:
            if embedded_s3.is_embedded():
                saved = embedded_s3.save_snapshot(settings.VAR_DIR, settings.S3_ENDPOINT)
                self.stdout.write(f"Copied {saved} objects of the bucket to var/s3-snapshot/.")

    def _check_photos_load(self) -> None:
        """Fetch the first photo as a browser will: a wrong endpoint shows here, not as
        a page of broken images."""
        first = Photo.objects.first()
        if first is None:
            self.stdout.write("The gallery is empty: upload a photo, or run gallery_demo first.")
            return
        url = first.image.url
        try:
            served.fetch(url, timeout=10)
        except (OSError, ValueError) as exc:
            self.stderr.write(
                f"Warning: the first photo does not load (GET {url}: {exc}): its file is not "
                f"in the bucket at {settings.S3_ENDPOINT}. Run gallery_demo to fill it again."
            )

    def _log_requests(self) -> None:
        """StorageProfilerMiddleware's line per request, on the console next to runserver's."""
        logger = logging.getLogger("ikstorage.profiler")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("ikstorage: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


class _ClosingServer(WSGIServer):
    """Closes its socket when it stops; runserver's leaves that to the garbage collector,
    which reports the open socket as a ResourceWarning when the process exits."""

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        try:
            super().serve_forever(poll_interval)
        finally:
            self.server_close()


def _exit(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)
