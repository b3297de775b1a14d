"""Staff insights: the question log (off by default, nothing about who asked), its report, a crash, the Staff tab.

The class session runs through the real app and index with ``gradio_client``; the model is a
stand-in that copies a line of the first slide it is given (the public ``generator=`` seam), since
what is tested is what the log and the report make of the answers, not the model's writing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.answering.assistant import Assistant
from assistant.study import insights
from assistant.study.db import StudyDB
from assistant.study.questionlog import QuestionLog
from tests.fakes import StandInGenerator
from tests.test_practice_ui import free_port

ROOT = Path(__file__).resolve().parent.parent
ON_TOPIC = [
    "When is midterm 2?",
    "What is adversarial training?",
    "How do we measure calibration?",
    "What does MAE mask?",
    "Why are GANs hard to evaluate?",
    "What is subpopulation shift?",
    "What is domain generalization?",
    "What is anomaly detection?",
    "What are massive language models?",
    "How was ANLI built?",
]
OFF_TOPIC = [
    "What is the capital of France?",
    "Recommend a good pizza place downtown",
    "How do I fix my bicycle chain?",
    "Who won the football match yesterday?",
    "What is the best recipe for banana bread?",
    "How tall is Mount Everest?",
    "Which phone should I buy this year?",
    "What time does the gym open on Sunday?",
    "How do I bake sourdough bread?",
    "Where can I buy cheap concert tickets?",
]


def copy_first_slide(messages) -> str:
    """A stand-in model: "Yes" to the judge, else the first line of slide [1] with its citation."""
    prompt = messages[-1]["content"]
    if "Answer Yes if" in prompt:
        return "Yes"
    match = re.search(r"^\[1\] [^\n]*\n(.+)$", prompt, re.MULTILINE)
    return f"{match.group(1).strip()} [1]" if match else "I cannot tell."


@pytest.fixture()
def served(settings, embedder, shipped_index, tmp_path):
    """The real app with the question log on, over a private database."""
    from assistant.study.review import Study
    from assistant.ui import chat as ui

    study = Study(StudyDB(tmp_path / "study.sqlite"))
    log = QuestionLog(study.db)
    assistant = Assistant(
        settings, embedder=embedder, index=shipped_index, generator=StandInGenerator("stand-in", copy_first_slide)
    )
    demo = ui.create_app(assistant, assistant.settings, study, log)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, **ui.launch_options()
    )
    yield url, study, assistant
    demo.close()


def test_a_class_session_gives_counts_gaps_and_coverage_that_match_what_was_asked(served):
    from gradio_client import Client

    url, study, assistant = served
    client = Client(url, verbose=False)
    answers = [client.predict(q, "", api_name="/answer_json") for q in ON_TOPIC * 2 + OFF_TOPIC]
    found = insights.compute(study.db, assistant.index, assistant.embedder.embed, days=1)
    refused = {a["question"] for a in answers if a["refused"]}
    assert found.questions == 30 and found.refused == sum(a["refused"] for a in answers)
    assert len(refused & set(OFF_TOPIC)) >= 8  # the gate refuses off-topic questions (test_answer.py asks why)
    assert sum(found.per_section.values()) == 30
    clustered = {q for gap in found.gaps for q in gap.questions}
    assert refused <= clustered  # every refused question is in a gap cluster, with its nearest slides
    assert all(gap.nearest for gap in found.gaps)
    cited = {c["id"] for a in answers for c in a["citations"]}
    titles = {f"slide {c.slide}: {c.title}" for c in assistant.index.chunks if c.slide_id in cited}
    assert titles and not titles & set(found.uncited)  # every cited slide counts as covered
    assert len(found.uncited) == len({c.slide_id for c in assistant.index.chunks}) - len(cited)
    assert "No practice answers are logged" in " ".join(found.notes)
    report = insights.markdown(found)
    assert "30 questions" in report and any(q in report for q in refused)


def test_with_logging_off_no_question_is_stored(settings, embedder, shipped_index, tmp_path):
    from gradio_client import Client

    from assistant.study.review import Study
    from assistant.ui import chat as ui

    study = Study(StudyDB(tmp_path / "study.sqlite"))
    assistant = Assistant(
        settings, embedder=embedder, index=shipped_index, generator=StandInGenerator("stand-in", copy_first_slide)
    )
    demo = ui.create_app(assistant, assistant.settings, study)  # no question log: the default
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, **ui.launch_options()
    )
    try:
        Client(url, verbose=False).predict(ON_TOPIC[0], "", api_name="/answer_json")
    finally:
        demo.close()
    assert study.db.query("SELECT COUNT(*) FROM questions")[0][0] == 0


def test_the_log_has_no_column_for_who_asked(tmp_path):
    db = StudyDB(tmp_path / "study.sqlite")
    for table in ("questions", "item_log"):
        columns = {row["name"] for row in db.query(f"PRAGMA table_info({table})")}
        assert not columns & {"name", "student", "student_id", "ip", "address", "cookie", "session", "user"}


def test_item_analysis_counts_picks_and_flags_items(tmp_path):
    from assistant.study.review import Study
    from tests.test_study import AT, item

    study = Study(StudyDB(tmp_path / "study.sqlite"))
    log = QuestionLog(study.db)
    easy = study.bank.add(item("Which method robustifies models to lp attacks?"), AT)
    for response in ["A"] * 9 + ["B"]:
        log.record_practice(easy, response, response == "A")
    (stats,) = insights.item_analysis(study.db)
    assert stats.shown == 10 and stats.right == 0.9 and stats.picks == {"A": 9, "B": 1, "C": 0, "D": 0}
    assert "almost everyone gets it right" in stats.flags and "option C is never picked" in stats.flags
    assert log.purge(older_than_days=0) == 10 and insights.item_analysis(study.db) == []


LOGGER = """
import sys, pathlib
from types import SimpleNamespace
from assistant.study.db import StudyDB
from assistant.study.questionlog import QuestionLog
log = QuestionLog(StudyDB(pathlib.Path(sys.argv[1])))
for n in range(100_000):
    answer = SimpleNamespace(question=f"question {n}", retrieved=[{"id": "d#1", "section": "S"}], citations=[],
                             refused=False, refusal_reason="", answerability=0.5, timings={"total_s": 1.0}, model="m")
    log.record(answer, "llamacpp")
    print(n, flush=True)
