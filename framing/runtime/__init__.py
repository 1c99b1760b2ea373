"""The runtime: models, scorers, sentence segmentation and tagging.

Nothing here imports training code, the CLI, the exchange formats or :mod:`framing.output`.

The model contract
    ``meta`` (:class:`~framing.runtime.meta.ModelMeta`, what ``meta.json`` holds),
    ``labels`` (the one scores-to-labels rule), ``scorers`` (the registry of scorer
    kinds), ``model`` (loading, saving, the :class:`~framing.runtime.model.Model`),
    ``trust`` (which types a skops file may hold).
Scorer kinds
    ``compiled`` (``tfidf-compiled.v1``: linear TF-IDF models as arrays) with
    ``analyzers``, ``arrays`` and ``tfidf_scoring``; ``compile`` turns fitted
    scikit-learn pipelines into it (the only module here that imports scikit-learn);
    ``skops_pipelines`` (``skops-pipelines.v1``).
Tagging
    ``segment`` (sentences), ``inputs`` (files and articles in), ``tagging`` (the batch
    core), ``profiles`` (article profiles), ``results`` (what tagging returns),
    ``explain`` (the n-grams behind a label).
Native code
    ``_native`` loads the optional C scoring kernel built from ``_speedups.c``.
"""
