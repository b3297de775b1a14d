"""Stand-ins for the model and the embedder, and the slides and items the practice tests share.

``ScriptedGenerator`` replies from a list (and answers self-check readings from ``picks``);
``WordByWordScript`` streams those replies a word at a time; ``bag_of_words`` is a deterministic embedder;
``fake_assistant`` puts them together over three slides, for ``generate_set`` without a model.
``StandInGenerator`` always gives one reply; ``CountingGenerator`` wraps a real model and counts its
calls; ``WritesReply`` streams a fixed reply and, as a judge, finds every sentence on its slide.
Each is a ``Generator``, handed to the pipeline through ``Assistant(generator=...)``,
``Assistant.variant(generator=...)`` or a ``generator_factory``.
"""

from __future__ import annotations

import json
import re
import threading

from assistant.corpus.chunking import Chunk
from assistant.engines.base import Generator
from assistant.practice.items import PracticeItem, SlideRef

AT_SLIDE = (
    "Adversarial training (AT)\n"
    "The best way (we know of) to robustify models to lp attacks is adversarial training (AT)\n"
    "A common AT procedure is as follows:\n"
    "Sample minibatch from the training set\n"
    "Create x_adv (e.g., x_PGD) from x for all i\n"
    "Optimize the average training loss on these adversarial training examples\n"
    "This does come with some downsides: currently, AT can reduce accuracy on non adversarial (clean) examples by 10%+"
)


GAN_SLIDE = (
    "GANs summary\n"
    "GANs are the go-to model for image generation\n"
    "However, GANs are not density models, and there is not really a way to obtain probability estimates of data "
    "points from a GAN\n"
    "Metrics for evaluating GANs usually rely on inputting generated images into a pretrained classifier (e.g., "
    "Inception and FID scores), but this is contentious"
)

SOURCE = [SlideRef("deck#31", "Adversarial training (AT)", "Lecture 24", 31)]


def mcq(question: str, options: list[str], answer: str, explanation: str) -> PracticeItem:
    return PracticeItem(question, "mcq", options, answer, explanation, SOURCE)


GOOD_MCQ = mcq(
    "What is the best known way to make models robust to lp attacks?",
    ["Adversarial training", "Dropout", "Weight decay", "Early stopping"],
    "Adversarial training",
    "Adversarial training is the best way we know of to robustify models to lp attacks.",
)


def chunk(slide: int, section: str, title: str, text: str) -> Chunk:
    return Chunk(f"d#{slide}", f"d#{slide}", "d", "Deck", section, slide, title, text, "d.md")


class ScriptedGenerator(Generator):
    """Replies from a list, in order; records the prompts so tests can see retries vary them.

    A self-check reading is answered from ``picks`` (question -> the option the model "chooses"), by
    the letter that option has in the order shown, so a script does not depend on the shuffle; a
    reading of whether a wrong option is a member of the key says "Yes" for the options in ``members``,
    and one of whether a proposed answer is right on the slide says "Yes" for those in ``true_options``.
    """

    name = "scripted"

    def __init__(
        self,
        replies: list[str],
        picks: dict[str, str] | None = None,
        members: set[str] = frozenset(),
        true_options: set[str] = frozenset(),
    ):
        self.replies = list(replies)
        self.picks = picks or {}
        self.members, self.true_options = set(members), set(true_options)
        self.prompts: list[str] = []

    def stream(self, messages, max_new_tokens=200):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        if prompt.startswith('Is "') and "another name for" in prompt:
            yield "Yes" if prompt.split('"')[1] in self.members else "No"
            return
        if "\n\nProposed answer: " in prompt:
            yield "Yes" if prompt.split("Proposed answer: ", 1)[1].split("\n", 1)[0] in self.true_options else "No"
            return
        if "Reply with the letter only" in prompt:
            shown = dict(re.findall(r"^([A-D])\. (.*)$", prompt, re.MULTILINE))
            pick = next((p for q, p in self.picks.items() if f"Question: {q}" in prompt), None)
            yield next((letter for letter, option in shown.items() if option == pick), "no pick")
            return
        yield self.replies.pop(0) if self.replies else "no more"


class WordByWordScript(ScriptedGenerator):
    """The scripted model, streaming each reply a word at a time as a real engine does; ``sent`` counts
    words, ``per_call`` the words of each call."""

    def __init__(self, replies: list[str], picks: dict[str, str] | None = None) -> None:
        super().__init__(replies, picks)
        self.sent = 0
        self.per_call: list[int] = []

    def stream(self, messages, max_new_tokens=200):
        self.per_call.append(0)
        for piece in super().stream(messages, max_new_tokens):
            for word in piece.split(" "):
                self.sent += 1
                self.per_call[-1] += 1
                yield word + " "


