"""Untrusted text (model output, slides, what a student typed) made inert for the page, math kept for KaTeX."""

from __future__ import annotations

import html
import re

# Slides and answers carry LaTeX; the delimiters gradio's markdown and chatbot render with KaTeX.
LATEX = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "\\[", "right": "\\]", "display": True},
]
_MATH = re.compile(r"\$\$.+?\$\$|\$(?!\s)[^$\n]+?(?<!\s)\$|\\\(.+?\\\)|\\\[.+?\\\]", re.S)

READING, WRITING = "Reading the slides…", "Writing the answer…"  # the reply's place while it is being made


def _inert(value: str) -> str:
    escaped = html.escape(value, quote=False)  # text nodes only; never put into attributes
    return escaped.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;")


def _math(segment: str) -> str:
    """A math span as KaTeX must read it: tags escaped, braces and dollars kept; no ``${`` template opener."""
    return html.escape(segment, quote=False).replace("`", "&#96;").replace("${", "$ {")


def text(value: object) -> str:
    """``value`` as inert text for markdown or HTML: no tags, and no ``${}``/backticks for gradio's templates.

    Math between LaTeX delimiters keeps its braces and backslashes, so the page renders it."""
    value = str(value)
    out, last = [], 0
    for match in _MATH.finditer(value):
        out += [_inert(value[last : match.start()]), _math(match.group())]
        last = match.end()
    return "".join(out + [_inert(value[last:])])
