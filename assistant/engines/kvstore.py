"""Prompt-prefix KV caches saved on disk, so a restart does not run the deck's slides again.

Every answer prompt starts with the system prompt and then its best slide. The keys and values of
that start depend only on its tokens and the model, so the app computes them once per slide (costs
in docs/decisions/slide-prefix-caches.md) and keeps them here, one file per prefix, named by a
digest of the model's checksum, the PyTorch version and the token ids. A file holds its token ids
and a checksum of its tensors; one that does not match is recomputed, never trusted.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from assistant.storage import atomic_path

log = logging.getLogger(__name__)


def _digest(tensors: dict) -> str:
    import torch

    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class KVStore:
    """A folder of ``<key>.safetensors`` files, each the KV cache of one token prefix."""

    def __init__(self, folder: Path, salt: str) -> None:
        self.folder = folder
        self.salt = salt  # the model's checksum and the torch version: a new model never reads old files

    def path(self, ids) -> Path:
        import torch

        digest = hashlib.sha256(self.salt.encode())
        digest.update(ids.to(torch.int64).numpy().tobytes())
        return self.folder / f"{digest.hexdigest()[:32]}.safetensors"

    def load(self, ids) -> list[tuple] | None:
        """``[(keys, values)]`` per layer for exactly ``ids``, or None when absent or not trustworthy."""
        import torch
        from safetensors import SafetensorError, safe_open

        path = self.path(ids)
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="pt") as handle:
                expected = (handle.metadata() or {}).get("sha256")
                tensors = {name: handle.get_tensor(name).clone() for name in handle.keys()}
        except (OSError, ValueError, RuntimeError, SafetensorError) as err:
            log.warning("prefix cache %s is unreadable (%s); computing it again", path.name, err)
            return None
        if expected != _digest(tensors) or not torch.equal(tensors.get("ids", torch.empty(0)), ids.to(torch.int64)):
            log.warning("prefix cache %s does not match its checksum; computing it again", path.name)
            return None
        layers = sum(1 for name in tensors if name.startswith("keys."))
        return [(tensors[f"keys.{i}"], tensors[f"values.{i}"]) for i in range(layers)]

    def save(self, ids, layers: list[tuple]) -> Path:
        import torch
        from safetensors.torch import save_file

        tensors = {"ids": ids.to(torch.int64).contiguous()}
        for i, (keys, values) in enumerate(layers):
            tensors[f"keys.{i}"], tensors[f"values.{i}"] = keys.contiguous(), values.contiguous()
        path = self.path(ids)
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"sha256": _digest(tensors)})
        return path

    def prune(self, keep: set[Path]) -> int:
        """Delete prefix files not in ``keep`` (slides that changed or left the deck); returns how many."""
        removed = 0
        for path in self.folder.glob("*.safetensors"):
            if path not in keep:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
