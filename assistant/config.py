"""Settings: one frozen dataclass with the defaults, overridden by environment and CLI flags.

Paths default to the project's own ``corpus/`` and ``index/`` when the package runs from a
checkout, and to the working directory otherwise, so ``assistant`` works the same from a clone
and from an installed wheel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout this package lives in, or the working directory for an installed package."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").exists() and (candidate / "corpus").is_dir():
        return candidate
    return Path.cwd()


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value and value.strip().isdigit() else default


@dataclass(frozen=True)
class Settings:
    """Everything a run can change; ``Settings.from_env()`` is the usual way to get one."""

    corpus_dir: Path = field(default_factory=lambda: project_root() / "corpus")
    index_dir: Path = field(default_factory=lambda: project_root() / "index")
    # Converted models live here; the first run fills it (about a minute per model).
    cache_dir: Path = field(default_factory=lambda: project_root() / ".cache" / "models")
    embedder: str = "minilm"  # measured best for speed at equal hit@4 on the shipped deck
    model: str = "qwen2.5-coder-1.5b"  # grounds and refuses best; "qwen2.5-coder-0.5b" is the fast option
    # "auto": the engine measured fastest on this machine by `assistant prepare` (engines/choice.py);
    # or "transformers" / "llamacpp" / "openai"
    engine: str = "auto"
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "default"
    top_k: int = 3  # slides shown in the sources panel
    context_k: int = 3  # of those, slides given to the model: prefill time grows with every slide
    # Slides after the first cut to their lines closest to the question, up to this many words; 0 keeps
    # them whole, because cutting cost grounding for little speed (docs/decisions/prompt-context.md).
    context_words: int = 0
    max_new_tokens: int = 120  # answers are one or two sentences; bounds a rambling model
    max_question_chars: int = 2000
    cache_prefix: bool = True  # reuse the system prompt's KV cache across questions
    # Weights that run the prompt: "auto" picks bf16 only where the CPU multiplies bf16 in hardware,
    # since elsewhere bf16 is slower than fp32 (engines.transformers.prefill_mode, docs/decisions/bf16-prefill.md).
    prefill: str = "auto"
    # Weights that write the reply: "int4", because decoding is bound by reading weights (a second,
    # ~1.2 GB copy; docs/decisions/int4-decoding.md); "fp32" keeps one copy for prompt and reply.
    decode: str = "int4"
    # Tokens drafted from the prompt and checked per decoder pass (greedy.py); 0 writes one token a pass.
    draft: int = 3
    # Share of a reused slide's tokens computed again when a prompt reuses slides' saved KV caches away from
    # the prompt's start (engines/decoding/blend.py); 0 computes those slides whole.
    blend: float = 0.0
    # The answer prompt's instructions (a file in assistant/answering/prompts/); every one starts with the same
    # slides, so the slide prefix caches serve them all. This one has the model say first when the question
    # assumes something the slides contradict (docs/decisions/read-before-writing.md).
    answer_prompt: str = "answer_user_premise"
    # After the cheap truth check, the chat model reads this many of a reply's cited sentences (the first
    # ones, since the opening sentence holds most contradictions: docs/decisions/truth-check.md) beside
    # their slide and must find them there (judge.judge_messages); each costs a prompt of ~45 tokens. 0 turns
    # it off.
    judge: int = 1
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    concurrency: int = 1  # answers generated at once; one keeps a 2-core machine responsive
    max_queue: int = 64  # students waiting beyond this get a "busy, try again" message
    # The question bank and students' answers (SQLite); None: study.sqlite beside the index.
    study_db: Path | None = None
    # Staff's question log for class insights: off unless switched on (--log-questions); never who asked.
    log_questions: bool = False

    @property
    def study_path(self) -> Path:
        return self.study_db or self.index_dir / "study.sqlite"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``ASSISTANT_*`` environment variables, then explicit overrides (CLI flags)."""
        base = cls()
        env = {
            "corpus_dir": _env_path("ASSISTANT_CORPUS", base.corpus_dir),
            "index_dir": _env_path("ASSISTANT_INDEX", base.index_dir),
            "cache_dir": _env_path("ASSISTANT_CACHE", base.cache_dir),
            "embedder": os.environ.get("ASSISTANT_EMBEDDER", base.embedder),
            "model": os.environ.get("ASSISTANT_MODEL", base.model),
            "engine": os.environ.get("ASSISTANT_ENGINE", base.engine),
            "openai_base_url": os.environ.get("ASSISTANT_OPENAI_URL", base.openai_base_url),
            "openai_model": os.environ.get("ASSISTANT_OPENAI_MODEL", base.openai_model),
            "concurrency": _env_int("ASSISTANT_CONCURRENCY", base.concurrency),
            "max_queue": _env_int("ASSISTANT_MAX_QUEUE", base.max_queue),
            "threads": _env_int("ASSISTANT_THREADS", base.threads),
            "prefill": os.environ.get("ASSISTANT_PREFILL", base.prefill),
            "decode": os.environ.get("ASSISTANT_DECODE", base.decode),
            "draft": _env_int("ASSISTANT_DRAFT", base.draft),
            "blend": float(os.environ.get("ASSISTANT_BLEND", base.blend)),
            "context_k": _env_int("ASSISTANT_CONTEXT_K", base.context_k),
            "context_words": _env_int("ASSISTANT_CONTEXT_WORDS", base.context_words),
            "answer_prompt": os.environ.get("ASSISTANT_ANSWER_PROMPT", base.answer_prompt),
            "judge": _env_int("ASSISTANT_JUDGE", base.judge),
            "log_questions": os.environ.get("ASSISTANT_LOG_QUESTIONS", "") in ("1", "true", "yes"),
            "study_db": _env_path("ASSISTANT_STUDY_DB", Path()) if os.environ.get("ASSISTANT_STUDY_DB") else None,
        }
        env.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("corpus_dir", "index_dir", "cache_dir"):
            env[key] = Path(env[key]).expanduser()  # type: ignore[arg-type]
        return replace(base, **env)  # type: ignore[arg-type]
