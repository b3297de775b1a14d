"""Question bank: what the shipped bank holds, and how long a student waits for a set drawn from it.

Opens a fresh study database in a temporary folder (so it takes the shipped ``index/bank.json`` as
a fresh clone does), then draws a 5-question set of each type for every section, timing each draw
from the request to the items in hand (no model is loaded: a draw the bank cannot fill would need
one, and is reported as such). Prints the CPU it ran on, items per section and type, and the draw
times (median and maximum).

    .venv/bin/python bench/bank.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.engines.choice import machine  # noqa: E402
from assistant.practice.items import QTYPES  # noqa: E402
from assistant.practice.slides import sections  # noqa: E402


def main() -> None:
    from assistant.corpus.index import load
    from assistant.study.store import open_study

    with tempfile.TemporaryDirectory() as folder:
        settings = replace(Settings.from_env(), study_db=Path(folder) / "study.sqlite")
        start = time.perf_counter()
        study = open_study(settings)
        opened = time.perf_counter() - start
        chunks = load(settings.index_dir).chunks
        counts = study.bank.counts()
        print(f"CPU: {machine().describe()}\n")
        print(f"fresh database with the shipped bank: {opened * 1000:.0f} ms\n")
        print("| section | " + " | ".join(QTYPES) + " | 5-question draw, ms (median / max) |")
        print("|---|" + "---|" * len(QTYPES) + "---|")
        for section in sections(chunks):
            times, short = [], []
            for qtype in QTYPES:
                start = time.perf_counter()
                drawn = study.bank.draw(5, qtype, section)
                times.append((time.perf_counter() - start) * 1000)
                if len(drawn) < 5:
                    short.append(f"{qtype} {len(drawn)}")
            cells = " | ".join(str(counts.get((section, qtype), 0)) for qtype in QTYPES)
            print(f"| {section} | {cells} | {statistics.median(times):.1f} / {max(times):.1f} |")
        print(f"\ntotal: {sum(counts.values())} items")


if __name__ == "__main__":
    main()
