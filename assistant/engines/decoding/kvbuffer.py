"""A KV cache layer that writes new tokens into spare room instead of concatenating.

``transformers``' dynamic cache appends each reply token's keys and values with ``torch.cat``, which
copies the whole cache of every layer on every token: 56 copies a token for the 1.5B, a cost that
grows with the prompt (docs/decisions/int4-decoding.md). Here each layer holds a buffer with room
for the reply, and the cache the model sees is a view of its filled part.
"""

from __future__ import annotations

from transformers.cache_utils import DynamicLayer


class RoomyLayer(DynamicLayer):
    """A ``DynamicLayer`` whose ``keys``/``values`` are views of a larger buffer; it doubles when full."""

    def __init__(self, keys, values, room: int) -> None:
        super().__init__()
        self._length = keys.shape[-2]
        capacity = self._length + room
        self._keys, self._values = self._allocate(keys, capacity), self._allocate(values, capacity)
        self._keys[..., : self._length, :] = keys
        self._values[..., : self._length, :] = values
        self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True
        self._views()

    @staticmethod
    def _allocate(like, capacity: int):
        import torch

        return torch.empty((*like.shape[:-2], max(capacity, 1), like.shape[-1]), dtype=like.dtype, device=like.device)

    def _views(self) -> None:
        self.keys = self._keys[..., : self._length, :]
        self.values = self._values[..., : self._length, :]

    def update(self, key_states, value_states, *args, **kwargs):
        end = self._length + key_states.shape[-2]
        if end > self._keys.shape[-2]:
            for name in ("_keys", "_values"):
                old = getattr(self, name)
                grown = self._allocate(old, 2 * end)
                grown[..., : self._length, :] = old[..., : self._length, :]
                setattr(self, name, grown)
        self._keys[..., self._length : end, :] = key_states
        self._values[..., self._length : end, :] = value_states
        self._length = end
        self._views()
        return self.keys, self.values

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove < 0 and self._length:
            self._length = max(0, self._length + tokens_to_remove)
            self._views()


def with_room(cache, room: int, dtype=None):
    """``cache`` (a ``DynamicCache``) with each layer moved into a buffer with ``room`` spare tokens, as ``dtype``."""
    for index, layer in enumerate(cache.layers):
        if layer.is_initialized:
            keys, values = layer.keys, layer.values
            if dtype is not None:
                keys, values = keys.to(dtype), values.to(dtype)
            cache.layers[index] = RoomyLayer(keys, values, room)
    return cache
