"""The staff evaluation harness: run a Q/A file through the answer pipeline and score it.

Each question goes through ``Assistant.ask``, the same function the UI and the CLI use, and its
``Answer`` plus per-question metrics is appended to ``results.jsonl`` as soon as it is done
(flushed and synced), so a killed run resumes where it stopped without duplicate or lost rows.

Variants share one report folder: ``OUT/runs/<variant>/`` holds each variant's results and
metrics (``default`` is the product; ``closed-book``, ``dense`` and ``bm25`` are the baselines),
and ``OUT/report.md`` puts them side by side.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.answering import prompts
from assistant.answering.assistant import REFUSAL, Answer, Assistant, clean_question
from assistant.answering.citations import SUPPORTED, lexical_support, split_sentences, strip_markers
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.evaluation import metrics
from assistant.evaluation.qa import QAItem, read_qa
from assistant.storage import read_json, read_jsonl, write_json

log = logging.getLogger(__name__)

BASELINES = ("closed-book", "dense", "bm25")
RESULTS_FORMAT = "study-assistant eval results v1"


@dataclass(frozen=True)
class EvalConfig:
    qa: Path
    out: Path
    model: str
    baseline: str = ""  # "" for the product pipeline
    limit: int | None = None

    @property
    def variant(self) -> str:
        return self.baseline or "default"

    @property
    def run_dir(self) -> Path:
        return self.out / "runs" / self.variant


def _engine_fields(settings: Settings) -> dict:
    """The engine, the slides given to the model (and how much of them) and, for transformers, the weights.

    ``settings.draft`` is left out on purpose: checked drafts never change a reply, so a run resumes across it.
    The prefill weights are given as resolved on this machine ("auto" means bf16 on one CPU, fp32 on another).
    """
    fields = {
        "engine": settings.engine,
        "context_k": settings.context_k,
        "context_words": settings.context_words,
        "answer_prompt": settings.answer_prompt,
        "judge": settings.judge,
    }
    if settings.engine == "transformers":
        from assistant.engines.transformers import prefill_mode

        fields["prefill"] = prefill_mode(settings)
        fields["decode"] = settings.decode
        if settings.blend > 0:  # absent when off, as in every run before the setting existed
            fields["blend"] = settings.blend
    return fields


def _fingerprint(config: EvalConfig, items: list[QAItem], settings: Settings) -> dict:
    digest = hashlib.sha256(json.dumps([i.__dict__ for i in items], sort_keys=True).encode()).hexdigest()[:16]
    return {
        "format": RESULTS_FORMAT,
        "qa_sha": digest,
        "model": config.model,
        "variant": config.variant,
        "embedder": settings.embedder,
        **_engine_fields(settings),
    }


def read_results(path: Path) -> list[dict]:
    """Rows of a results file, each question once; a torn last line (a killed run) is dropped and the file repaired."""
    rows = read_jsonl(path, repair=True)
    seen, unique = set(), []
    for row in rows:
        if row.get("id") not in seen:
            seen.add(row.get("id"))
            unique.append(row)
    return unique


def _append(path: Path, row: dict) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


class Scorer:
    """Per-question metrics for one answer; needs the embedder for similarity."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._slides = {c.slide_id: c for c in assistant.index.chunks}
        self._by_title = {c.title.strip().lower(): c for c in assistant.index.chunks}

    def section_of(self, item: QAItem) -> str:
        for gold in item.gold:
            chunk = self._slides.get(gold) or self._by_title.get(gold.strip().lower())
            if chunk is not None:
                return chunk.section
        return "(unanswerable)" if not item.answerable else "(unknown slide)"

    def grounding(self, answer: Answer) -> float | None:
        """Share of answer sentences whose cited slide supports them lexically (docs/evaluation.md)."""
        cited = {c.id: self._slides[c.id].search_text for c in answer.citations if c.id in self._slides}
        sentences = answer.sentences or [{"text": s, "source": None} for s in split_sentences(answer.answer)]
        if not sentences:
            return None
        supported = [
            s["source"] in cited and lexical_support(s["text"], cited[s["source"]]) >= SUPPORTED for s in sentences
        ]
        return sum(supported) / len(supported)

    def score(self, item: QAItem, answer: Answer) -> dict:
        row: dict = {"section": self.section_of(item), "answerable": item.answerable, "kind": item.kind}
        if item.answerable and answer.retrieved:
            rel = metrics.relevance([(r["id"], r["title"]) for r in answer.retrieved], item.gold)
            n_gold = max(1, len(item.gold))
            row.update(
                {
                    "hit@1": metrics.hit_at_k(rel, 1),
                    "hit@3": metrics.hit_at_k(rel, 3),
                    "hit@5": metrics.hit_at_k(rel, 5),
                    "mrr": metrics.reciprocal_rank(rel),
                    "ndcg@5": metrics.ndcg_at_k(rel, n_gold, 5),
                    "rel": rel,
                }
            )
        if item.answerable and not answer.refused:
            text = strip_markers(answer.answer)
            row["fact_recall"] = metrics.fact_recall(text, item.facts)
            row["token_f1"] = metrics.token_f1(text, item.reference)
            if item.reference and text:
                a, b = self.assistant.embedder.embed([text, item.reference])
                row["embedding_similarity"] = round(float(np.dot(a, b)), 4)
            if answer.citations:
                good = [metrics.gold_match(c.id, c.title, item.gold) for c in answer.citations]
                row["citation_accuracy"] = sum(good) / len(good)
            row["grounding"] = self.grounding(answer)
            if item.wrong:
                row["truth"] = 0.0 if metrics.states_any(text, item.wrong) else 1.0
        if item.adversarial:
            text = strip_markers(answer.answer)
            row["premise_corrected"] = metrics.premise_corrected(text, answer.refused, item.facts, item.wrong)
        row["outcome"] = metrics.refusal_outcome(item.answerable, answer.refused)
        return row


