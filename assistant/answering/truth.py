"""Does an answer sentence say what its slide says? A cheap check after the model, per sentence.

Citations only show that a sentence's words come from a slide; a small model readily writes the
slide's claim negated ("the review covers new material" against "no new content"), with the wrong
cell of a table, or agrees with a question whose premise the slide contradicts. Each cited
sentence is compared with the clause of its slide that shares most of its content words:

* **negation**: one says "not"/"no"/"never"/"without" and the other does not;
* **opposite**: one says "improves", "more", "before", the other "hurts", "fewer", "after";
* **number**: the sentence has a number the slide lacks, where the matching clause has another;
* **table cell**: the sentence names one row of a table (``tables``) and a value of another row;
* **yes/no**: the reply starts with "Yes" to a question the slide's clause negates or reverses;
* **misquote**: the sentence puts in quotation marks words the slide does not say.

Only a clause that shares enough words with the sentence is compared, so a sentence about
something else is left to the support check. A sentence that fails is not shown as the model
wrote it (``answer``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from assistant.answering.citations import evidence_text
from assistant.answering.shaping import QUESTION_START, asks, quote
from assistant.corpus.chunking import plain_text
from assistant.corpus.tables import table_entity
from assistant.text import NUMBER, fold_typography, tokenize

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_CLAUSE_BREAK = re.compile(r"[;!?]|:\s|\s[—–]\s|,\s|\s(?:because|though|although|whereas|while|but)\s")
_PARENTHESES = re.compile(r"\([^()]*\)")
_NEGATION = frozenset(
    "not no never none nothing nobody neither nor cannot without isn't aren't wasn't weren't don't doesn't "
    "didn't can't couldn't won't wouldn't shouldn't hasn't haven't hadn't mustn't".split()
)
# Pairs of word sets that state opposite things about the same subject.
_OPPOSITES = [
    (
        {"improve", "improves", "improved", "improving", "helps", "help", "helped", "better", "benefits"},
        {"hurt", "hurts", "harm", "harms", "degrade", "degrades", "degraded", "worse", "worsens", "worsen"},
    ),
    (
        {"increase", "increases", "increased", "increasing"},
        {"decrease", "decreases", "decreased", "decreasing", "reduce", "reduces", "reduced", "reducing"},
    ),
    ({"more", "many", "much"}, {"fewer", "less", "few", "little"}),
    ({"larger", "bigger", "large", "big"}, {"smaller", "small", "tiny"}),
    ({"higher", "high"}, {"lower", "low"}),
    ({"before", "earlier"}, {"after", "later"}),
    ({"same", "identical", "similar"}, {"different", "differs", "differ"}),
    ({"supervised"}, {"unsupervised", "self-supervised"}),
    ({"easy", "easier", "simple", "simpler"}, {"hard", "harder", "difficult", "complex"}),
    ({"fast", "faster", "quick", "quicker"}, {"slow", "slower"}),
    ({"true", "correct"}, {"false", "incorrect", "wrong"}),
    ({"first"}, {"last", "final"}),
    ({"allowed", "permitted"}, {"forbidden", "prohibited", "banned"}),
    ({"robust", "robustness"}, {"vulnerable", "brittle", "fragile"}),
    ({"include", "includes", "included"}, {"exclude", "excludes", "excluded"}),
    (
        {"maximize", "maximizes", "maximizing", "maximise", "maximum"},
        {"minimize", "minimizes", "minimizing", "minimise", "minimum"},
    ),
    ({"positive"}, {"negative"}),
    ({"always"}, {"never", "rarely"}),
]
_QUOTATION = re.compile(r'"([^"]+)"')
MIN_QUOTATION_WORDS = 4  # shorter quoted phrases are terms ("sequence input, single output"), not claimed lines
QUOTATION_FOUND = 0.8  # share of a quotation's words that must run, in order, through the slide
_YES = re.compile(r"^\s*(yes|yeah|yep|correct|right|indeed|true)\s*[,.!;:—–-]\s*", re.I)
_NO = re.compile(r"^\s*(no|nope|incorrect|false)\s*[,.!;:—–-]\s*", re.I)
MIN_SHARED = 2  # content words a clause must share with a sentence to be its counterpart
MIN_SHARE = 0.5  # ... and the share of the sentence's content words that must be in it
CLAUSE_REASONS = ("negation", "opposite", "number", "yes/no")  # the line compared is the one contradicted
QUESTION_SHARE = 0.3  # a question carries more words of its own ("do bigger models need ...")


@dataclass(frozen=True)
class Verdict:
    """The check's finding for one sentence: ``ok``, or why not and the slide line it contradicts."""

    ok: bool
    reason: str = ""  # "negation", "opposite", "number", "table cell", "yes/no", "misquote", "judge"; "" when ok
    line: str = ""  # the slide line the sentence was compared with
    judge: float | None = None  # the model judge's P("Yes"), when it was asked


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def negated(text: str) -> bool:
    """Whether ``text`` carries an odd number of negations ("no new content", "not a substitute")."""
    ws = words(text)
    return sum(1 for w in ws if w in _NEGATION or w.endswith("n't")) % 2 == 1


