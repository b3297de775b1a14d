"""The real index of the shipped deck: round trips, incremental rebuilds, corruption, retrieval."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.corpus import index as ix
from assistant.errors import IndexProblem
from assistant.retrieval.hybrid import Retriever, rrf

from .conftest import ROOT

QUESTIONS = ["where do we take midterm 2", "how do adversarial examples transfer", "what is a VAE good for"]


def _ranking(index, embedder, question):
    result = Retriever(index, embedder).search(question, 5)
    return [(h.chunk.slide_id, round(h.score, 6)) for h in result.hits]


def test_committed_index_matches_the_shipped_corpus(settings, embedder):
    index = ix.load(settings.index_dir)
    assert ix.stale_reason(index, settings.corpus_dir, embedder.key) is None
    assert index.manifest["chunks"] == 43 and index.manifest["embedder"] == "minilm"


def test_save_load_round_trip_gives_identical_results(shipped_index, embedder, tmp_path: Path):
    ix.save(shipped_index, tmp_path / "idx")
    loaded = ix.load(tmp_path / "idx")
    assert [c.id for c in loaded.chunks] == [c.id for c in shipped_index.chunks]
    np.testing.assert_array_equal(loaded.vectors, shipped_index.vectors)
    for q in QUESTIONS:
        assert _ranking(loaded, embedder, q) == _ranking(shipped_index, embedder, q)


def test_editing_one_slide_re_embeds_exactly_one_chunk(corpus_copy: Path, embedder, tmp_path: Path):
    first, _, embedded = ix.build(corpus_copy, embedder)
    assert embedded == 43
    ix.save(first, tmp_path / "idx")
    deck = next(corpus_copy.glob("*.md"))
    deck.write_text(deck.read_text("utf-8").replace("Dwinelle 155", "Wheeler 150"), "utf-8")
    previous = ix.load(tmp_path / "idx")
    assert ix.stale_reason(previous, corpus_copy, embedder.key) == "the corpus changed since it was built"
    second, _, embedded = ix.build(corpus_copy, embedder, previous)
    assert embedded == 1
    pairs = zip(second.chunks, first.vectors, second.vectors, strict=True)
    changed = [c.title for c, a, b in pairs if not np.array_equal(a, b)]
    assert changed == ["Midterm 2 logistics"]


def test_corrupted_index_file_gives_a_clear_message(shipped_index, tmp_path: Path):
    folder = ix.save(shipped_index, tmp_path / "idx")
    data = (folder / "dense.faiss").read_bytes()
    (folder / "dense.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexProblem, match="truncated or modified; run: assistant index"):
        ix.load(tmp_path / "idx")


def test_corrupt_index_is_rebuilt_by_load_or_build(shipped_index, embedder, corpus_copy: Path, tmp_path: Path):
    folder = ix.save(shipped_index, tmp_path / "idx")
    (folder / "chunks.jsonl").write_text("garbage", encoding="utf-8")
    rebuilt = ix.load_or_build(corpus_copy, tmp_path / "idx", embedder)
    assert len(rebuilt.chunks) == 43
    assert ix.load(tmp_path / "idx").manifest["chunks"] == 43


@pytest.mark.parametrize("pointer", [bytes(range(256)), b"", b"../../etc", b"snapshot-000000000000"])
def test_a_corrupt_index_pointer_gives_a_clear_message_and_is_rebuilt(
    shipped_index, embedder, corpus_copy: Path, tmp_path: Path, pointer: bytes
):
    ix.save(shipped_index, tmp_path / "idx")
    (tmp_path / "idx" / "CURRENT").write_bytes(pointer)
    with pytest.raises(IndexProblem, match="run: assistant index"):
        ix.load(tmp_path / "idx")
    assert len(ix.load_or_build(corpus_copy, tmp_path / "idx", embedder).chunks) == 43
    assert ix.load(tmp_path / "idx").manifest["chunks"] == 43


def test_missing_index_message():
    with pytest.raises(IndexProblem, match="no index in .*; run: assistant index"):
        ix.load(Path("/nonexistent/index"))


def test_killed_build_leaves_the_previous_index_loadable(shipped_index, corpus_copy: Path, tmp_path: Path):
    """A build killed before CURRENT moves leaves only a stray temp folder, and the old snapshot loads."""
    target = tmp_path / "idx"
    ix.save(shipped_index, target)
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "import assistant.corpus.index as ix\n"
        "real = ix.atomic_write_text\n"
        "ix.atomic_write_text = lambda *a, **k: os._exit(9)\n"  # die just before switching CURRENT
        f"idx = ix.load(Path({str(target)!r}))\n"
        "idx.manifest['note'] = 'newer'\n"
        f"ix.save(idx, Path({str(target)!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == 9
    assert "note" not in ix.load(target).manifest


@pytest.mark.parametrize(("code", "words"), [(errno.EROFS, "it is read-only"), (errno.ENOSPC, "the disk is full")])
def test_unwritable_index_dir_gives_a_clear_error(shipped_index, tmp_path: Path, monkeypatch, code: int, words: str):
    # Tests run as root, which ignores permission bits, so the file system's refusal is injected.
    target = tmp_path / "idx"
    ix.save(shipped_index, target)
    real_write = Path.write_text

    def refuse(self, *args, **kwargs):
        if self.name == "chunks.jsonl":
            raise OSError(code, os.strerror(code))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(IndexProblem, match=f"cannot write the index to .*: {words}"):
        ix.save(shipped_index, target)
    monkeypatch.undo()
    assert ix.load(target).manifest["chunks"] == 43
    assert not list(target.glob(".building-*"))


def test_rrf_prefers_items_ranked_high_by_both():
    fused = rrf([[1, 2, 3], [2, 1, 3]])
    assert fused[1] == pytest.approx(fused[2])
    assert fused[3] < fused[1]


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("when does the midterm start and which room", "Midterm 2 logistics"),
        ("what attacks should I review for adversarial robustness", "Adversarial robustness"),
        ("why can't we just use p(x) from a generative model to find anomalies", "Anomaly detection: the basics"),
        ("how do we tell if a model's confidence matches its accuracy", "Model calibration"),
        ("which big language models should I know about", "Massive models"),
    ],
)
def test_hybrid_retrieval_finds_the_gold_slide_in_top_4(shipped_index, embedder, question: str, title: str):
    hits = Retriever(shipped_index, embedder).search(question, 4).hits
    assert title in [h.chunk.title for h in hits]
