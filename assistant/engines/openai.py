"""The ``openai`` engine: any OpenAI-compatible chat server (vLLM, TGI, llama.cpp, Ollama)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

from assistant.engines.base import Generator, Message
from assistant.errors import AssistantError


class OpenAIGenerator(Generator):
    """Any OpenAI-compatible chat server, streamed over server-sent events with the standard library."""

    def __init__(self, base_url: str, model: str = "default", name: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = name or f"openai:{model}"

    def stream(self, messages: list[Message], max_new_tokens: int = 200) -> Iterator[str]:
        body = json.dumps(
            {"model": self.model, "messages": messages, "max_tokens": max_new_tokens, "temperature": 0, "stream": True}
        ).encode()
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            response = urllib.request.urlopen(request, timeout=300)
        except (urllib.error.URLError, OSError) as err:
            raise AssistantError(
                f"the inference server at {self.base_url} did not answer ({err}); is it running?"
            ) from None
        with response:
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
