"""Hybrid retrieval: dense cosine and BM25, fused, ranked by slide, with an answerability score.

Fusion is reciprocal rank fusion by default (``mode="hybrid"``); ``"dense"`` and ``"bm25"`` are the
single-signal baselines the evaluation compares against. Scores from several chunks of one long
slide collapse to that slide's best chunk, so results are slides, the unit students cite.

The answerability score is the best dense cosine among the results, lifted a little when the
question's words occur on the top slide, and more when it names something few slides hold
(``framing.names_on``): it is what the gate before the model thresholds. Search reads the question
without its exam framing (``framing.topical``) and with its misspelt words as the slides spell
them (``spelling``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from assistant.corpus.chunking import Chunk
from assistant.corpus.index import Index
from assistant.retrieval.embed import Embedder
from assistant.retrieval.framing import names_on, slide_names, topical
from assistant.retrieval.spelling import Speller
from assistant.text import tokenize

RRF_K = 60  # the usual constant; ranks matter, raw score scales do not
MODES = ("hybrid", "dense", "bm25")
# A name of the question on the top slide lifts answerability by this much: a slide's own name for a dataset
# or model is evidence that the embedding model's low cosine misses (docs/decisions/refusal-gate.md).
NAME_LIFT = 0.1
RARE_SHARE = 0.02  # a word on at most this share of the slides (and at least 2) is rare enough to be a name


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # the fused score that ranks the results
    dense: float  # cosine similarity of question and slide
    bm25: float

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "id": c.slide_id,
            "title": c.title,
            "deck": c.deck_title,
            "slide": c.slide,
            "section": c.section,
            "score": round(self.score, 6),
            "dense": round(self.dense, 4),
            "bm25": round(self.bm25, 4),
            "text": c.text,
        }


@dataclass(frozen=True)
class Retrieval:
    query: str
    hits: list[Hit]
    answerability: float
    seconds: float


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of several rankings of item ids (best first).

    >>> sorted(rrf([[1, 2], [2, 3]]).items())[0][0]
    1
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank + 1)
    return fused


def lexical_coverage(query: str, text: str) -> float:
    """Share of the query's content words that occur in ``text`` (0 when the query has none)."""
    words = set(tokenize(query))
    if not words:
        return 0.0
    return len(words & set(tokenize(text))) / len(words)


class Retriever:
    """Searches one ``Index`` with one ``Embedder``; cheap to call, safe to share across threads."""

    def __init__(self, index: Index, embedder: Embedder, mode: str = "hybrid") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        self._names: dict[str, set[str]] = {}  # per slide, the words it writes as names
        slides: dict[str, set[str]] = {}
        for chunk in index.chunks:
            self._names.setdefault(chunk.slide_id, set()).update(slide_names(chunk.search_text))
            slides.setdefault(chunk.slide_id, set()).update(tokenize(chunk.search_text))
        counts = Counter(word for words in slides.values() for word in words)
        most = max(2, int(RARE_SHARE * len(slides)))
        self._rare = frozenset(word for word, count in counts.items() if count <= most)
        self.speller = Speller((chunk.search_text for chunk in index.chunks), embedder.words())

    def names_in(self, question: str, slide_id: str) -> list[str]:
        """The words of ``question`` that slide ``slide_id`` writes as names and few slides hold."""
        return names_on(topical(question), self._names.get(slide_id, set()), self._rare)

    def _dense(self, query: str) -> np.ndarray:
        """Cosine of ``query`` with every chunk."""
        n = len(self.index.chunks)
        dense = np.zeros(n, dtype=np.float32)
        ids, scores = self.index.dense_scores(self.embedder.embed([query])[0], n)
        dense[ids[ids >= 0]] = scores[ids >= 0]
        return dense

    def search(self, query: str, k: int = 5) -> Retrieval:
        start = time.perf_counter()
        asked, spelt = query, self.speller.correct(query)
        query = topical(spelt)
        n = len(self.index.chunks)
        # Dense cosine is computed in every mode: it also feeds the answerability score.
        dense = self._dense(query)
        sparse = self.index.bm25_scores(query)
        if self.mode == "dense":
            fused = {i: float(dense[i]) for i in range(n)}
        elif self.mode == "bm25":
            fused = {i: float(sparse[i]) for i in range(n)}
        else:
            dense_rank = list(np.argsort(-dense, kind="stable"))
            sparse_rank = [int(i) for i in np.argsort(-sparse, kind="stable") if sparse[i] > 0]
            fused = rrf([[int(i) for i in dense_rank], sparse_rank])
        best: dict[str, tuple[Hit, int]] = {}
        for i, score in sorted(fused.items(), key=lambda item: -item[1]):
            chunk = self.index.chunks[i]
            if chunk.slide_id not in best:
                best[chunk.slide_id] = Hit(chunk, float(score), float(dense[i]), float(sparse[i])), i
        found = list(best.values())[:k]
        hits = [hit for hit, _ in found]
        answerability = 0.0
        if hits:
            top = hits[0].chunk
            answerability = self._answerability(query, [float(dense[i]) for _, i in found], top)
            if query != spelt:  # a logistics question ("how big can the cheat sheet for midterm 2 be?") is also
                whole = self._dense(spelt)  # about the exam: the words left out must not make it less answerable
                answerability = max(answerability, self._answerability(spelt, [float(whole[i]) for _, i in found], top))
        return Retrieval(asked, hits, float(answerability), time.perf_counter() - start)

    def _answerability(self, query: str, cosines: list[float], top: Chunk) -> float:
        """The best cosine of the results, lifted by ``query``'s words on the ``top`` slide and by a name it holds."""
        score = max(cosines) + 0.1 * lexical_coverage(query, top.search_text)
        return score + NAME_LIFT if self.names_in(query, top.slide_id) else score
