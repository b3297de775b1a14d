"""Staff insights from the question log: what the class asks, what the slides leave unanswered, how items do.

Everything here is an aggregate: counts per day, section and slide; refused or barely answerable
questions clustered by meaning (the shipped embedder's vectors, scikit-learn's agglomerative
clustering on cosine distance) with their nearest slides, the list a TA turns into slide notes;
slides nobody's answer cited; and classical item analysis of practice items (share right, how often
each option was picked, items nearly everyone gets right or wrong, options nobody picks).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.corpus.index import Index
from assistant.practice.items import LETTERS, PracticeItem
from assistant.storage import atomic_write_text
from assistant.study.db import StudyDB
from assistant.study.questionlog import DAY

LOW_ANSWERABILITY = 0.45  # the gate refuses below 0.30; just above it, answers rest on thin evidence
CLUSTER_DISTANCE = 0.55  # cosine distance within which two questions count as asking the same thing
MAX_CLUSTERED = 2000  # distinct gap questions clustered (the most frequent): agglomerative is quadratic
MIN_SHOWN = 5  # answers before an item's share right is flagged
EASY, HARD = 0.9, 0.2
Embed = Callable[[list[str]], np.ndarray]


@dataclass
class Gap:
    """Questions that ask the same thing and the slides do not answer well."""

    size: int  # questions asked, repeats included
    questions: list[str]  # the distinct questions, most often asked first
    nearest: list[str]  # slide titles closest to the cluster

    @property
    def examples(self) -> list[str]:
        return self.questions[:3]


@dataclass
class ItemStats:
    item_id: int
    question: str
    shown: int
    right: float  # share answered right
    picks: dict[str, int]  # MCQ letter -> times chosen
    flags: list[str]


@dataclass
class Insights:
    days: float | None  # the period, None for everything logged
    questions: int = 0
    refused: int = 0
    per_day: dict[str, int] = field(default_factory=dict)
    per_section: dict[str, int] = field(default_factory=dict)
    top_slides: list[tuple[str, int]] = field(default_factory=list)  # cited slides, most often first
    gaps: list[Gap] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)  # slide titles no answer cited
    items: list[ItemStats] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _title(index: Index, slide_id: str) -> str:
    chunk = next((c for c in index.chunks if c.slide_id == slide_id), None)
    return f"slide {chunk.slide}: {chunk.title}" if chunk else slide_id


def compute(db: StudyDB, index: Index, embed: Embed, days: float | None = None, now: float | None = None) -> Insights:
    """The insights of the last ``days`` (all logged questions when None)."""
    now = now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp()
    since = now - days * DAY if days else 0.0
    result = Insights(days)
    rows = db.query(
        "SELECT asked, question, section, cited, refused, answerability FROM questions WHERE asked >= ?", (since,)
    )
    result.questions = len(rows)
    result.refused = sum(r["refused"] for r in rows)
    day = Counter(datetime.datetime.fromtimestamp(r["asked"], datetime.timezone.utc).date().isoformat() for r in rows)
    result.per_day = dict(sorted(day.items()))
    result.per_section = dict(Counter(r["section"] or "(no slide)" for r in rows).most_common())
    cited = Counter(slide for r in rows for slide in json.loads(r["cited"]))
    result.top_slides = [(_title(index, s), n) for s, n in cited.most_common(10)]
    slide_ids = list(dict.fromkeys(c.slide_id for c in index.chunks))
    result.uncited = [_title(index, s) for s in slide_ids if s not in cited]
    gaps = Counter(r["question"] for r in rows if r["refused"] or r["answerability"] < LOW_ANSWERABILITY)
    result.gaps = _clusters(gaps, index, embed, result.notes)
    result.items = item_analysis(db, since)
    if not result.items:
        result.notes.append("No practice answers are logged for this period yet, so there is no item analysis.")
    return result


def _clusters(questions: Counter, index: Index, embed: Embed, notes: list[str]) -> list[Gap]:
    """The gap questions grouped by meaning, largest group first, each with its nearest slides."""
    if not questions:
        return []
    texts = [q for q, _ in questions.most_common(MAX_CLUSTERED)]
    if len(questions) > MAX_CLUSTERED:
        notes.append(f"Only the {MAX_CLUSTERED} most frequent of {len(questions)} distinct gap questions were grouped.")
    vectors = np.asarray(embed(texts), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    if len(texts) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        labels = AgglomerativeClustering(
            n_clusters=None, distance_threshold=CLUSTER_DISTANCE, metric="cosine", linkage="average"
        ).fit_predict(vectors)
    slide_vectors = index.vectors / (np.linalg.norm(index.vectors, axis=1, keepdims=True) + 1e-9)
    gaps = []
    for label in set(labels.tolist()):
        members = [i for i, lab in enumerate(labels) if lab == label]
        centre = vectors[members].mean(axis=0)
        nearest = np.argsort(-(slide_vectors @ centre))[:2]
        size = sum(questions[texts[i]] for i in members)
        asked = sorted((texts[i] for i in members), key=lambda q: -questions[q])
        titles = list(dict.fromkeys(f"slide {index.chunks[i].slide}: {index.chunks[i].title}" for i in nearest))
        gaps.append(Gap(size, asked, titles))
    return sorted(gaps, key=lambda g: -g.size)


def _letter(item: PracticeItem, response: str) -> str | None:
    answer = response.strip()
    if len(answer) == 1 and answer.upper() in LETTERS[: len(item.options)]:
        return answer.upper()
    return LETTERS[item.options.index(answer)] if answer in item.options else None


def item_analysis(db: StudyDB, since: float = 0.0) -> list[ItemStats]:
    """Per practice item answered in the period: shown, share right, option picks, flags."""
    rows = db.query(
        "SELECT items.id AS id, items.item AS item, item_log.response AS response, item_log.correct AS correct"
        " FROM item_log JOIN items ON items.id = item_log.item_id WHERE item_log.answered >= ? ORDER BY items.id",
        (since,),
    )
    by_item: dict[int, list] = {}
    for row in rows:
        by_item.setdefault(row["id"], []).append(row)
    stats = []
    for item_id, answers in by_item.items():
        item = PracticeItem.from_dict(json.loads(answers[0]["item"]))
        right = sum(a["correct"] for a in answers) / len(answers)
        picks: dict[str, int] = {}
        if item.type == "mcq":
            picks = {letter: 0 for letter in LETTERS[: len(item.options)]}
            for a in answers:
                letter = _letter(item, a["response"])
                if letter:
                    picks[letter] += 1
        flags = []
        if len(answers) >= MIN_SHOWN and right >= EASY:
            flags.append("almost everyone gets it right")
        if len(answers) >= MIN_SHOWN and right <= HARD:
            flags.append("almost everyone gets it wrong")
        if len(answers) >= 2 * MIN_SHOWN:
            flags += [f"option {letter} is never picked" for letter, n in picks.items() if n == 0]
        stats.append(ItemStats(item_id, item.question, len(answers), round(right, 3), picks, flags))
    return stats


def markdown(insights: Insights) -> str:
    """The report as Markdown, for the Staff tab and the course's records."""
    period = f"the last {insights.days:g} days" if insights.days else "everything logged"
    lines = [f"## Class insights ({period})", "", f"{insights.questions} questions, {insights.refused} refused.", ""]
    lines += ["### Questions per section", "", "| section | questions |", "|---|---|"]
    lines += [f"| {s} | {n} |" for s, n in insights.per_section.items()]
    lines += ["", "### Most-cited slides", ""] + [f"- {t}: {n}" for t, n in insights.top_slides]
    lines += ["", "### What the slides do not answer well (refused or barely answerable, grouped)", ""]
    for gap in insights.gaps:
        examples = "; ".join(f"“{q}”" for q in gap.examples)
        lines.append(f"- **{gap.size}** question(s), e.g. {examples}. Nearest: {', '.join(gap.nearest)}")
    lines += ["", f"### Slides no answer cited ({len(insights.uncited)})", ""]
    lines += [f"- {t}" for t in insights.uncited]
    lines += ["", "### Practice items", "", "| item | answers | right | picks | flags |", "|---|---|---|---|---|"]
    for s in insights.items:
        picks = " ".join(f"{k}:{v}" for k, v in s.picks.items())
        lines.append(f"| {s.item_id}: {s.question} | {s.shown} | {s.right:.0%} | {picks} | {'; '.join(s.flags)} |")
    return "\n".join(lines + [""] + [f"_{note}_" for note in insights.notes]) + "\n"


def write_report(insights: Insights, folder: Path) -> list[Path]:
    """report.md, questions per day and per section as CSV, and a plot of each; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "report.md"]
    atomic_write_text(written[0], markdown(insights))
    for name, counts in (("per_day", insights.per_day), ("per_section", insights.per_section)):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([name.removeprefix("per_"), "questions"])
        writer.writerows(counts.items())
        atomic_write_text(folder / f"{name}.csv", out.getvalue())
        written += [folder / f"{name}.csv", _plot(counts, name.replace("_", " "), folder / f"{name}.png")]
    return written


def _plot(counts: dict[str, int], title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.barh(list(counts)[::-1], list(counts.values())[::-1], color="#4c72b0")
    ax.set_title(f"Questions {title}")
    ax.set_xlabel("questions")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
