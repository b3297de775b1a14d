"""The command line, run as a user runs it: one process per command, real index and embedder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_every_command_without_heavy_imports():
    code = (
        "import sys; from assistant import cli; cli.build_parser(); "
        "print('torch' in sys.modules, 'gradio' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False False"
    out = run("--help").stdout
    for command in ("prepare", "index", "search", "ask", "chat", "quiz", "eval"):
        assert command in out


def test_search_json_has_the_documented_fields():
    proc = run("search", "which room is the midterm in", "--k", "3", "--json")
    hits = json.loads(proc.stdout)
    assert len(hits) == 3 and hits[0]["title"] == "Midterm 2 logistics"
    assert {"id", "title", "deck", "slide", "section", "score", "text"} <= set(hits[0])


def test_ask_json_for_an_off_topic_question_is_a_refusal_object():
    proc = run("ask", "what is the capital of Australia?", "--json")
    answer = json.loads(proc.stdout)
    assert answer["refused"] is True and answer["citations"] == [] and len(answer["retrieved"]) == 3


def test_bad_question_is_one_clear_line():
    proc = run("ask", "   ")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: Please type a question about the course slides."


def test_unknown_section_lists_the_sections():
    proc = run("quiz", "--section", "quantum chemistry", "--n", "1")
    assert proc.returncode == 2 and "Deep Unsupervised Learning" in proc.stderr and "Traceback" not in proc.stderr


def test_index_command_prints_the_ingest_report(tmp_path: Path, corpus_copy: Path):
    (corpus_copy / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    proc = run("index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "idx"))
    assert proc.returncode == 0, proc.stderr
    assert "43 content slides" in proc.stdout and "skipped scan.pdf" in proc.stdout
    assert "embedded 43 of 43 chunks" in proc.stdout
    again = run("index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "idx"))
    assert "embedded 0 of 43 chunks" in again.stdout
