"""Shared fixtures: the real packaged embedder, the real index of the shipped deck, real settings.

Real-model tests are the product's tests, so they run by default. Each heavy object is built once
per session; tests that change files work on copies in ``tmp_path``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.weights import set_offline

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "corpus" / "cs182-lecture24-midterm2-review.md"

set_offline()


def kv_error(cache, reference) -> float:
    """The largest relative error (norm of the difference over the reference's norm) of any layer's keys or values.

    Two KV caches of one prompt computed differently (a reused start, bf16 weights) are close, not equal.
    """
    return max(
        ((mine.float() - theirs.float()).norm() / theirs.float().norm()).item()
        for a, b in zip(cache.layers, reference.layers, strict=True)
        for mine, theirs in ((a.keys, b.keys), (a.values, b.values))
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Real settings with the engine named: the fixtures below run each engine, tests/test_engine_choice.py "auto"."""
    paths = {"corpus_dir": ROOT / "corpus", "index_dir": ROOT / "index", "cache_dir": ROOT / ".cache" / "models"}
    return Settings.from_env(**paths, engine="transformers")


@pytest.fixture(scope="session")
def embedder(settings: Settings):
    from assistant.retrieval.embed import SentenceTransformerEmbedder
    from assistant.weights import embedder_spec

    return SentenceTransformerEmbedder(embedder_spec(settings.embedder), settings.cache_dir, settings.threads)


@pytest.fixture(scope="session")
def shipped_index(settings: Settings, embedder):
    """The committed index, loaded as the app loads it (rebuilt only if it is stale)."""
    from assistant.corpus.index import load_or_build

    return load_or_build(settings.corpus_dir, settings.index_dir, embedder)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    target.mkdir()
    shutil.copy(DECK, target / DECK.name)
    return target


@pytest.fixture(scope="session")
def assistant_fast(settings: Settings, assistant_default):
    """The real pipeline with the fast packaged model (0.5B) and short replies, for end-to-end tests.

    A variant of ``assistant_default``: one copy of each model for the whole session, since a CPU
    without bf16 instructions keeps an fp32 copy of each (24 GB did not hold two of every model).
    """
    from dataclasses import replace

    return assistant_default.variant(replace(settings, model="qwen2.5-coder-0.5b", max_new_tokens=80))


@pytest.fixture(scope="session")
def assistant_default(settings: Settings, embedder, shipped_index):
    """The real pipeline with the default model (1.5B), as students get it."""
    from dataclasses import replace

    from assistant.answering.assistant import Assistant

    return Assistant(replace(settings, max_new_tokens=80), embedder=embedder, index=shipped_index)


@pytest.fixture(scope="session")
def llama_server(settings: Settings):
    """A real OpenAI-compatible server (llama.cpp, same packaged 1.5B weights) on 127.0.0.1."""
    from assistant.engines.llamacpp import start_server
    from assistant.weights import chat_spec, gguf_path

    server, url = start_server(gguf_path(chat_spec(settings.model), settings.cache_dir), settings.threads)
    yield url
    del server


def _engine_assistant(settings: Settings, embedder, index, **overrides):
    from dataclasses import replace

    from assistant.answering.assistant import Assistant

    return Assistant(replace(settings, max_new_tokens=80, **overrides), embedder=embedder, index=index)


@pytest.fixture(scope="session")
def assistant_llamacpp(settings: Settings, embedder, shipped_index):
    """The default model's same weights through llama.cpp: the fast engine for long real-model tests."""
    return _engine_assistant(settings, embedder, shipped_index, engine="llamacpp")


@pytest.fixture(scope="session", params=["transformers", "llamacpp", "openai"])
def engine_assistant(request, settings: Settings, embedder, shipped_index):
    """The real pipeline on each engine: transformers (default), llama.cpp in-process, an OpenAI server."""
    if request.param == "transformers":
        return request.getfixturevalue("assistant_default")
    if request.param == "llamacpp":
        return request.getfixturevalue("assistant_llamacpp")
    url = request.getfixturevalue("llama_server")
    return _engine_assistant(settings, embedder, shipped_index, engine="openai", openai_base_url=url)
