"""Backtesting on B3: engine, costs and taxes, metrics, walk-forward optimisation.

Compiled kernels are cached on disk (``numba`` ``cache=True``) in a writable folder chosen
here, before any kernel module is imported: ``NUMBA_CACHE_DIR`` when set; else numba's
default ``__pycache__`` beside the sources when it is writable (one cache shared by every
data folder of a checkout); else ``<PREGAO_DATA_DIR>/numba`` (``~/.pregao/numba`` by
default); else a temporary folder. A
fresh process with a warm cache loads the kernels in well under a second instead of
compiling them; the app also warms them in a background thread at start
(:func:`core.backtest.engine.warm_up`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(d: Path) -> bool:
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".write-test"
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


def configure_kernel_cache(path: str | os.PathLike | None = None) -> Path:
    """Choose the on-disk numba cache folder (see the module docstring) and return it.

    Parameters
    ----------
    path : path-like, optional
        Folder to use; default: ``NUMBA_CACHE_DIR``, then numba's ``__pycache__`` beside
        the sources if writable, then ``<PREGAO_DATA_DIR>/numba``.

    Notes
    -----
    Takes effect for kernels defined after the call (numba binds a function's cache
    location when it is decorated), so it runs when :mod:`core.backtest` is imported.
    """
    if path is None and not os.environ.get("NUMBA_CACHE_DIR"):
        beside = Path(__file__).resolve().parent / "__pycache__"
        if _writable(beside):
            return beside  # numba's default location
    candidates = [path, os.environ.get("NUMBA_CACHE_DIR")]
    data = os.environ.get("PREGAO_DATA_DIR")
    candidates.append(Path(data).expanduser() / "numba" if data else None)
    candidates.append(Path.home() / ".pregao" / "numba")
    candidates.append(Path(tempfile.gettempdir()) / "pregao-numba")
    chosen = next(Path(c) for c in candidates if c is not None and _writable(Path(c)))
    os.environ["NUMBA_CACHE_DIR"] = str(chosen)
    try:
        import numba.core.config as numba_config

        numba_config.CACHE_DIR = str(chosen)  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - numba is a dependency
        pass
    return chosen


configure_kernel_cache()
