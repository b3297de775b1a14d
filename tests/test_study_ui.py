"""The study loop in headless Chromium: a student's whole loop, staff retiring an item, math rendered.

The bank is filled through its public API with items made from the real index's slides (the key
is a line of the slide, the wrong options lines of other slides), so no model call is needed and
the test controls which answers are right; the review clock is one the test moves.
"""

from __future__ import annotations

import json
import time

import pytest

from assistant.answering.assistant import Assistant
from assistant.practice.items import PracticeItem, SlideRef
from assistant.practice.slides import focus_lines, usable
from assistant.study.db import StudyDB
from assistant.study.review import Study
from assistant.ui import chat as ui
from tests.fakes import StandInGenerator
from tests.test_browser import ARTIFACTS, _require_chromium, browser  # noqa: F401 - browser is a fixture
from tests.test_practice_ui import free_port, markdown, wait_for_text

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]
MATH = "Which quantity is $\\max_k p_\\theta(y=k\\mid x)$ in this section?"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def section_items(chunks) -> tuple[str, list[PracticeItem]]:
    """Five MCQs on five slides of the first section that has them: the key a line of the slide."""
    by_section: dict[str, list] = {}
    for c in chunks:
        if usable(c) and focus_lines(c):
            by_section.setdefault(c.section, []).append(c)
    section, slides = next((s, cs) for s, cs in by_section.items() if len(cs) >= 5)
    others = [focus_lines(c)[0] for s, cs in by_section.items() if s != section for c in cs][:3]
    items = []
    for n, chunk in enumerate(slides[:5]):
        ref = SlideRef(chunk.slide_id, chunk.title, chunk.deck_title, chunk.slide)
        question = MATH if n == 0 else f"Which of these does the slide “{chunk.title}” state?"
        key = focus_lines(chunk)[0]
        items.append(PracticeItem(question, "mcq", [key, *others], key, f"The slide says: {key}", [ref]))
    return section, items


@pytest.fixture(scope="module")
def study_app(settings, embedder, shipped_index, tmp_path_factory):
    """The real app over the real index; the model is a stand-in that must never be asked (the bank is full)."""
    _require_chromium()
    clock = Clock()
    study = Study(StudyDB(tmp_path_factory.mktemp("study") / "study.sqlite"), clock)
    section, items = section_items(shipped_index.chunks)
    by_id = {c.slide_id: c for c in shipped_index.chunks}
    ids = [study.bank.add(item, by_id[item.source[0].slide_id]) for item in items]
    never = StandInGenerator("stand-in", lambda messages: pytest.fail("the bank should have served this"))
    assistant = Assistant(settings, embedder=embedder, index=shipped_index, generator=never)
    demo = ui.create_app(assistant, assistant.settings, study)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, **ui.launch_options()
    )
    yield url, study, clock, section, dict(zip(ids, items, strict=True))
    demo.close()


def open_practice(browser, url: str, section: str):  # noqa: F811
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url)
    page.get_by_role("tab", name="Practice").click()
    page.fill("#practice-name input, #practice-name textarea", "Ada")
    page.press("#practice-name input, #practice-name textarea", "Enter")
    page.click("#practice-section input")
    page.get_by_role("option", name=section).click()
    return page


def answer(page, item: PracticeItem, right: bool) -> None:
    label = item.answer if right else next(o for o in item.options if o != item.answer)
    page.locator("#practice-choice label", has_text=label[:40]).first.click()
    page.click("#practice-check")
    wait_for_text(page, "#practice-feedback", "Source:", 30)


def current(page, items: dict[int, PracticeItem], number: int, total: int) -> PracticeItem:
    """The item on screen once question ``number`` of ``total`` is shown."""
    wait_for_text(page, "#practice-question", f"Question {number} of {total}", 10)
    shown = markdown(page, "#practice-question")
    return next(i for i in items.values() if i.options[0][:40] in shown)


def test_a_student_answers_gets_hints_reviews_misses_and_sees_mastery_change(browser, study_app):  # noqa: F811
    url, study, clock, section, items = study_app
    page = open_practice(browser, url, section)
    try:
        page.click("#practice-generate")  # bench/practice.py times this; here: drawn, not written
        wait_for_text(page, "#practice-question", "Question 1 of 5", 10)
        assert "from the course's question bank" in markdown(page, "#practice-status")
        assert page.locator("#practice-question .katex").count() >= 1  # the math is rendered, not raw
        assert "\\max_k" not in markdown(page, "#practice-question")
        for number in range(5):
            item = current(page, items, number + 1, 5)
            if number == 1:
                for step in (1, 2, 3):
                    page.click("#practice-hint")
                    wait_for_text(page, "#practice-feedback", f"Hint {step} of 3", 10)
                assert "The answer" in markdown(page, "#practice-feedback")
            answer(page, item, right=number not in (1, 3))
            page.click("#practice-next")
        wait_for_text(page, "#practice-question", "You scored 3 / 5", 10)
        assert page.inner_text("#practice-review").strip() == "Review (0 due)"
        clock.now += 15 * 60  # the misses fall due ten minutes later
        page.press("#practice-name input, #practice-name textarea", "Enter")
        page.wait_for_function("document.querySelector('#practice-review').innerText.includes('(2 due)')")
        assert "5\t5\t3\t2" in page.inner_text("#practice-mastery")  # items, answered, right, due
        page.click("#practice-review")
        wait_for_text(page, "#practice-question", "Question 1 of 2", 10)
        for number in (1, 2):
            answer(page, current(page, items, number, 2), right=True)
            page.click("#practice-next")
        page.wait_for_function("document.querySelector('#practice-review').innerText.includes('(0 due)')")
        assert "5\t5\t5\t0" in page.inner_text("#practice-mastery")
    finally:
        page.close()


