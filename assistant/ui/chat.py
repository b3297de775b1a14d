"""The browser UI: a gradio Blocks app over ``Assistant.ask``, and ``serve`` behind ``assistant chat``.

The chat handler is a plain generator (``chat_handler``) so tests drive it without a browser;
``create_app`` wires it to components (and adds the Practice and Staff tabs), and ``serve`` adds the
policy: local only unless ``--allow-remote``, optional password, models loaded before the first student.
Everything a user or a slide supplies is escaped before it reaches the page (``html.text``).
gradio is imported inside functions so that ``import assistant.ui`` stays cheap for the CLI.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from assistant.answering.assistant import Answer, Assistant, DoneEvent, SourcesEvent, TokenEvent, Turn
from assistant.answering.reply import unchecked_note
from assistant.config import Settings
from assistant.engines.factory import LOCAL_ENGINES
from assistant.errors import AssistantError
from assistant.study.questionlog import NOTICE, QuestionLog
from assistant.ui.html import LATEX, READING, WRITING, text
from assistant.ui.running import announce

if TYPE_CHECKING:
    import gradio as gr

    from assistant.retrieval.hybrid import Retrieval
    from assistant.study.review import Study

log = logging.getLogger(__name__)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EXAMPLES = [
    "When and where is midterm 2?",
    "What is the difference between domain adaptation and domain generalization?",
    "How does adversarial training work?",
    "What does MAE mask during training?",
]
GENERIC_ERROR = (
    "Sorry, something went wrong while answering. Please ask again; if it keeps happening, tell the course staff."
)
SOURCES_EMPTY = (
    '<div class="src-empty">The slides behind each answer appear here, numbered like the [n] markers in it.</div>'
)
# At most this often a streamed reply is sent on: gradio diffs each update in this process, on the engine's cores.
STREAM_EVERY_S = 0.25
SLIDE_CHARS = 300  # enough of a slide to recognise it; the full slide is one click away in the deck
SOURCES_CSS = """
.src-head { font-size: 0.9em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.src-empty { color: var(--body-text-color-subdued); padding: 8px; }
.src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin-bottom: 8px; }
.src.cited { border-color: #16a34a; background: rgba(22, 163, 74, 0.07); }
.src-title { font-weight: 600; }
.src-where { font-size: 0.85em; color: var(--body-text-color-subdued); }
.src-text { font-size: 0.85em; white-space: pre-wrap; margin-top: 4px; }
.src-badge { font-size: 0.8em; font-weight: 600; color: #15803d; margin-left: 6px; }
.src-snippet { font-size: 0.85em; margin-top: 4px; font-style: italic; }
"""
Chat = list[dict[str, Any]]  # gradio "messages": [{"role": "user" | "assistant", "content": str}]


def _trim(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def sources_html(question: str, retrieval: Retrieval, answer: Answer | None = None) -> str:
    """The numbered slides given to the model; once answered, the cited ones marked with their support."""
    cited = {c.id: c for c in answer.citations} if answer else {}
    corrected = {s["source"] for s in answer.sentences if s.get("check") == "corrected"} if answer else set()
    parts = [f'<div class="src-head">Slides found for “{text(_trim(question, 120))}”</div>']
    for n, hit in enumerate(retrieval.hits, start=1):
        c = hit.chunk
        citation = cited.get(c.slide_id)
        # every cited sentence passed the truth check or is the slide's own line (vetting.shown_sentences)
        badge = '<span class="src-badge">✓ cited, checked</span>' if citation else ""
        support = f'<div class="src-snippet">Supports: “{text(citation.snippet)}”</div>' if citation else ""
        if citation and c.slide_id in corrected:
            support += (
                '<div class="src-snippet">The reply contradicted this slide; its own line is quoted instead.</div>'
            )
        parts.append(
            f'<div class="src{" cited" if citation else ""}">'
            f'<div><span class="src-title">[{n}] {text(c.title)}</span>{badge}</div>'
            f'<div class="src-where">{text(c.deck_title)}, slide {int(c.slide)}</div>'
            f'<div class="src-text">{text(_trim(c.shown, SLIDE_CHARS)) or "(no text on this slide)"}</div>'
            f"{support}</div>"
        )
    if not retrieval.hits:
        parts.append('<div class="src-empty">No slides matched this question.</div>')
    return "".join(parts)


def _plain(content: object) -> str:
    """A chat message's text, whether gradio sends a string or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_plain(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return ""


def _copy(messages: Chat) -> Chat:
    """A snapshot per update: each yield stands on its own even though the reply keeps growing."""
    return [dict(m) for m in messages]


def chat_handler(
    assistant: Assistant, limit: int, record: Callable[[Answer], None] | None = None
) -> Callable[..., Iterator[tuple[Chat, str, list[Turn]]]]:
    """The chat event as a plain generator, tested as the browser runs it; ``record`` gets each finished answer."""

    def respond(
        message: str, history_state: list[Turn] | None, model: str | None, chat: Chat | None = None
    ) -> Iterator[tuple[Chat, str, list[Turn]]]:
        """Stream one answer: (chat messages, sources panel HTML, turns for follow-ups) per update."""
        turns = list(history_state or [])
        messages: Chat = [{"role": m.get("role", "assistant"), "content": _plain(m.get("content"))} for m in chat or []]
        question = message if isinstance(message, str) else ""
        if question.strip():
            messages.append({"role": "user", "content": text(_trim(question, limit + 1))})
        reply: dict[str, Any] = {"role": "assistant", "content": READING}
        messages.append(reply)
        sources = SOURCES_EMPTY
        yield _copy(messages), sources, turns
        retrieval = None
        streamed, shown = "", 0.0
        try:
            for event in assistant.ask(message, history=turns, model=model or None):
                if isinstance(event, SourcesEvent):
                    retrieval = event.retrieval
                    sources = sources_html(question, retrieval)
                    reply["content"] = WRITING
                elif isinstance(event, TokenEvent):
                    streamed += event.text
                    if time.monotonic() - shown < STREAM_EVERY_S:
                        continue
                    reply["content"] = text(streamed)
                elif isinstance(event, DoneEvent):
                    done = event.answer
                    reply["content"] = text(done.answer) + (f"\n\n*{text(n)}*" if (n := unchecked_note(done)) else "")
                    if retrieval is not None:
                        sources = sources_html(question, retrieval, done)
                    turns = [*turns, Turn(done.question, done.answer, done.query)]
                    if record:
                        record(done)
                shown = time.monotonic()
                yield _copy(messages), sources, turns
        except AssistantError as err:
            reply["content"] = text(err)
            yield _copy(messages), sources, turns
        except Exception:
            log.exception("answering %r failed", _trim(question, 200))
            reply["content"] = GENERIC_ERROR
            yield _copy(messages), sources, turns

    return respond


def _chat_tab(assistant: Assistant, settings: Settings, record: Callable[[Answer], None] | None = None) -> None:
    """The Chat tab. Other tabs (e.g. Practice) go in their own ``_*_tab`` function in ``create_app``."""
    import gradio as gr

    from assistant.weights import CHAT_MODELS

    models = list(CHAT_MODELS)
    if settings.model not in models:
        models.append(settings.model)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=360):
            chatbot = gr.Chatbot(
                label="Conversation",
                height=520,
                sanitize_html=True,
                render_markdown=True,
                latex_delimiters=LATEX,
                feedback_options=None,
                buttons=["copy"],
                elem_id="chatbot",
                placeholder="Ask about the course slides. Answers cite slides as [n]; see the sources on the right.",
            )
            with gr.Row():
                box = gr.Textbox(
                    show_label=False,
                    placeholder="Ask a question about the course…",
                    scale=5,
                    max_lines=6,
                    elem_id="question",
                    autofocus=True,
                )
                send = gr.Button("Send", variant="primary", scale=1, min_width=90, elem_id="send")
            with gr.Row():
                model = gr.Dropdown(
                    models,
                    value=settings.model,
                    label="Model",
                    scale=3,
                    interactive=settings.engine in LOCAL_ENGINES,
                    info="qwen2.5-coder-0.5b answers faster; 1.5b grounds its answers better",
                )
                new_chat = gr.Button("New chat", scale=1, min_width=90, elem_id="new-chat")
            gr.Examples(EXAMPLES, inputs=[box], label="Example questions")
        with gr.Column(scale=2, min_width=300):
            gr.Markdown("### Sources")
            sources = gr.HTML(SOURCES_EMPTY, css_template=SOURCES_CSS, js_on_load=None, elem_id="sources", padding=True)
    turns = gr.State([])
    # The question moves to a hidden box and the visible one clears at once, so a student can type the
    # next question while this one streams; "ask" reads the hidden box, so API clients see one text input.
    pending = gr.Textbox(visible=False)
    respond = chat_handler(assistant, settings.max_question_chars, record)
    gr.on(
        [box.submit, send.click],
        lambda q: ("", q),
        inputs=[box],
        outputs=[box, pending],
        queue=False,
        api_visibility="private",
    ).then(
        respond,
        inputs=[pending, turns, model, chatbot],
        outputs=[chatbot, sources, turns],
        api_name="ask",
        show_progress="full",
    )
    # "New chat" and the chatbot's own trash button both forget the turns, so follow-ups start afresh.
    new_chat.click(
        lambda: ([], SOURCES_EMPTY, [], ""),
        outputs=[chatbot, sources, turns, box],
        queue=False,
        api_visibility="private",
    )
    chatbot.clear(lambda: (SOURCES_EMPTY, []), outputs=[sources, turns], queue=False, api_visibility="private")


def create_app(
    assistant: Assistant,
    settings: Settings,
    study: Study | None = None,
    question_log: QuestionLog | None = None,
    staff: bool = True,
) -> gr.Blocks:
    """The Blocks app; separate from ``serve`` so tests launch it on their own port.

    With ``study`` (the question bank and students' records), practice draws from the bank, keeps
    each student's answers and review schedule, and a Staff tab reviews the bank and shows insights.
    With ``question_log``, every answered question and practice answer is logged, without who asked.
    ``staff=False`` leaves the Staff tab out (an app open to other machines without a password)."""
    from assistant.weights import set_offline

    set_offline()  # before gradio is imported: no analytics or update checks from an offline app
    import gradio as gr

    with gr.Blocks(title="Study assistant") as demo:
        header = "## Study assistant\nAnswers come only from the course slides, with the slides they cite."
        record = question_log.recorder(assistant.settings.engine) if question_log else None
        gr.Markdown(header + (f"\n\n*{NOTICE}*" if question_log else ""), elem_id="header")
        with gr.Tab("Chat"):
            _chat_tab(assistant, settings, record)
        with gr.Tab("Practice"):
            from assistant.ui.practice import practice_tab

            practice_tab(assistant, settings, study, question_log)
        if study is not None and staff:
            with gr.Tab("Staff"):
                from assistant.ui.staff import staff_tab

                staff_tab(assistant, study)

        def answer_json(question: str, model: str = "") -> dict:
            """One whole answer as JSON (``Answer.to_dict``), without streaming; for scripts and load tests."""
            try:
                done = assistant.answer(question, model=model or None)
            except AssistantError as err:
                raise gr.Error(str(err)) from None
            if record:
                record(done)
            return done.to_dict()

        gr.api(answer_json, api_name="answer_json")
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.max_queue)
    return demo


