#!/usr/bin/env python3
"""Django's command-line utility for the ikstorage example gallery.

Works from any directory: Python puts this file's folder first on
``sys.path``, so ``gallery_project`` and ``gallery`` import the same whether it
is run as ``python example/manage.py`` from the repository root or as
``python manage.py`` from ``example/``.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Set, not setdefault: a DJANGO_SETTINGS_MODULE left in the environment by
    # another project (or a test run) must not hijack this one. ``--settings``
    # still overrides it.
    os.environ["DJANGO_SETTINGS_MODULE"] = "gallery_project.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
