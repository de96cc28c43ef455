"""The documentation builds with warnings as errors, its links resolve, and its samples run.

Code samples
============

Every fenced block of ``docs/*.md`` whose language is ``python`` or ``django``
is a sample, and every sample runs here unless its source says why not. An
HTML comment on the line before the fence (invisible on the rendered page)
chooses how::

    <!-- run: CONTEXT -->       run it in CONTEXT, below
    <!-- not run: REASON -->    skip it, for REASON (required)

Without a comment a ``python`` block runs in ``plain`` and a ``django`` block
in ``gallery``. Other languages (``sh``, ``html``, output) are not samples.
Line numbers in a failing sample's traceback are the Markdown file's own.

Contexts, all on moto S3 in-process (bucket ``media``) with the test settings:

``plain``
    A fresh module namespace.
``settings``
    A fragment of ``settings.py``. ``INSTALLED_APPS``, ``MIDDLEWARE`` and
    ``CACHES`` start as the test settings' and ``STORAGES`` as the
    quickstart's (``s3``, and ``default`` wrapping it), so ``+=`` and item
    assignments work. Afterwards: every app, middleware and panel imports;
    ikstorage's system checks find nothing wrong with the ``STORAGES`` and
    ``CACHES`` it leaves (``W001`` only for the test suite's own local-memory
    cache); and every ``CachedStorage`` in ``STORAGES`` saves, reads and
    deletes an image (with each cache swapped for local memory, so no cache
    server is needed).
``options``
    A fragment of a storage's OPTIONS: each top-level ``"key": value`` line
    starts one alternative (``"OPTIONS": {...}`` gives them all at once);
    ``import`` lines run first. Each alternative builds
    ``CachedStorage(storage="s3", **options)``, which validates it, and every
    spec of it makes its rendition of a saved 1200 x 900 JPEG.
``models``
    Model classes, defined in an isolated app registry (app ``testapp``);
    ``models`` and django-imagekit's ``ImageSpecField`` and ``ResizeToFill``
    are there already. Django's model checks must pass, and every file field
    on a ``CachedStorage`` saves, reads and deletes an image.
``gallery``
    ``STORAGES["default"]`` is a ``CachedStorage`` on S3 with the specs of
    ``docs/templates.md`` (``thumb``: fill 200 x 150, ``large``: fit 1600 x
    1600, both in WebP and JPEG) and three ``Photo`` rows saved through it. Names:
    ``Photo``, ``photos``, ``photo`` (``photos/a.jpg``, 1200 x 900, "Harbour at
    dawn"), ``storage``, ``name`` (its name), ``content`` (its bytes, a
    ``ContentFile``), ``specs`` (the storage's), ``render_to_string`` (with a
    ``gallery.html`` that prints each photo's URL and size). A template sees
    ``photo``, ``photos`` and ``t`` (the ``thumb`` rendition of ``photo``), an
    undefined variable fails, and so does a ``None`` in the output.
``imagekit``, ``easy-thumbnails``, ``sorl-thumbnail``
    The gallery, with ``photo`` and ``photos`` the library's own model from
    ``tests/integrations/thumbapp`` and ``{% load thumbnail %}`` the
    library's tag library.
``pytest``
    Test functions: each argument must name a fixture that exists. They are
    not called: they request the project's own URLs.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models
from django.template import Context, Engine
from django.test import override_settings
from django.test.utils import isolate_apps

from ikstorage import CachedStorage, rendition
from ikstorage.cache import clear_local
from ikstorage.checks import check_settings, check_storages
from ikstorage.renditions import specs_for
from tests.images import image_bytes
from tests.servers import unavailable

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# -- finding the samples -------------------------------------------------------------

SAMPLE_LANGUAGES = {"python": "python", "py": "python", "django": "django"}
PYTHON_CONTEXTS = frozenset(
    {"plain", "settings", "options", "models", "gallery", "pytest"}
    | {"imagekit", "easy-thumbnails", "sorl-thumbnail"}
)
TEMPLATE_CONTEXTS = frozenset({"gallery", "imagekit", "easy-thumbnails", "sorl-thumbnail"})
DEFAULT_CONTEXT = {"python": "plain", "django": "gallery"}

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
MARKER = re.compile(r"^<!--\s*(?P<kind>run|not run)\s*:\s*(?P<value>.*?)\s*-->$")
MARKER_LIKE = re.compile(r"^<!--\s*(run|not run)\b")


@dataclass(frozen=True)
class Sample:
    path: Path
    #: 1-based line of the opening fence.
    line: int
    language: str
    code: str
    context: str
    #: Why the sample is not run; ``None``: it runs.
    skip: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Block:
    line: int
    info: str
    code: str


def fenced_blocks(text: str) -> tuple[list[Block], set[int]]:
    """Fenced blocks (opening line 1-based, info string, dedented code) and their lines."""
    blocks: list[Block] = []
    inside: set[int] = set()
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(lines[end][indent:] if lines[end][:indent].isspace() else lines[end])
            end += 1
        blocks.append(Block(index + 1, opening["info"], "\n".join(body) + "\n"))
        inside.update(range(index + 1, end + 2))
        index = end + 1
    return blocks, inside


def marker_before(lines: list[str], line: int) -> str:
    """The last non-blank line before 1-based ``line``."""
    for previous in reversed(lines[: line - 1]):
        if previous.strip():
            return previous.strip()
    return ""


def collect(paths: list[Path]) -> tuple[list[Sample], list[str]]:
    """Every sample of ``paths``, and every mistake in their markers."""
    samples: list[Sample] = []
    mistakes: list[str] = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        blocks, inside = fenced_blocks(text)
        for block in blocks:
            language = SAMPLE_LANGUAGES.get(block.info.lower())
            where = f"{path.relative_to(ROOT)}:{block.line}"
            before = marker_before(lines, block.line)
            marker = MARKER.match(before)
            if language is None:
                if MARKER_LIKE.match(before):
                    mistakes.append(f"{where}: a marker before a {block.info or 'plain'} block")
                continue
            context, skip = DEFAULT_CONTEXT[language], None
            if marker is not None and marker["kind"] == "not run":
                skip = marker["value"]
                if not skip:
                    mistakes.append(f"{where}: 'not run' needs a reason")
            elif marker is not None:
                context = marker["value"]
                allowed = PYTHON_CONTEXTS if language == "python" else TEMPLATE_CONTEXTS
                if context not in allowed:
                    mistakes.append(
                        f"{where}: unknown {language} context {context!r}; "
                        f"one of {', '.join(sorted(allowed))}"
                    )
            elif MARKER_LIKE.match(before):
                mistakes.append(f"{where}: malformed marker {before!r}")
            samples.append(Sample(path, block.line, language, block.code, context, skip))
        openings = {block.line for block in blocks}
        for number, text_line in enumerate(lines, 1):
            if number in inside or not MARKER_LIKE.match(text_line.strip()):
                continue
            following = number + 1
            while following <= len(lines) and not lines[following - 1].strip():
                following += 1
            if following not in openings:
                mistakes.append(
                    f"{path.relative_to(ROOT)}:{number}: marker not followed by a fenced block"
                )
    return samples, mistakes


def doc_pages() -> list[Path]:
    return sorted([*DOCS.glob("*.md"), *DOCS.glob("backends/*.md")])


SAMPLES, MARKER_MISTAKES = collect(doc_pages())


def test_every_sample_marker_is_valid() -> None:
    assert MARKER_MISTAKES == []
    assert SAMPLES, "no samples found in docs/"


# -- running them --------------------------------------------------------------------

#: What the ``settings`` context starts from: the quickstart's STORAGES.
QUICKSTART_STORAGES: dict[str, Any] = {
    "s3": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "media"}},
    "default": {
        "BACKEND": "ikstorage.CachedStorage",
        "OPTIONS": {"storage": "s3", "cache": "default"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHED_BACKENDS = ("ikstorage.CachedStorage", "ikstorage.storage.CachedStorage")
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"

#: The storage the gallery's photos are saved through: docs/templates.md's specs.
GALLERY_SPECS: dict[str, Any] = {
    "thumb": {"fill": [200, 150], "formats": ["webp", "jpeg"]},
    "large": {"fit": [1600, 1600], "formats": ["webp", "jpeg"]},
}
GALLERY_STORAGES: dict[str, Any] = {
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "media", "querystring_auth": False},
    },
    "default": {
        "BACKEND": "ikstorage.CachedStorage",
        "OPTIONS": {"storage": "s3", "specs": GALLERY_SPECS},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
GALLERY_PHOTOS = (("a.jpg", (1200, 900), "Harbour at dawn"), ("b.jpg", (900, 1200), "Pier"))
GALLERY_TEMPLATE = (
    "{% for photo in photos %}"
    '<img src="{{ photo.image.url }}" width="{{ photo.image.width }}" '
    'height="{{ photo.image.height }}" alt="{{ photo.title }}"> {{ photo.image.size }} bytes'
    "{% endfor %}"
)
#: What an undefined template variable renders as, so that it can be caught.
INVALID = "INVALID[%s]"
THUMBNAIL_LIBRARIES = {
    "easy-thumbnails": "easy_thumbnails.templatetags.thumbnail",
    "sorl-thumbnail": "sorl.thumbnail.templatetags.thumbnail",
}
#: The library each context needs, and the model of tests/integrations/thumbapp it shows.
LIBRARY_MODELS = {
    "imagekit": ("imagekit", "django-imagekit", "KitPhoto"),
    "easy-thumbnails": ("easy_thumbnails", "easy-thumbnails", "EasyPhoto"),
    "sorl-thumbnail": ("sorl.thumbnail", "sorl-thumbnail", "SorlPhoto"),
}


def compiled(sample: Sample, code: str | None = None) -> Any:
    """Compiled so that tracebacks give the Markdown file's own line numbers."""
    source = "\n" * sample.line + (sample.code if code is None else code)
    return compile(source, str(sample.path), "exec")


