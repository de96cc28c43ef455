"""``manage.py gallery_demo``: what ikstorage saves a gallery page on S3, measured.

Fills the gallery with sample photos uploaded through the model, then renders
``/gallery/`` four ways and prints the S3 calls of each: with the plain
``S3Storage`` (ikstorage bypassed), with ikstorage on a cold cache, warm in
this process, and in a new process that shares only the cache. It fails,
with the reason, if any render differs from the plain one or shows wrong
dimensions: a saving that changes the page is not a saving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gallery.demo import latency, measure, report
from gallery.demo.images import SamplePhoto, sample_photo
from gallery.demo.measure import Measurement
from gallery.models import Photo
from gallery_project import embedded_s3
from ikstorage import cache as ik_cache
from ikstorage.profiler import count_calls

PATH = "/gallery/"

#: Row label and JSON key of each render, in the order they run.
ROWS = {
    "plain": "plain S3Storage (no ikstorage)",
    "cold": "ikstorage, cold cache",
    "warm": "ikstorage, warm (same process)",
    "new_process": "ikstorage, new process",
}


class Command(BaseCommand):
    help = (
        "Upload sample photos to S3 through the model, render /gallery/ with and without "
        "ikstorage, and print the S3 calls each render made."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--images", type=int, default=100, help="Number of photos (default 100)."
        )
        parser.add_argument(
            "--latency-ms",
            type=float,
            default=0.0,
            help="Simulated delay before each S3 request, in milliseconds (default 0).",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["images"]
        delay: float = options["latency_ms"]
        if count < 1:
            raise CommandError("--images must be 1 or more.")
        if delay < 0:
            raise CommandError("--latency-ms cannot be negative.")
        self._prepare()
        latency.simulate(delay)
        photos = [sample_photo(n) for n in range(1, count + 1)]
        upload, names = self._upload(photos)
        files = dict(zip(names, (photo.data for photo in photos), strict=True))
        embedded_s3.save_snapshot(settings.VAR_DIR, files)

        measure.warm_up(PATH)
        renders: dict[str, Measurement] = {"plain": measure.render(PATH, bypass=True)}
        caches["default"].clear()  # cold: the files were uploaded by someone else
        ik_cache.clear_local()
        renders["cold"] = measure.render(PATH)
        renders["warm"] = measure.render(PATH)
        renders["new_process"] = self._render_elsewhere(PATH, delay)
        self._check(photos, renders)

        if options["json"]:
            data = {
                "images": count,
                "latency_ms": delay,
                "upload": {"s3": upload.s3, "duration_ms": upload.duration_ms},
                "renders": {key: _summary(m) for key, m in renders.items()},
            }
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self._print(count, delay, upload, renders)

    # -- steps ------------------------------------------------------------------

    def _prepare(self) -> None:
        """Reach S3, create the bucket and tables, and start from an empty gallery."""
        endpoint: str = settings.S3_ENDPOINT
        s3 = embedded_s3.client(endpoint)
        try:
            try:
                s3.head_bucket(Bucket=embedded_s3.BUCKET)
            except ClientError:
                s3.create_bucket(Bucket=embedded_s3.BUCKET)
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(
                f"Cannot use S3 at {endpoint} (bucket {embedded_s3.BUCKET!r}): {exc}. "
                f"Unset {embedded_s3.ENDPOINT_ENV} to let the example start its own S3."
            ) from exc
        call_command("migrate", verbosity=0, interactive=False)
        # Rows only: each upload replaces the file of the same name.
        Photo.objects.all().delete()
        caches["default"].clear()
        ik_cache.clear_local()

    def _upload(self, photos: list[SamplePhoto]) -> tuple[Measurement, list[str]]:
        """Save every photo through the model, as a form or an admin would."""
        names: list[str] = []
        with count_calls() as calls:
            for photo in photos:
                saved = Photo.objects.create(
                    title=photo.title, image=ContentFile(photo.data, name=photo.filename)
                )
                if not saved.image.name:
                    raise CommandError(f"Saving {photo.filename} left its photo without a file.")
                names.append(saved.image.name)
        return Measurement.from_calls(calls), names

    def _render_elsewhere(self, path: str, delay: float) -> Measurement:
        """Render in a new Python process; the S3 endpoint reaches it through the environment."""
        command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "gallery_render"]
        command += ["--json", "--path", path, "--latency-ms", str(delay)]
        started = time.monotonic()
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=300, env=os.environ.copy()
        )
        if done.returncode != 0:
            raise CommandError(
                f"The new-process render of {path} failed (exit {done.returncode}) after "
                f"{time.monotonic() - started:.1f}s:\n{done.stderr.strip()}"
            )
        try:
            return Measurement.from_json(json.loads(done.stdout))
        except (ValueError, TypeError) as exc:
            raise CommandError(
                f"The new-process render printed no result: {done.stdout!r}"
            ) from exc

    def _check(self, photos: list[SamplePhoto], renders: dict[str, Measurement]) -> None:
        """Every render is HTTP 200 and the same page; the plain one shows the true sizes."""
        for key, result in renders.items():
            if result.status != 200:
                raise CommandError(f"{ROWS[key]}: GET {PATH} returned HTTP {result.status}.")
        plain = renders["plain"]
        shown = [(int(w), int(h)) for _, w, h in plain.images]
        expected = [(p.width, p.height) for p in photos]
        if shown != expected:
            raise CommandError(
                f"The page shows {len(shown)} images with sizes {shown[:5]}..., "
                f"expected {len(expected)} with {expected[:5]}..."
            )
        for key, result in renders.items():
            if result.html_sha256 != plain.html_sha256:
                differ = [
                    (a, b) for a, b in zip(plain.images, result.images, strict=False) if a != b
                ]
                first = differ[0] if differ else "outside the <img> tags"
                raise CommandError(
                    f"{ROWS[key]} rendered a different page than plain S3Storage; "
                    f"first difference (plain, ikstorage): {first}."
                )

    def _print(
        self, count: int, delay: float, upload: Measurement, renders: dict[str, Measurement]
    ) -> None:
        # The embedded server's port changes from run to run; leave it out.
        where = "an embedded moto S3" if embedded_s3.is_embedded() else settings.S3_ENDPOINT
        ops = " ".join(f"{op}={n}" for op, n in upload.s3.items())
        lines = [
            f"{report.plural(count, 'photo')} in bucket {embedded_s3.BUCKET!r} on {where}"
            + (f", simulated latency {delay:g} ms per S3 request" if delay else "")
            + ".",
            f"Upload through Photo.objects.create(): {report.plural(upload.s3_total, 'S3 call')} "
            f"({ops}), {upload.s3_total / count:.2f} per photo.",
            "",
            f"GET {PATH}: each photo's url, width, height and size.",
            "",
        ]
        rows = [(ROWS[key], m) for key, m in renders.items()]
        lines.append(report.table(rows, count))
        lines.append(
            report.summary(
                count,
                renders["plain"],
                renders["cold"],
                renders["warm"],
                renders["new_process"],
            )
        )
        self.stdout.write("\n".join(lines))


def _summary(result: Measurement) -> dict[str, Any]:
    """A render for ``--json``: its counts, without the list of <img> tags."""
    data = result.to_json()
    data["img_tags"] = len(data.pop("images"))
    return data
