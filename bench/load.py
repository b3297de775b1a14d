"""Load test: the real app on 127.0.0.1, driven by concurrent ``gradio_client`` sessions.

Each session (a student) asks its own question (a different slide each) through the streaming
``/ask`` endpoint; with ``--repeat`` it asks the next as soon as it has its answer, until
``--seconds``, so answers per minute is the sustained throughput. Reports requests sent,
answered, failed and dropped; queue wait and answer latency (p50/p95/max); peak memory of the
server; and "mixed up" answers, whose cited slides are not the slides retrieved for their own
question.

    ASSISTANT_CONCURRENCY=4 .venv/bin/python bench/load.py --sessions 10 --seconds 300 --repeat --tag load-c4-s10

Writes ``bench/results/<tag>.json`` and ``bench/results/<tag>.md``.
"""

from __future__ import annotations

import argparse
import html
import json
import resource
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.ui.html import READING, WRITING  # noqa: E402 - the reply's placeholders are not its first words
from assistant.ui.running import message_text  # noqa: E402

QUESTIONS = [
    ("Which room is midterm 2 in?", "Midterm 2 logistics"),
    ("Is there a lecture on Wednesday?", "Today's lecture"),
    ("What is the simple baseline for anomaly detection?", "A simple baseline for anomaly detection"),
    ("How is model calibration measured?", "Model calibration"),
    ("What does adversarial training cost on clean examples?", "Adversarial training (AT)"),
    ("What is domain adaptation's assumption about source and target data?", "Domain adaptation"),
    ("Why are GANs hard to evaluate?", "GANs summary"),
    ("What fraction of image patches does MAE mask?", "Masked autoencoding"),
    ("Which architectural choice helps adversarial robustness?", "What improves adversarial robustness?"),
    ("What is the key challenge in subpopulation shift?", "Subpopulation shift"),
    ("Which massive language models should I know?", "Massive models"),
    ("How was the ANLI dataset constructed?", "In NLP: the ANLI dataset"),
    ("What does invariant feature learning try to match?", "Invariant feature learning"),
    ("What is the threat model for adversarial attacks?", "Adversarial robustness"),
    ("Do adversarial examples transfer between models?", "Transferability of attacks"),
    ("What are the downsides of autoregressive models?", "Autoregressive models summary"),
    ("What tradeoff do VAEs have?", "VAEs summary"),
    ("What is the most common contrastive learning loss?", "Contrastive learning"),
    ("What did the scaling laws paper find about sample efficiency?", "Scaling laws for neural language models"),
    ("What is DAgger used for in deep RL?", "Deep reinforcement learning guest lecture"),
    ("What is domain generalization?", "Domain generalization"),
    ("What is rebalancing in group robustness?", "Distributional (group) robustness"),
]


def ask_once(client, question: str, gold: str, model: str, deadline: float) -> dict:
    """One question through the streaming ``/ask`` endpoint: when sources and the first words came, and the end."""
    sent = time.perf_counter()
    try:
        job = client.submit(question, model, [], api_name="/ask")
        first_update = first_words = None
        told_place = False
        while not job.done():
            outputs = job.outputs()
            if first_update is None and outputs:
                first_update = time.perf_counter() - sent
            if first_words is None and outputs and _reply(outputs[-1][0]) not in ("", READING, WRITING):
                first_words = time.perf_counter() - sent
            status = job.status()
            told_place = told_place or (status.code.name == "IN_QUEUE" and status.rank is not None)
            if time.perf_counter() > deadline + 600:
                job.cancel()
                return {"question": question, "status": "dropped"}
            time.sleep(0.05)
        final = job.result()
    except Exception as err:  # noqa: BLE001 - a failed request is a result here
        return {"question": question, "status": "failed", "error": repr(err)[:200]}
    reply, sources = _reply(final[0]), final[1]
    done = time.perf_counter()
    return {
        "question": question,
        "status": "answered" if reply else "empty",
        "queue_wait_s": first_update,
        "first_words_s": first_words if first_words is not None else done - sent,
        "latency_s": done - sent,
        "finished_at": done,
        "told_place_in_queue": told_place,
        "own_sources": gold in html.unescape(sources),
        "reply": reply[:300],
    }


def _reply(chat) -> str:
    return message_text(chat[-1]["content"]) if chat else ""


