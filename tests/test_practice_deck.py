"""Wrong options from the deck (terms, numbers, table cells of the key's section); the member-of-key reading and
the reading of whether the slide makes a wrong option right."""

from __future__ import annotations

import json

from assistant.practice.deck_options import deck_options, key_kind, table_cells, terms
from assistant.practice.drafting import attempt_item
from assistant.practice.members import check_members, key_parts
from assistant.practice.option_truth import check_true_options
from tests.fakes import ScriptedGenerator, bag_of_words, chunk, fake_assistant, mcq

SECTION = [
    chunk(
        24,
        "Shift",
        "Domain adaptation",
        "- **Domain adaptation** assumes much data from a **source domain** and a little from the **target domain**",
    ),
    chunk(28, "Shift", "Domain generalization", "- **Domain generalization** gets new domains at test time"),
    chunk(
        26, "Shift", "Subpopulation shift: the basics", "- In *subpopulation shift* several training domains\nFuture"
    ),
    chunk(
        17,
        "Shift",
        "WILDS",
        "Camelyon17 — Domain (d): hospital; Masked: 15%\nPy150 — Domain (d): git repository; Masked: 75%\n"
        "PovertyMap — Domain (d): country; Masked: 10%",
    ),
    chunk(40, "Other", "GANs", "- **Generative adversarial networks** are the go-to model for images"),
]


def test_a_key_is_a_number_a_term_or_a_claim():
    assert key_kind("75%") == "number" and key_kind("about 15%") == "number"
    assert key_kind("domain adaptation") == "term" and key_kind("Language and audio") == "term"
    assert key_kind("Models are far less robust to attacks they did not train against") == "claim"


def test_terms_are_what_a_slide_names():
    assert terms(SECTION[0])[:3] == ["Domain adaptation", "source domain", "target domain"]
    assert "subpopulation shift" in terms(SECTION[2]) and "Subpopulation shift" in terms(SECTION[2])  # title head
    assert table_cells(SECTION[3])["Domain (d)"] == ["hospital", "git repository", "country"]


def test_deck_options_come_from_other_slides_of_the_section():
    found = deck_options("domain adaptation", "Which setting has a little target data?", SECTION[0], SECTION)
    assert "Domain generalization" not in found and "domain generalization" in found  # in the key's case
    assert "subpopulation shift" in found
    assert not any("source domain" in f for f in found)  # on the item's own slide: it may answer the question too
    assert not any("Generative" in f for f in found)  # another section


def test_a_table_cell_gets_its_column_and_a_number_its_unit():
    cells = deck_options("git repository", "In WILDS, what is a domain for Py150?", SECTION[3], SECTION)
    assert cells[:2] == ["hospital", "country"]
    assert deck_options("75%", "What share of patches is masked?", SECTION[3], SECTION) == ["15%", "10%"]
    assert deck_options("Models are far less robust to unseen attacks", "Why?", SECTION[0], SECTION) == []
    counts = chunk(2, "Shift", "Today", "- Lecture 24 of 2022, room 04, for 182 students; 150 or 250 seats; 2 exams")
    assert deck_options("182", "How many students?", counts, [counts]) == ["24", "150", "250"]  # not 2, 04, 2022


def test_with_an_embedder_terms_off_the_subject_are_dropped_and_near_ones_lead():
    found = deck_options(
        "domain adaptation", "Which setting has a little target data?", SECTION[0], SECTION, bag_of_words
    )
    assert found[0] == "domain generalization" and "future" not in [f.lower() for f in found]


