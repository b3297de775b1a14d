"""The question encoder on ONNX Runtime: the embedder's transformer, exported once, for one text at a time.

Why it exists: a student's question is about fifteen tokens, and ONNX Runtime runs MiniLM's many
small matrix products for it several times faster than PyTorch, with the same vector
(docs/decisions/hybrid-retrieval.md). Retrieval latency is what a student waits on before the
sources appear, so the query path uses it; index building (batches) stays on PyTorch.

The export is cached next to the other prepared models, written to a temporary folder and trusted
only once its manifest (size and sha256 of the graph) is written last. Every load is checked
against the PyTorch model on a probe sentence; any problem (no ``onnxruntime``, a failed export,
a mismatch) means the caller keeps the PyTorch path, with one warning in the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from assistant.storage import read_json, write_json
from assistant.weights import EmbedderSpec, sha256_file

log = logging.getLogger(__name__)

ONNX_FORMAT = "study-assistant onnx query encoder v1"
PROBE = "How is a model's calibration measured on the midterm review slides?"
MIN_PROBE_COSINE = 0.9999


def _source_id(spec: EmbedderSpec) -> str:
    return spec.weights_sha256 or spec.zip_sha256


def features(model, texts: list[str]) -> dict:
    """Token features of ``texts`` from the sentence-transformers model (``preprocess`` in newer releases)."""
    return model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)


def _input_names(tokens: dict) -> list[str]:
    return [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in tokens]


def _export(model, spec: EmbedderSpec, folder: Path) -> Path:
    """Export the transformer (token ids -> last hidden state) to ``folder/model.onnx``, atomically."""
    import torch

    probe = features(model, [PROBE])
    names = _input_names(probe)
    transformer = model[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden().eval(),
                tuple(probe[name] for name in names),
                str(tmp / "model.onnx"),
                input_names=names,
                output_names=["hidden"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
                opset_version=17,
                dynamo=False,
            )
        graph = tmp / "model.onnx"
        write_json(
            tmp / "manifest.json",
            {
                "format": ONNX_FORMAT,
                "source": _source_id(spec),
                "inputs": names,
                "size": graph.stat().st_size,
                "sha256": sha256_file(graph),
            },
        )
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / "model.onnx"


def _trusted(spec: EmbedderSpec, folder: Path) -> dict | None:
    manifest = read_json(folder / "manifest.json")
    graph = folder / "model.onnx"
    if not manifest or manifest.get("format") != ONNX_FORMAT or manifest.get("source") != _source_id(spec):
        if manifest is None and (folder / "manifest.json").exists():
            log.warning("the ONNX query encoder's manifest in %s is unreadable; exporting it again", folder)
        return None
    if not graph.is_file() or graph.stat().st_size != manifest.get("size") or sha256_file(graph) != manifest["sha256"]:
        log.warning("the ONNX query encoder in %s is damaged; exporting it again", folder)
        return None
    return manifest


class QueryEncoder:
    """Normalised mean-pooled vectors for single texts, from the exported graph."""

    def __init__(self, model, session, names: list[str]) -> None:
        self._model = model  # for its tokenizer only
        self._session = session
        self._names = names

    def encode(self, text: str) -> np.ndarray:
        tokens = features(self._model, [text])
        feed = {name: tokens[name].numpy() for name in self._names}
        hidden = self._session.run(None, feed)[0]
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


def load_or_export(model, spec: EmbedderSpec, cache_dir: Path, threads: int) -> QueryEncoder | None:
    """The ONNX query encoder for ``model``, exporting it on first use; ``None`` to keep PyTorch."""
    try:
        import onnxruntime as ort
    except ImportError:
        log.warning("onnxruntime is not installed; questions are embedded with PyTorch (slower)")
        return None
    folder = cache_dir / f"{spec.key}-onnx"
    try:
        manifest = _trusted(spec, folder)
        if manifest is None:
            log.info("exporting the %s question encoder to ONNX (once)", spec.title)
            _export(model, spec, folder)
            manifest = read_json(folder / "manifest.json")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # subtle: spinning worker threads would steal the CPU from the chat model between questions.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        encoder = QueryEncoder(model, session, list(manifest["inputs"]))
        expected = model.encode([PROBE], normalize_embeddings=True, convert_to_numpy=True)[0]
        cosine = float(encoder.encode(PROBE)[0] @ expected)
    except Exception as err:  # noqa: BLE001 - any failure here only costs speed, never an answer
        log.warning("the ONNX question encoder is unavailable (%s); using PyTorch", err)
        return None
    if cosine < MIN_PROBE_COSINE:
        log.warning("the ONNX question encoder disagrees with the model (cosine %.5f); using PyTorch", cosine)
        return None
    return encoder
