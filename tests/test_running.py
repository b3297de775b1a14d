"""``assistant ask`` in a shell asks the chat app already running on the same index, and answers alone otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

from assistant.answering.assistant import Assistant
from assistant.storage import write_json
from assistant.ui import chat as ui
from assistant.ui import running
from tests.fakes import StandInGenerator
from tests.test_practice_ui import free_port


def test_assistant_ask_streams_the_running_apps_answer_without_loading_a_model(
    settings, embedder, shipped_index, tmp_path
):
    # the stand-in takes the default model's name, as the app's own model does: the CLI asks for the default
    model = StandInGenerator(settings.model, lambda messages: "Midterm 2 is in Dwinelle 155.")
    assistant = Assistant(settings, embedder=embedder, index=shipped_index, generator=model)
    demo = ui.create_app(assistant, assistant.settings)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, **ui.launch_options()
    )
    here = replace(settings, index_dir=tmp_path)  # an index folder with no index: the CLI must not need one
    withdraw = running.announce(here, url, password=False)
    try:
        assert running.find(here) is not None
        env = dict(os.environ, ASSISTANT_CACHE=str(tmp_path / "no-models"))  # answering alone would fail
        done = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "ask", "Which room is midterm 2 in?", "--index", str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "Dwinelle 155" in done.stdout and "Midterm 2 logistics" in done.stdout
    finally:
        withdraw()
        demo.close()
    assert not running.record_path(here).exists()


def test_a_record_of_a_stopped_or_unreachable_app_is_ignored(settings, tmp_path):
    here = replace(settings, index_dir=tmp_path)
    stopped = subprocess.Popen([sys.executable, "-c", "pass"])
    stopped.wait()
    write_json(running.record_path(here), {"url": "http://127.0.0.1:9/", "pid": stopped.pid, "password": False})
    assert running.find(here) is None
    write_json(running.record_path(here), {"url": f"http://127.0.0.1:{free_port()}/", "pid": os.getpid()})
    assert running.find(here) is None  # this process is alive, but nothing listens there
    running.record_path(here).write_bytes(b"\x00garbage")
    assert running.find(here) is None


def test_the_terminal_shows_the_chats_text_without_its_html_escapes():
    from assistant.ui.html import text

    shown = text("A lone $5 fee, {braces}, $p(x)$ and <b>.")
    assert "&#36;" in shown and "&#123;" in shown and "&lt;b&gt;" in shown  # what the chat sends
    assert running.message_text(shown) == "A lone $5 fee, {braces}, $p(x)$ and <b>."
    assert running.message_text([{"text": shown, "type": "text"}]) == running.message_text(shown)
