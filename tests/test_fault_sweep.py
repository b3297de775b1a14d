"""Every file the product reads, damaged one at a time: corrupted, truncated, deleted.

For each file its reader must say what is wrong in one line or rebuild it, give the right result
afterwards, and never end in a traceback: any exception other than the product's own one-line
``AssistantError`` fails the case. Damage is written to a new file renamed over the old one, as an
editor would, so a file linked from the shared model cache is never changed in place.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from assistant.corpus import index as ix
from assistant.engines import choice
from assistant.errors import AssistantError
from assistant.evaluation import metrics
from assistant.evaluation.report import write_report
from assistant.evaluation.run import read_results
from assistant.storage import read_jsonl, sha256_file, write_json
from assistant.study.db import StudyDB
from assistant.study.review import Study
from assistant.study.store import SHIPPED_BANK, open_study
from assistant.ui import running
from assistant.weights import (
    CACHE_FORMAT,
    cached_hf_folder,
    chat_spec,
    embedder_folder,
    embedder_spec,
    gguf_path,
    verify_gguf,
)
from tests.fakes import BagOfWordsEmbedder, bag_of_words, logits, tiny_qwen

DAMAGES = ("corrupt", "truncate", "delete")
SMALL = "qwen2.5-coder-0.5b"


def damage(path: Path, how: str) -> None:
    """Delete ``path``, cut it in half, or change its bytes at the same size (a later time, as a real edit)."""
    if how == "delete":
        path.unlink()
        return
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: len(data) // 2]
    else:
        step = max(1, len(data) // 64)  # a small file is garbled whole, a large one in 64 places
        for i in range(0, len(data), step):
            data[i] ^= 0xA5
    before = path.stat().st_mtime_ns
    tmp = path.with_name(path.name + ".damaged")
    tmp.write_bytes(bytes(data))
    os.replace(tmp, path)
    os.utime(path, ns=(before + 10**9, before + 10**9))


@dataclass
class World:
    """What the readers need: real settings, the real embedder and index, and a private folder."""

    settings: object
    embedder: object
    shipped_index: object
    folder: Path


@dataclass(frozen=True)
class Case:
    make: Callable[[World], None]  # writes the good state under ``world.folder`` (once: ``made`` copies it)
    files: tuple[str, ...]  # globs under the folder, one case each
    read: Callable[[World], object]  # the product's reader of those files
    check: Callable[[World, object, str], None]  # the result is right (given the file and the damage)


# --- the index ----------------------------------------------------------------------------------------


# Built with a stand-in embedder, so that each of the many rebuilds takes milliseconds; the files
# and their checks are the same as with the real one (tests/test_index.py uses the real one).
def _index_make(w: World) -> None:
    ix.load_or_build(w.settings.corpus_dir, w.folder / "index", BagOfWordsEmbedder())


def _index_read(w: World):
    return ix.load_or_build(w.settings.corpus_dir, w.folder / "index", BagOfWordsEmbedder())


def _index_check(w: World, index, name: str) -> None:
    assert [c.slide_id for c in index.chunks] == [c.slide_id for c in w.shipped_index.chunks]
    assert np.allclose(index.vectors, bag_of_words([c.search_text for c in index.chunks]), atol=1e-6)
    assert [c.slide_id for c in ix.load(w.folder / "index").chunks] == [c.slide_id for c in index.chunks]  # saved


SNAPSHOT = "index/snapshot-*"
INDEX = Case(
    _index_make,
    ("index/CURRENT", *(f"{SNAPSHOT}/{n}" for n in ("manifest.json", "chunks.jsonl", "dense.faiss"))),
    _index_read,
    _index_check,
)
BM25_FILES = sorted(p.name for p in (Path(__file__).parents[1] / "index").glob("snapshot-*/bm25/*"))
INDEX_BM25 = replace(INDEX, files=tuple(f"{SNAPSHOT}/bm25/{n}" for n in BM25_FILES))


# --- the chat model: the joined GGUF and the converted folder ------------------------------------------


def _gguf_make(w: World) -> None:
    spec, shared = chat_spec(SMALL), w.settings.cache_dir / SMALL / "model.gguf"
    (w.folder / SMALL).mkdir(parents=True)
    try:
        os.link(shared, w.folder / SMALL / "model.gguf")  # damage() renames over the link: the shared file stays
    except OSError:
        pass  # another file system: joined from the packages below
    gguf_path(spec, w.folder)


def _gguf_check(w: World, path, name: str) -> None:
    assert path == w.folder / SMALL / "model.gguf" and verify_gguf(chat_spec(SMALL), w.folder)
    if not name.endswith(".json"):  # the model file itself was damaged: it must have been joined again
        assert sha256_file(path) == chat_spec(SMALL).sha256


GGUF = Case(
    _gguf_make,
    (f"{SMALL}/model.gguf", f"{SMALL}/gguf.verified.json"),
    lambda w: gguf_path(chat_spec(SMALL), w.folder),
    _gguf_check,
)


def _hf_make(w: World) -> None:
    """A converted folder in the cache's own format (small files: the format is what is checked)."""
    spec = chat_spec(SMALL)
    folder = w.folder / SMALL / "hf"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "qwen2"}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(os.urandom(4096))
    files = {p.name: p.stat().st_size for p in folder.iterdir()}
    hashes = {name: sha256_file(folder / name) for name in files}
    manifest = {"format": CACHE_FORMAT, "model": SMALL, "gguf_sha256": spec.sha256, "files": files, "sha256": hashes}
    write_json(folder / "manifest.json", manifest)
    assert cached_hf_folder(spec, w.folder) == folder  # verified once, stamped


