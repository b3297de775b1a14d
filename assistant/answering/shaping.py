"""What of a model's reply may be shown: no questions, no fragments, no dump of slide lines.

The 1.5B sometimes answers by copying its slides line after line, headings and the slide's own
questions to the audience included ("What about sequence output? [1] Just have an output at every
layer [1]"), or stops mid-phrase ("These models are detailed in slides and."). Such sentences are
dropped before citing; a reply that is still mostly copied lines keeps the ones nearest the question.
"""

from __future__ import annotations

import re

from assistant.text import BULLET, normalize

_DANGLING = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be its their his her this that "
    "these those such than which whose".split()
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
# "… and predict that.", "… information about this.": a demonstrative ending a sentence stands for a thing,
# unless what comes before it still wants its clause or noun ("The main idea is that.")
_DEMONSTRATIVES = frozenset("this that these those".split())
_WANTS_MORE = _DANGLING | frozenset("so says states shows means".split())
_TERMINAL = re.compile(r"[.!?)\]\"”]\s*$")
DUMP_SHARE = 0.6  # a reply whose sentences are at least this share of copied slide lines is a dump
DUMP_KEEP = 2  # ... and keeps this many of them
# "The slides state that …", "the slides do not provide …", "the question assumes …": a sentence that speaks for
# the slides, or judges the question against them, claims to report what they say.
_SPEAKS_FOR_SLIDES = re.compile(
    r"\b(?:slides?|lecture|deck)\s+(?:\w+\s+){0,3}?(?:say|says|said|state|states|stated|mention|mentions"
    r"|mentioned|provide|provides|provided|discuss|discusses|cover|covers|covered|suggest|suggests|explain"
    r"|explains|describe|describes|contradict|contradicts|confirm|confirms|show|shows|list|lists)\b"
    r"|\b(?:stated|mentioned|described|listed|shown|covered|given) (?:in|on|by) (?:the )?(?:\w+ )?(?:slides?|lecture)\b"
    r"|\bthey (?:do |did |also )?(?:not )?(?:discuss|mention|cover|state|say|describe|explain)\b"
    r"|\baccording to (?:the )?(?:slides?|lecture)\b|\bthe question (?:assumes|implies|suggests)\b",
    re.I,
)
# "The slides state that X", "According to slide 3, X": the claim X is what a slide must support; a negated
# report ("The slides do not say …") is no claim of the slides' and is not matched
_REPORTING = re.compile(
    r"^(?:(?:the|these|this) )?(?:slides?|lecture|deck)(?: \[?\d+\]?)?"
    r" (?:states?|says?|mentions?|explains?|describes?|shows?|notes?)(?: that)?,?\s+(?=\w)"
    r"|^(?:according to|as (?:stated|mentioned|noted|shown) (?:in|on))"
    r" (?:the )?(?:slides?|lecture)(?: \[?\d+\]?)?,\s*(?=\w)",
    re.I,
)


def is_question(sentence: str) -> bool:
    """A sentence that asks rather than answers (a slide's question to the audience, or the model's)."""
    return sentence.rstrip(" \"'”)]").endswith("?")


# where a statement hands its example over to a question ("Understand the terminology, e.g., what is …?")
_EXAMPLE_QUESTION = re.compile(
    r"(?:,\s*(?:e\.g\.|i\.e\.|for example),?|\s[—–]|:)\s+"
    r"(?:what|which|who|how|why|when|where|whether|is|are|do|does|can|could|should|would)\b",
    re.I,
)
_AUXILIARIES = r"is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|am|must|may"
QUESTION_START = re.compile(rf"^\s*({_AUXILIARIES})\b", re.I)  # a yes/no question's opening word
_ASKING = re.compile(rf"^\s*(?:what|which|who|whom|whose|how|why|when|where|{_AUXILIARIES})\b", re.I)


def asks(line: str) -> bool:
    """Whether a slide line is a question to the audience, not a statement whose example is a question.

    "Understand the terminology, e.g., what is the difference between observation and state?" tells
    students what to know, and is what answers "is that on the exam?"; "In this case, shouldn't we
    just train with the test distribution?" asks.
    """
    if not is_question(line):
        return False
    example = _EXAMPLE_QUESTION.search(line)
    lead = line[: example.start()] if example else ""
    return len(_WORD.findall(lead)) < 2 or bool(_ASKING.search(lead))


def is_fragment(sentence: str, alone: bool) -> bool:
    """A sentence that ends mid-phrase, or (unless it is the whole reply) a heading-like scrap.

    ``alone``: the sentence is the reply's only one; a short answer ("5:10 in Dwinelle 155.") stands.
    """
    words = _WORD.findall(sentence)
    if not words:
        return True
    last = words[-1]
    acronym = len(last) > 1 and last.isupper()  # "adversarial training (AT).": a name, not the word it spells
    pronoun = last.lower() in _DEMONSTRATIVES and len(words) > 1 and words[-2].lower() not in _WANTS_MORE
    if _TERMINAL.search(sentence) and last.lower() in _DANGLING and not acronym and not pronoun:
        return True
    return not alone and len(words) <= 4 and not _TERMINAL.search(sentence)


