"""Study assistant: grounded answers, practice questions and evaluation over course slides, offline.

The public API is re-exported here and imported on first use, so ``import assistant`` stays cheap
(the CLI's ``--help`` loads neither torch nor the models).

Subpackages, in import order (each imports only from those before it):
foundation (``config``, ``errors``, ``storage``, ``text``, ``weights``) → ``corpus`` → ``retrieval``
and ``engines`` → ``answering`` → ``practice`` → ``evaluation`` → ``ui``, ``cli``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

from assistant.errors import AssistantError, BadQuestion, ModelUnavailable

try:
    __version__ = version("study-assistant")  # one source: pyproject.toml
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {
    "Settings": "assistant.config",
    "Assistant": "assistant.answering.assistant",
    "Answer": "assistant.answering.reply",
    "Citation": "assistant.answering.reply",
    "Turn": "assistant.answering.reply",
    "Generator": "assistant.engines.base",
    "make_generator": "assistant.engines.factory",
}

__all__ = ["AssistantError", "BadQuestion", "ModelUnavailable", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