def _hf_check(w: World, folder, name: str) -> None:
    if name.endswith("hf.verified.json"):
        assert folder == w.folder / SMALL / "hf"  # the files are hashed again and found right
        assert cached_hf_folder(chat_spec(SMALL), w.folder) == folder
    else:
        assert folder is None  # not trusted: assistant prepare converts the model again


HF = Case(
    _hf_make,
    (f"{SMALL}/hf/model.safetensors", f"{SMALL}/hf/manifest.json", f"{SMALL}/hf.verified.json"),
    lambda w: cached_hf_folder(chat_spec(SMALL), w.folder),
    _hf_check,
)


# --- the embedder: its verified stamp and the ONNX export of the question encoder ----------------------


def _embedder_check(w: World, folder, name: str) -> None:
    assert folder.is_dir() and (w.folder / "verified" / "minilm.json").is_file()


EMBEDDER_STAMP = Case(
    lambda w: embedder_folder(embedder_spec("minilm"), w.folder),
    ("verified/minilm.json",),
    lambda w: embedder_folder(embedder_spec("minilm"), w.folder),
    _embedder_check,
)


def _onnx(w: World):
    from assistant.retrieval import onnx_query

    return onnx_query.load_or_export(w.embedder._load(), embedder_spec("minilm"), w.folder, 2)


def _onnx_check(w: World, encoder, name: str) -> None:
    assert encoder is not None
    assert float(encoder.encode("midterm logistics")[0] @ w.embedder.embed(["midterm logistics"])[0]) > 0.9999


ONNX = Case(_onnx, ("minilm-onnx/model.onnx", "minilm-onnx/manifest.json"), _onnx, _onnx_check)


# --- the transformers engine's int4 decoder and slide-prefix KV caches --------------------------------


def _int4_read(w: World):
    from assistant.engines.decoding import int4

    model = tiny_qwen()
    w.folder.mkdir(parents=True, exist_ok=True)
    int4.load_or_pack(model, w.folder / "int4-decoder.safetensors", "source-a")
    return model


def _int4_check(w: World, model, name: str) -> None:
    import torch

    ids = torch.arange(12).unsqueeze(0)
    assert torch.equal(logits(model, ids), logits(_int4_read(replace(w, folder=w.folder / "fresh")), ids))


INT4 = Case(_int4_read, ("int4-decoder.safetensors", "int4-decoder.json"), _int4_read, _int4_check)

PREFIX_IDS = [[5, 6, 7, 8, 9]]


def _kv_store(w: World):
    from assistant.engines.kvstore import KVStore

    return KVStore(w.folder / "prefix-kv", "model-a")


def _kv_make(w: World) -> None:
    import torch

    gen = torch.Generator().manual_seed(1)
    layers = [(torch.randn(1, 2, 5, 4, generator=gen), torch.randn(1, 2, 5, 4, generator=gen)) for _ in range(2)]
    _kv_store(w).save(torch.tensor(PREFIX_IDS), layers)


def _kv_check(w: World, loaded, name: str) -> None:
    import torch

    assert loaded is None  # not trusted: the engine computes the prefix again and saves it
    _kv_make(w)
    assert len(_kv_store(w).load(torch.tensor(PREFIX_IDS))) == 2