def round_trip(storage: Any) -> None:
    """Save, read and delete an image through ``storage``: proof that it works as configured."""
    data = image_bytes((64, 48))
    name = storage.save("docs-sample/check.jpg", ContentFile(data))
    assert storage.exists(name)
    assert storage.size(name) == len(data)
    record = storage.metadata(name)
    assert (record.width, record.height) == (64, 48)
    assert storage.url(name)
    storage.delete(name)
    assert not storage.exists(name)


def create_buckets(s3: Any, storages_setting: dict[str, Any]) -> None:
    """The buckets the ``S3Storage`` entries name, on moto."""
    existing = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    for entry in storages_setting.values():
        bucket = (entry.get("OPTIONS") or {}).get("bucket_name")
        if entry.get("BACKEND", "").endswith("S3Storage") and bucket and bucket not in existing:
            s3.create_bucket(Bucket=bucket)
            existing.add(bucket)


def defines(dotted: str) -> bool:
    """Whether module ``a.b`` defines ``C`` for ``"a.b.C"``, read without importing it.

    Importing would run the module, and a panel or middleware module may need
    its app in ``INSTALLED_APPS`` (django-debug-toolbar's models do).
    """
    module, _, name = dotted.rpartition(".")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.ImportFrom):  # a re-export
            names.update(alias.asname or alias.name for alias in node.names)
    return name in names


