"""Sphinx configuration: the Markdown pages of ``docs/``, read by MyST, in the Furo theme.

Built with warnings as errors and nitpicky references (``python3 dev.py docs``,
``tests/test_docs.py``), so a broken cross-reference or heading anchor fails
the build instead of shipping a dead link.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ikstorage  # noqa: E402  (after the path: the docs build from a checkout)

project = "ikstorage"
author = "ikstorage contributors"
copyright = "ikstorage contributors"
release = ikstorage.__version__
version = release

extensions = ["myst_parser"]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Warnings are errors in CI; references are checked strictly.
nitpicky = True
# Links to headings (`page.md#a-heading`) resolve for levels 1 to 3; a link to
# a heading that does not exist is a warning, hence an error.
myst_heading_anchors = 3
# Fences without a language are output, not code.
highlight_language = "text"

html_theme = "furo"
html_title = f"ikstorage {release}"
html_static_path: list[str] = []
