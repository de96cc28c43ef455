"""Settings for the test suite: SQLite, a local-memory cache, and the ikstorage app."""

from __future__ import annotations

import importlib.util
import tempfile

SECRET_KEY = "ikstorage-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "ikstorage",
    "tests.testapp",
]

# The thumbnail libraries measured by tests/integrations, when installed (their
# tests skip otherwise), and the models those tests render.
INSTALLED_APPS += [
    app
    for app in ("imagekit", "easy_thumbnails", "sorl.thumbnail")
    if importlib.util.find_spec(app.partition(".")[0]) is not None
]
INSTALLED_APPS += ["tests.integrations.thumbapp"]
# easy-thumbnails and sorl-thumbnail both name their template library
# "thumbnail"; the integration tests load each through its own Engine.
SILENCED_SYSTEM_CHECKS = ["templates.W003"]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
}

MEDIA_ROOT = tempfile.mkdtemp(prefix="ikstorage-tests-media-")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]

AWS_ACCESS_KEY_ID = "testing"
AWS_SECRET_ACCESS_KEY = "testing"
AWS_S3_REGION_NAME = "us-east-1"

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
