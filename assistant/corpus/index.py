"""The on-disk index: FAISS vectors, a BM25 index and the chunks, as one versioned snapshot.

Layout::

    index/CURRENT              name of the live snapshot (replaced atomically)
    index/<snapshot>/          manifest.json, chunks.jsonl, dense.faiss, bm25/

A build writes a new snapshot folder and only then points ``CURRENT`` at it, so a crash mid-build
leaves the previous index loadable. The manifest records the format, the embedding model, the
sha256 of every corpus file and of every index file: a tampered or truncated file, or an index
made for another corpus or embedder, is detected on load. Rebuilds re-embed only chunks whose
content digest changed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.corpus.chunking import Chunk, chunk_slides
from assistant.corpus.readers import IngestReport, corpus_files, read_corpus
from assistant.errors import IndexProblem
from assistant.storage import atomic_write_text, read_json, write_json
from assistant.text import tokenize

if TYPE_CHECKING:  # the index only calls an embedder it is given; retrieval sits above the corpus
    from assistant.retrieval.embed import Embedder

log = logging.getLogger(__name__)

FORMAT = "study-assistant index v2"  # v2: chunks carry ``display`` (tables read as rows)


def corpus_hashes(corpus_dir: Path) -> dict[str, str]:
    """sha256 of every usable file in the corpus, keyed by relative path."""
    report = IngestReport()
    return {
        path.relative_to(corpus_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in corpus_files(corpus_dir, report)
    }


@dataclass
class Index:
    """Chunks with their dense and sparse indexes; the only thing retrieval reads."""

    chunks: list[Chunk]
    vectors: np.ndarray
    dense: object  # faiss.Index
    bm25: object  # bm25s.BM25
    manifest: dict
    path: Path | None = None

    def dense_scores(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.dense.search(query_vector.reshape(1, -1).astype(np.float32), min(k, len(self.chunks)))
        return ids[0], scores[0]

    def bm25_scores(self, query: str) -> np.ndarray:
        vocab = self.bm25.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)


def _make_dense(vectors: np.ndarray):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(vectors)
    return index


def _make_bm25(chunks: list[Chunk]):
    import bm25s

    bm25 = bm25s.BM25()
    # subtle: bm25s rejects an empty document list and documents with no tokens; a placeholder token
    # keeps positions aligned with the chunks and never matches a query.
    bm25.index([tokenize(c.search_text) or ["\x00empty"] for c in chunks] or [["\x00empty"]], show_progress=False)
    return bm25


def build(
    corpus_dir: Path,
    embedder: Embedder,
    previous: Index | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Index, IngestReport, int]:
    """Read, chunk and embed the corpus; returns the index, the ingest report and how many chunks were embedded.

    Vectors of chunks whose digest is unchanged since ``previous`` are reused, not recomputed.
    """
    slides, report = read_corpus(corpus_dir)
    chunks = chunk_slides(slides)
    reuse: dict[str, np.ndarray] = {}
    if previous is not None and previous.manifest.get("embedder") == embedder.key:
        for chunk, digest, vector in zip(previous.chunks, previous.manifest["digests"], previous.vectors, strict=True):
            reuse[f"{chunk.id}:{digest}"] = vector
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    todo = [i for i, c in enumerate(chunks) if f"{c.id}:{c.digest}" not in reuse]
    for i, chunk in enumerate(chunks):
        if i not in todo:
            vectors[i] = reuse[f"{chunk.id}:{chunk.digest}"]
    batch = 8
    for start in range(0, len(todo), batch):
        ids = todo[start : start + batch]
        vectors[ids] = embedder.embed([chunks[i].search_text for i in ids])
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    manifest = {
        "format": FORMAT,
        "embedder": embedder.key,
        "dim": embedder.dim,
        "corpus": corpus_hashes(corpus_dir),
        "chunks": len(chunks),
        "digests": [c.digest for c in chunks],
    }
    index = Index(chunks, vectors, _make_dense(vectors), _make_bm25(chunks), manifest)
    return index, report, len(todo)


def _snapshot_files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def save(index: Index, index_dir: Path) -> Path:
    """Write ``index`` as a new snapshot and switch ``CURRENT`` to it; old snapshots are removed after."""
    import faiss

    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_dir / f".building-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        lines = "".join(json.dumps(c.to_dict(), ensure_ascii=False, sort_keys=True) + "\n" for c in index.chunks)
        (tmp / "chunks.jsonl").write_text(lines, encoding="utf-8")
        faiss.write_index(index.dense, str(tmp / "dense.faiss"))
        index.bm25.save(str(tmp / "bm25"))
        manifest = dict(index.manifest, files=_snapshot_files(tmp))
        write_json(tmp / "manifest.json", manifest)
        name = "snapshot-" + hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:12]
        final = index_dir / name
        if final.exists():  # the same content, but the files there may be the damaged ones being replaced
            aside = index_dir / f".replaced-{os.getpid()}"
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(final, aside)
        os.replace(tmp, final)
        atomic_write_text(index_dir / "CURRENT", name + "\n")
    except OSError as err:
        shutil.rmtree(index_dir / f".building-{os.getpid()}", ignore_errors=True)
        reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "it is read-only", errno.EACCES: "permission denied"}
        why = reason.get(err.errno, err.strerror or str(err))
        raise IndexProblem(f"cannot write the index to {index_dir}: {why}; free space or pass --index DIR") from None
    for stale in index_dir.iterdir():
        if stale.is_dir() and stale.name != name and stale.name.startswith(("snapshot-", ".building-", ".replaced-")):
            shutil.rmtree(stale, ignore_errors=True)
    index.manifest, index.path = manifest, final
    return final


def load(index_dir: Path) -> Index:
    """Load the live snapshot, checking format and file checksums; ``IndexProblem`` says what is wrong."""
    import bm25s
    import faiss

    fix = "run: assistant index"
    current = index_dir / "CURRENT"
    if not current.exists():
        raise IndexProblem(f"no index in {index_dir}; {fix}")
    try:
        name = current.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if not name.startswith("snapshot-") or "/" in name or "\\" in name:
        raise IndexProblem(f"the index pointer {current} is unreadable; {fix}")
    folder = index_dir / name
    manifest = read_json(folder / "manifest.json")
    if manifest is None:
        raise IndexProblem(f"the index in {index_dir} has no readable manifest; {fix}")
    if manifest.get("format") != FORMAT:
        raise IndexProblem(
            f"the index in {index_dir} has format {manifest.get('format')!r}, expected {FORMAT!r}; {fix}"
        )
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise IndexProblem(f"index file {path} is missing, truncated or modified; {fix}")
    try:
        chunks = [Chunk(**json.loads(line)) for line in (folder / "chunks.jsonl").read_text("utf-8").splitlines()]
        dense = faiss.read_index(str(folder / "dense.faiss"))
        vectors = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, manifest["dim"]), np.float32)
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
    except Exception as err:  # noqa: BLE001 - any decoding failure is a corrupt index
        raise IndexProblem(f"the index in {index_dir} cannot be read ({type(err).__name__}); {fix}") from None
    if len(chunks) != manifest.get("chunks") or dense.ntotal != len(chunks):
        raise IndexProblem(f"the index in {index_dir} is inconsistent (chunk counts differ); {fix}")
    return Index(chunks, np.asarray(vectors, dtype=np.float32), dense, bm25, manifest, folder)


def stale_reason(index: Index, corpus_dir: Path, embedder_key: str) -> str | None:
    """Why ``index`` does not match the corpus or the embedder, or None when it does."""
    if index.manifest.get("embedder") != embedder_key:
        return f"it was built with embedder {index.manifest.get('embedder')!r}, not {embedder_key!r}"
    if index.manifest.get("corpus") != corpus_hashes(corpus_dir):
        return "the corpus changed since it was built"
    return None


def load_or_build(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    """The index for this corpus and embedder: loaded when current, rebuilt (and saved) when not."""
    previous: Index | None = None
    try:
        previous = load(index_dir)
        reason = stale_reason(previous, corpus_dir, embedder.key)
        if reason is None:
            return previous
        log.warning("rebuilding the index in %s: %s", index_dir, reason)
    except IndexProblem as err:
        log.warning("%s; rebuilding it", str(err).split(";")[0])
    index, report, _ = build(corpus_dir, embedder, previous, progress)
    for line in report.lines()[1:]:
        log.info(line)
    if not index.chunks:
        raise IndexProblem(f"no slides could be read from {corpus_dir}; add .md, .txt, .pdf or .pptx files")
    try:
        save(index, index_dir)
    except IndexProblem as err:
        log.warning("%s (using the rebuilt index in memory)", err)
    return index
