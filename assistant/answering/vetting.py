"""Which of a model's reply sentences may be shown, each cited to the slide that supports it and checked.

Support (``citations``) finds the slide a sentence's words come from; the truth check (``truth``)
asks whether that slide says what the sentence says; ``shaping`` drops questions, fragments, dumps
and sentences that speak for the slides without a slide behind them.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

import numpy as np

from assistant.answering import judge, truth
from assistant.answering.citations import best_support, evidence_text, split_sentences, strip_markers
from assistant.answering.reply import Answer
from assistant.answering.shaping import (
    DUMP_KEEP,
    copied_line,
    finished_clause,
    is_dump,
    is_fragment,
    is_question,
    joined_lists,
    quote,
    reported_claim,
    speaks_for_slides,
    without_opening_connective,
)
from assistant.engines.base import Generator
from assistant.retrieval.embed import Embedder
from assistant.text import normalize

_UNFINISHED = re.compile(r"[.!?)\]]\s*$")


def shown_sentences(
    result: Answer, raw: str, context: list, embedder: Embedder, gen: Generator | None, judge_limit: int
) -> list[dict]:
    """The reply's sentences that may be shown, each with its supporting slide and the truth check.

    Questions and fragments are dropped, and an unfinished last sentence keeps only the clauses it
    finished (``finished_clause``); a sentence its slide contradicts (``truth.check``) is replaced
    by that slide line, quoted; a dump of slide lines keeps the ones nearest the question. An
    opening "Yes"/"No" no slide's words support stands, cited to the top slide, only where the
    model asked the question beside that slide answers alike. The model judges the first
    ``judge_limit`` sentences that say more than their slide's words (``gen`` None: none). What was
    taken out is kept in ``result.removed``.
    """
    raw = joined_lists(raw)
    sentences = split_sentences(raw)
    if len(sentences) > 1 and not _UNFINISHED.search(raw):
        result.removed.append({"text": strip_markers(sentences[-1]), "reason": "unfinished"})
        head = finished_clause(sentences[-1])  # cut off by the length limit: its first clauses may stand
        sentences = sentences[:-1] + ([head] if head else [])
    kept = []
    for sentence in sentences:
        plain = strip_markers(sentence)
        reason = "question" if is_question(plain) else "fragment" if is_fragment(plain, len(sentences) == 1) else ""
        if reason:
            result.removed.append({"text": plain, "reason": reason})
        else:
            kept.append(sentence)
    if not kept:
        return []
    slide_texts = [evidence_text(h.chunk.search_text) for h in context]
    plain = [strip_markers(s) for s in kept]
    claims = [reported_claim(s) for s in kept]  # "The slides state that X" is supported and checked as X
    claimed_texts = [strip_markers(c) for c in claims]
    vectors = embedder.embed(claimed_texts + slide_texts + [result.question])
    sentence_vectors, slide_vectors = vectors[: len(kept)], vectors[len(kept) : -1]
    said = {normalize(text) for text in plain}
    out: list[dict] = []
    judged = 0
    for claim, claimed, text, vector in zip(claims, claimed_texts, plain, sentence_vectors, strict=True):
        support = best_support(claim, vector, slide_texts, slide_vectors)
        row = {"text": text, "source": None, "support": round(support.score, 4), "check": "", "similarity": 0.0}
        row["similarity"] = float(np.dot(vector, vectors[-1]))
        if support.source is not None:
            judging = gen if judged < judge_limit else None
            verdict = _verdict(claimed, context[support.source].chunk, slide_texts[support.source], result, judging)
            judged += verdict.judge is not None
            row["source"] = context[support.source].chunk.slide_id
            row["judge"] = verdict.judge
            row["check"] = "passed" if verdict.ok else "corrected"
            row["copied"] = copied_line(claimed, slide_texts[support.source])
            if not verdict.ok:
                chunk = context[support.source].chunk
                line = _evidence(text, slide_texts[support.source], result.question, chunk.title, verdict)
                result.removed.append({"text": text, "reason": verdict.reason, "line": line})
                replacement = quote(line) if line else ""
                # the line is not quoted twice, nor beside a sentence of the reply that says it word for word
                if not line or normalize(line) in said or any(r["text"] == replacement for r in out):
                    continue
                row.update(text=replacement, evidence=line, copied=False)
        elif not out and (reading := _as_yes_or_no(text, result.question)):
            # an unsupported "Yes"/"No" is the model's guess at the question; it stands only where the
            # model, asked the question itself beside the top slide, answers the same way, and as surely
            # as the statement judge asks of a sentence: no slide's words speak for it
            p_yes = _question_reading(reading, context, result, gen if judged < judge_limit else None)
            judged += p_yes is not None
            if p_yes is None or p_yes < judge.UNSUPPORTED_YES:
                result.removed.append({"text": text, "reason": "unsupported yes/no"})
                continue
            row.update(source=context[0].chunk.slide_id, judge=p_yes, check="passed")
        elif speaks_for_slides(text):  # the slides' word, which no slide gives: not shown as theirs
            result.removed.append({"text": text, "reason": "unsupported claim about the slides"})
            continue
        out.append(row)
    if is_dump([r.get("copied", False) for r in out]):
        keep = sorted(sorted(range(len(out)), key=lambda i: -out[i]["similarity"])[:DUMP_KEEP])
        result.removed.extend({"text": r["text"], "reason": "dump"} for i, r in enumerate(out) if i not in keep)
        out = [out[i] for i in keep]
    for row in out:
        row.pop("similarity")
        row.pop("copied", None)
    if out:  # what the opening "However," answered was taken out, or was never there
        out[0]["text"] = without_opening_connective(out[0]["text"])
    return out


def _verdict(text: str, chunk, slide_text: str, result: Answer, gen: Generator | None) -> truth.Verdict:
    """The cheap reading first (``truth.check``); then, when on, the model as a judge of what passed and says
    more than its slide's words (``judge.worth_reading``)."""
    verdict = truth.check(text, slide_text, result.question)
    if not verdict.ok or gen is None or not judge.worth_reading(text, slide_text, result.question):
        return verdict
    p_yes, bar = _agreement(result, gen, chunk, text)
    if p_yes >= bar:
        return replace(verdict, judge=p_yes)
    return truth.Verdict(False, "judge", "", p_yes)


