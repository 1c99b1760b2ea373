"""Build the optional compiled scoring loops (``framing.runtime._speedups``).

Everything else about the package is in ``pyproject.toml``.  The extension is
``optional``: without a C compiler the build says so and installs framing without
it; scoring then uses numpy instead (the same scores, slower).
"""

import sys

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "framing.runtime._speedups",
            sources=["framing/runtime/_speedups.c"],
            # No fused multiply-add (CFLAGS=-march=native would allow it): scores stay
            # sums of separate multiplies and adds, the same bits on every CPU.
            extra_compile_args=[] if sys.platform == "win32" else ["-O3", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