def test_staff_retire_an_item_and_students_never_see_it_again(browser, study_app):  # noqa: F811
    url, study, _, section, items = study_app
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    try:
        page.goto(url)
        page.get_by_role("tab", name="Staff").click()
        page.wait_for_selector("#staff-items .katex", timeout=10_000)  # the bank's math rendered, not raw
        retired_id, retired = next(iter(items.items()))
        page.fill("#staff-item input", str(retired_id))
        page.click("#staff-retire")
        wait_for_text(page, "#staff-message", f"Item {retired_id} is now retired", 10)
        assert study.bank.get(retired_id).status == "retired"
        page.close()
        page = open_practice(browser, url, section)
        page.fill("#practice-number input[type='number']", "4")  # what the bank holds now: no model needed
        page.press("#practice-number input[type='number']", "Tab")
        page.click("#practice-generate")
        wait_for_text(page, "#practice-question", "Question 1 of 4", 10)
        for number in range(1, 5):
            shown = current(page, items, number, 4)
            assert shown.question != retired.question or shown.options != retired.options
            answer(page, shown, right=True)
            page.click("#practice-next")
    finally:
        page.close()


def test_staff_edit_an_item_in_the_browser_and_a_flawed_edit_is_not_saved(browser, study_app):  # noqa: F811
    url, study, _, _, items = study_app
    # not the first (the retire test retires it); the shortest key, so that other keys as wrong options are fair
    item_id = min(list(items)[1:], key=lambda i: len(items[i].answer.split()))
    before = study.bank.get(item_id).item
    page = browser.new_page(viewport={"width": 1400, "height": 1100})

    def submit(fields: dict) -> None:
        page.click("#staff-edit .cm-content")
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(json.dumps(fields))
        page.click("#staff-save")

    try:
        page.goto(url)
        page.get_by_role("tab", name="Staff").click()
        page.fill("#staff-item input", str(item_id))
        page.click("#staff-load")
        wait_for_text(page, "#staff-message", f"Editing item {item_id}", 10)
        fields = json.loads(page.inner_text("#staff-edit .cm-content"))
        assert fields["question"] == before.question
        flawed = dict(fields, options=[before.answer, before.answer, *before.options[2:]])
        submit(flawed)
        wait_for_text(page, "#staff-message", "not saved", 30)
        assert study.bank.get(item_id).item.options == before.options
        # the stand-in items point at "the slide" and their key is the longest option: a teacher would fix both
        better = f"Which statement about {before.source[0].title} is true?"
        wrong = [other.answer for other in items.values() if other.answer != before.answer][:3]
        submit(dict(fields, question=better, options=[before.answer, *wrong]))
        wait_for_text(page, "#staff-message", f"Item {item_id} saved and approved", 30)
        saved = study.bank.get(item_id)
        assert saved.item.question == better and saved.status == "approved"
    finally:
        page.close()


def test_staff_see_class_insights_rendered(browser, study_app):  # noqa: F811
    from types import SimpleNamespace

    from assistant.study.questionlog import QuestionLog

    url, study, _, section, _ = study_app
    log = QuestionLog(study.db)
    for question, refused in (("What is MAE?", False), ("Where is the best pizza?", True), ("Best pizza place?", True)):
        answer = SimpleNamespace(
            question=question,
            retrieved=[{"id": "x#1", "section": section}],
            citations=[],
            refused=refused,
            refusal_reason="gate" if refused else "",
            answerability=0.1 if refused else 0.8,
            timings={},
            model="m",
        )
        log.record(answer, "llamacpp")
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    try:
        page.goto(url)
        page.get_by_role("tab", name="Staff").click()
        page.click("#staff-insights-show")
        wait_for_text(page, "#staff-insights", "3 questions, 2 refused", 60)
        report = markdown(page, "#staff-insights")
        assert "pizza" in report and section in report
        page.locator("#staff-insights-plot").scroll_into_view_if_needed()  # the image loads lazily, once in view
        page.wait_for_selector("#staff-insights-plot img", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staff-insights.png"), full_page=True)
    finally:
        page.close()


def test_the_staff_tab_needs_a_password_beyond_this_machine():
    assert ui.staff_allowed("127.0.0.1", None) and ui.staff_allowed("0.0.0.0", ("staff", "secret"))
    assert not ui.staff_allowed("0.0.0.0", None)
