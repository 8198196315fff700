"""Cache computed arrays (e.g. pre-trained features) as ``.npz`` files, atomically."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

import numpy as np

from cnnlab import config
from cnnlab.fileio import atomic_path


def cache_path(name: str, key: str) -> Path:
    """``data/cache/<name>-<key>.npz``: put everything the arrays depend on into ``key``."""
    return config.DATA_DIR / "cache" / f"{name}-{key}.npz"


def cached_arrays(path: Path, compute: Callable[[], dict[str, np.ndarray]], *, verbose: bool = True) -> dict[str, np.ndarray]:
    """Load the arrays stored at ``path``, or ``compute()`` them and store them there.

    ``compute`` returns ``{name: array}``. A file that cannot be read (truncated, corrupt, missing
    keys of a previous version) is reported in one line and recomputed, never used.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path: expected a .npz file, got {path.name!r}")
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            if arrays:
                if verbose:
                    print(f"loaded cached {path.name}")
                return arrays
            raise ValueError("no arrays in file")
        except Exception as err:  # any unreadable file is rebuilt
            print(f"{path.name}: cached file unusable ({type(err).__name__}: {err}); recomputing")
    arrays = compute()
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError(f"compute: expected a non-empty dict of arrays, got {type(arrays).__name__}")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return arrays
