"""Name the line of *your* code that caused a storage or S3 call.

A call is always made deep inside botocore, django-storages, Django's
templates and ikstorage itself; none of those frames tells you which view or
template tag to change. The useful frame is the innermost one outside any
installed library, the standard library and ikstorage.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from functools import cache
from types import FrameType

#: ikstorage's own folder, from this file's place in it rather than by importing
#: the top-level package (this module sits low and imports nothing above it).
_IKSTORAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@cache
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    dirs.add(_IKSTORAGE_DIR)  # a source checkout is not under site-packages
    return tuple(os.path.join(os.path.realpath(d), "") for d in sorted(dirs))


@cache
def _is_library(filename: str) -> bool:
    if filename.startswith("<"):  # <frozen ...>, <string>
        return True
    return os.path.realpath(filename).startswith(_library_dirs())


def _short(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith("..") else relative


def caller(skip: int = 1) -> str:
    """``path:line in function`` of the innermost frame outside the libraries.

    ``skip`` frames (this function's callers inside the profiler) are left out
    before the search starts. Returns ``"<library>"`` if every frame is library
    code, as in a thread started by a library.
    """
    # sys._getframe is the documented cheap way to walk the stack.
    frame: FrameType | None = sys._getframe(skip + 1)
    while frame is not None:
        code = frame.f_code
        if not _is_library(code.co_filename):
            return f"{_short(code.co_filename)}:{frame.f_lineno} in {code.co_name}"
        frame = frame.f_back
    return "<library>"
