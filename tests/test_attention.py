"""Grouped attention computes what transformers' eager attention computes, without copying the cache."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from transformers.models.qwen2.modeling_qwen2 import eager_attention_forward  # noqa: E402

from assistant.engines.decoding.attention import grouped_attention  # noqa: E402


class _Layer:
    num_key_value_groups = 3
    training = False


def _inputs(q_len: int, k_len: int = 9):
    gen = torch.Generator().manual_seed(q_len)
    # query as the model makes it: (b, q, h, d) transposed to (b, h, q, d), so not contiguous
    query = torch.randn(2, q_len, 6, 8, generator=gen).transpose(1, 2)
    key, value = torch.randn(2, 2, k_len, 8, generator=gen), torch.randn(2, 2, k_len, 8, generator=gen)
    return query, key, value


def _causal(q_len: int, k_len: int) -> torch.Tensor:
    allowed = torch.ones(q_len, k_len, dtype=torch.bool).tril(k_len - q_len)
    return allowed[None, None].expand(2, 1, q_len, k_len)


@pytest.mark.parametrize("q_len", [1, 4])
def test_grouped_attention_matches_eager_with_an_additive_mask(q_len):
    query, key, value = _inputs(q_len)
    mask = torch.zeros(2, 1, q_len, 9).masked_fill(~_causal(q_len, 9), float("-inf"))
    mask[1, :, :, 0] = float("-inf")  # padding on the second sequence
    expected, _ = eager_attention_forward(_Layer(), query, key, value, mask, 0.35)
    got, _ = grouped_attention(_Layer(), query, key, value, mask, 0.35)
    assert got.shape == expected.shape == (2, q_len, 6, 8)
    assert torch.allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("q_len", [1, 4])
def test_grouped_attention_reads_a_boolean_mask_and_defaults_to_causal(q_len):
    query, key, value = _inputs(q_len)
    additive = torch.zeros(2, 1, q_len, 9).masked_fill(~_causal(q_len, 9), float("-inf"))
    expected, _ = eager_attention_forward(_Layer(), query, key, value, additive, 0.35)
    with_bool, _ = grouped_attention(_Layer(), query, key, value, _causal(q_len, 9), 0.35)
    without, _ = grouped_attention(_Layer(), query, key, value, None, 0.35)
    assert torch.allclose(with_bool, expected, atol=1e-6)
    assert torch.allclose(without, expected, atol=1e-6)


def test_grouped_attention_is_not_plain_attention_over_the_first_kv_head():
    """Guards the head-to-group order: query head 5 must read KV head 1, not KV head 0."""
    query, key, value = _inputs(1)
    got, _ = grouped_attention(_Layer(), query, key, value, None, 0.35)
    first_key, first_value = key[:, :1].expand_as(key), value[:, :1].expand_as(value)
    wrong, _ = eager_attention_forward(_Layer(), query, first_key, first_value, None, 0.35)
    assert not torch.allclose(got[:, :, 3:], wrong[:, :, 3:], atol=1e-3)
    assert torch.allclose(got[:, :, :3], wrong[:, :, :3], atol=1e-6)


def test_each_query_of_a_causal_block_gets_the_bits_it_gets_alone():
    """Several new tokens at once (checked drafts) must not change a last bit of any token's output.

    At the model's sizes (12 query heads, 2 KV heads, 128 dims, bf16, a ~450-token cache), summing
    over the whole key length instead of each query's own keys changed a few outputs in a hundred.
    """
    gen = torch.Generator().manual_seed(3)
    differ = 0
    for cached in range(430, 462):
        query = torch.randn(1, 12, 4, 128, generator=gen).bfloat16()
        key, value = (torch.randn(1, 2, cached + 4, 128, generator=gen).bfloat16() for _ in range(2))
        block, _ = grouped_attention(_Layer(), query, key, value, None, 0.09)
        for i in range(4):
            seen = cached + i + 1
            one = query[:, :, i : i + 1]
            alone, _ = grouped_attention(_Layer(), one, key[:, :, :seen], value[:, :, :seen], None, 0.09)
            differ += not torch.equal(block[:, i], alone[:, 0])
    assert differ == 0
