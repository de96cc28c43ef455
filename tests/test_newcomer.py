"""A newcomer adopts ikstorage by following the README and the quickstart word for word.

A project made by ``django-admin startproject``, with a gallery of 30 photos
already on S3 (moto over HTTP) through plain ``S3Storage``, takes the
settings of the README's "Use it" block, the quickstart's model and template,
runs ``manage.py check`` and the quickstart's prewarm command, and its first
page in a new process makes no S3 call. The docs' blocks are read from the
Markdown, so the test runs what the docs say today. The test adds only what a
reader supplies: the S3 endpoint and credentials, a cache key prefix of its
own, and the gallery app's view and URL.
"""

from __future__ import annotations

import json
import shlex
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.images import jpeg_with_exif
from tests.newcomer import ROOT, CountingApp, block, counting_moto, run

pytestmark = [pytest.mark.slow, pytest.mark.server]

README = ROOT / "README.md"
QUICKSTART = ROOT / "docs" / "quickstart.md"
PHOTOS = 30
REDIS = "redis://127.0.0.1:6379/0"  # where the README's "Use it" block points

# The site before ikstorage: its media on S3 through django-storages.
BEFORE = """
STORAGES = {
    "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""

VIEWS = """
from django.shortcuts import render

from .models import Photo


def index(request):
    return render(request, "gallery/index.html", {"photos": Photo.objects.all()})
"""

UPLOAD = """
from pathlib import Path
from django.core.files import File
from gallery.models import Photo
for path in sorted(Path("camera").iterdir()):
    with path.open("rb") as f:
        Photo(title=path.stem).image.save(path.name, File(f))
