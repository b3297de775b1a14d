"""A lean greedy decoding loop for the Qwen2 models we ship, one reply token per step.

``transformers``' ``generate`` runs each token through its general modules: masks, cache
bookkeeping, dtype casts, logits processors and stopping criteria. On 2 cores that is ~20 ms a
token beside ~65 ms of int4 weight products (``torch.profiler`` on the 1.5B: the operators added up
to 90 ms against 110 ms of wall time); alternating the two, this loop took 95–100 ms a token and
``generate`` 103–111. One new token attends to every cached one, so it needs no mask; this loop
calls the model's own layers (norms, linear or int4 projections, rotary tables) in the order
Qwen2's decoder layer does, with ``attention.grouped_attention`` over a cache that has room for
the reply (``kvbuffer``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from assistant.attention import grouped_attention

ARCHITECTURE = "qwen2"


def _norm(module, x):
    """Qwen2's RMSNorm: normalised in fp32, scaled in the input's dtype."""
    import torch

    normed = x.float()
    normed = normed * torch.rsqrt(normed.pow(2).mean(-1, keepdim=True) + module.variance_epsilon)
    return module.weight * normed.to(x.dtype)


def _rotate(x, cos, sin):
    """Rotary position embedding of ``x`` (heads, dim), as Qwen2 applies it."""
    import torch

    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


def _step(model, token: int, position: int, cache):
    """Logits of the token after ``token`` at ``position``; appends its keys and values to ``cache``."""
    import torch

    config = model.config
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    inner = model.model
    hidden = inner.embed_tokens(torch.tensor([[token]]))
    cos, sin = inner.rotary_emb(hidden, torch.tensor([[position]]))
    cos, sin = cos.view(1, dim), sin.view(1, dim)
    for index, layer in enumerate(inner.layers):
        attn = layer.self_attn
        x = _norm(layer.input_layernorm, hidden)
        q = _rotate(attn.q_proj(x).view(heads, dim), cos, sin)
        k = _rotate(attn.k_proj(x).view(kv_heads, dim), cos, sin)
        v = attn.v_proj(x).view(1, kv_heads, 1, dim)
        keys, values = cache.layers[index].update(k.view(1, kv_heads, 1, dim), v)
        out, _ = grouped_attention(attn, q.view(1, heads, 1, dim), keys, values, None, attn.scaling)
        hidden = hidden + attn.o_proj(out.reshape(1, 1, heads * dim))
        x = _norm(layer.post_attention_layernorm, hidden)
        mlp = layer.mlp
        hidden = hidden + mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x))
    return model.lm_head(_norm(inner.norm, hidden)).view(-1)


def supports(model) -> bool:
    """True for the decoder-only architecture this loop follows (no sliding window)."""
    config = model.config
    return config.model_type == ARCHITECTURE and not getattr(config, "use_sliding_window", False)


def decode(
    model, last_prompt_token: int, position: int, cache, max_new_tokens: int, stop_ids: list[int],
    cancelled: threading.Event | None = None,
) -> Iterator[int]:
    """Greedy reply token ids; ``cache`` holds the prompt but its last token, which sits at ``position``.

    Stops at a token of ``stop_ids`` (not yielded), after ``max_new_tokens``, or when ``cancelled``.
    """
    import torch

    token, stops = last_prompt_token, set(stop_ids)
    with torch.inference_mode():
        for offset in range(max_new_tokens):
            if cancelled is not None and cancelled.is_set():
                return
            token = int(_step(model, token, position + offset, cache).argmax())
            if token in stops:
                return
            yield token
