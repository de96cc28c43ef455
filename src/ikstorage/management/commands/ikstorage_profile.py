"""``manage.py ikstorage_profile URL``: what one page costs in S3, storage and cache calls.

The page is rendered in this process through Django's test client, so every
call it makes is counted and nothing else runs at the same time: the numbers
are exact, unlike a busy server's. ``--repeat`` shows cold against warm
renders; ``--compare`` first renders with every ``CachedStorage`` bypassed:
its storage calls go to the wrapped storage, while rendition lookups still read
the cache (a site without ikstorage would have no renditions to show).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import override_settings

from ikstorage.profiler import Calls, count_calls
from ikstorage.profiler.report import table


class Command(BaseCommand):
    help = (
        "Request a URL through Django's test client and report the S3 calls by "
        "operation, storage calls, cache round trips and time it took."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="Path to request, e.g. /gallery/")
        parser.add_argument(
            "--repeat", type=int, default=1, help="Render N times (the first may be cold)."
        )
        parser.add_argument(
            "--compare",
            action="store_true",
            help="Also render with the cache bypassed, first: storage calls go to the "
            "wrapped storage (rendition lookups still read the cache).",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        url: str = options["url"]
        repeat: int = options["repeat"]
        if repeat < 1:
            raise CommandError("--repeat must be 1 or more.")
        modes = ["bypass", "ikstorage"] if options["compare"] else ["ikstorage"]
        runs: list[tuple[str, int, Calls]] = []
        for mode in modes:
            for i in range(1, repeat + 1):
                label = f"{mode} {i}" if repeat > 1 else mode
                runs.append((label, *self._render(url, bypass=mode == "bypass")))
        if options["json"]:
            data = {
                "url": url,
                "runs": [
                    {"label": label, "status": status, **calls.as_dict()}
                    for label, status, calls in runs
                ],
            }
            self.stdout.write(json.dumps(data, indent=2))
        else:
            statuses = ", ".join(sorted({str(status) for _, status, _ in runs}))
            self.stdout.write(f"GET {url} (HTTP {statuses})\n")
            self.stdout.write(table([(label, calls) for label, _, calls in runs]), ending="")

    def _render(self, url: str, *, bypass: bool) -> tuple[int, Calls]:
        """Request ``url`` once, counting; raise ``CommandError`` if it fails."""
        from ikstorage.bypass import bypass_cache

        client = Client(raise_request_exception=True)
        # The test client calls itself "testserver"; let it in without asking
        # the user to edit ALLOWED_HOSTS.
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(ALLOWED_HOSTS=hosts), count_calls() as calls:
            try:
                if bypass:
                    with bypass_cache():
                        response = self._get(client, url)
                else:
                    response = self._get(client, url)
            except Exception as exc:
                raise CommandError(
                    f"GET {url} raised {type(exc).__name__}: {exc}. "
                    "Only a page that renders can be profiled."
                ) from exc
        if response.status_code >= 400:
            raise CommandError(
                f"GET {url} returned HTTP {response.status_code}. "
                "Only a page that renders can be profiled; check the URL and its view."
            )
        return response.status_code, calls

    @staticmethod
    def _get(client: Client, url: str) -> HttpResponseBase:
        response = client.get(url)
        if response.streaming:
            # A streamed body is produced while it is read: read it here, so
            # the calls it makes are counted. (The test client closes the
            # response itself, at the end of the stream or at once.)
            for _ in response.streaming_content:  # type: ignore[attr-defined]
                pass
        return response
