"""Writing tagged articles: ``json`` (JSON and JSON lines), ``table`` (a terminal view)
and ``html`` (one self-contained page)."""