# a comma before a word that opens a further clause or an example: what comes before it can end the sentence
# (not "which", "when", "where", "as": those open asides within a clause, "large models, when given …, are")
_CLAUSE_TAIL = re.compile(
    r",\s+(?=(?:but|while|whereas|though|although|and|so|because|since|even|such as|including|especially)\b"
    r"|e\.g\.|i\.e\.)|,\s*$",
    re.I,
)
MIN_CLAUSE_WORDS = 6  # a cut-off sentence's first clause must be this long to stand as a sentence


def finished_clause(sentence: str) -> str:
    """The whole first part of a sentence cut off by the length limit, ended with a period; "" when none.

    "… PaLM are large language models, but they do not provide information about" keeps "… PaLM are
    large language models." The cut falls before the last clause a comma opens; what is left must be
    long, must not end mid-phrase (``is_fragment``) and must close every bracket and formula it opens.
    """
    for cut in reversed(list(_CLAUSE_TAIL.finditer(sentence))):
        head = sentence[: cut.start()].rstrip()
        balanced = (
            head.count("(") == head.count(")") and head.count("[") == head.count("]") and head.count("$") % 2 == 0
        )
        if balanced and len(_WORD.findall(head)) >= MIN_CLAUSE_WORDS and not is_fragment(head + ".", True):
            return head + "."
    return ""


def speaks_for_slides(sentence: str) -> bool:
    """Whether ``sentence`` reports what the slides say or leave out ("The slides do not provide …").

    Such a sentence that no slide supports is shown to the student as the slides' word, unchecked:
    in the paired evaluation most were false ("the slides do not provide" what one of them states).
    """
    return bool(_SPEAKS_FOR_SLIDES.search(sentence))


def _without_opening(pattern: re.Pattern, sentence: str) -> str:
    """``sentence`` without what ``pattern`` matches at its start, the rest capitalised."""
    rest = pattern.sub("", sentence, count=1)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence


def reported_claim(sentence: str) -> str:
    """``sentence`` without an opening "The slides state that": its support and truth are the claim's alone."""
    return _without_opening(_REPORTING, sentence)


_OPENING_CONNECTIVE = re.compile(
    r"^(?:however|therefore|thus|also|additionally|in addition|instead|moreover|furthermore|consequently|but)"
    r",?\s+(?=\w)",
    re.I,
)


def without_opening_connective(sentence: str) -> str:
    """``sentence`` without a leading "However," or "Therefore,": an answer's first sentence follows nothing."""
    return _without_opening(_OPENING_CONNECTIVE, sentence)


def copied_line(sentence: str, slide_text: str) -> bool:
    """Whether ``sentence`` is one of the slide's lines, word for word (bullets and case aside)."""
    said = normalize(sentence)
    if len(said.split()) < 3:
        return False
    return any(said == normalize(line.strip(" -*\t•")) for line in slide_text.splitlines() if line.strip())


def is_dump(copied: list[bool]) -> bool:
    """Whether a reply is mostly slide lines copied in sequence (three or more, and most of it)."""
    return sum(copied) >= 3 and sum(copied) >= DUMP_SHARE * len(copied)


def quote(line: str) -> str:
    """A slide line offered in place of a sentence that contradicted it."""
    line = line.strip(" -*\t•").rstrip()
    line = re.split(r"(?<=\?)\s+", line)[-1]  # a question to the audience before the statement is not quoted
    if line.endswith((".", "!")):
        line = line[:-1]
    return f"The slide says: “{line}”."


LIST_ITEM_WORDS = 4  # a bullet this short is an entry (a name, a term), not a sentence of its own


def joined_lists(raw: str) -> str:
    """``raw`` with each list of short entries joined to the line ending in ":" that opens it.

    "…the following models:\\n- BERT\\n- GPT" becomes "…the following models: BERT, GPT." Read one
    by one, each entry would be dropped as a heading-like scrap (``is_fragment``) and the answer lost.
    """
    lines, out, i = raw.splitlines(), [], 0
    while i < len(lines):
        out.append(lines[i])
        if not lines[i].rstrip().endswith(":"):
            i += 1
            continue
        items, j = [], i + 1
        while j < len(lines):
            mark = BULLET.match(lines[j])
            entry = lines[j][mark.end() :].strip() if mark else ""
            if not lines[j].strip():
                j += 1
            elif entry and len(_WORD.findall(entry)) <= LIST_ITEM_WORDS:
                items.append(entry.rstrip(" .;,"))
                j += 1
            else:
                break
        if len(items) >= 2:
            out[-1] = f"{lines[i].rstrip()} {', '.join(items)}."
            i = j
        else:
            i += 1
    return "\n".join(out)
