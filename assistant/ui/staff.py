"""The Staff tab: the question bank (approve or retire items) and the class insights.

Students see checked and approved items, never retired ones. An app served beyond this machine has
the tab only behind ``--auth`` (``ui.chat.serve``). An edited item is checked against its slide before it is saved
(``study.edit``), here as in ``assistant bank edit``. Insights are
aggregates of the question log (``study.insights``); the log itself is never shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.practice.items import answer_text
from assistant.practice.slides import sections
from assistant.study.bank import STATUSES
from assistant.study.edit import edit_item, editable_json
from assistant.ui.html import LATEX, text

if TYPE_CHECKING:
    from assistant.answering.assistant import Assistant
    from assistant.study.review import Study

ALL = "— all —"
COLUMNS = ["id", "status", "type", "slide", "question", "answer"]
# The question and answer as markdown, so their math renders as on the Practice tab (as inert text).
DATATYPES = ["number", "str", "str", "str", "markdown", "markdown"]


class StaffHandlers:
    """The tab's events as plain functions, as the Practice tab's are."""

    def __init__(self, study: Study) -> None:
        self.study = study

    def table(self, section: str | None, status: str | None) -> list[list]:
        """One row per item in the section (all sections for ALL), with the status filter applied."""
        statuses = STATUSES if status in (None, "", ALL) else [status]
        items = self.study.bank.items(None if section in (None, "", ALL) else section, None, statuses)
        return [
            [
                b.id,
                b.status,
                b.item.type,
                b.item.source[0].slide if b.item.source else "",
                text(b.item.question),
                text(answer_text(b.item)),
            ]
            for b in items
        ]

    def set_status(self, item_id: float | None, status: str, section: str | None, shown: str | None) -> tuple:
        """Approve or retire one item; (message, table)."""
        if item_id is None:
            return "Type an item id from the table first.", self.table(section, shown)
        try:
            self.study.bank.set_status(int(item_id), status)
        except AssistantError as err:
            return text(err), self.table(section, shown)
        return f"Item {int(item_id)} is now {status}.", self.table(section, shown)

    def load(self, item_id: float | None) -> tuple[str, str]:
        """The editable fields of one item as JSON, for the edit box; (message, JSON)."""
        if item_id is None:
            return "Type an item id from the table first.", ""
        try:
            return f"Editing item {int(item_id)}: change the JSON, then save.", editable_json(
                self.study.bank, int(item_id)
            )
        except AssistantError as err:
            return text(err), ""

    def save(self, assistant: Assistant, item_id: float | None, fields: str, section, shown) -> tuple:
        """Check the edited item against its slide and save it (approved), or say why not; (message, table)."""
        if item_id is None or not (fields or "").strip():
            return "Load an item first.", self.table(section, shown)
        try:
            edit_item(self.study.bank, assistant.index.chunks, assistant.embedder.embed, int(item_id), fields)
        except AssistantError as err:
            return text(err), self.table(section, shown)
        return f"Item {int(item_id)} saved and approved.", self.table(section, shown)

    def insights(self, assistant: Assistant, days: float | None) -> tuple[str, str | None]:
        """The insights report (Markdown) and its per-section plot, for the last ``days`` (0: all)."""
        import tempfile
        from pathlib import Path

        from assistant.study import insights

        found = insights.compute(self.study.db, assistant.index, assistant.embedder.embed, days or None)
        if not found.questions and not found.items:
            return "Nothing is logged yet: start the app with `--log-questions` to collect questions.", None
        folder = Path(tempfile.mkdtemp(prefix="insights-"))
        insights.write_report(found, folder)
        return text(insights.markdown(found)), str(folder / "per_section.png")


def staff_tab(assistant: Assistant, study: Study) -> None:
    import gradio as gr

    handlers = StaffHandlers(study)
    with gr.Row():
        section = gr.Dropdown(
            [ALL, *sections(assistant.index.chunks)], value=ALL, label="Section", elem_id="staff-section"
        )
        status = gr.Dropdown([ALL, *STATUSES], value=ALL, label="Status", elem_id="staff-status")
        refresh = gr.Button("Show", elem_id="staff-show")
    table = gr.Dataframe(
        handlers.table(ALL, ALL),
        headers=COLUMNS,
        datatype=DATATYPES,
        interactive=False,
        wrap=True,
        latex_delimiters=LATEX,
        elem_id="staff-items",
    )
    with gr.Row():
        item_id = gr.Number(label="Item id", precision=0, elem_id="staff-item")
        approve = gr.Button("Approve", elem_id="staff-approve")
        retire = gr.Button("Retire", variant="stop", elem_id="staff-retire")
        load = gr.Button("Edit", elem_id="staff-load")
    fields = gr.Code(label="Item (JSON)", language="json", interactive=True, elem_id="staff-edit")
    save = gr.Button("Check and save", elem_id="staff-save")
    message = gr.Markdown("", elem_id="staff-message")
    gr.Markdown("### Class insights")
    with gr.Row():
        days = gr.Number(value=30, label="Last days (0: everything logged)", precision=0, elem_id="staff-days")
        show = gr.Button("Show insights", elem_id="staff-insights-show")
    report = gr.Markdown("", elem_id="staff-insights")
    plot = gr.Image(label="Questions per section", type="filepath", elem_id="staff-insights-plot")
    show.click(lambda d: handlers.insights(assistant, d), inputs=[days], outputs=[report, plot], api_name="insights")
    filters = [section, status]
    refresh.click(handlers.table, inputs=filters, outputs=table, queue=False, api_name="staff_items")
    load.click(handlers.load, inputs=[item_id], outputs=[message, fields], queue=False, api_name="staff_load")
    save.click(
        lambda i, f, s, shown: handlers.save(assistant, i, f, s, shown),
        inputs=[item_id, fields, *filters],
        outputs=[message, table],
        api_name="staff_save",
    )
    for button, verdict in ((approve, "approved"), (retire, "retired")):
        button.click(
            lambda i, s, shown, verdict=verdict: handlers.set_status(i, verdict, s, shown),
            inputs=[item_id, *filters],
            outputs=[message, table],
            queue=False,
            api_name=f"staff_{verdict}",
        )