"""

# One page in a new process, timed; prints the status, the <img> count and the time.
PAGE = """
import json, time
from django.test import Client
start = time.perf_counter()
response = Client().get("/gallery/", HTTP_HOST="localhost")
ms = (time.perf_counter() - start) * 1000
print(json.dumps([response.status_code, response.content.count(b"<img "), ms]))
"""


@pytest.fixture
def counted_s3() -> Iterator[tuple[str, CountingApp]]:
    yield from counting_moto()


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A key prefix of the test's own on the README's Redis; its keys deleted after."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.ConnectionError:
        from tests.servers import unavailable

        unavailable(f"the newcomer test follows the README: it needs Redis at {REDIS}")
    prefix = f"newcomer-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def page(project: Path, counter: CountingApp) -> tuple[list[str], float]:
    """The gallery page rendered in a new process: its S3 requests and its time in ms."""
    counter.take()
    out = run(["python", "manage.py", "shell", "-c", PAGE], project)
    status, images, ms = json.loads(out.stdout.strip().splitlines()[-1])
    assert (status, images) == (200, PHOTOS), out.stdout
    return counter.take(), ms


def same_settings(readme: str, quickstart: str) -> bool:
    """The two pages' settings blocks say the same, but for the cache's address
    (the README's points at a local Redis, the quickstart's at a server's name)."""
    said = []
    for code in (readme, quickstart):
        names: dict[str, Any] = {"INSTALLED_APPS": []}
        exec(code, names)
        names["CACHES"]["default"].pop("LOCATION")
        said.append({k: names[k] for k in ("STORAGES", "CACHES", "INSTALLED_APPS")})
    return said[0] == said[1]


def by_method(requests: list[str]) -> dict[str, int]:
    return dict(Counter(r.split()[0] for r in requests))


def test_a_newcomer_following_the_docs_gets_a_first_page_without_s3_calls(
    counted_s3: tuple[str, CountingApp], key_prefix: str, tmp_path: Path
) -> None:
    endpoint, counter = counted_s3
    use_it = block(README, "## Use it", "python", contains="STORAGES")
    wrap = block(QUICKSTART, "## 2. Wrap the storage", "python", contains="STORAGES")
    assert same_settings(use_it, wrap), "README's 'Use it' and the quickstart's step 2 differ"
    model = block(QUICKSTART, "## 4. See what it saves", "python", contains="class Photo")
    template = block(QUICKSTART, "## 4. See what it saves", "django", contains="photo.image")
    check = block(QUICKSTART, "## 3. Check", "sh", contains="manage.py check")
    prewarm = block(QUICKSTART, "## 4. See what it saves", "sh", contains="ikstorage_prewarm")

    run(["python", "-m", "django", "startproject", "mysite", str(tmp_path)], tmp_path)
    project = tmp_path
    settings = project / "mysite" / "settings.py"
    generated = settings.read_text()
    # What a reader supplies: where their bucket is and the keys to it.
    reader = f"""
AWS_S3_ENDPOINT_URL = "{endpoint}"  # the reader's S3 endpoint (here moto)
AWS_ACCESS_KEY_ID = "testing"  # the reader's credentials
AWS_SECRET_ACCESS_KEY = "testing"  # the reader's credentials
AWS_S3_REGION_NAME = "us-east-1"  # the reader's region
INSTALLED_APPS += ["gallery"]  # the reader's app with the gallery
"""
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="media")

    app = project / "gallery"
    (app / "templates" / "gallery").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(model)
    (app / "views.py").write_text(VIEWS)
    (app / "templates" / "gallery" / "index.html").write_text(template)
    urls = project / "mysite" / "urls.py"
    urls.write_text(
        urls.read_text()
        + "\nfrom gallery.views import index  # the reader's view\n"
        + 'urlpatterns += [path("gallery/", index)]  # and its URL\n'
    )

    # 1. Before ikstorage: the gallery on plain S3Storage, 30 photos uploaded.
    settings.write_text(generated + reader + BEFORE)
    run(["python", "manage.py", "makemigrations", "gallery"], project)
    run(["python", "manage.py", "migrate"], project)
    camera = project / "camera"  # the photos the site's users uploaded
    camera.mkdir()
    for i in range(PHOTOS):
        data = jpeg_with_exif((640 + i, 480), exif_bytes=2000, quality=60)
        (camera / f"photo-{i:02}.jpg").write_bytes(data)
    run(["python", "manage.py", "shell", "-c", UPLOAD], project)
    uploads = by_method(counter.take())
    baseline, baseline_ms = page(project, counter)
    again, again_ms = page(project, counter)

    # 2. Adopt: the README's settings, the quickstart's check and prewarm.
    own_keys = f'CACHES["default"]["KEY_PREFIX"] = "{key_prefix}"  # the test\'s own Redis keys\n'
    settings.write_text(generated + reader + use_it + own_keys)
    checked = run(shlex.split(check.strip().splitlines()[0]), project)
    report = checked.stdout + checked.stderr
    assert "ikstorage.E" not in report, report
    counter.take()
    warmed = run(shlex.split(prewarm.strip().splitlines()[0]), project)
    prewarm_requests = by_method(counter.take())

    # 3. The first page in a new process, then a second one.
    first, first_ms = page(project, counter)
    second, second_ms = page(project, counter)

    print(
        f"\nuploads: {uploads}"
        f"\nbefore ikstorage: {len(baseline)} S3 calls {by_method(baseline)}"
        f" in {baseline_ms:.0f} ms,"
        f" again {len(again)} in {again_ms:.0f} ms"
        f"\ncheck: {report.strip()}"
        f"\nprewarm: {prewarm_requests}\n{warmed.stdout.strip()}"
        f"\nfirst page with ikstorage: {len(first)} S3 calls in {first_ms:.0f} ms,"
        f" second {len(second)} in {second_ms:.0f} ms"
    )
    # Plain S3Storage: two HeadObject and a GetObject of the whole file per image, every time.
    assert by_method(baseline) == {"HEAD": 2 * PHOTOS, "GET": PHOTOS}
    assert by_method(again) == by_method(baseline)
    # Prewarm, names from the models: one ranged GetObject per image.
    assert prewarm_requests == {"GET-ranged": PHOTOS}, prewarm_requests
    assert first == [], first
    assert second == [], second

    # 4. The same site with the INSTALLED_APPS line forgotten: `check` cannot
    # know (the STORAGES entry is a string until first used), but the page,
    # in a new process, stays free of S3 calls and its log names the fix.
    line = next(x for x in use_it.splitlines() if x.startswith("INSTALLED_APPS"))
    settings.write_text(generated + reader + use_it.replace(line, "") + own_keys)
    counter.take()
    forgot = run(["python", "manage.py", "shell", "-c", PAGE], project)
    assert json.loads(forgot.stdout.strip().splitlines()[-1])[:2] == [200, PHOTOS]
    assert counter.take() == []
    assert "ikstorage.E008: CachedStorage is used but 'ikstorage' is not in" in forgot.stderr
