"""The prompt's copy of the weights, kept to what it does when a lighter decoder writes the reply.

The prompt weights run the prompt and hand its KV cache to the decoder; they never choose a word.
So they need no vocabulary head (152k x 1536: 0.43 GiB in bf16, 0.87 GB in fp32) beyond the two
rows the judge reads ("Yes" and "No"), and they can look words up in the decoder's embedding: the
fp32 copy was made from the same bf16 weights, so the cast vectors are the same numbers.
"""

from __future__ import annotations


def _cast_embedding(embedding, dtype):
    import torch

    class CastEmbedding(torch.nn.Module):
        """Another model's embedding, its vectors cast to ``dtype``."""

        def __init__(self) -> None:
            super().__init__()
            # subtle: a plain attribute, not a submodule, so this model's parameters (and so its
            # ``dtype``) stay its own
            self._shared = (embedding,)

        def forward(self, ids):
            return self._shared[0](ids).to(dtype)

    return CastEmbedding()


def slim(model, decoder, rows: list[int], dtype):
    """Keep ``model`` to what the prompt runs, in ``dtype``; returns the head's ``rows`` (the judge's words).

    The vocabulary head goes but ``rows`` of it, and the embedding is ``decoder``'s. ``model`` is
    then run through ``hidden`` and ``scores``, never called whole. When ``decoder`` is ``model``
    (it writes the reply too), it keeps everything.
    """
    if decoder is model:
        model.to(dtype)
        return model.lm_head.weight.data[rows].clone()
    kept = model.lm_head.weight.data[rows].to(dtype)
    model.lm_head = None  # a whole-model call now fails loudly instead of reading a missing head
    model.model.layers.to(dtype)
    model.model.norm.to(dtype)
    theirs = decoder.model.embed_tokens
    model.model.embed_tokens = theirs if theirs.weight.dtype == dtype else _cast_embedding(theirs, dtype)
    return kept


def hidden(model, ids, cache):
    """Run ``ids`` through ``model``'s layers after ``cache`` (which grows); the last position's output."""
    return model.model(input_ids=ids, cache=cache, use_cache=True).last_hidden_state[:, -1]


def scores(last, rows):
    """The head's scores of ``rows`` for the output ``last`` of ``hidden``, as floats."""
    import torch

    return torch.nn.functional.linear(last, rows.to(last.dtype)).float()
