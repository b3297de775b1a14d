"""The course material: slide readers (MD, PDF, PPTX), tables read as rows, chunks, and the index on disk.

``readers`` → ``tables`` → ``chunking`` → ``index`` (FAISS vectors, BM25 and a manifest, saved as
snapshots behind a ``CURRENT`` pointer so a crash never leaves half an index).
"""
