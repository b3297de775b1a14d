"""The one place that turns the ``engine`` setting into a ``Generator``."""

from __future__ import annotations

from collections.abc import Callable

from assistant.config import Settings
from assistant.engines.base import Generator
from assistant.engines.choice import LOCAL_ENGINES, resolve
from assistant.errors import AssistantError

__all__ = ["ENGINES", "LOCAL_ENGINES", "GeneratorFactory", "make_generator", "resolve_engine"]
ENGINES = ("auto", "transformers", "llamacpp", "openai")  # "auto": the choice for this machine (choice.py)
GeneratorFactory = Callable[[Settings, "str | None"], Generator]  # (settings, model key) -> engine


def resolve_engine(settings: Settings) -> Settings:
    """``settings`` with "auto" replaced by the engine chosen for this machine (engines/choice.py)."""
    return resolve(settings)


def make_generator(settings: Settings, model_key: str | None = None, prepare: bool = True) -> Generator:
    """The one place that turns a setting into an engine."""
    settings = resolve_engine(settings)
    if settings.engine == "transformers":
        from assistant.engines.transformers import TransformersGenerator

        return TransformersGenerator(settings, model_key, prepare)
    if settings.engine == "openai":
        from assistant.engines.openai import OpenAIGenerator

        return OpenAIGenerator(settings.openai_base_url, settings.openai_model)
    if settings.engine == "llamacpp":
        from assistant.engines.llamacpp import LlamaCppGenerator

        return LlamaCppGenerator(settings, model_key)
    raise AssistantError(f"unknown engine {settings.engine!r}; choose one of {', '.join(ENGINES)}")
