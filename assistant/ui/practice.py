"""The Practice tab: generate checked questions from the slides, answer them one at a time, see the score.

The handlers are plain functions over a quiz dict kept in a ``gr.State`` (``PracticeHandlers``), so
tests drive them exactly as the browser does; ``practice_tab`` only wires them to components. Every
handler returns the whole question area (``VIEW``), rendered from the quiz alone, so what the page
shows never depends on which button was pressed before.

Question, options, explanation, key and the student's answer are untrusted (model output and typing)
and pass through ``ui.html.text`` before any markdown sees them. Radio labels are escaped by gradio itself
(Svelte text nodes), so they get the raw option text; escaping them again would show ``&lt;``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.engines.factory import LOCAL_ENGINES
from assistant.errors import AssistantError
from assistant.practice.grading import grade
from assistant.practice.items import PracticeItem
from assistant.practice.sets import generate_set
from assistant.practice.slides import sections
from assistant.study.hints import hints
from assistant.study.store import draw_set
from assistant.ui.html import LATEX, text
from assistant.ui.practice_view import START, VIEW, Quiz, copy_quiz, new_quiz, render, skip, update

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant
    from assistant.config import Settings
    from assistant.study.questionlog import QuestionLog
    from assistant.study.review import Study

log = logging.getLogger(__name__)

ANY = "— any —"
TYPES = [("Multiple choice", "mcq"), ("True or false", "tf"), ("Short answer", "short")]
MAX_QUESTIONS, DEFAULT_QUESTIONS = 10, 5
MAX_TOPIC_CHARS = 200
MAX_SEEN = 100  # questions remembered per session so that a new set avoids them
TICK = 1.0  # seconds between status updates while a question is being written
GENERIC_ERROR = "Sorry, something went wrong while writing the questions. Please try again."
CHECK_ERROR = "Sorry, something went wrong while checking your answer. Please try again."


def _status(done: int, total: int, started: float) -> str:
    writing = min(done + 1, total)
    return f"Writing question {writing} of {total}… ({time.monotonic() - started:.0f} s so far)"


# --- the handlers --------------------------------------------------------------------------------------------------


class PracticeHandlers:
    """The tab's events as plain functions of their inputs; ``practice_tab`` wires them to components."""

    def __init__(
        self, assistant: Assistant, study: Study | None = None, question_log: QuestionLog | None = None
    ) -> None:
        self.assistant = assistant
        self.study = study  # None: no question bank (its database could not be opened); sets are written
        self.question_log = question_log  # when staff log the class: every answer to a bank item, anonymously

    def generate(
        self,
        section: str | None,
        topic: str | None,
        qtype: str | None,
        number: float | None,
        model: str | None,
        seen: list[str] | None,
        name: str | None = None,
    ) -> Iterator[tuple]:
        """Draw a set from the bank, writing what it lacks in a worker thread with progress shown; yields
        (status, seen, button, *VIEW)."""
        seen = list(seen or [])
        topic = " ".join((topic or "").split())[:MAX_TOPIC_CHARS]
        wanted = dict(TYPES).get(qtype or "", qtype or "mcq")
        n = max(1, min(MAX_QUESTIONS, int(number or DEFAULT_QUESTIONS)))
        kwargs = {
            "section": None if topic or section in (None, "", ANY) else section,
            "topic": topic or None,
            "n": n,
            "qtype": wanted,
            "model": model or None,
            "seen": seen,
        }
        keep = (skip(),) * len(VIEW)  # the current quiz stays until the new one is ready
        started = time.monotonic()
        yield _status(0, n, started), skip(), update(interactive=False), *keep
        events: queue.Queue = queue.Queue()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                progress = lambda done, total, _line: events.put((done, total))  # noqa: E731
                if self.study is None:
                    outcome["set"] = generate_set(self.assistant, progress=progress, **kwargs)
                    return
                student = self.study.student(name) if (name or "").strip() else None
                outcome["set"], outcome["drawn"] = draw_set(
                    self.assistant, self.study, student=student, progress=progress, **kwargs
                )
            except Exception as err:  # noqa: BLE001 - handed to the handler, which reports it
                outcome["error"] = err
            finally:
                events.put(None)

        threading.Thread(target=work, daemon=True, name="practice-generate").start()
        done = 0
        while True:
            try:
                event = events.get(timeout=TICK)
            except queue.Empty:
                event = ()
            if event is None:
                break
            if event:
                done = event[0]
            yield _status(done, n, started), skip(), skip(), *keep
        error = outcome.get("error")
        if isinstance(error, AssistantError):
            yield text(error), seen, update(interactive=True), *keep
            return
        if error is not None or "set" not in outcome:
            log.error("generating practice questions (%s) failed", kwargs, exc_info=error)
            yield GENERIC_ERROR, seen, update(interactive=True), *keep
            return
        result = outcome["set"]
        message = f"{text(result.message)} ({time.monotonic() - started:.0f} s)"
        if not result.items:
            yield message, seen, update(interactive=True), *keep
            return
        seen = (seen + [i.question for i in result.items])[-MAX_SEEN:]
        drawn = outcome.get("drawn")
        quiz = new_quiz(
            [i.to_dict() for i in result.items],
            [b.id for b in drawn] if drawn else None,
            [self.hint_steps(i) for i in result.items],
        )
        yield message, seen, update(interactive=True), *render(quiz)

    def hint_steps(self, item: PracticeItem) -> list[str]:
        """The item's three hints as lines, from its slide as indexed now."""
        slide_id = item.source[0].slide_id if item.source else ""
        chunk = next((c for c in self.assistant.index.chunks if c.slide_id == slide_id), None)
        return [f"{h.title}: {h.text}" for h in hints(item, chunk)]

    @staticmethod
    def hint(quiz: Quiz | None) -> tuple:
        """One more hint on the current question (at most its three)."""
        if not quiz or not quiz.get("items") or quiz["index"] >= len(quiz["items"]):
            return render(quiz)
        quiz = copy_quiz(quiz)
        index = quiz["index"]
        quiz["hints"][index] = min(quiz["hints"][index] + 1, len(quiz["hint_steps"][index]))
        return render(quiz)

    def check(self, quiz: Quiz | None, choice: str | None, short: str | None, name: str | None = None) -> tuple:
        """Grade the current question once; the answer locks and the key, explanation and source appear.

        With a student's name and a bank item, the answer is recorded and the item rescheduled."""
        if not quiz or not quiz.get("items") or quiz["index"] >= len(quiz["items"]):
            return render(quiz)
        index = quiz["index"]
        if quiz["grades"][index]:
            return render(quiz)
        item = PracticeItem.from_dict(quiz["items"][index])
        response = (short if item.type == "short" else choice) or ""
        if not response.strip():
            return render(quiz, "Type your answer first." if item.type == "short" else "Choose an answer first.")
        try:
            graded = grade(item, response, self.assistant).to_dict()
        except AssistantError as err:
            return render(quiz, text(err))
        except Exception:  # a bug: keep the traceback in the log, not on the page
            log.exception("grading %r failed", item.question[:200])
            return render(quiz, CHECK_ERROR)
        quiz = copy_quiz(quiz)
        quiz["responses"][index], quiz["grades"][index] = response, graded
        item_id = (quiz.get("ids") or [None] * len(quiz["items"]))[index]
        right = graded["verdict"] == "correct"
        try:
            if self.question_log is not None and item_id is not None:
                self.question_log.record_practice(item_id, response, right)
            if self.study is not None and item_id is not None and (name or "").strip():
                self.study.record(self.study.student(name), item_id, response, right)
        except AssistantError as err:  # the grade still shows; only the record is missing
            return render(quiz, text(err))
        return render(quiz)

    @staticmethod
    def next(quiz: Quiz | None) -> tuple:
        """The next question (an unanswered one counts as skipped), or the score after the last."""
        if not quiz or not quiz.get("items"):
            return render(None)
        return render({**copy_quiz(quiz), "index": min(quiz["index"] + 1, len(quiz["items"]))})

    @staticmethod
    def retake(quiz: Quiz | None) -> tuple:
        """The same questions from the first, with the score reset."""
        return render(new_quiz(quiz["items"]) if quiz and quiz.get("items") else None)

    @staticmethod
    def new_set() -> tuple:
        """Back to the empty tab, ready for Generate (the questions seen so far are still avoided)."""
        return "", *render(None)


