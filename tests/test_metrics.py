"""Hand-computed checks for assistant.metrics: every expected number is worked out in a comment."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation.metrics import (
    REFUSAL_OUTCOMES,
    fact_recall,
    gold_match,
    hit_at_k,
    mean,
    median,
    ndcg_at_k,
    normalize,
    percentile,
    reciprocal_rank,
    refusal_outcome,
    relevance,
    split_sentences,
    summarize,
    token_f1,
)


def _floats(d: dict) -> list[float]:
    return [v for v in d.values() if isinstance(v, float)]


# --------------------------------------------------------------------------- gold matching / relevance


def test_gold_match_by_id():
    assert gold_match("lec24#3", "Midterm 2 logistics", ["lec24#3"])
    assert not gold_match("lec24#4", "Something else", ["lec24#3"])


def test_gold_match_by_title_case_and_whitespace_insensitive():
    assert gold_match("lec24#3", "Midterm 2 logistics", ["  midterm 2 LOGISTICS "])
    assert gold_match("lec24#3", "  Midterm 2 logistics\n", ["Midterm 2 logistics"])


def test_gold_match_title_must_be_whole_not_substring():
    assert not gold_match("lec24#3", "Midterm 2 logistics", ["Midterm 2"])
    assert not gold_match("lec24#3", "Midterm 2 logistics", [])


def test_gold_match_id_is_not_compared_to_title_or_vice_versa_loosely():
    # "LEC24#3" is not the id "lec24#3" (ids are exact), and it is not the title either.
    assert not gold_match("lec24#3", "Midterm 2 logistics", ["LEC24#3"])


def test_relevance_titles_vs_ids():
    ranked = [("a#1", "Intro"), ("b#2", "Midterm 2 logistics"), ("c#3", "Dropout"), ("d#4", "Adam")]
    # gold as a title: only rank 2 matches
    assert relevance(ranked, ["midterm 2 logistics"]) == [0, 1, 0, 0]
    # gold as ids: ranks 3 and 4 match
    assert relevance(ranked, ["c#3", "d#4"]) == [0, 0, 1, 1]
    # mixed id + title
    assert relevance(ranked, ["a#1", "Adam"]) == [1, 0, 0, 1]
    assert relevance([], ["a#1"]) == []


# --------------------------------------------------------------------------- hit / MRR / nDCG


REL = [0, 1, 0, 1, 0]  # relevant at ranks 2 and 4; 2 gold slides


def test_hit_at_k_small_ranking():
    assert hit_at_k(REL, 1) == 0.0  # rank 1 irrelevant
    assert hit_at_k(REL, 3) == 1.0  # rank 2 is within top 3
    assert hit_at_k(REL, 5) == 1.0
    assert hit_at_k([], 5) == 0.0


def test_hit_at_k_rejects_nonpositive_k():
    with pytest.raises(ValueError):
        hit_at_k(REL, 0)


def test_reciprocal_rank_small_ranking():
    assert reciprocal_rank(REL) == 0.5  # first relevant at rank 2 -> 1/2
    assert reciprocal_rank([0, 0, 1]) == pytest.approx(1 / 3)
    assert reciprocal_rank([1, 1]) == 1.0
    assert reciprocal_rank([0, 0, 0]) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_ndcg_at_5_small_ranking():
    # DCG  = 1/log2(2+1) + 1/log2(4+1) = 0.6309298 + 0.4306766 = 1.0616063
    # IDCG = 1/log2(1+1) + 1/log2(2+1) = 1.0       + 0.6309298 = 1.6309298   (min(2 gold, 5) = 2 ones)
    # nDCG = 1.0616063 / 1.6309298 = 0.6509209
    assert ndcg_at_k(REL, n_gold=2, k=5) == pytest.approx(0.6509209, abs=1e-6)


def test_ndcg_truncates_at_k_and_uses_min_ngold_k_for_ideal():
    # k=3: DCG = 1/log2(3) = 0.6309298 (rank 4 cut off); IDCG = 1 + 1/log2(3) = 1.6309298 -> 0.3868528
    assert ndcg_at_k(REL, n_gold=2, k=3) == pytest.approx(0.3868528, abs=1e-6)
    # 5 gold but k=1: ideal is one relevant result, IDCG = 1; rel [1] -> DCG = 1 -> 1.0
    assert ndcg_at_k([1, 0], n_gold=5, k=1) == 1.0
    # perfect ranking of 2 gold: [1,1,0] -> DCG = IDCG -> 1.0
    assert ndcg_at_k([1, 1, 0], n_gold=2, k=5) == pytest.approx(1.0)


def test_ndcg_no_gold_is_zero_and_no_hits_is_zero():
    assert ndcg_at_k([1, 0], n_gold=0, k=5) == 0.0
    assert ndcg_at_k([0, 0, 0], n_gold=2, k=5) == 0.0


def test_ndcg_capped_when_more_hits_than_gold():
    # A gold title shared by 2 slides, n_gold=1: DCG = 1 + 0.63 > IDCG = 1 -> capped at 1.0, not 1.63
    assert ndcg_at_k([1, 1], n_gold=1, k=5) == 1.0


# --------------------------------------------------------------------------- normalize / fact recall


def test_normalize_keeps_word_internal_punctuation():
    assert normalize("Starts at 5:10!") == "starts at 5:10"
    assert normalize("Print on 8.5x11in paper.") == "print on 8.5x11in paper"
    assert normalize("Evaluate on (ImageNet-C), too") == "evaluate on imagenet-c too"
    assert normalize("  Hello,\n\tWORLD...  ") == "hello world"
    # curly apostrophe folded to a straight one, kept inside the word
    assert normalize("Don\u2019t") == "don't"
    assert normalize("") == ""


def test_fact_recall_with_alternatives_5_10_and_dwinelle():
    facts = [["5-7pm", "5:10", "5pm"], ["Dwinelle"], ["Wednesday"]]
    answer = "Midterm 2 begins promptly at 5:10, in DWINELLE 155."
    # group 1 via "5:10", group 2 via "dwinelle" (case-insensitive), group 3 missing -> 2/3
    assert fact_recall(answer, facts) == pytest.approx(2 / 3)


def test_fact_recall_multiword_alternative_across_punctuation():
    # "Dwinelle 155" matches "Dwinelle  155," after normalization (spaces collapsed, comma dropped) -> 1/1
    assert fact_recall("It is in Dwinelle  155, the lecture room.", [["Dwinelle 155"]]) == 1.0
    # ...but not when the room number differs -> 0/1
    assert fact_recall("It is in Dwinelle 145.", [["Dwinelle 155"]]) == 0.0


def test_fact_recall_time_is_not_matched_inside_another_number():
    # "5:10" must not be found in "15:10", nor "10%" (normalized "10") in "2010" -> 0/2
    assert fact_recall("Starts at 15:10 in 2010.", [["5:10"], ["10%"]]) == 0.0
    # "5:10." at sentence end still matches -> 1/1
    assert fact_recall("It starts at 5:10.", [["5:10"]]) == 1.0


def test_fact_recall_hyphen_or_space():
    # "double sided" vs "double-sided" and "ImageNet-C" vs "ImageNet C": hyphens read as spaces -> 2/2
    assert fact_recall("One double-sided sheet; test on ImageNet C.", [["double sided"], ["ImageNet-C"]]) == 1.0
    # "learning" at a word start after a hyphen: "meta-learning" -> 1/1; but "ImageNet-C" is not "ImageNet-A" -> 0/1
    assert fact_recall("meta-learning", [["learning"]]) == 1.0
    assert fact_recall("ImageNet-A only", [["ImageNet-C"]]) == 0.0


def test_fact_recall_allows_suffixes():
    # "mask" is a word-start substring of "masks" -> 1/1; "8.5x11" runs on into "8.5x11in" -> 1/1
    assert fact_recall("BERT masks 15% of tokens", [["mask"]]) == 1.0
    assert fact_recall("One 8.5x11in sheet.", [["8.5x11"]]) == 1.0
    # short last words only take an inflection: "logs" ok, "logits" no; "GPTs" ok
    assert fact_recall("take logs", [["log"]]) == 1.0
    assert fact_recall("the logits", [["log"]]) == 0.0
    assert fact_recall("two GPTs", [["GPT"]]) == 1.0


def test_fact_recall_short_last_word_does_not_run_on():
    # "10%" -> "10" is not "100"; "ImageNet-C" -> "imagenet c" is not "imagenet challenge" -> 0/2
    assert fact_recall("100 ImageNet challenge sets", [["10%"], ["ImageNet-C"]]) == 0.0
    # ...but "10%" still matches "10 %" and "10%," -> 1/1
    assert fact_recall("about 10 % of them", [["10%"]]) == 1.0
    assert fact_recall("masks 10%, then", [["10%"]]) == 1.0


def test_fact_recall_empty_answer_and_empty_facts():
    assert fact_recall("", [["Dwinelle"], ["5:10"]]) == 0.0  # 0 of 2 groups
    assert fact_recall("anything", []) is None  # nothing to recall: n/a, not 0 or NaN


# --------------------------------------------------------------------------- token F1


def test_token_f1_hand_computed():
    # answer tokens:    the exam starts at 5:10        (5)
    # reference tokens: exam begins at 5:10 sharp      (5)
    # overlap: exam, at, 5:10 = 3 -> P = 3/5, R = 3/5, F1 = 2*0.6*0.6/1.2 = 0.6
    assert token_f1("The exam starts at 5:10.", "Exam begins at 5:10 sharp") == pytest.approx(0.6)


def test_token_f1_counts_multiplicity():
    # answer "a a b" (3), reference "a b b c" (4): overlap min(2,1)a + min(1,2)b = 2
    # P = 2/3, R = 2/4 = 0.5, F1 = 2*(2/3)*(1/2)/((2/3)+(1/2)) = (2/3)/(7/6) = 4/7
    assert token_f1("a a b", "a b b c") == pytest.approx(4 / 7)


def test_token_f1_empty_cases():
    assert token_f1("", "Dwinelle 155") == 0.0  # empty answer scores zero
    assert token_f1("Dwinelle 155", "") is None  # no reference: n/a
    assert token_f1("Dwinelle 155", " ... ") is None  # reference empty after normalization
    assert token_f1("completely different", "Dwinelle 155") == 0.0
    assert token_f1("Dwinelle 155.", "dwinelle 155") == 1.0


# --------------------------------------------------------------------------- sentence split


def test_split_sentences_keeps_eg_ie_et_al_vs():
    text = "Use a smooth activation, e.g. GELU. See Hendrycks et al. for details. Adam vs. SGD differs, i.e. speed."
    assert split_sentences(text) == [
        "Use a smooth activation, e.g. GELU.",
        "See Hendrycks et al. for details.",
        "Adam vs. SGD differs, i.e. speed.",
    ]


def test_split_sentences_keeps_a_quoted_slide_line_whole():
    text = (
        'The slides say "What about sequence output? Just have an output at every layer". It is a sequence. '
        'He said “Yes.” Then he left. A "stray mark. Next.'
    )
    assert split_sentences(text) == [
        'The slides say "What about sequence output? Just have an output at every layer".',
        "It is a sequence.",
        "He said “Yes.”",
        "Then he left.",
        'A "stray mark.',
        "Next.",
    ]


def test_split_sentences_keeps_decimals_and_times():
    text = "Print on 8.5x11in paper. It starts at 5:10! Is the loss 0.25? Yes."
    assert split_sentences(text) == ["Print on 8.5x11in paper.", "It starts at 5:10!", "Is the loss 0.25?", "Yes."]


def test_split_sentences_bullets_and_newlines():
    text = "Key points:\n- Dropout regularizes.\n* Batch norm\n\n1. First step. Then more\n2) Second step\n"
    assert split_sentences(text) == [
        "Key points:",
        "Dropout regularizes.",
        "Batch norm",
        "First step.",
        "Then more",
        "Second step",
    ]


def test_split_sentences_empty():
    assert split_sentences("") == []
    assert split_sentences("\n  \n- \n") == []


# --------------------------------------------------------------------------- refusal outcome


def test_refusal_outcome_all_four():
    assert refusal_outcome(answerable=True, refused=False) == "correct_answer_attempt"
    assert refusal_outcome(answerable=True, refused=True) == "false_refusal"
    assert refusal_outcome(answerable=False, refused=True) == "correct_refusal"
    assert refusal_outcome(answerable=False, refused=False) == "missed_refusal"
    assert {refusal_outcome(a, r) for a in (True, False) for r in (True, False)} == set(REFUSAL_OUTCOMES)


# --------------------------------------------------------------------------- mean / median / percentile


def test_mean_skips_none_and_nan():
    assert mean([1.0, None, 0.0, 0.5]) == 0.5  # (1 + 0 + 0.5) / 3
    assert mean([None, None]) is None
    assert mean([]) is None
    assert mean(x for x in [2.0, 4.0]) == 3.0  # any iterable
    assert mean([1.0, float("nan")]) == 1.0  # NaN is absent, never propagated


def test_median_odd_even_and_empty():
    assert median([3.0, 1.0, 2.0]) == 2.0  # sorted 1,2,3 -> middle
    assert median([4.0, 1.0, None, 2.0, 3.0]) == 2.5  # sorted 1,2,3,4 -> (2+3)/2
    assert median([None]) is None


def test_percentile_linear_interpolation():
    xs = [4.0, 1.0, 3.0, 2.0]  # sorted 1,2,3,4; position = (n-1) * p/100 = 3p/100
    assert percentile(xs, 0) == 1.0
    assert percentile(xs, 100) == 4.0
    assert percentile(xs, 25) == pytest.approx(1.75)  # pos 0.75 -> 1 + 0.75*(2-1)
    assert percentile(xs, 90) == pytest.approx(3.7)  # pos 2.7 -> 3 + 0.7*(4-3)


def test_percentile_one_value_and_empty():
    assert percentile([0.42], 0) == 0.42
    assert percentile([0.42], 95) == 0.42
    assert percentile([0.42], 100) == 0.42
    assert percentile([], 50) is None


def test_percentile_rejects_out_of_range():
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([1.0], -1)


# --------------------------------------------------------------------------- summarize


def _rows() -> list[dict]:
    return [
        {  # answerable, answered
            "answerable": True,
            "refused": False,
            "hit@1": 1.0,
            "hit@3": 1.0,
            "mrr": 1.0,
            "ndcg@5": 1.0,
            "fact_recall": 1.0,
            "token_f1": 0.5,
            "timings": {"retrieval_s": 0.1, "ttft_s": 1.0, "total_s": 3.0},
        },
        {  # answerable, falsely refused: counts for retrieval, not for answer quality
            "answerable": True,
            "refused": True,
            "hit@1": 0.0,
            "hit@3": 1.0,
            "mrr": 0.5,
            "ndcg@5": 0.5,
            "fact_recall": 0.0,
            "token_f1": 0.0,
            "timings": {"retrieval_s": 0.3, "ttft_s": None, "total_s": 1.0},
        },
        {  # unanswerable, correctly refused
            "answerable": False,
            "refused": True,
            "timings": {"retrieval_s": 0.2, "total_s": 0.5},
        },
        {  # unanswerable, missed refusal; its scores must not leak into answer quality
            "answerable": False,
            "refused": False,
            "fact_recall": 0.25,
        },
    ]


def test_summarize_hand_computed():
    s = summarize(_rows())
    assert (s["n"], s["n_answerable"], s["n_unanswerable"]) == (4, 2, 2)
    # retrieval over answerable rows 1-2
    assert s["hit@1"] == 0.5  # (1 + 0) / 2
    assert s["hit@3"] == 1.0  # (1 + 1) / 2
    assert s["mrr"] == 0.75  # (1 + 0.5) / 2
    assert s["ndcg@5"] == 0.75  # (1 + 0.5) / 2
    assert s["hit@5"] is None  # nobody reported it
    # answer quality only over answerable & not refused: row 1 alone
    assert s["fact_recall"] == 1.0
    assert s["token_f1"] == 0.5
    assert s["grounding"] is None
    # refusals
    assert s["refusal_accuracy"] == 0.5  # 1 of 2 unanswerable refused
    assert s["false_refusal_rate"] == 0.5  # 1 of 2 answerable refused
    assert s["answer_rate"] == 0.5  # 1 - 0.5
    # latency medians over rows that have them
    assert s["median_retrieval_s"] == pytest.approx(0.2)  # median of 0.1, 0.3, 0.2
    assert s["median_ttft_s"] == 1.0  # only row 1 has one
    assert s["median_total_s"] == 1.0  # median of 3.0, 1.0, 0.5


def test_summarize_correct_refusal_is_a_success():
    s = summarize([{"answerable": False, "refused": True}])
    assert s["refusal_accuracy"] == 1.0  # 1 of 1 unanswerable refused: success, not 0 or NaN
    assert s["n_unanswerable"] == 1
    # no answerable rows: these are n/a, not zero
    assert s["false_refusal_rate"] is None
    assert s["answer_rate"] is None
    assert s["fact_recall"] is None
    assert s["hit@1"] is None
    assert not any(math.isnan(v) for v in _floats(s))


def test_summarize_no_unanswerable_rows():
    s = summarize(
        [
            {"answerable": True, "refused": False, "hit@1": 1.0},
            {"answerable": True, "refused": False, "hit@1": 0.0},
        ]
    )
    assert s["refusal_accuracy"] is None  # nothing to refuse: n/a
    assert s["false_refusal_rate"] == 0.0
    assert s["answer_rate"] == 1.0
    assert s["hit@1"] == 0.5


def test_summarize_rows_missing_fields():
    rows = [
        {"answerable": True, "refused": False, "fact_recall": None, "token_f1": 0.4, "timings": None},
        {"answerable": True, "refused": False, "fact_recall": 0.5, "timings": {}},
        {"answerable": True},  # no "refused": treated as not refused
    ]
    s = summarize(rows)
    assert s["fact_recall"] == 0.5  # None and missing skipped: only 0.5
    assert s["token_f1"] == 0.4
    assert s["embedding_similarity"] is None
    assert s["false_refusal_rate"] == 0.0
    assert s["median_total_s"] is None
    assert s["median_retrieval_s"] is None
    assert not any(math.isnan(v) for v in _floats(s))


def test_summarize_empty_rows():
    s = summarize([])
    assert (s["n"], s["n_answerable"], s["n_unanswerable"]) == (0, 0, 0)
    assert all(math.isfinite(v) for v in _floats(s))
    assert not any(isinstance(v, float) and math.isnan(v) for v in s.values())
    for key in (
        "hit@1",
        "mrr",
        "ndcg@5",
        "fact_recall",
        "token_f1",
        "refusal_accuracy",
        "false_refusal_rate",
        "answer_rate",
        "median_retrieval_s",
        "median_ttft_s",
        "median_total_s",
    ):
        assert s[key] is None, key


def test_summarize_nan_inputs_do_not_propagate():
    s = summarize(
        [
            {"answerable": True, "refused": False, "token_f1": float("nan"), "grounding": 0.8},
            {"answerable": True, "refused": False, "token_f1": 0.6, "grounding": float("nan")},
        ]
    )
    assert s["token_f1"] == 0.6
    assert s["grounding"] == 0.8
    assert not any(math.isnan(v) for v in _floats(s))
