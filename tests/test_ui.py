"""The chat UI: the handler as a plain generator, then the launched app through ``gradio_client``.

Real embedder, real index, real 0.5B chat model with short replies; nothing on the answer path is
replaced. One Assistant and one app serve every test in the module.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import replace

import pytest

from assistant.answering.assistant import Assistant, Turn
from assistant.config import Settings
from assistant.engines.base import Generator
from assistant.errors import AssistantError
from assistant.ui import chat as ui

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")  # gradio's own queue stats

FAST = "qwen2.5-coder-0.5b"
DEFAULT = "qwen2.5-coder-1.5b"
# Asked of the 0.5B model, which answers this phrasing from the logistics slide; "When and where is
# midterm 2?" needs the 1.5B default (the 0.5B echoes its instructions and is refused as a leak),
# and a 1.5B copy next to the other test sessions does not fit in this machine's memory.
MIDTERM = "Which room is the second midterm in?"


@pytest.fixture(scope="module")
def ui_assistant(settings: Settings, assistant_default) -> Assistant:
    # Shares the session's loaded models: the default model answers the streamed end-to-end test.
    return assistant_default.variant(replace(settings, model=FAST, max_new_tokens=48))


@pytest.fixture(scope="module")
def respond(ui_assistant: Assistant):
    return ui.chat_handler(ui_assistant, ui_assistant.settings.max_question_chars)


def settings_model() -> str:
    from assistant.config import Settings

    return Settings().model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(ui_assistant: Assistant):
    demo = ui.create_app(ui_assistant, ui_assistant.settings)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, **ui.launch_options()
    )
    yield url
    demo.close()


def reply_of(chat: list[dict]) -> str:
    return ui._plain(chat[-1]["content"])


class _ModelMustNotRun(Generator):
    name = DEFAULT

    def stream(self, messages, max_new_tokens=200):
        raise AssertionError("the gate should refuse before the model is called")


def test_off_topic_question_shows_sources_first_then_refuses_without_loading_a_model(ui_assistant):
    # The session shares loaded models, so the default one may exist: swap in a stand-in that fails if called.
    guarded = ui_assistant.variant(generator=_ModelMustNotRun())
    respond = ui.chat_handler(guarded, guarded.settings.max_question_chars)
    updates = list(respond("What is the capital of Australia?", [], DEFAULT))
    with_sources = [i for i, (_, sources, _) in enumerate(updates) if "[1]" in sources]
    assert with_sources, "the sources panel was never filled"
    first = with_sources[0]
    assert "not in the slides" not in reply_of(updates[first][0])  # sources came before the reply
    chat, sources, turns = updates[-1]
    assert "not in the slides" in reply_of(chat)
    assert "✓ cited" not in sources
    assert chat[0] == {"role": "user", "content": "What is the capital of Australia?"}
    assert len(turns) == 1 and turns[0].question == "What is the capital of Australia?"
    assert "ModelMustNotRun" not in reply_of(chat) and ui.GENERIC_ERROR not in reply_of(chat)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("", "Please type a question about the course slides."),
        ("   \n\t ", "Please type a question"),
        ("x" * 50_000, "50,000 characters long; the limit is 2,000"),
    ],
)
def test_bad_question_gets_its_message_as_the_reply(respond, question: str, expected: str):
    chat, _, turns = list(respond(question, [], FAST))[-1]
    assert expected in reply_of(chat)
    assert "Traceback" not in reply_of(chat)
    assert turns == []
    if question.strip():
        assert len(chat[0]["content"]) < 2_100  # the user bubble is trimmed, not 50,000 characters


def test_script_question_is_shown_as_text(respond):
    question = "<script>alert(1)</script><img src=x onerror=alert(2)> ${1+1}"
    updates = list(respond(question, [], FAST))
    for chat, sources, _ in updates:
        for message in chat:
            assert "<script" not in message["content"] and "<img" not in message["content"]
        assert "<script" not in sources and "<img" not in sources and "${" not in sources
    chat, sources, _ = updates[-1]
    assert chat[0]["content"].startswith("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sources


def test_history_is_kept_and_passed_on(respond):
    earlier = [Turn("What is adversarial training?", "Training on adversarial examples [1].", "adversarial training")]
    chat = [
        {"role": "user", "content": "What is adversarial training?"},
        {"role": "assistant", "content": [{"type": "text", "text": "Training on adversarial examples [1]."}]},
    ]
    # not a follow-up (no pronoun, several content words), so the gate refuses it without the model
    question = "Which city is the capital of Australia today?"
    new_chat, _, turns = list(respond(question, earlier, FAST, chat))[-1]
    assert [t.question for t in turns] == ["What is adversarial training?", question]
    assert [m["role"] for m in new_chat] == ["user", "assistant", "user", "assistant"]
    assert new_chat[1]["content"] == "Training on adversarial examples [1]."


def test_unexpected_failure_shows_a_friendly_message(ui_assistant, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")
        yield  # pragma: no cover

    monkeypatch.setattr(ui_assistant, "ask", broken)
    respond = ui.chat_handler(ui_assistant, 2000)
    chat, _, _ = list(respond("What is dropout?", [], FAST))[-1]
    assert ui.GENERIC_ERROR in reply_of(chat) and "exploded" not in reply_of(chat)
    assert "RuntimeError: index exploded" in caplog.text  # the traceback stays in the log


def test_serve_refuses_a_remote_interface_without_allow_remote(settings: Settings):
    with pytest.raises(AssistantError, match="--allow-remote"):
        ui.serve(settings, host="0.0.0.0", port=free_port())
    with pytest.raises(AssistantError, match="USER:PASS"):
        ui.serve(settings, auth="no-colon")
    assert ui.parse_auth("ta:s3cret:x") == ("ta", "s3cret:x")
    assert ui.parse_auth(None) is None


def test_app_lists_the_endpoints(app_url: str):
    from gradio_client import Client

    info = Client(app_url, verbose=False).view_api(print_info=False, return_format="dict")
    assert {"/ask", "/answer_json"} <= set(info["named_endpoints"])


def test_answer_json_endpoint(app_url: str):
    from gradio_client import Client

    result = Client(app_url, verbose=False).predict("What is the capital of Australia?", api_name="/answer_json")
    assert result["refused"] is True and result["refusal_reason"] == "gate"
    assert result["retrieved"] and "not in the slides" in result["answer"]


def test_served_app_streams_a_cited_answer(app_url: str):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    start = time.perf_counter()
    job = client.submit(MIDTERM, settings_model(), api_name="/ask")
    chat, sources = job.result(timeout=600)
    outputs = job.outputs()
    assert len(outputs) > 3, f"expected streamed updates, got {len(outputs)}"
    streamed = [reply_of(out[0]) for out in outputs]
    assert len(set(streamed)) > 3  # the reply grew token by token
    final = reply_of(chat)
    assert "Dwinelle" in final or "5" in final, final
    assert re.search(r"\[\d\]", final), final  # a citation marker pointing into the sources panel
    assert "Midterm 2 logistics" in sources and "✓ cited" in sources
    print(f"/ask answered in {time.perf_counter() - start:.1f} s with {len(outputs)} updates")


def test_waiting_students_see_their_place_in_the_queue_and_get_their_own_answer(app_url: str, ui_assistant):
    from gradio_client import Client
    from gradio_client.utils import Status

    assert ui_assistant.settings.concurrency == 1  # one answer at a time: the others wait in line
    asked = [
        ("What is the simple baseline for anomaly detection?", "A simple baseline for anomaly detection"),
        ("How is model calibration measured?", "Model calibration"),
        ("Which massive language models should I know?", "Massive models"),
    ]
    jobs = [Client(app_url, verbose=False).submit(q, FAST, [], api_name="/ask") for q, _ in asked]
    ranks: dict[int, set[int]] = {n: set() for n in range(len(jobs))}
    while not all(job.done() for job in jobs):
        for n, job in enumerate(jobs):
            status = job.status()
            if status.code == Status.IN_QUEUE and status.rank is not None:
                ranks[n].add(status.rank)
        time.sleep(0.05)
    assert any(ranks.values()), "no waiting session was told its place in the queue"
    for job, (_, title) in zip(jobs, asked, strict=True):
        chat, sources = job.result()
        assert reply_of(chat) and title in sources  # each session got the sources of its own question


def test_a_fast_stream_is_sent_on_a_few_times_a_second_not_per_token():
    """Each update costs the app's process CPU the engine shares, so tokens are batched into ~4 updates a second."""
    from types import SimpleNamespace

    from assistant.answering.reply import TokenEvent

    def ask(delay: float):
        def events(message, history=None, model=None):
            for n in range(3 if delay else 300):
                time.sleep(delay)
                yield TokenEvent(f"w{n} ")
            raise AssistantError("stopped here")

        return SimpleNamespace(ask=events)

    fast = list(ui.chat_handler(ask(0.0), 2000)("q?", [], None))
    shown = [reply_of(chat) for chat, _, _ in fast]
    assert len(shown) <= 4 and shown[1].startswith("w0") and shown[-1] == "stopped here"
    slow = [reply_of(chat) for chat, _, _ in ui.chat_handler(ask(ui.STREAM_EVERY_S + 0.05), 2000)("q?", [], None)]
    assert [s.split()[-1] for s in slow[1:-1]] == ["w0", "w1", "w2"]  # a slow stream shows every token