def opposite(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` use opposite words of one pair, each without the other's word."""
    wa, wb = set(words(a)), set(words(b))
    only_a, only_b = wa - wb, wb - wa  # words both use ("larger models") say nothing either way
    for left, right in _OPPOSITES:
        for x, y in ((left, right), (right, left)):
            if only_a & x and only_b & y and not only_a & y and not only_b & x:
                return True
    return False


def split_clauses(text: str) -> list[str]:
    """``text`` cut at clause boundaries (punctuation, dashes, "because", "but"), asides in parentheses dropped."""
    parts = [part.strip() for part in _CLAUSE_BREAK.split(_PARENTHESES.sub(" ", text))]
    return [part for part in parts if len(words(part)) >= 2] or [text.strip()]


def clauses(text: str) -> list[tuple[str, str]]:
    """``(clause, line)`` for every clause of every line of ``text``; a table row is one clause."""
    out = []
    for line in text.splitlines():
        line = line.strip(" -*\t•")
        if line:
            parts = [line] if table_entity(line) else split_clauses(line)
            out.extend((part, line) for part in parts)
    return out


_LIGHT = frozenset("has have had get gets got also just".split())  # verbs too common to pair clauses by


def content(text: str) -> set[str]:
    return set(tokenize(text)) - _LIGHT


def counterpart(sentence: str, text: str, min_share: float = MIN_SHARE) -> tuple[str, str] | None:
    """The clause of ``text`` (and its line) that shares most content words with ``sentence``, if enough."""
    own = content(sentence)
    if not own:
        return None
    best, best_key = None, (0, 0.0)
    for clause, line in clauses(text):
        shared = len(own & content(clause))
        # prefer the clause with most shared words; among equals, the shortest (the most specific)
        key = (shared, -len(words(clause)))
        if shared and key > best_key:
            best, best_key = (clause, line), key
    if best is None:
        return None
    shared = best_key[0]
    if shared < MIN_SHARED and shared < len(own):
        return None
    if shared / len(own) < min_share:
        return None
    return best


def _claim(sentence: str) -> str:
    """The sentence without a leading "Yes,"/"No," (those answer the question; the rest is the claim)."""
    return _NO.sub("", _YES.sub("", sentence, count=1), count=1)


def _table_cell(sentence: str, text: str) -> str | None:
    """The table line of the row ``sentence`` names when it gives a value of another row, else None."""
    rows = [
        (entity, cells, line)
        for line in text.splitlines()
        if (found := table_entity(line.strip()))
        for entity, cells in [found]
    ]
    if not rows:
        return None
    lowered = f" {' '.join(words(sentence))} "
    named = [row for row in rows if f" {' '.join(words(row[0]))} " in lowered]
    if len(named) != 1:
        return None
    entity, own_cells, line = named[0]
    own = f" {' '.join(words(own_cells))} "
    for other, cells, _ in rows:
        if other == entity:
            continue
        for cell in cells.split("; "):
            value = cell.split(": ", 1)[-1]
            value_words = " ".join(words(value))
            if len(value_words) >= 3 and f" {value_words} " in lowered and f" {value_words} " not in own:
                return line
    return None


def misquoted(sentence: str, slide_text: str) -> bool:
    """Whether ``sentence`` quotes the slide with words it does not say ("the slides say "X is not on the exam"")."""
    slide: list[str] | None = None
    for found in _QUOTATION.finditer(fold_typography(sentence)):  # curly or straight quotation marks
        said = words(plain_text(sentence[found.start(1) : found.end(1)]))  # LaTeX read as the slide's text is
        if len(said) < MIN_QUOTATION_WORDS:
            continue
        slide = words(slide_text) if slide is None else slide  # only for a sentence that quotes
        blocks = SequenceMatcher(None, said, slide, autojunk=False).get_matching_blocks()
        if sum(b.size for b in blocks) < QUOTATION_FOUND * len(said):
            return True
    return False


def check(sentence: str, slide_text: str, question: str = "") -> Verdict:
    """Whether ``sentence`` states what ``slide_text`` states, as far as a cheap reading can tell."""
    if misquoted(sentence, slide_text):
        return Verdict(False, "misquote")
    line = _table_cell(sentence, slide_text)
    if line is not None:
        return Verdict(False, "table cell", line)
    if question and _YES.match(sentence) and QUESTION_START.match(question):
        found = counterpart(question, slide_text, QUESTION_SHARE)
        if found and (negated(question) != negated(found[0]) or opposite(question, found[0])):
            return Verdict(False, "yes/no", found[1])
    lines = []
    for part in split_clauses(_claim(sentence)):
        found = counterpart(part, slide_text)
        if found is None:
            continue
        clause, line = found
        lines.append(line)
        # "not fast" against "slow": a negation and an opposite word cancel out
        if (negated(part) != negated(clause)) != opposite(part, clause):
            return Verdict(False, "negation" if negated(part) != negated(clause) else "opposite", line)
        numbers = set(NUMBER.findall(part))
        if numbers - set(NUMBER.findall(slide_text)) and NUMBER.search(clause):
            return Verdict(False, "number", line)
    return Verdict(True, "", lines[0] if lines else "")


MIN_QUOTED_WORDS = 4  # a shorter line (a heading, a table's name) says nothing a student can check


def quotable(line: str, title: str = "") -> bool:
    """Whether a slide line can stand in for a sentence: a statement, not the title or a question."""
    line = line.strip(" -*\t•")
    return len(words(line)) >= MIN_QUOTED_WORDS and not asks(line) and words(line) != words(title)


def evidence_line(sentence: str, slide_text: str, question: str = "", title: str = "", found: str = "") -> str:
    """The slide line to quote in place of a sentence that failed the check ("" when none will do).

    ``found``, the line the check compared the sentence with, is kept when it is quotable and the
    sentence named its row or clause; a wrong table cell or a judge's "no" is answered with the
    line nearest the question, which is what the student asked about.
    """
    if found and quotable(found, title):
        return found
    asked, said = content(question), content(_claim(sentence))
    best, best_key = "", (0, 0)
    for line in slide_text.splitlines():
        line = line.strip(" -*\t•")
        if not quotable(line, title):
            continue
        have = content(line)
        key = (2 * len(asked & have) + len(said & have), -len(words(line)))
        if key[0] and key > best_key:
            best, best_key = line, key
    return best


MIN_ASKED = 2  # content words of the question a slide line must share to answer it alone


def nearest_line(question: str, slide_text: str, title: str = "", names: Sequence[str] = ()) -> str:
    """The slide line that answers ``question`` on its own, or "" when none shares ``MIN_ASKED`` of its words
    or one of ``names`` (the question's words the slide writes as names: "Py150" names its table row).

    Shown, quoted, when none of the model's sentences held although the gate let the question
    through: a slide line that bears on the question is more use to a student than a refusal
    (docs/decisions/truth-check.md).
    """
    line = evidence_line("", slide_text, question, title)
    if line and len(content(question) & content(line)) >= MIN_ASKED:
        return line
    wanted = set(names)
    found = [(each, content(each) & wanted) for each in slide_text.splitlines()]
    held = Counter(name for _, names_there in found for name in names_there)
    if not held:
        return ""
    rarest = min(held.values())  # the most specific name: "Py150" names one row, "WILDS" the whole table
    named = [each for each, names_there in found if any(held[name] == rarest for name in names_there)]
    return evidence_line("", "\n".join(named), question, title)


def slide_answer(question: str, chunk, names: Sequence[str] = ()) -> list[dict]:
    """``nearest_line`` of ``chunk`` as the one shown sentence, quoted and cited; [] when there is none."""
    line = nearest_line(question, evidence_text(chunk.search_text), chunk.title, names)
    if not line:
        return []
    return [{"text": quote(line), "source": chunk.slide_id, "support": 1.0, "check": "slide", "evidence": line}]


def answers_yes_or_no(sentence: str) -> bool:
    """Whether ``sentence`` opens with a yes or a no."""
    return bool(_YES.match(sentence) or _NO.match(sentence))


RESTATES = 0.8  # share of a yes/no question's content words an opening sentence repeats to answer it


def implied_yes_no(sentence: str, question: str) -> str:
    """ "Yes, " or "No, " for a sentence that answers ``question`` by restating it, else "".

    "The activation function does not matter for adversarial robustness." answers "does the
    activation function matter for adversarial robustness?" with a no, without the word.
    """
    asked = content(question)
    if answers_yes_or_no(sentence) or len(asked) < 2 or len(asked & content(sentence)) < RESTATES * len(asked):
        return ""
    return "No, " if negated(sentence) != negated(question) else "Yes, "


def answers_no(sentence: str) -> bool:
    """Whether ``sentence`` opens with a no."""
    return bool(_NO.match(sentence))
