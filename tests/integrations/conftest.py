"""Fixtures for the thumbnail-library tests."""

from __future__ import annotations

import functools

import botocore.loaders
import botocore.session
import pytest

_shared_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)


@pytest.fixture(autouse=True)
def _one_botocore_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every boto3 session made by these tests shares one botocore data loader.

    Each simulated new process builds its storages afresh, and each new
    ``S3Storage`` makes a boto3 session that would parse S3's service model
    again (about 0.2 s). The model is read-only data: sharing it changes no
    S3 call, only the time these tests take (about 40 s without, 18 s with).
    """
    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)
