"""The Practice tab's question area as data: the quiz dict, its score, and the markdown and updates shown.

Rendered from the quiz alone, so what the page shows never depends on which button was pressed before.
Untrusted text (model output, the student's typing) passes through ``ui.html.text`` before markdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from assistant.practice.grading import UNSURE
from assistant.practice.items import LETTERS, PracticeItem, answer_text, cite
from assistant.ui.html import text

VERDICTS = {
    "correct": "Correct",
    "partly correct": "Partly correct",
    "incorrect": "Incorrect",
    "unsure": "Not sure — compare with the key",
}
POINTS = {"correct": 1.0, "partly correct": 0.5}
START = (
    "Pick a section (or type a topic), choose the question type and press **Generate**. Questions come from "
    "the course's checked question bank at once; when it has too few, the local model writes the rest from "
    "the slides and checks each before you see it (about half a minute a question)."
)
# {"items": [PracticeItem dicts], "index": int, "responses": [...], "grades": [...],
#  "ids": [bank id or None], "hint_steps": [[str, str, str]], "hints": [steps shown]}
Quiz = dict[str, Any]


@dataclass
class PracticeView:
    """The question area every quiz handler returns: the quiz and one value or update per component."""

    quiz: Quiz | None
    question: str
    choice: dict
    short: dict
    check: dict
    next: dict
    feedback: str
    retake: dict
    new_set: dict
    hint: dict

    def outputs(self) -> tuple:
        """The values in ``VIEW`` order, the order of the handlers' outputs."""
        return tuple(getattr(self, name) for name in VIEW)


VIEW = tuple(f.name for f in fields(PracticeView))  # the outputs of every quiz handler, in this order


def update(**props: Any) -> dict:
    import gradio as gr

    return gr.update(**props)


def skip() -> dict:
    import gradio as gr

    return gr.skip()


# --- the quiz as data ----------------------------------------------------------------------------------------------


def new_quiz(
    items: Sequence[dict], ids: Sequence[int | None] | None = None, hint_steps: Sequence[list[str]] | None = None
) -> Quiz:
    """A fresh attempt at ``items`` (dicts from ``PracticeItem.to_dict``): first question, nothing answered.

    ``ids`` are the items' ids in the question bank (answers are recorded against them), ``hint_steps``
    each item's three hints."""
    n = len(items)
    return {
        "items": [dict(i) for i in items],
        "index": 0,
        "responses": [None] * n,
        "grades": [None] * n,
        "ids": list(ids or [None] * n),
        "hint_steps": [list(h) for h in hint_steps or [[]] * n],
        "hints": [0] * n,
    }


def copy_quiz(quiz: Quiz) -> Quiz:
    copied = {**quiz, "responses": list(quiz["responses"]), "grades": list(quiz["grades"])}
    copied["hints"] = list(quiz.get("hints") or [0] * len(quiz["items"]))
    return copied


def hints_markdown(quiz: Quiz, index: int) -> str:
    """The hints asked for so far on question ``index``, each a step closer to the answer."""
    steps = (quiz.get("hint_steps") or [[]] * len(quiz["items"]))[index]
    shown = (quiz.get("hints") or [0] * len(quiz["items"]))[index]
    return "\n\n".join(f"**Hint {n} of {len(steps)}.** {text(step)}" for n, step in enumerate(steps[:shown], 1))


def score(quiz: Quiz | None) -> float:
    """Points so far: 1 per correct answer, 0.5 per partly correct one."""
    return sum(POINTS.get(g["verdict"], 0.0) for g in (quiz or {}).get("grades", []) if g)


def choices_for(item: PracticeItem) -> list[tuple[str, str]]:
    """Radio choices as (label, value): "A. option" -> "A" for MCQ (what ``grade`` parses), True/False for TF."""
    if item.type == "mcq":
        return [(f"{LETTERS[i]}. {option}", LETTERS[i]) for i, option in enumerate(item.options)]
    return [(option, option) for option in item.options]


def question_markdown(item: PracticeItem, number: int, total: int) -> str:
    parts = [f"#### Question {number} of {total}"]
    parts.append(f"True or false: {text(item.question)}" if item.type == "tf" else text(item.question))
    if item.type == "mcq":
        parts += [f"**{LETTERS[i]}.** {text(option)}" for i, option in enumerate(item.options)]
    return "\n\n".join(parts)


def feedback_markdown(item: PracticeItem, graded: dict) -> str:
    """The verdict, why, the key, the explanation and the slide to look it up on."""
    parts = [f"### {VERDICTS.get(graded['verdict'], text(graded['verdict']))}"]
    reason = graded.get("reason") or ""
    key = graded.get("key") or ""
    if reason and reason != UNSURE and not (key and key in reason):  # "the answer is B. …" repeats the key
        parts.append(text(reason[:1].upper() + reason[1:]) + ".")
    parts.append(f"**Answer:** {text(answer_text(item))}")
    if item.explanation:
        parts.append(f"**Why:** {text(item.explanation)}")
    if item.source:
        parts.append(f"**Source:** {text(cite(item.source))}")
    return "\n\n".join(parts)


def score_markdown(quiz: Quiz) -> str:
    """The score and one line per question, shown after the last one."""
    total = len(quiz["items"])
    lines = [f"### You scored {score(quiz):g} / {total}"]
    for number, (data, graded) in enumerate(zip(quiz["items"], quiz["grades"], strict=True), start=1):
        verdict = VERDICTS[graded["verdict"]].split(" —")[0] if graded else "Skipped"
        lines.append(f"{number}. **{verdict}**: {text(data['question'])}")
    return "\n".join(lines[:1] + [""] + lines[1:])


def render(quiz: Quiz | None, note: str = "") -> tuple:
    """The question area for ``quiz`` (outputs in ``VIEW`` order); ``note`` is an escaped line for the feedback."""
    hidden = update(visible=False)
    items = (quiz or {}).get("items") or []
    if not items:
        return PracticeView(
            quiz=None,
            question=START,
            choice=update(visible=False, choices=[], value=None),
            short=update(visible=False, value=""),
            check=hidden,
            next=hidden,
            feedback=note,
            retake=hidden,
            new_set=hidden,
            hint=hidden,
        ).outputs()
    index, total = quiz["index"], len(items)
    if index >= total:
        return PracticeView(
            quiz=quiz,
            question=score_markdown(quiz),
            choice=update(visible=False),
            short=update(visible=False),
            check=hidden,
            next=hidden,
            feedback=note,
            retake=update(visible=True),
            new_set=update(visible=True),
            hint=hidden,
        ).outputs()
    item = PracticeItem.from_dict(items[index])
    graded, response = quiz["grades"][index], quiz["responses"][index]
    short = item.type == "short"
    open_ = graded is None
    steps = (quiz.get("hint_steps") or [[]] * total)[index]
    shown = (quiz.get("hints") or [0] * total)[index]
    return PracticeView(
        quiz=quiz,
        question=question_markdown(item, index + 1, total),
        choice=update(
            visible=not short, choices=choices_for(item), value=None if short else response, interactive=open_
        ),
        short=update(visible=short, value=(response or "") if short else "", interactive=open_),
        check=update(visible=True, interactive=open_),
        next=update(visible=True, value="Next question" if index + 1 < total else "Finish and see my score"),
        feedback=feedback_markdown(item, graded)
        if graded
        else "\n\n".join(filter(None, [hints_markdown(quiz, index), note])),
        retake=hidden,
        new_set=hidden,
        hint=update(visible=open_ and bool(steps), interactive=shown < len(steps)),
    ).outputs()
