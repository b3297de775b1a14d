"""``assistant ask`` from a shell while ``assistant chat`` runs: time to the answer's first words, and wall time.

Starts ``assistant chat`` on a free port (the engine chosen for this machine), waits until it
serves, then runs ``assistant ask "<question>"`` as a new process for each bench question and
reads its output as it arrives. Also times one ``assistant ask --local`` (the CLI loading the
models itself) for comparison.

    .venv/bin/python bench/ask_client.py --questions 5

Writes ``bench/results/ask-client.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import QUESTIONS  # noqa: E402

CLI = [sys.executable, "-m", "assistant.cli"]


def timed_ask(question: str, *extra: str) -> dict:
    """Run ``assistant ask``; seconds until it printed its first answer text, and until it ended."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*CLI, "ask", question, *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    first, out = None, b""
    while chunk := proc.stdout.read1(4096):
        if first is None and chunk.strip():
            first = time.perf_counter() - start
        out += chunk
    proc.wait()
    return {"question": question, "first_words_s": first, "wall_s": time.perf_counter() - start, "rc": proc.returncode,
            "output": out.decode("utf-8", "replace")[:300]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()

    from assistant.engines.choice import machine
    from assistant.engines.llamacpp import free_port

    port = free_port()
    app = subprocess.Popen(
        [*CLI, "chat", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.time() + 600
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
                break
            except OSError:
                if time.time() > deadline or app.poll() is not None:
                    raise SystemExit("assistant chat did not come up") from None
                time.sleep(1)
        time.sleep(30)  # the slide prefixes are cached behind the open port; let them finish
        rows = [timed_ask(q) for q, _ in QUESTIONS[: args.questions]]
    finally:
        app.terminate()
        app.wait(60)
    alone = timed_ask(QUESTIONS[0][0], "--local")
    here = machine()
    firsts = [r["first_words_s"] for r in rows if r["first_words_s"] is not None]
    report = {
        "cpu": f"{here.cpu}, {here.cores} cores; {' '.join(here.flags) or 'no listed features'}",
        "engine": os.environ.get("ASSISTANT_ENGINE", "auto"),
        "client_first_words_s_median": statistics.median(firsts) if firsts else None,
        "client_wall_s_median": statistics.median(r["wall_s"] for r in rows),
        "local_first_words_s": alone["first_words_s"],
        "local_wall_s": alone["wall_s"],
        "rows": [*rows, alone],
    }
    out = ROOT / "bench" / "results"
    (out / "ask-client.json").write_text(json.dumps(report, indent=2) + "\n")
    line = (
        f"`assistant ask` with `assistant chat` running ({report['cpu']}; {len(rows)} questions): "
        f"first words median {report['client_first_words_s_median']:.1f} s, wall median "
        f"{report['client_wall_s_median']:.1f} s; answering alone (`--local`, a cold process): first words "
        f"{alone['first_words_s']:.1f} s, wall {alone['wall_s']:.1f} s."
    )
    (out / "ask-client.md").write_text(line + "\n")
    print(line)


if __name__ == "__main__":
    main()
