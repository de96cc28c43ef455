"""Arguments the ikstorage commands share: where names come from, and counts.

``ikstorage_prewarm`` and ``ikstorage_prune`` read the same names (the
models' file fields, or a walk of a storage under a prefix), so they take
them with the same arguments, worded once here.
"""

from __future__ import annotations

from argparse import ArgumentTypeError

from django.core.management.base import CommandParser

__all__ = ["add_sources", "positive"]


def positive(value: str) -> int:
    """A count of 1 or more; argparse reports anything else with the option's name."""
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"a whole number of 1 or more, not {value!r}") from None
    if number < 1:
        raise ArgumentTypeError(f"a whole number of 1 or more, not {value!r}")
    return number


def add_sources(parser: CommandParser) -> None:
    """The names to work on: file fields (the default: all of them), or ``--prefix``."""
    parser.add_argument(
        "fields",
        nargs="*",
        metavar="app_label.Model[.field]",
        help="File fields to read names from (default: every file field on a CachedStorage).",
    )
    parser.add_argument(
        "--prefix",
        help="Walk the storage under this prefix instead of reading models ('' for all).",
    )
    parser.add_argument(
        "--storage",
        default="default",
        help="STORAGES alias walked with --prefix (default: %(default)s).",
    )
