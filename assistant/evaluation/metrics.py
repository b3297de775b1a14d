"""Metrics for the evaluation harness: retrieval, answer quality, refusals, latency.

Pure functions over plain Python values (stdlib only), so the harness, the report and the tests
all score the same way.

Two conventions hold throughout:

* A correct refusal is a success. An unanswerable question that the assistant declines is counted
  in ``refusal_accuracy`` as a hit; it is never scored as a zero (or NaN) on answer-quality metrics.
  Answer-quality metrics are averaged only over answerable questions that were actually answered,
  and refusals on answerable questions show up separately as ``false_refusal_rate``.
* A metric over an empty set is ``None`` (rendered "n/a"), never NaN: averaging nothing has no value,
  and NaN would silently poison any later arithmetic or comparison.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from assistant.text import normalize, split_sentences

__all__ = [
    "REFUSAL_OUTCOMES",
    "fact_recall",
    "gold_match",
    "hit_at_k",
    "mean",
    "median",
    "ndcg_at_k",
    "normalize",
    "percentile",
    "premise_corrected",
    "reciprocal_rank",
    "refusal_outcome",
    "relevance",
    "split_sentences",
    "states_any",
    "summarize",
    "token_f1",
]

REFUSAL_OUTCOMES = ("correct_answer_attempt", "false_refusal", "correct_refusal", "missed_refusal")

RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@5")
ANSWER_KEYS = ("fact_recall", "token_f1", "embedding_similarity", "citation_accuracy", "grounding", "truth")
TIMING_KEYS = (("retrieval_s", "median_retrieval_s"), ("ttft_s", "median_ttft_s"), ("total_s", "median_total_s"))

# Fact matching: a needle whose last word is this long may run on into a longer word; shorter ones may
# only take one of these endings.
_OPEN_END_MIN = 4
_SHORT_SUFFIX = r"(?:s|es|ed|d|ing|er|ers|ly)?"


# --------------------------------------------------------------------------- retrieval


def gold_match(hit_id: str, hit_title: str, gold: list[str]) -> bool:
    """Whether a retrieved slide is gold: gold entries are slide ids ("deck#12") or titles (case-insensitive)."""
    hid = hit_id.strip()
    title = hit_title.strip().casefold()
    for g in gold:
        g = g.strip()
        if g and (g == hid or g.casefold() == title):
            return True
    return False


def relevance(ranked: list[tuple[str, str]], gold: list[str]) -> list[int]:
    """Binary relevance (1/0) of each ranked (id, title) against the gold list, in rank order."""
    return [1 if gold_match(hid, title, gold) else 0 for hid, title in ranked]


def hit_at_k(rel: list[int], k: int) -> float:
    """1.0 if any of the top k results is relevant, else 0.0: did the right slide make the cut."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return 1.0 if any(rel[:k]) else 0.0