def staff_allowed(host: str, credentials: tuple[str, str] | None) -> bool:
    """The Staff tab is served on this machine, or beyond it only behind a password."""
    return host in LOCAL_HOSTS or credentials is not None


def open_study_or_none(settings: Settings) -> Study | None:
    """The question bank and students' records; None (said in one line) when its database cannot be used,
    so the chat still works."""
    from assistant.study.store import open_study

    try:
        return open_study(settings)
    except AssistantError as err:
        log.warning("practice runs without the question bank and saved progress: %s", err)
        return None


def launch_options() -> dict[str, Any]:
    """``launch`` arguments shared by ``serve`` and the tests: no Node server, no monitoring, no saved runs."""
    return {"ssr_mode": False, "enable_monitoring": False, "run_history": False, "quiet": True}


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``USER:PASS`` as gradio's credentials tuple; None when no password is wanted."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise AssistantError("--auth (or $ASSISTANT_AUTH) must look like USER:PASS, both non-empty")
    return user, password


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None, share_ok: bool = False
) -> int:
    """Load the models, then serve the UI until Ctrl-C; refuses non-local interfaces without ``--allow-remote``."""
    credentials = parse_auth(auth or os.environ.get("ASSISTANT_AUTH"))
    remote = host not in LOCAL_HOSTS
    if remote and not share_ok:
        raise AssistantError(
            f"--host {host} would let other machines use the assistant; pass --allow-remote to confirm "
            "(and --auth USER:PASS to require a password)"
        )
    if remote and credentials is None:
        log.warning("serving on %s without a password: anyone who can reach port %d can use it (--auth)", host, port)
    print("Loading models… the first start prepares them once", flush=True)
    assistant = Assistant(settings)
    # Models load before the port opens, so no student waits on a half-loaded server; slide
    # prefixes are cached behind it (a question meanwhile waits for at most one slide).
    assistant.warm(slides="background")
    study = open_study_or_none(settings)
    question_log = None
    if settings.log_questions and study is not None:
        question_log = QuestionLog(study.db)
        print("Logging questions for staff insights (no names or addresses)", flush=True)
    staff = staff_allowed(host, credentials)
    if not staff:
        log.warning("no Staff tab: it needs --auth when the app is served beyond this machine")
    demo = create_app(assistant, settings, study, question_log, staff)
    try:
        _, url, _ = demo.launch(
            server_name=host, server_port=port, auth=credentials, prevent_thread_lock=True, **launch_options()
        )
    except OSError as err:
        raise AssistantError(f"cannot serve on {host}:{port} ({err}); pass another --port") from None
    print(f"Study assistant ready at {url}  (Ctrl-C to stop)", flush=True)
    withdraw = announce(settings, url, credentials is not None)  # `assistant ask` in a shell asks this app
    try:
        demo.block_thread()
    finally:
        withdraw()
    return 0
