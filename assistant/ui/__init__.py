"""The Gradio web UI: the chat (``chat``), the Practice tab (``practice``, its view as data in
``practice_view``) and the HTML escaper (``html``).

Gradio is imported inside functions, so importing this package stays cheap for the CLI.
"""
