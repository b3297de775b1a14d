"""A prompt's later slides from their saved KV caches: selective recomputation (CacheBlend).

Every slide's KV cache is saved as the start of a prompt in which it is the first slide
(``kvstore``). In a prompt where it comes second or third, its tokens sit at other positions and
should attend to the slides before them, so its saved keys and values are not the ones a full
prompt run gives. CacheBlend (Yao et al., EuroSys 2025) reuses them anyway: keys are turned to
their new positions (rotary embeddings compose), the first ``CHECK_LAYER + 1`` layers run over
every token, and from there on only the tokens whose values moved most (``ratio`` of the reused
ones) and the tokens no slide holds (the question, slide numbers) are computed again; the other
tokens keep their saved keys and values, which the recomputed ones attend to. A prompt then costs
the work of a few dozen tokens instead of a few hundred.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.engines.decoding.greedy import rms_norm, rotate

GRAM = 4  # tokens that must agree to start a reused span
MIN_SPAN = 12  # shorter agreeing runs are computed: too little to be worth a saved slide's keys
CHECK_LAYER = 1  # after this layer only the tokens chosen there are computed (as in CacheBlend)


@dataclass(frozen=True)
class Span:
    """Prompt tokens ``start`` to ``start + length`` are tokens ``source_start`` onward of source ``source``."""

    start: int
    length: int
    source: int
    source_start: int


class Sources:
    """Saved prompt starts (token ids and their KV caches), indexed by every run of ``GRAM`` tokens."""

    def __init__(self, entries: Sequence[tuple[list[int], object]]) -> None:
        self.entries = list(entries)
        self._grams: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        for number, (ids, _) in enumerate(self.entries):
            for offset in range(len(ids) - GRAM + 1):
                self._grams.setdefault(tuple(ids[offset : offset + GRAM]), []).append((number, offset))

    def spans(self, ids: Sequence[int], start: int) -> list[Span]:
        """Runs of ``ids`` from ``start`` on that a saved start holds, each as long as it agrees."""
        found, at = [], start
        while at + GRAM <= len(ids):
            best = None
            for number, offset in self._grams.get(tuple(ids[at : at + GRAM]), ()):
                source = self.entries[number][0]
                length = GRAM
                while (
                    at + length < len(ids)
                    and offset + length < len(source)
                    and ids[at + length] == source[offset + length]
                ):
                    length += 1
                if best is None or length > best.length:
                    best = Span(at, length, number, offset)
            if best is not None and best.length >= MIN_SPAN:
                found.append(best)
                at += best.length
            else:
                at += 1
        return found


def _layer(layer, hidden, positions, rope, keys, values, shape):
    """One Qwen2 decoder layer for the tokens at ``positions``: writes their keys and values, returns its output."""
    import torch

    heads, kv_heads, dim = shape
    count = len(positions)
    cos, sin = rope
    attn = layer.self_attn
    x = rms_norm(layer.input_layernorm, hidden)
    q = rotate(attn.q_proj(x).view(count, heads, dim), cos, sin)
    k = rotate(attn.k_proj(x).view(count, kv_heads, dim), cos, sin)
    v = attn.v_proj(x).view(count, kv_heads, dim)
    keys[0][:, positions] = k.transpose(0, 1).to(keys.dtype)
    values[0][:, positions] = v.transpose(0, 1).to(values.dtype)
    visible = torch.arange(keys.shape[2])[None, :] <= positions[:, None]
    out = torch.nn.functional.scaled_dot_product_attention(
        q.transpose(0, 1)[None], keys, values, attn_mask=visible, enable_gqa=True
    )
    hidden = hidden + attn.o_proj(out.transpose(1, 2).reshape(1, count, heads * dim))
    x = rms_norm(layer.post_attention_layernorm, hidden)
    mlp = layer.mlp
    return hidden + mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x))


def prefill(model, ids: Sequence[int], cache, sources: Sources, spans: Sequence[Span], ratio: float):
    """The KV cache of all of ``ids`` after ``cache`` (their exact start), reusing ``spans`` of ``sources``."""
    import torch
    from transformers import DynamicCache

    with torch.inference_mode():
        layers = _prefill(model, ids, cache, sources, spans, ratio)
    blended = DynamicCache(config=model.config)
    for index, (keys, values) in enumerate(layers):
        blended.update(keys, values, index)
    return blended


def _prefill(model, ids, cache, sources, spans, ratio):
    import torch

    config = model.config
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    inner = model.model
    done, total = cache.get_seq_length(), len(ids)
    dtype = next(inner.layers.parameters()).dtype
    reused = torch.zeros(total, dtype=torch.bool)
    layers = []
    for index in range(len(inner.layers)):
        keys = torch.zeros(1, kv_heads, total, dim, dtype=dtype)
        values = torch.zeros_like(keys)
        if done:  # an empty cache has no tensors yet
            keys[:, :, :done] = cache.layers[index].keys
            values[:, :, :done] = cache.layers[index].values
        layers.append((keys, values))
    probe = torch.zeros(1, dtype=dtype)
    for span in spans:
        shift = inner.rotary_emb(probe, torch.tensor([[span.start - span.source_start]]))
        cos, sin = (part.view(1, 1, dim) for part in shift)
        saved = sources.entries[span.source][1]
        window = slice(span.source_start, span.source_start + span.length)
        for index, (keys, values) in enumerate(layers):
            old = saved.layers[index]
            turned = rotate(old.keys[0, :, window].transpose(0, 1).float(), cos.float(), sin.float())
            keys[0, :, span.start : span.start + span.length] = turned.transpose(0, 1).to(dtype)
            values[0, :, span.start : span.start + span.length] = old.values[0, :, window]
        reused[span.start : span.start + span.length] = True
    positions = torch.arange(done, total)
    hidden = inner.embed_tokens(torch.tensor([list(ids[done:])]))

    def rope_at(positions):
        return tuple(part.view(len(positions), 1, dim) for part in inner.rotary_emb(hidden, positions[None]))

    rope = rope_at(positions)
    for index, layer in enumerate(inner.layers):
        keys, values = layers[index]
        saved = values[0][:, positions] if index == CHECK_LAYER else None  # a copy: the layer overwrites them
        hidden = _layer(layer, hidden, positions, rope, keys, values, (heads, kv_heads, dim))
        if saved is not None:
            moved = (values[0][:, positions].float() - saved.float()).pow(2).sum((0, 2))
            kept = reused[positions]
            quota = int(round(ratio * int(kept.sum())))
            chosen = ~kept
            if quota:
                ranked = torch.where(kept, moved, torch.full_like(moved, -1.0))
                chosen[ranked.topk(quota).indices] = True
            positions, hidden = positions[chosen], hidden[:, chosen]
            rope = rope_at(positions)
    return layers
