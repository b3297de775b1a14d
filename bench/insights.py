"""Staff insights at class scale: log N synthetic questions, then time ``insights.compute`` and the report.

The questions are made from the shipped deck's slide titles (asked about in a few phrasings) and
from off-topic templates (about a third, refused as the gate would refuse them), spread over 30
days, each with retrieved and cited slides and practice answers beside them. Prints the CPU, the
database size, and the time to log and to compute.

    .venv/bin/python bench/insights.py [--n 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.engines.choice import machine  # noqa: E402

PHRASES = ["What is {}?", "Can you explain {}?", "How does {} work?", "Why does the lecture cover {}?", "{} summary"]
OFF = ["best pizza near {}", "how do I fix my {}", "what time does the {} open", "cheap tickets for {}", "{} recipe"]
THINGS = ["campus", "bike", "gym", "library", "concert", "banana bread", "laptop", "game", "phone", "train"]


def main() -> None:
    from assistant.corpus.index import load
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.study import insights
    from assistant.study.db import StudyDB
    from assistant.weights import embedder_spec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    settings = Settings.from_env()
    index = load(settings.index_dir)
    embedder = SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)
    rng = random.Random(0)
    now = time.time()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "study.sqlite"
        db = StudyDB(path)
        rows = []
        for _ in range(args.n):
            chunk = rng.choice(index.chunks)
            off = rng.random() < 0.33
            question = rng.choice(OFF).format(rng.choice(THINGS)) if off else rng.choice(PHRASES).format(chunk.title)
            cited = [] if off else [chunk.slide_id]
            rows.append(
                (
                    now - rng.random() * 30 * 86_400,
                    question,
                    chunk.section,
                    json.dumps([chunk.slide_id]),
                    json.dumps(cited),
                    int(off),
                    "gate" if off else "",
                    0.1 if off else 0.7,
                    3.0,
                    "m",
                    "llamacpp",
                )
            )
        start = time.perf_counter()
        with db.transaction() as conn:  # one transaction for the synthetic history; the app writes one per question
            conn.executemany(
                "INSERT INTO questions (asked, question, section, retrieved, cited, refused, reason, answerability,"
                " seconds, model, engine) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        logged = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in Path(folder).glob("study.sqlite*")) / 1e6
        embedder.embed(["warm up"])
        start = time.perf_counter()
        found = insights.compute(db, index, embedder.embed, days=30, now=now + 1)
        computed = time.perf_counter() - start
        start = time.perf_counter()
        insights.write_report(found, Path(folder) / "report")
        written = time.perf_counter() - start
    print(f"CPU: {machine().describe()}")
    print(f"{args.n} questions: logged in {logged:.1f} s (one transaction); database {size_mb:.1f} MB")
    print(
        f"insights computed in {computed:.2f} s ({len(found.gaps)} gap clusters), report and plots in {written:.2f} s"
    )


if __name__ == "__main__":
    main()
