"""Retrieval quality and speed: dense, BM25 and hybrid, for each packaged embedder.

Prints hit@1, hit@4 and MRR on the answerable questions of ``eval/qa.jsonl``, index build time,
and query latency (p50/p99 over 200 queries, query embedding included); with ``--gate`` it also
prints the answerability trade-off used to pick the refusal threshold.

    .venv/bin/python bench/retrieval.py [--embedders minilm mpnet] [--gate]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.corpus import index as ix  # noqa: E402
from assistant.evaluation.metrics import hit_at_k, reciprocal_rank, relevance  # noqa: E402
from assistant.evaluation.qa import read_qa  # noqa: E402
from assistant.retrieval.embed import SentenceTransformerEmbedder  # noqa: E402
from assistant.retrieval.hybrid import MODES, Retriever  # noqa: E402
from assistant.weights import embedder_spec, set_offline  # noqa: E402


def quality(retriever: Retriever, items) -> dict[str, float]:
    rows = []
    for item in items:
        hits = retriever.search(item.question, 5).hits
        rows.append(relevance([(h.chunk.slide_id, h.chunk.title) for h in hits], item.gold))
    return {
        "hit@1": statistics.mean(hit_at_k(r, 1) for r in rows),
        "hit@4": statistics.mean(hit_at_k(r, 4) for r in rows),
        "mrr": statistics.mean(reciprocal_rank(r) for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", nargs="+", default=["minilm", "mpnet"])
    parser.add_argument("--qa", type=Path, default=ROOT / "eval" / "qa.jsonl")
    parser.add_argument("--gate", action="store_true", help="print the answerability threshold trade-off")
    args = parser.parse_args()
    set_offline()
    settings = Settings.from_env()
    items, _ = read_qa(args.qa)
    answerable = [i for i in items if i.answerable]
    print(f"{len(answerable)} answerable questions from {args.qa.name}\n")
    print("| embedder | mode | hit@1 | hit@4 | MRR | build s | query p50 ms | query p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for key in args.embedders:
        embedder = SentenceTransformerEmbedder(embedder_spec(key), settings.cache_dir, settings.threads)
        embedder.embed(["load the model before timing"])
        start = time.perf_counter()
        index, _, _ = ix.build(settings.corpus_dir, embedder)
        with tempfile.TemporaryDirectory() as tmp:
            ix.save(index, Path(tmp))
        build_s = time.perf_counter() - start
        for mode in MODES:
            retriever = Retriever(index, embedder, mode)
            q = quality(retriever, answerable)
            latencies = []
            for n in range(200):
                t = time.perf_counter()
                retriever.search(answerable[n % len(answerable)].question, 5)
                latencies.append((time.perf_counter() - t) * 1000)
            latencies.sort()
            print(
                f"| {key} | {mode} | {q['hit@1']:.3f} | {q['hit@4']:.3f} | {q['mrr']:.3f} | {build_s:.1f} | "
                f"{latencies[99]:.1f} | {latencies[197]:.1f} |"
            )
        if args.gate:
            retriever = Retriever(index, embedder, "hybrid")
            scores = [(retriever.search(i.question, 4).answerability, i.answerable) for i in items]
            print(f"\nanswerability trade-off ({key}): threshold, answerable kept, unanswerable refused")
            for threshold in [0.20, 0.25, 0.28, 0.30, 0.32, 0.35, 0.40]:
                kept = sum(s >= threshold for s, a in scores if a) / max(1, sum(a for _, a in scores))
                refused = sum(s < threshold for s, a in scores if not a) / max(1, sum(not a for _, a in scores))
                print(f"  {threshold:.2f}  {kept:.3f}  {refused:.3f}")


if __name__ == "__main__":
    main()
