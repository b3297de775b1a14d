"""Prompt texts, kept as package data so staff can read and edit them without touching code."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """The prompt ``name`` (without ``.txt``), stripped of surrounding whitespace."""
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8").strip()
