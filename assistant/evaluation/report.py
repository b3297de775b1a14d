"""The evaluation report: ``report.md`` with a headline table of every variant and PNG plots.

Plots use matplotlib's Agg backend (no display needed): the hit@k curve of each variant, the
product's scores per deck section, and its latency distribution.
"""

from __future__ import annotations

from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation import metrics
from assistant.storage import atomic_write_text, read_json, read_jsonl

ORDER = ("default", "dense", "bm25", "closed-book")
HEADLINE = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("ndcg@5", "nDCG@5"),
    ("fact_recall", "key-fact recall"),
    ("token_f1", "token F1"),
    ("embedding_similarity", "embedding sim."),
    ("citation_accuracy", "citation acc."),
    ("grounding", "grounding"),
    ("truth", "truth"),
    ("premise_corrected", "premise corrected"),
    ("refusal_accuracy", "refusal acc."),
    ("false_refusal_rate", "false refusals"),
    ("median_ttft_s", "median TTFT s"),
    ("median_total_s", "median total s"),
]


def fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _runs(out: Path) -> dict[str, tuple[dict, list[dict]]]:
    runs = {}
    for folder in sorted((out / "runs").glob("*")):
        summary = read_json(folder / "metrics.json")
        if summary is None:
            continue
        rows = read_jsonl(folder / "results.jsonl")
        runs[folder.name] = (summary, rows)
    return dict(sorted(runs.items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else 99))


def _plots(out: Path, runs: dict[str, tuple[dict, list[dict]]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for name, (_, rows) in runs.items():
        rels = [r["rel"] for r in rows if r.get("answerable") and r.get("rel") is not None]
        if rels:
            ks = range(1, 6)
            ax.plot(
                list(ks), [metrics.mean(metrics.hit_at_k(rel, k) for rel in rels) for k in ks], marker="o", label=name
            )
    ax.set(xlabel="k", ylabel="hit@k", title="Gold slide in the top k", ylim=(0, 1.02))
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "hit_at_k.png", dpi=110)
    plt.close(fig)
    made.append("hit_at_k.png")

    main = runs.get("default") or next(iter(runs.values()))
    sections = main[0].get("sections", {})
    if sections:
        names = list(sections)
        fig, ax = plt.subplots(figsize=(7, 3.8))
        xs = range(len(names))
        for offset, key in ((-0.2, "hit@3"), (0.2, "fact_recall")):
            ax.bar([x + offset for x in xs], [sections[n].get(key) or 0 for n in names], width=0.4, label=key)
        ax.set_xticks(list(xs), [n[:22] for n in names], rotation=25, ha="right", fontsize=8)
        ax.set(ylim=(0, 1.05), title="Scores per deck section")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "sections.png", dpi=110)
        plt.close(fig)
        made.append("sections.png")

    totals = [r["timings"].get("total_s") for r in main[1] if r.get("timings") and not r.get("refused")]
    totals = [t for t in totals if t is not None]
    if totals:
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.hist(totals, bins=20)
        ax.set(xlabel="seconds", ylabel="answers", title="Answer time (answered questions)")
        fig.tight_layout()
        fig.savefig(out / "latency.png", dpi=110)
        plt.close(fig)
        made.append("latency.png")
    return made


