"""Int4 weight-only linear layers for the decode phase of the ``transformers`` engine.

Writing a reply runs the model on one token at a time, so every step reads all the weights and is
bound by reading them. PyTorch's int4 weight-only kernel (``_weight_int4pack_mm_for_cpu``, bf16
activations) does the same products much faster at one row (docs/decisions/int4-decoding.md). Our
chat weights come from a Q4_K GGUF, which already stores 16 affine levels per group of 32 inputs, so
re-grouping them as int4 loses almost nothing; what it does lose is checked by the paired evaluation
(docs/benchmarks.md, "Reply weights"), not assumed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.storage import atomic_path, read_json, write_json
from assistant.weights import file_identity, sha256_file

log = logging.getLogger(__name__)

GROUP = 32  # inputs per scale/zero pair: the sub-block size of the Q4_K weights we ship


def _pack(weight, group: int = GROUP):
    """Asymmetric int4 per ``group`` inputs: ``w ~= (q - 8) * scale + zero`` (the kernel's convention)."""
    import torch

    n, k = weight.shape
    groups = weight.float().reshape(n, k // group, group)
    low, high = groups.amin(-1), groups.amax(-1)
    scale = ((high - low) / 15).clamp(min=1e-10).to(torch.bfloat16).float()
    zero = (low + 8 * scale).to(torch.bfloat16).float()
    # Round against the stored (bf16) scale and zero, so their rounding is absorbed where it can be.
    q = torch.round((groups - zero[..., None]) / scale[..., None] + 8).clamp(0, 15).to(torch.int32)
    scales_zeros = torch.stack([scale, zero], -1).transpose(0, 1).contiguous().to(torch.bfloat16)
    packed = torch._convert_weight_to_int4pack_for_cpu(q.reshape(n, k), 1)
    return packed, scales_zeros


def _int4_linear_class():
    import torch

    class Int4Linear(torch.nn.Module):
        """``nn.Linear`` with int4 weights; inputs and outputs in bf16."""

        KEYS = ("packed", "scales_zeros", "bias")

        def __init__(self, in_features: int, out_features: int, tensors: dict, group: int = GROUP) -> None:
            super().__init__()
            self.in_features, self.out_features, self.group = in_features, out_features, group
            self.register_buffer("packed", tensors["packed"])
            self.register_buffer("scales_zeros", tensors["scales_zeros"])
            self.register_buffer("bias", tensors.get("bias"))

        @staticmethod
        def pack(linear: torch.nn.Linear, group: int = GROUP) -> dict:
            packed, scales_zeros = _pack(linear.weight.data, group)
            tensors = {"packed": packed, "scales_zeros": scales_zeros}
            if linear.bias is not None:
                tensors["bias"] = linear.bias.data.to(torch.bfloat16)
            return tensors

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
            out = torch._weight_int4pack_mm_for_cpu(flat, self.packed, self.group, self.scales_zeros)
            if self.bias is not None:
                out = out + self.bias
            return out.reshape(*x.shape[:-1], self.out_features)

    return Int4Linear


SHORTLIST = 32  # head rows re-scored exactly per token (see ShortlistHead)


def _shortlist_head_class():
    import torch

    class ShortlistHead(torch.nn.Module):
        """The vocabulary head: int4 scores for every word, then exact int8 scores for the best few.

        Reading the 152k x 1536 head is a large share of a decode step
        (docs/decisions/int4-decoding.md). Its int4 copy is read in half the time of the int8 one,
        but a coarser head could change which word wins; so the int4 scores only pick a shortlist
        and the winner is chosen by the int8 rows (one scale per row), which gives the word the int8
        head alone would give whenever it is in the shortlist. Words outside it keep their int4
        score: greedy decoding reads only the maximum.
        """

        KEYS = ("packed", "scales_zeros", "weight_int8", "scale")

        def __init__(self, in_features: int, out_features: int, tensors: dict, group: int = GROUP) -> None:
            super().__init__()
            self.in_features, self.out_features, self.group = in_features, out_features, group
            for key in self.KEYS:
                self.register_buffer(key, tensors[key])

        @staticmethod
        def pack(linear: torch.nn.Linear, group: int = GROUP) -> dict:
            weight = linear.weight.data.float()
            scale = (weight.abs().amax(dim=1) / 127).clamp(min=1e-10)
            weight_int8 = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8)
            packed, scales_zeros = _pack(linear.weight.data, group)
            int8 = {"weight_int8": weight_int8, "scale": scale.to(torch.bfloat16)}
            return {"packed": packed, "scales_zeros": scales_zeros, **int8}

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
            scores = torch._weight_int4pack_mm_for_cpu(flat, self.packed, self.group, self.scales_zeros)
            best = scores.topk(min(SHORTLIST, self.out_features), dim=-1).indices  # (rows, SHORTLIST)
            rows = self.weight_int8[best].float()  # (rows, SHORTLIST, in)
            exact = torch.matmul(rows, flat.float()[:, :, None]).squeeze(-1) * self.scale[best].float()
            scores.scatter_(-1, best, exact.to(scores.dtype))
            return scores.reshape(*x.shape[:-1], self.out_features)

    return ShortlistHead


def supported() -> bool:
    """True when this PyTorch build has the CPU int4 kernel."""
    import torch

    return hasattr(torch, "_weight_int4pack_mm_for_cpu") and hasattr(torch, "_convert_weight_to_int4pack_for_cpu")


def _packable(linear, group: int) -> bool:
    """The kernel's shape rule: inputs in whole groups, outputs in blocks of 16."""
    return linear.in_features % group == 0 and linear.out_features % 16 == 0


def _targets(model, group: int):
    """``(parent, attribute, full name, linear, kind)`` for every layer the decoder swaps."""
    import torch

    for prefix, parent in model.model.layers.named_modules(prefix="model.layers"):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Linear) and _packable(child, group):
                yield parent, name, f"{prefix}.{name}", child, "int4"
    head = getattr(model, "lm_head", None)
    if isinstance(head, torch.nn.Linear) and _packable(head, group):
        yield model, "lm_head", "lm_head", head, "head"


