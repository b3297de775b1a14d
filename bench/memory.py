"""Where the answering process's memory goes: resident memory at each stage of one process.

Loads the assistant as the app does (models, then the slide prefixes), answers the benchmark's
questions one by one, and prints after each stage the resident set split into anonymous memory
(what the process made: packed weights, caches, buffers) and file pages (weights mapped from the
prepared model file, libraries), with the peak so far. Settings come from the environment, so

    .venv/bin/python bench/memory.py
    ASSISTANT_PREFILL=fp32 .venv/bin/python bench/memory.py --questions 10

measure the default path and the path of a CPU without bf16 instructions on one machine.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.answer import QUESTIONS  # noqa: E402

FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def resident() -> dict[str, float]:
    """This process's memory figures in GiB, from /proc/self/status."""
    status = Path("/proc/self/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) / 2**20 for key in FIELDS}


def line(stage: str) -> str:
    m = resident()
    return f"| {stage} | {m['VmRSS']:.2f} | {m['RssAnon']:.2f} | {m['RssFile']:.2f} | {m['VmHWM']:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=6)
    args = parser.parse_args()

    from assistant.answering.assistant import Assistant
    from assistant.config import Settings
    from assistant.engines.choice import machine, resolve
    from assistant.weights import set_offline

    set_offline()
    settings = resolve(Settings.from_env())
    path = settings.engine
    if path == "transformers":
        from assistant.engines.transformers import prefill_mode

        path += f", prompts in {prefill_mode(settings)}, replies in {settings.decode}"
    print(f"machine: {machine().describe()}; engine {path}")
    print("| stage | resident GiB | anonymous | file pages | peak so far |\n|---|---|---|---|---|")
    print(line("imports"), flush=True)
    assistant = Assistant(settings)
    assistant.warm(slides="off")
    print(line("models loaded"), flush=True)
    gen = assistant.generator()
    if gen.keeps_prefixes:
        counts = gen.warm_prefixes(assistant.slide_prefixes())
        print(line(f"slide prefixes ({', '.join(f'{k} {v}' for k, v in counts.items())})"), flush=True)
    for number, question in enumerate(QUESTIONS[: args.questions], 1):
        start = time.perf_counter()
        assistant.answer(question)
        print(line(f"answer {number} ({time.perf_counter() - start:.1f} s)"), flush=True)


if __name__ == "__main__":
    main()
