"""The command line with the real index and embedder, run in this process through ``cli.main``.

One check runs a fresh Python, because only a fresh process shows which modules ``--help`` imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import cli

from .conftest import ROOT


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture()
def run(capsys):
    def command(*args: str) -> Run:
        code = cli.main(list(args))
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return command


def test_help_lists_every_command_without_heavy_imports():
    code = (
        "import sys; from assistant import cli; cli.build_parser(); "
        "print('torch' in sys.modules, 'gradio' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False False"
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    for command in ("prepare", "index", "search", "ask", "chat", "quiz", "eval"):
        assert command in out


def test_search_json_has_the_documented_fields(run):
    proc = run("search", "which room is the midterm in", "--k", "3", "--json")
    hits = json.loads(proc.stdout)
    assert len(hits) == 3 and hits[0]["title"] == "Midterm 2 logistics"
    assert {"id", "title", "deck", "slide", "section", "score", "text"} <= set(hits[0])


def test_ask_json_for_an_off_topic_question_is_a_refusal_object(run):
    proc = run("ask", "what is the capital of Australia?", "--json")
    answer = json.loads(proc.stdout)
    assert answer["refused"] is True and answer["citations"] == [] and len(answer["retrieved"]) == 3


def test_bad_question_is_one_clear_line(run):
    proc = run("ask", "   ")
    assert proc.returncode == 2 and proc.stderr.strip() == "error: Please type a question about the course slides."


def test_unknown_section_lists_the_sections(run):
    proc = run("quiz", "--section", "quantum chemistry", "--n", "1")
    assert proc.returncode == 2 and "Deep Unsupervised Learning" in proc.stderr and "Traceback" not in proc.stderr


def test_index_command_prints_the_ingest_report(run, tmp_path: Path, corpus_copy: Path):
    (corpus_copy / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    proc = run("index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "idx"))
    assert proc.returncode == 0, proc.stderr
    assert "43 content slides" in proc.stdout and "skipped scan.pdf" in proc.stdout
    assert "embedded 43 of 43 chunks" in proc.stdout
    again = run("index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "idx"))
    assert "embedded 0 of 43 chunks" in again.stdout
