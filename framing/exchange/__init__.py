"""Exchange with annotation tools and public corpora: importers and exporters."""
