"""The lines of a supporting slide that bear on the question: shorter prompts, the first token sooner.

Every answer prompt holds the best slide whole (its KV cache is kept, see ``answer.slide_prefix``)
and then the next ones, which the model must read anew for each question, so every word of them
delays the first token (docs/decisions/prompt-context.md). The runners-up mostly back up one detail,
so they go in as the lines closest in meaning to the question, in slide order, within a word budget.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Embed = Callable[[list[str]], np.ndarray]  # normalised vectors, one row per text


def excerpt(text: str, question: str, embed: Embed, words: int) -> str:
    """``text`` cut to its lines most similar to ``question``, at most ``words`` words, in their order.

    A slide within the budget is returned unchanged; the best line is kept even when it alone is
    longer than the budget (cut at the budget), so an excerpt is never empty.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if words <= 0 or sum(len(line.split()) for line in lines) <= words:
        return text.strip()
    vectors = embed([question, *lines])
    order = np.argsort(-(vectors[1:] @ vectors[0]), kind="stable")
    kept: list[int] = []
    used = 0
    for index in order.tolist():
        size = len(lines[index].split())
        if used + size <= words:
            kept.append(index)
            used += size
    if not kept:
        best = int(order[0])
        return " ".join(lines[best].split()[:words]) + " …"
    return "\n".join(lines[i] for i in sorted(kept))
