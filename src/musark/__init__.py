"""musark: build, publish, mirror, verify and play an open music preservation archive."""

import os

__version__ = "0.1.0"

# pyarrow imports numpy, whose OpenBLAS starts a thread per core that polls for work at start.
# musark never calls BLAS; those polls were 1 % of a plan's CPU samples. Set before any import
# of numpy (this package is imported first, in the CLI and in every worker process).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
