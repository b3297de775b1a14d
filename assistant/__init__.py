"""Study assistant: grounded answers, practice questions and evaluation over course slides, offline."""

from assistant.errors import AssistantError

__all__ = ["AssistantError"]
__version__ = "0.1.0"
