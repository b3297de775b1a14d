"""A practice set's items as files: JSON (read back by ``PracticeItem.from_dict``), CSV and an ``.apkg`` for Anki."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path

from assistant.practice.items import PracticeItem, answer_text, cite, front_text
from assistant.storage import atomic_path, atomic_write_text


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


# Fixed ids: Anki recognises a re-imported deck and note type by them, so a second export updates the first.
ANKI_MODEL_ID = 1_734_182_240
ANKI_DECK_ID = 1_734_182_241
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$")


def anki_html(text: str) -> str:
    """``text`` as an Anki field: HTML-escaped, line breaks kept, and ``$…$`` / ``$$…$$`` math in the
    ``\\(…\\)`` / ``\\[…\\]`` form Anki's MathJax renders."""
    escaped = html.escape(text, quote=False)
    escaped = _DISPLAY_MATH.sub(lambda m: f"\\[{m.group(1)}\\]", escaped)
    escaped = _INLINE_MATH.sub(lambda m: f"\\({m.group(1)}\\)", escaped)
    return escaped.replace("\n", "<br>")


def export_apkg(items: Sequence[PracticeItem], path: Path, deck_name: str = "Course slides: practice") -> None:
    """An Anki package (``.apkg``): one note per item, the answer, explanation and source slide on the back."""
    import genanki

    model = genanki.Model(
        ANKI_MODEL_ID,
        "Study assistant practice item",
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Explanation"}, {"name": "Source"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Question}}",
                "afmt": '{{FrontSide}}<hr id="answer"><b>{{Answer}}</b><br><br>{{Explanation}}'
                "<br><br><small>{{Source}}</small>",
            }
        ],
    )
    deck = genanki.Deck(ANKI_DECK_ID, deck_name)
    for item in items:
        fields = [front_text(item), answer_text(item), item.explanation, cite(item.source)]
        deck.add_note(
            genanki.Note(
                model=model, fields=[anki_html(f) for f in fields], guid=genanki.guid_for(item.type, item.question)
            )
        )
    path = Path(path)
    with atomic_path(path) as tmp:
        genanki.Package(deck).write_to_file(str(tmp))
