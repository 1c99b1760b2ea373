"""Every training fit runs on one BLAS thread, so a model does not depend on the core count."""

from __future__ import annotations

import numpy as np
from framing.training.cross_validation import fit_quietly
from threadpoolctl import threadpool_info


class _RecordsThreads:
    """An estimator whose fit records how many threads each BLAS library may use."""

    def fit(self, texts: list[str], target: np.ndarray) -> _RecordsThreads:
        self.blas_threads = [
            pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"
        ]
        return self


def test_fit_quietly_fits_on_one_blas_thread() -> None:
    fitted = fit_quietly(_RecordsThreads(), ["a", "b"], np.array([0, 1]))
    assert fitted.blas_threads, "numpy's BLAS was not found by threadpoolctl"
    assert set(fitted.blas_threads) == {1}


def test_the_limit_ends_with_the_fit() -> None:
    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    fit_quietly(_RecordsThreads(), ["a", "b"], np.array([0, 1]))
    after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert after == before
