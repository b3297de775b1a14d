"""What decoding several students' replies in one pass would buy: one int4 decode pass for B sequences.

The transformers engine writes one reply at a time. Batching would put B students' next tokens
through each weight matrix together (one weight read) while each attends to its own KV cache.
This times such a pass through the packaged int4 decoder, one token per sequence over caches of
~700 tokens, against one sequence alone: the ceiling of decode batching on this CPU, before any
scheduler is written. Prompts (prefill) and the judge are not batched here.

    .venv/bin/python bench/batch_decode.py --sizes 1 2 3 4 6 8

Prints a Markdown table with the CPU's features and writes ``bench/results/<tag>.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.engines.choice import machine  # noqa: E402


def decode_pass(model, tokens: list[int], positions: list[int], caches: list[list[tuple]]):
    """Greedy next tokens for B sequences, as ``greedy._forward`` does for one, the projections batched."""
    import torch

    from assistant.engines.decoding.attention import grouped_attention
    from assistant.engines.decoding.greedy import rms_norm, rotate

    config, inner, count = model.config, model.model, len(tokens)
    heads = config.num_attention_heads
    dim = config.hidden_size // heads
    hidden = inner.embed_tokens(torch.tensor([tokens])).view(count, 1, -1)
    cos, sin = inner.rotary_emb(hidden, torch.tensor(positions).view(count, 1))
    cos, sin = cos.view(count, 1, dim), sin.view(count, 1, dim)
    for index, layer in enumerate(inner.layers):
        attn = layer.self_attn
        x = rms_norm(layer.input_layernorm, hidden)
        q = rotate(attn.q_proj(x).view(count, heads, dim), cos, sin)
        outs = []
        for row in range(count):  # each sequence reads its own cache (its own key is left out: no copy)
            keys, values = caches[row][index]
            out, _ = grouped_attention(attn, q[row][None, :, None, :], keys, values, None, attn.scaling)
            outs.append(out.reshape(1, heads * dim))
        attn.k_proj(x), attn.v_proj(x)  # computed as a real pass would, to be written to the caches
        hidden = hidden + attn.o_proj(torch.cat(outs).view(count, 1, heads * dim))
        x = rms_norm(layer.post_attention_layernorm, hidden)
        mlp = layer.mlp
        hidden = hidden + mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x))
    return model.lm_head(rms_norm(inner.norm, hidden)).view(count, -1).argmax(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 3, 4, 6, 8])
    parser.add_argument("--passes", type=int, default=12)
    parser.add_argument("--tag", default="batch-decode")
    args = parser.parse_args()

    import torch

    from assistant.answering.assistant import Assistant
    from assistant.config import Settings

    settings = Settings.from_env()
    gen = Assistant(settings).generator()
    gen.load()
    model = gen._decoder  # the engine's own int4 decoder, as it writes replies
    config = model.config
    kv_heads, dim = config.num_key_value_heads, config.hidden_size // config.num_attention_heads

    def cache(length: int) -> list[tuple]:
        shape = (1, kv_heads, length, dim)
        dtype = model.dtype
        return [(torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype)) for _ in model.model.layers]

    rows, alone = [], None
    with torch.inference_mode():
        for size in args.sizes:
            lengths = [700 + 37 * i for i in range(size)]  # students at different points of their replies
            caches = [cache(n) for n in lengths]
            times = []
            for _ in range(args.passes):
                start = time.perf_counter()
                decode_pass(model, [100 + i for i in range(size)], lengths, caches)
                times.append(time.perf_counter() - start)
            median = statistics.median(times[2:])  # the first passes warm the kernels
            alone = alone or median
            rows.append(f"| {size} | {median * 1000:.1f} | {median / alone:.2f}× | {size * alone / median:.2f}× |")
    text = "\n".join(
        [
            "| sequences in a pass | ms a pass (median) | vs one sequence | tokens a second vs one sequence |",
            "|---|---|---|---|",
            *rows,
            "",
            f"{machine().describe()}; {settings.threads} threads; int4 decoder of {gen.name}; "
            f"{args.passes} passes each, the first 2 not counted; caches of 700 tokens and more",
        ]
    )
    print(text)
    (ROOT / "bench" / "results" / f"{args.tag}.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