# --- the tab -------------------------------------------------------------------------------------------------------


def progress_view(study: Study | None, name: str | None) -> tuple[dict, str]:
    """The review button ("Review (n due)") and the per-section mastery table for the student ``name``."""
    if study is None or not (name or "").strip():
        return update(value="Review", interactive=False), ""
    try:
        student = study.student(name)
        due, rows = len(study.due(student)), study.mastery(student)
    except AssistantError as err:
        return update(value="Review", interactive=False), text(err)
    table = ["| Section | Items | Answered | Right | Due |", "|---|---|---|---|---|"]
    table += [f"| {text(m.section)} | {m.items} | {m.answered} | {m.correct} | {m.due} |" for m in rows]
    return update(value=f"Review ({due} due)", interactive=due > 0), "\n".join(table)


def review_set(study: Study | None, handlers: PracticeHandlers, name: str | None) -> tuple:
    """A quiz of the items due for review for ``name``: (status, *VIEW)."""
    if study is None or not (name or "").strip():
        return "Type your name first: reviews are kept per student.", *render(None)
    try:
        due = study.due(study.student(name))[:MAX_QUESTIONS]
    except AssistantError as err:
        return text(err), *render(None)
    if not due:
        return "Nothing is due for review now.", *render(None)
    items = [b.item for b in due]
    quiz = new_quiz([i.to_dict() for i in items], [b.id for b in due], [handlers.hint_steps(i) for i in items])
    return f"{len(due)} question(s) to review.", *render(quiz)


