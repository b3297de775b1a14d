"""The answer pipeline shared by the CLI, the UI and the evaluation harness.

question → checks → retrieval (with the previous turn for follow-ups) → answerability gate → prompt with
numbered slides → streamed reply → citations → checks after the model (leaks, support, truth) → ``Answer``.

``Assistant.ask`` yields events as they happen, so the sources can be shown before the first
token and the reply streamed as it is decoded; the last event carries the finished ``Answer``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence

from assistant.answering import truth
from assistant.answering.citations import snippet
from assistant.answering.excerpt import excerpt
from assistant.answering.prompts import build_messages, slide_prefix
from assistant.answering.reply import (
    REFUSAL,
    Answer,
    Citation,
    DoneEvent,
    Event,
    SourcesEvent,
    TokenEvent,
    Turn,
    clean_question,
    is_broad,
    is_follow_up,
    leaks_instructions,
    overview,
    refusal_text,
    render,
)
from assistant.answering.vetting import shown_sentences
from assistant.config import Settings
from assistant.corpus.index import Index, load_or_build
from assistant.engines.base import Generator, Message
from assistant.engines.factory import LOCAL_ENGINES, GeneratorFactory, make_generator, resolve_engine
from assistant.retrieval.embed import Embedder, SentenceTransformerEmbedder
from assistant.retrieval.hybrid import Retrieval, Retriever
from assistant.weights import embedder_spec

log = logging.getLogger(__name__)

GATE = 0.30  # answerability below this is refused before the model (calibrated: docs/decisions/refusal-gate.md)
_MODEL_REFUSAL = re.compile(
    r"(slides|context|sources?|material)\s+(do(es)?\s+not|don't|doesn't)\s+(cover|contain|mention)", re.I
)


class Assistant:
    """Holds the index, the embedder and the chat models of one process; thread-safe for the UI."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        index: Index | None = None,
        generator: Generator | None = None,
        generator_factory: GeneratorFactory = make_generator,
        retrieval_mode: str = "hybrid",
        gate: float = GATE,
    ) -> None:
        self.settings = settings = resolve_engine(settings) if generator is None else settings  # "auto" named
        self._make_generator = generator_factory
        self.embedder = embedder or SentenceTransformerEmbedder(
            embedder_spec(settings.embedder), settings.cache_dir, settings.threads
        )
        self.index = index or load_or_build(settings.corpus_dir, settings.index_dir, self.embedder)
        self.retriever = Retriever(self.index, self.embedder, retrieval_mode)
        self.gate = gate
        self._generators: dict[str, Generator] = {}
        if generator is not None:
            self._generators[generator.name] = generator
            self._default = generator.name
        else:
            self._default = settings.model if settings.engine in LOCAL_ENGINES else ""
        self._lock = threading.Lock()

    def variant(
        self,
        settings: Settings | None = None,
        retrieval_mode: str = "hybrid",
        index: Index | None = None,
        generator: Generator | None = None,
    ) -> Assistant:
        """Another pipeline over the same loaded embedder and models (baselines; another corpus's index).

        With ``generator``, the variant answers with that model alone and shares no other.
        """
        other = Assistant(
            settings or self.settings,
            embedder=self.embedder,
            index=index or self.index,
            generator=generator,
            generator_factory=self._make_generator,
            retrieval_mode=retrieval_mode,
            gate=self.gate,
        )
        if generator is not None:
            return other
        other._generators, other._lock = self._generators, self._lock
        # the variant's own model is its default, from the shared registry (loaded once)
        other._default = other.settings.model if settings and other.settings.engine in LOCAL_ENGINES else self._default
        return other

    def generator(self, model: str | None = None) -> Generator:
        key = model or self._default
        with self._lock:
            if key not in self._generators:
                gen = self._make_generator(self.settings, key or None)
                key = key or gen.name
                self._generators[key] = gen
                if not self._default:
                    self._default = key
            return self._generators[key]

    def warm(self, model: str | None = None, slides: str = "now", progress=None) -> threading.Thread | None:
        """Load the models now, so the first student does not pay for it; then cache the slide prefixes.

        Every first-turn prompt starts with the system prompt and its best slide, so the engine
        keeps the KV cache of that start for every slide (saved beside the model, so only the first
        start runs the deck; costs in docs/decisions/slide-prefix-caches.md). ``slides``: "now" (the
        evaluation and the benchmark, so they time what a student gets), "background" (the UI: it
        opens at once, and a question waits for at most one slide) or "off".
        """
        self.retriever.search("warm up", 1)
        gen = self.generator(model)
        gen.load()
        if slides == "off" or not gen.keeps_prefixes:
            return None
        prefixes = self.slide_prefixes()

        def run() -> None:
            start = time.perf_counter()
            try:
                counts = gen.warm_prefixes(prefixes, progress)
            except Exception as err:  # noqa: BLE001 - a cache only: answers still work without it
                log.warning("could not cache the slide prefixes (%s); answers start without them", err)
                return
            log.info("slide prefixes ready in %.1f s: %s", time.perf_counter() - start, counts)

        if slides == "now":
            run()
            return None
        worker = threading.Thread(target=run, daemon=True, name="warm-slides")
        worker.start()
        return worker

    def prompt(self, question: str, retrieval: Retrieval, history: Sequence[Turn] = ()) -> list[Message]:
        """The messages the model gets for ``question``, with this process's context settings."""
        return build_messages(
            question,
            retrieval,
            history,
            self.settings.context_k,
            self.excerpts(question, retrieval),
            self.settings.answer_prompt,
        )

    def excerpts(self, question: str, retrieval: Retrieval) -> list[str] | None:
        """The texts of the prompt's slides after the first, cut to ``context_words`` (None: whole slides)."""
        words = self.settings.context_words
        if words <= 0:
            return None
        hits = retrieval.hits[1 : self.settings.context_k]
        return [excerpt(hit.chunk.text, question, self.embedder.embed, words) for hit in hits]

    def slide_prefixes(self) -> list[list[Message]]:
        """One prompt start per slide of the index, for the engine's KV cache (see ``warm``)."""
        return [slide_prefix(chunk) for chunk in self.index.chunks]

    def retrieve(self, question: str, history: Sequence[Turn] = ()) -> tuple[Retrieval, str]:
        """Retrieval for ``question``; a follow-up is searched together with the previous question."""
        k = self.settings.top_k
        alone = self.retriever.search(question, k)
        if history and is_follow_up(question):
            previous = history[-1].query or history[-1].question
            query = f"{previous} {question}"
            joined = self.retriever.search(query, k)
            # subtle: a follow-up that names its own topic ("what about MAE?") is best served by the
            # joined query only when it does not lose the new topic's own best slide.
            if alone.hits and joined.hits and alone.answerability > joined.answerability + 0.15:
                return alone, question
            return joined, query
        return alone, question

    def ask(self, question: object, history: Sequence[Turn] = (), model: str | None = None) -> Iterator[Event]:
        """Answer ``question``; yields the sources, then the reply in pieces, then the ``Answer``."""
        start = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        retrieval, query = self.retrieve(text, history)
        gen = None if retrieval.answerability < self.gate else self.generator(model)
        result = Answer(
            question=text,
            query=query,
            retrieved=[h.to_dict() for h in retrieval.hits],
            answerability=round(retrieval.answerability, 4),
            model=gen.name if gen else "",
        )
        result.timings["retrieval_s"] = round(retrieval.seconds, 4)
        yield SourcesEvent(retrieval)
        if gen is None:
            result.answer, result.refused, result.refusal_reason = refusal_text(retrieval), True, "gate"
            result.timings.update(ttft_s=None, total_s=round(time.perf_counter() - start, 4))
            yield TokenEvent(result.answer)
            yield DoneEvent(result)
            return
        # subtle: the last exchange goes in only for a follow-up (searched with it too, see retrieve): before
        # the slides, it would keep a question that stands alone from its slide's saved prompt start
        messages = self.prompt(text, retrieval, history if is_follow_up(text) else ())
        pieces: list[str] = []
        for piece in gen.stream(messages, self.settings.max_new_tokens):
            if not pieces:
                result.timings["ttft_s"] = round(time.perf_counter() - start, 4)
            pieces.append(piece)
            yield TokenEvent(piece)
        if pieces:  # the reply's last piece: decoding ends here, citing and checking follow
            result.timings["last_token_s"] = round(time.perf_counter() - start, 4)
        raw = "".join(pieces).strip()
        result.model_reply = raw
        self._finish(result, raw, retrieval, messages[0]["content"], gen)
        result.timings["total_s"] = round(time.perf_counter() - start, 4)
        yield DoneEvent(result)

    def answer(self, question: object, history: Sequence[Turn] = (), model: str | None = None) -> Answer:
        """``ask`` without streaming: the finished ``Answer``."""
        for event in self.ask(question, history, model):
            if isinstance(event, DoneEvent):
                return event.answer
        raise AssertionError("ask() ended without an answer")

    def _finish(
        self, result: Answer, raw: str, retrieval: Retrieval, system_prompt: str, gen: Generator | None = None
    ) -> None:
        """Cite and check each sentence, then decide whether the reply stands as an answer."""
        if leaks_instructions(raw, system_prompt):
            result.answer, result.refused, result.refusal_reason = (
                REFUSAL + " I can only help with the course slides.",
                True,
                "leak",
            )
            return
        if not raw or _MODEL_REFUSAL.search(raw):
            result.answer, result.refused, result.refusal_reason = refusal_text(retrieval), True, "model"
            return
        context = retrieval.hits[: self.settings.context_k]
        sentences = shown_sentences(result, raw, context, self.embedder, gen, self.settings.judge)
        if not any(s["source"] for s in sentences) and context:
            top = context[0].chunk
            names = self.retriever.names_in(result.question, top.slide_id)
            sentences = overview(top) if is_broad(result.question) else truth.slide_answer(result.question, top, names)
        cited: dict[str, Citation] = {}
        for sentence in sentences:
            if sentence["source"] is None:
                continue
            hit = next(h for h in context if h.chunk.slide_id == sentence["source"])
            if hit.chunk.slide_id not in cited:
                cited[hit.chunk.slide_id] = Citation(
                    hit.chunk.slide_id,
                    hit.chunk.title,
                    hit.chunk.deck_title,
                    hit.chunk.slide,
                    sentence.pop("evidence", "") or snippet(sentence["text"], hit.chunk.text),
                    marker=context.index(hit) + 1,
                )
            sentence.pop("evidence", None)
        result.sentences = sentences
        result.citations = list(cited.values())
        if not cited:
            # Nothing the model said can be traced to a slide: it answered from its own knowledge.
            result.answer, result.refused, result.refusal_reason = refusal_text(retrieval), True, "unsupported"
            result.sentences = []
            return
        result.answer = render(result)
