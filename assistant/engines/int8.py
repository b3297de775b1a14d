"""int8 prompt weights for CPUs without bf16 instructions: the decoder layers' linear maps, quantized.

A prompt is a few hundred rows through every weight matrix, so it is bound by arithmetic; on a CPU
without bf16 dot products the choice is fp32 (a 4-byte copy of every weight) or int8 with dynamic
activation scales (PyTorch's fbgemm kernels, tuned for AVX2 and AVX-512). int8 holds a quarter of
the bytes and multiplies faster. The embeddings, the output head and each MLP's down projection stay
in fp32: the head reads one row per prompt (and the judge's yes/no reads its logits), and the down
projection's input has outliers that cost the keys and values most of their precision.
"""

from __future__ import annotations

import warnings

KEEP_FP32 = ("mlp.down_proj",)  # its input carries a few huge activations that one scale per input cannot hold


def quantize_layers(model) -> int:
    """Replace the ``nn.Linear`` maps of ``model``'s decoder layers (but ``KEEP_FP32``) by dynamic int8 ones.

    Weights get one scale per output row; returns how many maps were replaced.
    """
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    count = 0
    with warnings.catch_warnings():
        # subtle: PyTorch marks these quantized tensors deprecated in favour of torchao; they still run
        # on its fbgemm kernels, which is what this CPU path needs
        warnings.simplefilter("ignore")
        for layer in model.model.layers:
            names = [n for n, m in layer.named_modules() if isinstance(m, torch.nn.Linear) and n not in KEEP_FP32]
            spec = dict.fromkeys(names, per_channel_dynamic_qconfig)
            quantize_dynamic(layer, spec, dtype=torch.qint8, inplace=True)
            count += len(names)
    return count
