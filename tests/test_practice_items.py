"""Items as data and as a student reads them: the JSON of an item, the terminal quiz."""

from __future__ import annotations

from assistant.practice.grading import run_terminal_quiz
from assistant.practice.items import PracticeItem, PracticeSet, SlideRef
from tests.fakes import GOOD_MCQ, SOURCE

JSON_SOURCE = [{"id": "deck#31", "title": "Adversarial training (AT)", "deck": "Lecture 24", "slide": 31}]


def test_an_item_keeps_its_json_form_with_a_typed_source():
    data = GOOD_MCQ.to_dict()
    assert list(data) == ["question", "type", "options", "answer", "explanation", "source"]
    assert data["source"] == JSON_SOURCE and list(data["source"][0]) == ["id", "title", "deck", "slide"]
    assert PracticeItem.from_dict(data) == GOOD_MCQ and GOOD_MCQ.source == [SlideRef.from_dict(JSON_SOURCE[0])]
    assert SOURCE[0].slide_id == "deck#31" and SOURCE[0].slide == 31
    practice = PracticeSet([GOOD_MCQ], requested=1, qtype="mcq", scope="test", model="m").to_dict()
    assert practice == {
        "items": [data],
        "requested": 1,
        "qtype": "mcq",
        "scope": "test",
        "model": "m",
        "rejections": {},
        "attempts": 0,
        "first_try_accepted": 0,
        "repaired": 0,
        "seconds_per_accepted": [],
        "barren": [],
        "message": "",
    }


def test_terminal_quiz_scores_and_shows_the_source():
    tf = PracticeItem("AT can reduce clean accuracy.", "tf", ["True", "False"], "True", "By 10%+.", SOURCE)
    practice = PracticeSet([GOOD_MCQ, tf], requested=2, qtype="mcq", scope="test")
    answers = iter(["ABCD"[GOOD_MCQ.key_index], "false"])
    printed: list[str] = []
    score = run_terminal_quiz(practice, input_fn=lambda _prompt: next(answers), print_fn=printed.append)
    assert score == 1.0
    out = "\n".join(printed)
    assert "Correct" in out and "Incorrect" in out and "Score: 1 / 2" in out
    assert "Source: Lecture 24, slide 31: Adversarial training (AT)" in out


def test_terminal_quiz_stops_on_end_of_input():
    def eof(_prompt: str) -> str:
        raise EOFError

    printed: list[str] = []
    practice = PracticeSet([GOOD_MCQ], requested=1, qtype="mcq", scope="test")
    assert run_terminal_quiz(practice, input_fn=eof, print_fn=printed.append) == 0.0
    assert "Quiz stopped." in "\n".join(printed)
