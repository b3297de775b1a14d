"""Staff edits of a bank item: the new text is checked against its slide, as a generated item is, before saving.

The CLI (``assistant bank edit``) and the Staff tab both edit through ``edit_item``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from assistant.answering.excerpt import Embed
from assistant.corpus.chunking import Chunk
from assistant.errors import AssistantError
from assistant.practice.checks import check_item
from assistant.practice.items import PracticeItem
from assistant.practice.slides import slide_text
from assistant.study.bank import Bank

EDITABLE = ("question", "options", "answer", "explanation")  # the slide and the type stay the item's own


def editable_json(bank: Bank, item_id: int) -> str:
    """The fields of item ``item_id`` a staff member may change, as indented JSON."""
    item = bank.get(item_id).item.to_dict()
    return json.dumps({k: item[k] for k in EDITABLE}, indent=2, ensure_ascii=False)


def edit_item(bank: Bank, chunks: Sequence[Chunk], embed: Embed, item_id: int, fields: str | dict) -> PracticeItem:
    """Replace item ``item_id``'s fields with ``fields`` (JSON text or a dict) once the checks pass; then approved."""
    current = bank.get(item_id)
    try:
        changes = json.loads(fields) if isinstance(fields, str) else fields
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"fields that cannot be edited: {', '.join(sorted(unknown))}")
        edited = PracticeItem.from_dict({**current.item.to_dict(), **changes})
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise AssistantError(f"the edit is not an item as JSON ({err})") from None
    if edited.type in ("mcq", "tf") and edited.answer not in edited.options:
        raise AssistantError("the answer must be one of the options, word for word; not saved")
    chunk = next((c for c in chunks if c.slide_id == current.slide_id), None)
    if chunk is None:
        raise AssistantError(f"item {item_id}'s slide is no longer in the deck; retire it instead")
    reason = check_item(edited, slide_text(chunk), embed=embed)
    if reason:
        raise AssistantError(f"the edited item fails the check {reason!r}; not saved")
    bank.replace_item(item_id, edited)
    return edited
