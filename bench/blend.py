"""Blending probe: later slides from their saved caches (``engines/decoding/blend``) against the whole prompt.

For evaluation prompts in one process (transformers engine, the machine's prompt weights), each
variant (share of reused tokens recomputed, the layer where they are chosen) is compared with the
prompt computed after its first slide: the relative error of its keys and values (mean over
layers), how many of the first 24 greedy reply tokens stay the same, and its prefill time.

    .venv/bin/python bench/blend.py --prompts 24 --tag blend-grid
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = [(0.15, 1), (0.3, 1), (0.5, 1), (0.15, 3), (0.3, 3), (0.15, 6)]  # (share, layer where chosen)


def _error(cache, reference) -> float:
    errors = [
        ((mine.float() - theirs.float()).norm() / theirs.float().norm()).item()
        for a, b in zip(cache.layers, reference.layers, strict=True)
        for mine, theirs in ((a.keys, b.keys), (a.values, b.values))
    ]
    return statistics.mean(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=24)
    parser.add_argument("--tag", default="blend-grid")
    args = parser.parse_args()
    from assistant.answering.assistant import Assistant
    from assistant.config import Settings
    from assistant.engines.choice import machine
    from assistant.engines.decoding import blend, greedy
    from assistant.engines.decoding.kvbuffer import with_room
    from assistant.weights import set_offline

    set_offline()
    settings = Settings.from_env(engine="transformers")
    assistant = Assistant(settings)
    assistant.warm(slides="off")
    gen = assistant.generator()
    gen.warm_prefixes(assistant.slide_prefixes())

    def reply(ids, cache, n=24):
        roomy = with_room(cache, n + 1, gen._decoder.dtype)
        return list(greedy.decode(gen._decoder, ids[0].tolist(), roomy, n, gen._end_ids(), max_draft=0))

    rows = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text().splitlines()]
    rows = rows[3 :: max(1, len(rows) // args.prompts)][: args.prompts]
    figures = {variant: {"error": [], "same": [], "seconds": []} for variant in VARIANTS}
    whole_seconds = []
    for row in rows:
        retrieval, _ = assistant.retrieve(row["question"])
        ids = gen.prompt_ids(assistant.prompt(row["question"], retrieval))["input_ids"]
        gen._settings = replace(settings, blend=0.0)
        start = time.perf_counter()
        whole = gen._kv(ids[:, :-1])
        whole_seconds.append(time.perf_counter() - start)
        expected = reply(ids, gen._kv(ids[:, :-1]))
        for share, layer in VARIANTS:
            blend.CHECK_LAYER = layer
            gen._settings = replace(settings, blend=share)
            start = time.perf_counter()
            cache = gen._kv(ids[:, :-1], blend=True)
            seconds = time.perf_counter() - start
            error = _error(cache, whole)
            figures[(share, layer)]["error"].append(error)
            figures[(share, layer)]["same"].append(reply(ids, cache) == expected)
            figures[(share, layer)]["seconds"].append(seconds)
    lines = [
        f"CPU: {machine().describe()}; {len(rows)} prompts; whole prompt after its first slide: "
        f"median {statistics.median(whole_seconds):.2f} s",
        "",
        "| share recomputed | chosen after layer | mean KV error | first 24 tokens the same | median prefill s |",
        "|---|---|---|---|---|",
    ]
    for (share, layer), f in figures.items():
        lines.append(
            f"| {share} | {layer} | {statistics.mean(f['error']):.3f} | {sum(f['same'])} of {len(rows)} "
            f"| {statistics.median(f['seconds']):.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    (ROOT / "bench" / "results" / f"{args.tag}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