def run_plain(sample: Sample) -> None:
    exec(compiled(sample), {"__name__": "docs_sample"})


def run_settings(sample: Sample, s3: Any, tmp_path: Path) -> None:
    start: dict[str, Any] = {
        "INSTALLED_APPS": list(settings.INSTALLED_APPS),
        "MIDDLEWARE": list(getattr(settings, "MIDDLEWARE", [])),
        "CACHES": copy.deepcopy(settings.CACHES),
        "STORAGES": copy.deepcopy(QUICKSTART_STORAGES),
    }
    namespace: dict[str, Any] = {"__name__": "docs_settings", **copy.deepcopy(start)}
    exec(compiled(sample), namespace)
    defined = {key: value for key, value in namespace.items() if key.isupper()}

    for app in defined["INSTALLED_APPS"]:
        if importlib.util.find_spec(app) is None:
            unavailable(f"{sample.where}: app {app!r} is not installed")
    for key in ("MIDDLEWARE", "DEBUG_TOOLBAR_PANELS"):
        for dotted in defined.get(key, []):
            assert defines(dotted), f"{sample.where}: {key} names {dotted!r}, which does not exist"

    caches_setting: dict[str, Any] = defined["CACHES"]
    storages_setting: dict[str, Any] = dict(defined["STORAGES"])
    used = {
        (entry.get("OPTIONS") or {}).get("cache", "default")
        for entry in storages_setting.values()
        if entry.get("BACKEND") in CACHED_BACKENDS
    }
    for alias in set(caches_setting) - used:  # a cache no storage uses yet: check it too
        storages_setting[f"docs-check-{alias}"] = {
            "BACKEND": "ikstorage.CachedStorage",
            "OPTIONS": {
                "storage": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path)},
                },
                "cache": alias,
            },
        }
    own_cache = caches_setting == start["CACHES"]
    with override_settings(STORAGES=storages_setting, CACHES=caches_setting):
        messages = check_storages() + check_settings()
    found = [
        f"{message.id}: {message.msg}"
        for message in messages
        if not (message.id == "ikstorage.W001" and own_cache)
    ]
    assert found == [], f"{sample.where}: system checks"

    create_buckets(s3, defined["STORAGES"])
    local = {alias: {"BACKEND": LOCMEM, "LOCATION": f"docs-{alias}"} for alias in caches_setting}
    with override_settings(STORAGES=defined["STORAGES"], CACHES=local):
        from django.core.files.storage import storages

        clear_local()
        built = [
            storages[alias]
            for alias, entry in defined["STORAGES"].items()
            if entry.get("BACKEND") in CACHED_BACKENDS
        ]
        for storage in built:
            round_trip(storage)
        clear_local()


