"""The errors ikstorage raises: one base class for what goes wrong at run time, and
configuration mistakes kept apart.

:class:`IkStorageError` is the base of every error about a file or a rendition
(a source that cannot be rendered, a rendition that does not exist). A
configuration mistake is not one of them: :class:`ConfigurationError` derives
from Django's :class:`~django.core.exceptions.ImproperlyConfigured` only (what
Django raises for its own setup mistakes; ``manage.py check`` reports the same
mistakes with an ID), so code that handles ``IkStorageError`` around a page
never silences a broken setting. A missing package is also an
:class:`ImportError`.

None of them derives from :class:`ValueError` or :class:`TypeError` on purpose:
code that catches those around a storage call to handle a bad name or a bad
file must not take a configuration mistake for one and carry on.

A cache *outage* (connection refused, timeout) is never an exception here: it
is answered from the storage with a logged warning (see :mod:`ikstorage.cache`).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "CacheConfigurationError",
    "ConfigurationError",
    "IkStorageError",
    "MissingLibraryError",
]


class IkStorageError(Exception):
    """Base class of the run-time errors ikstorage raises (configuration mistakes aside).

    Subclasses keep their extra attributes keyword-only with defaults so that
    they survive pickling (task workers send exceptions between processes).
    """


class ConfigurationError(ImproperlyConfigured):
    """A setting or an OPTIONS value is wrong: the message names it, the bad
    value and what is expected.

    Not an :class:`IkStorageError`: ``except IkStorageError`` around a page must
    not swallow a mistake only the project's settings can fix."""


class CacheConfigurationError(ConfigurationError):
    """A cache alias a storage uses cannot work however healthy its server is:
    the alias is not in ``CACHES``, or its ``BACKEND`` does not import."""

    def __init__(self, message: str, *, alias: str = "") -> None:
        super().__init__(message)
        self.alias = alias


class MissingLibraryError(ConfigurationError, ImportError):
    """A package the configuration needs is not installed.

    ``package`` is what to ``pip install``; ``name`` (as on any
    :class:`ImportError`) is the module that failed to import.
    """

    def __init__(self, message: str, *, package: str = "", name: str | None = None) -> None:
        ConfigurationError.__init__(self, message)
        self.msg = message
        self.name = name
        self.package = package


__all__ += ["SourceReadError"]


class SourceReadError(IkStorageError, OSError):
    """A file's bytes stopped coming before its end (the connection broke midway).

    Raised when the one read that serves a source's record and its renditions
    fails after the header: nothing was rendered and the record (what the
    header told) is left as it is, so the next request that wants the
    renditions reads the file again. An :class:`OSError`, as Django's storages
    raise for a read that fails.
    """


__all__ += ["RenditionError", "TooManyPixelsError", "UnreadableImageError"]


class RenditionError(IkStorageError):
    """No rendition could be made from a source; the source itself is unaffected.

    ``reason`` is a short stable code (a plain string a record can hold) so the
    failure can be remembered and not retried: ``"empty"``, ``"not-an-image"``,
    ``"corrupt"``, ``"too-many-pixels"``, ``"output-too-large"``, ``"too-many-scans"`` or
    ``"encode-failed"``. Retrying the
    same bytes gives the same answer for every reason but ``"encode-failed"``.
    """

    default_reason = "encode-failed"

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or self.default_reason


class UnreadableImageError(RenditionError):
    """The source is empty, not an image in an accepted format, corrupt or truncated,
    or a JPEG whose scans would take minutes to decode (``"too-many-scans"``)."""

    default_reason = "corrupt"


class TooManyPixelsError(RenditionError):
    """The source's header claims more pixels than allowed: refused before any decoding.

    ``width`` and ``height`` are 0 when Pillow refused the header before telling
    them (its own decompression-bomb limit); ``limit`` is the cap that applied.
    """

    default_reason = "too-many-pixels"

    def __init__(
        self, message: str, *, width: int = 0, height: int = 0, limit: int = 0, reason: str = ""
    ) -> None:
        super().__init__(message, reason=reason)
        self.width = width
        self.height = height
        self.limit = limit


__all__ += ["MissingRenditionError"]


class MissingRenditionError(RenditionError, LookupError):
    """A rendition was asked for that does not exist, with ``missing_renditions="error"``.

    ``reason`` says why: the source's rendering failure code, ``"missing
    source"`` or ``"not made yet"``.
    """

    default_reason = "not made yet"


__all__ += ["MarkupWarning"]


class MarkupWarning(UserWarning):
    """``{% picture %}`` or ``{% srcset %}`` left something out of an image's markup.

    A warning, not an error: the markup written is valid and the page is
    shown; what is warned about (specs of another aspect ratio, a format a
    larger spec does not make, an image without ``alt`` under ``DEBUG``) is a
    template or spec to fix. Given once per set of specs in a process;
    ``-W error::ikstorage.exceptions.MarkupWarning`` makes it an error (in tests).
    """
