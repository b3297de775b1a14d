"""``assistant doctor``: what this machine has, which engine answers and why, and whether the files are whole.

Every line is one finding, so a student can paste the output into a question to the course
staff. Nothing here loads a model: it reads the CPU, the memory, the engine record and the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.engines import choice
from assistant.errors import AssistantError
from assistant.weights import CHAT_MODELS, cached_hf_folder, chat_spec, verify_gguf


@dataclass(frozen=True)
class Finding:
    topic: str
    text: str
    ok: bool = True

    def line(self) -> str:
        return f"{'ok ' if self.ok else '!! '} {self.topic:8s} {self.text}"


def _available_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20  # kB to GB as `free -g` counts them
    except (OSError, ValueError, IndexError):
        pass
    return None


def _folder_mb(folder: Path, pattern: str) -> tuple[int, float]:
    files = [path for path in folder.rglob(pattern) if path.is_file()] if folder.is_dir() else []
    return len(files), sum(path.stat().st_size for path in files) / 1e6


def engine_findings(settings: Settings) -> list[Finding]:
    here = choice.machine()
    available = _available_gb()
    memory = f"{here.ram_gb:.1f} GB" + (f", {available:.1f} GB available" if available is not None else "")
    found = [Finding("cpu", here.describe()), Finding("memory", memory, here.ram_gb >= 7)]
    engine = settings.engine
    if engine != "auto":
        found.append(Finding("engine", f"{engine} (set by ASSISTANT_ENGINE or --engine)"))
    else:
        picked = choice.choose(settings, here)
        engine = picked.engine
        figures = "; ".join(
            f"{engine}: task {m['task_s']:.1f} s, first piece {m['first_piece_s']:.1f} s, load {m['load_s']:.1f} s"
            for engine, m in picked.measured.items()
        )
        found.append(Finding("engine", f"{picked.engine}: {picked.reason}" + (f" ({figures})" if figures else "")))
    if engine == "transformers":
        from assistant.engines.transformers import prefill_mode

        found.append(Finding("engine", f"prompts run in {prefill_mode(settings)}, replies in {settings.decode}"))
    return found


def file_findings(settings: Settings) -> list[Finding]:
    found = []
    for key in CHAT_MODELS:
        spec = chat_spec(key)
        joined = verify_gguf(spec, settings.cache_dir)
        converted = cached_hf_folder(spec, settings.cache_dir) is not None
        gguf = "verified" if joined else "missing or damaged (run: assistant prepare)"
        text = f"{key}: GGUF {gguf}, converted {'yes' if converted else 'no'}"
        found.append(Finding("model", text, joined or key != settings.model))
    count, mb = _folder_mb(settings.cache_dir / "llamacpp-states", "*.bin")
    kv_count, kv_mb = _folder_mb(settings.cache_dir, "prefix-kv/*.safetensors")
    text = f"slide prefixes saved: {count} llama.cpp states ({mb:.0f} MB), {kv_count} KV caches ({kv_mb:.0f} MB)"
    found.append(Finding("caches", text))
    found.append(index_finding(settings))
    return found


def index_finding(settings: Settings) -> Finding:
    from assistant.corpus.index import load, stale_reason

    try:
        index = load(settings.index_dir)
    except AssistantError as err:
        return Finding("index", str(err), False)
    stale = stale_reason(index, settings.corpus_dir, settings.embedder)
    slides = len({c.slide_id for c in index.chunks})
    text = f"{len(index.chunks)} chunks from {slides} slides in {settings.index_dir}"
    return Finding("index", text + (f"; stale: {stale} (run: assistant index)" if stale else ""), stale is None)


def report(settings: Settings) -> list[Finding]:
    """Every finding, machine first."""
    return engine_findings(settings) + file_findings(settings)
