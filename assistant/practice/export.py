"""A practice set's items as files: JSON (read back by ``PracticeItem.from_dict``) and CSV for Anki."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from assistant.practice.items import PracticeItem, answer_text, cite, front_text
from assistant.storage import atomic_write_text


def export_json(items: Sequence[PracticeItem], path: Path) -> None:
    """The items as a JSON list (``PracticeItem.from_dict`` reads them back)."""
    atomic_write_text(Path(path), json.dumps([i.to_dict() for i in items], indent=2, ensure_ascii=False) + "\n")


def export_anki_csv(items: Sequence[PracticeItem], path: Path) -> None:
    """Front/back CSV for Anki's importer; the header lines tell Anki the separator and that text is plain."""
    out = io.StringIO()
    out.write("#separator:comma\n#html:false\n#columns:Front,Back\n")
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    for item in items:
        back = f"{answer_text(item)}\n\n{item.explanation}\n\nSource: {cite(item.source)}"
        writer.writerow([front_text(item), back])
    atomic_write_text(Path(path), out.getvalue())
