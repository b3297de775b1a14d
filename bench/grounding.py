"""Agreement of the harness's grounding check with hand labels.

The harness calls an answer sentence grounded when its cited slide supports it lexically
(``support.lexical_support`` >= ``support.SUPPORTED``). ``eval/grounding_labels.jsonl`` holds answer
sentences from an evaluation run, each with the slide it cites and a label written by a person who
read both (``supported``: true/false). This script prints how often the check agrees with the
labels, and its precision and recall for "supported".

    .venv/bin/python bench/grounding.py                       # agreement on the labelled sentences
    .venv/bin/python bench/grounding.py --sample RESULTS --n 40 > candidates.jsonl
        # unlabelled candidates (sentence + cited slide) drawn from an eval run's results.jsonl

Writes nothing; the figures go in docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.citations import SUPPORTED, lexical_support  # noqa: E402
from assistant.corpus import index as ix  # noqa: E402
from assistant.corpus.chunking import Chunk  # noqa: E402

LABELS = ROOT / "eval" / "grounding_labels.jsonl"


def slides() -> dict[str, Chunk]:
    return {c.slide_id: c for c in ix.load(ROOT / "index").chunks}


def sample(results: Path, n: int, seed: int) -> None:
    """Print ``n`` answer sentences with their cited slide, for a person to label (no scores shown)."""
    by_id = slides()
    candidates = []
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for sentence in row.get("sentences") or []:
            if sentence.get("source") in by_id:
                candidates.append({"id": row["id"], "sentence": sentence["text"], "slide": sentence["source"]})
    random.Random(seed).shuffle(candidates)
    for item in candidates[:n]:
        print(json.dumps({**item, "slide_text": by_id[item["slide"]].search_text, "supported": None}))


def _rows(path: Path) -> list[dict]:
    """The rows of a JSON-lines labels (or judge) file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _label(row: dict) -> str:
    """A label's three-way verdict; two-way labels count unsupported sentences as "unsupported"."""
    return row.get("verdict", "supported" if row["supported"] else "unsupported")


def agreement(path: Path) -> None:
    by_id = slides()
    rows = _rows(path)
    pairs = []
    for row in rows:
        predicted = lexical_support(row["sentence"], by_id[row["slide"]].search_text) >= SUPPORTED
        pairs.append((predicted, bool(row["supported"])))
    agree = sum(p == h for p, h in pairs)
    tp = sum(p and h for p, h in pairs)
    said_yes = sum(p for p, _ in pairs)
    truly_yes = sum(h for _, h in pairs)
    print(f"{len(pairs)} hand-labelled sentences ({truly_yes} supported, {len(pairs) - truly_yes} not)")
    print(f"agreement: {agree}/{len(pairs)} = {agree / len(pairs):.3f}")
    if said_yes:
        print(f"precision for 'supported': {tp}/{said_yes} = {tp / said_yes:.3f}")
    if truly_yes:
        print(f"recall for 'supported': {tp}/{truly_yes} = {tp / truly_yes:.3f}")
    for (predicted, human), row in zip(pairs, rows, strict=True):
        if predicted != human:
            print(f"  disagree (check {predicted}, label {human}): {row['sentence'][:100]!r} on {row['slide']}")


def truth_agreement(path: Path) -> None:
    """How the truth check (``assistant.truth``) does on the three-way labels: contradictions caught, false alarms."""
    from assistant.answering.citations import evidence_text
    from assistant.answering.truth import check

    by_id = slides()
    rows = _rows(path)
    flagged: dict[str, list[tuple[dict, object]]] = {}
    for row in rows:
        verdict = check(row["sentence"], evidence_text(by_id[row["slide"]].search_text), row.get("question", ""))
        flagged.setdefault(_label(row), []).append((row, verdict))
    print(f"truth check on {len(rows)} hand-labelled sentences")
    for label in ("contradicted", "supported", "unsupported"):
        group = flagged.get(label, [])
        hits = [(r, v) for r, v in group if not v.ok]
        share = f"{len(hits) / len(group):.3f}" if group else "n/a"
        print(f"  {label}: flagged {len(hits)}/{len(group)} = {share}")
    caught = [v for r, v in flagged.get("contradicted", []) if not v.ok]
    false_alarms = [v for r, v in flagged.get("supported", []) if not v.ok]
    if caught or false_alarms:
        print(f"  precision for 'contradicted': {len(caught)}/{len(caught) + len(false_alarms)}")
    for label, want in (("contradicted", False), ("supported", True)):
        for row, verdict in flagged.get(label, []):
            if verdict.ok is not want:
                print(f"  {label}, check {verdict.reason or 'ok'}: {row['id']} {row['sentence'][:110]!r}")