def closed_book_answer(assistant: Assistant, question: str, model: str | None) -> Answer:
    """The baseline with no retrieval: the model alone, told to admit when it does not know."""
    import time

    start = time.perf_counter()
    text = clean_question(question, assistant.settings.max_question_chars)
    gen = assistant.generator(model)
    messages = [
        {"role": "system", "content": prompts.load("closed_book_system")},
        {"role": "user", "content": text},
    ]
    pieces, ttft = [], None
    for piece in gen.stream(messages, assistant.settings.max_new_tokens):
        ttft = ttft if ttft is not None else time.perf_counter() - start
        pieces.append(piece)
    raw = "".join(pieces).strip()
    refused = not raw or "not in the slides" in raw.lower() or "i don't know" in raw.lower()
    return Answer(
        question=text,
        answer=REFUSAL if refused else raw,
        refused=refused,
        model=gen.name,
        refusal_reason="model" if refused else "",
        timings={"retrieval_s": 0.0, "ttft_s": ttft, "total_s": time.perf_counter() - start},
    )


def make_assistant(settings: Settings, baseline: str, base: Assistant | None = None) -> Assistant:
    mode = baseline if baseline in ("dense", "bm25") else "hybrid"
    if base is not None:
        return base.variant(settings, mode)
    return Assistant(settings, retrieval_mode=mode)


def run(
    settings: Settings,
    config: EvalConfig,
    assistant: Assistant | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run (or resume) one variant; returns its summary. Writes results.jsonl and metrics.json."""
    if config.baseline and config.baseline not in BASELINES:
        raise AssistantError(f"unknown baseline {config.baseline!r}; choose one of: {', '.join(BASELINES)}")
    all_items, problems = read_qa(config.qa)
    items = all_items[: config.limit] if config.limit else all_items
    if not items:
        raise AssistantError(f"no usable questions in {config.qa}")
    settings = replace(settings, model=config.model)
    assistant = make_assistant(settings, config.baseline, assistant)
    scorer = Scorer(assistant)
    run_dir = config.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    results = run_dir / "results.jsonl"
    # The whole file, not the --limit slice: growing --limit resumes instead of starting over.
    fingerprint = _fingerprint(config, all_items, assistant.settings)  # "auto" named
    if read_json(run_dir / "run.json") != fingerprint and results.exists():
        log.warning("settings or questions changed since the last run in %s; starting it again", run_dir)
        results.unlink()
    write_json(run_dir / "run.json", fingerprint)
    done = {row["id"]: row for row in read_results(results)}
    wanted = {item.id for item in items}
    for n, item in enumerate(items, start=1):
        if item.id not in done:
            row = evaluate_one(assistant, scorer, item, config)
            _append(results, row)
            done[item.id] = row
        if progress:
            progress(n, len(items))
    rows = [done[i.id] for i in items if i.id in wanted]
    summary = metrics.summarize(rows)
    summary["problems"] = problems
    summary["variant"] = config.variant
    summary["model"] = config.model
    summary.update(_engine_fields(assistant.settings))  # "auto" named
    summary["sections"] = per_section(rows)
    summary["kinds"] = per_kind(rows)
    write_json(run_dir / "metrics.json", summary)
    return summary


def evaluate_one(assistant: Assistant, scorer: Scorer, item: QAItem, config: EvalConfig) -> dict:
    try:
        if config.baseline == "closed-book":
            answer = closed_book_answer(assistant, item.question, config.model)
        else:
            answer = assistant.answer(item.question, model=config.model)
    except AssistantError as err:
        answer = Answer(question=item.question, answer=str(err), refused=True, refusal_reason="input")
    row = {"id": item.id, **answer.to_dict(), **scorer.score(item, answer)}
    for hit in row.get("retrieved", []):
        hit.pop("text", None)  # the slide text is in the index; keep results small
    return row


def per_kind(rows: list[dict]) -> dict[str, dict]:
    """The answer figures of the items written to break the assistant, by kind."""
    kinds: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("kind"):
            kinds.setdefault(row["kind"], []).append(row)
    return {
        name: {
            "n": len(group),
            "fact_recall": metrics.mean(r.get("fact_recall") for r in group if not r.get("refused")),
            "premise_corrected": metrics.mean(r.get("premise_corrected") for r in group),
            "truth": metrics.mean(r.get("truth") for r in group),
            "answer_rate": metrics.mean(0.0 if r.get("refused") else 1.0 for r in group),
        }
        for name, group in sorted(kinds.items())
    }


def per_section(rows: list[dict]) -> dict[str, dict]:
    sections: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("answerable"):
            sections.setdefault(row.get("section", "?"), []).append(row)
    return {
        name: {
            "n": len(group),
            "hit@3": metrics.mean(r.get("hit@3") for r in group),
            "fact_recall": metrics.mean(r.get("fact_recall") for r in group if not r.get("refused")),
            "answer_rate": metrics.mean(0.0 if r.get("refused") else 1.0 for r in group),
        }
        for name, group in sorted(sections.items())
    }
