"""The default engine: the packaged Qwen2.5-Coder model run by ``transformers`` on the CPU.

Greedy, bounded length, stop at the end of the turn. Prompts run in ``prefill_mode()`` weights and
replies in a lighter decoder (int4 by default, see ``decoding/``); prompt starts keep their KV cache
(``cache_prefix``), saved beside the model by ``kvstore``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from assistant.config import Settings
from assistant.engines import slim
from assistant.engines.base import PREFIX_END, Generator, Message
from assistant.engines.decoding import blend as decoding_blend
from assistant.engines.decoding import greedy
from assistant.engines.decoding.starts import Starts
from assistant.errors import AssistantError, ModelUnavailable
from assistant.storage import read_json
from assistant.weights import chat_spec, require_prepared, set_offline

log = logging.getLogger(__name__)

DECODE_MODES = ("int4", "bf16", "fp32")
PREFILL_MODES = ("auto", "bf16", "fp32", "int8")


def has_bf16_matmul() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (AVX512-BF16 dot products or AMX tiles)."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def prefill_mode(settings: Settings) -> str:
    """The weights that run prompts (prefill), "bf16", "fp32" or "int8": the one place that chooses them.

    Prefill is a few hundred rows through every weight matrix, so it is bound by arithmetic: bf16 is
    faster than fp32 only with bf16 dot-product instructions, and slower without them
    (docs/decisions/bf16-prefill.md).
    ``decode="fp32"`` keeps one fp32 copy for both phases, so it runs the prompt in fp32 as well.
    """
    mode = settings.prefill
    if mode not in PREFILL_MODES:
        raise AssistantError(f"unknown prefill mode {mode!r}; choose one of {', '.join(PREFILL_MODES)}")
    if settings.decode == "fp32":
        return "fp32"
    if mode == "auto":
        return "bf16" if has_bf16_matmul() else "fp32"
    return mode


def _load_decoder(folder, mode: str, model, source: str | None):
    """The model that writes the reply: ``model`` itself for "fp32", else a second, lighter copy.

    ``source`` is the checksum of the prepared weights, which keys the saved int4 copy.
    """
    import torch
    from transformers import AutoModelForCausalLM

    if mode not in DECODE_MODES:
        raise AssistantError(f"unknown decode mode {mode!r}; choose one of {', '.join(DECODE_MODES)}")
    if mode == "int4":
        from assistant.engines.decoding import int4

        if not int4.supported():
            log.warning("this PyTorch has no CPU int4 kernel; the prompt's model writes the reply")
            mode = "fp32"
    if mode == "fp32":
        return model
    from assistant.engines.decoding import attention

    # subtle: one query row against the cache is faster in eager attention than in bf16 SDPA here;
    # the grouped form also skips eager's copy of the cache for every query head.
    decoder = AutoModelForCausalLM.from_pretrained(
        str(folder), dtype=torch.bfloat16, attn_implementation=attention.register(), local_files_only=True
    )
    if mode == "int4":
        start = time.perf_counter()
        if source:
            swapped = int4.load_or_pack(decoder, folder.parent / "int4-decoder.safetensors", source)
        else:  # not a folder we prepared: nothing to key a saved copy on
            swapped = len(int4.quantize_decoder(decoder))
        log.info("int4 decoder: %d layers ready in %.1f s", swapped, time.perf_counter() - start)
    return decoder


class TransformersGenerator(Generator):
    """A packaged chat model run by ``transformers`` on the CPU, loaded once, shared by threads."""

    keeps_prefixes = True

    def __init__(self, settings: Settings, model_key: str | None = None, prepare: bool = True) -> None:
        self.spec = chat_spec(model_key or settings.model)
        self.name = self.spec.key
        self._settings = settings
        self._prepare = prepare
        self._model = None  # runs the prompt (prefill) in the dtype fastest on this CPU: prefill_mode()
        self._decoder = None  # the same weights, lighter (``settings.decode``): writes the reply token by token
        self._tokenizer = None
        self._yes_no = None  # the vocabulary head's rows of "Yes" and "No": the judge's reading (see slim)
        self._starts = Starts()  # KV caches of slide prefixes and recent prompts, to start prompts from
        self._store = None  # a KVStore beside the prepared model, when it has a checksum to key files on
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
            source = (read_json(folder / "manifest.json") or {}).get("sha256", {}).get("model.safetensors")
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                # subtle: a prompt is bound by arithmetic and runs in prefill_mode(), while one token at
                # a time is bound by reading the weights, faster from int4. So two copies: the
                # prompt runs in ``model`` and the reply in the decoder.
                # The weights come as stored (bf16, mapped from the file), and slim() casts only what
                # the prompt runs, so the head and embedding are never copied.
                model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.bfloat16, local_files_only=True)
                decoder = _load_decoder(folder, self._settings.decode, model, source)
            except (OSError, ValueError) as err:
                raise ModelUnavailable(
                    f"the prepared model in {folder} cannot be loaded ({type(err).__name__}); "
                    f"run: assistant prepare --model {self.spec.key} --force"
                ) from None
            if not greedy.supports(model):
                raise ModelUnavailable(f"{self.spec.title}: the decoding loop follows Qwen2 models only")
            mode = prefill_mode(self._settings)
            dtype = torch.bfloat16 if mode == "bf16" else torch.float32
            yes_no = [self._tokenizer.convert_tokens_to_ids(word) for word in ("Yes", "No")]
            self._yes_no = slim.slim(model, decoder, yes_no, dtype)
            if mode == "int8":
                from assistant.engines.int8 import quantize_layers

                quantize_layers(model)
            self._model, self._decoder = model.eval(), decoder.eval()
            self._starts.config = model.config
            if source:
                from assistant.engines.kvstore import KVStore

                # the saved caches are those of this prefill dtype: another dtype gives other bits
                self._store = KVStore(
                    folder.parent / "prefix-kv",
                    f"{source}:{torch.__version__}:{dtype}" + (":int8" if mode == "int8" else ""),
                )
            log.info("loaded %s in %.1f s (prompt in %s)", self.spec.title, time.perf_counter() - start, mode)

    def _end_ids(self) -> list[int]:
        tok = self._tokenizer
        ids = {tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id}
        return [i for i in ids if isinstance(i, int) and i >= 0]

    def prompt_ids(self, messages: list[Message]):
        self.load()
        return self._tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def yes_probability(self, messages: list[Message]) -> float | None:
        """P("Yes") against P("No") as the reply's first token: the model read as a yes/no judge.

        One forward pass over what the prompt does not share with a cached start (a slide's prefix
        makes that the few dozen tokens of the statement), no decoding.
        """
        self.load()
        import torch

        ids = self.prompt_ids(messages)["input_ids"]
        with self._run_lock:
            cache = self._starts.reusable(ids[:, :-1]) if self._settings.cache_prefix else None
            if cache is None:
                from transformers import DynamicCache

                cache = DynamicCache(config=self._model.config)
            done = cache.get_seq_length()
            with torch.inference_mode():
                # subtle: the prompt's weights, not the int4 decoder: a few dozen new tokens run slower through
                # PyTorch's int4 kernel (docs/decisions/truth-check.md)
                last = slim.hidden(self._model, ids[:, done:], cache)
        pair = torch.softmax(slim.scores(last, self._yes_no)[0], dim=-1)
        return float(pair[0])

    def _kv(self, ids, blend: bool = False):
        """The KV cache of all of ``ids`` (prefill dtype), computed from the longest start already known.

        With ``blend``, slides the saved prefixes hold are reused wherever they sit (``decoding/blend``).
        """
        import torch
        from transformers import DynamicCache

        cache = self._starts.reusable(ids) if self._settings.cache_prefix else None
        if cache is None:
            cache = DynamicCache(config=self._model.config)
        done = cache.get_seq_length()
        sources, spans = self._starts.spans(ids, done) if blend and self._settings.blend > 0 else (None, [])
        if spans:
            cache = decoding_blend.prefill(self._model, ids[0].tolist(), cache, sources, spans, self._settings.blend)
        elif ids.shape[-1] > done:
            with torch.inference_mode():
                slim.hidden(self._model, ids[:, done:], cache)
        log.debug("KV of %d tokens: %d reused, %d blended", ids.shape[-1], done, sum(s.length for s in spans))
        return cache

    def prefill(self, input_ids, room: int = 0):
        """The KV cache of all prompt tokens but the last, run in the prefill dtype and handed to the decoder.

        The decoding loop (``greedy.decode``) then runs the last prompt token to get the first reply
        token. The cache comes in the decoder's dtype, with room for ``room`` more tokens (see ``kvbuffer``).
        """
        self.load()
        head = input_ids[:, :-1]
        cache = self._kv(head, blend=True)
        if self._settings.cache_prefix:
            self._starts.remember(head, cache)
        from assistant.engines.decoding.kvbuffer import with_room

        return with_room(cache, room + 1, self._decoder.dtype)

    def _prefix_ids(self, messages: list[Message]):
        """Token ids of the templated ``messages`` up to ``PREFIX_END`` in the last one."""
        text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=False, tokenize=False)
        if PREFIX_END not in text:
            raise AssistantError("a cached prefix must mark where it ends")
        return self._tokenizer(text[: text.index(PREFIX_END)], return_tensors="pt")["input_ids"]

    def cache_prefix(self, messages: list[Message]) -> str:
        """Keep the KV cache of a prompt start for the whole process: "known", "loaded" or "computed".

        ``messages`` are a prompt's first messages with ``PREFIX_END`` where the shared part stops
        (after the system prompt; after a slide). A prefix is read from the saved copy beside the
        model when there is one, else run once (one model run at a time, so a student's
        question waits for at most one prefix) and saved.
        """
        self.load()
        if not self._settings.cache_prefix:
            return "off"
        ids = self._prefix_ids(messages)
        if self._starts.known(ids):
            return "known"
        from transformers import DynamicCache

        layers = self._store.load(ids) if self._store else None
        if layers is not None:
            cache, outcome = DynamicCache(config=self._model.config), "loaded"
            for index, (keys, values) in enumerate(layers):
                cache.update(keys, values, index)
        else:
            with self._run_lock:
                cache, outcome = self._kv(ids), "computed"
            if self._store:
                self._store.save(ids, [(layer.keys, layer.values) for layer in cache.layers])
        self._starts.pin(ids, cache)
        return outcome

    def warm_prefixes(self, prefixes: list[list[Message]], progress=None) -> dict[str, int]:
        """Cache every prefix (see cache_prefix) and drop saved ones no longer in use; counts by outcome."""
        counts = self.cache_each(prefixes, progress)
        if self._store:
            counts["pruned"] = self._store.prune({self._store.path(ids) for ids, _ in self._starts.pinned})
        return counts

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        self.load()
        import torch
        from transformers import TextIteratorStreamer

        cancelled = threading.Event()
        if messages and messages[0]["role"] == "system":
            self.cache_prefix([messages[0], {"role": "user", "content": PREFIX_END}])
        ids = self.prompt_ids(messages)["input_ids"]
        streamer = TextIteratorStreamer(self._tokenizer, skip_special_tokens=True, timeout=600)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                cache = self.prefill(ids, room=max_new_tokens)
                for token in greedy.decode(
                    self._decoder,
                    ids[0].tolist(),
                    cache,
                    max_new_tokens,
                    self._end_ids(),
                    cancelled,
                    max_draft=self._settings.draft,
                ):
                    streamer.put(torch.tensor([token]))
            except BaseException as err:  # noqa: BLE001 - reported to the consumer below
                failure.append(err)
            finally:
                streamer.end()
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
