"""Chat-model engines behind one ``Generator`` protocol, chosen in one place: ``make_generator``.

Every engine streams text pieces for a list of chat messages. The default is the packaged
Qwen2.5-Coder model through Hugging Face ``transformers`` (greedy, bounded length, stop at the end
of the turn); ``openai`` talks to any OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama).
Callers never learn which engine they hold.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Protocol

from assistant.config import Settings
from assistant.errors import AssistantError, ModelUnavailable
from assistant.models import chat_spec, require_prepared, set_offline

log = logging.getLogger(__name__)

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


class Generator(Protocol):
    name: str

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        """Yield the reply in pieces as the model produces them."""
        ...


class TransformersGenerator:
    """A packaged chat model run by ``transformers`` on the CPU, loaded once, shared by threads."""

    def __init__(self, settings: Settings, model_key: str | None = None, prepare: bool = True) -> None:
        self.spec = chat_spec(model_key or settings.model)
        self.name = self.spec.key
        self._settings = settings
        self._prepare = prepare
        self._model = None
        self._tokenizer = None
        self._prefixes: dict[str, tuple] = {}  # system prompt -> (token ids, KV cache), see cache_prefix()
        self._load_lock = threading.Lock()
        # subtle: two generations at once on 2 cores are each more than twice as slow; the queue in
        # front of the UI is where students wait, so one model runs one generation at a time.
        self._run_lock = threading.Semaphore(max(1, settings.concurrency))

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            folder = require_prepared(self.spec, self._settings.cache_dir, self._prepare)
            set_offline()
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            torch.set_num_threads(self._settings.threads)
            start = time.perf_counter()
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                # fp32: on this class of CPU prefill is faster than bf16 and decode is the same speed.
                model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, local_files_only=True)
            except (OSError, ValueError) as err:
                raise ModelUnavailable(
                    f"the prepared model in {folder} cannot be loaded ({type(err).__name__}); "
                    f"run: assistant prepare --model {self.spec.key} --force"
                ) from None
            model.eval()
            self._model = model
            log.info("loaded %s in %.1f s", self.spec.title, time.perf_counter() - start)

    def _end_ids(self) -> list[int]:
        tok = self._tokenizer
        ids = {tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id}
        return [i for i in ids if isinstance(i, int) and i >= 0]

    def prompt_ids(self, messages: list[Message]):
        self.load()
        return self._tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def _generation_extras(self, input_ids) -> dict:
        """Decoding options: a copy of the cached system-prompt prefix, and prompt-lookup drafts."""
        import copy

        extra: dict = {}
        if self._settings.prompt_lookup > 0:
            # Answers quote the slides, so n-grams from the prompt are good free drafts.
            extra["prompt_lookup_num_tokens"] = self._settings.prompt_lookup
        for prefix_ids, cache in list(self._prefixes.values()):
            n = prefix_ids.shape[-1]
            if input_ids.shape[-1] > n and bool((input_ids[0, :n] == prefix_ids[0]).all()):
                # subtle: generate() mutates the cache it is given, so each call gets its own copy.
                extra["cache"] = copy.deepcopy(cache)
                break
        return extra

    def cache_prefix(self, system_prompt: str) -> None:
        """Run the fixed system prompt once and keep its KV cache for every later question."""
        self.load()
        if not self._settings.cache_prefix or system_prompt in self._prefixes or len(self._prefixes) >= 8:
            return
        import torch
        from transformers import DynamicCache

        probe = [{"role": "system", "content": system_prompt}, {"role": "user", "content": "\x00"}]
        full = self._tokenizer.apply_chat_template(probe, add_generation_prompt=False, tokenize=False)
        prefix_text = full[: full.index("\x00")]
        # Stop before the user turn's own tokens so a prefix always ends on the same token boundary.
        prefix_text = prefix_text[: prefix_text.rindex("<|im_start|>")]
        ids = self._tokenizer(prefix_text, return_tensors="pt")["input_ids"]
        cache = DynamicCache(config=self._model.config)
        with torch.inference_mode():
            self._model(input_ids=ids, cache=cache, use_cache=True)
        self._prefixes[system_prompt] = (ids, cache)
        log.info("cached the %d-token system prompt prefix", ids.shape[-1])

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        self.load()
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        cancelled = threading.Event()

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):  # noqa: ARG002
                return cancelled.is_set()

        if messages and messages[0]["role"] == "system":
            self.cache_prefix(messages[0]["content"])
        inputs = self.prompt_ids(messages)
        extra = self._generation_extras(inputs["input_ids"])
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self._model.generate(
                        **inputs,
                        max_new_tokens=max_new_tokens,
                        do_sample=False,
                        eos_token_id=self._end_ids(),
                        pad_token_id=self._tokenizer.eos_token_id,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Cancel()]),
                        **extra,
                    )
            except BaseException as err:  # noqa: BLE001 - reported to the consumer below
                failure.append(err)
                streamer.end()
            finally:
                self._run_lock.release()

        self._run_lock.acquire()
        worker = threading.Thread(target=run, daemon=True, name=f"generate-{self.name}")
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            cancelled.set()  # the consumer stopped early (closed tab, Ctrl-C): stop decoding
            worker.join(timeout=30)
        if failure:
            log.error("generation failed: %r", failure[0])
            raise AssistantError("the model failed while answering; please ask again")


class OpenAIGenerator:
    """Any OpenAI-compatible chat server, streamed over server-sent events with the standard library."""

    def __init__(self, base_url: str, model: str = "default", name: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = name or f"openai:{model}"

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        body = json.dumps(
            {"model": self.model, "messages": messages, "max_tokens": max_new_tokens, "temperature": 0, "stream": True}
        ).encode()
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            response = urllib.request.urlopen(request, timeout=300)  # noqa: S310 - the URL is the configured server
        except (urllib.error.URLError, OSError) as err:
            raise AssistantError(
                f"the inference server at {self.base_url} did not answer ({err}); is it running?"
            ) from None
        with response:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                except (ValueError, KeyError, IndexError):
                    continue
                if delta:
                    yield delta


def make_generator(settings: Settings, model_key: str | None = None, prepare: bool = True) -> Generator:
    """The one place that turns a setting into an engine."""
    if settings.engine == "transformers":
        return TransformersGenerator(settings, model_key, prepare)
    if settings.engine == "openai":
        return OpenAIGenerator(settings.openai_base_url, settings.openai_model)
    if settings.engine == "llamacpp":
        from assistant.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(settings, model_key)
    raise AssistantError(f"unknown engine {settings.engine!r}; choose transformers, llamacpp or openai")
