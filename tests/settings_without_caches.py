"""The suite's settings without ``CACHES``: Django's default cache, as a newcomer has it."""

from tests.settings import *  # noqa: F403

del CACHES  # type: ignore[name-defined]  # noqa: F821
