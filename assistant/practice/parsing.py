"""Reading a model's reply: a draft item (``parse_reply`` -> ``Draft``), new wrong options, a self-check's letter.

Replies are read leniently where the item is still sound (code fences, chatter after the JSON, LaTeX
backslashes, numbers unquoted) and rejected as ``"unparseable"`` (None here) where it is not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from assistant.practice.items import LETTERS


@dataclass
class Draft:
    """An item as the model wrote it, types checked but not its shape (``checks_options.check_mcq_shape``).

    An MCQ has ``options`` with ``answer_index`` (one index or a list of them), or, in the compact form,
    its key as ``answer`` with a list of ``wrong`` answers (``compact``) until ``drafting.with_wrong_options``
    builds its options. A true/false item's ``answer`` is True or False, a short answer's is its key.
    """

    question: str
    explanation: str = ""
    answer: str | bool = ""
    wrong: list[str] | None = None
    options: list[str] = field(default_factory=list)
    answer_index: int | list[int] = 0

    @property
    def compact(self) -> bool:
        return self.wrong is not None


def extract_json(text: str) -> dict | None:
    """The first balanced ``{...}`` in ``text`` decoded as a JSON object, or None.

    Models wrap JSON in code fences or add a sentence after it; only the first object counts, so
    trailing chatter cannot change the item. Braces inside JSON strings are skipped.
    """
    start = text.find("{")
    while start != -1:
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                escaped = ch == "\\" and not escaped
                if ch == '"' and not escaped:
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    value = _loads(text[start : i + 1])
                    return value if isinstance(value, dict) else None
        return None  # unbalanced: the reply was cut off
    return None


# A JSON escape (kept), or a backslash that starts none (group 1 is None): LaTeX, read as itself.
# "\t", "\n", "\b", "\f", "\r" followed by a letter start "\theta", "\nabla", "\beta", "\frac", "\rho".
_ESCAPE = re.compile(r'\\(?:(u|["\\/]|[bfnrt](?![a-zA-Z]))|)')


def _loads(text: str) -> object:
    """JSON, or None; a backslash that starts no JSON escape, or starts a LaTeX command, is read as itself.

    Slides carry LaTeX ("$\\ell_p$ attacks", "$p_\\theta$"), and a model copying it writes ``\\e``
    inside a JSON string, which strict JSON rejects although nothing else is wrong with the item, or
    ``\\theta``, which strict JSON reads as a tab and "heta". The price: a newline or tab written as
    an escape right before a letter stays a backslash and a letter; one-line items hardly have one.
    """
    try:
        return json.loads(_ESCAPE.sub(lambda m: m[0] if m[1] is not None else "\\\\", text))
    except ValueError:
        return None


_WRONG_LIST = re.compile(r'"wrong"\s*:\s*\[')
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"\s*(?=[,\]])')


def parse_wrong_options(text: str) -> list[str] | None:
    """The strings of a ``{"wrong": [...]}`` reply, or None; a list cut off by the token limit keeps its
    complete strings (five long options can outrun the limit, and four whole ones are still usable)."""
    data = extract_json(text)
    if data is not None:
        wrong = data.get("wrong")
        if isinstance(wrong, list) and all(isinstance(w, (str, int, float)) for w in wrong):
            return [str(w).strip() for w in wrong]
        return None
    start = _WRONG_LIST.search(text)
    if start is None:
        return None
    found = [s for m in _JSON_STRING.finditer(text, start.end()) if (s := json_string(m.group(1))) is not None]
    return found or None


def json_string(raw: str) -> str | None:
    """The text of a JSON string written as ``"raw"`` (stripped), read as leniently as ``_loads``; None if malformed.

    A streamed draft is read piece by piece before its object is complete, and its strings may copy
    LaTeX from the slide like whole replies do.
    """
    value = _loads(f'"{raw}"')
    return value.strip() if isinstance(value, str) else None


def json_complete(text: str) -> bool:
    """True once ``text`` holds a balanced object, so streaming can stop before any trailing chatter."""
    start = text.find("{")
    if start == -1:
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text[start:]:
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{}":
            depth += 1 if ch == "{" else -1
            if depth == 0:
                return True
    return False


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _scalar(value: object) -> str | None:
    """A string or number as non-empty text (models write numeric answers unquoted), else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return _text(str(value))


def parse_reply(text: str, qtype: str) -> Draft | None:
    """The model's reply as a type-checked ``Draft`` for ``qtype``, or None (rejection ``"unparseable"``).

    Types are checked, not shapes: 3 options or an out-of-range index parse, and are rejected
    later as ``"mcq_shape"`` so the counts say what actually went wrong. An MCQ comes in one of two
    forms: ``options`` with ``answer_index`` (and an explanation), or the compact form the prompt asks
    for, ``answer`` with a list of ``wrong`` answers, whose explanation is quoted from the slide later
    (``slides.quote_slide``): fewer tokens to write, and an explanation that cannot stray.
    """
    data = extract_json(text)
    if data is None:
        return None
    question, explanation = _text(data.get("question")), _text(data.get("explanation"))
    if question is None:
        return None
    if qtype == "mcq" and "wrong" in data:  # the compact form asked for: key and wrong answers, no explanation
        answer, wrong = _scalar(data.get("answer")), data.get("wrong")
        if answer is None or not isinstance(wrong, list) or not all(_scalar(w) is not None for w in wrong):
            return None
        return Draft(question, explanation or "", answer=answer, wrong=[_scalar(w) for w in wrong])
    if explanation is None:
        return None
    if qtype == "mcq":
        options, index = data.get("options"), data.get("answer_index")
        if not isinstance(options, list) or not all(isinstance(o, (str, int, float)) for o in options):
            return None
        if isinstance(index, str) and index.strip().isdigit():
            index = int(index)
        is_int = isinstance(index, int) and not isinstance(index, bool)
        is_list = isinstance(index, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in index)
        if not (is_int or is_list):
            return None
        return Draft(question, explanation, options=[str(o).strip() for o in options], answer_index=index)
    if qtype == "tf":
        answer = data.get("answer")
        if isinstance(answer, str) and answer.strip().lower() in {"true", "false"}:
            answer = answer.strip().lower() == "true"
        if not isinstance(answer, bool):
            return None
        return Draft(question, explanation, answer=answer)
    if qtype == "short":
        answer = _scalar(data.get("answer"))
        if answer is None:
            return None
        return Draft(question, explanation, answer=answer)
    raise ValueError(f"unknown question type {qtype!r}")


def parse_letter(reply: str, count: int) -> int | None:
    """The option a model's one-letter reply ("B", "B.", "(b)", "Answer: B") names, or None."""
    letters = LETTERS[:count]
    match = re.search(rf"\b([{letters}])\b", reply.strip().upper())
    return letters.index(match.group(1)) if match else None
