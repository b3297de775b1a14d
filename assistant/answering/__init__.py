"""From a question to a checked, cited answer.

``prompts`` (every answer and judge message, the prompt texts), ``citations`` (sentence-to-slide
support), ``excerpt``, ``shaping`` (fragments, dumps, quoting), ``truth`` (does the slide say it?),
``reply`` (``Answer`` and the rules for a reply) and ``assistant`` (the pipeline, ``Assistant``).
"""