def practice_tab(
    assistant: Assistant, settings: Settings, study: Study | None = None, question_log: QuestionLog | None = None
) -> None:
    """Controls on the left, one question at a time on the right."""
    import gradio as gr

    from assistant.weights import CHAT_MODELS

    models = list(CHAT_MODELS)
    if settings.model not in models:
        models.append(settings.model)
    handlers = PracticeHandlers(assistant, study, question_log)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            name = gr.Textbox(
                label="Your name",
                placeholder="keeps your answers and what to review (no password)",
                max_lines=1,
                max_length=60,
                elem_id="practice-name",
            )
            section = gr.Dropdown(
                [ANY, *sections(assistant.index.chunks)], value=ANY, label="Section", elem_id="practice-section"
            )
            topic = gr.Textbox(
                label="Topic",
                placeholder="e.g. adversarial training (used instead of the section)",
                max_lines=1,
                elem_id="practice-topic",
            )
            qtype = gr.Radio(TYPES, value="mcq", label="Type", elem_id="practice-type")
            number = gr.Slider(
                1,
                MAX_QUESTIONS,
                value=DEFAULT_QUESTIONS,
                step=1,
                label="Number of questions",
                elem_id="practice-number",
            )
            model = gr.Dropdown(
                models,
                value=settings.model,
                label="Model",
                interactive=settings.engine in LOCAL_ENGINES,
                info="qwen2.5-coder-0.5b writes faster; 1.5b writes better questions",
                elem_id="practice-model",
            )
            generate = gr.Button("Generate", variant="primary", elem_id="practice-generate")
            review = gr.Button("Review", interactive=False, elem_id="practice-review")
            status = gr.Markdown("", elem_id="practice-status")
            mastery = gr.Markdown("", elem_id="practice-mastery")
        with gr.Column(scale=3, min_width=360):
            question = gr.Markdown(START, elem_id="practice-question", latex_delimiters=LATEX)
            choice = gr.Radio([], label="Your answer", visible=False, elem_id="practice-choice")
            short = gr.Textbox(
                label="Your answer",
                placeholder="A sentence is enough",
                lines=2,
                visible=False,
                elem_id="practice-short",
            )
            with gr.Row():
                check = gr.Button("Check answer", variant="primary", visible=False, elem_id="practice-check")
                hint = gr.Button("Hint", visible=False, elem_id="practice-hint")
                next_ = gr.Button("Next question", visible=False, elem_id="practice-next")
            feedback = gr.Markdown("", elem_id="practice-feedback", latex_delimiters=LATEX)
            with gr.Row():
                retake = gr.Button("Retake", visible=False, elem_id="practice-retake")
                new_set = gr.Button("New set", visible=False, elem_id="practice-new")
    quiz, seen = gr.State(None), gr.State([])
    view = [quiz, question, choice, short, check, next_, feedback, retake, new_set, hint]
    generate.click(
        handlers.generate,
        inputs=[section, topic, qtype, number, model, seen, name],
        outputs=[status, seen, generate, *view],
        api_name="practice_generate",
        show_progress="minimal",
        show_progress_on=[status],
    )
    show_progress = lambda who: progress_view(study, who)  # noqa: E731
    check.click(handlers.check, inputs=[quiz, choice, short, name], outputs=view, api_name="practice_check").then(
        show_progress, inputs=[name], outputs=[review, mastery], queue=False, api_visibility="private"
    )
    name.submit(show_progress, inputs=[name], outputs=[review, mastery], queue=False, api_name="practice_progress")
    name.blur(show_progress, inputs=[name], outputs=[review, mastery], queue=False, api_visibility="private")
    review.click(
        lambda who: review_set(study, handlers, who), inputs=[name], outputs=[status, *view], api_name="practice_review"
    )
    hint.click(handlers.hint, inputs=[quiz], outputs=view, queue=False, api_name="practice_hint")
    next_.click(handlers.next, inputs=[quiz], outputs=view, queue=False, api_visibility="private")
    retake.click(handlers.retake, inputs=[quiz], outputs=view, queue=False, api_visibility="private")
    new_set.click(handlers.new_set, outputs=[status, *view], queue=False, api_visibility="private")
