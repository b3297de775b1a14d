"""The chat model as a yes/no judge of an answer sentence, beside the slide it cites.

What the cheap reading (``truth.check``) lets through is read by the packaged model: "does slide [1]
say this?", with P("Yes") from its first token. The prompt starts like the answer prompt, so the
slide's saved KV cache covers all but the statement and the instruction. Bars, prompts and what
they caught on the hand labels: docs/decisions/truth-check.md.
"""

from __future__ import annotations

import re

from assistant.answering import prompts
from assistant.answering.citations import lexical_support
from assistant.answering.truth import answers_no, answers_yes_or_no

# a wh-word opening the question or any clause of it ("For the Py150 dataset, what defines a domain?")
_WH_QUESTION = re.compile(r"(?:^|[,;:]\s*)(what|which|who|whom|whose|when|where|why|how)\b", re.I)

# P("Yes") below this and the model, shown the slide, does not find the sentence on it; chosen on the hand
# labels (docs/decisions/truth-check.md).
JUDGE_YES = 0.6
# The model's own yes/no answer to the question must side with the reply's (see ``agreement``); same labels.
QUESTION_YES = 0.5
# A yes/no no slide's words support has only the model's reading behind it: it must clear the statement bar.
UNSUPPORTED_YES = JUDGE_YES


def statement(sentence: str, question: str) -> str:
    """What the judge reads: a reply opening with yes or no is judged as the answer to its question."""
    if question and answers_yes_or_no(sentence):
        return f'The answer to "{question}" is: {sentence}'
    return sentence


def judge_messages(chunk, sentence: str, question: str = "", template: str = "judge_user") -> list[dict[str, str]]:
    """A yes/no prompt that starts like every answer prompt whose first slide is ``chunk``.

    That start's KV cache is kept per slide (``prompts.slide_prefix``), so the judge's model run
    covers only the statement and the instruction.
    """
    return prompts.one_slide_messages(template, chunk, statement=statement(sentence, question))


def asks_yes_or_no(question: str) -> bool:
    """Whether a reply's "Yes"/"No" can answer ``question``: any question but a wh-question, since students
    put yes/no questions late ("in domain generalization do we …") or as a claim ("X helps too, right")."""
    return bool(question.strip()) and not _WH_QUESTION.search(question)


def _answers_the_question(sentence: str, question: str) -> bool:
    """Whether ``sentence`` is a "Yes"/"No" to the yes/no ``question``: such a reply is judged by the question."""
    return answers_yes_or_no(sentence) and asks_yes_or_no(question)


def worth_reading(sentence: str, slide_text: str, question: str = "") -> bool:
    """Whether the judge should read ``sentence`` beside its slide once the cheap reading passed it.

    Not when every content word and number of it is on the slide, unless it answers a yes/no question
    (a "Yes" that slide lines follow can still be the wrong answer). On the hand labels, read by both
    engines, the judge let the one such contradiction through and flagged 2 of the 147 true ones
    (docs/decisions/truth-check.md); its one reading goes to a sentence that says more than the
    slide's words.
    """
    return _answers_the_question(sentence, question) or lexical_support(sentence, slide_text) < 1.0


def question_messages(chunk, question: str) -> list[dict[str, str]]:
    """The model asked the yes/no ``question`` itself, beside slide ``chunk``; same cached start as the judge."""
    return prompts.one_slide_messages("judge_question", chunk, question=question)


def agreement(generator, chunk, sentence: str, question: str = "") -> tuple[float, float]:
    """How far the model, shown ``chunk``, agrees with ``sentence`` (4 places); and the bar below which it does not.

    A reply opening with "Yes"/"No" to a yes/no question is read as the model's own answer to the
    question (P("Yes"), or 1 - P("Yes") for a "No"): asked about "Yes, the premise" the judge tends to
    agree, asked the question it reads the slide (docs/decisions/truth-check.md).
    """
    if _answers_the_question(sentence, question):
        p_yes = yes_probability(generator, question_messages(chunk, question))
        return round(1.0 - p_yes if answers_no(sentence) else p_yes, 4), QUESTION_YES
    return round(yes_probability(generator, judge_messages(chunk, sentence, question)), 4), JUDGE_YES


def yes_probability(generator, messages: list[dict[str, str]]) -> float:
    """The model's P("Yes"): from its logits where the engine gives them, else from its first word."""
    score = generator.yes_probability(messages)
    if score is not None:
        return score
    reply = "".join(generator.stream(messages, 2)).strip().lower()
    return 1.0 if reply.startswith("yes") else 0.0
