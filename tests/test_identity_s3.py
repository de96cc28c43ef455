"""S3 storages that would answer differently never share a record (moto in-process).

Every ``S3Storage`` setting that changes an answer (a URL's expiry, signer,
host or scheme; who reads the object) is part of the identity, so a storage
never hands out what another one cached: its URL is its own (signed by it,
exact presign counts) and its facts are its own (its own probe). The same
configuration, given as an instance or as a dict, shares everything. No
secret is part of an identity.
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile

from ikstorage import CachedStorage
from ikstorage.backends.identity import digest
from ikstorage.profiler import count_calls
from tests.images import image_bytes

S3 = "storages.backends.s3.S3Storage"
#: Signed URLs in SigV4 (botocore signs the old way in us-east-1 unless asked).
BASE = {
    "bucket_name": "media",
    "region_name": "us-east-1",
    "querystring_auth": True,
    "signature_version": "s3v4",
}


@functools.cache
def private_key(number: int) -> str:
    """An RSA private key in PEM, as ``AWS_CLOUDFRONT_KEY`` holds one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def cloudfront(key_id: str, number: int) -> dict[str, Any]:
    return {
        "custom_domain": "cdn.example.com",
        "cloudfront_key_id": key_id,
        "cloudfront_key": private_key(number),
    }


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: identities and URLs are made locally."""

    def refuse(*args: Any) -> None:
        raise AssertionError(f"network call to {args[1:]}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def cached(**options: Any) -> CachedStorage:
    from storages.backends.s3 import S3Storage

    return CachedStorage(storage=S3Storage(**{**BASE, **options}))


def expires_within(seconds: int) -> Callable[[str], bool]:
    """The URL's CloudFront ``Expires`` (epoch seconds) is at most ``seconds`` away."""

    def check(url: str) -> bool:
        expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
        return expires <= time.time() + seconds

    return check


def has(text: str) -> Callable[[str], bool]:
    return lambda url: text in url


#: (what differs, the first storage's settings, the second's, what only the second's URL
#: shows, presigns per URL): the second storage's first URL is its own, never the first's.
DIFFERENT = [
    ("expiry", {"querystring_expire": 604800}, {"querystring_expire": 900}, "X-Amz-Expires=900", 1),
    (
        "access key",
        {"access_key": "AKIAADMIN0000000", "secret_key": "admin-secret"},
        {"access_key": "AKIALIMITED00000", "secret_key": "limited-secret"},
        "Credential=AKIALIMITED00000",
        1,
    ),
    ("signature", {}, {"signature_version": "s3"}, "AWSAccessKeyId=", 1),
    (
        "addressing",
        {"addressing_style": "path"},
        {"addressing_style": "virtual"},
        "https://media.s3.amazonaws.com/",
        1,
    ),
    ("region", {}, {"region_name": "eu-west-1"}, "%2Feu-west-1%2F", 1),
    ("ssl", {}, {"use_ssl": False}, "http://", 1),
    ("signed", {"querystring_auth": False}, {}, "X-Amz-Signature=", 1),
    (
        "cdn signer",
        {"custom_domain": "cdn.example.com"},
        cloudfront("K2JCJMDEHXQW5F", 1),
        "Key-Pair-Id=K2JCJMDEHXQW5F",
        0,
    ),
    ("cdn key", cloudfront("KAAAAAAAAAAAA1", 1), cloudfront("KBBBBBBBBBBBB2", 2), "KBBBB", 0),
    (
        "cdn expiry",
        {**cloudfront("KAAAAAAAAAAAA1", 1), "querystring_expire": 604800},
        {**cloudfront("KAAAAAAAAAAAA1", 1), "querystring_expire": 900},
        expires_within(900),
        0,
    ),
]


@pytest.mark.parametrize(
    ("first", "second", "shows", "presigns"),
    [case[1:] for case in DIFFERENT],
    ids=[str(case[0]) for case in DIFFERENT],
)
def test_storages_that_answer_differently_share_no_url(
    offline: None, first: dict[str, Any], second: dict[str, Any], shows: Any, presigns: int
) -> None:
    mark = has(shows) if isinstance(shows, str) else shows
    one, two = cached(**first), cached(**second)
    assert one.core.keys.url("a.jpg") != two.core.keys.url("a.jpg")
    assert one.core.keys.record("a.jpg") != two.core.keys.record("a.jpg")
    signed = {"GetObject": 1} if presigns else {}
    with count_calls() as calls:
        url_one = one.url("a.jpg")
    assert (calls.presigned, calls.storage) == (signed, {"url": 1})
    assert not mark(url_one)
    with count_calls() as calls:
        url_two = two.url("a.jpg")
    # Made by the second storage itself, not the first one's memoized URL.
    assert (calls.presigned, calls.storage) == (signed, {"url": 1})
    assert url_two != url_one
    assert mark(url_two)
    with count_calls() as calls:
        assert two.url("a.jpg") == url_two
        assert one.url("a.jpg") == url_one
    assert (calls.presigned, calls.storage) == ({}, {})


