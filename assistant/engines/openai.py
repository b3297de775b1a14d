"""The ``openai`` engine: any OpenAI-compatible chat server (vLLM, TGI, llama.cpp, Ollama)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator

from assistant.engines.base import Generator, Message
from assistant.errors import AssistantError

JUDGE_WORDS = ("Yes", "No")


def post(url: str, body: dict, timeout: float = 300):
    """POST ``body`` as JSON; the open response (a file-like of bytes). A dead server is one clear error."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:300]
        raise AssistantError(f"the inference server at {url} refused the request ({err.code}: {detail})") from None
    except (urllib.error.URLError, OSError) as err:
        raise AssistantError(f"the inference server at {url} did not answer ({err}); is it running?") from None


def post_json(url: str, body: dict, timeout: float = 300) -> dict:
    with post(url, body, timeout) as response:
        return json.loads(response.read())


class OpenAIGenerator(Generator):
    """Any OpenAI-compatible chat server, streamed over server-sent events with the standard library."""

    def __init__(self, base_url: str, model: str = "default", name: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = name or f"openai:{model}"
        self._logprobs = True  # until the server shows it gives none

    def stream(self, messages: list[Message], max_new_tokens: int = 200, extra: dict | None = None) -> Iterator[str]:
        """The reply in pieces; ``extra`` adds server-specific fields to the request (llama.cpp's slot)."""
        body = {"model": self.model, "messages": messages, "max_tokens": max_new_tokens, "temperature": 0}
        body.update(stream=True, **(extra or {}))
        with post(f"{self.base_url}/chat/completions", body) as response:
            for raw in response:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                except (ValueError, KeyError, IndexError):
                    continue
                if delta:
                    yield delta

    def yes_probability(self, messages: list[Message], extra: dict | None = None) -> float | None:
        """P("Yes") against P("No") from the first token's top log-probabilities; None without them."""
        if not self._logprobs:
            return None
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 10,
            **(extra or {}),
        }
        try:
            content = post_json(f"{self.base_url}/chat/completions", body)["choices"][0]["logprobs"]["content"]
            top = {entry["token"]: entry["logprob"] for entry in content[0]["top_logprobs"]}
        except (KeyError, IndexError, TypeError):
            self._logprobs = False  # a server without log-probabilities: the caller reads the first word
            return None
        yes, no = (math.exp(top[word]) if word in top else 0.0 for word in JUDGE_WORDS)
        if yes + no == 0.0:
            return 0.0  # the model would start with neither word: no support for the statement
        return yes / (yes + no)