def student(url: str, first: int, model: str, deadline: float, repeat: bool) -> list[dict]:
    """One student: asks, reads the answer, asks the next question, until the deadline (once without ``repeat``)."""
    from gradio_client import Client

    # httpx reads each request for 5 s by default: a busy app answering 40 students took longer to take a question,
    # which a browser waits out; 60 s keeps a slow accept from counting as a failure
    client = Client(url, verbose=False, httpx_kwargs={"timeout": 60})
    rows, n = [], first
    while time.perf_counter() < deadline:
        rows.append(ask_once(client, *QUESTIONS[n % len(QUESTIONS)], model, deadline))
        n += 7  # another slide next time, not the neighbour's question
        if not repeat:
            break
    return rows


def _peak_rss_mb(stop: threading.Event, peak: list[float]) -> None:
    import os

    while not stop.is_set():
        with open(f"/proc/{os.getpid()}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS"):
                    peak[0] = max(peak[0], int(line.split()[1]) / 1024)
        time.sleep(0.5)


def _p50_p95(figures: dict) -> str:
    return "/".join(f"{figures[k]:.1f}" if figures[k] is not None else "n/a" for k in ("p50", "p95"))


def pct(values: list[float], p: float) -> float | None:
    from assistant.evaluation.metrics import percentile

    return percentile(values, p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=900, help="no new request after this")
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", action="store_true", help="each student asks again when answered (sustained)")
    parser.add_argument("--tag", default="load", help="writes bench/results/<tag>.json and .md")
    args = parser.parse_args()

    from assistant.answering.assistant import Assistant
    from assistant.config import Settings
    from assistant.engines.choice import machine
    from assistant.engines.llamacpp import free_port
    from assistant.ui.chat import create_app, launch_options

    settings = Settings.from_env()
    model = args.model or settings.model
    assistant = Assistant(settings)
    assistant.warm(model)
    demo = create_app(assistant, settings)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options())
    url = f"http://127.0.0.1:{port}/"
    stop, peak = threading.Event(), [0.0]
    watcher = threading.Thread(target=_peak_rss_mb, args=(stop, peak), daemon=True)
    watcher.start()
    start = time.perf_counter()
    deadline = start + args.seconds
    with ThreadPoolExecutor(max_workers=args.sessions) as pool:
        futures = [pool.submit(student, url, i, model, deadline, args.repeat) for i in range(args.sessions)]
        rows = [row for f in futures for row in f.result()]
    stop.set()
    demo.close()
    answered = [r for r in rows if r["status"] == "answered"]
    latencies = [r["latency_s"] for r in answered]
    waits = [r["queue_wait_s"] for r in answered if r.get("queue_wait_s") is not None]
    firsts = [r["first_words_s"] for r in answered]
    span = max((r["finished_at"] for r in answered), default=start) - start
    here = machine()
    report = {
        "cpu": f"{here.cpu}, {here.cores} cores; {' '.join(here.flags) or 'no listed features'}",
        "engine": assistant.settings.engine,
        "sessions": args.sessions,
        "repeat": args.repeat,
        "answers_per_minute": round(60 * len(answered) / span, 2) if span > 0 else None,
        "first_words_s": {"p50": pct(firsts, 50), "p95": pct(firsts, 95), "max": max(firsts, default=None)},
        "model": model,
        "concurrency": settings.concurrency,
        "max_queue": settings.max_queue,
        "sent": sum(r["status"] != "not sent" for r in rows),
        "answered": len(answered),
        "failed": sum(r["status"] in ("failed", "empty") for r in rows),
        "dropped": sum(r["status"] == "dropped" for r in rows),
        "mixed_up": sum(not r["own_sources"] for r in answered),
        "told_place_in_queue": sum(r.get("told_place_in_queue", False) for r in answered),
        "first_update_s": {"p50": pct(waits, 50), "p95": pct(waits, 95), "max": max(waits, default=None)},
        "latency_s": {"p50": pct(latencies, 50), "p95": pct(latencies, 95), "max": max(latencies, default=None)},
        "peak_rss_mb": max(peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "wall_s": time.perf_counter() - start,
        "rows": rows,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.tag}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "| engine | concurrency | students | answered | answers/min | failed | dropped | mixed up | "
        "first words p50/p95 s | answer p50/p95 s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        "| {engine} | {concurrency} | {sessions} | {answered} | {answers_per_minute} | {failed} | {dropped} | "
        "{mixed_up} | {w} | {l} | {rss:.0f} |".format(
            w=_p50_p95(report["first_words_s"]),
            l=_p50_p95(report["latency_s"]),
            rss=report["peak_rss_mb"],
            **report,
        ),
        "",
        f"{report['cpu']}; model {model}, queue size {settings.max_queue}, "
        f"{'students asking again when answered' if args.repeat else 'one question each'}, "
        f"wall time {report['wall_s']:.0f} s; median answer {statistics.median(latencies) if latencies else 0:.1f} s",
    ]
    (out / f"{args.tag}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
