"""A lean greedy decoding loop for the Qwen2 models we ship, checking drafts from the prompt.

``transformers``' ``generate`` runs each token through its general modules: masks, cache
bookkeeping, dtype casts, logits processors and stopping criteria, which cost a real share of a
token beside the int4 weight products (docs/decisions/int4-decoding.md). New tokens attend to every
cached one and to each other in order, so the loop needs no mask tensor; it calls the model's own
layers (norms, linear or int4 projections, rotary tables) in the order Qwen2's decoder layer does,
with ``attention.grouped_attention`` over a cache that has room for the reply (``kvbuffer``).

Answers quote their slides, so the tokens that followed the last two or three tokens the last time
they occurred in the prompt are often the next ones (``PromptLookup``). One pass checks up to
``MAX_DRAFT`` such drafts beside the token it must compute anyway: the int4 kernel reads each weight
once for all rows, so up to 4 rows cost far less than as many passes while 5 rows take another,
slower code path, hence at most 3 drafts (docs/decisions/prompt-lookup-drafts.md). A draft is kept
only where it equals the model's own greedy choice, so the reply is the one plain greedy decoding
writes; the keys and values of rejected drafts are dropped from the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from assistant.engines.decoding.attention import grouped_attention

ARCHITECTURE = "qwen2"
MAX_DRAFT = 3
NGRAMS = (3, 2)  # a draft follows the latest earlier occurrence of the last 3 tokens, else of the last 2


class PromptLookup:
    """Drafts for the next tokens: what followed the latest earlier occurrence of the last n tokens."""

    def __init__(self, tokens: Sequence[int], sizes: Sequence[int] = NGRAMS) -> None:
        self.tokens: list[int] = []
        self._sizes = tuple(sizes)
        self._after: dict[tuple[int, ...], int] = {}  # n-gram -> index of the token after its latest occurrence
        self._indexed = {n: 0 for n in self._sizes}  # n-grams starting before this index are in _after
        self.extend(tokens)

    def extend(self, tokens: Sequence[int]) -> None:
        self.tokens.extend(tokens)
        for n in self._sizes:
            start = self._indexed[n]
            # only n-grams that something follows: the last n tokens are the key, never their own match
            while start + n < len(self.tokens):
                self._after[tuple(self.tokens[start : start + n])] = start + n
                start += 1
            self._indexed[n] = start

    def draft(self, limit: int) -> list[int]:
        if limit <= 0:
            return []
        for n in self._sizes:
            if len(self.tokens) >= n and (after := self._after.get(tuple(self.tokens[-n:]))) is not None:
                return self.tokens[after : after + limit]
        return []


def rms_norm(module, x):
    """Qwen2's RMSNorm: normalised in fp32, scaled in the input's dtype."""
    import torch

    normed = x.float()
    normed = normed * torch.rsqrt(normed.pow(2).mean(-1, keepdim=True) + module.variance_epsilon)
    return module.weight * normed.to(x.dtype)


def rotate(x, cos, sin):
    """Rotary position embedding of ``x`` (tokens, heads, dim), as Qwen2 applies it."""
    import torch

    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


def _forward(model, tokens: Sequence[int], position: int, cache):
    """Logits (tokens, vocab) of the token after each of ``tokens``, the first at ``position``.

    Appends their keys and values to ``cache``; each token attends to the cache and to those before it.
    """
    import torch

    config = model.config
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    count = len(tokens)
    inner = model.model
    hidden = inner.embed_tokens(torch.tensor([list(tokens)]))
    cos, sin = inner.rotary_emb(hidden, torch.arange(position, position + count).view(1, count))
    cos, sin = cos.view(count, 1, dim), sin.view(count, 1, dim)
    for index, layer in enumerate(inner.layers):
        attn = layer.self_attn
        x = rms_norm(layer.input_layernorm, hidden)
        q = rotate(attn.q_proj(x).view(count, heads, dim), cos, sin)
        k = rotate(attn.k_proj(x).view(count, kv_heads, dim), cos, sin)
        v = attn.v_proj(x).view(count, kv_heads, dim)
        keys, values = cache.layers[index].update(k.transpose(0, 1)[None], v.transpose(0, 1)[None])
        out, _ = grouped_attention(attn, q.transpose(0, 1)[None], keys, values, None, attn.scaling)
        hidden = hidden + attn.o_proj(out.reshape(1, count, heads * dim))
        x = rms_norm(layer.post_attention_layernorm, hidden)
        mlp = layer.mlp
        hidden = hidden + mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x))
    return model.lm_head(rms_norm(inner.norm, hidden)).view(count, -1)


def supports(model) -> bool:
    """True for the decoder-only architecture this loop follows (no sliding window)."""
    config = model.config
    return config.model_type == ARCHITECTURE and not getattr(config, "use_sliding_window", False)


def decode(
    model,
    prompt: Sequence[int],
    cache,
    max_new_tokens: int,
    stop_ids: Sequence[int],
    cancelled: threading.Event | None = None,
    max_draft: int = MAX_DRAFT,
) -> Iterator[int]:
    """Greedy reply token ids; ``cache`` holds every ``prompt`` token but the last.

    Stops at a token of ``stop_ids`` (not yielded), after ``max_new_tokens``, or when ``cancelled``.
    ``max_draft=0`` decodes one token per pass.
    """
    import torch

    lookup = PromptLookup(prompt) if max_draft > 0 else None
    token, position, stops, produced = prompt[-1], len(prompt) - 1, set(stop_ids), 0
    with torch.inference_mode():
        while produced < max_new_tokens:
            if cancelled is not None and cancelled.is_set():
                return
            draft = lookup.draft(min(max_draft, max_new_tokens - produced - 1)) if lookup else []
            choices = _forward(model, [token, *draft], position, cache).argmax(-1).tolist()
            kept = 0
            while kept < len(draft) and choices[kept] == draft[kept]:
                kept += 1
            if kept < len(draft):  # the keys and values of rejected drafts leave the cache
                for layer in cache.layers:
                    layer.crop(kept - len(draft))
            new = choices[: kept + 1]
            for choice in new:
                if choice in stops:
                    return
                yield choice
            produced += len(new)
            position += len(new)
            token = new[-1]
            if lookup:
                lookup.extend(new)
