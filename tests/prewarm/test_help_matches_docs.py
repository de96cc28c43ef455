"""``ikstorage_prewarm --help`` and the options table of ``docs/prewarm.md`` agree."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management.base import BaseCommand

from ikstorage.management.commands.ikstorage_prewarm import Command

PAGE = Path(__file__).resolve().parents[2] / "docs" / "prewarm.md"
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def help_options(command: BaseCommand) -> set[str]:
    parser = command.create_parser("manage.py", "ikstorage_prewarm")
    return set(OPTION.findall(parser.format_help()))


def documented_options() -> set[str]:
    """The options in the first column of the table under ``## Options``."""
    section = PAGE.read_text().split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {option for row in rows for option in OPTION.findall(row.split("|")[1])}


def test_every_option_of_the_command_is_in_the_table_and_no_other() -> None:
    # Django's own options (--verbosity, --settings...) are documented by Django.
    django_options = help_options(BaseCommand())
    assert help_options(Command()) - django_options - {"--help"} == documented_options()


def test_the_table_says_renditions_are_made_by_default() -> None:
    (row,) = [line for line in PAGE.read_text().splitlines() if line.startswith("| `--renditions`")]
    assert row.split("|")[2].strip() == "on where the storage declares specs"
