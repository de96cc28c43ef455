"""What identifies the answers of an ``AzureStorage``: every setting that changes one.

Two storages share records only if every answer would be the same, so the
identity covers what decides *which blob* a name is (the account, the blob
endpoint — ``endpoint_suffix`` and the protocol, or a connection string's
``BlobEndpoint`` — the container, the ``location``), what its URL looks like
(``custom_domain``, ``expiration_secs``) and *who* signs or reads: another
principal may be refused where this one is not, and signs with its own key.

The signer is named by digests (:func:`~ikstorage.backends.identity.digest`),
never by a secret: the account name with a digest of its key, a digest of a
SAS token, or the class and client id of a token credential. Nothing here
touches the network: the identity is needed before the first lookup.

Left out, because no answer depends on them: ``overwrite_files``,
``upload_max_conn``, ``max_memory_size``, ``timeout``, ``cache_control`` and
``object_parameters`` (how a save stores a file, not what the storage answers
about a stored one).
"""

from __future__ import annotations

from typing import Any

from ikstorage.backends.identity import digest

__all__ = ["azure_identity"]


def azure_identity(storage: Any, class_path: str) -> str:
    """The identity of ``storage`` (an ``AzureStorage``), from its settings."""
    s = storage
    parts: dict[str, Any] = {
        "class": class_path,
        "endpoint": endpoint(s),
        "account": s.account_name,
        "container": s.azure_container,
        "location": s.location,
        "domain": s.custom_domain,
        "expire": s.expiration_secs,
        "signer": signer(s),
    }
    return "|".join(f"{key}={value}" for key, value in parts.items())


def endpoint(storage: Any) -> str:
    """Where the client sends requests: a connection string's blob endpoint (or its
    protocol and suffix), else the protocol and ``endpoint_suffix``."""
    if storage.connection_string:
        fields = dict(
            part.split("=", 1) for part in storage.connection_string.split(";") if "=" in part
        )
        folded = {key.lower(): value for key, value in fields.items()}
        if "blobendpoint" in folded:
            return str(folded["blobendpoint"]).rstrip("/")
        protocol = folded.get("defaultendpointsprotocol", "https")
        return f"{protocol}:{folded.get('endpointsuffix', 'core.windows.net')}"
    return f"{storage.azure_protocol}:{storage.endpoint_suffix}"


def signer(storage: Any) -> str:
    """Who reads and signs, as digests: the account key, a SAS token, a credential."""
    s = storage
    if s.account_key:
        return f"key:{digest(str(s.account_key))}"
    if s.connection_string:
        fields = [p for p in s.connection_string.split(";") if p.lower().startswith("sharedaccess")]
        if fields:
            return f"sas:{digest(';'.join(fields))}"
    if s.sas_token:
        return f"sas:{digest(str(s.sas_token))}"
    credential = s.token_credential
    if credential is not None:
        kind = f"{type(credential).__module__}.{type(credential).__qualname__}"
        client_id = getattr(credential, "client_id", None) or getattr(
            credential, "_client_id", None
        )
        return f"token:{kind}:{digest(str(client_id)) if client_id else None}"
    return "anonymous"
