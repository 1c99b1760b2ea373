"""Rendering tagged articles: JSON lines, tables and HTML."""
