"""Two UI processes, one llama.cpp server with parallel slots: the class recipe of the README, end to end.

A stand-in for a GPU machine running vLLM: llama.cpp's OpenAI-compatible server (the packaged
weights, ``--slots`` parallel slots) in this process, two ``assistant chat`` processes pointed at it
with ``ASSISTANT_ENGINE=openai``, and ``--students`` ``gradio_client`` students split between the two
UIs, all asking at once. Each answer must be non-empty and cite its own question's slide.

    .venv/bin/python bench/shared_server.py --students 10 --slots 4

Writes ``bench/results/shared-server.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import QUESTIONS, ask_once, pct  # noqa: E402


def wait_for(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url} did not come up in {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()

    from gradio_client import Client

    from assistant.config import Settings
    from assistant.engines.choice import machine
    from assistant.engines.llamacpp import free_port, start_server
    from assistant.weights import chat_spec, gguf_path

    settings = Settings.from_env()
    server, api = start_server(gguf_path(chat_spec(settings.model), settings.cache_dir), 2, parallel=args.slots)
    wait_for(api.removesuffix("/v1") + "/health", 120)
    env = dict(
        os.environ,
        ASSISTANT_ENGINE="openai",
        ASSISTANT_OPENAI_URL=api,
        ASSISTANT_CONCURRENCY=str(args.slots),
        ASSISTANT_THREADS="1",  # the server does the model's work; a UI only retrieves and checks
    )
    ports = [free_port(), free_port()]
    uis = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "chat", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/", 300)
        clients = [Client(f"http://127.0.0.1:{port}/", verbose=False, httpx_kwargs={"timeout": 60}) for port in ports]
        start = time.perf_counter()
        deadline = start + 900
        with ThreadPoolExecutor(max_workers=args.students) as pool:
            futures = [
                pool.submit(ask_once, clients[i % 2], *QUESTIONS[i % len(QUESTIONS)], settings.model, deadline)
                for i in range(args.students)
            ]
            rows = [f.result() for f in futures]
        wall = time.perf_counter() - start
    finally:
        for ui in uis:
            ui.terminate()
            ui.wait(30)
        del server
    answered = [r for r in rows if r["status"] == "answered"]
    right = [r for r in answered if r["own_sources"]]
    here = machine()
    report = {
        "cpu": f"{here.cpu}, {here.cores} cores; {' '.join(here.flags) or 'no listed features'}",
        "students": args.students,
        "slots": args.slots,
        "ui_processes": 2,
        "answered": len(answered),
        "own_slide_cited": len(right),
        "failed": sum(r["status"] != "answered" for r in rows),
        "first_words_s": {"p50": pct([r["first_words_s"] for r in answered], 50)},
        "latency_s": {"p50": pct([r["latency_s"] for r in answered], 50), "max": max(r["latency_s"] for r in rows)},
        "wall_s": round(wall, 1),
        "rows": rows,
    }
    out = ROOT / "bench" / "results"
    (out / "shared-server.json").write_text(json.dumps(report, indent=2) + "\n")
    line = (
        f"{args.students} students over 2 UI processes, one llama.cpp server with {args.slots} slots "
        f"({report['cpu']}): {len(answered)} answered, {len(right)} citing their own question's slide, "
        f"{report['failed']} failed; first words p50 {report['first_words_s']['p50']:.1f} s, "
        f"answer p50 {report['latency_s']['p50']:.1f} s, all done in {wall:.0f} s."
    )
    (out / "shared-server.md").write_text(line + "\n")
    print(line)
    if len(right) != args.students:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
