"""Wagtail images: placeholder, filled in below."""

from __future__ import annotations

from benchmarks.peerbench.contender import Contender

CONTENDERS: tuple[Contender, ...] = ()
