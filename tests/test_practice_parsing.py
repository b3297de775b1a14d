"""Reading replies: the draft parser (JSON in fences, chatter, LaTeX, the compact MCQ form), wrong-option lists."""

from __future__ import annotations

import pytest

from assistant.practice.checks_options import check_mcq_shape
from assistant.practice.parsing import Draft, extract_json, json_complete, parse_reply, parse_wrong_options
from tests.fakes import AT_SLIDE, chunk

FENCED = """```json
{"question": "What is {x}?", "options": ["a", "b", "c", "d"], "answer_index": 2, "explanation": "Because."}
```"""


def test_parser_reads_fenced_json_with_braces_inside_strings():
    data = parse_reply(FENCED, "mcq")
    assert data == Draft("What is {x}?", "Because.", options=["a", "b", "c", "d"], answer_index=2)


def test_parser_takes_the_first_object_and_ignores_trailing_text():
    text = 'Sure! {"question": "Q?", "answer": true, "explanation": "E."} I hope this helps {"x": 1}'
    assert parse_reply(text, "tf") == Draft("Q?", "E.", answer=True)
    assert extract_json('{"a": 1} {"b": 2}') == {"a": 1}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I cannot write a question about this.",
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": 1, "explanation": "cut off',  # truncated
        "{'question': 'Q?'}",  # Python, not JSON
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": 1,}',  # trailing comma
        '{"question": "", "options": ["a", "b", "c", "d"], "answer_index": 1, "explanation": "E."}',
        '{"question": "Q?", "options": "a, b, c, d", "answer_index": 1, "explanation": "E."}',
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": "B", "explanation": "E."}',
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": true, "explanation": "E."}',
        '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer_index": 1}',  # no explanation
        "[1, 2, 3]",
    ],
)
def test_parser_rejects_malformed_mcq(text):
    assert parse_reply(text, "mcq") is None


def test_parser_reads_the_compact_mcq_form_and_quotes_the_slide_for_it():
    from assistant.practice.drafting import with_wrong_options
    from assistant.practice.slides import quote_slide

    reply = (
        '```json\n{"question": "What is the best known way to robustify models to lp attacks?", '
        '"answer": "Adversarial training", "wrong": ["Dropout", "Adversarially trained models", "Weight decay", '
        '"Early stopping"]}\n```'
    )
    data = parse_reply(reply, "mcq")
    assert data.answer == "Adversarial training" and len(data.wrong) == 4 and data.explanation == ""
    c = chunk(31, "S", "Adversarial training (AT)", AT_SLIDE)
    built = with_wrong_options(data.question, data.answer, data.wrong, "E.", c)
    assert built.options == ["Adversarial training", "Dropout", "Weight decay", "Early stopping"]  # rewording out
    assert check_mcq_shape(built) is None
    explanation = quote_slide(c, data.question, data.answer)
    assert explanation.startswith('The slides: "The best way (we know of) to robustify models')
    short = with_wrong_options("Q?", "Adversarial training", ["Adversarial training", "Dropout"], "E.", c)
    assert check_mcq_shape(short) == "mcq_shape"  # two wrong answers in all
    assert parse_reply('{"question": "Q?", "answer": "A", "wrong": "B"}', "mcq") is None
    assert parse_reply('{"question": "Q?", "answer": true, "wrong": ["B", "C", "D"]}', "mcq") is None


def test_parser_reads_latex_copied_into_json_strings():
    # a real 1.5B reply: "\\ell" is no JSON escape, but the item is fine
    reply = (
        '{"question": "What is the best way to robustify models to $\\ell_p$ attacks?", "answer": "AT", '
        '"wrong": ["Dropout", "Pruning", "Distillation"]}'
    )
    data = parse_reply(reply, "mcq")
    assert data is not None and data.question == "What is the best way to robustify models to $\\ell_p$ attacks?"
    assert extract_json('{"a": "\\u12"}') is None  # a broken escape of JSON's own stays an error
    # LaTeX commands that begin like JSON escapes: "\\theta" is not a tab and "heta"
    assert extract_json('{"a": "-max_k p_\\theta(y = k \\mid x) = \\frac{1}{2}"}') == {
        "a": "-max_k p_\\theta(y = k \\mid x) = \\frac{1}{2}"
    }
    assert extract_json('{"a": "tab\\t, line\\n2, \\\\theta, \\"q\\""}') == {"a": 'tab\t, line\n2, \\theta, "q"'}


def test_parser_types_for_tf_and_short():
    assert parse_reply('{"question": "S.", "answer": "False", "explanation": "E."}', "tf").answer is False
    assert parse_reply('{"question": "S.", "answer": "maybe", "explanation": "E."}', "tf") is None
    assert parse_reply('{"question": "Q?", "answer": 75, "explanation": "E."}', "short").answer == "75"
    assert parse_reply('{"question": "Q?", "answer": "", "explanation": "E."}', "short") is None


def test_json_complete_tracks_balance_outside_strings():
    assert not json_complete('```json\n{"question": "a } b", "x": {')
    assert json_complete('```json\n{"question": "a } b", "x": {}}')


def test_wrong_options_cut_off_by_the_token_limit_keep_the_complete_ones():
    assert parse_wrong_options('```json\n{"wrong": ["Dropout", "Weight \\"decay\\"", "Early sto') == [
        "Dropout",
        'Weight "decay"',
    ]
    assert parse_wrong_options('{"wrong": ["a", 2]}') == ["a", "2"]
    assert parse_wrong_options('{"wrong": "a"}') is None and parse_wrong_options("Sorry.") is None
    # LaTeX copied from a slide, in a list still being written: the backslash is read as itself, not a crash
    assert parse_wrong_options('{"wrong": ["Robust to $\\ell_p$ attacks", "Drop') == ["Robust to $\\ell_p$ attacks"]
