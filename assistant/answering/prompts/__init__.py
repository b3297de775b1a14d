"""Prompt texts, kept as package data so staff can read and edit them without touching code."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """The prompt ``name`` (without ``.txt``), stripped of surrounding whitespace."""
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8").strip()


def slide_block(n: int, chunk, text: str | None = None) -> str:
    """Slide ``chunk`` as prompts number it: ``[n] title``, then its text (or ``text``, an excerpt of it)."""
    body = chunk.text if text is None else text
    return f"[{n}] {chunk.title}\n{body.strip() or '(no text on this slide)'}"
