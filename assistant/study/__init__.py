"""The study loop: a checked question bank, students' answers and their spaced review, hints.

- ``db``: the SQLite file (WAL, schema version, migrations) and its one-line failures;
- ``bank``: practice items stored per slide, staff review (approve, edit, retire), JSON export/import;
- ``build``: filling the bank from every usable slide, resumably;
- ``review``: students, their answers, FSRS schedules and per-section mastery;
- ``hints``: the three steps before an answer, from the stored item and its slide.
"""
