"""What each ``assistant`` subcommand does; ``cli`` parses the command line and calls one of these.

Only the standard library is imported at the top, so ``assistant --help`` stays instant; each
command imports what it needs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

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
    from dataclasses import replace

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
    from assistant.engines import choice

    # Once per CPU and model: a start with a record for this machine does not time the engines again.
    if args.model == "all":  # the engine is timed with the default model, the one students get
        from assistant.config import Settings

        settings = replace(settings, model=Settings().model)
    if not args.no_measure and settings.engine == "auto" and (args.force or choice.recorded(settings) is None):
        from assistant.engines.factory import make_generator

        print("timing the engines on this CPU once (about a minute)…", flush=True)
        picked = choice.measure(settings, make_generator)
        print(f"engine: {picked.engine} ({picked.reason})")
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
    from assistant.study.store import open_study

    stale = open_study(settings).bank.mark_stale(index.chunks)
    if stale:
        print(f"{stale} question bank item(s) came from slides that changed; they are retired as stale")
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
    from assistant.ui import running

    settings = _settings(args)
    if not (args.json or args.local or args.engine or settings.engine == "openai"):
        app = running.find(settings)  # a chat app on this index has the models loaded: ask it
        if app is not None and running.ask(app, args.question, args.model):
            return 0
    from assistant.answering.assistant import DoneEvent, SourcesEvent, TokenEvent
    from assistant.answering.reply import unchecked_note

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
        if note := unchecked_note(done):
            print(f"({note})")
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
    from assistant.practice.export import export_anki_csv, export_apkg, export_json
    from assistant.practice.grading import run_terminal_quiz
    from assistant.study.hints import hints
    from assistant.study.store import draw_set, open_study

    assistant = _assistant(args)
    study = open_study(assistant.settings)
    student = study.student(args.student) if args.student else None
    bar = _bar("writing questions", "question")
    if args.review:
        if student is None:
            raise AssistantError("--review needs --student NAME: reviews are kept per student")
        drawn = study.due(student)[: args.n]
        from assistant.practice.items import PracticeSet

        result = PracticeSet([b.item for b in drawn], args.n, "review", "items due for review")
        result.message = f"{len(drawn)} item(s) due for review" if drawn else "Nothing is due for review now."
    else:
        result, drawn = draw_set(
            assistant,
            study,
            n=args.n,
            qtype=args.type,
            section=args.section,
            topic=args.topic,
            student=student,
            model=args.model,
            progress=lambda done, total, _status: bar(done, total),
        )
    if result.message:
        print(result.message, file=sys.stderr)
    if args.export:
        stem = args.export.with_suffix("")
        export_json(result.items, stem.with_suffix(".json"))
        export_anki_csv(result.items, stem.with_suffix(".csv"))
        export_apkg(result.items, stem.with_suffix(".apkg"))
        print(f"exported {len(result.items)} questions to {stem}.json, .csv and .apkg (Anki)", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return 0
    if not result.items:
        return 1
    by_slide = {c.slide_id: c for c in assistant.index.chunks}

    def steps(index: int) -> list[str]:
        item = drawn[index].item
        chunk = by_slide.get(drawn[index].slide_id)
        return [f"Hint {h.step} of 3 ({h.title}): {h.text}" for h in hints(item, chunk)]

    def record(index: int, response: str, graded) -> None:
        if student is not None:
            study.record(student, drawn[index].id, response, graded.verdict == "correct")

    run_terminal_quiz(result, assistant=assistant, hints=steps, on_answer=record)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from assistant.ui.chat import serve

    settings = _settings(args)
    if args.log_questions:
        from dataclasses import replace

        settings = replace(settings, log_questions=True)
    return serve(settings, host=args.host, port=args.port, auth=args.auth, share_ok=args.allow_remote)


def cmd_doctor(args: argparse.Namespace) -> int:
    from assistant import doctor
    from assistant.engines import choice
    from assistant.engines.factory import make_generator

    settings = _settings(args)
    if args.measure:
        choice.measure(settings, make_generator)
    findings = doctor.report(settings)
    print("\n".join(finding.line() for finding in findings))
    return 0 if all(finding.ok for finding in findings) else 1
