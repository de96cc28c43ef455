"""Which renditions may share one ``srcset``, and the warning given when some may not.

A browser picks one candidate of a ``srcset`` by width alone and shows it in
the box the ``<img>``'s ``width``/``height`` reserve, so every candidate of one
``srcset`` must be the same picture at another size: the same aspect ratio. A
``fill`` thumbnail and a ``fit`` large image have the same ratio only when the
source happens to have the thumbnail's, so which specs go together is known
per image, from the sizes in its record. The first spec named decides (it is
the ``<img>``); a spec of another ratio is left out of that image's markup
and a :class:`~ikstorage.exceptions.MarkupWarning` names the specs, once per
set of specs in a process (a page of a hundred portrait photos warns once).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Hashable, Sequence

from ikstorage.exceptions import MarkupWarning
from ikstorage.renditions.shown import Rendition

__all__ = ["same_shape", "warn_once"]

_warned: set[Hashable] = set()
_lock = threading.Lock()


def same_shape(a: Rendition, b: Rendition) -> bool:
    """True when ``a`` and ``b`` have one aspect ratio, give or take a pixel of rounding.

    The smaller one is compared with the larger's ratio: its height from its
    width, or its width from its height, within 1 px (renditions round each
    side to whole pixels, and the smaller one rounds the most). A rendition of
    unknown size matches nothing but itself.
    """
    if a.url == b.url:
        return True
    if not (a.width and a.height and b.width and b.height):
        return False
    (sw, sh), (lw, lh) = sorted([(a.width, a.height), (b.width, b.height)])
    return abs(sh - sw * lh / lw) <= 1 or abs(sw - sh * lw / lh) <= 1


def warn_once(key: Sequence[str], message: str) -> None:
    """``warnings.warn(message, MarkupWarning)`` the first time ``key`` is seen in this process."""
    with _lock:
        if tuple(key) in _warned:
            return
        _warned.add(tuple(key))
    warnings.warn(message, MarkupWarning, stacklevel=3)


def forget_warnings() -> None:
    """Warn again for keys already warned about (for tests)."""
    with _lock:
        _warned.clear()
