"""The study loop's storage on a real SQLite file: the bank, students, FSRS review, hints, crashes, bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.practice.items import PracticeItem, SlideRef
from assistant.study import db as study_db
from assistant.study.db import StudyDataProblem, StudyDB
from assistant.study.hints import BLANK, hints
from assistant.study.review import Study
from tests.fakes import AT_REPLY, AT_SLIDE, GAN_SLIDE, chunk, fake_assistant

ROOT = Path(__file__).resolve().parent.parent
AT = chunk(31, "Robustness", "Adversarial training (AT)", AT_SLIDE.split("\n", 1)[1])
GAN = chunk(37, "Robustness", "GANs summary", GAN_SLIDE.split("\n", 1)[1])


def item(question: str, slide=AT, answer: str = "Adversarial training", qtype: str = "mcq") -> PracticeItem:
    options = [answer, "Dropout", "Weight decay", "Early stopping"] if qtype == "mcq" else []
    ref = SlideRef(slide.slide_id, slide.title, slide.deck_title, slide.slide)
    return PracticeItem(question, qtype, options, answer, "The slide says so.", [ref])


class Clock:
    """A clock tests move by hand: the review schedule is days long."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def study(tmp_path):
    return Study(StudyDB(tmp_path / "study.sqlite"), Clock())


def test_a_new_database_has_the_schema_version_and_wal(tmp_path):
    StudyDB(tmp_path / "s.sqlite").close()
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == study_db.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_bank_keeps_one_copy_draws_slides_in_turn_and_never_shows_retired_items(study):
    bank = study.bank
    first = bank.add(item("Which method robustifies models to lp attacks?"), AT)
    assert bank.add(item("Which method robustifies models to lp attacks?"), AT) is None  # same question, same slide
    second = bank.add(item("What does AT optimise?", answer="The average adversarial loss"), AT)
    gan = bank.add(item("Why are GANs hard to evaluate?", GAN, answer="No agreed metric"), GAN)
    drawn = [b.id for b in bank.draw(2, "mcq")]
    assert drawn == [first, gan]  # one per slide before a second from any
    bank.set_status(second, "approved")
    assert [b.id for b in bank.draw(1, "mcq")] == [second]  # reviewed items first
    bank.set_status(first, "retired")
    assert first not in [b.id for b in bank.draw(10, "mcq")]
    with pytest.raises(AssistantError, match="no item 999"):
        bank.set_status(999, "approved")


def test_editing_a_slide_retires_only_its_items(study):
    at_id = study.bank.add(item("Which method robustifies models?"), AT)
    gan_id = study.bank.add(item("Why are GANs hard to evaluate?", GAN, answer="No agreed metric"), GAN)
    edited = replace(AT, text=AT.text + "\nA new line the lecturer added")
    assert study.bank.mark_stale([edited, GAN]) == 1
    assert study.bank.get(at_id).status == "stale" and study.bank.get(gan_id).status == "checked"


def test_the_bank_goes_to_json_and_back_with_its_statuses(study, tmp_path):
    kept = study.bank.add(item("Which method robustifies models?"), AT)
    study.bank.set_status(kept, "approved")
    study.bank.add(item("Why are GANs hard to evaluate?", GAN, answer="No agreed metric"), GAN)
    assert study.bank.export_json(tmp_path / "bank.json") == 2
    other = Study(StudyDB(tmp_path / "other.sqlite"))
    assert other.bank.import_json(tmp_path / "bank.json") == 2
    assert other.bank.import_json(tmp_path / "bank.json") == 0  # importing twice adds nothing
    assert sorted(b.status for b in other.bank.items()) == ["approved", "checked"]
    (tmp_path / "broken.json").write_text('{"format": 1, "items": [{"item": {}}]}')
    with pytest.raises(AssistantError, match="not an exported question bank"):
        other.bank.import_json(tmp_path / "broken.json")


def test_missed_items_come_back_on_the_fsrs_schedule_and_mastery_counts_them(study):
    ids = [study.bank.add(item(f"Question {n} about adversarial training?"), AT) for n in range(3)]
    ada = study.student("Ada")
    for item_id, right in zip(ids, [True, False, False], strict=True):
        study.record(ada, item_id, "A", right)
    assert study.due(ada) == []  # a miss comes back minutes later, not at once
    study.clock.now += 15 * 60
    assert sorted(b.id for b in study.due(ada)) == ids[1:]
    (section,) = study.mastery(ada)
    assert (section.section, section.items, section.answered, section.correct, section.due) == (
        "Robustness",
        3,
        3,
        1,
        2,
    )
    study.record(ada, ids[1], "A", True)
    assert [b.id for b in study.due(ada)] == [ids[2]]
    assert study.mastery(ada)[0].correct == 2
    assert study.mastery(study.student("Grace"))[0].answered == 0  # each student has their own record


