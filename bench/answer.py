"""Answer benchmark: where the time goes, per engine and model, against llama.cpp as the reference.

Each (engine, model) pair runs in its own process so peak memory is its own. The same fixed
questions (real student questions about the deck) go through the real pipeline, prompt and
all; reply tokens are counted with the model's own tokenizer for every engine alike.

The machines this runs on are shared, and their speed drifts by tens of percent over minutes; so
the engines take turns, round after round (``--rounds``, the first with the page cache dropped),
and the ratio ours / llama.cpp is given per round as well as from the pooled medians.

    .venv/bin/python bench/answer.py                      # both models, transformers and llama.cpp
    .venv/bin/python bench/answer.py --engines transformers --models qwen2.5-coder-0.5b
    .venv/bin/python bench/answer.py --engines transformers transformers:blend=0.15 llamacpp  # a variant

Prints a Markdown table (medians, with min–max) and the ratio ours / llama.cpp, and writes
``bench/results/answer.json`` and ``bench/results/answer.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "When and where is midterm 2?",
    "Is a cheat sheet allowed on the midterm?",
    "What is the simple baseline for anomaly detection?",
    "How do we measure model calibration?",
    "What does adversarial training cost on clean examples?",
    "What is the difference between domain adaptation and domain generalization?",
    "Why are GANs hard to evaluate?",
    "What does MAE mask during training?",
    "What improves adversarial robustness?",
    "What is subpopulation shift?",
    "Which massive language models should I know?",
    "How was the ANLI dataset built?",
]


def child(engine: str, model: str, n: int, extra: dict) -> dict:
    """Run inside the measured process: load, warm, answer the questions, report figures."""
    from dataclasses import replace

    from assistant.answering.assistant import Assistant
    from assistant.config import Settings
    from assistant.weights import chat_spec, require_prepared, set_offline

    set_offline()
    settings = replace(Settings.from_env(engine=engine, model=model), **extra)
    start = time.perf_counter()
    assistant = Assistant(settings)
    assistant.warm(slides="off")
    load_s = time.perf_counter() - start
    # What the app does next, behind the open UI: the KV cache of every slide as a prompt's first.
    start, gen, prefixes = time.perf_counter(), assistant.generator(), None
    if gen.keeps_prefixes:
        prefixes = gen.warm_prefixes(assistant.slide_prefixes())
    prefixes_s = time.perf_counter() - start
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(require_prepared(chat_spec(model), settings.cache_dir)))
    rows = []
    for question in QUESTIONS[:n]:
        retrieval, _ = assistant.retrieve(question)
        messages = assistant.prompt(question, retrieval)
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
        prompt_tokens = len(ids)
        answer = assistant.answer(question)
        reply_tokens = len(tokenizer(answer.model_reply)["input_ids"]) if answer.model_reply else 0
        t = answer.timings
        # From the first piece of the reply to its last: citing and checking the reply come after.
        decode_s = (t["last_token_s"] - t["ttft_s"]) if t.get("ttft_s") else None
        rows.append(
            {
                "question": question,
                "refused": answer.refused,
                "retrieval_s": t["retrieval_s"],
                "prompt_tokens": prompt_tokens,
                "reply_tokens": reply_tokens,
                "ttft_s": t.get("ttft_s"),
                "decode_tok_s": (reply_tokens - 1) / decode_s if decode_s and reply_tokens > 1 else None,
                "judge_s": t.get("judge_s", 0.0),  # the truth check's model reading, inside total_s
                "total_s": t["total_s"],
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"load_s": load_s, "prefixes_s": prefixes_s, "prefixes": prefixes, "peak_rss_mb": peak_mb, "rows": rows}


def _stats(values: list[float | None]) -> dict | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {"median": statistics.median(present), "min": min(present), "max": max(present)}


def _run_child(engine: str, model: str, n: int, extra: dict) -> dict:
    code = (
        f"import json, bench.answer as b; print('RESULT' + json.dumps(b.child({engine!r}, {model!r}, {n}, {extra!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"{engine}/{model} failed:\n{proc.stderr[-2000:]}")
    return json.loads(line[6:])


def drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def _settings(items) -> dict:
    """``k=v`` items (values in JSON) as settings overrides."""
    return {k: json.loads(v) for k, v in (item.split("=", 1) for item in items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engines", nargs="+", default=["transformers", "llamacpp"], help="engine[:k=v,...] (settings of a variant)"
    )
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"])
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="turns of every engine; the first starts cold")
    parser.add_argument("--set", nargs="*", default=[], help="settings overrides for the transformers engine, k=v")
    parser.add_argument("--tag", default="answer", help="name of the result files")
    args = parser.parse_args()
    extra = _settings(args.set)
    runs: dict[str, list[dict]] = {}
    for model in args.models:
        for round_no in range(args.rounds):
            for engine in args.engines:
                cold = round_no == 0 and drop_page_cache()
                name, _, variant = engine.partition(":")
                own = _settings(item for item in variant.split(",") if item)
                run = _run_child(name, model, args.questions, {**(extra if name == "transformers" else {}), **own})
                runs.setdefault(f"{engine}/{model}", []).append({**run, "cold_cache": cold})
                print(f"round {round_no + 1}: {engine}/{model}", file=sys.stderr)
    results = {name: summarize(name, rounds) for name, rounds in runs.items()}
    from assistant.engines.choice import machine

    cpu = machine().describe()
    table = f"CPU: {cpu}\n\n{render(results)}"
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.tag}.json").write_text(
        json.dumps({"cpu": cpu, "settings": extra, "results": results}, indent=2) + "\n"
    )
    (out / f"{args.tag}.md").write_text(table + "\n")


PER_ROUND = ("ttft_s", "decode_tok_s", "total_s")


def summarize(name: str, rounds: list[dict]) -> dict:
    """Figures of one (engine, model) pooled over its rounds, plus each round's medians."""
    engine, model = name.rsplit("/", 1)
    rows = [row for run in rounds for row in run["rows"]]
    answered = [r for r in rows if not r["refused"]]
    per_round = [
        {key: _stats([r[key] for r in run["rows"] if not r["refused"]]) for key in PER_ROUND} for run in rounds
    ]
    return {
        "engine": engine,
        "model": model,
        "cold_cache": rounds[0]["cold_cache"],
        "load_cold_s": rounds[0]["load_s"],
        "load_warm_s": _stats([run["load_s"] for run in rounds[1:]]),
        "prefixes_first_s": rounds[0]["prefixes_s"] if rounds[0]["prefixes"] else None,
        "prefixes_first": rounds[0]["prefixes"],
        "prefixes_again_s": _stats([run["prefixes_s"] for run in rounds[1:] if run["prefixes"]]),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in rounds),
        **{
            key: _stats([r[key] for r in (rows if key == "retrieval_s" else answered)])
            for key in ("retrieval_s", "prompt_tokens", "ttft_s", "decode_tok_s", "judge_s", "total_s", "reply_tokens")
        },
        "rounds": per_round,
        "rows": rows,
    }