def reciprocal_rank(rel: list[int]) -> float:
    """1 / rank of the first relevant result (0.0 if none): rewards putting a right slide first."""
    for i, r in enumerate(rel):
        if r:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_k(rel: list[int], n_gold: int, k: int) -> float:
    """Binary-gain nDCG@k; the ideal ranks min(n_gold, k) relevant slides first; 0.0 when there is no gold."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if n_gold <= 0:
        return 0.0
    dcg = sum((1.0 if r else 0.0) / math.log2(i + 2) for i, r in enumerate(rel[:k]))
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(n_gold, k)))
    # A gold title shared by several slides can yield more relevant hits than n_gold: cap at a perfect score.
    return min(1.0, dcg / idcg)


# --------------------------------------------------------------------------- answer text


def _fact_form(text: str) -> str:
    """Normalized text with hyphens read as spaces, so "double sided" matches "double-sided" and vice versa."""
    return normalize(text).replace("-", " ")


def _contains(haystack: str, needle: str) -> bool:
    """Whether needle occurs in haystack (both in fact form) as a word-start substring."""
    if not needle:
        return False
    # Anchored at a word start, so "10" matches neither "2010" nor "5:10", and "5:10" not "15:10" (fact form keeps
    # punctuation only between letters/digits, so a space is the only word boundary). A long last word may run on
    # ("8.5x11" in "8.5x11in", "mask" in "masking"); a short one may only take an inflection, so "10" is not "100",
    # "log" is not "logits" and "imagenet c" is not "imagenet challenge".
    last = needle.rsplit(" ", 1)[-1]
    tail = "" if len(last) >= _OPEN_END_MIN else _SHORT_SUFFIX + r"(?!\S)"
    return re.search(r"(?:^|(?<= ))" + re.escape(needle) + tail, haystack) is not None


def fact_recall(answer: str, facts: list[list[str]]) -> float | None:
    """Share of fact groups with any alternative in the answer (normalized, case-insensitive); None if no facts."""
    if not facts:
        return None
    norm_answer = _fact_form(answer)
    found = sum(1 for group in facts if any(_contains(norm_answer, _fact_form(alt)) for alt in group))
    return found / len(facts)


def states_any(answer: str, phrases: list[str]) -> bool:
    """Whether the answer contains any of ``phrases`` (matched like facts)."""
    norm_answer = _fact_form(answer)
    return any(_contains(norm_answer, _fact_form(p)) for p in phrases)


def premise_corrected(answer: str, refused: bool, facts: list[list[str]], wrong: list[str]) -> float:
    """1.0 when a reply gives the correcting fact (the first fact group) and none of the wrong claims."""
    if refused or not facts:
        return 0.0
    return float(fact_recall(answer, facts[:1]) == 1.0 and not states_any(answer, wrong))


def token_f1(answer: str, reference: str) -> float | None:
    """SQuAD-style bag-of-tokens F1 of answer vs reference; None if the reference is empty, 0.0 if the answer is."""
    ref_tokens = normalize(reference).split()
    if not ref_tokens:
        return None
    ans_tokens = normalize(answer).split()
    if not ans_tokens:
        return 0.0
    same = sum((Counter(ans_tokens) & Counter(ref_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(ans_tokens)
    recall = same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


# --------------------------------------------------------------------------- refusals


def refusal_outcome(answerable: bool, refused: bool) -> str:
    """Classify one question: answering an answerable one or refusing an unanswerable one is a success."""
    if answerable:
        return "false_refusal" if refused else "correct_answer_attempt"
    return "correct_refusal" if refused else "missed_refusal"


# --------------------------------------------------------------------------- aggregation


def _present(values: Iterable[float | None]) -> list[float]:
    """The values that carry a number: None and NaN are absent, not zero."""
    out = []
    for v in values:
        if v is None:
            continue
        f = float(v)
        if not math.isnan(f):
            out.append(f)
    return out


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the non-None values; None when there are none (never NaN)."""
    xs = _present(values)
    return sum(xs) / len(xs) if xs else None


def percentile(values: Iterable[float | None], p: float) -> float | None:
    """The p-th percentile (0..100, linear interpolation) of the non-None values; None when there are none."""
    if not 0 <= p <= 100:
        raise ValueError(f"p must be in [0, 100], got {p}")
    xs = sorted(_present(values))
    if not xs:
        return None
    pos = (len(xs) - 1) * p / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Iterable[float | None]) -> float | None:
    """Median of the non-None values (robust to one slow outlier for latencies); None when there are none."""
    return percentile(values, 50)


def _share(flags: list[bool]) -> float | None:
    """Fraction of True flags; None for an empty list."""
    return sum(flags) / len(flags) if flags else None


def summarize(rows: list[dict]) -> dict:
    """Aggregate per-question rows into the report's figures; empty groups give None, never NaN."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if not r.get("refused", False)]

    out: dict = {"n": len(rows), "n_answerable": len(answerable), "n_unanswerable": len(unanswerable)}
    for key in RETRIEVAL_KEYS:
        out[key] = mean(r.get(key) for r in answerable)
    for key in ANSWER_KEYS:
        out[key] = mean(r.get(key) for r in answered)

    out["premise_corrected"] = mean(r.get("premise_corrected") for r in answerable)
    out["refusal_accuracy"] = _share([bool(r.get("refused", False)) for r in unanswerable])
    false_refusal_rate = _share([bool(r.get("refused", False)) for r in answerable])
    out["false_refusal_rate"] = false_refusal_rate
    out["answer_rate"] = None if false_refusal_rate is None else 1.0 - false_refusal_rate

    for key, name in TIMING_KEYS:
        out[name] = median((r.get("timings") or {}).get(key) for r in rows)
    return out
