"""The first practice set of every section through the running app, as a student's browser asks for it.

Start the app on a fresh study database first (so it takes the shipped bank, as a fresh clone does),
then time one 5-question set of a type per section through ``gradio_client``, from the request to
the set in hand, with the app's status line:

    rm -f /tmp/fresh.sqlite; ASSISTANT_STUDY_DB=/tmp/fresh.sqlite .venv/bin/assistant chat --port 7871 &
    .venv/bin/python bench/bank_ui.py --url http://127.0.0.1:7871/
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--type", default="mcq", choices=["mcq", "tf", "short"])
    parser.add_argument("--n", type=int, default=5)
    args = parser.parse_args()

    from gradio_client import Client

    from assistant.config import Settings
    from assistant.corpus.index import load
    from assistant.engines.choice import machine
    from assistant.practice.slides import sections

    client = Client(args.url, verbose=False)
    print(f"CPU: {machine().describe()}\n")
    print("| section | seconds | status |\n|---|---|---|")
    for section in sections(load(Settings.from_env().index_dir).chunks):
        start = time.perf_counter()
        status = client.predict(section, "", args.type, args.n, None, [], "", api_name="/practice_generate")[0]
        print(f"| {section} | {time.perf_counter() - start:.2f} | {status} |")


if __name__ == "__main__":
    main()
