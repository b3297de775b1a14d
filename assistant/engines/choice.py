"""Which engine answers on this machine: measured once by ``assistant prepare``, else a rule.

``engine = "auto"`` (the default) resolves here. ``prepare`` times the same short task (a
prompt of a few hundred tokens and a fixed-length reply) on every local engine and records the
fastest in ``engine-choice.json`` beside the models, with the CPU it ran on; a record from another
CPU, or an unreadable one, is ignored. Without a record the rule is: a CPU with bf16 instructions
runs the ``transformers`` engine (bf16 prompts, our int4 decoding loop); any other CPU runs
llama.cpp, whose Q4_K kernels decode about twice as fast there and which needs a third of the
memory (docs/decisions/engine-choice.md).
"""

from __future__ import annotations

import datetime
import gc
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from assistant.config import Settings
from assistant.engines.base import Generator
from assistant.errors import AssistantError
from assistant.storage import read_json, write_json

log = logging.getLogger(__name__)

LOCAL_ENGINES = ("transformers", "llamacpp")  # the engines that run the packaged models in this process
RECORD = "engine-choice.json"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "neon", "asimd")
# The transformers engine keeps a prompt copy of the weights beside its decoder: the 1.5B peaks near 5.5 GB
# with bf16 prompts and 9.9 GB with fp32 ones (docs/decisions/prompt-weights-memory.md).
TRANSFORMERS_MIN_RAM_GB = 14
TASK_PROMPT = (
    "Deep learning models can fail when the test data differs from the training data. "
    "Robustness methods, calibration and anomaly detection each address a part of this. "
) * 12
TASK_REPLY_TOKENS = 48


@dataclass(frozen=True)
class Machine:
    """What the engine choice depends on: the CPU, its instruction sets and the memory."""

    cpu: str
    cores: int
    flags: tuple[str, ...]  # of SHOWN_FLAGS, the ones this CPU has
    ram_gb: float

    @property
    def bf16(self) -> bool:
        return any(flag in self.flags for flag in BF16_FLAGS)

    def describe(self) -> str:
        lacking = [flag for flag in ("avx512f", "avx512_bf16") if flag not in self.flags]
        tail = f" (no {', no '.join(lacking)})" if lacking else ""
        return f"{self.cpu}, {self.cores} cores; {' '.join(self.flags) or 'no listed features'}{tail}"


@dataclass(frozen=True)
class Choice:
    """The engine "auto" means here, and why."""

    engine: str
    reason: str
    measured: dict[str, dict[str, float]] = field(default_factory=dict)  # engine -> figures of the task
    cpu: str = ""
    flags: tuple[str, ...] = ()
    model: str = ""
    when: str = ""


def machine() -> Machine:
    """This machine, from /proc (Linux); elsewhere the platform's name and no listed features."""
    cpu, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                cpu = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
    except OSError:
        pass
    ram_gb = 0.0
    try:
        ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    return Machine(cpu, os.cpu_count() or 1, tuple(f for f in SHOWN_FLAGS if f in flags), round(ram_gb, 1))


def _has_llamacpp() -> bool:
    from importlib.util import find_spec

    return find_spec("xllamacpp") is not None


def rule(here: Machine) -> Choice:
    """The choice without a measurement."""
    if here.bf16 and here.ram_gb >= TRANSFORMERS_MIN_RAM_GB:
        return Choice("transformers", "this CPU multiplies bf16 in hardware (rule; run assistant prepare to measure)")
    if not _has_llamacpp():
        return Choice("transformers", "llama.cpp (xllamacpp) is not installed")
    why = "no bf16 instructions" if not here.bf16 else f"under {TRANSFORMERS_MIN_RAM_GB} GB of RAM"
    return Choice("llamacpp", f"{why}: llama.cpp decodes faster here and needs less memory (rule; not measured)")


def record_path(settings: Settings) -> Path:
    return settings.cache_dir / RECORD


def recorded(settings: Settings, here: Machine | None = None) -> Choice | None:
    """The measured choice for this CPU and model, or None (absent, unreadable, or from another machine)."""
    path = record_path(settings)
    data = read_json(path)
    if data is None:
        if path.exists():
            log.warning("%s is unreadable; choosing the engine by rule until assistant prepare measures again", path)
        return None
    here = here or machine()
    try:
        choice = Choice(**{**data, "flags": tuple(data.get("flags", ()))})
    except TypeError:
        log.warning("%s is not an engine record; choosing the engine by rule", path)
        return None
    if choice.engine not in LOCAL_ENGINES or (choice.cpu, choice.flags) != (here.cpu, here.flags):
        return None
    return choice if choice.model == settings.model else None


def choose(settings: Settings, here: Machine | None = None) -> Choice:
    """What ``engine="auto"`` means for ``settings`` on this machine."""
    here = here or machine()
    return recorded(settings, here) or rule(here)


def resolve(settings: Settings) -> Settings:
    """``settings`` with a concrete engine: "auto" replaced by the choice for this machine."""
    if settings.engine != "auto":
        return settings
    choice = choose(settings)
    log.info("engine: %s (%s)", choice.engine, choice.reason)
    return replace(settings, engine=choice.engine)


def time_task(settings: Settings, engine: str, make: Callable[[Settings], Generator]) -> dict[str, float]:
    """One engine's time on the fixed task: load, first reply piece, whole reply (seconds)."""
    start = time.perf_counter()
    gen = make(replace(settings, engine=engine, cache_prefix=False))
    gen.load()
    loaded = time.perf_counter()
    messages = [{"role": "user", "content": TASK_PROMPT + "\nCount from 1 to 200, separated by commas."}]
    first = None
    for _ in gen.stream(messages, TASK_REPLY_TOKENS):
        first = first or time.perf_counter()
    done = time.perf_counter()
    del gen
    gc.collect()
    return {
        "load_s": round(loaded - start, 2),
        "first_piece_s": round((first or done) - loaded, 2),
        "task_s": round(done - loaded, 2),
    }


def measure(
    settings: Settings, make: Callable[[Settings], Generator], engines: tuple[str, ...] = LOCAL_ENGINES
) -> Choice:
    """Time the task on each engine this machine can run (made by ``make``), record the fastest and return it."""
    here = machine()
    runnable = [e for e in engines if e != "llamacpp" or _has_llamacpp()]
    if "transformers" in runnable and here.ram_gb < TRANSFORMERS_MIN_RAM_GB and len(runnable) > 1:
        runnable.remove("transformers")  # as in rule(): its two copies of the weights crowd a small machine
    if not runnable:
        raise AssistantError("no local engine can run here")
    measured = {engine: time_task(settings, engine, make) for engine in runnable}
    best = min(measured, key=lambda engine: measured[engine]["task_s"])
    others = ", ".join(f"{e} {m['task_s']:.1f} s" for e, m in measured.items() if e != best)
    reason = f"measured: the task took {measured[best]['task_s']:.1f} s" + (f" against {others}" if others else "")
    when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    choice = Choice(best, reason, measured, here.cpu, here.flags, settings.model, when)
    write_json(record_path(settings), asdict(choice))
    return choice