"""


def test_kill_9_while_logging_keeps_every_finished_question(tmp_path):
    from tests.test_study import killed_after

    path = tmp_path / "study.sqlite"
    finished = killed_after(LOGGER, path, 50)
    db = StudyDB(path)
    assert db.query("PRAGMA integrity_check")[0][0] == "ok"
    logged = {row[0] for row in db.query("SELECT question FROM questions")}
    assert {f"question {line.strip()}" for line in finished} <= logged


def test_the_real_model_s_answers_are_logged_with_their_slides(assistant_llamacpp, tmp_path):
    """The main path: the packaged 1.5B (through llama.cpp) answering in the chat handler, the log beside it."""
    from assistant.ui import chat as ui

    log = QuestionLog(StudyDB(tmp_path / "study.sqlite"))
    respond = ui.chat_handler(assistant_llamacpp, 2000, log.recorder(assistant_llamacpp.settings.engine))
    for question in ("When is midterm 2?", "What is the capital of France?"):
        for _ in respond(question, [], ""):
            pass
    rows = log.db.query("SELECT question, cited, refused, model, engine FROM questions ORDER BY id")
    assert [r["question"] for r in rows] == ["When is midterm 2?", "What is the capital of France?"]
    assert rows[0]["cited"] != "[]" and not rows[0]["refused"] and rows[1]["refused"]
    assert all(r["engine"] == "llamacpp" for r in rows) and "1.5b" in rows[0]["model"].lower()  # the gate asks no model


def test_an_app_without_the_staff_tab_serves_no_insights(settings, embedder, shipped_index, tmp_path):
    """Served beyond this machine without a password, the app is made with ``staff=False``."""
    from gradio_client import Client

    from assistant.study.review import Study
    from assistant.ui import chat as ui

    study = Study(StudyDB(tmp_path / "study.sqlite"))
    assistant = Assistant(
        settings, embedder=embedder, index=shipped_index, generator=StandInGenerator("stand-in", copy_first_slide)
    )
    for staff in (True, False):
        demo = ui.create_app(assistant, assistant.settings, study, staff=staff)
        _, url, _ = demo.launch(
            server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, **ui.launch_options()
        )
        try:
            endpoints = Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
        finally:
            demo.close()
        assert ("/insights" in endpoints) is staff and ("/staff_retired" in endpoints) is staff
    assert not ui.staff_allowed("0.0.0.0", None)
