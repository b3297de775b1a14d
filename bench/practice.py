"""Practice-question generation: speed, first-try acceptance, rejections, and how well keys are grounded.

Generates ``--n`` MCQs over the whole deck (round-robin over sections) with the default chat model and
prints, as Markdown: the median seconds per accepted question (retries included), the share accepted
at the first attempt, the rejections by reason, and the share of accepted items whose key is supported
by the cited slide, recomputed independently of the generation checks with the answer pipeline's
grounding score (``support.best_support``: 0.6 lexical + 0.4 dense >= ``SUPPORTED``) and by retrieval
(is the cited slide in the top 3 for question + key?).

    .venv/bin/python bench/practice.py [--n 20] [--model qwen2.5-coder-1.5b] [--engine llamacpp] [--json out.json]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.assistant import Assistant  # noqa: E402
from assistant.answering.citations import SUPPORTED  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.engines.choice import machine  # noqa: E402
from assistant.evaluation.practice import key_support  # noqa: E402
from assistant.practice.export import export_json  # noqa: E402
from assistant.practice.sets import generate_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--model", default=None, help="chat model key (default: the configured default)")
    parser.add_argument("--engine", choices=["transformers", "llamacpp", "openai"], default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the accepted items here")
    parser.add_argument("--log", action="store_true", help="log every attempt, and why it was rejected, to stderr")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(relativeCreated)8.0f ms %(message)s")
    if args.log:
        logging.getLogger("assistant.practice").setLevel(logging.INFO)

    settings = Settings.from_env(model=args.model, engine=args.engine)
    assistant = Assistant(settings)
    assistant.warm(slides="now")  # practice prompts open like answer prompts: the app keeps these KV caches
    start = time.perf_counter()
    result = generate_set(
        assistant,
        n=args.n,
        qtype="mcq",
        progress=lambda done, n, status: print(f"  [{done}/{n}] {status}", file=sys.stderr, flush=True),
    )
    wall = time.perf_counter() - start
    if args.json:
        export_json(result.items, args.json)

    scores = [key_support(assistant, item) for item in result.items]
    supported = sum(score >= SUPPORTED for score, _ in scores)
    retrieved = sum(top for _, top in scores)
    accepted = len(result.items)
    per_section: dict[str, int] = {}
    sections = {c.slide_id: c.section for c in assistant.index.chunks}
    for item in result.items:
        name = sections[item.source[0].slide_id]
        per_section[name] = per_section.get(name, 0) + 1

    print(f"# Practice questions: {args.n} MCQs over the whole deck\n")
    print(
        f"- model: {result.model}; engine: {assistant.settings.engine}; {settings.threads} threads; "
        f"wall time {wall / 60:.1f} min"
    )
    print(f"- CPU: {machine().describe()}")
    print(f"- {result.message}")
    if result.barren:
        print(f"- slides whose every draft failed: {'; '.join(result.barren)}")
    print(f"- accepted: {accepted} of {args.n} requested, in {result.attempts} attempts")
    if result.seconds_per_accepted:
        times = result.seconds_per_accepted
        print(
            f"- time per accepted question (retries included): median {statistics.median(times):.1f} s, "
            f"min {min(times):.0f} s, max {max(times):.0f} s"
        )
    print(
        f"- accepted at the first attempt: {result.first_try_accepted} of {args.n} questions "
        f"({result.first_try_accepted / args.n:.0%})"
    )
    print(
        f"- attempts accepted overall: {accepted} of {result.attempts} ({accepted / max(1, result.attempts):.0%}); "
        f"{result.repaired} accepted after a draft got new wrong options"
    )
    print("\n## Rejections by reason\n")
    print("| reason | count |\n|---|---|")
    for reason, count in result.rejections.most_common() or [("(none)", 0)]:
        print(f"| {reason} | {count} |")
    print("\n## Grounding of accepted keys (recomputed independently)\n")
    if accepted:
        print(
            f"- question + key supported by the cited slide (answer-pipeline score >= {SUPPORTED}): "
            f"{supported} of {accepted} ({supported / accepted:.0%}); "
            f"median score {statistics.median(s for s, _ in scores):.2f}"
        )
        print(
            f"- cited slide in the top 3 retrieved for question + key: {retrieved} of {accepted} "
            f"({retrieved / accepted:.0%})"
        )
    print("\n## Accepted questions by section\n")
    for name, count in per_section.items():
        print(f"- {name}: {count}")
    print("\n## Accepted questions\n")
    for n, (item, (score, top)) in enumerate(zip(result.items, scores, strict=True), start=1):
        src = item.source[0]
        print(
            f"{n}. {item.question}  \n   key: {item.answer} | distractors: "
            f"{'; '.join(o for o in item.options if o != item.answer)}  \n"
            f"   slide {src.slide} ({src.title}), support {score:.2f}, in top 3: {'yes' if top else 'no'}"
        )


if __name__ == "__main__":
    main()