@pytest.mark.parametrize("name", ["x" * 10_000, "", "   ", "bad\x00name", 42])
def test_bad_student_names_are_refused(study, name):
    with pytest.raises(AssistantError):
        study.student(name)


def test_an_sql_looking_name_is_stored_as_text(study):
    name = "Robert'); DROP TABLE students;--"
    assert study.student(name).name == name
    assert study.student(name).id == study.student(name).id  # the same profile again, and the table still there


def test_a_corrupt_database_is_kept_aside_and_replaced(tmp_path, caplog):
    path = tmp_path / "study.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level("WARNING"):
        fresh = Study(StudyDB(path))
    assert fresh.bank.items() == [] and "unreadable" in caplog.text
    assert len(list(tmp_path.glob("study.sqlite.corrupt-*"))) == 1


def test_a_locked_database_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(study_db, "BUSY_MS", 200)
    path = tmp_path / "study.sqlite"
    study = Study(StudyDB(path))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StudyDataProblem, match="locked by another process"):
            study.student("Ada")
    finally:
        holder.execute("ROLLBACK")


WRITER = """
import sys, time
from assistant.study.db import StudyDB
from assistant.study.review import Study
from tests.test_study import AT, item
study = Study(StudyDB(__import__("pathlib").Path(sys.argv[1])))
ada = study.student("Ada")
for n in range(10_000):
    item_id = study.bank.add(item(f"Question {n}?"), AT)
    study.record(ada, item_id, "A", n % 2 == 0)
    print(n, flush=True)
"""


