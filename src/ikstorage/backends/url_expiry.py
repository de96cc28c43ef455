"""When a URL from a storage ikstorage has no adapter for stops working, read from the URL.

The S3, GCS and Azure adapters know from the storage's settings whether its
URLs are signed and for how long. Any other storage is known only through its
public API, and a URL it signs looks like any other string. Memoizing such a
URL for good would hand it out after it expired (``DESIGN.md``, invariant 4),
so the URL itself is read: the signing schemes in common use write their
expiry into the query string.

* AWS Signature V4 (S3 and every S3-compatible service, CloudFront's origin
  requests): ``X-Amz-Date`` + ``X-Amz-Expires`` seconds;
* Google Cloud Storage V4: ``X-Goog-Date`` + ``X-Goog-Expires`` seconds;
* AWS Signature V2, GCS V2 and CloudFront's canned policy: ``Expires``, a POSIX time;
* Azure shared access signatures: ``se``, an ISO 8601 time (a date alone is midnight UTC).

Parameter names are matched whatever their case. A URL that carries a
signature but no expiry this module can read (CloudFront's custom
``Policy``, a value that does not parse, a scheme not listed) is treated as
expiring at once: it is never memoized, each ``url()`` asks the storage. A URL
with none of these parameters is public and is memoized for good. A storage
whose URLs expire without saying so in the URL (Dropbox's temporary links)
cannot be told from one whose URLs are permanent; ``docs/backends`` says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

__all__ = ["url_expires"]

#: ``(date parameter, lifetime parameter)`` pairs: an expiry of ``date + lifetime``.
_DATED = (("x-amz-date", "x-amz-expires"), ("x-goog-date", "x-goog-expires"))
#: Parameters that hold the expiry as a POSIX time.
_POSIX = ("expires",)
#: Parameters that hold the expiry as an ISO 8601 time.
_ISO = ("se",)
#: Parameters that only a signed URL carries: with no readable expiry, not memoized.
_SIGNED = (
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "sig",
    "policy",
    "key-pair-id",
    "googleaccessid",
    "awsaccesskeyid",
)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


def url_expires(url: str, issued: float) -> float | None:
    """The POSIX time at which ``url``, made at ``issued``, stops working; ``None``: never.

    The earliest of the expiries the URL states; ``issued`` (already expired)
    for a signed URL whose expiry cannot be read.
    """
    query = urlsplit(url).query
    if not query:
        return None
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key.lower(), value)
    found: list[float] = []
    unreadable = False
    for date_key, lifetime_key in _DATED:
        if date_key in params or lifetime_key in params:
            stated = _dated(params.get(date_key), params.get(lifetime_key))
            unreadable |= stated is None
            found += [stated] if stated is not None else []
    for key in _POSIX:
        if key in params:
            stated = _posix(params[key])
            unreadable |= stated is None
            found += [stated] if stated is not None else []
    for key in _ISO:
        if key in params:
            stated = _iso(params[key])
            unreadable |= stated is None
            found += [stated] if stated is not None else []
    if unreadable or (not found and any(key in params for key in _SIGNED)):
        return issued
    return min(found) if found else None


def _dated(date: str | None, lifetime: str | None) -> float | None:
    if date is None or lifetime is None:
        return None
    try:
        start = datetime.strptime(date, _AMZ_DATE).replace(tzinfo=UTC)
        seconds = int(lifetime)
    except ValueError:
        return None
    return start.timestamp() + seconds


def _posix(value: str) -> float | None:
    try:
        return float(int(value))
    except ValueError:
        return None


def _iso(value: str) -> float | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:  # Azure: times are UTC, a date alone is its midnight
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
