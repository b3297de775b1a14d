"""Staff's side of the study loop from a shell: ``assistant bank …`` and ``assistant insights``.

``bank`` builds, lists, reviews (approve, edit, retire), exports and imports the question bank;
``insights`` reports on the logged questions and practice answers, and purges old ones. The Staff
tab does the same through ``study``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.commands import _assistant, _bar, _settings
from assistant.errors import AssistantError


def _study(args: argparse.Namespace):
    from assistant.study.store import open_study

    return open_study(_settings(args))


def _section(args: argparse.Namespace) -> str:
    """The section ``--section`` names, a prefix being enough (as for ``bank build``)."""
    from assistant.corpus import index as ix
    from assistant.practice.slides import resolve_section

    return resolve_section(args.section, ix.load(_settings(args).index_dir).chunks)


def bank_build(args: argparse.Namespace) -> int:
    from assistant.study.build import build_bank
    from assistant.study.store import open_study

    if args.attempts < 1 or args.per_slide < 1:
        raise AssistantError("--attempts and --per-slide take a whole number of at least 1")
    assistant = _assistant(args)
    study = open_study(assistant.settings)
    bar = _bar("filling the question bank", "slide")
    report = build_bank(
        assistant, study.bank, args.types, args.per_slide, lambda d, t, _what: bar(d, t), args.attempts, args.section
    )
    added = ", ".join(f"{n} {qtype}" for qtype, n in sorted(report.added.items())) or "nothing"
    print(f"added {added} in {report.seconds:.0f} s; {report.skipped} slide-and-type pairs were already filled")
    if report.short:
        print(f"no item passed the checks for: {'; '.join(report.short)}", file=sys.stderr)
    if report.rejections:
        turned_down = ", ".join(f"{reason} {n}" for reason, n in report.rejections.most_common())
        print(f"drafts turned down, by check: {turned_down}", file=sys.stderr)
    return bank_stats(args, study)


def bank_stats(args: argparse.Namespace, study=None) -> int:
    study = study or _study(args)
    counts = study.bank.counts()
    for section in dict.fromkeys(section for section, _ in counts):
        row = ", ".join(f"{qtype} {counts.get((section, qtype), 0)}" for qtype in ("mcq", "tf", "short"))
        print(f"{section}: {row}")
    print(f"total: {sum(counts.values())} items students may be given")
    return 0


def bank_list(args: argparse.Namespace) -> int:
    from assistant.study.bank import STATUSES

    study = _study(args)
    section = _section(args) if args.section else None
    for entry in study.bank.items(section, args.type, [args.status] if args.status else STATUSES):
        source = entry.item.source[0] if entry.item.source else None
        where = f"slide {source.slide}" if source else "?"
        print(f"{entry.id:5d}  {entry.status:8s} {entry.item.type:5s} {where:9s} {entry.item.question}")
    return 0


def bank_set_status(args: argparse.Namespace) -> int:
    study = _study(args)
    for item_id in args.ids:
        study.bank.set_status(item_id, args.status)
    print(f"{len(args.ids)} item(s) now {args.status}")
    return 0


def bank_edit(args: argparse.Namespace) -> int:
    """Replace an item's text from a JSON file (as ``bank export`` writes items); re-checked before saving."""
    from assistant.study.edit import EDITABLE, edit_item
    from assistant.study.store import open_study

    assistant = _assistant(args)
    study = open_study(assistant.settings)
    try:
        fields = json.loads(args.file.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise AssistantError(f"{args.file} is not an item as JSON ({err})") from None
    if isinstance(fields, dict) and "item" in fields:  # an entry as ``bank export`` writes it
        fields = fields["item"]
    if isinstance(fields, dict):
        fields = {k: v for k, v in fields.items() if k in EDITABLE}
    edit_item(study.bank, assistant.index.chunks, assistant.embedder.embed, args.id, fields)
    print(f"item {args.id} saved and approved")
    return 0


def bank_export(args: argparse.Namespace) -> int:
    print(f"{_study(args).bank.export_json(args.file)} items written to {args.file}")
    return 0


def bank_import(args: argparse.Namespace) -> int:
    print(f"{_study(args).bank.import_json(args.file)} new items from {args.file}")
    return 0


def insights_report(args: argparse.Namespace) -> int:
    from assistant.corpus.index import load
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.study import insights
    from assistant.weights import embedder_spec

    settings = _settings(args)
    study = _study(args)
    embedder = SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)
    found = insights.compute(study.db, load(settings.index_dir), embedder.embed, args.days or None)
    written = insights.write_report(found, args.out)
    print(insights.markdown(found))
    print(f"written: {', '.join(str(p) for p in written)}", file=sys.stderr)
    return 0


