"""The models that ship with framing (``default/``), installed as ``framing.models``.

A model is a folder, not code: nothing here is imported by the runtime except to find
this folder with :mod:`importlib.resources`.
"""