def _kv_read(w: World):
    import torch

    return _kv_store(w).load(torch.tensor(PREFIX_IDS))


KV = Case(_kv_make, ("prefix-kv/*.safetensors",), _kv_read, _kv_check)


# --- the llama.cpp engine's saved slot states ------------------------------------------------------------


def _llama(w: World):
    from assistant.engines.llamacpp import LlamaCppGenerator

    fast = replace(w.settings, cache_dir=w.folder, engine="llamacpp", model=SMALL, threads=2)
    return LlamaCppGenerator(fast)


def _state_prefix() -> list[dict]:
    from assistant.engines.base import PREFIX_END

    slide = "Slide 1: Calibration\n" + "A model is calibrated when its confidence matches its accuracy. " * 6
    return [{"role": "system", "content": "Answer from the slides."}, {"role": "user", "content": slide + PREFIX_END}]


def _state_make(w: World) -> None:
    (w.folder / SMALL).mkdir(parents=True, exist_ok=True)
    for name in ("model.gguf", "gguf.verified.json"):
        os.symlink(w.settings.cache_dir / SMALL / name, w.folder / SMALL / name)
    assert _llama(w).cache_prefix(_state_prefix()) == "computed"


def _state_check(w: World, outcome, name: str) -> None:
    assert outcome == "computed"  # the damaged state was not restored; the prefix was computed and saved again
    saved = next((w.folder / "llamacpp-states").rglob("*.bin"))
    assert json.loads(saved.with_suffix(".json").read_text())["sha256"] == sha256_file(saved)


STATES = Case(
    _state_make,
    ("llamacpp-states/*/*/*.bin", "llamacpp-states/*/*/*.json"),
    lambda w: _llama(w).cache_prefix(_state_prefix()),
    _state_check,
)


# --- the engine record, the study database, the shipped question bank --------------------------------


def _record_settings(w: World):
    return replace(w.settings, cache_dir=w.folder, model=SMALL)


def _record_make(w: World) -> None:
    here = choice.machine()
    record = choice.Choice("llamacpp", "measured", {}, here.cpu, here.flags, SMALL, "now")
    write_json(choice.record_path(_record_settings(w)), asdict(record))
    assert choice.recorded(_record_settings(w)) == record


def _record_check(w: World, found, name: str) -> None:
    assert found is None  # the rule decides until assistant prepare measures again
    assert choice.choose(_record_settings(w)) == choice.rule(choice.machine())


RECORD = Case(_record_make, ("engine-choice.json",), lambda w: choice.recorded(_record_settings(w)), _record_check)


def _study_make(w: World) -> None:
    study = Study(StudyDB(w.folder / "study.sqlite"))
    study.student("Ada")
    study.db.close()


def _study_check(w: World, study, name: str) -> None:
    assert study.student("Grace").name == "Grace"  # usable again: a fresh database, the damaged one kept aside
    assert sqlite3.connect(w.folder / "study.sqlite").execute("PRAGMA integrity_check").fetchone()[0] == "ok"


STUDY = Case(_study_make, ("study.sqlite",), lambda w: Study(StudyDB(w.folder / "study.sqlite")), _study_check)


def _bank_settings(w: World):
    return replace(w.settings, index_dir=w.folder, study_db=w.folder / f"study-{uuid.uuid4().hex}.sqlite")  # a new one


def _bank_make(w: World) -> None:
    (w.folder / SHIPPED_BANK).write_bytes((w.settings.index_dir / SHIPPED_BANK).read_bytes())
    assert open_study(_bank_settings(w)).bank.items()


def _bank_check(w: World, study, name: str) -> None:
    assert study.bank.items() == [] and study.student("Ada").name == "Ada"  # practice still works, generated


BANK = Case(_bank_make, (SHIPPED_BANK,), lambda w: open_study(_bank_settings(w)), _bank_check)


# --- the running app's record, read by `assistant ask` -------------------------------------------------


def _record_of_app(w: World):
    return replace(w.settings, index_dir=w.folder)


def _app_check(w: World, found, name: str) -> None:
    assert found is None  # no app there: the CLI answers on its own


APP = Case(
    lambda w: write_json(running.record_path(_record_of_app(w)), {"url": "http://127.0.0.1:9/", "pid": os.getpid()}),
    (running.RECORD,),
    lambda w: running.find(_record_of_app(w)),
    _app_check,
)