def write_report(out: Path, weakest: int = 8) -> Path:
    """Write ``out/report.md`` from every run under ``out/runs`` and ``out/practice``; returns its path."""
    runs = _runs(out)
    practice = read_json(out / "practice" / "metrics.json")
    if not runs and practice is None:
        raise AssistantError(f"no readable runs under {out / 'runs'} and no practice results under {out / 'practice'}")
    lines = ["# Evaluation report", ""]
    if runs:
        lines += _qa_sections(out, runs, weakest)
    if practice is not None:
        lines += _practice_section(practice)
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def _qa_sections(out: Path, runs: dict[str, tuple[dict, list[dict]]], weakest: int) -> list[str]:
    plots = _plots(out, runs)
    names = list(runs)
    lines: list[str] = []
    first = runs[names[0]][0]
    weights = ", ".join(
        f"{first[key]} {label}" for key, label in (("prefill", "prompt"), ("decode", "decode")) if first.get(key)
    )
    lines.append(
        f"{first['n']} questions ({first['n_answerable']} answerable, {first['n_unanswerable']} unanswerable); "
        f"model `{first.get('model', '')}` on the `{first.get('engine', 'transformers')}` engine"
        + (f" ({weights})" if weights else "")
        + (f", {first['context_k']} slides in each prompt" if first.get("context_k") else "")
        + (f" (after the first, up to {first['context_words']} words of each)" if first.get("context_words") else "")
        + (f"; later slides from their saved caches, {first['blend']:.0%} recomputed" if first.get("blend") else "")
        + ". "
        "A correct refusal counts as a success; n/a marks a metric with no data."
    )
    lines += ["", "| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in HEADLINE:
        lines.append(f"| {label} | " + " | ".join(fmt(runs[n][0].get(key)) for n in names) + " |")
    lines += ["", "![hit@k](hit_at_k.png)"] if "hit_at_k.png" in plots else []
    summary, rows = runs.get("default", runs[names[0]])
    if summary.get("sections"):
        lines += [
            "",
            "## Per section (product pipeline)",
            "",
            "| section | n | hit@3 | key-fact recall | answer rate |",
            "|---|---|---|---|---|",
        ]
        for name, s in summary["sections"].items():
            lines.append(
                f"| {name} | {s['n']} | {fmt(s['hit@3'])} | {fmt(s['fact_recall'])} | {fmt(s['answer_rate'])} |"
            )
        lines += ["", "![sections](sections.png)"]
    if "latency.png" in plots:
        lines += ["", "## Latency", "", "![latency](latency.png)"]
    lines += ["", "## Weakest questions (product pipeline)", ""]
    for row in _weakest(rows, weakest):
        why = row["outcome"].replace("_", " ")
        answer = " ".join(row.get("answer", "").split())[:300]
        lines.append(
            f"- **{row['id']}** ({why}; fact recall {fmt(row.get('fact_recall'))}, hit@3 {fmt(row.get('hit@3'))}): "
            f"{row['question']}  \n  → {answer}"
        )
    if summary.get("problems"):
        lines += ["", "## Skipped lines of the Q/A file", ""] + [f"- {p}" for p in summary["problems"]]
    return lines


# The rejection reasons that are item-writing flaws (docs/decisions/item-flaws.md), as the report names them.
FLAWS = {
    "negated_distractors": "every wrong option negated",
    "one_template": "wrong options from one template",
    "absolute_options": "a wrong option in absolute words (always, never, only)",
    "mixed_kinds": "a bare number among answers in words, or the reverse",
    "key_stands_out": "key stands out by length",
    "distractor_on_slide": "a wrong option the slide states",
    "duplicate_options": "two options one answer",
    "member_of_key": "a wrong option a part, kind or other name of the key",
    "distractor_true": "a wrong option the slide makes right (the model's reading)",
}


def _practice_section(p: dict) -> list[str]:
    """Validity, support and duplicate rates of generated practice questions (``assistant eval --practice``)."""
    lines = [
        "",
        "## Practice questions",
        "",
        f"{p['requested']} {p['type']} questions requested over {len(p['sections'])} sections with "
        f"`{p['model']}` ({p.get('engine') or 'transformers'} engine); {p['accepted']} accepted in "
        f"{p['attempts']} attempts (new drafts, and new wrong options for {p['repaired']} accepted ones); "
        f"{fmt(p['wall_s'])} s in all.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| validity (attempts passing every check) | {fmt(p['validity'])} |",
        f"| accepted / requested | {fmt(p['yield'])} |",
        f"| accepted at the first draft | {fmt(p['first_try_rate'])} |",
        f"| key supported by the cited slide (re-scored) | {fmt(p['support_rate'])} |",
        f"| cited slide in the top 3 for question + key | {fmt(p['source_in_top3_rate'])} |",
        f"| attempts rejected as duplicates | {fmt(p['duplicate_rejection_rate'])} |",
        f"| duplicate questions shown (re-checked) | {p['shown_duplicate_questions']} |",
        f"| items with equivalent options shown (re-checked) | {p['shown_duplicate_options']} |",
        f"| median s per accepted question (its failed attempts included) | {fmt(p['median_s_per_accepted'])} |",
        "",
        "Rejections by reason: " + (", ".join(f"{k} {v}" for k, v in p["rejections"].items()) or "none") + ".",
        "",
        "Item-writing flaws caught before an item was shown: "
        + ", ".join(f"{FLAWS[k]} {p['rejections'].get(k, 0)}" for k in FLAWS)
        + ".",
        "",
        "| section | slides with enough text | accepted | attempts | key supported | rejections |",
        "|---|---|---|---|---|---|",
    ]
    for s in p["sections"]:
        why = ", ".join(f"{k} {v}" for k, v in s["rejections"].items()) or "none"
        lines.append(
            f"| {s['section']} | {fmt(s.get('slides'))} | {s['accepted']} of {s['requested']} "
            f"| {s['attempts']} | {s['supported']} | {why} |"
        )
    return lines


def _weakest(rows: list[dict], n: int) -> list[dict]:
    def badness(row: dict) -> float:
        if row["outcome"] in ("false_refusal", "missed_refusal"):
            return 2.0
        if not row.get("answerable"):
            return -1.0
        return (1 - (row.get("fact_recall") if row.get("fact_recall") is not None else 1)) + (1 - row.get("hit@3", 1))

    return [r for r in sorted(rows, key=badness, reverse=True)[:n] if badness(r) > 0]
