"""Grouped-query attention without copying the KV cache, for the decode phase.

Qwen2.5 shares each key/value head among several query heads (12 query, 2 KV heads in the 1.5B).
``transformers``' eager attention first repeats every KV head for its query heads, which copies the
whole cache on every layer for every reply token (a real share of a decode step:
docs/decisions/int4-decoding.md). Folding the query heads of one group into rows of one matrix
product computes the same numbers from the cache as it is.
"""

from __future__ import annotations

NAME = "grouped_eager"


def grouped_attention(module, query, key, value, attention_mask, scaling: float, dropout: float = 0.0, **kwargs):
    """Eager attention for ``query`` (b, hq, q, d) over ``key``/``value`` (b, hk, k, d); returns (b, q, hq, d)."""
    import torch

    batch, q_heads, q_len, dim = query.shape
    kv_heads, k_len = key.shape[1], key.shape[-2]
    group = q_heads // kv_heads
    # Query head h reads KV head h // group (repeat_kv's order), so a group's heads are adjacent rows.
    rows = query.reshape(batch, kv_heads, group * q_len, dim)
    scores = torch.matmul(rows, key.transpose(2, 3)).view(batch, kv_heads, group, q_len, k_len) * scaling
    if attention_mask is not None and attention_mask.dtype == torch.bool:  # True where attention is allowed
        scores = scores.masked_fill(~attention_mask[:, :, None, :, :k_len], float("-inf"))
    elif attention_mask is not None:  # additive
        scores = scores + attention_mask[:, :, None, :, :k_len]
    elif q_len > 1:  # no mask given: causal, the queries being the last q_len positions
        future = torch.ones(q_len, k_len, dtype=torch.bool).triu(k_len - q_len + 1)
        scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    if attention_mask is None and q_len > 1:
        # subtle: the product over the whole key length adds the zero weights of later positions in
        # another order than a one-query step does, which can change a last bit; so each query
        # position is summed over its own keys only, exactly as if it had been decoded alone.
        seen = k_len - q_len + 1
        out = torch.stack(
            [torch.matmul(weights[:, :, :, i, : seen + i], value[:, :, : seen + i]) for i in range(q_len)], dim=3
        )
        return out.view(batch, q_heads, q_len, dim).transpose(1, 2).contiguous(), None
    out = torch.matmul(weights.view(batch, kv_heads, group * q_len, k_len), value)
    return out.view(batch, q_heads, q_len, dim).transpose(1, 2).contiguous(), None


def register() -> str:
    """Make ``grouped_attention`` loadable as ``attn_implementation=NAME``; returns the name."""
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, grouped_attention)
    return NAME
