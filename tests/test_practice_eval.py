"""``assistant eval --practice``: the rates it reports, from a scripted model over a two-slide section."""

from __future__ import annotations

import json
from types import SimpleNamespace

from assistant.practice.drafting import to_item
from assistant.practice.parsing import parse_reply
from tests.fakes import AT_REPLY, GAN2_REPLY, GAN_REPLY, fake_assistant, mcq_reply
from tests.fakes import chunk as make_chunk

KEYS = {
    "What is the best known way to make models robust to lp attacks?": "Adversarial training",
    "Which metrics are usually used to evaluate GANs?": "Inception and FID scores",
}  # the self-check's picks


def _with_retriever(assistant, top_slide: int):
    """A retriever that always ranks slide ``top_slide`` first (key_support asks it for the top 3)."""
    by_slide = {c.slide: c for c in assistant.index.chunks}
    hits = [SimpleNamespace(chunk=by_slide[top_slide])]
    assistant.retriever = SimpleNamespace(search=lambda query, k: SimpleNamespace(hits=hits))
    return assistant


def test_practice_eval_reports_validity_support_and_duplicates(tmp_path):
    from assistant.evaluation.practice import evaluate_practice
    from assistant.evaluation.report import write_report

    same_options = mcq_reply("Which metrics evaluate GANs?", ["FID", "FID", "BLEU", "Perplexity"], 0, "FID.")
    replies = [AT_REPLY, same_options, "not json", GAN_REPLY]
    assistant, _ = fake_assistant(replies, KEYS)
    _with_retriever(assistant, 31)
    calls: list[tuple[int, int]] = []
    summary = evaluate_practice(assistant, tmp_path, per_section=2, progress=lambda *c: calls.append(c))

    deck, robust = summary["sections"]
    assert deck["section"] == "Deck" and deck["requested"] == 0 and "enough text" in deck["message"]  # a title
    assert robust == {
        "section": "Robustness",
        "slides": 2,
        "requested": 2,
        "accepted": 2,
        "attempts": 4,
        "supported": robust["supported"],
        "rejections": {"duplicate_options": 1, "unparseable": 1},
        "cites_section": 2,
        "message": 'Generated 2 questions from section "Robustness".',
    }
    assert summary["requested"] == 2 and summary["accepted"] == 2 and summary["attempts"] == 4
    assert summary["validity"] == 0.5 and summary["yield"] == 1.0 and summary["first_try_rate"] == 0.5
    assert summary["duplicate_rejection_rate"] == 0.25
    assert summary["shown_duplicate_questions"] == 0 and summary["shown_duplicate_options"] == 0
    assert summary["source_in_top3_rate"] == 0.5  # the retriever only ever finds slide 31
    assert 0.0 <= summary["support_rate"] <= 1.0 and robust["supported"] == summary["support_rate"] * 2
    assert calls[0] == (0, 4) and calls[-1] == (4, 4) and (3, 4) in calls  # 2 slots a section, 2 sections
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

    saved = json.loads((tmp_path / "practice" / "items.json").read_text())["items"]
    assert [row["source_in_top3"] for row in saved] == [True, False]
    assert json.loads((tmp_path / "practice" / "metrics.json").read_text())["accepted"] == 2
    report = write_report(tmp_path).read_text()
    assert "(scripted engine)" in report and "## Practice questions" in report
    assert "| validity (attempts passing every check) | 0.500 |" in report
    assert "| Robustness | 2 | 2 of 2 | 4 |" in report and "Weakest questions" not in report  # no Q/A runs here


def test_practice_eval_with_nothing_accepted_reports_none_not_nan(tmp_path):
    from assistant.evaluation.practice import evaluate_practice

    assistant, _ = fake_assistant(["nope"] * 10)
    _with_retriever(assistant, 31)
    summary = evaluate_practice(assistant, tmp_path, per_section=2, only=["Robustness"])
    assert summary["accepted"] == 0 and summary["attempts"] == 10 and summary["validity"] == 0.0  # 2 x 5 drafts
    assert summary["support_rate"] is None and summary["median_s_per_accepted"] is None
    assert summary["rejections"] == {"unparseable": 10}


def test_shown_duplicates_are_rechecked_independently():
    from assistant.evaluation.practice import shown_duplicates

    assistant, _ = fake_assistant([])
    at = to_item(parse_reply(AT_REPLY, "mcq"), "mcq", make_chunk(31, "", "", ""))
    again = to_item(parse_reply(AT_REPLY, "mcq"), "mcq", make_chunk(31, "", "", ""))
    twins = to_item(parse_reply(GAN2_REPLY, "mcq"), "mcq", make_chunk(37, "", "", ""))
    twins.options[1] = twins.options[0]
    assert shown_duplicates(assistant, [at, again, twins]) == (1, 1)


def test_real_model_practice_eval_of_one_section(assistant_llamacpp, tmp_path):
    """The real model (llama.cpp engine, the default weights) through ``evaluate_practice`` and the report."""
    from assistant.evaluation.practice import evaluate_practice
    from assistant.evaluation.report import write_report

    section = "Deep Unsupervised Learning"
    summary = evaluate_practice(assistant_llamacpp, tmp_path, per_section=1, only=[section])
    (s,) = summary["sections"]
    assert summary["requested"] == 1 and 1 <= summary["attempts"] <= 8  # 4 drafts, each repaired at most once
    assert s["attempts"] == s["accepted"] + sum(s["rejections"].values())
    assert s["cites_section"] == s["accepted"] == summary["accepted"]
    assert summary["engine"] == "llamacpp" and "1.5b" in summary["model"].lower()
    items = json.loads((tmp_path / "practice" / "items.json").read_text())["items"]
    assert len(items) == summary["accepted"] and all(len(i["options"]) == 4 for i in items)
    assert (summary["support_rate"] is None) == (summary["accepted"] == 0)
    report = write_report(tmp_path).read_text()
    assert s["slides"] >= 1 and f"| {section} | {s['slides']} | {s['accepted']} of 1 |" in report
