"""Who can reach the app and what it can serve: a password protects page and API alike, nothing
outside the project's corpus and index is served, and a public interface without one warns."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ui import chat as ui

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

OFF_TOPIC = "What is the capital of Australia?"  # refused by the gate: no model is needed


def _launch(assistant, auth=None) -> tuple[object, str]:
    from tests.test_ui import free_port

    demo = ui.create_app(assistant, assistant.settings)
    _, url, _ = demo.launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, auth=auth, **ui.launch_options()
    )
    return demo, url


def _status(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read(4096).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def open_app(assistant_fast):
    demo, url = _launch(assistant_fast)
    yield url
    demo.close()


def test_password_protects_the_page_and_the_api(assistant_fast):
    from gradio_client import Client

    demo, url = _launch(assistant_fast, auth=("ta", "s3cret"))
    try:
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; gradio's exception types vary
            Client(url, verbose=False).predict(OFF_TOPIC, api_name="/answer_json")
        status, _ = _status(url + "gradio_api/call/answer_json", json.dumps({"data": [OFF_TOPIC]}).encode())
        assert status in (401, 403)
        status, _ = _status(url + "config")
        assert status in (401, 403)
        result = Client(url, auth=("ta", "s3cret"), verbose=False).predict(OFF_TOPIC, api_name="/answer_json")
        assert result["refused"] is True and result["refusal_reason"] == "gate"
    finally:
        demo.close()


@pytest.mark.parametrize("route", ["gradio_api/file=", "file=", "gradio_api/file/", "static/"])
def test_no_file_outside_the_corpus_and_index_is_served(open_app: str, route: str, tmp_path: Path):
    secret = tmp_path / "answers.txt"
    secret.write_text("the exam key: 42", encoding="utf-8")
    project_file = Path(__file__).resolve().parent.parent / "pyproject.toml"
    for target in (secret, project_file, Path("/etc/passwd")):
        status, body = _status(open_app + route + str(target))
        assert status >= 400 or ("exam key" not in body and "root:" not in body and "[project]" not in body), (
            route,
            target,
            status,
        )


def test_public_interface_without_a_password_warns(settings: Settings, monkeypatch, caplog):
    class Stop(Exception):
        pass

    def no_models(*args, **kwargs):
        raise Stop

    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    monkeypatch.setattr(ui, "Assistant", no_models)  # stop right after the checks, before loading models
    with pytest.raises(Stop):
        ui.serve(settings, host="0.0.0.0", share_ok=True)
    assert "without a password" in caplog.text
    caplog.clear()
    with pytest.raises(Stop):
        ui.serve(settings, host="0.0.0.0", share_ok=True, auth="ta:s3cret")
    assert "without a password" not in caplog.text
