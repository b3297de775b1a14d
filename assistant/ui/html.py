"""Untrusted text (model output, slides, what a student typed) made inert for the page."""

from __future__ import annotations

import html


def text(value: object) -> str:
    """``value`` as inert text for markdown or HTML: no tags, and no ``${}``/backticks for gradio's templates."""
    escaped = html.escape(str(value), quote=False)  # text nodes only; never put into attributes
    return escaped.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;")
