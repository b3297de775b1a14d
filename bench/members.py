"""The member-of-key reading on hand-made pairs: how often it agrees with the labels, and what a reading costs.

``eval/member_pairs.jsonl`` holds pairs of a wrong option and a key, each labelled ``member`` when the
option is a part, a kind or an example of what the key names, or another name for it ("Music" for
"Language and audio"), and not when it is a fair wrong option ("domain generalization" for "domain
adaptation"). Prints P("Yes") per pair and the agreement at ``members.MEMBER_YES``.

    .venv/bin/python bench/members.py [--engine llamacpp]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.assistant import Assistant  # noqa: E402
from assistant.answering.judge import yes_probability  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.engines.choice import machine  # noqa: E402
from assistant.practice.members import MEMBER_YES, key_parts, member_messages, same_words  # noqa: E402

PAIRS = ROOT / "eval" / "member_pairs.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["transformers", "llamacpp", "openai"], default=None)
    args = parser.parse_args()
    gen = Assistant(Settings.from_env(engine=args.engine)).generator()
    print(f"CPU: {machine().describe()}")
    rows, seconds = [], []
    for pair in map(json.loads, PAIRS.read_text(encoding="utf-8").splitlines()):
        parts = key_parts(pair["key"])
        lexical = any(same_words(pair["option"], part) for part in parts)
        start = time.perf_counter()
        score = max(yes_probability(gen, member_messages(pair["option"], part)) for part in parts)
        seconds.append((time.perf_counter() - start) / len(parts))
        said = lexical or score >= MEMBER_YES
        rows.append((pair["member"], said))
        print(
            f"{'member' if pair['member'] else 'fair':6} P(yes) {score:.2f} words {lexical!s:5} -> {said!s:5}  "
            f"{pair['option']!r} for {pair['key']!r}"
        )
    members = [said for label, said in rows if label]
    fair = [said for label, said in rows if not label]
    print(
        f"members caught {sum(members)} / {len(members)}; fair options flagged {sum(fair)} / {len(fair)} "
        f"(P(yes) >= {MEMBER_YES}); median {statistics.median(seconds):.2f} s a reading"
    )


if __name__ == "__main__":
    main()
