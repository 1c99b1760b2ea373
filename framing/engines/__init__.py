"""Tagging on data engines that already spread work over cores and machines.

:mod:`framing.engines.dask` (Dask bags, dataframes and sharded files on a cluster),
:mod:`framing.engines.hf_datasets` (a Hugging Face ``Dataset.map``) and
:mod:`framing.engines.spark` (the function for Spark's ``mapInPandas``).  Each engine's
library is an optional install, imported only when its module is used; ``import
framing`` imports none of them.
"""
