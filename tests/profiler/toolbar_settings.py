"""Settings for the debug toolbar panel tests, run in a process of their own.

Installing ``debug_toolbar`` registers its system checks for the life of the
process, so these tests never share a process with the rest of the suite.
"""

from __future__ import annotations

from django.http import HttpRequest

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "debug_toolbar"]
MIDDLEWARE = ["debug_toolbar.middleware.DebugToolbarMiddleware"]
ROOT_URLCONF = "tests.profiler.toolbar_urls"
STATIC_URL = "/static/"
DEBUG_TOOLBAR_PANELS = ["ikstorage.profiler.panel.StorageCallsPanel"]
DEBUG_TOOLBAR_CONFIG = {"SHOW_TOOLBAR_CALLBACK": "tests.profiler.toolbar_settings.show_toolbar"}


def show_toolbar(request: HttpRequest) -> bool:
    return True