def quantize_decoder(model, packed: dict | None = None, group: int = GROUP) -> dict:
    """Swap the linear layers of a bf16 ``model`` for int4 ones (a shortlist head for the head), in place.

    ``packed`` is what an earlier call returned (loaded from disk): the layers are then rebuilt
    without packing again. Returns the packed tensors by ``layer.tensor`` name.
    """
    classes = {"int4": _int4_linear_class(), "head": _shortlist_head_class()}
    out: dict = {}
    for parent, attribute, name, linear, kind in list(_targets(model, group)):
        cls = classes[kind]
        if packed is not None:
            tensors = {k: packed[f"{name}.{k}"] for k in cls.KEYS if f"{name}.{k}" in packed}
        else:
            tensors = cls.pack(linear, group)
        setattr(parent, attribute, cls(linear.in_features, linear.out_features, tensors, group))
        out.update({f"{name}.{k}": v for k, v in tensors.items()})
    return out


def load_or_pack(model, cache_file: Path, source_sha256: str) -> int:
    """Swap ``model``'s layers using the packed file if it was made from ``source_sha256``, else pack and save.

    Packing the 1.5B takes ~20 s on 2 cores; loading the saved file takes about a second. The
    file's own checksum is kept beside it and re-checked whenever its size or time changed.
    """
    import torch
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import save_file

    stamp_file = cache_file.with_suffix(".json")
    stamp = read_json(stamp_file)
    if stamp is None and stamp_file.exists():
        log.warning("int4 cache record %s is unreadable; packing again", stamp_file)
    stamp = stamp or {}
    expected = {
        "source_sha256": source_sha256,
        "torch": torch.__version__,
        # subtle: the kernel's packed layout follows the instruction set it dispatches to (AVX-512 and AVX2
        # tiles differ), so a copy packed under one reads as noise under the other
        "layout": torch.backends.cpu.get_cpu_capability(),
        "group": GROUP,
        "head": "shortlist",
    }
    packed = None
    if cache_file.is_file() and all(stamp.get(k) == v for k, v in expected.items()):
        trusted = stamp.get("identity") == file_identity(cache_file) or sha256_file(cache_file) == stamp.get("sha256")
        if trusted:
            try:
                # subtle: the kernels need their own aligned memory; the loaded tensors may sit at any
                # offset of the file's buffer (the int8 kernel crashed on one), so each is copied once,
                # one at a time, so the file is never held twice.
                with safe_open(str(cache_file), "pt") as stored:
                    packed = {name: stored.get_tensor(name).clone() for name in stored.keys()}
            except (OSError, ValueError, RuntimeError, SafetensorError) as err:
                log.warning("int4 cache %s is unreadable (%s); packing again", cache_file, err)
        else:
            log.warning("int4 cache %s does not match its checksum; packing again", cache_file)
    try:
        tensors = quantize_decoder(model, packed)
    except KeyError:
        log.warning("int4 cache %s lacks layers of this model; packing again", cache_file)
        packed, tensors = None, quantize_decoder(model)
    if packed is None:
        with atomic_path(cache_file) as tmp:
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
        write_json(stamp_file, {**expected, "sha256": sha256_file(cache_file), "identity": file_identity(cache_file)})
    return len({k.rsplit(".", 1)[0] for k in tensors})
