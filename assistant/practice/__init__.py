"""Practice questions from the slides: drafted by the local model one slide at a time, checked, graded, exported.

Modules, each importing only those above it in this list:
``items`` (PracticeItem, PracticeSet, SlideRef, LETTERS), ``parsing`` (a reply read into a ``Draft``) and
``wording`` (text comparison); ``checks_options`` then ``checks`` (one rejection reason each); ``slides``
(which slides, which lines); ``streaming`` (decoding a reply, stopped early); ``drafting`` (prompts and one
checked draft, an ``Attempt``); ``sets`` (``generate_set``). ``grading`` (a student's answer, the terminal
quiz) and ``export`` (JSON, Anki CSV) need only ``items`` and ``wording``.
"""
