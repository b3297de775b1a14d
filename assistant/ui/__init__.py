"""The Gradio web UI: the chat (``chat``), the Practice tab (``practice``) and shared HTML helpers.

Gradio is imported inside functions, so importing this package stays cheap for the CLI.
"""