# --- evaluation results --------------------------------------------------------------------------------

SAMPLE_RUN = Path(__file__).parents[1] / "eval" / "reports" / "sample" / "runs" / "default"
ROWS = read_jsonl(SAMPLE_RUN / "results.jsonl")[:4]  # real rows of a committed run


def _eval_make(w: World) -> None:
    run = w.folder / "report" / "runs" / "default"
    run.mkdir(parents=True)
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    write_json(run / "metrics.json", dict(metrics.summarize(ROWS), sections={}))


def _eval_read(w: World):
    run = w.folder / "report" / "runs" / "default"
    return read_results(run / "results.jsonl"), write_report(w.folder / "report")


def _eval_check(w: World, result, name: str) -> None:
    if isinstance(result, AssistantError):  # the only run's summary is gone: nothing to report, said in one line
        assert name.endswith("metrics.json")
        return
    rows, report = result
    assert [r["id"] for r in rows] == [r["id"] for r in ROWS][: len(rows)]  # the good rows, never a wrong one
    assert report.is_file()


EVAL = Case(
    _eval_make,
    tuple(f"report/runs/default/{n}" for n in ("results.jsonl", "metrics.json")),
    _eval_read,
    _eval_check,
)

# Stamps that record a successful check: when one is damaged the file it vouches for is hashed again, and
# found right there is nothing to tell the user.
QUIET = {"minilm.json", "gguf.verified.json", "hf.verified.json", running.RECORD}  # a record of an app: asked, or not

CASES = {
    "index": INDEX,
    "index bm25": INDEX_BM25,
    "gguf": GGUF,
    "converted model": HF,
    "embedder stamp": EMBEDDER_STAMP,
    "onnx export": ONNX,
    "int4 decoder": INT4,
    "prefix kv": KV,
    "llama.cpp states": STATES,
    "engine record": RECORD,
    "study database": STUDY,
    "shipped bank": BANK,
    "eval results": EVAL,
    "running app": APP,
}
PARAMS = [
    pytest.param(name, pattern, how, id=f"{name}:{pattern.split('/')[-1]}-{how}".replace(" ", "-"))
    for name, case in CASES.items()
    for pattern in case.files
    for how in DAMAGES
]


def test_the_sweep_covers_every_kind_of_file_the_product_reads():
    assert BM25_FILES, "the shipped index has no bm25 files: the sweep would miss them"
    assert len(ROWS) == 4
    assert len(PARAMS) >= 3 * 20


_MADE: dict[str, Path] = {}
LINK_BYTES = 50 << 20  # larger files are linked, not copied: damage() renames over a link, never writes into it


def _copy(source: str, target: str) -> None:
    if os.path.getsize(source) > LINK_BYTES:
        os.link(source, target)
    else:
        shutil.copy2(source, target)


def made(name: str, world: World) -> None:
    """``world.folder`` in the good state of case ``name``: made once, then copied for each damage."""
    if name not in _MADE:
        template = Path(tempfile.mkdtemp(prefix="fault-sweep-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        CASES[name].make(replace(world, folder=template))
        _MADE[name] = template
    shutil.copytree(_MADE[name], world.folder, symlinks=True, dirs_exist_ok=True, copy_function=_copy)


@pytest.mark.parametrize(("name", "pattern", "how"), PARAMS)
def test_a_damaged_file_is_said_or_rebuilt_and_the_answer_is_right(
    settings, embedder, shipped_index, tmp_path, caplog, name, pattern, how
):
    case = CASES[name]
    world = World(settings, embedder, shipped_index, tmp_path)
    made(name, world)
    found = sorted(tmp_path.glob(pattern))
    assert len(found) == 1, f"{pattern}: {found}"
    damage(found[0], how)
    caplog.set_level(logging.INFO)
    try:
        result = case.read(world)
    except AssistantError as err:  # the product's own error: one line, printed without a traceback
        assert "\n" not in str(err).strip()
        result = err
    case.check(world, result, found[0].name)
    said = isinstance(result, AssistantError) or any(r.levelno >= logging.WARNING for r in caplog.records)
    quiet = how == "delete" or found[0].name in QUIET  # a missing file is simply made; a stamp is re-verified
    assert said or quiet, f"{found[0]} ({how}): nothing said so"
