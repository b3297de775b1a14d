"""A running chat app, found by ``assistant ask``: the CLI asks it instead of loading the models itself.

``assistant chat`` writes ``server.json`` beside the index it serves (its address and process id)
and removes it when it stops; ``assistant ask`` reads it and, when that process is alive and
answers, sends the question to its ``/ask`` endpoint, as ``ollama run`` talks to ``ollama serve``.
The models are then already loaded and the slide prefixes cached, so the first words come as fast
as in the browser. Anything amiss (no record, a dead process, a password the shell lacks) means
the CLI answers on its own, as before.
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from assistant.config import Settings
from assistant.storage import read_json, write_json
from assistant.ui.html import READING, WRITING

log = logging.getLogger(__name__)

RECORD = "server.json"
PROBE_S = 1.0  # a live app answers its front page well within this


@dataclass(frozen=True)
class RunningApp:
    url: str
    pid: int
    password: bool  # started with --auth: a client needs ASSISTANT_AUTH too


def record_path(settings: Settings) -> Path:
    return settings.index_dir / RECORD


def announce(settings: Settings, url: str, password: bool) -> Callable[[], None]:
    """Say where this process serves ``settings``' index; returns the function that takes it back."""
    path = record_path(settings)
    try:
        write_json(path, {"url": url, "pid": os.getpid(), "password": password})
    except OSError as err:
        log.warning("cannot write %s (%s): assistant ask will load its own models", path, err)

    def withdraw() -> None:
        if (read_json(path) or {}).get("pid") == os.getpid():
            path.unlink(missing_ok=True)

    return withdraw


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


def find(settings: Settings) -> RunningApp | None:
    """The chat app serving this index, if one is running and answers; None otherwise."""
    data = read_json(record_path(settings))
    if not data:
        return None
    try:
        app = RunningApp(str(data["url"]), int(data["pid"]), bool(data.get("password")))
    except (KeyError, TypeError, ValueError):
        return None
    if not _alive(app.pid):
        return None
    try:
        urllib.request.urlopen(app.url, timeout=PROBE_S).close()
    except OSError:
        return None
    return app


def message_text(content: object) -> str:
    """A chat message's text as a reader sees it, whether Gradio gives it as a string or as a list of parts.

    The chat escapes "$", "{" and "}" so that math renders only once the answer is checked; a
    terminal shows them as they are.
    """
    if isinstance(content, list):  # a message as parts
        content = " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return html.unescape(str(content or ""))


def _panel_lines(sources_html: str) -> list[str]:
    """The sources panel as plain lines: one per cited or retrieved slide."""
    blocks = re.split(r"<(?:li|div|p|br)\b[^>]*>", sources_html)
    lines = [html.unescape(re.sub(r"<[^>]+>", " ", b)) for b in blocks]
    return [" ".join(line.split()) for line in lines if line.strip()]


def ask(app: RunningApp, question: str, model: str | None, out: TextIO = sys.stdout) -> bool:
    """Stream the app's answer to ``question`` to ``out``; False when the app could not be used."""
    from gradio_client import Client

    auth = None
    if app.password:
        raw = os.environ.get("ASSISTANT_AUTH", "")
        if ":" not in raw:
            return False
        auth = tuple(raw.split(":", 1))
    try:
        client = Client(app.url, auth=auth, verbose=False)
        # without a model, the app's own default: "" is not one of its choices
        job = client.submit(*((question, model) if model else (question,)), api_name="/ask")
        shown = ""
        final = None
        for chat, sources, *_ in job:
            final = (chat, sources)
            reply = message_text(chat[-1]["content"]) if chat else ""
            if reply in (READING, WRITING) or not reply.startswith(shown):
                continue  # a placeholder, or the checked answer replacing the stream: printed at the end
            out.write(reply[len(shown) :])
            out.flush()
            shown = reply
        chat, sources = job.result()[:2] if final is None else final
    except Exception as err:  # noqa: BLE001 - any failure of the app means answering here instead
        log.warning("the running app at %s did not answer (%s); answering here", app.url, type(err).__name__)
        return False
    answer = message_text(chat[-1]["content"]) if chat else ""
    out.write("\n" if answer == shown else f"\n\n{answer}\n")
    for line in _panel_lines(sources):
        out.write(f"  {line}\n")
    out.flush()
    return True
