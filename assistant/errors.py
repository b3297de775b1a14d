"""The one error type shown to users.

Every failure a user can fix (a missing package, a corrupt index, an empty question) raises
``AssistantError`` with a message that says what to do next. The CLI and the UI turn it into
one line at the edge; anything else is a bug and keeps its traceback in the log.
"""

from __future__ import annotations


class AssistantError(Exception):
    """A problem the user can act on; ``str(err)`` is the whole message they see."""


class ModelUnavailable(AssistantError):
    """A packaged model is missing, corrupt, or not prepared yet."""


class IndexProblem(AssistantError):
    """The index on disk is missing, corrupt, or does not match the corpus or the embedder."""


class BadQuestion(AssistantError):
    """The question cannot be answered as given (empty, too long, not text)."""
