"""Tables on slides read as rows: one line per entity, each cell named by its header.

A table is a grid, but retrieval, the prompt and the support check all read lines: a cell on its
own ("hospital") says nothing about which dataset it belongs to. So a table becomes one line per
entity, ``Camelyon17 — Adapted from: Bandi et al. 2018; Domain (d): hospital``. The entities run
along the longer side: a wide table (more columns than rows, like a benchmark overview whose first
column names the attributes) gets a line per column, a long one a line per row.

Tab-separated lines, markdown pipe tables and HTML ``<table>`` markup are recognised here; PPTX
tables reach this as tab-separated lines (``corpus``). PDF text keeps no cell boundaries, so a
PDF table stays as extracted.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SEPARATOR = " — "  # between the entity and its named cells; ``truth`` reads table lines by it
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_TAG = re.compile(r"<[^>]+>")


def _cell(value: str) -> str:
    return " ".join(_TAG.sub(" ", value).split())


def rows_to_lines(rows: list[list[str]]) -> list[str]:
    """A grid (first row and first column are headers) as one line per entity along its longer side."""
    width = max((len(r) for r in rows), default=0)
    grid = [[_cell(c) for c in r] + [""] * (width - len(r)) for r in rows]
    if len(grid) < 2 or width < 2:
        return [" ".join(c for c in r if c) for r in grid]
    if width > len(grid):  # wide: entities are columns, the first column names the attributes
        grid = [list(col) for col in zip(*grid, strict=True)]
    header = grid[0]
    lines = []
    for row in grid[1:]:
        if not row[0]:
            continue
        cells = [f"{name}: {value}" for name, value in zip(header[1:], row[1:], strict=True) if name and value]
        lines.append(f"{row[0]}{SEPARATOR}{'; '.join(cells)}" if cells else row[0])
    return lines


class _HTMLTable(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _html_rows(markup: str) -> list[list[str]]:
    parser = _HTMLTable()
    parser.feed(markup)
    return [r for r in parser.rows if any(c.strip() for c in r)]


def _pipe_row(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def linearize(text: str) -> str:
    """``text`` with every table in it replaced by its lines (``rows_to_lines``); other lines unchanged."""
    text = re.sub(
        r"<table\b.*?</table>",
        lambda m: "\n".join(rows_to_lines(_html_rows(m.group(0)))),
        text,
        flags=re.IGNORECASE | re.DOTALL,
    )
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        if "\t" in lines[i]:
            while j < len(lines) and "\t" in lines[j]:
                j += 1
            rows = [ln.split("\t") for ln in lines[i:j]]
        elif lines[i].strip().startswith("|") and i + 1 < len(lines) and _PIPE_RULE.match(lines[i + 1]):
            j = i + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            rows = [_pipe_row(lines[i])] + [_pipe_row(ln) for ln in lines[i + 2 : j]]
        if j - i >= 2:
            out.extend(rows_to_lines(rows))
            i = j
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def has_table(text: str) -> bool:
    return linearize(text) != text


def table_entity(line: str) -> tuple[str, str] | None:
    """``(entity, cells)`` of a line written by ``rows_to_lines``, else None."""
    if SEPARATOR not in line:
        return None
    entity, cells = line.split(SEPARATOR, 1)
    return (entity.strip(), cells) if ": " in cells else None