def render(results: dict) -> str:
    keys = [
        ("load_cold_s", "load (first) s"),
        ("load_warm_s", "load (warm) s"),
        ("prefixes_first_s", "slide prefix caches, first process s"),
        ("prefixes_again_s", "slide prefix caches, next process s"),
        ("retrieval_s", "retrieval s"),
        ("prompt_tokens", "prompt tokens"),
        ("ttft_s", "TTFT s"),
        ("decode_tok_s", "decode tok/s"),
        ("judge_s", "truth check (judge) s"),
        ("total_s", "total s"),
        ("peak_rss_mb", "peak RSS MB"),
    ]
    names = list(results)
    lines = [f"| figure (median, min–max) | {' | '.join(names)} |", "|---|" + "---|" * len(names)]
    for key, label in keys:
        cells = []
        for name in names:
            value = results[name].get(key)
            if isinstance(value, dict):
                cells.append(f"{value['median']:.3g} ({value['min']:.3g}–{value['max']:.3g})")
            else:
                cells.append("n/a" if value is None else f"{value:.3g}")
        lines.append(f"| {label} | {' | '.join(cells)} |")
    ratios = []
    for name in names:
        engine, model = name.rsplit("/", 1)
        ref = results.get(f"llamacpp/{model}")
        if engine == "llamacpp" or ref is None:
            continue
        parts = []
        for key, label in (
            ("ttft_s", "TTFT"),
            ("decode_tok_s", "decode tok/s"),
            ("total_s", "total"),
            ("peak_rss_mb", "peak RSS"),
        ):
            ours, theirs = results[name].get(key), ref.get(key)
            ours = ours["median"] if isinstance(ours, dict) else ours
            theirs = theirs["median"] if isinstance(theirs, dict) else theirs
            if ours and theirs:
                per_round = [
                    a[key]["median"] / b[key]["median"]
                    for a, b in zip(results[name].get("rounds", []), ref.get("rounds", []), strict=False)
                    if a.get(key) and b.get(key)
                ]
                rounds = f" (rounds: {', '.join(f'{r:.2f}' for r in per_round)})" if len(per_round) > 1 else ""
                parts.append(f"{label} {ours / theirs:.2f}×{rounds}")
        ratios.append(f"- {name} / llamacpp: " + ", ".join(parts))
    if ratios:
        lines += ["", "Ratio ours / llama.cpp (same model, same prompts; pooled medians, then each round's):", *ratios]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
