"""Which engine "auto" means: the rule, the measured record, and ``assistant doctor`` saying so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engines import choice
from assistant.engines.choice import Machine
from assistant.engines.factory import make_generator

ROOT = Path(__file__).resolve().parent.parent
AVX2 = Machine("laptop CPU", 4, ("avx2", "fma"), 16.0)
BF16 = Machine("server CPU", 8, ("avx2", "fma", "avx512f", "avx512_bf16"), 64.0)


def test_the_rule_runs_llamacpp_without_bf16_and_transformers_with_it():
    assert choice.rule(AVX2).engine == "llamacpp" and "no bf16" in choice.rule(AVX2).reason
    assert choice.rule(BF16).engine == "transformers"
    small = replace(BF16, ram_gb=8.0)  # the fp32/bf16 copies of the transformers engine would not fit
    assert choice.rule(small).engine == "llamacpp"


def test_a_record_counts_only_on_the_cpu_and_model_it_was_measured_for(settings, tmp_path, caplog):
    mine = replace(settings, cache_dir=tmp_path, engine="auto")
    record = choice.Choice("transformers", "measured", {}, AVX2.cpu, AVX2.flags, mine.model, "now")
    (tmp_path / choice.RECORD).write_text(json.dumps(record.__dict__))
    assert choice.choose(mine, AVX2).engine == "transformers"  # the measurement beats the rule
    assert choice.choose(mine, BF16).reason == choice.rule(BF16).reason  # another CPU: the rule
    assert choice.choose(replace(mine, model="qwen2.5-coder-0.5b"), AVX2).engine == "llamacpp"
    (tmp_path / choice.RECORD).write_text('{"engine": "transf')  # a crash mid-write, by another tool
    with caplog.at_level("WARNING"):
        assert choice.choose(mine, AVX2).engine == "llamacpp"
    assert "unreadable" in caplog.text


def test_a_named_engine_is_kept_and_auto_becomes_a_concrete_one(settings):
    from assistant.engines.factory import LOCAL_ENGINES, resolve_engine

    assert resolve_engine(replace(settings, engine="openai")).engine == "openai"
    assert resolve_engine(replace(settings, engine="auto")).engine in LOCAL_ENGINES


def test_measuring_times_the_engine_and_records_the_choice(settings, tmp_path):
    """The real llama.cpp engine on the fast model; the transformers engine is timed by ``prepare`` itself."""
    cache = tmp_path / "models"
    cache.mkdir()
    model_dir = settings.cache_dir / "qwen2.5-coder-0.5b"
    (cache / "qwen2.5-coder-0.5b").mkdir()
    for name in ("model.gguf", "gguf.verified.json"):  # the verified GGUF, not a second copy
        os.symlink(model_dir / name, cache / "qwen2.5-coder-0.5b" / name)
    mine = replace(settings, cache_dir=cache, engine="auto", model="qwen2.5-coder-0.5b")
    picked = choice.measure(mine, make_generator, engines=("llamacpp",))
    assert picked.engine == "llamacpp" and picked.measured["llamacpp"]["task_s"] > 0
    assert choice.choose(mine).reason == picked.reason and picked.reason.startswith("measured")


def test_measuring_on_a_small_machine_times_only_llamacpp(settings, monkeypatch):
    """Even where bf16 makes the transformers engine fastest, its memory decides first, as in the rule."""
    timed = []

    def fake_time(settings, engine, make):
        timed.append(engine)
        return {"load_s": 1.0, "first_piece_s": 1.0, "task_s": 1.0}

    monkeypatch.setattr(choice, "machine", lambda: replace(BF16, ram_gb=8.0))
    monkeypatch.setattr(choice, "_has_llamacpp", lambda: True)
    monkeypatch.setattr(choice, "time_task", fake_time)
    monkeypatch.setattr(choice, "write_json", lambda path, data: None)
    assert choice.measure(settings, make_generator).engine == "llamacpp" and timed == ["llamacpp"]
    monkeypatch.setattr(choice, "machine", lambda: BF16)
    timed.clear()
    choice.measure(settings, make_generator)
    assert timed == ["transformers", "llamacpp"]


def _doctor(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "doctor", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_doctor_names_the_cpu_features_the_engine_and_why():
    here = choice.machine()
    out = _doctor(ASSISTANT_ENGINE="auto")
    assert out.returncode == 0, out.stdout + out.stderr
    lines: dict[str, str] = {}
    for line in out.stdout.splitlines():
        lines.setdefault(line.split()[1], line)  # the first "engine" line names it; transformers adds a second
    assert all(flag in lines["cpu"] for flag in here.flags)
    assert choice.choose(Settings.from_env(engine="auto")).engine in lines["engine"]
    assert "index" in lines and lines["index"].startswith("ok")


@pytest.mark.parametrize("engine", ["transformers", "llamacpp"])
def test_doctor_reports_a_forced_engine(engine):
    out = _doctor(ASSISTANT_ENGINE=engine, ASSISTANT_PREFILL="fp32")
    engine_lines = [line for line in out.stdout.splitlines() if line.split()[1] == "engine"]
    assert engine_lines[0].split()[2] == engine and "set by" in engine_lines[0]
    assert ("prompts run in fp32" in out.stdout) == (engine == "transformers")


def test_doctor_flags_a_broken_index(tmp_path):
    out = _doctor("--index", str(tmp_path), ASSISTANT_ENGINE="llamacpp")
    assert out.returncode == 1
    flagged = [line for line in out.stdout.splitlines() if line.startswith("!!")]
    assert any("index" in line and "assistant index" in line for line in flagged)