def killed_after(script: str, path: Path, lines: int) -> list[str]:
    """Run ``script`` on the database ``path``, SIGKILL it once it has printed ``lines`` lines; those lines."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    printed = [proc.stdout.readline() for _ in range(lines)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return printed


def test_kill_9_mid_write_loses_at_most_the_item_being_written(tmp_path):
    path = tmp_path / "study.sqlite"
    done = killed_after(WRITER, path, 30)
    assert done[-1].strip() == "29"
    study = Study(StudyDB(path))
    items = study.bank.items()
    questions = [b.item.question for b in items]
    assert len(questions) == len(set(questions)) and len(items) >= 30  # nothing duplicated, nothing reported lost
    answers = study.db.query("SELECT item_id, COUNT(*) FROM answers GROUP BY item_id")
    cards = study.db.query("SELECT COUNT(*) FROM cards")[0][0]
    assert all(count == 1 for _, count in answers) and cards == len(answers) >= 30
    assert len(items) - len(answers) <= 1  # at most the item whose answer was being written
    assert study.db.query("PRAGMA integrity_check")[0][0] == "ok"


def test_building_the_bank_resumes_where_it_stopped(tmp_path):
    from assistant.study.build import build_bank

    picks = {"What is the best known way to make models robust to lp attacks?": "Adversarial training"}
    assistant, _ = fake_assistant([AT_REPLY], picks)
    study = Study(StudyDB(tmp_path / "study.sqlite"))
    first = build_bank(assistant, study.bank, qtypes=("mcq",), max_attempts=1)
    assert first.added["mcq"] == 1 and [b.slide_id for b in study.bank.items()] == [AT.slide_id]
    assistant, gen = fake_assistant([], picks)
    again = build_bank(assistant, study.bank, qtypes=("mcq",), max_attempts=1)
    assert again.skipped == 1 and again.added["mcq"] == 0  # the filled slide is not asked again
    assert not any("robustify" in p for p in gen.prompts)
    gen.prompts.clear()
    other = build_bank(assistant, study.bank, qtypes=("mcq",), max_attempts=1, section="Deck")
    assert other.skipped == 0 and other.short == [] and gen.prompts == []  # the title slide alone: nothing usable
    with pytest.raises(AssistantError, match="not a section"):
        build_bank(assistant, study.bank, qtypes=("mcq",), section="Nowhere")


def test_a_bank_build_says_which_checks_turned_its_drafts_down(tmp_path):
    from assistant.study.build import build_bank

    assistant, _ = fake_assistant(["Here is a question about the slide, with no options."], {})
    report = build_bank(assistant, Study(StudyDB(tmp_path / "study.sqlite")).bank, qtypes=("mcq",), max_attempts=1)
    assert report.added["mcq"] == 0 and f"{AT.title} (mcq)" in report.short
    assert sum(report.rejections.values()) >= 1 and all(isinstance(r, str) for r in report.rejections)


def test_a_bank_build_asks_half_its_slides_for_a_false_statement_first(tmp_path):
    from assistant.study.build import build_bank

    assistant, gen = fake_assistant([])
    build_bank(assistant, Study(StudyDB(tmp_path / "study.sqlite")).bank, qtypes=("tf",), max_attempts=1)
    first: dict[str, bool] = {}
    for prompt in (p for p in gen.prompts if "true/false exam statement" in p):
        first.setdefault(prompt.split("\n")[2], "must be true according" in prompt)  # keyed by "[1] <title>"
    assert len(first) == 2 and sorted(first.values()) == [False, True], first  # one slide of each kind


BUILDER = """
import sys
from pathlib import Path
from assistant.study.build import build_bank
from assistant.study.db import StudyDB
from assistant.study.review import Study
from tests.fakes import AT_REPLY, AT_SLIDE, chunk, fake_assistant
picks = {"What is the best known way to make models robust to lp attacks?": "Adversarial training"}
assistant, _ = fake_assistant([AT_REPLY] * 100, picks)
body = AT_SLIDE.split("\\n", 1)[1]
assistant.index.chunks = [
    chunk(n, "Robustness", f"Adversarial training, part {n}", f"{body}\\nPart {n} of the notes.") for n in range(40)
]
study = Study(StudyDB(Path(sys.argv[1])))
build_bank(assistant, study.bank, qtypes=("mcq",), max_attempts=1, progress=lambda done, *_: print(done, flush=True))
"""


def test_kill_9_during_a_bank_build_then_a_restart_loses_and_repeats_nothing(tmp_path):
    """The builder, killed with SIGKILL part way, keeps the items it finished; run again, it adds only the rest."""
    path = tmp_path / "study.sqlite"
    killed_after(BUILDER, path, 15)  # the 15th line is printed as slide 14's item is started
    kept = Study(StudyDB(path)).bank.items()
    assert 13 <= len(kept) <= 15  # at most the item being written is lost
    finished = subprocess.run([sys.executable, "-c", BUILDER, str(path)], cwd=ROOT, capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    study = Study(StudyDB(path))
    items = study.bank.items()
    assert sorted(b.slide_id for b in items) == sorted(f"d#{n}" for n in range(40))  # each slide once
    assert {b.id for b in kept} <= {b.id for b in items}  # what the killed run wrote is still there
    assert study.db.query("PRAGMA integrity_check")[0][0] == "ok"


def test_hints_go_from_the_slide_to_a_cloze_to_the_answer():
    steps = hints(item("What is the best known way to make models robust to lp attacks?"), AT)
    assert [h.step for h in steps] == [1, 2, 3]
    assert "slide 31" in steps[0].text and "Robustness" in steps[0].text and "Dropout" not in steps[0].text
    assert BLANK in steps[1].text and "adversarial training" not in steps[1].text.lower()
    assert "lp attacks" in steps[1].text  # the rest of the slide's line is shown
    assert steps[2].text.startswith("A. Adversarial training") and "slide 31" in steps[2].text


def test_the_anki_package_holds_one_note_per_item_with_math_for_mathjax(tmp_path):
    from assistant.practice.export import export_apkg

    items = [
        item("What does $\\max_k p_\\theta(y=k\\mid x)$ measure?", answer="Confidence"),
        item("Which loss trains AT?", answer="The $$\\ell_p$$ adversarial loss"),
    ]
    export_apkg(items, tmp_path / "deck.apkg")
    with zipfile.ZipFile(tmp_path / "deck.apkg") as package:
        package.extract("collection.anki2", tmp_path)
    notes = sqlite3.connect(tmp_path / "collection.anki2").execute("SELECT flds FROM notes").fetchall()
    fields = [row[0].split("\x1f") for row in notes]
    assert len(fields) == 2 and all(len(f) == 4 for f in fields)
    assert "\\(\\max_k p_\\theta(y=k\\mid x)\\)" in fields[0][0] and "A. Confidence" in fields[0][1]
    assert "\\[\\ell_p\\]" in fields[1][1] and "slide 31" in fields[1][3]


def test_a_fresh_database_takes_the_shipped_bank(settings, tmp_path):
    from assistant.study.store import SHIPPED_BANK, open_study

    shipped = ROOT / "index" / SHIPPED_BANK
    if not shipped.is_file():
        pytest.fail("the shipped question bank index/bank.json is missing")
    study = open_study(replace(settings, study_db=tmp_path / "study.sqlite"))
    expected = [e for e in json.loads(shipped.read_text())["items"] if e["status"] in ("checked", "approved")]
    assert sum(study.bank.counts().values()) == len(expected) > 0


def test_math_keeps_its_braces_for_katex_and_nothing_else_does():
    from assistant.ui.html import text

    shown = text("Loss: $\\exp\\{z^\\top w\\}$ and {braces} <b>bold</b> $<script>$")
    assert "$\\exp\\{z^\\top w\\}$" in shown  # the math as KaTeX reads it
    assert "&#123;braces&#125;" in shown and "&lt;b&gt;" in shown and "<script>" not in shown


def test_the_terminal_quiz_draws_from_the_bank_gives_hints_and_records_the_student(shipped_index, tmp_path):
    """``assistant quiz --student``: no model is loaded when the bank holds the set (the CLI would say so)."""
    from tests.test_study_ui import section_items

    path = tmp_path / "study.sqlite"
    study = Study(StudyDB(path))
    section, items = section_items(shipped_index.chunks)
    by_id = {c.slide_id: c for c in shipped_index.chunks}
    for entry in items[:2]:
        study.bank.add(entry, by_id[entry.source[0].slide_id])
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "quiz", "--section", section, "--n", "2", "--student", "Ada"],
        cwd=ROOT,
        input="hint\nhint\nA\nB\n",
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "ASSISTANT_STUDY_DB": str(path),
            "ASSISTANT_ENGINE": "openai",
            "ASSISTANT_OPENAI_URL": "http://127.0.0.1:9/v1",
        },  # a dead server: any model call would fail
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "from the course's question bank" in proc.stderr
    assert "Hint 1 of 3" in proc.stdout and "Hint 2 of 3" in proc.stdout and "Hint 3 of 3" not in proc.stdout
    assert "Score: 1 / 2" in proc.stdout
    ada = study.student("Ada")
    assert sorted(m.answered for m in study.mastery(ada)) == [2] and len(study.due(ada)) == 0


def test_a_new_set_in_one_session_brings_other_items_first(tmp_path):
    from assistant.study.store import draw_set

    assistant, _ = fake_assistant([])
    study = Study(StudyDB(tmp_path / "study.sqlite"))
    for n in range(4):
        study.bank.add(item(f"Question {n} about adversarial training?"), AT)
    first, drawn = draw_set(assistant, study, n=2, section="Robustness")
    second, again = draw_set(assistant, study, n=2, section="Robustness", seen=[i.question for i in first.items])
    assert len(drawn) == len(again) == 2 and not {b.id for b in drawn} & {b.id for b in again}
    third, once_more = draw_set(
        assistant, study, n=2, section="Robustness", seen=[b.item.question for b in drawn + again]
    )
    assert len(once_more) == 2  # every item met: the bank's own again, not the model


def test_a_section_whose_every_slide_has_an_item_is_served_at_once_without_the_model(tmp_path):
    from assistant.study.store import draw_set

    assistant, gen = fake_assistant([])
    study = Study(StudyDB(tmp_path / "study.sqlite"))
    study.bank.add(item("Question about adversarial training?"), AT)
    short, _ = draw_set(assistant, study, n=5, section="Robustness")
    assert gen.prompts and "had 1 of 5" in short.message  # the GANs slide has no item yet: the model is asked
    gen.prompts.clear()
    study.bank.add(item("Which model is the go-to for image generation?", GAN, "GANs"), GAN)
    full, drawn = draw_set(assistant, study, n=5, section="Robustness")
    assert gen.prompts == [] and {b.slide_id for b in drawn} == {AT.slide_id, GAN.slide_id}
    assert "one for each slide" in full.message


@pytest.mark.parametrize("flag", ["--attempts", "--per-slide"])
def test_a_bank_build_asked_for_no_drafts_is_refused_in_one_line(flag, capsys):
    from assistant.cli import main

    assert main(["bank", "build", flag, "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and flag in err and "\n" not in err
