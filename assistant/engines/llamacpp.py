"""The ``llamacpp`` engine: the same packaged GGUF weights run by llama.cpp (``xllamacpp``).

``xllamacpp.Server`` runs llama.cpp's own server inside this process, listening on a free
loopback port; the engine then talks to it with the OpenAI-compatible client, so the two
HTTP-shaped engines share one streaming code path. ``start_server`` is also what the tests and
the benchmark use to stand up a real OpenAI-compatible server.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

from assistant.config import Settings
from assistant.engines.base import Generator, Message
from assistant.engines.openai import OpenAIGenerator
from assistant.errors import ModelUnavailable
from assistant.weights import chat_spec, gguf_path

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(gguf: Path, threads: int = 2, port: int | None = None, ctx: int = 4096, parallel: int = 1):
    """Start llama.cpp's server on 127.0.0.1; returns ``(server, base_url)``. Keep ``server`` alive."""
    try:
        import xllamacpp
    except ImportError:
        raise ModelUnavailable(
            "the llamacpp engine needs xllamacpp; run: .venv/bin/pip install -e '.[llamacpp]'"
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = ctx
    params.n_parallel = parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = port or free_port()
    params.sampling.temp = 0.0
    server = xllamacpp.Server(params)
    return server, f"http://127.0.0.1:{params.port}/v1"


class LlamaCppGenerator(Generator):
    """Greedy chat through an in-process llama.cpp server; loaded once, on first use."""

    def __init__(self, settings: Settings, model_key: str | None = None) -> None:
        self.spec = chat_spec(model_key or settings.model)
        self.name = f"llamacpp:{self.spec.key}"
        self._settings = settings
        self._server = None
        self._client: OpenAIGenerator | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._client is None:
                gguf = gguf_path(self.spec, self._settings.cache_dir)
                self._server, url = start_server(gguf, self._settings.threads, parallel=self._settings.concurrency)
                self._client = OpenAIGenerator(url, self.spec.key, self.name)
                log.info("llama.cpp serving %s at %s", self.spec.title, url)

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        self.load()
        assert self._client is not None
        yield from self._client.stream(messages, max_new_tokens)
