"""No network at all: the app starts and answers inside a network namespace with only loopback.

``unshare -n`` gives the child a fresh network namespace (no interfaces but a loopback that we
bring up), so any attempt to reach a model hub, analytics or an update check fails for real.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

SCRIPT = r"""
import json
from dataclasses import replace
from assistant.config import Settings
from assistant.answering.assistant import Assistant
from assistant.ui.chat import create_app, launch_options
from assistant.engines.llamacpp import free_port
from gradio_client import Client

settings = replace(Settings.from_env(), model="qwen2.5-coder-0.5b", max_new_tokens=40)
demo = create_app(Assistant(settings), settings)
port = free_port()
demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, **launch_options())
client = Client(f"http://127.0.0.1:{port}/", verbose=False)
result = client.predict("Which room is the second midterm in?", "qwen2.5-coder-0.5b", api_name="/answer_json")
print("RESULT" + json.dumps(result))
demo.close()
"""


def _netns_available() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def test_app_starts_and_answers_with_no_network(tmp_path):
    if not _netns_available():
        if os.environ.get("CI"):
            pytest.fail("unshare -n is needed for the offline test in CI")
        pytest.skip("this machine cannot create a network namespace")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    script = tmp_path / "offline_app.py"
    script.write_text(SCRIPT, encoding="utf-8")
    command = f"ip link set lo up && exec {shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    proc = subprocess.run(
        ["unshare", "-n", "sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, proc.stderr[-3000:]
    import json

    answer = json.loads(line[6:])
    assert "Midterm 2 logistics" in [r["title"] for r in answer["retrieved"]]
    assert answer["model"].endswith("qwen2.5-coder-0.5b") and answer["answer"]  # on whichever engine "auto" chose
