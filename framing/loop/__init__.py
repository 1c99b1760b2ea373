"""The annotation loop: agreement, adjudication, corpus statistics and suggestion.

Review (likely label errors from out-of-fold fits) trains models, so it lives in
:mod:`framing.training.review`.
"""