def options_alternatives(sample: Sample) -> list[dict[str, Any]]:
    """The alternatives of an OPTIONS fragment, each a dict."""
    imports: list[str] = []
    chunks: list[list[str]] = []
    for line in sample.code.splitlines():
        if line.startswith(("from ", "import ")):
            imports.append(line)
        elif line.startswith('"'):
            chunks.append([line])
        elif chunks:
            chunks[-1].append(line)
        else:
            assert not line.strip(), f"{sample.where}: {line!r} comes before the first key"
    namespace: dict[str, Any] = {}
    exec(compiled(sample, "\n".join(imports)), namespace)
    assert chunks, f"{sample.where}: no option found"
    return [eval("{" + "\n".join(chunk).rstrip().rstrip(",") + "}", namespace) for chunk in chunks]


def names_for(specs: Any) -> list[str]:
    """A name each spec's ``match`` accepts (``photos/a.jpg`` when it has none)."""
    names = ["photos/a.jpg"]
    for spec in specs.values():
        for pattern in spec.match:
            stem = "a" if pattern.lower().endswith((".jpg", ".jpeg", ".png")) else "a.jpg"
            names.append(pattern.replace("*", stem))
    return names


def run_options(sample: Sample) -> None:
    data = image_bytes((1200, 900))
    for alternative in options_alternatives(sample):
        options = alternative["OPTIONS"] if set(alternative) == {"OPTIONS"} else alternative
        with override_settings(STORAGES=QUICKSTART_STORAGES):
            storage = CachedStorage(**{"storage": "s3", **options})
            made = 0
            for name in names_for(storage.options.specs):
                saved = storage.save(name, ContentFile(data))
                for spec in specs_for(storage.options.specs, saved):
                    shown = storage.rendition(saved, spec.name)
                    assert shown.fallback is False, f"{sample.where}: {spec.name} of {saved}"
                    assert isinstance(shown.width, int)
                    assert isinstance(shown.height, int)
                    made += 1
            assert made or not storage.options.specs, f"{sample.where}: no spec matched"