def _as_yes_or_no(text: str, question: str) -> str:
    """``text`` as the yes or no it gives to a yes/no ``question`` (a restated question's polarity spelled
    out: "No, the activation function does not matter"), or "" when it gives none."""
    if truth.answers_yes_or_no(text):
        return text
    implied = truth.implied_yes_no(text, question) if judge.asks_yes_or_no(question) else ""
    return implied + text if implied else ""


def _question_reading(text: str, context: list, result: Answer, gen: Generator | None) -> float | None:
    """How far the model, asked the yes/no question beside the top slide, answers as ``text``; None unread."""
    if gen is None or not context or not judge.asks_yes_or_no(result.question):
        return None
    return _agreement(result, gen, context[0].chunk, text)[0]


def _agreement(result: Answer, gen: Generator, chunk, text: str) -> tuple[float, float]:
    """``judge.agreement`` of ``text`` beside ``chunk``, its time added to the answer's ``judge_s``."""
    start = time.perf_counter()
    p_yes, bar = judge.agreement(gen, chunk, text, result.question)
    result.timings["judge_s"] = round(result.timings.get("judge_s", 0.0) + time.perf_counter() - start, 4)
    return p_yes, bar


def _evidence(text: str, slide_text: str, question: str, title: str, verdict: truth.Verdict) -> str:
    """The slide line shown in place of a failed sentence: the clause it contradicted, else the nearest."""
    kept = verdict.line if verdict.reason in truth.CLAUSE_REASONS else ""
    return truth.evidence_line(text, slide_text, question, title, found=kept)