def combined_scores(path: Path) -> None:
    """The product's verdict on each label of a ``--judge`` file: the cheap reading, then, where the product asks
    the judge (``judge.worth_reading``), P(Yes) against its bar."""
    from assistant.answering.citations import evidence_text
    from assistant.answering.judge import worth_reading
    from assistant.answering.truth import check

    by_id = slides()
    rows = _rows(path)
    flagged: dict[str, list[bool]] = {}
    read = 0
    for row in rows:
        text, question = evidence_text(by_id[row["slide"]].search_text), row.get("question", "")
        cheap = check(row["sentence"], text, question)
        reads = cheap.ok and worth_reading(row["sentence"], text, question)
        read += reads
        flagged.setdefault(_label(row), []).append(not cheap.ok or (reads and row["p_yes"] < row["bar"]))
    print(f"cheap reading + judge on {len(rows)} hand-labelled sentences ({path.name})")
    for label in ("contradicted", "supported", "unsupported"):
        group = flagged.get(label, [])
        print(f"  {label}: flagged {sum(group)}/{len(group)}" + (f" = {sum(group) / len(group):.3f}" if group else ""))
    seconds = sorted(row["seconds"] for row in rows)
    print(f"  judge: read {read} of {len(rows)} sentences, median {seconds[len(seconds) // 2]:.2f} s a sentence")


def judge_scores(path: Path, out: Path, template: str = "judge_user", limit: int = 0) -> None:
    """The packaged model's agreement with every labelled sentence, as the product reads it (``judge.agreement``).

    With another ``template`` than the default, every sentence is judged by that statement prompt instead.
    """
    import time

    from assistant.answering.assistant import Assistant
    from assistant.answering.judge import JUDGE_YES, agreement, judge_messages, yes_probability
    from assistant.config import Settings

    assistant = Assistant(Settings.from_env())
    assistant.warm(slides="now")
    gen = assistant.generator()
    by_id = slides()
    rows = _rows(path)
    rows = rows[:limit] if limit else rows
    seconds = []
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            start = time.perf_counter()
            chunk, question = by_id[row["slide"]], row.get("question", "")
            if template == "judge_user":
                p, bar = agreement(gen, chunk, row["sentence"], question)
            else:
                p, bar = yes_probability(gen, judge_messages(chunk, row["sentence"], question, template)), JUDGE_YES
            seconds.append(time.perf_counter() - start)
            verdict = {"p_yes": round(p, 4), "bar": bar, "seconds": round(seconds[-1], 3)}
            handle.write(json.dumps({**row, **verdict}) + "\n")
            handle.flush()
    seconds.sort()
    print(f"judged {len(rows)} sentences; median {seconds[len(seconds) // 2]:.2f} s a sentence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--sample", type=Path, default=None, help="results.jsonl to draw unlabelled sentences from")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--truth", action="store_true", help="score the truth check on the three-way labels")
    parser.add_argument("--judge", type=Path, default=None, help="write the model judge's P(Yes) per label to FILE")
    parser.add_argument("--judge-prompt", default="judge_user", help="the judge's prompt file (assistant/prompts)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N labels")
    parser.add_argument("--score", type=Path, default=None, help="score a --judge FILE, the cheap reading first")
    args = parser.parse_args()
    if args.score:
        combined_scores(args.score)
    elif args.judge:
        judge_scores(args.labels, args.judge, args.judge_prompt, args.limit)
    elif args.truth:
        truth_agreement(args.labels)
    elif args.sample:
        sample(args.sample, args.n, args.seed)
    else:
        agreement(args.labels)


if __name__ == "__main__":
    main()
