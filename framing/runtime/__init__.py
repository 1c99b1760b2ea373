"""The runtime: models, scorers, sentence segmentation and tagging.

Nothing here imports training code, the CLI or the exchange formats.
"""