def insights_purge(args: argparse.Namespace) -> int:
    from assistant.study.questionlog import QuestionLog

    text = args.older_than.strip().lower().removesuffix("d")
    if not text.replace(".", "", 1).isdigit():
        raise AssistantError(f"--older-than takes days, like 30d, not {args.older_than!r}")
    gone = QuestionLog(_study(args).db).purge(float(text))
    print(f"deleted {gone} logged question(s) and practice answer(s) older than {text} days")
    return 0


def add_parser(command) -> None:
    """The ``bank`` and ``insights`` commands and their actions, added through the CLI's ``command`` helper."""
    p = command("insights", None, "what the class asked, what the slides miss, how practice items do")
    p.add_argument(
        "action",
        nargs="?",
        choices=["report", "purge"],
        default="report",
        help="report (default), or purge logged questions older than --older-than",
    )
    p.add_argument("--days", type=float, default=30, help="report the last N days (0: everything; default 30)")
    p.add_argument("--out", type=Path, default=Path("eval/reports/insights"), help="report folder")
    p.add_argument("--older-than", default="30d", help="purge: the age to delete beyond (default 30d)")
    p.set_defaults(func=lambda a: insights_purge(a) if a.action == "purge" else insights_report(a))

    bank = command("bank", None, "the question bank: build it, review it (staff), export and import it")
    actions = bank.add_subparsers(dest="action", required=True)

    def action(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text, description=help_text)
        for flag, what in (("--corpus", "slides folder"), ("--index", "index folder"), ("--cache", "model cache")):
            p.add_argument(flag, type=Path, default=argparse.SUPPRESS, help=what)
        p.set_defaults(func=func)
        return p

    p = action("build", bank_build, "write checked items for every usable slide (resumable)")
    p.add_argument("--types", nargs="+", choices=["mcq", "tf", "short"], default=["mcq", "tf", "short"])
    p.add_argument("--per-slide", type=int, default=1, help="items of each type per slide (default 1)")
    p.add_argument(
        "--attempts", type=int, default=3, help="drafts per missing item before a slide is given up (default 3)"
    )
    p.add_argument("--section", default=None, help="only this section's slides (a prefix is enough)")
    p.add_argument("--model", default=None)
    p.add_argument("--engine", default=None)
    action("stats", bank_stats, "items students may be given, by section and type")
    p = action("list", bank_list, "items with their id, status, type and slide")
    p.add_argument("--section", default=None)
    p.add_argument("--type", choices=["mcq", "tf", "short"], default=None)
    p.add_argument("--status", choices=["checked", "approved", "retired", "stale"], default=None)
    for name, status, text in (
        ("approve", "approved", "mark items reviewed and good"),
        ("retire", "retired", "never show these items to students again"),
    ):
        p = action(name, bank_set_status, text)
        p.add_argument("ids", type=int, nargs="+")
        p.set_defaults(status=status)
    p = action("edit", bank_edit, "replace an item's fields from a JSON file; checked again before saving")
    p.add_argument("id", type=int)
    p.add_argument("file", type=Path)
    p.add_argument("--model", default=None)
    p.add_argument("--engine", default=None)
    for name, func, text in (
        ("export", bank_export, "write the bank as JSON (for git)"),
        ("import", bank_import, "add the items of an exported bank"),
    ):
        p = action(name, func, text)
        p.add_argument("file", type=Path)