def test_a_wrong_option_read_as_a_member_of_the_key_is_a_flaw():
    item = mcq(
        "Which data beyond images?", ["Language and audio", "Music", "Graphs", "Tables"], "Language and audio", ""
    )
    gen = ScriptedGenerator([], members={"Music"})
    assert check_members(gen, item) == "member_of_key"
    fair = ScriptedGenerator([])
    assert check_members(fair, item) is None
    asked = " ".join(fair.prompts)
    assert '"Graphs" a kind of "Language"' in asked and '"Graphs" a kind of "audio"' in asked  # each part is read
    assert key_parts("Inception and FID scores") == ["Inception", "FID scores"]
    within = mcq(
        "Which metrics?", ["Inception and FID scores", "FID score", "BLEU", "Accuracy"], "Inception and FID scores", ""
    )
    quiet = ScriptedGenerator([])
    assert check_members(quiet, within) == "member_of_key" and quiet.prompts == []  # its words say so: no model call
    claim = mcq("Why?", ["Because it is slow to train", "b c", "c d", "d e"], "Because it is slow to train", "")
    assert check_members(quiet, claim) is None and quiet.prompts == []  # a claim has no members


def test_a_compact_draft_takes_its_wrong_options_from_the_deck_first():
    assistant, gen = fake_assistant([])
    assistant.index.chunks = SECTION
    reply = json.dumps(
        {
            "question": "Which setting assumes abundant source data and only a little target data?",
            "answer": "Domain adaptation",
            "wrong": ["Transfer learning", "Fine-tuning", "Meta-learning"],
        }
    )
    gen.replies = [reply]
    attempt = attempt_item(gen, assistant, SECTION[0], "mcq", [], [{"role": "user", "content": "x"}], False)
    wrong = [o for o in attempt.written.options if o != "Domain adaptation"]
    assert "Domain generalization" in wrong  # from the neighbouring slide, in the key's case
    assert len(wrong) == 3


def test_a_wrong_option_the_model_reads_as_right_on_the_slide_is_a_flaw():
    question = "What is the purpose of representation learning?"
    options = ["Compressing high dimensional data", "Reducing the complexity of the data", "Labelling data", "Sorting"]
    item = mcq(question, options, options[0], "")
    reads = ScriptedGenerator([], true_options={"Reducing the complexity of the data"})
    assert check_true_options(reads, item, SECTION[0]) == "distractor_true"
    asked = [p for p in reads.prompts if "Proposed answer: " in p]
    assert asked and all(f"Question: {question}" in p and "[1] Domain adaptation" in p for p in asked)
    fair = ScriptedGenerator([])
    assert check_true_options(fair, item, SECTION[0]) is None
    assert sorted(p.split("Proposed answer: ")[1].split("\n")[0] for p in fair.prompts) == sorted(options[1:])
    tf = mcq("Compression is representation learning.", ["True", "False"], "True", "")
    tf.type = "tf"
    quiet = ScriptedGenerator([])
    assert check_true_options(quiet, tf, SECTION[0]) is None and quiet.prompts == []  # only MCQs have wrong options


def test_a_draft_whose_wrong_option_is_right_on_the_slide_is_turned_down():
    assistant, gen = fake_assistant([], true_options={"Domain generalization"})
    assistant.index.chunks = SECTION
    gen.replies = [
        json.dumps(
            {
                "question": "Which setting assumes abundant source data and only a little target data?",
                "answer": "Domain adaptation",
                "wrong": ["Transfer learning", "Fine-tuning", "Meta-learning"],
            }
        )
    ]
    attempt = attempt_item(gen, assistant, SECTION[0], "mcq", [], [{"role": "user", "content": "x"}], False)
    assert attempt.reason == "distractor_true"


def test_the_packaged_model_reads_a_right_wrong_option_apart_from_a_wrong_one(assistant_default):
    from assistant.answering.judge import yes_probability
    from assistant.practice.option_truth import OPTION_TRUE, option_messages

    logistics = next(c for c in assistant_default.index.chunks if c.title == "Midterm 2 logistics")
    gen = assistant_default.generator()
    question = "What time does midterm 2 start for students with standard accommodations?"
    right = yes_probability(gen, option_messages(logistics, question, "5pm"))
    wrong = yes_probability(gen, option_messages(logistics, question, "9am"))
    assert right >= OPTION_TRUE > wrong
