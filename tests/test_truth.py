"""The truth check, tables read as rows, and what of a reply may be shown.

Unit cases are written by hand from the shipped deck; the pipeline cases run the real index and
embedder with a stand-in model (a constructor argument of ``Assistant``) that writes a known reply.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answering import judge, truth
from assistant.answering.assistant import Assistant, is_broad
from assistant.answering.shaping import (
    asks,
    copied_line,
    finished_clause,
    is_dump,
    is_fragment,
    is_question,
    joined_lists,
    quote,
    reported_claim,
    speaks_for_slides,
    without_opening_connective,
)
from assistant.corpus.tables import linearize, rows_to_lines, table_entity
from assistant.evaluation import metrics
from tests.fakes import WritesReply

TODAY = """Today's lecture
Today's lecture is for 182 students only, and it is the last lecture
No lecture Wednesday! You have midterm 2 instead
Same high level points as the last midterm review lecture: no new content, not a substitute for studying on \
your own, we may not get through all slides, etc."""
LOGISTICS = """Midterm 2 logistics
Midterm time is 5-7pm — arrive promptly at 5pm, we begin promptly at 5:10
One double sided 8.5x11in cheat sheet is permitted"""
WILDS = linearize(
    "Dataset\tiWildCam\tCamelyon17\tRxRx1\n"
    "Adapted from\tBeery et al. 2020\tBandi et al. 2018\tTaylor et al. 2019\n"
    "Domain (d)\tcamera\thospital\tbatch"
)
SCALE = "Larger models require fewer samples to achieve the same performance"


# --------------------------------------------------------------------------- tables


def test_a_wide_tab_table_becomes_one_line_per_column_with_header_names():
    assert WILDS.splitlines() == [
        "iWildCam — Adapted from: Beery et al. 2020; Domain (d): camera",
        "Camelyon17 — Adapted from: Bandi et al. 2018; Domain (d): hospital",
        "RxRx1 — Adapted from: Taylor et al. 2019; Domain (d): batch",
    ]
    entity, cells = table_entity(WILDS.splitlines()[1])
    assert (entity, cells) == ("Camelyon17", "Adapted from: Bandi et al. 2018; Domain (d): hospital")


def test_pipe_and_html_tables_become_one_line_per_row_and_other_lines_stay():
    pipe = "Intro line\n| Model | Params |\n|---|---|\n| GPT-2 | 1.5B |\n| BERT | 340M |\n| T5 | 11B |\nAfter"
    assert linearize(pipe).splitlines() == [
        "Intro line",
        "GPT-2 — Params: 1.5B",
        "BERT — Params: 340M",
        "T5 — Params: 11B",
        "After",
    ]
    html = "<table><tr><th>Model</th><th>Params</th></tr><tr><td>GPT-2</td><td><b>1.5B</b></td></tr></table>"
    assert linearize(html) == "GPT-2 — Params: 1.5B"
    assert linearize("no table here\n- a bullet") == "no table here\n- a bullet"
    assert rows_to_lines([["only one row"]]) == ["only one row"]


def test_the_shipped_table_slide_is_indexed_as_rows_and_shown_as_written(shipped_index):
    chunk = next(c for c in shipped_index.chunks if c.title == "The WILDS benchmark")
    assert "Camelyon17 — " in chunk.text and "Domain (d): hospital" in chunk.text
    assert "\t" not in chunk.text and "\t" in chunk.shown


# --------------------------------------------------------------------------- the check


@pytest.mark.parametrize(
    ("sentence", "slide", "question", "reason"),
    [
        ("Yes, the review lecture has new content.", TODAY, "Does the review lecture have new content?", "yes/no"),
        ("The review lecture has new content.", TODAY, "", "negation"),
        ("Yes, there is a lecture on Wednesday.", TODAY, "is there lecture on wednesday?", "yes/no"),
        ("There is a lecture on Wednesday.", TODAY, "", "negation"),
        ("Cheat sheets are not permitted.", LOGISTICS, "", "negation"),
        ("We begin promptly at 5:00.", LOGISTICS, "", "number"),
        ("Larger models require more samples to achieve the same performance.", SCALE, "", "opposite"),
        ("The domain for Camelyon17 is camera.", WILDS, "", "table cell"),
        ("Camelyon17 was adapted from Beery et al. 2020.", WILDS, "", "table cell"),
    ],
)
def test_a_contradicted_sentence_fails_with_its_reason_and_line(sentence, slide, question, reason):
    verdict = truth.check(sentence, slide, question)
    assert not verdict.ok and verdict.reason == reason
    assert verdict.line and verdict.line in slide


def test_words_put_in_the_slides_mouth_fail_and_a_true_quotation_passes():
    made_up = truth.check('The slides say that "Beam search is not fair game for midterm 2".', TODAY)
    assert not made_up.ok and made_up.reason == "misquote"
    copied = "The slide says: “No lecture Wednesday! You have midterm 2 instead”."
    assert truth.check(copied, TODAY).ok
    # math is compared as the slide's plain text reads it; a short quoted term is not a claimed line
    slide = "Create x_{adv}^{(i)} (e.g., x_{PGD}^{(i)} ) from x^{(i)} for all i"
    quoted = 'It says "Create $\\mathbf{x}_{\\text{adv}}^{(i)}$ from $\\mathbf{x}^{(i)}$ for all $i$".'
    assert truth.check(quoted, slide).ok
    assert truth.check('This is the "sequence output" case.', TODAY).ok


@pytest.mark.parametrize(
    ("sentence", "slide", "question"),
    [
        ("No, the review lecture does not cover new material.", TODAY, "Does the review cover new material?"),
        ("No, there is no lecture on Wednesday; you have midterm 2 instead.", TODAY, "is there lecture on wednesday?"),
        ("Today's lecture is the last lecture.", TODAY, ""),
        ("The midterm begins promptly at 5:10 in the evening.", LOGISTICS, ""),
        ("One double sided cheat sheet is permitted.", LOGISTICS, ""),
        ("Larger models need fewer samples for the same performance.", SCALE, ""),
        ("The domain for Camelyon17 is the hospital.", WILDS, ""),
        ("iWildCam and Camelyon17 use camera and hospital domains.", WILDS, ""),  # two rows named: not judged
        ("Transformers are covered on the slides.", TODAY, ""),  # nothing to compare with
        ("Autoregressive models are not fast at sampling.", "Autoregressive models are slow at sampling", ""),
    ],
)
def test_a_sentence_the_slide_states_passes(sentence, slide, question):
    assert truth.check(sentence, slide, question).ok


# --------------------------------------------------------------------------- shaping


def test_questions_fragments_and_dumps_are_recognised():
    assert is_question("What about sequence output?") and not is_question("The output is a sequence.")
    assert is_fragment("These models are detailed in slides and.", alone=False)
    assert is_fragment("The number of the slide is.", alone=True)
    assert is_fragment("Sequential outputs", alone=False) and not is_fragment("Dwinelle 155", alone=True)
    assert not is_fragment("Just have an output at every layer.", alone=False)
    assert not is_fragment("The best defense is adversarial training (AT).", alone=False)  # an acronym
    assert is_fragment("The best defense is at.", alone=False)
    # a demonstrative that ends a sentence is a pronoun, unless the word before it wants more
    assert not is_fragment("Pretend part of the input is unknown and predict that.", alone=False)
    assert not is_fragment("The slides do not explain this.", alone=False)
    assert is_fragment("The main idea is that.", alone=False) and is_fragment("It shows that.", alone=True)
    # a list of short entries is one sentence with its opening line, not a run of scraps
    assert joined_lists("Know these models:\n\n- BERT\n- GPT [1]\nThey are transformers.") == (
        "Know these models: BERT, GPT [1].\nThey are transformers."
    )
    assert joined_lists("Steps:\n- Sample a minibatch of training examples\n- Attack") == (
        "Steps:\n- Sample a minibatch of training examples\n- Attack"
    )
    assert copied_line("just have an output at every layer.", "- What about it?\n- Just have an output at every layer")
    assert is_dump([True, True, True, False]) and not is_dump([True, True, False, False]) and not is_dump([True] * 2)
    assert quote("No lecture Wednesday! You have midterm 2 instead") == (
        "The slide says: “No lecture Wednesday! You have midterm 2 instead”."
    )
    assert is_broad("what should i know about transformers") and not is_broad("what is a transformer?")


@pytest.mark.parametrize(
    ("sentence", "speaks"),
    [
        ("The slides do not provide information on the masking ratio.", True),
        ("The slides do not explicitly mention other names for it.", True),
        ("The question assumes that beam search is fair game, but the slides say it is not.", True),
        ("The methods for test-time adaptation mentioned in the slides are BN adaptation and TENT.", True),
        ("However, they do not discuss how the two overlap.", True),
        ("According to the slides, MAE masks 75% of patches.", True),
        ("Lecture notes are not allowed in the exam.", False),
        ("There is no lecture on Wednesday because students do not need one.", False),
        ("MAE masks 75% of image patches.", False),
    ],
)
def test_a_sentence_that_speaks_for_the_slides_is_recognised(sentence, speaks):
    assert speaks_for_slides(sentence) is speaks


def test_premise_corrected_needs_the_correcting_fact_and_none_of_the_wrong_claims():
    facts, wrong = [["no new content", "no new material"]], ["yes"]
    assert metrics.premise_corrected("No: there is no new content.", False, facts, wrong) == 1.0
    assert metrics.premise_corrected("Yes, but there is no new content.", False, facts, wrong) == 0.0
    assert metrics.premise_corrected("It covers the midterm.", False, facts, wrong) == 0.0
    assert metrics.premise_corrected("no new content", True, facts, wrong) == 0.0
    assert metrics.states_any("Yes, it does.", ["yes"]) and not metrics.states_any("Eyes closed.", ["yes"])


# --------------------------------------------------------------------------- the pipeline


@pytest.fixture()
def answer_with(settings, embedder, shipped_index):
    def run(question: str, reply: str, p_yes=None):
        model = WritesReply(reply, p_yes=p_yes)
        assistant = Assistant(
            replace(settings, model=model.name), embedder=embedder, index=shipped_index, generator=model
        )
        return assistant.answer(question)

    return run


def test_no_shown_answer_keeps_a_negated_claim(answer_with):
    answer = answer_with(
        "is there lecture on wednesday?",
        "Yes, there is a lecture on Wednesday. [1] Today's lecture is for 182 students only. [1]",
    )
    assert not answer.refused
    assert "there is a lecture on Wednesday" not in answer.answer
    assert "No lecture Wednesday" in answer.answer and "182 students" in answer.answer
    assert [s["check"] for s in answer.sentences] == ["corrected", "passed"]
    assert answer.removed[0]["reason"] == "yes/no"
    assert answer.citations and answer.citations[0].title == "Today's lecture"
    assert "No lecture Wednesday" in answer.citations[0].snippet


def test_words_no_slide_supports_are_shown_with_a_note_in_the_chat(settings, embedder, shipped_index):
    from assistant.answering.reply import UNCHECKED
    from assistant.ui.chat import chat_handler

    model = WritesReply(
        "Today's lecture is for 182 students only. [1] "
        "Bring three sharpened pencils and a calculator to every class. [1]"
    )
    assistant = Assistant(replace(settings, model=model.name), embedder=embedder, index=shipped_index, generator=model)
    *_, (chat, _, _) = chat_handler(assistant, 500)("who is today's lecture for?", [], None)
    reply = chat[-1]["content"]
    assert "182 students" in reply and "pencils" in reply
    assert reply.endswith(f"*{UNCHECKED}*")
    model.reply = "Today's lecture is for 182 students only. [1]"
    *_, (chat, _, _) = chat_handler(assistant, 500)("who is today's lecture for?", [], None)
    assert "182 students" in chat[-1]["content"] and UNCHECKED not in chat[-1]["content"]


class RealJudge(WritesReply):
    """Writes a fixed reply; the packaged model judges it."""

    def __init__(self, reply: str, judge) -> None:
        super().__init__(reply)
        self.yes_probability = judge.yes_probability


def test_the_packaged_judge_takes_a_contradicted_opening_sentence_out(settings, embedder, assistant_default):
    # the reply the product once gave, with a green check, to a question its slide answers the other way
    model = RealJudge("Yes, the review lecture covers new material. [1]", assistant_default.generator())
    assistant = Assistant(
        replace(settings, model=model.name), embedder=embedder, index=assistant_default.index, generator=model
    )
    answer = assistant.answer("Does the review lecture cover any new material, and can I just go to it instead?")
    assert not answer.refused, answer.answer
    assert "covers new material" not in answer.answer and "no new content" in answer.answer
    assert answer.removed[0]["reason"] == "judge" and answer.sentences[0]["judge"] < 0.6


def test_words_put_in_the_slides_mouth_are_not_shown_though_the_judge_agrees(answer_with):
    answer = answer_with(
        "is there lecture on wednesday?",
        "No, there is no lecture on Wednesday. [1] The slide says \"Today's lecture is for 182 students and their "
        'families". [1]',
    )
    assert "families" not in answer.answer and "No lecture Wednesday" in answer.answer
    assert {"text": 'The slide says "Today\'s lecture is for 182 students and their families".'}.items() <= next(
        r for r in answer.removed if r["reason"] == "misquote"
    ).items()


def test_a_wrong_table_cell_is_replaced_by_the_row(answer_with):
    answer = answer_with("in wilds, what's the domain for Camelyon17?", "The domain for Camelyon17 is camera. [1]")
    assert not answer.refused, answer.answer
    assert "camera" not in answer.answer and "hospital" in answer.answer
    assert answer.citations[0].title == "The WILDS benchmark"


def test_a_reply_of_slide_questions_and_fragments_keeps_only_statements(answer_with):
    answer = answer_with(
        "give me some examples of tasks where the output is a whole sequence",
        "Sequential outputs\nWhat about sequence output? [1]\nJust have an output at every layer. [1]\n"
        "These models are detailed in slides and.",
    )
    assert "?" not in answer.answer and "slides and" not in answer.answer
    assert "Sequential outputs" not in answer.answer
    assert {r["reason"] for r in answer.removed} >= {"question", "fragment"}


def test_a_broad_question_the_model_misses_is_answered_from_the_slide(answer_with):
    answer = answer_with(
        "what should i know about transformers",
        "Transformers are a kind of network used in many applications such as chatbots.",
    )
    assert not answer.refused, answer.answer
    assert answer.citations[0].title == "Transformers"
    assert "attention" in answer.answer and all(s["check"] == "slide" for s in answer.sentences)


def test_a_reply_nothing_supports_is_never_shown(answer_with):
    answer = answer_with("what should i know about transformers", "")
    assert answer.refused
    answer = answer_with("How does adversarial training work?", "Bananas are yellow fruit grown in the tropics.")
    assert "Bananas" not in answer.answer
    assert answer.refused or [s["check"] for s in answer.sentences] == ["slide"]


def test_a_reply_none_of_whose_sentences_hold_gives_way_to_the_slide_line_that_answers(answer_with):
    answer = answer_with(
        "how big can the cheat sheet for midterm 2 be?",
        "Students may bring any notes they like to the exam, in any format.",
    )
    assert not answer.refused, answer.answer
    assert answer.answer.startswith("The slide says:") and "cheat sheet" in answer.answer
    assert [s["check"] for s in answer.sentences] == ["slide"]
    assert answer.citations[0].title == "Midterm 2 logistics"


def test_a_question_naming_a_table_row_gets_that_row_when_the_reply_holds_nothing(answer_with):
    # the 1.5B wrote this, the citation standing where the answer should be
    answer = answer_with("whats the source paper for py150 in wilds", "The source paper for Py150 in WILDS is [1].")
    assert not answer.refused, answer.answer
    assert "Raychev et al. 2016" in answer.answer and answer.citations[0].title == "The WILDS benchmark"
    assert answer.removed[0]["reason"] == "fragment"


def test_a_list_the_model_writes_is_read_as_one_sentence(answer_with):
    answer = answer_with(
        "which transformer-based models do i need to know?",
        "You need to know the following transformer-based models:\n\n- BERT\n- GPT\n- ViT\n- MAE",
    )
    assert not answer.refused, answer.answer
    assert "BERT, GPT, ViT, MAE" in answer.answer and answer.citations[0].title == "Transformers"


@pytest.mark.parametrize(("reads_yes", "shown"), [(0.9, False), (0.1, True)])
def test_a_no_given_by_restating_the_question_stands_only_where_the_model_reads_the_slide_alike(
    answer_with, reads_yes, shown
):
    # the 1.5B's reply, no slide's words behind it: a "no" without the word, to a yes/no question
    sentence = "The activation function does not matter for adversarial robustness."
    assert truth.implied_yes_no(sentence, "does the activation function matter for adversarial robustness?") == "No, "
    answer = answer_with(
        "does the activation function matter for adversarial robustness?", sentence, p_yes=lambda messages: reads_yes
    )
    assert (sentence in answer.answer) is shown, answer.answer
    if not shown:
        assert {"text": sentence, "reason": "unsupported yes/no"} in answer.removed


class JudgedReply(WritesReply):
    """A stand-in model whose judge finds on the slide only the sentences in ``stated``."""

    def __init__(self, reply: str, stated: tuple[str, ...]) -> None:
        super().__init__(reply)
        self.stated, self.judged = stated, []

    def yes_probability(self, messages):
        statement = messages[-1]["content"].split("Statement: ", 1)[1].split("\n", 1)[0]
        self.judged.append(statement)
        return 0.9 if any(s in statement for s in self.stated) else 0.1


def test_a_sentence_the_judge_does_not_find_on_its_slide_is_not_shown(settings, embedder, shipped_index):
    reply = (
        "It trains on adversarial examples. [1] "
        "Adversarial training makes models robust to attacks they were not trained against. [1]"
    )
    question = "How does adversarial training work?"

    def ask(judge: int) -> tuple[object, list[str]]:
        model = JudgedReply(reply, stated=("It trains on adversarial examples",))
        chosen = replace(settings, model=model.name, judge=judge)
        answer = Assistant(chosen, embedder=embedder, index=shipped_index, generator=model).answer(question)
        return answer, model.judged

    answer, judged = ask(judge=2)
    assert len(judged) == 2 and answer.timings["judge_s"] >= 0
    assert "not trained against" not in answer.answer and "trains on adversarial examples" in answer.answer
    assert answer.sentences[0]["check"] == "passed" and answer.sentences[0]["judge"] == 0.9
    assert answer.removed[0]["reason"] == "judge"
    answer, judged = ask(judge=1)  # the default: the opening sentence only
    assert judged == ["It trains on adversarial examples."] and "not trained against" in answer.answer
    answer, judged = ask(judge=0)
    assert judged == [] and "not trained against" in answer.answer


def test_the_judge_reads_the_first_sentence_that_says_more_than_its_slides_words(settings, embedder, shipped_index):
    # the judge finds nothing on the slide: only what it reads can be taken out
    reply = "Today's lecture is for 182 students only. [1] Today's lecture is the last lecture and it is recorded. [1]"
    model = JudgedReply(reply, stated=())
    chosen = replace(settings, model=model.name, judge=1)
    answer = Assistant(chosen, embedder=embedder, index=shipped_index, generator=model).answer(
        "who is today's lecture for?"
    )
    assert model.judged == ["Today's lecture is the last lecture and it is recorded."]
    assert answer.sentences[0]["text"].startswith("Today's lecture is for 182 students only")
    assert answer.sentences[0]["check"] == "passed" and answer.sentences[0]["judge"] is None
    assert "recorded" not in answer.answer and answer.removed[-1]["reason"] == "judge"
    # a yes/no reply is read whatever its words: its "Yes" can be the wrong answer to the question
    assert judge.worth_reading(
        "Yes, today's lecture is for 182 students only.",
        "Today's lecture is for 182 students only",
        "is today's lecture for 182 students only?",
    )
    assert not judge.worth_reading(
        "Today's lecture is for 182 students only.", "Today's lecture is for 182 students only"
    )


def test_a_slide_line_put_in_for_a_failed_sentence_is_not_shown_beside_the_same_line(settings, embedder, shipped_index):
    line = "Today's lecture is for 182 students only, and it is the last lecture."
    model = JudgedReply(f"Today's lecture is for everyone in the department. [1] {line} [1]", stated=())
    chosen = replace(settings, model=model.name, judge=1)
    answer = Assistant(chosen, embedder=embedder, index=shipped_index, generator=model).answer(
        "who is today's lecture for?"
    )
    assert answer.removed[0]["reason"] == "judge" and answer.removed[0]["line"] == line.rstrip(".")
    assert answer.answer.count("182 students only") == 1, answer.answer


class AnswersQuestion(WritesReply):
    """A stand-in model whose own answer to a yes/no question, beside the slide, is P("Yes") = ``p_yes``."""

    def __init__(self, reply: str, p_yes: float) -> None:
        super().__init__(reply)
        self.p_yes, self.asked = p_yes, []

    def yes_probability(self, messages):
        content = messages[-1]["content"]
        self.asked.append("Question: " in content and "Statement: " not in content)
        return self.p_yes if self.asked[-1] else 0.9


@pytest.mark.parametrize(
    ("question", "reply", "p_yes", "shown"),
    [
        ("Is there a lecture on Wednesday?", "No, there is no lecture on Wednesday. [1]", 0.2, True),
        ("Is there a lecture on Wednesday?", "No, there is no lecture on Wednesday. [1]", 0.9, False),
        ("Is there no lecture on Wednesday?", "Yes, there is no lecture on Wednesday. [1]", 0.9, True),
        ("Is there no lecture on Wednesday?", "Yes, there is no lecture on Wednesday. [1]", 0.2, False),
    ],
)
def test_a_yes_or_no_reply_stands_only_if_the_model_answers_the_question_the_same_way(
    settings, embedder, shipped_index, question, reply, p_yes, shown
):
    model = AnswersQuestion(reply, p_yes)
    chosen = replace(settings, model=model.name, judge=1)
    answer = Assistant(chosen, embedder=embedder, index=shipped_index, generator=model).answer(question)
    assert model.asked == [True]  # the question itself was put, not the statement
    assert (reply.split(" [")[0] in answer.answer) is shown, answer.answer
    if not shown:
        assert any(r["reason"] == "judge" for r in answer.removed)


def test_the_packaged_model_as_judge_tells_a_slide_line_from_its_negation(engine_assistant):
    """On every engine: logits in process, log-probabilities from llama.cpp and from an OpenAI-compatible server."""
    from assistant.answering.judge import judge_messages, yes_probability

    chunk = next(c for c in engine_assistant.index.chunks if c.title == "Today's lecture")
    gen = engine_assistant.generator()
    stated = yes_probability(gen, judge_messages(chunk, "There is no lecture on Wednesday because of midterm 2."))
    negated = yes_probability(gen, judge_messages(chunk, "There is a lecture on Wednesday as usual."))
    assert stated > 0.5 > negated
    # a yes/no reply is read as the model's own answer to the question, which sides with the slide
    question = "Is there a lecture on Wednesday?"
    wrong, bar = judge.agreement(gen, chunk, "Yes, there is a lecture on Wednesday.", question)
    right, _ = judge.agreement(gen, chunk, "No, there is no lecture on Wednesday.", question)
    assert right >= bar > wrong


def test_the_line_quoted_for_a_failed_sentence_is_a_statement_near_the_question(shipped_index):
    logistics = next(c for c in shipped_index.chunks if c.title == "Midterm 2 logistics")
    line = truth.evidence_line(
        "The midterm is 7-9pm.",
        logistics.search_text,
        "the midterm is 7-9pm right? which room is it in",
        "Midterm 2 logistics",
    )
    assert line != "Midterm 2 logistics" and "5-7pm" in line
    # the line the cheap check compared is kept when it can stand alone, never when it is the title
    assert truth.evidence_line("x", logistics.search_text, found="One double sided 8.5x11in cheat sheet is permitted")
    assert (
        truth.evidence_line("x", "Midterm 2 logistics", found="Midterm 2 logistics", title="Midterm 2 logistics") == ""
    )


def test_a_statement_whose_example_is_a_question_can_answer_but_a_question_cannot():
    objectives = "Deep RL\n- Understand the terminology, e.g., what is the difference between observation and state?"
    line = truth.nearest_line("do I need observation vs state terminology for the exam", objectives)
    assert line.startswith("Understand the terminology")
    # a question to the audience never stands in for an answer, whatever words it shares
    audience = "Recap\n- In this case, shouldn't we just train with the test distribution?"
    assert truth.nearest_line("should we train with the test distribution", audience) == ""
    assert asks("What is similar about these models? What is different?")


def test_a_wrong_table_cell_is_answered_with_the_row_the_question_asks_about(answer_with):
    answer = answer_with(
        "what dataset in wilds has country / rural-urban as the domain",
        "GlobalWheat has country / rural-urban as its domain. [1]",
    )
    assert "GlobalWheat has country" not in answer.answer
    assert answer.removed and answer.removed[0]["reason"] in ("table cell", "judge")
    assert "PovertyMap" in answer.removed[0]["line"] and "PovertyMap" in answer.answer


def _asked_remotely(messages) -> float:
    """A judge that, asked whether the exam may be taken remotely, reads the slide as saying no."""
    return 0.1 if "remotely" in messages[-1]["content"] else 0.9


def test_an_unsupported_yes_opening_a_reply_is_not_shown(answer_with):
    answer = answer_with(
        "can i take midterm 2 remotely from home?",
        "Yes, you can take it remotely from your home. [1] Everyone is here in this room (Dwinelle 155). [1]",
        p_yes=_asked_remotely,
    )
    assert "remotely" not in answer.answer and "Dwinelle 155" in answer.answer
    assert any(r["reason"] == "unsupported yes/no" for r in answer.removed)


def test_an_unsupported_no_stands_where_the_question_read_beside_the_top_slide_says_no(answer_with):
    reply = "No, you cannot take it from home. [1] Everyone is in Dwinelle 155. [1]"
    answer = answer_with("can i take midterm 2 remotely from home?", reply, _asked_remotely)
    assert answer.answer.startswith("No, you cannot take it from home.")
    first = answer.sentences[0]
    assert first["source"] == answer.retrieved[0]["id"] and first["check"] == "passed" and first["judge"] == 0.9
    assert answer.citations[0].id == answer.retrieved[0]["id"] and not answer.removed
    # a lukewarm reading (the model leans "no" at 0.55) does not carry a sentence no slide's words support
    answer = answer_with("can i take midterm 2 remotely from home?", reply, lambda messages: 0.45)
    assert not answer.answer.startswith("No") and [r["reason"] for r in answer.removed] == ["unsupported yes/no"]
    # a wh-question has no yes/no answer to read: the opening "No" is the model's guess and goes
    answer = answer_with("where do i take midterm 2?", "No, not from home. [1] Everyone is in Dwinelle 155. [1]")
    assert [r["reason"] for r in answer.removed] == ["unsupported yes/no"]


def test_words_put_in_the_slides_mouth_without_a_slide_behind_them_are_not_shown(answer_with):
    answer = answer_with(
        "how much of the input gets masked in BERT vs MAE?",
        "The slides do not provide specific information on the percentage that gets masked. "
        "BERT masks out 15% of the input tokens. [1]",
    )
    assert "do not provide" not in answer.answer and "15%" in answer.answer
    assert [r["reason"] for r in answer.removed] == ["unsupported claim about the slides"]
    answer = answer_with(
        "how much of the input gets masked in BERT vs MAE?",
        "The slides do not provide the percentage. However, BERT masks out 15% of the input tokens. [1]",
    )
    assert answer.answer.startswith("BERT masks out 15%"), answer.answer


@pytest.mark.parametrize(
    ("sentence", "claim"),
    [
        ("The slides state that sequential data may be variable length.", "Sequential data may be variable length."),
        ("According to slide 3, MAE masks 75% of patches. [3]", "MAE masks 75% of patches. [3]"),
        ("The slide notes that BERT masks 15% of tokens.", "BERT masks 15% of tokens."),
        ("As shown in the slides, ensembles help.", "Ensembles help."),
        # a report of what the slides leave out, or a quote the product wrote, is no claim to strip
        ("The slides do not state that MAE is a decoder.", "The slides do not state that MAE is a decoder."),
        ("The slide says: “No lecture Wednesday!”", "The slide says: “No lecture Wednesday!”"),
        ("Slides are posted after class.", "Slides are posted after class."),
    ],
)
def test_a_sentence_reporting_the_slides_is_read_as_its_claim(sentence, claim):
    assert reported_claim(sentence) == claim


def test_a_claim_reported_as_the_slides_is_cited_when_a_slide_supports_it_and_corrected_when_not(answer_with):
    # read with "The slides state that", this paraphrase falls below the support bar and would be dropped
    claim = "The slides state that the baseline is fine across vision, language and speech tasks."
    answer = answer_with("which tasks does the max softmax anomaly baseline work on?", claim + " [1]")
    assert answer.answer.startswith(claim) and not answer.removed
    assert [s["check"] for s in answer.sentences] == ["passed"]
    assert answer.citations and answer.citations[0].title == "A simple baseline for anomaly detection"
    answer = answer_with(
        "what dataset in wilds has country / rural-urban as the domain",
        "The slides state that GlobalWheat has country / rural-urban as its domain. [1]",
    )
    assert "GlobalWheat has country" not in answer.answer and "PovertyMap" in answer.answer
    assert [r["reason"] for r in answer.removed] in (["table cell"], ["judge"])


def test_an_answer_does_not_open_with_a_connective():
    assert without_opening_connective("However, they do state that X.") == "They do state that X."
    assert without_opening_connective("Therefore it is not used.") == "It is not used."
    assert without_opening_connective("But for BERT, 15%.") == "For BERT, 15%."
    assert without_opening_connective("Butterflies are not on the slides.") == "Butterflies are not on the slides."
    assert without_opening_connective("Thus.") == "Thus."


@pytest.mark.parametrize(
    ("question", "yes_or_no"),
    [
        ("Is there a lecture on Wednesday?", True),
        ("in domain generalization do we train on the test domains?", True),
        ("adversarial training has no downside, right", True),
        ("What is the masking ratio of MAE?", False),
        ("how does adversarial training work", False),
        ("For the Py150 code dataset in WILDS, what defines a domain?", False),
        ("", False),
    ],
)
def test_a_yes_or_no_reply_is_read_against_any_question_but_a_wh_question(question, yes_or_no):
    assert judge.asks_yes_or_no(question) is yes_or_no


@pytest.mark.parametrize(
    ("cut", "kept"),
    [
        (
            "MAE and BERT are both primarily transformer encoders, but during training they are equipped with",
            "MAE and BERT are both primarily transformer encoders.",
        ),
        (
            "Autoregressive models offer strong modeling performance on images,",
            "Autoregressive models offer strong modeling performance on images.",
        ),
        ("Large models trained on large datasets, when given a toxic prompt, are more likely to", ""),  # an aside
        (
            "The adversary has a budget $\\epsilon$, e.g., $\\|\\delta\\|_p \\le",
            "The adversary has a budget $\\epsilon$.",
        ),
        ("Rebalancing the training data (by upsampling rare domains or", ""),  # no clause ends before the cut
        ("This is useful, and the model", ""),  # too short to stand
    ],
)
def test_a_sentence_cut_off_by_the_length_limit_keeps_the_clauses_it_finished(cut, kept):
    assert finished_clause(cut) == kept


def test_the_finished_clause_of_a_cut_off_last_sentence_is_checked_and_shown(answer_with):
    answer = answer_with(
        "how much of the input does masked autoencoding mask out?",
        "Masked autoencoding masks out parts of the input and predicts them. [1] It masks 75% of image patches "
        "or 15% of tokens, while the decoders attempt to recover the original",
    )
    assert not answer.refused, answer.answer
    assert "It masks 75% of image patches or 15% of tokens." in answer.answer
    assert "recover the original" not in answer.answer
    assert answer.removed[0]["reason"] == "unfinished" and answer.sentences[-1]["check"] == "passed"
