"""What identifies the answers of an ``S3Storage``: every setting that changes one.

Two storages share records only if every answer would be the same, so the
identity covers what decides *which object* a name is (endpoint, region,
bucket, location), what its URL looks like (custom domain, protocol, SSL,
addressing style, signature version, whether URLs are signed and for how
long) and *who* signs or reads it (the credentials' access key id, the
CloudFront key pair, SSE-C and other read parameters: another principal may
be refused where this one is not, and signs with its own key).

Left out, because no answer depends on them: the secret key and session
token (they travel with the access key id they belong to), ``default_acl``,
``gzip``, ``file_overwrite`` and the other write settings (how a save
stores a file, not what the storage answers about a stored one; names are
always asked of the storage), and the transfer, proxy and TLS-verification
settings.

Everything is read from the storage's settings, the environment and the AWS
config files, as boto3 would read them, and never from the network: the
identity is needed before the first lookup, and credentials boto3 would
fetch from an instance or container role are left to the chain (the same
role for every process of one deployment). Credentials and keys appear only
as digests (:func:`~ikstorage.backends.identity.digest`).
"""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache
from typing import Any

from ikstorage.backends.identity import digest

__all__ = ["s3_identity"]

#: Profile settings that name who a profile signs as, when it holds no access key.
_PRINCIPAL = (
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
    "sso_session",
    "sso_account_id",
    "sso_role_name",
)


def s3_identity(storage: Any, class_path: str, read_params: dict[str, Any]) -> str:
    """The identity of ``storage`` (an ``S3Storage``); ``read_params`` are the
    download parameters of its ``object_parameters`` (SSE-C, ``VersionId``...)."""
    s = storage
    config = s.client_config
    chain = _Chain(s.session_profile)
    region = (
        s.region_name
        or getattr(config, "region_name", None)
        or os.environ.get("AWS_DEFAULT_REGION")
        or chain.region()
    )
    parts: dict[str, Any] = {
        "class": class_path,
        "endpoint": s.endpoint_url or "aws",
        "region": region or "",
        "bucket": s.bucket_name,
        "location": s.location,
        "domain": s.custom_domain,
        "protocol": s.url_protocol,
        "ssl": s.use_ssl,
        "signed": s.querystring_auth,
        "expire": s.querystring_expire,
        "signature": getattr(config, "signature_version", None),
        "s3": sorted((getattr(config, "s3", None) or {}).items()),
        "credentials": _credentials(s, chain),
        "cloudfront": _cloudfront(s),
        "read": digest(repr(sorted(read_params.items()))) if read_params else None,
    }
    return "|".join(f"{key}={value}" for key, value in parts.items())


def _credentials(s: Any, chain: _Chain) -> str:
    """Who signs: a digest of the access key id (never the secret), else the profile's."""
    if s.access_key:  # settings, or AWS_S3_ACCESS_KEY_ID / AWS_ACCESS_KEY_ID in the environment
        return f"key:{digest(str(s.access_key))}"
    return chain.principal()


def _cloudfront(s: Any) -> str | None:
    """The CloudFront key pair: its id, and a digest of the public key when the
    private key is in the settings (never the private key itself).

    A key id names one public key in CloudFront, so a signer object given
    directly (``cloudfront_signer=``) is known by its key id.
    """
    signer = s.cloudfront_signer
    if signer is None:
        return None
    key_id = getattr(signer, "key_id", None)
    if s.cloudfront_key and key_id == s.cloudfront_key_id:
        return f"{key_id}:{public_key_digest(s.cloudfront_key)}"
    return f"{key_id}:{type(signer).__module__}.{type(signer).__qualname__}"


@lru_cache(maxsize=16)
def public_key_digest(pem: str | bytes) -> str:
    """A digest of the public half of a PEM private key, with the RSA library
    django-storages signs with (``cryptography``, else ``rsa``)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - django-storages' other RSA backend
        try:
            import rsa
        except ImportError:
            return "unknown"
        key = rsa.PrivateKey.load_pkcs1(data)
        return digest(f"{key.n}:{key.e}")
    try:  # django-storages validated the key when it built its signer: not again (~35 ms)
        private = serialization.load_pem_private_key(
            data, password=None, unsafe_skip_rsa_key_validation=True
        )
    except TypeError:  # pragma: no cover - cryptography < 39
        private = serialization.load_pem_private_key(data, password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return digest(public)


class _Chain:
    """What boto3's credential chain would find without a network call: the
    profile (``session_profile``, ``AWS_PROFILE``) in the shared credentials and
    config files. Read only when the settings leave something open."""

    def __init__(self, profile: str | None) -> None:
        self._profile = profile or None
        self._session: Any = None

    @property
    def session(self) -> Any:
        if self._session is None:
            import botocore.session

            self._session = botocore.session.Session(profile=self._profile)
        return self._session

    def _name(self) -> str:
        return str(self._profile or self.session.get_config_variable("profile") or "default")

    def _settings(self) -> dict[str, Any]:
        """The profile's entries: the credentials file over the config file, as boto3 reads them."""
        from botocore.configloader import raw_config_parse
        from botocore.exceptions import BotoCoreError

        name = self._name()
        found: dict[str, Any] = {}
        # A missing or unreadable file names nothing (boto3 fails on a broken one too).
        with contextlib.suppress(BotoCoreError):
            found.update(self.session.full_config.get("profiles", {}).get(name, {}))
        path = os.path.expanduser(str(self.session.get_config_variable("credentials_file")))
        with contextlib.suppress(BotoCoreError):
            found.update(raw_config_parse(path).get(name, {}))
        return found

    def region(self) -> str | None:
        region = self.session.get_config_variable("region")
        return str(region) if region else None

    def principal(self) -> str:
        settings = self._settings()
        key_id = settings.get("aws_access_key_id")
        if key_id:
            return f"key:{digest(str(key_id))}"
        named = {k: settings[k] for k in _PRINCIPAL if settings.get(k)}
        if named:
            return f"profile:{self._name()}:{digest(repr(sorted(named.items())))}"
        role = os.environ.get("AWS_ROLE_ARN")  # web identity (EKS and the like)
        if role:
            return f"role:{digest(role)}"
        return "chain"  # an instance or container role, fetched by boto3 when first used
