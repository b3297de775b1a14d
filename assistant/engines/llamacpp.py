"""The ``llamacpp`` engine: the same packaged GGUF weights run by llama.cpp (``xllamacpp``).

``xllamacpp.Server`` runs llama.cpp's own server inside this process, listening on a free
loopback port; the engine talks to it with the OpenAI-compatible client, so the two HTTP-shaped
engines share one streaming code path. ``start_server`` is also what the tests and the benchmark
use to stand up a real OpenAI-compatible server.

Slide prefixes (the system prompt and a prompt's first slide) are kept as llama.cpp slot
states, one file each beside the model, with a checksum beside it. Before a request, the state of
the longest known prefix of its prompt is restored into the slot that runs it (a few
milliseconds for ~10 MB), so the server computes only the rest, as the ``transformers`` engine
does with its saved KV caches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.config import Settings
from assistant.engines.base import PREFIX_END, Generator, Message
from assistant.engines.openai import OpenAIGenerator, post_json
from assistant.errors import AssistantError, ModelUnavailable
from assistant.storage import read_json, sha256_file, write_json
from assistant.weights import chat_spec, gguf_path

log = logging.getLogger(__name__)

STATES_DIR = "llamacpp-states"  # under the model cache: one folder per model and number of slots
MIN_PREFIX_CHARS = 200  # a shorter start (the system prompt alone) costs less to run than to restore


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    gguf: Path,
    threads: int = 2,
    port: int | None = None,
    ctx: int = 4096,
    parallel: int = 1,
    states_dir: Path | None = None,
):
    """Start llama.cpp's server on 127.0.0.1; returns ``(server, base_url)``. Keep ``server`` alive."""
    try:
        import xllamacpp
    except ImportError:
        raise ModelUnavailable(
            "the llamacpp engine needs xllamacpp; run: .venv/bin/pip install -e '.[llamacpp]'"
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = ctx * parallel  # llama.cpp splits the context among the slots
    params.n_parallel = parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.hostnames = ["127.0.0.1"]
    params.port = port or free_port()
    params.sampling.temp = 0.0
    params.cache_ram_mib = 0  # slide prefixes come back from their saved states, not from a RAM copy of each
    params.verbosity = -1  # its per-request timing lines would flood the terminal of every chat
    if states_dir is not None:
        params.slot_save_path = f"{states_dir}{os.sep}"  # llama.cpp joins it to the file name as text
    server = xllamacpp.Server(params)
    return server, f"http://127.0.0.1:{params.port}/v1"


class LlamaCppGenerator(Generator):
    """Greedy chat through an in-process llama.cpp server; loaded once, on first use."""

    keeps_prefixes = True

    def __init__(self, settings: Settings, model_key: str | None = None) -> None:
        self.spec = chat_spec(model_key or settings.model)
        self.name = f"llamacpp:{self.spec.key}"
        self._settings = settings
        self._server = None
        self._client: OpenAIGenerator | None = None
        self._root = ""  # the server's own routes (templates, slots) live beside /v1
        # llama.cpp refuses a state saved by a server with another number of slots (one slot's state into a
        # two-slot server: "Unable to restore slot"), so each layout keeps its own; switching costs no files
        self._states = settings.cache_dir / STATES_DIR / self.spec.key / f"slots-{max(1, settings.concurrency)}"
        self._prefixes: dict[str, str] = {}  # prefix text -> its state's file name
        self._slots: queue.Queue[int] = queue.Queue()
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            gguf = gguf_path(self.spec, self._settings.cache_dir)
            self._states.mkdir(parents=True, exist_ok=True)
            parallel = max(1, self._settings.concurrency)
            self._server, url = start_server(gguf, self._settings.threads, parallel=parallel, states_dir=self._states)
            self._root = url.removesuffix("/v1")
            for slot in range(parallel):
                self._slots.put(slot)
            self._client = OpenAIGenerator(url, self.spec.key, self.name)
            log.info("llama.cpp serving %s at %s", self.spec.title, url)

    @contextmanager
    def _slot(self, messages: list[Message] | None = None) -> Iterator[int]:
        """A free slot for one request, holding the saved state of the longest known start of ``messages``."""
        slot = self._slots.get()
        try:
            if messages and self._prefixes and self._settings.cache_prefix:
                text = self._template(messages, generation=True)
                known = [prefix for prefix in self._prefixes if text.startswith(prefix)]
                if known:
                    self._restore(slot, self._prefixes[max(known, key=len)])
            yield slot
        finally:
            self._slots.put(slot)

    def _template(self, messages: list[Message], generation: bool = False) -> str:
        body = {"messages": messages, "add_generation_prompt": generation}
        return post_json(f"{self._root}/apply-template", body)["prompt"]

    def _restore(self, slot: int, name: str) -> bool:
        """Put a saved state into ``slot``; False (and the file gone) when it is missing or corrupt."""
        path = self._states / name
        expected = (read_json(path.with_suffix(".json")) or {}).get("sha256")
        try:
            if not path.is_file() or expected != sha256_file(path):
                raise AssistantError("its checksum does not match")
            post_json(f"{self._root}/slots/{slot}?action=restore", {"filename": name})
        except (AssistantError, OSError) as err:
            log.warning("saved prompt state %s is unusable (%s); computing it again", name, err)
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
            return False
        return True

    def cache_prefix(self, messages: list[Message]) -> str:
        """Keep a prompt start as a saved slot state: "known", "loaded", "computed" or "off".

        ``messages`` end at ``PREFIX_END``, as for every engine. A state saved by an earlier process
        is checked and restored once; otherwise the start runs once and its state is saved.
        """
        self.load()
        if not self._settings.cache_prefix:
            return "off"
        text = self._template(messages)
        if PREFIX_END not in text:
            raise AssistantError("a cached prefix must mark where it ends")
        text = text[: text.index(PREFIX_END)]
        if len(text) < MIN_PREFIX_CHARS:
            return "off"
        if text in self._prefixes:
            return "known"
        digest = hashlib.sha256(f"{self.spec.sha256}\n{text}".encode()).hexdigest()[:32]
        name = f"{digest}.bin"
        with self._slot() as slot:
            if (self._states / name).is_file() and self._restore(slot, name):
                self._prefixes[text] = name
                return "loaded"
            body = {"prompt": text, "n_predict": 0, "id_slot": slot, "cache_prompt": True}
            post_json(f"{self._root}/completion", body)
            # llama.cpp writes the file itself: a temporary name, renamed once whole and summed
            tmp = f".{name}.{os.getpid()}.tmp"  # two processes may compute one prefix at once
            post_json(f"{self._root}/slots/{slot}?action=save", {"filename": tmp})
            write_json(self._states / f"{digest}.json", {"sha256": sha256_file(self._states / tmp)})
            os.replace(self._states / tmp, self._states / name)
        self._prefixes[text] = name
        return "computed"

    def warm_prefixes(self, prefixes: list[list[Message]], progress=None) -> dict[str, int]:
        """Cache every prefix (see cache_prefix) and delete saved states no longer in use; counts by outcome."""
        counts = self.cache_each(prefixes, progress)
        used = set(self._prefixes.values())
        stale = [path for path in self._states.glob("*.bin") if path.name not in used]
        stale += self._states.parent.glob("*.bin")  # the layout before one folder per slot count: never read
        for path in stale:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
        counts["pruned"] = len(stale)
        return counts

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        self.load()
        assert self._client is not None
        with self._slot(messages) as slot:
            yield from self._client.stream(messages, max_new_tokens, {"id_slot": slot, "cache_prompt": True})

    def yes_probability(self, messages: list[Message]) -> float | None:
        self.load()
        assert self._client is not None
        with self._slot(messages) as slot:
            return self._client.yes_probability(messages, {"id_slot": slot, "cache_prompt": True})
