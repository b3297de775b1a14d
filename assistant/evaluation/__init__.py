"""The staff's evaluation harness: the Q/A set (``qa``), metrics, runs of the pipeline and its
baselines (``run``), the practice evaluation (``practice``) and the report with plots (``report``).
"""
