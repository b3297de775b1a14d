"""The KV caches a prompt can start from: slide prefixes kept for the process, and recent prompts.

Prompts share starts: the system prompt always; the best slide, when its prefix was cached or it
was asked about recently; every practice call on one slide. Keys and values of a shared start
depend only on those tokens, so they are copied instead of computed again (what llama.cpp's server
does with its slots). The kept slide prefixes also serve where a slide sits later in a prompt,
through ``blend``.
"""

from __future__ import annotations

import threading

from assistant.engines.decoding.blend import Sources

RECENT_PROMPTS = 8  # KV caches kept for reuse: ~30 MB each for the 1.5B at 500 tokens
MIN_REUSED_TOKENS = 16  # shorter shared starts are not worth a copy


def common_prefix(a, b) -> int:
    """How many leading tokens two ``(1, n)`` id tensors share."""
    n = min(a.shape[-1], b.shape[-1])
    differ = (a[0, :n] != b[0, :n]).nonzero()
    return int(differ[0, 0]) if len(differ) else n


def copy_cache(cache, config, length: int | None = None):
    """A private copy of ``cache``, or of its first ``length`` tokens."""
    from transformers import DynamicCache

    copy = DynamicCache(config=config)
    for index, layer in enumerate(cache.layers):
        copy.update(layer.keys[..., :length, :].clone(), layer.values[..., :length, :].clone(), index)
    return copy


class Starts:
    """Pinned prefixes (kept for the process) and the last ``RECENT_PROMPTS`` prompts, with their caches."""

    def __init__(self) -> None:
        self.config = None  # the model's, set when it loads: copies are made for it
        self.pinned: list[tuple] = []  # (token ids (1, n), KV cache) of prefixes given to cache_prefix()
        self._recent: list[tuple] = []  # the same for recent prompts; the oldest goes first
        self._sources = Sources([])  # the pinned prefixes, indexed for blend
        self._lock = threading.Lock()

    def reusable(self, ids):
        """A private KV cache of the longest start ``ids`` shares with a kept prefix or prompt, or None."""
        best, length = None, 0
        with self._lock:
            for known, cache in [*self.pinned, *self._recent]:
                n = common_prefix(known, ids)
                if n > length:
                    best, length = cache, n
            if best is None or length < MIN_REUSED_TOKENS:
                return None
            return copy_cache(best, self.config, length)

    def remember(self, ids, cache) -> None:
        """Keep a copy of ``cache`` (the KV of ``ids``) for later prompts."""
        with self._lock:
            self._recent = [entry for entry in self._recent if common_prefix(entry[0], ids) < entry[0].shape[-1]]
            self._recent.append((ids, copy_cache(cache, self.config)))
            del self._recent[:-RECENT_PROMPTS]

    def pin(self, ids, cache) -> None:
        with self._lock:
            self.pinned.append((ids, cache))

    def known(self, ids) -> bool:
        """Whether a pinned prefix already covers all of ``ids``."""
        with self._lock:
            return any(common_prefix(known, ids) == ids.shape[-1] for known, _ in self.pinned)

    def spans(self, ids, done: int) -> tuple[Sources, list]:
        """The pinned prefixes, indexed, and the runs of ``ids`` after ``done`` they hold (see ``blend``)."""
        with self._lock:
            if len(self._sources.entries) != len(self.pinned):
                self._sources = Sources([(known[0].tolist(), cache) for known, cache in self.pinned])
            sources = self._sources
        return sources, sources.spans(ids[0].tolist(), done)
