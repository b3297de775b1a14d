"""The evaluation harness: lenient Q/A reading, resumable results, a real 3-question run, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import run as evaluate
from assistant.evaluation.qa import read_qa
from assistant.evaluation.report import write_report
from assistant.evaluation.run import EvalConfig, read_results
from tests.fakes import CountingGenerator

QA = [
    {
        "id": "p1",
        "question": "Which room is midterm 2 in?",
        "answerable": True,
        "gold": ["Midterm 2 logistics"],
        "reference": "Dwinelle 155.",
        "facts": [["Dwinelle"]],
    },
    {"id": "p2", "question": "What is the capital of Australia?", "answerable": False, "gold": []},
    {
        "id": "p3",
        "question": "What does adversarial training cost on clean examples?",
        "answerable": True,
        "gold": ["cs182-lecture24-midterm2-review#31"],
    },
]


def _write(path: Path, rows: list[dict], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + extra, encoding="utf-8")
    return path


def test_malformed_lines_are_reported_with_their_number_and_skipped(tmp_path: Path):
    text = json.dumps(QA[0]) + "\n{not json\n" + json.dumps({"question": "no id"}) + "\n" + json.dumps(QA[1]) + "\n"
    (tmp_path / "qa.jsonl").write_text(text, encoding="utf-8")
    items, problems = read_qa(tmp_path / "qa.jsonl")
    assert [i.id for i in items] == ["p1", "p2"]
    assert problems[0].startswith("line 2:") and problems[1].startswith("line 3: missing field 'id'")


def test_optional_fields_and_gold_as_string(tmp_path: Path):
    items, problems = read_qa(_write(tmp_path / "q.jsonl", [{"id": 1, "question": "q?", "gold": "Attention"}]))
    assert problems == [] and items[0].gold == ["Attention"] and items[0].answerable and items[0].facts == []


def test_torn_last_row_is_dropped_and_file_repaired(tmp_path: Path):
    path = _write(tmp_path / "results.jsonl", [{"id": "a"}, {"id": "b"}], extra='{"id": "c", "answ')
    assert [r["id"] for r in read_results(path)] == ["a", "b"]
    assert path.read_text().endswith('{"id": "b"}\n')


def test_real_three_question_run_resumes_without_duplicates(assistant_default, settings, tmp_path: Path):
    qa = _write(tmp_path / "private.jsonl", QA, extra="this line is broken\n")
    counting = CountingGenerator(assistant_default.generator())
    counted = assistant_default.variant(generator=counting)
    first = evaluate.run(settings, EvalConfig(qa, tmp_path / "out", settings.model, limit=2), counted)
    results = tmp_path / "out" / "runs" / "default" / "results.jsonl"
    # a run killed while writing row 3 leaves a torn line; the next run must neither lose nor repeat rows
    with results.open("a") as handle:
        handle.write('{"id": "p3", "answer": "half')
    calls_before = counting.calls
    summary = evaluate.run(settings, EvalConfig(qa, tmp_path / "out", settings.model), counted)
    rows = read_results(results)
    assert [r["id"] for r in rows] == ["p1", "p2", "p3"]
    assert first["n"] == 2 and summary["n"] == 3
    assert summary["problems"] == ["line 4: Expecting value: line 1 column 1 (char 0); skipped"]
    assert summary["refusal_accuracy"] == 1.0  # the off-topic question was refused: a success, not a zero
    p1 = rows[0]
    # the harness's own figures, not the reply's quality (greedy replies can differ with the engine's
    # cache state; `assistant eval` is where quality is measured)
    assert p1["hit@5"] == 1.0 and p1["answerable"] and p1["outcome"]
    assert 0.0 <= p1["fact_recall"] <= 1.0 and 0.0 <= p1["citation_accuracy"] <= 1.0
    assert {"retrieval_s", "ttft_s", "total_s"} <= set(p1["timings"])
    assert all(r["retrieved"] and "score" in r["retrieved"][0] for r in rows)
    report = write_report(tmp_path / "out")
    text = report.read_text()
    assert "| refusal acc. | 1.000 |" in text and (tmp_path / "out" / "hit_at_k.png").stat().st_size > 1000
    assert counting.calls == calls_before + 1  # only the lost row was answered again


def test_unknown_baseline_is_a_clear_error(settings, tmp_path: Path):
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="unknown baseline"):
        evaluate.run(settings, EvalConfig(_write(tmp_path / "q.jsonl", QA), tmp_path, settings.model, "oracle"))