def library_names() -> dict[str, Any]:
    """Names the ``models`` context provides besides ``models``."""
    names: dict[str, Any] = {}
    if importlib.util.find_spec("imagekit") is not None:
        from imagekit.models import ImageSpecField
        from imagekit.processors import ResizeToFill

        names.update(ImageSpecField=ImageSpecField, ResizeToFill=ResizeToFill)
    return names


def run_models(sample: Sample) -> None:
    module = "tests.testapp.docs_sample"
    for name in ("imagekit", "easy_thumbnails", "sorl"):
        imported = re.search(rf"^\s*(from|import) {name}\b", sample.code, re.MULTILINE)
        if imported and importlib.util.find_spec(name) is None:
            unavailable(f"{sample.where}: {name} is not installed")
    with isolate_apps("tests.testapp"):
        namespace: dict[str, Any] = {"__name__": module, "models": models, **library_names()}
        exec(compiled(sample), namespace)
        classes = [
            value
            for value in namespace.values()
            if isinstance(value, type)
            and issubclass(value, models.Model)
            and value.__module__ == module
        ]
        assert classes, f"{sample.where}: defines no model"
        for model in classes:
            serious = [message for message in model.check() if message.is_serious()]
            assert serious == [], f"{sample.where}: {model.__name__}"
            for field in model._meta.get_fields():
                storage = getattr(field, "storage", None)
                if isinstance(storage, CachedStorage):
                    round_trip(storage)


def run_pytest(sample: Sample, request: pytest.FixtureRequest) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_pytest_sample"}
    exec(compiled(sample), namespace)
    tests = [value for key, value in namespace.items() if key.startswith("test_")]
    assert tests, f"{sample.where}: defines no test"
    for test in tests:
        for fixture in inspect.signature(test).parameters:
            request.getfixturevalue(fixture)


@dataclass
class Gallery:
    namespace: dict[str, Any]
    template_context: dict[str, Any]