class BagOfWordsEmbedder:
    """``bag_of_words`` as an ``Embedder``: an index built with it is made in milliseconds."""

    key = "bag-of-words"
    dim = 256

    def embed(self, texts: list[str], batch_size: int = 16):
        return bag_of_words(texts)

    def words(self) -> frozenset[str]:
        return frozenset()


def bag_of_words(texts: list[str]):
    """A deterministic stand-in embedder: hashed content words, normalised."""
    import zlib

    import numpy as np

    out = np.zeros((len(texts), 256), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, zlib.crc32(word.encode()) % 256] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def fake_assistant(
    replies: list[str],
    picks: dict[str, str] | None = None,
    members: set[str] = frozenset(),
    true_options: set[str] = frozenset(),
):
    from types import SimpleNamespace

    chunks = [
        chunk(1, "Deck", "Title", "CS 182"),
        chunk(31, "Robustness", "Adversarial training (AT)", AT_SLIDE.split("\n", 1)[1]),
        chunk(37, "Robustness", "GANs summary", GAN_SLIDE.split("\n", 1)[1]),
    ]
    gen = ScriptedGenerator(replies, picks, members, true_options)
    return SimpleNamespace(
        index=SimpleNamespace(chunks=chunks),
        embedder=SimpleNamespace(embed=bag_of_words),
        generator=lambda model=None: gen,
        retriever=None,
        settings=SimpleNamespace(engine="scripted"),
    ), gen


def mcq_reply(question: str, options: list[str], index: int, explanation: str) -> str:
    body = json.dumps({"question": question, "options": options, "answer_index": index, "explanation": explanation})
    return f"```json\n{body}\n```"


AT_REPLY = mcq_reply(
    "What is the best known way to make models robust to lp attacks?",
    ["Adversarial training", "Dropout", "Weight decay", "Early stopping"],
    0,
    "Adversarial training is the best way we know of to robustify models to lp attacks.",
)


GAN_REPLY = mcq_reply(
    "Which metrics are usually used to evaluate GANs?",
    ["Inception and FID scores", "BLEU", "Perplexity", "Top-1 accuracy"],
    0,
    "Metrics for evaluating GANs rely on a pretrained classifier, e.g. Inception and FID scores.",
)


GAN2_REPLY = mcq_reply(
    "Why are GANs hard to evaluate?",
    ["They are not density models", "They are too slow", "They need labels", "They overfit"],
    0,
    "GANs are not density models, so there is no way to obtain probability estimates from a GAN.",
)


class StandInGenerator(Generator):
    """A model that always gives the reply ``reply(messages)``."""

    def __init__(self, name: str, reply) -> None:
        self.name, self._reply = name, reply

    def stream(self, messages, max_new_tokens=200):
        yield self._reply(messages)


class CountingGenerator(Generator):
    """Wraps the real generator and counts the replies it writes, to prove the gate never reaches the model.

    The truth check's judge reads the wrapped model's logits, as it would the real engine's: not a reply.
    """

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, 0

    def stream(self, messages, max_new_tokens=200):
        self.calls += 1
        yield from self.inner.stream(messages, max_new_tokens)

    def yes_probability(self, messages):
        return self.inner.yes_probability(messages)


class WritesReply(Generator):
    """A stand-in model that always writes ``reply`` and, as a judge, finds every sentence on its slide
    (or answers ``p_yes(messages)``)."""

    def __init__(self, reply: str, name: str = "stand-in", p_yes=None) -> None:
        self.reply, self.name, self._p_yes = reply, name, p_yes

    def yes_probability(self, messages):
        return 0.9 if self._p_yes is None else self._p_yes(messages)

    def stream(self, messages, max_new_tokens=200):
        words = self.reply.split(" ")
        for n, word in enumerate(words, start=1):
            yield word if n == len(words) else word + " "


class PrefixRecorder(Generator):
    """An engine that keeps prompt starts: records the prefixes it is asked to warm, writes nothing."""

    name = "recorder"
    keeps_prefixes = True

    def __init__(self) -> None:
        self.prefixes: list = []
        self.done = threading.Event()

    def stream(self, messages, max_new_tokens=200):  # pragma: no cover - not asked here
        yield ""

    def warm_prefixes(self, prefixes, progress=None):
        self.prefixes = prefixes
        self.done.set()
        return {"computed": len(prefixes)}


def tiny_qwen():
    """A two-layer Qwen2 with random weights (seeded) in bf16: the int4 decoder's tests run on it in a second."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=320,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    return Qwen2ForCausalLM(config).to(torch.bfloat16).eval()


def logits(model, ids):
    import torch

    with torch.inference_mode():
        return model(input_ids=ids).logits.float()
