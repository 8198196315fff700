"""Cache computed arrays (e.g. pre-trained features) as ``.npz`` files, atomically."""

from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Callable

import numpy as np

from cnnlab import config
from cnnlab.fileio import atomic_path


def cache_path(name: str, key: str) -> Path:
    """``data/cache/<name>-<key>.npz``: put everything the arrays depend on into ``key``."""
    for arg, value in (("name", name), ("key", key)):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise ValueError(f"{arg}: expected letters, digits, '_', '.', '-' (used in a file name), got {value!r}")
    return config.DATA_DIR / "cache" / f"{name}-{key}.npz"


def cached_arrays(path: Path, compute: Callable[[], dict[str, np.ndarray]], *, verbose: bool = True) -> dict[str, np.ndarray]:
    """Load the arrays stored at ``path``, or ``compute()`` them and store them there.

    ``compute`` returns ``{name: array}``. A file that cannot be read (truncated, corrupt, missing
    keys of a previous version) is reported in one line and recomputed, never used. The file is
    looked up in ``path``'s folder and in its user-cache copy, and written to the first writable of
    the two (:func:`cnnlab.config.writable_path`).
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path: expected a .npz file, got {path.name!r}")
    if not callable(compute):
        raise ValueError(f"compute: expected a function returning {{name: array}}, got {type(compute).__name__}")
    for candidate in config.cached_paths(path):
        if (arrays := _read(candidate)) is not None:
            if verbose:
                print(f"loaded cached {path.name}")
            return arrays
    arrays = compute()
    if not isinstance(arrays, dict) or not arrays:
        raise ValueError(f"compute: expected a non-empty dict of arrays, got {type(arrays).__name__}")
    with atomic_path(config.writable_path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return arrays


def _read(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays in ``path``, or None if it is missing or unusable (reported in one line)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        if not arrays:
            raise ValueError("no arrays in file")
        return arrays
    except Exception as err:  # any unreadable file is rebuilt, never used
        print(f"{config.shown_path(path)}: cached file unusable ({type(err).__name__}: {err}); recomputing")
        return None
