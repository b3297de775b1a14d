"""Which slides to ask about: sections and their names, usable slides, slides spread over a section."""

from __future__ import annotations

import pytest

from assistant.errors import AssistantError
from assistant.practice.slides import resolve_section, sections, spread, statement, usable
from tests.fakes import chunk

PROSE = "- Our labels could be sequences, e.g. translation, transcription or captioning of images\n" * 2


CHUNKS = [
    chunk(1, "Lecture 24: Midterm 2 review", "Title", "CS 182"),
    chunk(2, "Modeling sequential data", "Problem setup", PROSE),
    chunk(3, "Distribution shift and robustness", "ANLI", PROSE),
    chunk(4, "Distributional robustness", "Group", PROSE),
    chunk(5, "Distributional robustness", "Figure", "ImageNet-C\nChairs by rotation\nChairs by background\n" * 5),
]


def test_sections_and_resolution():
    assert sections(CHUNKS) == [
        "Lecture 24: Midterm 2 review",
        "Modeling sequential data",
        "Distribution shift and robustness",
        "Distributional robustness",
    ]
    assert resolve_section("modeling SEQUENTIAL data", CHUNKS) == "Modeling sequential data"
    assert resolve_section("Model", CHUNKS) == "Modeling sequential data"
    assert resolve_section("distribution shift", CHUNKS) == "Distribution shift and robustness"
    with pytest.raises(AssistantError, match="several sections"):
        resolve_section("Distribution", CHUNKS)
    with pytest.raises(AssistantError, match="Modeling sequential data"):
        resolve_section("Reinforcement learning", CHUNKS)


def test_short_slides_are_not_usable_and_spread_is_even():
    assert not usable(CHUNKS[0]) and usable(CHUNKS[1])
    assert not usable(CHUNKS[4])  # 150 characters, but figure labels, not sentences
    table = "Dataset\tiWildCam\tCamelyon17\tRxRx1\nDomain (d)\tcamera\thospital\tbatch of cells in the lab\n" * 3
    assert not usable(chunk(6, "S", "WILDS", table))
    advice = (
        "- Understand the motivations behind meta-learning and few-shot learning\n"
        "- Understand the meta-learning problem setup and assumptions\n"
        "- Read through the case study for student feedback generation and understand the high level details\n"
        "- What did we learn from these different models? (maybe not much, from some)\n"
        "- Compare and contrast: few-shot prompting, chain-of-thought prompting, and fine tuning"
    )
    assert not usable(chunk(7, "S", "Meta-learning guest lecture", advice))  # what to study, not what is so
    answered = "- What about sequence output? Have an output at every layer, and feed each one to the next time step"
    assert not usable(chunk(8, "S", "Sequential outputs", answered))  # 70 characters of statement
    assert usable(chunk(8, "S", "Sequential outputs", f"{answered}\n- This is our RNN for sequence input, one output"))
    assert statement(answered) == "Have an output at every layer, and feed each one to the next time step"
    slides = [chunk(i, "S", f"T{i}", "w" * 100) for i in range(10)]
    picked = spread(slides, 5)
    assert [c.slide for c in picked[:5]] == [0, 2, 4, 6, 8]
    assert len(picked) == 10 and len({c.slide for c in picked}) == 10
    assert spread(slides[:3], 5) == slides[:3]
