"""What the settings' specs should give, worked out independently of ikstorage.

The demo checks ikstorage's renditions against these numbers rather than
against ikstorage's own geometry code, so a bug there cannot check itself.
Renditions are never enlarged (no spec here says ``upscale``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _specs() -> dict[str, Any]:
    specs: dict[str, Any] = settings.STORAGES["default"]["OPTIONS"]["specs"]
    return specs


def spec_box(name: str) -> tuple[int, int]:
    """The ``fill`` or ``fit`` box of spec ``name`` in the settings."""
    spec = _specs()[name]
    width, height = spec.get("fill") or spec["fit"]
    return int(width), int(height)


def renditions_per_photo() -> int:
    """Files each upload writes besides the photo: one per spec and format."""
    return sum(len(spec.get("formats") or [spec.get("format")]) for spec in _specs().values())


def fill_size(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``fill``: the box, or for a smaller source the largest crop of the box's shape."""
    (w, h), (bw, bh) = source, box
    if w >= bw and h >= bh:
        return box
    if w * bh >= h * bw:  # wider than the box: keep the height
        height = min(h, bh)
        return round(height * bw / bh), height
    width = min(w, bw)
    return width, round(width * bh / bw)


def fit_size(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """``fit``: the whole source inside the box, aspect kept."""
    (w, h), (bw, bh) = source, box
    scale = min(1.0, bw / w, bh / h)
    return max(1, round(w * scale)), max(1, round(h * scale))
