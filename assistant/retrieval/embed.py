"""Embedders: the ``Embedder`` protocol and its sentence-transformers implementation.

Vectors are L2-normalised so that FAISS inner product is cosine similarity. The model is
loaded from the installed package on first use, never from a hub.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.retrieval.onnx_query import features, load_or_export
from assistant.weights import EmbedderSpec, embedder_folder, set_offline

log = logging.getLogger(__name__)


class Embedder(Protocol):
    key: str
    dim: int

    def embed(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        ...

    def words(self) -> frozenset[str]:
        """Whole words its tokenizer knows: English a question may use that no slide does."""
        ...


class SentenceTransformerEmbedder:
    """A packaged sentence-transformers model; thread-safe, loaded lazily once."""

    def __init__(self, spec: EmbedderSpec, cache_dir: Path, threads: int = 2) -> None:
        self.key = spec.key
        self.dim = spec.dim
        self._spec = spec
        self._cache_dir = cache_dir
        self._threads = threads
        self._model = None
        self._query = None  # the ONNX question encoder, when it loads (see onnx_query)
        self._words: frozenset[str] | None = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                set_offline()
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self._threads)
                folder = embedder_folder(self._spec, self._cache_dir)
                log.info("loading embedder %s", self._spec.title)
                model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
                self._query = load_or_export(model, self._spec, self._cache_dir, self._threads)
                self._model = model
        return self._model

    def embed(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1:
            return self._query.encode(texts[0]) if self._query else self._embed_one(model, texts[0])
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def words(self) -> frozenset[str]:
        """The whole, alphabetic words of the model's WordPiece vocabulary (read from the file, no model load)."""
        if self._words is None:
            vocab = embedder_folder(self._spec, self._cache_dir) / "vocab.txt"
            try:
                lines = vocab.read_text(encoding="utf-8", errors="replace").split()
            except OSError as err:
                log.warning("cannot read %s (%s); misspelt words are searched as typed", vocab, err)
                lines = []
            self._words = frozenset(w for w in lines if w.isalpha() and w.islower())
        return self._words

    def _embed_one(self, model, text: str) -> np.ndarray:
        """One question through PyTorch (when ONNX Runtime is unavailable), without ``encode``'s batching."""
        import torch

        with torch.inference_mode():
            vector = model.forward(features(model, [text]))["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, p=2, dim=1)
        return vector.numpy().astype(np.float32, copy=False)
