"""MkDocs hook: fail the build when a page still shows a pymdownx snippet marker.

A marker that the snippets extension did not expand (for example one that a formatter
rewrote from ``--8<--`` to ``--8 < --``) renders as literal text in a code block, and
``mkdocs build --strict`` does not notice; this hook does.
"""

from __future__ import annotations

import html
import re

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"-{2}8\s*<\s*-{2}")
TAG = re.compile(r"<[^>]+>")


def on_post_page(output: str, page, config) -> str:
    text = html.unescape(TAG.sub("", output))
    found = MARKER.search(text)
    if found:
        context = text[found.start() : found.start() + 100].splitlines()[0]
        raise PluginError(f"{page.file.src_path}: unexpanded snippet marker in the built page: {context!r}")
    return output
