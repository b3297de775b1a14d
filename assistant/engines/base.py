"""What every engine is: a ``Generator`` that streams a reply, with declared extra capabilities.

Callers never learn which engine they hold: they read ``keeps_prefixes`` and call the optional
methods, whose defaults here do nothing, instead of probing for attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}
PREFIX_END = "\x00"  # in the last message given to cache_prefix(): where the cached prefix stops


class Generator:
    """A chat model behind one interface; subclasses implement ``stream`` and what they declare."""

    name: str = "generator"
    keeps_prefixes: bool = False  # True: cache_prefix/warm_prefixes keep prompt starts' KV caches

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        """Yield the reply in pieces as the model produces them."""
        raise NotImplementedError

    def load(self) -> None:
        """Load the weights now rather than on the first request (nothing to do by default)."""

    def cache_prefix(self, messages: list[Message]) -> str:
        """Keep the KV cache of a prompt start ending at ``PREFIX_END``; "off" where the engine cannot."""
        return "off"

    def warm_prefixes(
        self, prefixes: list[list[Message]], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, int]:
        """Cache every prefix; counts by outcome (none where the engine keeps no prefixes)."""
        return {}

    def cache_each(
        self, prefixes: list[list[Message]], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, int]:
        """``cache_prefix`` on every prefix in turn, reporting progress; counts by outcome (for ``warm_prefixes``)."""
        counts: dict[str, int] = {}
        for done, messages in enumerate(prefixes, start=1):
            outcome = self.cache_prefix(messages)
            counts[outcome] = counts.get(outcome, 0) + 1
            if progress:
                progress(done, len(prefixes))
        return counts

    def yes_probability(self, messages: list[Message]) -> float | None:
        """P("Yes") from the reply's first-token logits; None where the engine gives no logits."""
        return None
