"""Agreement of the harness's grounding check with hand labels.

The harness calls an answer sentence grounded when its cited slide supports it lexically
(``support.lexical_support`` >= ``support.SUPPORTED``). ``eval/grounding_labels.jsonl`` holds answer
sentences from an evaluation run, each with the slide it cites and a label written by a person who
read both (``supported``: true/false). This script prints how often the check agrees with the
labels, and its precision and recall for "supported".

    .venv/bin/python bench/grounding.py                       # agreement on the labelled sentences
    .venv/bin/python bench/grounding.py --sample RESULTS --n 40 > candidates.jsonl
        # unlabelled candidates (sentence + cited slide) drawn from an eval run's results.jsonl

Writes nothing; the figures go in the README.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import index as ix  # noqa: E402
from assistant.chunking import Chunk  # noqa: E402
from assistant.support import SUPPORTED, lexical_support  # noqa: E402

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


def agreement(path: Path) -> None:
    by_id = slides()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--sample", type=Path, default=None, help="results.jsonl to draw unlabelled sentences from")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.sample:
        sample(args.sample, args.n, args.seed)
    else:
        agreement(args.labels)


if __name__ == "__main__":
    main()
