"""What identifies the answers of a ``GoogleCloudStorage``: every setting that changes one.

Two storages share records only if every answer would be the same, so the
identity covers what decides *which object* a name is (the API endpoint, the
bucket, the ``location``), what its URL looks like (``custom_endpoint``,
whether URLs are signed, for how long, the ACL that makes them public) and
*who* signs or reads (the service account: another principal may be refused
where this one is not, and signs with its own key).

The credentials object django-storages is given has no spelling that is the
same in every process (its ``repr`` holds an address), so it is named by what
it says about the principal: the service account's email and the id of its
signing key, as digests (:func:`~ikstorage.backends.identity.digest`), never the
key itself. With ``iam_sign_blob`` the signer is ``sa_email`` (or the
default credentials of the deployment, which the storage swaps in when it
builds its client), so that is what names it. Nothing here touches the
network: the identity is needed before the first lookup.

Left out, because no answer depends on them: ``gzip``, ``file_overwrite``,
``max_memory_size``, ``blob_chunk_size`` and ``project_id`` (how a save
stores a file or which project pays, not what the storage answers about a
stored one).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from ikstorage.backends.identity import digest

__all__ = ["gcs_identity"]


def gcs_identity(storage: Any, class_path: str) -> str:
    """The identity of ``storage`` (a ``GoogleCloudStorage``), from its settings."""
    s = storage
    expiration = s.expiration
    seconds = expiration.total_seconds() if isinstance(expiration, timedelta) else expiration
    acl = (s.object_parameters or {}).get("acl", s.default_acl)
    parts: dict[str, Any] = {
        "class": class_path,
        # The client sends every request here instead of storage.googleapis.com.
        "endpoint": os.environ.get("STORAGE_EMULATOR_HOST") or "google",
        "bucket": s.bucket_name,
        "location": s.location,
        "domain": s.custom_endpoint,
        "signed": s.querystring_auth,
        "expire": seconds,
        "acl": acl,
        # With iam_sign_blob and no credentials, the storage swaps in the default
        # credentials once its client is built: named the same before and after.
        "credentials": principal(None if s.iam_sign_blob else s.credentials),
        "iam": f"{s.iam_sign_blob}:{digest(s.sa_email) if s.sa_email else None}",
    }
    return "|".join(f"{key}={value}" for key, value in parts.items())


def principal(credentials: Any) -> str:
    """Who reads and signs: digests of the service account email and signing key id.

    ``None`` credentials are found by the client (Application Default
    Credentials): the same for every process of one deployment, named by the
    key file the environment points at, if any.
    """
    if credentials is None:
        path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        return f"default:{digest(path) if path else None}"
    kind = f"{type(credentials).__module__}.{type(credentials).__qualname__}"
    email = getattr(credentials, "service_account_email", None)
    signer = getattr(credentials, "signer", None)
    key_id = getattr(signer, "key_id", None)
    client_id = getattr(credentials, "client_id", None)  # user (OAuth) credentials
    named = [
        f"{label}:{digest(str(value))}"
        for label, value in (("email", email), ("key", key_id), ("client", client_id))
        if value
    ]
    return f"{kind}:{','.join(named) or 'anonymous'}"
