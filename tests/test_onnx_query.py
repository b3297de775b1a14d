"""The ONNX question encoder: same vectors as the PyTorch model, a checked cache, a safe fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant.retrieval import onnx_query
from assistant.weights import embedder_spec

QUESTIONS = ["When is the midterm?", "whats the cheapest baseline for anomaly detection??", "MAE " * 400]


def _model(embedder):
    return embedder._load()


def test_shipped_embedder_answers_questions_through_onnx(embedder):
    model = _model(embedder)
    assert embedder._query is not None  # the fast path is really in use
    expected = model.encode(QUESTIONS, normalize_embeddings=True, convert_to_numpy=True)
    for text, row in zip(QUESTIONS, expected, strict=True):
        vector = embedder.embed([text])
        assert vector.shape == (1, embedder.dim) and vector.dtype == np.float32
        assert float(vector[0] @ row) > 0.9999


def test_export_is_cached_checked_and_redone_when_damaged(embedder, tmp_path: Path, caplog):
    model, spec = _model(embedder), embedder_spec("minilm")
    assert onnx_query.load_or_export(model, spec, tmp_path, 2) is not None
    graph = tmp_path / "minilm-onnx" / "model.onnx"
    first = graph.stat().st_mtime_ns
    assert onnx_query.load_or_export(model, spec, tmp_path, 2) is not None
    assert graph.stat().st_mtime_ns == first  # trusted: not exported again
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    graph.write_bytes(bytes(data))
    encoder = onnx_query.load_or_export(model, spec, tmp_path, 2)
    assert "damaged" in caplog.text
    assert encoder is not None and float(encoder.encode("midterm")[0] @ embedder.embed(["midterm"])[0]) > 0.9999


def test_without_onnxruntime_the_pytorch_path_answers(embedder, tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    assert onnx_query.load_or_export(_model(embedder), embedder_spec("minilm"), tmp_path, 2) is None
    assert "onnxruntime is not installed" in caplog.text
    vector = embedder._embed_one(_model(embedder), QUESTIONS[0])
    assert float(vector[0] @ embedder.embed([QUESTIONS[0]])[0]) > 0.9999


def test_an_encoder_that_disagrees_with_the_model_is_not_used(embedder, tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setattr(onnx_query, "MIN_PROBE_COSINE", 1.01)
    assert onnx_query.load_or_export(_model(embedder), embedder_spec("minilm"), tmp_path, 2) is None
    assert "disagrees" in caplog.text
