"""A question's misspelt words read as the slides spell them, for search only ("meta lerning" ~ "meta learning").

Students type fast; BM25 finds nothing for a misspelt term and the embedding model drifts, so the
right slide can fall out of the few the model sees. A word neither the slides nor the embedding
model's vocabulary know is replaced by the one slide word a single edit away (a letter left out,
added, changed, or two swapped), when there is exactly one. A known English word is left alone
("matter" is one edit from the slides' "latter"), and so is a short word, too often one edit from
another.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

MIN_LENGTH = 6  # letters a word needs before it is read as a misspelling
_WORD = re.compile(r"[A-Za-z]+")


def _one_edit(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = string.ascii_lowercase
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changes = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return deletes | swaps | changes | inserts


class Speller:
    """Corrects words against the vocabulary of the slides it was built from.

    ``known`` words (a dictionary) are never corrected; without a dictionary nothing is, since a real
    word could not be told from a typo.
    """

    def __init__(self, texts: Iterable[str], known: Iterable[str] = ()) -> None:
        self.vocabulary = frozenset(w for text in texts for w in _WORD.findall(text.lower()))
        self.known = frozenset(known)

    def correction(self, word: str) -> str:
        """The slide word ``word`` is a misspelling of, or ``word`` itself."""
        lower = word.lower()
        if not self.known or len(lower) < MIN_LENGTH or lower in self.vocabulary or lower in self.known:
            return word
        found = _one_edit(lower) & self.vocabulary
        return found.pop() if len(found) == 1 else word

    def correct(self, text: str) -> str:
        """``text`` with each misspelt word replaced by its slide spelling."""
        return _WORD.sub(lambda m: self.correction(m.group(0)), text)