def test_limited_credentials_probe_for_themselves(s3: Any) -> None:
    """Facts cached by one principal are not another's: its own probe, its own answer."""
    admin = cached(access_key="AKIAADMIN0000000", secret_key="admin-secret")
    limited = cached(access_key="AKIALIMITED00000", secret_key="limited-secret")
    with count_calls() as calls:
        admin.save("a.jpg", ContentFile(image_bytes((30, 20))))
        assert admin.exists("a.jpg") is True
    assert calls.s3 == {"PutObject": 1}
    with count_calls() as calls:
        assert limited.exists("a.jpg") is True
        assert limited.image_dimensions("a.jpg") == (30, 20)
    assert calls.s3 == {"GetObject": 1}


def test_the_same_configuration_shares_as_instance_or_dict(s3: Any) -> None:
    from storages.backends.s3 import S3Storage

    options = {**BASE, **cloudfront("K2JCJMDEHXQW5F", 1), "querystring_expire": 900}
    by_instance = CachedStorage(storage=S3Storage(**options))
    by_dict = CachedStorage(storage={"BACKEND": S3, "OPTIONS": options})
    assert by_instance.core.identity == by_dict.core.identity
    by_instance.save("a.jpg", ContentFile(image_bytes((30, 20))))
    url = by_instance.url("a.jpg")
    with count_calls() as calls:
        assert by_dict.url("a.jpg") == url
        assert by_dict.image_dimensions("a.jpg") == (30, 20)
    assert (calls.s3, calls.presigned, calls.storage) == ({}, {}, {})


def test_read_parameters_are_part_of_the_identity(offline: None) -> None:
    """SSE-C: a storage with another customer key cannot read the object at all."""
    one = cached(object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32})
    two = cached(object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "x" * 32})
    acl = cached(object_parameters={"CacheControl": "max-age=60"})  # a write parameter only
    assert len({one.core.identity, two.core.identity, cached().core.identity}) == 3
    assert acl.core.identity == cached().core.identity


def test_no_secret_is_part_of_an_identity(offline: None) -> None:
    storage = cached(
        access_key="AKIAADMIN0000000",
        secret_key="admin-secret",
        object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
        **cloudfront("K2JCJMDEHXQW5F", 1),
    )
    identity = storage.core.identity
    pem_body = "".join(private_key(1).splitlines()[1:-1])
    for secret in ("admin-secret", "AKIAADMIN0000000", "k" * 32, pem_body[:40], pem_body[-40:]):
        assert secret not in identity
    assert "K2JCJMDEHXQW5F" in identity  # a key id is public: it is in every signed URL


def test_a_cloudfront_key_is_known_by_its_public_half(offline: None) -> None:
    from cryptography.hazmat.primitives import serialization

    one = cached(**cloudfront("KSAME0000000001", 1))
    two = cached(**cloudfront("KSAME0000000001", 2))
    assert one.core.identity != two.core.identity
    public = serialization.load_pem_private_key(private_key(1).encode(), None).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert f"cloudfront=KSAME0000000001:{digest(der)}|" in one.core.identity


@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Any) -> Path:
    """No credentials in the settings or the environment; the shared files in ``tmp_path``."""
    del settings.AWS_ACCESS_KEY_ID
    del settings.AWS_SECRET_ACCESS_KEY
    for name in (
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    return tmp_path


def test_profiles_are_told_apart_by_their_key(offline: None, no_aws_env: Path) -> None:
    (no_aws_env / "credentials").write_text(
        "[admin]\naws_access_key_id = AKIAADMIN0000000\naws_secret_access_key = a\n"
        "[limited]\naws_access_key_id = AKIALIMITED00000\naws_secret_access_key = b\n"
    )
    (no_aws_env / "config").write_text("[profile deploy]\nrole_arn = arn:aws:iam::1:role/d\n")
    admin, limited = cached(session_profile="admin"), cached(session_profile="limited")
    assert admin.core.identity != limited.core.identity
    assert "AKIA" not in admin.core.identity + limited.core.identity
    url = admin.url("a.jpg")
    with count_calls() as calls:
        assert "Credential=AKIALIMITED00000" in limited.url("a.jpg") != url
    assert calls.presigned == {"GetObject": 1}
    # A profile that assumes a role is known by the role; AWS_PROFILE is read as boto3 reads it.
    assert "credentials=profile:deploy:" in cached(session_profile="deploy").core.identity
    no_profile = cached()
    assert "credentials=chain" in no_profile.core.identity


def test_the_environment_profile_is_the_named_one(
    offline: None, no_aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (no_aws_env / "credentials").write_text(
        "[limited]\naws_access_key_id = AKIALIMITED00000\naws_secret_access_key = b\n"
    )
    named = cached(session_profile="limited").core.identity
    monkeypatch.setenv("AWS_PROFILE", "limited")
    assert cached().core.identity == named


def test_the_identity_needs_no_network(offline: None, no_aws_env: Path, settings: Any) -> None:
    """Credentials boto3 would fetch (an instance role) are left to boto3: no call here."""
    from storages.backends.s3 import S3Storage

    del settings.AWS_S3_REGION_NAME
    storage = CachedStorage(storage=S3Storage(bucket_name="media"))
    assert "credentials=chain" in storage.core.identity
    assert storage.core.keys.record("a.jpg").startswith("ik:")
