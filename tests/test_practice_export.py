"""Exports: JSON that loads back as the same items, CSV that Anki imports."""

from __future__ import annotations

import csv
import io
import json

from assistant.practice.export import export_anki_csv, export_json
from assistant.practice.items import PracticeItem
from tests.fakes import GOOD_MCQ, SOURCE

# What export_json wrote before sources were typed (``SlideRef``): such files must still load, unchanged.
EXPORTED = """[
  {
    "question": "What is the best known way to make models robust to lp attacks?",
    "type": "mcq",
    "options": [
      "Dropout",
      "Adversarial training",
      "Weight decay",
      "Early stopping"
    ],
    "answer": "Adversarial training",
    "explanation": "Adversarial training is the best way we know of to robustify models to lp attacks.",
    "source": [
      {
        "id": "deck#31",
        "title": "Adversarial training (AT)",
        "deck": "Lecture 24",
        "slide": 31
      }
    ]
  }
]
"""


def test_an_earlier_export_loads_and_exports_the_same(tmp_path):
    items = [PracticeItem.from_dict(d) for d in json.loads(EXPORTED)]
    assert items[0].source == SOURCE and items[0].key_index == 1
    export_json(items, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == EXPORTED


def test_exports_round_trip(tmp_path):
    items = [GOOD_MCQ, PracticeItem('A "quoted", comma statement.', "tf", ["True", "False"], "True", "E,\nx.", SOURCE)]
    export_json(items, tmp_path / "set.json")
    assert [PracticeItem.from_dict(d) for d in json.loads((tmp_path / "set.json").read_text())] == items
    export_anki_csv(items, tmp_path / "set.csv")
    text = (tmp_path / "set.csv").read_text()
    rows = list(csv.reader(io.StringIO("\n".join(ln for ln in text.split("\n") if not ln.startswith("#")))))
    assert len(rows) == 2 and all(len(r) == 2 for r in rows)
    front, back = rows[0]
    assert front.startswith(GOOD_MCQ.question) and "\nA. " in front and "\nD. " in front
    assert f"{'ABCD'[GOOD_MCQ.key_index]}. Adversarial training" in back
    assert "Source: Lecture 24, slide 31: Adversarial training (AT)" in back
    assert rows[1][0] == 'True or false: A "quoted", comma statement.'
