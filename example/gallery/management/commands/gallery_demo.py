"""``manage.py gallery_demo``: what ikstorage saves a gallery on S3, measured.

Fills the gallery with sample photos uploaded through the model, then renders
its two pages and prints the S3 calls of each render:

* ``/gallery/plain/`` prints each photo's ``url``, ``width``, ``height`` and
  ``size``, a page that renders the same without ikstorage: with the plain
  ``S3Storage`` (ikstorage bypassed), with ikstorage on a cold cache, warm in
  this process, and in a new process that shares only the cache. Every render
  must give the same ``<main>``, byte for byte, and the true dimensions.
* ``/gallery/`` shows a thumbnail per photo with ``{% picture %}``, which the
  plain ``S3Storage`` cannot render (it has no renditions), so it is measured
  on its own: in a new process right after the upload, warm, and on a cold
  cache (files uploaded without ikstorage: renditions made on first view).
  Every render must give the same ``<main>``, every thumbnail the size the
  spec gives, and every URL on it must load, as a browser would load it.

The command fails, with the reason, if any of these does not hold: a saving
that changes the page is not a saving.
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

from gallery.demo import expect, latency, measure, report, served
from gallery.demo.images import SamplePhoto, sample_photo
from gallery.demo.measure import Measurement
from gallery.models import Photo
from gallery_project import embedded_s3
from ikstorage import cache as ik_cache
from ikstorage.profiler import count_calls

PLAIN_PAGE = "/gallery/plain/"
THUMBNAIL_PAGE = "/gallery/"

#: Row label and JSON key of each render of the plain page, in the order they run.
PLAIN_ROWS = {
    "plain": "plain S3Storage (no ikstorage)",
    "cold": "ikstorage, cold cache",
    "warm": "ikstorage, warm (same process)",
    "new_process": "ikstorage, new process",
}
#: The same for the thumbnail page, in the order they are printed.
THUMBNAIL_ROWS = {
    "cold": "ikstorage, cold cache (renditions made)",
    "warm": "ikstorage, warm (same process)",
    "new_process": "ikstorage, new process",
}


class Command(BaseCommand):
    help = (
        "Upload sample photos to S3 through the model, render the gallery's pages with and "
        "without ikstorage, and print the S3 calls each render made."
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
        upload = self._upload(photos)
        if embedded_s3.is_embedded():  # a later process's embedded S3 restores this copy
            embedded_s3.save_snapshot(settings.VAR_DIR, settings.S3_ENDPOINT)

        measure.warm_up(THUMBNAIL_PAGE)
        measure.warm_up(PLAIN_PAGE)
        # The thumbnail page while the records hold what the upload wrote.
        thumbs = {"new_process": self._render_elsewhere(THUMBNAIL_PAGE, delay)}
        thumbs["warm"] = measure.render(THUMBNAIL_PAGE)

        plain = {"plain": measure.render(PLAIN_PAGE, bypass=True)}
        self._forget()  # cold: the files were uploaded by someone else
        plain["cold"] = measure.render(PLAIN_PAGE)
        plain["warm"] = measure.render(PLAIN_PAGE)
        plain["new_process"] = self._render_elsewhere(PLAIN_PAGE, delay)

        self._forget()  # and so were their renditions: none is recorded
        thumbs["cold"] = measure.render(THUMBNAIL_PAGE)
        thumbs = {key: thumbs[key] for key in THUMBNAIL_ROWS}

        self._check_plain(photos, plain)
        checked = self._check_thumbnails(photos, thumbs)

        if options["json"]:
            data = {
                "images": count,
                "latency_ms": delay,
                "upload": {"s3": upload.s3, "duration_ms": upload.duration_ms},
                "renditions_per_photo": expect.renditions_per_photo(),
                "plain_page": {
                    "path": PLAIN_PAGE,
                    "renders": {key: _summary(m) for key, m in plain.items()},
                },
                "thumbnail_page": {
                    "path": THUMBNAIL_PAGE,
                    "renders": {key: _summary(m) for key, m in thumbs.items()},
                    "urls_checked": checked,
                },
            }
            self.stdout.write(json.dumps(data, indent=2))
        else:
            self._print(count, delay, upload, plain, thumbs, checked)

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

    def _forget(self) -> None:
        """Empty the shared cache and this process's: nothing is known about any file."""
        caches["default"].clear()
        ik_cache.clear_local()

    def _upload(self, photos: list[SamplePhoto]) -> Measurement:
        """Save every photo through the model, as a form or an admin would."""
        with count_calls() as calls:
            for photo in photos:
                saved = Photo.objects.create(
                    title=photo.title, image=ContentFile(photo.data, name=photo.filename)
                )
                if not saved.image.name:
                    raise CommandError(f"Saving {photo.filename} left its photo without a file.")
        return Measurement.from_calls(calls)

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

    def _check_plain(self, photos: list[SamplePhoto], renders: dict[str, Measurement]) -> None:
        """Every render is HTTP 200 and the same page; the plain one shows the true sizes."""
        _check_status(PLAIN_PAGE, PLAIN_ROWS, renders)
        plain = renders["plain"]
        shown = [(int(f.width), int(f.height)) for f in plain.figures]
        expected = [(p.width, p.height) for p in photos]
        if shown != expected:
            raise CommandError(
                f"{PLAIN_PAGE} shows {len(shown)} images with sizes {shown[:5]}..., "
                f"expected {len(expected)} with {expected[:5]}..."
            )
        _check_same(PLAIN_PAGE, PLAIN_ROWS, renders, "plain")

    def _check_thumbnails(self, photos: list[SamplePhoto], renders: dict[str, Measurement]) -> int:
        """Every render is the same page of renditions of the right sizes, and every URL on
        it loads as the image the page says. Returns how many URLs were fetched."""
        _check_status(THUMBNAIL_PAGE, THUMBNAIL_ROWS, renders)
        first = renders["new_process"]
        if len(first.figures) != len(photos):
            raise CommandError(
                f"{THUMBNAIL_PAGE} shows {len(first.figures)} images, expected {len(photos)}."
            )
        thumb, large = expect.spec_box("thumb"), expect.spec_box("large")
        checked = 0
        for photo, figure in zip(photos, first.figures, strict=True):
            size = (int(figure.width or 0), int(figure.height or 0))
            wanted = expect.fill_size((photo.width, photo.height), thumb)
            if ".thumb." not in figure.src or size != wanted:
                raise CommandError(
                    f"{photo.title}: the page shows {figure.src} at {size}, expected the "
                    f"'thumb' rendition at {wanted}."
                )
            if [s.type for s in figure.sources] != ["image/avif", "image/webp"]:
                raise CommandError(
                    f"{photo.title}: <source>s {figure.sources}, expected AVIF, WebP."
                )
            if ".large." not in figure.href or not figure.placeholder:
                raise CommandError(
                    f"{photo.title}: link {figure.href!r}, placeholder {figure.placeholder}: "
                    "expected a link to the 'large' rendition and a placeholder."
                )
            wrong = served.problems(figure, expect.fit_size((photo.width, photo.height), large))
            if wrong:
                raise CommandError(f"{photo.title}: " + "; ".join(wrong))
            checked += 2 + sum(len(s.urls) for s in figure.sources)
        _check_same(THUMBNAIL_PAGE, THUMBNAIL_ROWS, renders, "new_process")
        return checked

    def _print(
        self,
        count: int,
        delay: float,
        upload: Measurement,
        plain: dict[str, Measurement],
        thumbs: dict[str, Measurement],
        checked: int,
    ) -> None:
        # The embedded server's port changes from run to run; leave it out.
        where = "an embedded moto S3" if embedded_s3.is_embedded() else settings.S3_ENDPOINT
        ops = " ".join(f"{op}={n}" for op, n in upload.s3.items())
        per_photo = expect.renditions_per_photo()
        lines = [
            f"{report.plural(count, 'photo')} in bucket {embedded_s3.BUCKET!r} on {where}"
            + (f", simulated latency {delay:g} ms per S3 request" if delay else "")
            + ".",
            f"Upload through Photo.objects.create(): {report.plural(upload.s3_total, 'S3 call')} "
            f"({ops}), {upload.s3_total / count:.2f} per photo: the photo and its "
            f"{report.plural(per_photo, 'rendition')}.",
            "",
            f"GET {PLAIN_PAGE}: each photo's url, width, height and size "
            "(a page that needs no ikstorage).",
            "",
            report.table([(PLAIN_ROWS[key], m) for key, m in plain.items()], count),
            report.summary(
                count, plain["plain"], plain["cold"], plain["warm"], plain["new_process"]
            ),
            "",
            f"GET {THUMBNAIL_PAGE}: {{% picture %}} thumbnails (AVIF, WebP, JPEG, placeholder) "
            "linking to the large rendition.",
            "",
            report.table([(THUMBNAIL_ROWS[key], m) for key, m in thumbs.items()], count),
            report.thumbnail_summary(count, thumbs["cold"], thumbs["warm"], thumbs["new_process"]),
            f"Every image URL on the page loads, anonymously, as the size the page gives "
            f"({checked} URLs fetched and decoded).",
        ]
        self.stdout.write("\n".join(lines))


def _check_status(path: str, rows: dict[str, str], renders: dict[str, Measurement]) -> None:
    for key, result in renders.items():
        if result.status != 200:
            raise CommandError(f"{rows[key]}: GET {path} returned HTTP {result.status}.")


def _check_same(
    path: str, rows: dict[str, str], renders: dict[str, Measurement], reference: str
) -> None:
    """Every render's <main> is the reference render's, byte for byte."""
    base = renders[reference]
    for key, result in renders.items():
        if result.main_sha256 != base.main_sha256:
            differ = [(a, b) for a, b in zip(base.figures, result.figures, strict=False) if a != b]
            first = differ[0] if differ else "outside the <img> tags"
            raise CommandError(
                f"GET {path}: {rows[key]} rendered a different page than {rows[reference]}; "
                f"first difference: {first}."
            )


def _summary(result: Measurement) -> dict[str, Any]:
    """A render for ``--json``: its counts, without the list of figures."""
    data = result.to_json()
    data["img_tags"] = len(data.pop("figures"))
    return data