@contextmanager
def gallery(sample: Sample) -> Iterator[Gallery]:
    """The ``gallery`` context, or a thumbnail library's, for the duration of one sample."""
    from django.core.cache import caches
    from django.core.files.storage import storages
    from django.template.loader import render_to_string

    from tests.testapp.models import Photo

    templates = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [
                    ("django.template.loaders.locmem.Loader", {"gallery.html": GALLERY_TEMPLATE})
                ],
                "string_if_invalid": INVALID,
            },
        }
    ]
    caches_setting = {
        "default": {
            "BACKEND": LOCMEM,
            "LOCATION": "docs-gallery",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
    library = LIBRARY_MODELS.get(sample.context)
    if library is not None and importlib.util.find_spec(library[0]) is None:
        unavailable(f"{sample.where}: {library[1]} is not installed")
    with override_settings(STORAGES=GALLERY_STORAGES, CACHES=caches_setting, TEMPLATES=templates):
        from tests.integrations.pages import forget_process_state

        caches["default"].clear()
        forget_process_state()  # storages, L1 and sorl-thumbnail's singletons, rebuilt
        rows = [
            Photo.objects.create(title=title, image=ContentFile(image_bytes(size), name=name))
            for name, size, title in GALLERY_PHOTOS
        ]
        shown: list[Any] = rows
        if library is not None:
            from tests.integrations.thumbapp import models as thumbapp

            model = getattr(thumbapp, library[2])
            shown = [
                model._default_manager.create(image=ContentFile(image_bytes(size), name=name))
                for name, size, _ in GALLERY_PHOTOS
            ]
        storage = storages["default"]
        first = rows[0]
        namespace = {
            "__name__": "docs_sample",
            "Photo": Photo,
            "photos": shown,
            "photo": shown[0],
            "storage": storage,
            "name": first.image.name,
            "content": ContentFile(image_bytes(GALLERY_PHOTOS[0][1])),
            "specs": storage.options.specs,
            "render_to_string": render_to_string,
        }
        context = {"photo": shown[0], "photos": shown, "t": rendition(first.image, "thumb")}
        yield Gallery(namespace, context)
        caches["default"].clear()


def run_in_gallery(sample: Sample) -> None:
    with gallery(sample) as world:
        if sample.language == "python":
            exec(compiled(sample), world.namespace)
            return
        libraries = {"ikstorage": "ikstorage.templatetags.ikstorage"}
        if sample.context in THUMBNAIL_LIBRARIES:
            libraries["thumbnail"] = THUMBNAIL_LIBRARIES[sample.context]
        # docs/templates.md loads the library once, at its top; its excerpts assume it.
        builtins = ["ikstorage.templatetags.ikstorage"]
        engine = Engine(libraries=libraries, builtins=builtins, string_if_invalid=INVALID)
        html = engine.from_string(sample.code).render(Context(world.template_context))
        assert "INVALID[" not in html, f"{sample.where}: an undefined variable\n{html}"
        assert "None" not in html, f"{sample.where}: a None in the output\n{html}"


def sample_params() -> list[Any]:
    """The samples that run; a ``not run`` one carries its reason in the docs source
    (checked by the marker tests) and is not collected, so no test is skipped."""
    return [
        pytest.param(sample, id=sample.where.removeprefix("docs/"))
        for sample in SAMPLES
        if not sample.skip
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("sample", sample_params())
def test_sample(sample: Sample, s3: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if sample.context == "plain":
        run_plain(sample)
    elif sample.context == "settings":
        run_settings(sample, s3, tmp_path)
    elif sample.context == "options":
        run_options(sample)
    elif sample.context == "models":
        run_models(sample)
    elif sample.context == "pytest":
        run_pytest(sample, request)
    else:
        run_in_gallery(sample)


# -- links ---------------------------------------------------------------------------

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def slug(title: str) -> str:
    """A heading's anchor, as GitHub and MyST (``myst_heading_anchors``) make it."""
    text = re.sub(r"[`*]", "", title).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    _, inside = fenced_blocks(text)
    found: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        heading = HEADING.match(line)
        if heading is None or number in inside:
            continue
        base = slug(heading[2])
        anchor, count = base, 1
        while anchor in found:
            anchor, count = f"{base}-{count}", count + 1
        found.add(anchor)
    return found


def relative_links(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    _, inside = fenced_blocks(text)
    for number, line in enumerate(text.splitlines(), 1):
        if number in inside:
            continue
        for link in LINK.finditer(INLINE_CODE.sub("", line)):
            target = link["target"]
            if not SCHEME.match(target):
                yield number, target


def test_relative_links_point_to_existing_files_and_headings() -> None:
    broken: list[str] = []
    for path in [*doc_pages(), ROOT / "README.md", ROOT / "CHANGELOG.md"]:
        for number, target in relative_links(path):
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}:{number}: {target}"
            if not linked.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{where} (no such heading)")
    assert broken == []


def test_slugs_match_the_anchors_the_docs_use() -> None:
    assert slug("Staleness, bounded") == "staleness-bounded"
    assert slug("When the answer is *unknown*") == "when-the-answer-is-unknown"
    assert slug("`count_calls()`") == "count_calls"
    assert slug("## 1. Install".lstrip("# ")) == "1-install"


# -- the Sphinx build ----------------------------------------------------------------

DOCS_PACKAGES = {"sphinx": "sphinx", "myst_parser": "myst-parser", "furo": "furo"}


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path: Path) -> None:
    """``python3 dev.py docs``: nitpicky, warnings as errors, every page reachable."""
    missing = [
        name for module, name in DOCS_PACKAGES.items() if not importlib.util.find_spec(module)
    ]
    if missing:
        unavailable(
            f"the docs need {', '.join(missing)} (the 'docs' dependency group: "
            "pip install --group docs)"
        )
    out = tmp_path / "html"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    command += ["-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr
    pages = {path.relative_to(DOCS).with_suffix("") for path in doc_pages()}
    assert {path.relative_to(out).with_suffix("") for path in out.rglob("*.html")} >= pages
